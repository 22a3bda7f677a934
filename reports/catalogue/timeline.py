"""`timeline`: goals and releases as phases with their sprints and forecast ranges (p50–p95) against
target dates with the buffer left at p85, and the item-level dependencies across epics, teams and
releases (including items of projects that are not synced, shown as external)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from syncd.reports.analysis.critical_path import goal_critical_path
from syncd.reports.analysis.dependencies import (
    EPIC,
    EXTERNAL,
    RELEASE,
    TEAM,
    Dependency,
    DependencyEnd,
    item_dependencies,
    key_project,
)
from syncd.reports.analysis.scope import item_ref, key_order
from syncd.reports.analysis.types import Forecast, GoalAnalysis, Progress, SprintReport
from syncd.reports.catalogue.base import RAG_BADGE, Built, ReportInput, forecast_basis
from syncd.reports.catalogue.charts_for import goal_forecast, slug
from syncd.reports.catalogue.derive import sprints_of
from syncd.reports.catalogue.readiness import release_work
from syncd.reports.render.drawing import Drawn, draw
from syncd.reports.render.escape import Md, md_concat, md_link
from syncd.reports.render.templating import format_number, render_markdown

MAX_SPRINT_NAMES = 2
MAX_PHASES_IN_CHART = 14


def _start(progress: Progress, configured: date | None) -> date | None:
    if configured is not None:
        return configured
    return progress.burnup[0].day if progress.burnup else None


def _sprint_names(reports: list[SprintReport]) -> str:
    """`S1, S2, S3`, or `S1 … S9 (9 sprints)` when there are more than `MAX_SPRINT_NAMES`."""
    names = [r.sprint.name for r in reports]
    if len(names) > MAX_SPRINT_NAMES:
        return f"{names[0]} … {names[-1]} ({len(names)} sprints)"
    return ", ".join(names) or "—"


def _finished(progress: Progress) -> date | None:
    """The day all of the scope was done (and stayed done), for a finished phase."""
    day = None
    for p in progress.burnup:
        if p.scope_items and p.done_items >= p.scope_items:
            day = day or p.day
        else:
            day = None
    return day


def _phase(kind: str, name: str, url: str | None, progress: Progress, start: date | None, target: date | None,
           forecast: Forecast, badge: str, sprints: str) -> dict[str, Any]:
    buffer = (target - forecast.p85).days if target and forecast.p85 else None
    end = _finished(progress) if forecast.done else forecast.p50
    return {"kind": kind, "name": name, "url": url, "start": start, "target": target, "fc": forecast,
            "badge": badge, "sprints": sprints, "buffer": buffer, "end": end, "basis": forecast_basis(forecast)}


def _where(end: DependencyEnd) -> str:
    """`team WID · epic WID-12 · Widget 2.6`: where an end of a dependency belongs."""
    if end.external:
        project = key_project(end.key)
        return f"project {project}, not synced" + (f" (team {end.team})" if end.team != project else "")
    parts = [f"team {end.team}"]
    if end.epic:
        parts.append(f"epic {end.epic}")
    parts.append(", ".join(end.releases) if end.releases else "no release")
    return " · ".join(parts)


def _crossing(d: Dependency) -> str:
    """`team WID → GAD; release Widget 2.6 → Widget 2.7`: the boundaries a dependency crosses."""
    out = []
    for what in d.crosses:
        if what == TEAM:
            out.append(f"team {d.waiting.team} → {d.on.team}")
        elif what == EPIC:
            out.append(f"epic {d.waiting.epic or 'none'} → {d.on.epic or 'none'}")
        elif what == RELEASE:
            out.append(f"release {', '.join(d.waiting.releases)} → {', '.join(d.on.releases) or 'none'}")
        elif what == EXTERNAL:
            out.append("external: " + key_project(d.on.key if d.on.external else d.waiting.key) + " is not synced")
    return "; ".join(out)


def _end_cell(inp: ReportInput, end: DependencyEnd) -> Md:
    link = inp.key_link(item_ref(inp.snapshot, end.item)) if end.item is not None else md_link(
        end.key, inp.item_url(end.key, None))
    title = inp.linkify(end.title) if end.title else "(summary not known)"
    return md_concat([link, " ", title, " (external)" if end.external else "", f" — {_where(end)}"])


def _dependency_rows(inp: ReportInput) -> tuple[list[dict[str, Any]], int]:
    """Open items waiting across a team, epic or release boundary or outside the synced projects, and
    how many open dependencies stay inside one team, epic and release (not listed)."""
    wanted = inp.goal_items.get(inp.scope, set()) if inp.scope else None
    rows, within = [], 0
    for d in item_dependencies(inp.snapshot, inp.analysis.teams):
        if d.waiting.done is True:
            continue
        if wanted is not None and not any(e.item is not None and e.item.id in wanted for e in (d.waiting, d.on)):
            continue
        if not d.crosses:
            within += 1
            continue
        rows.append((not d.open, key_order(d.waiting.key), key_order(d.on.key), {
            "waiting": _end_cell(inp, d.waiting), "on": _end_cell(inp, d.on),
            "status": d.on.status or "not known", "crosses": _crossing(d)}))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows], within


def _critical_path_view(inp: ReportInput, g: GoalAnalysis) -> dict[str, Any]:
    """A goal's critical path (CPM, durations from each team's p50 cycle time) as the template shows it."""
    flow = inp.analysis.flow
    p50s = {team: m.cycle_time_days.p50 for team, m in flow.by_team.items() if m.cycle_time_days is not None}
    overall = flow.overall.cycle_time_days.p50 if flow.overall.cycle_time_days is not None else None
    # the goal's open items (`progress.remaining`), as the risk themes pass them: the path is of open items,
    # and filtering all of a goal's ids instead (31,861 at 100k, 1,067 of them open) cost 55 ms of the report
    remaining = [r.id for r in g.progress.remaining]
    cp = goal_critical_path(inp.snapshot, remaining, p50s, overall, inp.started, inp.now, inp.analysis.teams)
    by_key = inp.snapshot.item_by_key
    steps = []
    for n, s in enumerate(cp.steps, 1):
        item = by_key.get(s.key) if not s.external else None
        link = inp.key_link(item_ref(inp.snapshot, item)) if item is not None else md_link(s.key, inp.item_url(s.key, None))
        where = "" if s.in_goal else (" (external)" if s.external else " (outside the goal)")
        steps.append({"n": n, "item": md_concat([link, " ", inp.linkify(s.title) if s.title else "(summary not known)",
                                                 where]),
                      "status": s.status or "not known", "team": s.team, "days": format_number(s.duration),
                      "basis": s.basis, "start": format_number(s.start), "finish": format_number(s.finish)})
    earliest = inp.analysis.today + timedelta(days=math.ceil(cp.length - 1e-9)) if cp.steps else None
    return {"title": g.goal.title, "cp": cp, "steps": steps, "length": format_number(cp.length),
            "earliest": earliest, "fc": g.forecast}


def _buffer_view(inp: ReportInput, g: GoalAnalysis) -> dict[str, Any]:
    """A goal's phases (epics) with each one's forecast and schedule buffer at p85 (p85 − p50)."""
    rows: list[dict[str, Any]] = []
    done = 0
    for ph in g.phases:
        fc = ph.forecast
        if fc.done:
            done += 1
            continue
        rows.append({"epic": md_concat([inp.key_link(ph.epic), " ", inp.linkify(ph.epic.title)]) if ph.epic else "no epic",
                     "count": ph.items, "left": ph.remaining, "fc": fc, "buffer": ph.buffer_days,
                     "basis": forecast_basis(fc)})
    return {"title": g.goal.title, "rows": rows, "done": done}


def timeline(inp: ReportInput) -> Built:
    """Markdown and chart of the phases, their sprints, dependencies and forecast ranges."""
    a = inp.analysis
    far = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(a.sprints, key=lambda r: (r.sprint.start or far, r.sprint.name))
    phases = []
    for g in a.goals:
        if inp.scope and g.goal.id != inp.scope:
            continue
        reps = sprints_of(inp, inp.goal_items.get(g.goal.id, set()), ordered)
        phases.append(_phase("goal", g.goal.title, None, g.progress, _start(g.progress, g.goal.start), g.goal.target_date,
                             g.forecast, RAG_BADGE[g.status.rag], _sprint_names(reps)))
    for r in a.releases:
        if r.release.released or inp.scope or not r.progress.counts.items_total:
            continue
        ids = {i.id for i in release_work(inp, r.release)}
        phase = _phase("release", r.release.name, r.release.url, r.progress, _start(r.progress, None), r.release.due,
                       r.forecast, RAG_BADGE[r.status.rag], _sprint_names(sprints_of(inp, ids, ordered)))
        phases.append({**phase, "parts": r.release.parts, "state": r.release.state})
    charts: dict[str, Drawn] = {}
    drawable = [(f"{p['kind'][0].upper()}: {p['name']}", p["start"], p["end"], p["fc"].p95, p["target"])
                for p in phases if p["start"] is not None][:MAX_PHASES_IN_CHART]
    chart = None
    if drawable:
        chart = f"timeline-{slug(inp.scope or 'all')}.png"
        charts[chart] = draw("timeline_png", "Phases: work so far, forecast p50–p95, target", drawable, today=a.today)
    distributions = []
    for g in a.goals:
        if inp.scope and g.goal.id != inp.scope:
            continue
        dist = goal_forecast(inp, g)
        if dist is not None:
            charts[dist[0]] = dist[1]
            distributions.append({"title": g.goal.title, "chart": dist[0], "fc": g.forecast,
                                  "target": g.goal.target_date, "basis": forecast_basis(g.forecast)})
    deps, within = _dependency_rows(inp)
    goals = [g for g in a.goals if not inp.scope or g.goal.id == inp.scope]
    flow = a.flow.overall
    md = render_markdown("timeline.md.j2", tz=inp.tz, today=a.today, phases=phases, deps=deps, within=within, chart=chart,
                         distributions=distributions, paths=[_critical_path_view(inp, g) for g in goals],
                         buffers=[_buffer_view(inp, g) for g in goals if g.phases],
                         window=(flow.window_start, flow.window_end))
    return Built("Timeline", md, charts, [], inp.scope, wide=True)
