"""Benchmark: render every report (every kind and audience) from a 100,000-item store.

Reuses the store of `bench/analysis.py` (built once and cached under bench/results/: 100,000
items, 1,000,000 transitions, sprints, releases, pull requests). In a fresh child process per run
it times loading the snapshot, the analysis, and rendering each report (Markdown, HTML, text and
charts), and prints seconds and peak RSS (median of --runs). Target: all reports rendered in under
5 s (load and analysis are measured apart, and by bench/analysis.py).

    python bench/reports.py [--runs 3] [--items 100000] [--transitions 1000000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.analysis import NOW, RESULTS, ensure_store  # noqa: E402

GOALS = """\
[[goals]]
id = "widget"
title = "Widget GA"
objective = "Ship the widget to every customer"
problem = "Customers wait for the widget"
owner = "Dana"
target_date = 2026-09-30
scope = { projects = ["WID"] }
metric = { name = "Open customer bugs", baseline = 500, target = 100, computed = "open-bugs", selector = { labels = ["customer"] } }

[[goals]]
id = "customer"
title = "Customer bugs"
objective = "Keep enterprise churn low"
problem = "Customers hit known bugs"
owner = "Priya"
target_date = 2026-08-31
scope = { labels = ["customer"], kinds = ["bug"] }
metric = { name = "Median cycle time", unit = "days", baseline = 9, target = 5, computed = "median-cycle-time" }

[[goals]]
id = "signup"
title = "Signup"
objective = "Self-serve signup"
problem = "Signup needs a sales call"
owner = "Sam"
target_date = 2026-07-31
scope = { components = ["Signup"], projects = ["WEB", "MOB"] }
metric = { name = "Conversion", unit = "%", baseline = 2, target = 3, value = 2.4, value_date = 2026-05-20 }
"""

CHILD = """
import json, resource, sys, time
from datetime import datetime
from pathlib import Path
from syncd.reporting import all_requests, load_context, render_from
from syncd.settings import Settings
from syncd.settings_sections import ReportSettings
from syncd.store import Store

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

settings = Settings(reports=ReportSettings(goals_file=Path(sys.argv[3]), timezone="Europe/Berlin"))
store = Store(sys.argv[1])
now = datetime.fromisoformat(sys.argv[2])
t0 = time.perf_counter()
ctx = load_context(settings, store, now=now)
t1 = time.perf_counter()
per = {}
sizes = {}
for kind, audience, scope in all_requests():
    s = time.perf_counter()
    report = render_from(ctx, store, kind, audience, scope=scope)
    name = kind + ("-" + audience if audience else "")
    per[name] = time.perf_counter() - s
    sizes[name] = {"markdown_lines": report.markdown.count("\\n"), "html_kb": len(report.html) / 1024,
                   "charts": len(report.charts)}
t2 = time.perf_counter()
print(json.dumps({"load_and_analysis_s": t1 - t0, "render_all_s": t2 - t1, "peak_rss_mib": rss(),
                  "items": len(ctx.snapshot.items), "per_report_s": per, "sizes": sizes}))
"""


def run_once(db: Path, goals: Path) -> dict:
    """One child process: context and per-report render timings, peak RSS."""
    out = subprocess.run([sys.executable, "-c", CHILD, f"sqlite:///{db}", NOW.isoformat(), str(goals)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    args = parser.parse_args()
    db = ensure_store(args.items, args.transitions)
    with tempfile.TemporaryDirectory() as tmp:
        goals = Path(tmp) / "goals.toml"
        goals.write_text(GOALS, encoding="utf-8")
        runs = [run_once(db, goals) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in ("load_and_analysis_s", "render_all_s", "peak_rss_mib")}
    per = {name: statistics.median(r["per_report_s"][name] for r in runs) for name in runs[0]["per_report_s"]}
    print(f"items {runs[0]['items']}, {len(per)} reports (median of {args.runs} runs)")
    print(f"load + analysis  {med['load_and_analysis_s']:6.2f} s")
    for name, seconds in per.items():
        size = runs[0]["sizes"][name]
        print(f"  {name:<22} {seconds:6.3f} s  ({size['markdown_lines']} Markdown lines, {size['html_kb']:.0f} KiB HTML, "
              f"{size['charts']} charts)")
    print(f"render all       {med['render_all_s']:6.2f} s   peak RSS {med['peak_rss_mib']:7.1f} MiB")
    ok = med["render_all_s"] < 5
    print(f"target (all reports rendered < 5 s): {'met' if ok else 'MISSED'}")
    (RESULTS / "reports.json").write_text(json.dumps({"bench": "reports", "median_of": args.runs, "median": med,
                                                      "per_report_s": per, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
