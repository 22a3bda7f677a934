"""Report history: what each generated report concluded, so the next one can say what changed since.

Rows of `report_history` (migration 0002) are keyed by kind, audience and scope ("" for none) and
ordered by `as_of`, the report's "now": a report reproduced for a past date compares with the
report before that date, not with the newest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreError
from syncd.store import Store, schema


@dataclass(frozen=True)
class HistoryEntry:
    """One stored report conclusion."""

    id: int
    kind: str
    audience: str
    scope: str
    generated_at: datetime
    as_of: datetime
    summary: dict[str, Any]
    risk_ids: list[str]


def record_report(
    store: Store,
    *,
    kind: str,
    audience: str | None,
    scope: str | None,
    generated_at: datetime,
    as_of: datetime,
    summary: dict[str, Any],
    risk_ids: list[str],
) -> int:
    """Store what a report concluded; return the new row's id."""
    row = {
        "kind": kind, "audience": audience or "", "scope": scope or "", "generated_at": generated_at,
        "as_of": as_of, "summary": summary, "risk_ids": list(risk_ids),
    }
    try:
        with store.engine.begin() as conn:
            res = conn.execute(insert(schema.report_history).values(**row))
            return int(res.inserted_primary_key[0])  # type: ignore[index]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record report history: {exc.__class__.__name__}") from None


def previous_report(
    store: Store, *, kind: str, audience: str | None, scope: str | None, before: datetime
) -> HistoryEntry | None:
    """The latest stored report of this kind, audience and scope whose `as_of` is before `before`."""
    t = schema.report_history
    q = (
        select(t)
        .where(t.c.kind == kind, t.c.audience == (audience or ""), t.c.scope == (scope or ""), t.c.as_of < before)
        .order_by(t.c.as_of.desc(), t.c.id.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        row = conn.execute(q).first()
    return None if row is None else _entry(row._mapping)


def report_history(store: Store, *, kind: str | None = None, limit: int = 100) -> list[HistoryEntry]:
    """The most recent history rows (newest `as_of` first), optionally of one kind."""
    t = schema.report_history
    q = select(t).order_by(t.c.as_of.desc(), t.c.id.desc()).limit(limit)
    if kind is not None:
        q = q.where(t.c.kind == kind)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [_entry(r._mapping) for r in rows]


def _entry(m: Any) -> HistoryEntry:
    return HistoryEntry(
        id=m["id"], kind=m["kind"], audience=m["audience"], scope=m["scope"], generated_at=m["generated_at"],
        as_of=m["as_of"], summary=dict(m["summary"] or {}), risk_ids=list(m["risk_ids"] or []),
    )
