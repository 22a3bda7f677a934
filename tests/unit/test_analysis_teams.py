"""Team throughput × share forecasts, the own-history fallback, one forecast per scope, and the levers.

Worked answers: the team WID finishes 2 items a week for 12 weeks (one of each pair started and
finished in the same week). Of its 12 completions in the last 6 weeks, 4 are the scope's ("a"):
a share of 4/12. At that share the scope's pace is 2 × 1/3 = 2/3 items a week, so its 4 open items
take 6 weeks. The share is resampled per trial from Beta(4, 12 - 4) (forecast.trial_shares): a
trial with share s finishes the 4 items in ceil(4 / (2 s)) weeks, so the forecast's p85 is that at
the 15th percentile of the share, its p50 at the median. By hand (`beta_quantile`, the binomial
identity): median 0.324 → 7 weeks; 15th percentile 0.195 → 11 weeks (10 to 11 over the 13th-17th
percentiles, the margin for 2,000 draws); 5th 0.135 → 15 weeks (14 to 18 over the 3rd-7th).
"""

from __future__ import annotations

import math
from datetime import UTC, date, timedelta

import pytest

from syncd.reports.analysis import analyse
from syncd.reports.analysis.forecast import Sample, forecast_completion
from syncd.reports.analysis.levers import cut_order, forecast_options
from syncd.reports.analysis.types import ForecastMethod, ItemRef, LeverKind, ShareSource
from syncd.reports.goals import Selector, Team
from tests.unit.analysis_factories import Plan, Settings, beta_quantile, day, goal

NOW = day(84)
IN_SIX_WEEKS = (NOW + timedelta(weeks=6)).date()
SCOPE_A = Selector(labels=("a",))


def weeks_at(q: float, remaining: int = 4, per_week: int = 2, k: int = 4, n: int = 12) -> int:
    """Weeks to finish at the q-quantile of the share Beta(k, n - k), by hand."""
    return math.ceil(remaining / (per_week * beta_quantile(q, k, n - k)))


def in_weeks(lo: int, hi: int) -> list[date]:
    return [(NOW + timedelta(weeks=w)).date() for w in range(lo, hi + 1)]


P50 = in_weeks(weeks_at(0.52), weeks_at(0.48))  # [7 weeks]
P85 = in_weeks(weeks_at(0.17), weeks_at(0.13))  # 10 or 11 weeks
P95 = in_weeks(weeks_at(0.07), weeks_at(0.03))  # 14 to 18 weeks


def team_world() -> Plan:
    p = Plan()
    rel = p.version("R1", due=date(2026, 5, 1))
    for week in range(12):
        for j in range(2):
            mine = j == 0 and week in (6, 8, 10, 11)
            item = p.item(created=day(0), labels=["a" if mine else "b"], release_ids=[rel.id] if mine else [])
            p.move(item, "In Progress", day(7 * week + j * 0.1))
            p.move(item, "Done", day(7 * week + 1 + j * 0.1))
    for _ in range(4):
        p.item(created=day(0), labels=["a"], release_ids=[rel.id])
    for _ in range(2):
        p.item(created=day(80), labels=["c"])  # nothing of its own finished yet
    for _ in range(3):
        p.item(created=day(80), labels=["n"], project="NEW")  # a team that never started anything
    return p


def test_team_throughput_times_recent_share() -> None:
    an = analyse(team_world().snapshot(), [goal(SCOPE_A)], Settings(forecast_weeks=12), NOW)
    fc = an.goals[0].forecast
    assert (fc.method, fc.team, fc.share_source) == (ForecastMethod.TEAM_SHARE, "WID", ShareSource.RECENT)
    assert fc.share == pytest.approx(4 / 12)
    assert (fc.history_weeks, fc.window_weeks, fc.sample_items, fc.remaining_items) == (12, 12, 24, 4)
    assert fc.weekly_throughput == [2] * 12 and not fc.low_confidence and fc.share_counts == (4, 8)
    assert P50 == [(NOW + timedelta(weeks=7)).date()] and len(P85) <= 2
    assert fc.p50 in P50 and fc.p85 in P85 and fc.p95 in P95
    # at the point share alone (no resampling) all three would be 6 weeks: the share's uncertainty widens it
    assert IN_SIX_WEEKS < fc.p50 < fc.p85 < fc.p95


def test_the_late_reason_names_method_window_sample_and_share() -> None:
    # by hand (module docstring): team WID, 12 weeks sampled holding 2 × 12 = 24 completions, share
    # 4 / 12 = 0.33 of its last 6 weeks; p50 in 7 weeks, after the target in 4
    target = (NOW + timedelta(weeks=4)).date()
    an = analyse(team_world().snapshot(), [goal(SCOPE_A, target=target)], Settings(forecast_weeks=12), NOW)
    p85 = an.goals[0].forecast.p85
    assert p85 in P85 and an.goals[0].status.reason == (
        f"Even the 50% forecast is late: p50 {P50[0]} (p85 {p85}) vs target {target}: "
        "team WID throughput, 12 weeks (24 items), share 0.33 (recent).")
    # without a team the scope's own 6 weeks since its first start hold 4 items, all its own
    an = analyse(team_world().snapshot(), [goal(SCOPE_A, target=target)], Settings(forecast_weeks=12), NOW,
                 teams={"gadget": Team(projects=("GAD",))})
    assert an.goals[0].status.reason.endswith(": own history (no team identified), 6 weeks (4 items), share 1.")


def test_configured_allocation_wins_and_a_scope_without_completions_gets_the_default_share() -> None:
    snap = team_world().snapshot()
    goals = [goal(SCOPE_A, id="alloc", allocation=0.5), goal(Selector(labels=("c",)), id="fresh")]
    alloc, fresh = analyse(snap, goals, Settings(forecast_weeks=12, forecast_default_share=0.25), NOW).goals
    assert (alloc.forecast.share, alloc.forecast.share_source) == (0.5, ShareSource.CONFIGURED)
    assert alloc.forecast.p85 == (NOW + timedelta(weeks=4)).date()  # 4 items at 1 a week
    assert (fresh.forecast.share, fresh.forecast.share_source) == (0.25, ShareSource.DEFAULT)
    assert fresh.forecast.p85 == (NOW + timedelta(weeks=4)).date()  # 2 items at 0.5 a week: never "no forecast"


def test_without_a_configured_default_the_share_follows_the_rule_of_succession() -> None:
    # none of the team's 24 completions in the 12-week window were the scope's: share 1 / (24 + 2);
    # 2 items at 2 × 1/26 = 1/13 a week take 26 weeks
    an = analyse(team_world().snapshot(), [goal(Selector(labels=("c",)))], Settings(forecast_weeks=12), NOW)
    fc = an.goals[0].forecast
    assert (fc.share, fc.share_source) == (pytest.approx(1 / 26), ShareSource.DEFAULT)
    assert fc.p85 == (NOW + timedelta(weeks=26)).date()


def test_a_team_with_no_history_says_so() -> None:
    an = analyse(team_world().snapshot(), [goal(Selector(labels=("n",)))], Settings(forecast_weeks=12), NOW)
    fc = an.goals[0].forecast
    assert not fc.ok and fc.team == "NEW" and fc.refused == "team NEW has not started or finished any item yet"


def test_own_history_from_the_first_start_is_the_fallback_without_a_team() -> None:
    # only GAD is a team: the WID scope has none, so it samples its own completions, counted from
    # its first item started (day 42), not from creation (day 0): 6 weeks [1,0,1,0,1,1]
    an = analyse(team_world().snapshot(), [goal(SCOPE_A)], Settings(forecast_weeks=12), NOW,
                 teams={"gadget": Team(projects=("GAD",))})
    fc = an.goals[0].forecast
    assert (fc.method, fc.team, fc.share, fc.share_source) == (ForecastMethod.OWN_HISTORY, None, 1.0, ShareSource.NONE)
    assert fc.weekly_throughput == [1, 0, 1, 0, 1, 1] and fc.history_weeks == 6 and fc.sample_items == 4
    assert fc.ok


def test_a_goal_of_one_team_counts_only_that_teams_completions_in_its_share() -> None:
    # the scope also holds 3 items of OPS finished in the share window: with `team = "WID"` they are
    # neither the scope's part of WID's 12 completions nor WID's, so the share stays 4 / 12
    p = team_world()
    for j in range(3):
        other = p.item(created=day(0), labels=["a"], project="OPS")
        p.move(other, "In Progress", day(70 + j))
        p.move(other, "Done", day(71 + j))
    an = analyse(p.snapshot(), [goal(SCOPE_A, team="WID")], Settings(forecast_weeks=12), NOW)
    fc = an.goals[0].forecast
    assert (fc.team, fc.share_source, fc.share_counts) == ("WID", ShareSource.RECENT, (4, 8))
    assert fc.share == pytest.approx(4 / 12)
    # without the team the scope is both teams' ("OPS + WID"): 7 of their 15 completions are its own
    fc = analyse(p.snapshot(), [goal(SCOPE_A)], Settings(forecast_weeks=12), NOW).goals[0].forecast
    assert (fc.team, fc.share_counts) == ("OPS + WID", (7, 8)) and fc.share == pytest.approx(7 / 15)


def test_a_configured_team_by_project_names_the_team() -> None:
    an = analyse(team_world().snapshot(), [goal(SCOPE_A)], Settings(forecast_weeks=12), NOW,
                 teams={"web": Team(projects=("WID",))})
    assert an.goals[0].forecast.team == "web" and an.goals[0].forecast.p85 in P85


def test_a_goal_and_a_release_with_the_same_items_hold_the_same_forecast() -> None:
    snap = team_world().snapshot()
    an = analyse(snap, [goal(Selector(fix_versions=("R1",)))], Settings(forecast_weeks=12), NOW)
    g, [r] = an.goals[0].forecast, an.releases
    assert g.key == r.forecast.key and g.seed == r.forecast.seed
    assert (g.p50, g.p85, g.p95) == (r.forecast.p50, r.forecast.p85, r.forecast.p95)
    assert g.p50 in P50 and g.p85 in P85 and g.p95 in P95


def _refs(n: int) -> list[ItemRef]:
    return [ItemRef(id=f"i{k}", key=f"WID-{k}", title="t", url=None, status="To Do", kind="story") for k in range(n)]


def test_levers_worked_answer() -> None:
    # 4 a week × 25% = 1 a week: 6 items take 6 weeks; the target is 4 weeks out
    sample = Sample(method=ForecastMethod.TEAM_SHARE, team="WID", window_weeks=6, weeks=[4] * 6, share=0.25,
                    share_source=ShareSource.RECENT)
    fc = forecast_completion([f"i{k}" for k in range(6)], sample, NOW, UTC, trials=500, seed=1)
    target = (NOW + timedelta(weeks=4)).date()
    options = forecast_options(fc, target, _refs(6), NOW, UTC, people=4)
    by_kind = {o.kind: o for o in options}
    cut = by_kind[LeverKind.CUT]  # 4 left fit 4 weeks
    assert cut.makes_target and [r.key for r in cut.cut_items] == ["WID-0", "WID-1"] and cut.p85 == target
    alloc = by_kind[LeverKind.ALLOCATION]  # 16 × s ≥ 6 → s ≥ 37.5% → 38% in whole percent
    assert alloc.share == 0.38 and alloc.p85 == target and "25% to 38%" in alloc.description
    people = by_kind[LeverKind.ADD_PEOPLE]  # 1 a week × (4 + n) / 4 × 4 weeks ≥ 6 → n = 2
    assert people.people == 2 and people.p85 == target
    move = by_kind[LeverKind.MOVE_DATE]
    assert move.p85 == fc.p85 == (NOW + timedelta(weeks=6)).date() and move.makes_target
    assert options[-1].kind == LeverKind.MOVE_DATE  # latest p85 last
    assert forecast_options(fc, target, _refs(6), NOW, UTC)[1:] == [  # no headcount: no add-people option
        o for o in options if o.kind != LeverKind.ADD_PEOPLE][1:]
    assert forecast_options(fc, fc.p85, _refs(6), NOW, UTC) == []  # on time: no options


def test_cut_order_takes_unstarted_lowest_priority_latest_added_first() -> None:
    p = Plan()
    started = p.item(priority="Lowest", created=day(1))
    p.move(started, "In Progress", day(2))
    low = p.item(priority="Low", created=day(1))
    mid_old = p.item(priority="Medium", created=day(1))
    mid_new = p.item(priority="Medium", created=day(5))
    high = p.item(priority="High", created=day(9))
    done = p.item(priority="Lowest", created=day(9))
    p.move(done, "Done", day(10))
    assert [i.key for i in cut_order([high, mid_old, started, done, mid_new, low])] == [
        low.key, mid_new.key, mid_old.key, high.key, started.key]


def test_cut_order_ranks_priorities_by_the_sites_id_not_their_names() -> None:
    # A German site: alphabetically "Hoch" < "Höchste" < "Mittel" < "Niedrig" < "Niedrigste", which would
    # cut "Niedrigste" (Lowest) last of the two low ones and rank "Höchste" (Highest) below "Hoch".
    # Jira's ids: Höchste 1, Hoch 2, Mittel 3, Niedrig 4, Niedrigste 5; a priority the site added later
    # (id 10000, "Kosmetisch") is the least urgent. Worked order, lowest priority first (all created
    # the same day, none started): 10000, 5, 4, 3, 2, 1.
    p = Plan()
    names = {"1": "Höchste", "2": "Hoch", "3": "Mittel", "4": "Niedrig", "5": "Niedrigste", "10000": "Kosmetisch"}
    made = {pid: p.item(priority=name, priority_id=pid, created=day(1)) for pid, name in names.items()}
    order = cut_order([made[k] for k in ("2", "10000", "4", "1", "3", "5")])
    assert [i.priority_id for i in order] == ["10000", "5", "4", "3", "2", "1"]
    assert sorted(names.values()) == ["Hoch", "Höchste", "Kosmetisch", "Mittel", "Niedrig", "Niedrigste"]
    # the same priority: the latest added is cut first
    newer = p.item(priority="Mittel", priority_id="3", created=day(4))
    assert [i.key for i in cut_order([made["3"], newer])] == [newer.key, made["3"].key]
    # no id (stored before the id was kept, or GitHub): the English default names, unknown as Medium
    unknown = p.item(priority="Normal", created=day(1))
    lowest = p.item(priority="Lowest", created=day(1))
    assert [i.key for i in cut_order([made["2"], unknown, lowest])] == [lowest.key, unknown.key, made["2"].key]


def test_a_past_target_leaves_only_a_new_date() -> None:
    sample = Sample(method=ForecastMethod.TEAM_SHARE, team="WID", window_weeks=6, weeks=[4] * 6, share=0.25,
                    share_source=ShareSource.RECENT)
    fc = forecast_completion([f"i{k}" for k in range(6)], sample, NOW, UTC, trials=200, seed=1)
    [only] = forecast_options(fc, NOW.date() - timedelta(days=1), _refs(6), NOW, UTC, people=4)
    assert only.kind == LeverKind.MOVE_DATE and only.p85 == fc.p85 and "has passed" in only.description


def test_the_late_risk_offers_the_dated_options() -> None:
    # The target is 4 weeks out; p85 weeks = ceil(r / (2 × s15)) for r items left at the share's 15th
    # percentile s15 (module docstring). Cut: 1 item left takes ceil(1 / 0.39) = 3 weeks, 2 take 6:
    # cut 3. A raised allocation X is set (no longer resampled): 2 × X × 4 weeks ≥ 4 items: X ≥ 50%.
    target = (NOW + timedelta(weeks=4)).date()
    an = analyse(team_world().snapshot(), [goal(SCOPE_A, target=target)], Settings(forecast_weeks=12), NOW)
    [risk] = [r for r in an.risks if r.rule == "forecast-late" and r.goal_ids == ("g1",)]
    fc = an.goals[0].forecast
    by_kind = {o.kind: o for o in fc.options}
    assert weeks_at(0.17, remaining=1) == weeks_at(0.13, remaining=1) == 3 and weeks_at(0.17, remaining=2) > 4
    alloc = by_kind[LeverKind.ALLOCATION]
    assert alloc.share == 0.5 and alloc.p85 == target
    late = (fc.p85 - target).days if fc.p85 else None
    assert fc.p85 in P85 and risk.mitigation == (
        f"With 4 items left, the 85% forecast is {late} days late. Options (85% dates): cut 3 of 4 items → "
        f"{(NOW + timedelta(weeks=3)).date()}; raise the allocation of WID from 33% to 50% → "
        f"{target}; move the date from {target} to {fc.p85}; decide with Olivia this week.")
    cut = by_kind[LeverKind.CUT]
    assert len(cut.cut_items) == 3
    assert risk.evidence.numbers["method"] == "team-share" and risk.evidence.numbers["team"] == "WID"
