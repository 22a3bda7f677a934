"""The transitions read into `TransitionColumns` over a bare DB-API connection, by SQL the snapshot compiled.

Both reads of the transitions run `read_columns`: the in-process one (syncd/store/_snapshot.py, on its
SQLAlchemy connection's driver connection) and the child process beside the items read
(syncd/store/_parallel_child.py). The child imports only this module, numpy, orjson and its driver, not
SQLAlchemy, pydantic and the model: at 100k its CPU 1.69 -> 1.17 s, its peak 130 -> 97 MiB, and the time
SQLite writers wait for its read to begin 2.4 -> 0.5 s (medians of 3 interleaved, load 5-6), and
0.65 -> 0.19 s (load 7-9) once it began before importing numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

from syncd.store._transitions import ColumnsBuilder, TransitionColumns, micros


class TransitionsQuery(NamedTuple):
    """The compiled SQL of a transitions read: its columns are item id, field, from/to value, from/to string, at."""

    sql: str  # the rows' query, its values literal; with `bounds`, one span's (its rowids from :lo to before :hi)
    bounds: str | None = None  # SQLite's JSON-array read: the first and last rowid, read a span at a time
    params: dict[str, Any] | None = None  # a span's parameters but for :lo and :hi
    span: int = 0  # rowids per span
    server_side: bool = False  # a named (server-side) cursor: PostgreSQL's driver
    fetch: int = 1000  # rows per fetch of the rows' query: small fetches stay in the CPU cache


def read_columns(dbapi: Any, query: TransitionsQuery, live: Iterable[str] | None) -> TransitionColumns:
    """The transitions `query` reads on the DB-API connection `dbapi` (in its open transaction), as columns;
    with `live`, only those items' (see `ColumnsBuilder`)."""
    build = ColumnsBuilder(live)
    if query.bounds is not None:
        for item_id, *change, at in _column_spans(dbapi, query):
            build.add_columns(item_id, zip(*change, strict=True), stored_micros(at))
        return build.columns()
    # Physical order, then sorted by item and time in numpy: cheaper than ORDER BY over the table.
    cursor = dbapi.cursor(name="syncd_snapshot") if query.server_side else dbapi.cursor()
    try:
        cursor.execute(query.sql)
        while chunk := cursor.fetchmany(query.fetch):
            build.add(chunk, stored_micros(list(map(itemgetter(6), chunk))))
    finally:
        cursor.close()
    return build.columns()


def _column_spans(dbapi: Any, query: TransitionsQuery) -> Iterator[list[list[Any]]]:
    """The query's columns, in physical (rowid) order, as one list per column for each span of rowids.

    SQLite hands each column of a span over as one JSON array (`json_group_array`: NULLs kept, any text
    escaped), parsed by orjson, instead of a tuple per row and an object per value crossing the driver:
    on 630,126 rows of a 100,000-item store, 0.60 -> 0.30 CPU s. The aggregate reads a span's rows in
    scan order, so every column lists them in the same order, the order a plain SELECT gives.
    """
    assert query.bounds is not None
    cursor = dbapi.cursor()
    try:
        first, last = cursor.execute(query.bounds).fetchone()
        if first is None:
            return
        for lo in range(first, last + 1, query.span):
            arrays = cursor.execute(query.sql, {**(query.params or {}), "lo": lo, "hi": lo + query.span}).fetchone()
            yield [orjson.loads(a) for a in arrays]
    finally:
        cursor.close()


def stored_utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite keeps naive UTC as ISO text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if not value.utcoffset() else value.astimezone(UTC)


def stored_micros(at: list[Any]) -> npt.NDArray[np.int64]:
    """Microseconds since the epoch of stored times: SQLite's naive UTC ISO text parsed by numpy, else each."""
    if all(type(a) is str for a in at):
        try:
            return np.array(at, dtype="datetime64[us]").astype(np.int64)
        except ValueError:  # not plain ISO text: each on its own
            pass
    return np.array([micros(stored_utc(a)) for a in at], dtype=np.int64)  # type: ignore[arg-type]  # never None
