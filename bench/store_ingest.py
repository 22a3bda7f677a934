"""Benchmark: the store's share of a first sync alone, on the batches of a replayed 10k first sync.

`bench/replay.py` measures a whole sync; the store is a third of it and the rest (HTTP, parsing, mapping) is
noise when one store change is weighed. Here the batches `Store.apply_batch` received during one replayed
first sync (sequential, after the storability check, so with their kept raw JSON) are pickled once to
bench/results/ and then applied, in their order, to a fresh SQLite store in a child process: the CPU of the
`apply_batch` calls and the store's closing (its WAL checkpoint) alone (`time.process_time`), the rows stored, and the commit count. Fastest of `--runs`
(the least disturbed by other processes), all runs printed with the load.

    python bench/store_ingest.py [--recording bench/results/rec10k.pickle] [--runs 5] [--apply-only]

The collector is set as `syncd sync` sets it (start-up frozen, `collector.SYNC_THRESHOLDS`).

`--apply-only` runs one application in this process and exits: for `valgrind --tool=callgrind`, whose
instruction counts stay put when the machine is loaded (the pickle must exist; loading it is counted too,
so compare a run against a run).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BATCHES = RESULTS / "store_ingest.batches.pickle"


def capture(recording_path: Path, out: Path) -> int:
    """Replay one sequential first sync in this process, keeping every batch the store was given; their count."""
    import shutil

    from bench import replay
    from syncd.settings import Settings
    from syncd.store import Store
    from syncd.store._store import Store as StoreClass

    with open(recording_path, "rb") as fh:
        recording = pickle.load(fh)
    info = json.loads(recording_path.with_suffix(".info.json").read_text())
    server = replay.ReplayServer(recording)
    kept: list[tuple[str, bytes]] = []
    original = StoreClass.apply_batch

    def keeping(self: Any, source: str, batch: Any) -> Any:
        kept.append((source, pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)))
        return original(self, source, batch)

    tmp = Path(tempfile.mkdtemp())
    try:
        settings = Settings(sources=replay.sources(server.urls["jira"], server.urls["github"],
                                                   argparse.Namespace(**info)),
                            database_url=f"sqlite:///{tmp / 'capture.db'}", data_dir=tmp,
                            sync={"concurrent": False})
        store = Store(settings.database_url or "")
        store.upgrade()
        StoreClass.apply_batch = keeping  # type: ignore[method-assign]
        try:
            from syncd.sync import sync_all

            results = sync_all(settings, store)
        finally:
            StoreClass.apply_batch = original  # type: ignore[method-assign]
        store.close()
        bad = [r for r in results if not r.ok]
        if bad:
            raise RuntimeError(f"capture sync failed: {bad[0].error}")
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    with open(out, "wb") as fh:
        pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return len(kept)


def apply_all(batches_path: Path, db: Path) -> dict[str, Any]:
    """Apply the captured batches in order to a fresh store at `db`; the CPU of the calls and what was stored."""
    import gc

    from sqlalchemy import event

    from syncd.store import Store

    gc.disable()  # loading every batch at once is this bench's own cost: no collections during it
    with open(batches_path, "rb") as fh:
        kept = [(source, pickle.loads(blob)) for source, blob in pickle.load(fh)]
    gc.enable()
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    try:  # the collector as during a sync (`syncd sync`: start-up frozen, sync thresholds)
        from syncd.collector import SYNC_THRESHOLDS, freeze_startup

        freeze_startup()
        gc.set_threshold(*SYNC_THRESHOLDS)
    except ImportError:  # a syncd from before issue 18 item 3
        pass
    commits = [0]
    event.listen(store.engine, "commit", lambda _conn: commits.__setitem__(0, commits[0] + 1))
    items = 0
    cpu = 0.0
    for source, batch in kept:
        items += len(batch.items)
        started = time.process_time()
        store.apply_batch(source, batch)
        cpu += time.process_time() - started
    counts = store.counts()
    started = time.process_time()
    store.close()  # the last connection's close checkpoints the WAL into the database: part of the cost
    cpu += time.process_time() - started
    return {"cpu_s": cpu, "batches": len(kept), "items_in_batches": items, "commits": commits[0], "store": counts}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recording", type=Path, default=RESULTS / "rec10k.pickle",
                        help="a bench/replay.py recording (written by `replay.py --recording PATH`)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--recapture", action="store_true", help="capture the batches again")
    parser.add_argument("--apply-only", action="store_true", help="one application here (for callgrind)")
    parser.add_argument("--batches", type=Path, default=BATCHES, help="where the captured batches are kept")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.apply_only:
            print(json.dumps(apply_all(args.batches, Path(tmp) / "store.db")))
            return
        if args.recapture or not args.batches.exists():
            n = capture(args.recording, args.batches)
            print(f"captured {n} batches to {args.batches}", file=sys.stderr)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        runs = []
        for run in range(args.runs):
            out = subprocess.run([sys.executable, "-m", "bench.store_ingest", "--apply-only", "--batches",
                                  str(args.batches)], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = runs[-1]
            print(f"run {run + 1}/{args.runs}: apply_batch {r['cpu_s']:.3f} CPU s, {r['batches']} batches, "
                  f"{r['commits']} commits, {r['store']['items']} items (load {os.getloadavg()[0]:.1f})",
                  file=sys.stderr)
    best = min(runs, key=lambda r: r["cpu_s"])
    print(json.dumps({"fastest_cpu_s": round(best["cpu_s"], 3), "cpu_s": [round(r["cpu_s"], 3) for r in runs],
                      "batches": best["batches"], "commits": best["commits"], "store": best["store"],
                      "load": os.getloadavg()}))


if __name__ == "__main__":
    main()
