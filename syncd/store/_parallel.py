"""The transitions read in a second process while this one reads the items: one snapshot, two cores.

A 100,000-item report reads its items (1.1 s) and then their 630,000 transitions (0.95 s), one after
the other. Threads cannot overlap the two: the sqlite3 driver holds the GIL while it builds each row's
values. A child process can (as `pg_dump -j` does): it is started with `subprocess` (fork+exec, safe in
the threaded daemon; SQLite forbids carrying a connection across a bare fork, sqlite.org/howtocorrupt.html
section 2.6), reads the transitions with the same code and SQL as the in-process read (`read_columns` of
the caller's `TransitionsQuery`: every item's; the caller keeps the live items' rows, `live_only`) over
the bare driver (no SQLAlchemy in the child) and sends the columns back over its stdout.

Both processes must read the same commit, or a sync committing meanwhile would put items and
transitions out of step:

- SQLite (WAL): "a read transaction is started by the first SELECT ... once a read transaction is
  started, that reader continues to see the same snapshot of the database file" (sqlite.org/lang_transaction.html
  section 2.1; sqlite.org/wal.html section 2.2: a reader remembers the WAL's end mark when it starts).
  So a third connection takes the write lock (BEGIN IMMEDIATE: no one else can commit while it is
  held), the caller's read begins (a first SELECT), the child's read begins and says so over its pipe,
  and only then is the lock released (ROLLBACK): nothing can be committed between the two starts.
  Writers wait (busy_timeout 30 s) for the child's start-up only.
- PostgreSQL: the caller's REPEATABLE READ transaction exports its snapshot (`pg_export_snapshot()`),
  and the child's REPEATABLE READ transaction adopts it (`SET TRANSACTION SNAPSHOT`) as long as the
  exporting transaction is open, as `pg_dump -j` does (postgresql.org/docs/current/functions-admin.html
  #FUNCTIONS-SNAPSHOT-SYNCHRONIZATION, .../sql-set-transaction.html). No lock at all.

Only where it pays (a cheap count of the transitions at least `parallel_from`); anything that goes wrong
(no write lock within a short wait, a read-only file, the child failing, dying or too slow) gives `None`
and a debug log line: the caller then reads the transitions itself, in its own transaction, as before.
A killed caller does not leave the child running: the child exits when its stdin closes.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from itertools import repeat
from operator import is_not
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from syncd.store._parallel_child import peak_rss_mib
from syncd.store._transitions import TransitionColumns
from syncd.store._transitions_read import TransitionsQuery

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from syncd.model import WorkItem

log = logging.getLogger("syncd.store.parallel")

# Below this many transitions the child's start-up (a Python process and its imports: numpy, orjson and
# the driver, ~0.2 CPU s) costs more than the overlap saves: the read stays in-process.
PARALLEL_FROM = 250_000
LOCK_WAIT_S = 0.5  # how long to wait for SQLite's write lock before reading in-process
READY_TIMEOUT_S = 10.0  # the child's start-up, while writers wait for the lock (their busy_timeout: 30 s)
RESULT_TIMEOUT_S = 120.0  # the whole child read

_CHILD = [sys.executable, "-m", "syncd.store._parallel_child"]
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding this syncd package


class SideRead:
    """A child process reading the transitions of the caller's snapshot; `columns` waits for them."""

    def __init__(self, proc: subprocess.Popen[bytes], lock: sqlite3.Connection | None) -> None:
        self._proc = proc
        self._lock = lock  # SQLite's write lock, held until the child's read has begun
        self._releasing = threading.Lock()  # the pipe's reader and the caller may both release it
        self._ready = threading.Event()
        self._got: tuple[Any, ...] | None = None  # the child's columns
        self._usage: dict[str, float] = {}  # the child's own peak RSS and CPU seconds
        self._error = ""
        self._reader = threading.Thread(target=self._read, name="syncd-side-read", daemon=True)
        self._reader.start()
        # a child that never says it began must not keep writers waiting: stop it (its pipe closes)
        self._watchdog = threading.Timer(READY_TIMEOUT_S, self._give_up)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _give_up(self) -> None:
        if not self._ready.is_set():
            self._error = f"not started after {READY_TIMEOUT_S:g} s"
            self._proc.kill()

    def _read(self) -> None:
        """Read the child's messages: it began (release the lock), its columns, its resource usage."""
        out = self._proc.stdout
        assert out is not None
        try:
            # pickles from our own child over its pipe: nothing else can write there
            kind, value = pickle.load(out)  # noqa: S301
            if kind == "began":
                self._ready.set()
                self._release()
                kind, value = pickle.load(out)  # noqa: S301
            if kind == "columns":
                got = value
                kind, value = pickle.load(out)  # noqa: S301
                self._usage = value
                self._got = got
            elif kind == "error":
                self._error = value
        except Exception as exc:  # noqa: BLE001 - EOF (it died or was stopped), a broken pipe: read in-process
            self._error = self._error or f"{type(exc).__name__}: {exc}"
        finally:
            self._release()

    def _release(self) -> None:
        with self._releasing:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.rollback()
                lock.close()

    def columns(self, live: Mapping[str, WorkItem], timeout: float = RESULT_TIMEOUT_S) -> TransitionColumns | None:
        """The live items' transitions as read by the child, or None (logged) when it did not deliver."""
        waited = time.perf_counter()
        self._reader.join(timeout)
        waited = time.perf_counter() - waited
        self.close()
        if self._got is None:
            log.debug("transitions read in-process: the child read failed (%s)",
                      self._error or f"no answer within {timeout:g} s")
            return None
        u = self._usage
        # the bench reads this line (bench/report_cli.py): the child's own figures, and this process's peak
        # while the child lived (with the child's, a bound on the two processes' memory at once)
        log.debug("transitions read by a child process: %d rows; child peak RSS %.1f MiB, CPU %.2f s, "
                  "began after %.3f s; waited for it %.3f s, peak RSS here so far %.1f MiB",
                  len(self._got[4]), u["maxrss_mib"], u["cpu_s"], u["began_s"], waited, peak_rss_mib())
        item_ids, offsets, changes, change, at = self._got
        return live_only(item_ids, offsets, changes, change, at, live)

    def close(self) -> None:
        """Stop the child if it still runs, and reap it."""
        self._watchdog.cancel()
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # its signal to exit
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._release()


def live_only(item_ids: list[str], offsets: Any, changes: list[Any], change: Any, at: Any,
              live: Mapping[str, WorkItem]) -> TransitionColumns:
    """The columns of every item's transitions cut to the items in `live` (by id), named by the live items' own
    id strings.

    The in-process read builds the same columns with `ColumnsBuilder(live)`: the change codes, counted
    over every row read, and the order (items by id, then time, ties as read) are those of all items.
    """
    # one lookup of each id read (the item's own id string comes with it), and a pass to cut only if some are
    # not live: at 100k (90,000 items with transitions) 0.15 -> 0.10 CPU s (medians of 5 alternated, load 7.5),
    # where a membership test, a dict of the live ids and a lookup in it made three passes
    found = list(map(live.get, item_ids))
    ids = [item.id for item in found if item is not None]
    if len(ids) < len(item_ids):
        keep = np.fromiter(map(is_not, found, repeat(None)), dtype=bool, count=len(found))
        counts = np.diff(offsets)
        rows = np.repeat(keep, counts)
        change, at = change[rows], at[rows]
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(counts[keep], out=offsets[1:])
    return TransitionColumns(ids, offsets, changes, change, at)


def start(engine: Engine, conn: Connection, query: TransitionsQuery, parallel_from: int) -> SideRead | None:
    """Start a child reading the transitions of `conn`'s snapshot by `query`, where it pays; None: read them
    in-process.

    `conn` is the caller's connection (REPEATABLE READ on PostgreSQL), its read transaction not begun yet.
    With a child, it has begun here, on the child's snapshot; with None, the caller begins it.
    """
    if parallel_from < 0 or not sys.executable:
        return None
    try:
        if engine.dialect.name == "postgresql":
            return _start_postgresql(engine, conn, query, parallel_from)
        return _start_sqlite(engine, conn, query, parallel_from)
    except Exception as exc:  # noqa: BLE001 - never worse than the in-process read
        log.debug("transitions read in-process: %s: %s", type(exc).__name__, exc)
        conn.rollback()  # a PostgreSQL error aborts the transaction: the caller begins afresh
        return None


def _start_sqlite(engine: Engine, conn: Connection, query: TransitionsQuery, parallel_from: int) -> SideRead | None:
    database = engine.url.database
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    if parallel_from and (conn.exec_driver_sql("SELECT max(rowid) FROM transitions").scalar() or 0) < parallel_from:
        return None  # max(rowid): a look at the table's last page, no scan
    args, kwargs = engine.dialect.create_connect_args(engine.url)  # the file (or URI) the engine opens
    lock = sqlite3.connect(args[0], timeout=LOCK_WAIT_S, isolation_level=None, check_same_thread=False,
                           uri=bool(kwargs.get("uri")))
    try:
        lock.execute("BEGIN IMMEDIATE")  # fails when busy past LOCK_WAIT_S
        # ... but "succeeds" on a read-only connection (a read-only file, mode=ro) without locking anything
        # (SQLite 3.40, checked): a write of no rows fails there, and changes nothing here
        lock.execute("INSERT INTO transitions SELECT * FROM transitions WHERE 0")
    except sqlite3.Error as exc:
        lock.close()
        log.debug("transitions read in-process: no write lock (%s)", exc)
        return None
    try:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()  # the caller's snapshot: fixed now
        return SideRead(_spawn(engine, query, _SQLITE_BEGIN), lock)
    except BaseException:
        lock.rollback()
        lock.close()
        raise


def _start_postgresql(engine: Engine, conn: Connection, query: TransitionsQuery,
                      parallel_from: int) -> SideRead | None:
    # the planner's row estimate (kept by ANALYZE and autovacuum; -1 before the first): no scan. The first
    # statement of the caller's transaction: its snapshot is taken here
    estimate = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = to_regclass('transitions')").scalar()
    if parallel_from and (estimate is None or estimate < parallel_from):
        return None
    snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
    if not re.fullmatch(r"[0-9A-Fa-f-]+", snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    # the driver begins the child's transaction; these are its first statements: it sees what the caller's sees
    begin = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    return SideRead(_spawn(engine, query, begin), None)


_SQLITE_BEGIN = ("BEGIN", "SELECT count(*) FROM sqlite_master")  # its first SELECT begins the read transaction


def _spawn(engine: Engine, query: TransitionsQuery, begin: Iterable[str]) -> subprocess.Popen[bytes]:
    """The child, given its request on stdin (the password never shows in the process list)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)  # this very syncd
    proc = subprocess.Popen(_CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env)
    assert proc.stdin is not None
    try:
        pickle.dump(request(engine, query, begin), proc.stdin, protocol=5)
        proc.stdin.flush()  # stdin stays open: closing it tells the child to stop
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def request(engine: Engine, query: TransitionsQuery, begin: Iterable[str]) -> dict[str, Any]:
    """The child's request: connect as `engine` does through its DB-API driver, run `begin`, then `query`."""
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs.pop("context", None)  # psycopg's adapters as SQLAlchemy set them: the child's driver keeps its own
    return {"connect": (engine.dialect.loaded_dbapi.__name__, args, kwargs), "begin": list(begin),
            "query": query._asdict()}
