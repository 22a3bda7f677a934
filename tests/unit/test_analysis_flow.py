"""Flow metrics: percentiles, cycle and lead time, throughput, WIP, pull requests, DORA-style figures."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.model import PullState
from syncd.reports.analysis.flow import flow, percentiles, weekly_counts, weekly_counts_ordered
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.progress import ReleaseClock
from tests.unit.analysis_factories import Plan, day


def test_percentiles_nearest_rank() -> None:
    p = percentiles(range(1, 21), "days")  # 1..20
    assert p is not None and (p.p50, p.p85, p.p95, p.count) == (10, 17, 19, 20)
    assert percentiles([], "days") is None
    one = percentiles([4.5], "hours")
    assert one is not None and (one.p50, one.p95) == (4.5, 4.5)


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200))
def test_percentiles_are_ordered(values: list[float]) -> None:
    p = percentiles(values, "days")
    assert p is not None
    assert min(values) <= p.p50 <= p.p85 <= p.p95 <= max(values)


def test_weekly_counts_use_windows_ending_now() -> None:
    now = day(21)
    times = [day(0), day(6.9), day(7), day(20.9), day(21), day(-1)]
    assert weekly_counts(times, now, 3) == [2, 1, 1]  # day 21 is the next window, day -1 before
    assert weekly_counts_ordered(sorted(times), now, 3) == [2, 1, 1]


@given(st.lists(st.integers(min_value=-2 * 7 * 86400 * 10**6, max_value=14 * 7 * 86400 * 10**6)),
       st.integers(min_value=0, max_value=12), st.booleans())
def test_weekly_counts_of_sorted_times_by_bisection_match_the_walk(offsets: list[int], weeks: int, edges: bool) -> None:
    # microseconds from 12 weeks before now; `edges` puts each time on a window's edge, or a microsecond before one
    now = day(84)
    start = now - timedelta(weeks=12)
    if edges:
        offsets = [(o // (7 * 86400 * 10**6)) * 7 * 86400 * 10**6 - (o % 2) for o in offsets]
    times = sorted(start + timedelta(microseconds=o) for o in offsets)
    assert weekly_counts_ordered(times, now, weeks) == weekly_counts(times, now, weeks)


def _flow_world() -> Plan:
    p = Plan()
    # Three items done inside the window: cycle times 1, 2, 4 days; lead times 3, 4, 8 days.
    for created, start, done in ((0, 2, 3), (10, 12, 14), (20, 24, 28)):
        item = p.item(created=day(created))
        p.move(item, "In Progress", day(start))
        p.move(item, "In Review", day(start + 0.5))
        p.move(item, "Done", day(done))
    old = p.item(created=day(-60))
    p.move(old, "Done", day(-50))  # before the window
    wip = p.item(created=day(25))
    p.move(wip, "In Progress", day(26))
    other = p.item(created=day(0), project="OPS")
    p.move(other, "In Progress", day(27))
    return p


def test_cycle_lead_throughput_and_wip() -> None:
    snap = _flow_world().snapshot()
    f = flow(snap, Histories(snap), ReleaseClock(snap), day(29), UTC, weeks=5)
    o = f.overall
    assert o.cycle_time_days is not None and o.lead_time_days is not None
    assert (o.cycle_time_days.p50, o.cycle_time_days.p85, o.cycle_time_days.count) == (2, 4, 3)
    assert (o.lead_time_days.p50, o.lead_time_days.p95) == (4, 8)
    assert [w.count for w in o.throughput] == [0, 1, 1, 0, 1]  # windows start day -6, 1, 8, 15, 22
    assert o.throughput[0].week_start == date(2026, 2, 24)
    assert [w.item.key for w in o.wip] == ["WID-5", "OPS-6"]  # oldest first
    assert [round(w.age_days, 1) for w in o.wip] == [3.0, 2.0]
    assert sorted(f.by_project) == ["OPS", "WID"]
    assert f.by_project["OPS"].cycle_time_days is None and len(f.by_project["OPS"].wip) == 1


def test_pull_request_metrics_and_dora() -> None:
    p = Plan()
    # created day 1; reviewed 5 h later; merged 20 h after the review; 300 changed lines
    p.pull(created=day(1), reviews=[day(1) + timedelta(hours=5)], state=PullState.MERGED,
           merged_at=day(1) + timedelta(hours=25), additions=250, deletions=50)
    p.pull(created=day(2), reviews=[day(2) + timedelta(hours=1)], state=PullState.MERGED,
           merged_at=day(2) + timedelta(hours=3), additions=10, deletions=0)
    p.pull(created=day(3))  # open, not reviewed
    p.gh_release("acme/widget", day(4))  # ships both merges
    p.gh_release("acme/widget", day(6))
    snap = p.snapshot()
    f = flow(snap, Histories(snap), ReleaseClock(snap), day(7), UTC, weeks=2)
    pm = f.pulls
    assert (pm.opened, pm.merged, pm.open_now) == (3, 2, 1)
    assert pm.time_to_first_review_hours is not None and pm.time_to_first_review_hours.p95 == 5
    assert pm.time_to_first_review_hours.p50 == 1
    assert pm.review_to_merge_hours is not None and pm.review_to_merge_hours.p95 == 20
    assert pm.size_lines is not None and (pm.size_lines.p50, pm.size_lines.p95) == (10, 300)
    assert f.dora is not None and f.dora.deployments == 2 and f.dora.per_week == 1.0
    lt = f.dora.lead_time_for_changes_hours
    assert lt is not None and lt.count == 2 and lt.p95 == 72 - 25  # merged day 1 + 25 h, released day 4
    assert f.dora.basis.startswith("production releases")


def test_no_releases_means_no_dora() -> None:
    snap = _flow_world().snapshot()
    assert flow(snap, Histories(snap), ReleaseClock(snap), day(29), UTC, weeks=5).dora is None


def test_pull_and_dora_figures_are_worked_out_when_first_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the engineering status shows them: `flow` leaves them to the first reader, then keeps them."""
    import syncd.reports.analysis.flow as flow_module

    calls: list[int] = []
    real = flow_module.dora_keys
    monkeypatch.setattr(flow_module, "dora_keys", lambda *a, **k: calls.append(1) or real(*a, **k))
    p = Plan()
    p.pull(created=day(1), state=PullState.MERGED, merged_at=day(2))
    p.gh_release("acme/widget", day(4))
    snap = p.snapshot()
    f = flow(snap, Histories(snap), ReleaseClock(snap), day(7), UTC, weeks=2)
    assert calls == []
    assert f.dora is not None and f.dora.deployments == 1 and f.pulls.merged == 1 and f.dora_by_team
    assert calls == [1]  # read three times, worked out once
