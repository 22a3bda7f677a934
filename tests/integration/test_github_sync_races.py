"""Issue 19 item 2: a GitHub listing races with edits and deletions made while it pages.

Edits are injected into the sandbox between the pages the real PyGithub client reads (first sync,
incremental and `--full`); each time the store must equal a clean sync of the same world, with no live
item skipped or marked removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from syncd.connectors.github_queries import CENSUS_QUERY
from syncd.sandbox import github as gh_sandbox
from syncd.store import Store
from syncd.sync import sync_source
from tests.canon import canonical, diff_summary
from tests.integration._github import Sandbox, add_repo, connector, live_issues, open_sandbox, sync

ISSUES, PULLS = 150, 130  # acme/widget lists 280 entries: three pages of 100


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from open_sandbox(issues=ISSUES, pulls=PULLS)


def _store_without_bookkeeping(store: Store) -> dict[str, list[str]]:
    """The canonical rows but cursors, run logs and items marked removed (a clean sync never saw those)."""
    rows = canonical(store)
    rows.pop("cursors", None)
    rows.pop("sync_runs", None)
    rows["items"] = [r for r in rows["items"] if '"removed": true' not in r]
    return rows


def assert_equals_a_clean_sync(store: Store, sandbox: Sandbox, tmp_path: Path) -> None:
    """The store holds what a clean sync of the world as it is now holds (cursors and run logs aside)."""
    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    clean.upgrade()
    try:
        result, _ = sync(clean, sandbox)
        assert result.ok, result.error
        assert diff_summary(_store_without_bookkeeping(store), _store_without_bookkeeping(clean)) == ""
    finally:
        clean.close()


@pytest.mark.parametrize("mode", ["first", "incremental", "full"])
def test_edits_between_pages_lose_no_item(store: Store, sandbox: Sandbox, tmp_path: Path, mode: str) -> None:
    world, clock = sandbox.world, sandbox.clock
    widget = world.github.repos["acme/widget"]
    if mode != "first":
        assert sync(store, sandbox)[0].ok
        # every entry changes, one second apart, so the incremental listing is three pages long again
        clock.advance(600)
        base = clock.now()
        for offset, number in enumerate(sorted(widget.issues)):
            gh_sandbox.set_labels(world, "acme/widget", number, [f"round-{number}"], now=base + timedelta(seconds=offset))
        clock.advance(600)
    conn = connector(sandbox)
    real_call = conn.client.call
    edited: list[int] = []
    late: list[int] = []

    def call(verb: str, url: str, **kw: Any) -> Any:
        answer_headers, data = real_call(verb, url, **kw)
        # widget's issues list (a Link URL addresses the repository by id)
        listing = urlparse(url).path.endswith(("/repos/acme/widget/issues", "/repositories/5001/issues"))
        if listing and isinstance(data, list) and data:
            if not edited:
                # six entries already read move to the end of the `updated` order: every later page shifts by six
                edited.extend(entry["number"] for entry in data[:6])
                for number in edited:
                    gh_sandbox.set_labels(world, "acme/widget", number, ["edited-mid-sync"], now=clock.now())
            elif "Link" not in answer_headers and not late and len(edited) == 6:
                # the listing's last page is read: this edit comes after it, before the sync ends
                late.append(min(n for n in widget.pulls if n not in edited))
                gh_sandbox.set_labels(world, "acme/widget", late[0], ["edited-after-the-last-page"], now=clock.now())
        return answer_headers, data

    conn.client.call = call  # type: ignore[method-assign]
    result = sync_source(store, "gh", conn, full=(mode == "full"))
    assert result.ok, result.error
    assert len(edited) == 6 and len(late) == 1
    assert result.result.removed == 0
    if mode == "first":
        assert result.result.new == ISSUES + PULLS
    items = {i.key: i for i in store.items()}
    assert set(items) == set(live_issues(world))
    for number in edited:
        assert items[f"acme/widget#{number}"].labels == ["edited-mid-sync"]
    # the catch-up read from the listing's start brought the edit made after the last page
    assert items[f"acme/widget#{late[0]}"].labels == ["edited-after-the-last-page"]
    again, _ = sync(store, sandbox)
    assert again.ok and (again.result.new, again.result.updated, again.result.removed) == (0, 0, 0)
    assert_equals_a_clean_sync(store, sandbox, tmp_path)


def test_an_id_missing_from_a_census_is_confirmed_gone_before_it_is_removed(
        store: Store, sandbox: Sandbox, tmp_path: Path) -> None:
    world, clock = sandbox.world, sandbox.clock
    assert sync(store, sandbox)[0].ok
    clock.advance(600)
    conn = connector(sandbox, reconcile_hours=0)
    real_graphql = conn.client.graphql
    deleted: list[int] = []

    def graphql(query: str, variables: dict[str, Any], **kw: Any) -> Any:
        data = real_graphql(query, variables, **kw)
        if query == CENSUS_QUERY and variables["name"] == "widget" and not deleted:
            # the oldest issue is deleted after the census's first page: its second page shifts by one,
            # so one live issue is in neither page
            gh_sandbox.delete_issue(world, "acme/widget", 1)
            deleted.append(1)
        return data

    conn.client.graphql = graphql  # type: ignore[method-assign]
    sandbox.controls.reset()
    result = sync_source(store, "gh", conn)
    assert result.ok, result.error
    assert deleted == [1]
    # #1 was on the census's first page (present); the live issue shifted past its second page was
    # confirmed with one GET and kept, not marked removed
    assert (result.result.removed, result.result.unchanged) == (0, 1)
    assert sandbox.controls.stats()["requests"].get("github issue") == 1
    assert not [i.key for i in store.items(include_removed=True) if i.removed]
    # the next census finds #1 gone, confirms it (410) and removes it alone
    sandbox.controls.reset()
    later, _ = sync(store, sandbox, reconcile_hours=0)
    assert later.ok and later.result.removed == 1
    assert {i.key for i in store.items(include_removed=True) if i.removed} == {"acme/widget#1"}
    assert sandbox.controls.stats()["requests"].get("github issue") == 1
    assert_equals_a_clean_sync(store, sandbox, tmp_path)


def test_a_transferred_or_deleted_item_is_still_removed(store: Store, sandbox: Sandbox) -> None:
    """The confirmation does not keep what is really gone: deleted (410) and transferred out of scope (301)."""
    world = sandbox.world
    add_repo(world, "archive", 5003)
    assert sync(store, sandbox)[0].ok
    sandbox.clock.advance(600)
    widget = world.github.repos["acme/widget"]
    gone = {widget.issues[3]["id"], widget.issues[4]["id"]}
    gh_sandbox.delete_issue(world, "acme/widget", 3)
    gh_sandbox.transfer_issue(world, "acme/widget", 4, "acme/archive", now=sandbox.clock.now())
    result, _ = sync(store, sandbox, full=True)
    assert result.ok, result.error
    assert result.result.removed == 2
    assert {i.remote_id for i in store.items(include_removed=True) if i.removed} == {str(i) for i in gone}

