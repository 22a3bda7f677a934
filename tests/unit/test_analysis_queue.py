"""Releases queued behind others (reports/analysis/queue.py), with worked answers.

The world: team WID finishes exactly 2 items every week for 12 weeks (so every simulated week
finishes 2, and the dates are exact). In the last 6 weeks 6 of its 12 completions were release
R1's: R1's share is 6 / 12 = 0.5. R1 (due first) has 4 items left; R2 (due later) has 6 left and
none finished. By hand:
- R1: 4 items at 2 × 0.5 = 1 a week: 4 weeks.
- R2 queued behind R1: 4 + 6 = 10 items at 2 × 0.5 = 1 a week: 10 weeks (p50 = p85 = p95).
- R2 by the rule of succession (what it was): 6 items at 2 × 1 / (24 + 2) a week: 78 weeks.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from syncd.reports.analysis import analyse
from syncd.reports.analysis.forecast import scope_key
from syncd.reports.analysis.queue import QueuedRelease, releases_ahead
from syncd.reports.analysis.status import forecast_inputs
from syncd.reports.analysis.types import Analysis, Forecast, LeverKind, ShareSource
from syncd.reports.catalogue.base import forecast_basis
from syncd.reports.goals import Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal

NOW = day(84)


def weeks_out(n: int) -> date:
    return (NOW + timedelta(weeks=n)).date()


def queue_world(r2_due: date | None = date(2026, 9, 1), in_repo: int = 0) -> Plan:
    """The module docstring's world; `in_repo` of R2's 6 items are in the repository acme/widget."""
    p = Plan()
    r1 = p.version("R1", due=date(2026, 5, 1))
    r2 = p.version("R2", due=r2_due)
    for week in range(12):
        for j in range(2):
            mine = j == 0 and week >= 6
            item = p.item(created=day(0), labels=["r1" if mine else "other"], release_ids=[r1.id] if mine else [])
            p.move(item, "In Progress", day(7 * week + j * 0.1))
            p.move(item, "Done", day(7 * week + 1 + j * 0.1))
    for _ in range(4):
        p.item(created=day(0), labels=["r1"], release_ids=[r1.id])
    for k in range(6):
        p.item(created=day(0), labels=["r2"], release_ids=[r2.id], project="acme/widget" if k < in_repo else "WID")
    return p


def _releases(an: Analysis) -> dict[str, Forecast]:
    return {r.release.name: r.forecast for r in an.releases}


def test_a_release_with_none_of_its_own_is_forecast_behind_the_release_ahead() -> None:
    an = analyse(queue_world().snapshot(), [], Settings(forecast_weeks=12), NOW)
    r1, r2 = _releases(an)["R1"], _releases(an)["R2"]
    assert (r1.share_source, r1.share) == (ShareSource.RECENT, pytest.approx(0.5))
    assert r2.share_source == ShareSource.QUEUED and r2.share == pytest.approx(0.5)
    assert (r2.remaining_items, r2.ahead_items, r2.simulated_items) == (6, 4, 10)
    assert [(a.name, a.remaining) for a in r2.ahead] == [("R1", 4)]
    assert r2.p50 == r2.p85 == r2.p95 == weeks_out(10)
    assert forecast_basis(r2).startswith(
        "queued behind R1 (4 items): team WID × 50% share of the release stream; 12 of 12 weeks sampled (24 items); "
        "10 left (6 its own, 4 ahead)")
    assert forecast_inputs(r2) == (
        "queued behind R1 (4 items): team WID throughput, 12 weeks (24 items), share 0.5 (of the release stream), "
        "10 items to finish (6 its own)")


def test_a_goal_holding_the_queued_release_s_items_gets_its_forecast() -> None:
    an = analyse(queue_world().snapshot(), [goal(Selector(labels=("r2",)))], Settings(forecast_weeks=12), NOW)
    g, r2 = an.goals[0].forecast, _releases(an)["R2"]
    assert g.key == r2.key and g.share_source == ShareSource.QUEUED
    assert g.p85 == r2.p85 == weeks_out(10)


def test_without_a_queue_or_with_a_configured_default_the_default_share_stays() -> None:
    # R2 undated is behind R1 still; a configured default share is someone's decision and is kept:
    # 6 items at 2 × 0.25 a week take 12 weeks
    an = analyse(queue_world().snapshot(), [], Settings(forecast_weeks=12, forecast_default_share=0.25), NOW)
    r2 = _releases(an)["R2"]
    assert (r2.share_source, r2.share, r2.p85) == (ShareSource.DEFAULT, 0.25, weeks_out(12))
    # R2 due before R1: nothing is ahead of it, so the rule of succession: 6 items at 2/26 a week: 78 weeks
    an = analyse(queue_world(r2_due=date(2026, 4, 1)).snapshot(), [], Settings(forecast_weeks=12), NOW)
    r2 = _releases(an)["R2"]
    assert (r2.share_source, r2.share) == (ShareSource.DEFAULT, pytest.approx(1 / 26))
    assert r2.p85 == weeks_out(78) and not r2.ahead
    # an undated release waits behind every dated one of its team
    an = analyse(queue_world(r2_due=None).snapshot(), [], Settings(forecast_weeks=12), NOW)
    assert _releases(an)["R2"].p85 == weeks_out(10)


def test_levers_of_a_queued_release_count_the_items_ahead() -> None:
    # target 8 weeks out: 10 items at 1 a week miss it; cutting 2 of R2's 6 leaves 4 + 4 = 8: 8 weeks.
    # Raising the stream's share to 10 / 16 = 62.5% -> 63% (whole percent) makes 10 items in 8 weeks
    snap = queue_world(r2_due=weeks_out(8)).snapshot()
    an = analyse(snap, [], Settings(forecast_weeks=12), NOW)
    r2 = _releases(an)["R2"]
    by_kind = {o.kind: o for o in r2.options}
    assert by_kind[LeverKind.CUT].description == "cut 2 of 6 items" and by_kind[LeverKind.CUT].p85 == weeks_out(8)
    assert by_kind[LeverKind.ALLOCATION].share == 0.63
    assert by_kind[LeverKind.MOVE_DATE].p85 == weeks_out(10)
    [late] = [r for r in an.risks if r.rule == "forecast-late" and "R2" in r.title]
    assert late.mitigation.startswith("With 6 items left after 4 of the releases ahead (R1), the 85% forecast is "
                                      "14 days late.")
    assert (late.evidence.numbers["queued behind"], late.evidence.numbers["items ahead"]) == ("R1 (4 items)", 4)


def test_a_release_spanning_more_teams_queues_behind_one_of_them() -> None:
    # one of R2's 6 items is in the repository acme/widget (a team with no history): R2's team is
    # "WID + acme/widget", whose 12 completions of the last 6 weeks are WID's, 6 of them R1's:
    # the stream's share is 6 / 12 = 0.5 again, and 4 + 6 items at 1 a week take 10 weeks
    fc = _releases(analyse(queue_world(in_repo=1).snapshot(), [], Settings(forecast_weeks=12), NOW))["R2"]
    assert (fc.team, fc.share_source, fc.share) == ("WID + acme/widget", ShareSource.QUEUED, pytest.approx(0.5))
    assert (fc.remaining_items, fc.ahead_items, fc.p85) == (6, 4, weeks_out(10))


def test_releases_ahead_are_the_overlapping_teams_earlier_dated_ones() -> None:
    def rel(name: str, due: date | None, *teams: str) -> QueuedRelease:
        return QueuedRelease(name=name, due=due, teams=frozenset(teams or ("WID",)), items=(),
                             remaining_ids=frozenset({"x", name}))
    a, b, c = rel("A", date(2026, 1, 1)), rel("B", date(2026, 2, 1), "WID", "acme/widget"), rel("C", None)
    d, e = rel("D", date(2026, 1, 1), "GAD"), rel("E", date(2026, 3, 1), "acme/widget")
    ahead = releases_ahead([c, b, a, d, e])
    assert [r.name for r in ahead[scope_key(b.remaining_ids)][1]] == ["A"]
    assert [r.name for r in ahead[scope_key(c.remaining_ids)][1]] == ["A", "B"]
    assert [r.name for r in ahead[scope_key(e.remaining_ids)][1]] == ["B"]
    assert scope_key(a.remaining_ids) not in ahead and scope_key(d.remaining_ids) not in ahead


def test_a_queued_forecast_on_under_six_weeks_is_marked_low_confidence() -> None:
    # a 4-week window: 4 weeks of 2 (8 items) sampled; the stream's share is still R1's 6 of the
    # team's 12 completions in the 6-week share window, so 10 items at 1 a week: 10 weeks
    an = analyse(queue_world().snapshot(), [], Settings(forecast_weeks=4), NOW)
    r2 = _releases(an)["R2"]
    assert (r2.share_source, r2.history_weeks, r2.low_confidence, r2.p85) == (ShareSource.QUEUED, 4, True, weeks_out(10))
    assert forecast_basis(r2).startswith("⚠ low confidence (under 6 weeks sampled); queued behind R1 (4 items): ")
    assert forecast_inputs(r2).endswith("10 items to finish (6 its own), low confidence (under 6 weeks sampled)")


def measured_world() -> Plan:
    """Team WID finishes exactly 4 items every week for 12 weeks; in the last 6 weeks (24 items) R1 had
    12 (share 0.5) and R2 6 (share 0.25, measured: R2 is started), the other 6 neither's. Left: R1 4, R2 6."""
    p = Plan()
    r1 = p.version("R1", due=date(2026, 5, 1))
    r2 = p.version("R2", due=date(2026, 9, 1))
    for week in range(12):
        for j in range(4):
            rel = (r1 if j < 2 else r2 if j == 2 else None) if week >= 6 else None
            item = p.item(created=day(0), labels=["other" if rel is None else rel.name.lower()],
                          release_ids=[rel.id] if rel is not None else [])
            p.move(item, "In Progress", day(7 * week + j * 0.1))
            p.move(item, "Done", day(7 * week + 1 + j * 0.1))
    for _ in range(4):
        p.item(created=day(0), labels=["r1"], release_ids=[r1.id])
    for _ in range(6):
        p.item(created=day(0), labels=["r2"], release_ids=[r2.id])
    return p


def test_a_release_with_a_small_share_of_its_own_queues_behind_the_release_ahead() -> None:
    # by hand: R2's stream is R1's 12 + R2's 6 of the team's 24 completions in the share window:
    # 0.5 + 0.25 = 0.75; R1's 4 + R2's 6 = 10 items at 4 × 0.75 = 3 a week: 9 after 3 weeks, 12 after 4,
    # so 4 weeks at every level (the team's weeks are all 4 and the stream's share is a point share)
    an = analyse(measured_world().snapshot(), [], Settings(forecast_weeks=12), NOW)
    r1, r2 = _releases(an)["R1"], _releases(an)["R2"]
    assert (r1.share_source, r1.share, r1.ahead) == (ShareSource.RECENT, pytest.approx(0.5), [])
    assert (r2.share_source, r2.share, r2.own_share) == (ShareSource.QUEUED, pytest.approx(0.75), pytest.approx(0.25))
    assert (r2.remaining_items, r2.ahead_items, r2.simulated_items) == (6, 4, 10)
    assert [(a.name, a.remaining, a.share) for a in r2.ahead] == [("R1", 4, pytest.approx(0.5))]
    assert r2.p50 == r2.p85 == r2.p95 == weeks_out(4)
    assert forecast_basis(r2).startswith(
        "queued behind R1 (4 items): team WID × 75% share of the release stream (25% its own); "
        "12 of 12 weeks sampled (48 items); 10 left (6 its own, 4 ahead)")
    assert forecast_inputs(r2) == (
        "queued behind R1 (4 items): team WID throughput, 12 weeks (48 items), share 0.75 (of the release stream, "
        "0.25 its own), 10 items to finish (6 its own)")


def test_a_goal_with_the_measured_release_s_items_gets_its_queued_forecast_and_an_allocation_wins() -> None:
    an = analyse(measured_world().snapshot(), [goal(Selector(labels=("r2",)))], Settings(forecast_weeks=12), NOW)
    # the goal holds R2's 6 done items too, but its remaining items are R2's: the same forecast
    assert an.goals[0].forecast.key == _releases(an)["R2"].key
    assert an.goals[0].forecast.p85 == weeks_out(4)
    # an allocation of 0.5 is someone's decision: 6 items at 4 × 0.5 = 2 a week, 3 weeks, nothing ahead
    an = analyse(measured_world().snapshot(), [goal(Selector(labels=("r2",)), allocation=0.5)],
                 Settings(forecast_weeks=12), NOW)
    g = an.goals[0].forecast
    assert (g.share_source, g.share, g.ahead, g.p85) == (ShareSource.CONFIGURED, 0.5, [], weeks_out(3))
