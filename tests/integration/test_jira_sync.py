"""Real `jira` client -> Jira connector -> sandbox Jira over loopback -> store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraConnector
from syncd.model import StatusCategory, TransitionField
from syncd.sandbox import jira_mutations as edit
from syncd.sandbox._http import Controls, Faults, RunningServer
from syncd.sandbox.generate import generate_world
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.world import World
from syncd.store import Store, schema
from syncd.sync import SourceResult, sync_source
from tests.canon import canonical, diff_summary
from tests.integration.jira_world import BIG_HISTORIES, BIG_HISTORY_KEY, EMAIL, NOW, TOKEN, expected, make_world

Sandbox = tuple[World, Controls, RunningServer]
SEED = 26  # fault seed: among this sync's requests it picks a 429, a dropped body, broken JSON and an error


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    world = make_world(issues=130, ops_issues=8)  # two search pages of 100
    controls = Controls()
    server = serve_jira(world, controls)
    yield world, controls, server
    server.stop()


def source(server: RunningServer, **kw: Any) -> JiraSource:
    settings: dict[str, Any] = {"email": EMAIL, "token": TOKEN, "projects": ["WID", "OPS"], **kw}
    return JiraSource(type="jira", url=server.url, **settings)


def sync(store: Store, server: RunningServer, full: bool = False, waits: list[float] | None = None,
         **kw: Any) -> tuple[SourceResult, JiraConnector]:
    conn = JiraConnector("acme", source(server, **kw))
    conn.client.sleep = (waits.append if waits is not None
                         else lambda s: pytest.fail(f"asked to sleep {s}s with no fault in force"))
    return sync_source(store, "acme", conn, full=full), conn


def assert_store_is_the_world(store: Store, world: World) -> None:
    want = expected(world)
    items = {i.remote_id: i for i in store.items(source="acme")}
    assert {rid: i.key for rid, i in items.items()} == want["items"]
    assert {s.remote_id for s in store.sprints()} == want["sprints"]
    assert {r.remote_id for r in store.releases()} == want["releases"]
    assert store.counts()["links"] == want["links"] > 0
    per_item = Counter(t.item_id for t in store.transitions())
    assert {rid: per_item.get(f"acme:{rid}", 0) for rid in items} == want["transitions"]
    assert {rid: sorted(s.removeprefix("acme:sprint:") for s in i.sprint_ids) for rid, i in items.items()} == \
        want["sprint_ids"]
    for rid, item in items.items():
        payload = world.jira.issues[rid]["fields"]
        assert (item.title, item.status, item.estimate) == (payload["summary"], payload["status"]["name"],
                                                             payload["customfield_10016"])


def test_full_sync_stores_exactly_the_world_and_a_second_sync_costs_one_search(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    # the newest issue sits in a sprint: every poll re-reads it (cursor overlap) with its partial sprint copy
    edit.update_issue(world, "WID-10", sprint=3)
    result, conn = sync(store, server)
    assert result.ok, result.error
    assert result.result.new == 138
    assert_store_is_the_world(store, world)
    stats = controls.stats()["requests"]
    # serverInfo, /field, /issuetype, 2 search pages, 2 changelog pages (WID-3 only), boards x2, sprints of
    # the scrum board, versions x2; no census (the listing read every id) and no totals query
    assert stats["jira changelog"] == 2 and stats["jira search_jql"] == 2 and stats["jira issuetype"] == 1
    assert result.requests == conn.requests == controls.total("jira") == 12
    board = {s.remote_id: s for s in store.sprints()}
    assert board["3"].board_name == "WID board" and board["3"].state == "active"
    before = canonical(store)
    controls.reset()
    again, _ = sync(store, server)
    assert again.ok and (again.result.new, again.result.updated, again.result.removed) == (0, 0, 0)
    assert controls.stats()["requests"] == {"jira *": 1, "jira search_jql": 1}
    assert canonical(store) == before  # e.g. sprint 3 keeps its board name, not the issue's partial copy


def test_a_cursor_from_before_the_fuller_changelog_re_reads_every_issue_once(store: Store, sandbox: Sandbox) -> None:
    """A store synced before priority, labels, ... were kept as transitions (its cursor has no `history`)
    re-reads every issue's changelog on its next poll, then polls as usual: `--now` can replay them."""
    world, controls, server = sandbox
    assert sync(store, server)[0].ok
    cursor = store.cursor("acme")
    assert cursor is not None and cursor["history"] == 2
    old = {k: v for k, v in cursor.items() if k != "history"}
    store.set_cursor("acme", old)
    # what such a store lacks: the label rows (here those of the issue with the long history)
    big = next(i for i in store.items() if i.key == BIG_HISTORY_KEY)
    labels = [t for t in store.transitions() if t.item_id == big.id and t.field == TransitionField.LABELS]
    assert len(labels) > 100
    with store.engine.begin() as conn:
        conn.execute(delete(schema.transitions).where(schema.transitions.c.field == "labels"))
    assert not any(t.field == TransitionField.LABELS for t in store.transitions())
    controls.reset()
    again, _ = sync(store, server)
    assert again.ok, again.error
    stats = controls.stats()["requests"]
    assert stats["jira search_jql"] == 2  # both pages of the listing, not the one incremental query
    assert store.cursor("acme")["history"] == 2  # type: ignore[index]
    assert [t for t in store.transitions() if t.item_id == big.id and t.field == TransitionField.LABELS] == labels
    controls.reset()
    assert sync(store, server)[0].ok
    assert controls.stats()["requests"]["jira search_jql"] == 1


def test_long_changelogs_are_paged_only_for_the_issue_that_has_one(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    assert sync(store, server)[0].ok
    assert controls.stats()["requests"]["jira changelog"] == -(-BIG_HISTORIES // 100)
    big = next(i for i in store.items() if i.key == BIG_HISTORY_KEY)
    statuses = [t for t in store.transitions() if t.item_id == big.id and t.field == TransitionField.STATUS]
    # WID-3's status changes are its oldest histories: beyond the 100 that search embeds
    assert [t.to_string for t in statuses] == ["In Progress", "In Review"]
    assert big.status == "In Review"


def test_a_quiet_poll_skips_the_stored_newest_issue_even_with_a_long_changelog(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    # WID-3 (150 histories, more than a search embeds) becomes the newest issue: every poll's overlap re-reads it
    edit.update_issue(world, BIG_HISTORY_KEY, labels=["quiet-poll"])
    assert sync(store, server)[0].ok
    assert controls.stats()["requests"]["jira changelog"] == 2  # 151 histories: two pages, once
    before = canonical(store)
    for _ in range(2):
        controls.reset()
        again, _ = sync(store, server)
        assert again.ok and (again.result.new, again.result.updated, again.result.unchanged) == (0, 0, 0)
        assert controls.stats()["requests"] == {"jira *": 1, "jira search_jql": 1}
        assert canonical(store) == before
    edit.update_issue(world, BIG_HISTORY_KEY, status="Done")  # a genuine change: a newer `updated`
    controls.reset()
    changed, _ = sync(store, server)
    assert changed.ok and changed.result.updated == 1, changed.summary()
    assert controls.stats()["requests"]["jira changelog"] == 2  # re-read whole: 152 histories
    big = next(i for i in store.items() if i.key == BIG_HISTORY_KEY)
    statuses = [t.to_string for t in store.transitions() if t.item_id == big.id and t.field == TransitionField.STATUS]
    assert big.status == "Done" and statuses == ["In Progress", "In Review", "Done"]


def test_live_edits_adds_deletes_and_moves_show_up(store: Store, sandbox: Sandbox) -> None:
    world, _, server = sandbox
    assert sync(store, server)[0].ok
    edit.update_issue(world, "WID-10", status="Done", points=8, sprint=4)
    added = edit.add_issue(world, "WID", "Brand new story", points=5, sprint=3, assignee="712020:bb22")
    gone = edit.find_issue(world.jira, "WID-12")["id"]
    edit.delete_issue(world, "WID-12")
    moved = edit.move_issue(world, "WID-20", "OPS")
    edit.close_sprint(world, 3)
    result, conn = sync(store, server, reconcile_hours=0, agile_refresh_minutes=0)
    assert result.ok, result.error
    assert_store_is_the_world(store, world)
    items = {i.remote_id: i for i in store.items(source="acme")}
    assert items[edit.find_issue(world.jira, "WID-10")["id"]].status_category == StatusCategory.DONE
    assert items[added["id"]].key == "WID-131"
    assert items[moved["id"]].key == "OPS-9" and items[moved["id"]].project == "OPS"
    assert f"acme:{gone}" not in store.item_ids("acme")
    assert f"acme:{gone}" in store.item_ids("acme", include_removed=True)
    assert {s.remote_id: s.state for s in store.sprints()}["3"] == "closed"
    assert result.result.removed == 1 and result.result.new == 1


def test_a_full_sync_removes_what_its_listing_did_not_see_without_a_census(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    assert sync(store, server)[0].ok
    gone = edit.find_issue(world.jira, "WID-12")["id"]
    edit.delete_issue(world, "WID-12")
    controls.reset()
    result, _ = sync(store, server, full=True)
    assert result.ok and result.result.removed == 1, result.summary()
    assert f"acme:{gone}" not in store.item_ids("acme")
    assert len(store.item_ids("acme")) == 137
    # the two listing pages only: every issue of the 137 was read, nothing else asked for ids
    assert controls.stats()["requests"]["jira search_jql"] == 2
    assert store.cursor("acme")["census_at"]  # the next census is due `reconcile_hours` from now


def test_a_census_asks_cloud_for_5000_ids_a_page(store: Store) -> None:
    world = make_world(issues=1200, ops_issues=8)  # 1,208 ids: two pages of 1,000, one of 5,000
    controls = Controls()
    server = serve_jira(world, controls)
    try:
        assert sync(store, server)[0].ok
        edit.delete_issue(world, "WID-700")
        controls.reset()
        result, _ = sync(store, server, reconcile_hours=0)
        assert result.ok and result.result.removed == 1, result.summary()
        # the quiet poll's search and ONE id-only census page
        assert controls.stats()["requests"]["jira search_jql"] == 2
        assert len(store.item_ids("acme")) == 1207
    finally:
        server.stop()


def test_sprint_events_reach_the_store_on_the_agile_schedule(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    clock = [datetime.now(UTC)]
    conn = JiraConnector("acme", source(server), now=lambda: clock[0])
    assert sync_source(store, "acme", conn).ok
    edit.close_sprint(world, 3)
    edit.start_sprint(world, 4)
    controls.reset()
    conn = JiraConnector("acme", source(server), now=lambda: clock[0])
    assert sync_source(store, "acme", conn).ok
    assert {s.remote_id: s.state for s in store.sprints()}["3"] == "active"  # issues did not change: not yet
    assert controls.total("jira") == 1
    clock[0] += timedelta(minutes=61)
    conn = JiraConnector("acme", source(server), now=lambda: clock[0])
    assert sync_source(store, "acme", conn).ok
    assert {s.remote_id: s.state for s in store.sprints()} == {"1": "closed", "2": "closed", "3": "closed",
                                                               "4": "active"}


def test_faults_and_rate_limits_end_in_the_same_store(store: Store, sandbox: Sandbox, tmp_path: Any) -> None:
    world, controls, server = sandbox
    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    clean.upgrade()
    assert sync(clean, server, page_size=5)[0].ok
    # 5% of requests fail (errors, dropped connections, broken JSON, 429 with Retry-After: 2)
    controls.set_faults(Faults(error_rate=0.02, drop_rate=0.01, malformed_rate=0.01, rate_limit_rate=0.01,
                               retry_after_s=2, seed=SEED))
    waits: list[float] = []
    result, conn = sync(store, server, waits=waits, page_size=5, retry={"attempts": 12, "max_wait_s": 5, "total_s": 60})
    controls.set_faults(Faults())
    assert result.ok, result.error
    assert conn.requests > 30 and len(waits) >= 2, "the faults did make the connector retry"
    assert any(2.0 <= w <= 2.1 for w in waits), f"Retry-After was honoured: {waits}"
    assert diff_summary(canonical(store), canonical(clean)) == ""
    clean.close()


def test_a_failing_source_ends_with_one_line_and_keeps_its_cursor(store: Store, sandbox: Sandbox) -> None:
    world, controls, server = sandbox
    assert sync(store, server)[0].ok
    cursor, before = store.cursor("acme"), canonical(store)
    edit.update_issue(world, "WID-10", summary="changed while the site is down")
    controls.set_faults(Faults(error_rate=1.0))
    waits: list[float] = []
    result, _ = sync(store, server, waits=waits, retry={"attempts": 3})
    assert not result.ok and len(waits) == 2
    assert result.error is not None and "\n" not in result.error
    assert result.error.startswith(f"source acme ({server.url}): search: HTTP 5")
    assert store.cursor("acme") == cursor and canonical(store) == before
    controls.set_faults(Faults())
    bad, _ = sync(store, server, token="wrong-token")
    assert not bad.ok and bad.error == (f"source acme ({server.url}): search: HTTP 401: You are not authenticated. "
                                        "Authentication required to perform this operation.")
    assert "wrong-token" not in bad.error and store.cursor("acme") == cursor


def test_server_data_center_syncs_through_legacy_search(store: Store, tmp_path: Any) -> None:
    world = make_world(issues=130, ops_issues=8)
    world.jira.deployment = "Server"
    controls = Controls()
    server = serve_jira(world, controls)
    try:
        conn = JiraConnector("acme", JiraSource(type="jira", url=server.url, token=TOKEN, projects=["WID", "OPS"]))
        result = sync_source(store, "acme", conn)
        assert result.ok, result.error
        assert_store_is_the_world(store, world)
        stats = controls.stats()["requests"]
        assert "jira search_jql" not in stats and "jira changelog" not in stats  # Server embeds whole changelogs
        assert stats["jira search"] == 2  # two pages of 100, no census (the listing read every id)
        people = {p.id for p in store.people()}
        assert "acme:alice" in people and not any(pid.startswith("acme:712020") for pid in people)
        controls.reset()
        again = sync_source(store, "acme", JiraConnector("acme", JiraSource(
            type="jira", url=server.url, token=TOKEN, projects=["WID", "OPS"])))
        assert again.ok and controls.stats()["requests"] == {"jira *": 1, "jira search": 1}
    finally:
        server.stop()


def test_a_generated_history_syncs_to_its_truth(store: Store) -> None:
    world = generate_world(seed=3, issues=300, now=NOW)
    controls = Controls()
    server = serve_jira(world, controls)
    try:
        conn = JiraConnector("acme", JiraSource(type="jira", url=server.url, email=world.jira.email,
                                                token=world.jira.api_token, projects=sorted(world.jira.projects)))
        result = sync_source(store, "acme", conn)
        assert result.ok, result.error
        truth, counts = world.truth, store.counts()
        assert (counts["items"], counts["sprints"], counts["releases"], counts["links"], counts["transitions"]) == (
            truth.jira_issues, truth.jira_sprints, truth.jira_versions, truth.jira_links, truth.jira_transitions)
        controls.reset()
        assert sync_source(store, "acme", JiraConnector("acme", conn.config)).ok
        assert controls.stats()["requests"] == {"jira *": 1, "jira search_jql": 1}
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["first", "incremental", "full"])
def test_an_issue_edited_after_it_was_read_keeps_its_newer_version(store: Store, sandbox: Sandbox, tmp_path: Any,
                                                                   mode: str) -> None:
    """Issue 19 item 3: edits injected between search pages, later than the overlap; the store equals a clean sync."""
    world, _, server = sandbox
    if mode != "first":
        assert sync(store, server)[0].ok
        # every issue changes, so the incremental listing is two pages long again
        for n in range(1, 131):
            edit.update_issue(world, f"WID-{n}", labels=[f"round-{n}"])
    original = JiraConnector.fetch
    injected: list[str] = []

    def fetch_with_edits(self: JiraConnector, *args: Any, **kw: Any) -> Iterator[Any]:
        real_page = self.client.search_page

        def page(*a: Any, **k: Any) -> Any:
            answer = real_page(*a, **k)
            if not injected and a[1] != ["id"] and answer.get("nextPageToken"):
                # WID-1's version is on this first page; edit it, then WID-2 70 s later (the overlap is 1 minute)
                first = answer["issues"][0]["key"]
                done = edit.update_issue(world, first, summary="edited while the sync ran", points=13)
                later = datetime.strptime(done["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z") + timedelta(seconds=70)
                edit.update_issue(world, answer["issues"][-1]["key"], summary="edited 70 s later", now=later)
                injected.append(first)
            return answer

        self.client.search_page = page  # type: ignore[method-assign]
        yield from original(self, *args, **kw)

    JiraConnector.fetch = fetch_with_edits  # type: ignore[method-assign]
    try:
        result, _ = sync(store, server, full=(mode == "full"), overlap_minutes=1)
    finally:
        JiraConnector.fetch = original  # type: ignore[method-assign]
    assert result.ok, result.error
    assert injected, "no edit was injected between pages"
    edited = edit.find_issue(world.jira, injected[0])
    stored = {i.remote_id: i for i in store.items(source="acme")}[edited["id"]]
    assert (stored.title, stored.estimate) == ("edited while the sync ran", 13)
    # a quiet sync then finds nothing, and the store equals a clean sync of the same world
    again, _ = sync(store, server, overlap_minutes=1)
    assert again.ok and again.result.updated == 0 and again.result.new == 0
    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    clean.upgrade()
    assert sync(clean, server)[0].ok
    assert_store_is_the_world(store, world)
    mine, theirs = canonical(store), canonical(clean)
    for rows in (mine, theirs):
        rows.pop("cursors", None)
        rows.pop("sync_runs", None)
    assert diff_summary(mine, theirs) == ""
    clean.close()
