"""The engineering report lists each theme's first signals and keeps every signal reachable.

On a big store the rules raise thousands of signals; the report shows `MAX_ROWS` per theme (red
first) and the hygiene list's first `MAX_ROWS`, and then carries `status-engineering-risks.csv` with
one row per signal. The cap is lowered here so the hand-built world's themes overflow it; what must
be listed is worked out from the analysis' themes, not from the rendered output.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.reports.analysis.types import Risk
from syncd.reports.catalogue import status_engineering
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.email import html_part_size, report_email
from syncd.reports.render.escape import csv_cell, plain_text
from syncd.reports.render.shorten import EMAIL_HTML_BUDGET
from syncd.reports.report import Report
from tests.reports_world import NOW, World, build_world, write_goals

CSV = "status-engineering-risks.csv"


def _input(world: World, tmp_path: Path, site_url: str | None = None) -> ReportInput:
    from syncd.reports.analysis import analyse
    from syncd.reports.data import Snapshot
    from syncd.reports.goals import load_goals_file
    from syncd.settings_sections import ReportSettings

    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="Europe/Berlin"), NOW, capacity=goals.capacity)
    return ReportInput(analysis=analysis, snapshot=snap, now=NOW, browse_url="https://jira.example", site_url=site_url)


def _with_hygiene(world: World, pairs: int = 3) -> World:
    """`pairs` backlog items blocked by backlog, outside every goal, release and sprint: hygiene signals."""
    from syncd.model import ItemKind, Link, LinkKind, StatusCategory

    base = next(i for i in world.items if i.status_category == StatusCategory.TODO and i.kind == ItemKind.STORY)
    for n in range(pairs):
        a, b = (base.model_copy(update={
            "id": f"jira:9{n}{m}", "remote_id": f"9{n}{m}", "key": f"WID-9{n}{m}", "title": f"Backlog {n}{m}",
            "epic_id": None, "epic_key": None, "parent_id": None, "parent_key": None, "sprint_ids": [],
            "release_ids": [], "labels": [], "url": None}) for m in range(2))
        world.items += [a, b]
        world.links.append(Link(from_id=b.id, kind=LinkKind.BLOCKS, to_key=a.key, to_id=a.id))
    return world


def _rows(report: Report) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(report.files[CSV].decode())))


def test_a_capped_report_lists_each_themes_first_signals_and_every_signal_in_the_csv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)
    inp = _input(_with_hygiene(build_world()), tmp_path)
    a = inp.analysis
    assert len(a.hygiene.signals) > 2
    groups = [("theme", t) for t in a.themes] + [("accepted", t) for t in a.accepted]
    assert any(len(t.signals) > 2 for _, t in groups)  # the world overflows the lowered cap
    report = render_report("status", "engineering", inp)
    md = report.markdown

    # every signal is one CSV row, in the report's order, with its theme, title and item keys
    expected = [(section, t.id, r) for section, t in groups for r in t.signals]
    expected += [("hygiene", "", r) for r in a.hygiene.signals]
    rows = _rows(report)
    assert len(rows) == a.signal_count == len(expected)
    for row, (section, theme_id, risk) in zip(rows, expected, strict=True):
        assert (row["section"], row["theme_id"], row["risk_id"]) == (section, theme_id, risk.id)
        assert row["signal"] == plain_text(risk.title) and row["rule"] == risk.rule
        assert row["severity"] == str(risk.severity)
        assert row["items"].split() == [ref.key for ref in risk.evidence.items]
    assert f"**All {a.signal_count} signals are in {CSV}**" in md

    # each theme's section shows its whole count, its first two signals and how many more there are
    for _, t in groups:
        section = md[md.index(f"Theme id {t.id}."):]
        section = section.split("\n### ", 1)[0].split("\n## ", 1)[0]
        table = [line for line in section.splitlines() if line.startswith("| ") and " | " in line
                 and not line.startswith(("| Severity", "| Option", "| ---"))]
        evidence = [line for line in table if line.split(" | ")[2] in {r.rule for r in t.signals}]
        assert len(evidence) == min(len(t.signals), 2), t.name
        for line, risk in zip(evidence, t.signals, strict=False):
            assert f" | {risk.rule} | " in line
        if len(t.signals) > 2:
            assert f"_…and {len(t.signals) - 2} more._" in section
        else:
            assert "more._" not in section
    hygiene = md.split("## Hygiene", 1)[1]
    n = len(a.hygiene.signals)
    assert hygiene.startswith(f" ({n})")
    assert (f"_…and {n - 2} more._" in hygiene) == (n > 2)


def test_an_uncapped_report_lists_every_signal_itself_and_carries_no_file(tmp_path: Path) -> None:
    inp = _input(build_world(), tmp_path)
    a = inp.analysis
    assert max(len(t.signals) for t in [*a.themes, *a.accepted]) <= status_engineering.MAX_ROWS
    report = render_report("status", "engineering", inp)
    assert report.files == {}
    assert CSV not in report.markdown
    risk_section = report.markdown.split("## Risk themes", 1)[1]
    evidence_rows = sum(1 for line in risk_section.splitlines() if line.startswith(("| 🔴 red |", "| 🟠 amber |")))
    hygiene_rows = len(a.hygiene.signals)
    assert evidence_rows == a.signal_count - hygiene_rows


def test_the_email_attaches_the_csv_and_stays_under_the_budget(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)
    report = render_report("status", "engineering", _input(build_world(), tmp_path))
    msg = report_email(report, sender="syncd@example.com", recipients=["lead@example.com"],
                       date=datetime(2026, 11, 20, 12, tzinfo=UTC))
    attached = [p for p in msg.iter_attachments() if p.get_filename() == CSV]
    assert len(attached) == 1 and attached[0].get_content_type() == "text/csv"
    assert attached[0].get_payload(decode=True) == report.files[CSV]
    assert html_part_size(report.email_part()) < EMAIL_HTML_BUDGET


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)"])
def test_a_csv_cell_is_never_read_as_a_formula(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert csv_cell("WID-12 is blocked") == "WID-12 is blocked"


def test_every_delivery_format_attaches_the_csv_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from syncd.delivery import FORMATS, build_message

    monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)
    report = render_report("status", "engineering", _input(build_world(), tmp_path))
    for fmt in FORMATS:
        msg = build_message(report, fmt, sender="syncd@example.com", recipients=["lead@example.com"],
                            date=datetime(2026, 11, 20, 12, tzinfo=UTC))
        attached = [p for p in msg.iter_attachments() if p.get_filename() == CSV]
        assert len(attached) == 1 and attached[0].get_payload(decode=True) == report.files[CSV], fmt


def _shortened_to(monkeypatch: pytest.MonkeyPatch, rows: int, evidence_rows: int) -> None:
    """Reports render their email at the cut (rows, evidence_rows), as a store too big for the budget would."""
    from syncd.reports.catalogue import base
    from syncd.reports.render import shorten

    real = shorten.email_body
    monkeypatch.setattr(shorten, "_CUTS", (((rows, evidence_rows),),))
    monkeypatch.setattr(base, "email_body", lambda body, **kw: real(body, **{**kw, "budget": kw["size_of"](body)}))


def _email_sections(html: str) -> dict[str, tuple[list[tuple[str, str, str]], list[str]]]:
    """Per h2/h3 heading of the email HTML: the (signal, rule, items) of its evidence rows, in order, and its notes."""
    from lxml.html import document_fromstring

    out: dict[str, tuple[list[tuple[str, str, str]], list[str]]] = {}
    heading = ""
    for el in document_fromstring(html).iter("h2", "h3", "td", "em"):
        text = " ".join(el.text_content().split())
        if el.tag in ("h2", "h3"):
            heading = text
            out[heading] = ([], [])
        elif el.tag == "em" and text.startswith("…and"):
            out[heading][1].append(text)
        elif el.get("data-label") == "Signal":
            cells = {c.get("data-label"): " ".join(c.text_content().split()) for c in el.getparent()}
            out[heading][0].append((cells["Signal"], cells["Rule"], cells["Items"]))
    return out


def test_a_shortened_email_shows_each_themes_first_signals_and_points_at_the_csv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_engineering, "MAX_ROWS", 5)
    _shortened_to(monkeypatch, rows=0, evidence_rows=2)
    inp = _input(_with_hygiene(build_world()), tmp_path)
    a = inp.analysis
    report = render_report("status", "engineering", inp)
    assert CSV in report.files and report.email_shortened
    html = report.email_part()
    sections = _email_sections(html)

    def expected(risk: Risk) -> tuple[str, str, str]:
        keys = [ref.key for ref in risk.evidence.items]
        # the email keeps each row's first two item keys and counts the others
        return plain_text(risk.title), risk.rule, ", ".join(keys[:2]) + (f" +{len(keys) - 2} more" if len(keys) > 2 else "")

    def more(left: int) -> list[str]:
        return [f"…and {left} more signal{'s' if left > 1 else ''}: see the attached {CSV}."] if left > 0 else []

    assert len(a.themes) == 5 and [len(t.signals) for t in a.themes] == [4, 13, 1, 3, 1]
    for t in a.themes:  # the analysis' order, red first: Checkout v2's 3 red signals before its 10 amber ones
        heading = next(h for h in sections if f" {t.name} (" in h and h.endswith(("signal)", "signals)")))
        rows, notes = sections[heading]
        assert rows == [expected(r) for r in t.signals[:2]], t.name
        # the email's cut and the report's own cap (5 of Checkout v2's 13) are one note: 13 - 2 = 11 more
        assert [n for n in notes if "signal" in n] == more(len(t.signals) - 2), t.name
    rows, notes = sections[f"Hygiene ({len(a.hygiene.signals)})"]
    assert [s for s, _, _ in rows] == [plain_text(r.title) for r in a.hygiene.signals[:2]]
    assert more(len(a.hygiene.signals) - 2)[0] in notes
    # every other table gave way to its note: no sprint or goal item is listed
    assert 'data-label="Title"' not in html
    assert "each evidence table shows its first 2 signals" in html
    assert html_part_size(html) < EMAIL_HTML_BUDGET


def test_with_a_report_site_every_format_links_the_published_csv_instead_of_attaching_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from email import message_from_bytes, policy

    from lxml.html import document_fromstring

    from syncd.delivery import FORMATS, build_message

    monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)
    site = 'https://reports.example.com/a&b/"x"'  # an ampersand and quotes: escaped in the href, never raw
    report = render_report("status", "engineering", _input(build_world(), tmp_path, site_url=site))
    url = "https://reports.example.com/a&b/%22x%22/status-engineering-risks.csv"  # safe_url percent-encodes quotes
    assert CSV in report.files and report.file_url(CSV) == f"{site}/{CSV}"
    assert f"**All {len(_rows(report))} signals are in [{CSV}]({url})**" in report.markdown
    assert "attached to its email" not in report.markdown
    for fmt in FORMATS:
        msg = build_message(report, fmt, sender="syncd@example.com", recipients=["lead@example.com"],
                            date=datetime(2026, 11, 20, 12, tzinfo=UTC))
        sent = message_from_bytes(msg.as_bytes(), policy=policy.default)
        assert CSV not in [p.get_filename() for p in sent.iter_attachments()], fmt
        if fmt == "md":
            assert f"]({url})" in sent.get_body(("plain",)).get_content()
            continue
        html = sent.get_body(("html",)).get_content()
        assert 'href="https://reports.example.com/a&amp;b/%22x%22/status-engineering-risks.csv"' in html, fmt
        links = [a for a in document_fromstring(html).iter("a") if a.text_content() == CSV]
        assert [a.get("href") for a in links] == [url], fmt
        assert '"x"' not in html
