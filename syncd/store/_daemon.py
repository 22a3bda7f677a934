"""The daemon's ledger: schedule slots (claims with leases), named leases and the delivery log.

A slot row `(job, slot_at)` is the claim on one scheduled occurrence. Every change is a single
compare-and-set statement (insert-if-absent, or update-where-state-and-owner-match), so it is
atomic on SQLite and on PostgreSQL under READ COMMITTED: of several replicas racing for a slot,
exactly one statement reports a changed row.

Slot states: `claimed` (a replica is running it; `lease_until` renewed by its heartbeat) ->
`sending` (a message is being handed to SMTP; `detail` holds its Message-ID) -> `done`; or
`skipped` (missed by more than the grace period, superseded, or its source was busy), `failed`
(ran and failed) and `uncertain` (its replica stopped while SMTP had the message: it may or may
not have been delivered). An uncertain slot is held unless `delivery.uncertain = "resend"` or an
operator resends it (`syncd deliveries resend`): it is then claimed again (`reclaim_uncertain`, the
same compare-and-set) and sent with the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from syncd.errors import StoreError
from syncd.store import Store, schema
from syncd.store._bulk import dialect_insert

TERMINAL = ("done", "skipped", "failed", "uncertain")
ACTIVE = ("claimed", "sending")


@dataclass(frozen=True)
class Slot:
    """One scheduled occurrence of a job and who holds it."""

    job: str
    slot_at: datetime
    state: str
    owner: str | None
    lease_until: datetime | None
    attempts: int
    updated_at: datetime
    detail: str | None


@contextmanager
def _tx(store: Store, what: str) -> Iterator[Connection]:
    try:
        with store.engine.begin() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot {what}: {exc.__class__.__name__}: {getattr(exc, 'orig', exc)}".splitlines()[0]) from None


def _insert(store: Store, table: Any) -> Any:
    return dialect_insert(store.dialect, table)


# -- slots ----------------------------------------------------------------------------------------


def last_slots(store: Store, jobs: Sequence[str]) -> dict[str, datetime]:
    """The newest recorded slot time of each job that has one."""
    t = schema.slots
    if not jobs:
        return {}
    with _tx(store, "read schedule slots") as conn:
        rows = conn.execute(select(t.c.job, func.max(t.c.slot_at)).where(t.c.job.in_(list(jobs))).group_by(t.c.job))
        return {r[0]: r[1] for r in rows if r[1] is not None}


def claim_slot(store: Store, job: str, slot_at: datetime, *, owner: str, now: datetime, lease_s: float,
               detail: str | None = None) -> bool:
    """Claim a slot nobody has recorded yet; False when it already has a row (claimed, done, ...)."""
    stmt = _insert(store, schema.slots).values(
        job=job, slot_at=slot_at, state="claimed", owner=owner, lease_until=now + timedelta(seconds=lease_s),
        attempts=1, updated_at=now, detail=detail,
    ).on_conflict_do_nothing(index_elements=["job", "slot_at"]).returning(schema.slots.c.job)
    with _tx(store, f"claim slot {job}") as conn:
        return conn.execute(stmt).first() is not None


def record_skipped(store: Store, job: str, slots: Sequence[tuple[datetime, str]], *, now: datetime) -> int:
    """Record slots that will not run (each with why), unless already recorded; return how many were new."""
    if not slots:
        return 0
    rows = [{"job": job, "slot_at": at, "state": "skipped", "owner": None, "lease_until": None, "attempts": 0,
             "updated_at": now, "detail": why} for at, why in slots]
    stmt = (_insert(store, schema.slots).on_conflict_do_nothing(index_elements=["job", "slot_at"])
            .returning(schema.slots.c.job))
    with _tx(store, f"record skipped slots of {job}") as conn:
        return sum(conn.execute(stmt.values(row)).first() is not None for row in rows)


def take_over(store: Store, job: str, slot_at: datetime, *, owner: str, now: datetime, lease_s: float,
              any_lease: bool = False) -> bool:
    """Take over a claimed slot whose lease expired (or any claimed slot when `any_lease`)."""
    t = schema.slots
    q = update(t).where(t.c.job == job, t.c.slot_at == slot_at, t.c.state == "claimed")
    if not any_lease:
        q = q.where(t.c.lease_until < now)
    q = q.values(owner=owner, lease_until=now + timedelta(seconds=lease_s), attempts=t.c.attempts + 1, updated_at=now)
    with _tx(store, f"take over slot {job}") as conn:
        return conn.execute(q).rowcount == 1


def abandoned_slots(store: Store, *, now: datetime, any_lease: bool = False) -> list[Slot]:
    """Claimed or sending slots whose holder stopped renewing (every active slot when `any_lease`)."""
    t = schema.slots
    q = select(t).where(t.c.state.in_(ACTIVE)).order_by(t.c.slot_at, t.c.job)
    if not any_lease:
        q = q.where(t.c.lease_until < now)
    with _tx(store, "read abandoned slots") as conn:
        return [Slot(**r._mapping) for r in conn.execute(q)]


def finish_slot(store: Store, job: str, slot_at: datetime, *, owner: str, state: str, now: datetime,
                detail: str | None = None, conn: Connection | None = None) -> bool:
    """Move a slot this owner holds to a terminal state; False when it no longer holds it."""
    if state not in TERMINAL:
        raise ValueError(f"not a terminal slot state: {state}")
    t = schema.slots
    q = (update(t).where(t.c.job == job, t.c.slot_at == slot_at, t.c.owner == owner, t.c.state.in_(ACTIVE))
         .values(state=state, detail=detail, lease_until=None, updated_at=now))
    if conn is not None:
        return conn.execute(q).rowcount == 1
    with _tx(store, f"finish slot {job}") as c:
        return c.execute(q).rowcount == 1


def release_slot(store: Store, job: str, slot_at: datetime, *, owner: str) -> bool:
    """Give back a claimed slot that did not run to the end (shutdown), so it runs again on restart."""
    t = schema.slots
    q = delete(t).where(t.c.job == job, t.c.slot_at == slot_at, t.c.owner == owner, t.c.state == "claimed")
    with _tx(store, f"release slot {job}") as conn:
        return conn.execute(q).rowcount == 1


def resolve_uncertain(store: Store, slot: Slot, *, now: datetime, any_lease: bool = False) -> bool:
    """Settle a `sending` slot whose holder stopped: `uncertain`, and its delivery-log row with it."""
    t, d = schema.slots, schema.deliveries
    q = update(t).where(t.c.job == slot.job, t.c.slot_at == slot.slot_at, t.c.state == "sending")
    if not any_lease:
        q = q.where(t.c.lease_until < now)
    why = (f"uncertain: replica {slot.owner} stopped while handing {slot.detail or 'the message'} to SMTP; "
           "it may have been delivered")
    with _tx(store, f"settle slot {slot.job}") as conn:
        if conn.execute(q.values(state="uncertain", lease_until=None, updated_at=now, detail=why)).rowcount != 1:
            return False
        conn.execute(update(d).where(d.c.job == slot.job, d.c.slot_at == slot.slot_at, d.c.status == "sending")
                     .values(status="uncertain", error=why))
        return True


def reclaim_uncertain(store: Store, job: str, slot_at: datetime, *, owner: str, now: datetime, lease_s: float,
                      detail: str) -> bool:
    """Claim an `uncertain` slot again to resend it; False when it is not uncertain (any more)."""
    t = schema.slots
    q = (update(t).where(t.c.job == job, t.c.slot_at == slot_at, t.c.state == "uncertain")
         .values(state="claimed", owner=owner, lease_until=now + timedelta(seconds=lease_s),
                 attempts=t.c.attempts + 1, updated_at=now, detail=detail))
    with _tx(store, f"reclaim slot {job}") as conn:
        return conn.execute(q).rowcount == 1


def renew_claims(store: Store, *, owner: str, now: datetime, lease_s: float) -> int:
    """Extend the lease of every active slot and named lease this owner holds; return the slot count."""
    until = now + timedelta(seconds=lease_s)
    t, lt = schema.slots, schema.leases
    with _tx(store, "renew leases") as conn:
        n = conn.execute(update(t).where(t.c.owner == owner, t.c.state.in_(ACTIVE)).values(lease_until=until)).rowcount
        conn.execute(update(lt).where(lt.c.owner == owner).values(expires_at=until))
        return n


def slot_rows(store: Store, *, job: str | None = None, prefix: str | None = None,
              state: str | None = None) -> list[Slot]:
    """Recorded slots, oldest first, of one job, of jobs starting with `prefix`, or all; optionally in one state."""
    t = schema.slots
    q = select(t).order_by(t.c.slot_at, t.c.job)
    if job is not None:
        q = q.where(t.c.job == job)
    if state is not None:
        q = q.where(t.c.state == state)
    if prefix is not None:
        q = q.where(func.substr(t.c.job, 1, len(prefix)) == prefix)
    with _tx(store, "read schedule slots") as conn:
        return [Slot(**r._mapping) for r in conn.execute(q)]


def close_abandoned_runs(store: Store, source: str, *, now: datetime) -> int:
    """Mark a source's `running` sync runs failed: call it holding the source's lock, when no run can be live."""
    r = schema.sync_runs
    q = (update(r).where(r.c.source == source, r.c.status == "running")
         .values(status="failed", finished_at=now, error="abandoned: the process running this sync stopped"))
    with _tx(store, f"close abandoned runs of {source}") as conn:
        return conn.execute(q).rowcount or 0


# -- named leases ---------------------------------------------------------------------------------


def acquire_lease(store: Store, name: str, *, owner: str, now: datetime, ttl_s: float) -> bool:
    """Hold the lease `name` (free, expired or already ours) until now + ttl; False when someone else has it."""
    lt = schema.leases
    stmt = _insert(store, lt).values(name=name, owner=owner, acquired_at=now, expires_at=now + timedelta(seconds=ttl_s))
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at,
              "acquired_at": case((lt.c.owner == owner, lt.c.acquired_at), else_=stmt.excluded.acquired_at)},
        where=(lt.c.expires_at < now) | (lt.c.owner == owner),
    ).returning(lt.c.name)
    with _tx(store, f"acquire lease {name}") as conn:
        return conn.execute(stmt).first() is not None


def release_lease(store: Store, name: str, *, owner: str) -> None:
    """Give up a lease we hold."""
    lt = schema.leases
    with _tx(store, f"release lease {name}") as conn:
        conn.execute(delete(lt).where(lt.c.name == name, lt.c.owner == owner))


def live_leases(store: Store, *, prefix: str, now: datetime) -> dict[str, str]:
    """Unexpired leases whose name starts with `prefix`: name -> owner."""
    lt = schema.leases
    q = select(lt.c.name, lt.c.owner).where(func.substr(lt.c.name, 1, len(prefix)) == prefix, lt.c.expires_at >= now)
    with _tx(store, "read leases") as conn:
        return {r[0]: r[1] for r in conn.execute(q)}


# -- delivery log ---------------------------------------------------------------------------------


def begin_delivery(store: Store, row: dict[str, Any], *, owner: str | None = None) -> int | None:
    """Log a delivery as `sending` just before SMTP DATA; when it belongs to a slot, mark the slot `sending`.

    Returns the delivery-log id, or None when the slot is no longer held by `owner` (then nothing
    is written and the message must not be sent).
    """
    t = schema.slots
    with _tx(store, "record delivery") as conn:
        if row.get("job") and row.get("slot_at"):
            q = (update(t).where(t.c.job == row["job"], t.c.slot_at == row["slot_at"], t.c.owner == owner,
                                 t.c.state.in_(ACTIVE))
                 .values(state="sending", detail=f"Message-ID {row['message_id']}", updated_at=row["at"]))
            if conn.execute(q).rowcount != 1:
                return None
        res = conn.execute(insert(schema.deliveries).values(**{**row, "status": "sending"}))
        return int(res.inserted_primary_key[0])  # type: ignore[index]


def end_delivery(store: Store, delivery_id: int, *, status: str, now: datetime, error: str | None = None,
                 owner: str | None = None, slot_state: str | None = None, slot_detail: str | None = None) -> None:
    """Settle a logged delivery (sent, failed, uncertain) and, when it has one, its slot, in one transaction."""
    d = schema.deliveries
    with _tx(store, "record delivery") as conn:
        row = conn.execute(select(d.c.job, d.c.slot_at).where(d.c.id == delivery_id)).first()
        conn.execute(update(d).where(d.c.id == delivery_id).values(status=status, error=error))
        if row is not None and row.job and row.slot_at and owner and slot_state:
            finish_slot(store, row.job, row.slot_at, owner=owner, state=slot_state, now=now, detail=slot_detail,
                        conn=conn)


def log_failed_delivery(store: Store, row: dict[str, Any]) -> int:
    """Append a delivery that failed before any message was handed over (e.g. no recipients)."""
    with _tx(store, "record delivery") as conn:
        res = conn.execute(insert(schema.deliveries).values(**{**row, "status": "failed"}))
        return int(res.inserted_primary_key[0])  # type: ignore[index]


def delivery_rows(store: Store, *, limit: int = 100, job: str | None = None,
                  slot_at: datetime | None = None) -> list[dict[str, Any]]:
    """The most recent delivery-log rows (of one job, and one of its slots), newest first."""
    d = schema.deliveries
    q = select(d).order_by(d.c.id.desc()).limit(limit)
    if job is not None:
        q = q.where(d.c.job == job)
    if slot_at is not None:
        q = q.where(d.c.slot_at == slot_at)
    with _tx(store, "read deliveries") as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


# -- figures for /metrics -------------------------------------------------------------------------


def sync_figures(store: Store) -> list[dict[str, Any]]:
    """Per source and run status: runs, items new/updated/removed, API requests, last finish."""
    r = schema.sync_runs
    q = select(r.c.source, r.c.status, func.count(), func.sum(r.c.items_new), func.sum(r.c.items_updated),
               func.sum(r.c.items_removed), func.sum(r.c.requests), func.max(r.c.finished_at)).group_by(r.c.source, r.c.status)
    out = []
    with _tx(store, "read sync figures") as conn:
        for row in conn.execute(q):
            last = row[7]
            out.append({"source": row[0], "status": row[1], "runs": int(row[2]), "new": int(row[3] or 0),
                        "updated": int(row[4] or 0), "removed": int(row[5] or 0), "requests": int(row[6] or 0),
                        "last_finished": last})
    return out


def delivery_figures(store: Store) -> dict[tuple[str, str], int]:
    """Delivery-log rows per (report kind, status)."""
    d = schema.deliveries
    with _tx(store, "read delivery figures") as conn:
        rows = conn.execute(select(d.c.kind, d.c.status, func.count()).group_by(d.c.kind, d.c.status))
        return {(r[0], r[1]): int(r[2]) for r in rows}


def slot_figures(store: Store) -> dict[str, int]:
    """Schedule slots per state."""
    t = schema.slots
    with _tx(store, "read slot figures") as conn:
        return {r[0]: int(r[1]) for r in conn.execute(select(t.c.state, func.count()).group_by(t.c.state))}


def stored_item_counts(store: Store) -> dict[str, int]:
    """Live (not removed) items per source."""
    i = schema.items
    q = select(i.c.source, func.count()).where(i.c.removed.is_(False)).group_by(i.c.source)
    with _tx(store, "read item counts") as conn:
        return {r[0]: int(r[1]) for r in conn.execute(q)}
