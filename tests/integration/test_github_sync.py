"""Real PyGithub -> GitHub connector -> sandbox GitHub over loopback -> store (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.config import GitHubSource
from connectors.github import GitHubConnector
from syncd.model import CheckConclusion
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls, Faults, RunningServer
from syncd.sandbox.world import World
from syncd.store import Store
from syncd.sync import sync_source
from tests.canon import canonical, diff_summary
from tests.integration.test_sandbox_github import TOKEN, make_world

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[tuple[World, Controls, RunningServer]]:
    world = make_world(issues=45, pulls=130)  # two issue pages, three GraphQL batches
    controls = Controls()
    server = gh_sandbox.serve_github(world, controls)
    yield world, controls, server
    server.stop()


def source(server: RunningServer, **kw: object) -> GitHubSource:
    return GitHubSource(type="github", base_url=server.url, token=TOKEN, repos=["acme/widget", "acme/gadget"],
                        jira_projects=["WID"], **kw)  # type: ignore[arg-type]


def sync(store: Store, server: RunningServer, full: bool = False, **kw: object) -> tuple[object, GitHubConnector]:
    conn = GitHubConnector("gh", source(server, **kw))
    conn.client.sleep = lambda s: None if s < 5 else pytest.fail(f"asked to sleep {s}s")
    return sync_source(store, "gh", conn, full=full), conn


def world_counts(world: World) -> dict[str, int]:
    repo = world.github.repos["acme/widget"]
    return {
        "items": len(repo.issues),
        "pulls": len(repo.pulls),
        "reviews": sum(len(r) for r in repo.reviews.values()),
        "releases": len(repo.milestones) + len(repo.releases),
    }


def test_full_sync_stores_exactly_the_world_and_second_sync_changes_nothing(store: Store, sandbox: tuple) -> None:
    world, controls, server = sandbox
    result, conn = sync(store, server)
    assert result.ok, result.error
    want = world_counts(world)
    counts = store.counts()
    assert counts["items"] == want["items"] == 175
    assert counts["pulls"] == want["pulls"] == 130
    assert sum(len(p.reviews) for p in store.pulls()) == want["reviews"]
    assert counts["releases"] == want["releases"] == 6
    assert counts["links"] == 130  # every PR names its WID key; no UTF-8 style false links
    pulls = {p.item_id: p for p in store.pulls()}
    items = {i.id: i for i in store.items()}
    repo = world.github.repos["acme/widget"]
    for number, payload in repo.pulls.items():
        issue = repo.issues[number]
        pr = pulls[f"gh:{issue['id']}"]
        assert pr.linked_keys == [f"WID-{number - 45}"]
        runs = repo.check_runs.get(payload["head"]["sha"], [])
        failing = any(r.get("conclusion") == "failure" for r in runs)
        assert (pr.checks == CheckConclusion.FAILURE) == failing
        assert items[pr.item_id].key == f"acme/widget#{number}"
    # requests: 2 issue pages + 3 GraphQL batches + milestones + releases for widget; gadget: 3; census 2
    assert result.requests == conn.requests == controls.total("github")
    assert result.requests <= 14
    assert result.requests / 130 < 0.11
    before = canonical(store)
    again, _ = sync(store, server)
    assert again.ok and (again.result.new, again.result.updated) == (0, 0)
    assert canonical(store) == before


def test_no_change_poll_costs_one_request_per_repository(store: Store, sandbox: tuple) -> None:
    _, controls, server = sandbox
    sync(store, server)
    sync(store, server)  # the first poll after a sync settles the cursor's conditional query
    controls.reset()
    result, _ = sync(store, server)
    assert result.ok
    assert controls.stats()["requests"] == {"github *": 2, "github issues": 2}


def test_live_mutations_show_up(store: Store, sandbox: tuple) -> None:
    world, _, server = sandbox
    sync(store, server)
    later = datetime.now(UTC) + timedelta(minutes=5)
    new = gh_sandbox.add_pull(world, "acme/widget", "WID-999 brand new", head="feature/WID-999", user="bob", now=later)
    gh_sandbox.add_review(world, "acme/widget", new["number"], "alice", state="CHANGES_REQUESTED", now=later)
    gh_sandbox.merge_pull(world, "acme/widget", 46, user="alice", now=later)
    gh_sandbox.set_labels(world, "acme/widget", 3, ["urgent"], now=later)
    deleted = world.github.repos["acme/widget"].issues[5]["id"]
    gh_sandbox.delete_issue(world, "acme/widget", 5)
    result, _ = sync(store, server, reconcile_hours=0)
    assert result.ok, result.error
    items = {i.key: i for i in store.items()}
    assert items[f"acme/widget#{new['number']}"].title == "WID-999 brand new"
    pulls = {p.item_id: p for p in store.pulls()}
    new_pr = pulls[items[f"acme/widget#{new['number']}"].id]
    assert [r.state for r in new_pr.reviews] == ["changes_requested"] and new_pr.linked_keys == ["WID-999"]
    assert pulls[items["acme/widget#46"].id].state == "merged"
    assert items["acme/widget#3"].labels == ["urgent"]
    assert "acme/widget#5" not in items
    assert f"gh:{deleted}" not in store.item_ids("gh")
    assert f"gh:{deleted}" in store.item_ids("gh", include_removed=True)


def test_faults_and_rate_limits_end_in_the_same_store(store: Store, sandbox: tuple, tmp_path) -> None:
    world, controls, server = sandbox
    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    clean.upgrade()
    assert sync(clean, server)[0].ok
    controls.set_faults(Faults(error_rate=0.08, drop_rate=0.05, malformed_rate=0.05, rate_limit_rate=0.05,
                               retry_after_s=0, seed=3))
    result, _ = sync(store, server, retry={"attempts": 12, "max_wait_s": 5, "total_s": 60})
    assert result.ok, result.error
    controls.set_faults(Faults(rate_limit_after=10, rate_limit_for_s=1))
    fresh = Store(f"sqlite:///{tmp_path / 'budget.db'}")
    fresh.upgrade()
    waits: list[float] = []
    conn = GitHubConnector("gh", source(server, retry={"attempts": 12, "max_wait_s": 5, "total_s": 60}))
    conn.client.sleep = lambda s: (waits.append(s), time.sleep(s))  # really wait: the window is real time
    assert sync_source(fresh, "gh", conn).ok
    controls.set_faults(Faults())
    assert waits and all(0.5 <= w <= 3 for w in waits), f"waited {waits}: the reset is about 1 s away"
    want = canonical(clean)
    assert diff_summary(canonical(store), want) == ""
    assert diff_summary(canonical(fresh), want) == ""
