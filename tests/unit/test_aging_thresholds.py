"""The engineering report's "Stale and aging work" table applies the stale-work and aging-wip rules'
thresholds from the config, so it lists exactly the items those rules flag (issue 14, thresholds).

Worked by hand: ten items finished in WID with cycle times 1, 2, ..., 10 days. Nearest rank: the
p85 is the 9th value (ceil(0.85 x 10) = 9), 9 days; the p50 the 5th, 5 days. In progress now:

| item | age (days) | since update (days) | defaults: > 9 days old, or > 5 idle | config: > 3 x 5 = 15 old, or > 10 idle |
| X    | 16         | 1                   | aging                               | aging                                   |
| Y    | 12         | 12                  | aging, stale                        | stale                                   |
| Z    | 9.5        | 8                   | aging, stale                        | —                                       |
| W    | 4          | 4                   | —                                   | —                                       |
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.reports.analysis import analyse
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.status_engineering import engineering
from syncd.settings import load_settings
from syncd.settings_sections import ReportSettings
from tests.unit.analysis_factories import Plan, day

NOW = day(60)
CONFIG = """\
[reports.risks.stale-work]
threshold = 10
[reports.risks.aging-wip]
threshold = 3
[reports.thresholds]
aging_percentile = 50
"""


def _plan() -> tuple[Plan, dict[str, str]]:
    p = Plan()
    for k in range(10):  # cycle times 1..10 days, all finished in the last five weeks
        item = p.item(created=day(20))
        p.move(item, "In Progress", day(25 + k))
        p.move(item, "Done", day(25 + k) + timedelta(days=k + 1))
    keys = {}
    for name, age, idle in (("X", 16, 1), ("Y", 12, 12), ("Z", 9.5, 8), ("W", 4, 4)):
        item = p.item(created=day(20))
        p.move(item, "In Progress", NOW - timedelta(days=age))
        if idle < age:
            p.move(item, "In Review", NOW - timedelta(days=idle))  # still in progress, updated then
        keys[item.key] = name
    return p, keys


def _aging_table(md: str) -> list[str]:
    section = md[md.index("## Stale and aging work"):md.index("## Carry-over")]
    return [line for line in section.splitlines() if line.startswith("| [WID-")]


def _run(settings: ReportSettings) -> tuple[set[str], set[str], str]:
    p, keys = _plan()
    snap = p.snapshot()
    a = analyse(snap, [], settings, NOW)
    md = engineering(ReportInput(analysis=a, snapshot=snap, now=NOW)).markdown
    table = {keys[line.split("[", 1)[1].split("]", 1)[0]] for line in _aging_table(md)}
    flagged = {keys[r.evidence.items[0].key] for r in a.risks if r.rule in ("stale-work", "aging-wip")}
    return table, flagged, md


def test_defaults_list_work_past_the_p85_cycle_time_or_five_days_idle() -> None:
    table, flagged, md = _run(ReportSettings())
    assert table == {"X", "Y", "Z"} == flagged
    assert "In progress longer than its team's p85 cycle time (WID 9 days), or without an update for more than " \
           "5 days" in md


def test_a_team_that_finished_nothing_is_measured_by_everyone_s_cycle_time_and_says_so() -> None:
    p, _ = _plan()
    ops = p.item(created=day(20), project="OPS")  # OPS finished nothing in the window: all teams' p85, 9 days
    p.move(ops, "In Progress", NOW - timedelta(days=10))
    p.move(ops, "In Review", NOW - timedelta(days=1))
    snap = p.snapshot()
    a = analyse(snap, [], ReportSettings(), NOW)
    [risk] = [r for r in a.risks if r.rule == "aging-wip" and r.evidence.items[0].key == ops.key]
    assert risk.title == f"{ops.key} has been in progress 10 days, longer than 85% of all teams' items take"
    md = engineering(ReportInput(analysis=a, snapshot=snap, now=NOW)).markdown
    assert "(OPS 9 days, all teams' figure: it finished nothing in the window; WID 9 days)" in md


def test_configured_thresholds_move_the_table_and_the_rules_together(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith("SYNCD_"):
            monkeypatch.delenv(var)
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG)
    table, flagged, md = _run(load_settings(path).reports)
    assert table == {"X", "Y"} == flagged
    assert "In progress longer than 3 × its team's p50 cycle time (WID 3 × 5 = 15 days), or without an update " \
           "for more than 10 days" in md


def test_with_teams_aging_is_measured_against_the_configured_teams_cycle_time() -> None:
    from syncd.reports.goals import Team

    p, keys = _plan()
    # GAD: two items finished with cycle times 20 and 30 days; G in progress for 25 days, updated yesterday
    for start, done in ((10, 30), (15, 45)):
        item = p.item(created=day(0), project="GAD")
        p.move(item, "In Progress", day(start))
        p.move(item, "Done", day(done))
    g = p.item(created=day(20), project="GAD")
    p.move(g, "In Progress", NOW - timedelta(days=25))
    p.move(g, "In Review", NOW - timedelta(days=1))
    keys[g.key] = "G"
    snap = p.snapshot()

    def aging(teams: dict[str, Team] | None) -> tuple[dict[str, str], str]:
        a = analyse(snap, [], ReportSettings(), NOW, teams=teams)
        md = engineering(ReportInput(analysis=a, snapshot=snap, now=NOW)).markdown
        return {keys[r.evidence.items[0].key]: r.title for r in a.risks if r.rule == "aging-wip"}, md

    # web = WID + GAD: cycle times 1..10, 20, 30 -> p85 rank ceil(0.85 × 12) = 11th = 20 days: only G (25) is aging
    found, md = aging({"web": Team(projects=("WID", "GAD"))})
    assert found == {"G": f"{g.key} has been in progress 25 days, longer than 85% of web's items take"}
    assert "In progress longer than its team's p85 cycle time (web 20 days)" in md
    # per project: WID's p85 is 9 (X 16, Y 12, Z 9.5 aging), GAD's of 20 and 30 is the 2nd, 30 (G is not)
    found, md = aging(None)
    assert sorted(found) == ["X", "Y", "Z"] and "longer than 85% of WID's items take" in found["X"]
    assert "(GAD 30 days; WID 9 days)" in md
