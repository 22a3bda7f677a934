"""Alembic migrations, run from code: `syncd db upgrade` and automatically on start.

Each revision is atomic. PostgreSQL has transactional DDL: the whole upgrade runs in one
transaction under an advisory lock. SQLite has it too, but Python's sqlite3 module opens a
transaction only before INSERT/UPDATE/DELETE, so every CREATE/ALTER/DROP committed on its own and a
process killed inside a migration left half its tables ("table cursors already exists" ever
after). On SQLite the migration connection therefore turns the module's implicit transaction
handling off and emits BEGIN IMMEDIATE itself whenever SQLAlchemy begins a transaction: the
recipe of SQLAlchemy's SQLite dialect documentation ("Serializable isolation / Savepoints /
Transactional DDL", https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#pysqlite-serializable),
with Alembic's `transactional_ddl` and `transaction_per_migration` (env.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to `engine`, with our migrations folder."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest), each revision in one transaction."""
    if revision == "head" and at_head(engine):
        return  # every start's usual case, told without importing Alembic (60 ms and 7 MiB a process)
    from alembic import command

    try:
        if engine.dialect.name == "sqlite":
            _upgrade_sqlite(engine, revision)
            return
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # one migrator at a time when several replicas start together
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7261001)")
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = " ".join(str(getattr(exc, "orig", exc)).split())  # drivers' messages span lines: one line
        raise StoreError(f"cannot migrate database {where}: {reason}") from None


def _upgrade_sqlite(engine: Engine, revision: str) -> None:
    from alembic import command

    if revision == "head" and current_revision(engine) == head_revision(engine):
        return  # the usual case on every start: no write lock taken just to read the version
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        previous = raw.isolation_level
        raw.isolation_level = None  # sqlite3: no implicit BEGIN (and none skipped before DDL)

        def begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # IMMEDIATE: take the write lock before reading the version

        event.listen(conn, "begin", begin)
        try:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        finally:
            event.remove(conn, "begin", begin)
            if conn.in_transaction():
                conn.rollback()
            raw.isolation_level = previous


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision our migrations define."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


_REVISION = re.compile(r"^revision = '([^']+)'$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision = (?:None|'([^']+)')$", re.MULTILINE)


def head_from_files() -> str | None:
    """The newest revision as the migration files tell it, read without Alembic: the one revision no other file
    names as its `down_revision`. None when a file does not say both in the form our files use, or there is
    not exactly one such revision (Alembic must decide then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """True when the database's one recorded revision is the newest (`head_from_files`); False when either is
    unknown (never migrated, an unreadable version table, a migration file of another form)."""
    head = head_from_files()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            stored = [row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    except SQLAlchemyError:
        return False
    return stored == [head]
