"""The store: idempotent batch upserts with the cursor in the same transaction, and read helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    create_engine,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from syncd.errors import StoreError, StoreUnavailable
from syncd.model import (
    Batch,
    Link,
    Person,
    PullRequest,
    RawRecord,
    Release,
    Sprint,
    Transition,
    WorkItem,
)
from syncd.store import schema
from syncd.store._bulk import BulkWriter

if TYPE_CHECKING:
    from syncd.store._snapshot import StoreSnapshot

M = TypeVar("M", bound=BaseModel)

_CHUNK = 500  # ids per IN (...) clause; well under SQLite's and PostgreSQL's parameter limits


@dataclass
class BatchResult:
    """What one applied batch changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def add(self, other: BatchResult) -> None:
        """Accumulate another batch's counts into this one."""
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.removed += other.removed


def content_hash(record: BaseModel) -> str:
    """Hash of a record's normalized content (raw payload excluded): equal content, equal hash.

    Hashes the UTF-8 bytes pydantic's serializer writes, which `model_dump_json()` decodes into a `str` (that was
    then encoded back to the same bytes): one copy and one UTF-8 check less per record, the same hash.
    """
    return hashlib.sha256(record.__pydantic_serializer__.to_json(record)).hexdigest()


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # synchronous=NORMAL in WAL: no fsync per commit, and still "durable across application crashes regardless
    # of the synchronous setting or journal mode"; only a power loss or an OS crash "might roll back" the last
    # commits (sqlite.org/pragma.html#pragma_synchronous). A killed sync keeps every committed batch and cursor.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL, creating the SQLite file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # orjson for every JSON column: SQLAlchemy's default json.dumps/loads were 12% of a first sync (issue 18)
        engine = create_engine(url, future=True, pool_pre_ping=True, json_serializer=schema.json_text,
                               json_deserializer=orjson.loads)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open database {redact_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        _adapt_model_enums()
    return engine


def _adapt_model_enums() -> None:
    """Bind the model's `StrEnum` members as their text, and `None` and `bytes` as they are, without sqlite3's
    slow path.

    sqlite3 binds an exact `int`, `float` or `str` directly but looks every other value (`None` and `bytes`
    included) up in its adapter registry and then for `__adapt__`/`__conform__` attributes: 2,500-3,400
    instructions a value, for 67,000 enum members, 103,000 NULLs and every raw payload of a 10k first sync
    (issue 18 item 3; CPython's `Modules/_sqlite/cursor.c`, `need_adapt`). A registered adapter is found on
    the first look-up and binds what sqlite3 bound before: an enum member's value (a `str` subclass is bound
    as its text), NULL, the bytes. `sqlite3.register_adapter` is process-wide; the enums are ours, and `None`
    and `bytes` adapt to themselves, so no one else's binding changes.
    """
    import sqlite3
    from enum import StrEnum

    from syncd import model

    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
            sqlite3.register_adapter(value, str)
    sqlite3.register_adapter(type(None), _null)
    sqlite3.register_adapter(bytes, bytes)


def _null(_value: None) -> None:
    return None


def redact_url(url: str) -> str:
    """A database URL with its password masked, for messages and logs.

    Everything up to the last `@` is the user part: a password holding an unescaped `@` (which
    SQLAlchemy would split at its first `@`) is masked whole, and a URL that cannot be parsed loses
    its whole user part.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    userinfo, host = rest.rsplit("@", 1)
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}{sep}{user}{':***' if colon else ''}@{host}"


class Store:
    """SQLite or PostgreSQL storage of the normalized model."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._writer = BulkWriter(self.engine.dialect)  # upserts compiled once, rows as tuples (issue 18)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    # -- schema -------------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Apply every pending Alembic migration."""
        from syncd.store.migrate import upgrade

        upgrade(self.engine)

    # -- writing ------------------------------------------------------------------------------

    def _upsert(self, conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
        # a row whose content hash is unchanged is left alone (no write, no WAL page)
        self._writer.write(conn, table, rows, key=key, changed_only="content_hash" in table.c)

    def _existing_hashes(self, conn: Connection, table: Table, key: str, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            for row in self._writer.select_in(conn, table, (key, "content_hash"), key, chunk):
                found[row[0]] = row[1]
        return found

    def apply_batch(self, source: str, batch: Batch) -> BatchResult:
        """Store a batch and (when it has one) its cursor atomically; return what changed.

        Idempotent: applying the same batch twice changes nothing the second time.
        """
        result = BatchResult()
        try:
            with self.engine.begin() as conn:
                self._apply(conn, source, batch, result)
        except SQLAlchemyError as exc:
            if self._connection_lost(exc):
                raise StoreUnavailable(f"source {source}: lost the connection to the database "
                                       f"({redact_url(self.url)}): {_one_line(exc)}") from None
            raise StoreError(f"cannot store batch of source {source}: {exc.__class__.__name__}: {_one_line(exc)}") from None
        except ValueError as exc:  # a value the driver or the hash cannot encode (the sync sanitises these first)
            raise StoreError(f"cannot store batch of source {source}: {exc.__class__.__name__}: {_one_line(exc)}") from None
        return result

    def _connection_lost(self, exc: SQLAlchemyError) -> bool:
        """True when `exc` says the database connection is gone rather than that a value was refused."""
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        return self.dialect == "postgresql" and isinstance(exc, OperationalError | InterfaceError)

    def _apply(self, conn: Connection, source: str, batch: Batch, result: BatchResult) -> None:
        # Items: count new/updated/unchanged against stored hashes, then upsert changed ones.
        item_rows = []
        for item in _dedupe(batch.items, lambda i: i.id):
            row = _row(item)
            row["content_hash"] = content_hash(item)
            row["raw"] = _raw_text(item)
            row["removed_at"] = datetime.now(UTC) if item.removed else None
            item_rows.append(row)
        existing = self._existing_hashes(conn, schema.items, "id", [r["id"] for r in item_rows])
        changed = []
        for row in item_rows:
            old = existing.get(row["id"])
            if old is None:
                result.new += 1
                changed.append(row)
            elif old != row["content_hash"]:
                result.updated += 1
                changed.append(row)
            else:
                result.unchanged += 1
        self._upsert(conn, schema.items, "id", changed)

        self._upsert(conn, schema.pulls, "item_id", [_with_hash(p) for p in _dedupe(batch.pulls, lambda p: p.item_id)])
        self._upsert(conn, schema.sprints, "id", [_with_hash(s) for s in _dedupe(batch.sprints, lambda s: s.id)])
        self._upsert(conn, schema.releases, "id", [_with_hash(r) for r in _dedupe(batch.releases, lambda r: r.id)])
        people_rows = [vars(p) for p in _dedupe(batch.people, lambda p: p.id)]
        if people_rows:
            self._upsert_plain(conn, schema.people, "id", people_rows)

        # Children are replaced whole for every item that owns some in this batch.
        owners = {i.id for i in batch.items}
        link_owners = sorted(owners | {lk.from_id for lk in batch.links})
        for chunk in _chunks(link_owners):
            self._writer.delete_in(conn, schema.links, "from_id", chunk)
        link_rows = [vars(lk) for lk in _dedupe(batch.links, lambda lk: (lk.from_id, lk.kind, lk.to_key))]
        self._writer.write(conn, schema.links, link_rows)
        tr_owners = sorted(owners | {t.item_id for t in batch.transitions})
        for chunk in _chunks(tr_owners):
            self._writer.delete_in(conn, schema.transitions, "item_id", chunk)
        tr_rows = [vars(t) for t in _dedupe(batch.transitions, lambda t: (t.item_id, t.change_id, t.field, t.seq))]
        self._writer.write(conn, schema.transitions, tr_rows)

        if batch.removed_ids:
            now = datetime.now(UTC)
            for chunk in _chunks(sorted(set(batch.removed_ids))):
                res = conn.execute(
                    update(schema.items)
                    .where(schema.items.c.id.in_(chunk), schema.items.c.removed.is_(False))
                    .values(removed=True, removed_at=now, content_hash="removed")
                )
                result.removed += res.rowcount or 0

        if batch.cursor is not None:
            self._upsert_plain(conn, schema.cursors, "source", [
                {"source": source, "value": batch.cursor, "updated_at": datetime.now(UTC)}
            ])

    def _upsert_plain(self, conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
        self._writer.write(conn, table, rows, key=key)

    def set_cursor(self, source: str, value: dict[str, Any]) -> None:
        """Replace a source's cursor on its own (the `Batch.cursor` path is the usual one)."""
        self.apply_batch(source, Batch(cursor=value))

    def reset_cursor(self, source: str) -> None:
        """Forget a source's cursor so its next sync is a full one."""
        with self.engine.begin() as conn:
            conn.execute(delete(schema.cursors).where(schema.cursors.c.source == source))

    # -- sync runs ----------------------------------------------------------------------------

    def start_run(self, source: str, full: bool) -> int:
        """Record the start of a sync of `source`; return the run id."""
        with self.engine.begin() as conn:
            res = conn.execute(insert(schema.sync_runs).values(
                source=source, started_at=datetime.now(UTC), status="running", full=full,
                items_new=0, items_updated=0, items_removed=0, requests=0,
            ))
            return int(res.inserted_primary_key[0])  # type: ignore[index]

    def finish_run(self, run_id: int, *, status: str, result: BatchResult, requests: int, error: str | None = None) -> None:
        """Record the outcome of a sync run (StoreError when the database cannot be reached)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(update(schema.sync_runs).where(schema.sync_runs.c.id == run_id).values(
                    finished_at=datetime.now(UTC), status=status, items_new=result.new,
                    items_updated=result.updated, items_removed=result.removed, requests=requests, error=error,
                ))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record sync run {run_id}: {_one_line(exc)}") from None

    def sync_runs(self, source: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent sync runs, newest first."""
        q = select(schema.sync_runs).order_by(schema.sync_runs.c.id.desc()).limit(limit)
        if source:
            q = q.where(schema.sync_runs.c.source == source)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- reading ------------------------------------------------------------------------------

    def cursor(self, source: str) -> dict[str, Any] | None:
        """The stored cursor of a source, or None before its first sync."""
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.cursors.c.value).where(schema.cursors.c.source == source)).first()
        return dict(row[0]) if row else None

    def _rows(self, table: Table, where: Iterable[Any] = (), order: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        q = select(table)
        for clause in where:
            q = q.where(clause)
        q = q.order_by(*(order if order is not None else table.primary_key.columns))
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(q)
            for row in result:
                yield dict(row._mapping)

    def iter_rows(self, entity: str) -> Iterator[dict[str, Any]]:
        """Stream one entity's rows as plain dicts (no raw payload, no hash), in key order."""
        table = ENTITIES[entity]
        for row in self._rows(table):
            row.pop("raw", None)
            row.pop("content_hash", None)
            yield row

    def items(self, *, source: str | None = None, include_removed: bool = False) -> Iterator[WorkItem]:
        """Work items, optionally of one source; removed ones only when asked."""
        where = []
        if source:
            where.append(schema.items.c.source == source)
        if not include_removed:
            where.append(schema.items.c.removed.is_(False))
        for row in self._rows(schema.items, where):
            yield _construct(WorkItem, row)

    def item_ids(self, source: str, include_removed: bool = False) -> set[str]:
        """Ids of a source's stored items."""
        return set(self.item_keys(source, include_removed))

    def item_keys(self, source: str, include_removed: bool = False) -> dict[str, str]:
        """Id -> key of a source's stored items: the store's side of a deletion census."""
        q = select(schema.items.c.id, schema.items.c.key).where(schema.items.c.source == source)
        if not include_removed:
            q = q.where(schema.items.c.removed.is_(False))
        with self.engine.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(q)}

    def pulls(self) -> Iterator[PullRequest]:
        """Pull-request details."""
        for row in self._rows(schema.pulls):
            yield _construct(PullRequest, row)

    def sprints(self) -> Iterator[Sprint]:
        """Sprints of every board."""
        for row in self._rows(schema.sprints):
            yield _construct(Sprint, row)

    def releases(self) -> Iterator[Release]:
        """Fix versions, milestones and releases."""
        for row in self._rows(schema.releases):
            yield _construct(Release, row)

    def links(self) -> Iterator[Link]:
        """Links between items (blocks, relates, duplicates, PR implements)."""
        for row in self._rows(schema.links):
            yield _construct(Link, row)

    def transitions(self) -> Iterator[Transition]:
        """Field changes of every item, ordered by item then time."""
        order = [schema.transitions.c.item_id, schema.transitions.c.at, schema.transitions.c.change_id,
                 schema.transitions.c.field, schema.transitions.c.seq]
        for row in self._rows(schema.transitions, order=order):
            yield _construct(Transition, row)

    def people(self) -> Iterator[Person]:
        """People known from any source."""
        for row in self._rows(schema.people):
            yield _construct(Person, row)

    def snapshot(self, transition_fields: Iterable[str] | None = None, *,
                 live_at: datetime | None = None) -> StoreSnapshot:
        """Every live record in one consistent read; transitions as lean `TransitionRow` tuples.

        `transition_fields` limits transitions to those fields (default: all); with `live_at`, the
        items removed after that moment come too (marked removed), for replaying it.
        """
        from syncd.store._snapshot import read_snapshot

        return read_snapshot(self.engine, transition_fields, live_at)

    def changed_after(self, at: datetime) -> bool:
        """True when the store holds something newer than `at`: an item created, updated, resolved or
        removed, a pull request merged, a sprint started or completed, or a release shipped after it."""
        i, p, s, r = schema.items, schema.pulls, schema.sprints, schema.releases
        probes = [
            select(i.c.id).where(or_(i.c.created > at, i.c.updated > at, i.c.resolved > at, i.c.removed_at > at)),
            select(p.c.item_id).where(p.c.merged_at > at),
            select(s.c.id).where(or_(s.c.start > at, s.c.complete > at,
                                     and_(s.c.state == "closed", s.c.complete.is_(None), s.c.end > at))),
            select(r.c.id).where(r.c.released_at > at),
        ]
        with self.engine.connect() as conn:
            return any(conn.execute(q.limit(1)).first() is not None for q in probes)

    def counts(self) -> dict[str, int]:
        """Row counts per entity (items excluding removed ones)."""
        from sqlalchemy import func

        out = {}
        with self.engine.connect() as conn:
            for name, table in ENTITIES.items():
                q = select(func.count()).select_from(table)
                if name == "items":
                    q = q.where(table.c.removed.is_(False))
                out[name] = int(conn.execute(q).scalar_one())
        return out


ENTITIES: dict[str, Table] = {
    "items": schema.items,
    "pulls": schema.pulls,
    "sprints": schema.sprints,
    "releases": schema.releases,
    "links": schema.links,
    "transitions": schema.transitions,
    "people": schema.people,
}


def _one_line(exc: BaseException) -> str:
    """The driver's own message of a failure (`exc.orig` when SQLAlchemy wraps one), first line, capped."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.splitlines()[0].split())[:300] if text else exc.__class__.__name__


def _row(record: BaseModel) -> dict[str, Any]:
    """A record's fields as the store binds them: its own values (what `model_dump(mode="python")` copies,
    minus the copying: these records hold no nested models), nested reviews as their JSON form."""
    row = dict(vars(record))
    if isinstance(record, PullRequest):  # stored as JSON: timestamps as text, states as values
        row["reviews"] = [r.model_dump(mode="json") for r in record.reviews]
    return row


def _with_hash(record: BaseModel) -> dict[str, Any]:
    row = _row(record)
    row["content_hash"] = content_hash(record)
    row["raw"] = _raw_text(record)
    return row


def _raw_text(record: BaseModel) -> str | bytes | None:
    """A record's raw payload as the `raw` columns bind it (`schema.RawJson`): encoded once, by the sync's
    storability check when it ran (`RawRecord.raw_json`, UTF-8 bytes), else here."""
    raw = getattr(record, "raw", None)
    if raw is None:
        return None
    kept = record.raw_json() if isinstance(record, RawRecord) else None
    return kept if kept is not None else schema.json_text(raw)


def _construct(model: type[M], row: dict[str, Any]) -> M:
    """Build a record from a trusted store row without re-validating (it was validated on write)."""
    row.pop("content_hash", None)
    row.pop("removed_at", None)
    if model is PullRequest:
        from syncd.model import Review

        row["reviews"] = [Review.model_validate(r) for r in row.get("reviews") or []]
    return model.model_construct(**row)


K = TypeVar("K")
T = TypeVar("T")


def _dedupe(records: Iterable[T], key: Any) -> list[T]:
    """Last one wins: a batch naming the same record twice stores its final state once."""
    seen: dict[Any, T] = {}
    for r in records:
        seen[key(r)] = r
    return list(seen.values())
