"""Benchmark: each report through the real CLI on the 100,000-item store (issue 18 item 4).

Reuses the store of `bench/analysis.py` (100,000 items, 1,000,000 transitions; built once and
cached under bench/results/), copied once per bench run into a temporary folder: `syncd report`
records each report in `report_history`, and the cached store stays as built. Each report runs as
`python -m syncd report KIND [--audience A] --now NOW --config syncd.toml --out DIR` in a child
process, as a user would type it; the wall time is measured around the child and the peak RSS is
the child's own `ru_maxrss` (from `os.wait4`, so nothing of this process counts). Median of --runs.
Target: every report under 5 s wall and under 500 MiB peak RSS.

On a big store the report reads the transitions in a process of its own (syncd/store/_parallel.py),
whose figures `os.wait4` folds in: its CPU into the report's, its peak RSS into a max, not a sum. The
report's debug line of that read (logger `syncd.store.parallel`, enabled on stderr) gives the reader's
own peak (VmHWM) and CPU; "peak RSS" is then the sum of the two peaks (`ru_maxrss` of the report is at
least its own peak, so the sum errs high), and "reader" shows the reader's share. The reader ends before
the report's own peak (rendering): "both at once" bounds the memory of the two processes together by
the larger of the report's peak and its peak while the reader lived plus the reader's peak. The report's
charts are drawn by a third process (syncd/chart_process.py) that lives from the snapshot's read to the
report's end: its debug line (logger `syncd.chart_process`) gives its own peak and CPU, added to both
figures (as if it had lived beside the reader too: a bound).

    python bench/report_cli.py [--runs 3] [--items 100000] [--transitions 1000000] [--only status-executive]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.analysis import NOW, RESULTS, ensure_store  # noqa: E402
from bench.machine import child_env, reference_cpu  # noqa: E402
from bench.reports import GOALS  # noqa: E402

# (name, argv after `syncd report`): every kind, the status report for each audience
REPORTS = [
    ("status-executive", ["status", "--audience", "executive"]),
    ("status-business", ["status", "--audience", "business"]),
    ("status-engineering", ["status", "--audience", "engineering"]),
    ("sprint-kickoff", ["sprint-kickoff"]),
    ("sprint-review", ["sprint-review"]),
    ("timeline", ["timeline"]),
    ("launch-readiness", ["launch-readiness"]),
    ("retrospective", ["retrospective"]),
]
WALL_S, RSS_MIB = 5.0, 500.0


def config(folder: Path, db: Path) -> Path:
    """A syncd.toml pointing at the bench store, the bench goals and an output folder."""
    (folder / "goals.toml").write_text(GOALS, encoding="utf-8")
    path = folder / "syncd.toml"
    path.write_text(f'data_dir = "{folder}"\ndatabase_url = "sqlite:///{db}"\n\n[reports]\n'
                    f'goals_file = "{folder / "goals.toml"}"\nout_dir = "{folder / "out"}"\n'
                    'timezone = "Europe/Berlin"\n', encoding="utf-8")
    return path


# `python -m syncd` with the transitions reader's debug line on stderr (and nothing else of the logging changed)
_SYNCD = ("import logging, runpy, sys\nfor name in ('syncd.store.parallel', 'syncd.chart_process'):\n"
          "    log = logging.getLogger(name); log.addHandler(logging.StreamHandler()); log.setLevel(logging.DEBUG)\n"
          "sys.argv[0] = 'syncd'; runpy.run_module('syncd', run_name='__main__', alter_sys=True)")
_READER = re.compile(r"transitions read by a child process: .* child peak RSS ([0-9.]+) MiB, CPU ([0-9.]+) s, .*; "
                     r"waited for it ([0-9.]+) s, peak RSS here so far ([0-9.]+) MiB")
_DRAWER = re.compile(r"charts drawn by a child process: .* child peak RSS ([0-9.]+) MiB, CPU ([0-9.]+) s, .*; "
                     r"waited for it ([0-9.]+) s, peak RSS here so far ([0-9.]+) MiB")


def run_once(cfg: Path, argv: list[str], out: Path) -> dict[str, float]:
    """One `syncd report` child: wall seconds, the peak RSS (MiB, with the reader's: see above), CPU seconds
    (the reader's included; also on their own) and how many files it wrote."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", _SYNCD, "report", *argv, "--now", NOW.isoformat(), "--config", str(cfg),
           "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait4 reaps the child and hands back its own resource usage (ru_maxrss in KiB on Linux)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}: {stderr.decode(errors='replace').strip()}")
    written = [line for line in stdout.decode().splitlines() if line.strip()]
    if not written or not all(Path(p).is_file() for p in written):
        raise SystemExit(f"{' '.join(argv)}: printed no written files: {stdout!r}")
    log = stderr.decode(errors="replace")
    reader, drawer = _READER.search(log), _DRAWER.search(log)
    reader_rss, reader_cpu, waited, beside = (float(g) for g in reader.groups()) if reader else (0.0,) * 4
    drawer_rss, drawer_cpu, _, _ = (float(g) for g in drawer.groups()) if drawer else (0.0,) * 4
    rss = usage.ru_maxrss / 1024
    return {"wall_s": wall, "peak_rss_mib": rss + reader_rss + drawer_rss, "cpu_s": usage.ru_utime + usage.ru_stime,
            "reader_rss_mib": reader_rss, "reader_cpu_s": reader_cpu, "waited_s": waited,
            "drawer_rss_mib": drawer_rss, "drawer_cpu_s": drawer_cpu,
            "at_once_rss_mib": at_once_mib(rss, beside, reader_rss, drawer_rss), "files": len(written)}


def at_once_mib(report: float, beside_reader: float, reader: float, drawer: float) -> float:
    """A bound on the processes' memory at once: the report's peak, or its peak while the reader lived plus
    the reader's; plus the chart drawer's peak (it lives to the report's end; counted beside the reader too)."""
    return max(report, beside_reader + reader) + drawer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--only", action="append", choices=[name for name, _ in REPORTS],
                        help="run only this report (repeatable)")
    args = parser.parse_args()
    cached = ensure_store(args.items, args.transitions)
    chosen = [(n, a) for n, a in REPORTS if not args.only or n in args.only]
    results: dict[str, list[dict[str, float]]] = {}
    loads: list[float] = []
    refs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "store.db"
        shutil.copyfile(cached, db)
        cfg = config(folder, db)
        for name, argv in chosen:
            results[name] = [run_once(cfg, argv, folder / "out") for _ in range(args.runs)]
            loads.append(os.getloadavg()[0])
            refs.append(reference_cpu())
    print(f"items {args.items}, transitions {args.transitions}: each report through `syncd report` in a child "
          f"process (median of {args.runs} runs)")
    med = {}
    for name, runs in results.items():
        m = {k: statistics.median(r[k] for r in runs)
             for k in ("wall_s", "cpu_s", "peak_rss_mib", "reader_cpu_s", "reader_rss_mib", "waited_s", "drawer_cpu_s",
                       "drawer_rss_mib", "at_once_rss_mib")}
        med[name] = m
        print(f"  {name:<20} wall {m['wall_s']:6.2f} s  CPU {m['cpu_s']:6.2f} s  peak RSS {m['peak_rss_mib']:7.1f} MiB"
              f"  (reader: CPU {m['reader_cpu_s']:4.2f} s, peak RSS {m['reader_rss_mib']:5.1f} MiB, waited for "
              f"{m['waited_s']:4.2f} s; charts: CPU {m['drawer_cpu_s']:4.2f} s, peak RSS {m['drawer_rss_mib']:5.1f} MiB; "
              f"all at once {m['at_once_rss_mib']:5.1f} MiB)")
    print(f"machine load average during the runs: {statistics.median(loads):.1f} on {os.cpu_count()} CPUs "
          "(wall times stretch when it exceeds the CPU count)")
    print(f"reference loop {statistics.median(refs):.2f} s CPU (bench/analysis.py's fixed workload, 0.09 s on the quiet "
          "machine of the figures in bench/RESULTS.md: compare CPU seconds across machines and runs with it)")
    ok = all(m["wall_s"] < WALL_S and m["peak_rss_mib"] < RSS_MIB for m in med.values())
    print(f"target (each report < {WALL_S:g} s wall and < {RSS_MIB:g} MiB peak RSS): {'met' if ok else 'MISSED'}")
    (RESULTS / "report_cli.json").write_text(json.dumps({"bench": "report_cli", "median_of": args.runs,
                                                         "median": med, "runs": results,
                                                         "load_avg": loads, "reference_cpu_s": refs}, indent=2))


if __name__ == "__main__":
    main()
