"""A source serving one malformed item: that item is skipped, named in one line and retried; everything
else syncs and nothing stored is lost. In process (SQLite and PostgreSQL) and through `syncd sync`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraConnector
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox import jira_mutations as edit
from syncd.sandbox import start_sandbox
from syncd.sandbox._http import Controls, RunningServer
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.world import World
from syncd.store import Store
from syncd.sync import SourceResult, sync_source
from tests.integration._github import Sandbox as GitHubSandbox
from tests.integration._github import open_sandbox
from tests.integration._github import sync as gh_sync
from tests.integration.jira_world import EMAIL, TOKEN, make_world

Sandbox = tuple[World, Controls, RunningServer]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    world = make_world(issues=30, ops_issues=4, big_history=False)
    controls = Controls()
    server = serve_jira(world, controls)
    yield world, controls, server
    server.stop()


def sync(store: Store, server: RunningServer) -> SourceResult:
    conn = JiraConnector("acme", JiraSource(type="jira", url=server.url, email=EMAIL, token=TOKEN,
                                            projects=["WID", "OPS"]))
    return sync_source(store, "acme", conn)


def corrupt(world: World, key: str, field: str, value: Any) -> str:
    """Set a field of an issue to a value Jira would never send; returns the issue id."""
    with world.lock:
        issue = edit.find_issue(world.jira, key)
        issue["fields"][field] = value
        world.jira.revision += 1
        return str(issue["id"])


def skipped(server: RunningServer, what: str) -> str:
    return (f"source acme ({server.url}): 1 issue skipped, payload not understood: {what} (everything else was "
            "synced; skipped issues are retried on every sync)")


def test_a_malformed_issue_is_skipped_named_retried_and_stored_once_it_maps(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    assert sync(store, server).ok
    before = {i.key: i for i in store.items()}
    edit.update_issue(world, "WID-5", summary="Renamed, then broken")
    good_created = edit.find_issue(world.jira, "WID-5")["fields"]["created"]
    iid = corrupt(world, "WID-5", "created", "last tuesday")
    edit.update_issue(world, "WID-6", summary="A good change in the same poll")

    result = sync(store, server)
    line = skipped(server, f"issue WID-5 (id {iid}): fields.created: not a timestamp: 'last tuesday'")
    assert not result.ok and result.error == line
    items = {i.key: i for i in store.items()}
    assert items["WID-6"].title == "A good change in the same poll"
    assert items["WID-5"] == before["WID-5"]  # the version stored before is kept as it was
    assert set(items) == set(before)
    assert store.cursor("acme")["rejected"] == {iid: {"key": "WID-5", "problem": line.split(f"{iid}): ")[1].split(
        " (everything")[0]}}

    # still broken: named again; it sits at the cursor's edge, so the one search re-reads it
    controls.reset()
    again = sync(store, server)
    assert again.error == line and controls.stats()["requests"] == {"jira *": 1, "jira search_jql": 1}

    # a later change moves the cursor past its edge: from then on it costs one GET of its own
    edit.update_issue(world, "WID-7", summary="Much later", now=datetime.now(UTC) + timedelta(minutes=30))
    assert sync(store, server).error == line
    controls.reset()
    assert sync(store, server).error == line
    assert controls.stats()["requests"] == {"jira *": 2, "jira issue": 1, "jira search_jql": 1}

    # fixed at the source without a new `updated`: the retry stores it and the source is healthy again
    corrupt(world, "WID-5", "created", good_created)
    controls.reset()
    healed = sync(store, server)
    assert healed.ok, healed.error
    stats = controls.stats()["requests"]
    assert (stats["jira issue"], stats["jira search_jql"]) == (1, 1)  # (and the agile refresh: an issue was stored)
    assert {i.key: i.title for i in store.items()}["WID-5"] == "Renamed, then broken"
    assert store.cursor("acme")["rejected"] == {}
    controls.reset()
    assert sync(store, server).ok and controls.total("jira") == 1


def test_a_malformed_issue_that_is_deleted_is_no_longer_retried(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    assert sync(store, server).ok
    edit.update_issue(world, "OPS-2", summary="about to break")
    corrupt(world, "OPS-2", "duedate", 20261130)  # a number where Jira sends a date
    result = sync(store, server)
    assert not result.ok and result.error is not None
    assert "issue OPS-2 (id " in result.error and "fields.duedate: expected a date, got a number" in result.error
    edit.update_issue(world, "WID-7", summary="Much later", now=datetime.now(UTC) + timedelta(minutes=30))
    edit.delete_issue(world, "OPS-2")
    assert sync(store, server).ok  # the search no longer finds it, nor does a GET (404): forgotten
    controls.reset()
    gone = sync(store, server)
    assert gone.ok, gone.error
    assert store.cursor("acme")["rejected"] == {} and controls.total("jira") == 1


def test_a_malformed_sprint_fails_the_source_in_one_line_and_keeps_the_issues(store: Store, sandbox: Sandbox) -> None:
    world, _, server = sandbox
    assert sync(store, server).ok
    edit.update_issue(world, "WID-8", summary="changed")
    with world.lock:
        world.jira.sprints[3]["goal"] = 42
        world.jira.revision += 1
    result = sync(store, server)
    assert not result.ok
    assert result.error == f"source acme ({server.url}): agile data not understood: board 1 sprint 3.goal: " \
                           "expected a string, got a number"
    assert {i.key: i.title for i in store.items()}["WID-8"] == "changed"  # the issues' batch was stored
    assert store.cursor("acme")["agile_pending"] is True
    with world.lock:
        world.jira.sprints[3]["goal"] = "Ship it"
        world.jira.revision += 1
    assert sync(store, server).ok  # the refresh was not recorded as done: it runs again, and succeeds
    assert {s.remote_id: s.goal for s in store.sprints()}["3"] == "Ship it"


def test_a_sprint_field_value_of_the_wrong_shape_is_ignored_with_one_warning_and_the_issue_kept(
        store: Store, sandbox: Sandbox) -> None:
    world, _, server = sandbox
    assert sync(store, server).ok
    edit.update_issue(world, "WID-8", summary="changed, with an odd sprint value")
    iid = corrupt(world, "WID-8", "customfield_10020", "sprint-3")  # the gh-sprint field sending a string
    result = sync(store, server)
    assert result.ok, result.error  # no issue skipped, the source did not fail
    assert result.warnings == [f"source acme: custom field customfield_10020 ignored, its value is not what that field "
                               f"holds (issue WID-8 (id {iid}): expected a list, got a string); the issues are synced "
                               "without it"]
    item = {i.key: i for i in store.items()}["WID-8"]
    assert item.title == "changed, with an odd sprint value" and item.sprint_ids == []
    edit.update_issue(world, "WID-8", summary="changed again")
    again = sync(store, server)
    assert again.ok and again.warnings == []  # warned once
    assert {i.key: i.title for i in store.items()}["WID-8"] == "changed again"


# -- through the command line ---------------------------------------------------------------------

def syncd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncd", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_syncd_sync_names_the_bad_issue_in_one_line_and_the_other_source_still_syncs(tmp_path: Path) -> None:
    with start_sandbox(seed=5, issues=150, now=datetime(2026, 11, 20, 12, tzinfo=UTC)) as box:
        config = box.write_config(tmp_path / "syncd.toml", data_dir=tmp_path / "data")
        first = syncd("sync", "--config", str(config))
        assert first.returncode == 0, first.stderr
        items = tmp_path / "items.jsonl"
        assert syncd("export", "--config", str(config), "--output", str(items)).returncode == 0
        before = {row["id"]: row for row in map(json.loads, items.read_text(encoding="utf-8").splitlines())}

        key = next(k for k in sorted(row["key"] for row in before.values()) if k.startswith("WID-"))
        edit.update_issue(box.world, key, summary="Broken after this")
        iid = corrupt(box.world, key, "labels", "urgent")
        second = syncd("sync", "--config", str(config))
        assert second.returncode == 1
        errors = [line for line in second.stderr.splitlines() if line.startswith("syncd: error:")]
        assert errors == [f"syncd: error: source jira ({box.jira_url}): 1 issue skipped, payload not understood: "
                          f"issue {key} (id {iid}): fields.labels: expected a list, got a string (everything else "
                          "was synced; skipped issues are retried on every sync)"], second.stderr
        assert any(line.startswith("github: ok: ") for line in second.stdout.splitlines()), second.stdout
        assert "Traceback" not in second.stderr

        assert syncd("export", "--config", str(config), "--output", str(items)).returncode == 0
        after = {row["id"]: row for row in map(json.loads, items.read_text(encoding="utf-8").splitlines())}
        assert after == before  # the bad issue keeps its stored version; nothing else changed; nothing lost


# -- GitHub -------------------------------------------------------------------------------------------

@pytest.fixture
def github() -> Iterator[GitHubSandbox]:
    yield from open_sandbox(issues=12, pulls=6)


def test_a_malformed_github_item_is_skipped_named_and_retried_until_it_maps(store: Store,
                                                                            github: GitHubSandbox) -> None:
    world, clock = github.world, github.clock
    assert gh_sync(store, github)[0].ok
    before = {i.key: i for i in store.items()}
    clock.advance(300)
    gh_sandbox.set_labels(world, "acme/widget", 3, ["urgent"], now=clock.now())
    gh_sandbox.set_labels(world, "acme/widget", 4, ["good"], now=clock.now())
    widget = world.github.repos["acme/widget"]
    with world.lock:
        widget.issues[3]["body"] = 12345
        widget.revision += 1
    line = (f"source gh ({github.url}): 1 item skipped, payload not understood: acme/widget#3: body: expected a "
            "string, got a number (everything else was synced; skipped items are retried on every sync)")
    result, _ = gh_sync(store, github)
    assert not result.ok and result.error == line
    items = {i.key: i for i in store.items()}
    assert items["acme/widget#4"].labels == ["good"] and items["acme/widget#3"] == before["acme/widget#3"]
    assert set(items) == set(before)

    clock.advance(300)  # a later change moves the cursor past #3: from then on it costs one GET of its own
    gh_sandbox.set_labels(world, "acme/widget", 5, ["later"], now=clock.now())
    assert gh_sync(store, github)[0].error == line
    github.controls.reset()
    assert gh_sync(store, github)[0].error == line
    assert github.controls.stats()["requests"]["github issue"] == 1

    with world.lock:
        widget.issues[3]["body"] = "Fixed at the source"
        widget.revision += 1
    healed, _ = gh_sync(store, github)
    assert healed.ok, healed.error
    fixed = {i.key: i for i in store.items()}["acme/widget#3"]
    assert (fixed.labels, fixed.description) == (["urgent"], "Fixed at the source")
    assert github.controls.stats()["requests"]["github issue"] == 2
