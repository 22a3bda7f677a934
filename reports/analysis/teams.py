"""Which team does a scope's work, and the throughput sample its forecast draws from.

A team is a Jira board or project, or a GitHub repository. With `[teams]` configured, an item is
the first configured team's whose boards, projects or repositories hold it (items outside every
team have none); without it, every Jira project and GitHub repository is a team of its own.

A scope's team is the team (or the union of teams, "WID + acme/widget") holding its items. Its
sample is the team's weekly completions over the forecast window, never before the team first
started or finished an item; the scope's share is its part of the team's completions in the last
`share_weeks` weeks (resampled per trial from what it was measured on, see
`forecast.trial_shares`), or the goal's configured `allocation`, which wins. A scope with no recent
completions of its own gets the default share, named as such: the configured one, else Laplace's
rule of succession (https://en.wikipedia.org/wiki/Rule_of_succession): none of the team's N
completions in the sample window were its own, so its share is estimated at (0 + 1) / (N + 2). A
fixed guess (25%) promised early dates for work nobody had picked up: in the backtest
(bench/forecast_backtest.py) the p85 of such forecasts hit 17 times in 53, against 21 in 31 with
the rule. A scope whose items no team holds
falls back to its own history, counted from its first item started or done.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from syncd.model import WorkItem
from syncd.reports.analysis.forecast import Sample, weekly_sample
from syncd.reports.analysis.history import Histories, ItemFacts
from syncd.reports.analysis.types import ForecastMethod, ShareSource, TeamMap
from syncd.reports.data import Snapshot
from syncd.reports.goals import Team


def sprint_boards(snap: Snapshot) -> dict[str, set[str | None]]:
    """Sprint id -> the id and name of the board it belongs to."""
    return {s.id: {s.board_id, s.board_name} - {None} for s in snap.sprints}


def assign_team(item: WorkItem, configured: Mapping[str, Team], boards: Mapping[str, set[str | None]]) -> str | None:
    """The first configured team whose boards (a sprint of the board held the item), projects or
    repositories hold the item; None when none does."""
    for name, team in configured.items():
        if team.boards and any(not boards.get(sid, set()).isdisjoint(team.boards) for sid in item.sprint_ids):
            return name
        if item.project in team.projects or item.project in team.repositories:
            return name
    return None


def team_map(snap: Snapshot, configured: Mapping[str, Team] | None) -> TeamMap:
    """Every item's configured team, and the team listing each project (empty without `[teams]`:
    each project or repository is a team)."""
    if not configured:
        return TeamMap()
    boards = sprint_boards(snap)
    by_item = {item.id: name for item in snap.items if (name := assign_team(item, configured, boards)) is not None}
    by_project: dict[str, str] = {}
    for name, team in configured.items():
        for project in (*team.projects, *team.repositories):
            by_project.setdefault(project, name)
    return TeamMap(by_item=by_item, by_project=by_project, names=tuple(configured))


class Teams:
    """The team of every scope item, and each team's completions (computed once per analysis)."""

    def __init__(self, snap: Snapshot, hist: Histories, configured: Mapping[str, Team] | None = None) -> None:
        self.configured = dict(configured or {})
        facts = hist.facts()
        self._team_of: dict[str, str | None] = {}
        self._done: dict[str, list[datetime]] = {}
        self._active: dict[str, datetime] = {}
        self._merged: dict[tuple[str, ...], list[datetime]] = {}
        self._weekly: dict[tuple[tuple[str, ...], datetime, int], tuple[list[int], str | None]] = {}
        boards = sprint_boards(snap)
        configured, team_of, done, active = self.configured, self._team_of, self._done, self._active
        # one visit per scope item of the snapshot (100,000 in a big store): lookups held in locals
        for item in snap.scope_items:
            if configured:
                team = assign_team(item, configured, boards)
                team_of[item.id] = team
                if team is None:
                    continue
            else:  # each project is a team: `team_of` says so without a table
                team = item.project
            f = facts[item.id]
            started, done_at = f.started, f.done_at
            first = started  # the earlier of started and done
            if done_at is not None:
                done.setdefault(team, []).append(done_at)
                if started is None or done_at < started:
                    first = done_at
            if first is not None and ((known := active.get(team)) is None or first < known):
                active[team] = first
        for times in self._done.values():
            times.sort()

    def team_of(self, item: WorkItem) -> str | None:
        """The team that does the item's work (None: no configured team holds it)."""
        return self._team_of.get(item.id) if self.configured else item.project

    def done_times(self, teams: Sequence[str]) -> list[datetime]:
        """Completion times of the teams' items, oldest first (not to be changed: shared by every caller)."""
        if len(teams) == 1:
            return self._done.get(teams[0], [])
        key = tuple(teams)
        found = self._merged.get(key)
        if found is None:  # merged once per union of teams: its scopes ask twice each (82,598 times at 100k)
            found = self._merged[key] = sorted(t for team in teams for t in self._done.get(team, []))
        return found

    def active_since(self, teams: Sequence[str]) -> datetime | None:
        """When the first of the teams first started or finished an item."""
        return min((self._active[t] for t in teams if t in self._active), default=None)

    def weekly(self, teams: Sequence[str], now: datetime, window: int) -> tuple[list[int], str | None]:
        """The teams' `weekly_sample` (kept: most scopes of an analysis share a team)."""
        key = (tuple(teams), now, window)
        found = self._weekly.get(key)
        if found is None:
            found = self._weekly[key] = weekly_sample(self.done_times(teams), self.active_since(teams), now, window,
                                                      f"team {' + '.join(teams)}", ordered=True)
        return list(found[0]), found[1]

    def people(self, teams: Sequence[str]) -> int | None:
        """The teams' configured headcount (None unless every one of them has it)."""
        counts = [self.configured[t].people if t in self.configured else None for t in teams]
        return sum(c for c in counts if c is not None) if counts and all(c is not None for c in counts) else None


def _count_between(times: Sequence[datetime], start: datetime, end: datetime) -> int:
    return bisect_left(times, end) - bisect_left(times, start)


def forecast_sample(teams: Teams, items: Sequence[WorkItem], facts: Mapping[str, ItemFacts], now: datetime, *,
                    window: int, share_weeks: int, default_share: float | None, allocation: float | None = None,
                    team: str | None = None) -> Sample:
    """The sample a scope's forecast draws from: its team's throughput × its share, else its own history."""
    # One pass over the items for both the scope's teams and its completions in the share window, by team
    # (two passes took 60 ms of the 100k analysis: each item read costs more than the work done with it).
    since = now - timedelta(days=7 * share_weeks)
    held: set[str] = set()
    recent: dict[str | None, int] = {}
    for i in items:
        t = teams.team_of(i)
        if t is not None:
            held.add(t)
        if (d := facts[i.id].done_at) is not None and since <= d < now:
            recent[t] = recent.get(t, 0) + 1
    names = [team] if team is not None else sorted(held)
    if not names:
        done = [d for i in items if (d := facts[i.id].done_at) is not None]
        first = min((t for i in items for t in facts[i.id] if t is not None), default=None)
        weeks, refused = weekly_sample(done, first, now, window, "this scope (no team identified)")
        return Sample(method=ForecastMethod.OWN_HISTORY, team=None, window_weeks=window, weeks=weeks,
                      refused=refused)
    label = " + ".join(names)
    team_done = teams.done_times(names)
    people = teams.people(names)
    weeks, refused = teams.weekly(names, now, window)
    if refused:
        return Sample(method=ForecastMethod.TEAM_SHARE, team=label, window_weeks=window, weeks=weeks, refused=refused,
                      people=people)
    counts: tuple[int, int] | None = None  # what a measured share was measured on
    if allocation is not None:
        share, source = allocation, ShareSource.CONFIGURED
    else:
        mine = sum(recent.get(t, 0) for t in set(names))
        theirs = _count_between(team_done, since, now)
        if mine and theirs:
            share, source = min(1.0, mine / theirs), ShareSource.RECENT
            counts = (min(mine, theirs), max(0, theirs - mine))
        elif default_share is not None:
            share, source = default_share, ShareSource.DEFAULT
        else:  # none of the team's completions in the whole window were its own: rule of succession
            whole = _count_between(team_done, now - timedelta(days=7 * len(weeks)), now)
            share, source = 1.0 / (whole + 2), ShareSource.DEFAULT
    return Sample(method=ForecastMethod.TEAM_SHARE, team=label, window_weeks=window, weeks=weeks, share=share,
                  share_source=source, share_counts=counts, people=people)
