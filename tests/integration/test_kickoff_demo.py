"""Sprint kickoff on the demo store (seed 7, 2,000 items, the demo's goals), synced the real way
(issue 16 item 2 acceptance): the kickoff shows the sprint's dates and a capacity figure, and the
figures are worked out here from a direct query of the store, not through the code under test.

WID Sprint 22 has no dates in Jira; the kickoff places it after WID Sprint 21 with Sprint 21's
length. With `[teams.web]` configured (3 members, 3 days off, focus factor 0.6), capacity is
Kniberg's (members × working days − days off) × focus factor; the likely carry-over is what is
still open in WID Sprint 21 less what the team's pace finishes in its remaining days.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syncd.demo import demo_goals_toml
from syncd.reporting import load_context, render_from
from syncd.reports.goals import Team
from tests.reports_sandbox import TIMEZONE, SandboxStore, build_sandbox_store

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # a Wednesday in WID Sprint 21
MEMBERS = ("Ana Silva", "Oscar García", "Li Wei")
WEB = Team(boards=("WID board",), members=MEMBERS, focus_factor=0.6, days_off={"WID Sprint 22": {"Ana Silva": 3}})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("demo"), seed=7, issues=2000, now=NOW, goals=demo_goals_toml)


def _kickoff(demo: SandboxStore, teams: dict[str, Team] | None = None) -> str:
    settings = demo.settings if teams is None else demo.settings.model_copy(update={"teams": teams})
    return render_from(load_context(settings, demo.store, now=NOW), None, "sprint-kickoff", scope="WID Sprint 22").markdown


def _db(demo: SandboxStore) -> sqlite3.Connection:
    return sqlite3.connect(str(demo.store.engine.url.database))


def _sprint_21(demo: SandboxStore) -> tuple[datetime, datetime]:
    start, end = _db(demo).execute("select start, \"end\" from sprints where name = 'WID Sprint 21'").fetchone()
    return (datetime.fromisoformat(start).replace(tzinfo=UTC), datetime.fromisoformat(end).replace(tzinfo=UTC))


def _weekdays(first: date, stop: date) -> int:
    """Monday-to-Friday days from `first` up to, not including, `stop` (counted one by one)."""
    return sum(1 for n in range((stop - first).days) if (first + timedelta(days=n)).weekday() < 5)


def _commitment_row(md: str) -> list[str]:
    table = md[md.index("## Commitment"):]
    row = next(line for line in table.splitlines()[4:] if line.startswith("| "))
    return [c.strip() for c in row.strip("|").split("|")]


def test_kickoff_shows_the_inferred_dates_and_the_configured_capacity(demo: SandboxStore) -> None:
    md = _kickoff(demo, {"web": WEB})
    tz = ZoneInfo(TIMEZONE)
    start21, end21 = _sprint_21(demo)
    start, end = end21, end21 + (end21 - start21)  # after Sprint 21, with its length
    days = _weekdays(start.astimezone(tz).date(), end.astimezone(tz).date())
    assert days == 10  # two weeks, Monday to Monday
    first = md.splitlines()[0]
    assert first == (f"# Sprint kickoff: WID Sprint 22 — {start.astimezone(tz).date()} → {end.astimezone(tz).date()} "
                     "(planned; Jira has no dates yet, so they follow WID Sprint 21 with its length), 10 working days")
    person_days = 3 * days - 3
    capacity = person_days * 0.6  # 27 person-days × 0.6 = 16.2 points
    assert f"3 members × {days} working days − 3 days off = {person_days} person-days × focus factor 0.60" in md
    committed, _, cap, carry, headroom, _ = _commitment_row(md)
    assert cap == f"{capacity:.1f} pts"
    # what Sprint 21 still holds open now, by SQL: points of its items not done (and not already in Sprint 22)
    db = _db(demo)
    ids = dict(db.execute("select name, id from sprints where name in ('WID Sprint 21', 'WID Sprint 22')").fetchall())
    open_points = db.execute(
        "select coalesce(sum(estimate), 0) from items where removed = 0 and status_category != 'done' "
        "and exists (select 1 from json_each(sprint_ids) where value = ?) "
        "and not exists (select 1 from json_each(sprint_ids) where value = ?)",
        (ids["WID Sprint 21"], ids["WID Sprint 22"])).fetchone()[0]
    assert open_points > 0
    said = re.search(r"Likely carry-over: WID Sprint 21, still running, has ([\d.]+) open points; at the mean velocity "
                     r"it finishes ([\d.]+) of them in its remaining working days, so the other ([\d.]+) will likely "
                     r"carry over into WID Sprint 22", md)
    assert said is not None, md
    assert float(said[1]) == pytest.approx(open_points)
    assert float(said[3]) == pytest.approx(open_points - float(said[2]), abs=0.06)
    assert carry == f"{said[3]} pts"
    # headroom: capacity less the carry-over, never below zero
    assert headroom == f"{max(0.0, capacity - float(said[3])):.1f}".removesuffix(".0") + " pts"
    # committed points: Sprint 22's items by SQL
    points = db.execute(
        "select coalesce(sum(estimate), 0) from items where removed = 0 "
        "and exists (select 1 from json_each(sprint_ids) where value = ?)", (ids["WID Sprint 22"],)).fetchone()[0]
    assert committed == f"{points:g} pts"


def test_kickoff_without_teams_states_the_velocity_assumption_and_shows_a_figure(demo: SandboxStore) -> None:
    md = _kickoff(demo)
    _, _, cap, _, _, _ = _commitment_row(md)
    assert re.fullmatch(r"[\d.]+ pts", cap), cap
    assert ("- Capacity: no \\[teams\\] entry with members runs this board: assumed equal to the mean completed "
            "points of WID Sprint 18, WID Sprint 19, WID Sprint 20, with the same people and sprint length.") in md
    avg = re.search(r"- Average velocity: ([\d.]+) pts", md)
    assert avg is not None and cap == f"{avg[1]} pts"
