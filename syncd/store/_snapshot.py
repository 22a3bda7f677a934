"""One consistent read of everything analysis needs, with a lean path for the big tables.

Reports call `Store.snapshot()` once per run. All entities are read in one transaction (a
REPEATABLE READ snapshot on PostgreSQL, one WAL read transaction on SQLite), so a sync committing
meanwhile cannot leave items and their transitions out of step.

The big tables (items, transitions) are read through the driver's own cursor with per-column
converters instead of SQLAlchemy's result processing and pydantic validation: rows were validated
when they were written. Transitions come back as `TransitionColumns` (syncd/store/_transitions.py):
only the columns analysis uses, as numpy arrays, an item's `TransitionRow` tuples built when asked
for, and can be limited to some fields; building a million pydantic models (or even tuples) would
cost more than the analysis itself.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from itertools import repeat
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic_core import from_json
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    Engine,
    Float,
    Integer,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from syncd.model import Link, Person, PullRequest, Release, Review, Sprint, WorkItem
from syncd.store import schema
from syncd.store._parallel import PARALLEL_FROM
from syncd.store._parallel import start as side_read
from syncd.store._transitions import TransitionColumns
from syncd.store._transitions_read import TransitionsQuery, read_columns
from syncd.store._transitions_read import stored_utc as _utc

_FETCH = 5000
# The items' columns read as one JSON text per row (`_models`): categories whose combinations repeat
_ITEM_GROUP = ("source", "source_type", "project", "kind", "status", "status_category", "resolution", "priority",
               "priority_id", "labels", "components", "flagged", "removed", "properties")


@dataclass
class StoreSnapshot:
    """Every live record of the store as of one moment; transitions sorted by item, then time."""

    items: list[WorkItem]
    pulls: list[PullRequest]
    sprints: list[Sprint]
    releases: list[Release]
    links: list[Link]
    history: TransitionColumns  # transitions by item, then time
    people: list[Person]
    item_by_id: dict[str, WorkItem] | None = None  # the live items by id, when read so


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _json(value: Any) -> Any:
    return from_json(value) if isinstance(value, str | bytes) else value


def _raw(conn: Connection, query: Select[Any]) -> Iterator[Sequence[Any]]:
    """Rows of a query through the driver's cursor (server-side on PostgreSQL), no result processing."""
    for rows in _raw_chunks(conn, query):
        yield from rows


def _raw_chunks(conn: Connection, query: Select[Any], size: int = _FETCH) -> Iterator[Sequence[Sequence[Any]]]:
    """`_raw`'s rows, a list of up to `size` at a time."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor(name="syncd_snapshot") if conn.dialect.name == "postgresql" else dbapi.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()


_Column = Callable[[Sequence[Any]], Sequence[Any]]  # one column of a chunk of rows -> the model's values


def _trusted(model: Any, names: list[str], each: list[str]) -> tuple[
        Callable[[Iterable[dict[str, Any]], Iterable[Sequence[Any]]], list[Any]], dict[str, Any], dict[int, type[Enum]]]:
    """A constructor of `model`s from a starting `__dict__` per row (`blank`, or a copy of it holding some of
    the row's values) and the row's other values in `each` order, without validation; `blank`; and which of
    the columns `names` hold an enum (index -> enum class).

    Does what `model_construct` does (set `__dict__`, the fields set, no extra, no private state)
    for a fixed column list, several times faster; stored rows were validated when written.
    Absent fields take their defaults (one value shared by every row: records are never changed
    in place).

    Every row shares one "fields set" naming every field of the model: a set of 30 names per row
    was a third of a 100,000-item snapshot's memory (232 MiB). Pydantic only ever adds to it (on
    assignment, a name already in it) and nothing here reads it (`exclude_unset` is never used).
    """
    fields = model.model_fields
    enums = {i: ann for i, n in enumerate(names)
             if isinstance(ann := fields[n].annotation, type) and issubclass(ann, Enum)}
    # each row's __dict__ starts as a copy of this: sized for every field at once (no growing), and the
    # absent fields' defaults already in it
    blank = dict.fromkeys(names) | {n: f.get_default(call_default_factory=True)
                                    for n, f in fields.items() if n not in names}
    fields_set = set(fields)
    new = model.__new__
    set_dict = object.__setattr__
    # the other three slots through their own descriptors: a third cheaper than object.__setattr__ by name
    set_fields, set_extra, set_private = (BaseModel.__dict__[n].__set__ for n in
                                          ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))

    def build(starts: Iterable[dict[str, Any]], rows: Iterable[Sequence[Any]]) -> list[Any]:
        # each step over every row in C (`map`), no bytecode per row: a fifth quicker than one loop doing all
        data = list(map(dict.copy, starts))
        deque(map(dict.update, data, map(zip, repeat(each), rows)), maxlen=0)
        out = list(map(new, repeat(model, len(data))))
        deque(map(set_dict, out, repeat("__dict__"), data), maxlen=0)
        deque(map(set_fields, out, repeat(fields_set)), maxlen=0)
        deque(map(set_extra, out, repeat(None)), maxlen=0)
        deque(map(set_private, out, repeat(None)), maxlen=0)
        return out

    return build, blank, enums


def _memo(convert: Callable[[Any], Any]) -> _Column:
    """A column converter that converts each distinct stored value once and shares the result.

    Values that cannot be dict keys (PostgreSQL's driver parses JSON itself) are converted one by one.
    """
    seen: dict[Any, Any] = {}

    def column(values: Sequence[Any]) -> Sequence[Any]:
        try:
            for v in set(values) - seen.keys():
                seen[v] = convert(v)
        except TypeError:  # unhashable: already parsed by the driver
            return [convert(v) for v in values]
        return list(map(seen.__getitem__, values))

    return column


def _shared(seen: dict[Any, Any]) -> _Column:
    """A column converter giving one copy of each value (the first seen, or what `seen` holds for it)."""
    return lambda values: list(map(seen.setdefault, values, values))


def _bools(values: Sequence[Any]) -> Sequence[Any]:
    return list(map(bool, values))


fromiso = datetime.fromisoformat


def _timestamps(values: Sequence[Any], before: Sequence[Any] = (), same: Sequence[Any] = ()) -> list[datetime | None]:
    """A timestamp column; where it was stored as the row's previous one (`before`, converted: `same`), that very
    object (an item resolved by its last update: one datetime, not two)."""
    if not before:
        return [fromiso(v + "+00:00") if type(v) is str else _utc(v) for v in values]
    return [then if v == was else (fromiso(v + "+00:00") if type(v) is str else _utc(v))
            for v, was, then in zip(values, before, same, strict=True)]


# String columns whose every value is its own (ids and keys): not worth a shared copy
_UNIQUE = frozenset({"id", "key", "remote_id", "item_id"})


class _JsonArray(FunctionElement[str]):
    """The values of some columns as the text of one JSON array (text stays text, JSON columns their text)."""

    name = "json_array_text"
    inherit_cache = True


@compiles(_JsonArray)
def _json_array_sqlite(element: _JsonArray, compiler: Any, **kw: Any) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"  # a JSON column's text goes in quoted


@compiles(_JsonArray, "postgresql")
def _json_array_postgresql(element: _JsonArray, compiler: Any, **kw: Any) -> str:
    args = ", ".join(compiler.process(cast(c, Text) if isinstance(c.type, JSON) else c, **kw)
                     for c in element.clauses)
    return f"CAST(json_build_array({args}) AS TEXT)"


def _converters(cols: list[Column[Any]], enums: dict[int, type[Enum]]) -> dict[str, _Column]:
    """Each column's converter (by name), for those whose stored values are not the model's as they are.

    Each distinct date or JSON text parsed once and shared (labels, components, sprint and release ids), one
    copy of each repeated string (names, statuses, projects, people, epics: not free text, not ids) and float
    (story points), booleans from SQLite's 0/1, enum columns as their members. Sharing is safe because records
    are never changed in place (`model_copy` is shallow too).
    """
    shared: dict[Any, Any] = {}
    convert: dict[str, _Column] = {}
    for i, c in enumerate(cols):
        if i in enums:
            convert[c.name] = _shared({m.value: m for m in enums[i]})  # an unknown value stays the stored text
        elif isinstance(c.type, Date):
            convert[c.name] = _memo(_day)
        elif isinstance(c.type, JSON):
            convert[c.name] = _memo(_json)
        elif isinstance(c.type, Boolean):
            convert[c.name] = _bools
        elif type(c.type) is String and not c.primary_key and c.name not in _UNIQUE or isinstance(c.type, Float):
            convert[c.name] = _shared(shared)
    return convert


def _starts(convert: list[_Column | None], names: list[str], blank: dict[str, Any]) -> Callable[
        [Sequence[str]], list[dict[str, Any]]]:
    """From a chunk's `_JsonArray` texts of the columns `names` (converters `convert`), each row's starting
    `__dict__`: `blank` with those columns' values, one per distinct text, converted and built once."""
    seen: dict[str, dict[str, Any]] = {}

    def starts(texts: Sequence[str]) -> list[dict[str, Any]]:
        if new := list(set(texts) - seen.keys()):
            stored = list(zip(*map(from_json, new), strict=True))
            done = [f(column) if f else column for f, column in zip(convert, stored, strict=True)]
            for text, values in zip(new, zip(*done, strict=True), strict=True):
                seen[text] = blank | dict(zip(names, values, strict=True))
        return list(map(seen.__getitem__, texts))

    return starts


def _models(conn: Connection, table: Table, model: Any, skip: tuple[str, ...], where: Any = None,
            grouped: tuple[str, ...] = (), parse: dict[str, Callable[[Any], Any]] | None = None) -> list[Any]:
    """Every row of `table` (those matching `where`) as a `model`, in primary-key order.

    Converted a chunk of rows at a time, column by column, mostly in C (`map`, comprehensions; see
    `_converters`). The `grouped` columns, whose values repeat together from row to row (project, kind,
    status, labels...), are read as one JSON array text per row: each distinct text is parsed and converted
    once, and its rows start from one `__dict__` holding those values (issue 18 item 4: 14 columns of the
    100,000 items in ~800 combinations; fewer values for the driver to make and for Python to convert).
    Not floats: SQLite writes a REAL into JSON with 15 significant digits. `parse` names columns read through
    another converter of each distinct stored value (nested models).
    """
    cols = [c for c in table.columns if c.name not in skip]
    if conn.dialect.name != "postgresql" and not _json_arrays(conn):
        grouped = ()  # no JSON functions to group with: every column on its own
    each = [c for c in cols if c.name not in grouped]
    group = [c for c in cols if c.name in grouped]
    assert len(group) == len(grouped) and not any(isinstance(c.type, Float) for c in group), grouped
    # plain str keys: SQLAlchemy's names are a str subclass, which turns every row's __dict__ into a
    # general dict (24-byte entries, slower lookups): 1,168 instead of 832 bytes a work item
    build, blank, enums = _trusted(model, [str(c.name) for c in cols], [str(c.name) for c in each])
    by_name = _converters(cols, enums) | {name: _memo(f) for name, f in (parse or {}).items()}
    convert = {i: by_name[c.name] for i, c in enumerate(each) if c.name in by_name}
    starts = _starts([by_name.get(c.name) for c in group], [str(c.name) for c in group], blank) if group else None
    timestamps = [i for i, c in enumerate(each) if isinstance(c.type, schema.UtcDateTime)]
    q = select(*each, *([_JsonArray(*group)] if group else [])).order_by(*table.primary_key.columns)
    if where is not None:
        q = q.where(where)
    out: list[Any] = []
    for rows in _raw_chunks(conn, q):
        stored: list[Sequence[Any]] = list(zip(*rows, strict=True))
        done = list(stored[:len(each)])
        for i, f in convert.items():
            done[i] = f(stored[i])
        previous = None
        for i in timestamps:
            done[i] = _timestamps(stored[i]) if previous is None else \
                _timestamps(stored[i], stored[previous], done[previous])
            previous = i
        out += build(starts(stored[-1]) if starts else repeat(blank, len(rows)), zip(*done, strict=True))
    return out


# Rows of the transitions table per span of rowids in SQLite's JSON-array read: 20,000 keeps each span's
# JSON text and lists small (a few MiB) while the queries stay few (about 50 for a million rows)
_ROWID_SPAN = 20_000


def transitions_query(conn: Connection, fields: Iterable[str] | None) -> TransitionsQuery:
    """The compiled SQL of the read of the transitions (of `fields` only, if given) on `conn`'s database.

    On SQLite with JSON functions, each column of a span of rowids as one `json_group_array` (see
    `_transitions_read._column_spans`); else every row, in physical order (sorted in numpy afterwards:
    cheaper than ORDER BY over the table).
    """
    t = schema.transitions
    columns = (t.c.item_id, t.c.field, t.c.from_value, t.c.to_value, t.c.from_string, t.c.to_string, t.c.at)
    where = t.c.field.in_(sorted(set(fields))) if fields is not None else None
    if not _json_arrays(conn):
        q = select(*columns)
        if where is not None:
            q = q.where(where)
        sql = str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        return TransitionsQuery(sql, server_side=conn.dialect.name == "postgresql")
    rowid = literal_column("rowid", Integer)
    bounds = select(func.min(rowid), func.max(rowid)).select_from(t)
    q = select(*(func.json_group_array(c) for c in columns)).where(
        rowid >= bindparam("lo", 0, type_=Integer), rowid < bindparam("hi", 0, type_=Integer))
    if where is not None:
        q = q.where(where)
    # named parameters, the fields' expanded: the child fills in :lo and :hi by name, as this process does
    span = q.compile(dialect=_NAMED_SQLITE, compile_kwargs={"render_postcompile": True})
    return TransitionsQuery(span.string, str(bounds.compile(dialect=conn.dialect)), span.params, _ROWID_SPAN)


_NAMED_SQLITE = sqlite.dialect(paramstyle="named")


def _json_arrays(conn: Connection) -> bool:
    """True on SQLite with its JSON functions built in (3.38 and later; `json_group_array` before that
    only where the JSON1 extension was compiled in)."""
    return conn.dialect.name == "sqlite" and (conn.dialect.server_version_info or (0,)) >= (3, 38)


_REVIEWS = TypeAdapter(list[Review])


def _reviews(value: Any) -> list[Review]:
    """A pull's stored reviews as `Review`s, the list validated in one call."""
    return _REVIEWS.validate_python(_json(value) or [])


def _pulls(conn: Connection) -> list[PullRequest]:
    return _models(conn, schema.pulls, PullRequest, ("content_hash", "raw"), parse={"reviews": _reviews})


def read_snapshot(engine: Engine, transition_fields: Iterable[str] | None = None,
                  live_at: datetime | None = None, *, parallel_from: int = PARALLEL_FROM) -> StoreSnapshot:
    """Read every live record in one transaction (removed items and their children left out).

    `transition_fields` limits transitions to those fields (e.g. status, sprint, estimate). With
    `live_at`, items removed after that moment are read too (they were live then), still marked
    `removed`: a report replaying that moment needs them. A store holding at least `parallel_from`
    transitions has them read by a child process on the same snapshot while this one reads the rest
    (syncd/store/_parallel.py; a negative value: never).
    """
    # Building a million small objects would trigger full collections that walk them all again.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(engine, transition_fields, live_at, parallel_from)
    finally:
        if was_enabled:
            gc.enable()


def _removed_after(conn: Connection, at: datetime) -> list[str]:
    """Ids of the items removed after `at` (bound parameters: the timestamp type converts `at`)."""
    t = schema.items
    return list(conn.execute(select(t.c.id).where(t.c.removed.is_(True), t.c.removed_at > at)).scalars())


def _read(engine: Engine, transition_fields: Iterable[str] | None, live_at: datetime | None,
          parallel_from: int) -> StoreSnapshot:
    with engine.connect() as conn:
        postgresql = engine.dialect.name == "postgresql"
        if postgresql:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        query = transitions_query(conn, transition_fields)
        # a child reading the transitions beside this process begins this read too, on the same snapshot
        if (side := side_read(engine, conn, query, parallel_from)) is None:
            # begin the snapshot before the first real read (pysqlite does not begin a transaction for reads)
            conn.exec_driver_sql("SELECT 1" if postgresql else "BEGIN")
        try:
            live_filter: ColumnElement[bool] = schema.items.c.removed.is_(False)
            if live_at is not None and (late := _removed_after(conn, live_at)):
                live_filter = live_filter | schema.items.c.id.in_(late)
            items = _models(conn, schema.items, WorkItem, ("content_hash", "raw", "removed_at"), live_filter,
                            _ITEM_GROUP)
            live = {i.id: i for i in items}  # what is live, and the index analysis wants anyway
            pulls = [p for p in _pulls(conn) if p.item_id in live]
            sprints = _models(conn, schema.sprints, Sprint, ("content_hash", "raw"))
            releases = _models(conn, schema.releases, Release, ("content_hash", "raw"))
            links = [lk for lk in _models(conn, schema.links, Link, ()) if lk.from_id in live]
            people = _models(conn, schema.people, Person, ())
            # the child's read overlapped all of the above; without it (or when it failed), read here
            history = side.columns(live) if side is not None else None
            if history is None:
                history = read_columns(conn.connection.dbapi_connection, query, live)
            snap = StoreSnapshot(items=items, pulls=pulls, sprints=sprints, releases=releases, links=links,
                                 history=history, people=people, item_by_id=live)
        finally:
            if side is not None:
                side.close()
            conn.rollback()
    return snap
