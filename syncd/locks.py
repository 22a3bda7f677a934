"""Locks that keep two syncd processes from doing the same thing on one store at once.

`source_lock(settings, store, "sync-NAME")` is held while a source syncs, by `syncd sync`, the
daemon and `POST /sync` alike, so overlapping cron runs never sync the same source twice at once
(different sources still sync in parallel). `"daemon"` is held by `syncd run` on SQLite, where
only one daemon may use a database file.

SQLite: an flock on a file beside the database (released by the kernel when the process dies).
PostgreSQL: a session advisory lock on its own autocommit connection (released by the server when
the connection ends), so processes on different machines sharing the database exclude each other.
The holder checks that connection before each batch it stores (`HeldLock.check`): a lost connection
means a released lock, and the sync stops with one line instead of going on unguarded.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreUnavailable, SyncdError
from syncd.settings import Settings
from syncd.store import Store

log = logging.getLogger("syncd.locks")


class LockBusy(SyncdError):
    """Another syncd process holds the lock."""


def lock_path(settings: Settings, store: Store, name: str) -> Path:
    """The lock file of `name` for a SQLite store: beside the database file (or in data_dir)."""
    database = make_url(store.url).database
    if database and database != ":memory:":
        db = Path(database)
        return db.parent / f"{db.name}.{name}.lock"
    return settings.data_dir / f"{name}.lock"


def _pg_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"syncd:{name}".encode()).digest()[:8], "big", signed=True)


class HeldLock:
    """A lock `source_lock` holds; `check()` raises StoreUnavailable once it may no longer be held."""

    def __init__(self, name: str, conn: Connection | None = None) -> None:
        self.name = name
        self._conn = conn
        self.lost = False

    def check(self) -> None:
        """Make sure the lock is still held (PostgreSQL: its session is alive; a flock cannot be lost).

        The server releases an advisory lock when its session ends (a restart, a network cut, a killed
        backend), so another process may take it: the holder must stop, not go on unguarded.
        """
        if self._conn is not None and not self.lost:
            try:
                self._conn.execute(text("SELECT 1"))
            except SQLAlchemyError:
                self.lost = True
        if self.lost:
            raise StoreUnavailable(f"lost the database connection that held the {self.name} lock, so the "
                                   "server released it; stopped (another process may sync now; the next "
                                   "sync resumes from the last stored batch)")


@contextmanager
def source_lock(settings: Settings, store: Store, name: str = "sync") -> Iterator[HeldLock]:
    """Hold the exclusive lock `name` for the store in use, or raise LockBusy at once (never waits)."""
    if store.dialect == "postgresql":
        key, conn = _pg_key(name), None
        try:
            conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        except SQLAlchemyError as exc:
            if conn is not None:
                conn.close()
            raise StoreUnavailable(f"cannot take the {name} lock: database unreachable: "
                                   f"{' '.join(str(getattr(exc, 'orig', exc)).split())[:200]}") from None
        with conn:
            if not got:
                raise LockBusy(f"another syncd process holds the {name} lock on this database")
            held = HeldLock(name, conn)
            try:
                yield held
            finally:
                try:
                    if not held.lost:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                except SQLAlchemyError:
                    log.warning("the %s lock's database connection was lost; the server released the lock", name)
        return
    path = lock_path(settings, store, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise LockBusy(f"another syncd process (pid {holder}) holds {path}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield HeldLock(name)
    finally:
        os.close(fd)
