"""The benchmark suite's sandbox: fake Jira and GitHub in a process of their own.

The servers run in a child process (`python -m bench.suite_sandbox`) so that the tool being measured
has its own process (its peak RSS is its own) and the two share no interpreter lock. The parent
sends one JSON command per line on the child's stdin and reads one JSON answer per line:

    {"cmd": "start", "seed": 7, "issues": 10000, "now": ISO}   generate the world and serve it
    {"cmd": "deployment", "value": "Server"}                   Jira Cloud <-> Server/Data Center
    {"cmd": "change", "fraction": 0.01, "seed": 1}             change that share of items as users would
    {"cmd": "quit"}

Requests are counted by the sandbox itself (`/__sandbox/stats`, one `Controls` for both services),
never taken from a tool's own claims.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
UNLIMITED = 10**9  # the GitHub sandbox's hourly budget: the benchmark measures requests, not waits


@dataclass
class SandboxInfo:
    """Where the running sandbox is and what its world holds."""

    jira_url: str
    github_url: str
    jira_email: str
    jira_token: str
    github_token: str
    projects: list[str]
    repos: list[str]
    truth: dict[str, Any]
    generate_s: float
    extra: dict[str, Any] = field(default_factory=dict)


class Sandbox:
    """A sandbox child process: start it, count its requests, change its world, stop it."""

    def __init__(self, issues: int, seed: int, now: datetime) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.suite_sandbox"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.info = SandboxInfo(**self._ask(cmd="start", seed=seed, issues=issues, now=now.isoformat()))
        except BaseException:
            self.close()
            raise

    def _ask(self, **command: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"sandbox process ended (exit {self.proc.wait()}) while answering {command['cmd']!r}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"sandbox: {answer['error']}")
        return answer["ok"]

    def stats(self, reset: bool = False) -> dict[str, int]:
        """Requests the sandbox counted per `service endpoint` (and `service *`); `reset` zeroes them after."""
        request = urllib.request.Request(f"{self.info.jira_url}/__sandbox/stats", method="GET")
        with urllib.request.urlopen(request, timeout=30) as response:
            counts: dict[str, int] = json.load(response)["requests"]
        if reset:
            self.reset()
        return counts

    def reset(self) -> None:
        """Zero the request counts of both services."""
        request = urllib.request.Request(f"{self.info.jira_url}/__sandbox/stats", method="POST")
        urllib.request.urlopen(request, timeout=30).close()

    def set_deployment(self, value: str) -> None:
        """Serve Jira as `Cloud` or `Server` (Data Center: legacy `/rest/api/2/search`, bearer tokens)."""
        self._ask(cmd="deployment", value=value)

    def set_latency(self, latency_ms: float) -> None:
        """Add `latency_ms` to every request of both services (0: none), through `/__sandbox/faults`."""
        request = urllib.request.Request(f"{self.info.jira_url}/__sandbox/faults", method="POST",
                                         data=json.dumps({"latency_ms": latency_ms}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).close()

    def change(self, fraction: float, seed: int = 1) -> dict[str, int]:
        """Change `fraction` of the Jira issues and GitHub issues/PRs (a label each, as a user would)."""
        changed: dict[str, int] = self._ask(cmd="change", fraction=fraction, seed=seed)
        return changed

    def close(self) -> None:
        """Stop the child process."""
        if self.proc.poll() is None:
            try:
                self._ask(cmd="quit")
            except (OSError, RuntimeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def floor_to_hour(moment: datetime) -> datetime:
    """`moment` in UTC without minutes: worlds generated within the same hour are identical."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# -- the child process ---------------------------------------------------------------------------------


class _Served:
    def __init__(self, seed: int, issues: int, now: datetime) -> None:
        from syncd.sandbox._http import Controls
        from syncd.sandbox.generate import generate_world
        from syncd.sandbox.github import serve_github
        from syncd.sandbox.jira import serve_jira

        started = time.perf_counter()
        self.world = generate_world(seed, issues, now)
        self.generate_s = time.perf_counter() - started
        self.world.github.rate_limit = UNLIMITED
        self.controls = Controls()
        self.servers = [serve_jira(self.world, self.controls), serve_github(self.world, self.controls)]

    def info(self) -> SandboxInfo:
        w = self.world
        return SandboxInfo(
            jira_url=self.servers[0].url, github_url=self.servers[1].url, jira_email=w.jira.email,
            jira_token=w.jira.api_token, github_token=w.github.token, projects=sorted(w.jira.projects),
            repos=sorted(w.github.repos), truth={k: v for k, v in asdict(w.truth).items() if k != "extra"},
            generate_s=round(self.generate_s, 2),
            extra={"jira_histories": sum(len((i.get("changelog") or {}).get("histories") or [])
                                         for i in w.jira.issues.values())},
        )

    def change(self, fraction: float, seed: int) -> dict[str, int]:
        from syncd.sandbox.github import set_labels
        from syncd.sandbox.jira_mutations import update_issue

        rng = random.Random(seed)
        w = self.world
        jira_ids = sorted((i for i in w.jira.issues if i not in w.jira.deleted), key=int)
        github = [(name, n) for name, repo in sorted(w.github.repos.items()) for n in sorted(repo.issues)
                  if n not in repo.deleted and n not in repo.transferred]
        jira_pick = rng.sample(jira_ids, round(len(jira_ids) * fraction))
        github_pick = rng.sample(github, round(len(github) * fraction))
        for iid in jira_pick:
            labels = list(w.jira.issues[iid]["fields"].get("labels") or [])
            update_issue(w, iid, labels=[*labels, "bench-changed"])
        for name, number in github_pick:
            labels = [lab["name"] for lab in w.github.repos[name].issues[number].get("labels") or []]
            set_labels(w, name, number, [*labels, "bench-changed"])
        return {"jira": len(jira_pick), "github": len(github_pick)}

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def _serve_commands(stdin: IO[str], out: IO[str]) -> None:
    served: _Served | None = None
    for line in stdin:
        command = json.loads(line)
        try:
            cmd = command["cmd"]
            if cmd == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                break
            if cmd == "start":
                served = _Served(command["seed"], command["issues"], datetime.fromisoformat(command["now"]))
                answer: Any = asdict(served.info())
            elif served is None:
                raise RuntimeError(f"{cmd!r} before start")
            elif cmd == "deployment":
                with served.world.lock:
                    served.world.jira.deployment = command["value"]
                    served.world.jira.revision += 1
                answer = command["value"]
            elif cmd == "change":
                answer = served.change(command["fraction"], command.get("seed", 1))
            else:
                raise RuntimeError(f"unknown command {cmd!r}")
            out.write(json.dumps({"ok": answer}) + "\n")
        except Exception as exc:  # the parent reports it and stops the run
            out.write(json.dumps({"error": f"{exc.__class__.__name__}: {exc}"}) + "\n")
        out.flush()
    if served is not None:
        served.stop()


def main() -> None:
    """Child process entry: answer commands on stdin; nothing else may write to stdout."""
    out = sys.stdout
    sys.stdout = sys.stderr
    _serve_commands(sys.stdin, out)


if __name__ == "__main__":
    main()
