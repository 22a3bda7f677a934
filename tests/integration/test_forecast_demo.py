"""Forecasts on the demo store (sandbox seed 7, 2000 items, synced the real way), checked against a
hand computation from the store's own rows.

The hand computation (read straight from SQLite, not through syncd's analysis):
- the team is the Jira project of the goal's fix version (WID or GAD);
- its weekly throughput is the mean number of its stories, tasks and bugs whose last status change
  to "Done" falls in each of the 12 weeks before now;
- the scope's recent share is its items done in the last 6 weeks over the team's;
- the finish is now + remaining / (throughput × share) weeks, rounded up to whole weeks.
The Monte Carlo's p85 must land within two weeks of that date.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from syncd.demo import demo_goals_toml
from syncd.reporting import generate_report, load_context
from syncd.reports.analysis.types import Analysis
from syncd.sandbox.generate import generate_world
from syncd.settings import Settings
from syncd.settings_sections import ReportSettings
from tests.reports_sandbox import SandboxStore, synced_store

pytestmark = pytest.mark.slow

NOW = datetime(2026, 12, 2, 14, 25, tzinfo=UTC)  # the demo run the issue was filed from (its Widget 2.6 figures)
SCOPE_KINDS = ("story", "task", "bug", "issue")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    """The demo's store and goals (what `syncd demo --now NOW` builds, without writing the reports)."""
    folder = tmp_path_factory.mktemp("forecast-demo")
    world = generate_world(seed=7, issues=2000, now=NOW)
    goals_file = folder / "goals.toml"
    goals_file.write_text(demo_goals_toml(world), encoding="utf-8")
    store, origins = synced_store(folder, world)
    settings = Settings(data_dir=folder, reports=ReportSettings(goals_file=goals_file, timezone="Europe/Berlin"))
    return SandboxStore(store=store, settings=settings, goals_file=goals_file, origins=origins)


@pytest.fixture(scope="module")
def analysis(demo: SandboxStore) -> Analysis:
    return load_context(demo.settings, demo.store, now=NOW).analysis


def _db(demo: SandboxStore) -> sqlite3.Connection:
    return sqlite3.connect(demo.store.url.removeprefix("sqlite:///"))


def _done_times(db: sqlite3.Connection, where: str, args: tuple[object, ...]) -> list[datetime]:
    rows = db.execute(
        f"SELECT max(t.at) FROM items i JOIN transitions t ON t.item_id = i.id AND t.field = 'status' "
        f"AND t.to_string = 'Done' WHERE i.removed = 0 AND i.status_category = 'done' "
        f"AND i.kind IN ({','.join('?' * len(SCOPE_KINDS))}) AND {where} GROUP BY i.id",
        (*SCOPE_KINDS, *args)).fetchall()
    return [datetime.fromisoformat(r[0]).replace(tzinfo=UTC) for r in rows]


def _hand_p85(demo: SandboxStore, project: str, version: str) -> tuple[date, float, int]:
    """The hand computation: (finish date, share, remaining items)."""
    db = _db(demo)
    [(rid,)] = db.execute("SELECT id FROM releases WHERE kind = 'version' AND name = ?", (version,)).fetchall()
    in_scope = "i.project = ? AND EXISTS (SELECT 1 FROM json_each(i.release_ids) WHERE value = ?)"
    team = _done_times(db, "i.project = ?", (project,))
    mine = _done_times(db, in_scope, (project, rid))
    [(remaining,)] = db.execute(
        f"SELECT count(*) FROM items i WHERE i.removed = 0 AND i.status_category != 'done' "
        f"AND i.kind IN ({','.join('?' * len(SCOPE_KINDS))}) AND {in_scope}", (*SCOPE_KINDS, project, rid)).fetchall()
    window, share_window = NOW - timedelta(weeks=12), NOW - timedelta(weeks=6)
    throughput = sum(1 for t in team if window <= t < NOW) / 12
    share = sum(1 for t in mine if share_window <= t < NOW) / sum(1 for t in team if share_window <= t < NOW)
    weeks = math.ceil(remaining / (throughput * share))
    return (NOW + timedelta(weeks=weeks)).date(), share, remaining


@pytest.mark.parametrize(("goal_id", "project", "version"), [("release-widget-2-6", "WID", "Widget 2.6"),
                                                             ("release-gadget-5-6", "GAD", "Gadget 5.6")])
def test_p85_is_within_two_weeks_of_team_throughput_times_recent_share(
        demo: SandboxStore, analysis: Analysis, goal_id: str, project: str, version: str) -> None:
    hand, share, remaining = _hand_p85(demo, project, version)
    fc = next(g for g in analysis.goals if g.goal.id == goal_id).forecast
    assert (fc.method, fc.team, fc.share_source, fc.remaining_items) == ("team-share", project, "recent", remaining)
    assert fc.share == pytest.approx(share)
    assert fc.p85 is not None and abs((fc.p85 - hand).days) <= 14, (fc.p85, hand)


def test_a_goal_and_a_release_with_the_same_items_show_the_same_dates(demo: SandboxStore, analysis: Analysis) -> None:
    pairs = [(g, r) for g in analysis.goals for r in analysis.releases
             if {i.id for i in g.progress.remaining} == {i.id for i in r.progress.remaining} and g.progress.remaining]
    assert pairs, "no goal shares its remaining items with a release"
    for g, r in pairs:
        assert (g.forecast.key, g.forecast.p50, g.forecast.p85, g.forecast.p95) == (
            r.forecast.key, r.forecast.p50, r.forecast.p85, r.forecast.p95)
    # and every report quotes that one p85 for both
    g, r = pairs[0]
    for kind, audience in (("status", "executive"), ("status", "business"), ("timeline", None)):
        md = generate_report(demo.settings, demo.store, kind, audience, now=NOW, record=False).markdown
        assert str(g.forecast.p85) in md or str(g.forecast.p50) in md, kind


def test_every_forecast_line_names_its_inputs(demo: SandboxStore) -> None:
    for kind, audience in (("status", "executive"), ("status", "business"), ("timeline", None)):
        md = generate_report(demo.settings, demo.store, kind, audience, now=NOW, record=False).markdown
        for line in md.splitlines():
            if " vs 20" in line and ("d late" in line or "d buffer" in line):
                assert "weeks sampled" in line and "share" in line and "seed" in line, line
