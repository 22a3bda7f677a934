"""The chart process of a one-shot report (syncd/chart_process.py): the charts it draws are the bytes this
process draws, and when it is killed, fails to start or fails a chart, the chart is drawn here instead
(a whole report drawn both ways: tests/integration/test_report_cli.py)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bench import report_cli
from syncd import chart_process
from syncd.chart_process import ChartProcess
from syncd.reports.render import charts
from syncd.reports.render.drawing import draw, drawn_by

DAYS = [date(2026, 5, 1) + timedelta(days=n) for n in range(30)]
BURNUP = ("Burn-up (items)", DAYS, [40 + n // 3 for n in range(30)], [n * 1.1 for n in range(30)])
BURNUP_KW = {"unit": "items", "target": date(2026, 6, 20), "cone": (date(2026, 6, 10), date(2026, 6, 18), date(2026, 6, 25))}


def _here() -> bytes:
    return charts.burnup_png(*BURNUP, **BURNUP_KW)  # type: ignore[arg-type]


@pytest.fixture
def process() -> ChartProcess:
    proc = ChartProcess()
    assert proc.start()
    return proc


def test_the_process_draws_the_bytes_this_process_draws(process: ChartProcess) -> None:
    with drawn_by(process):
        drawn = [draw("burnup_png", *BURNUP, **BURNUP_KW) for _ in range(3)]  # all sent before any is taken
    assert [d.png() for d in drawn] == [_here()] * 3
    assert process.drawn == 3
    process.close()


def test_a_killed_process_leaves_the_charts_to_this_one(process: ChartProcess) -> None:
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    with drawn_by(process):
        assert draw("burnup_png", *BURNUP, **BURNUP_KW).png() == _here()
        assert draw("burnup_png", *BURNUP, **BURNUP_KW).png() == _here()  # not sent: the process has ended
    assert process.drawn == 0
    process.close()


def test_a_process_that_fails_to_start_leaves_the_charts_to_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_process, "_CHILD", [str(Path(sys.executable).with_name("no-such-python"))])
    assert not ChartProcess().start()
    monkeypatch.setattr(chart_process, "_CHILD", [sys.executable, "-c", "raise SystemExit(3)"])
    dying = ChartProcess()
    assert dying.start()
    with drawn_by(dying):
        assert draw("burnup_png", *BURNUP, **BURNUP_KW).png() == _here()
    assert dying.drawn == 0
    dying.close()


def test_a_chart_the_process_fails_is_drawn_here_and_fails_the_same(process: ChartProcess) -> None:
    with drawn_by(process):
        failed = draw("burnup_png", *BURNUP, colour="red")
        next_one = draw("burnup_png", *BURNUP, **BURNUP_KW)
    with pytest.raises(TypeError, match="colour"):
        failed.png()
    assert next_one.png() == _here()  # and it still draws the next
    assert process.drawn == 1
    process.close()


def test_the_bench_reads_the_process_figures_and_counts_them_at_once(process: ChartProcess,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    with drawn_by(process):
        draw("burnup_png", *BURNUP, **BURNUP_KW).png()
    with caplog.at_level(logging.DEBUG, logger="syncd.chart_process"):
        process.close()
    found = report_cli._DRAWER.search(caplog.text)
    assert found is not None, caplog.text
    rss, cpu, _, _ = (float(g) for g in found.groups())
    assert 20 < rss < 1000 and cpu > 0
    # the report's peak 400 (while the reader lived 300, the reader 120): max(400, 420) + the drawer's 80
    assert report_cli.at_once_mib(400.0, 300.0, 120.0, 80.0) == 500.0
    assert report_cli.at_once_mib(400.0, 250.0, 100.0, 0.0) == 400.0
