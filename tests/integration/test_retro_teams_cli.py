"""`syncd report retrospective` with `[teams]` configured (issue 16 item 5 follow-up): the flow table's
rows are the configured teams holding the sprint's items, not its projects. The store holds the
hand-built Sprint 5 of tests/unit/test_sprint_flow.py (`teams_world`: WID, GAD and OPS items in the
sprint), written as the Jira sync writes it; the expected rows are worked out by hand there and
restated below.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from syncd.cli import main
from syncd.model import Batch
from syncd.store import Store
from tests.unit.test_sprint_flow import teams_world

NOW = "2026-03-22T09:00:00+00:00"  # day 20 of the fixture


def _store(folder: Path) -> Path:
    db = folder / "syncd.db"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    p = teams_world()
    store.apply_batch("jira", Batch(items=list(p.items.values()), sprints=list(p.sprints.values()),
                                    transitions=p.transitions, people=[x for x in p.people if x.source == "jira"]))
    store.close()
    return db


def _retro(tmp_path: Path, teams: str) -> str:
    db = _store(tmp_path)
    config = tmp_path / "syncd.toml"
    config.write_text(f'database_url = "sqlite:///{db}"\n[reports]\ntimezone = "UTC"\n'
                      f'out_dir = "{tmp_path / "out"}"\n{teams}', encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "retrospective", "-c", str(config), "--scope", "Sprint 5",
                                       "--now", NOW, "--format", "md"])
    assert result.exit_code == 0, result.output
    [md] = (tmp_path / "out").glob("retrospective-*.md")
    text = md.read_text(encoding="utf-8")
    return text[text.index("## Flow"):text.index("### Cumulative flow")]


def _rows(flow: str) -> list[str]:
    return [line for line in flow.splitlines() if line.startswith("| ") and not line.startswith(("| Team", "| ---"))]


def test_retrospective_rows_are_the_configured_teams(tmp_path: Path) -> None:
    flow = _retro(tmp_path, '[teams.web]\nprojects = ["WID", "GAD"]\n')
    # web = WID's A B C F G + GAD's J L: 7 finished (3 then 4), 3.5 a week, cycle 2 3 4 5 5 7.5 9 -> p50 5,
    # p85 7.5; daily WIP 1 3 3 4 4 4 4 4 5 5 4 4 3 2 2 = 52/15. OPS's M: 1 finished, cycle 1, WIP 1/15.
    assert _rows(flow) == [
        "| web (GAD, WID) | 7 | 3.5 (week 1: 3, week 2: 4) | 5 | 7.5 | 3.5 (fewest 1, most 5) |",
        "| not in a configured team (OPS) | 1 | 0.5 (week 1: 1, week 2: 0) | 1 | 1 | 0.1 (fewest 0, most 1) |",
    ]
    assert "a team is a configured team" in flow and "a team is a project" not in flow


def test_retrospective_without_teams_keeps_a_row_per_project(tmp_path: Path) -> None:
    flow = _retro(tmp_path, "")
    # WID alone: 5 finished (2 then 3), cycle 2 3 5 7.5 9 -> p50 5, p85 9, WIP 32/15 (the unit test's first world)
    assert [r.split(" | ")[0] for r in _rows(flow)] == ["| GAD", "| OPS", "| WID"]
    assert "| WID | 5 | 2.5 (week 1: 2, week 2: 3) | 5 | 9 | 2.1 (fewest 1, most 4) |" in flow
    assert "a team is a project of the sprint's items" in flow
