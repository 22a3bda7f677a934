"""Issue 18 item 1: PR detail batches are always full, carried over between list pages and repositories,
and a sync stopped after any stored batch (a crash) loses nothing: the stored cursor never passes a PR
whose details are not stored, so the next sync completes the store exactly."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from syncd.model import ItemKind
from syncd.sandbox import github as gh_sandbox
from syncd.store import Store
from syncd.sync import sync_source
from tests.integration._github import Sandbox, connector, live_issues, open_sandbox, sync
from tests.integration.test_github_sync_races import assert_equals_a_clean_sync

GADGET_PULLS = 37  # acme/widget has 130 PRs (its pages hold 55 and 75); 167 in all


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    for sandbox in open_sandbox(issues=45, pulls=130):
        for k in range(GADGET_PULLS):
            gh_sandbox.add_pull(sandbox.world, "acme/gadget", f"GAD change {k}", head=f"feature/g{k}",
                                commit_messages=[f"WID-{k + 1} gadget side"])
        gh_sandbox.add_issue(sandbox.world, "acme/gadget", "A plain gadget issue")
        yield sandbox


def _batch_sizes(conn_sent: list[str]) -> list[tuple[int, int]]:
    """(PRs, repositories) of each detail request sent."""
    return [(query.count(": pullRequest(number:"), query.count(": repository(owner:")) for query in conn_sent
            if ": pullRequest(number:" in query]


def test_detail_batches_are_full_across_pages_and_repositories(store: Store, sandbox: Sandbox) -> None:
    conn = connector(sandbox)
    sent: list[str] = []
    original = conn.client.graphql_partial

    def spy(query: str, variables: dict[str, object]) -> tuple[dict[str, object], list[dict[str, object]]]:
        sent.append(query)
        return original(query, variables)

    conn.client.graphql_partial = spy  # type: ignore[method-assign]
    result = sync_source(store, "gh", conn)
    assert result.ok, result.error
    # 167 PRs: batched per list page it was widget 50+5, 50+25 and gadget 37 (5 requests); carried, it is
    # 50, 50, 50 and the last 17 = ⌈167/50⌉ = 4, the third holding widget's last 20 and gadget's first 30
    assert _batch_sizes(sent) == [(50, 1), (50, 1), (50, 2), (17, 1)]
    assert math.ceil((130 + GADGET_PULLS) / 50) == 4
    assert sandbox.controls.stats()["requests"]["github graphql"] == 4
    pulls = {p.item_id for p in store.pulls()}
    items = list(store.items())
    assert len(items) == len(live_issues(sandbox.world)) == 45 + 130 + GADGET_PULLS + 1
    assert pulls == {i.id for i in items if i.kind == ItemKind.PULL_REQUEST} and len(pulls) == 130 + GADGET_PULLS
    assert {lk.to_key for lk in store.links() if lk.from_id in {i.id for i in items if i.key.startswith("acme/gadget")}} \
        == {f"WID-{k + 1}" for k in range(GADGET_PULLS)}
    # the first poll after it: one 304 per repository (acme/widget's listing took two pages and a catch-up read)
    sandbox.clock.advance(60)
    sandbox.controls.reset()
    again, _ = sync(store, sandbox)
    assert again.ok and again.requests == 2
    assert sandbox.controls.stats()["requests"] == {"github *": 2, "github issues": 2}


def test_a_first_sync_stopped_after_any_stored_batch_is_completed_exactly_by_the_next(
        sandbox: Sandbox, tmp_path: Path) -> None:
    clean = Store(f"sqlite:///{tmp_path / 'count.db'}")
    clean.upgrade()
    batches = sum(1 for _ in connector(sandbox).fetch(None, full=False, known_ids=lambda: clean.item_keys("gh")))
    clean.close()
    assert batches >= 6  # widget's two pages, gadget's page, both repositories' releases, the census
    for stop_after in range(batches):
        store = Store(f"sqlite:///{tmp_path / f'stopped-{stop_after}.db'}")
        store.upgrade()
        try:
            conn = connector(sandbox)
            fetched = conn.fetch(None, full=False, known_ids=lambda s=store: s.item_keys("gh"))  # type: ignore[misc]
            for stored, batch in enumerate(fetched):
                if stored == stop_after:
                    break  # the process dies here: nothing more is stored
                store.apply_batch("gh", batch)
            fetched.close()
            # what a crash leaves: every stored PR has its details, and its cursor passes only what is stored
            items = list(store.items())
            assert {p.item_id for p in store.pulls()} == {i.id for i in items if i.kind == ItemKind.PULL_REQUEST}
            stored_keys = {i.key for i in items}
            for repo, state in ((store.cursor("gh") or {}).get("repos") or {}).items():
                since = state.get("since")
                edge = datetime.fromisoformat(since) if since else None
                listed = [key for key, issue in live_issues(sandbox.world, (repo,)).items()
                          if edge and datetime.fromisoformat(issue["updated_at"].replace("Z", "+00:00")) <= edge]
                assert set(listed) <= stored_keys, (stop_after, repo, sorted(set(listed) - stored_keys)[:3])
            result, _ = sync(store, sandbox)
            assert result.ok, result.error
            (tmp_path / f"clean-{stop_after}").mkdir()
            assert_equals_a_clean_sync(store, sandbox, tmp_path / f"clean-{stop_after}")
        finally:
            store.close()


def test_a_carried_pr_whose_details_cannot_be_read_is_skipped_named_and_stored_once_they_can(
        store: Store, sandbox: Sandbox) -> None:
    widget = sandbox.world.github.repos["acme/widget"]
    bad = 120  # on widget's second page: its details come in the batch that also holds page one's last 5 PRs
    conn = connector(sandbox)
    original = conn.graph.pull_details_across

    def corrupting(wanted: list[tuple[str, int]], texts: bool) -> tuple[dict[tuple[str, int], dict[str, object]], dict[str, str]]:
        nodes, failed = original(wanted, texts)
        if ("acme/widget", bad) in nodes:
            nodes[("acme/widget", bad)]["additions"] = "many"  # not a count: the mapping refuses the node
        return nodes, failed

    conn.graph.pull_details_across = corrupting  # type: ignore[method-assign]
    result = sync_source(store, "gh", conn)
    assert not result.ok
    assert result.error == (f"source gh ({sandbox.url}): 1 item skipped, payload not understood: acme/widget#{bad}: "
                            "pull request details: additions: expected a whole number, got a string (everything else "
                            "was synced; skipped items are retried on every sync)")
    keys = {i.key for i in store.items()}
    assert f"acme/widget#{bad}" not in keys and len(keys) == len(live_issues(sandbox.world)) - 1
    assert {p.item_id for p in store.pulls()} == {i.id for i in store.items() if i.kind == ItemKind.PULL_REQUEST}
    # remembered in the stored cursor, and not as read at the edge: the next sync reads it again
    state = (store.cursor("gh") or {})["repos"]["acme/widget"]
    assert str(bad) in state["rejected"] and str(widget.issues[bad]["id"]) not in (state.get("boundary") or {})
    sandbox.clock.advance(60)
    healed, _ = sync(store, sandbox)
    assert healed.ok, healed.error
    pr = next(p for p in store.pulls() if p.item_id == f"gh:{widget.issues[bad]['id']}")
    assert pr.additions == widget.pulls[bad]["additions"]
    assert "rejected" not in (store.cursor("gh") or {})["repos"]["acme/widget"] or \
        not (store.cursor("gh") or {})["repos"]["acme/widget"]["rejected"]
