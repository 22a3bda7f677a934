"""The forecast backtest's bookkeeping on a hand-built history with a known answer.

One team (WID) finishes one item a week: item k starts on day 7k and is done on day 7k + 1, for
k = 0..9; the goal is the whole project, so the share is 1 and every forecast is exact. Weekly
checkpoints fall on days 7, 14, ..., 63 (nine with work left: the last item is done on day 64).
- new: refused on day 7 (one week of team history, two needed), then dated and right: 8 hits;
- old: needs four weeks since the first creation (day 0), so dated from day 28: 6 hits.
"""

from __future__ import annotations

from pathlib import Path

from bench.forecast_backtest import backtest
from tests.unit.analysis_factories import Plan, day

GOALS = """\
[[goals]]
id = "all"
title = "Everything"
objective = "o"
problem = "p"
owner = "Olivia"
target_date = 2026-12-31
scope = { projects = ["WID"] }
metric = { name = "m", baseline = 0, target = 100, computed = "percent-done" }
"""


def test_backtest_counts_hits_per_method(tmp_path: Path) -> None:
    p = Plan()
    for k in range(10):
        item = p.item(created=day(0))
        p.move(item, "In Progress", day(7 * k))
        p.move(item, "Done", day(7 * k + 1))
    goals = tmp_path / "goals.toml"
    goals.write_text(GOALS, encoding="utf-8")
    tallies, n = backtest(p.snapshot(), goals, day(100), 200)
    assert n == 1
    new, old = tallies["new"], tallies["old"]
    assert (new.asked, new.dated, new.decided, new.hits) == (9, 8, 8, {50: 8, 85: 8, 95: 8})
    assert (old.asked, old.dated, old.decided, old.hits) == (9, 6, 6, {50: 6, 85: 6, 95: 6})
    assert new.rate(85) == 100.0
