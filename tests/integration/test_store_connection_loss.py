"""Issue 19 item 9: the PostgreSQL connection is lost in the middle of a sync (a killed session, a server
restart). The source stops with one line, no traceback, and never goes on without the source lock it held
on that connection (the server releases an advisory lock with its session); the next sync resumes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from syncd import jobs
from syncd.connectors.github import GitHubConnector
from syncd.settings import Settings
from syncd.store import Store
from tests.integration._github import Sandbox, live_issues, open_sandbox, source

pytestmark = pytest.mark.postgres


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from open_sandbox(issues=150, pulls=130)  # acme/widget: three listing pages, three batches


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store(pg_url)
    store.upgrade()
    yield store
    store.close()


def _kill(store: Store, which: str) -> int:
    """Terminate the store's sessions from another connection: the lock's alone, or every one (a restart)."""
    admin = create_engine(store.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if which == "lock":
                query = ("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = "
                         "(SELECT oid FROM pg_database WHERE datname = current_database())")
            else:
                query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            pids = list(conn.execute(text(query)).scalars())
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            return len(pids)
    finally:
        admin.dispose()


@pytest.mark.parametrize("which", ["lock", "all"])
def test_a_lost_connection_stops_the_source_in_one_line_and_the_next_sync_resumes(
        pg_store: Store, sandbox: Sandbox, tmp_path: Path, which: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(sources={"gh": source(sandbox)}, data_dir=tmp_path)
    original = GitHubConnector.fetch
    killed: list[int] = []

    def fetch(self: GitHubConnector, *args: Any, **kw: Any) -> Iterator[Any]:
        for n, batch in enumerate(original(self, *args, **kw)):
            if n == 1 and not killed:  # the first batch is stored: lose the connection(s) now
                killed.append(_kill(pg_store, which))
            yield batch

    monkeypatch.setattr(GitHubConnector, "fetch", fetch)
    caplog.set_level(logging.INFO)
    result = jobs.sync_one(settings, pg_store, "gh")
    assert killed and killed[0] >= 1
    assert result is not None and not result.ok
    assert result.error is not None and "\n" not in result.error
    assert "lost the database connection that held the sync-gh lock" in result.error
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    stored = pg_store.counts()["items"]
    assert 0 < stored < 280  # the first batch, not the ones after the lock was lost
    # the lock is free again, and the next sync resumes from the last stored batch
    monkeypatch.setattr(GitHubConnector, "fetch", original)
    again = jobs.sync_one(settings, pg_store, "gh")
    assert again is not None and again.ok, again and again.error
    assert again.result.new == 280 - stored
    assert {i.key for i in pg_store.items()} == set(live_issues(sandbox.world))
