"""Bulk writes: SQLAlchemy Core statements compiled once, rows sent to the driver's `executemany` as prepared tuples.

Issue 18 measured SQLAlchemy's row-by-row parameter processing (`construct_params`, then a processor call per
value of every row) at most of the store's share of a first sync. Here each statement (an upsert of one table:
`INSERT ... ON CONFLICT DO UPDATE`, which SQLite and PostgreSQL both have; or a plain insert) is built with
Core and compiled once per dialect by Core's own compiler, so the SQL is the one `conn.execute(stmt, rows)`
would send. Each bound column's processor is looked up once: the conversions Core applies (`UtcDateTime` to
naive-UTC text on SQLite, booleans, dates, JSON through the engine's serializer, raw payloads as they were
encoded). A batch's rows then become parameter tuples (SQLite's qmark style) or dicts (psycopg's pyformat)
in one loop and go to the DBAPI cursor's `executemany` (PEP 249) through `Connection.exec_driver_sql`, in
the batch's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect, Table, bindparam, delete, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: tuple[str, ...]  # the row key each parameter comes from, in the statement's order
    names: tuple[str, ...] | None  # parameter names (pyformat), None for positional (qmark)
    processors: tuple[Callable[[Any], Any] | None, ...]
    parameters: Callable[[Mapping[str, Any]], Any]  # one row's parameters: a tuple (qmark) or a dict (pyformat)


def _parameters_of(columns: Sequence[str], names: Sequence[str] | None,
                   processors: Sequence[Callable[[Any], Any] | None]) -> Callable[[Mapping[str, Any]], Any]:
    """One function building a row's parameters: `lambda row: (row['id'], p1(row['created']), ...)`.

    Generated once per statement, as `collections.namedtuple` and `dataclasses` generate their methods: a
    first sync binds about 650,000 values, and a loop over (column, processor) pairs per value cost as much
    Python as the driver's own `executemany` (issue 18 item 3). Column keys come from the table definition and
    are quoted with `repr`.
    """
    env: dict[str, Any] = {}
    values = []
    for n, (column, processor) in enumerate(zip(columns, processors, strict=True)):
        value = f"row[{column!r}]"
        if processor is not None:
            env[f"p{n}"] = processor
            value = f"p{n}({value})"
        values.append(value)
    if names is None:
        body = "(" + "".join(f"{v}, " for v in values) + ")"
    else:
        body = "{" + ", ".join(f"{name!r}: {v}" for name, v in zip(names, values, strict=True)) + "}"
    return eval(f"lambda row: {body}", env)  # noqa: S307 - source built above from the table's column keys


def dialect_insert(dialect_name: str, table: Table) -> Any:
    """The dialect's own INSERT of `table`, which takes `on_conflict_do_update` / `on_conflict_do_nothing`.

    PostgreSQL's module only for a PostgreSQL store: importing it loads every PostgreSQL driver's dialect
    (see `schema._jsonb`).
    """
    if dialect_name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    return sqlite.insert(table)


class BulkWriter:
    """Upserts and inserts of whole batches of rows, one compiled statement per (table, kind)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._plans: dict[tuple[str, str, str | None], _Plan] = {}

    def _compile(self, stmt: Any) -> _Plan:
        compiled: SQLCompiler = stmt.compile(dialect=self.dialect)  # type: ignore[assignment]
        binds = compiled.binds
        if compiled.positiontup is not None:  # qmark: parameters in the order they appear
            order = list(compiled.positiontup)
            names: tuple[str, ...] | None = None
        else:
            order = list(binds)
            names = tuple(compiled.bind_names[binds[n]] for n in order)
        columns = tuple(binds[n].key for n in order)
        # the processor Core itself would apply to each parameter (TypeDecorator chains included)
        processors = tuple(binds[n].type._cached_bind_processor(self.dialect) for n in order)
        return _Plan(compiled.string, columns, names, processors, _parameters_of(columns, names, processors))

    def _plan(self, table: Table, kind: str, key: str | None) -> _Plan:
        wanted = (table.name, kind, key)
        plan = self._plans.get(wanted)
        if plan is None:
            plan = self._compile(self._statement(table, kind, key))
            self._plans[wanted] = plan
        return plan

    def _statement(self, table: Table, kind: str, key: str | None) -> Any:
        if kind == "insert":
            return insert(table)
        stmt: Any = dialect_insert(self.dialect.name, table)
        cols = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
        where = None
        if kind == "upsert-changed":  # leave a row alone when its content is the same (no write, no WAL page)
            where = table.c.content_hash != stmt.excluded.content_hash
        return stmt.on_conflict_do_update(index_elements=[key], set_=cols, where=where)

    def select_in(self, conn: Connection, table: Table, columns: Sequence[str], key: str,
                  values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """`SELECT columns FROM table WHERE key IN (values)`: at most a few hundred values."""
        return [tuple(row) for row in self._keyed(conn, table, "select", key, values, columns)]

    def delete_in(self, conn: Connection, table: Table, key: str, values: Sequence[Any]) -> None:
        """`DELETE FROM table WHERE key IN (values)`: at most a few hundred values."""
        self._keyed(conn, table, "delete", key, values)

    def _keyed(self, conn: Connection, table: Table, kind: str, key: str, values: Sequence[Any],
               columns: Sequence[str] = ()) -> CursorResult[Any]:
        # One statement per number of values, `key IN (?, ?, ...)`, compiled once like the upserts: Core's
        # expanding IN is built, re-rendered and has each value named at every execution (3 such statements a
        # batch): the store side of a replayed 10k first sync -191M instructions, -3.6% (callgrind, issue 18).
        wanted = (table.name, f"{kind}-in-{len(values)}:{','.join(columns)}", key)
        plan = self._plans.get(wanted)
        if plan is None:
            names: list[BindParameter[Any]] = [bindparam(f"v{n}") for n in range(len(values))]
            where = table.c[key].in_(names)
            stmt = select(*(table.c[c] for c in columns)).where(where) if kind == "select" else delete(table).where(where)
            plan = self._compile(stmt)
            self._plans[wanted] = plan
        return conn.exec_driver_sql(plan.sql, plan.parameters({f"v{n}": v for n, v in enumerate(values)}))

    def write(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str | None = None,
              changed_only: bool = False) -> None:
        """Insert `rows` (every column of `table` a key of each; other keys are ignored), or upsert them on
        `key` when given."""
        if not rows:
            return
        kind = "insert" if key is None else ("upsert-changed" if changed_only else "upsert")
        plan = self._plan(table, kind, key)
        try:
            params = list(map(plan.parameters, rows))
        except KeyError as exc:
            raise ValueError(f"{table.name} row lacks {exc.args[0]}") from None
        conn.exec_driver_sql(plan.sql, params)
