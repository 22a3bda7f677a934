"""A sprint's flow, for its retrospective: per-team throughput, cycle time and WIP, and the
cumulative flow diagram of the sprint's items.

Definitions are the Kanban Guide's (Vacanti & Coleman, 2020) as Vacanti's "The Kanban Pocket
Guide", chapter 6 "The basic metrics of flow" (prokanban.org) states them, and ActionableAgile's
(Vacanti, "Actionable Agile Metrics for Predictability"):

- Throughput: the number of work items finished per unit of time. Here: the team's items that
  became done (for the last time, and are done now) in the sprint, counted per 7-day slice from
  the sprint's start, and their mean per week = items ÷ (sprint length in days ÷ 7).
- Cycle time: the elapsed time between when a work item started (first moved into an in-progress
  status) and when it finished (last moved to done), in days; p50 and p85 by nearest rank over
  the items finished in the sprint (the same started/done times every other report uses). It is
  elapsed time in fractional days; ActionableAgile's whole-day count (finish day − start day + 1)
  would read up to a day longer.
- WIP: the number of work items started but not finished. Here: the team's items in an
  in-progress status at the end of each sprint day (as the changelog says they were then), and
  their mean over the sprint's calendar days.
- Cumulative flow diagram: for each sprint day, how many of the sprint's items (those in the
  sprint at that day's end, as Jira's sprint history says) were in each status category then,
  stacked Done, In progress, To do. The In progress band's height is that day's WIP of the sprint.

A "day's end" is the next local midnight in the report time zone, or the sprint's end (or now)
when that comes first. A team is a configured `[teams.NAME]` holding one of the sprint's items (by
board, project or repository, first team first, as forecasts and dependencies assign them:
`teams.team_map`), and its row, named with its items' projects ("web (GAD, WID)"), counts every
item that team holds, in the sprint or not; the sprint's items no configured team holds share one
row, "not in a configured team (OPS)", counting every item of those projects that no team holds. Without `[teams]`, a team is a Jira
project (or GitHub repository) of the sprint's items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from syncd.model import StatusCategory, WorkItem
from syncd.reports.analysis.flow import percentiles
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.types import Percentiles, TeamMap

DAY_SECONDS = 86400.0
_PROBE = timedelta(seconds=1)  # the sprint's last moment: Jira moves unfinished items out at completion


@dataclass(frozen=True, slots=True)
class TeamFlow:
    """One team's flow over a sprint, with the figures it is made of."""

    team: str
    days: float  # sprint length in days (start to end, or to now)
    finished: int  # items finished in the sprint
    weekly: list[int]  # finished per 7-day slice from the sprint's start
    per_week: float | None  # finished ÷ (days ÷ 7)
    cycle_days: list[float]  # cycle time of each finished item, shortest first
    cycle: Percentiles | None  # p50 / p85 of cycle_days
    wip_daily: list[int]  # items in progress at each sprint day's end
    wip_average: float | None  # mean of wip_daily


@dataclass(frozen=True, slots=True)
class FlowDay:
    """One day of a cumulative flow diagram: the sprint's items by status category at the day's end."""

    day: date
    todo: int
    in_progress: int
    done: int

    @property
    def total(self) -> int:
        """The items in the sprint that day."""
        return self.todo + self.in_progress + self.done


def sprint_days(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[date, datetime]]:
    """(local day, the moment its figures are read at) for each calendar day of [start, end)."""
    out = []
    day = start.astimezone(tz).date()
    while True:
        begin = datetime.combine(day, time(0), tz)
        if begin >= end:
            break
        out.append((day, min(datetime.combine(day + timedelta(days=1), time(0), tz), end)))
        day += timedelta(days=1)
    return out


def flow_teams(sprint_items: Sequence[WorkItem], items: Sequence[WorkItem],
               teams: TeamMap) -> list[tuple[str, list[WorkItem]]]:
    """The teams of the sprint's items, each with all its `items` (in the sprint or not), named.

    With `[teams]`: the configured teams holding a sprint item, in file order, each named with the
    projects of its items ("web (GAD, WID)"), then one row for the sprint items no team holds ("not
    in a configured team (OPS)") with every item of their projects that no team holds. Without: one
    row per project, sorted.
    """
    if not teams.names:
        projects = sorted({i.project for i in sprint_items})
        return [(p, [i for i in items if i.project == p]) for p in projects]
    held = {t for i in sprint_items if (t := teams.by_item.get(i.id)) is not None}
    out = []
    for name in teams.names:
        if name in held:
            mine = [i for i in items if teams.by_item.get(i.id) == name]
            out.append((f"{name} ({', '.join(sorted({i.project for i in mine}))})", mine))
    loose = sorted({i.project for i in sprint_items if i.id not in teams.by_item})
    if loose:
        out.append((f"not in a configured team ({', '.join(loose)})",
                    [i for i in items if i.id not in teams.by_item and i.project in loose]))
    return out


def team_flow(team: str, items: Sequence[WorkItem], hist: Histories, start: datetime, end: datetime,
              tz: tzinfo) -> TeamFlow:
    """Throughput, cycle time and WIP of one team's `items` over the sprint [start, end)."""
    facts = hist.facts()
    span = max((end - start).total_seconds() / DAY_SECONDS, 0.0)
    slices = max(1, -(-int(span * DAY_SECONDS) // int(7 * DAY_SECONDS))) if span else 0
    weekly = [0] * slices
    cycle: list[float] = []
    for item in items:
        f = facts.get(item.id)
        if f is None or f.done_at is None or not start <= f.done_at < end:
            continue
        weekly[min(slices - 1, int((f.done_at - start).total_seconds() // (7 * DAY_SECONDS)))] += 1
        if f.started is not None and f.started <= f.done_at:
            cycle.append((f.done_at - f.started).total_seconds() / DAY_SECONDS)
    finished = sum(weekly)
    moments = [at for _, at in sprint_days(start, end, tz)]
    # only an item started before the end and not done for good before the start can be in progress
    # then (done_at is the last move to done, so the item stayed done after it): skip the rest unread
    live = [i for i in items if (f := facts.get(i.id)) is not None and f.started is not None and f.started < end
            and not (f.done_at is not None and f.done_at <= start)]
    wip = [sum(1 for i in live if i.created <= at and hist.category_at(i, at) == StatusCategory.IN_PROGRESS)
           for at in moments]
    return TeamFlow(team=team, days=span, finished=finished, weekly=weekly,
                    per_week=finished / (span / 7) if span else None, cycle_days=sorted(cycle),
                    cycle=percentiles(cycle, "days"), wip_daily=wip,
                    wip_average=sum(wip) / len(wip) if wip else None)


def cumulative_flow(items: Sequence[WorkItem], hist: Histories, sprint_id: str, start: datetime, end: datetime,
                    tz: tzinfo) -> list[FlowDay]:
    """Per sprint day, the sprint's `items` then in the sprint, counted by their status category then."""
    out = []
    for day, at in sprint_days(start, end, tz):
        counts = dict.fromkeys(StatusCategory, 0)
        for item in items:
            if hist.in_sprint_at(item, sprint_id, at - _PROBE) or hist.in_sprint_at(item, sprint_id, at):
                counts[hist.category_at(item, at)] += 1
        out.append(FlowDay(day, counts[StatusCategory.TODO], counts[StatusCategory.IN_PROGRESS],
                           counts[StatusCategory.DONE]))
    return out
