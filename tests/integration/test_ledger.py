"""The daemon ledger (slots, leases, delivery log) on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from syncd.store import Store
from syncd.store import _daemon as ledger

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_slot_is_claimed_once_and_taken_over_only_after_its_lease(store: Store) -> None:
    assert ledger.claim_slot(store, "exec", T0, owner="a", now=T0, lease_s=60)
    assert not ledger.claim_slot(store, "exec", T0, owner="b", now=T0, lease_s=60)
    assert not ledger.take_over(store, "exec", T0, owner="b", now=T0 + timedelta(seconds=59), lease_s=60)
    assert ledger.abandoned_slots(store, now=T0 + timedelta(seconds=59)) == []
    later = T0 + timedelta(seconds=61)
    [gone] = ledger.abandoned_slots(store, now=later)
    assert (gone.job, gone.owner, gone.attempts) == ("exec", "a", 1)
    assert ledger.take_over(store, "exec", T0, owner="b", now=later, lease_s=60)
    assert not ledger.take_over(store, "exec", T0, owner="c", now=later, lease_s=60)
    [row] = ledger.slot_rows(store, job="exec")
    assert (row.owner, row.attempts, row.state) == ("b", 2, "claimed")
    # the old owner can no longer settle it
    assert not ledger.finish_slot(store, "exec", T0, owner="a", state="done", now=later)
    assert ledger.finish_slot(store, "exec", T0, owner="b", state="done", now=later, detail="ok")
    assert ledger.last_slots(store, ["exec", "other"]) == {"exec": T0}


def test_renewal_keeps_a_claim_alive(store: Store) -> None:
    ledger.claim_slot(store, "sync/gh", T0, owner="a", now=T0, lease_s=60)
    assert ledger.renew_claims(store, owner="a", now=T0 + timedelta(seconds=50), lease_s=60) == 1
    assert not ledger.take_over(store, "sync/gh", T0, owner="b", now=T0 + timedelta(seconds=100), lease_s=60)
    assert ledger.take_over(store, "sync/gh", T0, owner="b", now=T0 + timedelta(seconds=111), lease_s=60)


def test_skipped_slots_are_recorded_once_and_release_frees_a_claim(store: Store) -> None:
    slots = [(T0, "missed"), (T0 + timedelta(minutes=15), "missed")]
    assert ledger.record_skipped(store, "sync/gh", slots, now=T0) == 2
    assert ledger.record_skipped(store, "sync/gh", slots, now=T0) == 0
    assert {s.state for s in ledger.slot_rows(store, prefix="sync/")} == {"skipped"}
    at = T0 + timedelta(minutes=30)
    ledger.claim_slot(store, "sync/gh", at, owner="a", now=at, lease_s=60)
    assert ledger.release_slot(store, "sync/gh", at, owner="a")
    assert ledger.claim_slot(store, "sync/gh", at, owner="b", now=at, lease_s=60)


def _delivery(job: str | None, slot_at: datetime | None) -> dict[str, object]:
    return {"at": T0, "job": job, "slot_at": slot_at, "kind": "status", "audience": "executive", "format": "eml",
            "recipients": ["ceo@acme.test"], "subject": "Status", "message_id": "<m1@acme.test>"}


def test_delivery_log_follows_the_slot(store: Store) -> None:
    ledger.claim_slot(store, "exec", T0, owner="a", now=T0, lease_s=60)
    assert ledger.begin_delivery(store, _delivery("exec", T0), owner="b") is None  # not b's slot: nothing sent
    did = ledger.begin_delivery(store, _delivery("exec", T0), owner="a")
    assert did is not None
    [row] = ledger.slot_rows(store, job="exec")
    assert (row.state, row.detail) == ("sending", "Message-ID <m1@acme.test>")
    ledger.end_delivery(store, did, status="sent", now=T0, owner="a", slot_state="done")
    assert ledger.slot_rows(store, job="exec")[0].state == "done"
    [logged] = ledger.delivery_rows(store)
    assert (logged["status"], logged["recipients"], logged["message_id"]) == ("sent", ["ceo@acme.test"], "<m1@acme.test>")
    assert ledger.delivery_figures(store) == {("status", "sent"): 1}


def test_a_slot_left_sending_becomes_uncertain_and_is_never_claimed_again(store: Store) -> None:
    ledger.claim_slot(store, "exec", T0, owner="a", now=T0, lease_s=60)
    ledger.begin_delivery(store, _delivery("exec", T0), owner="a")
    later = T0 + timedelta(minutes=5)
    [slot] = ledger.abandoned_slots(store, now=later)
    assert slot.state == "sending"
    assert not ledger.take_over(store, "exec", T0, owner="b", now=later, lease_s=60)  # only claimed ones move
    assert ledger.resolve_uncertain(store, slot, now=later)
    assert not ledger.resolve_uncertain(store, slot, now=later)
    [row] = ledger.slot_rows(store, job="exec")
    assert row.state == "uncertain" and "<m1@acme.test>" in (row.detail or "")
    assert ledger.delivery_rows(store)[0]["status"] == "uncertain"


def test_named_leases_expire_and_are_renewed(store: Store) -> None:
    assert ledger.acquire_lease(store, "replica:a", owner="a", now=T0, ttl_s=30)
    assert not ledger.acquire_lease(store, "replica:a", owner="b", now=T0 + timedelta(seconds=10), ttl_s=30)
    assert ledger.acquire_lease(store, "replica:a", owner="a", now=T0 + timedelta(seconds=10), ttl_s=30)
    ledger.renew_claims(store, owner="a", now=T0 + timedelta(seconds=35), lease_s=30)
    assert ledger.live_leases(store, prefix="replica:", now=T0 + timedelta(seconds=60)) == {"replica:a": "a"}
    assert ledger.acquire_lease(store, "replica:a", owner="b", now=T0 + timedelta(seconds=66), ttl_s=30)
    ledger.release_lease(store, "replica:a", owner="b")
    assert ledger.live_leases(store, prefix="replica:", now=T0) == {}


def test_racing_replicas_claim_each_slot_exactly_once(store: Store) -> None:
    """Eight workers, each with its own connection pool, race for the same 40 slots."""
    slots = [T0 + timedelta(minutes=i) for i in range(40)]

    def worker(n: int) -> list[datetime]:
        own = Store(store.url)
        try:
            return [at for at in slots if ledger.claim_slot(own, "sync/gh", at, owner=f"r{n}", now=at, lease_s=60)]
        finally:
            own.close()

    with ThreadPoolExecutor(8) as pool:
        won = [at for got in pool.map(worker, range(8)) for at in got]
    assert sorted(won) == slots
