"""The risk engine: what every rule sees (`RiskContext`) and the plan-level rules.

Plan-level rules look at goals, releases, sprints and projects: forecast-late, scope-creep,
over-commitment, overdue, carry-over, bug-inflow. Work-level rules (items and pull requests) live in
`risks_work`. `evaluate_risks` runs every enabled rule and returns the risks, most severe first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property

from syncd.model import ItemKind, Release, SprintState, StatusCategory, WorkItem
from syncd.reports.analysis.history import Histories, ItemFacts
from syncd.reports.analysis.risk_rules import Attribution, RiskThresholds, RuleConfig, make_risk, sort_risks
from syncd.reports.analysis.scope import item_ref, items_of_kind, key_order
from syncd.reports.analysis.sprints import carried_over
from syncd.reports.analysis.types import (
    Flow,
    Forecast,
    ItemRef,
    LeverKind,
    Progress,
    Risk,
    RiskSubject,
    Severity,
    SprintReport,
    TeamMap,
)
from syncd.reports.data import Snapshot
from syncd.reports.goals import Goal


@dataclass
class ScopePart:
    """A goal or release as the rules see it: its items, progress and forecast."""

    id: str  # goal id or release record id
    name: str
    target: date | None  # goal target date / release due date
    items: list[WorkItem]
    progress: Progress
    forecast: Forecast
    owner: str | None = None
    url: str | None = None
    goal: Goal | None = None
    release: Release | None = None


@dataclass
class RiskContext:
    """Everything the rules look at, computed once by `analyse`."""

    snap: Snapshot
    hist: Histories
    now: datetime
    tz: tzinfo
    today: date
    rules: dict[str, RuleConfig]  # rule id -> settings in force
    goals: list[ScopePart]
    releases: list[ScopePart]
    sprints: list[SprintReport]
    flow: Flow
    goals_of_item: dict[str, list[str]] = field(default_factory=dict)
    current_sprints: set[str] = field(default_factory=set)  # active and next sprints
    thresholds: RiskThresholds = field(default_factory=RiskThresholds)  # [reports.thresholds]
    release_of: dict[str, str] = field(default_factory=dict)  # release part id -> joined release id
    teams: TeamMap = field(default_factory=TeamMap)  # each item's team ([teams], else its project)

    @property
    def facts(self) -> dict[str, ItemFacts]:
        """Started/done times of every item."""
        return self.hist.facts()

    @cached_property
    def started(self) -> Mapping[str, datetime | None]:
        """When each item first went in progress (each scope's critical path reads it)."""
        return _Started(self.facts)

    def ref(self, item: WorkItem) -> ItemRef:
        """How a risk names an item."""
        return item_ref(self.snap, item)

    def owner_of(self, item: WorkItem) -> str | None:
        """The assignee's display name, when known."""
        return self.snap.person_name.get(item.assignee_id) if item.assignee_id else None

    def item_risk(self, rule: str, severity: Severity, item: WorkItem, title: str, mitigation: str, *,
                  owner: str | None, numbers: dict[str, float | int | str]) -> Risk:
        """A risk about one item: its subject, evidence and link, attributed to the item's goals, releases, sprints."""
        return make_risk(rule, severity, title, mitigation, subjects=[item.id], owner=owner, url=item.url,
                         items=[self.ref(item)], numbers=numbers, attr=self.attribution([item]))

    def attribution(self, items: Iterable[WorkItem]) -> Attribution:
        """The goals, releases and current sprints the items belong to (for `make_risk`)."""
        goals: set[str] = set()
        releases: set[str] = set()
        sprints: set[str] = set()
        for item in items:
            goals.update(self.goals_of_item.get(item.id, ()))
            releases.update(self.release_of.get(r, r) for r in item.release_ids)
            sprints.update(s for s in item.sprint_ids if s in self.current_sprints)
        return Attribution(goal_ids=goals, release_ids=releases, sprint_ids=sprints)


class _Started(Mapping[str, datetime | None]):
    """Item id -> when it first went in progress: a view of the facts, not a copy of 100,000 entries."""

    def __init__(self, facts: Mapping[str, ItemFacts]) -> None:
        self._facts = facts

    def __getitem__(self, item_id: str) -> datetime | None:
        return self._facts[item_id].started

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


Rule = Callable[[RiskContext, RuleConfig], list[Risk]]


def _scope_attr(part: ScopePart) -> Attribution:
    return Attribution(goal_ids=(part.id,)) if part.goal is not None else Attribution(release_ids=(part.id,))


def options_text(fc: Forecast) -> str:
    """The forecast's dated options in one line: `cut 4 of 11 items → 2027-01-10; move the date ... → ...`."""
    parts = [lv.description if lv.kind == LeverKind.MOVE_DATE or lv.p85 is None else f"{lv.description} → {lv.p85}"
             for lv in fc.options if lv.makes_target]
    return "; ".join(parts) or f"move the date to {fc.p85.isoformat() if fc.p85 else 'a later one'}"


def forecast_late(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Goals and releases whose 85% forecast is after their target date."""
    out = []
    for part in [*ctx.goals, *ctx.releases]:
        fc = part.forecast
        if part.target is None or fc.p85 is None or fc.p50 is None:
            continue
        slack = timedelta(days=cfg.threshold)
        if fc.p85 <= part.target + slack:
            continue
        both = fc.p50 > part.target + slack
        what = "goal" if part.goal is not None else "release"
        out.append(make_risk(
            "forecast-late", cfg.pick(Severity.RED if both else Severity.AMBER),
            f"{what.capitalize()} \"{part.name}\" is forecast to finish after its target date {part.target.isoformat()}",
            f"With {fc.remaining_items} items left{_after_ahead(fc)}, the 85% forecast is "
            f"{(fc.p85 - part.target).days} days late. "
            f"Options (85% dates): {options_text(fc)}"
            + (f"; decide with {part.owner} this week." if part.owner else "; decide the trade-off this week."),
            subjects=[f"{what}:{part.id}"], owner=part.owner, url=part.url,
            numbers={"target": part.target.isoformat(), "forecast p50": fc.p50.isoformat(),
                     "forecast p85": fc.p85.isoformat(), "remaining items": fc.remaining_items,
                     "method": str(fc.method), "team": fc.team or "none", "share": round(fc.share, 3),
                     "history weeks": fc.history_weeks, "sample items": fc.sample_items, **_queue_numbers(fc)},
            items=part.progress.remaining[:10], attr=_scope_attr(part),
            kind=RiskSubject.GOAL if part.goal is not None else RiskSubject.RELEASE))
    return out


def _after_ahead(fc: Forecast) -> str:
    """`, after 15 items of the releases ahead (Gadget 5.6)` for a queued forecast (see `analysis.queue`)."""
    if not fc.ahead:
        return ""
    return f" after {fc.ahead_items} of the releases ahead ({', '.join(a.name for a in fc.ahead)})"


def _queue_numbers(fc: Forecast) -> dict[str, float | int | str]:
    if not fc.ahead:
        return {}
    return {"share source": str(fc.share_source), "queued behind": ", ".join(f"{a.name} ({a.remaining} items)"
                                                                             for a in fc.ahead),
            "items ahead": fc.ahead_items}


def scope_creep(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Unfinished goals whose scope grew by more than the threshold (percent of baseline items) since the baseline."""
    out = []
    for part in ctx.goals:
        change = part.progress.scope_change
        if part.forecast.done or change is None or not change.added_items:  # a finished goal's growth threatens nothing
            continue
        pct = change.percent_items
        if pct is not None and pct <= cfg.threshold:
            continue
        shown = f"{pct:.0f}%" if pct is not None else "all of it"
        out.append(make_risk(
            "scope-creep", cfg.pick(Severity.AMBER),
            f"Scope of goal \"{part.name}\" grew {shown} since {change.baseline.isoformat()}",
            f"Review the {change.added_items} items added since {change.baseline.isoformat()} with {part.owner}: "
            "defer those that do not serve the goal, or re-plan the target date with the added work.",
            subjects=[f"goal:{part.id}"], owner=part.owner, kind=RiskSubject.GOAL,
            numbers={"baseline date": change.baseline.isoformat(), "baseline items": change.baseline_items,
                     "added items": change.added_items, "added points": change.added_points,
                     "growth %": round(pct, 1) if pct is not None else "n/a"},
            items=change.added[:20], attr=Attribution(goal_ids=(part.id,))))
    return out


def over_commitment(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Active or next sprints committed beyond capacity or average velocity."""
    out = []
    for rep in ctx.sprints:
        if rep.sprint.state == SprintState.CLOSED:
            continue
        plan = rep.plan
        if (rep.commitment_percent is None and plan is not None and plan.headroom == 0 and plan.points
                and rep.committed_points > 0):
            out.append(make_risk(
                "over-commitment", cfg.pick(Severity.AMBER),
                f"{rep.sprint.name}'s capacity is taken by the likely carry-over of {plan.carry_over_from}",
                f"{plan.carry_over_points:.0f} points of {plan.carry_over_from} will likely carry over against a "
                f"capacity of {plan.points:.0f}: agree with the product owner which of the {rep.committed_points:g} "
                f"committed points wait, or what of {plan.carry_over_from} goes back to the backlog.",
                subjects=[rep.sprint.id], attr=Attribution(sprint_ids=(rep.sprint.id,)), kind=RiskSubject.SPRINT,
                numbers={"committed points": rep.committed_points, "capacity": round(plan.points, 1),
                         "likely carry-over": round(plan.carry_over_points, 1)},
                items=[e.item for e in rep.committed[:20]]))
            continue
        if rep.commitment_percent is None:
            continue
        if rep.commitment_percent <= cfg.threshold:
            continue
        # the figure the percentage was taken of (capacity, capacity less carry-over, or velocity)
        base = 100.0 * rep.committed_points / rep.commitment_percent if rep.commitment_percent else 0.0
        excess = rep.committed_points - (base or 0.0) * cfg.threshold / 100.0
        out.append(make_risk(
            "over-commitment", cfg.pick(Severity.AMBER),
            f"{rep.sprint.name} is committed to {rep.commitment_percent:.0f}% of its {rep.commitment_basis}",
            f"Move at least {excess:.0f} points out of {rep.sprint.name} (committed {rep.committed_points:g} vs "
            f"{rep.commitment_basis} {base or 0:.0f}); agree with the product owner which items wait.",
            subjects=[rep.sprint.id], attr=Attribution(sprint_ids=(rep.sprint.id,)), kind=RiskSubject.SPRINT,
            numbers={"committed points": rep.committed_points, rep.commitment_basis or "basis": round(base or 0.0, 1),
                     "commitment %": round(rep.commitment_percent, 1)},
            items=[e.item for e in rep.committed[:20]]))
    return out


def overdue(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Items and releases past their due date and not done (released)."""
    out = []
    for item in ctx.snap.items:
        if item.due is None or item.status_category == StatusCategory.DONE or item.kind == ItemKind.PULL_REQUEST:
            continue
        late = (ctx.today - item.due).days
        if late <= cfg.threshold:
            continue
        owner = ctx.owner_of(item)
        out.append(ctx.item_risk(
            "overdue", cfg.pick(Severity.RED), item, f"{item.key} is {late} days past its due date",
            f"Agree a new due date for {item.key} with {owner or 'its reporter'} and tell whoever waits for it, "
            "or cut it from the plan.",
            owner=owner, numbers={"due": item.due.isoformat(), "days late": late, "status": item.status}))
    for part in ctx.releases:
        rel = part.release
        if rel is None or rel.released or rel.due is None:
            continue
        late = (ctx.today - rel.due).days
        if late <= cfg.threshold:
            continue
        left = part.progress.counts.items_total - part.progress.counts.items_done
        out.append(make_risk(
            "overdue", cfg.pick(Severity.RED), f"Release {rel.name} is {late} days past its due date",
            f"Ship {rel.name} with what is done and move its {left} open items to the next release, or set a "
            "new release date and announce it.",
            subjects=[rel.id], url=rel.url, attr=Attribution(release_ids=(rel.id,)), items=part.progress.remaining[:20],
            kind=RiskSubject.RELEASE,
            numbers={"due": rel.due.isoformat(), "days late": late, "open items": left}))
    return out


def carry_over(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Open items carried over from `threshold` or more closed sprints."""
    open_items = [i for i in ctx.snap.open_work if i.sprint_ids or i.id in ctx.snap.history]
    out = []
    for item_id, sprints in carried_over(ctx.snap, ctx.hist, open_items).items():
        item = ctx.snap.item_by_id[item_id]
        names = [s.name for s in sprints]
        if len(names) < cfg.threshold:
            continue
        owner = ctx.owner_of(item)
        out.append(ctx.item_risk(
            "carry-over", cfg.pick(Severity.AMBER), item, f"{item.key} was carried over {len(names)} sprints",
            f"Split {item.key} into pieces that fit a sprint, or re-estimate it with {owner or 'the team'}; "
            "if it keeps losing to other work, take it out of the sprint and say so.",
            owner=owner, numbers={"sprints carried over": len(names), "sprints": ", ".join(names)}))
    return out


def bug_inflow(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Projects opening bugs much faster than they close them over the window (`bug_window_days`)."""
    window = ctx.thresholds.bug_window_days
    since = ctx.now - timedelta(days=window)
    opened: dict[str, list[WorkItem]] = {}
    closed: dict[str, int] = {}
    facts = ctx.facts
    for item in items_of_kind(ctx.snap, ItemKind.BUG):
        if since <= item.created <= ctx.now:
            opened.setdefault(item.project, []).append(item)
        done = facts[item.id].done_at
        if done is not None and since <= done <= ctx.now:
            closed[item.project] = closed.get(item.project, 0) + 1
    out = []
    for project, bugs in sorted(opened.items()):
        n_closed = closed.get(project, 0)
        ratio = len(bugs) / n_closed if n_closed else float("inf")
        if len(bugs) < ctx.thresholds.bug_wave_size or ratio <= cfg.threshold:
            continue
        out.append(make_risk(
            "bug-inflow", cfg.pick(Severity.AMBER),
            f"{project} opened {len(bugs)} bugs and closed {n_closed} in the last {window} days",
            f"Reserve capacity in {project}'s next sprint for bug fixing and triage the {len(bugs)} new bugs "
            "together to find a common cause.",
            subjects=[f"project:{project}"], items=[ctx.ref(b) for b in sorted(bugs, key=lambda b: key_order(b.key))[:20]],
            numbers={"opened": len(bugs), "closed": n_closed,
                     "ratio": round(ratio, 2) if n_closed else "no bugs closed"},
            attr=ctx.attribution(bugs), kind=RiskSubject.TEAM))
    return out


def evaluate_risks(ctx: RiskContext, rules: dict[str, Rule] | None = None) -> list[Risk]:
    """Run every enabled rule; risks most severe first."""
    from syncd.reports.analysis.risks_work import WORK_RULES  # it builds on this module

    table: dict[str, Rule] = rules if rules is not None else {**PLAN_RULES, **WORK_RULES}
    out: list[Risk] = []
    for rule_id, rule in table.items():
        cfg = ctx.rules.get(rule_id)
        if cfg is not None and cfg.enabled:
            out.extend(rule(ctx, cfg))
    return sort_risks(out)


PLAN_RULES: dict[str, Rule] = {
    "forecast-late": forecast_late,
    "scope-creep": scope_creep,
    "over-commitment": over_commitment,
    "overdue": overdue,
    "carry-over": carry_over,
    "bug-inflow": bug_inflow,
}
