"""Golden reports: on a fixed sandbox seed and a fixed "now", every report kind and audience renders
byte-identical Markdown and HTML to the reviewed files under tests/golden/.

The store is the sandbox's generated world synced through the real connectors. To accept a
deliberate change, regenerate and review the diff:

    SYNCD_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/integration/test_reports_golden.py
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.reporting import all_requests, generate_report, generate_reports, report_slug
from syncd.reports.catalogue.status import EXECUTIVE_MAX_LINES
from syncd.reports.report import Report
from syncd.store._history import record_report
from tests.reports_sandbox import NOW, SandboxStore, build_sandbox_store

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("SYNCD_UPDATE_GOLDEN") == "1"
REQUESTS = all_requests()
LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="module")
def reports(sandbox: SandboxStore) -> dict[tuple[str, str | None], Report]:
    out = {}
    for (kind, audience, _), report in zip(REQUESTS, generate_reports(sandbox.settings, sandbox.store, REQUESTS,
                                                                      now=NOW), strict=True):
        assert isinstance(report, Report), f"{kind}/{audience}: {report}"
        out[(kind, audience)] = report
    return out


def _check_golden(path: Path, actual: str, sandbox: SandboxStore) -> None:
    # the fake servers listen on a free port: name them by a fixed origin so files are comparable
    for origin, fixed in sandbox.origins.items():
        actual = actual.replace(origin, fixed)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"{path.name} missing: run with SYNCD_UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs from the golden file (SYNCD_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize(("kind", "audience"), [(k, a) for k, a, _ in REQUESTS],
                         ids=[f"{k}-{a}" if a else k for k, a, _ in REQUESTS])
def test_report_matches_golden_markdown_and_html(reports: dict, sandbox: SandboxStore, kind: str,
                                                 audience: str | None) -> None:
    report = reports[(kind, audience)]
    stem = report_slug(report)
    _check_golden(GOLDEN / f"{stem}.md", report.markdown, sandbox)
    _check_golden(GOLDEN / f"{stem}.html", report.html, sandbox)


def test_rendering_is_deterministic_including_chart_bytes(sandbox: SandboxStore, reports: dict) -> None:
    again = generate_report(sandbox.settings, sandbox.store, "status", "business", now=NOW, record=False)
    first = reports[("status", "business")]
    assert again.markdown == first.markdown and again.html == first.html and again.text == first.text
    assert again.charts == first.charts and len(first.charts) >= 2


@pytest.mark.parametrize(("kind", "audience"), [(k, a) for k, a, _ in REQUESTS])
def test_every_chart_is_referenced_in_markdown_and_html(reports: dict, kind: str, audience: str | None) -> None:
    report = reports[(kind, audience)]
    md_images = set(re.findall(r"!\[[^\]]*\]\(\./([^)]+\.png)\)", report.markdown))
    cids = set(re.findall(r'src="cid:([^"]+)"', report.html))
    assert md_images == set(report.charts)
    assert cids == {name.removesuffix(".png") for name in report.charts}
    for png in report.charts.values():
        assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_executive_fits_one_screen_and_lists_no_tickets(reports: dict, sandbox: SandboxStore) -> None:
    md = reports[("status", "executive")].markdown
    lines = md.splitlines()
    assert len(lines) <= EXECUTIVE_MAX_LINES, f"{len(lines)} lines"
    assert "## Goals" in md and "## Top risks" in md and "## Decisions and sign-offs needed" in md
    assert "## Since the last report" in md
    assert len(re.findall(r"^\d\. ", md, re.MULTILINE)) <= 3  # top 3 risks
    keys = {i.key for i in sandbox.store.items()}
    urls = {i.url for i in sandbox.store.items() if i.url}
    assert not any(url in md for url in urls), "the executive report links items"
    for line in lines:  # no line enumerates items: at most one item key per line (a risk's subject)
        assert sum(1 for k in re.findall(r"[A-Z][A-Z0-9]+-\d+|[\w.-]+/[\w.-]+#\d+", line) if k in keys) <= 1, line


def test_engineering_links_every_item_it_mentions(reports: dict, sandbox: SandboxStore) -> None:
    md = reports[("status", "engineering")].markdown
    items = {i.key: i for i in sandbox.store.items()}
    pattern = re.compile(r"[A-Z][A-Z0-9]+-\d+|[\w.-]+/[\w.-]+\\?#\d+")
    linked_spans = [(m.start(0), m.end(0)) for m in LINK.finditer(md)]  # link text and its URL
    mentioned = 0
    for m in pattern.finditer(md):
        key = m.group(0).replace("\\#", "#")
        if key not in items:
            continue
        mentioned += 1
        inside = any(a <= m.start() and m.end() <= b for a, b in linked_spans)
        assert inside, f"{key} is mentioned without a link: …{md[max(0, m.start() - 60):m.end() + 20]}…"
    assert mentioned > 50
    for text, url in LINK.findall(md):  # and each link goes to that item
        key = text.replace("\\#", "#")
        if key in items and items[key].url:
            assert url == items[key].url


def test_what_changed_since_the_previous_report(sandbox: SandboxStore, reports: dict) -> None:
    first = reports[("status", "executive")]
    assert "First report of its kind" in first.markdown
    earlier = dict(first.summary)
    goals = {gid: dict(g) for gid, g in earlier["goals"].items()}
    checkout = goals["checkout"]
    checkout["rag"] = "green" if checkout["rag"] != "green" else "amber"
    checkout["percent"] = (checkout["percent"] or 0) - 10
    record_report(sandbox.store, kind="status", audience="executive", scope=None, generated_at=NOW - timedelta(days=7),
                  as_of=NOW - timedelta(days=7), summary={**earlier, "goals": goals},
                  risk_ids=first.risk_ids[1:] + ["gone-risk"])
    again = generate_report(sandbox.settings, sandbox.store, "status", "executive", now=NOW, record=False)
    section = again.markdown.split("## Since the last report", 1)[1]
    assert "Checkout redesign:" in section and "→" in section
    assert f"{checkout['percent']:.0f}% →" in section
    assert "Risks: 1 new, 1 resolved" in section
    # reproducing the earlier date compares with nothing older
    past = generate_report(sandbox.settings, sandbox.store, "status", "executive", now=NOW - timedelta(days=7),
                           record=False)
    assert "First report of its kind" in past.markdown


def test_every_golden_file_belongs_to_a_report(reports: dict) -> None:
    """No golden file is left over from a report that no longer exists (update mode deletes them)."""
    current = {f"{report_slug(r)}{ext}" for r in reports.values() for ext in (".md", ".html")}
    stale = sorted(p for p in GOLDEN.iterdir() if p.is_file() and p.name not in current)  # demo/: its own test
    if UPDATE:
        for path in stale:
            path.unlink()
        return
    assert not stale, f"stale golden files: {[p.name for p in stale]}"
