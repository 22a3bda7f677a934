"""The daemon syncs the due slots of different services at once (issue 18 item 2), those of one service one
after the other: measured from the sandbox servers' own request logs, each slot settled once in the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls, Faults, RunningServer
from syncd.scheduler import Scheduler
from syncd.settings import Settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from tests.integration.test_sandbox_github import TOKEN, make_world

NOW = datetime(2026, 5, 4, 9, 0, 1, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW

    def wait(self, seconds: float, stop: object) -> bool:
        return False


@pytest.fixture
def hosts() -> Iterator[list[tuple[RunningServer, Controls]]]:
    """Two GitHub hosts (two services), each answering after 40 ms."""
    out = []
    for _ in range(2):
        controls = Controls()
        controls.set_faults(Faults(latency_ms=40))
        out.append((gh_sandbox.serve_github(make_world(issues=9, pulls=6), controls), controls))
    yield out
    for server, _ in out:
        server.stop()


def _settings(tmp_path: Path, store: Store, urls: list[str], *, concurrent: bool) -> Settings:
    sources = {f"gh{n}": {"type": "github", "base_url": url, "token": TOKEN, "repos": ["acme/widget"]}
               for n, url in enumerate(urls)}
    sources["gh0b"] = {"type": "github", "base_url": urls[0], "token": TOKEN, "repos": ["acme/widget"]}
    return Settings(data_dir=tmp_path, database_url=store.url, sources=sources, sync={"concurrent": concurrent},
                    schedule=[{"name": "sync", "cron": "*/15 * * * *", "job": "sync"}],
                    daemon={"poll_seconds": 86400, "lease_seconds": 60})


def _span(controls: Controls) -> tuple[float, float]:
    return min(b for *_, b, _ in controls.log), max(e for *_, e in controls.log)


@pytest.mark.parametrize("concurrent", [True, False])
def test_due_syncs_of_two_hosts_run_at_once(store: Store, tmp_path: Path, hosts: list[tuple[RunningServer, Controls]],
                                            concurrent: bool) -> None:
    (one, first), (two, second) = hosts
    settings = _settings(tmp_path, store, [one.url, two.url], concurrent=concurrent)
    assert Scheduler(settings, store, clock=Clock()).run_due() == 3
    states = {s.job: s.state for s in ledger.slot_rows(store)}
    assert states == {"sync/gh0": "done", "sync/gh1": "done", "sync/gh0b": "done"}
    # gh0 and gh0b (one host) one after the other: the host never had two list requests at once
    listings = [(b, e) for _, path, b, e in first.log if path.endswith("/issues")]
    assert len(listings) == 2
    (b1, e1), (b2, e2) = sorted(listings)
    assert e1 <= b2
    # the two hosts' requests overlap in time when concurrent, never otherwise
    (s1, f1), (s2, f2) = _span(first), _span(second)
    overlap = min(f1, f2) - max(s1, s2)
    assert (overlap > 0) == concurrent, (overlap, concurrent)
    # each host's items stored once: 15 each, the same repository on both hosts under different sources
    assert store.counts()["items"] == 45
