"""Monte Carlo forecasts from weekly throughput: when will the rest be done, how much by a date.

The method is the throughput Monte Carlo practitioners use (ActionableAgile's "Monte Carlo: When",
https://55degrees.atlassian.net/wiki/spaces/ActionableAgile/pages/2408972289, and Troy Magennis's
Focused Objective forecasters, https://focusedobjective.com/multi-feature): count the items the
*team* finished in each of its recent weeks (idle weeks count as zeros, weeks before the team had
started anything do not), and let every simulated future week finish as many as a week drawn at
random from that sample. The team's work is shared among several scopes, so the scope's part of
each drawn week is the team's count times the scope's share of the team's recent completions (or
the allocation the goal sets): the forecaster's "split of throughput" input.

Where no team does the work (see `teams.py`), the scope's own completions are the sample, counted
from its first item started or done (never from creation: items wait long before work starts).

A measured share is itself uncertain, so each trial draws its own share around it (see
`trial_shares`): the interval widens with the uncertainty of the allocation.

Draws are made in blocks of `_BLOCK` weeks for every trial, from a generator seeded by the caller
(from the scope's remaining item ids, so a goal and a release with the same items get the same
dates); the shares come from a second stream of the same seed. The draws therefore do not depend
on how many items remain or on the share (a lever scales every trial's share alike), which makes
the dates monotone: more items never finish earlier, a larger share never later.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

import numpy as np

from syncd.reports.analysis.flow import weekly_counts, weekly_counts_ordered
from syncd.reports.analysis.scope import local_day
from syncd.reports.analysis.types import Forecast, ForecastMethod, ItemsByDate, ShareSource

MIN_HISTORY_WEEKS = 2  # fewer full weeks than this: no pace to project at all
MIN_CONFIDENT_WEEKS = 6  # fewer sampled weeks than this: the forecast is marked low-confidence
MAX_WEEKS = 520  # ten years: a forecast further out than that is no forecast
_BLOCK = 52
_SHARE_STREAM = 0x5AE  # the share draws' own stream beside the throughput draws of the same seed
_EPS = 1e-9


def seed_for(subject: str) -> int:
    """A stable seed for a subject id (the same on every run and machine)."""
    return zlib.crc32(subject.encode())


def scope_key(item_ids: Iterable[str]) -> str:
    """The forecast key of a scope: a digest of its sorted remaining item ids."""
    return hashlib.sha256("\n".join(sorted(item_ids)).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Sample:
    """The weekly throughput a forecast draws from, and how it was chosen.

    `weeks` are the team's counts (oldest first) before the share is applied; `share` is the part
    of them that goes to the scope (1.0 for own history). `refused` says why there is no pace.
    """

    method: ForecastMethod
    team: str | None
    window_weeks: int
    weeks: list[int]
    share: float = 1.0
    share_source: ShareSource = ShareSource.NONE
    share_counts: tuple[int, int] | None = None  # (the scope's, the team's other) completions the share is measured on
    refused: str | None = None
    people: int | None = None  # the team's configured headcount, when any (the add-people lever)


def weekly_sample(done_times: Sequence[datetime], active_since: datetime | None, now: datetime,
                  window: int, who: str, *, ordered: bool = False) -> tuple[list[int], str | None]:
    """Weekly counts over the last `window` weeks, never before `active_since`; or why there are too few.

    `ordered`: the times are sorted oldest first (counted by bisection)."""
    if active_since is None:
        return [], f"{who} has not started or finished any item yet"
    available = min(window, int((now - active_since).total_seconds() // (7 * 86400)))
    if available < MIN_HISTORY_WEEKS:
        return [], (f"{who} has only {max(available, 0)} full week(s) of history; a forecast needs at least "
                    f"{MIN_HISTORY_WEEKS}")
    samples = (weekly_counts_ordered if ordered else weekly_counts)(done_times, now, available)
    if sum(samples) == 0:
        return samples, f"{who} finished no items in the last {available} weeks, so there is no pace to project"
    return samples, None


Shares = float | np.ndarray  # one share for every trial, or one per trial


def _need(remaining: float, share: Shares) -> float | np.ndarray:
    """The team items a trial must finish for `remaining` of the scope's at `share` (inf: never)."""
    if isinstance(share, np.ndarray):
        s = np.minimum(share, 1.0)
        with np.errstate(divide="ignore"):
            return np.where(s > 0, remaining / np.where(s > 0, s, 1.0), np.inf) - _EPS
    return remaining / min(share, 1.0) - _EPS


@lru_cache(maxsize=64)
def _beta_draws(alpha: int, beta: int, trials: int, seed: int) -> np.ndarray:
    draws = np.random.default_rng((seed, _SHARE_STREAM)).beta(alpha, beta, size=trials)
    draws.setflags(write=False)
    return draws


def trial_shares(share: float, counts: tuple[int, int] | None, trials: int, seed: int, scale: float = 1.0) -> Shares:
    """The share each simulated future uses: resampled where it was measured, else the point share.

    A share measured on the team's recent completions (k of n were the scope's) is an estimate
    from a small sample. A Monte Carlo forecast takes "a distribution (rather than a point
    estimate) ... for each of the decomposed parts" and creates each trial "by drawing randomly
    from each of the distributions" (Armstrong's forecasting dictionary,
    http://armstrong.wharton.upenn.edu/dictionary/definitions/monte%20carlo%20simulation.html), so
    the uncertainty of the allocation widens the interval. Each trial draws its share from
    Beta(k, n - k), the posterior of a binomial proportion under Haldane's Beta(0, 0) prior (one of
    the standard priors beside Bayes-Laplace's Beta(1, 1) and Jeffreys's Beta(1/2, 1/2), see
    https://rdrr.io/cran/revdbayes/man/set_bin_prior.html): its mean is k / n, the share the
    report shows, and its spread shrinks as n grows. Bayes-Laplace's Beta(k + 1, n - k + 1) moves
    every small share toward 1/2, so earlier dates: its p85 hit 79.5% in the backtest against
    86.2% (bench/RESULTS.md). A share with no other completions (k = n: the scope is all the team
    did), a configured allocation and a default share stay fixed. `scale` multiplies every trial's
    share (a lever: a higher allocation, more people), capped at the whole team.
    """
    if counts is None or counts[0] <= 0 or counts[1] <= 0:
        return min(1.0, share * scale)
    draws = _beta_draws(counts[0], counts[1], trials, seed)
    return np.minimum(1.0, draws * scale) if scale != 1.0 else draws


def forecast_shares(fc: Forecast, share: float | None = None) -> Shares:
    """The per-trial shares of a forecast, or (with `share`) the same draws scaled to that mean share."""
    scale = 1.0 if share is None or fc.share <= 0 else share / fc.share
    if fc.share_counts is None and share is not None:
        return min(1.0, share)
    return trial_shares(fc.share, fc.share_counts, fc.trials, fc.seed, scale)


def _nearest_rank(sorted_values: np.ndarray, p: float) -> int:
    n = len(sorted_values)
    return int(sorted_values[max(0, int(np.ceil(p / 100.0 * n)) - 1)])


class Trials:
    """The simulated futures of one sample: per trial, the running total of the team's finished items.

    Totals are kept week by week (one array over the trials per simulated week), so a percentile
    is a binary search over weeks, each step counting the trials that are through by then.
    """

    def __init__(self, samples: Sequence[int], trials: int, seed: int) -> None:
        self._pool = np.asarray(samples, dtype=np.int64)
        self._rng = np.random.default_rng(seed)
        self._trials = trials
        self._blocks: list[np.ndarray] = []  # each (_BLOCK, trials): totals after each week of the block
        self._lock = threading.Lock()  # shared through `trials_for`: block k is always the k-th draw

    @property
    def _horizon(self) -> int:
        return min(MAX_WEEKS, _BLOCK * len(self._blocks))

    def _extend(self) -> None:
        with self._lock:
            draws = self._pool[self._rng.integers(0, self._pool.size, size=(self._trials, _BLOCK))]
            block = np.cumsum(draws, axis=1)
            if self._blocks:
                block += self._blocks[-1][-1][:, None]
            # int32 where the totals fit (always, short of 4 million items a week): a sample's ten years
            # of 10,000 trials take 21 MB, not 42, and the cache holds 16 samples (issue 18 item 4)
            narrow = block.dtype == np.int64 and (not block.size or int(block.max()) <= np.iinfo(np.int32).max)
            self._blocks.append(np.ascontiguousarray(block.T, dtype=np.int32 if narrow else block.dtype))

    def _through(self, week: int, need: float | np.ndarray) -> int:
        """How many trials have finished `need` items by the end of `week` (1-based)."""
        return int(np.count_nonzero(self._blocks[(week - 1) // _BLOCK][(week - 1) % _BLOCK] >= need))

    def _never(self, remaining: float, share: Shares) -> bool:
        return remaining > 0 and (bool(np.all(np.asarray(share) <= 0)) or not self._pool.size
                                  or int(self._pool.max()) == 0)

    def weeks(self, remaining: float, share: Shares = 1.0) -> np.ndarray:
        """Per trial, weeks until `remaining` items are finished at `share` of the team (MAX_WEEKS + 1: never)."""
        if remaining <= 0:
            return np.zeros(self._trials, dtype=np.int64)
        if self._never(remaining, share):
            return np.full(self._trials, MAX_WEEKS + 1, dtype=np.int64)
        need = _need(remaining, share)
        while self._horizon < MAX_WEEKS and (not self._blocks or self._through(self._horizon, need) < self._trials):
            self._extend()
        hit = np.vstack([b >= need for b in self._blocks])[:MAX_WEEKS]  # booleans only: no copy of the totals
        reached = hit[-1]
        out = np.full(self._trials, MAX_WEEKS + 1, dtype=np.int64)
        out[reached] = hit[:, reached].argmax(axis=0) + 1
        return out

    def percentiles(self, remaining: float, share: Shares = 1.0) -> tuple[int, int, int]:
        """p50/p85/p95 weeks to finish (nearest rank); MAX_WEEKS + 1 where the trials never finish."""
        if remaining <= 0:
            return 0, 0, 0
        if self._never(remaining, share):
            return (MAX_WEEKS + 1,) * 3
        need = _need(remaining, share)
        ranks = [max(1, int(np.ceil(p / 100.0 * self._trials))) for p in (50, 85, 95)]
        while self._horizon < MAX_WEEKS and (not self._blocks or self._through(self._horizon, need) < ranks[-1]):
            self._extend()
        out = []
        for k in ranks:
            lo, hi = 1, self._horizon
            if self._through(hi, need) < k:
                out.append(MAX_WEEKS + 1)
                continue
            while lo < hi:  # the first week by which k trials are through
                mid = (lo + hi) // 2
                if self._through(mid, need) >= k:
                    hi = mid
                else:
                    lo = mid + 1
            out.append(lo)
        return out[0], out[1], out[2]


@lru_cache(maxsize=4)
def trials_for(samples: tuple[int, ...], trials: int, seed: int) -> Trials:
    """The (shared) simulated futures of a sample: a forecast and its levers draw them once.

    Each forecast has its own seed, and its levers use its draws right after it, so a few are
    enough: 16 samples of up to ten years of 10,000 trials held 45 MiB at 100,000 items. One drawn
    again later (a chart) is the same: block k is always the k-th draw of the seed.
    """
    return Trials(samples, trials, seed)


def weeks_to_finish(samples: Sequence[int], remaining: int, trials: int, seed: int, share: Shares = 1.0) -> np.ndarray:
    """Per trial, the number of weeks until `remaining` items are finished (MAX_WEEKS + 1: never)."""
    return trials_for(tuple(samples), trials, seed).weeks(remaining, share)


def week_date(now: datetime, tz: tzinfo, weeks: int) -> date:
    """The report-time-zone day `weeks` weeks after `now`."""
    return local_day(now + timedelta(days=7 * weeks), tz)


def forecast_completion(remaining_ids: Sequence[str], sample: Sample, now: datetime, tz: tzinfo, *,
                        trials: int, seed: int) -> Forecast:
    """p50/p85/p95 completion dates of the remaining items, from the sample's weekly throughput × share."""
    n = len(sample.weeks)
    remaining = len(remaining_ids)
    base = Forecast(
        remaining_items=remaining, trials=trials, seed=seed, history_weeks=n,
        history_start=local_day(now - timedelta(days=7 * n), tz) if n else None,
        history_end=local_day(now, tz) if n else None, weekly_throughput=list(sample.weeks),
        method=sample.method, team=sample.team, window_weeks=sample.window_weeks, sample_items=sum(sample.weeks),
        share=sample.share, share_source=sample.share_source, share_counts=sample.share_counts,
        low_confidence=n < MIN_CONFIDENT_WEEKS, key=scope_key(remaining_ids))
    if remaining <= 0:
        return replace(base, done=True, low_confidence=False)
    if sample.refused:
        return replace(base, refused=sample.refused)
    shares = trial_shares(sample.share, sample.share_counts, trials, seed)
    p50, p85, p95 = trials_for(tuple(sample.weeks), trials, seed).percentiles(remaining, shares)
    if p95 > MAX_WEEKS:
        return replace(base, refused=f"at {format_share(sample.share)} of the pace sampled, the remaining {remaining} "
                     f"items take more than {MAX_WEEKS // 52} years")
    return replace(base, p50=week_date(now, tz, p50), p85=week_date(now, tz, p85), p95=week_date(now, tz, p95))


def format_share(share: float) -> str:
    """A share as a whole percent (one decimal below 10%): `23%`, `6.5%`."""
    pct = 100.0 * share
    return f"{pct:.1f}%" if pct < 10 and round(pct, 1) != round(pct) else f"{pct:.0f}%"


def items_by_date(done_times: Sequence[datetime], active_since: datetime | None, until: date, now: datetime,
                  tz: tzinfo, *, weeks: int, trials: int, seed: int) -> ItemsByDate:
    """How many items will be finished between now and the end of `until` (whole weeks only)."""
    samples, refused = weekly_sample(done_times, active_since, now, weeks, "this scope")
    if refused:
        return ItemsByDate(until=until, history_weeks=len(samples), refused=refused)
    days = (until - local_day(now, tz)).days
    horizon = max(0, days // 7)
    if horizon == 0:
        return ItemsByDate(until=until, history_weeks=len(samples), p50=0, p85=0, p95=0)
    rng = np.random.default_rng(seed)
    pool = np.asarray(samples, dtype=np.int64)
    totals = np.sort(pool[rng.integers(0, pool.size, size=(trials, horizon))].sum(axis=1))
    # "at least N with 85% confidence" is the 15th percentile of the simulated totals
    return ItemsByDate(until=until, history_weeks=len(samples), p50=_nearest_rank(totals, 50),
                       p85=_nearest_rank(totals, 15), p95=_nearest_rank(totals, 5))
