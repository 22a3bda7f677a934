"""`retrospective` of a sprint (default: the last one that ended) or a release (`--scope` names it).

Planned vs delivered, scope change, a sprint's per-team flow (throughput, cycle time, WIP) and
cumulative flow diagram (analysis.sprint_flow), the cycle-time trend over the period and the ones
before it, what went well and what slowed the team down — each statement computed from the data, with the
items behind it linked — and the work carried over.

A sprint's trend, its chart, the review waits and the longest cycle times follow the flow table's teams
(`_retro_teams`: with `[teams]` one per configured team holding the sprint's items, labelled
"web (GAD, WID)", and one for the items no team holds); without `[teams]` they cover every item of the
sprint's projects, as one team.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from syncd.model import PullState, SprintState, StatusCategory, WorkItem
from syncd.reports.analysis.flow import first_review, percentiles
from syncd.reports.analysis.history import is_scope
from syncd.reports.analysis.scope import item_ref, key_order
from syncd.reports.analysis.sprint_flow import FlowDay, TeamFlow, cumulative_flow, flow_teams, team_flow
from syncd.reports.analysis.sprint_goal import GOAL_MET_SHARE
from syncd.reports.analysis.types import ItemRef, ReleaseAnalysis, SprintReport
from syncd.reports.catalogue.base import Built, ReportInput
from syncd.reports.catalogue.charts_for import cycle_scatter, slug, sprint_cumulative_flow
from syncd.reports.catalogue.derive import cycle_points, finished_in
from syncd.reports.catalogue.readiness import release_work
from syncd.reports.catalogue.sprint import find_sprint, row_at_end
from syncd.reports.catalogue.status_engineering import MAX_ROWS, item_row
from syncd.reports.render.drawing import Drawn
from syncd.reports.render.escape import Md, md_concat
from syncd.reports.render.templating import format_number, render_markdown

TREND_PERIODS = 4  # this period and up to three before it
REVIEW_WAIT_HOURS = 24
LATE_JOIN_DAYS = 14  # a release item planned this long after planning began counts as added scope


@dataclass(frozen=True)
class Period:
    """A span of time the trend compares: a sprint, or a two-week slice of a release."""

    label: str
    start: datetime
    end: datetime


def _trend(inp: ReportInput, periods: list[Period], ids: AbstractSet[str] | None) -> list[dict[str, Any]]:
    rows = []
    for p in periods:
        pts = cycle_points(inp, p.start, p.end, ids)
        pct = percentiles((v for _, v in pts), "days")
        rows.append({"label": p.label, "finished": len(pts), "p50": pct.p50 if pct else None,
                     "p85": pct.p85 if pct else None})
    return rows


def _slowest(inp: ReportInput, start: datetime, end: datetime, items: list[WorkItem]) -> list[tuple[ItemRef, float]]:
    facts = inp.facts
    out = []
    for item in items:
        f = facts.get(item.id)
        if f and f.done_at and f.started and start <= f.done_at < end and f.started <= f.done_at:
            out.append((item_ref(inp.snapshot, item), (f.done_at - f.started).total_seconds() / 86400))
    return sorted(out, key=lambda x: -x[1])[:3]


def _team_pulls(inp: ReportInput, work: list[WorkItem]) -> set[str]:
    """Ids of the pull requests implementing any item of the projects `work` belongs to (without `[teams]`)."""
    projects = {i.project for i in work}
    out: set[str] = set()
    for item_id, pull_ids in inp.snapshot.pulls_implementing.items():
        item = inp.snapshot.item_by_id.get(item_id)
        if item is not None and item.project in projects:
            out.update(pull_ids)
    return out


def _pull_teams(inp: ReportInput) -> dict[str, str]:
    """Pull request item id -> its team: the team of the first item it implements (by key), else the team
    whose repositories hold it (`TeamMap.of`: a configured team, else the repository)."""
    snap, teams = inp.snapshot, inp.analysis.teams
    out: dict[str, str] = {}
    implemented = sorted((snap.item_by_id[i] for i in snap.pulls_implementing if i in snap.item_by_id),
                         key=lambda i: key_order(i.key))
    for item in implemented:
        for pid in snap.pulls_implementing[item.id]:
            out.setdefault(pid, teams.of(item.id, item.project))
    for pull in snap.pulls:
        own = snap.item_by_id.get(pull.item_id)
        if own is not None:
            out.setdefault(pull.item_id, teams.of(own.id, own.project))
    return out


@dataclass(frozen=True)
class RetroTeam:
    """One team the cycle-time trend, its chart and the review lists follow (label None: the only one,
    without `[teams]`)."""

    label: str | None
    items: list[WorkItem]  # the team's items, in the sprint or not
    pulls: set[str]  # its pull requests' item ids
    members: list[WorkItem]  # its items in the sprint


def _retro_teams(inp: ReportInput, members: list[WorkItem]) -> list[RetroTeam]:
    """The teams of `members` (a sprint's or a release's items).

    Without `[teams]`: one team, every item of the members' projects. With them: the flow table's teams
    (`sprint_flow.flow_teams`, labelled alike: "web (GAD, WID)", "not in a configured team (OPS)"), each
    with its pull requests (`_pull_teams`) and its items in the sprint."""
    snap, teams = inp.snapshot, inp.analysis.teams
    if not teams.names:
        projects = {i.project for i in members}
        work = [i for i in snap.items if i.project in projects]  # the board's projects: the team's work
        return [RetroTeam(None, work, _team_pulls(inp, work), members)]
    pull_team = _pull_teams(inp)
    out = []
    for label, items in flow_teams(members, snap.scope_items, teams):
        names = {teams.of(i.id, i.project) for i in items}
        ids = {i.id for i in items}
        out.append(RetroTeam(label, items, {p for p, t in pull_team.items() if t in names},
                             [i for i in members if i.id in ids]))
    return out


def _review_waits(inp: ReportInput, start: datetime, end: datetime, pulls: set[str]) -> list[ItemRef]:
    """The team's pull requests opened in the period that waited more than REVIEW_WAIT_HOURS for a first review."""
    out = []
    for pull in inp.snapshot.pulls:
        item = inp.snapshot.item_by_id.get(pull.item_id)
        if item is None or pull.item_id not in pulls or not start <= item.created < end:
            continue
        reviewed = first_review(pull, item.reporter_id)
        merged = pull.merged_at if pull.state == PullState.MERGED else None
        waited_until = reviewed or merged or min(end, inp.now)
        if (waited_until - item.created).total_seconds() / 3600 > REVIEW_WAIT_HOURS:
            out.append(item_ref(inp.snapshot, item))
    return sorted(out, key=lambda r: r.key)


def _blocked_during(inp: ReportInput, items: list[WorkItem], end: datetime) -> list[ItemRef]:
    snap, hist = inp.snapshot, inp.hist
    out = []
    for item in items:
        for bid in snap.blockers_of.get(item.id, ()):
            blocker = snap.item_by_id.get(bid)
            if blocker is not None and not hist.done_at(blocker, end):
                out.append(item_ref(snap, item))
                break
    return out


def _keys(inp: ReportInput, refs: list[ItemRef], limit: int = 5) -> Md:
    parts: list[Any] = []
    for n, ref in enumerate(refs[:limit]):
        parts += [inp.key_link(ref), ", " if n < min(limit, len(refs)) - 1 else ""]
    if len(refs) > limit:
        parts.append(f" and {len(refs) - limit} more")
    return md_concat(parts)


@dataclass(frozen=True)
class TeamTrend:
    """What a team's statements are made of: its trend rows, slow review starts and longest cycle times."""

    label: str | None  # None: the only team, unnamed (no `[teams]`), or a release's items
    trend: list[dict[str, Any]]
    waits: list[ItemRef] | None  # None: no review statement for it
    slowest: list[tuple[ItemRef, float]]
    finished: int  # items finished in the latest period: only then "every pull request got a review" is said


def _said(label: str | None, text: str) -> str:
    """`text`, or `web (GAD, WID): text` (first letter lower-cased) for a named team."""
    return text if label is None else f"{label}: {text[:1].lower()}{text[1:]}"


def _observations(inp: ReportInput, *, planned: float, delivered_share: float | None, added: float,
                  carried: list[ItemRef], blocked: list[ItemRef], teams: list[TeamTrend],
                  unit: str) -> tuple[list[Md], list[Md]]:
    """(went well, slowed us down): sentences computed from the figures, items linked; the cycle-time,
    review and longest-cycle statements once per team, named as the flow table names it."""
    well: list[Md] = []
    slow: list[Md] = []
    if delivered_share is not None:
        line = md_concat([f"Delivered {delivered_share:.0%} of what was planned ({format_number(planned)} {unit})."])
        (well if delivered_share >= GOAL_MET_SHARE else slow).append(line)
    share = added / planned if planned else None
    if added == 0:
        well.append(md_concat(["No scope was added after the start."]))
    elif share is not None and share >= 0.1:
        slow.append(md_concat([f"Scope grew by {format_number(added)} {unit} ({share:.0%} of the plan) after the start."]))
    for t in teams:
        trend = t.trend
        now, before = (trend[0] if trend else None), next((r for r in trend[1:] if r["p50"] is not None), None)
        if now and before and now["p50"] is not None:
            change = (now["p50"] - before["p50"]) / before["p50"] if before["p50"] else 0.0
            text = _said(t.label, f"Median cycle time went from {format_number(before['p50'])} to "
                                  f"{format_number(now['p50'])} days ({before['label']} → {now['label']}).")
            if change <= -0.1:
                well.append(md_concat([text]))
            elif change >= 0.1:
                slow.append(md_concat([text]))
    if not carried:
        well.append(md_concat(["Nothing was carried over."]))
    else:
        slow.append(md_concat([f"{len(carried)} item{'s' if len(carried) > 1 else ''} carried over: ",
                               _keys(inp, carried), "."]))
    if blocked:
        slow.append(md_concat([f"{len(blocked)} item{'s' if len(blocked) > 1 else ''} waited on blockers: ",
                               _keys(inp, blocked), "."]))
    for t in teams:
        if t.waits:
            slow.append(md_concat([_said(t.label, f"{len(t.waits)} pull request{'s' if len(t.waits) > 1 else ''} "
                                                  f"waited more than {REVIEW_WAIT_HOURS} h for a first review: "),
                                   _keys(inp, t.waits), "."]))
        elif t.waits is not None and t.finished:
            well.append(md_concat([_said(t.label, f"Every pull request got a first review within {REVIEW_WAIT_HOURS} h.")]))
    for t in teams:
        if t.slowest and t.trend and t.trend[0]["p85"] is not None:
            long = [(r, d) for r, d in t.slowest if d > t.trend[0]["p85"]]
            if long:
                parts: list[Any] = [_said(t.label, "Longest cycle times: ")]
                for n, (ref, days) in enumerate(long):
                    parts += [inp.key_link(ref), f" {format_number(days, 0)} days" + (", " if n < len(long) - 1 else ".")]
                slow.append(md_concat(parts))
    return well, slow


def _sprint_periods(inp: ReportInput, rep: SprintReport) -> list[Period]:
    closed = [r for r in inp.analysis.sprints if r.sprint.board == rep.sprint.board
              and r.sprint.start is not None and r.sprint.state != SprintState.FUTURE
              and (rep.sprint.start is None or r.sprint.start <= rep.sprint.start)]
    closed.sort(key=lambda r: r.sprint.start, reverse=True)  # type: ignore[arg-type,return-value]
    out = []
    for r in closed[:TREND_PERIODS]:
        end = min(r.sprint.complete or r.sprint.end or inp.now, inp.now)
        out.append(Period(r.sprint.name, r.sprint.start, end))  # type: ignore[arg-type]
    return out


def _flow(inp: ReportInput, rep: SprintReport, start: datetime, end: datetime) -> tuple[list[TeamFlow], list[FlowDay]]:
    """Per-team flow over the sprint (a team: a configured team, else a project, of the sprint's items;
    `sprint_flow.flow_teams`) and the sprint's cumulative flow."""
    snap = inp.snapshot
    sprint_items = [snap.item_by_id[e.item.id] for part in (rep.committed, rep.added, rep.removed)
                    for e in part if e.item.id in snap.item_by_id]
    if rep.sprint.start is None or end <= start:
        return [], []
    flows = [team_flow(name, items, inp.hist, start, end, inp.tz)
             for name, items in flow_teams(sprint_items, snap.scope_items, inp.analysis.teams)]
    unique = list({i.id: i for i in sprint_items}.values())
    return flows, cumulative_flow(unique, inp.hist, rep.sprint.id, start, end, inp.tz)


def _sprint_retro(inp: ReportInput, rep: SprintReport) -> Built:
    periods = _sprint_periods(inp, rep)
    members = [inp.snapshot.item_by_id[e.item.id] for part in (rep.committed, rep.added)
               for e in part if e.item.id in inp.snapshot.item_by_id]
    start, end = (periods[0].start, periods[0].end) if periods else (inp.now, inp.now)
    carried = [e.item for e in rep.not_completed]
    committed_done = sum((e.points_at_start or 0.0) for e in rep.committed if e in rep.completed)
    share = committed_done / rep.committed_points if rep.committed_points else None
    charts: dict[str, Drawn] = {}
    trends: list[TeamTrend] = []
    shown: list[dict[str, Any]] = []
    # the trend's periods and the chart lie within these bounds
    since, until = min((p.start for p in periods), default=start), max((p.end for p in periods), default=end)
    for team in _retro_teams(inp, members):
        # once: each period and the chart read the same team's items
        ids = finished_in(inp, {i.id for i in team.items}, since, until)
        trend = _trend(inp, periods, ids)
        trends.append(TeamTrend(team.label, trend, _review_waits(inp, start, end, team.pulls),
                                _slowest(inp, start, end, team.members), trend[0]["finished"] if trend else 0))
        name = f"cycle-time-{slug(rep.sprint.id)}" + (f"-{slug(team.label.split(' (')[0])}" if team.label else "")
        if team.label and f"{slug(name)}.png" in charts:  # two team names alike once made file-safe
            name += f"-{len(shown) + 1}"
        chart = cycle_scatter(inp, periods[-1].start, end, name, ids, team.label) if periods else None
        if chart:
            charts[chart[0]] = chart[1]
        shown.append({"label": team.label, "trend": trend, "chart": chart[0] if chart else None})
    well, slow = _observations(
        inp, planned=rep.committed_points, delivered_share=share, added=rep.added_points, carried=carried,
        blocked=_blocked_during(inp, members, end), teams=trends, unit="points")
    flows, cfd = _flow(inp, rep, start, end)
    cfd_chart = sprint_cumulative_flow(rep, cfd)
    if cfd_chart:
        charts[cfd_chart[0]] = cfd_chart[1]
    named = bool(inp.analysis.teams.names)
    md = render_markdown(
        "retrospective.md.j2", tz=inp.tz, today=inp.analysis.today, subject=f"sprint {rep.sprint.name}",
        flows=flows, configured_teams=named, cfd=cfd,
        cfd_chart=cfd_chart[0] if cfd_chart else None, flow_days=len(cfd),
        name=rep.sprint.name, start=rep.sprint.start, end=rep.sprint.end, unit="points",
        planned=rep.committed_points, delivered=rep.completed_points, committed_done=committed_done, share=share,
        added=rep.added_points, removed=rep.removed_points, added_n=len(rep.added), removed_n=len(rep.removed),
        trend=shown[0]["trend"] if shown else [], chart=shown[0]["chart"] if shown else None,
        team_trends=shown if named else [], well=well, slow=slow,
        carried=[row_at_end(inp, e) for e in rep.not_completed[:MAX_ROWS]], states_at_end=True,
        carried_more=max(0, len(rep.not_completed) - MAX_ROWS))
    return Built(f"Retrospective: {rep.sprint.name}", md, charts, [], rep.sprint.id, wide=True)


def _release_retro(inp: ReportInput, rel: ReleaseAnalysis) -> Built:
    work = [i for i in release_work(inp, rel.release) if is_scope(i)]
    facts = inp.facts
    end = min(rel.release.released_at or inp.now, inp.now)
    begin = min((i.created for i in work), default=end)
    periods: list[Period] = []
    cursor = end
    while cursor > begin and len(periods) < TREND_PERIODS:
        periods.append(Period(f"two weeks to {cursor.astimezone(inp.tz).date()}", cursor - timedelta(days=14), cursor))
        cursor -= timedelta(days=14)
    work_ids = {i.id for i in work}
    trend = _trend(inp, periods, work_ids)
    done = [i for i in work if (d := facts[i.id].done_at) is not None and d <= end]
    late = [i for i in work if i.created > begin + timedelta(days=LATE_JOIN_DAYS)]
    carried = [item_ref(inp.snapshot, i) for i in work if i.status_category != StatusCategory.DONE]
    late_ids = {i.id for i in late}
    initial = [i for i in work if i.id not in late_ids]
    initial_done = [i for i in done if i.id not in late_ids]
    share = len(initial_done) / len(initial) if initial else None
    finished = trend[0]["finished"] if trend else 0
    slowest = _slowest(inp, begin, end, work)
    if inp.analysis.teams.names:  # the trend is the release's items'; the review statements, each team's
        trends = [TeamTrend(None, trend, None, slowest, finished)] + [
            TeamTrend(t.label, [], _review_waits(inp, begin, end, t.pulls), [], finished)
            for t in _retro_teams(inp, work)]
    else:
        trends = [TeamTrend(None, trend, _review_waits(inp, begin, end, _team_pulls(inp, work)), slowest, finished)]
    well, slow = _observations(
        inp, planned=float(len(initial)), delivered_share=share, added=float(len(late)), carried=carried,
        blocked=_blocked_during(inp, work, end), teams=trends, unit="items")
    charts: dict[str, Drawn] = {}
    chart = cycle_scatter(inp, begin, end, f"cycle-time-{slug(rel.release.id)}", work_ids)
    if chart:
        charts[chart[0]] = chart[1]
    md = render_markdown(
        "retrospective.md.j2", tz=inp.tz, today=inp.analysis.today, subject=f"release {rel.release.name}",
        name=rel.release.name, start=begin, end=end, unit="items", planned=len(initial), delivered=len(done),
        committed_done=len(initial_done), share=share, added=len(late), removed=0, added_n=len(late), removed_n=0,
        trend=trend, chart=chart[0] if chart else None, team_trends=[], well=well, slow=slow, flows=[],
        configured_teams=False, cfd=[], cfd_chart=None,
        flow_days=0, states_at_end=False, carried=[item_row(inp, r) for r in carried[:MAX_ROWS]], carried_more=max(0, len(carried) - MAX_ROWS))
    return Built(f"Retrospective: release {rel.release.name}", md, charts, [], rel.release.id, wide=True)


def retrospective(inp: ReportInput) -> Built:
    """A sprint retrospective, or a release one when `scope` names a release."""
    if inp.scope:
        wanted = inp.scope.casefold()
        for rel in inp.analysis.releases:
            if wanted in (rel.release.id.casefold(), rel.release.name.casefold()):
                return _release_retro(inp, rel)
    return _sprint_retro(inp, find_sprint(inp, "review"))
