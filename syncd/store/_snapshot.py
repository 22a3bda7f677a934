"""One consistent read of everything analysis needs, with a lean path for the big tables.

Reports call `Store.snapshot()` once per run. All entities are read in one transaction (a
REPEATABLE READ snapshot on PostgreSQL, one WAL read transaction on SQLite), so a sync committing
meanwhile cannot leave items and their transitions out of step. Transitions, the largest table by
far, come back as `TransitionRow` tuples with only the columns analysis uses: building a million
pydantic models would cost more than the analysis itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, DateTime, Engine, select, type_coerce

from syncd.model import Link, Person, PullRequest, Release, Review, Sprint, WorkItem
from syncd.store import schema

_YIELD = 5000


class TransitionRow(NamedTuple):
    """A `Transition` without its bookkeeping columns (change id, seq, author)."""

    item_id: str
    field: str  # TransitionField value
    from_value: str | None
    to_value: str | None
    from_string: str | None
    to_string: str | None
    at: datetime


@dataclass
class StoreSnapshot:
    """Every live record of the store as of one moment; transitions sorted by item, then time."""

    items: list[WorkItem]
    pulls: list[PullRequest]
    sprints: list[Sprint]
    releases: list[Release]
    links: list[Link]
    transitions: list[TransitionRow]
    people: list[Person]


def _models(conn: Connection, table: Any, model: Any, skip: tuple[str, ...], where: Any = None) -> list[Any]:
    cols = [c for c in table.columns if c.name not in skip]
    q = select(*cols).order_by(*table.primary_key.columns)
    if where is not None:
        q = q.where(where)
    out = []
    construct = model.model_construct
    for row in conn.execution_options(yield_per=_YIELD).execute(q):
        out.append(construct(**row._mapping))
    return out


def _transition_rows(conn: Connection) -> list[TransitionRow]:
    t = schema.transitions
    # Raw `at` without the UtcDateTime decorator: one Python call per row less over a million rows.
    q = select(t.c.item_id, t.c.field, t.c.from_value, t.c.to_value, t.c.from_string, t.c.to_string,
               type_coerce(t.c.at, DateTime(timezone=True))).order_by(t.c.item_id, t.c.at, t.c.change_id, t.c.field, t.c.seq)
    make = TransitionRow._make
    out: list[TransitionRow] = []
    append = out.append
    for row in conn.execution_options(yield_per=_YIELD).execute(q):
        at = row[6]
        if at.tzinfo is None:
            append(make((*row[:6], at.replace(tzinfo=UTC))))
        elif at.utcoffset():
            append(make((*row[:6], at.astimezone(UTC))))
        else:
            append(make(row))
    return out


def _pulls(conn: Connection) -> list[PullRequest]:
    out = []
    for pull in _models(conn, schema.pulls, PullRequest, ("content_hash", "raw")):
        pull.reviews = [Review.model_validate(r) for r in pull.reviews or []]
        out.append(pull)
    return out


def read_snapshot(engine: Engine) -> StoreSnapshot:
    """Read every live record in one transaction (removed items and their children left out)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            conn.exec_driver_sql("BEGIN")  # pysqlite does not begin a transaction for reads
        try:
            items = _models(conn, schema.items, WorkItem, ("content_hash", "raw", "removed_at"),
                            schema.items.c.removed.is_(False))
            live = {i.id for i in items}
            snap = StoreSnapshot(
                items=items,
                pulls=[p for p in _pulls(conn) if p.item_id in live],
                sprints=_models(conn, schema.sprints, Sprint, ("content_hash", "raw")),
                releases=_models(conn, schema.releases, Release, ("content_hash", "raw")),
                links=[lk for lk in _models(conn, schema.links, Link, ()) if lk.from_id in live],
                transitions=[t for t in _transition_rows(conn) if t.item_id in live],
                people=_models(conn, schema.people, Person, ()),
            )
        finally:
            conn.rollback()
    return snap
