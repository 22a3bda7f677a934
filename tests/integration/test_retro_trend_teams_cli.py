"""`syncd report retrospective` with `[teams]`: the cycle-time trend, its charts and the review statements
follow the configured teams (follow-up of issues 12/14/16). The store (real SQLite, and PostgreSQL when
reachable, written as the Jira and GitHub syncs write it) holds the hand-built world of
tests/unit/test_retro_teams.py, whose figures are worked out by hand there and restated below.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from syncd.cli import main
from syncd.model import Batch
from syncd.store import Store
from tests.unit.test_retro_teams import _world

NOW = "2026-03-22T09:00:00+00:00"  # day 20 of the fixture


def _fill(store: Store) -> str:
    p = _world()
    jira = [i for i in p.items.values() if i.source == "jira"]
    gh = [i for i in p.items.values() if i.source == "gh"]
    store.apply_batch("jira", Batch(items=jira, sprints=list(p.sprints.values()), transitions=p.transitions,
                                    people=[x for x in p.people if x.source == "jira"]))
    store.apply_batch("gh", Batch(items=gh, pulls=p.pulls, links=p.links, people=[x for x in p.people if x.source == "gh"]))
    return store.url


def _retro(tmp_path: Path, store: Store, teams: str) -> tuple[str, list[str]]:
    url = _fill(store)
    config = tmp_path / "syncd.toml"
    config.write_text(f'database_url = "{url}"\n[reports]\ntimezone = "UTC"\n'
                      f'out_dir = "{tmp_path / "out"}"\n{teams}', encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "retrospective", "-c", str(config), "--scope", "Sprint 5",
                                       "--now", NOW, "--format", "md", "--format", "html"])
    assert result.exit_code == 0, result.output
    [md] = (tmp_path / "out").glob("retrospective-*.md")
    return md.read_text(encoding="utf-8"), sorted(p.name for p in (tmp_path / "out").glob("*cycle-time*.png"))


def _trend(md: str) -> list[str]:
    part = md[md.index("## Cycle-time trend"):md.index("## What went well")]
    return [line for line in part.splitlines() if line.startswith("| ") and not line.startswith(("| Team |", "| Period |", "| ---"))]


def test_the_trend_charts_and_review_statements_follow_the_configured_teams(tmp_path: Path, store: Store) -> None:
    md, charts = _retro(tmp_path, store, '[teams.web]\nprojects = ["WID", "GAD"]\nrepositories = ["acme/widget"]\n')
    # web Sprint 5: cycles 3 5 7 9 -> p50 5, p85 9; Sprint 4: 4 10 -> 4, 10. OPS: 2 and 4.
    assert _trend(md) == [
        "| web (GAD, WID) | Sprint 5 | 4 | 5 | 9 |",
        "| web (GAD, WID) | Sprint 4 | 2 | 4 | 10 |",
        "| not in a configured team (OPS) | Sprint 5 | 1 | 2 | 2 |",
        "| not in a configured team (OPS) | Sprint 4 | 1 | 4 | 4 |",
    ]
    assert charts == ["retrospective-cycle-time-jira-sprint-5-not-in-a-configured-team.png",
                      "retrospective-cycle-time-jira-sprint-5-web.png"]
    assert "- web (GAD, WID): median cycle time went from 4 to 5 days (Sprint 4 → Sprint 5)." in md
    assert "- web (GAD, WID): 3 pull requests waited more than 24 h for a first review: " in md
    assert "- not in a configured team (OPS): every pull request got a first review within 24 h." in md


def test_without_teams_the_trend_is_one_over_the_sprints_projects(tmp_path: Path, store: Store) -> None:
    md, charts = _retro(tmp_path, store, "")
    # WID, GAD and OPS together: Sprint 5: 2 3 5 7 9 -> p50 5, p85 9; Sprint 4: 4 4 10 -> 4, 10
    assert _trend(md) == ["| Sprint 5 | 5 | 5 | 9 |", "| Sprint 4 | 3 | 4 | 10 |"]
    assert charts == ["retrospective-cycle-time-jira-sprint-5.png"]
    assert "- 2 pull requests waited more than 24 h for a first review: " in md  # #9 and #12; #11 implements nothing
