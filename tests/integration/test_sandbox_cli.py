"""`syncd sandbox` as a user runs it: a real process, the config it writes, `syncd sync` against
it, and a clean stop on SIGTERM and SIGINT."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.sandbox.generate import generate_world
from syncd.store import Store

NOW = "2026-11-20T12:00:00Z"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncd", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=300)


class Running:
    """`syncd sandbox` in the background; its stdout lines arrive on a queue."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "syncd", "sandbox", *args], cwd=cwd, env=_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.seen: dict[str, str] = {}

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_ready(self) -> dict[str, str]:
        while True:
            line = self.lines.get(timeout=120)
            if line is None:
                raise AssertionError(f"sandbox exited early: {self.proc.wait()} {self.proc.stderr.read() if self.proc.stderr else ''}")
            name, _, value = line.partition(": ")
            self.seen[name] = value
            if line.startswith("ready"):
                return self.seen

    def stop(self, sig: int) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        rest = []
        while (line := self.lines.get(timeout=10)) is not None:
            rest.append(line)
        return code, "\n".join(rest)


@pytest.mark.slow
def test_sandbox_serves_a_config_that_syncs_and_stops_cleanly(tmp_path: Path) -> None:
    box = Running(tmp_path, "--issues", "400", "--seed", "9", "--now", NOW, "--write-config", "conf/syncd.toml")
    try:
        seen = box.wait_ready()
        assert seen["jira"].startswith("http://127.0.0.1:") and seen["github"].startswith("http://127.0.0.1:")
        config = Path(seen["config"])
        assert config == (tmp_path / "conf" / "syncd.toml").resolve()
        text = config.read_text()
        assert seen["jira"] in text and seen["github"] in text and 'projects = ["WID", "GAD"]' in text
        synced = run("sync", "--config", str(config), cwd=tmp_path)
        assert synced.returncode == 0, synced.stderr
        assert [line.split(":")[0] for line in synced.stdout.splitlines()] == ["jira", "github"]
    finally:
        code, tail = box.stop(signal.SIGTERM)
    assert code == 0 and "sandbox: stopped" in tail
    truth = generate_world(seed=9, issues=400, now=datetime(2026, 11, 20, 12, tzinfo=UTC)).truth
    store = Store(f"sqlite:///{tmp_path / 'conf' / 'syncd-sandbox-data' / 'syncd.db'}")
    try:
        counts = store.counts()
    finally:
        store.close()
    assert counts["items"] == 400
    assert counts["pulls"] == truth.github_pulls and counts["transitions"] == truth.jira_transitions
    assert counts["sprints"] == truth.jira_sprints


@pytest.mark.slow
def test_ctrl_c_stops_with_exit_zero_and_fixed_ports_are_used(tmp_path: Path) -> None:
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    box = Running(tmp_path, "--issues", "100", "--now", NOW, "--jira-port", str(ports[0]), "--github-port",
                  str(ports[1]), "--error-rate", "0.2")
    try:
        seen = box.wait_ready()
        assert seen["jira"] == f"http://127.0.0.1:{ports[0]}" and seen["github"] == f"http://127.0.0.1:{ports[1]}"
        assert "error_rate=0.2" in seen["faults"]
        assert (tmp_path / "syncd-sandbox.toml").is_file()
        taken = run("sandbox", "--issues", "100", "--jira-port", str(ports[0]), "--write-config",
                    str(tmp_path / "other.toml"), cwd=tmp_path)
        assert taken.returncode == 1 and taken.stderr.startswith("syncd: error: sandbox: cannot listen")
        assert len(taken.stderr.strip().splitlines()) == 1
    finally:
        code, tail = box.stop(signal.SIGINT)
    assert code == 0 and "sandbox: stopped" in tail


@pytest.mark.parametrize(("args", "message"), [
    (["--issues", "50"], "--issues must be between 100 and 100000, not 50"),
    (["--now", "yesterday"], "--now: 'yesterday' is not an ISO-8601 time"),
])
def test_bad_options_end_with_one_line_and_exit_two(tmp_path: Path, args: list[str], message: str) -> None:
    out = run("sandbox", *args, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"syncd: error: sandbox: {message}"), out.stderr
    assert not (tmp_path / "syncd-sandbox.toml").exists()
