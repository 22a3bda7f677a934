"""Benchmark: `syncd export --format jsonl` streams a large store in bounded memory.

Builds SQLite stores of 10,000 and 100,000 items (cached under bench/results/), then runs the real
CLI in a subprocess and prints items/s, seconds and peak RSS (median of --runs). Bounded memory
shows as a peak RSS that does not grow with the store.

    python bench/export.py [--runs 3] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import child_env  # noqa: E402
from syncd.model import Batch, ItemKind, StatusCategory, WorkItem  # noqa: E402
from syncd.store import Store  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def build_store(path: Path, n: int) -> None:
    """A store of n plain Jira-like items, built once and reused."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    store = Store(f"sqlite:///{tmp}")
    store.upgrade()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    batch: list[WorkItem] = []
    for i in range(n):
        batch.append(WorkItem(
            id=f"bench:{i}", source="bench", source_type="jira", remote_id=str(i), key=f"WID-{i}",
            project="WID", kind=ItemKind.STORY, title=f"Story number {i} with a realistic title length",
            status="In Progress", status_category=StatusCategory.IN_PROGRESS, labels=["a", "b"],
            created=t0 + timedelta(minutes=i), updated=t0 + timedelta(minutes=i + 5), estimate=3.0,
            description="As a user I want things. Acceptance criteria: it works." * 3,
        ))
        if len(batch) == 2000:
            store.apply_batch("bench", Batch(items=batch))
            batch = []
    if batch:
        store.apply_batch("bench", Batch(items=batch))
    store.close()
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(tmp) + suffix)
        if src.exists():
            src.rename(str(path) + suffix)


def run_export(db: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one `syncd export` child process."""
    cmd = [sys.executable, "-c",
           "import resource,sys; from syncd.cli import main; "
           "sys.argv=['syncd','export','--format','jsonl','-o','/dev/null','--database-url',sys.argv[1]];\n"
           "try:\n main()\nexcept SystemExit:\n pass\n"
           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)",
           f"sqlite:///{db}"]
    start = time.perf_counter()
    out = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    rss_kib = int(out.stderr.strip().splitlines()[-1])
    return seconds, rss_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    rows = []
    print(f"{'items':>8} {'seconds':>8} {'items/s':>9} {'peak RSS MiB':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        db = RESULTS / f"export-{n}.db"
        build_store(db, n)
        runs = [run_export(db) for _ in range(args.runs)]
        secs = statistics.median(r[0] for r in runs)
        rss = statistics.median(r[1] for r in runs)
        rows.append({"items": n, "seconds": round(secs, 2), "items_per_s": round(n / secs), "peak_rss_mib": round(rss, 1)})
        print(f"{n:>8} {secs:>8.2f} {n / secs:>9.0f} {rss:>13.1f}")
    (RESULTS / "export.json").write_text(json.dumps({"bench": "export", "median_of": args.runs, "rows": rows}, indent=2))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    main()
