"""Risk rules: none fires on a clean plan; each fires on a plan built to trigger it; settings apply."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from syncd.model import CheckConclusion, ItemKind, Link, LinkKind, PullState, SprintState, StatusCategory, WorkItem
from syncd.reports.analysis import RULES, analyse, compare_risks
from syncd.reports.analysis.risks_work import has_acceptance_criteria
from syncd.reports.analysis.types import Analysis, Risk
from syncd.reports.goals import Goal, Selector, Team
from tests.unit.analysis_factories import Plan, Settings, day, goal

NOW = day(70)
AC = "As a user I want X.\n\nAcceptance criteria:\n- it works"
SCOPE = Selector(projects=("WID",))


class World:
    """A clean plan: steady pace, healthy sprint, reviewed small PRs, nothing late or blocked."""

    def __init__(self) -> None:
        p = self.plan = Plan()
        self.goal = goal(SCOPE, target=date(2026, 12, 31), baseline_date=date(2026, 3, 2))
        for k in range(16):
            item = p.item(created=day(0), points=2, description=AC)
            p.move(item, "In Progress", day(10 + 3 * k))
            p.move(item, "Done", day(12 + 3 * k))
        self.sprint = p.sprint(1, SprintState.ACTIVE, start=day(63), end=day(77))
        self.doing = []
        for _ in range(2):
            item = p.item(created=day(0), description=AC)
            p.set_sprints(item, [self.sprint], day(62))
            p.move(item, "In Progress", day(69))
            self.doing.append(item)
        self.todo = p.item(created=day(0), description=AC)
        p.set_sprints(self.todo, [self.sprint], day(62))
        shipped = next(iter(p.items.values()))
        p.pull(created=day(59), reviews=[day(59.5)], state=PullState.MERGED, merged_at=day(60), implements=shipped)
        p.gh_release("acme/widget", day(61))
        p.pull(created=NOW - timedelta(hours=12))

    def in_sprint(self, **kw: object) -> WorkItem:
        """A new story in the active sprint since before it started."""
        kw.setdefault("description", AC)
        item = self.plan.item(created=day(0), **kw)  # type: ignore[arg-type]
        self.plan.set_sprints(item, [self.sprint], day(62))
        return item

    def run(self, goals: list[Goal] | None = None, settings: Settings | None = None) -> Analysis:
        return analyse(self.plan.snapshot(), goals if goals is not None else [self.goal], settings or Settings(), NOW)


def fired(an: Analysis, rule: str) -> list[Risk]:
    return [r for r in an.risks if r.rule == rule]


def test_clean_plan_has_no_risks_and_is_green() -> None:
    an = World().run()
    assert an.risks == [], [r.title for r in an.risks]
    g = an.goals[0]
    assert g.on_track and g.status.rag == "green", g.status
    assert g.status.reason.startswith("On track")


# -- one trigger per rule -------------------------------------------------------------------------


def t_forecast_late(w: World) -> list[Goal]:
    return [replace_goal(w.goal, target_date=NOW.date() + timedelta(days=3))]


def t_scope_creep(w: World) -> None:
    for _ in range(4):  # 4 added to 19 at the baseline: 21% > 15%
        w.plan.item(created=day(30))


def t_over_commitment(w: World) -> None:
    s0 = w.plan.sprint(0, SprintState.CLOSED, start=day(49), end=day(63), complete=day(63))
    done = w.plan.item(created=day(48), points=5, description=AC)
    w.plan.set_sprints(done, [s0], day(48))
    w.plan.move(done, "Done", day(55))
    for _ in range(2):
        w.in_sprint(points=5)  # committed 10 vs velocity 5: 200%


def t_stale_work(w: World) -> WorkItem:
    item = w.in_sprint()
    w.plan.move(item, "In Progress", day(64))  # nothing since: 6 days
    return item


def t_aging_wip(w: World) -> None:
    item = w.in_sprint()
    w.plan.move(item, "In Progress", day(66))  # 4 days in progress; the team's p85 is 2
    item.updated = day(69)


def t_blocked(w: World) -> None:
    blocked = w.in_sprint()
    blocker = w.plan.item(created=day(0), project="OPS")
    w.plan.block(blocker, blocked)


def t_review_wait(w: World) -> None:
    w.plan.pull(created=NOW - timedelta(hours=30))


def t_pr_too_large(w: World) -> None:
    w.plan.pull(created=NOW - timedelta(hours=12), reviews=[NOW - timedelta(hours=1)], additions=450, deletions=50)


def t_failing_checks(w: World) -> None:
    w.plan.pull(created=NOW - timedelta(hours=12), reviews=[NOW - timedelta(hours=1)], checks=CheckConclusion.FAILURE)


def t_unassigned(w: World) -> None:
    w.in_sprint(assignee=None)


def t_missing_acceptance(w: World) -> None:
    w.in_sprint(description="Make the button blue.")


def t_overdue(w: World) -> None:
    w.plan.item(created=day(0), due=date(2026, 5, 9), description=AC)


def t_carry_over(w: World) -> None:
    sa = w.plan.sprint(-2, SprintState.CLOSED, start=day(35), end=day(49), complete=day(49))
    sb = w.plan.sprint(0, SprintState.CLOSED, start=day(49), end=day(63), complete=day(63))
    item = w.plan.item(created=day(30), description=AC)
    w.plan.set_sprints(item, [sa], day(34))
    w.plan.set_sprints(item, [sa, sb], day(49))
    w.plan.set_sprints(item, [sa, sb, w.sprint], day(63))
    w.goal = replace_goal(w.goal, baseline_date=date(2026, 4, 1))


def t_bug_inflow(w: World) -> None:
    for k in range(4):
        w.plan.item(created=day(60 + k), kind=ItemKind.BUG, project="OPS")
    fixed = w.plan.item(created=day(50), kind=ItemKind.BUG, project="OPS")
    w.plan.move(fixed, "Done", day(62))  # 4 opened vs 1 closed: ratio 4 > 1.5


def replace_goal(g: Goal, **kw: object) -> Goal:
    return g.model_copy(update=kw)


TRIGGERS: dict[str, tuple[Callable[[World], object], str]] = {
    "forecast-late": (t_forecast_late, "red"),
    "scope-creep": (t_scope_creep, "amber"),
    "over-commitment": (t_over_commitment, "amber"),
    "stale-work": (t_stale_work, "amber"),
    "aging-wip": (t_aging_wip, "amber"),
    "blocked": (t_blocked, "red"),  # the blocker belongs to another team
    "review-wait": (t_review_wait, "amber"),
    "pr-too-large": (t_pr_too_large, "amber"),
    "failing-checks": (t_failing_checks, "amber"),
    "unassigned-in-sprint": (t_unassigned, "amber"),
    "missing-acceptance": (t_missing_acceptance, "amber"),
    "overdue": (t_overdue, "red"),
    "carry-over": (t_carry_over, "amber"),
    "bug-inflow": (t_bug_inflow, "amber"),
}


def test_every_rule_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(RULES)


def triggered(rule: str) -> tuple[World, list[Goal] | None]:
    w = World()
    result = TRIGGERS[rule][0](w)
    return w, (result if isinstance(result, list) else None)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_fires_on_its_trigger(rule: str) -> None:
    w, goals = triggered(rule)
    an = w.run(goals)
    risks = fired(an, rule)
    assert len(risks) == 1, [r.title for r in an.risks]
    risk = risks[0]
    assert risk.severity == TRIGGERS[rule][1]
    assert risk.title and risk.mitigation and risk.evidence.numbers
    assert risk.id == fired(w.run(goals), rule)[0].id  # stable across runs
    # the rule can be switched off, and its severity overridden
    off = w.run(goals, Settings(risks={rule: {"enabled": False}}))
    assert fired(off, rule) == []
    red = w.run(goals, Settings(risks={rule: {"severity": "red"}}))
    assert fired(red, rule)[0].severity == "red"


@pytest.mark.parametrize(("rule", "threshold"), [
    ("scope-creep", 25), ("over-commitment", 250), ("stale-work", 7), ("aging-wip", 3), ("review-wait", 36),
    ("pr-too-large", 600), ("overdue", 3), ("carry-over", 3), ("bug-inflow", 5),
])
def test_raising_the_threshold_silences_the_rule(rule: str, threshold: float) -> None:
    w, goals = triggered(rule)
    assert fired(w.run(goals, Settings(risks={rule: {"threshold": threshold}})), rule) == []


def test_evidence_names_items_owners_and_goals() -> None:
    w = World()
    stale = t_stale_work(w)
    [risk] = fired(w.run(), "stale-work")
    assert risk.owner == "Alice" and risk.url == f"https://jira.example/browse/{stale.key}"
    assert risk.evidence.numbers["days without update"] == 6.0
    assert [i.key for i in risk.evidence.items] == [stale.key] and risk.subject_ids == (stale.id,)
    assert risk.goal_ids == ("g1",) and risk.sprint_ids == (w.sprint.id,)
    an = w.run()
    assert an.goals[0].risks and an.goals[0].status.rag == "amber"


def test_forecast_late_is_amber_when_only_p85_is_late() -> None:
    w = World()
    an = w.run()
    fc = an.goals[0].forecast
    assert fc.p50 is not None and fc.p85 is not None and fc.p50 < fc.p85
    late = replace_goal(w.goal, target_date=fc.p50)
    [risk] = fired(w.run([late]), "forecast-late")
    assert risk.severity == "amber" and risk.owner == "Olivia" and risk.goal_ids == ("g1",)


def test_blocked_by_a_later_sprint_is_red_and_a_flag_is_amber() -> None:
    w = World()
    later = w.plan.sprint(2, SprintState.FUTURE)
    blocked = w.in_sprint()
    blocker = w.plan.item(created=day(0))
    w.plan.set_sprints(blocker, [later], day(60))
    w.plan.block(blocker, blocked)
    flagged = w.in_sprint(flagged=True)
    done_blocker = w.plan.item(created=day(0))
    w.plan.move(done_blocker, "Done", day(5))
    w.plan.block(done_blocker, w.todo)  # resolved blockers do not count
    risks = sorted(fired(w.run(), "blocked"), key=lambda r: r.title)
    assert [(r.severity, r.title) for r in risks] == [
        ("red", f"{blocked.key} is blocked by {blocker.key}"),
        ("amber", f"{flagged.key} is flagged as impeded"),
    ]
    assert "is planned after it" in risks[0].mitigation


def test_release_overdue() -> None:
    w = World()
    rel = w.plan.version("1.0", due=date(2026, 5, 1))
    w.todo.release_ids = [rel.id]
    [risk] = fired(w.run(), "overdue")
    assert risk.title == "Release 1.0 is 10 days past its due date" and risk.release_ids == (rel.id,)
    release = w.run().releases[0]
    # its one open item is forecast from the team's pace (default share): late as well as overdue
    assert [r.rule for r in release.risks] == ["forecast-late", "overdue"] and risk in release.risks
    assert release.status.rag == "red" and release.forecast.share_source == "default"


def test_compare_risks_new_ongoing_resolved() -> None:
    w = World()
    t_stale_work(w)
    before = w.run().risks
    t_review_wait(w)
    after = w.run().risks
    changes = compare_risks(after, [r.id for r in before] + ["gone"])
    assert [r.rule for r in changes.new] == ["review-wait"]
    assert sorted(r.rule for r in changes.ongoing) == ["aging-wip", "stale-work"]
    assert changes.resolved_ids == ["gone"]


def test_acceptance_criteria_detection() -> None:
    assert has_acceptance_criteria("Acceptance Criteria\n* works")
    assert has_acceptance_criteria("Given a user\nWhen she signs up\nThen she sees the dashboard")
    assert has_acceptance_criteria("Notes\nAC: it works")
    assert not has_acceptance_criteria("Make the button blue")
    assert not has_acceptance_criteria(None)


def test_blocked_by_another_teams_work_reads_blocked_by_links_and_far_ends_outside_the_store() -> None:
    w = World()
    # OTHER is not synced: the link came into WID's item inverted, with what Jira showed of the far end
    waits_outside = w.in_sprint()
    w.plan.links.append(Link(from_id=waits_outside.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-35406",
                             to_id="jira:35406", to_status="In Progress", to_category=StatusCategory.IN_PROGRESS,
                             to_summary="Another team's work", to_type="Task"))
    # a "depends on" link stored by the waiting item (BLOCKED_BY), far end in team GAD's synced project
    gad = w.plan.item(project="GAD", created=day(0))
    w.plan.move(gad, "In Progress", day(66))
    waits_gad = w.in_sprint()
    w.plan.links.append(Link(from_id=waits_gad.id, kind=LinkKind.BLOCKED_BY, to_key=gad.key, to_id=gad.id))
    # the far end's status was not in the payload: still a blocker, said to be unknown
    unknown = w.in_sprint()
    w.plan.links.append(Link(from_id=unknown.id, kind=LinkKind.BLOCKED_BY, to_key="PAY-7"))
    # done far ends do not block
    w.plan.links.append(Link(from_id=w.todo.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-1", to_status="Closed",
                             to_category=StatusCategory.DONE))
    risks = sorted(fired(w.run(), "blocked"), key=lambda r: r.title)
    assert [(r.severity, r.title) for r in risks] == sorted([
        ("red", f"{waits_outside.key} is blocked by another team's work: "
                "OTHER-35406 (In Progress, project OTHER, not synced)"),
        ("red", f"{waits_gad.key} is blocked by another team's work: {gad.key} (In Progress, team GAD)"),
        ("red", f"{unknown.key} is blocked by another team's work: PAY-7 (status unknown, project PAY, not synced)"),
    ], key=lambda r: r[1])
    outside = next(r for r in risks if r.title.startswith(waits_outside.key))
    assert outside.evidence.numbers["blockers outside the synced projects"] == 1
    assert outside.evidence.numbers["blockers in another team"] == 1
    assert "agree a date with OTHER" in outside.mitigation and "does not sync" in outside.mitigation
    assert outside.subject_ids == tuple(sorted((waits_outside.id, "link:OTHER-35406")))
    by_gad = next(r for r in risks if r.title.startswith(waits_gad.key))
    assert [i.key for i in by_gad.evidence.items] == [waits_gad.key, gad.key]


def test_blockers_of_reads_both_link_directions_once() -> None:
    from syncd.reports.data import Snapshot

    p = Plan()
    a, b, c = p.item(), p.item(), p.item()
    p.block(a, b)  # a blocks b
    p.links.append(Link(from_id=b.id, kind=LinkKind.BLOCKED_BY, to_key=a.key, to_id=a.id))  # the same, told by b
    p.links.append(Link(from_id=b.id, kind=LinkKind.BLOCKED_BY, to_key=c.key))  # by key only
    p.links.append(Link(from_id=c.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-9"))
    snap = Snapshot.of(p.items.values(), links=p.links)
    assert snap.blockers_of == {b.id: [a.id, c.id]}
    assert [lk.to_key for lk in snap.external_blockers_of[c.id]] == ["OTHER-9"]
    assert list(snap.external_blockers_of) == [c.id]


def test_blocked_compares_configured_teams_not_projects() -> None:
    """One configured team holding WID and GAD: a GAD blocker is the same team's work (amber); WID's two
    boards in two configured teams: the other board's blocker is another team's work (red), named by team."""
    w = World()
    other_board = w.plan.sprint(2, SprintState.ACTIVE, start=day(63), end=day(77), board="2")
    gad = w.plan.item(project="GAD", created=day(0), status="In Progress")  # in the same sprint: not planned later
    w.plan.set_sprints(gad, [w.sprint], day(62))
    waits_gad = w.in_sprint()
    w.plan.block(gad, waits_gad)
    theirs = w.plan.item(created=day(0), status="In Progress", description=AC)  # WID, on Board 2
    w.plan.set_sprints(theirs, [other_board], day(62))
    waits_board = w.in_sprint()  # WID, on Board 1
    w.plan.block(theirs, waits_board)

    def blocked(configured: dict[str, Team] | None) -> dict[str, tuple[str, str, object]]:
        an = analyse(w.plan.snapshot(), [w.goal], Settings(), NOW, teams=configured)
        return {r.title.split(" ", 1)[0]: (r.severity, r.title, r.evidence.numbers["blockers in another team"])
                for r in fired(an, "blocked")}

    # without [teams]: WID vs GAD is another team, both boards are WID's
    assert blocked(None) == {
        waits_gad.key: ("red", f"{waits_gad.key} is blocked by another team's work: {gad.key} (In Progress, team GAD)",
                        1),
        waits_board.key: ("amber", f"{waits_board.key} is blocked by {theirs.key}", 0)}
    # one team holds both projects: nothing is another team's
    assert blocked({"product": Team(projects=("WID", "GAD"))}) == {
        waits_gad.key: ("amber", f"{waits_gad.key} is blocked by {gad.key}", 0),
        waits_board.key: ("amber", f"{waits_board.key} is blocked by {theirs.key}", 0)}
    # the boards are teams (first match wins: gad sits on Board 1 with waits_gad, so both are "web")
    assert blocked({"web": Team(boards=("Board 1",)), "mobile": Team(boards=("Board 2",)),
                    "product": Team(projects=("WID", "GAD"))}) == {
        waits_gad.key: ("amber", f"{waits_gad.key} is blocked by {gad.key}", 0),
        waits_board.key: ("red", f"{waits_board.key} is blocked by another team's work: "
                                 f"{theirs.key} (In Progress, team mobile)", 1)}


def test_a_blocker_in_an_unsynced_project_of_the_items_own_team_is_not_another_teams() -> None:
    """[teams.web] lists WID and EXT, EXT is not synced: a WID item waiting on EXT-5 waits on web's own work
    (amber, named as web's and unsynced); a far end in PAY, which team pay lists, is another team's (red)."""
    w = World()
    waits_ext = w.in_sprint()
    w.plan.links.append(Link(from_id=waits_ext.id, kind=LinkKind.BLOCKED_BY, to_key="EXT-5", to_status="In Progress",
                             to_category=StatusCategory.IN_PROGRESS))
    waits_pay = w.in_sprint()
    w.plan.links.append(Link(from_id=waits_pay.id, kind=LinkKind.BLOCKED_BY, to_key="PAY-7"))
    both = w.in_sprint()
    for key in ("EXT-6", "PAY-8"):
        w.plan.links.append(Link(from_id=both.id, kind=LinkKind.BLOCKED_BY, to_key=key, to_status="To Do",
                                 to_category=StatusCategory.TODO))

    def blocked(configured: dict[str, Team] | None) -> dict[str, Risk]:
        an = analyse(w.plan.snapshot(), [w.goal], Settings(), NOW, teams=configured)
        return {r.title.split(" ", 1)[0]: r for r in fired(an, "blocked")}

    with_teams = blocked({"web": Team(projects=("WID", "EXT")), "pay": Team(projects=("PAY",))})
    ext = with_teams[waits_ext.key]
    assert (ext.severity, ext.title) == (
        "amber", f"{waits_ext.key} is blocked by its own team's work: EXT-5 (In Progress, project EXT of team web, "
                 "not synced)")
    assert ext.evidence.numbers["blockers in another team"] == 0
    assert ext.evidence.numbers["blockers outside the synced projects"] == 1
    assert ext.mitigation == (f"Get EXT-5 scheduled before {waits_ext.key}: EXT-5 is team web's own work in EXT, a "
                              "project syncd does not sync (its sprint and progress are not known here), so agree a "
                              "date with web or re-plan around it.")
    pay = with_teams[waits_pay.key]
    assert (pay.severity, pay.title) == (
        "red", f"{waits_pay.key} is blocked by another team's work: PAY-7 (status unknown, project PAY of team pay, "
               "not synced)")
    assert pay.evidence.numbers["blockers in another team"] == 1 and "agree a date with pay" in pay.mitigation
    mixed = with_teams[both.key]
    assert (mixed.severity, mixed.title) == (
        "red", f"{both.key} is blocked by another team's work: PAY-8 (To Do, project PAY of team pay, not synced); "
               "also by EXT-6 (To Do, project EXT of team web, not synced)")
    assert (mixed.evidence.numbers["blockers in another team"], mixed.evidence.numbers["blockers"]) == (1, 2)
    # without [teams] every unsynced project is another team's, as before
    plain = blocked(None)
    assert [(plain[k.key].severity, plain[k.key].title) for k in (waits_ext, waits_pay)] == [
        ("red", f"{waits_ext.key} is blocked by another team's work: EXT-5 (In Progress, project EXT, not synced)"),
        ("red", f"{waits_pay.key} is blocked by another team's work: PAY-7 (status unknown, project PAY, not synced)")]
    assert plain[waits_ext.key].evidence.numbers["blockers in another team"] == 1
