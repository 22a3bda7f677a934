"""`syncd run`: fire each schedule slot at its cron time, exactly once across restarts and replicas.

Work is split into tasks, each with its own ledger key: a sync job has one task per source
(`NAME/SOURCE`), a report job one (`NAME`), a sprint-closed job one check (`NAME`) that creates a
delivery task per closed sprint (`NAME/SPRINT-ID`, slot = the sprint's completion time). A
replica runs a slot only after inserting its row in `slots` (the claim); the row's lease is
renewed by the replica's heartbeat, and a claim whose lease ran out is taken over by another
replica (or, on SQLite where only one daemon may run, at once on start).

Catch-up: the slots of a task since its newest recorded slot that are due now are looked at
together. The newest within `grace_minutes` (plus a minute of ordinary delay) runs once; older ones
are recorded as `skipped` (superseded, or missed by more than the grace period). A task that never
ran starts with its latest slot, when that is within grace of the daemon's start. A slot found
`sending` (its replica died while SMTP had the message) becomes `uncertain` (see syncd/delivery.py):
held for an operator by default, or with `delivery.uncertain = "resend"` claimed again and sent with
the same Message-ID, while within its grace period and at most MAX_RESENDS times.

Sync slots of different services (a Jira site, a GitHub host) that are due together run at once, one
thread each (`syncd.parallel`; one after the other with `[sync] concurrent = false`); each is claimed,
run and settled as it would be alone.

On SIGTERM/SIGINT the current batch of a running sync is committed and its slot released (it
runs again after a restart, resuming from the stored cursor); a message being sent is finished.
The clock is injected: tests and `--clock-*` drive virtual time, nothing waits for real minutes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from syncd import jobs, metrics
from syncd.clock import Clock, SystemClock
from syncd.cron import describe_slot, next_slot, previous_slot, slots_between
from syncd.errors import DeliveryError, SyncdError
from syncd.health import health_path, write_health
from syncd.parallel import run_by_service, service_of
from syncd.settings import Settings
from syncd.settings_sections import ScheduleEntry
from syncd.store import Store
from syncd.store import _daemon as ledger
from syncd.sync import SourceResult, build_connector

if TYPE_CHECKING:
    from syncd.delivery import Delivery

log = logging.getLogger("syncd.scheduler")
ON_TIME = timedelta(minutes=1)  # ordinary scheduling delay, on top of grace_minutes
LOOKBACK = timedelta(days=7)  # missed slots older than this (beyond grace) are not recorded one by one
MAX_SKIPPED = 1000
MAX_RESENDS = 3  # delivery.uncertain = "resend": a slot whose every hand-over is cut off stays uncertain after this


@dataclass(frozen=True)
class Task:
    """One claimable unit of a schedule entry."""

    key: str
    entry: ScheduleEntry
    source: str | None = None
    sprint: str | None = None

    @property
    def order(self) -> int:
        """Syncs before reports at the same slot time."""
        return 0 if self.entry.job == "sync" else 1


class Scheduler:
    """Runs the schedule of `settings` against `store` as replica `replica`."""

    def __init__(self, settings: Settings, store: Store, *, clock: Clock | None = None, replica: str | None = None,
                 stop: threading.Event | None = None, smtp_sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings, self.store = settings, store
        self.clock = clock or SystemClock()
        self.replica = replica or settings.daemon.replica_id or f"{socket.gethostname()}:{os.getpid()}"
        self.stop = stop or threading.Event()
        self.smtp_sleep = smtp_sleep
        self.lease_s = settings.daemon.lease_seconds
        self.exclusive = store.dialect == "sqlite"  # the file lock makes us the only daemon on this database
        self.started_at: datetime | None = None
        self._recovered = False
        self._beat_stop = threading.Event()
        self._entries = {e.name: e for e in settings.schedule}
        self._broken: set[str] = set()  # entries whose cron cannot be evaluated (logged once)

    # -- tasks ------------------------------------------------------------------------------------

    def tasks(self) -> list[Task]:
        """The cron-driven tasks of the schedule."""
        out = []
        for entry in self.settings.schedule:
            if entry.job == "sync":
                out += [Task(f"{entry.name}/{s}", entry, source=s) for s in jobs.wanted_sources(self.settings, entry.sources)]
            else:
                out.append(Task(entry.name, entry))
        return out

    def task_for(self, key: str) -> Task | None:
        """The task a ledger key belongs to, or None when its entry is no longer configured."""
        name, _, rest = key.partition("/")
        entry = self._entries.get(name)
        if entry is None:
            return None
        if entry.job == "sync":
            return Task(key, entry, source=rest) if rest in self.settings.sources else None
        return Task(key, entry, sprint=rest or None)

    # -- planning ---------------------------------------------------------------------------------

    def due(self, now: datetime) -> list[tuple[datetime, Task]]:
        """Slots to run now (at most one per task); records the ones that will not run as skipped."""
        assert self.started_at is not None
        tasks = self.tasks()
        last = ledger.last_slots(self.store, [t.key for t in tasks])
        out = []
        for task in tasks:
            e = task.entry
            grace = timedelta(minutes=e.grace_minutes) + ON_TIME
            since = max(last.get(task.key) or self.started_at - grace, now - grace - LOOKBACK)
            slots = self._slots(e, since, now)
            if not slots:
                continue
            if task.key not in last:  # never ran: earlier slots predate the job, nothing was missed
                slots = slots[-1:]
            fresh = [s for s in slots if now - s <= grace]
            skipped = [(s, f"missed: {describe_slot(s, e.timezone)} was more than {e.grace_minutes} min ago "
                           f"at {describe_slot(now, e.timezone)}") for s in slots if now - s > grace]
            if fresh:
                skipped += [(s, f"superseded by the slot at {describe_slot(fresh[-1], e.timezone)}") for s in fresh[:-1]]
                out.append((fresh[-1], task))
            if ledger.record_skipped(self.store, task.key, skipped[-MAX_SKIPPED:], now=now):
                log.warning("%s: %d slot(s) skipped (%s)", task.key, len(skipped), skipped[-1][1])
        return sorted(out, key=lambda p: (p[0], p[1].order, p[1].key))

    def next_wake(self, now: datetime) -> datetime:
        """When to look again: the next slot of any entry, or after poll_seconds at the latest."""
        wake = now + timedelta(seconds=self.settings.daemon.poll_seconds)
        for entry in self.settings.schedule:
            try:
                wake = min(wake, next_slot(entry.cron, entry.timezone, now))
            except ValueError as exc:  # a cron with no slot ahead: that entry idles, the others run
                self._cron_failed(entry, exc)
        return wake

    def _slots(self, entry: ScheduleEntry, since: datetime, now: datetime) -> list[datetime]:
        try:
            return slots_between(entry.cron, entry.timezone, since, now)
        except ValueError as exc:
            self._cron_failed(entry, exc)
            return []

    def _cron_failed(self, entry: ScheduleEntry, exc: ValueError) -> None:
        if entry.name not in self._broken:  # said once, not at every wake
            self._broken.add(entry.name)
            metrics.observe_job_error("scheduler")
            log.error("schedule %s: %s; its jobs do not run, the other schedules do", entry.name, exc)

    # -- running ----------------------------------------------------------------------------------

    def run(self, *, once: bool = False, heartbeat: bool = True) -> None:
        """Run until stopped (or, with `once`, until nothing is due); the heartbeat runs meanwhile."""
        self.warm_up()
        self.started_at = self.clock.now()
        log.info("replica %s started: %d schedule entries, lease %.0fs", self.replica, len(self.settings.schedule),
                 self.lease_s)
        beat = threading.Thread(target=self._heartbeat, name="syncd-heartbeat", daemon=True)
        if heartbeat:
            self.beat()
            beat.start()
        try:
            while not self.stop.is_set():
                try:
                    self.run_due()
                except SyncdError as exc:  # e.g. the database went away: say so, keep trying
                    metrics.observe_job_error("scheduler")
                    log.error("scheduler: %s", exc)
                if once:
                    break
                now = self.clock.now()
                self.clock.wait((self.next_wake(now) - now).total_seconds(), self.stop)
        finally:
            self._beat_stop.set()
            if heartbeat:
                beat.join(timeout=5)
            ledger.release_lease(self.store, f"replica:{self.replica}", owner=self.replica)
            log.info("replica %s stopped", self.replica)

    def warm_up(self) -> None:
        """Import the report engine and each source's client library now, not while holding the first slot."""
        if any(e.job == "report" for e in self.settings.schedule):
            import syncd.reporting  # noqa: F401
        for task in self.tasks():
            if task.source is not None:
                build_connector(task.source, self.settings.sources[task.source])

    def run_due(self) -> int:
        """Take over abandoned slots and run every due slot this replica can claim; return how many ran."""
        if self.started_at is None:
            self.started_at = self.clock.now()
        ran = 0
        while not self.stop.is_set():
            now = self.clock.now()
            taken = self.take_over_abandoned(now)
            if taken is None and self.settings.delivery.uncertain == "resend":
                taken = self.reclaim_uncertain(now)
            if taken is not None:
                self.execute(*taken)
                ran += 1
                continue
            due = self.due(now)
            for index, (slot_at, task) in enumerate(due):
                if self.stop.is_set():
                    break
                if ledger.claim_slot(self.store, task.key, slot_at, owner=self.replica, now=now, lease_s=self.lease_s):
                    wave = [(slot_at, task), *self._claim_beside(task, due[index + 1:], now)]
                    self._execute_at_once(wave)
                    ran += len(wave)
                    break
            else:
                break
        return ran

    def _service(self, task: Task) -> str | None:
        """The service a sync task's source spends (`syncd.parallel`); None for other tasks."""
        if task.entry.job != "sync" or task.source is None:
            return None
        return service_of(self.settings.sources[task.source])

    def _claim_beside(self, first: Task, rest: list[tuple[datetime, Task]], now: datetime) -> list[tuple[datetime, Task]]:
        """With `[sync] concurrent`, claim the due sync slots of other services to run beside `first`'s (one
        per service: a service's sources share its rate budget, so they stay one after the other)."""
        if not self.settings.sync.concurrent or (service := self._service(first)) is None:
            return []
        busy, out = {service}, []
        for slot_at, task in rest:
            other = self._service(task)
            if other is None or other in busy or self.stop.is_set():
                continue
            if ledger.claim_slot(self.store, task.key, slot_at, owner=self.replica, now=now, lease_s=self.lease_s):
                busy.add(other)
                out.append((slot_at, task))
        return out

    def _execute_at_once(self, wave: list[tuple[datetime, Task]]) -> None:
        """Run claimed slots, each in a thread of its own when there are several (`execute` records each)."""
        slots = {task.key: (slot_at, task) for slot_at, task in wave}
        run_by_service(list(slots), lambda key: key, lambda key: self.execute(*slots[key]))

    def take_over_abandoned(self, now: datetime) -> tuple[datetime, Task] | None:
        """Settle slots whose replica stopped; return one claimed slot we took over to run, if any.

        On the first call, active slots of an earlier life of this replica id (and on SQLite every
        active slot: no other daemon can be running) are abandoned whatever their lease says.
        """
        first = not self._recovered
        self._recovered = True
        for slot in ledger.abandoned_slots(self.store, now=now, any_lease=first):
            any_lease = first and (self.exclusive or slot.owner == self.replica)
            if not any_lease and slot.lease_until is not None and slot.lease_until >= now:
                continue
            if slot.state == "sending":
                if ledger.resolve_uncertain(self.store, slot, now=now, any_lease=any_lease):
                    then = ("uncertain, sent again within its grace period (delivery.uncertain = resend)"
                            if self.settings.delivery.uncertain == "resend" else "not sent again (uncertain)")
                    log.warning("%s at %s: replica %s stopped while sending it; %s",
                                slot.job, slot.slot_at.isoformat(), slot.owner, then)
                continue
            if not ledger.take_over(self.store, slot.job, slot.slot_at, owner=self.replica, now=now,
                                    lease_s=self.lease_s, any_lease=any_lease):
                continue
            task = self.task_for(slot.job)
            late = now - slot.updated_at > timedelta(minutes=task.entry.grace_minutes) + ON_TIME if task else True
            if task is None or late:
                why = "no longer configured" if task is None else "abandoned and now beyond its grace period"
                ledger.finish_slot(self.store, slot.job, slot.slot_at, owner=self.replica, state="skipped", now=now,
                                   detail=f"taken over from {slot.owner}: {why}")
                continue
            log.info("%s at %s: taken over from replica %s", slot.job, slot.slot_at.isoformat(), slot.owner)
            return slot.slot_at, task
        return None

    def reclaim_uncertain(self, now: datetime) -> tuple[datetime, Task] | None:
        """delivery.uncertain = resend: claim one uncertain report slot within its grace period to send again."""
        for slot in ledger.slot_rows(self.store, state="uncertain"):
            task = self.task_for(slot.job)
            if task is None or task.entry.job != "report" or slot.attempts > MAX_RESENDS:
                continue
            logged = ledger.delivery_rows(self.store, job=slot.job, slot_at=slot.slot_at, limit=MAX_RESENDS + 2)
            first_try = min((d["at"] for d in logged), default=slot.slot_at)
            if now - first_try > timedelta(minutes=task.entry.grace_minutes) + ON_TIME:
                continue  # too late to be the report of that slot: left to `syncd deliveries resend`
            if ledger.reclaim_uncertain(self.store, slot.job, slot.slot_at, owner=self.replica, now=now,
                                        lease_s=self.lease_s, detail=f"resending (was {slot.detail})"[:1000]):
                log.warning("%s at %s: resending an uncertain delivery with the same Message-ID (attempt %d)",
                            slot.job, slot.slot_at.isoformat(), slot.attempts + 1)
                return slot.slot_at, task
        return None

    def execute(self, slot_at: datetime, task: Task) -> None:
        """Run one claimed slot and settle it; errors are logged and recorded, never raised."""
        started = time.monotonic()
        try:
            if task.entry.job == "sync":
                self._sync(slot_at, task)
            elif task.entry.trigger == "sprint-closed" and task.sprint is None:
                self._sprint_check(slot_at, task)
            else:
                self.report(slot_at, task)
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the daemon
            line = str(exc) if isinstance(exc, SyncdError) else f"unexpected {exc.__class__.__name__}: {exc}"
            if not isinstance(exc, SyncdError):
                log.exception("%s at %s failed", task.key, slot_at.isoformat())
            else:
                log.error("%s at %s: %s", task.key, slot_at.isoformat(), line)
            metrics.observe_job_error(task.entry.job)
            ledger.finish_slot(self.store, task.key, slot_at, owner=self.replica, state="failed",
                               now=self.clock.now(), detail=line[:1000])
        log.debug("%s at %s took %.1fs", task.key, slot_at.isoformat(), time.monotonic() - started)

    def _finish(self, task: Task, slot_at: datetime, state: str, detail: str) -> None:
        ledger.finish_slot(self.store, task.key, slot_at, owner=self.replica, state=state, now=self.clock.now(),
                           detail=detail)

    def _sync_when_free(self, name: str, *, full: bool, wait_s: float) -> SourceResult | None:
        """Sync a source, waiting up to `wait_s` while another process syncs it; None if it stayed busy."""
        limit = self.clock.now() + timedelta(seconds=wait_s)
        while (result := jobs.sync_one(self.settings, self.store, name, full=full, should_stop=self.stop.is_set)) is None:
            if self.clock.now() >= limit or self.clock.wait(1.0, self.stop):
                break
        return result

    def _sync(self, slot_at: datetime, task: Task) -> None:
        assert task.source is not None
        # a source busy elsewhere (a slow earlier slot, a takeover, a cron `syncd sync`) is waited for
        # about one lease, so this slot still syncs what changed since; longer, and the slot is skipped
        result = self._sync_when_free(task.source, full=task.entry.full, wait_s=self.lease_s)
        if result is None and self.stop.is_set():
            ledger.release_slot(self.store, task.key, slot_at, owner=self.replica)
        elif result is None:
            self._finish(task, slot_at, "skipped", f"source {task.source} was being synced by another process")
        elif self.stop.is_set() and result.ok and result.error:
            ledger.release_slot(self.store, task.key, slot_at, owner=self.replica)
            log.info("%s: stopped after a committed batch; the slot runs again on restart", task.key)
        elif result.ok:
            for line in result.warnings:
                log.warning("%s", line)
            self._finish(task, slot_at, "done", result.summary())
            log.info("%s", result.summary())
        else:
            metrics.observe_job_error("sync")
            self._finish(task, slot_at, "failed", result.summary())
            log.error("%s", result.summary())

    def _sync_first(self, task: Task, slot_at: datetime) -> bool:
        """Sync a report's sources before it is generated (waiting for a busy source); False when stopped.
        Sources of different services sync at once (`syncd.parallel`, unless `[sync] concurrent = false`)."""
        names = jobs.wanted_sources(self.settings, task.entry.sources)
        wait_s = 60 * max(1, task.entry.grace_minutes)
        results = run_by_service(names, lambda n: service_of(self.settings.sources[n]),
                                 lambda n: self._sync_when_free(n, full=False, wait_s=wait_s),
                                 concurrent=self.settings.sync.concurrent, should_stop=self.stop.is_set)
        if self.stop.is_set():
            ledger.release_slot(self.store, task.key, slot_at, owner=self.replica)
            return False
        for name, result in results:
            if result is None or not result.ok:
                log.warning("%s: reporting from the stored data: %s", task.key,
                            result.error if result else f"source {name} stayed busy")
        return True

    def report(self, slot_at: datetime, task: Task, *, sync_first: bool = True) -> Delivery | None:
        """Send a claimed report slot (syncing its sources first unless `sync_first` is False); None when not sent."""
        e = task.entry
        if sync_first and e.sync_first and task.sprint is None and not self._sync_first(task, slot_at):
            return None
        recipients = jobs.report_recipients(self.settings, e)
        assert e.kind is not None
        now = self.clock.now()
        try:
            d = jobs.deliver_report(self.settings, self.store, kind=e.kind, audience=e.audience, recipients=recipients,
                                    now=now, fmt=e.format, scope=task.sprint or e.scope, job=task.key, slot_at=slot_at,
                                    owner=self.replica, sleep=self.smtp_sleep)
        except DeliveryError as exc:  # send_report has settled the slot and the log
            metrics.observe_job_error("report")
            log.error("%s at %s: %s", task.key, slot_at.isoformat(), exc)
            return None
        except SyncdError as exc:  # the report could not be generated: log it as a failed delivery
            ledger.log_failed_delivery(self.store, {
                "at": now, "job": task.key, "slot_at": slot_at, "kind": e.kind, "audience": e.audience,
                "format": e.format, "recipients": recipients, "subject": "", "message_id": None, "error": str(exc)})
            raise
        log.info("%s: sent %s to %d recipient(s) (%s)", task.key, d.subject, len(d.recipients), d.message_id)
        return d

    def _sprint_check(self, slot_at: datetime, task: Task) -> None:
        e = task.entry
        if e.sync_first and not self._sync_first(task, slot_at):
            return
        before = previous_slot(e.cron, e.timezone, slot_at - timedelta(microseconds=1)) or slot_at - LOOKBACK
        since = before - timedelta(minutes=e.grace_minutes)
        closed = sorted((s for s in self.store.sprints() if s.complete is not None and since < s.complete <= slot_at),
                        key=lambda s: (s.complete, s.id))
        sent = []
        for sprint in closed:
            if self.stop.is_set():
                break
            key, at = f"{e.name}/{sprint.id}", sprint.complete
            assert at is not None
            if ledger.claim_slot(self.store, key, at, owner=self.replica, now=self.clock.now(), lease_s=self.lease_s):
                self.execute(at, Task(key, e, sprint=sprint.id))
                sent.append(sprint.id)
        if self.stop.is_set() and len(sent) < len(closed):
            ledger.release_slot(self.store, task.key, slot_at, owner=self.replica)
            return
        self._finish(task, slot_at, "done", f"{len(closed)} sprint(s) closed since {before.isoformat()}; "
                                            f"this replica ran {len(sent)}")

    # -- heartbeat --------------------------------------------------------------------------------

    def beat(self) -> None:
        """Renew this replica's claims and lease, and write the health file."""
        now = self.clock.now()
        ledger.acquire_lease(self.store, f"replica:{self.replica}", owner=self.replica, now=now, ttl_s=self.lease_s)
        ledger.renew_claims(self.store, owner=self.replica, now=now, lease_s=self.lease_s)
        write_health(health_path(self.settings), replica=self.replica, now=now)

    def _heartbeat(self) -> None:
        while not self.clock.wait(self.settings.daemon.heartbeat_seconds, self._beat_stop):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - keep beating; the health file goes stale meanwhile
                log.warning("heartbeat failed: %s", exc)
