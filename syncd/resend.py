"""`syncd deliveries resend JOB@TIME`: send an uncertain slot's report again by hand, with its Message-ID.

A slot is uncertain when its replica stopped while SMTP had the message (syncd/delivery.py): it may
or may not have arrived. The operator's resend claims the slot again (`ledger.reclaim_uncertain`, so
a daemon resending the same slot cannot also send it) and sends the report with the slot's
Message-ID (RFC 5322 3.6.4), which mail clients and Gmail use to drop the duplicate. The daemon's own resends
(`delivery.uncertain = "resend"`, within the grace period) are `Scheduler.reclaim_uncertain`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from syncd.errors import DeliveryError, SyncdError, UsageError
from syncd.scheduler import Scheduler
from syncd.store import _daemon as ledger

if TYPE_CHECKING:
    from syncd.delivery import Delivery


def resend_slot(scheduler: Scheduler, job: str, slot_at: datetime) -> Delivery:
    """Send an uncertain slot again now, with its Message-ID; UsageError/DeliveryError (one line) if not sent."""
    store = scheduler.store
    matches = [s for s in ledger.slot_rows(store, job=job) if s.slot_at == slot_at]
    if not matches:
        raise UsageError(f"deliveries: no slot {job}@{slot_at.isoformat()} (see `syncd deliveries --uncertain`)")
    slot, task = matches[0], scheduler.task_for(job)
    if slot.state != "uncertain":
        raise UsageError(f"deliveries: slot {job}@{slot_at.isoformat()} is {slot.state}, not uncertain: "
                         "only an uncertain delivery is resent")
    if task is None or task.entry.job != "report":
        raise UsageError(f"deliveries: slot {job}@{slot_at.isoformat()}: its schedule entry is no longer configured")
    now = scheduler.clock.now()
    if not ledger.reclaim_uncertain(store, job, slot_at, owner=scheduler.replica, now=now, lease_s=scheduler.lease_s,
                                    detail=f"resent by hand (was {slot.detail})"[:1000]):
        raise DeliveryError(f"deliveries: slot {job}@{slot_at.isoformat()} was claimed by someone else just now")
    try:
        delivery = scheduler.report(slot_at, task, sync_first=False)
    except SyncdError as exc:
        ledger.finish_slot(store, task.key, slot_at, owner=scheduler.replica, state="failed",
                           now=scheduler.clock.now(), detail=str(exc)[:1000])
        raise
    if delivery is None:  # send_report settled the slot (failed or uncertain again) and logged why
        [after] = [s for s in ledger.slot_rows(store, job=job) if s.slot_at == slot_at]
        raise DeliveryError(f"deliveries: {job}@{slot_at.isoformat()} not sent: {after.state}: {after.detail}")
    return delivery
