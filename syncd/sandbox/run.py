"""Start the sandbox: a generated world served by the fake Jira and GitHub on 127.0.0.1.

    with start_sandbox(seed=7, issues=2000, now=now) as box:
        Path("syncd.toml").write_text(box.config_toml(data_dir="data"))
        ...  # syncd sync --config syncd.toml

The CLI (`syncd sandbox`), the demo, the benchmarks and the integration tests all start it here.
"""

from __future__ import annotations

import errno
import gc
import json
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from syncd.sandbox._http import Controls, Faults, RunningServer
from syncd.sandbox.world import World

JIRA_SOURCE, GITHUB_SOURCE = "jira", "github"


@dataclass
class Sandbox:
    """A running sandbox: the world, both servers and the controls they share (counts, faults)."""

    world: World
    controls: Controls
    jira: RunningServer
    github: RunningServer
    generation_s: float = 0.0
    github_enterprise: bool = False  # the written config reaches GitHub as GitHub Enterprise Server (/api/v3)

    @property
    def jira_url(self) -> str:
        """Base URL of the fake Jira, e.g. http://127.0.0.1:41234."""
        return self.jira.url

    @property
    def github_url(self) -> str:
        """Base URL of the fake GitHub API (GitHub Enterprise Server's `/api/v3` when `github_enterprise`)."""
        return self.github.url + ("/api/v3" if self.github_enterprise else "")

    @property
    def jira_projects(self) -> list[str]:
        """Keys of the world's Jira projects."""
        return list(self.world.jira.projects)

    @property
    def github_repos(self) -> list[str]:
        """The world's repositories (owner/name)."""
        return list(self.world.github.repos)

    def config_toml(self, data_dir: str | Path = "syncd-data") -> str:
        """A syncd configuration that syncs this sandbox's Jira projects and GitHub repositories."""
        w = self.world
        projects = self.jira_projects
        lines = [
            f"# syncd configuration for the sandbox (seed {w.seed}, {_items(w)} items, now {w.now.isoformat()})",
            "# Start it with `syncd sandbox`; the credentials below only open the sandbox.",
            f"data_dir = {toml_value(str(data_dir))}",
            "",
            f"[sources.{JIRA_SOURCE}]",
            'type = "jira"',
            f"url = {toml_value(self.jira_url)}",
            f"email = {toml_value(w.jira.email)}",
            f"token = {toml_value(w.jira.api_token)}",
            f"projects = {toml_value(projects)}",
            "",
            f"[sources.{GITHUB_SOURCE}]",
            'type = "github"',
            f"base_url = {toml_value(self.github_url)}",
            f"token = {toml_value(w.github.token)}",
            f"repos = {toml_value(self.github_repos)}",
            f"jira_projects = {toml_value(projects)}",
            "",
        ]
        return "\n".join(lines)

    def write_config(self, path: str | Path, data_dir: str | Path | None = None) -> Path:
        """Write `config_toml` to `path` (data_dir defaults to `syncd-data` beside it)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.config_toml(data_dir if data_dir is not None else "syncd-data"), encoding="utf-8")
        return target

    def stop(self) -> None:
        """Stop both servers (idempotent)."""
        for server in (self.jira, self.github):
            try:
                server.stop()
            except OSError:
                pass

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_sandbox(seed: int = 7, issues: int = 2000, now: datetime | None = None, *, jira_port: int = 0,
                  github_port: int = 0, faults: Faults | None = None, world: World | None = None,
                  site_modes: Iterable[str] = (), jira_server: bool = False,
                  github_enterprise: bool = False) -> Sandbox:
    """Generate a world (or serve the one given) and start the fake Jira and GitHub on 127.0.0.1.

    `site_modes` reshape the world (`syncd.sandbox.site_modes`); `jira_server` serves Jira as Server /
    Data Center (REST v2, legacy search); `github_enterprise` has the config reach GitHub under `/api/v3`.
    Ports default to free ones. Raises OSError when a requested port is taken; ValueError names an
    unknown site mode.
    """
    from syncd.sandbox.site_modes import SITE_MODES, apply_site_modes

    modes = list(site_modes)
    unknown = [m for m in modes if m not in SITE_MODES]
    if unknown:
        raise ValueError(f"unknown site mode {unknown[0]!r} (known: {', '.join(SITE_MODES)})")
    from syncd.sandbox.generate import generate_world
    from syncd.sandbox.github import serve_github
    from syncd.sandbox.jira import serve_jira

    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()
    try:
        if world is None:
            world = generate_world(seed=seed, issues=issues, now=now)
        if modes:
            apply_site_modes(world, modes)
        if jira_server:
            world.jira.deployment = "Server"
        # The world lives as long as the servers: keep the cycle collector from walking its millions
        # of objects on every collection (binding the sockets, and every request, slowed down as the
        # world grew). Reference counting still frees the world once it is dropped.
        gc.freeze()
    finally:
        if collecting:
            gc.enable()
    generation_s = time.perf_counter() - started
    for port in (jira_port, github_port):
        _check_port(port)
    controls = Controls()
    if faults is not None:
        controls.set_faults(faults)
    jira = _serve(serve_jira, world, controls, jira_port)
    try:
        github = _serve(serve_github, world, controls, github_port)
    except BaseException:
        jira.stop()
        raise
    return Sandbox(world=world, controls=controls, jira=jira, github=github, generation_s=generation_s,
                   github_enterprise=github_enterprise)


def _check_port(port: int) -> None:
    """Raise OSError when a requested loopback port is taken (before werkzeug prints and exits on it)."""
    if not port:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise OSError(exc.errno, f"port {port} is in use") from None


def _serve(start: Callable[[World, Controls, int], RunningServer], world: World, controls: Controls,
           port: int) -> RunningServer:
    try:
        return start(world, controls, port)
    except SystemExit:  # werkzeug exits when it cannot bind (a race with _check_port)
        raise OSError(errno.EADDRINUSE, f"port {port} is in use") from None


def _items(world: World) -> int:
    t = world.truth
    return t.jira_issues + t.github_issues + t.github_pulls


def toml_value(value: str | list[str]) -> str:
    """A TOML basic string or array of strings for any text.

    JSON's escapes are TOML's, except that TOML has no surrogate pairs (so non-ASCII text is written
    as itself) and forbids a raw DEL (which JSON leaves unescaped).
    """
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
