"""Issue 18 item 3: the store's fast write path (raw payloads encoded once by orjson and bound as text, orjson
for the JSON columns) stores what the plain SQLAlchemy path stores, on SQLite and PostgreSQL.

A sandbox world (Jira Cloud + GitHub) is synced through the real sync engine and connectors; every batch the
store is given is copied. The same batches are then written into a second, migrated store by a reference
writer here: SQLAlchemy Core `insert` on tables whose JSON columns (raw included) use SQLAlchemy's stock JSON
types and stdlib `json`, a row replaced whole when a later batch names it again, children replaced per owner.
Every row of every entity, raw payload and content hash included, must read back the same from both; each
stored raw payload must parse back to the payload the connector read.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, MetaData, Table, create_engine, delete, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB

from syncd.model import Batch
from syncd.sandbox import start_sandbox
from syncd.settings import load_settings
from syncd.store import ENTITIES, Store
from syncd.sync import sync_all

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def pg_url2() -> Iterator[str]:
    """A second fresh PostgreSQL database (the reference store), dropped afterwards."""
    from tests.conftest import PG_ADMIN_URL

    name = f"syncd_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
KEYS = {"items": ("id",), "pulls": ("item_id",), "sprints": ("id",), "releases": ("id",), "people": ("id",)}


def _plain_tables(engine: Engine) -> dict[str, Table]:
    """The entity tables as the database has them, JSON columns typed with SQLAlchemy's stock JSON types."""
    meta = MetaData()
    tables = {}
    for name in ENTITIES:
        table = Table(name, meta, autoload_with=engine)
        for col in table.columns:
            if col.name in ("raw", "labels", "components", "sprint_ids", "release_ids", "properties", "reviews",
                            "requested_reviewer_ids", "linked_keys"):
                col.type = JSONB() if engine.dialect.name == "postgresql" else JSON()
        tables[name] = table
    return tables


def _hash(record: Any) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def _reference_write(engine: Engine, batches: list[Batch]) -> None:
    """Write the batches the plain way: stock SQLAlchemy JSON types, stdlib json, row by row semantics."""
    from syncd.store import schema

    tables = _plain_tables(engine)
    utc = schema.UtcDateTime()
    for batch in batches:
        with engine.begin() as conn:
            def put(name: str, rows: list[dict[str, Any]]) -> None:
                table = tables[name]
                for row in rows:
                    key = KEYS[name][0]
                    conn.execute(delete(table).where(table.c[key] == row[key]))
                    values = {k: (utc.process_bind_param(v, engine.dialect) if isinstance(v, datetime) else v)
                              for k, v in row.items()}
                    conn.execute(insert(table), values)

            put("items", [{**i.model_dump(mode="python"), "content_hash": _hash(i), "raw": i.raw,
                           "removed_at": None} for i in batch.items])
            put("pulls", [{**p.model_dump(mode="python"), "reviews": [r.model_dump(mode="json") for r in p.reviews],
                           "content_hash": _hash(p), "raw": p.raw} for p in batch.pulls])
            put("sprints", [{**s.model_dump(mode="python"), "content_hash": _hash(s), "raw": s.raw} for s in batch.sprints])
            put("releases", [{**r.model_dump(mode="python"), "content_hash": _hash(r), "raw": r.raw}
                             for r in batch.releases])
            put("people", [p.model_dump(mode="python") for p in batch.people])
            owners = {i.id for i in batch.items}
            for name, owner_col, records in (("links", "from_id", batch.links), ("transitions", "item_id", batch.transitions)):
                table = tables[name]
                mine = owners | {getattr(r, owner_col) for r in records}
                for owner in mine:
                    conn.execute(delete(table).where(table.c[owner_col] == owner))
                seen: dict[Any, dict[str, Any]] = {}
                for r in records:
                    row = r.model_dump(mode="python")
                    seen[tuple(row[c.name] for c in table.primary_key.columns)] = row
                for row in seen.values():
                    conn.execute(insert(table), {k: (utc.process_bind_param(v, engine.dialect)
                                                     if isinstance(v, datetime) else v) for k, v in row.items()})


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every entity, JSON text parsed, in key order (removed_at is the sync's clock)."""
    out = {}
    for name, table in _plain_tables(engine).items():
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
        for row in rows:
            row.pop("removed_at", None)
            for k, v in row.items():
                if isinstance(v, str) and k in ("raw",) and v[:1] in "{[":
                    row[k] = json.loads(v)
        out[name] = rows
    return out


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_fast_writes_store_what_plain_sqlalchemy_stores(backend: str, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        fast_url, plain_url = f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'plain.db'}"
    else:
        fast_url = request.getfixturevalue("pg_url")
        plain_url = request.getfixturevalue("pg_url2")
    with start_sandbox(seed=3, issues=300, now=NOW) as box:
        config = box.write_config(tmp_path / "syncd.toml", data_dir=tmp_path / "data")
        settings = load_settings(config, database_url=fast_url)
        store = Store(fast_url)
        store.upgrade()
        batches: list[Batch] = []
        apply = store.apply_batch

        def keep(source: str, batch: Batch) -> Any:
            batches.append(batch.model_copy(deep=True))
            return apply(source, batch)

        store.apply_batch = keep  # type: ignore[method-assign]
        results = sync_all(settings, store)
        assert all(r.ok for r in results), [r.error for r in results]
    reference = Store(plain_url)
    reference.upgrade()
    plain = create_engine(plain_url)  # SQLAlchemy's own json serializer
    _reference_write(plain, batches)

    fast_rows, plain_rows = _rows(store.engine), _rows(plain)
    assert {k: len(v) for k, v in fast_rows.items()} == {k: len(v) for k, v in plain_rows.items()}
    assert len(fast_rows["items"]) > 250 and len(fast_rows["transitions"]) > 500 and fast_rows["pulls"]
    for name in ENTITIES:
        assert fast_rows[name] == plain_rows[name], name
    # the raw payloads parse back to what the connectors read
    last_raw = {i.id: i.raw for b in batches for i in b.items}
    assert {r["id"]: r["raw"] for r in fast_rows["items"]} == last_raw
    if backend == "postgresql":
        with store.engine.connect() as conn:
            kinds = set(conn.execute(text("SELECT DISTINCT jsonb_typeof(raw) FROM items")).scalars())
        assert kinds == {"object"}  # stored as JSONB objects, not as JSON strings holding text
    store.close()
    reference.close()
    plain.dispose()
