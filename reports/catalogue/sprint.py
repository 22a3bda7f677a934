"""`sprint-kickoff` and `sprint-review`: a sprint against its goal, its business goal and its history.

Kickoff (the next sprint, or the active one): its dates, the sprint goal tied to the business goal
most of its items serve, the selected items with points and owners (unowned and unestimated ones
named), items without acceptance criteria, commitment against capacity (analysis.capacity) less
the active sprint's likely carry-over, and known risks and dependencies. Review (the sprint that
just ended, or is ending): committed / completed / added / removed / carried over as Jira's sprint
report counts them, whether the goal was met, the burndown, and what shipped.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from syncd.errors import ReportError
from syncd.model import ItemKind, SprintState
from syncd.reports.analysis import sprint_risks
from syncd.reports.analysis.funnel import DELIVERED, Stage
from syncd.reports.analysis.risks_work import has_acceptance_criteria
from syncd.reports.analysis.scope import item_ref
from syncd.reports.analysis.sprint_goal import goal_verdict, velocity_trend
from syncd.reports.analysis.types import GoalAnalysis, SprintEntry, SprintReport
from syncd.reports.catalogue.base import Built, ReportInput, find_scoped, forecast_basis, risk_line
from syncd.reports.catalogue.charts_for import sprint_burndown, sprint_velocity
from syncd.reports.catalogue.derive import open_blockers, open_external_blockers
from syncd.reports.catalogue.status_engineering import MAX_ROWS, item_row
from syncd.reports.render.drawing import Drawn
from syncd.reports.render.escape import md_link
from syncd.reports.render.templating import render_markdown

_AC_KINDS = frozenset({ItemKind.STORY, ItemKind.TASK, ItemKind.ISSUE})


def find_sprint(inp: ReportInput, purpose: str) -> SprintReport:
    """The sprint named by `scope` (id or name), else the natural one for a kickoff or a review."""
    sprints = inp.analysis.sprints
    if inp.scope:
        return find_scoped(inp.scope, sprints, lambda r: (r.sprint.id, r.sprint.name),
                           "sprint among the active, closed and next sprints")
    # as at `now`, not as stored: a report reproduced for a past date sees that day's sprints
    phase = {r.sprint.id: sprint_phase(r, inp.now) for r in sprints}
    active = [r for r in sprints if phase[r.sprint.id] == SprintState.ACTIVE]
    closed = sorted((r for r in sprints if phase[r.sprint.id] == SprintState.CLOSED),
                    key=lambda r: r.sprint.complete or r.sprint.end or inp.now, reverse=True)
    future = sorted((r for r in sprints if phase[r.sprint.id] == SprintState.FUTURE),
                    key=lambda r: (r.sprint.start is None, r.sprint.start or inp.now))
    if purpose == "kickoff":
        candidates = future or active
    else:
        ending = [r for r in active if r.sprint.end is not None and r.sprint.end <= inp.now + timedelta(days=1)]
        candidates = ending or closed or active
    if not candidates:
        raise ReportError(f"no sprint to {'kick off' if purpose == 'kickoff' else 'review'}: "
                          "the store holds no active, closed or future sprint")
    return candidates[0]


def sprint_phase(rep: SprintReport, now: datetime) -> SprintState:
    """Whether the sprint was future, active or closed at `now` (by its dates; its stored state is today's)."""
    s = rep.sprint
    if s.state == SprintState.FUTURE or s.start is None or s.start > now:
        return SprintState.FUTURE
    ended = s.complete if s.complete is not None else (s.end if s.state == SprintState.CLOSED else None)
    return SprintState.CLOSED if ended is not None and ended <= now else SprintState.ACTIVE


def entries_of(rep: SprintReport) -> list[SprintEntry]:
    """The sprint's items once each: committed, then added (removed ones left out)."""
    removed = {e.item.id for e in rep.removed}
    seen: set[str] = set()
    out = []
    for e in [*rep.committed, *rep.added]:
        if e.item.id not in seen and e.item.id not in removed:
            seen.add(e.item.id)
            out.append(e)
    return out


def serving_goal(inp: ReportInput, rep: SprintReport) -> tuple[GoalAnalysis | None, int, int]:
    """The business goal most of the sprint's items serve, with (items serving it, items in the sprint)."""
    ids = {e.item.id for e in entries_of(rep)}
    counts = Counter({g.goal.id: len(ids & inp.goal_items.get(g.goal.id, set())) for g in inp.analysis.goals})
    best = max(inp.analysis.goals, key=lambda g: (counts[g.goal.id], -inp.analysis.goals.index(g)), default=None)
    if best is None or counts[best.goal.id] == 0:
        return None, 0, len(ids)
    return best, counts[best.goal.id], len(ids)


def _goal_names(inp: ReportInput, item_id: str) -> str:
    names = [g.goal.title for g in inp.analysis.goals if item_id in inp.goal_items.get(g.goal.id, set())]
    return ", ".join(names) or "—"


def kickoff(inp: ReportInput) -> Built:
    """Markdown of a sprint kickoff: goal, items, missing acceptance criteria, commitment, risks."""
    rep = find_sprint(inp, "kickoff")
    snap = inp.snapshot
    goal, serving, total = serving_goal(inp, rep)
    rows: list[dict[str, Any]] = []
    missing_ac: list[dict[str, Any]] = []
    dependencies: list[dict[str, Any]] = []
    entries = entries_of(rep)
    for e in entries:
        if len(rows) < MAX_ROWS:
            row = item_row(inp, e.item, e.points_at_end)
            rows.append({**row, "kind": e.item.kind, "goal": _goal_names(inp, e.item.id)})
        item = snap.item_by_id.get(e.item.id)
        if item is not None and item.kind in _AC_KINDS and not has_acceptance_criteria(item.description):
            missing_ac.append({"key": inp.key_link(e.item), "title": inp.linkify(e.item.title),
                               "owner": e.item.assignee or "—"})
        for b in open_blockers(inp, e.item.id):
            dependencies.append({"key": inp.key_link(e.item), "blocker": inp.key_link(item_ref(snap, b)),
                                 "blocker_title": inp.linkify(b.title), "status": b.status,
                                 "in_sprint": rep.sprint.id in b.sprint_ids})
        for lk in open_external_blockers(inp, e.item.id):
            dependencies.append({"key": inp.key_link(e.item), "blocker": md_link(lk.to_key, inp.item_url(lk.to_key, None)),
                                 "blocker_title": inp.linkify(lk.to_summary or "(summary not known)"),
                                 "status": f"{lk.to_status or 'status not known'}, project not synced",
                                 "in_sprint": True})
    risks = sprint_risks(inp.analysis, rep.sprint.id)
    unestimated = [inp.key_link(e.item) for e in entries if e.points_at_end is None]
    unowned = [inp.key_link(e.item) for e in entries if not e.item.assignee]
    md = render_markdown(
        "sprint-kickoff.md.j2", tz=inp.tz, today=inp.analysis.today, r=rep, goal=goal, serving=serving, total=total,
        rows=rows, more=max(0, len(entries) - MAX_ROWS), missing_ac=missing_ac[:MAX_ROWS],
        missing_more=max(0, len(missing_ac) - MAX_ROWS), dependencies=dependencies[:MAX_ROWS],
        dependencies_more=max(0, len(dependencies) - MAX_ROWS), unestimated=unestimated, unowned=unowned,
        entries=len(entries), plan=rep.plan,
        risks=[risk_line(inp, x, links=True) for x in risks], basis=forecast_basis)
    return Built(f"Sprint kickoff: {rep.sprint.name}", md, {}, [x.id for x in risks], rep.sprint.id, wide=True)


def row_at_end(inp: ReportInput, e: SprintEntry) -> dict[str, Any]:
    """An item row with its status as it was at sprint end (today's may have moved on)."""
    row = item_row(inp, e.item, e.points_at_end)
    return {**row, "status": e.status_at_end or row["status"]}


def review(inp: ReportInput) -> Built:
    """Markdown of a sprint review: the sprint report figures, the goal verdict, burndown, velocity, what shipped."""
    rep = find_sprint(inp, "review")
    verdict = goal_verdict(inp.snapshot, rep)
    charts: dict[str, Drawn] = {}
    chart = sprint_burndown(inp, rep)
    if chart is not None:
        charts[chart[0]] = chart[1]
    trend = velocity_trend(inp.snapshot, inp.hist, rep.sprint.id, inp.now,
                           known={r.sprint.id: r for r in inp.analysis.sprints})
    vchart = sprint_velocity(rep, trend)
    if vchart is not None:
        charts[vchart[0]] = vchart[1]
    goal, serving, total = serving_goal(inp, rep)
    start, end = rep.sprint.start, rep.sprint.complete or rep.sprint.end
    shipped = [r for r in inp.analysis.releases if r.release.released and r.release.released_at and start and end
               and start <= r.release.released_at <= end + timedelta(days=1)]
    risks = sprint_risks(inp.analysis, rep.sprint.id)
    # what shipped is what reached production (as of the report), not what Jira calls done
    reached = [e for e in rep.completed if inp.analysis.stages.get(e.item.id) in DELIVERED]
    unreleased = [e for e in rep.completed if inp.analysis.stages.get(e.item.id) not in DELIVERED]

    def rows(entries: list[SprintEntry]) -> dict[str, Any]:
        return {"rows": [row_at_end(inp, e) for e in entries[:MAX_ROWS]],
                "more": max(0, len(entries) - MAX_ROWS)}

    md = render_markdown(
        "sprint-review.md.j2", tz=inp.tz, today=inp.analysis.today, r=rep, goal=goal, serving=serving, total=total,
        v=verdict, chart=chart[0] if chart else None, velocity=trend, velocity_chart=vchart[0] if vchart else None,
        completed=rows(rep.completed), carried=rows(rep.not_completed),
        reached=rows(reached), unreleased=rows(unreleased), no_code=sum(
            1 for e in reached if inp.analysis.stages.get(e.item.id) == Stage.DONE_NO_CODE), added=rows(rep.added),
        removed=rows(rep.removed), shipped=shipped, risks=[risk_line(inp, x, links=True) for x in risks],
        basis=forecast_basis)
    return Built(f"Sprint review: {rep.sprint.name}", md, charts, [x.id for x in risks], rep.sprint.id, wide=True)
