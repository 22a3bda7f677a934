"""The forecast backtest's bookkeeping on a hand-built history with a known answer.

One team (WID) finishes one item a week: item k starts on day 7k and is done on day 7k + 1, for
k = 0..9; the goal is the whole project, so the share is 1 and every forecast is exact. Weekly
checkpoints fall on days 7, 14, ..., 63 (nine with work left: the last item is done on day 64).
- new: refused on day 7 (one week of team history, two needed), then dated and right: 8 hits;
- old: needs four weeks since the first creation (day 0), so dated from day 28: 6 hits.
"""

from __future__ import annotations

from datetime import date
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


def test_backtest_counts_the_queued_release_beside_the_default_share(tmp_path: Path) -> None:
    """Team WID finishes one item a week: items 0-9 of release R1 (due first) are done on days 7k + 1,
    then R2's two items (due later, created on day 0) on days 71 and 78. From creation, R2's weeks are
    days 7, 14, ..., 77. Day 7 has one week of team history: refused by both. Days 14-70 (9 weeks) R2
    has none of its own done, R1 finished all the team's recent items (a stream share of 1):
    - queued: (10 - w) items of R1 left on day 7w, plus R2's 2, at 1 a week: day 7w + 7(12 - w) = 84,
      on or after R2's finish on day 78: 9 hits of 9;
    - default share 1/(w + 2) (w completions in w weeks): 2 items take 2(w + 2) weeks, day 21w + 28:
      day 70 on day 14 (w = 2) is before day 78, a miss; 8 hits of 9.
    Day 77: R2's item done on day 71 gives it a recent share of its own (1 of the team's 6), and it is
    queued still (R1 open, unreleased): its stream is R1's 5 + its own 1 of the 6, a share of 1, so its
    1 item left takes 1 week, day 84, a hit; without the queue 1 item at a share of about 1/6 takes
    weeks, a hit too. So 10 asked: queued 10 hits of 10, plain 9 of 10."""
    p = Plan()
    r1 = p.version("R1", due=date(2026, 3, 1))
    r2 = p.version("R2", due=date(2026, 6, 1))
    for k in range(12):
        item = p.item(created=day(0), release_ids=[r1.id] if k < 10 else [r2.id])
        p.move(item, "In Progress", day(7 * k))
        p.move(item, "Done", day(7 * k + 1))
    goals = tmp_path / "goals.toml"
    goals.write_text(GOALS.replace('projects = ["WID"]', 'projects = ["NONE"]'), encoding="utf-8")
    tallies, n = backtest(p.snapshot(), goals, day(100), 200, life="created")
    assert n == 2  # the two versions (the goal holds no items)
    queued, plain = tallies["new + queue, queued weeks only"], tallies["new, queued weeks only"]
    assert (queued.asked, queued.dated, queued.decided, queued.hits) == (10, 10, 10, {50: 10, 85: 10, 95: 10})
    assert (plain.asked, plain.dated, plain.decided, plain.hits) == (10, 10, 10, {50: 9, 85: 9, 95: 9})
