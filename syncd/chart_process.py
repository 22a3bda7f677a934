"""A second process that draws a one-shot report's charts: it loads matplotlib while this one analyses.

A `syncd report` spends its analysis (~3 s at 100k) on one core, then loads matplotlib and the chart
module with its first chart (~0.4 CPU s) and draws. Started once the report has read its snapshot
(while it reads, the second core reads the transitions: syncd/store/_parallel.py), this process has
them loaded by the time the render asks for the first chart; each chart then goes over a pipe as the
name of its function in syncd.reports.render.charts and its plain arguments (dates, numbers, strings),
and comes back as PNG bytes drawn by the same code.

Run as `python -m syncd.chart_process` (started with `subprocess`, fork+exec: it inherits nothing of
the parent's memory). Requests come on stdin, each a pickle: (chart, args, kwargs), answered on stdout
in order by ("png", bytes) or ("error", text); None asks for its own peak RSS and CPU, answered by
("usage", {...}). The parent sends each chart as the render asks for it and takes the bytes only when the
report is finished (reports/catalogue/base.py `finish`), so both processes work at once.
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
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("syncd.chart_process")

_CHILD = [sys.executable, "-m", "syncd.chart_process"]
CHART_TIMEOUT_S = 60.0  # one chart, or the process's figures at the end (a chart takes ~0.15 s)
_ROOT = str(Path(__file__).resolve().parents[1])  # the folder holding this syncd package


class ChartProcess:
    """The parent's end: a drawer for `syncd.reports.render.drawing.drawn_by`.

    Each chart is sent as it is asked for and its answer read by a thread as it comes (the process never
    blocks on a full pipe), so the process draws while this one goes on rendering; `Drawn.png()` waits.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None  # until `start`
        self._asked: deque[Future[tuple[str, Any] | None]] = deque()  # answers not read yet, in order
        self._lock = threading.Lock()  # over `_asked` and `_ended`, between asking and the reader's end
        self._ended = False  # the reader met the end of the process's answers
        self._drawn = 0
        self._waited = 0.0  # seconds this process waited for charts
        self._reader = threading.Thread(target=self._read, name="syncd-charts", daemon=True)

    @property
    def drawn(self) -> int:
        """How many charts the process delivered."""
        return self._drawn

    @property
    def pid(self) -> int | None:
        """The process's id while this end holds it."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> bool:
        """Start the process (it loads matplotlib meanwhile); False (logged): charts drawn in-process."""
        if not sys.executable or self._reader.is_alive():
            return False
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)  # this very syncd
        try:
            proc = subprocess.Popen(_CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env=env)
        except OSError as exc:
            log.debug("charts drawn in-process: %s", exc)
            return False
        self._proc = proc
        self._reader.start()
        return True

    def __call__(self, chart: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[], bytes | None] | None:
        """Send the chart; a call that waits for its PNG bytes (None, logged: not delivered), or None: not sent."""
        asked = self._ask((chart, args, kwargs))
        if asked is None:
            return None

        def png() -> bytes | None:
            waited = time.perf_counter()
            try:
                answer = asked.result(timeout=CHART_TIMEOUT_S)
            except TimeoutError:  # stuck: stopped (its pipe closes, the reader answers None to the rest)
                self._kill()
                answer = None
            self._waited += time.perf_counter() - waited
            if answer is None or answer[0] != "png":
                log.debug("chart %s drawn in-process: %s", chart, answer[1] if answer else "no chart process")
                return None
            got: bytes = answer[1]
            return got

        return png

    def _ask(self, request: Any) -> Future[tuple[str, Any] | None] | None:
        with self._lock:
            if self._proc is None or self._ended:
                return None
            stdin = self._proc.stdin
            assert stdin is not None
            asked: Future[tuple[str, Any] | None] = Future()
            self._asked.append(asked)
        try:
            pickle.dump(request, stdin, protocol=5)
            stdin.flush()
        except Exception as exc:  # noqa: BLE001 - it died or was stopped: the rest is drawn in-process
            log.debug("chart process gone: %s: %s", type(exc).__name__, exc)
            self._stop()  # the reader then answers None to what is still asked
            return asked
        return asked

    def _read(self) -> None:
        """Hand each answer from the process to the request it answers, in order; None to all at its end."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        try:
            while True:
                # pickles from our own child over its pipe: nothing else can write there
                answer: tuple[str, Any] = pickle.load(proc.stdout)  # noqa: S301
                if answer[0] == "png":
                    self._drawn += 1
                self._asked.popleft().set_result(answer)
        except Exception as exc:  # noqa: BLE001 - EOF (it ended, died or was stopped), a broken pipe
            log.debug("chart process ended: %s: %s", type(exc).__name__, exc)
        with self._lock:
            self._ended = True
            while self._asked:
                self._asked.popleft().set_result(None)

    def close(self) -> None:
        """Stop the process and reap it; its figures go to the debug log (bench/report_cli.py reads them)."""
        asked = self._ask(None)
        try:
            answer = asked.result(timeout=CHART_TIMEOUT_S) if asked is not None else None
        except TimeoutError:
            self._kill()
            answer = None
        if answer is not None and answer[0] == "usage":
            from syncd.store._parallel_child import peak_rss_mib

            u = answer[1]
            # this process's peak while the child lived (all of it so far), with the child's: both at once
            log.debug("charts drawn by a child process: %d charts; child peak RSS %.1f MiB, CPU %.2f s, "
                      "ready after %.3f s; waited for it %.3f s, peak RSS here so far %.1f MiB",
                      self._drawn, u["maxrss_mib"], u["cpu_s"], u["ready_s"], self._waited, peak_rss_mib())
        self._stop()
        if self._reader.is_alive():
            self._reader.join()

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None:
            proc.kill()

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
