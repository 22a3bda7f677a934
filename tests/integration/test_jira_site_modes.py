"""`syncd sync` (a real process) against the sandbox in the site modes of issue 17.

Each figure is checked against the world the sandbox serves (what the generator put there, read from
the world's own payloads here), and the store is read with plain SQL, not through syncd's readers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraConnector
from syncd.sandbox import Sandbox, start_sandbox
from syncd.sandbox._http import Controls
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.site_modes import FOREIGN_FIELDS, SITE_MODES, apply_site_modes
from syncd.store import Store
from syncd.sync import sync_source
from tests.integration.jira_world import EMAIL, TOKEN, make_world

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ENGLISH_KIND = {"Epic": "epic", "Story": "story", "Task": "task", "Bug": "bug", "Sub-task": "subtask"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    return subprocess.run([sys.executable, "-m", "syncd", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def sync(box: Sandbox, tmp: Path) -> tuple[subprocess.CompletedProcess[str], sqlite3.Connection]:
    config = tmp / "syncd.toml"
    if not config.exists():
        box.write_config(config, data_dir=tmp / "data")
    done = run("sync", "--config", str(config), "--source", "jira", cwd=tmp)
    return done, sqlite3.connect(tmp / "data" / "syncd.db")


def warnings(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("syncd: warning: ")]


@pytest.fixture(scope="module")
def shaped() -> Iterator[Sandbox]:
    modes = ["zh-site", "text-sprint-field", "foreign-link", "cross-board-sprint", "hidden-board"]
    with start_sandbox(seed=7, issues=150, now=NOW, site_modes=modes) as box:
        yield box


@pytest.fixture(scope="module")
def no_agile() -> Iterator[Sandbox]:
    with start_sandbox(seed=7, issues=150, now=NOW, site_modes=["no-agile"]) as box:
        yield box


def test_a_site_in_chinese_with_a_text_sprint_field_syncs_every_issue_with_its_kind(shaped: Sandbox,
                                                                                   tmp_path: Path) -> None:
    done, db = sync(shaped, tmp_path)
    assert done.returncode == 0, done.stderr
    jw = shaped.world.jira
    english = {t["id"]: t["untranslatedName"] for t in jw.issue_types}
    assert {t["name"] for t in jw.issue_types} == {"长篇故事", "故事", "任务", "缺陷", "子任务"}
    want = {i["key"]: ENGLISH_KIND[english[i["fields"]["issuetype"]["id"]]] for i in jw.issues.values()}
    got = dict(db.execute("select key, kind from items where source = 'jira'").fetchall())
    assert got == want  # every issue stored (none skipped for the text "Sprint" field), each of its kind
    assert Counter(got.values())["bug"] == shaped.world.truth.extra["site_modes"]["zh-site"]["issues_by_english_type"]["Bug"] > 0
    # sprint membership comes from the real sprint field (冲刺, gh-sprint), not the text field named "Sprint"
    sprint_field = next(f["id"] for f in jw.fields if f["schema"].get("custom", "").endswith("gh-sprint"))
    want_sprints = {i["key"]: sorted(f"jira:sprint:{s['id']}" for s in i["fields"].get(sprint_field) or [])
                    for i in jw.issues.values()}
    got_sprints = {k: sorted(json.loads(v)) for k, v in db.execute("select key, sprint_ids from items").fetchall()}
    assert got_sprints == want_sprints and any(got_sprints.values())
    # the estimate still comes from the story point field, found by its plugin type under its Chinese name
    want_points = {i["key"]: i["fields"].get("customfield_10016") for i in jw.issues.values()}
    assert dict(db.execute("select key, estimate from items").fetchall()) == want_points


def test_foreign_links_cross_board_sprints_and_hidden_boards(shaped: Sandbox, tmp_path: Path) -> None:
    done, db = sync(shaped, tmp_path)
    assert done.returncode == 0, done.stderr
    facts = shaped.world.truth.extra["site_modes"]
    # the link from OTHER (not synced) is kept by the issue it comes into, and exported
    out = run("export", "--config", str(tmp_path / "syncd.toml"), "--entity", "links", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    links = [json.loads(line) for line in out.stdout.splitlines()]
    blocked, related = facts["foreign-link"]["blocked"], facts["foreign-link"]["related"]
    # with the far end's status, category, summary and type as the linked issue carries them
    far = FOREIGN_FIELDS
    far_end = {"to_status": far["status"]["name"], "to_category": "in_progress", "to_summary": far["summary"],
               "to_type": far["issuetype"]["name"]}
    assert {"from_id": f"jira:{blocked['id']}", "kind": "blocked_by", "to_key": "OTHER-35406",
            "to_id": "jira:35406", **far_end} in links
    assert {"from_id": f"jira:{related['id']}", "kind": "relates", "to_key": "OTHER-35407", "to_id": None,
            **far_end} in links
    # links inside the synced projects are still stored once each, by the issue they go out from
    inward_kinds = {"blocked_by", "duplicated_by"}
    assert sum(1 for lk in links if lk["kind"] not in inward_kinds and not lk["to_key"].startswith("OTHER-")) \
        == shaped.world.truth.jira_links
    # the sprint board 1 lists but board "Emma board" owns is stored with its own board and that board's name
    cross = facts["cross-board-sprint"]
    row = db.execute("select board_id, board_name, name from sprints where remote_id = ?", (str(cross["sprint"]),)).fetchone()
    assert row == (str(cross["origin"]), "Emma board", "Emma Sprint 1")
    hidden = facts["hidden-board"]
    names = dict(db.execute("select board_id, board_name from sprints where remote_id != ? and board_id != ?",
                            (str(cross["sprint"]), str(hidden["board"]))).fetchall())
    assert names == {str(b): shaped.world.jira.boards[b]["name"] for b in
                     {s["originBoardId"] for sid, s in shaped.world.jira.sprints.items()
                      if sid != cross["sprint"] and s["originBoardId"] != hidden["board"]}}
    # the board the account may not read: skipped with one warning, exit 0; its sprints are known only as
    # the copies its issues carry (no board name), and only those its issues name
    jw = shaped.world.jira
    named = {str(s["id"]) for i in jw.issues.values() for s in i["fields"].get("customfield_10020") or []
             if s.get("originBoardId", s.get("boardId")) == hidden["board"]}
    rows = db.execute("select remote_id, board_name from sprints where board_id = ?", (str(hidden["board"]),)).fetchall()
    assert hidden["sprints"] and {r[0] for r in rows} == named and {r[1] for r in rows} <= {None}
    lines = warnings(done)
    assert len(lines) == 1 and f"board {hidden['board']} skipped" in lines[0] and "HTTP 403" in lines[0], lines
    again, _ = sync(shaped, tmp_path)
    assert again.returncode == 0 and warnings(again) == [], again.stderr  # warned once


def test_a_blocker_in_a_project_that_is_not_synced_is_a_risk_and_an_external_dependency_on_the_timeline(shaped: Sandbox,
                                                                                        tmp_path: Path) -> None:
    done, db = sync(shaped, tmp_path)
    assert done.returncode == 0, done.stderr
    blocked = shaped.world.truth.extra["site_modes"]["foreign-link"]["blocked"]
    key, category = db.execute("select key, status_category from items where id = ?",
                               (f"jira:{blocked['id']}",)).fetchone()
    assert category != "done"  # the mode links an open issue, so the rule has something to say
    out = run("report", "status", "--audience", "engineering", "--format", "md", "--now", NOW.isoformat(),
              "--config", str(tmp_path / "syncd.toml"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    md = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.md"))
    status = FOREIGN_FIELDS["status"]["name"]
    assert f"is blocked by another team's work: OTHER-35406 ({status}, project OTHER, not synced)" in md
    assert key in md
    # the timeline lists the dependency as external, with what the link showed of the far end
    out = run("report", "timeline", "--format", "md", "--now", NOW.isoformat(), "--config", str(tmp_path / "syncd.toml"),
              "--out", str(tmp_path / "timeline"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    timeline = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "timeline").glob("*.md"))
    row = next(line for line in timeline.splitlines() if line.startswith(f"| [{key}]"))
    assert f"OTHER-35406 {FOREIGN_FIELDS['summary']} (external) — project OTHER, not synced" in row.replace("\\", "")
    assert f"| {status} |" in row and "external: OTHER is not synced" in row


def test_a_site_without_the_agile_api_syncs_with_one_warning_and_exit_0(no_agile: Sandbox, tmp_path: Path) -> None:
    done, db = sync(no_agile, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = warnings(done)
    assert len(lines) == 1 and "no agile API" in lines[0] and "HTTP 404" in lines[0], done.stderr
    assert db.execute("select count(*) from items where source = 'jira'").fetchone()[0] == len(no_agile.world.jira.issues)
    assert db.execute("select count(*) from sprints").fetchone()[0] == 0
    want_versions = sum(len(v) for v in no_agile.world.jira.versions.values())
    assert db.execute("select count(*) from releases where source = 'jira'").fetchone()[0] == want_versions
    cursor = json.loads(db.execute("select value from cursors where source = 'jira'").fetchone()[0])
    assert cursor["agile_missing"] == 404 and "census_at" in cursor  # the deletion census ran
    # the next sync: quiet, still exit 0; config check repeats what the store knows
    again, _ = sync(no_agile, tmp_path)
    assert again.returncode == 0 and warnings(again) == [], again.stderr
    check = run("config", "check", "--config", str(tmp_path / "syncd.toml"), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert [w for w in warnings(check) if "no agile API" in w] == [
        "syncd: warning: source jira: no agile API on this site (GET board: HTTP 404 at the last sync): boards and "
        "sprints are not synced"]


def test_site_modes_are_named_and_unknown_ones_refused() -> None:
    from syncd.sandbox.generate import generate_world

    world = generate_world(seed=3, issues=100, now=NOW)
    with pytest.raises(ValueError, match="unknown site mode 'klingon'"):
        apply_site_modes(world, ["klingon"])
    assert set(SITE_MODES) == {"zh-site", "no-agile", "hidden-board", "text-sprint-field", "foreign-link",
                               "cross-board-sprint"}


def test_after_a_first_sync_that_stored_nothing_the_next_search_has_no_negative_epoch(store: Store) -> None:
    world = make_world(issues=6, ops_issues=2, big_history=False)
    with world.lock:
        for issue in world.jira.issues.values():
            issue["fields"]["created"] = "not a time"  # every issue is skipped on the first sync
        world.jira.revision += 1
    server = serve_jira(world, Controls())
    try:
        conn = JiraConnector("acme", JiraSource(type="jira", url=server.url, email=EMAIL, token=TOKEN,
                                                projects=["WID", "OPS"]))
        sent: list[str] = []
        search = conn.client.search_page

        def recording(jql: str, *args: Any) -> Any:
            sent.append(jql)
            return search(jql, *args)

        conn.client.search_page = recording  # type: ignore[method-assign]
        first = sync_source(store, "acme", conn)
        assert not first.ok and "8 issues skipped" in str(first.error) and store.counts()["items"] == 0
        sent.clear()
        sync_source(store, "acme", conn)
        issue_searches = [q for q in sent if "ORDER BY updated" in q]
        assert issue_searches == ['project in ("WID", "OPS") ORDER BY updated ASC, key ASC']  # no "updated >= -300000"
    finally:
        server.stop()


def test_sandbox_help_names_the_site_modes_and_the_server_switches(tmp_path: Path) -> None:
    out = run("sandbox", "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for flag in ("--site-mode", "--jira-server", "--ghes", *SITE_MODES):
        assert flag in out.stdout, flag
    bad = run("sandbox", "--site-mode", "klingon", cwd=tmp_path)
    assert bad.returncode == 2 and "'klingon' is not one of" in bad.stderr


def test_jira_server_and_ghes_sandbox_sync_through_the_cli(tmp_path: Path) -> None:
    with start_sandbox(seed=5, issues=100, now=NOW, jira_server=True, github_enterprise=True) as box:
        assert box.github_url.endswith("/api/v3") and "/api/v3" in box.config_toml()
        config = box.write_config(tmp_path / "syncd.toml", data_dir=tmp_path / "data")
        done = run("sync", "--config", str(config), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        db = sqlite3.connect(tmp_path / "data" / "syncd.db")
        counts = dict(db.execute("select source, count(*) from items group by source").fetchall())
        t = box.world.truth
        assert counts == {"jira": t.jira_issues, "github": t.github_issues + t.github_pulls}
        cursor = json.loads(db.execute("select value from cursors where source = 'jira'").fetchone()[0])
        assert cursor["deployment"] == "server"
        served = box.controls.stats()["requests"]
        assert served.get("jira search", 0) > 0 and not served.get("jira search_jql")  # legacy search only
