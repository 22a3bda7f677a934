"""Work-level risk rules: items (stale, aging, blocked, unassigned, no acceptance criteria) and pull
requests (waiting for review, too large, failing checks)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from syncd.model import CheckConclusion, ItemKind, Link, PullState, SprintState, StatusCategory, WorkItem
from syncd.reports.analysis.flow import first_review
from syncd.reports.analysis.risk_rules import RiskThresholds, RuleConfig, make_risk
from syncd.reports.analysis.risks import RiskContext, Rule
from syncd.reports.analysis.types import Flow, Risk, Severity, TeamMap, WorkLimits

# An "Acceptance criteria" heading, a Given/When/Then scenario, a Definition of Done, or an "AC:" line.
ACCEPTANCE = re.compile(
    r"acceptance\s+criteria|\bgiven\b.+\bwhen\b.+\bthen\b|definition\s+of\s+done|^\s*ac\s*:",
    re.IGNORECASE | re.DOTALL | re.MULTILINE,
)


def has_acceptance_criteria(description: str | None) -> bool:
    """True when the description holds an acceptance-criteria section or a Given/When/Then scenario."""
    return bool(description and ACCEPTANCE.search(description))


def _open_work(ctx: RiskContext) -> list[WorkItem]:
    return ctx.snap.open_work


def idle_days(item: WorkItem, now: datetime) -> float:
    """Days since the item was last updated."""
    return (now - item.updated).total_seconds() / 86400


def work_limits(flow: Flow, rules: Mapping[str, RuleConfig], thresholds: RiskThresholds) -> WorkLimits:
    """The stale and aging limits in force: stale-work's days, and per team its cycle time at
    `aging_percentile` x aging-wip's multiple (Vacanti's aging WIP against the 85th percentile
    service level by default; a team without finished work uses everyone's cycle time). A team is a
    configured `[teams.NAME]` (an item no team holds: its project), else a project (`Flow.by_team`)."""
    pct = thresholds.aging_percentile
    multiple = rules["aging-wip"].threshold
    overall = flow.overall.cycle_time_days
    cycle: dict[str, float] = {}
    for team, metrics in flow.by_team.items():
        ct = metrics.cycle_time_days or overall
        if ct is not None:
            cycle[team] = {50: ct.p50, 85: ct.p85, 95: ct.p95}[pct]
    borrowed = tuple(t for t, m in flow.by_team.items() if m.cycle_time_days is None and t in cycle)
    return WorkLimits(stale_days=rules["stale-work"].threshold, aging_percentile=pct, aging_multiple=multiple,
                      aging_days={p: days * multiple for p, days in cycle.items()}, cycle_days=cycle,
                      overall_for=borrowed)


def stale_work(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """In-progress items nobody updated for more than `threshold` days."""
    out = []
    for item in _open_work(ctx):
        if item.status_category != StatusCategory.IN_PROGRESS:
            continue
        idle = idle_days(item, ctx.now)
        if idle <= cfg.threshold:
            continue
        owner = ctx.owner_of(item)
        out.append(ctx.item_risk(
            "stale-work", cfg.pick(Severity.AMBER), item, f"{item.key} has had no update for {idle:.0f} days",
            f"Ask {owner or 'the team'} where {item.key} stands: flag it if it is waiting on something, "
            "finish it, or move it back to To Do so the board tells the truth.",
            owner=owner, numbers={"days without update": round(idle, 1), "status": item.status}))
    return out


def aging_wip(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """In-progress items older than their team's cycle time at `aging_percentile` (default p85); a team as
    `work_limits` takes it (a configured one, else the project)."""
    out = []
    limits = work_limits(ctx.flow, {**ctx.rules, "aging-wip": cfg}, ctx.thresholds)
    pct = limits.aging_percentile
    for team, metrics in ctx.flow.by_team.items():
        if team not in limits.aging_days:
            continue
        limit, cycle = limits.aging_days[team], limits.cycle_days[team]
        for wip in metrics.wip:
            if wip.age_days <= limit:
                continue
            item = ctx.snap.item_by_id[wip.item.id]
            owner = ctx.owner_of(item)
            whose = "all teams'" if team in limits.overall_for else f"{team}'s"  # it finished none itself
            out.append(make_risk(
                "aging-wip", cfg.pick(Severity.AMBER),
                f"{item.key} has been in progress {wip.age_days:.0f} days, longer than {pct}% of {whose} items take",
                f"Swarm on {item.key} or split it so part of it can finish this week; "
                f"{owner or 'its owner'} should say what it waits for.",
                subjects=[item.id], owner=owner, url=item.url, items=[wip.item],
                numbers={"age days": round(wip.age_days, 1), f"team p{pct} cycle time days": round(cycle, 1),
                         "started": wip.started.date().isoformat()}, attr=ctx.attribution([item])))
    return out


def _sprint_rank(ctx: RiskContext, item: WorkItem) -> float | None:
    """Start of the item's current active or future sprint (future unstarted: infinity)."""
    starts = []
    for sid in item.sprint_ids:
        sprint = ctx.snap.sprint_by_id.get(sid)
        if sprint is not None and sprint.state != SprintState.CLOSED:
            starts.append(sprint.start.timestamp() if sprint.start else float("inf"))
    return min(starts) if starts else None


def _far_project(key: str) -> str:
    """The project of a Jira key (`OTHER-35406` -> `OTHER`); the key itself when it has no number part."""
    head, _, tail = key.rpartition("-")
    return head if head and tail.isdigit() else key


def _external_blockers(ctx: RiskContext, item: WorkItem) -> list[Link]:
    """The item's blockers outside the store that are not known to be done (status unknown counts as open)."""
    return [lk for lk in ctx.snap.external_blockers_of.get(item.id, ()) if lk.to_category != StatusCategory.DONE]


def _external_text(link: Link, teams: TeamMap) -> str:
    """`OTHER-35406 (In Progress, project OTHER, not synced)`: the far end as the source showed it, with
    the configured team that lists its project (`project EXT of team web`) when one does."""
    project = _far_project(link.to_key)
    team = teams.by_project.get(project)
    where = f"project {project}" + (f" of team {team}" if team is not None else "")
    return f"{link.to_key} ({link.to_status or 'status unknown'}, {where}, not synced)"


def blocked(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Open items blocked by unresolved items, or flagged.

    A blocker is a stored item (a BLOCKS or BLOCKED_BY link, `Snapshot.blockers_of`) or the far end
    of a link into a project that is not synced (`Snapshot.external_blockers_of`, open unless the
    source showed it done). Blockers in a later sprint, in another team (the configured `[teams]`,
    `RiskContext.teams`; without them, or for an item no team holds, its project) or outside the
    synced projects make the risk red: "blocked by another team's work", naming each such blocker
    with its status and its team or project. A far end in a project that the item's own configured
    team lists (`[teams.web] jira_projects = ["WID", "EXT"]`, EXT not synced) is that team's work by
    configuration, not another team's: the risk names it as the team's, unsynced (its status as the
    link showed it, its sprint not known), and it alone does not make the risk red.
    """
    out = []
    teams = ctx.teams
    team_of = teams.of
    for item in _open_work(ctx):
        blockers = [b for bid in ctx.snap.blockers_of.get(item.id, ())
                    if (b := ctx.snap.item_by_id.get(bid)) is not None and b.status_category != StatusCategory.DONE]
        external = _external_blockers(ctx, item)
        if not blockers and not external and not item.flagged:
            continue
        mine = _sprint_rank(ctx, item)
        later = [b for b in blockers if mine is not None and ((r := _sprint_rank(ctx, b)) is None or r > mine)]
        my_team = team_of(item.id, item.project)
        other_team = [b for b in blockers if team_of(b.id, b.project) != my_team]
        own_external = [lk for lk in external if teams.by_project.get(_far_project(lk.to_key)) == my_team]
        foreign = [lk for lk in external if lk not in own_external]
        worse = bool(later or other_team or foreign)
        owner = ctx.owner_of(item)
        if blockers or external:
            keys = ", ".join([*(b.key for b in blockers), *(lk.to_key for lk in external)])
            if other_team or foreign:
                theirs = [f"{b.key} ({b.status}, team {team_of(b.id, b.project)})" for b in other_team] + [
                    _external_text(lk, teams) for lk in foreign]
                ours = [b.key for b in blockers if b not in other_team] + [
                    _external_text(lk, teams) for lk in own_external]
                title = (f"{item.key} is blocked by another team's work: {', '.join(theirs)}"
                         + (f"; also by {', '.join(ours)}" if ours else ""))
            elif own_external:
                ours = [b.key for b in blockers] + [_external_text(lk, teams) for lk in own_external]
                title = f"{item.key} is blocked by its own team's work: {', '.join(ours)}"
            else:
                title = f"{item.key} is blocked by {keys}"
            why = []
            if later:
                why.append(f"{', '.join(b.key for b in later)} is planned after it")
            if other_team:
                why.append(f"{', '.join(b.key for b in other_team)} belongs to another team")
            if foreign:
                why.append(f"{', '.join(lk.to_key for lk in foreign)} is in a project syncd does not sync")
            if own_external:
                projects = sorted({_far_project(lk.to_key) for lk in own_external})
                why.append(f"{', '.join(lk.to_key for lk in own_external)} is team {my_team}'s own work in "
                           f"{', '.join(projects)}, {'a project' if len(projects) == 1 else 'projects'} syncd does "
                           "not sync (its sprint and progress are not known here)")
            whom = ({ctx.owner_of(b) or team_of(b.id, b.project) for b in blockers}
                    | {teams.of_project(_far_project(lk.to_key)) for lk in external})
            mitigation = (f"Get {keys} scheduled before {item.key}: "
                          + ("; ".join(why) + ", so " if why else "")
                          + f"agree a date with {', '.join(sorted(whom))} "
                          "or re-plan around it.")
        else:
            title = f"{item.key} is flagged as impeded"
            mitigation = f"Ask {owner or 'the team'} what {item.key} waits for and escalate it today, or unflag it."
        numbers: dict[str, float | int | str] = {
            "blockers": len(blockers) + len(external), "flagged": "yes" if item.flagged else "no",
            "blockers in a later sprint": len(later), "blockers in another team": len(other_team) + len(foreign)}
        if external:
            numbers["blockers outside the synced projects"] = len(external)
        out.append(make_risk(
            "blocked", cfg.pick(Severity.RED if worse else Severity.AMBER), title, mitigation,
            subjects=[item.id, *(b.id for b in blockers), *(f"link:{lk.to_key}" for lk in external)], owner=owner,
            url=item.url, items=[ctx.ref(item), *(ctx.ref(b) for b in blockers)],
            numbers=numbers, attr=ctx.attribution([item])))
    return out


def unassigned_in_sprint(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Open items of an active sprint that nobody is assigned to."""
    active = {s.id: s for s in ctx.snap.sprints if s.state == SprintState.ACTIVE}
    out = []
    for item in _open_work(ctx):
        sprints = [active[s] for s in item.sprint_ids if s in active]
        if not sprints or item.assignee_id:
            continue
        names = ", ".join(s.name for s in sprints)
        out.append(make_risk(
            "unassigned-in-sprint", cfg.pick(Severity.AMBER), f"{item.key} in {names} has no assignee",
            f"Give {item.key} an owner at the next stand-up, or take it out of {names}.",
            subjects=[item.id], url=item.url, items=[ctx.ref(item)],
            numbers={"sprint": names, "status": item.status}, attr=ctx.attribution([item])))
    return out


def missing_acceptance(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """Stories in an active or next sprint without acceptance criteria in their description."""
    out = []
    for item in _open_work(ctx):
        if item.kind != ItemKind.STORY or not any(s in ctx.current_sprints for s in item.sprint_ids):
            continue
        if has_acceptance_criteria(item.description):
            continue
        owner = ctx.owner_of(item)
        names = ", ".join(s.name for sid in item.sprint_ids if sid in ctx.current_sprints
                          and (s := ctx.snap.sprint_by_id.get(sid)) is not None)
        out.append(ctx.item_risk(
            "missing-acceptance", cfg.pick(Severity.AMBER), item, f"Story {item.key} has no acceptance criteria",
            f"Write acceptance criteria for {item.key} with the product owner before work on it starts.",
            owner=owner, numbers={"sprint": names}))
    return out


def _implemented(ctx: RiskContext) -> dict[str, list[WorkItem]]:
    out: dict[str, list[WorkItem]] = {}
    for item_id, prs in ctx.snap.pulls_implementing.items():
        for pr in prs:
            out.setdefault(pr, []).append(ctx.snap.item_by_id[item_id])
    return out


def _pull_risks(ctx: RiskContext, cfg: RuleConfig) -> list[Risk]:
    """review-wait, pr-too-large and failing-checks: one rule each, the same walk over pull requests."""
    rule = cfg.rule
    out = []
    implemented: dict[str, list[WorkItem]] | None = None  # worked out for the first finding (a handful of 10,000)
    recent = ctx.now - timedelta(days=cfg.threshold)
    for pull in ctx.snap.pulls:
        item = ctx.snap.item_by_id.get(pull.item_id)
        if item is None:
            continue
        finding: tuple[str, str, dict[str, float | int | str]] | None = None
        if rule == "review-wait" and pull.state == PullState.OPEN and not pull.draft:
            hours = (ctx.now - item.created).total_seconds() / 3600
            if hours > cfg.threshold and first_review(pull, item.reporter_id) is None:
                who = "the requested reviewers" if pull.requested_reviewer_ids else "a reviewer"
                finding = (f"{item.key} has waited {hours:.0f} hours for a first review",
                           f"Ask {who} to review {item.key} today, or pair on it; work waiting for review is "
                           "work not shipping.",
                           {"hours waiting": round(hours, 1), "requested reviewers": len(pull.requested_reviewer_ids)})
        elif rule == "pr-too-large" and pull.state == PullState.OPEN:
            lines = (pull.additions or 0) + (pull.deletions or 0)
            if lines > cfg.threshold:
                finding = (f"{item.key} changes {lines} lines",
                           f"Split {item.key} into smaller pull requests (under {cfg.threshold:.0f} changed lines "
                           "each) so they can be reviewed properly and merged sooner.",
                           {"changed lines": lines, "files": pull.changed_files or 0})
        elif rule == "failing-checks" and pull.checks == CheckConclusion.FAILURE:
            merged = pull.state == PullState.MERGED
            if pull.state == PullState.OPEN or (merged and pull.merged_at is not None and pull.merged_at >= recent):
                finding = (f"{item.key} {'was merged with' if merged else 'has'} failing checks",
                           f"Fix the checks that failed on {item.key}'s merged commit before the next release goes out."
                           if merged else f"Fix the failing checks on {item.key} before anyone reviews or merges it.",
                           {"state": str(pull.state), "head": (pull.head_sha or "")[:12]})
        if finding is None:
            continue
        title, mitigation, numbers = finding
        author = ctx.snap.person_name.get(item.reporter_id) if item.reporter_id else None
        if implemented is None:
            implemented = _implemented(ctx)
        out.append(make_risk(rule, cfg.pick(Severity.AMBER), title, mitigation, subjects=[item.id], owner=author,
                             url=item.url, items=[ctx.ref(item)], numbers=numbers,
                             attr=ctx.attribution(implemented.get(item.id, []))))
    return out


WORK_RULES: dict[str, Rule] = {
    "stale-work": stale_work,
    "aging-wip": aging_wip,
    "blocked": blocked,
    "unassigned-in-sprint": unassigned_in_sprint,
    "missing-acceptance": missing_acceptance,
    "review-wait": _pull_risks,
    "pr-too-large": _pull_risks,
    "failing-checks": _pull_risks,
}
