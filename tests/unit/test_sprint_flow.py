"""Sprint flow (issue 16 item 5) on a hand-built sprint: throughput, cycle time p50/p85, WIP per day
and its mean, and the cumulative flow diagram's counts per day — every figure worked out by hand
below from the fixture's dates (T0 is Monday 2026-03-02 09:00 UTC; the report zone is UTC).

Sprint 5 runs day 0 → day 14. Items (all WID, in the sprint from day −1 unless said):
  A  in progress day 1, done day 4          cycle 3
  B  in progress day 2, review day 5, done day 9.5   cycle 7.5
  C  in progress day 3, done day 12         cycle 9
  D  in progress day 6, still open at the end
  E  to do throughout
  F  added on day 7, in progress day 8, done day 10  cycle 2
  I  removed from the sprint on day 5, to do
  G  not in the sprint (same team): in progress day −3, done day 2   cycle 5
  H  done on day −2, before the sprint: not part of it
"""

from __future__ import annotations

from datetime import UTC, date

import pytest

from syncd.model import SprintState
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.sprint_flow import cumulative_flow, sprint_days, team_flow
from syncd.reports.analysis.sprints import sprint_reports
from tests.unit.analysis_factories import Plan, day


def sprint_world() -> Plan:
    p = Plan()
    s5 = p.sprint(5, SprintState.CLOSED, start=day(0), end=day(14), complete=day(14))
    items = {k: p.item(f"WID-{n}", points=3, created=day(-5)) for n, k in enumerate("ABCDEFGHI", start=1)}
    for k in "ABCDEHI":
        p.set_sprints(items[k], [s5], day(-1))
    p.set_sprints(items["F"], [s5], day(7))
    p.set_sprints(items["I"], [], day(5))
    steps = {"A": [("In Progress", 1), ("Done", 4)], "B": [("In Progress", 2), ("In Review", 5), ("Done", 9.5)],
             "C": [("In Progress", 3), ("Done", 12)], "D": [("In Progress", 6)],
             "F": [("In Progress", 8), ("Done", 10)], "G": [("In Progress", -3), ("Done", 2)],
             "H": [("In Progress", -4), ("Done", -2)]}
    for k, moves in sorted(steps.items(), key=lambda kv: kv[1][0][1]):
        for status, when in moves:
            p.move(items[k], status, day(when))
    return p


def _flow():
    p = sprint_world()
    snap = p.snapshot()
    hist = Histories(snap)
    team = [i for i in snap.scope_items if i.project == "WID"]
    return team_flow("WID", team, hist, day(0), day(14), UTC)


def test_sprint_days_are_the_calendar_days_read_at_their_end() -> None:
    days = sprint_days(day(0), day(14), UTC)
    assert [d for d, _ in days] == [date(2026, 3, 2 + k) for k in range(15)]  # Mon 2 March .. Mon 16 March
    assert days[0][1] == day(15 / 24) and days[-1][1] == day(14)  # midnight after day 0; the sprint's end


def test_throughput_counts_the_teams_items_finished_in_the_sprint_per_week() -> None:
    f = _flow()
    # A (day 4), G (day 2) in the first week; B (9.5), F (10), C (12) in the second; H finished before
    assert f.finished == 5 and f.weekly == [2, 3]
    assert f.days == 14 and f.per_week == pytest.approx(5 / 2)


def test_cycle_time_is_start_to_done_with_nearest_rank_percentiles() -> None:
    f = _flow()
    assert f.cycle_days == [2.0, 3.0, 5.0, 7.5, 9.0]  # F, A, G, B, C
    assert f.cycle is not None
    assert f.cycle.p50 == 5.0  # rank ceil(0.50 × 5) = 3rd
    assert f.cycle.p85 == 9.0  # rank ceil(0.85 × 5) = 5th


def test_wip_is_the_items_in_progress_at_each_days_end_and_their_mean() -> None:
    f = _flow()
    # day k is read at k + 15 h (midnight after it), the last day at the sprint's end (day 14):
    # k=0 G; 1 A,G; 2 A,B; 3 A,B,C; 4-5 B,C; 6-7 B,C,D; 8 B,C,D,F; 9 C,D,F; 10-11 C,D; 12-14 D
    assert f.wip_daily == [1, 2, 2, 3, 2, 2, 3, 3, 4, 3, 2, 2, 1, 1, 1]
    assert f.wip_average == pytest.approx(32 / 15)


def test_cumulative_flow_counts_the_sprints_items_by_category_as_they_were_each_day() -> None:
    p = sprint_world()
    snap = p.snapshot()
    hist = Histories(snap)
    rep = next(r for r in sprint_reports(snap, hist, day(20), 3) if r.sprint.name == "Sprint 5")
    ids = {e.item.id for part in (rep.committed, rep.added, rep.removed) for e in part}
    assert sorted(snap.item_by_id[i].key for i in ids) == ["WID-1", "WID-2", "WID-3", "WID-4", "WID-5", "WID-6",
                                                           "WID-9"]  # A-F and I; H was done before the start
    cfd = cumulative_flow([snap.item_by_id[i] for i in ids], hist, rep.sprint.id, day(0), day(14), UTC)
    got = [(d.todo, d.in_progress, d.done) for d in cfd]
    assert got == [
        (6, 0, 0),  # 2 Mar: A B C D E I to do
        (5, 1, 0),  # A started
        (4, 2, 0),  # B
        (3, 3, 0),  # C
        (3, 2, 1),  # A done
        (2, 2, 1),  # I removed on day 5
        (1, 3, 1),  # D started
        (2, 3, 1),  # F added, to do
        (1, 4, 1),  # F started
        (1, 3, 2),  # B done (day 9.5)
        (1, 2, 3),  # F done
        (1, 2, 3),
        (1, 1, 4),  # C done
        (1, 1, 4),
        (1, 1, 4),  # 16 Mar, read at the sprint's end
    ]
    assert [d.total for d in cfd] == [6, 6, 6, 6, 6, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6]


def test_the_retrospective_shows_the_flow_table_and_the_cumulative_flow_by_day() -> None:
    from syncd.reports.analysis import analyse
    from syncd.reports.catalogue.base import ReportInput
    from syncd.reports.catalogue.catalogue import render_report
    from tests.unit.analysis_factories import Settings

    p = sprint_world()
    snap = p.snapshot()
    now = day(20)
    analysis = analyse(snap, [], Settings(), now)  # type: ignore[arg-type]
    built = render_report("retrospective", None, ReportInput(analysis=analysis, snapshot=snap, now=now, scope="Sprint 5"))
    md = built.markdown
    # the hand-computed figures above: 5 finished, 2.5 a week (2 then 3), p50 5 and p85 9 days, WIP 32/15 = 2.1
    assert "| WID | 5 | 2.5 (week 1: 2, week 2: 3) | 5 | 9 | 2.1 (fewest 1, most 4) |" in md
    assert "(14 days)" in md and "per week = items finished ÷ (14 days ÷ 7)" in md
    assert "| 2026-03-02 | 6 | 0 | 0 | 6 |" in md
    assert "| 2026-03-07 | 2 | 2 | 1 | 5 |" in md  # day 5: I removed
    assert "| 2026-03-09 | 2 | 3 | 1 | 6 |" in md  # day 7: F added
    assert "| 2026-03-16 | 1 | 1 | 4 | 6 |" in md
    assert any("-cfd-" in name for name in built.charts), list(built.charts)
    assert all(png.startswith(b"\x89PNG") for png in built.charts.values())


def test_the_retrospective_shows_carried_items_as_they_were_at_sprint_end() -> None:
    from syncd.reports.analysis import analyse
    from syncd.reports.catalogue.base import ReportInput
    from syncd.reports.catalogue.catalogue import render_report
    from tests.unit.analysis_factories import Settings

    p = sprint_world()
    d = next(i for i in p.items.values() if i.key == "WID-4")
    p.move(d, "Done", day(16))  # D: In Progress when Sprint 5 ended, Done today
    snap = p.snapshot()
    analysis = analyse(snap, [], Settings(), day(20))  # type: ignore[arg-type]
    md = render_report("retrospective", None, ReportInput(analysis=analysis, snapshot=snap, now=day(20),
                                                          scope="Sprint 5")).markdown
    carried = md[md.index("## Carried over"):]
    assert "Statuses as they were when the sprint ended." in carried
    row = next(line for line in carried.splitlines() if "WID-4" in line)
    assert "| In Progress |" in row and "| Done |" not in row


# Configured teams (issue 16 item 5 follow-up). The same Sprint 5 with three more projects' items:
#   J  GAD, in the sprint: in progress day 1, done day 6     cycle 5
#   K  GAD, in the sprint: in progress day 4, still open at the end
#   L  GAD, not in the sprint: in progress day 9, done day 13  cycle 4
#   M  OPS, in the sprint: in progress day 2, done day 3     cycle 1
#   N  PAY, not in the sprint: done day 5 (PAY has no item in the sprint: no row)
# [teams.web] holds WID and GAD, [teams.ops] nothing here; OPS is in no team.
def teams_world() -> Plan:
    p = sprint_world()
    s5 = p.sprints["jira:sprint:5"]
    new = {k: p.item(key, points=3, created=day(-5), project=key.split("-")[0])
           for k, key in zip("JKLMN", ("GAD-1", "GAD-2", "GAD-3", "OPS-1", "PAY-1"), strict=True)}
    for k in "JKM":
        p.set_sprints(new[k], [s5], day(-1))
    for k, moves in {"J": [("In Progress", 1), ("Done", 6)], "K": [("In Progress", 4)],
                     "L": [("In Progress", 9), ("Done", 13)], "M": [("In Progress", 2), ("Done", 3)],
                     "N": [("In Progress", 4), ("Done", 5)]}.items():
        for status, when in moves:
            p.move(new[k], status, day(when))
    return p


def _teams_retro(teams: dict[str, object] | None) -> str:
    from syncd.reports.analysis import analyse
    from syncd.reports.catalogue.base import ReportInput
    from syncd.reports.catalogue.catalogue import render_report
    from tests.unit.analysis_factories import Settings

    snap = teams_world().snapshot()
    now = day(20)
    analysis = analyse(snap, [], Settings(), now, teams=teams)  # type: ignore[arg-type]
    return render_report("retrospective", None,
                         ReportInput(analysis=analysis, snapshot=snap, now=now, scope="Sprint 5")).markdown


def _rows(md: str) -> list[str]:
    flow = md[md.index("## Flow"):md.index("### Cumulative flow")]
    return [line for line in flow.splitlines() if line.startswith("| ") and not line.startswith(("| Team", "| ---"))]


def test_with_teams_two_projects_of_one_team_make_one_row_of_their_union() -> None:
    from syncd.reports.goals import Team

    md = _teams_retro({"ops": Team(projects=("OPS-NOT",)), "web": Team(projects=("WID", "GAD"))})
    # web = WID's A B C F G (done days 4, 2, 9.5, 10, 12) + GAD's J (6) and L (13): 7 finished,
    # week 1 (days 0-7): G A J = 3, week 2: B F C L = 4; 7 ÷ (14 ÷ 7) = 3.5 a week.
    # cycle times sorted 2 3 4 5 5 7.5 9: p50 = rank ceil(0.5 × 7) = 4th = 5, p85 = rank ceil(5.95) = 6th = 7.5.
    # WIP per day end (read at k + 15 h, the last at day 14): WID's 1 2 2 3 2 2 3 3 4 3 2 2 1 1 1 plus
    # J on k = 1..5, K on k = 4..14, L on k = 9..12 -> 1 3 3 4 4 4 4 4 5 5 4 4 3 2 2, sum 52, 52/15 = 3.47
    # OPS's M alone: 1 finished in week 1, 0.5 a week, cycle 1, in progress only at k = 2's end: 1/15 = 0.07
    assert _rows(md) == [
        "| web (GAD, WID) | 7 | 3.5 (week 1: 3, week 2: 4) | 5 | 7.5 | 3.5 (fewest 1, most 5) |",
        "| not in a configured team (OPS) | 1 | 0.5 (week 1: 1, week 2: 0) | 1 | 1 | 0.1 (fewest 0, most 1) |",
    ]
    assert "a team is a configured team (`[teams]`" in md
    assert "a team is a project of the sprint's items" not in md


def test_a_team_holds_items_by_board_and_the_rest_of_its_projects_stay_outside() -> None:
    from syncd.reports.goals import Team

    # web holds Board 1's items now (Sprint 5's: A-F, J, K, M) but no project: G, H, L, N were never on a
    # board and I left it on day 5. web = A B C F (done 4, 9.5, 10, 12) + J (6) + M (3): 6 finished,
    # week 1: A J M = 3, week 2: B F C = 3; cycle 1 2 3 5 7.5 9: p50 = 3rd = 3, p85 = rank ceil(5.1) = 6th = 9.
    # WIP: WID's daily counts without G (k = 0, 1) 0 1 2 3 2 2 3 3 4 3 2 2 1 1 1, plus J (k = 1..5), K (4..14),
    # M (2) -> 0 2 4 4 4 4 4 4 5 4 3 3 2 2 2, sum 47, 47/15 = 3.13.
    # The sprint's items no team holds: I (WID), so the other row is WID's items outside web: G (done day 2,
    # cycle 5, in progress at k = 0 and 1: 2/15 = 0.13), H (done before the sprint), I (to do). GAD's L is no
    # sprint item's project outside the team: no row for it.
    assert _rows(_teams_retro({"web": Team(boards=("Board 1",))})) == [
        "| web (GAD, OPS, WID) | 6 | 3 (week 1: 3, week 2: 3) | 3 | 9 | 3.1 (fewest 0, most 5) |",
        "| not in a configured team (WID) | 1 | 0.5 (week 1: 1, week 2: 0) | 5 | 5 | 0.1 (fewest 0, most 1) |",
    ]


def test_without_teams_each_project_of_the_sprint_is_a_row() -> None:
    md = _teams_retro(None)
    rows = _rows(md)
    # WID exactly as above (the new items are other projects'); GAD = J and L; OPS = M; PAY: no sprint item
    assert [r.split(" | ")[0] for r in rows] == ["| GAD", "| OPS", "| WID"]
    assert rows[0].startswith("| GAD | 2 | 1 (week 1: 1, week 2: 1) | 4 | 5 |")  # cycles 4, 5: p50 1st, p85 2nd
    assert rows[2] == "| WID | 5 | 2.5 (week 1: 2, week 2: 3) | 5 | 9 | 2.1 (fewest 1, most 4) |"
    assert "a team is a project of the sprint's items" in md
