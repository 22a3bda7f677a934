"""Sprint reports rebuilt from the changelog, following the rules of Jira's sprint report."""

from __future__ import annotations

from syncd.model import ItemKind, SprintState, WorkItem
from syncd.reports.analysis import analyse
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.sprints import sprint_reports
from syncd.reports.goals import Capacity
from tests.unit.analysis_factories import Plan, Settings, day


def _keys(entries: list) -> list[str]:
    return [e.item.key for e in entries]


def jira_sprint_scenario() -> tuple[Plan, dict[str, WorkItem]]:
    """Sprint 5 runs day 0 to day 14; every Jira sprint-report case appears once."""
    p = Plan()
    s5 = p.sprint(5, SprintState.CLOSED, start=day(0), end=day(14), complete=day(14), goal="Ship signup")
    s6 = p.sprint(6, SprintState.ACTIVE, start=day(14), end=day(28))
    it: dict[str, WorkItem] = {}
    it["A"] = p.item("WID-1", points=3, created=day(-5))  # committed, completed
    it["B"] = p.item("WID-2", points=5, created=day(-5))  # committed, re-estimated, carried over
    it["C"] = p.item("WID-3", points=2, created=day(-5))  # added after start, completed
    it["D"] = p.item("WID-4", points=1, created=day(-5))  # committed, removed mid-sprint
    it["E"] = p.item("WID-5", points=8, created=day(-5))  # done before the sprint started
    it["F"] = p.item("WID-6", points=13, created=day(-5))  # never in the sprint
    it["G"] = p.item("WID-7", points=1, created=day(-5))  # added, then removed
    it["H"] = p.item("WID-8", points=3, created=day(-5), kind=ItemKind.SUBTASK)  # sub-tasks are left out
    for k in ("A", "B", "D", "E", "H"):
        p.set_sprints(it[k], [s5], day(-1))
    p.move(it["E"], "Done", day(-2))
    p.move(it["A"], "In Progress", day(1))
    p.move(it["A"], "Done", day(5))
    p.estimate(it["B"], 8, day(3))
    p.move(it["B"], "In Progress", day(4))
    p.set_sprints(it["C"], [s5], day(2))
    p.move(it["C"], "Done", day(10))
    p.set_sprints(it["D"], [], day(4))
    p.set_sprints(it["G"], [s5], day(6))
    p.set_sprints(it["G"], [], day(8))
    p.set_sprints(it["B"], [s5, s6], day(14))  # closing the sprint moves B on (Jira keeps the closed sprint)
    p.move(it["D"], "Done", day(20))  # done later, elsewhere: not this sprint's
    return p, it


def test_sprint_report_follows_jira_rules() -> None:
    p, _ = jira_sprint_scenario()
    snap = p.snapshot()
    reports = {r.sprint.name: r for r in sprint_reports(snap, Histories(snap), day(20), velocity_sprints=3)}
    r = reports["Sprint 5"]
    assert r.sprint.goal == "Ship signup" and r.sprint.state == "closed"
    assert _keys(r.committed) == ["WID-1", "WID-2", "WID-4"]
    assert r.committed_points == 3 + 5 + 1  # B counts 5, its points at the start, not 8
    assert _keys(r.added) == ["WID-3", "WID-7"] and r.added_points == 2 + 1
    assert _keys(r.removed) == ["WID-4", "WID-7"] and r.removed_points == 1 + 1
    assert _keys(r.completed) == ["WID-1", "WID-3"] and r.completed_points == 3 + 2
    assert _keys(r.not_completed) == ["WID-2"] and r.not_completed_points == 8  # estimate at the end
    assert _keys(r.completed_outside) == ["WID-5"]
    b = r.not_completed[0]
    assert (b.points_at_start, b.points_at_end, b.added_after_start, b.done) == (5, 8, False, False)
    c = r.added[0]
    assert c.added_after_start and c.done and c.points_at_start == 2


def test_active_sprint_counts_so_far_and_carried_item_is_committed_at_start() -> None:
    p, _ = jira_sprint_scenario()
    snap = p.snapshot()
    reports = {r.sprint.name: r for r in sprint_reports(snap, Histories(snap), day(20), velocity_sprints=3)}
    r6 = reports["Sprint 6"]
    assert _keys(r6.committed) == ["WID-2"] and r6.committed_points == 8
    assert _keys(r6.not_completed) == ["WID-2"] and r6.completed == []
    # Sprint 5's completed points are Sprint 6's velocity
    assert r6.velocity_average == 5 and r6.velocity_sprints == ["Sprint 5"]
    assert r6.commitment_percent == 8 / 5 * 100 and r6.commitment_basis == "velocity"


def test_velocity_averages_the_last_n_closed_sprints_of_the_board() -> None:
    p = Plan()
    done_points = [10, 20, 30, 40]
    sprints = []
    for n, pts in enumerate(done_points, start=1):
        s = p.sprint(n, SprintState.CLOSED, start=day(14 * n), end=day(14 * n + 14), complete=day(14 * n + 14))
        sprints.append(s)
        item = p.item(points=pts, created=day(14 * n - 1))
        p.set_sprints(item, [s], day(14 * n - 1))
        p.move(item, "Done", day(14 * n + 5))
    other_board = p.sprint(50, SprintState.CLOSED, start=day(60), end=day(70), complete=day(70), board="2")
    x = p.item(points=100, created=day(59))
    p.set_sprints(x, [other_board], day(59))
    p.move(x, "Done", day(65))
    active = p.sprint(5, SprintState.ACTIVE, start=day(84), end=day(98))
    for pts in (30, 30):
        item = p.item(points=pts, created=day(83))
        p.set_sprints(item, [active], day(83))
    snap = p.snapshot()
    reports = {r.sprint.name: r for r in sprint_reports(snap, Histories(snap), day(90), velocity_sprints=3)}
    r = reports["Sprint 5"]
    assert r.velocity_sprints == ["Sprint 2", "Sprint 3", "Sprint 4"]
    assert r.velocity_average == (20 + 30 + 40) / 3 == 30
    assert r.committed_points == 60 and r.commitment_percent == 200
    # closed sprints outside the window are not reported, but still count for velocity
    narrow = sprint_reports(snap, Histories(snap), day(90), velocity_sprints=3, weeks=2)
    assert [r.sprint.name for r in narrow] == ["Sprint 5"] and narrow[0].velocity_average == 30
    with_capacity = sprint_reports(snap, Histories(snap), day(90), 3, [Capacity(board="Board 1", points=75)])
    r = next(x for x in with_capacity if x.sprint.name == "Sprint 5")
    assert (r.capacity_points, r.commitment_basis, r.commitment_percent) == (75, "capacity", 80)
    named = [Capacity(board="1", points=75), Capacity(board="Board 1", sprint="Sprint 5", points=50)]
    r = next(x for x in sprint_reports(snap, Histories(snap), day(90), 3, named) if x.sprint.name == "Sprint 5")
    assert r.capacity_points == 50 and r.commitment_percent == 120


def test_sprint_order_and_next_future_sprint_uses_todays_plan() -> None:
    p, it = jira_sprint_scenario()
    s7 = p.sprint(7, SprintState.FUTURE)
    p.sprint(8, SprintState.FUTURE)
    p.set_sprints(it["F"], [s7], day(15))
    an = analyse(p.snapshot(), [], Settings(), day(20))
    assert [r.sprint.name for r in an.sprints] == ["Sprint 6", "Sprint 5", "Sprint 7"]
    r7 = an.sprints[2]
    assert _keys(r7.committed) == ["WID-6"] and r7.committed_points == 13
    assert r7.velocity_average == 5
    # Sprint 6 still holds WID-2's 8 points; at 5 points per 10 working days its 5 days left finish 2.5,
    # so 5.5 carry over against a capacity of 5 (the velocity): no headroom, no percentage to give
    assert r7.plan is not None and r7.plan.carry_over_points == 8 - 5 * 5 / 10 and r7.plan.headroom == 0
    assert r7.commitment_percent is None and r7.commitment_basis == "capacity after the likely carry-over"
