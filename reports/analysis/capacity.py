"""A sprint's capacity at kickoff: its dates, the points the team can take on, and what it still owes.

Capacity follows Henrik Kniberg's "Scrum and XP from the Trenches" (chapter "How we decide how
much to put in the sprint"): available person-days = members × working days − each person's days
off, and estimated velocity = available person-days × focus factor, the focus factor being the
points the team completed per available person-day in its last sprints (or the configured
`focus_factor` of `[teams.NAME]`). Without configured members the capacity is the mean completed
points of the board's last sprints, and the report says so.

The likely carry-over is the board's active sprint's open points (as now) less what the team's
pace finishes in the working days left: pace = the board's mean velocity spread over the active
sprint's working days. It is counted against the capacity, so the headroom is
capacity − carry-over. Working days are Monday to Friday, from the start day to the day before the
end (numpy.busday_count); a future sprint without dates is placed after the board's previous sprint
with that sprint's length, and the report says it was inferred.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

from syncd.model import Sprint, WorkItem
from syncd.reports.analysis.types import SprintCapacity, SprintReport
from syncd.reports.goals import Team

_UTC = ZoneInfo("UTC")


def working_days(start: datetime, end: datetime, tz: tzinfo = _UTC) -> int:
    """Monday-to-Friday days from the start day up to (not including) the end day."""
    a, b = start.astimezone(tz).date(), end.astimezone(tz).date()
    return int(np.busday_count(a, b)) if b > a else 0


def team_of_sprint(sprint: Sprint, items: Sequence[WorkItem], teams: Mapping[str, Team]) -> str | None:
    """The configured team that runs the sprint: by its board, else by the project most of its items are in."""
    board = {sprint.board_name, sprint.board_id} - {None}
    for name, team in teams.items():
        if not board.isdisjoint(team.boards):
            return name
    projects = [i.project for i in items]
    for project in sorted(set(projects), key=lambda p: -projects.count(p)):
        for name, team in teams.items():
            if project in team.projects or project in team.repositories:
                return name
    return None


def _person_days(team: Team, sprint_name: str, days: int) -> tuple[float, float]:
    off = team.days_off.get(sprint_name, {})
    taken = sum(min(float(days), off.get(m, 0.0)) for m in team.members)
    return len(team.members) * days - taken, taken


def sprint_capacity(sprint: Sprint, report: SprintReport, previous: Sequence[Sprint], basis: Sequence[SprintReport],
                    active: SprintReport | None, team_name: str | None, team: Team | None, now: datetime,
                    tz: tzinfo = _UTC, configured_points: float | None = None) -> SprintCapacity:
    """The capacity of a sprint not yet closed.

    `previous`: the board's sprints before this one, in order (the last gives inferred dates);
    `basis`: reports of the closed sprints velocity is measured on (oldest first); `active`: the
    board's active sprint when this one has not started (its likely carry-over counts against it);
    `configured_points`: a capacity in points set in the goals file, which wins over both methods.
    """
    start, end, inferred = sprint.start, sprint.end, None
    if (start is None or end is None) and previous:
        last = previous[-1]
        if last.start is not None and last.end is not None:
            start, end, inferred = last.end, last.end + (last.end - last.start), last.name
    days = working_days(start, end, tz) if start is not None and end is not None else None
    members = len(team.members) if team is not None else 0
    person_days: float | None = None
    off = 0.0
    ff: float | None = None
    source: str | None = None
    points: float | None = None
    velocities = [b.completed_points for b in basis]
    mean_velocity = sum(velocities) / len(velocities) if velocities else None
    if team is not None and members and days is not None:
        person_days, off = _person_days(team, sprint.name, days)
        if team.focus_factor is not None:
            ff, source = team.focus_factor, "configured"
        else:
            done, avail = 0.0, 0.0
            for b in basis:
                if b.sprint.start is not None and (b.sprint.complete or b.sprint.end) is not None:
                    wd = working_days(b.sprint.start, b.sprint.complete or b.sprint.end or b.sprint.start, tz)
                    avail += _person_days(team, b.sprint.name, wd)[0]
                    done += b.completed_points
            if avail > 0:
                ff, source = done / avail, ", ".join(b.sprint.name for b in basis)
        if ff is not None:
            points = person_days * ff
            basis_text = (f"{members} members × {days} working days − {off:g} days off = {person_days:g} "
                          f"person-days × focus factor {ff:.2f} points per person-day "
                          f"({'configured' if source == 'configured' else 'measured on ' + str(source)})")
        else:
            basis_text = (f"{members} members × {days} working days − {off:g} days off = {person_days:g} "
                          "person-days, but no focus factor: none configured and no closed sprint to measure it on")
    elif mean_velocity is not None:
        points = mean_velocity
        why = (f"team {team_name} lists no members" if team_name is not None and not members
               else "no [teams] entry with members runs this board")
        if team is not None and members and days is None:
            why = "the sprint has no dates"
        basis_text = (f"{why}: assumed equal to the mean completed points of "
                      f"{', '.join(b.sprint.name for b in basis)}, with the same people and sprint length")
    else:
        basis_text = "no members configured and no closed sprint to measure velocity on"
    if configured_points is not None:
        points, basis_text = configured_points, f"{configured_points:g} points, set for this board in the goals file"
    carry_open = carry = 0.0
    carry_from = None
    if active is not None and (sprint.start is None or sprint.start > now):
        carry_from = active.sprint.name
        mine = {e.item.id for e in report.committed}
        carry_open = sum(e.points_at_end or 0.0 for e in active.not_completed if e.item.id not in mine)
        a_start, a_end = active.sprint.start, active.sprint.end
        if a_start is not None and a_end is not None and (total := working_days(a_start, a_end, tz)) > 0:
            left = working_days(max(now, a_start), a_end, tz)
            finish = (mean_velocity or 0.0) * left / total
        else:
            finish = 0.0
        carry = max(0.0, carry_open - finish)
    headroom = max(0.0, points - carry) if points is not None else None
    return SprintCapacity(start=start, end=end, dates_inferred_from=inferred, working_days=days, team=team_name,
                          members=members, days_off=off, person_days=person_days, focus_factor=ff, focus_source=source,
                          points=points, basis=basis_text, carry_over_from=carry_from, carry_over_open=carry_open,
                          carry_over_points=carry, headroom=headroom)
