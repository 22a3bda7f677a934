"""The options table of a late scope: option, what it means, its 85% date and the distance to the target.

Worked answers on the team world of test_analysis_teams (WID finishes 2 items a week; the scope's
share is 4 of the team's 12 recent completions, resampled per trial from Beta(4, 8); 4 items left;
target 4 weeks out):
- cut: 1 item left takes ceil(1 / (2 × s15)) = 3 weeks at the share's 15th percentile s15 = 0.195
  (2 items: 6 weeks, late), so drop 3 of 4 (75%), 85% date in 3 weeks: 7 days early;
- allocation: a set share X finishes 4 items in 4 weeks when 2 × X × 4 ≥ 4: X = 50%, from 33%
  (+17 points), on the target;
- move the date: to the forecast's p85 (10 or 11 weeks out by the Beta quantiles), 6-7 weeks later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from syncd.reports.analysis import analyse
from syncd.reports.analysis.types import ItemRef
from syncd.reports.catalogue.lever_table import lever_rows
from syncd.reports.render.escape import Md
from tests.unit.analysis_factories import Settings, goal
from tests.unit.test_analysis_teams import NOW, P85, SCOPE_A, team_world, weeks_at


def test_the_options_table_of_the_team_world_by_hand() -> None:
    target = (NOW + timedelta(weeks=4)).date()
    fc = analyse(team_world().snapshot(), [goal(SCOPE_A, target=target)], Settings(forecast_weeks=12), NOW
                 ).goals[0].forecast
    assert weeks_at(0.15, remaining=1) == 3 and weeks_at(0.15, remaining=2) == 6 and fc.p85 in P85
    in_3_weeks = (NOW + timedelta(weeks=3)).date()
    rows = lever_rows(fc.options, fc, target)
    assert [(r["option"], r["p85"], r["vs"]) for r in rows] == [
        ("Cut scope", in_3_weeks.isoformat(), "7 d early"),
        ("Raise allocation", target.isoformat(), "on the target"),
        ("Move the date", str(fc.p85), f"+{(fc.p85 - target).days} d: the new target"),  # type: ignore[operator]
    ]
    assert rows[0]["means"] == "drop 3 of 4 items (75%), the lowest priority and latest added first"
    assert rows[1]["means"] == "give 50% of WID's completions to it, from 33% (+17 points)"
    assert rows[2]["means"] == f"move the target {target} to the 85% date"
    # with the items named: the cut items in cut order, as the engineering report links them
    named = lever_rows(fc.options, fc, target, keys=lambda refs: Md(", ".join(r.key for r in refs)))
    cut = fc.options[0].cut_items
    assert len(cut) == 3 and named[0]["means"].endswith(": " + ", ".join(r.key for r in cut))
    assert all(isinstance(r, ItemRef) for r in cut)


def test_a_team_name_is_escaped_in_the_table() -> None:
    target = (NOW + timedelta(weeks=4)).date()
    fc = analyse(team_world().snapshot(), [goal(SCOPE_A, target=target)], Settings(forecast_weeks=12), NOW
                 ).goals[0].forecast
    rows = lever_rows(fc.options, replace(fc, team="<b>web</b>|x"), target)
    assert "<b>" not in rows[1]["means"] and "\\|" in rows[1]["means"]
