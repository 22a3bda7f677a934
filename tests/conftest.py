"""Shared fixtures: stores on SQLite and (when reachable) PostgreSQL, the realdata folder."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.store import Store

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("SYNCD_REALDATA", ROOT.parent / "shared" / "realdata"))
PG_ADMIN_URL = os.environ.get("SYNCD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return False
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


PG_OK = _pg_reachable()
needs_pg = pytest.mark.skipif(not PG_OK, reason="PostgreSQL not reachable at 127.0.0.1:5432 (database test, trust auth)")


@pytest.fixture(scope="session")
def realdata() -> Path:
    """../shared/realdata, or skip with the reason."""
    if not REALDATA.is_dir():
        pytest.skip(f"shared realdata not found at {REALDATA}")
    return REALDATA


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not PG_OK:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test, trust auth)")
    from sqlalchemy import create_engine, text

    name = f"syncd_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'syncd.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store: once on SQLite, once on PostgreSQL (skipped when unreachable)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'syncd.db'}"
        s = Store(url)
        s.upgrade()
        yield s
        s.close()
    else:
        url = request.getfixturevalue("pg_url")
        s = Store(url)
        s.upgrade()
        yield s
        s.close()
