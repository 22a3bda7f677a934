"""Benchmark: an initial GitHub sync of about 10,000 items against the fake GitHub, then quiet polls.

The world comes from the sandbox's generator (`generate_world`; about 40% of its items are GitHub
issues and pull requests, so `--issues 25000` gives about 10,000 GitHub items, most of them PRs with
reviews, check runs and commit statuses). The sandbox runs in a process of its own
(`bench.suite_sandbox`), and so does each sync (`bench.suite_syncd`: the real sync engine, GitHub
connector and SQLite store), so the peak RSS printed is the syncing process's alone (interpreter and
imports included), not the server's; its CPU seconds are printed beside the wall time, which mostly
waits on the sandbox answering GraphQL in pure Python. Requests are counted by the sandbox, never taken from the
connector. For each run: a fresh store, a full first sync, a poll that settles the conditional query,
then a poll with nothing changed (GitHub answers it 304). Prints the median of `--runs` and writes
bench/results/github_sync.json.

    python bench/github_sync.py [--runs 3] [--issues 25000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.suite_sandbox import Sandbox, SandboxInfo  # noqa: E402
from bench.suite_syncd import run_sync  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def github_source(info: SandboxInfo) -> dict[str, Any]:
    """The benchmark's GitHub source: every repository of the world, Jira links to its projects."""
    return {"type": "github", "base_url": info.github_url, "token": info.github_token, "repos": info.repos,
            "jira_projects": info.projects}


def one_run(sandbox: Sandbox, folder: Path, run: int) -> dict[str, Any]:
    """A full sync into a fresh store, then the polls; what each cost."""
    info = sandbox.info
    db = folder / f"github-{run}.db"
    sources = {"gh": github_source(info)}
    sandbox.reset()
    first = run_sync(db, sources)
    stats = sandbox.stats(reset=True)
    run_sync(db, sources)  # the first poll after a sync re-reads the overlap and records the ETag
    sandbox.reset()
    quiet = run_sync(db, sources)
    quiet_stats = sandbox.stats(reset=True)
    items = first["store"]["items"]
    pulls = first["store"]["pulls"]
    requests = stats.get("github *", 0)
    assert first["sources"][0]["connector_requests"] == requests, "the connector and the sandbox disagree"
    return {
        "items": items, "pulls": pulls, "reviews": first["store"]["reviews"], "releases": first["store"]["releases"],
        "links": first["store"]["links"], "requests": requests,
        "requests_by_endpoint": {k.removeprefix("github "): v for k, v in sorted(stats.items())
                                 if k.startswith("github ") and k != "github *"},
        "requests_per_pr": requests / pulls, "seconds": first["wall_s"], "items_per_s": items / first["wall_s"],
        "sync_cpu_s": first["cpu_s"],
        "peak_rss_mib": first["peak_rss_mib"], "quiet_poll_requests": quiet_stats.get("github *", 0),
        "quiet_poll_seconds": quiet["wall_s"], "repositories": len(info.repos),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--issues", type=int, default=25_000, help="world size (Jira and GitHub items together)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    with Sandbox(args.issues, args.seed, NOW) as sandbox, tempfile.TemporaryDirectory() as tmp:
        truth = sandbox.info.truth
        print(f"world: {truth['github_issues'] + truth['github_pulls']:,} GitHub items "
              f"({truth['github_pulls']:,} PRs, {truth['github_reviews']:,} reviews) in "
              f"{len(sandbox.info.repos)} repositories; generated in {sandbox.info.generate_s:.1f}s")
        runs = [one_run(sandbox, Path(tmp), run) for run in range(args.runs)]
    for run in runs:
        assert run["items"] == truth["github_issues"] + truth["github_pulls"] and run["pulls"] == truth["github_pulls"]
        assert run["reviews"] == truth["github_reviews"]
    median = {key: statistics.median(r[key] for r in runs)
              for key in ("requests", "requests_per_pr", "seconds", "items_per_s", "sync_cpu_s", "peak_rss_mib",
                          "quiet_poll_requests", "quiet_poll_seconds")}
    first = runs[0]
    print(f"initial sync of {first['items']:,} items ({first['pulls']:,} PRs), median of {args.runs} runs:")
    print(f"  requests          {median['requests']:>10,.0f}   {first['requests_by_endpoint']}")
    print(f"  requests per PR   {median['requests_per_pr']:>10.4f}   (goal < 0.1)")
    print(f"  seconds           {median['seconds']:>10.1f}")
    print(f"  items/s           {median['items_per_s']:>10.0f}   (wall; mostly waiting on the fake server's GraphQL)")
    print(f"  sync CPU seconds  {median['sync_cpu_s']:>10.1f}   ({first['items'] / median['sync_cpu_s']:,.0f} items per "
          "CPU second of the syncing process)")
    print(f"  peak RSS (MiB)    {median['peak_rss_mib']:>10.1f}   (the syncing process alone; server in its own)")
    print(f"quiet poll: {median['quiet_poll_requests']:.0f} requests for {first['repositories']} repositories "
          f"(every one answered 304, free), {median['quiet_poll_seconds']:.2f}s")
    report = {"bench": "github_sync", "median_of": args.runs, "seed": args.seed, "world_issues": args.issues,
              "truth": truth, "median": median, "runs": runs,
              "rss_measured": "peak RSS of the syncing child process (bench.suite_syncd); the sandbox runs in "
                              "another process"}
    (RESULTS / "github_sync.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
