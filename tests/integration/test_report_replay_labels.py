"""`syncd report --now T` on a goal selected by label: the sandbox world synced the real way, with
labels changed around T as a user does it in Jira (jira_mutations: the changelog's `labels` row, the
whole set), gives the members and open items our own SQL over the store finds for T.

T is the end of 2026-11-05 in Berlin. Three items (two to do, one done) get the label "launch" on
2026-11-01 and lose it on 2026-11-12; six done ones get it on 2026-11-10. At T the goal held the first
three, two of them open (33% done); today the six, all done. Without the replay of labels the past
report would show the six (done by T: 100%, none open).
The SQL reads an item's labels at T as the `from` side of its first labels change after T, else its
labels now; its status at T the same way from the status changes (the rewind reading of the
changelog, not syncd's replay code).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from syncd.cli import main
from syncd.sandbox import jira_mutations as edit
from syncd.sandbox.generate import generate_world
from tests.reports_sandbox import NOW, synced_store

T = datetime(2026, 11, 5, 23, 59, 59, tzinfo=ZoneInfo("Europe/Berlin"))
BEFORE, AFTER_ADD, AFTER_REMOVE = (datetime(2026, 11, d, 9, tzinfo=UTC) for d in (1, 10, 12))
GOAL = """
[[goals]]
id = "launch"
title = "Launch list"
objective = "Ship what marketing announced"
problem = "The announcement names these"
owner = "Dana Whitfield"
target_date = 2026-12-18
scope = { labels = ["launch"] }
metric = { name = "Scope done", unit = "%", baseline = 0, target = 100, computed = "percent-done" }
"""
_LINE = re.compile(r"^### \S+ \S+ · Launch list — .*?\b(\d+)% done\b.*, (\d+) items? open$", re.M)


def _sql_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _members_at(db: sqlite3.Connection, at: datetime) -> dict[str, bool]:
    """Key -> done at `at`, for the items labelled "launch" at `at` (created by then, not removed)."""
    t = _sql_time(at)
    categories = dict(db.execute("SELECT DISTINCT status, status_category FROM items WHERE source_type = 'jira'"))
    rows = db.execute("""
        WITH lab AS (SELECT item_id, from_string, ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY at) AS n
                     FROM transitions WHERE field = 'labels' AND at > :t),
             st AS (SELECT item_id, from_string, ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY at) AS n
                    FROM transitions WHERE field = 'status' AND at > :t)
        SELECT i.key, i.raw, lab.item_id IS NOT NULL, lab.from_string, COALESCE(st.from_string, i.status)
        FROM items i LEFT JOIN lab ON lab.item_id = i.id AND lab.n = 1
                     LEFT JOIN st ON st.item_id = i.id AND st.n = 1
        WHERE i.source_type = 'jira' AND i.kind IN ('story', 'task', 'bug')
          AND i.created <= :t AND (i.removed = 0 OR i.removed_at > :t)""", {"t": t}).fetchall()
    out = {}
    for key, raw, changed, labels_then, status_then in rows:
        labels = (labels_then or "").split() if changed else json.loads(raw)["fields"]["labels"]
        if "launch" in labels:
            out[key] = categories[status_then] == "done"
    return out


def test_a_label_goal_at_a_past_date_holds_what_was_labelled_then(tmp_path: Path) -> None:
    world = generate_world(seed=7, issues=600, now=NOW)
    # items last changed before 2026-11-01, so the label changes are the only later ones
    quiet = sorted((p for p in world.jira.issues.values()
                    if p["fields"]["issuetype"]["name"] in ("Story", "Task", "Bug")
                    and p["fields"]["updated"] < "2026-11-01"), key=lambda p: int(p["id"]))
    todo = [p for p in quiet if p["fields"]["status"]["name"] == "To Do"]
    done = [p for p in quiet if p["fields"]["status"]["name"] == "Done"]
    early, late = [*todo[:2], done[0]], done[1:7]  # at T: 2 of 3 open; now: 6 done
    for p in early:
        labels = list(p["fields"]["labels"])
        edit.update_issue(world, p["key"], labels=[*labels, "launch"], now=BEFORE)
        edit.update_issue(world, p["key"], labels=labels, now=AFTER_REMOVE)
    for p in late:
        edit.update_issue(world, p["key"], labels=[*p["fields"]["labels"], "launch"], now=AFTER_ADD)
    store, _ = synced_store(tmp_path, world)
    store.close()
    db_path = tmp_path / "syncd.db"
    (tmp_path / "goals.toml").write_text(GOAL, encoding="utf-8")
    config = tmp_path / "replay.toml"
    config.write_text(f"""
database_url = "sqlite:///{db_path}"
[reports]
goals_file = "{tmp_path / 'goals.toml'}"
timezone = "Europe/Berlin"
""", encoding="utf-8")
    db = sqlite3.connect(db_path)
    then, now = _members_at(db, T), _members_at(db, NOW)
    db.close()
    assert sorted(then) == sorted(p["key"] for p in early) and sorted(now) == sorted(p["key"] for p in late)
    assert sorted(then.values()) == [False, False, True] and all(now.values())

    for at, members in ((T, then), (NOW, now)):
        out = tmp_path / at.date().isoformat()
        result = CliRunner().invoke(main, ["report", "status", "-a", "engineering", "-c", str(config), "--now",
                                           at.isoformat(), "--format", "md", "--out", str(out)])
        assert result.exit_code == 0, result.output
        md = (out / "status-engineering.md").read_text(encoding="utf-8")
        found = _LINE.findall(md)
        open_ = sum(not done for done in members.values())
        assert found == [(str(round(100 * (len(members) - open_) / len(members))), str(open_))], (at, found)
    past = (tmp_path / T.date().isoformat() / "status-engineering.md").read_text(encoding="utf-8")
    assert "priority, labels, components" in past and "_Replayed to this date:" in past
