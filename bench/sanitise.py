"""Benchmark: the storability check (`connectors/sanitise.sanitise_batch`) alone, on a real first sync's batches.

The sandbox (seed 7, `--issues` work items, Jira Cloud + GitHub as bench/run_all.py has them) is synced once
through the real connectors into a scratch SQLite store, with every batch copied as the engine hands it to
the check. Then `sanitise_batch` runs over fresh copies of those batches `--passes` times in this process;
the fastest pass's process CPU is printed (the check is single-threaded, so CPU time is its cost; under load
it is inflated, so say the load beside it, which this prints).

    python bench/sanitise.py [--issues 2000] [--passes 10]
"""

from __future__ import annotations

import argparse
import copy
import os
import pickle
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_all import cloud_sources
from bench.suite_sandbox import Sandbox
from syncd import sync
from syncd.connectors.sanitise import sanitise_batch
from syncd.model import Batch
from syncd.settings import Settings
from syncd.store import Store

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def captured_batches(issues: int, seed: int) -> list[Batch]:
    """The batches of a first sync of the sandbox's world, as they reach the storability check."""
    batches: list[Batch] = []
    real = sync.sanitise_batch

    def keep(batch: Batch) -> Any:
        batches.append(copy.deepcopy(batch))
        return real(batch)

    sync.sanitise_batch = keep  # type: ignore[assignment]
    try:
        with Sandbox(issues, seed, NOW) as sandbox, tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/capture.db")
            store.upgrade()
            settings = Settings(sources=cloud_sources(sandbox.info), data_dir=Path(tmp))  # type: ignore[arg-type]
            results = sync.sync_all(settings, store, full=True)
            store.close()
            failed = [r.error for r in results if not r.ok]
            if failed:
                raise RuntimeError(f"capture sync failed: {failed}")
    finally:
        sync.sanitise_batch = real
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--passes", type=int, default=10)
    args = parser.parse_args()
    blob = pickle.dumps(captured_batches(args.issues, args.seed), protocol=5)
    best = float("inf")
    records = 0
    for _ in range(args.passes):
        batches: list[Batch] = pickle.loads(blob)
        records = sum(len(b.items) + len(b.pulls) + len(b.links) + len(b.transitions) + len(b.sprints)
                      + len(b.releases) + len(b.people) for b in batches)
        started = time.process_time()
        for batch in batches:
            sanitise_batch(batch)
        best = min(best, time.process_time() - started)
    print(f"sanitise_batch: {len(batches)} batches, {records:,} records: fastest of {args.passes} passes "
          f"{best * 1000:.1f} ms CPU ({records / best:,.0f} records/CPU-s); load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
