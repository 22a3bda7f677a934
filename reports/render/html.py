"""HTML and plain text from a report's Markdown: sanitized, laid out for email, CSS inlined.

The Markdown (already escaped where it holds data) is converted by the `markdown` library, cleaned
by the allow-list sanitizer, placed in the Jinja2 layout (tables, no external resources) and its
CSS inlined with css-inline, which is what Gmail and Outlook need. Chart images `./NAME.png` become
`cid:NAME`. The plain-text alternative is rendered from the same sanitized HTML by inscriptis.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from importlib.resources import files

import css_inline
import markdown
from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.html import document_fromstring
from markupsafe import Markup

from syncd.reports.render.escape import sanitize_html
from syncd.reports.render.templating import render_html

CHART_WIDTH_PX = 640  # every chart is drawn for this width (at 2x pixels for sharp screens)
PAGE_WIDTH_PX = 720  # reading width for summaries; item-heavy reports ask for WIDE_PAGE_PX
WIDE_PAGE_PX = 960

# Status markers are emoji in Markdown (GitHub shows them in colour); mail clients without a colour
# emoji font (Outlook on Windows 7/8, many Linux desktops) show boxes, so HTML gets a coloured dot.
_MARKERS = {
    "🟢": "#00875a", "🟠": "#ff8b00", "🔴": "#de350b", "✅": "#00875a", "❌": "#de350b", "⏳": "#ff8b00",
}
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)
_TEXT_CONFIG = ParserConfig(display_links=True, display_images=True)


@lru_cache(maxsize=1)
def _css() -> str:
    return files("syncd.reports.render").joinpath("templates/email.css").read_text(encoding="utf-8")


def markdown_body(md: str, charts: Collection[str]) -> str:
    """Sanitized HTML of a Markdown text; `./NAME.png` images that are in `charts` become `cid:NAME`."""

    def image_source(src: str) -> str | None:
        name = src.removeprefix("./")
        return f"cid:{name.removesuffix('.png')}" if name in charts else None

    raw = markdown.markdown(md, extensions=["tables", "sane_lists"], output_format="html")
    clean = sanitize_html(raw, images=image_source)
    clean = _keep_together(clean)
    # Outlook ignores max-width: a width attribute keeps the 2x chart at its intended size
    return clean.replace("<img ", f'<img width="{CHART_WIDTH_PX}" ')


_TAG = re.compile(r"(<[^>]*>)")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _keep_together(html: str) -> str:
    """In text (never inside tags): status markers as coloured dots joined to their word, and ISO
    dates unbreakable (browsers and mail clients otherwise wrap `2026-` / `12-18` at the hyphens)."""
    parts = _TAG.split(html)
    for n in range(0, len(parts), 2):  # even parts are text between tags
        text = _DATE.sub(lambda m: f'<span style="white-space:nowrap">{m.group(0)}</span>', parts[n])
        for marker, colour in _MARKERS.items():
            text = text.replace(marker + " ", f'<span style="color:{colour};font-size:15px">&#9679;</span>&nbsp;')
            text = text.replace(marker, f'<span style="color:{colour};font-size:15px">&#9679;</span>')
        parts[n] = text
    return "".join(parts)


def html_document(*, title: str, heading: str, as_of: str, body: str, footer: str, width: int = PAGE_WIDTH_PX) -> str:
    """A complete, email-safe HTML document: table layout, inline CSS, no external resources.

    `body` must be sanitized HTML (from `markdown_body`); every other argument is plain text and
    is escaped by the template.
    """
    page = render_html(
        "layout.html.j2", title=title, heading=heading, as_of=as_of, body=Markup(body),  # noqa: S704 - sanitized above
        footer=footer, css=Markup(_css()), width=width,  # noqa: S704 - our own stylesheet
    )
    return str(_INLINER.inline(page))


def text_alternative(body: str, *, footer: str) -> str:
    """The plain-text alternative of a sanitized HTML body: tables aligned, links shown as URLs."""
    if not body.strip():
        return f"-- \n{footer}\n"
    tree = document_fromstring(body)
    # inscriptis unescapes text that lxml has already decoded; re-escaping `&` first keeps a
    # literal "&lt;" in a title from turning into "<" in the text part
    for el in tree.iter():
        if el.text:
            el.text = el.text.replace("&", "&amp;")
        if el.tail:
            el.tail = el.tail.replace("&", "&amp;")
        if el.get("href"):
            el.set("href", el.get("href", "").replace("&", "&amp;"))
    text = Inscriptis(tree, _TEXT_CONFIG).get_text()
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join([*lines, "", "-- ", footer]) + "\n"
