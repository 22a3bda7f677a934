"""Benchmark: syncd's own CPU on a first sync, with the sandbox's answers recorded once and replayed.

Issue 18 item 3 measures syncd's ingest cost apart from the sandbox's: the sandbox answers in pure Python
(0.1-0.2 s of its CPU per GraphQL batch), so the plain sync benchmark's wall time is mostly the server's.
Here the sandbox answers once: a child process syncs the world through the real connectors with
`requests.adapters.HTTPAdapter.send` wrapped to keep every answer (status, headers, body) keyed by method +
path + request body. The sandbox then stops, and a replay server in this (the parent) process answers from
memory, on loopback HTTP, so each measured child runs exactly what a real sync runs (sockets, urllib3,
`jira`/PyGithub, connectors, mapping, SQLite store) against a server whose CPU is not its own.

A measured child builds `Settings` with both sources (Jira Cloud and GitHub, as `bench/run_all.py` has them)
and times `syncd.sync.sync_all` into a fresh SQLite store: process CPU (`resource.getrusage`, user + system,
every thread), wall, and peak RSS (`ru_maxrss`, the child's alone). Items are counted in the store afterwards
(a query, not the sync's claim); requests by the replay server. Prints the median of `--runs` and writes
bench/results/replay.json.

    python bench/replay.py [--issues 10000] [--runs 3] [--sequential] [--profile cprofile|pyspy]

Replay keys: a request's exact key is tried first; a request that differs only in a timestamp (the GitHub
listing's catch-up read asks `since` = the moment it began, a wall-clock time) takes the first unserved
recorded answer of that shape. A request with neither is answered 599 and the bench fails.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import child_env  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SEED = 7
# ISO 8601 timestamps, plain or URL-encoded (':' as %3A, '+' as %2B), in a URL or a request body
_STAMP = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}(?::|%3A)\d{2}(?:(?::|%3A)\d{2}(?:\.\d+)?)?(?:Z|(?:[+-]|%2B)\d{2}(?::|%3A)?\d{2})?")
_HOP = {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive", "date", "server"}

Key = tuple[str, str, bytes]  # method, path with query, request body


@dataclass
class Answer:
    """One recorded answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Recording:
    """Every answer of one first sync, per service, in the order they were given."""

    bases: dict[str, str]  # service -> base URL recorded against (jira, github)
    answers: dict[str, list[tuple[Key, Answer]]] = field(default_factory=dict)


def shape(key: Key) -> Key:
    """The key with its timestamps blanked: what a wall-clock `since` does not change."""
    method, path, body = key
    return method, _STAMP.sub(b"T", path.encode()).decode(), _STAMP.sub(b"T", body)


# -- recording (in a child process) ----------------------------------------------------------------


def _record_child(spec: dict[str, Any]) -> None:
    """Sync the live sandbox once with every HTTP answer kept; pickle the recording to spec['out']."""
    from urllib.parse import urlsplit

    from requests.adapters import HTTPAdapter

    from bench import replay  # this child runs as __main__: pickle the classes under their module's name

    bases: dict[str, str] = spec["bases"]
    recording = replay.Recording(bases=bases, answers={name: [] for name in bases})
    netlocs = {urlsplit(url).netloc: name for name, url in bases.items()}
    original = HTTPAdapter.send

    def send(self: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = original(self, request, *args, **kwargs)
        parts = urlsplit(request.url)
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else bytes(body)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        recording.answers[netlocs[parts.netloc]].append(((request.method, path, body), replay.Answer(
            response.status_code, [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP],
            response.content)))
        return response

    HTTPAdapter.send = send  # type: ignore[method-assign]
    report = _sync(spec)
    with open(spec["out"], "wb") as fh:
        pickle.dump(recording, fh, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps(report))


def record(issues: int, seed: int, out: Path) -> Recording:
    """Generate the world, sync it once through the real connectors keeping every answer; the recording."""
    from bench.suite_sandbox import Sandbox

    with Sandbox(issues, seed, NOW) as sandbox, tempfile.TemporaryDirectory() as tmp:
        info = sandbox.info
        spec = {"db": str(Path(tmp) / "record.db"), "sources": sources(info.jira_url, info.github_url, info),
                "bases": {"jira": info.jira_url, "github": info.github_url}, "out": str(out)}
        live = _run_child("record", spec)
        # the credentials and scope the sandbox gave, for the replayed sources (the world is seeded), and what
        # the live sync stored (a replay must store the same)
        out.with_suffix(".info.json").write_text(json.dumps({
            "jira_email": info.jira_email, "jira_token": info.jira_token, "github_token": info.github_token,
            "projects": info.projects, "repos": info.repos, "live_store": live["store"]}))
    with open(out, "rb") as fh:
        loaded: Recording = pickle.load(fh)
    return loaded


def sources(jira_url: str, github_url: str, info: Any) -> dict[str, dict[str, Any]]:
    """Both sources as bench/run_all.py syncs them: Jira Cloud and github.com-style GitHub."""
    return {
        "jira": {"type": "jira", "url": jira_url, "email": info.jira_email, "token": info.jira_token,
                 "projects": info.projects, "deployment": "cloud"},
        "github": {"type": "github", "base_url": github_url, "token": info.github_token, "repos": info.repos,
                   "jira_projects": info.projects},
    }


# -- replaying (a server in this process) ----------------------------------------------------------


class _Service:
    """One service's answers, served by exact key, else by shape (first unserved one)."""

    def __init__(self, answers: list[tuple[Key, Answer]], old_base: str) -> None:
        self.old_base = old_base.encode()
        self.answers = answers
        self.lock = threading.Lock()
        self.requests = 0
        self.misses: list[str] = []
        self.rebase(old_base)

    def rebase(self, new_base: str) -> None:
        """Answer as if served from `new_base` (absolute URLs in bodies and Link headers rewritten)."""
        new = new_base.encode()
        self.served: list[Answer] = []
        for _key, a in self.answers:
            headers = [(k, v.replace(self.old_base.decode(), new_base)) for k, v in a.headers]
            self.served.append(Answer(a.status, headers, a.body.replace(self.old_base, new)))
        self.reset()

    def reset(self) -> None:
        """Forget what was served: the next sync is answered from the start."""
        self.exact: dict[Key, list[int]] = defaultdict(list)
        self.shaped: dict[Key, list[int]] = defaultdict(list)
        for n, (key, _answer) in enumerate(self.answers):
            self.exact[key].append(n)
            self.shaped[shape(key)].append(n)
        self.used: set[int] = set()
        self.requests = 0
        self.misses = []

    def answer(self, key: Key) -> Answer | None:
        with self.lock:
            self.requests += 1
            for candidates in (self.exact.get(key, []), self.shaped.get(shape(key), [])):
                fresh = [n for n in candidates if n not in self.used]
                if fresh or candidates:
                    n = fresh[0] if fresh else candidates[-1]  # the same request again: the last answer again
                    self.used.add(n)
                    return self.served[n]
            self.misses.append(f"{key[0]} {key[1]}")
            return None


def _handler(service: _Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            found = service.answer((self.command, self.path, body))
            if found is None:
                found = Answer(599, [("Content-Type", "text/plain")], b"not in the recording")
            self.send_response(found.status)
            for k, v in found.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(found.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(found.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _bind(handler: type[BaseHTTPRequestHandler], port: int) -> ThreadingHTTPServer:
    """A server on the recorded port when it is free (then the answers' URLs, and so the stored rows and their
    content hashes, are the recorded ones: stores of two runs compare equal), else on any port."""
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError:
        return ThreadingHTTPServer(("127.0.0.1", 0), handler)


class ReplayServer:
    """Loopback HTTP servers (one per service) answering a sync from a recording."""

    def __init__(self, recording: Recording) -> None:
        self.services: dict[str, _Service] = {}
        self.servers: list[ThreadingHTTPServer] = []
        self.urls: dict[str, str] = {}
        for name, old in recording.bases.items():
            service = _Service(recording.answers[name], old)
            server = _bind(_handler(service), int(old.rsplit(":", 1)[1]))
            server.daemon_threads = True
            url = f"http://127.0.0.1:{server.server_address[1]}"
            service.rebase(url)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.services[name], self.urls[name] = service, url
            self.servers.append(server)

    def reset(self) -> None:
        for service in self.services.values():
            service.reset()

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


# -- the measured child ----------------------------------------------------------------------------


def _sync(spec: dict[str, Any]) -> dict[str, Any]:
    """`sync_all` of spec's sources into a fresh SQLite store, timed; what it cost and what was stored."""
    import resource

    from syncd.settings import Settings
    from syncd.store import Store
    from syncd.store._parallel_child import peak_rss_mib  # VmHWM: starts afresh at exec, unlike ru_maxrss
    from syncd.sync import sync_all

    extra: dict[str, Any] = {}
    if spec.get("sequential"):  # `[sync] concurrent = false`: one source, one page at a time
        extra["sync"] = {"concurrent": False}
    settings = Settings(sources=spec["sources"], database_url=f"sqlite:///{spec['db']}",
                        data_dir=Path(spec["db"]).parent, **extra)
    store = Store(settings.database_url or "")
    store.upgrade()
    import gc

    try:  # as `syncd sync` does once the settings and the store are open
        from syncd.collector import freeze_startup
        freeze_startup()
    except ImportError:  # a syncd from before issue 18 item 3 (for before/after runs)
        pass
    gc_time = [0.0, 0.0]  # seconds in collections, start of the current one

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            gc_time[1] = time.process_time()
        else:
            gc_time[0] += time.process_time() - gc_time[1]

    gc.callbacks.append(on_gc)
    profiler: Any = None
    if spec.get("profile") == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    results = sync_all(settings, store)
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - started
    gc.callbacks.remove(on_gc)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if profiler is not None:
        profiler.dump_stats(spec["profile_out"])
    counts = store.counts()
    store.close()
    return {"cpu_s": cpu, "gc_s": gc_time[0], "wall_s": wall, "peak_rss_mib": peak_rss_mib(), "store": counts,
            "sources": [{"source": r.source, "ok": r.ok, "error": r.error, "requests": r.requests,
                         "new": r.result.new} for r in results]}


# Where a py-spy sample's time goes: the first frame from the leaf that matches names its part.
_PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("imports", ("importlib._bootstrap",)),
    ("JSON parsing", ("json/decoder.py", "json/__init__.py:loads", "(loads)", "orjson", "parse_json",
                      "AnswerCheck.parse")),
    ("JSON encoding", ("json/encoder.py", "json/__init__.py:dumps", "(dumps)")),
    ("store: SQLAlchemy + sqlite3", ("sqlalchemy/", "sqlite3", "syncd/store/")),
    ("pydantic", ("pydantic",)),
    ("sanitise", ("connectors/sanitise.py",)),
    ("mapping", ("mapping.py", "connectors/payload.py")),
    ("HTTP (requests, urllib3, sockets)", ("requests/", "urllib3/", "http/client.py", "socket.py", "ssl.py")),
    ("connectors (jira, PyGithub, ours)", ("connectors/", "jira/", "github/")),
    ("sync engine", ("syncd/sync.py",)),
]


def profile_split(path: Path) -> list[tuple[str, float]]:
    """Shares of the samples in a py-spy `raw` (collapsed stacks) file, by part (see `_PARTS`)."""
    counts: dict[str, int] = defaultdict(int)
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or "sync_all" not in stack:
            continue
        frames = stack.split(";")
        part = "other"
        for frame in reversed(frames):
            found = next((name for name, marks in _PARTS if any(m in frame for m in marks)), None)
            if found:
                part = found
                break
        counts[part] += int(n)
    total = sum(counts.values()) or 1
    return sorted(((k, v / total) for k, v in counts.items()), key=lambda kv: -kv[1])


def _run_child(mode: str, spec: dict[str, Any], wrap: list[str] | None = None) -> dict[str, Any]:
    env = child_env(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [*(wrap or []), sys.executable, "-m", "bench.replay", mode, json.dumps(spec)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} child failed (exit {out.returncode}): {out.stderr.strip()[-3000:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]  # py-spy prints lines of its own
    report: dict[str, Any] = json.loads(lines[-1])
    failed = [s for s in report["sources"] if not s["ok"]]
    if failed:
        raise RuntimeError("sync failed: " + "; ".join(f"{s['source']}: {s['error']}" for s in failed))
    return report


def replay_once(server: ReplayServer, info: dict[str, Any], folder: Path, run: int,
                profile: str | None = None, sequential: bool = False) -> dict[str, Any]:
    """One measured first sync against the replay server, into a fresh store."""
    server.reset()
    spec: dict[str, Any] = {"db": str(folder / f"replay-{run}.db"), "sequential": sequential, "sources": sources(
        server.urls["jira"], server.urls["github"], argparse.Namespace(**info))}
    wrap = None
    if profile == "cprofile":
        spec.update(profile="cprofile", profile_out=str(RESULTS / "replay.prof"))
    elif profile == "pyspy":
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        wrap = [spy, "record", "--rate", "200", "--format", "raw", "--nonblocking",
                "-o", str(RESULTS / "replay.pyspy.txt"), "--"]
    report = _run_child("child", spec, wrap)
    misses = [m for s in server.services.values() for m in s.misses]
    if misses:
        raise RuntimeError(f"{len(misses)} requests not in the recording, e.g. {misses[:3]}")
    items = report["store"]["items"]
    requests = sum(s.requests for s in server.services.values())
    return {"items": items, "requests": requests, "cpu_s": round(report["cpu_s"], 3),
            "gc_cpu_s": round(report["gc_s"], 3), "wall_s": round(report["wall_s"], 3), "items_per_cpu_s": round(items / report["cpu_s"]),
            "peak_rss_mib": round(report["peak_rss_mib"], 1), "store": report["store"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issues", type=int, default=10_000, help="world size (Jira and GitHub items together)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--recording", type=Path, help="reuse (or write) the recording at this path")
    parser.add_argument("--sequential", action="store_true",
                        help="[sync] concurrent = false: sources one after the other, no prefetch")
    parser.add_argument("--keep-store", type=Path, help="copy the last measured run's SQLite store here")
    parser.add_argument("--profile", choices=["cprofile", "pyspy"], help="profile one more run (bench/results/)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = args.recording or folder / "recording.pickle"
        started = time.perf_counter()
        if args.recording and args.recording.exists():
            with open(path, "rb") as fh:
                recording: Recording = pickle.load(fh)
            print(f"recording: {path}", file=sys.stderr)
        else:
            recording = record(args.issues, args.seed, path)
            print(f"recorded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        info = json.loads(path.with_suffix(".info.json").read_text())
        answers = sum(len(a) for a in recording.answers.values())
        body_mib = sum(len(a.body) for v in recording.answers.values() for _k, a in v) / 2**20
        server = ReplayServer(recording)
        try:
            runs = []
            for run in range(args.runs):
                runs.append(replay_once(server, info, folder, run, sequential=args.sequential))
                r = runs[-1]
                print(f"run {run + 1}/{args.runs}: {r['items']} items, {r['requests']} requests, {r['cpu_s']:.2f} "
                      f"CPU s (gc {r['gc_cpu_s']:.2f}, {r['items_per_cpu_s']} items/CPU-s), {r['wall_s']:.2f} s wall, "
                      f"{r['peak_rss_mib']:.0f} MiB", file=sys.stderr)
            if args.keep_store:
                shutil.copyfile(folder / f"replay-{args.runs - 1}.db", args.keep_store)
            if args.profile:
                replay_once(server, info, folder, args.runs, profile=args.profile, sequential=args.sequential)
                if args.profile == "pyspy":
                    split = profile_split(RESULTS / "replay.pyspy.txt")
                    print("py-spy samples of sync_all by part: " + "; ".join(f"{k} {v:.0%}" for k, v in split))
        finally:
            server.close()
    median = sorted(runs, key=lambda r: r["cpu_s"])[len(runs) // 2]
    out = {"issues": args.issues, "seed": args.seed, "sequential": args.sequential, "runs": runs,
           "live_store": info.get("live_store"), "median": median,
           "median_items_per_cpu_s": round(statistics.median(r["items_per_cpu_s"] for r in runs)),
           "median_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
           "recorded_answers": answers, "recorded_body_mib": round(body_mib, 1),
           "load": os.getloadavg()}
    (RESULTS / "replay.json").write_text(json.dumps(out, indent=2))
    print(f"| world | items | requests | syncd CPU s | items / CPU-s | wall s | peak RSS MiB | runs |\n"
          f"|---:|---:|---:|---:|---:|---:|---:|---:|\n"
          f"| {args.issues:,} | {median['items']:,} | {median['requests']} | {median['cpu_s']:.2f} | "
          f"{out['median_items_per_cpu_s']:,} | {median['wall_s']:.2f} | {out['median_peak_rss_mib']:.1f} | {len(runs)} |")
    print(f"(recorded answers: {answers}, {body_mib:.1f} MiB of bodies; load average "
          f"{' '.join(f'{x:.1f}' for x in out['load'])})")
    return out


def _child_main() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    mode, spec = sys.argv[1], json.loads(sys.argv[2])
    if mode == "record":
        _record_child(spec)
    else:
        print(json.dumps(_sync(spec)))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] in ("record", "child"):
        _child_main()
    else:
        main()
