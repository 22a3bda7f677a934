"""`analyse`: one snapshot, the goals and `now` in; everything a report needs out."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from syncd.model import ReleaseKind, RiskAck, SprintState, StatusCategory, WorkItem
from syncd.reports.analysis.dora import DeliveryConventions
from syncd.reports.analysis.flow import flow
from syncd.reports.analysis.forecast import Sample, forecast_completion, items_by_date, scope_key, seed_for
from syncd.reports.analysis.funnel import Stages, funnel_of
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.levers import cut_order, forecast_options
from syncd.reports.analysis.metrics import metric_value
from syncd.reports.analysis.progress import ForecastInputs, GoalDates, ReleaseClock, progress_and_forecast_inputs
from syncd.reports.analysis.queue import QueuedRelease, queued_forecast, queued_release, releases_ahead
from syncd.reports.analysis.releases import JoinConfig, JoinedRelease, ReleaseJoin, ReleaseState, join_releases
from syncd.reports.analysis.risk_rules import RiskThresholds, rule_configs, sort_risks
from syncd.reports.analysis.risks import RiskContext, ScopePart, evaluate_risks
from syncd.reports.analysis.risks_work import work_limits
from syncd.reports.analysis.scope import item_ref, key_order, local_day, release_items, release_ref, select_items
from syncd.reports.analysis.sprints import sprint_reports
from syncd.reports.analysis.status import scope_status
from syncd.reports.analysis.teams import Teams, forecast_sample, team_map
from syncd.reports.analysis.themes import apply_acks, risk_themes
from syncd.reports.analysis.types import (
    Analysis,
    Deferred,
    Forecast,
    GoalAnalysis,
    ItemsByDate,
    MetricValue,
    PhaseForecast,
    ReleaseAnalysis,
    Risk,
    ShareSource,
)
from syncd.reports.data import Snapshot
from syncd.reports.goals import Capacity, Goal, Selector, Team


class AnalysisSettings(Protocol):
    """What analysis reads from the settings (`syncd.settings.ReportSettings` has it all)."""

    @property
    def timezone(self) -> str: ...
    @property
    def velocity_sprints(self) -> int: ...
    @property
    def forecast_trials(self) -> int: ...
    @property
    def forecast_weeks(self) -> int: ...
    @property
    def forecast_share_weeks(self) -> int: ...
    @property
    def forecast_default_share(self) -> float | None: ...
    @property
    def risks(self) -> Mapping[str, Mapping[str, Any]]: ...
    @property
    def thresholds(self) -> RiskThresholds: ...


class _Forecasts:
    """One forecast per scope, keyed by its remaining item ids: a goal and a release with the same
    items get the same dates (the first to ask, goals before releases, sets the share). A scope
    with a recent share or the rule-of-succession default share (not an allocation or a configured
    default share) that holds exactly an open release's remaining items, with releases of its team
    ahead, is forecast as queued behind them (see `queue.py`)."""

    def __init__(self, snap: Snapshot, hist: Histories, teams: Teams, now: datetime, tz: tzinfo,
                 settings: AnalysisSettings) -> None:
        self.snap, self.facts, self.teams, self.now, self.tz, self.settings = snap, hist.facts(), teams, now, tz, settings
        self._by_key: dict[str, tuple[Forecast, int | None]] = {}
        self._queue: dict[str, tuple[QueuedRelease, list[QueuedRelease]]] = {}

    def sample(self, items: Sequence[WorkItem], allocation: float | None = None, team: str | None = None) -> Sample:
        """The throughput sample a scope's forecast draws from (see `teams.forecast_sample`)."""
        s = self.settings
        return forecast_sample(self.teams, items, self.facts, self.now, window=s.forecast_weeks,
                               share_weeks=s.forecast_share_weeks, default_share=s.forecast_default_share,
                               allocation=allocation, team=team)

    def queue_releases(self, releases: Sequence[tuple[str, date | None, Sequence[WorkItem], Sequence[WorkItem]]]) -> None:
        """Set the open releases' queue: (name, date, items, remaining items) of each, before any scope asks."""
        self._queue = releases_ahead([queued_release(self.teams, *r) for r in releases])

    def of(self, items: Sequence[WorkItem], inputs: ForecastInputs, target: date | None, *,
           allocation: float | None = None, team: str | None = None) -> Forecast:
        """The scope's forecast, with its dated options when it misses `target`."""
        s = self.settings
        ids = [i.id for i in inputs.remaining]
        key = scope_key(ids)
        found = self._by_key.get(key) if ids else None
        if found is None:
            sample = self.sample(items, allocation, team)
            queued = None
            rel, ahead = self._queue.get(key, (None, []))
            if (rel is not None and sample.team == rel.team_label
                    and (sample.share_source == ShareSource.RECENT
                         or (sample.share_source == ShareSource.DEFAULT and s.forecast_default_share is None))):
                queued = queued_forecast(rel, ahead, sample, self.teams, self.facts, self.now, self.tz,
                                         share_weeks=s.forecast_share_weeks, trials=s.forecast_trials,
                                         seed=seed_for(key))
            found = (queued or forecast_completion(ids, sample, self.now, self.tz, trials=s.forecast_trials,
                                                   seed=seed_for(key)), sample.people)
            if ids:
                self._by_key[key] = found
        fc, people = found
        options = forecast_options(fc, target, [item_ref(self.snap, i) for i in cut_order(inputs.remaining)],
                                   self.now, self.tz, people=people)
        return replace(fc, options=options) if options else fc


def _phases(snap: Snapshot, forecasts: _Forecasts, part: ScopePart) -> list[PhaseForecast]:
    """The goal's phases: its items grouped by epic, each forecast on its own (the same way as any scope)."""
    by_epic: dict[str | None, list[WorkItem]] = {}
    for item in part.items:
        by_epic.setdefault(item.epic_id if item.epic_id in snap.item_by_id else None, []).append(item)
    team = part.goal.team if part.goal is not None else None
    out = []
    for epic_id in sorted(by_epic, key=lambda e: (e is None, key_order(snap.item_by_id[e].key) if e else ("", 0, ""))):
        items = by_epic[epic_id]
        remaining = sorted((i for i in items if i.status_category != StatusCategory.DONE),
                           key=lambda i: (i.status_category != StatusCategory.IN_PROGRESS, key_order(i.key)))
        fc = forecasts.of(items, ForecastInputs(remaining), None, team=team)
        epic = item_ref(snap, snap.item_by_id[epic_id]) if epic_id is not None else None
        out.append(PhaseForecast(epic=epic, items=len(items), remaining=len(remaining), forecast=fc))
    return out


def _phases_of(phases: Deferred[dict[str, list[PhaseForecast]]], goal_id: str) -> list[PhaseForecast]:
    return phases.get()[goal_id]


def _releases_in_view(join: ReleaseJoin, now: datetime, weeks: int) -> list[JoinedRelease]:
    """Releases not yet in production that have a fix version or milestone (by due date), then those
    released to production in the window (newest first): each joined release once."""
    since = now - timedelta(days=7 * weeks)
    open_ = sorted((j for j in join.releases if j.state != ReleaseState.RELEASED
                    and any(p.kind != ReleaseKind.RELEASE for p in j.parts)),
                   key=lambda j: (j.due is None, j.due or date.max, j.name))
    shipped = sorted((j for j in join.releases if j.state == ReleaseState.RELEASED and j.released_at is not None
                      and j.released_at >= since), key=lambda j: j.released_at or now, reverse=True)
    return [*open_, *shipped]


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold off the cyclic garbage collector: analysis allocates many small objects next to a large
    snapshot, and each full collection would walk the whole snapshot again (a third of the run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def analyse(snapshot: Snapshot, goals: Sequence[Goal], settings: AnalysisSettings, now: datetime, *,
            capacity: Sequence[Capacity] = (), teams: Mapping[str, Team] | None = None,
            releases: JoinConfig | None = None, delivery: DeliveryConventions | None = None,
            acks: Sequence[RiskAck] = ()) -> Analysis:
    """Progress, forecasts, sprints, flow, risks and status for every goal and release, at `now`.

    `teams` are the configured `[teams]` (none: every project and repository is a team). `releases`:
    how fix versions, milestones and GitHub releases are joined into one release; `delivery`: the
    conventions DORA's four keys are counted by (`[delivery]`). `acks`: accepted
    risk themes (stored and configured), see `themes.apply_acks`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with _no_gc_pauses():
        return _analyse(snapshot, goals, settings, now, capacity, teams or {}, releases, delivery, acks)


def _analyse(snapshot: Snapshot, goals: Sequence[Goal], settings: AnalysisSettings, now: datetime,
             capacity: Sequence[Capacity], teams: Mapping[str, Team], join_config: JoinConfig | None = None,
             delivery: DeliveryConventions | None = None, acks: Sequence[RiskAck] = ()) -> Analysis:
    tz = ZoneInfo(settings.timezone)
    today = local_day(now, tz)
    snap = snapshot
    hist = Histories(snap)
    join = join_releases(snap, join_config)
    release_of = join.of_part
    clock = ReleaseClock(snap, join)
    stages = Stages(snap, clock)
    rules = rule_configs(settings.risks)
    forecasts = _Forecasts(snap, hist, Teams(snap, hist, teams), now, tz, settings)

    # the releases' progress first: their queue (open releases by date) is known before any scope is forecast
    joined_by_id: dict[str, JoinedRelease] = {}
    in_view = []
    for joined in _releases_in_view(join, now, settings.forecast_weeks):
        rel = joined.release
        joined_by_id[rel.id] = joined
        items = release_items(snap, rel, [p.id for p in joined.parts if p.kind != ReleaseKind.RELEASE])
        scope_progress, inputs = progress_and_forecast_inputs(snap, hist, items, clock, today, tz)
        in_view.append((joined, items, replace(scope_progress, funnel=funnel_of(items, stages)), inputs))
    forecasts.queue_releases([(j.release.name, j.due, items, inputs.remaining) for j, items, _, inputs in in_view
                              if j.state != ReleaseState.RELEASED])

    goal_parts: list[ScopePart] = []
    goals_of_item: dict[str, list[str]] = {}
    for goal in goals:
        items = select_items(snap, goal.scope)
        for item in items:
            goals_of_item.setdefault(item.id, []).append(goal.id)
        scope_progress, inputs = progress_and_forecast_inputs(snap, hist, items, clock, today, tz,
                                                               GoalDates(goal.baseline_date, goal.start))
        scope_progress = replace(scope_progress, funnel=funnel_of(items, stages))
        goal_parts.append(ScopePart(
            id=goal.id, name=goal.title, target=goal.target_date, items=items, owner=goal.owner, goal=goal,
            progress=scope_progress,
            forecast=forecasts.of(items, inputs, goal.target_date, allocation=goal.allocation, team=goal.team)))

    release_parts: list[ScopePart] = []
    for joined, items, scope_progress, inputs in in_view:
        rel = joined.release
        release_parts.append(ScopePart(
            id=rel.id, name=rel.name, target=rel.due, items=items, url=rel.url, release=rel,
            progress=scope_progress, forecast=forecasts.of(items, inputs, rel.due)))

    # after the releases: a phase with a release's remaining items gets the release's forecast, not the reverse.
    # Only the timeline shows phases: every goal's are worked out (in goal order) when the first is read;
    # nothing after this line asks `forecasts`, so they come out as they would here.
    all_phases = Deferred(lambda: {part.id: _phases(snap, forecasts, part) for part in goal_parts})

    sprints = sprint_reports(snap, hist, now, settings.velocity_sprints, capacity, settings.forecast_weeks, teams, tz)
    team_of = team_map(snap, teams)
    flows = flow(snap, hist, clock, now, tz, settings.forecast_weeks, delivery, team_of)
    current_sprints = {r.sprint.id for r in sprints if r.sprint.state != SprintState.CLOSED}
    ctx = RiskContext(snap=snap, hist=hist, now=now, tz=tz, today=today, rules=rules, goals=goal_parts,
                      releases=release_parts, sprints=sprints, flow=flows, goals_of_item=goals_of_item,
                      current_sprints=current_sprints, release_of=release_of, thresholds=settings.thresholds,
                      teams=team_of)
    risks = evaluate_risks(ctx)
    themes, hygiene = risk_themes(ctx, risks)
    themes, accepted, pinned = apply_acks(themes, acks, today, settings.thresholds.ack_slip_days)

    # each scope's risks in one pass over the risks, not one pass per scope (8,000 risks x 52 scopes at 100k)
    risks_of_goal: dict[str, list[Risk]] = {}
    risks_of_release: dict[str, list[Risk]] = {}
    for r in risks:
        for gid in r.goal_ids:
            risks_of_goal.setdefault(gid, []).append(r)
        for rid in r.release_ids:
            risks_of_release.setdefault(rid, []).append(r)
    goal_results = []
    metrics: dict[tuple[object, object], MetricValue] = {}  # goals often share one metric: compute it once
    for part in goal_parts:
        assert part.goal is not None
        mine = sort_risks(risks_of_goal.get(part.id, ()))
        m = part.goal.metric
        key = (m, m.selector or part.goal.scope if m.computed is not None else None)
        if key not in metrics:
            metrics[key] = metric_value(snap, hist, part.goal, now, today, tz, settings.forecast_weeks)
        goal_results.append(GoalAnalysis(
            goal=part.goal, progress=part.progress, forecast=part.forecast,
            on_track=_on_track(part.forecast, part.target),
            metric=metrics[key],
            status=scope_status("goal", part.forecast, part.target, mine, part.progress.funnel), risks=mine,
            phase_forecasts=Deferred(partial(_phases_of, all_phases, part.id))))
    release_results = []
    for part in release_parts:
        assert part.release is not None
        mine = sort_risks(risks_of_release.get(part.id, ()))
        joined = joined_by_id[part.id]
        release_results.append(ReleaseAnalysis(
            release=release_ref(part.release, joined.parts, joined.state.value, joined.team),
            progress=part.progress, forecast=part.forecast,
            on_track=_on_track(part.forecast, part.target),
            status=scope_status("release", part.forecast, part.target, mine, part.progress.funnel,
                                in_production=part.release.released), risks=mine))
    return Analysis(now=now, timezone=settings.timezone, today=today, goals=goal_results, releases=release_results,
                    sprints=sprints, flow=flows, risks=risks, release_of=release_of,
                    work_limits=work_limits(flows, rules, settings.thresholds),
                    stages=stages,
                    themes=themes, hygiene=hygiene, accepted=accepted, pinned_acks=pinned, teams=ctx.teams,
                    histories=hist)


def _on_track(forecast: Forecast, target: date | None) -> bool | None:
    if forecast.done:
        return True
    if target is None or forecast.p85 is None:
        return None
    return forecast.p85 <= target


def sprint_risks(analysis: Analysis, sprint_id: str) -> list[Risk]:
    """The risks attributed to one sprint, most severe first."""
    return [r for r in analysis.risks if sprint_id in r.sprint_ids]


def forecast_items_by(snapshot: Snapshot, selector: Selector | None, until: date, settings: AnalysisSettings,
                      now: datetime) -> ItemsByDate:
    """How many items (of the selector's scope, or of all work) will be finished by `until`."""
    tz = ZoneInfo(settings.timezone)
    hist = Histories(snapshot)
    items = select_items(snapshot, selector) if selector is not None else snapshot.scope_items
    facts = hist.facts()
    done = [d for i in items if (d := facts[i.id].done_at) is not None]
    first = min((t for i in items for t in facts[i.id] if t is not None), default=None)  # first started or done
    subject = f"items-by:{selector.describe() if selector else 'all'}:{until.isoformat()}"
    return items_by_date(done, first, until, now, tz, weeks=settings.forecast_weeks,
                         trials=settings.forecast_trials, seed=seed_for(subject))
