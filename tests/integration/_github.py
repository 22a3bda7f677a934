"""Helpers for the GitHub sync tests: a sandbox with a shared fake clock, connectors wired to it, and
the world's expected records worked out from its payloads (not from the connector's code)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from syncd.connectors.config import GitHubSource
from syncd.connectors.github import GitHubConnector
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls, RunningServer
from syncd.sandbox.world import GitHubRepo, World
from syncd.store import Store
from syncd.sync import Progress, SourceResult, sync_source
from tests.integration.test_sandbox_github import TOKEN, _repo, make_world


@dataclass
class FakeClock:
    """One clock for the sandbox's rate-limit windows and the connector's waits and refresh times."""

    # starts at the real time (after make_world's history), whole seconds: PyGithub checks an app
    # installation token's expiry, which the sandbox sets from this clock, against the real one
    t: float = field(default_factory=lambda: float(int(time.time())))
    waits: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.t += seconds

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Sandbox:
    world: World
    controls: Controls
    server: RunningServer
    clock: FakeClock

    @property
    def app(self) -> gh_sandbox.GitHubApp:
        app = self.server.server.app
        assert isinstance(app, gh_sandbox.GitHubApp)
        return app

    @property
    def url(self) -> str:
        return self.server.url


def open_sandbox(issues: int = 45, pulls: int = 130) -> Iterator[Sandbox]:
    """make_world(issues, pulls) (acme/widget; acme/gadget empty) served with a fake clock."""
    world = make_world(issues=issues, pulls=pulls)
    clock = FakeClock()
    controls = Controls()
    server = gh_sandbox.serve_github(world, controls, clock=clock.time)
    try:
        yield Sandbox(world, controls, server, clock)
    finally:
        server.stop()


def add_repo(world: World, name: str, repo_id: int) -> GitHubRepo:
    """Another (empty) repository of the acme org."""
    owner = world.github.repos["acme/widget"].repo["owner"]
    repo = GitHubRepo(repo=_repo(owner, name, repo_id))
    world.github.repos[f"acme/{name}"] = repo
    return repo


def source(sandbox: Sandbox, repos: tuple[str, ...] = ("acme/widget", "acme/gadget"), **kw: Any) -> GitHubSource:
    """A GitHub source on the sandbox (Jira project WID), with `kw` overriding any key."""
    settings: dict[str, Any] = {"type": "github", "base_url": sandbox.url, "token": TOKEN, "repos": list(repos),
                                "jira_projects": ["WID"], **kw}
    return GitHubSource(**settings)


def connector(sandbox: Sandbox, **kw: Any) -> GitHubConnector:
    """A connector on the sandbox whose clock, waits and refresh times are the fake clock's."""
    conn = GitHubConnector("gh", source(sandbox, **kw), now=sandbox.clock.now)
    conn.client.sleep = sandbox.clock.sleep
    conn.client.clock = sandbox.clock.time
    return conn


def sync(store: Store, sandbox: Sandbox, *, full: bool = False, progress: Progress | None = None,
         **kw: Any) -> tuple[SourceResult, GitHubConnector]:
    """One sync of source `gh` into `store`."""
    conn = connector(sandbox, **kw)
    return sync_source(store, "gh", conn, full=full, progress=progress), conn


def live_issues(world: World, repos: tuple[str, ...] = ("acme/widget", "acme/gadget")) -> dict[str, dict[str, Any]]:
    """Key -> issue payload of every issue and PR GitHub lists in these repositories."""
    out = {}
    for name in repos:
        repo = world.github.repos[name]
        for number, issue in repo.issues.items():
            if number not in repo.deleted and number not in repo.transferred:
                out[f"{name}#{number}"] = issue
    return out


def expected_checks(repo: GitHubRepo, sha: str) -> str:
    """The head commit's conclusion as GitHub rolls it up: any failed check or failing status fails it;
    anything unfinished leaves it pending; no checks at all is neutral."""
    latest_runs: dict[str, dict[str, Any]] = {}
    for run in repo.check_runs.get(sha, []):
        latest_runs[run["name"]] = run  # runs are appended in time order
    latest_statuses: dict[str, dict[str, Any]] = {}
    for status in repo.statuses.get(sha, []):
        latest_statuses[status["context"]] = status
    states = {"pending" if r["status"] != "completed" else
              "failure" if r["conclusion"] in ("failure", "timed_out", "cancelled", "action_required") else "success"
              for r in latest_runs.values()}
    states |= {"failure" if s["state"] in ("failure", "error") else s["state"] for s in latest_statuses.values()}
    for state in ("failure", "pending", "success"):
        if state in states:
            return state
    return "neutral"
