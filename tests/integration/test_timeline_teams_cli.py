"""`syncd report timeline` with `[teams]`: the critical path's Team column names the configured team and
each item takes that team's p50 cycle time (follow-up of issues 12/14/16). The store (real SQLite, and
PostgreSQL when reachable, written as the Jira sync writes it) holds the hand-built world of
tests/unit/test_critical_path.py, whose figures are worked out by hand there and restated below.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from syncd.cli import main
from syncd.model import Batch
from syncd.store import Store
from tests.unit.test_critical_path import _teams_path_world

NOW = "2026-03-22T09:00:00+00:00"  # day 20 of the fixture
GOALS = """\
[[goals]]
id = "g"
title = "Goal g"
objective = "Grow revenue"
problem = "Users wait"
owner = "Olivia"
target_date = 2026-06-01
scope = { labels = ["g"] }
metric = { name = "NPS", baseline = 10, target = 30, value = 20, value_date = 2026-03-01 }
"""


def _path(tmp_path: Path, store: Store, teams: str) -> list[list[str]]:
    p, _ = _teams_path_world()
    store.apply_batch("jira", Batch(items=list(p.items.values()), links=p.links, transitions=p.transitions,
                                    people=[x for x in p.people if x.source == "jira"]))
    (tmp_path / "goals.toml").write_text(GOALS, encoding="utf-8")
    config = tmp_path / "syncd.toml"
    config.write_text(f'database_url = "{store.url}"\n[reports]\ntimezone = "UTC"\n'
                      f'goals_file = "{tmp_path / "goals.toml"}"\nout_dir = "{tmp_path / "out"}"\n{teams}',
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "timeline", "-c", str(config), "--now", NOW, "--format", "md"])
    assert result.exit_code == 0, result.output
    [md] = (tmp_path / "out").glob("timeline*.md")
    text = md.read_text(encoding="utf-8")
    table = text[text.index("| Step | Item |"):].split("\n\n")[0].splitlines()[2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in table]


def test_the_critical_path_names_the_configured_team(tmp_path: Path, store: Store) -> None:
    rows = _path(tmp_path, store, '[teams.web]\nprojects = ["WID", "GAD", "EXT"]\n')
    # web's cycle times 2, 6, 4 -> p50 4; OPS 3: OPS c 0-3, web b 3-7, web a 7-11
    assert [(r[3], r[4], r[5], r[6]) for r in rows] == [
        ("OPS", "3 (p50 3)", "0", "3"), ("web", "4 (p50 4)", "3", "7"), ("web", "4 (p50 4)", "7", "11")]


def test_without_teams_the_critical_path_is_per_project(tmp_path: Path, store: Store) -> None:
    # WID 2, 6 -> p50 2; GAD 4; OPS 3: c 0-3, b 3-7, a 7-9
    assert [(r[3], r[4], r[6]) for r in _path(tmp_path, store, "")] == [
        ("OPS", "3 (p50 3)", "3"), ("GAD", "4 (p50 4)", "7"), ("WID", "2 (p50 2)", "9")]
