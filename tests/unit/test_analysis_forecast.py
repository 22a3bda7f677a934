"""Monte Carlo forecasts: worked answers, refusals, reproducibility, and properties."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from syncd.reports.analysis import analyse, forecast_items_by
from syncd.reports.analysis.forecast import (
    MAX_WEEKS,
    MIN_HISTORY_WEEKS,
    Sample,
    Trials,
    forecast_completion,
    items_by_date,
    scope_key,
    trial_shares,
    weekly_sample,
)
from syncd.reports.analysis.types import Forecast, ForecastMethod, ShareSource
from syncd.reports.goals import Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def history(samples: list[int], now: datetime = NOW) -> tuple[list[datetime], datetime]:
    """Done times reproducing weekly counts (oldest week first) and when the first item started."""
    n = len(samples)
    times = [now - timedelta(days=7 * (n - k)) + timedelta(hours=1 + j)
             for k, count in enumerate(samples) for j in range(count)]
    return times, now - timedelta(days=7 * n)


def sample(samples: list[int], share: float = 1.0) -> Sample:
    """A team-share sample of the given weekly counts (no window cut: what the caller passes is used)."""
    return Sample(method=ForecastMethod.TEAM_SHARE, team="WID", window_weeks=len(samples), weeks=list(samples),
                  share=share, share_source=ShareSource.RECENT)


def ids(n: int) -> list[str]:
    return [f"jira:{k}" for k in range(n)]


def fc(samples: list[int], remaining: int, trials: int = 1000, seed: int = 7, share: float = 1.0) -> Forecast:
    times, first = history(samples)
    weeks, refused = weekly_sample(times, first, NOW, len(samples), "team WID")
    s = Sample(method=ForecastMethod.TEAM_SHARE, team="WID", window_weeks=len(samples), weeks=weeks, share=share,
               share_source=ShareSource.RECENT, refused=refused)
    return forecast_completion(ids(remaining), s, NOW, UTC, trials=trials, seed=seed)


def test_constant_pace_gives_an_exact_date() -> None:
    f = fc([2, 2, 2, 2], remaining=10)  # 5 weeks, whatever the draw
    assert f.ok and f.p50 == f.p85 == f.p95 == date(2026, 7, 6)
    assert (f.history_weeks, f.weekly_throughput, f.history_start, f.history_end) == (
        4, [2, 2, 2, 2], date(2026, 5, 4), date(2026, 6, 1))
    assert (f.method, f.team, f.window_weeks, f.sample_items, f.share, f.low_confidence) == (
        "team-share", "WID", 4, 8, 1.0, True)  # 4 weeks sampled: under MIN_CONFIDENT_WEEKS


def test_the_share_scales_the_team_pace() -> None:
    # the team finishes 4 a week; a quarter of that is the scope's: 1 a week, so 3 items take 3 weeks
    f = fc([4, 4, 4, 4, 4, 4], remaining=3, share=0.25)
    assert f.p50 == f.p85 == f.p95 == NOW.date() + timedelta(weeks=3)
    assert not f.low_confidence  # six weeks sampled


def test_two_paces_bound_the_dates() -> None:
    f = fc([1, 4, 1, 4, 1, 4], remaining=8, trials=5000)
    # at 4 a week: 2 weeks; at 1 a week: 8 weeks; a mix lands in between
    assert f.p50 is not None and f.p95 is not None
    assert date(2026, 6, 15) <= f.p50 <= f.p95 <= date(2026, 7, 27)
    assert f.p50 < f.p95


def test_seeded_forecast_is_reproducible_and_keyed_by_its_items() -> None:
    a = fc([0, 3, 1, 5, 2], remaining=20, seed=42)
    b = fc([0, 3, 1, 5, 2], remaining=20, seed=42)
    assert (a.p50, a.p85, a.p95) == (b.p50, b.p85, b.p95)
    assert a.key == scope_key(reversed(ids(20))) != scope_key(ids(19))


def test_refusals_say_why() -> None:
    short = fc([3], remaining=5)
    assert not short.ok and short.refused == (
        f"team WID has only 1 full week(s) of history; a forecast needs at least {MIN_HISTORY_WEEKS}")
    idle = fc([0, 0, 0, 0, 0], remaining=5)
    assert idle.refused == "team WID finished no items in the last 5 weeks, so there is no pace to project"
    forever = fc([1, 0, 0, 0], remaining=100_000, trials=200)
    assert forever.refused is not None and "more than 10 years" in forever.refused


def test_empty_scope_is_done_even_without_history() -> None:
    f = forecast_completion([], sample([]), NOW, UTC, trials=100, seed=1)
    assert f.done and f.refused is None and not f.ok


def test_items_by_date() -> None:
    times, first = history([3, 3, 3, 3])
    r = items_by_date(times, first, date(2026, 6, 15), NOW, UTC, weeks=4, trials=500, seed=1)
    assert (r.p50, r.p85, r.p95, r.history_weeks) == (6, 6, 6, 4)
    times, first = history([0, 10, 0, 10])
    r = items_by_date(times, first, date(2026, 6, 8), NOW, UTC, weeks=4, trials=2000, seed=1)
    assert (r.p50, r.p85, r.p95) in {(10, 0, 0), (0, 0, 0)}  # one week: 0 or 10; 85% sure only of 0
    assert r.p85 == 0


def _paced_world(remaining: int) -> Plan:
    """Two items finished every week for eight weeks, `remaining` left."""
    p = Plan()
    for week in range(8):
        for j in range(2):
            item = p.item(created=day(0))
            p.move(item, "In Progress", day(7 * week + j))
            p.move(item, "Done", day(7 * week + j + 1))
    for _ in range(remaining):
        p.item(created=day(0))
    return p


def test_goal_on_track_when_p85_is_on_or_before_target() -> None:
    snap = _paced_world(remaining=8).snapshot()  # 4 weeks at 2 a week -> 2026-05-25 (now = day 56)
    sel = Selector(projects=("WID",))
    early, exact, late = (analyse(snap, [goal(sel, target=t)], Settings(), day(56)).goals[0]
                          for t in (date(2026, 6, 30), date(2026, 5, 25), date(2026, 5, 24)))
    assert early.forecast.p85 == date(2026, 5, 25)
    assert early.on_track and exact.on_track and late.on_track is False
    assert late.status.rag == "red"  # the 50% forecast is late too


def test_forecast_items_by_date_for_a_selector() -> None:
    snap = _paced_world(remaining=8).snapshot()
    r = forecast_items_by(snap, Selector(projects=("WID",)), date(2026, 5, 11), Settings(), day(56))
    assert (r.p50, r.p85, r.p95) == (4, 4, 4)  # two weeks at two a week


weekly = st.lists(st.integers(min_value=0, max_value=12), min_size=MIN_HISTORY_WEEKS, max_size=16).filter(any)


@settings(max_examples=40, deadline=None)
@given(samples=weekly, remaining=st.integers(min_value=1, max_value=300), seed=st.integers(0, 2**32 - 1))
def test_forecast_percentiles_are_ordered(samples: list[int], remaining: int, seed: int) -> None:
    assume(sum(samples) * MAX_WEEKS // len(samples) > 2 * remaining)  # well inside the ten-year horizon
    f = fc(samples, remaining, trials=300, seed=seed)
    assert f.ok and f.p50 is not None and f.p85 is not None and f.p95 is not None
    assert NOW.date() < f.p50 <= f.p85 <= f.p95


@settings(max_examples=60, deadline=None)
@given(samples=weekly, remaining=st.integers(min_value=1, max_value=150), more=st.integers(min_value=1, max_value=50),
       seed=st.integers(0, 2**32 - 1))
def test_more_remaining_items_never_give_an_earlier_date(samples: list[int], remaining: int, more: int,
                                                         seed: int) -> None:
    trials = Trials(samples, 300, seed)
    fewer, larger = trials.percentiles(remaining), trials.percentiles(remaining + more)
    assert all(a <= b for a, b in zip(fewer, larger, strict=True))
    # and through the public forecast (same seed): dates never move earlier
    a = forecast_completion(ids(remaining), sample(samples), NOW, UTC, trials=300, seed=seed)
    b = forecast_completion(ids(remaining + more), sample(samples), NOW, UTC, trials=300, seed=seed)
    if a.ok and b.ok:
        assert a.p50 <= b.p50 and a.p85 <= b.p85 and a.p95 <= b.p95  # type: ignore[operator]
    assert not (b.ok and not a.ok)


@settings(max_examples=60, deadline=None)
@given(samples=weekly, remaining=st.integers(min_value=1, max_value=150),
       shares=st.tuples(st.floats(0.01, 1.0), st.floats(0.01, 1.0)), seed=st.integers(0, 2**32 - 1))
def test_a_higher_share_never_gives_a_later_date(samples: list[int], remaining: int, shares: tuple[float, float],
                                                 seed: int) -> None:
    low, high = sorted(shares)
    a = forecast_completion(ids(remaining), sample(samples, low), NOW, UTC, trials=300, seed=seed)
    b = forecast_completion(ids(remaining), sample(samples, high), NOW, UTC, trials=300, seed=seed)
    if a.ok and b.ok:
        assert b.p50 <= a.p50 and b.p85 <= a.p85 and b.p95 <= a.p95  # type: ignore[operator]
    assert not (a.ok and not b.ok)


@settings(max_examples=30, deadline=None)
@given(samples=st.lists(st.integers(0, 12), max_size=16))
def test_empty_scope_forecasts_done(samples: list[int]) -> None:
    f = forecast_completion([], sample(samples), NOW, UTC, trials=100, seed=3)
    assert f.done and f.refused is None


def _naive_weeks(samples: list[int], remaining: int, shares: np.ndarray, trials: int, seed: int) -> list[int]:
    """The simulation written out trial by trial, to check the blocked, binary-searched one.

    The same streams: the throughput draws come in blocks of 52 weeks per trial from the seed's
    generator, each trial's share from the seed's second stream. Week by week, a trial is through
    when its running team total × its share reaches the remaining items; nearest-rank percentiles.
    """
    rng = np.random.default_rng(seed)
    pool = np.asarray(samples)
    draws = pool[rng.integers(0, pool.size, size=(trials, 52))]
    while True:
        totals = np.cumsum(draws, axis=1)
        done_weeks = []
        for t in range(trials):
            through = [w + 1 for w in range(totals.shape[1]) if totals[t, w] * shares[t] >= remaining - 1e-9]
            done_weeks.append(through[0] if through else None)
        if all(w is not None for w in done_weeks):
            break
        draws = np.hstack([draws, pool[rng.integers(0, pool.size, size=(trials, 52))]])
    ordered = sorted(w for w in done_weeks if w is not None)
    return [ordered[math.ceil(p / 100 * trials) - 1] for p in (50, 85, 95)]


def test_a_measured_share_is_resampled_per_trial_from_its_beta_posterior() -> None:
    # 8 of the team's 40 recent completions were the scope's: share 0.2, each trial draws Beta(8, 32)
    s = Sample(method=ForecastMethod.TEAM_SHARE, team="WID", window_weeks=6, weeks=[3, 5, 4, 6, 2, 4], share=0.2,
               share_source=ShareSource.RECENT, share_counts=(8, 32))
    f = forecast_completion(ids(6), s, NOW, UTC, trials=400, seed=11)
    assert f.share_counts == (8, 32)
    shares = trial_shares(0.2, (8, 32), 400, 11)
    assert isinstance(shares, np.ndarray) and abs(float(shares.mean()) - 0.2) < 0.01  # mean k / n
    expected = _naive_weeks([3, 5, 4, 6, 2, 4], 6, shares, 400, 11)
    assert [f.p50, f.p85, f.p95] == [(NOW + timedelta(weeks=w)).date() for w in expected]
    # at the point share alone the interval is narrower: resampling the share widens it
    fixed = forecast_completion(ids(6), replace(s, share_counts=None), NOW, UTC, trials=400, seed=11)
    assert fixed.p95 is not None and f.p95 is not None and fixed.p95 < f.p95
    assert _naive_weeks([3, 5, 4, 6, 2, 4], 6, np.full(400, 0.2), 400, 11) == [
        (d - NOW.date()).days // 7 for d in (fixed.p50, fixed.p85, fixed.p95)]  # type: ignore[operator]


def test_a_share_with_nothing_else_to_compare_stays_fixed() -> None:
    assert trial_shares(1.0, (12, 0), 100, 1) == 1.0  # the scope is all the team finished
    assert trial_shares(0.3, None, 100, 1) == 0.3  # configured or default
    assert trial_shares(0.3, None, 100, 1, scale=4.0) == 1.0  # never more than the whole team


@settings(max_examples=40, deadline=None)
@given(samples=weekly, remaining=st.integers(min_value=1, max_value=100), k=st.integers(1, 30),
       others=st.integers(1, 60), scales=st.tuples(st.floats(1.0, 5.0), st.floats(1.0, 5.0)),
       seed=st.integers(0, 2**32 - 1))
def test_scaling_the_resampled_shares_never_gives_a_later_date(samples: list[int], remaining: int, k: int,
                                                               others: int, scales: tuple[float, float],
                                                               seed: int) -> None:
    low, high = sorted(scales)
    trials = Trials(samples, 200, seed)
    share = k / (k + others)
    a = trials.percentiles(remaining, trial_shares(share, (k, others), 200, seed, low))
    b = trials.percentiles(remaining, trial_shares(share, (k, others), 200, seed, high))
    assert all(y <= x for x, y in zip(a, b, strict=True))
