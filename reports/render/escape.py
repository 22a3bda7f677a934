"""The one place untrusted text is made safe: for Markdown, for HTML, for plain text, for headers and
for CSV cells.

Titles, names, labels, sprint and goal text come from Jira, GitHub or a goals file and are data,
never markup. Every Markdown template escapes every `{{ value }}` through `md_text` (the Markdown
environment's `finalize`), every HTML template through Jinja2's autoescape, and the HTML produced
from the Markdown is then cleaned by an allow-list sanitizer (`sanitize_html`, nh3) as a second
line of defence. Header values go through `header_text`, which drops CR, LF and other controls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import nh3


class Md(str):
    """Markdown that is already safe: produced by `md_text`, `md_link` or a template."""

    __slots__ = ()

    def __add__(self, other: str) -> Md:
        return Md(str.__add__(self, other if isinstance(other, Md) else md_fragment(other)))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
# characters with inline meaning in GitHub-flavoured Markdown and Python-Markdown get a backslash
# (parentheses need none: with `[` and `]` escaped they can never form a link destination);
# `<`, `>`, `&` (and `~`, which Python-Markdown cannot backslash-escape) become entities, which both
# read back as the character and can never open raw HTML
_MD_PUNCT = re.compile(r"([\\`*_\[\]#!|])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;"}
_MD_ENTITY_TABLE = str.maketrans(_MD_ENTITIES)
_LINE_START = re.compile(r"^([-+*=]|\d+[.)])(?=\s|$)")

LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def _one_line(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable() and "  " not in text:
        return text  # most text: NFC leaves ASCII as is, and it holds no control, tab, newline or run of spaces
    return _SPACES.sub(" ", _CONTROL.sub(" ", unicodedata.normalize("NFC", text)))


def plain_text(value: Any, limit: int | None = None) -> str:
    """One line of text: controls and bidi overrides removed, whitespace runs collapsed, capped."""
    text = _one_line(value).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def md_fragment(value: Any) -> Md:
    """Escape a piece of inline Markdown (kept as is at its edges: for joining to other Markdown)."""
    text = _MD_PUNCT.sub(r"\\\1", _one_line(value))
    return Md(text.translate(_MD_ENTITY_TABLE))


def md_text(value: Any) -> Md:
    """Escape a value for Markdown: it renders as the same characters, never as markup."""
    if isinstance(value, Md):
        return value
    text = md_fragment(plain_text(value))
    # a list marker, heading rule or ordered-list number at the start of a cell or bullet
    return Md(_LINE_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], text))


def md_concat(parts: list[Any]) -> Md:
    """Join text (escaped, spacing kept) and Markdown pieces into one line of Markdown."""
    out = "".join(p if isinstance(p, Md) else md_fragment(p) for p in parts).strip()
    if parts and not isinstance(parts[0], Md):
        out = _LINE_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], out)
    return Md(out)


def safe_url(url: Any) -> str | None:
    """The URL if it is an absolute http(s) or mailto URL, percent-encoded for Markdown; else None."""
    if not url:
        return None
    raw = plain_text(url).replace(" ", "%20")
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or (parts.scheme.lower() != "mailto" and not parts.netloc):
        return None
    # encode what could end a Markdown link destination or open HTML: spaces, brackets, quotes
    return quote(raw, safe=":/?#@!$&'*+,;=%~-._")


def md_link(text: Any, url: Any) -> Md:
    """A Markdown link with escaped text; just the escaped text when the URL is not http(s)."""
    label = md_text(text)
    target = safe_url(url)
    if target is None:
        return label
    return Md(f"[{label}]({target})")


# -- HTML -------------------------------------------------------------------------------------

_TAGS = {
    "h1", "h2", "h3", "h4", "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "del",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "img", "span", "details", "summary",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
}
_HTML_SCHEMES = {"http", "https", "mailto", "cid"}


def sanitize_html(html: str, *, images: Callable[[str], str | None] | None = None) -> str:
    """Clean Markdown-produced HTML with an allow-list: no script, handler, style block or js: URL.

    `images` maps an `<img src>` to the URL to keep (e.g. `./x.png` -> `cid:x`), or None to drop
    the image; without it every image source is dropped.
    """

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src":
            return images(value) if images else None
        if tag == "a" and attr == "href":
            return value if safe_url(value) is not None else None
        return value

    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_HTML_SCHEMES,
        attribute_filter=attribute_filter,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# -- headers ----------------------------------------------------------------------------------

def header_text(value: Any, limit: int = 200) -> str:
    """A value fit for an email header: one line, no CR/LF or other controls, at most `limit` chars."""
    return plain_text(value, limit)


# -- CSV cells ------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@")  # tabs and CRs cannot start one: plain_text makes them spaces


def csv_cell(value: Any) -> str:
    """A value fit for a CSV cell a spreadsheet opens: one line, and never read as a formula.

    A cell starting with `=`, `+`, `-` or `@` would run as a formula in Excel or LibreOffice (OWASP,
    "CSV Injection"), so such text gets a leading apostrophe, which spreadsheets show as text.
    """
    text = plain_text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
