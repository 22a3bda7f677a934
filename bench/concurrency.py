"""Concurrency (issue 18 item 2): a first sync's wall time, sequential vs concurrent, with injected latency.

    .venv/bin/python bench/concurrency.py --latency-ms 100            # 10,000 items, 3 runs of each mode
    .venv/bin/python bench/concurrency.py --latency-ms 100 --issues 2000 --runs 1   # a smoke run

The sandbox (fake Jira Cloud + GitHub in a process of its own, `bench.suite_sandbox`) adds `--latency-ms`
to every request (`set_latency`; waited out outside its world lock, so requests in flight at once overlap).
Each run is the real CLI a user types, `syncd sync --config syncd.toml -q`, into a fresh SQLite store, with
`[sync] concurrent = false` (one source, one request, one page at a time) or `true` (Jira and GitHub at
once, each fetching its next page while the current one is stored, GitHub listing beside its GraphQL
batches). Wall time of the process, median of the runs; the requests the sandbox counted per endpoint must
be identical in both modes (the run fails otherwise). Prints a Markdown table with the load, writes
bench/results/concurrency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import child_env
from bench.suite_report import endpoints, machine, requests_of, table
from bench.suite_sandbox import Sandbox, SandboxInfo, floor_to_hour

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def _toml(value: Any) -> str:
    return json.dumps(value)  # strings and lists of strings: JSON's spelling is TOML's


def config_text(info: SandboxInfo, db: Path, concurrent: bool) -> str:
    """A syncd.toml for the sandbox's Jira site and GitHub host, in the given mode."""
    return "\n".join([
        f"database_url = {_toml(f'sqlite:///{db}')}",
        f"data_dir = {_toml(str(db.parent))}",
        "[sources.jira]", 'type = "jira"', f"url = {_toml(info.jira_url)}", f"email = {_toml(info.jira_email)}",
        f"token = {_toml(info.jira_token)}", f"projects = {_toml(info.projects)}", 'deployment = "cloud"',
        "[sources.github]", 'type = "github"', f"base_url = {_toml(info.github_url)}",
        f"token = {_toml(info.github_token)}", f"repos = {_toml(info.repos)}", f"jira_projects = {_toml(info.projects)}",
        "[sync]", f"concurrent = {'true' if concurrent else 'false'}", "",
    ])


def one_sync(sandbox: Sandbox, workdir: Path, concurrent: bool, run: int) -> dict[str, Any]:
    """One first sync through `syncd sync`: wall seconds and the sandbox's request counts."""
    folder = workdir / f"{'concurrent' if concurrent else 'sequential'}-{run}"
    folder.mkdir(parents=True)
    config = folder / "syncd.toml"
    config.write_text(config_text(sandbox.info, folder / "syncd.db", concurrent), encoding="utf-8")
    sandbox.reset()
    env = child_env(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    load = os.getloadavg()[0]
    children, server = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_of(sandbox.proc.pid)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "syncd", "sync", "--config", str(config), "-q"], cwd=folder,
                         env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    syncd_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    sandbox_cpu = _cpu_of(sandbox.proc.pid) - server
    if out.returncode != 0:
        raise RuntimeError(f"syncd sync failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    stats = sandbox.stats()
    return {"wall_s": round(wall, 2), "syncd_cpu_s": round(syncd_cpu, 2), "sandbox_cpu_s": round(sandbox_cpu, 2),
            "requests": requests_of(stats), "endpoints": endpoints(stats), "load_1min": round(load, 2)}


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (/proc/PID/stat), e.g. the sandbox's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, default=100.0, help="added by the sandbox to every request")
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    now = floor_to_hour(datetime.now(UTC))
    started_on = machine()
    runs: dict[str, list[dict[str, Any]]] = {"sequential": [], "concurrent": []}
    with Sandbox(args.issues, args.seed, now) as sandbox, tempfile.TemporaryDirectory(prefix="syncd-conc-") as tmp:
        sandbox.set_latency(args.latency_ms)
        for run in range(args.runs):  # interleaved, so a change of load falls on both modes alike
            for mode in ("sequential", "concurrent"):
                figures = one_sync(sandbox, Path(tmp), mode == "concurrent", run)
                runs[mode].append(figures)
                print(f"[{time.strftime('%H:%M:%S')}] {mode} run {run + 1}: {figures['wall_s']} s "
                      f"(CPU: syncd {figures['syncd_cpu_s']} s, sandbox {figures['sandbox_cpu_s']} s), "
                      f"{figures['requests']} requests, load {figures['load_1min']}", file=sys.stderr, flush=True)
        sandbox.set_latency(0.0)
    counts = {json.dumps(r["endpoints"], sort_keys=True) for rs in runs.values() for r in rs}
    if len(counts) != 1:
        raise SystemExit("concurrency bench: the two modes made different requests: "
                         + "; ".join(f"{m} {[r['requests'] for r in rs]}" for m, rs in runs.items()))
    median = {m: statistics.median(r["wall_s"] for r in rs) for m, rs in runs.items()}
    ratio = median["concurrent"] / median["sequential"]
    requests = runs["sequential"][0]["requests"]
    result = {"issues": args.issues, "seed": args.seed, "latency_ms": args.latency_ms, "runs": runs,
              "median_wall_s": median, "ratio": round(ratio, 3), "requests": requests,
              "endpoints": runs["sequential"][0]["endpoints"], "machine": started_on,
              "load_end": [round(x, 2) for x in os.getloadavg()]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "concurrency.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    m = started_on
    print(f"First sync of {args.issues:,} items (seed {args.seed}), {args.latency_ms:g} ms added to every request, "
          f"median of {args.runs}; {m['nproc']} cores, load {m['load_start'][0]} at start, "
          f"{result['load_end'][0]} at end; commit {m['commit']}\n")
    print(table(["mode", "wall s (median)", "runs (s)", "syncd CPU s", "sandbox CPU s", "latency s", "requests"], [
        [mode, f"{median[mode]:.1f}", ", ".join(f"{r['wall_s']:.1f}" for r in rs),
         f"{statistics.median(r['syncd_cpu_s'] for r in rs):.1f}", f"{statistics.median(r['sandbox_cpu_s'] for r in rs):.1f}",
         f"{rs[0]['requests'] * args.latency_ms / 1000:.1f}", rs[0]["requests"]]
        for mode, rs in runs.items()]))
    print("\n(latency s: requests x latency, what a sequential sync waits in all; CPU medians of the runs)")
    print(f"\nconcurrent / sequential = {ratio:.2f} (acceptance: <= 0.65); requests identical endpoint by endpoint "
          f"({requests} each run)")


if __name__ == "__main__":
    main()
