"""Retrospective flow on the demo store (seed 7, 2,000 items, the demo's goals), synced the real way:
the team's throughput and cycle-time percentiles over WID Sprint 20 are worked out here from a
direct query of the store (status changelog and items tables), not through the code under test,
and the cumulative flow diagram ends where the sprint report does (completed and carried over).
"""

from __future__ import annotations

import math
import re
import sqlite3
from datetime import UTC, datetime

import pytest

from syncd.demo import demo_goals_toml
from syncd.reporting import ReportContext, load_context, render_from
from tests.reports_sandbox import SandboxStore, build_sandbox_store

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)

# per WID scope item done now: when it last moved to a done status, and when it first moved to an
# in-progress one (or was created, when its first recorded status was already in progress)
FINISHED = """
with cats as (select distinct status, status_category from items where source_type = 'jira'),
status as (select t.* from transitions t where t.field = 'status'),
last_done as (select item_id, max(at) as at from status
              where to_string in (select status from cats where status_category = 'done') group by item_id),
first_move as (select item_id, from_string, min(at) as at from status group by item_id),
started as (select item_id, min(at) as at from status
            where to_string in (select status from cats where status_category = 'in_progress') group by item_id)
select i.key, coalesce(ld.at, i.resolved, i.updated),
       case when fm.from_string in (select status from cats where status_category = 'in_progress') then i.created
            else st.at end
from items i
left join last_done ld on ld.item_id = i.id
left join first_move fm on fm.item_id = i.id
left join started st on st.item_id = i.id
where i.project = 'WID' and i.kind in ('story', 'task', 'bug', 'issue') and i.removed = 0
  and i.status_category = 'done'
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("demo"), seed=7, issues=2000, now=NOW, goals=demo_goals_toml)


@pytest.fixture(scope="module")
def ctx(demo: SandboxStore) -> ReportContext:
    return load_context(demo.settings, demo.store, now=NOW)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _rank(values: list[float], p: float) -> float:
    return sorted(values)[max(0, math.ceil(p / 100 * len(values)) - 1)]


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def test_flow_row_matches_a_hand_count_from_the_store(demo: SandboxStore, ctx: ReportContext) -> None:
    db = sqlite3.connect(str(demo.store.engine.url.database))
    start, end = (_at(v) for v in db.execute(
        "select start, complete from sprints where name = 'WID Sprint 20'").fetchone())
    weeks = [0, 0]
    cycle = []
    for _, done_at, started in db.execute(FINISHED).fetchall():
        done = _at(done_at)
        if not start <= done < end:
            continue
        weeks[min(1, int((done - start).total_seconds() // (7 * 86400)))] += 1
        if started is not None and _at(started) <= done:
            cycle.append((done - _at(started)).total_seconds() / 86400)
    finished = sum(weeks)
    assert finished >= 5 and len(cycle) >= 5  # the demo sprint finished enough to measure
    md = render_from(ctx, None, "retrospective", scope="WID Sprint 20").markdown
    row = next(line for line in md[md.index("## Flow"):].splitlines() if line.startswith("| WID |"))
    days = (end - start).total_seconds() / 86400
    expected = (f"| WID | {finished} | {_num(finished / (days / 7))} (week 1: {weeks[0]}, week 2: {weeks[1]}) | "
                f"{_num(_rank(cycle, 50))} | {_num(_rank(cycle, 85))} |")
    assert row.startswith(expected), (row, expected)


def test_cumulative_flow_ends_with_the_sprint_reports_completed_and_carried(ctx: ReportContext) -> None:
    md = render_from(ctx, None, "retrospective", scope="WID Sprint 20").markdown
    review = render_from(ctx, None, "sprint-review", scope="WID Sprint 20").markdown

    def items(label: str) -> int:
        m = re.search(rf"^\| {re.escape(label)} \| (\d+) \|", review, flags=re.MULTILINE)
        assert m is not None, label
        return int(m[1])

    table = md[md.index("| Day | To do | In progress | Done | In the sprint |"):md.index("## Cycle-time trend")]
    last = [line for line in table.splitlines() if line.startswith("| 2026-")][-1]
    _, todo, doing, done, total = (c.strip() for c in last.strip("|").split("|"))
    assert int(done) == items("Completed")
    assert int(todo) + int(doing) == items("Not completed (carried over)")
    assert int(total) == items("Committed at start") + items("Added after start") - items("Removed during sprint")


def test_reports_read_the_analysis_histories(ctx: ReportContext) -> None:
    """The reports of a context ask the histories the analysis built (its facts already worked out),
    and say what they say with histories of their own."""
    from dataclasses import replace

    hist = ctx.analysis.histories
    assert hist is not None and ctx.shared["hist"] is hist and hist.snap is ctx.snapshot
    for kind, audience in (("retrospective", None), ("status", "engineering"), ("sprint-review", None)):
        own = replace(ctx, shared={})  # a new Histories, built by the report
        assert render_from(ctx, None, kind, audience).markdown == render_from(own, None, kind, audience).markdown
        assert own.shared["hist"] is not hist
