"""Risk acknowledgements (migration 0004): accepted risk themes, one row per theme id.

`ack_theme` stores (or replaces) an acknowledgement with the theme's state when accepted (its red
signal ids and 85% forecast), which is what "got worse" is measured against; `theme_acks` reads
them all; `clear_theme_ack` removes one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreError
from syncd.model import RiskAck
from syncd.store import Store, schema


def ack_theme(store: Store, ack: RiskAck) -> None:
    """Store the acknowledgement of `ack.theme_id`, replacing an earlier one of the same theme."""
    t = schema.risk_acks
    row = {"theme_id": ack.theme_id, "acked_by": ack.by, "acked_at": ack.at, "until": ack.until, "note": ack.note,
           "source": ack.source, "red_signal_ids": sorted(ack.red_signal_ids or ()), "forecast_p85": ack.forecast_p85}
    try:
        with store.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.theme_id == ack.theme_id))
            conn.execute(t.insert().values(**row))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store the acknowledgement of {ack.theme_id}: {exc.__class__.__name__}") from None


def theme_acks(store: Store) -> list[RiskAck]:
    """Every stored acknowledgement, by theme id."""
    t = schema.risk_acks
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.theme_id)).all()
    return [_ack(r._mapping) for r in rows]


def clear_theme_ack(store: Store, theme_id: str) -> bool:
    """Remove a theme's acknowledgement; False when there was none."""
    t = schema.risk_acks
    with store.engine.begin() as conn:
        return bool(conn.execute(delete(t).where(t.c.theme_id == theme_id)).rowcount)


def _ack(m: Any) -> RiskAck:
    return RiskAck(theme_id=m["theme_id"], by=m["acked_by"], at=m["acked_at"], until=m["until"], note=m["note"],
                   source=m["source"], red_signal_ids=tuple(m["red_signal_ids"] or ()), forecast_p85=m["forecast_p85"])
