"""`syncd risk ack / list / clear` through the CLI on a real store, and config acknowledgements.

The acknowledgement is read back with a direct SQL query of the store (who, when, until, note and
the red signals it accepted); the engineering report then shows the theme as accepted, the
executive report no longer counts it, and bad input is one line with exit code 2.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncd.cli import main
from syncd.store import Store
from tests.reports_world import build_world, load_world, write_goals

NOW = "2026-11-20T12:00:00+01:00"


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    store = Store(f"sqlite:///{folder / 'syncd.db'}")
    store.upgrade()
    load_world(store, build_world())
    store.close()
    write_goals(folder / "goals.toml")
    return folder


def _config(folder: Path, tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    db = tmp_path / "syncd.db"
    db.write_bytes((folder / "syncd.db").read_bytes())
    config = tmp_path / "syncd.toml"
    config.write_text(f"""
database_url = "sqlite:///{db}"
[reports]
goals_file = "{folder / 'goals.toml'}"
timezone = "Europe/Berlin"
out_dir = "{tmp_path / 'out'}"
{extra}
""", encoding="utf-8")
    return config, db


def _themes(runner: CliRunner, config: Path, tmp_path: Path) -> tuple[str, str]:
    out = tmp_path / "out"
    res = runner.invoke(main, ["report", "status", "-a", "engineering", "-c", str(config), "--now", NOW,
                               "--format", "md", "--out", str(out)])
    assert res.exit_code == 0, res.output
    eng = (out / "status-engineering.md").read_text(encoding="utf-8")
    res = runner.invoke(main, ["report", "status", "-a", "executive", "-c", str(config), "--now", NOW,
                               "--format", "md", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return eng, (out / "status-executive.md").read_text(encoding="utf-8")


def test_ack_stores_who_when_and_hides_the_theme_until_cleared(world_db: Path, tmp_path: Path) -> None:
    config, db = _config(world_db, tmp_path)
    runner = CliRunner()
    eng, _ = _themes(runner, config, tmp_path)
    theme_id = eng.split("Theme id ", 1)[1].split(".", 1)[0].replace("\\", "")  # the first theme listed
    n_before = eng.count("Theme id ")

    res = runner.invoke(main, ["risk", "ack", theme_id, "--until", "2026-12-31", "--note", "Vendor fix agreed",
                               "--by", "Dana", "--now", NOW, "-c", str(config)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"accepted {theme_id} until 2026-12-31")
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT acked_by, acked_at, until, note, source, red_signal_ids FROM risk_acks "
                           "WHERE theme_id = ?", (theme_id,)).fetchone()
    assert row[0] == "Dana" and row[1] and row[2] == "2026-12-31" and row[3] == "Vendor fix agreed"
    assert row[4] == "cli" and row[5].startswith("[")

    eng, exe = _themes(runner, config, tmp_path)
    accepted = eng.split("## Accepted risks (1)", 1)[1].split("\n## ", 1)[0]
    assert f"Theme id {theme_id}. Accepted by Dana on " in accepted.replace("\\", "")
    assert "until 2026-12-31: Vendor fix agreed" in accepted
    assert eng.split("## Accepted risks", 1)[0].count("Theme id ") == n_before - 1
    assert "- Accepted: **" in exe and "Vendor fix agreed" in exe

    listed = runner.invoke(main, ["risk", "list", "-c", str(config)])
    assert listed.exit_code == 0 and theme_id in listed.output and "by Dana" in listed.output
    cleared = runner.invoke(main, ["risk", "clear", theme_id, "-c", str(config)])
    assert cleared.exit_code == 0, cleared.output
    eng, _ = _themes(runner, config, tmp_path)
    assert "## Accepted risks" not in eng and eng.count("Theme id ") == n_before


@pytest.mark.parametrize(("args", "message"), [
    (["goal:nope", "--until", "2026-12-31", "--note", "x"], "no risk theme 'goal:nope' today (themes: "),
    (["goal:checkout", "--until", "31.12.2026", "--note", "x"], "--until: '31.12.2026' is not an ISO date"),
    (["goal:checkout", "--until", "2026-11-01", "--note", "x"], "--until: 2026-11-01 is in the past"),
    (["goal:checkout", "--until", "2026-12-31", "--note", "  "], "--note: say why the risk is accepted"),
])
def test_bad_ack_input_is_one_line_and_exit_2(world_db: Path, tmp_path: Path, args: list[str], message: str) -> None:
    config, db = _config(world_db, tmp_path)
    res = CliRunner().invoke(main, ["risk", "ack", *args, "--now", NOW, "-c", str(config)])
    assert res.exit_code == 2, res.output
    assert message in res.output and len(res.output.strip().splitlines()) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM risk_acks").fetchone()[0] == 0


def test_a_config_ack_is_applied_and_pinned_on_first_use(world_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    config, db = _config(world_db, tmp_path)
    eng, _ = _themes(runner, config, tmp_path)
    theme_id = eng.split("Theme id ", 1)[1].split(".", 1)[0].replace("\\", "")
    config, db = _config(world_db, tmp_path, f"""
[[reports.risk_acks]]
theme = "{theme_id}"
until = 2026-12-31
note = "Accepted in the steering meeting"
""")
    eng, _ = _themes(runner, config, tmp_path)
    assert "## Accepted risks (1)" in eng and "Accepted by config on " in eng
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT source, until FROM risk_acks WHERE theme_id = ?", (theme_id,)).fetchone()
    assert row == ("config", "2026-12-31")
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text(encoding="utf-8").replace(f'theme = "{theme_id}"', 'theme = "checkout"'),
                   encoding="utf-8")
    res = runner.invoke(main, ["risk", "list", "-c", str(bad)])
    assert res.exit_code == 2 and "reports.risk_acks.0.theme" in res.output
