"""Issue 19 acceptance: a kill-storm of `syncd run` against an SMTP server that defers and drops.

Real daemons on a shared fast virtual clock send report jobs every (virtual) minute to an aiosmtpd
server that answers 8% of messages `451` after the body (kept nothing: the delivery must retry)
and cuts 5% of connections right after keeping the body (the answer never arrives: uncertain).
The daemons are SIGKILLed at random moments, at least 25 times: one daemon at a time on SQLite,
two replicas on PostgreSQL. Then a last daemon (or pair) settles what is left, and the ledger is
checked against what the server kept, by the X-Syncd-Slot header of every kept message:

- no slot is `done` without a message kept for it (a refused or deferred message is never "sent");
- no slot has two messages unless `delivery.uncertain = "resend"`, and then every copy carries the
  slot's own Message-ID (so clients de-duplicate them);
- every slot up to four virtual minutes after the storm ends in a terminal state.

Most slots end `skipped` (superseded: reports every virtual minute outpace a loaded machine, and a
restarted daemon runs only the newest missed slot); what counts is that none is lost or doubled.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.delivery import slot_message_id
from syncd.jobs import sync_one
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls
from syncd.settings import Settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from tests.daemon_process import Daemon, wait_until, write_config
from tests.integration.test_sandbox_github import TOKEN, make_world
from tests.smtp_sink import Received, Sink, SmtpServer

pytestmark = pytest.mark.slow
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday after the sandbox world's present (2026-11-20)
SPEED = 30.0  # one virtual minute every two real seconds
KILLS = 26
SENDER = "syncd@acme.test"


@pytest.fixture
def github() -> Iterator[Any]:
    server = gh_sandbox.serve_github(make_world(issues=20, pulls=20), Controls())
    yield server
    server.stop()


def faulty_sink(seed: int) -> Sink:
    """A sink that answers 451 to 8% of message bodies (keeping nothing) and cuts 5% after keeping them."""
    sink, rng = Sink(), random.Random(seed)

    def on_data(got: Received) -> str | None:
        roll = rng.random()
        if roll < 0.05:
            return "drop"
        if roll < 0.13:
            return "451 4.3.0 try again later"
        return None

    sink.on_data = on_data
    return sink


def storm_config(tmp_path: Path, *, database_url: str, smtp_port: int, policy: str) -> Path:
    return write_config(tmp_path / "syncd.toml", top={"database_url": database_url, "data_dir": str(tmp_path / "data"),
                                                      "log_level": "info"}, tables={
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "sender": SENDER, "timeout_s": 10},
        "smtp.retry": {"attempts": 5, "max_wait_s": 0.3, "total_s": 20},
        "reports.recipients": {"executive": ["ceo@acme.test"], "engineering": ["eng@acme.test"]},
        "delivery": {"uncertain": policy},
        "daemon": {"heartbeat_seconds": 5, "lease_seconds": 60, "poll_seconds": 30},
    }, schedule=[
        {"name": "exec", "cron": "* * * * *", "job": "report", "kind": "status", "audience": "executive"},
        {"name": "eng", "cron": "*/2 * * * *", "job": "report", "kind": "status", "audience": "engineering"},
    ])


def seed_store(url: str, server: Any, tmp_path: Path) -> Store:
    store = Store(url)
    store.upgrade()
    source = {"type": "github", "base_url": server.url, "token": TOKEN, "repos": ["acme/widget"]}
    result = sync_one(Settings(sources={"gh": source}, data_dir=tmp_path), store, "gh")
    assert result is not None and result.ok, result  # reports need data
    return store


def storm(cfg: Path, tmp_path: Path, store: Store, *, replicas: int, seed: int) -> int:
    """Run `replicas` daemons, SIGKILL one at a random moment KILLS times (restarting it), then let a
    last set settle every slot and stop them with SIGTERM; return how many kills hit a live daemon.

    Each kill waits until the daemon it hits has started (imports, migration, lock), then a random
    0.2 to 3 s (up to 1.5 virtual minutes), so kills land in generation, SMTP and ledger writes alike.
    """
    rng = random.Random(seed)
    epoch = time.time()
    clock = ["--clock-start", START.isoformat(), "--clock-speed", str(SPEED), "--clock-epoch", repr(epoch)]

    def spawn(n: int) -> Daemon:
        return Daemon(cfg, tmp_path / f"r{n}.log", *clock, env={"SYNCD_DAEMON__REPLICA_ID": f"r{n}"})

    def up(n: int, starts: int) -> bool:
        log = tmp_path / f"r{n}.log"
        return log.exists() and log.read_text(errors="replace").count(f"replica r{n} started") >= starts

    def virtual_now() -> datetime:
        return START + timedelta(seconds=(time.time() - epoch) * SPEED)

    running = [spawn(n) for n in range(replicas)]
    starts = [1] * replicas
    killed = 0
    pause = threading.Event()
    try:
        for _ in range(KILLS):
            n = rng.randrange(replicas)
            wait_until(lambda: up(n, starts[n]), 90, f"replica r{n} up", daemons=(running[n],))
            pause.wait(rng.uniform(0.2, 3.0))  # up to 1.5 virtual minutes: kills land in every phase of a send
            if running[n].alive():
                running[n].kill()
                killed += 1
            running[n].wait(30)
            running[n], starts[n] = spawn(n), starts[n] + 1
        for n in range(replicas):
            wait_until(lambda: up(n, starts[n]), 90, f"replica r{n} up", daemons=(running[n],))
        quiet_from = virtual_now() + timedelta(minutes=4)  # slots up to here are settled by the last daemons

        def settled() -> bool:
            rows = [s for s in ledger.slot_rows(store) if s.slot_at < quiet_from]
            return virtual_now() > quiet_from + timedelta(minutes=1) and all(s.state in ledger.TERMINAL for s in rows)

        wait_until(settled, 180, "every slot settled after the storm", daemons=tuple(running))
        for d in running:
            d.terminate()
        for d in running:
            assert d.wait(60) == 0, d.text()[-3000:]
    finally:
        for d in running:
            d.stop()
    return killed


def check(store: Store, sink: Sink, *, policy: str) -> dict[str, int]:
    """The issue's two invariants, slot by slot; returns the slot states counted."""
    kept: dict[str, list[str]] = {}
    for m in sink.messages:
        kept.setdefault(str(m.message["X-Syncd-Slot"]), []).append(str(m.message["Message-ID"]))
    rows = [s for s in ledger.slot_rows(store)]
    table = "\n".join(f"{s.job} {s.slot_at:%H:%M} {s.state} {s.owner} {s.attempts} {s.detail}" for s in rows)
    states: dict[str, int] = {}
    for s in rows:
        key = f"{s.job} {s.slot_at.isoformat()}"
        states[s.state] = states.get(s.state, 0) + 1
        copies = kept.get(key, [])
        if s.state == "done":
            assert copies, f"{key} is done but the server kept no message for it\n{table}"
        if policy == "hold":
            assert len(copies) <= 1, f"{key}: {len(copies)} messages without resend\n{table}"
        assert set(copies) <= {slot_message_id(s.job, s.slot_at, SENDER)}, (key, copies)
    slot_keys = {f"{s.job} {s.slot_at.isoformat()}" for s in rows}
    assert set(kept) <= slot_keys, "a message for a slot the ledger does not know"
    return states


@pytest.mark.parametrize("policy", ["hold", "resend"])
def test_kill_storm_on_sqlite(tmp_path: Path, github: Any, policy: str) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'syncd.db'}"
    store = seed_store(url, github, tmp_path)
    sink = faulty_sink(seed=11)
    with SmtpServer(sink) as smtp:
        cfg = storm_config(tmp_path, database_url=url, smtp_port=smtp.port, policy=policy)
        killed = storm(cfg, tmp_path, store, replicas=1, seed=5)
    states = check(store, sink, policy=policy)
    print(f"kill storm sqlite {policy}: {killed} kills, slots {states}, messages kept {len(sink.messages)}")
    assert killed >= 25
    assert states.get("done", 0) >= 5, states
    store.close()


@pytest.mark.postgres
def test_kill_storm_on_two_postgresql_replicas(tmp_path: Path, github: Any, pg_url: str) -> None:
    store = seed_store(pg_url, github, tmp_path)
    sink = faulty_sink(seed=12)
    with SmtpServer(sink) as smtp:
        cfg = storm_config(tmp_path, database_url=pg_url, smtp_port=smtp.port, policy="hold")
        killed = storm(cfg, tmp_path, store, replicas=2, seed=6)
    states = check(store, sink, policy="hold")
    print(f"kill storm postgresql x2 hold: {killed} kills, slots {states}, messages kept {len(sink.messages)}")
    assert killed >= 25
    assert states.get("done", 0) >= 5, states
    store.close()
