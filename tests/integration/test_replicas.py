"""Three `syncd run` replicas on one PostgreSQL database, on a shared fast virtual clock (60x):
every sync and every delivery happens exactly once, and a replica killed mid-sync loses nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.jobs import sync_one
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls, Faults
from syncd.settings import Settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from tests.daemon_process import Daemon, wait_until, write_config
from tests.integration.test_sandbox_github import TOKEN, make_world
from tests.smtp_sink import Sink, SmtpServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
START = datetime(2026, 11, 23, 8, 50, tzinfo=UTC)  # a Monday after the sandbox world's present (reports replay to their slot)
SPEED = 30.0  # one virtual minute every two real seconds
SLOTS = 8  # minutes checked after every replica is up


def test_three_replicas_share_the_work_exactly_once(pg_url: str, tmp_path: Path) -> None:
    controls = Controls()
    server = gh_sandbox.serve_github(make_world(issues=45, pulls=130), controls)
    sink = Sink()
    replicas: list[Daemon] = []
    try:
        sources = {name: {"type": "github", "base_url": server.url, "token": TOKEN, "repos": [repo]}
                   for name, repo in (("widget", "acme/widget"), ("gadget", "acme/gadget"))}
        store = Store(pg_url)
        store.upgrade()
        seed = Settings(sources=sources, data_dir=tmp_path)
        assert all((r := sync_one(seed, store, name)) is not None and r.ok for name in sources)  # reports need data
        baseline = len(store.sync_runs())
        controls.set_faults(Faults(latency_ms=30))  # syncs long enough to be caught mid-way
        with SmtpServer(sink) as smtp:
            cfg = write_config(tmp_path / "syncd.toml", top={"database_url": pg_url, "data_dir": str(tmp_path / "data")},
                               tables={
                **{f"sources.{n}": {k: v for k, v in s.items()} for n, s in sources.items()},
                "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "sender": "syncd@acme.test"},
                "reports.recipients": {"executive": ["ceo@acme.test"], "engineering": ["eng@acme.test"]},
                "daemon": {"heartbeat_seconds": 5, "lease_seconds": 60, "poll_seconds": 30},
            }, schedule=[
                {"name": "sync", "cron": "* * * * *", "job": "sync"},
                {"name": "exec", "cron": "*/2 * * * *", "job": "report", "kind": "status", "audience": "executive"},
                {"name": "eng", "cron": "*/4 * * * *", "job": "report", "kind": "status", "audience": "engineering"},
            ])
            epoch = time.time()
            clock = ["--clock-start", START.isoformat(), "--clock-speed", str(SPEED), "--clock-epoch", repr(epoch)]
            for n in (1, 2, 3):
                replicas.append(Daemon(cfg, tmp_path / f"r{n}.log", *clock, env={"SYNCD_DAEMON__REPLICA_ID": f"r{n}"}))

            def virtual_now() -> datetime:
                return START + timedelta(seconds=(time.time() - epoch) * SPEED)

            wait_until(lambda: len(ledger.live_leases(store, prefix="replica:", now=virtual_now())) == 3, 60,
                       "three live replicas", daemons=tuple(replicas))
            first = virtual_now().replace(second=0, microsecond=0) + timedelta(minutes=2)
            last = first + timedelta(minutes=SLOTS - 1)
            minutes = [first + timedelta(minutes=i) for i in range(SLOTS)]
            expected = {(f"sync/{src}", m) for src in sources for m in minutes}
            expected |= {("exec", m) for m in minutes if m.minute % 2 == 0}
            expected |= {("eng", m) for m in minutes if m.minute % 4 == 0}

            def r2_syncing() -> list[ledger.Slot]:
                return [s for s in ledger.slot_rows(store, prefix="sync/")
                        if s.owner == "r2" and s.state == "claimed" and s.slot_at >= first]

            wait_until(lambda: bool(r2_syncing()), 60, "r2 in the middle of a sync", step=0.01, daemons=tuple(replicas))
            replicas[1].kill()
            [victim] = r2_syncing()
            assert replicas[1].wait(30) != 0

            def settled() -> bool:
                # every expected slot recorded (a loaded machine may record the last ones late) and finished
                rows = [s for s in ledger.slot_rows(store) if first <= s.slot_at <= last]
                return (virtual_now() > last + timedelta(minutes=1) and {(s.job, s.slot_at) for s in rows} >= expected
                        and all(s.state in ledger.TERMINAL for s in rows))

            def unsettled() -> str:
                rows = {(s.job, s.slot_at): s.state for s in ledger.slot_rows(store) if first <= s.slot_at <= last}
                return ", ".join(f"{j} {m:%H:%M} {rows.get((j, m), 'not recorded')}" for j, m in sorted(expected)
                                 if rows.get((j, m)) not in ledger.TERMINAL)

            wait_until(settled, 120, "every slot up to the last one settled", daemons=(replicas[0], replicas[2]),
                       detail=unsettled)
            for d in (replicas[0], replicas[2]):
                d.terminate()
            for d in (replicas[0], replicas[2]):
                assert d.wait(60) == 0, d.text()
    finally:
        for d in replicas:
            d.stop()
        server.stop()

    rows = {(s.job, s.slot_at): s for s in ledger.slot_rows(store) if first <= s.slot_at <= last}
    table = "\n".join(f"{s.job} {s.slot_at:%H:%M} {s.state} {s.owner} {s.attempts} {s.updated_at:%H:%M:%S} {s.detail}"
                      for s in ledger.slot_rows(store))
    assert set(rows) == expected, f"first {first:%H:%M} victim {victim}\n{table}"  # every slot recorded once ...
    # ... and ran to the end; a sync slot that came due while the previous sync of its source still ran (a
    # loaded machine at 30x) is skipped as superseded by design, a report slot never is
    assert all(s.state == "done" or (s.job.startswith("sync/") and s.state == "skipped"
                                     and (s.detail or "").startswith("superseded")) for s in rows.values()), table
    assert all(s.state == "done" for s in rows.values() if not s.job.startswith("sync/")), table
    # the killed replica's sync was taken over and finished by another replica
    taken = rows[(victim.job, victim.slot_at)]
    assert taken.owner in ("r1", "r3") and taken.attempts == 2
    # each sync ran exactly once per slot: runs that finished = slots done; a run the killed replica had
    # started was closed as abandoned by the next sync of its source
    runs = store.sync_runs(limit=10_000)[: len(store.sync_runs(limit=10_000)) - baseline]
    for src in sources:
        done = [s for s in ledger.slot_rows(store, prefix=f"sync/{src}") if s.state == "done"]
        finished = [r for r in runs if r["source"] == src and r["status"] == "ok"]
        assert len(finished) == len(done), (src, len(finished), len(done))
    assert all(r["status"] == "ok" or r["error"].startswith("abandoned") for r in runs), runs
    assert sum(r["status"] == "failed" for r in runs) <= 1
    # each delivery exactly once at the SMTP server, and the work was spread over the replicas
    reports = {f"{job} {at.isoformat()}" for job, at in expected if not job.startswith("sync/")}
    counts = sink.by_header("X-Syncd-Slot")
    assert {k: v for k, v in counts.items() if k in reports} == dict.fromkeys(reports, 1)
    assert all(v == 1 for v in counts.values())
    assert {s.owner for s in rows.values()} >= {"r1", "r3"}
