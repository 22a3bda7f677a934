"""Sprint reports as Jira draws them, rebuilt from the changelog rather than from today's state.

Jira's rules: an item is *committed* when it was in the sprint at the moment the sprint started,
with the story points it had then (later estimate changes do not change the commitment); an item
added after the start is never committed; completed means done when the sprint ended (completed
points use the estimate at the end); an item still in the sprint at its end and not done is carried
over. Sub-tasks and epics are left out, as Jira's sprint report does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from syncd.model import Sprint, SprintState, WorkItem
from syncd.reports.analysis.capacity import sprint_capacity, team_of_sprint
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.scope import item_ref, key_order, sprint_ref
from syncd.reports.analysis.types import SprintEntry, SprintReport
from syncd.reports.data import Snapshot
from syncd.reports.goals import Capacity, Team

# Closing a sprint moves its open items in the same instant; membership "at the end" is read just
# before that, so an item carried over still counts as not completed in the sprint it left.
_END_PROBE = timedelta(seconds=1)


def sprint_members(snap: Snapshot, hist: Histories, wanted: set[str], since: datetime) -> dict[str, list[WorkItem]]:
    """Sprint id -> scope items that were ever in it, for the `wanted` sprints.

    Only items still naming a wanted sprint, or changed since `since` (the earliest start among
    the wanted sprints), can have been in one: a sprint change bumps the item's `updated`.
    """
    out: dict[str, list[WorkItem]] = {}
    history = snap.history
    for item in snap.scope_items:
        if wanted.isdisjoint(item.sprint_ids) and (item.updated < since or item.id not in history):
            continue
        for sid in hist.ever_in_sprint(item) & wanted:
            out.setdefault(sid, []).append(item)
    return out


def carried_over(snap: Snapshot, hist: Histories, items: Sequence[WorkItem]) -> dict[str, list[Sprint]]:
    """Item id -> the closed sprints (in order) that ended with the item in them and not done."""
    # each closed sprint's end once (not per item), and membership read from the item's spans directly
    ends: dict[str, tuple[datetime, datetime]] = {}
    for sprint in snap.sprint_by_id.values():
        end = sprint.complete or sprint.end
        if sprint.state == SprintState.CLOSED and end is not None:
            ends[sprint.id] = (end - _END_PROBE, end)
    out: dict[str, list[Sprint]] = {}
    for item in items:
        closed = []
        created = item.created
        for sid, spans in hist.sprint_intervals(item).items():
            found = ends.get(sid)
            if found is None:
                continue
            before, end = found  # in the sprint just before it closed, or at its end (`in_sprint_at`)
            member = any(entered <= at and (left is None or at < left)
                         for at in (before, end) if created <= at for entered, left in spans)
            if member and not hist.done_at(item, end):
                closed.append(snap.sprint_by_id[sid])
        if closed:
            out[item.id] = sorted(closed, key=order_key)
    return out


def order_key(sprint: Sprint) -> tuple[float, int, str]:
    """Sprints in the order they run: by start (unstarted last), then by Jira's id."""
    start = sprint.start.timestamp() if sprint.start else float("inf")
    rid = int(sprint.remote_id) if sprint.remote_id.isdigit() else 0
    return (start, rid, sprint.id)


def _capacity_for(sprint: Sprint, capacity: Sequence[Capacity]) -> float | None:
    boards = {b for b in (sprint.board_name, sprint.board_id) if b}
    named = [c for c in capacity if c.board in boards and c.sprint == sprint.name]
    if named:
        return named[-1].points
    board_wide = [c for c in capacity if c.board in boards and c.sprint is None]
    return board_wide[-1].points if board_wide else None


def _entry(snap: Snapshot, hist: Histories, item: WorkItem, at_start: datetime, end: datetime,
           added: bool, done: bool) -> SprintEntry:
    return SprintEntry(item=item_ref(snap, item), points_at_start=hist.points_at(item, at_start),
                       points_at_end=hist.points_at(item, end), added_after_start=added, done=done,
                       status_at_end=hist.status_at(item, end))


def _points(entries: Sequence[SprintEntry], at_end: bool = False) -> float:
    return sum((e.points_at_end if at_end else e.points_at_start) or 0.0 for e in entries)


def sprint_figures(snap: Snapshot, hist: Histories, sprint: Sprint, members: Sequence[WorkItem],
                   now: datetime) -> SprintReport:
    """One sprint's report, without velocity and capacity (see `sprint_reports`)."""
    committed: list[SprintEntry] = []
    added: list[SprintEntry] = []
    removed: list[SprintEntry] = []
    completed: list[SprintEntry] = []
    not_completed: list[SprintEntry] = []
    outside: list[SprintEntry] = []
    if sprint.state == SprintState.FUTURE or sprint.start is None:
        for item in members:
            if sprint.id in item.sprint_ids:
                committed.append(_entry(snap, hist, item, now, now, False, hist.done_at(item, now)))
    else:
        start = sprint.start
        end = sprint.complete or (now if sprint.state == SprintState.ACTIVE else (sprint.end or now))
        end = min(end, now)
        for item in members:
            # the end of the sprint is read only for the items it counts (not those done before it started
            # or never in it within its span)
            if hist.in_sprint_at(item, sprint.id, start):
                if hist.done_at(item, start):
                    outside.append(_entry(snap, hist, item, start, end, False, True))
                    continue
                done_end = hist.done_at(item, end)
                entry = _entry(snap, hist, item, start, end, False, done_end)
                committed.append(entry)
            else:
                joined = hist.joined_between(item, sprint.id, start, end)
                if joined is None:
                    continue
                done_end = hist.done_at(item, end)
                entry = _entry(snap, hist, item, joined, end, True, done_end)
                added.append(entry)
            at_end = hist.in_sprint_at(item, sprint.id, end - _END_PROBE) or hist.in_sprint_at(item, sprint.id, end)
            if not at_end:
                removed.append(entry)
            elif done_end:
                completed.append(entry)
            else:
                not_completed.append(entry)
    for lst in (committed, added, removed, completed, not_completed, outside):
        lst.sort(key=lambda e: key_order(e.item.key))
    return SprintReport(
        sprint=sprint_ref(sprint), committed=committed, added=added, removed=removed, completed=completed,
        not_completed=not_completed, completed_outside=outside, committed_points=_points(committed),
        added_points=_points(added), removed_points=_points(removed), completed_points=_points(completed, True),
        not_completed_points=_points(not_completed, True), velocity_average=None, velocity_sprints=[],
        capacity_points=None, commitment_percent=None, commitment_basis=None,
    )


def sprint_reports(snap: Snapshot, hist: Histories, now: datetime, velocity_sprints: int,
                   capacity: Sequence[Capacity] = (), weeks: int = 12, teams: Mapping[str, Team] | None = None,
                   tz: tzinfo = ZoneInfo("UTC")) -> list[SprintReport]:
    """Reports of the active sprints, sprints closed in the last `weeks` weeks (newest first) and
    each board's next sprint, with velocity from the board's previous closed sprints.

    Sprints not yet closed also get their kickoff capacity (`plan`, see analysis.capacity): from the
    configured `[teams]` members, else velocity; a future sprint counts the board's active sprint's
    likely carry-over against it. A goals-file `capacity` in points, where set, is the capacity."""
    ordered = sorted(snap.sprints, key=order_key)
    # each sprint's order key once: the velocity basis compares every shown sprint with every closed one
    rank = {id(s): order_key(s) for s in ordered}
    since = now - timedelta(days=7 * weeks)
    closed = [s for s in ordered if s.state == SprintState.CLOSED]
    active = [s for s in ordered if s.state == SprintState.ACTIVE]
    recent = [s for s in closed if (s.complete or s.end or now) >= since]
    next_future: dict[str | None, Sprint] = {}
    for s in ordered:
        if s.state == SprintState.FUTURE:
            next_future.setdefault(s.board_id, s)
    shown = [*active, *reversed(recent), *next_future.values()]
    basis = {s.id: [c for c in closed if c.board_id == s.board_id and c.id != s.id
                    and rank[id(c)] < rank[id(s)]][-velocity_sprints:] for s in shown}
    needed = {s.id: s for s in shown} | {c.id: c for cs in basis.values() for c in cs}
    starts = [s.start for s in needed.values() if s.start is not None]
    members = sprint_members(snap, hist, set(needed), min(starts, default=now))
    base = {sid: sprint_figures(snap, hist, s, members.get(sid, []), now) for sid, s in needed.items()}
    out = []
    for s in shown:
        report = base[s.id]
        before = basis[s.id]
        avg = sum(base[c.id].completed_points for c in before) / len(before) if before else None
        cap = _capacity_for(s, capacity)
        pct: float | None = None
        kind: str | None = None
        plan = None
        if s.state != SprintState.CLOSED:
            name = team_of_sprint(s, members.get(s.id, []), teams or {})
            board_active = [base[a.id] for a in active if a.board_id == s.board_id and a.id != s.id]
            plan = sprint_capacity(s, report, [o for o in ordered if o.board_id == s.board_id
                                               and rank[id(o)] < rank[id(s)]],
                                   [base[c.id] for c in before], board_active[0] if board_active else None,
                                   name, (teams or {}).get(name) if name else None, now, tz, cap)
        if plan is not None and plan.carry_over_from and plan.points:
            # no headroom left: no percentage to give, the over-commitment risk says the carry-over fills it
            kind = "capacity after the likely carry-over"
            pct = 100.0 * report.committed_points / plan.headroom if plan.headroom else None
        elif cap:
            pct, kind = 100.0 * report.committed_points / cap, "capacity"
        elif plan is not None and plan.points and plan.members:
            pct, kind = 100.0 * report.committed_points / plan.points, "capacity"
        elif avg:
            pct, kind = 100.0 * report.committed_points / avg, "velocity"
        later = [o for o in ordered if o.board_id == s.board_id and rank[id(o)] > rank[id(s)]]
        out.append(replace(report, velocity_average=avg, velocity_sprints=[c.name for c in before],
                           capacity_points=cap, commitment_percent=pct, commitment_basis=kind,
                           next_sprint=sprint_ref(later[0]) if later else None, plan=plan))
    return out
