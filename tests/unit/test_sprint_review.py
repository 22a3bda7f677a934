"""Sprint review rules on hand-built sprints: goal verdict and its rule, a goal carried verbatim into
the next sprint, statuses as at sprint end, the burndown's start, and the velocity trend."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.model import Sprint, SprintState
from syncd.reports.analysis import sprint_goal
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.sprint_goal import goal_verdict, velocity_trend
from syncd.reports.analysis.sprints import sprint_reports
from syncd.reports.analysis.types import SprintReport
from syncd.reports.catalogue.derive import burndown
from syncd.reports.data import Snapshot
from tests.reports_world import build_world
from tests.unit.analysis_factories import Plan, day
from tests.unit.test_reports_catalogue import _input


def _world(goal5: str, goal6: str | None, labelled: bool) -> Plan:
    p = Plan()
    s5 = p.sprint(5, SprintState.CLOSED, start=day(0), end=day(14), complete=day(14), goal=goal5)
    s6 = p.sprint(6, SprintState.ACTIVE, start=day(14), end=day(28), goal=goal6)
    a = p.item("WID-1", points=3, created=day(-5), labels=["sprint-goal"] if labelled else [])
    b = p.item("WID-2", points=5, created=day(-5), labels=["sprint-goal"] if labelled else [])
    c = p.item("WID-3", points=20, created=day(-5))
    for it in (a, b, c):
        p.set_sprints(it, [s5], day(-1))
    p.move(a, "Done", day(3))
    p.move(c, "Done", day(9))
    p.move(b, "In Progress", day(4))
    p.set_sprints(b, [s5, s6], day(14))
    p.move(b, "Done", day(16))  # done after the sprint: Done today, In Progress at sprint end
    return p


def _sprint5(p: Plan):
    snap = p.snapshot()
    reps = {r.sprint.name: r for r in sprint_reports(snap, Histories(snap), day(20), velocity_sprints=3)}
    return snap, reps["Sprint 5"]


def test_goal_items_decide_the_verdict_not_the_points_share() -> None:
    snap, rep = _sprint5(_world("Ship signup", None, labelled=True))
    v = goal_verdict(snap, rep)
    # 23 of 28 committed points (82%) were done, but one of the two goal items was not: not met
    assert v.rule == "labelled" and [e.item.key for e in v.items] == ["WID-1", "WID-2"]
    assert v.met is False and [e.item.key for e in v.done_items] == ["WID-1"]
    assert rep.not_completed[0].status_at_end == "In Progress"  # today it is Done


def test_without_goal_items_the_verdict_is_90_percent_of_committed_points() -> None:
    snap, rep = _sprint5(_world("Ship signup", None, labelled=False))
    v = goal_verdict(snap, rep)
    assert v.rule == "committed points" and v.done_points == 3 + 20 and v.total_points == 28
    assert v.met is False  # 23 / 28 = 82% < 90%


def test_both_verdict_rules_count_points_as_committed_at_sprint_start() -> None:
    p = _world("Ship signup", None, labelled=True)
    p.estimate(next(i for i in p.items.values() if i.key == "WID-1"), 8, day(2))  # re-estimated 3 -> 8 mid-sprint
    snap, rep = _sprint5(p)
    v = goal_verdict(snap, rep)
    # goal items WID-1 (3 at start) and WID-2 (5): the re-estimate to 8 moves neither figure
    assert v.rule == "labelled" and v.done_points == 3 and v.total_points == 3 + 5
    fallback = goal_verdict(*_sprint5(_relabel(p)))
    assert fallback.rule == "committed points" and fallback.done_points == 3 + 20 and fallback.total_points == 28


def _relabel(p: Plan) -> Plan:
    for item in p.items.values():
        item.labels = []
    return p


def test_goal_text_repeated_in_the_next_sprint_is_carried_not_met() -> None:
    snap, rep = _sprint5(_world("Ship  signup", "ship signup", labelled=False))
    v = goal_verdict(snap, rep)
    assert v.carried_into == "Sprint 6" and v.met is False


def test_rule_text_agrees_with_one_or_many_items() -> None:
    v = goal_verdict(*_sprint5(_world("Ship signup", None, labelled=True)))
    assert v.rule_text == "the 2 items labelled sprint-goal: met when every one was done at sprint end"
    v = goal_verdict(*_sprint5(_world("Ship signup: WID-3", None, labelled=False)))
    assert v.rule == "named" and v.rule_text == "the one item the goal names: met when it was done at sprint end"
    assert v.met is True  # WID-3 was done on day 9
    v = goal_verdict(*_sprint5(_world("Ship signup", None, labelled=False)))
    assert v.rule_text.startswith("no item is labelled sprint-goal or named in the goal, so all 3 committed items: ")


def test_velocity_trend_is_the_least_squares_slope_of_completed_points() -> None:
    p = Plan()
    completed = [10, 14, 18, 16]
    for n, pts in enumerate(completed):
        s = p.sprint(n + 1, SprintState.CLOSED, start=day(14 * n), end=day(14 * n + 14), complete=day(14 * n + 14))
        it = p.item(points=pts, created=day(14 * n - 1))
        p.set_sprints(it, [s], day(14 * n - 1))
        p.move(it, "Done", day(14 * n + 5))
    snap = p.snapshot()
    t = velocity_trend(snap, Histories(snap), "jira:sprint:4", day(100))
    assert [(x.committed, x.completed) for x in t.points] == [(10, 10), (14, 14), (18, 18), (16, 16)]
    # by hand: xbar 1.5, ybar 14.5; sum (x-xbar)(y-ybar) = 6.75+0.25+1.75+2.25 = 11; sum (x-xbar)^2 = 5
    assert t.mean == 14.5 and t.slope == 11 / 5 and t.direction == "rising"


def test_velocity_trend_and_sprint_review_agree_on_a_hand_built_sprint(monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's sprint figures and its velocity chart's point for that sprint are one computation."""
    p = Plan()
    s1 = p.sprint(1, SprintState.CLOSED, start=day(0), end=day(14), complete=day(14))
    s2 = p.sprint(2, SprintState.CLOSED, start=day(14), end=day(28), complete=day(28))
    a, b, c = p.item(points=3, created=day(-1)), p.item(points=5, created=day(-1)), p.item(points=2, created=day(-1))
    p.set_sprints(a, [s1], day(-1))
    p.set_sprints(b, [s1], day(-1))
    p.move(a, "Done", day(4))
    p.estimate(b, 8, day(3))  # re-estimated: committed at 5 (start), carried at 8
    p.set_sprints(c, [s1], day(2))  # added after the start: not committed
    p.move(c, "Done", day(6))
    p.set_sprints(b, [s2], day(14))
    p.move(b, "Done", day(20))
    snap = p.snapshot()
    hist = Histories(snap)
    reports = sprint_reports(snap, hist, day(40), velocity_sprints=3)
    review = next(r for r in reports if r.sprint.id == s2.id)
    # by hand: sprint 1 committed a 3 + b 5 = 8, completed a 3 + c 2 = 5; sprint 2 committed b at 8, completed 8
    assert (review.committed_points, review.completed_points) == (8, 8)
    computed: list[str] = []
    real = sprint_goal.sprint_figures

    def counted(snap_: Snapshot, hist_: Histories, sprint: Sprint, *args: object) -> SprintReport:
        computed.append(sprint.id)
        return real(snap_, hist_, sprint, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sprint_goal, "sprint_figures", counted)
    trend = velocity_trend(snap, hist, s2.id, day(40), known={r.sprint.id: r for r in reports})
    assert [(x.sprint, x.committed, x.completed) for x in trend.points] == [("Sprint 1", 8, 5), ("Sprint 2", 8, 8)]
    assert computed == []  # both sprints were in the analysis: nothing recomputed
    alone = velocity_trend(snap, hist, s2.id, day(40), known={review.sprint.id: review})
    assert [(x.committed, x.completed) for x in alone.points] == [(8, 5), (8, 8)] and computed == [s1.id]


def test_burndown_starts_at_the_commitment_at_sprint_start(tmp_path: Path) -> None:
    inp = _input(build_world(), tmp_path, scope="WID Sprint 4")
    rep = next(r for r in inp.analysis.sprints if r.sprint.name == "WID Sprint 4")
    series = burndown(inp, rep)
    assert series is not None
    days, remaining = series
    snap = inp.snapshot
    # by hand from the items: points at start of what was in the sprint then and not done
    sprint = snap.sprint_by_id[rep.sprint.id]
    hist = Histories(snap)
    want = sum(hist.points_at(i, sprint.start) or 0 for i in snap.items
               if hist.in_sprint_at(i, sprint.id, sprint.start) and not hist.done_at(i, sprint.start)
               and i.kind.value in ("story", "task", "bug", "issue"))
    assert remaining[0] == want == rep.committed_points
    assert days[0] == sprint.start.astimezone(inp.tz).date()
