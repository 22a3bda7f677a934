"""The real `syncd run` process on SQLite: SIGKILL around SMTP sends loses or duplicates no slot,
SIGTERM during a sync leaves a consistent store and cursor, a second daemon on the file is refused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncd.jobs import sync_one
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls, Faults
from syncd.settings import Settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from tests.canon import canonical
from tests.daemon_process import ROOT, Daemon, wait_until, write_config
from tests.integration.test_sandbox_github import TOKEN, make_world
from tests.smtp_sink import Received, Sink, SmtpServer

pytestmark = pytest.mark.slow
MONDAY = "2026-11-23T09:00:30+00:00"  # 30 s after the Monday 09:00 slot of every report job below (after the
# sandbox world's present, 2026-11-20: a report replays the store to its slot's time)


@pytest.fixture
def github() -> Iterator[tuple[Any, Controls]]:
    controls = Controls()
    server = gh_sandbox.serve_github(make_world(issues=45, pulls=130), controls)
    yield server, controls
    server.stop()


def gh_source(url: str) -> dict[str, Any]:
    return {"type": "github", "base_url": url, "token": TOKEN, "repos": ["acme/widget", "acme/gadget"]}


def config(tmp_path: Path, *, schedule: list[dict[str, Any]], smtp_port: int = 25, **tables: dict[str, Any]) -> Path:
    return write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path / "data"), "log_level": "info"}, tables={
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "sender": "syncd@acme.test",
                 "timeout_s": 10},
        "reports.recipients": {"executive": ["ceo@acme.test"], "business": ["cmo@acme.test"],
                               "engineering": ["eng@acme.test"]},
        "daemon": {"heartbeat_seconds": 1, "lease_seconds": 5, "poll_seconds": 5},
        **tables,
    }, schedule=schedule)


def test_sigkill_around_sends_delivers_every_slot_exactly_once(tmp_path: Path, github: tuple[Any, Controls]) -> None:
    server, _ = github
    store = Store(f"sqlite:///{tmp_path / 'data' / 'syncd.db'}")
    store.upgrade()
    settings = Settings(sources={"gh": gh_source(server.url)}, data_dir=tmp_path / "data")
    assert (result := sync_one(settings, store, "gh")) is not None and result.ok  # reports need data
    jobs = [{"name": f"{n}-{a}", "cron": "0 9 * * 1", "job": "report", "kind": "status", "audience": a}
            for n, a in (("a", "executive"), ("b", "business"), ("c", "engineering"))]
    sink = Sink()
    daemon: list[Daemon] = []
    phase: dict[str, Any] = {"rcpt": 0, "data": 0, "quit": 0}

    # run 1: killed at the first RCPT, before any DATA: the slot must be sent again on restart
    def on_rcpt(address: str) -> str | None:
        phase["rcpt"] += 1
        if phase["rcpt"] == 1:
            daemon[-1].kill()
            return "451 4.3.0 going away"
        return None

    # run 2: the retried message goes through; the next is killed while the server holds its DATA
    # (kept, no answer sent): uncertain, never re-sent
    def on_data(got: Received) -> str | None:
        phase["data"] += 1
        if phase["data"] == 2:
            daemon[-1].kill()
            return "drop"
        return None

    # run 3: killed after the server accepted the message (at QUIT), before the daemon recorded it
    def on_quit() -> None:
        phase["quit"] += 1
        if phase["quit"] == 2:
            daemon[-1].kill()

    sink.on_rcpt, sink.on_data, sink.on_quit = on_rcpt, on_data, on_quit
    with SmtpServer(sink) as smtp:
        cfg = config(tmp_path, schedule=jobs, smtp_port=smtp.port)
        log = tmp_path / "daemon.log"
        try:
            for run in (1, 2, 3):
                daemon.append(Daemon(cfg, log, "--clock-start", MONDAY))
                assert daemon[-1].wait(90) == -signal.SIGKILL, f"run {run} was not killed:\n{daemon[-1].text()}"
            daemon.append(Daemon(cfg, log, "--clock-start", MONDAY))
            wait_until(lambda: all(s.state in ledger.TERMINAL for s in ledger.slot_rows(store))
                       and len(ledger.slot_rows(store)) == 3, 60, "every slot settled", daemons=(daemon[-1],))
            # a second daemon on the same SQLite file is refused with one line
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            second = subprocess.run([sys.executable, "-m", "syncd", "run", "--config", str(cfg)], env=env,
                                    capture_output=True, text=True, timeout=60)
            assert second.returncode == 1 and len(second.stderr.strip().splitlines()) == 1, second.stderr
            assert "is in use by another `syncd run`" in second.stderr and "use PostgreSQL" in second.stderr
            daemon[-1].terminate()
            assert daemon[-1].wait(60) == 0, daemon[-1].text()
        finally:
            for d in daemon:
                d.stop()
    slots = {s.job: s for s in ledger.slot_rows(store)}
    per_slot = sink.by_header("X-Syncd-Slot")
    assert per_slot == {f"{j['name']} 2026-11-23T09:00:00+00:00": 1 for j in jobs}, per_slot
    assert [s.state for s in slots.values()] == ["done", "uncertain", "uncertain"]
    assert slots["a-executive"].attempts == 2  # taken over after the first kill
    deliveries = {d["job"]: d["status"] for d in ledger.delivery_rows(store)}
    assert deliveries == {"a-executive": "sent", "b-business": "uncertain", "c-engineering": "uncertain"}
    assert "not sent again (uncertain)" in daemon[-1].text()


def test_sigterm_during_a_sync_leaves_a_consistent_store_and_cursor(tmp_path: Path,
                                                                    github: tuple[Any, Controls]) -> None:
    server, controls = github
    controls.set_faults(Faults(latency_ms=300))  # a sync of several seconds, batch by batch
    cfg = config(tmp_path, schedule=[{"name": "sync", "cron": "* * * * *", "job": "sync"}],
                 **{"sources.gh": gh_source(server.url)})
    store = Store(f"sqlite:///{tmp_path / 'data' / 'syncd.db'}")
    daemon = Daemon(cfg, tmp_path / "daemon.log", "--clock-start", MONDAY)
    try:
        # touch the database only once the daemon has created it (its first heartbeat comes after that)
        wait_until(lambda: (tmp_path / "data" / "daemon.health").exists() and _stored(store) > 0, 60,
                   "the first batch stored", daemons=(daemon,))
        daemon.terminate()
        assert daemon.wait(60) == 0, daemon.text()
    finally:
        daemon.stop()
    [run] = store.sync_runs()
    assert run["status"] == "ok" and "stopped before the end" in (run["error"] or "")
    stopped_at = canonical(store)
    assert ledger.slot_rows(store) == []  # the interrupted slot was released: it runs again on restart
    pulls = {p.item_id for p in store.pulls()}
    assert pulls <= store.item_ids("gh")  # no half-stored batch
    assert store.cursor("gh") is not None
    # resuming from the stored cursor ends exactly where an uninterrupted sync does
    controls.set_faults(Faults())
    settings = Settings(sources={"gh": gh_source(server.url)}, data_dir=tmp_path / "data")
    assert (resumed := sync_one(settings, store, "gh")) is not None and resumed.ok
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.upgrade()
    assert (full := sync_one(settings, fresh, "gh")) is not None and full.ok
    assert stopped_at != canonical(fresh)  # the sync really was cut short ...
    assert canonical(store) == canonical(fresh)  # ... and resuming from its cursor completes it
    assert store.counts()["items"] == 175


def _stored(store: Store) -> int:
    try:
        return store.counts()["items"]
    except Exception:  # the daemon may still be creating the schema
        return 0
