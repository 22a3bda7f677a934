"""One syncd sync of the sandbox, in a child process of its own (so its peak RSS is its own).

    python -m bench.suite_syncd '{"db": PATH, "full": false, "sources": {...}}'

`sources` maps a source name to its settings as `syncd.toml` would hold them (`type = "jira"` or
`"github"`). The child runs the real sync engine (`syncd.sync.sync_source`, the real connectors and
SQLite store) on each source in turn and prints one JSON object: per-source results, wall seconds,
peak RSS and what the store then holds. Requests are counted by the sandbox, not here; the
connectors' own counts are printed beside them as a cross-check.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_sync(db: Path, sources: dict[str, dict[str, Any]], *, full: bool = False, timeout: float = 1800) -> dict[str, Any]:
    """Run one sync of `sources` into the SQLite store at `db` in a child process; its JSON report."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    spec = json.dumps({"db": str(db), "full": full, "sources": sources})
    out = subprocess.run([sys.executable, "-m", "bench.suite_syncd", spec], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"syncd sync failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    failed = [s for s in report["sources"] if not s["ok"]]
    if failed:
        raise RuntimeError("syncd sync failed: " + "; ".join(f"{s['source']}: {s['error']}" for s in failed))
    return report


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    from pydantic import TypeAdapter

    from syncd.connectors.config import SourceConfig
    from syncd.store import Store
    from syncd.sync import build_connector, sync_source

    store = Store(f"sqlite:///{spec['db']}")
    store.upgrade()
    adapter: TypeAdapter[Any] = TypeAdapter(SourceConfig)
    results = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    for name, raw in spec["sources"].items():
        connector = build_connector(name, adapter.validate_python(raw))
        result = sync_source(store, name, connector, full=spec["full"])
        r = result.result
        results.append({"source": name, "ok": result.ok, "error": result.error, "seconds": round(result.seconds, 3),
                        "connector_requests": result.requests, "new": r.new, "updated": r.updated,
                        "removed": r.removed, "unchanged": r.unchanged})
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    peak_rss_mib = usage.ru_maxrss / 1024  # before counting anything
    counts = store.counts()
    counts["reviews"] = sum(len(p.reviews) for p in store.pulls())
    store.close()
    return {"sources": results, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss_mib": round(peak_rss_mib, 1), "store": counts}


def main() -> None:
    """Child process entry: run the sync described by argv[1], print its report as one JSON line."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(json.dumps(_child(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
