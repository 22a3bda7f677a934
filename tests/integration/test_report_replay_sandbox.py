"""`syncd report --now T` on the sandbox's synced store gives what the changelog says for T.

The store is the sandbox world synced the real way (tests/reports_sandbox.py, "now" 2026-11-20).
For T = the end of 2026-11-05 in Berlin (sprint 11 running, sprint 12 not started, Widget 2.3 and
Gadget 5.3 not shipped) each goal's items open and percent done are recomputed here with SQL of
our own over the items and transitions tables, not through syncd's replay:

- an item existed at T when it was created by T and not removed before T;
- its status at T is the `from` side of its first status change after T, else its current status
  (the rewind reading of the changelog; syncd's `Histories.status_at` reads it forward), and the
  status's category is the one the store's items in that status have; a GitHub issue (no
  changelog) was done at T when it was closed by T;
- it was in fix version V at T when its first change of V after T removed V, not when that change
  added V, and as it is now when V did not change after T.

The report's "N% done, M items open" lines must equal those figures, from the CLI and from
`syncd serve` with `?now=`, and must differ from today's for some goals (else the test proves
nothing).
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from syncd.cli import main
from syncd.reports.analysis.replay import load_snapshot_at
from syncd.service import RunningService, create_app
from syncd.settings import load_settings
from syncd.store import Store
from tests.reports_sandbox import NOW, SandboxStore, build_sandbox_store

T_DATE = "2026-11-05"
T = datetime(2026, 11, 5, 23, 59, 59, tzinfo=ZoneInfo("Europe/Berlin"))  # what `--now 2026-11-05` means
TOKEN = "replay-token"
VERSIONS = ("Widget 2.3", "Gadget 5.3", "Widget 2.4", "Gadget 5.4")
SCOPE_KINDS = ("story", "task", "bug", "issue")


def _goals_toml(checkout_epics: list[str]) -> str:
    blocks = [f"""
[[goals]]
id = "checkout"
title = "Checkout redesign"
objective = "Raise checkout conversion"
problem = "Shoppers abandon checkout"
owner = "Dana Whitfield"
target_date = 2026-12-18
scope = {{ epics = {checkout_epics!r} }}
metric = {{ name = "Scope done", unit = "%", baseline = 0, target = 100, computed = "percent-done" }}
"""]
    for n, version in enumerate(VERSIONS):
        project = "WID" if version.startswith("Widget") else "GAD"
        blocks.append(f"""
[[goals]]
id = "release-{n}"
title = "Ship {version}"
objective = "Deliver the release"
problem = "Customers wait for it"
owner = "Marco Rossi"
target_date = 2026-12-21
scope = {{ projects = ["{project}"], fix_versions = ["{version}"] }}
metric = {{ name = "Scope done", unit = "%", baseline = 0, target = 100, computed = "percent-done" }}
""")
    return "".join(blocks).replace("'", '"')


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("replay-sandbox"))


@pytest.fixture(scope="module")
def config(sandbox: SandboxStore) -> Path:
    folder = sandbox.goals_file.parent
    epics = _epics(folder / "syncd.db")
    assert epics
    (folder / "replay-goals.toml").write_text(_goals_toml(sorted(epics)), encoding="utf-8")
    path = folder / "replay.toml"
    path.write_text(f"""
database_url = "sqlite:///{folder / 'syncd.db'}"
[reports]
goals_file = "{folder / 'replay-goals.toml'}"
timezone = "Europe/Berlin"
out_dir = "{folder / 'out'}"
[server]
token = "{TOKEN}"
""", encoding="utf-8")
    return path


def _sql_time(at: datetime) -> str:
    """How the SQLite store writes a timestamp (naive UTC text), so SQL compares it as text."""
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S.%f")


def counts_from_changelog(db_path: Path, at: datetime, checkout_epics: list[str]) -> dict[str, tuple[int, int]]:
    """Goal title -> (items in scope, items open) at `at`, from our own SQL over items and transitions."""
    t = _sql_time(at)
    db = sqlite3.connect(db_path)
    categories = dict(db.execute("SELECT DISTINCT status, status_category FROM items WHERE source_type = 'jira'"))
    rows = db.execute(f"""
        WITH later AS (
            SELECT item_id, from_string,
                   ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY at) AS n
            FROM transitions WHERE field = 'status' AND at > :t)
        SELECT i.id, i.source_type, i.project, i.epic_key, i.parent_key, i.release_ids, i.resolved,
               COALESCE(l.from_string, i.status) AS status_then
        FROM items i LEFT JOIN later l ON l.item_id = i.id AND l.n = 1
        WHERE i.kind IN ({", ".join("'" + k + "'" for k in SCOPE_KINDS)})
          AND i.created <= :t AND (i.removed = 0 OR i.removed_at > :t)""", {"t": t}).fetchall()
    out: dict[str, tuple[int, int]] = {}

    def tally(title: str, members: list[tuple]) -> None:
        open_ = 0
        for _id, source_type, _p, _e, _pk, _r, resolved, status_then in members:
            done = (resolved is not None and resolved <= t) if source_type == "github" else \
                categories[status_then] == "done"
            open_ += not done
        out[title] = (len(members), open_)

    tally("Checkout redesign", [r for r in rows if r[3] in checkout_epics or r[4] in checkout_epics])
    for version in VERSIONS:
        (vid, remote), = db.execute("SELECT id, remote_id FROM releases WHERE kind = 'version' AND name = ?", (version,))
        first_change = dict(db.execute("""
            SELECT item_id, to_value = :r FROM (
                SELECT item_id, to_value, ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY at) AS n
                FROM transitions
                WHERE field = 'fix_version' AND at > :t AND (from_value = :r OR to_value = :r))
            WHERE n = 1""", {"t": t, "r": remote}))
        project = "WID" if version.startswith("Widget") else "GAD"

        def member(row: tuple, vid: str = vid, first_change: dict = first_change) -> bool:
            if row[0] in first_change:
                return not first_change[row[0]]  # the first later change added V: not in V at T
            return f'"{vid}"' in row[5]

        tally(f"Ship {version}", [r for r in rows if r[2] == project and member(r)])
    db.close()
    return out


# "### 🔴 Red · Ship Widget 2.4 — 30% delivered (36% done in Jira, 2 of 4 with code merged), 7 items open"
_LINE = re.compile(r"^### \S+ \S+ · (.+?) — .*?\b(\d+)% done\b.*, (\d+) items? open$", re.M)


def report_counts(markdown: str) -> dict[str, tuple[int, int]]:
    """Goal title -> (percent done by status, items open), as the engineering status report states them."""
    return {title: (int(pct), int(n)) for title, pct, n in _LINE.findall(markdown)}


def expected(counts: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {title: (round(100 * (total - open_) / total), open_) for title, (total, open_) in counts.items()}


def _epics(db_path: Path) -> list[str]:
    db = sqlite3.connect(db_path)
    try:
        return [k for (k,) in db.execute("SELECT key FROM items WHERE kind = 'epic' AND title LIKE 'Checkout redesign%'")]
    finally:
        db.close()


def test_report_for_a_past_date_counts_what_the_changelog_says(config: Path, tmp_path: Path) -> None:
    db_path = config.parent / "syncd.db"
    epics = _epics(db_path)
    then, today = counts_from_changelog(db_path, T, epics), counts_from_changelog(db_path, NOW, epics)
    assert all(total for total, _ in then.values()), then
    assert sum(then[g] != today[g] for g in then) >= 3, (then, today)  # the past differs from today

    runner = CliRunner()
    for now_arg, want in ((T_DATE, then), (NOW.isoformat(), today)):
        result = runner.invoke(main, ["report", "status", "-a", "engineering", "-c", str(config), "--now", now_arg,
                                      "--format", "md", "--format", "html", "--out", str(tmp_path / now_arg[:10])])
        assert result.exit_code == 0, result.output
        md = (tmp_path / now_arg[:10] / "status-engineering.md").read_text(encoding="utf-8")
        assert report_counts(md) == expected(want), now_arg
    past_md = (tmp_path / T_DATE / "status-engineering.md").read_text(encoding="utf-8")
    past_html = (tmp_path / T_DATE / "status-engineering.html").read_text(encoding="utf-8")
    assert "_Replayed to this date:" in past_md and "The stored changelog cannot tell these" in past_md
    assert "Replayed to this date:" in past_html.split('class="footer"', 1)[1]
    now_md = (tmp_path / NOW.isoformat()[:10] / "status-engineering.md").read_text(encoding="utf-8")
    assert "Replayed to this date" not in now_md  # nothing stored is newer than the sandbox's now


def test_serve_with_now_gives_the_same_past(config: Path) -> None:
    settings = load_settings(config)
    store = Store(settings.db_url)
    running = RunningService(create_app(settings, store, clock=lambda: NOW), "127.0.0.1", 0).start()
    try:
        response = httpx.get(running.url + "/reports/status", params={
            "audience": "engineering", "format": "md", "now": T.isoformat()},
            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
    finally:
        running.stop()
        store.close()
    assert response.status_code == 200, response.text
    db_path = config.parent / "syncd.db"
    assert report_counts(response.text) == expected(counts_from_changelog(db_path, T, _epics(db_path)))


def test_sprints_pulls_and_releases_as_of_the_past_date(sandbox: SandboxStore) -> None:
    db = sqlite3.connect(sandbox.goals_file.parent / "syncd.db")
    t = _sql_time(T)
    # sprint states from their dates; pull requests open at T: created by T, not merged or closed by T
    # sprints created after T (the sandbox's sprints carry Jira Cloud's createdDate) did not exist then
    want_sprints = dict(db.execute("""
        SELECT id, CASE WHEN start IS NULL OR start > :t THEN 'future'
                        WHEN complete IS NULL OR complete > :t THEN 'active' ELSE 'closed' END
        FROM sprints WHERE created IS NULL OR created <= :t""", {"t": t}))
    (all_sprints,), = db.execute("SELECT COUNT(*) FROM sprints")
    (open_pulls,), = db.execute("""
        SELECT COUNT(*) FROM pulls p JOIN items i ON i.id = p.item_id
        WHERE i.created <= :t AND i.removed = 0 AND (p.state = 'open' OR i.resolved > :t)""", {"t": t})
    unreleased = {n for (n,) in db.execute(
        "SELECT name FROM releases WHERE kind != 'release' AND (released = 0 OR released_at > :t)"
        " AND (created IS NULL OR created <= :t)", {"t": t})}
    # a fix version starting after T that no item held at T was not there yet (Jira gives no creation date):
    # held at T = its first change after T removed it, or no change after T and the item holds it now
    later_versions = set()
    for vid, remote, name in db.execute("SELECT id, remote_id, name FROM releases WHERE kind = 'version' AND "
                                        "start > :d AND (released = 0 OR released_at > :t)",
                                        {"t": t, "d": T.astimezone(ZoneInfo("UTC")).date().isoformat()}).fetchall():
        (held,), = db.execute("""
            WITH first_later AS (
                SELECT item_id, to_value = :r AS added,
                       ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY at) AS n
                FROM transitions WHERE field = 'fix_version' AND at > :t AND (from_value = :r OR to_value = :r))
            SELECT COUNT(*) FROM items i LEFT JOIN first_later f ON f.item_id = i.id AND f.n = 1
            WHERE i.created <= :t AND (i.removed = 0 OR i.removed_at > :t)
              AND ((f.item_id IS NOT NULL AND NOT f.added) OR (f.item_id IS NULL AND i.release_ids LIKE :vid))""",
            {"t": t, "r": remote, "vid": f'%"{vid}"%'})
        if not held:
            later_versions.add(name)
    unreleased -= later_versions
    db.close()
    snap = load_snapshot_at(sandbox.store, T)
    assert {s.id: str(s.state) for s in snap.sprints} == want_sprints
    assert want_sprints["acme:sprint:11"] == "active" and want_sprints["acme:sprint:12"] == "future"
    assert len(want_sprints) < all_sprints  # some sprints were created after T: the test tells
    assert sum(p.state == "open" for p in snap.pulls) == open_pulls
    assert {r.name for r in snap.releases if not r.released and r.kind != "release"} == unreleased
