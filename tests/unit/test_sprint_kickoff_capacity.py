"""Kickoff capacity (issue 16 item 2): dates, members × days − days off × focus factor, the active
sprint's likely carry-over against it, and the velocity fallback with its assumption stated.

Every figure is worked out by hand below from the fixture's dates and points (T0 is a Monday)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.model import SprintState
from syncd.reports.analysis import analyse
from syncd.reports.analysis.capacity import working_days
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.sprints import sprint_reports
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.goals import Capacity, Team
from tests.unit.analysis_factories import Plan, Settings, day

NOW = day(38)  # Thursday of the active sprint's second week
TEAM = Team(boards=("Board 1",), members=("alice", "bob", "carol"),
            days_off={"Sprint 4": {"alice": 2}, "Sprint 7": {"bob": 3, "carol": 1.5}})


def board() -> Plan:
    """Sprints 4 and 5 closed (14 and 13 points done), 6 active (13 points open, 3 done), 7 future, no dates."""
    p = Plan()
    s4 = p.sprint(4, SprintState.CLOSED, start=day(0), end=day(14), complete=day(14))
    s5 = p.sprint(5, SprintState.CLOSED, start=day(14), end=day(28), complete=day(28))
    s6 = p.sprint(6, SprintState.ACTIVE, start=day(28), end=day(42))
    s7 = p.sprint(7, SprintState.FUTURE)
    for sprint, points, done_on in ((s4, (8, 6), 10), (s5, (13,), 24), (s6, (3,), 33)):
        for pts in points:
            it = p.item(points=pts, created=day(-5))
            p.set_sprints(it, [sprint], sprint.start - (day(1) - day(0)))
            p.move(it, "Done", day(done_on))
    for pts in (5, 8):  # open in the active sprint
        p.set_sprints(p.item(points=pts, created=day(-5)), [s6], day(27))
    p.set_sprints(p.item(points=2, created=day(-5), assignee=None), [s7], day(30))
    p.set_sprints(p.item(points=None, created=day(-5)), [s7], day(30))
    return p


def _plans(p: Plan, teams: dict[str, Team] | None = None, capacity: list[Capacity] | None = None) -> dict:
    snap = p.snapshot()
    return {r.sprint.name: r for r in sprint_reports(snap, Histories(snap), NOW, 3, capacity or [], teams=teams)}


def test_working_days_count_monday_to_friday_up_to_the_end_day() -> None:
    assert working_days(day(0), day(14)) == 10  # two full weeks
    assert working_days(day(38), day(42)) == 2  # Thursday and Friday
    assert working_days(day(5), day(7)) == 0  # a weekend


def test_capacity_from_members_days_off_and_measured_focus_factor_less_carry_over() -> None:
    r = _plans(board(), {"web": TEAM})["Sprint 7"]
    plan = r.plan
    assert plan is not None and plan.team == "web" and plan.members == 3
    # no dates in Jira: Sprint 6 ends day 42 and lasts 14 days, so Sprint 7 runs day 42 to day 56
    assert (plan.start, plan.end, plan.dates_inferred_from) == (day(42), day(56), "Sprint 6")
    assert plan.working_days == 10
    assert plan.days_off == 3 + 1.5 and plan.person_days == 3 * 10 - 4.5
    # focus factor measured on Sprints 4 and 5: (14 + 13) points / ((3×10 − 2) + 3×10) person-days
    assert plan.focus_factor == pytest.approx(27 / 58) and plan.focus_source == "Sprint 4, Sprint 5"
    assert plan.points == pytest.approx(25.5 * 27 / 58)
    # Sprint 6 has 5 + 8 open; at the mean velocity 13.5 over 10 working days, its 2 days left finish 2.7
    assert plan.carry_over_from == "Sprint 6" and plan.carry_over_open == 13
    assert plan.carry_over_points == pytest.approx(13 - 13.5 * 2 / 10)
    assert plan.headroom == pytest.approx(25.5 * 27 / 58 - 10.3)
    assert r.committed_points == 2
    assert r.commitment_percent == pytest.approx(100 * 2 / (25.5 * 27 / 58 - 10.3))
    assert r.commitment_basis == "capacity after the likely carry-over"


def test_configured_focus_factor_wins_and_a_days_off_longer_than_the_sprint_is_capped() -> None:
    team = Team(boards=("Board 1",), members=("alice", "bob"), focus_factor=0.8,
                days_off={"Sprint 7": {"alice": 12}})
    plan = _plans(board(), {"web": team})["Sprint 7"].plan
    assert plan is not None and plan.focus_source == "configured"
    assert plan.person_days == 2 * 10 - 10  # alice is away the whole sprint, not 12 days
    assert plan.points == pytest.approx(10 * 0.8)
    assert "configured" in plan.basis


def test_without_members_capacity_is_the_mean_velocity_and_says_so() -> None:
    plan = _plans(board())["Sprint 7"].plan
    assert plan is not None and plan.members == 0 and plan.points == pytest.approx(13.5)
    assert "no [teams] entry with members runs this board" in plan.basis
    assert "mean completed points of Sprint 4, Sprint 5" in plan.basis
    assert plan.headroom == pytest.approx(13.5 - 10.3)


def test_goals_file_capacity_wins_but_the_carry_over_still_counts() -> None:
    r = _plans(board(), {"web": TEAM}, [Capacity(board="Board 1", points=20)])["Sprint 7"]
    assert r.plan is not None and r.plan.points == 20 and r.plan.headroom == pytest.approx(20 - 10.3)
    assert r.commitment_percent == pytest.approx(100 * 2 / 9.7)


def test_days_off_must_name_a_member() -> None:
    with pytest.raises(ValidationError, match="'dave', who is not in members"):
        Team(boards=("Board 1",), members=("alice",), days_off={"Sprint 7": {"dave": 1}})


def test_kickoff_report_shows_dates_capacity_carry_over_unowned_and_unestimated() -> None:
    p = board()
    snap = p.snapshot()
    analysis = analyse(snap, [], Settings(), NOW, teams={"web": TEAM})  # type: ignore[arg-type]
    md = render_report("sprint-kickoff", None, ReportInput(analysis=analysis, snapshot=snap, now=NOW)).markdown
    first = md.splitlines()[0]
    assert "2026-04-13 → 2026-04-27" in first and "planned" in first and "10 working days" in first
    cap = 25.5 * 27 / 58
    assert f"| 2 pts | 2 | {cap:.1f} pts | 10.3 pts | {cap - 10.3:.1f} pts |" in md
    assert "3 members × 10 working days − 4.5 days off = 25.5 person-days" in md
    # one of them: "has", not "have"
    assert "**Unowned:** 1 of 2 items has no assignee:" in md
    assert "**Unestimated:** 1 of 2 items has no story points:" in md
    assert "**Serves the business goal:** none of the 2 items belongs to a configured goal." in md


def test_kickoff_sentences_agree_with_their_counts() -> None:
    p = board()
    p.set_sprints(p.item(points=None, created=day(-5), assignee=None), [p.sprints["jira:sprint:7"]], day(30))
    snap = p.snapshot()
    analysis = analyse(snap, [], Settings(), NOW, teams={"web": TEAM})  # type: ignore[arg-type]
    md = render_report("sprint-kickoff", None, ReportInput(analysis=analysis, snapshot=snap, now=NOW)).markdown
    assert "**Unowned:** 2 of 3 items have no assignee:" in md
    assert "**Unestimated:** 2 of 3 items have no story points:" in md


def test_carry_over_filling_the_capacity_leaves_no_headroom_and_raises_the_risk() -> None:
    p = board()
    r = _plans(p, {"web": TEAM}, [Capacity(board="Board 1", points=5)])["Sprint 7"]
    assert r.plan is not None and r.plan.headroom == 0 and r.commitment_percent is None  # 10.3 carried > 5
    snap = p.snapshot()
    analysis = analyse(snap, [], Settings(), NOW, capacity=[Capacity(board="Board 1", points=5)],  # type: ignore[arg-type]
                       teams={"web": TEAM})
    risk = next(x for x in analysis.risks if x.rule == "over-commitment" and "Sprint 7" in x.title)
    assert risk.title == "Sprint 7's capacity is taken by the likely carry-over of Sprint 6"
    md = render_report("sprint-kickoff", None, ReportInput(analysis=analysis, snapshot=snap, now=NOW)).markdown
    assert "| 2 pts | 2 | 5 pts | 10.3 pts | 0 pts | over: the carry-over fills the capacity |" in md


@pytest.mark.parametrize(("value", "message"), [
    ('"three"', "config: teams.web.days_off.WID Sprint 22.Ana: Input should be a valid number, unable to parse "
                "string as a number"),
    ("-2", "config: teams.web: days_off for 'Ana' in sprint 'WID Sprint 22' is negative"),
])
def test_a_bad_days_off_value_is_one_line_and_a_non_zero_exit_through_the_cli(tmp_path: Path, value: str,
                                                                               message: str) -> None:
    from click.testing import CliRunner

    from syncd.cli import main

    config = tmp_path / "syncd.toml"
    config.write_text(f"database_url = 'sqlite:///{tmp_path / 'syncd.db'}'\n[teams.web]\nboards = ['WID board']\n"
                      f"members = ['Ana', 'Li']\n[teams.web.days_off]\n'WID Sprint 22' = {{ Ana = {value} }}\n",
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "sprint-kickoff", "-c", str(config), "--now", "2026-11-20"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == f"syncd: error: {message}"


def test_days_off_for_someone_not_in_members_is_one_line_through_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncd.cli import main

    config = tmp_path / "syncd.toml"
    config.write_text(f"database_url = 'sqlite:///{tmp_path / 'syncd.db'}'\n[teams.web]\nboards = ['WID board']\n"
                      "members = ['Ana']\ndays_off = { 'WID Sprint 22' = { Dave = 1 } }\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "sprint-kickoff", "-c", str(config)])
    assert result.exit_code == 2
    assert result.output.strip() == ("syncd: error: config: teams.web: days_off for sprint 'WID Sprint 22' names "
                                     "'Dave', who is not in members")
