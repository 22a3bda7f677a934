"""report_email: MIME structure, inline CID charts, safe headers."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest

from syncd.errors import ReportError
from syncd.reports.email import parse_address, report_email
from syncd.reports.report import Report

DATE = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _report(**kw: object) -> Report:
    base: dict[str, object] = dict(
        kind="status", audience="executive", title="Status", subject="[syncd] Status — 2026-11-20",
        markdown="# Status\n", html='<html><body><img src="cid:burnup-a"><img src="cid:cone-b"></body></html>',
        text="Status\n", charts={"burnup-a.png": b"\x89PNG-a", "cone-b.png": b"\x89PNG-b"},
    )
    base.update(kw)
    return Report(**base)  # type: ignore[arg-type]


def _parse(msg: email.message.EmailMessage) -> email.message.EmailMessage:
    return email.message_from_bytes(msg.as_bytes(), policy=policy.default)  # type: ignore[return-value]


def test_structure_is_alternative_of_text_and_related_html_with_inline_pngs() -> None:
    msg = _parse(report_email(_report(), sender="syncd <syncd@example.com>",
                              recipients=["Ann <ann@example.com>", "bob@example.com"], date=DATE))
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()  # type: ignore[misc]
    assert text.get_content_type() == "text/plain" and text.get_content().replace("\r\n", "\n") == "Status\n"
    assert related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert {(i.get_content_type(), i["Content-ID"], i.get_content_disposition()) for i in images} == {
        ("image/png", "<burnup-a>", "inline"), ("image/png", "<cone-b>", "inline")}
    assert {i.get_filename(): i.get_content() for i in images} == {"burnup-a.png": b"\x89PNG-a", "cone-b.png": b"\x89PNG-b"}
    assert msg["To"] == "Ann <ann@example.com>, bob@example.com"
    assert msg["Date"] == "Fri, 20 Nov 2026 12:00:00 +0000"
    assert msg["Message-ID"].endswith("@syncd.local>")
    assert msg["Subject"] == "[syncd] Status — 2026-11-20"


def test_subject_with_line_breaks_cannot_add_headers() -> None:
    raw = report_email(_report(subject="Release 1.0\r\nBcc: victim@example.com\nX-Evil: 1"), sender="s@example.com",
                       recipients=["a@example.com"], date=DATE).as_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Subject"] == "Release 1.0 Bcc: victim@example.com X-Evil: 1"
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw


@pytest.mark.parametrize("bad", ["a@example.com\r\nBcc: v@example.com", "not-an-address", "a@example.com, b@example.com", ""])
def test_recipients_must_be_single_plain_addresses(bad: str) -> None:
    with pytest.raises(ReportError):
        parse_address(bad)


def test_no_recipients_is_an_error() -> None:
    with pytest.raises(ReportError, match="no recipients"):
        report_email(_report(), sender="s@example.com", recipients=[], date=DATE)
