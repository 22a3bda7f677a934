"""Progress per goal and release: counts, percentages, burn-up, scope creep, code done vs delivered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from syncd.model import PullState, SprintState
from syncd.reports.analysis import analyse
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.progress import ReleaseClock, burnup, count_items, delivery
from syncd.reports.goals import Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal


def test_counts_and_percentages_by_items_and_points() -> None:
    p = Plan()
    a, b = p.item(points=3), p.item(points=5)
    p.item(points=None)
    p.item(points=2)
    p.move(a, "In Progress", day(1))
    p.move(a, "Done", day(2))
    p.move(b, "In Progress", day(1))
    c = count_items(list(p.items.values()))
    assert (c.items_done, c.items_in_progress, c.items_todo, c.unestimated) == (1, 1, 2, 1)
    assert (c.points_done, c.points_in_progress, c.points_todo) == (3, 5, 2)
    assert c.percent_items == 25.0 and c.percent_points == 30.0
    assert count_items([]).percent_items is None


def test_burnup_counts_scope_and_done_at_the_end_of_each_day() -> None:
    p = Plan()
    a, b = p.item(points=1), p.item(points=2)
    c = p.item(points=4, created=day(2))
    p.move(a, "Done", day(1))
    p.move(b, "Done", day(3))
    snap = p.snapshot()
    facts = Histories(snap).facts()
    series = burnup([a, b, c], {i.id: facts[i.id].done_at for i in (a, b, c)}, date(2026, 3, 5), UTC)
    assert [pt.day.day for pt in series] == [2, 3, 4, 5]
    assert [pt.scope_items for pt in series] == [2, 2, 3, 3]
    assert [pt.done_items for pt in series] == [0, 1, 1, 2]
    assert [pt.scope_points for pt in series] == [3, 3, 7, 7]
    assert [pt.done_points for pt in series] == [0, 1, 1, 3]


def test_burnup_days_are_in_the_report_time_zone() -> None:
    p = Plan()
    a = p.item(created=datetime(2026, 3, 2, 8, tzinfo=UTC))
    p.move(a, "Done", datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # 00:30 on 3 March in Berlin
    snap = p.snapshot()
    done = {a.id: Histories(snap).facts()[a.id].done_at}
    utc = burnup([a], done, date(2026, 3, 3), UTC)
    berlin = burnup([a], done, date(2026, 3, 3), ZoneInfo("Europe/Berlin"))
    assert [pt.done_items for pt in utc] == [1, 1]
    assert [pt.done_items for pt in berlin] == [0, 1]


def _goal_world() -> Plan:
    p = Plan()
    a, b = p.item(points=3), p.item(points=5)
    p.item(points=2, created=day(10))  # added after the work started: scope creep
    p.move(a, "In Progress", day(3))
    p.move(a, "Done", day(6))
    p.move(b, "In Progress", day(4))
    return p


def test_scope_creep_against_default_and_configured_baselines() -> None:
    snap = _goal_world().snapshot()
    sel = Selector(projects=("WID",))
    default = analyse(snap, [goal(sel)], Settings(), day(20)).goals[0].progress.scope_change
    assert default is not None
    assert (default.baseline, default.baseline_reason) == (date(2026, 3, 5), "the day work started")
    assert (default.baseline_items, default.added_items, default.added_points) == (2, 1, 2.0)
    assert default.percent_items == 50.0 and [r.key for r in default.added] == ["WID-3"]

    late = analyse(snap, [goal(sel, baseline_date=date(2026, 3, 12))], Settings(), day(20)).goals[0]
    assert late.progress.scope_change is not None
    assert late.progress.scope_change.added_items == 0 and late.progress.scope_change.baseline_items == 3
    started = analyse(snap, [goal(sel, start=date(2026, 3, 1))], Settings(), day(20)).goals[0]
    assert started.progress.scope_change is not None
    assert started.progress.scope_change.baseline_reason == "goal start date"
    assert started.progress.scope_change.added_items == 3


def test_goal_progress_end_to_end() -> None:
    snap = _goal_world().snapshot()
    g = analyse(snap, [goal(Selector(projects=("WID",)))], Settings(), day(20)).goals[0]
    c = g.progress.counts
    assert (c.items_done, c.items_in_progress, c.items_todo) == (1, 1, 1)
    assert round(c.percent_points or 0, 1) == 30.0
    assert [r.key for r in g.progress.remaining] == ["WID-2", "WID-3"]  # in progress first
    assert g.progress.burnup[-1].day == date(2026, 3, 22)
    assert (g.progress.burnup[-1].scope_items, g.progress.burnup[-1].done_items) == (3, 1)


def test_code_done_vs_delivered() -> None:
    p = Plan()
    j = [p.item() for _ in range(6)]
    shipped = p.version("1.0", released_at=day(9))
    j[4].release_ids = [shipped.id]
    p.pull("acme/widget", implements=j[0], state=PullState.MERGED, merged_at=day(2))
    p.gh_release("acme/widget", day(3))
    p.pull("acme/widget", implements=j[1], state=PullState.MERGED, merged_at=day(4))  # after the last release
    p.pull("acme/widget", implements=j[2])  # still open
    p.pull("acme/widget", implements=j[3], state=PullState.MERGED, merged_at=day(1))
    p.pull("acme/widget", implements=j[3])  # a second PR still open
    p.pull("acme/widget", implements=j[4], state=PullState.MERGED, merged_at=day(8))  # fix version released
    p.pull("acme/api", implements=j[5], state=PullState.MERGED, merged_at=day(5))  # repo without releases
    snap = p.snapshot()
    d = delivery(snap, j, ReleaseClock(snap))
    assert (d.items_with_prs, d.code_done, d.delivered, d.releases_tracked) == (6, 4, 3, True)
    assert [r.key for r in d.code_done_not_delivered] == [j[1].key]


def test_release_progress_and_ordering() -> None:
    p = Plan()
    v_late = p.version("2.0", due=date(2026, 5, 1))
    v_soon = p.version("1.1", due=date(2026, 4, 1))
    v_old = p.version("1.0", released_at=day(-100))  # released long before the window: not shown
    a, b = p.item(release_ids=[v_soon.id]), p.item(release_ids=[v_soon.id])
    p.item(release_ids=[v_late.id], kind="subtask")  # sub-tasks are not scope
    p.item(release_ids=[v_old.id])
    p.move(a, "Done", day(1))
    p.sprint(1, SprintState.FUTURE)
    an = analyse(p.snapshot(), [], Settings(), day(10))
    assert [r.release.name for r in an.releases] == ["1.1", "2.0"]
    soon = an.releases[0]
    assert soon.progress.counts.items_total == 2 and soon.progress.counts.items_done == 1
    assert [r.key for r in soon.progress.remaining] == [b.key]
    assert an.releases[1].progress.counts.items_total == 0 and an.releases[1].forecast.done
