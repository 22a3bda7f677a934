"""Critical path (CPM) and phase buffers, checked against hand calculations."""

from __future__ import annotations

from datetime import date

from syncd.model import ItemKind, Link, LinkKind, StatusCategory
from syncd.reports.analysis import analyse
from syncd.reports.analysis.critical_path import cpm, goal_critical_path
from syncd.reports.analysis.types import Forecast, PhaseForecast
from syncd.reports.data import Snapshot
from syncd.reports.goals import Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal


def test_forward_and_backward_pass_by_hand() -> None:
    # A(3) and B(2) feed C(4); B feeds D(1); C and D feed E(5)
    durations = {"A": 3.0, "B": 2.0, "C": 4.0, "D": 1.0, "E": 5.0}
    edges = [("A", "C"), ("B", "C"), ("C", "E"), ("B", "D"), ("D", "E")]
    result = cpm(durations, edges)
    # forward: A 0-3, B 0-2, C max(3, 2)=3 - 7, D 2-3, E max(7, 3)=7 - 12
    assert {n: (t.early_start, t.early_finish) for n, t in result.times.items()} == {
        "A": (0, 3), "B": (0, 2), "C": (3, 7), "D": (2, 3), "E": (7, 12)}
    # backward from 12: E 7-12, C 3-7, D 6-7, A 0-3, B min(LS C 3, LS D 6)=3 → LS 1
    assert {n: (t.late_start, t.late_finish) for n, t in result.times.items()} == {
        "A": (0, 3), "B": (1, 3), "C": (3, 7), "D": (6, 7), "E": (7, 12)}
    assert {n: t.slack for n, t in result.times.items()} == {"A": 0, "B": 1, "C": 0, "D": 4, "E": 0}
    assert result.path == ["A", "C", "E"] and result.length == 12 and result.cut == []


def test_a_cycle_is_cut_and_counted() -> None:
    result = cpm({"X": 1.0, "Y": 2.0}, [("X", "Y"), ("Y", "X")])
    assert result.cut == [("Y", "X")] and result.path == ["X", "Y"] and result.length == 3


def test_a_goals_critical_path_from_cycle_times_with_items_outside_the_goal_and_outside_the_store() -> None:
    p = Plan()
    a, b, c = p.item(), p.item(status="In Progress"), p.item()
    g = p.item(project="GAD")  # outside the goal: c waits on it
    done = p.item(status="Done")
    p.block(b, a)  # a waits on b
    p.block(g, c)  # c waits on g
    p.block(done, c)  # done blockers do not count
    p.links.append(Link(from_id=a.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-1", to_status="In Progress",
                        to_category=StatusCategory.IN_PROGRESS))
    snap = Snapshot.of(p.items.values(), links=p.links)
    now = day(10)
    started = {b.id: day(8)}  # b has been in progress 2 days
    cp = goal_critical_path(snap, [a.id, b.id, c.id, done.id], {"WID": 5.0, "GAD": 4.0}, None, started, now)
    # durations: a 5, b 5 - 2 = 3, c 5, g 4, OTHER-1 0 (not known)
    # forward: b 0-3, OTHER-1 0-0, a max(3, 0) = 3 - 8; g 0-4, c 4-9 → the path is g, c: 9 days
    assert [(s.key, s.duration, s.start, s.finish) for s in cp.steps] == [(g.key, 4.0, 0.0, 4.0), (c.key, 5.0, 4.0, 9.0)]
    assert cp.length == 9.0
    assert cp.items == 5 and cp.outside == 2 and cp.links == 3 and cp.cut == 0  # a, b, c + g, OTHER-1
    assert [s.in_goal for s in cp.steps] == [False, True] and cp.steps[0].basis == "p50 4"
    # with g quicker, a's chain (b then a: 3 + 5 = 8) leads, b's duration shown as p50 less its age
    cp = goal_critical_path(snap, [a.id, b.id, c.id], {"WID": 5.0, "GAD": 2.0}, None, started, now)
    assert [(s.key, s.duration, s.basis) for s in cp.steps] == [(b.key, 3.0, "p50 5 − 2 in progress"),
                                                              (a.key, 5.0, "p50 5")]
    assert cp.length == 8.0


def test_no_cycle_time_means_no_path_and_says_why() -> None:
    p = Plan()
    a = p.item()
    cp = goal_critical_path(Snapshot.of(p.items.values()), [a.id], {}, None, {}, day(1))
    assert cp.refused == "no cycle time measured for team WID" and cp.steps == []


def test_phase_buffer_is_p85_less_p50() -> None:
    fc = Forecast(remaining_items=3, trials=10, seed=1, history_weeks=8, history_start=None, history_end=None,
                  weekly_throughput=[1], p50=date(2026, 12, 1), p85=date(2026, 12, 15), p95=date(2026, 12, 22))
    assert PhaseForecast(epic=None, items=4, remaining=3, forecast=fc).buffer_days == 14
    refused = Forecast(remaining_items=3, trials=10, seed=1, history_weeks=0, history_start=None, history_end=None,
                       weekly_throughput=[], refused="too little history")
    assert PhaseForecast(epic=None, items=4, remaining=3, forecast=refused).buffer_days is None


def test_a_goals_phases_are_its_epics_each_with_its_own_forecast() -> None:
    p = Plan()
    e1, e2 = p.item(kind=ItemKind.EPIC), p.item(kind=ItemKind.EPIC)
    for k in range(12):  # a steady history: one item a week done, in either epic
        item = p.item(created=day(0), epic_id=(e1 if k % 2 else e2).id, epic_key=(e1 if k % 2 else e2).key)
        p.move(item, "In Progress", day(7 * k + 1))
        p.move(item, "Done", day(7 * k + 3))
    left1 = [p.item(created=day(0), epic_id=e1.id, epic_key=e1.key) for _ in range(3)]
    p.item(created=day(0), epic_id=e2.id, epic_key=e2.key)
    loose = p.item(created=day(0))
    g = goal(Selector(projects=("WID",)), target=date(2026, 12, 31))
    an = analyse(p.snapshot(), [g], Settings(), day(7 * 12 + 1))
    assert an.goals[0].phase_forecasts._make is not None  # only the timeline shows them: worked out when read
    phases = an.goals[0].phases
    assert an.goals[0].phase_forecasts._make is None and an.goals[0].phases is phases  # then kept
    assert [ph.epic.key if ph.epic else None for ph in phases] == [e1.key, e2.key, None]
    assert [(ph.items, ph.remaining) for ph in phases] == [(6 + len(left1), 3), (6 + 1, 1), (1, 1)]
    assert sum(ph.items for ph in phases) == an.goals[0].progress.counts.items_total
    for ph in phases:
        fc = ph.forecast
        assert fc.ok and fc.remaining_items == ph.remaining
        assert ph.buffer_days == (fc.p85 - fc.p50).days  # type: ignore[operator]
    assert loose.epic_id is None
    # each phase is forecast on its own: three items left in e1 take at least as long as one in e2
    assert phases[0].forecast.p50 >= phases[1].forecast.p50  # type: ignore[operator]


# Configured teams (follow-up of issues 12/14/16): a team spanning two projects is one team on the path.
#   done: WID-w1 in progress day 0 → done day 2 (cycle 2), WID-w2 day 1 → 7 (6), GAD-g1 day 2 → 6 (4),
#         OPS-o1 day 3 → 6 (3)
#   open: OPS c blocks GAD b, b blocks WID a; a also waits on EXT-9 (not synced, In Progress)
# [teams.web] lists WID, GAD and the unsynced EXT; OPS is in no team.
def _teams_path_world() -> tuple[Plan, list[str]]:
    p = Plan()
    for project, start, end in (("WID", 0, 2), ("WID", 1, 7), ("GAD", 2, 6), ("OPS", 3, 6)):
        done = p.item(project=project, created=day(-1), labels=["old"])
        p.move(done, "In Progress", day(start))
        p.move(done, "Done", day(end))
    a = p.item(project="WID", labels=["g"])
    b = p.item(project="GAD", labels=["g"])
    c = p.item(project="OPS", labels=["g"])
    p.block(b, a)
    p.block(c, b)
    p.links.append(Link(from_id=a.id, kind=LinkKind.BLOCKED_BY, to_key="EXT-9", to_status="In Progress",
                        to_category=StatusCategory.IN_PROGRESS))
    return p, [c.key, b.key, a.key]


def _path_rows(teams: dict[str, object] | None) -> list[list[str]]:
    from syncd.reports.catalogue.base import ReportInput
    from syncd.reports.catalogue.catalogue import render_report

    p, _ = _teams_path_world()
    snap = p.snapshot()
    now = day(20)
    analysis = analyse(snap, [goal(Selector(labels=("g",)))], Settings(), now, teams=teams)  # type: ignore[arg-type]
    md = render_report("timeline", None, ReportInput(analysis=analysis, snapshot=snap, now=now)).markdown
    table = md[md.index("| Step | Item |"):].split("\n\n")[0].splitlines()[2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in table]


def test_the_critical_path_names_the_configured_team_and_takes_its_cycle_time() -> None:
    from syncd.reports.goals import Team

    _, (c, b, a) = _teams_path_world()
    rows = _path_rows({"web": Team(projects=("WID", "GAD", "EXT"))})
    # web's cycle times 2, 6, 4 -> sorted 2 4 6, p50 = rank ceil(0.5 × 3) = 2nd = 4; OPS (no team): 3.
    # c 0-3, b 3-7, a 7-11 (EXT-9 0-0 finishes before b): the path c, b, a, 11 days
    assert [(r[0], r[1].split("]")[0].lstrip("["), r[3], r[4]) for r in rows] == [
        ("1", c, "OPS", "3 (p50 3)"), ("2", b, "web", "4 (p50 4)"), ("3", a, "web", "4 (p50 4)")]
    assert [(r[5], r[6]) for r in rows] == [("0", "3"), ("3", "7"), ("7", "11")]


def test_without_teams_the_critical_path_is_per_project_as_before() -> None:
    _, (c, b, a) = _teams_path_world()
    rows = _path_rows(None)
    # WID 2, 6 -> p50 1st = 2; GAD 4; OPS 3: c 0-3, b 3-7, a 7-9
    assert [(r[1].split("]")[0].lstrip("["), r[3], r[4], r[6]) for r in rows] == [
        (c, "OPS", "3 (p50 3)", "3"), (b, "GAD", "4 (p50 4)", "7"), (a, "WID", "2 (p50 2)", "9")]


def test_an_unsynced_far_end_on_the_path_is_the_team_that_lists_its_project() -> None:
    from syncd.reports.goals import Team

    p = Plan()
    done = p.item(created=day(-1))
    p.move(done, "In Progress", day(0))
    p.move(done, "Done", day(2))
    a = p.item()
    p.links.append(Link(from_id=a.id, kind=LinkKind.BLOCKED_BY, to_key="EXT-9", to_status="In Progress",
                        to_category=StatusCategory.IN_PROGRESS))
    snap = Snapshot.of(p.items.values(), links=p.links, transitions=p.transitions)
    teams = analyse(snap, [], Settings(), day(20), teams={"web": Team(projects=("WID", "EXT"))}).teams
    cp = goal_critical_path(snap, [a.id], {"web": 2.0}, None, {}, day(20), teams)
    # EXT-9 (0 days, not known) then a (2): both web's
    assert [(s.key, s.team, s.duration) for s in cp.steps] == [("EXT-9", "web", 0.0), (a.key, "web", 2.0)]
    cp = goal_critical_path(snap, [a.id], {"WID": 2.0}, None, {}, day(20))
    assert [(s.key, s.team) for s in cp.steps] == [("EXT-9", "EXT"), (a.key, "WID")]


def test_flow_by_team_is_the_configured_teams_and_by_project_without_them() -> None:
    from syncd.reports.goals import Team

    p, _ = _teams_path_world()
    snap = p.snapshot()
    web = analyse(snap, [], Settings(), day(20), teams={"web": Team(projects=("WID", "GAD"))}).flow
    # web: cycles 2, 6 (WID) and 4 (GAD) -> 3 finished, p50 4, p85 rank ceil(2.55) = 3rd = 6; OPS alone: 3
    assert sorted(web.by_team) == ["OPS", "web"]
    cycle = web.by_team["web"].cycle_time_days
    assert cycle is not None and (cycle.count, cycle.p50, cycle.p85) == (3, 4.0, 6.0)
    assert sum(w.count for w in web.by_team["web"].throughput) == 3
    assert sorted(web.by_project) == ["GAD", "OPS", "WID"]  # per project as before
    plain = analyse(snap, [], Settings(), day(20)).flow
    assert plain.by_team == plain.by_project
