"""Store behaviour on SQLite and PostgreSQL: idempotence, atomic cursor, round trips, removal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from syncd.errors import SourceError, StoreError
from syncd.model import (
    Batch,
    CheckConclusion,
    ItemKind,
    Link,
    LinkKind,
    Person,
    PullRequest,
    PullState,
    Release,
    ReleaseKind,
    Review,
    ReviewState,
    Sprint,
    SprintState,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.store import Store
from syncd.store.migrate import at_head, current_revision, head_from_files, head_revision, upgrade
from syncd.sync import sync_source

BERLIN = timezone(timedelta(hours=1))


def item(n: int, **kw: Any) -> WorkItem:
    base: dict[str, Any] = dict(
        id=f"j:{n}", source="j", source_type="jira", remote_id=str(n), key=f"WID-{n}", project="WID",
        kind=ItemKind.STORY, title=f"Item {n}", status="To Do", status_category=StatusCategory.TODO,
        created=datetime(2026, 1, 1, 10, tzinfo=BERLIN), updated=datetime(2026, 1, 2, tzinfo=UTC),
    )
    base.update(kw)
    return WorkItem(**base)


def full_item() -> WorkItem:
    return item(
        7, kind=ItemKind.BUG, title="Ünïcødé <b>title</b> 日本語 🚀", status="In Review",
        status_category=StatusCategory.IN_PROGRESS, resolution="Fixed", priority="High",
        labels=["customer", "ui"], components=["api"], assignee_id="j:alice", reporter_id="j:bob",
        resolved=datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-8))), due=date(2026, 4, 1),
        estimate=5.5, parent_id="j:1", epic_id="j:1", sprint_ids=["j:s1", "j:s2"], release_ids=["j:version:1"],
        flagged=True, description="Acceptance criteria: works", url="https://x/browse/WID-7",
        raw={"id": "7", "fields": {"summary": "x"}},
    )


def test_migrations_reach_head_and_match_metadata(store: Store) -> None:
    assert current_revision(store.engine) == head_revision(store.engine)
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from syncd.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upsert_is_idempotent(store: Store) -> None:
    batch = Batch(items=[item(1), item(2)], transitions=[
        Transition(item_id="j:1", change_id="100", field=TransitionField.STATUS, from_string="To Do",
                   to_string="In Progress", at=datetime(2026, 1, 3, tzinfo=UTC)),
    ], links=[Link(from_id="j:1", kind=LinkKind.BLOCKS, to_key="WID-2", to_id="j:2")])
    first = store.apply_batch("j", batch)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    again = store.apply_batch("j", batch)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert store.counts()["items"] == 2
    assert store.counts()["transitions"] == 1
    assert store.counts()["links"] == 1
    changed = store.apply_batch("j", Batch(items=[item(1, title="renamed")]))
    assert (changed.new, changed.updated) == (0, 1)
    assert [i.title for i in store.items()] == ["renamed", "Item 2"]
    # children of an item in a batch are replaced whole: item 1 came without links/transitions
    assert store.counts()["transitions"] == 0
    assert store.counts()["links"] == 0


def test_a_batch_of_many_items_counts_and_replaces_children_across_in_chunks(store: Store) -> None:
    """The `id IN (...)` reads and deletes go in chunks of 500 compiled once per size: 501 items (a chunk of 500
    and one of 1, ids with quotes and unicode) are counted new, then unchanged, and every owner's children are
    replaced whole while those of an item outside the batch stay."""
    ids = [f"j:{n}'ü\"{n}" for n in range(501)]
    items = [item(n, id=i) for n, i in enumerate(ids)]
    links = [Link(from_id=i, kind=LinkKind.BLOCKS, to_key="WID-0") for i in [*ids, "j:outside"]]
    first = store.apply_batch("j", Batch(items=items, links=links))
    assert (first.new, first.updated, first.unchanged) == (501, 0, 0)
    again = store.apply_batch("j", Batch(items=[*items[:1], *items[-1:]]))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    left = {lk.from_id for lk in store.links()}
    assert left == set(ids[1:-1]) | {"j:outside"}
    store.apply_batch("j", Batch(items=items))
    assert {lk.from_id for lk in store.links()} == {"j:outside"} and store.counts()["items"] == 501


def test_round_trip_of_every_field(store: Store) -> None:
    it = full_item()
    pr = PullRequest(
        item_id="j:7", state=PullState.MERGED, draft=False, merged_at=datetime(2026, 3, 2, tzinfo=UTC),
        merged_by_id="g:carol", head_branch="WID-7-fix", base_branch="main", head_sha="abc", additions=10,
        deletions=2, changed_files=3, requested_reviewer_ids=["g:dan"], checks=CheckConclusion.FAILURE,
        linked_keys=["WID-7"], reviews=[Review(author_id="g:dan", state=ReviewState.APPROVED,
                                               submitted_at=datetime(2026, 3, 1, 12, tzinfo=BERLIN))],
    )
    sp = Sprint(id="j:s1", source="j", remote_id="1", board_id="3", board_name="WID board", name="Sprint 1",
                goal="Ship it", state=SprintState.CLOSED, start=datetime(2026, 1, 1, tzinfo=UTC),
                end=datetime(2026, 1, 15, tzinfo=UTC), complete=datetime(2026, 1, 15, 17, tzinfo=BERLIN))
    rel = Release(id="j:version:1", source="j", remote_id="1", kind=ReleaseKind.VERSION, project="WID",
                  name="1.0", description="first", due=date(2026, 2, 1), released=True,
                  released_at=datetime(2026, 2, 2, tzinfo=UTC), url="https://x")
    person = Person(id="j:alice", source="j", display_name="Alice Ä", email="alice@example.com")
    tr = Transition(item_id="j:7", change_id="9", seq=1, field=TransitionField.ESTIMATE, from_value="3",
                    to_value="5.5", from_string="3", to_string="5.5", at=datetime(2026, 1, 5, tzinfo=BERLIN),
                    author_id="j:alice")
    lk = Link(from_id="j:7", kind=LinkKind.DUPLICATES, to_key="WID-1", to_id="j:1")
    # a link into a project that is not synced keeps what the source showed of its far end (0006_link_far_end)
    far = Link(from_id="j:7", kind=LinkKind.BLOCKED_BY, to_key="OTHER-35406", to_id="j:35406", to_status="In Progress",
               to_category=StatusCategory.IN_PROGRESS, to_summary="Another team's work — 日本語", to_type="Task")
    store.apply_batch("j", Batch(items=[it], pulls=[pr], sprints=[sp], releases=[rel], people=[person],
                                 transitions=[tr], links=[lk, far]))
    (got,) = list(store.items())
    assert got == it
    assert got.created.tzinfo is not None and got.created.utcoffset() == timedelta(0)
    assert got.created == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert got.resolved == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert list(store.pulls()) == [pr]
    assert list(store.sprints()) == [sp]
    assert list(store.releases()) == [rel]
    assert list(store.people()) == [person]
    assert list(store.transitions()) == [tr]
    assert sorted(store.links(), key=lambda x: x.to_key) == [far, lk]


def test_cursor_and_batch_commit_together(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.apply_batch("j", Batch(items=[item(1)], cursor={"updated": "t1"}))
    real_insert = Store._upsert_plain

    def failing(self: Store, conn: Any, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
        if table.name == "cursors":
            raise StoreError("injected failure while writing the cursor")
        real_insert(self, conn, table, key, rows)

    monkeypatch.setattr(Store, "_upsert_plain", failing)
    with pytest.raises(StoreError, match="injected"):
        store.apply_batch("j", Batch(items=[item(2), item(1, title="changed")], cursor={"updated": "t2"}))
    monkeypatch.undo()
    # neither batch 2's items nor its cursor are there; batch 1 is intact
    assert store.cursor("j") == {"updated": "t1"}
    assert [(i.id, i.title) for i in store.items()] == [("j:1", "Item 1")]


class _FlakyConnector:
    """Yields two batches then fails, like a source dying at 90%."""

    name = "j"
    total_hint = None

    def __init__(self) -> None:
        self.requests = 0

    def fetch(self, cursor: dict[str, Any] | None, *, full: bool, known_ids: Any) -> Iterator[Batch]:
        self.requests += 1
        yield Batch(items=[item(1)], cursor={"page": 1})
        self.requests += 1
        yield Batch(items=[item(2)], cursor={"page": 2})
        self.requests += 1
        raise SourceError("j", "HTTP 503 after 6 attempts", "http://127.0.0.1:1/rest/api/3/search/jql")


def test_failed_sync_keeps_committed_batches_and_their_cursor(store: Store) -> None:
    result = sync_source(store, "j", _FlakyConnector())
    assert not result.ok
    assert "HTTP 503" in (result.error or "") and "127.0.0.1:1" in (result.error or "")
    assert store.cursor("j") == {"page": 2}
    assert {i.id for i in store.items()} == {"j:1", "j:2"}
    (run,) = store.sync_runs("j")
    assert run["status"] == "failed" and run["items_new"] == 2 and run["requests"] == 3


def test_removed_items_are_marked_not_deleted(store: Store) -> None:
    store.apply_batch("j", Batch(items=[item(1), item(2)]))
    res = store.apply_batch("j", Batch(removed_ids=["j:2", "j:404"]))
    assert res.removed == 1
    assert [i.id for i in store.items()] == ["j:1"]
    removed = [i for i in store.items(include_removed=True) if i.removed]
    assert [i.id for i in removed] == ["j:2"]
    assert store.item_ids("j") == {"j:1"}
    # coming back un-removes it
    store.apply_batch("j", Batch(items=[item(2)]))
    assert store.item_ids("j") == {"j:1", "j:2"}


def test_last_record_wins_within_a_batch(store: Store) -> None:
    res = store.apply_batch("j", Batch(items=[item(1, title="old"), item(1, title="new")]))
    assert res.new == 1
    assert [i.title for i in store.items()] == ["new"]



def test_start_up_tells_a_database_at_head_without_alembic(sqlite_url: str) -> None:
    """The files' own head is Alembic's; a database is at head only once migrated all the way."""
    s = Store(sqlite_url)
    assert head_from_files() == head_revision(s.engine) == "0008"  # migrations/versions/0008_item_properties.py
    assert not at_head(s.engine)  # never migrated: no version table
    upgrade(s.engine, "0007")
    assert not at_head(s.engine) and current_revision(s.engine) == "0007"
    s.upgrade()  # the one migration left still runs
    assert at_head(s.engine) and current_revision(s.engine) == "0008"
    with s.engine.connect() as conn:
        assert [c["name"] for c in inspect(conn).get_columns("items") if c["name"] == "properties"] == ["properties"]

def test_unreachable_database_is_a_clear_error(tmp_path: Any) -> None:
    s = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot migrate database"):
        s.upgrade()


def test_sqlite_uses_wal(sqlite_url: str) -> None:
    s = Store(sqlite_url)
    s.upgrade()
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    eng = create_engine(sqlite_url)
    assert "items" in inspect(eng).get_table_names()


def test_enum_values_are_stored_as_their_text(sqlite_url: str) -> None:
    """The model's enums reach SQLite as plain text (bound through registered sqlite3 adapters, issue 18 item 3):
    the values the reports' SQL and older rows hold, typed text."""
    s = Store(sqlite_url)
    s.upgrade()
    tr = Transition(item_id="j:7", change_id="9", seq=1, field=TransitionField.SPRINT, from_value=None,
                    to_value="1", at=datetime(2026, 1, 5, tzinfo=UTC))
    lk = Link(from_id="j:7", kind=LinkKind.BLOCKED_BY, to_key="WID-1", to_category=StatusCategory.DONE)
    s.apply_batch("j", Batch(items=[full_item()], transitions=[tr], links=[lk]))
    with s.engine.connect() as conn:
        got = conn.exec_driver_sql(
            "SELECT i.source_type, typeof(i.source_type), i.kind, i.status_category, t.field, typeof(t.field), "
            "l.kind, l.to_category FROM items i JOIN transitions t ON t.item_id = i.id "
            "JOIN links l ON l.from_id = i.id").one()
    assert tuple(got) == ("jira", "text", "bug", "in_progress", "sprint", "text", "blocked_by", "done")


def test_a_row_lacking_a_column_is_refused_by_name(store: Store) -> None:
    """The bulk writer names the column a row lacks (a ValueError, which `apply_batch` reports as a StoreError)."""
    from syncd.store import schema

    with store.engine.begin() as conn, pytest.raises(ValueError, match="people row lacks display_name"):
        store._writer.write(conn, schema.people, [{"id": "j:x", "source": "j", "email": None}], key="id")


def test_a_checked_raw_payload_is_stored_from_its_bytes_as_text(store: Store) -> None:
    """The storability check keeps a payload's orjson bytes and the store binds them as they are (issue 18 item
    3): SQLite holds the same JSON text, typed text, and both dialects read the payload back."""
    import json

    from syncd.connectors.sanitise import sanitise_batch

    payload = {"fields": {"summary": "Ünïcødé — 日本語 🚀", "points": 2.5, "labels": ["a", "b"]}, "id": "7"}
    it = item(7, raw=payload)
    batch = Batch(items=[it])
    assert sanitise_batch(batch) == []
    assert isinstance(it.raw_json(), bytes)
    store.apply_batch("j", batch)
    (got,) = list(store.items())
    assert got.raw == payload
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            text, kind = conn.exec_driver_sql("SELECT raw, typeof(raw) FROM items").one()
        assert (text, kind) == (json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "text")
