"""Risk themes on a hand-built plan: grouping (one theme per goal/release/sprint, hygiene apart), ranking,
and acknowledgement (an ack hides a theme; getting worse or expiring raises it again)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from syncd.model import ItemKind, RiskAck, SprintState
from syncd.reports.analysis import analyse
from syncd.reports.analysis.risk_rules import RiskThresholds
from syncd.reports.analysis.themes import acknowledge
from syncd.reports.analysis.types import Analysis, RiskSubject, ThemeKind, ThemeTier
from syncd.reports.goals import Goal, Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal

NOW = day(70)
TODAY = NOW.date()
AC = "Acceptance criteria:\n- it works"


def scope(label: str) -> Selector:
    """The goal's open items by label, plus the done history every goal shares (its forecast's sample)."""
    return Selector(labels=(label, "history"))


class World:
    """Steady throughput in WID (16 items done over 50 days), an active sprint, and goals by label."""

    def __init__(self) -> None:
        p = self.plan = Plan()
        for k in range(16):
            item = p.item(created=day(0), points=2, description=AC, labels=["history"])
            p.move(item, "In Progress", day(10 + 3 * k))
            p.move(item, "Done", day(12 + 3 * k))
        self.sprint = p.sprint(1, SprintState.ACTIVE, start=day(63), end=day(77))

    def open(self, label: str, n: int = 1, **kw: object) -> list:
        return [self.plan.item(created=day(1), labels=[label], description=AC, **kw) for _ in range(n)]  # type: ignore[arg-type]

    def run(self, goals: list[Goal]) -> Analysis:
        return analyse(self.plan.snapshot(), goals, Settings(), NOW)


def test_signals_group_by_what_they_threaten_and_backlog_is_hygiene() -> None:
    w = World()
    p = w.plan
    # goal "missed": its date passed 5 days ago; one item overdue and blocked by an item in the sprint
    late_item, = w.open("missed", due=TODAY - timedelta(days=3))
    blocker, = w.open("missed")
    p.set_sprints(blocker, [w.sprint], day(62))
    p.block(blocker, late_item)
    # a release whose items are all in goal "big": folded into that goal's theme
    rel = p.version("2.0", due=TODAY - timedelta(days=2))
    big = w.open("big", 4)
    for item in big:
        item.release_ids = [rel.id]
    # outside every goal: an unassigned item in the sprint (sprint theme), backlog blocked by backlog
    # (hygiene), and an item in progress for 20 days (cycle time here: 2 days) nobody touched since (hygiene)
    loose, = w.open("other", assignee=None)
    p.set_sprints(loose, [w.sprint], day(62))
    a, b = w.open("other", 2)
    p.block(a, b)
    idle, = w.open("other")
    p.move(idle, "In Progress", day(50))
    goals = [goal(scope("missed"), id="missed", target=TODAY - timedelta(days=5)),
             goal(scope("big"), id="big", target=TODAY + timedelta(days=60))]
    an = w.run(goals)

    themes = {t.id: t for t in an.themes}
    assert set(themes) == {"goal:missed", "goal:big", f"sprint:{w.sprint.id}"}
    assert Counter(r.rule for r in themes["goal:missed"].signals) == Counter(
        {"forecast-late": 1, "overdue": 1, "blocked": 1})
    # the release's overdue signal went to the goal holding its items, and its missed date counts
    assert {r.rule for r in themes["goal:big"].signals} >= {"overdue"}
    assert themes["goal:big"].release_ids == (rel.id,)
    assert themes["goal:big"].missed_date == TODAY - timedelta(days=2)
    assert [r.rule for r in themes[f"sprint:{w.sprint.id}"].signals] == ["unassigned-in-sprint"]
    # hygiene: counted per team, never in a theme
    assert an.hygiene.by_team == {"WID": {"aging-wip": 1, "blocked": 1, "stale-work": 1}}
    assert {r.evidence.items[0].key for r in an.hygiene.signals} == {b.key, idle.key}
    # every signal exactly once
    placed = [r.id for t in an.themes for r in t.signals] + [r.id for r in an.hygiene.signals]
    assert Counter(placed) == Counter(r.id for r in an.risks)
    # the proposal is built from the evidence: decide within a week (the date has passed), the dated
    # option that makes a target (here only moving it), and the blocker to clear
    m = themes["goal:missed"].mitigation
    fc = themes["goal:missed"].forecast
    assert fc is not None and fc.p85 is not None
    assert m.startswith(f"Decide by {(TODAY + timedelta(days=7)).isoformat()}: "), m
    assert f"move the date to {fc.p85.isoformat()}" in m
    assert f"unblock {late_item.key} (waits on {blocker.key})" in m


def test_ranking_missed_first_then_days_late_times_size_then_priority_never_title() -> None:
    w = World()
    p = w.plan
    w.open("missed", 1)  # 1 item, date passed: first although its impact is small
    w.open("late-small", 3)  # forecast late: 3 items
    w.open("late-big", 30)  # forecast late: 30 items, far more days late
    for label in ("alpha", "beta"):  # on track, one amber signal each: tied but for priority
        item, = w.open(label, assignee=None)
        p.set_sprints(item, [w.sprint], day(62))
    soon = TODAY + timedelta(days=7)
    goals = [goal(scope("late-small"), id="late-small", target=soon),
             goal(scope("alpha"), id="alpha", target=date(2027, 12, 31), priority=2),
             goal(scope("late-big"), id="late-big", target=soon),
             goal(scope("beta"), id="beta", target=date(2027, 12, 31), priority=1),
             goal(scope("missed"), id="missed", target=TODAY - timedelta(days=1))]
    an = w.run(goals)
    order = [t.id for t in an.themes]
    assert order == ["goal:missed", "goal:late-big", "goal:late-small", "goal:beta", "goal:alpha"], order
    by_id = {t.id: t for t in an.themes}
    assert by_id["goal:missed"].tier == ThemeTier.MISSED and by_id["goal:missed"].days_past_target == 1
    big, small = by_id["goal:late-big"], by_id["goal:late-small"]
    # impact = days the 85% forecast is late x items left, worked from the forecasts themselves
    assert big.forecast is not None and big.forecast.p85 is not None
    assert big.impact == (big.forecast.p85 - soon).days * 30 and big.remaining_items == 30
    assert small.forecast is not None and small.forecast.p85 is not None
    assert small.impact == (small.forecast.p85 - soon).days * 3
    # without priorities the tie is broken by the theme id (alpha before beta), not by goals-file order or title
    flat = [g.model_copy(update={"priority": None}) for g in goals]
    assert [t.id for t in w.run(flat).themes][-2:] == ["goal:alpha", "goal:beta"]


def test_a_signal_on_items_of_two_goals_goes_to_the_higher_priority_one() -> None:
    w = World()
    item, = w.open("shared", due=TODAY - timedelta(days=2))
    item.labels = ["shared", "vip"]
    w.open("vip", 2)
    far = date(2027, 12, 31)
    goals = [goal(scope("shared"), id="wide", target=far),
             goal(scope("vip"), id="vip", target=far, priority=1)]
    an = w.run(goals)
    overdue = [(t.id, r.rule) for t in an.themes for r in t.signals if r.rule == "overdue"]
    assert overdue == [("goal:vip", "overdue")]


def _missed_world() -> tuple[World, list[Goal]]:
    w = World()
    w.open("missed", 2, due=TODAY - timedelta(days=3))
    return w, [goal(scope("missed"), id="missed", target=TODAY + timedelta(days=3))]


def test_an_acknowledged_theme_is_accepted_until_it_expires_or_gets_worse() -> None:
    w, goals = _missed_world()
    snap = w.plan.snapshot()
    first = analyse(snap, goals, Settings(), NOW)
    [theme] = [t for t in first.themes if t.id == "goal:missed"]
    reds = sorted(r.id for r in theme.signals if r.severity == "red")
    assert sum(1 for r in theme.signals if r.rule == "overdue" and r.severity == "red") == 2
    ack = acknowledge(theme, by="Dana", at=NOW, until=TODAY + timedelta(days=10), note="vendor fix due")
    assert ack.red_signal_ids == tuple(reds) and ack.forecast_p85 == theme.forecast.p85  # type: ignore[union-attr]

    hidden = analyse(snap, goals, Settings(), NOW, acks=[ack])
    assert "goal:missed" not in [t.id for t in hidden.themes]
    [accepted] = hidden.accepted
    assert accepted.id == "goal:missed" and accepted.ack_state == "accepted" and accepted.ack == ack
    assert hidden.signal_count == len(hidden.risks)  # accepted signals are still accounted for

    # worse: a third item of the goal goes overdue (a red signal it did not have when accepted)
    w.open("missed", 1, due=TODAY - timedelta(days=1))
    worse = analyse(w.plan.snapshot(), goals, Settings(), NOW, acks=[ack])
    [raised] = [t for t in worse.themes if t.id == "goal:missed"]
    assert raised.ack_state == "worse" and raised.ack_reason == "1 new red signal since it was accepted"
    assert worse.accepted == []

    # expiry: the day after `until`, the same unchanged theme is raised again
    later = NOW + timedelta(days=11)
    expired = analyse(snap, goals, Settings(), later, acks=[ack])
    [again] = [t for t in expired.themes if t.id == "goal:missed"]
    assert again.ack_state == "expired"
    assert again.ack_reason is not None
    assert again.ack_reason.startswith(f"the acknowledgement expired on {(TODAY + timedelta(days=10)).isoformat()}")


def test_a_forecast_slip_beyond_the_setting_raises_an_accepted_theme_again() -> None:
    w, goals = _missed_world()
    snap = w.plan.snapshot()
    theme = next(t for t in analyse(snap, goals, Settings(), NOW).themes if t.id == "goal:missed")
    assert theme.forecast is not None and theme.forecast.p85 is not None
    p85 = theme.forecast.p85
    base = acknowledge(theme, by="Dana", at=NOW, until=TODAY + timedelta(days=30), note="ok")
    slip7 = base.model_copy(update={"forecast_p85": p85 - timedelta(days=7)})  # 7 days: within the default 7
    slip8 = base.model_copy(update={"forecast_p85": p85 - timedelta(days=8)})
    assert [t.id for t in analyse(snap, goals, Settings(), NOW, acks=[slip7]).accepted] == ["goal:missed"]
    [raised] = [t for t in analyse(snap, goals, Settings(), NOW, acks=[slip8]).themes if t.id == "goal:missed"]
    assert raised.ack_reason == (f"its 85% forecast slipped 8 days ({(p85 - timedelta(days=8)).isoformat()} → "
                                 f"{p85.isoformat()})")
    loose = Settings(thresholds=RiskThresholds(ack_slip_days=10))
    assert [t.id for t in analyse(snap, goals, loose, NOW, acks=[slip8]).accepted] == ["goal:missed"]


def test_a_config_acknowledgement_is_pinned_to_the_theme_as_it_is_when_first_seen() -> None:
    w, goals = _missed_world()
    unpinned = RiskAck(theme_id="goal:missed", by="config", at=NOW, until=TODAY + timedelta(days=5), note="known",
                       source="config")
    an = analyse(w.plan.snapshot(), goals, Settings(), NOW, acks=[unpinned])
    assert [t.id for t in an.accepted] == ["goal:missed"]
    [pinned] = an.pinned_acks
    assert pinned.red_signal_ids == tuple(sorted(r.id for r in an.accepted[0].signals if r.severity == "red"))


def test_a_theme_is_named_once_and_its_kind_is_a_field() -> None:
    """A release theme is named "Gadget 5.6", not "Release Gadget 5.6"; sprint and team themes likewise.

    The release's own overdue signal is told from an item's by what it fired on, not by its title:
    the proposal asks new dates for the one overdue item, the release's missed date is the theme's.
    """
    w = World()
    p = w.plan
    rel = p.version("Gadget 5.6", due=TODAY - timedelta(days=4))
    late, other = w.open("rel", 2)
    late.due = TODAY - timedelta(days=2)
    for item in (late, other):
        item.release_ids = [rel.id]
    loose, = w.open("loose", assignee=None)
    p.set_sprints(loose, [w.sprint], day(62))
    for _ in range(3):  # a bug wave in WID on no goal, release or sprint: a team theme
        p.item(kind=ItemKind.BUG, created=NOW - timedelta(days=3))
    an = w.run([])

    by_kind = {t.kind: t for t in an.themes}
    assert set(by_kind) == {ThemeKind.RELEASE, ThemeKind.SPRINT, ThemeKind.TEAM}
    assert by_kind[ThemeKind.RELEASE].name == "Gadget 5.6"
    assert by_kind[ThemeKind.SPRINT].name == "Sprint 1" == w.sprint.name
    assert by_kind[ThemeKind.TEAM].name == "WID"
    release = by_kind[ThemeKind.RELEASE]
    overdue = sorted((r.subject_kind, r.subject_ids) for r in release.signals if r.rule == "overdue")
    assert overdue == [(RiskSubject.ITEM, (late.id,)), (RiskSubject.RELEASE, (rel.id,))]
    assert release.missed_date == TODAY - timedelta(days=4)
    assert f"agree new dates for 1 overdue item ({late.key})" in release.mitigation, release.mitigation
    # what each rule fired on: an item in the sprint's theme, the whole team in the bug wave's
    assert [r.subject_kind for r in by_kind[ThemeKind.TEAM].signals] == [RiskSubject.TEAM]
    assert [r.subject_kind for r in by_kind[ThemeKind.SPRINT].signals] == [RiskSubject.ITEM]


def test_blocked_work_ranks_as_blocked_only_on_the_critical_path() -> None:
    """Worked by CPM: WID's p50 cycle time is 2 days (16 items done in 2), GAD's 10 (3 done in 10).

    Goal "off": a lone GAD item (10 days) and WID-Y waiting on WID-Z (2 + 2 = 4 days): the critical
    path is the GAD item, so the blocked pair has 6 days of slack and the theme is "other". Goal
    "on": the same pair alone, 4 days, is its critical path: the theme is "blocked" and ranks first,
    although "off" comes first by theme id.
    """
    w = World()
    p = w.plan
    for _ in range(3):
        done = p.item(created=day(0), project="GAD", labels=["history"], description=AC)
        p.move(done, "In Progress", day(40))
        p.move(done, "Done", day(50))
    far = date(2027, 12, 31)
    for label in ("off", "on"):
        blocked, blocker = w.open(label, 2)
        p.set_sprints(blocked, [w.sprint], day(62))
        p.set_sprints(blocker, [w.sprint], day(62))
        p.block(blocker, blocked)
    p.item(created=day(1), project="GAD", labels=["off"], description=AC)  # the 10-day item
    an = w.run([goal(scope("off"), id="off", target=far), goal(scope("on"), id="on", target=far)])
    themes = {t.id: t for t in an.themes}
    assert [r.rule for r in themes["goal:off"].signals] == [r.rule for r in themes["goal:on"].signals] == ["blocked"]
    assert themes["goal:off"].tier == ThemeTier.OTHER
    assert themes["goal:on"].tier == ThemeTier.BLOCKED
    assert [t.id for t in an.themes][:2] == ["goal:on", "goal:off"]


def test_a_blocker_in_an_unsynced_project_is_named_in_the_proposal_not_taken_for_a_flag() -> None:
    from syncd.model import Link, LinkKind, StatusCategory

    w = World()
    # goal "missed": its date passed; its item waits only on OTHER-35406, a project syncd does not sync
    late_item, = w.open("missed", due=TODAY - timedelta(days=3))
    w.plan.links.append(Link(from_id=late_item.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-35406",
                             to_status="In Progress", to_category=StatusCategory.IN_PROGRESS))
    flagged, = w.open("missed", flagged=True)
    an = w.run([goal(scope("missed"), id="missed", target=TODAY - timedelta(days=5))])
    m = next(t for t in an.themes if t.id == "goal:missed").mitigation
    assert f"{late_item.key} (waits on OTHER-35406)" in m
    assert f"{flagged.key} (waits on a flag)" in m


def test_hygiene_is_counted_per_configured_team() -> None:
    from syncd.reports.goals import Team

    w = World()
    # backlog blocked by backlog, outside every goal and sprint: hygiene, one in WID, one in GAD
    a, b = w.open("other", 2)
    w.plan.block(a, b)
    c, d = w.open("other", 2, project="GAD")
    w.plan.block(c, d)
    snap = w.plan.snapshot()
    plain = analyse(snap, [], Settings(), NOW).hygiene
    assert plain.by_team == {"GAD": {"blocked": 1}, "WID": {"blocked": 1}}
    # [teams.web] holds both projects: one team, two blocked signals
    web = analyse(snap, [], Settings(), NOW, teams={"web": Team(projects=("WID", "GAD"))}).hygiene
    assert web.by_team == {"web": {"blocked": 2}}
    assert set(web.team_of.values()) == {"web"}


def test_a_release_folds_into_the_goal_holding_at_least_half_of_its_items() -> None:
    from types import SimpleNamespace
    from typing import cast

    from syncd.reports.analysis.risks import ScopePart
    from syncd.reports.analysis.themes import _covering_goal

    def part(part_id: str, item_ids: list[str]) -> ScopePart:
        return cast(ScopePart, SimpleNamespace(id=part_id, items=[SimpleNamespace(id=i) for i in item_ids]))

    a, b = part("a", ["1", "2", "5"]), part("b", ["2", "3", "4"])
    goals = [a, b]
    goals_of = {"1": ["a"], "2": ["a", "b"], "3": ["b"], "4": ["b"], "5": ["a"]}
    # release 1..4: a holds 1, 2 (2 of 4, half), b holds 2, 3, 4 (3 of 4): b, which holds more
    assert _covering_goal(part("r", ["1", "2", "3", "4"]), goals, goals_of) is b
    # release 1, 2, 3: a holds 2 of 3, b 2 of 3: a tie goes to the first goal
    assert _covering_goal(part("r", ["1", "2", "3"]), goals, goals_of) is a
    # release 3, 6, 7, 8: b holds 1 of 4, under half: no goal; an empty release: none either
    assert _covering_goal(part("r", ["3", "6", "7", "8"]), goals, goals_of) is None
    assert _covering_goal(part("r", []), goals, goals_of) is None
