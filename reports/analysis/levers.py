"""The dated options of a scope forecast to miss its target: cut, raise allocation, add people, move the date.

Each option is simulated on the same draws as the forecast (`forecast.Trials` with its seed, and
its per-trial shares, see `forecast.trial_shares`), so its p85 is comparable with the forecast's.
More people scale every trial's share alike (the share stays as uncertain as it was measured,
only larger). A raised allocation is a set share, as a goal's configured `allocation` is: the
lever's date is what the forecast gives once `allocation = X` is set. The cut line follows Focused Objective's cut-line
forecaster (https://focusedobjective.com/multi-feature): drop items from the bottom of the
priority order until the rest finishes by the target at 85%. Here the bottom is the lowest
priority (by the site's priority id, see `priority_position`), then the latest added, and items
not started before items in progress.

- *cut N items*: the smallest N that makes the target at p85, and which items.
- *raise allocation to X%*: the smallest share of the team (in whole percent) that makes it.
- *add N people*: only where the team's headcount is configured; throughput is assumed to grow in
  proportion to headcount, which is optimistic (new people need time to become productive).
- *move the date to D*: D is the p85 forecast.

A target already past leaves only the new date: no cut or allocation finishes in the past.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo

from syncd.model import StatusCategory, WorkItem
from syncd.reports.analysis.forecast import (
    MAX_WEEKS,
    Shares,
    Trials,
    forecast_shares,
    format_share,
    trials_for,
    week_date,
)
from syncd.reports.analysis.types import Forecast, ForecastMethod, ItemRef, Lever, LeverKind

# Jira's default priority scheme by id (1 Highest .. 5 Lowest, the same in every language), for items
# stored without a priority id: their English default names; anything else sorts with Medium (3).
_DEFAULT_PRIORITY_IDS = {"highest": 1, "blocker": 1, "critical": 1, "high": 2, "major": 2, "medium": 3, "low": 4,
                         "minor": 4, "lowest": 5, "trivial": 5}
_MEDIUM = 3


def priority_position(item: WorkItem) -> int:
    """The item's place in the site's priority order, higher is less urgent.

    Jira's priority id, not its name: names are translated and renamed ("Höchste", "Normal"), and
    sort wrongly as text ("High" < "Highest" < "Low" < "Lowest" < "Medium"). Jira's default scheme
    numbers Highest to Lowest 1 to 5 (ids of priorities a site adds later are larger, so they rank
    as less urgent than the defaults). Without an id (GitHub, or an item stored before the id was),
    the English default names, else Medium.
    """
    if item.priority_id is not None and item.priority_id.isdigit():
        return int(item.priority_id)
    return _DEFAULT_PRIORITY_IDS.get((item.priority or "").lower(), _MEDIUM)


def cut_order(items: Sequence[WorkItem]) -> list[WorkItem]:
    """Remaining items in the order they would be cut: not started first, lowest priority, latest added."""
    def rank(i: WorkItem) -> tuple[int, int, float]:
        started = i.status_category == StatusCategory.IN_PROGRESS
        return (int(started), -priority_position(i), -i.created.timestamp())
    return sorted((i for i in items if i.status_category != StatusCategory.DONE), key=rank)


def _p85_weeks(trials: Trials, remaining: float, shares: Shares) -> int:
    return trials.percentiles(remaining, shares)[1]


def forecast_options(fc: Forecast, target: date | None, cuttable: Sequence[ItemRef], now: datetime, tz: tzinfo, *,
                     people: int | None = None) -> list[Lever]:
    """The dated options of a forecast whose p85 is after `target` (none otherwise), earliest p85 first.

    `cuttable` is the remaining items in cut order (see `cut_order`).
    """
    if target is None or fc.p85 is None or fc.p85 <= target or not fc.weekly_throughput:
        return []
    move = Lever(kind=LeverKind.MOVE_DATE, description=f"move the date from {target.isoformat()} to "
                 f"{fc.p85.isoformat()}", p85=fc.p85, makes_target=True)
    if target < week_date(now, tz, 0):
        return [replace(move, description=f"the target {target.isoformat()} has passed: move the date to "
                        f"{fc.p85.isoformat()}")]
    trials = trials_for(tuple(fc.weekly_throughput), fc.trials, fc.seed)
    remaining = fc.remaining_items
    shares = forecast_shares(fc)  # each trial's share, as the forecast drew them

    def makes(n_left: float, share: Shares) -> bool:  # a queued scope's items come after those ahead of it
        w = _p85_weeks(trials, n_left + fc.ahead_items, share)
        return w <= MAX_WEEKS and week_date(now, tz, w) <= target

    def when(n_left: float, share: Shares) -> date | None:
        w = _p85_weeks(trials, n_left + fc.ahead_items, share)
        return week_date(now, tz, w) if w <= MAX_WEEKS else None

    out: list[Lever] = []
    # cut: the smallest N (binary search: fewer items never finish later on the same draws)
    lo, hi = 1, remaining - 1
    if hi >= 1 and makes(remaining - hi, shares):
        while lo < hi:
            mid = (lo + hi) // 2
            if makes(remaining - mid, shares):
                hi = mid
            else:
                lo = mid + 1
        cut = list(cuttable[:lo])
        out.append(Lever(kind=LeverKind.CUT, description=f"cut {lo} of {remaining} items",
                         p85=when(remaining - lo, shares), makes_target=True, cut_items=cut))
    else:
        out.append(Lever(kind=LeverKind.CUT, description=f"cutting alone cannot make it: with 1 item left the 85% "
                         f"forecast is still after {target.isoformat()}", p85=when(1, shares), makes_target=False))
    if fc.method == ForecastMethod.TEAM_SHARE:
        team = fc.team or "the team"
        if makes(remaining, 1.0):
            lo_pct, hi_pct = int(fc.share * 100) + 1, 100
            while lo_pct < hi_pct:
                mid = (lo_pct + hi_pct) // 2
                if makes(remaining, mid / 100):
                    hi_pct = mid
                else:
                    lo_pct = mid + 1
            share = lo_pct / 100
            out.append(Lever(kind=LeverKind.ALLOCATION, description=f"raise the allocation of {team} from "
                             f"{format_share(fc.share)} to {format_share(share)}", p85=when(remaining, share),
                             makes_target=True, share=share))
        else:
            out.append(Lever(kind=LeverKind.ALLOCATION, description=f"even all of {team} (100%, from "
                             f"{format_share(fc.share)}) finishes after {target.isoformat()}",
                             p85=when(remaining, 1.0), makes_target=False, share=1.0))
        if people:
            for extra in range(1, people + 1):  # at most doubling the team
                grown = forecast_shares(fc, fc.share * (people + extra) / people)
                if makes(remaining, grown):
                    out.append(Lever(kind=LeverKind.ADD_PEOPLE, description=f"add {extra} people to {team} "
                                     f"({people} → {people + extra}, if they are productive at once)",
                                     p85=when(remaining, grown), makes_target=True, people=extra))
                    break
            else:
                out.append(Lever(kind=LeverKind.ADD_PEOPLE, description=f"even doubling {team} ({people} → "
                                 f"{2 * people} people) finishes after {target.isoformat()}",
                                 p85=when(remaining, forecast_shares(fc, fc.share * 2)), makes_target=False,
                                 people=people))
    out.append(move)
    kinds = list(LeverKind)
    out.sort(key=lambda lv: (not lv.makes_target, lv.p85 or date.max, kinds.index(lv.kind)))
    return out
