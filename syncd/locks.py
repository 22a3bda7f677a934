"""Locks that keep two syncd processes from syncing the same store at once."""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from syncd.errors import SyncdError
from syncd.settings import Settings
from syncd.store import Store


class LockBusy(SyncdError):
    """Another syncd process holds the lock."""


@contextmanager
def source_lock(settings: Settings, store: Store, name: str = "sync") -> Iterator[None]:
    """Hold an exclusive, non-blocking lock named `name` for the store in use.

    SQLite: an flock on a file beside the database. PostgreSQL: a session advisory lock, so
    processes on different machines sharing the database exclude each other too.
    """
    if store.dialect == "postgresql":
        key = zlib.crc32(f"syncd:{name}".encode())
        with store.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
                raise LockBusy(f"another syncd process holds the {name} lock on this database; not started")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / f"{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(f"another syncd process holds {path}; not started") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)
