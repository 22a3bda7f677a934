"""The retrospective's cycle-time trend, its charts and review lists follow the configured teams
(follow-up of issues 12/14/16), every figure worked out by hand below (T0 is Monday 2026-03-02 09:00
UTC; the report zone is UTC; now is day 20).

Board 1: Sprint 4 runs day −14 → day 0, Sprint 5 day 0 → day 14. [teams.web] holds WID, GAD and the
repository acme/widget; OPS and acme/ops are in no team.

  in Sprint 5 (from day −1):
    WID-1 in progress day 1, done day 4     cycle 3
    WID-2 in progress day 2, done day 11    cycle 9
    GAD-3 in progress day 3, done day 8     cycle 5
    OPS-4 in progress day 1, done day 3     cycle 2
  in no sprint:
    GAD-5 in progress day 5, done day 12    cycle 7   (web's: every item a team holds counts)
    WID-6 in progress day −10, done day −6  cycle 4   (Sprint 4's window)
    GAD-7 in progress day −12, done day −2  cycle 10  (Sprint 4's window)
    OPS-8 in progress day −9, done day −5   cycle 4   (Sprint 4's window)
  pull requests (opened, first review by someone else):
    #9  acme/widget implements WID-1, opened day 2, reviewed day 4: waited 48 h          -> web
    #10 acme/ops implements OPS-4, opened day 1, reviewed day 1.5: 12 h                  -> OPS
    #11 acme/widget implements nothing, opened day 5, never reviewed: waited to day 14   -> web (its repository)
    #12 acme/ops implements GAD-3, opened day 6, reviewed day 8: 48 h                    -> web (its item)
  GAD-14, in no sprint, closed day 6 without being started: finished (the flow table counts it), no cycle time
"""

from __future__ import annotations

from syncd.model import SprintState
from syncd.reports.analysis import analyse
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.goals import Team
from tests.unit.analysis_factories import Plan, Settings, day

WEB = {"web": Team(projects=("WID", "GAD"), repositories=("acme/widget",))}


def _world() -> Plan:
    p = Plan()
    p.sprint(4, SprintState.CLOSED, start=day(-14), end=day(0), complete=day(0))
    s5 = p.sprint(5, SprintState.CLOSED, start=day(0), end=day(14), complete=day(14))
    moves = {"WID-1": (1, 4), "WID-2": (2, 11), "GAD-3": (3, 8), "OPS-4": (1, 3), "GAD-5": (5, 12),
             "WID-6": (-10, -6), "GAD-7": (-12, -2), "OPS-8": (-9, -5)}
    items = {key: p.item(key, points=2, created=day(-20), project=key.split("-")[0]) for key in moves}
    for key in ("WID-1", "WID-2", "GAD-3", "OPS-4"):
        p.set_sprints(items[key], [s5], day(-1))
    for key, (start, done) in sorted(moves.items(), key=lambda kv: kv[1]):
        p.move(items[key], "In Progress", day(start))
        p.move(items[key], "Done", day(done))
    p.pull("acme/widget", created=day(2), implements=items["WID-1"], reviews=[day(4)])
    p.pull("acme/ops", created=day(1), implements=items["OPS-4"], reviews=[day(1.5)])
    p.pull("acme/widget", created=day(5))
    p.pull("acme/ops", created=day(6), implements=items["GAD-3"], reviews=[day(8)])
    closed = p.item("GAD-14", created=day(-20), project="GAD")
    p.move(closed, "Done", day(6))
    return p


def _retro(teams: dict[str, Team] | None) -> tuple[str, dict[str, bytes]]:
    snap = _world().snapshot()
    now = day(20)
    analysis = analyse(snap, [], Settings(), now, teams=teams)  # type: ignore[arg-type]
    built = render_report("retrospective", None, ReportInput(analysis=analysis, snapshot=snap, now=now,
                                                             scope="Sprint 5"))
    return built.markdown, built.charts


def _section(md: str, title: str) -> str:
    start = md.index(f"## {title}")
    return md[start:md.index("\n## ", start + 1)]


def _table(md: str) -> list[str]:
    return [line for line in _section(md, "Cycle-time trend").splitlines()
            if line.startswith("| ") and not line.startswith(("| Team |", "| Period |", "| ---"))]


def test_with_teams_the_trend_has_a_row_per_team_and_sprint_labelled_as_the_flow_table() -> None:
    md, charts = _retro(WEB)
    # web, Sprint 5 [day 0, 14): WID-1 3, GAD-3 5, GAD-5 7, WID-2 9 -> 4 finished, p50 rank ceil(0.5 × 4) = 2nd = 5,
    #   p85 rank ceil(3.4) = 4th = 9; Sprint 4 [day −14, 0): WID-6 4, GAD-7 10 -> p50 1st = 4, p85 ceil(1.7) = 2nd = 10
    # OPS (no team), Sprint 5: OPS-4 2; Sprint 4: OPS-8 4
    assert _table(md) == [
        "| web (GAD, WID) | Sprint 5 | 4 | 5 | 9 |",
        "| web (GAD, WID) | Sprint 4 | 2 | 4 | 10 |",
        "| not in a configured team (OPS) | Sprint 5 | 1 | 2 | 2 |",
        "| not in a configured team (OPS) | Sprint 4 | 1 | 4 | 4 |",
    ]
    assert "| Team | Period | Items finished with a cycle time |" in md
    flow = _section(md, "Flow")
    # the flow table counts web's 4 finished with a cycle time and GAD-14, which has none
    assert "| web (GAD, WID) | 5 |" in flow and "| not in a configured team (OPS) | 1 |" in flow
    # one chart per team, named in its file and its alt text
    names = sorted(n for n in charts if n.startswith("retrospective-cycle-time-"))
    assert names == ["retrospective-cycle-time-jira-sprint-5-not-in-a-configured-team.png",
                     "retrospective-cycle-time-jira-sprint-5-web.png"]
    assert "![Cycle time of finished items: web (GAD, WID)](./retrospective-cycle-time-jira-sprint-5-web.png)" in md
    assert all(charts[n].startswith(b"\x89PNG") for n in names)


def test_with_teams_the_cycle_time_and_review_statements_are_per_team() -> None:
    md, _ = _retro(WEB)
    well, slow = _section(md, "What went well"), _section(md, "What slowed us down")
    # web: p50 4 -> 5, +25% (>= 10%): slower; OPS: 4 -> 2, −50%: better
    assert "- web (GAD, WID): median cycle time went from 4 to 5 days (Sprint 4 → Sprint 5)." in slow
    assert "- not in a configured team (OPS): median cycle time went from 4 to 2 days (Sprint 4 → Sprint 5)." in well
    # web's pull requests: #9 (implements WID-1), #11 (acme/widget's), #12 (implements GAD-3), opened in the
    # sprint, each waited more than 24 h; OPS's #10 got its review in 12 h
    line = next(x for x in slow.splitlines() if "waited more than 24 h" in x)
    assert line.startswith("- web (GAD, WID): 3 pull requests waited more than 24 h for a first review: ")
    # the keys as Markdown escapes them, sorted by key text (#11 before #9)
    assert line.endswith("[acme/ops\\#12](https://github.example/acme/ops/pull/12), "
                         "[acme/widget\\#11](https://github.example/acme/widget/pull/11), "
                         "[acme/widget\\#9](https://github.example/acme/widget/pull/9).")
    assert "acme/ops\\#10" not in slow
    assert "- not in a configured team (OPS): every pull request got a first review within 24 h." in well


def test_without_teams_one_trend_over_the_sprints_projects_as_before() -> None:
    md, charts = _retro(None)
    # WID, GAD, OPS together: Sprint 5: 2 3 5 7 9 -> p50 3rd = 5, p85 ceil(4.25) = 5th = 9;
    # Sprint 4: 4 4 10 -> p50 2nd = 4, p85 ceil(2.55) = 3rd = 10
    assert _table(md) == ["| Sprint 5 | 5 | 5 | 9 |", "| Sprint 4 | 3 | 4 | 10 |"]
    assert "| Team |" not in _section(md, "Cycle-time trend")
    assert [n for n in charts if "cycle-time" in n] == ["retrospective-cycle-time-jira-sprint-5.png"]
    slow = _section(md, "What slowed us down")
    assert "- Median cycle time went from 4 to 5 days (Sprint 4 → Sprint 5)." in slow
    # the pull requests implementing the projects' items: #9 and #12 waited (#11 implements nothing)
    line = next(x for x in slow.splitlines() if "waited more than 24 h" in x)
    assert line.startswith("- 2 pull requests waited") and "acme/widget\\#11" not in line
    assert "acme/ops\\#12" in line and "acme/widget\\#9" in line


def _release_retro(teams: dict[str, Team] | None) -> str:
    from datetime import date

    p = _world()
    rel = p.version("R1", due=date(2026, 4, 30))
    for item in p.items.values():
        if item.key in ("WID-1", "GAD-3", "OPS-4"):
            item.release_ids = [rel.id]
    snap = p.snapshot()
    analysis = analyse(snap, [], Settings(), day(20), teams=teams)  # type: ignore[arg-type]
    return render_report("retrospective", None, ReportInput(analysis=analysis, snapshot=snap, now=day(20),
                                                            scope="R1")).markdown


def test_a_release_retrospectives_review_statements_are_per_team() -> None:
    # R1 holds WID-1, GAD-3 (web) and OPS-4 (no team); its period runs from its first item's creation
    # (day −20) to now (day 20). web's pull requests #9, #11 and #12 waited more than 24 h; OPS's #10 did not,
    # and the last two weeks (days 6-20) finished GAD-3, so "every pull request" is said of OPS.
    md = _release_retro(WEB)
    assert md.startswith("# Retrospective: release R1")
    slow, well = _section(md, "What slowed us down"), _section(md, "What went well")
    assert "- web (GAD, WID): 3 pull requests waited more than 24 h for a first review: " in slow
    assert "- not in a configured team (OPS): every pull request got a first review within 24 h." in well
    # without [teams]: the pull requests implementing WID, GAD and OPS items, #9 and #12, unlabelled
    plain = _release_retro(None)
    line = next(x for x in _section(plain, "What slowed us down").splitlines() if "waited more than 24 h" in x)
    assert line.startswith("- 2 pull requests waited") and "acme/ops\\#12" in line and "acme/widget\\#9" in line
