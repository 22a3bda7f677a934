"""The report catalogue on the hand-built world: launch verdicts, kickoff checks, scope selection,
and what each report concludes (worked out here from the same records)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syncd.errors import ReportError
from syncd.model import ItemKind, Link, LinkKind, StatusCategory
from syncd.reports.analysis import analyse
from syncd.reports.analysis.risks_work import has_acceptance_criteria
from syncd.reports.analysis.scope import key_order
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.catalogue.launch import find_release
from syncd.reports.catalogue.readiness import launch_checklist
from syncd.reports.catalogue.sprint import find_sprint
from syncd.reports.data import Snapshot
from syncd.reports.goals import load_goals_file
from syncd.settings_sections import ReportSettings
from tests.reports_world import NOW, World, build_world, write_goals


def _input(world: World, tmp_path: Path, scope: str | None = None) -> ReportInput:
    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="Europe/Berlin"), NOW, capacity=goals.capacity)
    return ReportInput(analysis=analysis, snapshot=snap, now=NOW, scope=scope)


def _finish(world: World, keys_or_labels: set[str]) -> None:
    for item in world.items:
        if item.key in keys_or_labels or keys_or_labels & set(item.labels):
            item.status, item.status_category, item.resolved = "Done", StatusCategory.DONE, NOW


def test_launch_readiness_is_no_go_while_gates_fail_and_go_once_they_pass(tmp_path: Path) -> None:
    world = build_world()
    ready = launch_checklist(inp := _input(world, tmp_path), find_release(inp))
    assert ready.release.release.name == "1.1" and ready.verdict == "NO-GO"
    failed = {c.name: c for c in ready.checks if not c.ok}
    assert set(failed) == {"No open blockers", "No open critical bugs", "Sign-offs done",
                           "Remaining work fits the due date"}
    crit = [i for i in world.items if i.priority == "Highest"]
    assert [r.key for r in failed["No open critical bugs"].items] == [i.key for i in crit]
    assert [r.key for r in failed["Sign-offs done"].items] == [i.key for i in world.items if "sign-off" in i.labels]

    release_items = {i.key for i in world.items if "jira:version:101" in i.release_ids}
    blockers = {lk.from_id for lk in world.links if lk.kind == "blocks"}
    _finish(world, release_items | {i.key for i in world.items if i.id in blockers})
    after = launch_checklist(inp := _input(world, tmp_path), find_release(inp))
    assert after.verdict == "GO" and all(c.ok for c in after.checks), [c for c in after.checks if not c.ok]

    world.items = [i for i in world.items if "rollback" not in i.labels]
    no_plan = launch_checklist(inp := _input(world, tmp_path), find_release(inp))
    assert no_plan.verdict == "AT RISK" and no_plan.reason == "no rollback-plan item in the release"


def test_launch_readiness_names_the_release_by_scope(tmp_path: Path) -> None:
    report = render_report("launch-readiness", None, _input(build_world(), tmp_path, scope="1.1"))
    assert report.title == "Launch readiness: 1.1" and report.scope == "jira:version:101"
    assert "## 🔴 NO-GO" in report.markdown
    with pytest.raises(ReportError, match="no release 'nope'"):
        render_report("launch-readiness", None, _input(build_world(), tmp_path, scope="nope"))


def test_kickoff_lists_items_without_acceptance_criteria_and_the_commitment(tmp_path: Path) -> None:
    world = build_world()
    report = render_report("sprint-kickoff", None, _input(world, tmp_path))
    assert report.title == "Sprint kickoff: WID Sprint 7"
    members = [i for i in world.items if "jira:sprint:7" in i.sprint_ids]
    missing = sorted(i.key for i in members if not has_acceptance_criteria(i.description))
    section = report.markdown.split("## Items without acceptance criteria", 1)[1].split("##", 1)[0]
    assert sorted(k for k in (line.split("](")[0].removeprefix("- [") for line in section.splitlines()
                              if line.startswith("- [")) if k) == missing
    points = sum(i.estimate or 0 for i in members)
    assert f"| {points:g} pts | {len(members)} |" in report.markdown
    assert "30 pts" in report.markdown  # the board's configured capacity


def test_review_says_whether_the_goal_was_met_by_the_stated_rule(tmp_path: Path) -> None:
    inp = _input(build_world(), tmp_path, scope="WID Sprint 4")
    rep = next(r for r in inp.analysis.sprints if r.sprint.name == "WID Sprint 4")
    report = render_report("sprint-review", None, inp)
    done = sum(e.points_at_start or 0 for e in rep.committed if e in rep.completed)
    share = done / rep.committed_points
    assert f"**Goal met: {'yes' if share >= 0.9 else 'no'}**" in report.markdown
    assert f"| Committed at start | {len(rep.committed)} |" in report.markdown
    assert "![Sprint burndown](./sprint-review-burndown-jira-sprint-4.png)" in report.markdown


def test_status_scope_narrows_to_one_goal_and_retrospective_takes_a_release(tmp_path: Path) -> None:
    world = build_world()
    one = render_report("status", "business", _input(world, tmp_path, scope="payments"))
    assert "Payments API beta" in one.markdown and "### 🔴 Red · Checkout v2" not in one.markdown
    retro = render_report("retrospective", None, _input(world, tmp_path, scope="1.1"))
    assert retro.title == "Retrospective: release 1.1" and "## What slowed us down" in retro.markdown


def test_executive_decides_each_late_theme_it_shows_once_with_dated_options(tmp_path: Path) -> None:
    inp = _input(build_world(), tmp_path)
    md = render_report("status", "executive", inp).markdown
    risks = md.split("## Top risks")[1].split("## ")[0]
    decisions = md.split("## Decisions and sign-offs needed")[1].split("## ")[0]
    shown, rest = inp.analysis.themes[:3], inp.analysis.themes[3:]
    late = [t for t in shown if t.forecast is not None and t.forecast.p85 and t.target and t.forecast.p85 > t.target]
    assert late, "the world has a late theme among the top 3"
    rows = [line for line in decisions.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]
    firsts = [k for k, row in enumerate(rows) if not row.startswith("| or, for ")]
    assert len(firsts) == len(late)  # one decision per late theme shown, no more
    today = NOW.date()
    for n, t in enumerate(late):
        assert t.forecast is not None and t.target is not None and t.forecast.p85 is not None
        group = rows[firsts[n]:firsts[n + 1] if n + 1 < len(firsts) else len(rows)]
        # decide within a week, or by the target when that comes first (and has not passed)
        by = min(d for d in (today + timedelta(days=7), t.target) if d >= today)
        assert f" of the {t.kind} **{t.name}**, by {by.isoformat()}. " in group[0], group[0]
        assert (f"Owner: {t.owner}." if t.owner else "No owner") in group[0]
        assert len(group) == len(t.options)  # one row per option, each with its 85% date and its distance
        for lever, row in zip(t.options, group, strict=True):
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert lever.p85 is not None and cells[3] == lever.p85.isoformat(), row
            days = (lever.p85 - t.target).days
            assert cells[4] == (f"+{days} d: the new target" if lever.kind == "move-date" else
                                "on the target" if days == 0 else f"{-days} d early" if days < 0 else
                                f"{days} d late: misses it"), row
        assert group[-1].split("|")[4].strip() == t.forecast.p85.isoformat()  # moving to the 85% date: always there
        # the top-risk line holds the evidence and points to the decision, without repeating the options
        [risk] = [r for r in risks.splitlines() if f"**{t.name}**" in r]
        assert "Decision below." in risk and "decide by" not in risk.lower() and "Owner:" not in risk, risk
        assert f"to {t.forecast.p85.isoformat()}" not in risk
    for t in rest:  # themes not shown have their decisions in the engineering report only
        assert f"**{t.name}**" not in decisions
    more = sum(1 for t in rest if t.options)
    if more:
        assert f"_{more} more decision{'s' if more != 1 else ''} with the other risk themes in the engineering report._" in md


def test_launch_readiness_scope_open_past_the_due_date_is_the_first_gate(tmp_path: Path) -> None:
    world = build_world()
    rel = next(r for r in world.releases if r.name == "1.1")
    world.releases = [r.model_copy(update={"due": NOW.date() - timedelta(days=3)}) if r is rel else r
                      for r in world.releases]
    ready = launch_checklist(inp := _input(world, tmp_path), find_release(inp))
    work = [i for i in world.items if "jira:version:101" in i.release_ids and i.kind != ItemKind.EPIC]
    open_ = sorted((i for i in work if i.status_category != StatusCategory.DONE), key=lambda i: key_order(i.key))
    gate = ready.checks[0]
    assert gate.name == "No scope open past the due date" and gate.gate and not gate.ok
    assert [r.key for r in gate.items] == [i.key for i in open_]
    due = (NOW.date() - timedelta(days=3)).isoformat()
    assert ready.verdict == "NO-GO"
    assert ready.reason.startswith(f"{len(open_)} of {len(work)} items open past the due date {due}")
    assert "Remaining work fits the due date" not in {c.name for c in ready.checks}  # the gate says it


def test_blockers_in_projects_that_are_not_synced_show_in_the_engineering_report_and_the_kickoff(
        tmp_path: Path) -> None:
    world = build_world()
    waiting = next(i for i in world.items if "jira:sprint:7" in i.sprint_ids and i.status_category != StatusCategory.DONE)
    world.links.append(Link(from_id=waiting.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-35406", to_status="In Progress",
                            to_category=StatusCategory.IN_PROGRESS, to_summary="Another team's API"))
    world.links.append(Link(from_id=waiting.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-1", to_status="Closed",
                            to_category=StatusCategory.DONE))  # done: not a blocker any more
    inp = _input(world, tmp_path)
    inp.browse_url = "https://jira.example"
    eng = render_report("status", "engineering", inp).markdown
    table = eng.split("## Blockers and dependencies", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in table.splitlines() if line.startswith(f"| [{waiting.key}]"))
    assert "[OTHER-35406](https://jira.example/browse/OTHER-35406) (In Progress, not synced)" in row
    assert "OTHER-1" not in row
    kickoff = render_report("sprint-kickoff", None, inp).markdown
    deps = kickoff.split("## Known risks and dependencies", 1)[1]
    assert ("waits on [OTHER-35406](https://jira.example/browse/OTHER-35406) Another team's API "
            "(In Progress, project not synced)") in deps.replace("\\", "")
    assert f"- [{waiting.key}]" in deps


def test_a_release_item_waiting_on_a_project_that_is_not_synced_fails_the_blockers_gate(tmp_path: Path) -> None:
    world = build_world()
    release_items = {i.key for i in world.items if "jira:version:101" in i.release_ids}
    blockers = {lk.from_id for lk in world.links if lk.kind == "blocks"}
    _finish(world, release_items | {i.key for i in world.items if i.id in blockers})
    last = max((i for i in world.items if i.key in release_items and not i.flagged and i.kind != ItemKind.BUG),
               key=lambda i: key_order(i.key))
    last.status, last.status_category, last.resolved = "In Progress", StatusCategory.IN_PROGRESS, None
    world.links.append(Link(from_id=last.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-35406", to_status="In Review",
                            to_category=StatusCategory.IN_PROGRESS))
    world.links.append(Link(from_id=last.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-2", to_status="Done",
                            to_category=StatusCategory.DONE))
    ready = launch_checklist(inp := _input(world, tmp_path), find_release(inp))
    check = next(c for c in ready.checks if c.name == "No open blockers")
    assert not check.ok and check.gate
    assert check.detail == "1 open blocker: OTHER-35406 (In Review, not synced)"
    assert ready.verdict == "NO-GO"


def test_business_reached_users_sentence_agrees_with_one_item(tmp_path: Path) -> None:
    from dataclasses import replace

    from syncd.reports.analysis.types import Delivery

    inp = _input(build_world(), tmp_path)
    g = inp.analysis.goals[0]
    one = replace(g, progress=replace(g.progress, delivery=Delivery(items_with_prs=1, code_done=1, delivered=1,
                                                                    releases_tracked=True)))
    inp = replace(inp, analysis=replace(inp.analysis, goals=[one, *inp.analysis.goals[1:]]), shared={})
    md = render_report("status", "business", inp).markdown
    assert "- **Reached users:** 1 of 1 item with code is released; 1 has all its code merged." in md


def test_launch_readiness_shows_each_option_once_in_its_table(tmp_path: Path) -> None:
    inp = _input(build_world(), tmp_path)
    rel = find_release(inp)
    md = render_report("launch-readiness", None, inp).markdown
    fc, due = rel.forecast, rel.release.due
    if not fc.options or due is None:
        pytest.skip("the next release of the test world is on time")
    table = md.split("| Option | What it means | 85% date with it | vs due date |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    assert [r.split("|")[3].strip() for r in rows] == [o.p85.isoformat() if o.p85 else "—" for o in fc.options]
    assert md.count("move the date") == 0 and md.count("Options (85% dates)") == 0  # not repeated in the risks
    if any(r.rule == "forecast-late" for r in rel.risks):
        assert "The options, each with its 85% date, are in the table above." in md


def test_scope_names_a_sprint_or_release_by_id_or_name_in_any_case(tmp_path: Path) -> None:
    """--scope looks sprints and releases up by one rule (base.find_scoped): id or name, any case."""
    world = build_world()
    sprint = next(s for s in world.sprints if s.name == "WID Sprint 4")
    assert find_sprint(_input(world, tmp_path, scope="wid sprint 4"), "review").sprint.id == sprint.id
    assert find_sprint(_input(world, tmp_path, scope=sprint.id.upper()), "kickoff").sprint.name == "WID Sprint 4"
    release = world.releases[0]
    assert find_release(_input(world, tmp_path, scope=release.name.upper())).release.id == release.id
    with pytest.raises(ReportError, match=r"^no sprint 'Sprint 99' among the active, closed and next sprints \(known: "):
        find_sprint(_input(world, tmp_path, scope="Sprint 99"), "review")
    with pytest.raises(ReportError, match=r"^no release '9\.9' among the planned and recent releases \(known: "):
        find_release(_input(world, tmp_path, scope="9.9"))


def test_started_reads_each_items_first_start_from_the_facts(tmp_path: Path) -> None:
    inp = _input(build_world(), tmp_path)
    facts = inp.hist.facts()
    expected = {item_id: f.started for item_id, f in facts.items()}  # the copy the timeline built per goal
    started = inp.started
    assert dict(started) == expected and len(started) == len(expected)
    assert any(v is not None for v in expected.values()) and any(v is None for v in expected.values())
    assert started.get("no such item") is None
