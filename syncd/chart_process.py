"""A second process that draws a one-shot report's charts: it loads matplotlib while this one analyses.

A `syncd report` spends its analysis (~3 s at 100k) on one core, then loads matplotlib and the chart
module with its first chart (~0.4 CPU s) and draws. Started as the report starts, this process has
them loaded by the time the render asks for the first chart; each chart then goes over a pipe as the
name of its function in syncd.reports.render.charts and its plain arguments (dates, numbers, strings),
and comes back as PNG bytes drawn by the same code.

Run as `python -m syncd.chart_process` (started with `subprocess`, fork+exec: it inherits nothing of
the parent's memory). Requests come on stdin, each a pickle: (chart, args, kwargs), answered on stdout
by ("png", bytes) or ("error", text); None asks for its own peak RSS and CPU, answered by ("usage", {...}).
It exits when its stdin closes: the parent is done with it, or died.

Only in a one-shot process (`syncd report`): the daemon renders one report at a time and keeps
matplotlib loaded. Anything that goes wrong (no process, a failed chart, a broken pipe) gives None and
a debug log line: the chart is then drawn in-process (syncd.reports.render.drawing), the same bytes.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("syncd.chart_process")

_CHILD = [sys.executable, "-m", "syncd.chart_process"]
_ROOT = str(Path(__file__).resolve().parents[1])  # the folder holding this syncd package


class ChartProcess:
    """The parent's end: a drawer for `syncd.reports.render.drawing.drawn_by`."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc: subprocess.Popen[bytes] | None = proc
        self._drawn = 0
        self._waited = 0.0  # seconds this process waited for charts

    @property
    def drawn(self) -> int:
        """How many charts the process drew."""
        return self._drawn

    @property
    def pid(self) -> int | None:
        """The process's id while this end holds it."""
        return self._proc.pid if self._proc is not None else None

    @classmethod
    def start(cls) -> ChartProcess | None:
        """The process started (it loads matplotlib meanwhile), or None (logged): charts drawn in-process."""
        if not sys.executable:
            return None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)  # this very syncd
        try:
            proc = subprocess.Popen(_CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env)
        except OSError as exc:
            log.debug("charts drawn in-process: %s", exc)
            return None
        return cls(proc)

    def __call__(self, chart: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes | None:
        """The chart's PNG bytes as the process drew them, or None (logged) when it did not."""
        answer = self._ask((chart, args, kwargs))
        if answer is None or answer[0] != "png":
            log.debug("chart %s drawn in-process: %s", chart, answer[1] if answer else "no chart process")
            return None
        self._drawn += 1
        png: bytes = answer[1]
        return png

    def _ask(self, request: Any) -> tuple[str, Any] | None:
        if self._proc is None:
            return None
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        waited = time.perf_counter()
        try:
            pickle.dump(request, stdin, protocol=5)
            stdin.flush()
            # pickles from our own child over its pipe: nothing else can write there
            answer: tuple[str, Any] = pickle.load(stdout)  # noqa: S301
        except Exception as exc:  # noqa: BLE001 - it died or was stopped: the rest is drawn in-process
            log.debug("chart process gone: %s: %s", type(exc).__name__, exc)
            self._stop()
            return None
        finally:
            self._waited += time.perf_counter() - waited
        return answer

    def close(self) -> None:
        """Stop the process and reap it; its figures go to the debug log (bench/report_cli.py reads them)."""
        answer = self._ask(None) if self._drawn else None
        if answer is not None and answer[0] == "usage":
            from syncd.store._parallel_child import peak_rss_mib

            u = answer[1]
            # this process's peak while the child lived (all of it so far), with the child's: both at once
            log.debug("charts drawn by a child process: %d charts; child peak RSS %.1f MiB, CPU %.2f s, "
                      "ready after %.3f s; waited for it %.3f s, peak RSS here so far %.1f MiB",
                      self._drawn, u["maxrss_mib"], u["cpu_s"], u["ready_s"], self._waited, peak_rss_mib())
        self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        try:
            proc.stdin.close()  # its signal to exit
        except OSError:
            pass
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    """Load the charts, then draw each request from stdin until it closes."""
    started = time.perf_counter()
    out: IO[bytes] = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing printed by an import can corrupt the messages
    from syncd.reports.render import charts
    from syncd.store._parallel_child import peak_rss_mib

    ready_s = time.perf_counter() - started
    while True:
        try:
            request = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the parent, over our own stdin
        except EOFError:
            return
        if request is None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            answer: tuple[str, Any] = ("usage", {"maxrss_mib": peak_rss_mib(), "cpu_s": usage.ru_utime + usage.ru_stime,
                                                 "ready_s": ready_s})
        else:
            chart, args, kwargs = request
            try:
                answer = ("png", getattr(charts, chart)(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - told to the parent, which then draws it itself
                answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, out, protocol=5)
        out.flush()


if __name__ == "__main__":
    main()
