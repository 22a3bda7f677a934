"""Golden risk sections per audience on the demo store (seed 7, 2,000 items, the demo's goals, at
DEMO_NOW): what an executive, a business reader and an engineer read about risks, byte for byte.

Each file holds the parts of one status report that speak of risks: the executive's verdict, top
risks, decisions and changes; the business report's risks to outcomes; the engineering report's
risk themes with all their evidence, accepted risks and hygiene; and each report's footer figure
("Risks: N themes from M signals"). Other sections are left to their own tests, so a change
elsewhere does not churn these files. To accept a deliberate change, regenerate and read the diff:

    SYNCD_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/integration/test_reports_golden_demo.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from syncd.reporting import load_context, render_from
from syncd.reports.report import Report
from tests.demo_store import DEMO_NOW
from tests.reports_sandbox import SandboxStore

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "demo"
UPDATE = os.environ.get("SYNCD_UPDATE_GOLDEN") == "1"
SECTIONS = {
    "executive": ("## Top risks", "## Decisions and sign-offs needed", "## Since the last report"),
    "business": ("## Risks to outcomes",),
    "engineering": ("## Risk themes", "## Accepted risks", "## Hygiene"),
}
FOOTNOTE = re.compile(r"Risks: \d+ themes? from \d+ signals? \([^)]*\)\.")


@pytest.fixture(scope="module")
def reports(demo_store: SandboxStore) -> dict[str, Report]:
    ctx = load_context(demo_store.settings, demo_store.store, now=DEMO_NOW)
    return {a: render_from(ctx, None, "status", a) for a in SECTIONS}


def risk_sections(report: Report, headings: tuple[str, ...]) -> str:
    """The report's verdict line (if any), its sections starting with `headings`, and the footer's risk figure."""
    md = report.markdown
    parts = [line for line in md.splitlines() if line.startswith("**Of ")][:1]  # the executive verdict
    for heading in headings:
        start = md.find("\n" + heading)
        if start < 0:
            continue
        end = md.find("\n## ", start + 1)
        parts.append((md[start + 1:] if end < 0 else md[start + 1:end]).strip())
    footnote = FOOTNOTE.search(report.html)
    assert footnote is not None, "the footer states the risk figure"
    parts.append("Footer: " + footnote.group(0))
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize("audience", list(SECTIONS))
def test_risk_sections_match_the_golden_file(demo_store: SandboxStore, reports: dict[str, Report],
                                             audience: str) -> None:
    actual = risk_sections(reports[audience], SECTIONS[audience])
    for origin, fixed in demo_store.origins.items():  # the fake servers listen on a free port
        actual = actual.replace(origin, fixed)
    path = GOLDEN / f"status-{audience}-risks.md"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"{path.name} missing: run with SYNCD_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs (SYNCD_UPDATE_GOLDEN=1 to accept)"
