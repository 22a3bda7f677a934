"""Gadget 5.7 on the demo store (sandbox seed 7, 2000 items, at the demo run issue 12's queue item
was filed from): it has no completions of its own yet while team GAD finishes Gadget 5.6, so it is
forecast queued behind Gadget 5.6 (reports/analysis/queue.py), checked against the store's rows.

The hand computation, read straight from SQLite (not through syncd's analysis):
- the remaining items of a release are its stories, tasks, bugs and issues not done, in the Jira
  version or the GitHub milestone of the same release (Gadget 5.6 / v5.6, Gadget 5.7 / v5.7);
- the team is the projects holding Gadget 5.7's items (GAD and acme/gadget); an item's finish is its
  last change to Done (else its resolution, else its last update);
- the stream's share is Gadget 5.6's items finished in the last 6 weeks over the team's;
- the weekly pace is the team's finishes in the last 12 weeks / 12 × that share, and the median
  finish is now + (5.7's and 5.6's remaining items) / pace, rounded up to whole weeks.
The Monte Carlo's p50 must land within two weeks of it, and the p85 before 2028 (it was 2032-07-15).
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from syncd.demo import demo_goals_toml
from syncd.reporting import generate_report, load_context
from syncd.reports.analysis.types import Analysis, ShareSource
from tests.reports_sandbox import SandboxStore, build_sandbox_store

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 3, 10, 24, 10, tzinfo=UTC)  # the demo run issue 12's queue item was filed from
KINDS = "('story', 'task', 'bug', 'issue')"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("queue-demo"), seed=7, issues=2000, now=NOW,
                               goals=demo_goals_toml)


@pytest.fixture(scope="module")
def analysis(demo: SandboxStore) -> Analysis:
    return load_context(demo.settings, demo.store, now=NOW).analysis


def _db(demo: SandboxStore) -> sqlite3.Connection:
    return sqlite3.connect(demo.store.url.removeprefix("sqlite:///"))


def _items(db: sqlite3.Connection, names: tuple[str, ...], done: bool) -> set[str]:
    rows = db.execute(
        f"SELECT DISTINCT i.id FROM items i, json_each(i.release_ids) j JOIN releases r ON r.id = j.value "
        f"WHERE i.removed = 0 AND i.kind IN {KINDS} AND (i.status_category = 'done') = ? "
        f"AND r.name IN ({','.join('?' * len(names))})", (done, *names)).fetchall()
    return {r[0] for r in rows}


def _finished(db: sqlite3.Connection, where: str, args: tuple[object, ...]) -> dict[str, datetime]:
    rows = db.execute(
        f"SELECT i.id, coalesce((SELECT max(t.at) FROM transitions t WHERE t.item_id = i.id AND t.field = 'status' "
        f"AND t.to_string = 'Done'), i.resolved, i.updated) FROM items i WHERE i.removed = 0 "
        f"AND i.status_category = 'done' AND i.kind IN {KINDS} AND {where}", args).fetchall()
    return {r[0]: datetime.fromisoformat(r[1]).replace(tzinfo=UTC) for r in rows}


def test_gadget_5_7_is_forecast_behind_gadget_5_6(demo: SandboxStore, analysis: Analysis) -> None:
    db = _db(demo)
    left_57, left_56 = _items(db, ("Gadget 5.7", "v5.7"), False), _items(db, ("Gadget 5.6", "v5.6"), False)
    assert (len(left_57), len(left_56)) == (23, 15)  # the figures the issue quotes
    fc = next(r for r in analysis.releases if r.release.name == "Gadget 5.7").forecast
    assert (fc.share_source, fc.team) == (ShareSource.QUEUED, "GAD + acme/gadget")
    assert [(a.name, a.remaining) for a in fc.ahead] == [("Gadget 5.6", len(left_56))]
    assert (fc.remaining_items, fc.ahead_items) == (len(left_57), len(left_56 - left_57))

    team = _finished(db, "i.project IN ('GAD', 'acme/gadget')", ())
    done_56 = _items(db, ("Gadget 5.6", "v5.6"), True)
    six, twelve = NOW - timedelta(weeks=6), NOW - timedelta(weeks=12)
    recent = {k for k, at in team.items() if six <= at < NOW}
    share = len(recent & done_56) / len(recent)
    assert fc.share == pytest.approx(share)
    pace = sum(1 for at in team.values() if twelve <= at < NOW) / 12 * share
    hand_p50 = (NOW + timedelta(weeks=math.ceil(len(left_57 | left_56) / pace))).date()
    assert fc.p50 is not None and fc.p85 is not None
    assert abs((fc.p50 - hand_p50).days) <= 14, (fc.p50, hand_p50, share, pace)
    assert fc.p50 <= fc.p85 < date(2028, 1, 1)


def test_the_reports_name_the_queue(demo: SandboxStore, analysis: Analysis) -> None:
    fc = next(r for r in analysis.releases if r.release.name == "Gadget 5.7").forecast
    md = generate_report(demo.settings, demo.store, "status", "business", now=NOW, record=False).markdown
    line = next(ln for ln in md.splitlines() if "Gadget 5.7" in ln and "queued behind" in ln)
    assert f"queued behind Gadget 5.6 ({fc.ahead[0].remaining} items): team GAD + acme/gadget × " in line
    assert f"{fc.simulated_items} left ({fc.remaining_items} its own, {fc.ahead_items} ahead)" in line
    assert "default share" not in line


def test_widget_2_7_with_a_small_share_of_its_own_is_forecast_behind_widget_2_6(demo: SandboxStore,
                                                                               analysis: Analysis) -> None:
    # Widget 2.7 has a few recent completions of its own (6.7% of its team's), so it had a recent share
    # and no queue: 85% forecast in 2028, "cut 42 of 43". Queued, its stream is Widget 2.6's recent
    # completions and its own over the team's (WID + acme/widget), its items 2.6's and its own
    db = _db(demo)
    left_27, left_26 = _items(db, ("Widget 2.7", "v2.7"), False), _items(db, ("Widget 2.6", "v2.6"), False)
    assert (len(left_27), len(left_26)) == (42, 6)
    fc = next(r for r in analysis.releases if r.release.name == "Widget 2.7").forecast
    assert (fc.share_source, fc.team) == (ShareSource.QUEUED, "WID + acme/widget")
    assert [(a.name, a.remaining) for a in fc.ahead] == [("Widget 2.6", len(left_26))]
    assert (fc.remaining_items, fc.ahead_items) == (len(left_27), len(left_26 - left_27))

    team = _finished(db, "i.project IN ('WID', 'acme/widget')", ())
    six, twelve = NOW - timedelta(weeks=6), NOW - timedelta(weeks=12)
    recent = {k for k, at in team.items() if six <= at < NOW}
    own = len(recent & _items(db, ("Widget 2.7", "v2.7"), True)) / len(recent)
    ahead = len(recent & _items(db, ("Widget 2.6", "v2.6"), True)) / len(recent)
    assert own > 0 and fc.own_share == pytest.approx(own) and fc.share == pytest.approx(own + ahead)
    pace = sum(1 for at in team.values() if twelve <= at < NOW) / 12 * (own + ahead)
    hand_p50 = (NOW + timedelta(weeks=math.ceil(len(left_27 | left_26) / pace))).date()
    assert fc.p50 is not None and fc.p85 is not None
    assert abs((fc.p50 - hand_p50).days) <= 14, (fc.p50, hand_p50, own, ahead, pace)
    assert fc.p50 <= fc.p85 < date(2027, 7, 1)
    # the cut option meets the date 2027-01-04 by hand: the items cut leave (6 + kept) for the
    # weeks to the date at the mean pace, within a week of slack for the Monte Carlo's 85%
    [cut] = [o for o in fc.options if o.kind == "cut"]
    kept = len(left_27) - int(cut.description.split()[1])
    assert cut.p85 is not None and cut.p85 <= date(2027, 1, 4)
    weeks = math.floor((date(2027, 1, 4) - NOW.date()).days / 7)
    assert len(left_26) + kept <= pace * weeks + pace, (kept, pace, weeks)
    assert kept > 0
