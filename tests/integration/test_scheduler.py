"""The scheduler in-process with a manual clock: slot times across DST, catch-up and grace, takeover,
sprint-closed deliveries, sync jobs against the GitHub sandbox. Mail goes to a real aiosmtpd server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from syncd import jobs
from syncd.delivery import slot_message_id
from syncd.locks import source_lock
from syncd.model import Batch, ItemKind, SourceType, Sprint, SprintState, StatusCategory, WorkItem
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls
from syncd.scheduler import Scheduler
from syncd.settings import Settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from syncd.store._history import report_history
from tests.integration.test_sandbox_github import TOKEN, make_world
from tests.smtp_sink import Sink, SmtpServer


class ManualClock:
    """Time moves only when the scheduler waits (or the test says so); stops the run at `end`."""

    def __init__(self, t: datetime, end: datetime | None = None) -> None:
        self.t, self.end = t, end

    def now(self) -> datetime:
        return self.t

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        self.t += timedelta(seconds=seconds)
        if self.end is not None and self.t >= self.end:
            stop.set()
        return stop.is_set()


@pytest.fixture(scope="module")
def github() -> Iterator[str]:
    """A small sandbox GitHub for the whole module (its URL): starting one costs more than a sync."""
    server = gh_sandbox.serve_github(make_world(issues=5, pulls=5), Controls())
    yield server.url
    server.stop()


def gh_source(url: str) -> dict[str, Any]:
    return {"type": "github", "base_url": url, "token": TOKEN, "repos": ["acme/widget"]}


def seed(store: Store, tmp_path: Path, url: str) -> Store:
    """Sync the sandbox GitHub into the store (reports need items), plus one item from 2025.

    The sandbox world's items are created from 2026-10-01, and a report as of an earlier slot replays
    the store to that moment (issue 12 item 4): the old item is what such a slot reports on, so the
    schedules below (DST in March, catch-up in May) test scheduling, not an empty past.
    """
    result = jobs.sync_one(Settings(sources={"gh": gh_source(url)}, data_dir=tmp_path), store, "gh")
    assert result is not None and result.ok, result
    old = WorkItem(id="old:1", source="old", source_type=SourceType.GITHUB, remote_id="1", key="acme/old#1",
                   project="acme/old", kind=ItemKind.ISSUE, title="An item from 2025", status="open",
                   status_category=StatusCategory.TODO, created=datetime(2025, 1, 6, 9, tzinfo=UTC),
                   updated=datetime(2025, 1, 6, 9, tzinfo=UTC))
    store.apply_batch("old", Batch(items=[old]))
    return store


@pytest.fixture
def seeded(store: Store, tmp_path: Path, github: str) -> Store:
    """The `store` fixture (SQLite, PostgreSQL) with the sandbox GitHub synced into it."""
    return seed(store, tmp_path, github)


def sent_at(sink: Sink) -> list[datetime]:
    """The Date of every message received: the `now` each report was generated and sent at."""
    return [parsedate_to_datetime(str(m.message["Date"])).astimezone(UTC) for m in sink.messages]


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    with SmtpServer(sink) as server:
        yield sink, server.port


def make_settings(tmp_path: Path, port: int, schedule: list[dict[str, Any]], **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path, smtp={"host": "127.0.0.1", "port": port, "security": "none",
                                             "sender": "syncd@acme.test", "timeout_s": 5},
                    reports={"recipients": {"executive": ["ceo@acme.test"], "engineering": ["eng@acme.test"]}},
                    schedule=schedule, daemon={"poll_seconds": 86400, "lease_seconds": 60}, **extra)


def report(name: str, cron: str, tz: str = "UTC", **kw: Any) -> dict[str, Any]:
    return {"name": name, "cron": cron, "timezone": tz, "job": "report", "kind": "status", "audience": "executive", **kw}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# -- slot times across daylight-saving changes -------------------------------------------------------


BER, NY = "Europe/Berlin", "America/New_York"


@pytest.mark.parametrize(("tz", "start", "end", "daily", "monday"), [
    # Berlin spring forward 2026-03-29: 02:30 does not exist, the job runs when the clock jumps to 03:00
    (BER, utc(2026, 3, 23), utc(2026, 3, 31),
     [utc(2026, 3, d, 1, 30) for d in range(23, 29)] + [utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)],
     [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]),
    # New York spring forward 2026-03-08
    (NY, utc(2026, 3, 2), utc(2026, 3, 10),
     [utc(2026, 3, d, 7, 30) for d in range(2, 8)] + [utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)],
     [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]),
    # Berlin fall back 2026-10-25: 02:30 happens twice, the job runs at the first one only
    (BER, utc(2026, 10, 19), utc(2026, 10, 27),
     [utc(2026, 10, d, 0, 30) for d in range(19, 26)] + [utc(2026, 10, 26, 1, 30)],
     [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)]),
    # New York fall back 2026-11-01 (01:00-02:00 repeats; 02:30 is once, now at -5)
    (NY, utc(2026, 10, 26), utc(2026, 11, 3),
     [utc(2026, 10, d, 6, 30) for d in range(26, 32)] + [utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30)],
     [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]),
])
def test_daemon_fires_at_local_times_across_dst(tmp_path: Path, smtp: tuple[Sink, int], github: str, tz: str,
                                                start: datetime, end: datetime, daily: list[datetime],
                                                monday: list[datetime]) -> None:
    sink, port = smtp
    settings = make_settings(tmp_path, port, [report("daily-0230", "30 2 * * *", tz), report("monday-0900", "0 9 * * 1", tz)])
    store = Store(f"sqlite:///{tmp_path / 'syncd.db'}")
    store.upgrade()
    seed(store, tmp_path, github)
    Scheduler(settings, store, clock=ManualClock(start, end=end)).run(heartbeat=False)
    fired: dict[str, list[datetime]] = {}
    for slot in ledger.slot_rows(store):
        assert slot.state == "done", slot
        fired.setdefault(slot.job, []).append(slot.slot_at)
    assert fired == {"daily-0230": daily, "monday-0900": monday}
    # each report was generated and mailed exactly at its slot time (the clock only jumps to wake-ups), once
    assert sorted(sent_at(sink)) == sorted(daily + monday)
    assert set(sink.by_header("X-Syncd-Slot").values()) == {1}


# -- catch-up after downtime ----------------------------------------------------------------------------


def test_missed_slot_within_grace_runs_once_and_outside_grace_is_skipped(seeded: Store, tmp_path: Path,
                                                                         smtp: tuple[Sink, int]) -> None:
    store = seeded
    sink, port = smtp
    settings = make_settings(tmp_path, port, [report("exec", "0 9 * * 1", "Europe/Berlin", grace_minutes=60),
                                              report("late", "0 7 * * 1", "Europe/Berlin", grace_minutes=60)])
    # an earlier life of the daemon ran both a week before
    for job, at in (("exec", utc(2026, 3, 23, 8)), ("late", utc(2026, 3, 23, 6))):
        ledger.claim_slot(store, job, at, owner="old", now=at, lease_s=60)
        ledger.finish_slot(store, job, at, owner="old", state="done", now=at)
    clock = ManualClock(utc(2026, 3, 30, 7, 40))  # Monday 09:40 CEST: down since last week
    sched = Scheduler(settings, store, clock=clock, replica="r1")
    assert sched.run_due() == 1
    assert sched.run_due() == 0
    assert Scheduler(settings, store, clock=clock, replica="r2").run_due() == 0  # a restart
    states = {(s.job, s.slot_at): (s.state, s.detail or "") for s in ledger.slot_rows(store)}
    assert states[("exec", utc(2026, 3, 30, 7))][0] == "done"  # 09:00 CEST, 40 minutes late: within grace
    state, detail = states[("late", utc(2026, 3, 30, 5))]  # 07:00 CEST, 2 h 40 late: skipped, recorded
    assert state == "skipped" and detail.startswith("missed: 2026-03-30 07:00 CEST")
    assert [m.message["X-Syncd-Slot"] for m in sink.messages] == ["exec 2026-03-30T07:00:00+00:00"]
    assert sent_at(sink) == [clock.t]
    [history] = report_history(store)
    assert (history.kind, history.audience, history.as_of) == ("status", "executive", clock.t)


def test_several_missed_slots_run_only_the_newest_within_grace(seeded: Store, tmp_path: Path,
                                                               smtp: tuple[Sink, int]) -> None:
    store = seeded
    sink, port = smtp
    settings = make_settings(tmp_path, port, [report("often", "*/15 * * * *", grace_minutes=60)])
    ledger.claim_slot(store, "often", utc(2026, 5, 4, 8), owner="old", now=utc(2026, 5, 4, 8), lease_s=60)
    ledger.finish_slot(store, "often", utc(2026, 5, 4, 8), owner="old", state="done", now=utc(2026, 5, 4, 8))
    Scheduler(settings, store, clock=ManualClock(utc(2026, 5, 4, 9, 40))).run_due()
    states = {s.slot_at.strftime("%H:%M"): s.state for s in ledger.slot_rows(store)}
    assert states == {"08:00": "done", "08:15": "skipped", "08:30": "skipped", "08:45": "skipped",
                      "09:00": "skipped", "09:15": "skipped", "09:30": "done"}
    assert len(sink.messages) == 1


def test_a_new_job_runs_its_latest_slot_within_grace_but_not_older_history(seeded: Store, tmp_path: Path,
                                                                          smtp: tuple[Sink, int]) -> None:
    store = seeded
    sink, port = smtp
    settings = make_settings(tmp_path, port, [report("exec", "0 9 * * *", grace_minutes=30)])
    Scheduler(settings, store, clock=ManualClock(utc(2026, 5, 4, 9, 20))).run_due()
    assert [(s.slot_at, s.state) for s in ledger.slot_rows(store)] == [(utc(2026, 5, 4, 9), "done")]


# -- takeover ---------------------------------------------------------------------------------------------


def test_claims_of_a_dead_replica_are_taken_over_after_the_lease(seeded: Store, tmp_path: Path,
                                                                 smtp: tuple[Sink, int]) -> None:
    store = seeded
    sink, port = smtp
    settings = make_settings(tmp_path, port, [report("exec", "0 9 * * *"), report("eng", "0 9 * * *",
                                                                                  audience="engineering")])
    t = utc(2026, 5, 4, 9, 0, 5)
    # replica "dead" claimed exec and was sending eng when it died
    ledger.claim_slot(store, "exec", utc(2026, 5, 4, 9), owner="dead", now=t, lease_s=60)
    ledger.claim_slot(store, "eng", utc(2026, 5, 4, 9), owner="dead", now=t, lease_s=60)
    ledger.begin_delivery(store, {"at": t, "job": "eng", "slot_at": utc(2026, 5, 4, 9), "kind": "status",
                                  "audience": "engineering", "format": "eml", "recipients": ["eng@acme.test"],
                                  "subject": "s", "message_id": "<x@acme.test>"}, owner="dead")
    clock = ManualClock(t + timedelta(seconds=10))
    live = Scheduler(settings, store, clock=clock, replica="live")
    live.exclusive = False  # as on PostgreSQL: other replicas may be alive, leases decide
    assert live.run_due() == 0 and sink.messages == []
    clock.t += timedelta(seconds=60)
    assert live.run_due() == 1
    states = {s.job: (s.state, s.owner, s.attempts) for s in ledger.slot_rows(store)}
    assert states == {"exec": ("done", "live", 2), "eng": ("uncertain", "dead", 1)}
    assert [m.message["X-Syncd-Slot"] for m in sink.messages] == ["exec 2026-05-04T09:00:00+00:00"]


def test_on_sqlite_a_restarted_daemon_recovers_at_once(tmp_path: Path, smtp: tuple[Sink, int], github: str) -> None:
    sink, port = smtp
    store = Store(f"sqlite:///{tmp_path / 'syncd.db'}")
    store.upgrade()
    seed(store, tmp_path, github)
    settings = make_settings(tmp_path, port, [report("exec", "0 9 * * *")])
    t = utc(2026, 5, 4, 9, 0, 5)
    ledger.claim_slot(store, "exec", utc(2026, 5, 4, 9), owner="before-crash", now=t, lease_s=600)
    assert Scheduler(settings, store, clock=ManualClock(t)).run_due() == 1
    assert len(sink.messages) == 1


# -- sprint-closed trigger --------------------------------------------------------------------------------


def sprint(n: int, complete: datetime | None) -> Sprint:
    return Sprint(id=f"jira:{n}", source="jira", remote_id=str(n), name=f"Sprint {n}",
                  state=SprintState.CLOSED if complete else SprintState.ACTIVE, complete=complete)


def test_sprint_review_is_sent_once_per_closed_sprint(seeded: Store, tmp_path: Path, smtp: tuple[Sink, int]) -> None:
    store = seeded
    sink, port = smtp
    entry = report("review", "0 18 * * 1-5", "Europe/Berlin", trigger="sprint-closed", kind="sprint-review",
                   audience=None, grace_minutes=120)
    settings = make_settings(tmp_path, port, [entry])
    store.apply_batch("jira", Batch(sprints=[sprint(1, utc(2026, 5, 1, 10)), sprint(2, utc(2026, 5, 5, 12)),
                                             sprint(3, utc(2026, 5, 5, 15)), sprint(4, None)]))
    clock = ManualClock(utc(2026, 5, 5, 16, 0, 1))  # Tuesday 18:00 CEST: sprints 2 and 3 closed today
    Scheduler(settings, store, clock=clock, replica="r1").run_due()
    assert [str(m.message["Subject"]).split(" — ")[0] for m in sink.messages] == [
        "[syncd] Sprint review: Sprint 2", "[syncd] Sprint review: Sprint 3"]
    assert [m.recipients for m in sink.messages] == [["eng@acme.test"]] * 2  # the kind's readers
    clock.t = utc(2026, 5, 6, 16, 0, 1)  # Wednesday: nothing new closed
    Scheduler(settings, store, clock=clock, replica="r2").run_due()
    assert len(sink.messages) == 2
    jobs = {s.job: s.state for s in ledger.slot_rows(store)}
    assert jobs == {"review": "done", "review/jira:2": "done", "review/jira:3": "done"}
    assert len(ledger.slot_rows(store, job="review")) == 2


# -- sync jobs --------------------------------------------------------------------------------------------


def test_sync_job_runs_each_source_once_and_skips_a_busy_one(store: Store, tmp_path: Path, github: str,
                                                             smtp: tuple[Sink, int]) -> None:
    _, port = smtp
    settings = make_settings(tmp_path, port, [{"name": "sync", "cron": "*/15 * * * *", "job": "sync"}],
                             sources={"gh": gh_source(github), "gh2": gh_source(github)}, database_url=store.url)
    clock = ManualClock(utc(2026, 5, 4, 9, 0, 1))
    with source_lock(settings, store, "sync-gh2"):  # another process is syncing gh2
        assert Scheduler(settings, store, clock=clock).run_due() == 2
    states = {s.job: (s.state, s.detail or "") for s in ledger.slot_rows(store)}
    assert states["sync/gh"][0] == "done" and states["sync/gh"][1].startswith("gh: ok: 10 new")
    assert states["sync/gh2"] == ("skipped", "source gh2 was being synced by another process")
    assert store.counts()["items"] == 10


# -- uncertain deliveries: hold (default) or resend with the same Message-ID (issue 19 item 6) -----------------
# (slots after the sandbox world's present, 2026-11-20: a report as of an earlier moment has no items yet)


@pytest.mark.parametrize("policy", ["hold", "resend"])
def test_a_delivery_cut_off_during_data_is_held_or_resent_with_the_same_message_id(
        seeded: Store, tmp_path: Path, smtp: tuple[Sink, int], policy: str) -> None:
    store = seeded
    sink, port = smtp
    cuts = []

    def cut_first(got: Any) -> str | None:  # the server keeps the message but the answer never arrives
        cuts.append(got)
        return "drop" if len(cuts) == 1 else None

    sink.on_data = cut_first
    settings = make_settings(tmp_path, port, [report("exec", "0 9 * * *")], delivery={"uncertain": policy})
    t = utc(2026, 11, 23, 9, 0, 5)
    scheduler = Scheduler(settings, store, clock=ManualClock(t), replica="r1")
    ran = scheduler.run_due()
    [slot] = ledger.slot_rows(store, job="exec")
    ids = [str(m.message["Message-ID"]) for m in sink.messages]
    statuses = [d["status"] for d in ledger.delivery_rows(store, job="exec")]
    if policy == "hold":
        assert ran == 1 and slot.state == "uncertain" and len(ids) == 1 and statuses == ["uncertain"]
        assert scheduler.run_due() == 0 and len(sink.messages) == 1  # never re-sent by itself
        return
    # resend: claimed again at once and sent with the slot's Message-ID: two copies, one id, slot done
    assert ran == 2 and slot.state == "done" and slot.attempts == 2, slot
    assert len(ids) == 2 and ids[0] == ids[1] == slot_message_id("exec", utc(2026, 11, 23, 9), "syncd@acme.test")
    assert statuses == ["sent", "uncertain"]  # newest first: the resend, then the cut-off one
    assert scheduler.run_due() == 0 and len(sink.messages) == 2


def test_resend_gives_up_after_max_resends_and_outside_grace(seeded: Store, tmp_path: Path,
                                                             smtp: tuple[Sink, int]) -> None:
    from syncd.scheduler import MAX_RESENDS

    store = seeded
    sink, port = smtp
    sink.on_data = lambda got: "drop"  # every hand-over is cut off
    settings = make_settings(tmp_path, port, [report("exec", "0 9 * * *", grace_minutes=30)],
                             delivery={"uncertain": "resend"})
    t = utc(2026, 11, 23, 9, 0, 5)
    assert Scheduler(settings, store, clock=ManualClock(t), replica="r1").run_due() == 1 + MAX_RESENDS
    [slot] = ledger.slot_rows(store, job="exec")
    assert slot.state == "uncertain" and slot.attempts == 1 + MAX_RESENDS and len(sink.messages) == 1 + MAX_RESENDS
    # a fresh uncertain slot found after its grace period is left for an operator
    sink.on_data = None
    ledger.claim_slot(store, "exec", utc(2026, 11, 24, 9), owner="dead", now=utc(2026, 11, 24, 9), lease_s=60)
    ledger.begin_delivery(store, {"at": utc(2026, 11, 24, 9), "job": "exec", "slot_at": utc(2026, 11, 24, 9),
                                  "kind": "status", "audience": "executive", "format": "eml",
                                  "recipients": ["ceo@acme.test"], "subject": "s", "message_id": "<m@acme.test>"},
                          owner="dead")
    late = Scheduler(settings, store, clock=ManualClock(utc(2026, 11, 24, 10, 0)), replica="r2")
    late.exclusive = False
    late.run_due()
    states = {s.slot_at: s.state for s in ledger.slot_rows(store, job="exec")}
    assert states[utc(2026, 11, 24, 9)] == "uncertain" and len(sink.messages) == 1 + MAX_RESENDS
