"""Run the real `syncd run` as a subprocess: write its config, start, signal, wait, read its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def write_config(path: Path, *, top: dict[str, Any], tables: dict[str, dict[str, Any]],
                 schedule: list[dict[str, Any]]) -> Path:
    """A TOML config: top-level keys, [tables] (dotted names allowed) and [[schedule]] entries."""
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for name, table in tables.items():
        lines += ["", f"[{name}]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
    for entry in schedule:
        lines += ["", "[[schedule]]"] + [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_until(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.05,
               daemons: tuple[Daemon, ...] = (), detail: Callable[[], str] | None = None) -> None:
    """Poll `condition` until true; fail naming `what` (with `detail()` and the daemons' logs) after
    `timeout` seconds or as soon as one of `daemons` has exited."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        dead = [d for d in daemons if not d.alive()]
        if dead or time.monotonic() > deadline:
            why = f"daemon {dead[0].pid} exited ({dead[0].proc.returncode})" if dead else f"timed out after {timeout:.0f}s"
            logs = "\n".join(d.text()[-3000:] for d in daemons)
            raise AssertionError(f"{why} waiting for {what}{': ' + detail() if detail else ''}\n{logs}")
        pause.wait(step)


class Daemon:
    """One `syncd run` process; its stderr goes to a log file (never a pipe that could fill up)."""

    def __init__(self, config: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = log
        base = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
        env = {**base, "PYTHONPATH": str(ROOT), **(env or {})}
        with log.open("ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "syncd", "run", "--config", str(config), *args],
                                         stdout=err, stderr=err, env=env, cwd=ROOT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind."""
        os.kill(self.proc.pid, signal.SIGKILL)

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=30)
