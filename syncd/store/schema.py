"""Table definitions (SQLAlchemy Core). Alembic migrations create them; the store queries them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


def _jsonb() -> Any:
    """PostgreSQL's JSONB type, its dialect imported only when a PostgreSQL store asks for it.

    `sqlalchemy.dialects.postgresql` loads every PostgreSQL driver's dialect (asyncpg, psycopg, pg8000...):
    `import syncd.cli` took 1.66 G instructions with it, 1.54 G without (callgrind), on every command's start.
    """
    from sqlalchemy.dialects.postgresql import JSONB

    return JSONB()


class _Jsonb(TypeDecorator[Any]):
    """JSONB, for `JsonType`'s PostgreSQL variant: the type is made when a PostgreSQL dialect first uses it."""

    impl = JSON
    cache_ok = True
    should_evaluate_none = True  # as JSON's and JSONB's own (`none_as_null` off): None is stored as JSON null
    render_bind_cast = True  # as psycopg's JSONB: parameters sent as `%(x)s::JSONB`

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(_jsonb())


JsonType = JSON().with_variant(_Jsonb(), "postgresql")


def json_text(value: Any) -> str:
    """`value` as JSON text, encoded by orjson (C, about 5x the stdlib's speed on payloads).

    The engine's `json_serializer` for every JSON column, and what the store binds to `raw` columns. A
    value orjson refuses (an integer beyond 64 bits, a non-string key) is encoded by the stdlib instead.
    """
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False)


def _psycopg_jsonb(text: str | bytes) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(text, dumps=_same)


def _same(text: str | bytes) -> str | bytes:
    return text


class _AsText(FunctionElement[Any]):
    """A bound raw payload as SQL text: `CAST(? AS TEXT)` on SQLite, the parameter alone elsewhere."""

    name = "raw_as_text"
    inherit_cache = True


@compiles(_AsText)
def _as_text(element: _AsText, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_AsText, "sqlite")
def _as_text_sqlite(element: _AsText, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


class RawJson(TypeDecorator[Any]):
    """A raw source payload: JSON on SQLite, JSONB on PostgreSQL, bound as JSON already encoded.

    The store encodes each payload once (`json_text`, or the storability check's UTF-8 bytes from orjson) and
    binds that: no processor dumps it again (issue 18: SQLAlchemy's JSON type re-serialised 74 MB of payloads
    with `json.dumps` on a 10k sync). SQLite takes text as it is and UTF-8 bytes through `CAST(? AS TEXT)`
    (sqlite.org/lang_expr.html#castexpr: a BLOB cast to TEXT is its bytes "interpreted as text encoded using
    the database encoding"), so bytes are stored as the same text, typed text, without being decoded into a
    Python `str` and encoded back by the driver (issue 18 item 3: 38 MB of non-ASCII payload text on a 10k
    first sync). psycopg gets either wrapped as `Jsonb` with an identity dump, so it goes to the server typed
    jsonb (psycopg 3, "Adapting JSON": `Jsonb(obj, dumps)`; a dump returning bytes is sent as they are).
    Read back parsed.
    """

    impl = JSON
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return _AsText(bindvalue)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(_jsonb() if dialect.name == "postgresql" else JSON())

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            return lambda v: None if v is None else _psycopg_jsonb(v)
        if dialect.name == "postgresql":  # another driver: parse and let the JSONB type bind it
            inner = _jsonb().bind_processor(dialect)
            return lambda v: None if v is None else (inner(orjson.loads(v)) if inner else orjson.loads(v))
        return None  # SQLite: JSON text is what its JSON type stores

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        return lambda v: orjson.loads(v) if isinstance(v, str | bytes) else v


# Two digits of each number below 100, for `_sqlite_utc_text`
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """`UtcDateTime`'s SQLite binding in one step: the UTC moment as SQLite's DATETIME type stores it.

    The text SQLAlchemy's chain gives (`process_bind_param`, then the SQLite DATETIME processor's
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"): ISO 8601 with a
    space and microseconds always, 26 characters for years 1-9999.
    Issue 18 item 3: that chain's `datetime.replace` and %-formatting of a dict cost about 19,000 instructions
    per value under callgrind, 73,000 values on a replayed 10k first sync. Built here from the fields, two-digit
    ones from a table: 5,900 instructions a value on those 73,290 timestamps (callgrind), where `isoformat` behind
    an `lru_cache` took 9,700 (a hit alone hashes the aware datetime, 3,200; `isoformat` about 12,500; an int's
    `format(n, "02d")` about 1,800).
    """
    if value is None:
        return None
    if value.tzinfo is not UTC:  # `...Z` and `+00:00` parse to UTC itself
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
    two = _TWO_DIGITS
    return (f"{str(value.year).zfill(4)}-{two[value.month]}-{two[value.day]} {two[value.hour]}:{two[value.minute]}:"
            f"{two[value.second]}.{str(value.microsecond).zfill(6)}")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (naive storage) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_utc_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _ts(name: str, nullable: bool = True) -> Column[Any]:
    return Column(name, UtcDateTime(), nullable=nullable)


people = Table(
    "people",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("display_name", Text, nullable=False),
    Column("email", Text),
)

items = Table(
    "items",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("source_type", String(20), nullable=False),
    Column("remote_id", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("project", String(255), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(255), nullable=False),
    Column("status_category", String(20), nullable=False),
    Column("resolution", String(255)),
    Column("priority", String(100)),
    Column("priority_id", String(100)),
    Column("labels", JsonType, nullable=False),
    Column("components", JsonType, nullable=False),
    Column("assignee_id", String(255)),
    Column("reporter_id", String(255)),
    _ts("created", nullable=False),
    _ts("updated", nullable=False),
    _ts("resolved"),
    Column("due", Date),
    Column("estimate", Float),
    Column("parent_id", String(255)),
    Column("parent_key", String(255)),
    Column("epic_id", String(255)),
    Column("epic_key", String(255)),
    Column("sprint_ids", JsonType, nullable=False),
    Column("release_ids", JsonType, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("description", Text),
    Column("url", Text),
    Column("removed", Boolean, nullable=False),
    _ts("removed_at"),
    Column("properties", JsonType, nullable=False, server_default="{}"),
    Column("content_hash", String(64), nullable=False),
    Column("raw", RawJson()),
    Index("ix_items_source", "source"),
    Index("ix_items_key", "key"),
)

pulls = Table(
    "pulls",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("draft", Boolean, nullable=False),
    _ts("merged_at"),
    Column("merged_by_id", String(255)),
    Column("head_branch", Text),
    Column("base_branch", Text),
    Column("head_sha", String(64)),
    Column("additions", Integer),
    Column("deletions", Integer),
    Column("changed_files", Integer),
    Column("reviews", JsonType, nullable=False),
    Column("requested_reviewer_ids", JsonType, nullable=False),
    Column("checks", String(20), nullable=False),
    Column("linked_keys", JsonType, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("raw", RawJson()),
)

sprints = Table(
    "sprints",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("remote_id", String(100), nullable=False),
    Column("board_id", String(100)),
    Column("board_name", Text),
    Column("name", Text, nullable=False),
    Column("goal", Text),
    Column("state", String(20), nullable=False),
    _ts("start"),
    _ts("end"),
    _ts("complete"),
    _ts("created"),  # migration 0007: Jira Cloud's createdDate, when given
    Column("content_hash", String(64), nullable=False),
    Column("raw", RawJson()),
)

releases = Table(
    "releases",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("remote_id", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("project", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("due", Date),
    _ts("released_at"),
    Column("released", Boolean, nullable=False),
    Column("prerelease", Boolean, nullable=False, server_default=false()),
    Column("draft", Boolean, nullable=False, server_default=false()),
    Column("tag", Text),
    Column("url", Text),
    _ts("created"),  # migration 0007: GitHub milestones' and releases' created_at
    Column("start", Date),  # migration 0007: a Jira fix version's startDate
    Column("content_hash", String(64), nullable=False),
    Column("raw", RawJson()),
)

links = Table(
    "links",
    metadata,
    Column("from_id", String(255), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("to_key", String(255), primary_key=True),
    Column("to_id", String(255)),
    Column("to_status", Text),
    Column("to_category", String(20)),
    Column("to_summary", Text),
    Column("to_type", Text),
    Index("ix_links_to_key", "to_key"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("change_id", String(100), primary_key=True),
    Column("field", String(20), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("from_value", Text),
    Column("to_value", Text),
    Column("from_string", Text),
    Column("to_string", Text),
    _ts("at", nullable=False),
    Column("author_id", String(255)),
)

cursors = Table(
    "cursors",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("value", JsonType, nullable=False),
    _ts("updated_at", nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    _ts("started_at", nullable=False),
    _ts("finished_at"),
    Column("status", String(20), nullable=False),  # running | ok | failed
    Column("full", Boolean, nullable=False),
    Column("items_new", Integer, nullable=False, default=0),
    Column("items_updated", Integer, nullable=False, default=0),
    Column("items_removed", Integer, nullable=False, default=0),
    Column("requests", Integer, nullable=False, default=0),
    Column("error", Text),
    Index("ix_sync_runs_source", "source", "started_at"),
)

# -- daemon and reports (migration 0002) ---------------------------------------------------------

slots = Table(
    "slots",
    metadata,
    # One scheduled occurrence of a job: (job name, slot time). The row is the claim: a slot runs
    # on the replica that inserted or took over its row, exactly once.
    Column("job", String(255), primary_key=True),
    Column("slot_at", UtcDateTime(), primary_key=True),
    Column("state", String(20), nullable=False),  # claimed | sending | done | skipped | failed
    Column("owner", String(255)),  # replica id holding the claim
    _ts("lease_until"),  # a claim past this time may be taken over by another replica
    Column("attempts", Integer, nullable=False, default=0),
    _ts("updated_at", nullable=False),
    Column("detail", Text),
)

leases = Table(
    "leases",
    metadata,
    # Named, expiring leases (e.g. "sync:<source>", "daemon:<sqlite file>"): a holder renews it;
    # an expired lease may be taken by anyone.
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    _ts("acquired_at", nullable=False),
    _ts("expires_at", nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    # The delivery log: what was sent (or failed) to whom and when.
    Column("id", Integer, primary_key=True, autoincrement=True),
    _ts("at", nullable=False),
    Column("job", String(255)),  # schedule entry name, None for one-shot `syncd report --send`
    _ts("slot_at"),
    Column("kind", String(50), nullable=False),
    Column("audience", String(50)),
    Column("format", String(10), nullable=False),
    Column("recipients", JsonType, nullable=False),
    Column("subject", Text, nullable=False),
    Column("message_id", String(255)),
    Column("status", String(20), nullable=False),  # sent | failed
    Column("error", Text),
    Index("ix_deliveries_at", "at"),
)

report_history = Table(
    "report_history",
    metadata,
    # What each generated report concluded, so the next one can say what changed since.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(50), nullable=False),
    Column("audience", String(50), nullable=False),
    Column("scope", String(255), nullable=False),  # goal / sprint / release id, or "" for all
    _ts("generated_at", nullable=False),
    _ts("as_of", nullable=False),  # the report's "now"
    Column("summary", JsonType, nullable=False),  # e.g. per goal: status, percent, p85 date
    Column("risk_ids", JsonType, nullable=False),  # stable risk identities
    Index("ix_report_history_kind", "kind", "audience", "scope", "as_of"),
)

risk_acks = Table(
    "risk_acks",
    metadata,
    # An accepted risk theme (`syncd risk ack`; the config's reports.risk_acks are never stored, and
    # rows with source 'config' an earlier version wrote are ignored):
    # not raised again until `until` passes or it gets worse than it was when accepted.
    Column("theme_id", String(255), primary_key=True),  # goal:<id>, release:<id>, sprint:<id>, team:<key>
    Column("acked_by", String(255), nullable=False),
    _ts("acked_at", nullable=False),
    Column("until", Date, nullable=False),  # last day the acknowledgement holds
    Column("note", Text, nullable=False),
    Column("source", String(20), nullable=False),  # cli | config
    Column("red_signal_ids", JsonType, nullable=False),  # the theme's red signals when accepted
    Column("forecast_p85", Date),  # the theme's 85% forecast when accepted
)
