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
from syncd.model import Transition, TransitionField
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


LABELLED = GOALS.replace('scope = { projects = ["WID"] }', 'scope = { labels = ["x"] }')


def test_backtest_scope_is_the_membership_of_that_week(tmp_path: Path) -> None:
    """The same ten items, goal "label x": items 0-4 carry x since creation, items 5-9 get it on day 36
    (the changelog's labels row). Replayed membership, worked by hand per checkpoint (item k done day 7k+1):
    days 7, 14, 21, 28: items 0-4, with 4, 3, 2, 1 open; day 35: items 0-4, all done (not asked);
    days 42, 49, 56, 63: items 0-9, with 4, 3, 2, 1 open (items 6-9). So 8 scope-weeks with work left,
    where today's membership (all ten from day 0) would give 9, counting day 35."""
    p = Plan()
    items = []
    for k in range(10):
        item = p.item(created=day(0), labels=["x"] if k < 5 else [])
        p.move(item, "In Progress", day(7 * k))
        p.move(item, "Done", day(7 * k + 1))
        items.append(item)
    for item in items[5:]:
        p.transitions.append(Transition(item_id=item.id, change_id=f"l{item.id}", field=TransitionField.LABELS,
                                        from_string=None, to_string="x", at=day(36)))
        item.labels = ["x"]
        item.updated = max(item.updated, day(36))
    p.transitions.sort(key=lambda t: (t.item_id, t.at))
    goals = tmp_path / "goals.toml"
    goals.write_text(LABELLED, encoding="utf-8")
    tallies, n = backtest(p.snapshot(), goals, day(100), 200)
    assert n == 1
    new, old = tallies["new"], tallies["old"]
    # new: refused on day 7 (one week of team history), then dated and right on the other 7
    assert (new.asked, new.dated, new.decided, new.hits) == (8, 7, 7, {50: 7, 85: 7, 95: 7})
    # old: four weeks since the first creation: dated on days 28, 42, 49, 56, 63
    assert (old.asked, old.dated) == (8, 5)
