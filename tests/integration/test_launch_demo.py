"""Launch readiness on the demo's world (seed 7, 2,000 items, the demo's `now`), synced through the
real connectors: Gadget 5.6's NO-GO leads with the scope open past its due date, counted here by a
direct SQL query of the store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from syncd.reporting import generate_report
from tests.reports_sandbox import TIMEZONE, SandboxStore, build_sandbox_store

NOW = datetime(2026, 12, 2, 14, 25, 1, tzinfo=UTC)  # the demo's `now` the issue's figures were taken at


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("demo"), seed=7, issues=2000, now=NOW)


@pytest.fixture(scope="module")
def db(demo: SandboxStore) -> sqlite3.Connection:
    return sqlite3.connect(demo.settings.data_dir / "syncd.db")


def _planned(db: sqlite3.Connection, version: str, milestone: str) -> list[tuple[str, str]]:
    """(key, status category) of every item planned for the fix version or the milestone, epics and pull
    requests aside: from the tables, not through syncd's code."""
    return db.execute("""
        SELECT DISTINCT i.key, i.status_category FROM items i, json_each(i.release_ids) r
        WHERE i.removed = 0 AND i.kind NOT IN ('epic', 'pull_request')
          AND r.value IN (SELECT id FROM releases WHERE (kind = 'version' AND name = ?)
                                                  OR (kind = 'milestone' AND name = ?))""",
                      (version, milestone)).fetchall()


def test_gadget_5_6_no_go_leads_with_the_scope_open_past_its_due_date(demo: SandboxStore,
                                                                       db: sqlite3.Connection) -> None:
    [(due_text,)] = db.execute("SELECT due FROM releases WHERE kind = 'version' AND name = 'Gadget 5.6'").fetchall()
    due = date.fromisoformat(due_text)
    today = NOW.astimezone(ZoneInfo(TIMEZONE)).date()
    assert due < today  # the demo's Gadget 5.6 is past its due date
    planned = _planned(db, "Gadget 5.6", "v5.6")
    open_keys = [key for key, category in planned if category != "done"]
    assert open_keys  # with work open: the gate fails

    report = generate_report(demo.settings, demo.store, "launch-readiness", None, now=NOW, scope="Gadget 5.6",
                             record=False)
    md = report.markdown
    assert "## 🔴 NO-GO" in md
    why = md.split("**Why:** ", 1)[1].split("\n", 1)[0]
    assert why.startswith(f"{len(open_keys)} of {len(planned)} items open past the due date {due.isoformat()}: "), why
    checklist = md.split("## Checklist", 1)[1].split("\n### ", 1)[0]
    rows = [line.split(" | ") for line in checklist.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows[0][0] == "| No scope open past the due date" and rows[0][1:3] == ["gate", "❌ fail"]
    section = md.split("### No scope open past the due date: what is open", 1)[1].split("\n### ", 1)[0]
    listed = [line.split("](", 1)[0].removeprefix("| [") for line in section.splitlines() if line.startswith("| [")]
    assert sorted(listed) == sorted(open_keys)
