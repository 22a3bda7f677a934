"""A migration killed at any statement leaves a SQLite store that `syncd db upgrade` completes.

Issue 19 item 5: Python's sqlite3 module committed every DDL statement on its own, so a SIGKILL
inside a migration left half its tables and every later command failed with `table cursors already
exists`. Here a forked child runs the real upgrade from an empty file and SIGKILLs itself right
after its k-th SQL statement, for every k until an upgrade finishes unkilled (so revisions added
later are covered too). After each kill `syncd db upgrade` (the click command, in-process) must
succeed and the schema must equal the one a clean upgrade builds, read from `sqlite_master`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, event, text

from syncd.cli import main
from syncd.store import Store


@pytest.fixture(autouse=True)
def no_syncd_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in list(os.environ):
        if var.startswith("SYNCD_"):
            monkeypatch.delenv(var)
    yield


def _upgrade_and_die_after(url: str, k: int) -> None:
    """Child: upgrade `url`, SIGKILLing this process right after SQL statement number k."""
    store = Store(url)
    seen = 0

    def count(*_args: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == k:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(store.engine, "after_cursor_execute", count)
    store.upgrade()
    os._exit(0)  # the child ends here unkilled: no pytest teardown in a forked copy


def schema(path: Path) -> dict[str, Any]:
    """Every table, index and its SQL, the Alembic revision and SQLite's own integrity verdict."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            objects = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")).all()
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            integrity = conn.execute(text("PRAGMA integrity_check")).scalar()
    finally:
        engine.dispose()
    return {"objects": [tuple(row) for row in objects], "versions": versions, "integrity": integrity}


@pytest.mark.slow
def test_a_kill_at_every_statement_of_the_migrations_leaves_an_upgradable_store(tmp_path: Path) -> None:
    clean = tmp_path / "clean.db"
    upgraded = CliRunner().invoke(main, ["db", "upgrade", "--database-url", f"sqlite:///{clean}"])
    assert upgraded.exit_code == 0, upgraded.output
    expected = schema(clean)
    assert expected["integrity"] == "ok" and len(expected["versions"]) == 1
    assert {"cursors", "items", "slots", "deliveries"} <= {name for kind, name, _, _ in expected["objects"]
                                                            if kind == "table"}

    fork = multiprocessing.get_context("fork")
    killed_at, k = [], 0
    while True:
        k += 1
        path = tmp_path / f"killed-{k}.db"
        child = fork.Process(target=_upgrade_and_die_after, args=(f"sqlite:///{path}", k))
        child.start()
        child.join(120)
        assert child.exitcode in (0, -signal.SIGKILL), (k, child.exitcode)
        if child.exitcode == 0:  # the whole upgrade ran in fewer than k statements
            break
        killed_at.append(k)
        result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", f"sqlite:///{path}"])
        assert result.exit_code == 0, (k, result.output)
        assert result.output.strip().endswith(f"at revision {expected['versions'][0]}"), (k, result.output)
        assert schema(path) == expected, f"after a kill at statement {k}"
        path.unlink()
    # every revision's statements were hit: 0001 alone creates nine tables and four indexes
    assert len(killed_at) >= 40 and killed_at == list(range(1, k)), killed_at
