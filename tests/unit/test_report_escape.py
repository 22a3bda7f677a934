"""The one escaping helper: untrusted text stays text in Markdown, HTML, plain text and headers."""

from __future__ import annotations

import re

import markdown
import pytest

from syncd.reports.render.escape import Md, header_text, md_link, md_text, safe_url, sanitize_html
from syncd.reports.render.html import markdown_body, text_alternative
from syncd.reports.render.templating import MARKDOWN_ENV

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "Fix it\r\nBcc: victim@example.com",
    "- starts like a list",
    "1. starts like an ordered list",
    "# looks like a heading",
    "a | pipe | in a table",
    "*bold* _em_ `code` ~~strike~~ \\ backslash",
    "&amp; &lt;b&gt; entities",
    "日本語のタイトル 🚀 émoji",
    "x" * 5000,
]


def _html(md: str) -> str:
    return markdown.markdown(md, extensions=["tables", "sane_lists"])


def visible_text(html: str) -> str:
    """The characters a reader sees (tags dropped, entities decoded, whitespace collapsed)."""
    from html.parser import HTMLParser

    parts: list[str] = []

    class Collect(HTMLParser):
        def handle_data(self, data: str) -> None:
            parts.append(data)

    Collect(convert_charrefs=True).feed(html)
    return " ".join("".join(parts).split())


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_renders_as_the_same_characters_in_paragraph_table_and_list(text: str) -> None:
    escaped = md_text(text)
    assert "\n" not in escaped and "\r" not in escaped
    want = " ".join(text.split())
    for md in (escaped, f"| h |\n| --- |\n| {escaped} |", f"- {escaped}"):
        html = _html(md)
        assert_inert_html(html)
        for tag in ("<em>", "<strong>", "<code>", "<h1>", "<ol>", "<a ", "<del>"):
            assert tag not in html
        assert visible_text(html).removeprefix("h ") == want
        assert html.count("<li>") <= 1


def test_md_text_leaves_markdown_alone() -> None:
    already = Md("**bold**")
    assert md_text(already) is already
    assert Md("a ") + "*b*" == "a \\*b\\*"


def test_md_link_escapes_text_and_refuses_non_http_urls() -> None:
    assert md_link("WID-1 [x]", "https://jira.example/browse/WID-1") == "[WID-1 \\[x\\]](https://jira.example/browse/WID-1)"
    assert md_link("x", "javascript:alert(1)") == "x"
    assert md_link("x", "data:text/html,<b>") == "x"
    assert md_link("x", "//evil.example/") == "x"
    assert md_link("x", None) == "x"
    # characters that could close the destination or open HTML are percent-encoded
    assert safe_url("https://h.example/a b(c)<d>\"e") == "https://h.example/a%20b%28c%29%3Cd%3E%22e"


def test_sanitize_html_keeps_the_allow_list_only() -> None:
    dirty = ('<p onclick="x">a<script>alert(1)</script><a href="javascript:alert(1)">j</a>'
             '<a href="https://ok.example/">ok</a><img src="./c.png" onerror="x"><style>p{}</style>'
             '<iframe src="https://x"></iframe></p><table><tr><td style="text-align: right; background: url(x)">1</td></tr></table>')
    clean = sanitize_html(dirty, images=lambda src: "cid:c" if src == "./c.png" else None)
    assert "script" not in clean and "onclick" not in clean and "onerror" not in clean and "iframe" not in clean
    assert "javascript" not in clean and "<style" not in clean and "url(" not in clean
    assert '<a href="https://ok.example/" rel="noopener noreferrer">ok</a>' in clean
    assert 'src="cid:c"' in clean and 'style="text-align:right"' in clean


def test_markdown_template_escapes_every_value_unless_markdown() -> None:
    template = MARKDOWN_ENV.from_string(
        '# {{ title }}\n\n- {{ "x" | link(url) }}\n- {{ "ok" | link("https://ok.example/") }}\n- {{ n | num }} {{ [title] | join_md }}\n')
    out = template.render(title="<b>*x*</b>", url="javascript:alert(1)", n=2.50)
    assert out == ("# &lt;b&gt;\\*x\\*&lt;/b&gt;\n\n- x\n- [ok](https://ok.example/)\n"
                   "- 2.5 &lt;b&gt;\\*x\\*&lt;/b&gt;\n")


@pytest.mark.parametrize("text", HOSTILE)
def test_body_and_text_alternative_keep_hostile_text_inert(text: str) -> None:
    md = f"# {md_text(text)}\n\n| a |\n| --- |\n| {md_link(text, 'javascript:alert(1)')} |\n"
    body = markdown_body(md, charts=set())
    assert_inert_html(body)
    plain = text_alternative(body, footer="f")
    assert " ".join(text.split())[:60] in plain


def assert_inert_html(html: str) -> None:
    """No script/style/iframe/img-without-cid element, no on* attribute, no non-http(s)/cid URL.

    The one style block allowed is our own narrow-screen and dark-mode stylesheet, in the head.
    """
    from html.parser import HTMLParser

    from syncd.reports.render.html import _css

    own_style = f"\n{_css('email-adaptive.css')}"
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S | re.I)
    assert styles in ([], [own_style]), styles
    html = html.replace(own_style, "") if styles else html

    class Check(HTMLParser):
        in_head = False

        def handle_endtag(self, tag: str) -> None:
            self.in_head = self.in_head and tag != "head"

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.in_head = self.in_head or tag == "head"
            forbidden = ("script", "iframe", "object", "embed", "form", "svg", "math") + (() if self.in_head else ("style",))
            assert tag not in forbidden, tag
            for name, value in attrs:
                assert not name.startswith("on"), (tag, name)
                if name in ("href", "src"):
                    chart = name == "src" and re.fullmatch(r"\./[a-z0-9-]+\.png", value or "")
                    assert chart or (value or "").split(":", 1)[0] in ("https", "http", "mailto", "cid"), (tag, value)

    Check().feed(html)


def test_header_text_is_one_line_and_capped() -> None:
    assert header_text("Status\r\nBcc: victim@example.com") == "Status Bcc: victim@example.com"
    assert header_text("a\u2028b\x00c\u202ed") == "a b c d"
    assert len(header_text("x" * 1000, limit=200)) == 200


def test_plain_and_markdown_text_are_what_the_full_normalisation_gives_for_any_text() -> None:
    """The ASCII fast path of the escaping changes no output: checked against the rules spelled out here."""
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from syncd.reports.render.escape import md_fragment, plain_text

    controls = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
    entities = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;"}

    def one_line(text: str) -> str:
        return re.sub(r"\s+", " ", controls.sub(" ", unicodedata.normalize("NFC", text)))

    alphabet = st.sampled_from(list("aZ09 -_*[]|&<>~#!`\\.\t\n\r\x00\x0b\x1f\x7f\x85\u00a0\u2028\u202e\u200be\u0301é"))

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet, max_size=24))
    def check(text: str) -> None:
        assert plain_text(text) == one_line(text).strip()
        escaped = re.sub(r"([\\`*_\[\]#!|])", r"\\\1", one_line(text))
        assert md_fragment(text) == "".join(entities.get(ch, ch) for ch in escaped)

    check()
