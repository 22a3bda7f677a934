"""Releases queued behind others: a forecast for a release the team has not started yet.

A release with no recent completions of its own would otherwise get the rule-of-succession default
share (see `teams.py`): 1/(N + 2) of the team for as long as it takes, which promises dates years
out for a release that simply waits its turn. Practitioners forecast such work as a queue: Focused
Objective's (Troy Magennis) Multiple Feature Cut Line Forecaster is a "Monte Carlo simulation for
multiple features in priority order" that "determines which features can be completed by a target
date and forecasts completion dates" (https://focusedobjective.com/multi-feature): the team's
throughput is consumed by the features in priority order, so a later feature is finished when the
remaining work of every feature ahead of it, and its own, is finished.

Here the queue is the team's open releases (not released to production) ordered by their date: a
release is *ahead* of another of the same team (the same team label its forecast samples, e.g.
"GAD + acme/gadget") when its date is earlier; an undated release is behind every dated one. A
release with the default share and releases ahead of it is forecast as *queued*:

    remaining = its own remaining items ∪ the remaining items of every release ahead
    share     = the sum of the shares the releases ahead get today (their recent share; one with
                none of its own adds nothing), capped at the whole team

sampled at the team's weekly throughput as any team-share forecast. Where no release ahead has a
share of its own, or nothing is ahead, the default share stays (named as such). A configured
`forecast_default_share` or a goal's `allocation` is a decision someone made and is kept.

Goals enter only through their items: forecasts are keyed by the remaining item set, so a goal
holding exactly a queued release's remaining items gets the release's queued forecast; any other
goal keeps its own share (goals are not ordered against releases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from syncd.reports.analysis.forecast import Sample, forecast_completion, scope_key
from syncd.reports.analysis.types import Forecast, QueuedAhead, ShareSource


@dataclass(frozen=True, slots=True)
class QueuedRelease:
    """An open release as the queue sees it: its date, team, remaining items and today's share."""

    name: str
    due: date | None
    team: str | None  # the team label its forecast samples (None: no team identified)
    remaining_ids: frozenset[str]
    share: float  # its recent share of the team; 0 where it has none of its own (default share)


def releases_ahead(releases: Sequence[QueuedRelease]) -> dict[str, list[QueuedRelease]]:
    """Per release scope key (of its remaining items): the open releases of its team ahead of it, earliest first."""
    out: dict[str, list[QueuedRelease]] = {}
    for rel in releases:
        if rel.team is None or not rel.remaining_ids:
            continue
        ahead = sorted((o for o in releases if o is not rel and o.team == rel.team and o.due is not None
                        and (rel.due is None or o.due < rel.due)), key=lambda o: (o.due or date.max, o.name))
        if ahead:
            out[scope_key(rel.remaining_ids)] = ahead
    return out


def queued_forecast(remaining_ids: Sequence[str], sample: Sample, ahead: Sequence[QueuedRelease], now: datetime,
                    tz: tzinfo, *, trials: int, seed: int) -> Forecast | None:
    """The forecast of a scope waiting behind `ahead` (None: nothing ahead gets a share, so no queue to join)."""
    stream = min(1.0, sum(r.share for r in ahead))
    if stream <= 0 or not remaining_ids or sample.refused:
        return None
    own = set(remaining_ids)
    before = set().union(*(r.remaining_ids for r in ahead)) - own
    fc = forecast_completion(sorted(own | before), replace(sample, share=stream, share_source=ShareSource.QUEUED),
                             now, tz, trials=trials, seed=seed)
    return replace(fc, remaining_items=len(own), key=scope_key(remaining_ids), ahead_items=len(before),
                   ahead=[QueuedAhead(name=r.name, remaining=len(r.remaining_ids), share=r.share) for r in ahead])
