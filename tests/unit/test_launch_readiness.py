"""Launch readiness on the hand-built world: the order of the gates, the conventions from the config,
worked out here from the same records."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syncd.errors import ConfigError
from syncd.model import CheckConclusion, ItemKind, PullState, StatusCategory
from syncd.reports.analysis import analyse
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.launch import find_release
from syncd.reports.catalogue.launch_config import LaunchConfig, LaunchConventions
from syncd.reports.catalogue.readiness import Readiness, launch_checklist
from syncd.reports.data import Snapshot
from syncd.reports.goals import load_goals_file
from syncd.settings import ReportSettings, load_settings
from tests.reports_world import NOW, World, build_world, write_goals

RELEASE = "jira:version:101"  # release 1.1 of the world, due 2026-12-10


def _ready(world: World, tmp_path: Path, launch: LaunchConfig | None = None) -> Readiness:
    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="Europe/Berlin"), NOW, capacity=goals.capacity)
    inp = ReportInput(analysis=analysis, snapshot=snap, now=NOW, scope="1.1", launch=launch or LaunchConfig())
    return launch_checklist(inp, find_release(inp))


def _every_gate_failing(world: World) -> None:
    """Release 1.1 past its due date, and a merged pull request of one of its items with failing checks
    (the world already has an open blocker, an open Highest bug and an open sign-off item)."""
    world.releases = [r.model_copy(update={"due": NOW.date() - timedelta(days=2)}) if r.id == RELEASE else r
                      for r in world.releases]
    docs = next(i for i in world.items if i.title == "Document the checkout API")
    pull = next(p for p in world.pulls if p.linked_keys == [docs.key])
    assert pull.state == PullState.MERGED
    pull.checks = CheckConclusion.FAILURE


def test_gates_are_listed_and_the_no_go_reason_ordered_most_serious_first(tmp_path: Path) -> None:
    world = build_world()
    _every_gate_failing(world)
    ready = _ready(world, tmp_path)
    # the order a go/no-go memo weighs them in, written out here rather than read from GATE_ORDER
    expected = ["No scope open past the due date", "No open blockers", "No open critical bugs",
                "Checks green on merged pull requests", "Sign-offs done"]
    gates = [c for c in ready.checks if c.gate]
    assert [c.name for c in gates] == expected and not any(c.ok for c in gates)
    assert [c.name for c in ready.checks if not c.gate] == ["Documentation done", "Rollback plan ready"]
    assert ready.verdict == "NO-GO"
    work = [i for i in world.items if RELEASE in i.release_ids and i.kind != ItemKind.EPIC]
    open_ = [i for i in work if i.status_category != StatusCategory.DONE]
    due = (NOW.date() - timedelta(days=2)).isoformat()
    parts = ready.reason.split("; ")
    assert parts[0].startswith(f"{len(open_)} of {len(work)} items open past the due date {due}: ")
    by_id = {i.id: i for i in world.items}
    blockers = sorted({i.key for i in open_ if i.flagged} | {
        by_id[lk.from_id].key for lk in world.links if lk.kind == "blocks" and lk.to_id in {i.id for i in open_}
        and by_id[lk.from_id].status_category != StatusCategory.DONE})
    assert parts[1] == f"{len(blockers)} open blockers: {', '.join(blockers)}" and len(blockers) == 2
    critical = [i.key for i in open_ if i.kind == ItemKind.BUG and i.priority == "Highest"]
    assert parts[2] == f"1 open critical bug: {critical[0]}" and len(critical) == 1
    assert parts[3].startswith("1 merged with failing checks: acme/widget#")
    assert parts[4] == "1 of 1 sign-off item still open: " + next(
        i.key for i in world.items if i.title == "Security sign-off for 1.1")
    assert len(parts) == 5


def test_the_reason_leads_with_the_worst_failed_gate_even_when_it_is_a_later_one(tmp_path: Path) -> None:
    world = build_world()
    _every_gate_failing(world)
    for item in world.items:  # finish everything in the release: only the failing checks remain
        if RELEASE in item.release_ids:
            item.status, item.status_category, item.resolved = "Done", StatusCategory.DONE, NOW
    blockers = {lk.from_id for lk in world.links if lk.kind == "blocks"}
    for item in world.items:
        if item.id in blockers:
            item.status, item.status_category, item.resolved = "Done", StatusCategory.DONE, NOW
    ready = _ready(world, tmp_path)
    assert ready.verdict == "NO-GO" and ready.reason.startswith("1 merged with failing checks: acme/widget#")
    assert [c.name for c in ready.checks if not c.ok] == ["Checks green on merged pull requests"]


def test_conventions_from_the_config_replace_the_default_labels_and_title_words(tmp_path: Path) -> None:
    world = build_world()
    rollback = next(i for i in world.items if i.title == "Rollback plan for 1.1")
    docs = next(i for i in world.items if i.title == "Document the checkout API")
    default = {c.name: c for c in _ready(world, tmp_path).checks}
    assert default["Rollback plan ready"].ok and [r.key for r in default["Rollback plan ready"].items] == [rollback.key]
    assert default["Documentation done"].ok and [r.key for r in default["Documentation done"].items] == [docs.key]

    # a team that labels its plans "backout" and writes "Release notes" in titles, with no docs label
    conv = LaunchConventions(rollback_labels=["Backout"], rollback_title=None, documentation_labels=[],
                             documentation_title=r"\brelease notes\b")
    none_found = {c.name: c for c in _ready(world, tmp_path, LaunchConfig(conventions=conv)).checks}
    assert not none_found["Rollback plan ready"].ok and not none_found["Rollback plan ready"].gate
    assert none_found["Rollback plan ready"].detail == "no rollback-plan item in the release"
    assert none_found["Documentation done"].detail == "no documentation item in the release"

    other = next(i for i in world.items if RELEASE in i.release_ids and i.status_category != StatusCategory.DONE
                 and i.kind == ItemKind.STORY)
    other.labels = [*other.labels, "backout"]
    docs.title = "Release notes for 1.1"
    found = {c.name: c for c in _ready(world, tmp_path, LaunchConfig(conventions=conv)).checks}
    assert [r.key for r in found["Rollback plan ready"].items] == [other.key]
    assert found["Rollback plan ready"].detail == f"1 of 1 rollback-plan item still open: {other.key}"
    assert found["Documentation done"].ok and [r.key for r in found["Documentation done"].items] == [docs.key]


def test_conventions_are_read_from_the_releases_section_of_the_toml(tmp_path: Path) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text("[releases.conventions]\nrollback_labels = ['Backout', 'RUNBOOK']\nrollback_title = "
                      "'\\bback ?out\\b'\n", encoding="utf-8")
    conv = load_settings(config).releases.conventions
    assert conv.rollback_labels == ["backout", "runbook"] and conv.rollback_title == r"\bback ?out\b"
    assert conv.documentation_labels == ["docs", "documentation", "release-notes", "release-note"]  # the default

    config.write_text("[releases.conventions]\nrollback_title = '(unclosed'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert str(err.value).startswith("config: releases.conventions.rollback_title: '(unclosed' is not a regular "
                                     "expression: ")
    assert "\n" not in str(err.value)
    config.write_text("[releases.conventions]\nrollback_lables = ['x']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^config: releases\.conventions\.rollback_lables: unknown key$"):
        load_settings(config)


def test_a_bad_convention_is_one_line_and_a_non_zero_exit_through_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncd.cli import main

    config = tmp_path / "syncd.toml"
    config.write_text(f"database_url = 'sqlite:///{tmp_path / 'syncd.db'}'\n[releases.conventions]\n"
                      "documentation_labels = ['docs', ' ']\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "launch-readiness", "-c", str(config), "--now", "2026-11-20"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == "syncd: error: config: releases.conventions.documentation_labels: a label must not be empty"
