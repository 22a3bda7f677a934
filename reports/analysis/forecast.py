"""Monte Carlo forecasts from weekly throughput: when will the rest be done, how much by a date.

Each trial replays the scope's own history: every future week finishes as many items as a week
drawn at random from the last `weeks` weeks did. The generator is seeded from the subject (goal or
release id), so the same data gives the same report. A forecast needs `MIN_HISTORY_WEEKS` weeks of
history (weeks before the scope's first item existed do not count) and at least one item finished
in them; otherwise it refuses and says why.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from functools import partial

import numpy as np

from syncd.reports.analysis.flow import weekly_counts
from syncd.reports.analysis.scope import local_day
from syncd.reports.analysis.types import Forecast, ItemsByDate

MIN_HISTORY_WEEKS = 4
MAX_WEEKS = 520  # ten years: a forecast further out than that is no forecast
_CHUNK_WEEKS = 52


def seed_for(subject: str) -> int:
    """A stable seed for a subject id (the same on every run and machine)."""
    return zlib.crc32(subject.encode())


def _history(done_times: Sequence[datetime], first_created: datetime | None, now: datetime,
             weeks: int) -> tuple[list[int], str | None]:
    """The weekly throughput samples to draw from, or why there are too few."""
    available = weeks
    if first_created is not None:
        available = min(weeks, int((now - first_created).total_seconds() // (7 * 86400)))
    if available < MIN_HISTORY_WEEKS:
        return [], (f"only {max(available, 0)} full week(s) of history; a forecast needs at least "
                    f"{MIN_HISTORY_WEEKS}")
    samples = weekly_counts(done_times, now, available)
    if sum(samples) == 0:
        return samples, f"no items finished in the last {available} weeks, so there is no pace to project"
    return samples, None


def _nearest_rank(sorted_values: np.ndarray, p: float) -> int:
    n = len(sorted_values)
    return int(sorted_values[max(0, int(np.ceil(p / 100.0 * n)) - 1)])


def weeks_to_finish(samples: Sequence[int], remaining: int, trials: int, seed: int) -> np.ndarray:
    """Per trial, the number of weeks until `remaining` items are finished (MAX_WEEKS + 1: never)."""
    rng = np.random.default_rng(seed)
    pool = np.asarray(samples, dtype=np.int64)
    result = np.full(trials, MAX_WEEKS + 1, dtype=np.int64)
    total = np.zeros(trials, dtype=np.int64)
    open_rows = np.arange(trials)
    week0 = 0
    mean = float(pool.mean()) or 1.0
    span = min(_CHUNK_WEEKS, max(4, int(2 * remaining / mean) + 2))  # most trials finish in the first span
    rising = bool((pool >= 0).all())  # running totals never fall: a row reaches the goal iff its last week does
    while open_rows.size and week0 < MAX_WEEKS:
        span = min(span, MAX_WEEKS - week0)
        draws = pool[rng.integers(0, pool.size, size=(open_rows.size, span))]
        cum = np.cumsum(draws, axis=1, out=draws)
        if week0:
            cum += total[open_rows, None]
        hit = cum[:, -1] >= remaining if rising else (cum >= remaining).any(axis=1)
        result[open_rows[hit]] = week0 + (cum[hit] >= remaining).argmax(axis=1) + 1
        total[open_rows] = cum[:, -1]
        open_rows = open_rows[~hit]
        week0 += span
        span = _CHUNK_WEEKS
    return result


def forecast_completion(remaining: int, done_times: Sequence[datetime], first_created: datetime | None,
                        now: datetime, tz: tzinfo, *, weeks: int, trials: int, seed: int) -> Forecast:
    """p50/p85/p95 completion dates of `remaining` items, from the scope's weekly throughput."""
    samples, refused = _history(done_times, first_created, now, weeks)
    n = len(samples)
    hist_start = local_day(now - timedelta(days=7 * n), tz) if n else None
    hist_end = local_day(now, tz) if n else None
    make = partial(Forecast, remaining_items=remaining, trials=trials, seed=seed, history_weeks=n,
                   history_start=hist_start, history_end=hist_end, weekly_throughput=samples)
    if remaining <= 0:
        return make(done=True)
    if refused:
        return make(refused=refused)
    result = np.sort(weeks_to_finish(samples, remaining, trials, seed))
    p50, p85, p95 = (_nearest_rank(result, p) for p in (50, 85, 95))
    if p95 > MAX_WEEKS:
        return make(refused=f"at the current pace the remaining {remaining} items take more than "
                    f"{MAX_WEEKS // 52} years")

    def when(w: int) -> date:
        return local_day(now + timedelta(days=7 * w), tz)

    return make(p50=when(p50), p85=when(p85), p95=when(p95))


def items_by_date(done_times: Sequence[datetime], first_created: datetime | None, until: date, now: datetime,
                  tz: tzinfo, *, weeks: int, trials: int, seed: int) -> ItemsByDate:
    """How many items will be finished between now and the end of `until` (whole weeks only)."""
    samples, refused = _history(done_times, first_created, now, weeks)
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
