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
release is *ahead* of another when its date is earlier and their teams overlap (they share a
Jira project, repository or configured team); an undated release is behind every dated one. A
release with releases ahead of it is forecast as *queued*, whether it has a recent share of its
own (it is started, but works beside the releases ahead) or only the default share:

    remaining = its own remaining items ∪ the remaining items of every release ahead
    share     = the part of its team's completions in the share window (the last
                `forecast_share_weeks` weeks) that were items of the releases ahead or its own:
                the capacity the release stream gets today, capped at the whole team

sampled at its team's weekly throughput like any team-share forecast. With one team this share is
the sum of the releases' recent shares, its own included (Widget 2.7 behind Widget 2.6: 6 + 43
items at WID's throughput × (0.41 + 0.067)). Where neither a release ahead nor the release itself
finished anything recently, the default share stays (named as such). A configured
`forecast_default_share` (for a release with none of its own) or a goal's `allocation` is a
decision someone made and is kept.

The stream's share is one point share, not resampled per trial (`forecast.trial_shares` draws a
single scope's k of n): the k of n it is measured on are several releases' completions whose
mix changes as the releases ahead finish, and the queue's backtest (bench/RESULTS.md, "new +
queue") measured it as a point share. The interval therefore comes from the throughput draws only.

Goals enter only through their items: forecasts are keyed by the remaining item set, so a goal
holding exactly a queued release's remaining items gets the release's queued forecast; any other
goal keeps its own share (goals are not ordered against releases).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo

from syncd.model import WorkItem
from syncd.reports.analysis.forecast import Sample, forecast_completion, scope_key
from syncd.reports.analysis.history import ItemFacts
from syncd.reports.analysis.teams import Teams
from syncd.reports.analysis.types import Forecast, QueuedAhead, ShareSource


@dataclass(frozen=True, slots=True)
class QueuedRelease:
    """An open release as the queue sees it: its date, teams, items and remaining items."""

    name: str
    due: date | None
    teams: frozenset[str]  # the teams holding its items (empty: no team identified)
    items: tuple[WorkItem, ...]
    remaining_ids: frozenset[str]

    @property
    def team_label(self) -> str:
        """The team label its forecast samples: `GAD + acme/gadget`."""
        return " + ".join(sorted(self.teams))


def queued_release(teams: Teams, name: str, due: date | None, items: Sequence[WorkItem],
                   remaining: Sequence[WorkItem]) -> QueuedRelease:
    """An open release's place in the queue."""
    return QueuedRelease(name=name, due=due, teams=frozenset(t for i in items if (t := teams.team_of(i)) is not None),
                         items=tuple(items), remaining_ids=frozenset(i.id for i in remaining))


def releases_ahead(releases: Sequence[QueuedRelease]) -> dict[str, tuple[QueuedRelease, list[QueuedRelease]]]:
    """Per release scope key (of its remaining items): the release and the open releases ahead of it, earliest first."""
    out: dict[str, tuple[QueuedRelease, list[QueuedRelease]]] = {}
    for rel in releases:
        if not rel.teams or not rel.remaining_ids:
            continue
        ahead = sorted((o for o in releases if o is not rel and not o.teams.isdisjoint(rel.teams)
                        and o.due is not None and (rel.due is None or o.due < rel.due)),
                       key=lambda o: (o.due or date.max, o.name))
        if ahead:
            out[scope_key(rel.remaining_ids)] = (rel, ahead)
    return out


def _done_in(teams: Teams, items: Sequence[WorkItem], facts: Mapping[str, ItemFacts], member: frozenset[str],
             since: datetime, now: datetime) -> set[str]:
    return {i.id for i in items if (d := facts[i.id].done_at) is not None and since <= d < now
            and teams.team_of(i) in member}


def queued_forecast(rel: QueuedRelease, ahead: Sequence[QueuedRelease], sample: Sample, teams: Teams,
                    facts: Mapping[str, ItemFacts], now: datetime, tz: tzinfo, *, share_weeks: int, trials: int,
                    seed: int) -> Forecast | None:
    """The forecast of a release waiting behind `ahead` (None: neither it nor anything ahead finished anything recently)."""
    if sample.refused or not rel.remaining_ids:
        return None
    since = now - timedelta(days=7 * share_weeks)
    team_done = teams.done_times(sorted(rel.teams))
    theirs = bisect_left(team_done, now) - bisect_left(team_done, since)
    parts = [_done_in(teams, r.items, facts, rel.teams, since, now) for r in ahead]
    mine = _done_in(teams, rel.items, facts, rel.teams, since, now)
    stream = min(1.0, len(mine.union(*parts)) / theirs) if theirs else 0.0
    if stream <= 0:
        return None
    own = set(rel.remaining_ids)
    before = set().union(*(r.remaining_ids for r in ahead)) - own
    fc = forecast_completion(sorted(own | before), replace(sample, share=stream, share_source=ShareSource.QUEUED,
                                                           share_counts=None),
                             now, tz, trials=trials, seed=seed)
    return replace(fc, remaining_items=len(own), key=scope_key(own), ahead_items=len(before),
                   own_share=len(mine) / theirs,
                   ahead=[QueuedAhead(name=r.name, remaining=len(r.remaining_ids), share=len(p) / theirs)
                          for r, p in zip(ahead, parts, strict=True)])
