"""Untrusted text stays text: script tags, event handlers, javascript: links, CR/LF + "Bcc:", very
long, non-Latin and emoji text in titles, names, labels, sprint, release and goal names appear
escaped in every report's Markdown, HTML, plain text and email headers."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import markdown
import pytest

from syncd.reporting import all_requests, generate_reports
from syncd.reports.email import report_email
from syncd.reports.report import Report
from syncd.settings import Settings
from syncd.settings_sections import ReportSettings
from syncd.store import Store
from tests.reports_world import NOW, build_world, load_world, write_goals
from tests.unit.test_report_escape import assert_inert_html, visible_text

SHOWN = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) Bcc: evil@example.com 日本語 🚀"


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory: pytest.TempPathFactory) -> list[Report]:
    folder = tmp_path_factory.mktemp("hostile")
    store = Store(f"sqlite:///{folder / 'syncd.db'}")
    store.upgrade()
    load_world(store, build_world(hostile=True))
    settings = Settings(reports=ReportSettings(goals_file=write_goals(folder / "goals.toml", hostile=True),
                                               timezone="Europe/Berlin"))
    out = generate_reports(settings, store, all_requests(), now=NOW)
    assert all(isinstance(r, Report) for r in out), out
    return out  # type: ignore[return-value]


def test_hostile_text_is_in_every_report(hostile_reports: list[Report]) -> None:
    for report in hostile_reports:
        assert "日本語 🚀" in report.markdown and "日本語 🚀" in report.text, report.kind


@pytest.mark.parametrize("n", range(len(all_requests())))
def test_markdown_escapes_it_even_without_the_sanitizer(hostile_reports: list[Report], n: int) -> None:
    report = hostile_reports[n]
    md = report.markdown
    assert "<script" not in md and "<img" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md)  # only as escaped text: \[x\](javascript:…
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    raw = markdown.markdown(md, extensions=["tables", "sane_lists"])  # what a Markdown viewer would show
    assert_inert_html(raw)
    assert SHOWN in visible_text(raw)


@pytest.mark.parametrize("n", range(len(all_requests())))
def test_html_and_text_show_it_as_text(hostile_reports: list[Report], n: int) -> None:
    report = hostile_reports[n]
    assert_inert_html(report.html)
    assert "javascript:" not in report.html.replace("[x](javascript:alert(3))", "")
    assert SHOWN in visible_text(report.html)
    assert SHOWN in " ".join(report.text.split())
    assert not any(line.startswith("Bcc:") for line in report.text.splitlines())


@pytest.mark.parametrize("n", range(len(all_requests())))
def test_email_headers_cannot_be_injected(hostile_reports: list[Report], n: int) -> None:
    report = hostile_reports[n]
    raw = report_email(report, sender="syncd <syncd@example.com>", recipients=["a@example.com"],
                       date=datetime(2026, 11, 20, tzinfo=UTC)).as_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg.get_all("To") == ["a@example.com"]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in head.split(b"\r\n"))
    subject = str(msg["Subject"])
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 250
    if report.kind in ("sprint-kickoff", "sprint-review", "retrospective", "launch-readiness"):
        assert "Bcc: evil@example.com" in subject  # the hostile name is there, as text on one line


def test_goal_title_from_the_goals_file_is_escaped_too(hostile_reports: list[Report]) -> None:
    executive = hostile_reports[0]
    assert executive.kind == "status" and executive.audience == "executive"
    assert "| Checkout v2 &lt;script&gt;alert(1)&lt;/script&gt;" in executive.markdown


def test_long_titles_do_not_break_tables(hostile_reports: list[Report], tmp_path: Path) -> None:
    engineering = next(r for r in hostile_reports if r.audience == "engineering")
    rows = [line for line in engineering.markdown.splitlines() if "Very long title" in line]
    assert rows and all(line.startswith("|") and line.endswith("|") for line in rows)
