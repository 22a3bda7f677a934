"""Benchmark: how fast the sandbox generates a world and serves it.

For each size, a child process generates the world (seconds), starts both fake servers (seconds),
then reads 100-item pages as a sync would: the GitHub issues list (`per_page=100`, all pages of
the biggest repository, once cold and once warm) and the Jira `/rest/api/3/search/jql` pages the
connector asks for (its fields, `expand=changelog`, 100 a page, following `nextPageToken`).
Prints pages/s and the child's peak RSS; writes bench/results/sandbox.json. Wall seconds depend on
the machine's load, so the CPU seconds of generating and starting are printed too.

    python bench/sandbox.py [--sizes 2000,10000,50000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def child(size: int) -> dict[str, Any]:
    """Generate, serve and read one world (run in a process of its own)."""
    import requests

    import syncd.sandbox.github
    import syncd.sandbox.jira  # noqa: F401  (imports are not the sandbox's start-up cost)
    from syncd.connectors.jira_fields import BASE_FIELDS
    from syncd.sandbox.run import start_sandbox

    started, cpu = time.perf_counter(), time.process_time()
    box = start_sandbox(seed=7, issues=size, now=NOW)
    total_s, generate_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    generate_s, start_s = box.generation_s, total_s - box.generation_s
    world = box.world
    world.github.rate_limit = 10**9  # measure serving, not the hourly budget
    row: dict[str, Any] = {"items": size, "generate_s": round(generate_s, 2), "generate_cpu_s": round(generate_cpu_s, 2),
                           "start_s": round(start_s, 3)}
    try:
        with requests.Session() as http:
            repo = max(world.github.repos, key=lambda name: len(world.github.repos[name].issues))
            http.headers["Authorization"] = f"token {world.github.token}"
            pages = -(-len(world.github.repos[repo].issues) // 100)
            for label in ("github_cold", "github_warm"):
                t0 = time.perf_counter()
                for page in range(1, pages + 1):
                    r = http.get(f"{box.github_url}/repos/{repo}/issues",
                                 params={"state": "all", "sort": "updated", "direction": "asc", "per_page": 100,
                                         "page": page}, timeout=60)
                    r.raise_for_status()
                row[f"{label}_pages_per_s"] = round(pages / (time.perf_counter() - t0), 1)
            row["github_pages"] = pages
        with requests.Session() as http:
            http.auth = (world.jira.email, world.jira.api_token)
            fields = [*BASE_FIELDS, "customfield_10016", "customfield_10020", "customfield_10014", "customfield_10021"]
            body: dict[str, Any] = {"jql": f"project in ({', '.join(world.jira.projects)}) ORDER BY updated ASC",
                                    "fields": fields, "expand": "changelog", "maxResults": 100}
            pages, t0 = 0, time.perf_counter()
            while True:
                r = http.post(f"{box.jira_url}/rest/api/3/search/jql", json=body, timeout=60)
                r.raise_for_status()
                pages += 1
                token = r.json().get("nextPageToken")
                if not token:
                    break
                body["nextPageToken"] = token
            row["jira_pages"] = pages
            row["jira_pages_per_s"] = round(pages / (time.perf_counter() - t0), 1)
    finally:
        box.stop()
    row["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    RESULTS.mkdir(exist_ok=True)
    rows = []
    header = (f"{'items':>7} {'generate s':>10} {'(cpu s)':>8} {'start s':>8} {'GitHub pages/s cold':>19} {'warm':>6} "
              f"{'Jira pages/s':>12} {'peak RSS MiB':>12}")
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size)], cwd=ROOT, capture_output=True,
                             text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['items']:>7} {row['generate_s']:>10.2f} {row['generate_cpu_s']:>8.2f} {row['start_s']:>8.3f} {row['github_cold_pages_per_s']:>19.1f} "
              f"{row['github_warm_pages_per_s']:>6.1f} {row['jira_pages_per_s']:>12.1f} {row['peak_rss_mib']:>12.1f}")
    (RESULTS / "sandbox.json").write_text(json.dumps({"bench": "sandbox", "now": NOW.isoformat(), "rows": rows},
                                                     indent=2))


if __name__ == "__main__":
    main()
