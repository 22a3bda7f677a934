"""Risk themes: the rules' signals grouped by what they threaten, ranked by impact; the rest is hygiene.

A manager acts on a short list of problems, not on every rule that fired. Each signal (a `Risk`
from the rules) goes to exactly one place:

- a **theme** per goal, release, sprint or team at risk, holding the signal as evidence. A signal
  goes to the goal it threatens (a release most of whose items belong to a goal is folded into
  that goal's theme); without a goal, to its release (the one due first); without either, to its
  current or next sprint (the one starting first); a team-level signal (a bug wave) with none of
  these, to its team. Of several goals, the one with the highest `priority`, then the most
  specific (fewest items), then the first in the goals file.
- **hygiene**, counted per team and listed only for engineers: signals on items outside any goal,
  release and current/next sprint, and blocked backlog (a To Do item blocked only by To Do items,
  none of them in a current or next sprint: nobody is waiting on it yet).

Ranking follows impact, as cost-of-delay thinking orders work (Reinertsen, *The Principles of
Product Development Flow*, 2009; https://blackswanfarming.com/cost-of-delay/): a date already
missed first, then a forecast late by days late x the items left (how much work is late by how
much), then blocked work on the critical path of a goal or release (`analysis.critical_path`, CPM
over its open items and what they wait on: a blocked item or its blocker on the path; when no path
can be computed, any blocked work of the goal or release), then the rest. Ties: the goal's
`priority` (1 first; none set: last), then red before amber, then more signals, then the theme id
— never the title.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from syncd.model import RiskAck, SprintState, StatusCategory
from syncd.reports.analysis.critical_path import goal_critical_path
from syncd.reports.analysis.risks import RiskContext, ScopePart
from syncd.reports.analysis.scope import key_order
from syncd.reports.analysis.types import (
    Hygiene,
    Lever,
    LeverKind,
    Risk,
    RiskSubject,
    Severity,
    Theme,
    ThemeKind,
    ThemeTier,
)

_TIER_ORDER = {ThemeTier.MISSED: 0, ThemeTier.FORECAST_LATE: 1, ThemeTier.BLOCKED: 2, ThemeTier.OTHER: 3}
_KEYS_SHOWN = 3


def _keys(risks: Sequence[Risk]) -> str:
    keys = [r.evidence.items[0].key for r in risks if r.evidence.items]
    shown = ", ".join(keys[:_KEYS_SHOWN])
    return shown + (f" and {len(keys) - _KEYS_SHOWN} more" if len(keys) > _KEYS_SHOWN else "")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# how a theme's proposal asks for each kind of work-level evidence; `named`: with the item keys
# (engineering), else counts only (summaries list no tickets)
def _action(rule: str, risks: Sequence[Risk], named: bool) -> str | None:
    n = len(risks)

    def which(rs: Sequence[Risk] = risks) -> str:
        return f" ({_keys(rs)})" if named else ""

    if rule == "overdue":
        items = [r for r in risks if r.subject_kind == RiskSubject.ITEM]  # a release's own is its theme's missed date
        return f"agree new dates for {_n(len(items), 'overdue item')}{which(items)}" if items else None
    if rule == "blocked":
        if not named:
            return f"unblock {_n(n, 'item')}"
        parts = [f"{r.evidence.items[0].key} (waits on {', '.join(_blockers(r)) or 'a flag'})"
                 for r in risks[:_KEYS_SHOWN] if r.evidence.items]
        more = f" and {n - _KEYS_SHOWN} more" if n > _KEYS_SHOWN else ""
        return f"unblock {', '.join(parts)}{more}"
    simple = {
        "failing-checks": f"fix the failing checks of {_n(n, 'pull request')}",
        "unassigned-in-sprint": f"give {_n(n, 'unassigned item')} an owner",
        "missing-acceptance": f"write acceptance criteria for {_n(n, 'story')}".replace("storys", "stories"),
        "review-wait": f"get {_n(n, 'pull request')} reviewed",
        "pr-too-large": f"split {_n(n, 'large pull request')} into smaller ones",
        "carry-over": f"split or re-plan {_n(n, 'item')} carried over sprint after sprint",
    }
    if rule in simple:
        return simple[rule] + which()
    if rule == "scope-creep":
        added = sum(int(r.evidence.numbers.get("added items", 0) or 0) for r in risks)
        return f"review the {added} items added since the baseline and defer those the goal does not need"
    if rule in ("over-commitment", "bug-inflow"):
        text = "; ".join(r.mitigation.rstrip(".") for r in risks)
        return text[0].lower() + text[1:]
    return None  # stale-work and aging-wip: one "stalled" clause for both (see `_actions`)


def _blockers(risk: Risk) -> list[str]:
    """A blocked signal's blockers: stored ones (its evidence after the item), then unsynced far ends (`link:KEY`)."""
    stored = [i.key for i in risk.evidence.items[1:]]
    return stored + [s.removeprefix("link:") for s in risk.subject_ids if s.startswith("link:")]


@dataclass
class _Bucket:
    kind: ThemeKind
    subject_id: str
    name: str
    part: ScopePart | None = None
    owner: str | None = None
    url: str | None = None
    priority: int | None = None
    order: int = 0  # goals-file order, to break ties between goals of the same priority deterministically
    releases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.signals: list[Risk] = []
        self.folded: list[ScopePart] = []  # releases folded into a goal's theme

    @property
    def id(self) -> str:
        return f"{self.kind.value}:{self.subject_id}"


def _blocked_backlog(ctx: RiskContext, risk: Risk) -> bool:
    """A To Do item blocked only by To Do items, none of them in a current or next sprint."""
    if risk.rule != "blocked":
        return False
    items = [ctx.snap.item_by_id.get(i) for i in risk.subject_ids]
    if any(i is None for i in items):
        return False
    blocked_item = ctx.snap.item_by_id.get(risk.evidence.items[0].id) if risk.evidence.items else None
    if blocked_item is None or blocked_item.flagged:
        return False
    return all(i is not None and i.status_category == StatusCategory.TODO
               and not any(s in ctx.current_sprints for s in i.sprint_ids) for i in items)


def _team_of(ctx: RiskContext, risk: Risk) -> str:
    """The team a signal belongs to: its item's or project's configured `[teams.NAME]` (`RiskContext.teams`),
    else the project or repository."""
    for subject in risk.subject_ids:
        if subject.startswith("project:"):
            return ctx.teams.of_project(subject.removeprefix("project:"))
        item = ctx.snap.item_by_id.get(subject)
        if item is not None:
            return ctx.teams.of(item.id, item.project)
    return "unknown"


def _covering_goal(release: ScopePart, goals: Sequence[ScopePart], goals_of_item: Mapping[str, Sequence[str]],
                   ) -> ScopePart | None:
    """The goal holding most of a release's items (at least half of them), if any; `goals_of_item`: item id ->
    the ids of the goals holding it."""
    ids = {i.id for i in release.items}
    if not ids:
        return None
    # the release's items counted per goal: a release holds hundreds of items, a goal tens of thousands,
    # so no set of each goal's items is built
    held: dict[str, int] = {}
    for item_id in ids:
        for goal_id in goals_of_item.get(item_id, ()):
            held[goal_id] = held.get(goal_id, 0) + 1
    best, best_share = None, 0.5
    for g in goals:
        share = held.get(g.id, 0) / len(ids)
        if share >= best_share and (best is None or share > best_share):
            best, best_share = g, share  # a later goal must hold strictly more to win
    return best


def risk_themes(ctx: RiskContext, risks: Iterable[Risk]) -> tuple[list[Theme], Hygiene]:
    """Every signal in exactly one theme or in hygiene; themes ranked by impact (see the module doc)."""
    goal_buckets: dict[str, _Bucket] = {}
    for n, g in enumerate(ctx.goals):
        assert g.goal is not None
        goal_buckets[g.id] = _Bucket(ThemeKind.GOAL, g.id, g.name, part=g, owner=g.owner, url=g.url,
                                     priority=g.goal.priority, order=n)
    folded: dict[str, str] = {}  # release id -> goal id whose theme holds it
    release_buckets: dict[str, _Bucket] = {}
    for n, r in enumerate(ctx.releases):
        goal = _covering_goal(r, ctx.goals, ctx.goals_of_item)
        if goal is not None:
            folded[r.id] = goal.id
            goal_buckets[goal.id].releases += (r.id,)
            goal_buckets[goal.id].folded.append(r)
        else:
            release_buckets[r.id] = _Bucket(ThemeKind.RELEASE, r.id, r.name, part=r, url=r.url, order=n)
    sprint_order = {rep.sprint.id: n for n, rep in enumerate(
        sorted((rep for rep in ctx.sprints if rep.sprint.state != SprintState.CLOSED),
               key=lambda rep: (rep.sprint.state != SprintState.ACTIVE, rep.sprint.start is None,
                                rep.sprint.start or ctx.now, rep.sprint.id)))}
    sprint_buckets: dict[str, _Bucket] = {}
    team_buckets: dict[str, _Bucket] = {}
    goal_rank = {gid: (b.priority is None, b.priority or 0, len(b.part.items) if b.part else 0, b.order)
                 for gid, b in goal_buckets.items()}
    release_rank = {r.id: (r.target is None, r.target, n) for n, r in enumerate(ctx.releases)}
    hygiene: list[Risk] = []
    for risk in risks:
        if _blocked_backlog(ctx, risk):
            hygiene.append(risk)
            continue
        goals = {g for g in risk.goal_ids if g in goal_buckets}
        goals |= {folded[r] for r in risk.release_ids if r in folded}
        releases = [r for r in risk.release_ids if r in release_buckets]
        sprints = [s for s in risk.sprint_ids if s in sprint_order]
        bucket: _Bucket | None = None
        if goals:
            bucket = goal_buckets[min(goals, key=lambda g: goal_rank[g])]
        elif releases:
            bucket = release_buckets[min(releases, key=lambda r: release_rank[r])]
        elif sprints:
            sid = min(sprints, key=lambda s: sprint_order[s])
            if sid not in sprint_buckets:
                rep = next(rep for rep in ctx.sprints if rep.sprint.id == sid)
                sprint_buckets[sid] = _Bucket(ThemeKind.SPRINT, sid, rep.sprint.name,
                                              order=sprint_order[sid])
            bucket = sprint_buckets[sid]
        elif any(s.startswith("project:") for s in risk.subject_ids):
            team = _team_of(ctx, risk)
            bucket = team_buckets.setdefault(team, _Bucket(ThemeKind.TEAM, team, team))
        if bucket is None:
            hygiene.append(risk)
        else:
            bucket.signals.append(risk)
    buckets = [b for group in (goal_buckets, release_buckets, sprint_buckets, team_buckets)
               for b in group.values() if b.signals]
    themes = sorted((_theme(ctx, b) for b in buckets), key=_rank_key)
    return themes, _hygiene(ctx, hygiene)


def _hygiene(ctx: RiskContext, signals: list[Risk]) -> Hygiene:
    team_of = {r.id: _team_of(ctx, r) for r in signals}  # once per signal (of thousands), not three times
    by_team: dict[str, dict[str, int]] = {}
    for risk in signals:
        counts = by_team.setdefault(team_of[risk.id], {})
        counts[risk.rule] = counts.get(risk.rule, 0) + 1
    ordered = sorted(signals, key=lambda r: (team_of[r.id], r.rule, key_order(r.evidence.items[0].key)
                                             if r.evidence.items else key_order(r.title), r.id))
    return Hygiene(signals=ordered, by_team={t: dict(sorted(c.items())) for t, c in sorted(by_team.items())},
                   team_of=team_of)


def _rank_key(t: Theme) -> tuple[object, ...]:
    impact = -t.impact if t.tier in (ThemeTier.MISSED, ThemeTier.FORECAST_LATE) else 0.0
    return (_TIER_ORDER[t.tier], impact, t.priority is None, t.priority or 0, t.severity != Severity.RED,
            -len(t.signals), t.id)


def _options(part: ScopePart) -> list[Lever]:
    """The forecast's dated options; without them, move the date to the 85% forecast or cut scope (undated)."""
    fc = part.forecast
    if fc.options:  # the ones that make the target (moving the date always does)
        return [o for o in fc.options if o.makes_target] or list(fc.options)
    if fc.p85 is None or part.target is None or fc.p85 <= part.target:
        return []
    return [Lever(kind=LeverKind.MOVE_DATE, description=f"move the date to {fc.p85.isoformat()}", p85=fc.p85,
                  makes_target=True),
            Lever(kind=LeverKind.CUT, description=f"cut scope ({_n(fc.remaining_items, 'item')} left)", p85=None, makes_target=False)]


def _theme(ctx: RiskContext, b: _Bucket) -> Theme:
    signals = sorted(b.signals, key=lambda r: (r.severity != Severity.RED, r.rule,
                                                r.evidence.items[0].key if r.evidence.items else "", r.title, r.id))
    part = b.part
    fc = part.forecast if part is not None else None
    target = part.target if part is not None else None
    # a date is missed when it passed with work left: the theme's own, or that of a release folded into it
    missed = sorted(p.target for p in ([part] if part is not None else []) + b.folded
                    if p.target is not None and p.target < ctx.today and not p.forecast.done
                    and not (p.release is not None and p.release.released))
    missed_date = missed[0] if missed else None
    past = (ctx.today - missed_date).days if missed_date is not None else None
    late = (fc.p85 - target).days if fc is not None and fc.p85 is not None and target is not None else None
    remaining = fc.remaining_items if fc is not None else 0
    impact = float(max(late or 0, past or 0) * remaining)
    blocked = [r for r in signals if r.rule == "blocked"]
    blocked_on_path = part is not None and bool(blocked) and _on_critical_path(ctx, part, blocked)
    if past is not None:
        tier = ThemeTier.MISSED
    elif late is not None and late > 0:
        tier = ThemeTier.FORECAST_LATE
    elif blocked_on_path:
        tier = ThemeTier.BLOCKED
    else:
        tier = ThemeTier.OTHER
    severity = Severity.RED if past is not None or any(r.severity == Severity.RED for r in signals) else Severity.AMBER
    options = _options(part) if part is not None else []
    # decide within a week (the next weekly report), or by the target date when that comes first
    by = min(d for d in (ctx.today + timedelta(days=ctx.thresholds.decide_within_days), target) if d is not None and d >= ctx.today)
    decision, summary_decision = _decision(options, by), _decision(options, by, named=False)
    actions, summary = _actions(signals), _actions(signals, named=False)
    if len(signals) == 1 and decision is None or not actions and decision is None:
        actions = summary = [signals[0].mitigation.rstrip(".")]  # one signal: its rule's own proposal says it best
    return Theme(id=b.id, kind=b.kind, subject_id=b.subject_id, name=b.name, severity=severity, tier=tier,
                 impact=impact, target=target, missed_date=missed_date, forecast=fc, days_past_target=past, days_late=late if late and late > 0
                 else None, remaining_items=remaining, signals=signals,
                 mitigation=mitigation_text(decision, actions, b.owner), decision=decision, actions=actions,
                 summary_decision=summary_decision, summary_actions=summary,
                 options=options, decide_by=by if options else None, owner=b.owner,
                 url=b.url, priority=b.priority, release_ids=b.releases)


def _on_critical_path(ctx: RiskContext, part: ScopePart, blocked: Sequence[Risk]) -> bool:
    """Whether a blocked item or one of its blockers is on the scope's critical path (CPM, durations from
    each team's p50 cycle time); True when no path can be computed (no cycle time measured yet)."""
    flow = ctx.flow
    p50s = {team: m.cycle_time_days.p50 for team, m in flow.by_team.items() if m.cycle_time_days is not None}
    overall = flow.overall.cycle_time_days.p50 if flow.overall.cycle_time_days is not None else None
    # the open items only (`progress.remaining`, the scope's items not done): the path is of open items,
    # and a goal's items are mostly done ones
    path = goal_critical_path(ctx.snap, [r.id for r in part.progress.remaining], p50s, overall,
                              ctx.started, ctx.now, ctx.teams)
    if path.refused is not None or not path.steps:
        return True
    on_path = {s.key for s in path.steps}
    return any(ref.key in on_path for r in blocked for ref in r.evidence.items)


def option_text(o: Lever, named: bool) -> str:
    """One option with its 85% date: `cut 4 items (85% forecast 2027-01-10)`; `named`: with the items' keys."""
    keyless = o.kind == LeverKind.CUT and o.cut_items and not named
    text = f"cut {_n(len(o.cut_items), 'item')}" if keyless else o.description
    dated = o.p85 is not None and o.p85.isoformat() not in text
    return text + (f" (85% forecast {o.p85.isoformat()})" if dated and o.p85 else "")


def _decision(options: list[Lever], by: date, named: bool = True) -> str | None:
    """`decide by DATE: option A (date) or option B (date)`, from the forecast's options."""
    if not options:
        return None
    return f"decide by {by.isoformat()}: " + " or ".join(option_text(o, named) for o in options)


def _actions(signals: list[Risk], named: bool = True) -> list[str]:
    """The work that answers the evidence, most date-threatening first: one clause per kind of signal."""
    by_rule: dict[str, list[Risk]] = {}
    for r in signals:
        by_rule.setdefault(r.rule, []).append(r)
    clauses = []
    for rule in ("blocked", "overdue", "failing-checks", "scope-creep", "carry-over", "unassigned-in-sprint",
                 "missing-acceptance", "review-wait", "pr-too-large", "over-commitment", "bug-inflow"):
        if rule in by_rule and (clause := _action(rule, by_rule[rule], named)):
            clauses.append(clause)
    stalled = [r.evidence.items[0].key for rule in ("stale-work", "aging-wip") for r in by_rule.get(rule, [])
               if r.evidence.items]
    keys = list(dict.fromkeys(stalled))
    if keys:
        shown = ", ".join(keys[:_KEYS_SHOWN]) + (f" and {len(keys) - _KEYS_SHOWN} more" if len(keys) > _KEYS_SHOWN
                                                 else "")
        clauses.append(f"find out what holds up {_n(len(keys), 'stalled item')}" + (f" ({shown})" if named else ""))
    return clauses


def mitigation_text(decision: str | None, actions: Sequence[str], owner: str | None, *, limit: int | None = None) -> str:
    """The proposal as one sentence: the decision, then the actions (the first `limit`, the rest counted)."""
    shown = list(actions if limit is None else actions[:limit])
    clauses = ([decision] if decision else []) + shown
    if limit is not None and len(actions) > limit:
        clauses.append(f"and {_n(len(actions) - limit, 'more action')} in the engineering report")
    text = "; ".join(clauses)
    if not text:
        return ""
    return text[0].upper() + text[1:] + "." + (f" Owner: {owner}." if owner else "")


def apply_acks(themes: list[Theme], acks: Iterable[RiskAck], today: date,
               slip_days: int) -> tuple[list[Theme], list[Theme], list[RiskAck]]:
    """Split ranked themes into raised and accepted by their acknowledgements; return the acks pinned now.

    An acknowledged theme stays accepted through its `until` day unless it got worse than when it
    was accepted: a red signal it did not have then, or its 85% forecast more than `slip_days`
    later. An acknowledgement not pinned yet (from the config) is pinned to the theme as it is now.
    """
    by_theme = {a.theme_id: a for a in acks}
    raised: list[Theme] = []
    accepted: list[Theme] = []
    pinned: list[RiskAck] = []
    for theme in themes:
        ack = by_theme.get(theme.id)
        if ack is None:
            raised.append(theme)
            continue
        reds = tuple(sorted(r.id for r in theme.signals if r.severity == Severity.RED))
        p85 = theme.forecast.p85 if theme.forecast is not None else None
        if ack.red_signal_ids is None:
            ack = ack.model_copy(update={"red_signal_ids": reds, "forecast_p85": p85})
            pinned.append(ack)
        reasons = []
        if today > ack.until:
            reasons.append(f"the acknowledgement expired on {ack.until.isoformat()}")
        new_red = sorted(set(reds) - set(ack.red_signal_ids or ()))
        if new_red:
            reasons.append(f"{_n(len(new_red), 'new red signal')} since it was accepted")
        if p85 is not None and ack.forecast_p85 is not None and (p85 - ack.forecast_p85).days > slip_days:
            reasons.append(f"its 85% forecast slipped {(p85 - ack.forecast_p85).days} days "
                           f"({ack.forecast_p85.isoformat()} → {p85.isoformat()})")
        if reasons:
            state = "expired" if today > ack.until else "worse"
            raised.append(replace(theme, ack=ack, ack_state=state, ack_reason="; ".join(reasons)))
        else:
            accepted.append(replace(theme, ack=ack, ack_state="accepted"))
    return raised, accepted, pinned


def acknowledge(theme: Theme, *, by: str, at: datetime, until: date, note: str, source: str = "cli") -> RiskAck:
    """An acknowledgement of `theme` pinned to its state now (red signals, 85% forecast)."""
    return RiskAck(theme_id=theme.id, by=by, at=at, until=until, note=note, source=source,
                   red_signal_ids=tuple(sorted(r.id for r in theme.signals if r.severity == Severity.RED)),
                   forecast_p85=theme.forecast.p85 if theme.forecast is not None else None)
