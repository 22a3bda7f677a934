"""The transitions read by a child process (syncd/store/_parallel.py): the very snapshot the in-process read gives,
on the same commit as the items whatever a writer commits meanwhile, and the in-process read whenever it cannot."""

from __future__ import annotations

import logging
import pickle
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Connection, create_engine

from syncd.model import Batch, ItemKind
from syncd.store import Store, TransitionColumns
from syncd.store import _parallel as parallel
from syncd.store._snapshot import StoreSnapshot, read_snapshot
from syncd.store._transitions_read import TransitionsQuery
from tests.unit.analysis_factories import T0, Plan, day

CHILD = "transitions read by a child process"
FALLBACK = "transitions read in-process"


def assert_same_columns(a: TransitionColumns, b: TransitionColumns) -> None:
    assert a.item_ids == b.item_ids and a.changes == b.changes
    for name in ("offsets", "change", "at"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name


def assert_same_snapshot(a: StoreSnapshot, b: StoreSnapshot) -> None:
    assert_same_columns(a.history, b.history)
    assert (a.items, a.pulls, a.sprints, a.releases, a.links, a.people) == \
        (b.items, b.pulls, b.sprints, b.releases, b.links, b.people)
    # the history names each item by the item's own id string, as the in-process read does
    assert all(a.item_by_id is not None and i is a.item_by_id[i].id for i in a.history.item_ids)


def world(store: Store) -> tuple[Plan, list[str]]:
    """Items with histories over three fields, ties in time, unicode; two of them removed afterwards."""
    p = Plan()
    sprint = p.sprint(1, "active", start=day(0), end=day(14))  # type: ignore[arg-type]
    items = [p.item(f"WID-{n}", created=day(0), points=float(n % 3 + 1),
                    kind=ItemKind.BUG if n % 4 == 0 else ItemKind.STORY) for n in range(1, 25)]
    for n, item in enumerate(items):
        p.move(item, "In Progress", day(1 + n % 5))
        p.estimate(item, float(n % 5 + 2), day(1 + n % 5))  # same time as the move: a tie kept in read order
        if n % 2:
            p.set_sprints(item, [sprint], day(2))
        if n % 3 == 0:
            p.move(item, "Done", day(6 + n % 4))
    p.transitions[3] = p.transitions[3].model_copy(update={"to_string": "Überprüfung ✓"})
    store.apply_batch("jira", Batch(items=list(p.items.values()), sprints=list(p.sprints.values()),
                                    transitions=list(reversed(p.transitions)), people=p.people))
    removed = [items[1].id, items[6].id]
    store.apply_batch("jira", Batch(removed_ids=removed))
    return p, removed


@pytest.mark.parametrize(("fields", "replay"), [(None, False), (["status", "estimate"], False), (["status"], True)])
def test_the_child_reads_the_snapshot_the_process_reads(store: Store, caplog: pytest.LogCaptureFixture,
                                                        fields: list[str] | None, replay: bool) -> None:
    _, removed = world(store)
    live_at = T0 if replay else None  # replaying a moment before the removals: the removed items are live then
    caplog.set_level(logging.DEBUG, logger="syncd.store.parallel")
    alone = read_snapshot(store.engine, fields, live_at, parallel_from=-1)
    assert CHILD not in caplog.text
    beside = read_snapshot(store.engine, fields, live_at, parallel_from=0)
    assert CHILD in caplog.text and FALLBACK not in caplog.text
    assert_same_snapshot(beside, alone)
    assert (set(removed) <= set(beside.history)) == replay and len(beside.history.at) > 0


def test_below_the_threshold_the_process_reads_alone(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    world(store)
    caplog.set_level(logging.DEBUG, logger="syncd.store.parallel")
    read_snapshot(store.engine, parallel_from=10_000)
    assert CHILD not in caplog.text and FALLBACK not in caplog.text


def test_an_empty_store(store: Store) -> None:
    alone, beside = (read_snapshot(store.engine, parallel_from=n) for n in (-1, 0))
    assert_same_snapshot(beside, alone)
    assert len(beside.history) == 0 and beside.items == []


def test_a_commit_racing_the_read_cannot_split_the_snapshot(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """A writer commits an item's new estimate with one more transition, in a loop: in every snapshot each item
    has as many transitions as its estimate says, so items and transitions come from the same commit."""
    p = Plan()
    items = [p.item(f"WID-{n}", created=day(0)) for n in range(3)]
    for item in items:
        p.estimate(item, 1.0, day(0))
    store.apply_batch("jira", Batch(items=items, transitions=p.transitions))
    stop, wrote = threading.Event(), threading.Event()
    commits = [0]

    def write() -> None:
        while not stop.is_set():
            item = items[commits[0] % len(items)]
            p.estimate(item, item.estimate + 1, day(1 + commits[0] / 1000))  # type: ignore[operator]
            # a batch's items come with their whole history (the store replaces it)
            store.apply_batch("jira", Batch(items=[item], transitions=[t for t in p.transitions if t.item_id == item.id]))
            commits[0] += 1
            wrote.set()
            stop.wait(0.002)  # let the reader take the write lock now and then

    writer = threading.Thread(target=write)
    caplog.set_level(logging.DEBUG, logger="syncd.store.parallel")
    writer.start()
    wrote.wait()
    seen: list[int] = []
    try:
        # six snapshots, and more until the writer has committed between the first and the last: its busy
        # waits (SQLite's backoff, up to 100 ms) can miss the short gaps between reads whose child starts quickly
        while len(seen) < 6 or seen[-1] == seen[0] and len(seen) < 60:
            snap = read_snapshot(store.engine, parallel_from=0)
            seen.append(commits[0])
            counts = {i.id: len(snap.history.get(i.id, [])) for i in snap.items}
            assert counts == {i.id: int(i.estimate or 0) for i in snap.items}
    finally:
        stop.set()
        writer.join()
    assert caplog.text.count(CHILD) == len(seen)
    assert seen[-1] > seen[0]  # the writer did commit while the snapshots were read


@pytest.mark.parametrize("child", ["import sys; sys.exit(3)",  # fails at once
                                   "import sys; sys.stdin.buffer.read()"])  # never begins: stopped after the wait
def test_a_child_that_fails_gives_the_in_process_read(store: Store, caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch, child: str) -> None:
    world(store)
    alone = read_snapshot(store.engine, parallel_from=-1)
    monkeypatch.setattr(parallel, "_CHILD", [sys.executable, "-c", child])
    monkeypatch.setattr(parallel, "READY_TIMEOUT_S", 0.5)
    caplog.set_level(logging.DEBUG, logger="syncd.store.parallel")
    assert_same_snapshot(read_snapshot(store.engine, parallel_from=0), alone)
    assert "the child read failed" in caplog.text and CHILD not in caplog.text
    if store.engine.dialect.name == "sqlite":  # the write lock is released: a writer commits at once
        lock = sqlite3.connect(store.engine.url.database or "", timeout=0, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        lock.rollback()
        lock.close()


def test_a_store_that_cannot_be_locked_is_read_in_process(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "syncd.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    world(store)
    alone = read_snapshot(store.engine, parallel_from=-1)
    store.close()
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    caplog.set_level(logging.DEBUG, logger="syncd.store.parallel")
    assert_same_snapshot(read_snapshot(read_only.engine, parallel_from=0), alone)
    assert "no write lock" in caplog.text and CHILD not in caplog.text
    read_only.close()


def test_the_child_stops_when_its_parent_goes(tmp_path: Path) -> None:
    """With its stdin closed (the parent died) the child exits, even while its read waits for a lock."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE transitions (x)")
    holder.execute("BEGIN EXCLUSIVE")  # a rollback journal: no one reads until it ends
    child = subprocess.Popen(parallel._CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
    assert child.stdin is not None and child.stdout is not None
    query = TransitionsQuery("SELECT * FROM transitions")
    pickle.dump(parallel.request(create_engine(f"sqlite:///{path}"), query, parallel._SQLITE_BEGIN), child.stdin)
    child.stdin.close()
    # a child still reading would report "database is locked" once its busy wait ends
    assert child.stdout.read() == b""
    assert child.wait(timeout=30) == 0
    holder.rollback()
    holder.close()


def test_a_failing_start_reads_in_process(store: Store, caplog: pytest.LogCaptureFixture,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An error of the database while starting (on PostgreSQL it aborts the transaction) leaves a fresh read."""
    world(store)
    alone = read_snapshot(store.engine, parallel_from=-1)

    def broken(_engine: object, conn: Connection, *_args: object) -> None:
        conn.exec_driver_sql("SELECT count(*) FROM no_such_table")

    monkeypatch.setattr(parallel, "_start_postgresql" if store.dialect == "postgresql" else "_start_sqlite", broken)
    caplog.set_level(logging.DEBUG, logger="syncd.store.parallel")
    assert_same_snapshot(read_snapshot(store.engine, parallel_from=0), alone)
    assert "no_such_table" in caplog.text and CHILD not in caplog.text
