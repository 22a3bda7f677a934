"""A generated world, served by both fake servers, synced by the real connectors into the store
(SQLite and PostgreSQL): the store holds exactly what `world.truth` says, and a second sync
changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.sandbox import Sandbox, start_sandbox
from syncd.settings import load_settings
from syncd.store import Store
from syncd.sync import sync_all

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with start_sandbox(seed=21, issues=600, now=NOW) as running:
        yield running


def test_sync_stores_what_the_world_holds(store: Store, box: Sandbox, tmp_path: Path) -> None:
    config = box.write_config(tmp_path / "syncd.toml", data_dir=tmp_path / "data")
    settings = load_settings(config)
    assert set(settings.sources) == {"jira", "github"}
    results = sync_all(settings, store)
    assert all(r.ok for r in results), [r.error for r in results]
    t = box.world.truth
    counts = store.counts()
    assert counts["items"] == t.jira_issues + t.github_issues + t.github_pulls == 600
    assert counts["pulls"] == t.github_pulls
    assert counts["sprints"] == t.jira_sprints
    assert counts["releases"] == t.jira_versions + t.github_milestones + t.github_releases
    assert counts["transitions"] == t.jira_transitions
    kinds = Counter(str(link.kind) for link in store.links())
    assert kinds["blocks"] + kinds["relates"] == t.jira_links
    assert kinds["implements"] == t.extra["pull_links"]
    assert sum(len(p.reviews) for p in store.pulls()) == t.github_reviews
    items = {i.key: i for i in store.items()}
    checkout = next(e for e in t.extra["epics"] if e["title"] == "Checkout redesign for mobile web")
    assert items[checkout["key"]].kind == "epic"
    assert sum(1 for i in items.values() if i.epic_key == checkout["key"]) == checkout["issues"]
    assert any(i.estimate for i in items.values()) and any(i.flagged for i in items.values())

    again = sync_all(settings, store)
    assert all(r.ok and r.result.new == 0 and r.result.updated == 0 for r in again), [r.summary() for r in again]
    assert store.counts() == counts
