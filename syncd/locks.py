"""Locks that keep two syncd processes from doing the same thing on one store at once.

`source_lock(settings, store, "sync-NAME")` is held while a source syncs, by `syncd sync`, the
daemon and `POST /sync` alike, so overlapping cron runs never sync the same source twice at once
(different sources still sync in parallel). `"daemon"` is held by `syncd run` on SQLite, where
only one daemon may use a database file.

SQLite: an flock on a file beside the database (released by the kernel when the process dies).
PostgreSQL: a session advisory lock on its own autocommit connection (released by the server when
the connection ends), so processes on different machines sharing the database exclude each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from syncd.errors import SyncdError
from syncd.settings import Settings
from syncd.store import Store


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


@contextmanager
def source_lock(settings: Settings, store: Store, name: str = "sync") -> Iterator[None]:
    """Hold the exclusive lock `name` for the store in use, or raise LockBusy at once (never waits)."""
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            key = _pg_key(name)
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                raise LockBusy(f"another syncd process holds the {name} lock on this database")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
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
        yield
    finally:
        os.close(fd)
