"""HTML and plain text from a report's Markdown: sanitized, laid out for email, CSS inlined.

The Markdown (already escaped where it holds data) is converted by the `markdown` library, cleaned
by the allow-list sanitizer, placed in the Jinja2 layout (tables, no external resources) and its
CSS inlined with css-inline, which is what Gmail and Outlook need. Chart images `./NAME.png` become
`cid:NAME`. The plain-text alternative is rendered from the same sanitized HTML by inscriptis, with
links as numbered footnotes so tables stay aligned in a terminal mail client.

Phones and dark mode, following the usual practice for responsive HTML email (Litmus, "Responsive
email design", and Campaign Monitor's CSS support guide, https://www.campaignmonitor.com/css/): the
layout stays a table that Outlook desktop renders as is; a `<style>` block that is *not* inlined
holds a max-width media query that turns every data table into stacked cells (each cell shows its
column name from `data-label`) and lets long titles wrap, and a prefers-color-scheme query with a
dark palette (declared by the `color-scheme` meta). Every element that sets a text colour also sets
its background, so clients that force dark mode invert the two together.

The size budget: Gmail clips an HTML body over about 102 KB, so a long report's email carries a
shortened body (`syncd.reports.render.shorten`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Collection
from functools import lru_cache
from importlib.resources import files

import css_inline
import markdown
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import etree
from lxml.html import HtmlElement, document_fromstring, fragment_fromstring, tostring
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
_TEXT_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=True)


@lru_cache(maxsize=2)
def _css(name: str = "email.css") -> str:
    return files("syncd.reports.render").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def markdown_body(md: str, charts: Collection[str]) -> str:
    """Sanitized HTML of a Markdown text; `./NAME.png` images that are in `charts` become `cid:NAME`."""

    def image_source(src: str) -> str | None:
        name = src.removeprefix("./")
        return f"cid:{name.removesuffix('.png')}" if name in charts else None

    raw = markdown.markdown(md, extensions=["tables", "sane_lists", "md_in_html"], output_format="html")
    clean = sanitize_html(raw, images=image_source)
    return _keep_together(_reflowing(clean))


def _fragment(html: str) -> HtmlElement:
    return fragment_fromstring(html, create_parent="div")


def _serialize(root: HtmlElement) -> str:
    return (root.text or "") + "".join(tostring(child, encoding="unicode") for child in root)


def _reflowing(html: str) -> str:
    """Tables that stack on narrow screens and charts that scale down, in markup Outlook still reads.

    Each data table gets `class="data"` and the table attributes Outlook's Word engine honours; each
    body cell gets its column name as `data-label` (the narrow-screen style shows it before the
    value). Images get a `width` attribute, since Outlook ignores max-width.
    """
    if "<table" not in html and "<img" not in html:
        return html
    root = _fragment(html)
    for table in root.iter("table"):
        table.set("class", "data")
        table.set("width", "100%")
        table.set("cellpadding", "0")
        table.set("cellspacing", "0")
        labels = [" ".join(th.text_content().split()) for th in table.iter("th")]
        for row in table.iter("tr"):
            for n, cell in enumerate(c for c in row if c.tag == "td"):
                if n < len(labels) and labels[n]:
                    cell.set("data-label", labels[n])
    for img in root.iter("img"):
        img.set("width", str(CHART_WIDTH_PX))
    return _serialize(root)


_TAG = re.compile(r"(<[^>]*>)")
_UNBREAKABLE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b[A-Z][A-Z0-9_]+-\d+\b")  # ISO dates and issue keys (WID-12)


def _keep_together(html: str) -> str:
    """In text (never inside tags): status markers as coloured dots joined to their word, and ISO
    dates and issue keys unbreakable (browsers and mail clients otherwise wrap `2026-` / `12-18` or
    `WID-` / `12` at the hyphens)."""
    parts = _TAG.split(html)
    for n in range(0, len(parts), 2):  # even parts are text between tags
        text = _UNBREAKABLE.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', parts[n])
        for marker, colour in _MARKERS.items():
            dot = f'<span class="dot" style="color:{colour}">&#9679;</span>'
            text = text.replace(marker + " ", dot + "&nbsp;").replace(marker, dot)
        parts[n] = text
    return "".join(parts)


def html_document(*, title: str, heading: str, as_of: str, body: str, footer: str, width: int = PAGE_WIDTH_PX) -> str:
    """A complete, email-safe HTML document: table layout, inline CSS, no external resources.

    `body` must be sanitized HTML (from `markdown_body`); every other argument is plain text and
    is escaped by the template. The narrow-screen and dark-mode styles stay in a `<style>` block
    (media queries cannot be inlined), after the inlined base styles.
    """
    page = render_html(
        "layout.html.j2", title=title, heading=heading, as_of=as_of, body=Markup(body),  # noqa: S704 - sanitized above
        footer=footer, css=Markup(_css()), width=width,  # noqa: S704 - our own stylesheet
    )
    inlined = str(_INLINER.inline(page))
    adaptive = f'<style type="text/css">\n{_css("email-adaptive.css")}</style>\n</head>'
    return inlined.replace("</head>", adaptive, 1)


def text_alternative(body: str, *, footer: str) -> str:
    """The plain-text alternative of a sanitized HTML body: tables aligned, links as numbered footnotes."""
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
    for table in list(tree.iter("table")):
        _table_as_records(table)
    notes: dict[str, int] = {}
    for a in tree.iter("a"):
        href = a.get("href")
        if not href:
            continue
        number = notes.setdefault(href, len(notes) + 1)
        marker = etree.SubElement(a, "span")
        marker.text = f"[{number}]"
    text = Inscriptis(tree, _TEXT_CONFIG).get_text()
    lines: list[str] = []
    for line in (raw.rstrip() for raw in text.splitlines()):
        if line or (lines and lines[-1]):  # no leading blank lines, and one blank line between blocks
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    lines = [wrapped for line in lines for wrapped in _wrap(line)]
    if notes:
        width = len(str(len(notes))) + 2
        lines += ["", "Links:", *(f"{f'[{n}]':>{width}} {href}" for href, n in notes.items())]
    return "\n".join([*lines, "", "-- ", footer]) + "\n"


TEXT_WIDTH = 78  # columns of a terminal mail client
_LIST_START = re.compile(r"^(\s*(?:[*•-]|\d+\.)\s+|\s*(?:[^:]{1,30}: )?)")


def _wrap(line: str) -> list[str]:
    """A long line wrapped at TEXT_WIDTH, continuation lines indented under the text of a list item
    or a `Label: value` line (table rows are never wider: wide tables became records)."""
    if len(line) <= TEXT_WIDTH:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    marker = _LIST_START.match(line)
    hang = len(marker.group(0)) if marker and marker.group(0).strip() and len(marker.group(0)) < 40 else indent
    return textwrap.wrap(line, width=TEXT_WIDTH, subsequent_indent=" " * hang, break_long_words=False,
                         break_on_hyphens=False) or [line]


def _table_as_records(table: HtmlElement) -> None:
    """A table too wide for a terminal becomes one record per row: the first cell, then the others
    as a list of `Column: value` (what the narrow-screen HTML does with stacked cells)."""
    rows = [[" ".join(c.text_content().split()) for c in tr if c.tag in ("td", "th")] for tr in table.iter("tr")]
    if not rows:
        return
    columns = max(len(r) for r in rows)
    widths = [max((len(r[n]) for r in rows if n < len(r)), default=0) for n in range(columns)]
    if sum(widths) + 2 * (columns - 1) <= TEXT_WIDTH:
        return
    labels = [" ".join(th.text_content().split()) for th in table.iter("th")]
    records = fragment_fromstring("<div></div>")
    for tr in table.iter("tr"):
        cells = [c for c in tr if c.tag == "td"]
        if not cells:
            continue
        head = etree.SubElement(records, "p")
        head.text, head[:] = cells[0].text, list(cells[0])
        fields = etree.SubElement(records, "ul")
        for n, cell in enumerate(cells[1:], start=1):
            item = etree.SubElement(fields, "li")
            label = labels[n] if n < len(labels) and labels[n] else ""
            item.text = (f"{label}: " if label else "") + (cell.text or "")
            item[:] = list(cell)
    records.tail = table.tail
    parent = table.getparent()
    assert parent is not None
    parent.replace(table, records)
