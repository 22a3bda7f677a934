"""`syncd risk ack / list / clear` through the CLI on a real store, and config acknowledgements.

The acknowledgement is read back with a direct SQL query of the store (who, when, until, note and
the red signals it accepted); the engineering report then shows the theme as accepted, the
executive report no longer counts it, and bad input is one line with exit code 2.
"""

from __future__ import annotations

import sqlite3
from datetime import date
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


def _dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted (the store as a reader of the database file sees it)."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def _red_rows(eng: str, theme_id: str) -> tuple[set[tuple[str, str]], str]:
    """A theme's red signals in an engineering report, as (rule, title: it names the subject), and its 85% forecast."""
    eng = eng.replace("\\", "")  # Markdown escapes
    start = eng.index(f"Theme id {theme_id}.")
    section = eng[start:eng.find("\n### ", start)]
    reds = {(cells[2], cells[1]) for line in section.splitlines()
            if line.startswith("| 🔴 red |") for cells in [line.split(" | ")]}
    return reds, section.split("85% forecast ", 1)[1][:10]


def test_a_report_writes_nothing_but_its_own_history_row(world_db: Path, tmp_path: Path) -> None:
    """A config acknowledgement is applied in memory: the store is the same after `syncd report` but for
    report_history, which gains the one row per report that "since the last report" reads."""
    config, db = _config(world_db, tmp_path, """
[[reports.risk_acks]]
theme = "release:jira:version:100"
since = 2026-11-20
until = 2026-12-31
note = "Accepted in the steering meeting"
""")
    before = _dump(db)
    eng, exe = _themes(CliRunner(), config, tmp_path)
    after = _dump(db)
    assert "## Accepted risks (1)" in eng and "Accepted by config on 2026-11-20 until 2026-12-31" in eng
    assert "- Accepted: **1.0** (release)" in exe
    history = set(after.pop("report_history")) - set(before.pop("report_history"))
    assert after == before
    assert after["risk_acks"] == []
    assert len(history) == 2  # the engineering and the executive report, as the CLI records every report


def test_a_config_ack_is_judged_against_the_theme_on_its_since_day(world_db: Path, tmp_path: Path) -> None:
    """Worse than on `since`: the reasons equal what the report of that day and today's report list.

    goal:checkout accepted on 2026-11-06: the red signals and 85% forecast of that day are read from
    `syncd report ... --now 2026-11-06` (the end of that day, the moment the acknowledgement is
    compared with); release 1.0 accepted on 2026-11-13 likewise."""
    runner = CliRunner()
    config, db = _config(world_db, tmp_path)
    then: dict[str, tuple[set[tuple[str, str]], str]] = {}
    for theme_id, day in (("goal:checkout", "2026-11-06"), ("release:jira:version:100", "2026-11-13")):
        out = tmp_path / day
        res = runner.invoke(main, ["report", "status", "-a", "engineering", "-c", str(config), "--now", day,
                                   "--format", "md", "--out", str(out)])
        assert res.exit_code == 0, res.output
        then[theme_id] = _red_rows((out / "status-engineering.md").read_text(encoding="utf-8"), theme_id)
    eng_now, _ = _themes(runner, config, tmp_path)
    now = {t: _red_rows(eng_now, t) for t in then}
    config, db = _config(world_db, tmp_path, """
[[reports.risk_acks]]
theme = "goal:checkout"
since = 2026-11-06
until = 2026-12-31
note = "Known"
[[reports.risk_acks]]
theme = "release:jira:version:100"
since = 2026-11-13
until = 2026-12-31
note = "Known too"
""")
    before = _dump(db)
    eng, _ = _themes(runner, config, tmp_path)

    # goal:checkout: a red signal it did not have (WID-13 now also waits on WID-41), and the forecast moved
    new_reds = now["goal:checkout"][0] - then["goal:checkout"][0]
    p85_then, p85_now = date.fromisoformat(then["goal:checkout"][1]), date.fromisoformat(now["goal:checkout"][1])
    assert len(new_reds) == 1 and (p85_now - p85_then).days > 7
    reason = (f"Raised again (1 new red signal since it was accepted; its 85% forecast slipped "
              f"{(p85_now - p85_then).days} days ({p85_then.isoformat()} → {p85_now.isoformat()})); it was "
              "accepted by config on 2026-11-06 until 2026-12-31: Known")
    raised = eng.split("## Accepted risks", 1)[0]
    assert reason in raised
    # release 1.0: the same red signals as on 2026-11-13 and its forecast within ack_slip_days (7): accepted
    rel = "release:jira:version:100"
    slip = (date.fromisoformat(now[rel][1]) - date.fromisoformat(then[rel][1])).days
    assert now[rel][0] == then[rel][0] and slip <= 7, (then[rel], now[rel])
    accepted = eng.split("## Accepted risks (1)", 1)[1]
    assert "Theme id release:jira:version:100. Accepted by config on 2026-11-13 until 2026-12-31: Known too" in \
        accepted.replace("\\", "")
    assert _dump(db)["risk_acks"] == before["risk_acks"] == []


def test_a_config_ack_needs_the_day_it_was_accepted(world_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    config, db = _config(world_db, tmp_path, """
[[reports.risk_acks]]
theme = "goal:checkout"
until = 2026-12-31
note = "Accepted in the steering meeting"
""")
    res = runner.invoke(main, ["risk", "list", "-c", str(config)])
    assert res.exit_code == 2 and res.output.strip() == "syncd: error: config: reports.risk_acks.0.since: Field required"
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text(encoding="utf-8").replace('theme = "goal:checkout"',
                                                              'theme = "checkout"\nsince = 2026-11-20'),
                   encoding="utf-8")
    res = runner.invoke(main, ["risk", "list", "-c", str(bad)])
    assert res.exit_code == 2 and "reports.risk_acks.0.theme" in res.output
    late = tmp_path / "late.toml"
    late.write_text(config.read_text(encoding="utf-8").replace('until = 2026-12-31', 'since = 2027-01-02\nuntil = 2026-12-31'),
                    encoding="utf-8")
    res = runner.invoke(main, ["risk", "list", "-c", str(late)])
    assert res.exit_code == 2 and "since 2027-01-02 is after until 2026-12-31" in res.output
    assert len(res.output.strip().splitlines()) == 1
