"""Figures of the benchmark suite: medians of runs, the machine they came from, Markdown tables."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    """nproc, RAM, Python, OS, date and commit of this run."""
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "ram_gib": ram_gib, "python": platform.python_version(),
            "platform": platform.platform(terse=True), "cpu": _cpu_model(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_start": [round(x, 2) for x in os.getloadavg()],
            "commit": commit.stdout.strip() or None}


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def requests_of(stats: dict[str, int], service: str | None = None) -> int:
    """Total requests in sandbox stats, of one service or of all."""
    if service:
        return stats.get(f"{service} *", 0)
    return sum(v for k, v in stats.items() if k.endswith(" *"))


def endpoints(stats: dict[str, int]) -> dict[str, int]:
    """Per-endpoint counts (`service endpoint`), largest first, without the per-service totals."""
    rows = {k: v for k, v in stats.items() if not k.endswith(" *")}
    return dict(sorted(rows.items(), key=lambda kv: (-kv[1], kv[0])))


def median_run(runs: Sequence[dict[str, Any]], keys: Iterable[str]) -> dict[str, Any]:
    """The first run's record with each of `keys` replaced by its median over `runs`."""
    out = dict(runs[0])
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            value = statistics.median(values)
            out[key] = round(value, 3) if isinstance(value, float) else value
    out["runs"] = len(runs)
    if len({r.get("requests") for r in runs}) > 1:
        out["requests_per_run"] = [r.get("requests") for r in runs]
    return out


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (numbers right-aligned)."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 1 else f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return "" if v is None else str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"]
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in body]
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    """Every table of a suite run, in Markdown."""
    m = results["machine"]
    out = [f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}, "
           f"{m['platform']}; {m['date']}, commit {m['commit']}; {results['mode']} run, "
           f"median of the runs in each row's `runs` column. Load average (1/5/15 min) at "
           f"start {m['load_start']}, at end {m.get('load_end')} (other work on the machine inflates wall times)."]
    sync_rows = [r for r in results.get("sync", [])]
    if sync_rows:
        out += ["", "### Initial sync (Jira Cloud + GitHub, fresh SQLite store)", "", table(
            ["world", "items", "requests", "req/item", "items/s", "wall s", "syncd CPU s", "peak RSS MiB", "runs"],
            [[r["world"], r["items"], r["requests"], r["requests_per_item"], r["items_per_s"], r["wall_s"],
              r["cpu_s"], r["peak_rss_mib"], r["runs"]] for r in (s["initial"] for s in sync_rows)])]
        polls = []
        for s in sync_rows:
            for label in ("no_change", "changed_1pct"):
                if label in s:
                    p = s[label]
                    polls.append([s["initial"]["world"], p["label"], p.get("changed"), p["requests"], p["origins"],
                                  p["per_origin"], p["wall_s"], p["runs"]])
        out += ["", "### Incremental poll (same store, Jira projects + GitHub repositories)", "", table(
            ["world", "poll", "items changed", "requests", "projects+repos", "req per project/repo", "wall s", "runs"],
            polls)]
    peer = results.get("peer")
    if peer and "failed" in peer:
        out += ["", f"### Peer: FAILED ({peer['failed']})"]
    elif peer:
        latency = f", {peer['latency_ms']:g} ms added to every request" if peer.get("latency_ms") else ""
        out += ["", f"### Peer: syncd vs Perceval {peer['perceval_version']} on the same sandbox "
                f"({peer['world']} world, Jira Server/DC mode, GitHub Enterprise `/api/v3`{latency})", "", table(
                    ["tool", "requests", "Jira req", "GitHub req", "wall s", "CPU s", "peak RSS MiB", "runs"],
                    [[t, peer[t]["requests"], peer[t]["jira_requests"], peer[t]["github_requests"], peer[t]["wall_s"],
                      peer[t]["cpu_s"], peer[t]["peak_rss_mib"], peer[t]["runs"]] for t in ("syncd", "perceval")]),
                "", f"Ratios Perceval/syncd: **{peer['request_ratio']}x the requests**, "
                f"{peer['wall_ratio']}x the wall time. Like for like (without Perceval's requests for data syncd "
                f"does not collect: {', '.join(peer['peer_only_endpoints'])}): {peer['like_for_like_requests']:,} "
                f"requests, **{peer['like_for_like_ratio']}x**.", "", "What each fetched:", "",
                f"- syncd: {peer['syncd']['fetched']}", f"- Perceval: {peer['perceval']['fetched']}", "",
                table(["endpoint (syncd)", "requests"], list(peer["syncd"]["endpoints"].items())), "",
                table(["endpoint (Perceval)", "requests"], list(peer["perceval"]["endpoints"].items())[:15])]
    for name, title in (("analysis", "Analysis"), ("reports", "Reports"), ("report_cli", "Reports through the CLI")):
        part = results.get(name)
        if part and "skipped" in part:
            out += ["", f"### {title}: skipped ({part['skipped']})"]
        elif part and "failed" in part:
            out += ["", f"### {title}: FAILED", "", "```", part["failed"], "```"]
        elif part:
            out += ["", f"### {title} (`{part['command']}`)", "", "```", part["table"], "```"]
    out += ["", f"Suite wall time: {results['suite_s']:.0f} s."]
    return "\n".join(out)
