"""Issue 13's acceptance on the demo's world (seed 7, 2,000 items, the demo's `now`), synced through
the real connectors: one release per version in every report, and the delivery funnel against a
direct SQL query of the store."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from syncd.reporting import all_requests, generate_reports, load_context
from syncd.reports.analysis.types import Analysis
from syncd.reports.report import Report
from tests.reports_sandbox import SandboxStore, build_sandbox_store

NOW = datetime(2026, 12, 2, 14, 25, 1, tzinfo=UTC)  # the demo's `now` the issue's figures were taken at


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("demo"), seed=7, issues=2000, now=NOW)


@pytest.fixture(scope="module")
def analysis(demo: SandboxStore) -> Analysis:
    return load_context(demo.settings, demo.store, now=NOW).analysis


@pytest.fixture(scope="module")
def db(demo: SandboxStore) -> sqlite3.Connection:
    return sqlite3.connect(demo.settings.data_dir / "syncd.db")


def _ids(db: sqlite3.Connection, kind: str, name: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM releases WHERE kind = ? AND name = ?", (kind, name))]


def test_each_release_appears_once_in_every_report(demo: SandboxStore) -> None:
    reports = [r for r in generate_reports(demo.settings, demo.store, all_requests(), now=NOW) if isinstance(r, Report)]
    assert len(reports) == len(all_requests())
    for report in reports:
        md = report.markdown
        for table in re.split(r"\n(?!\|)", md):  # blocks of consecutive table lines
            first_cells = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")]
            for version in ("Widget 2.6", "Gadget 5.6"):
                hits = [c for c in first_cells if c.removeprefix("release: ").startswith(f"[{version}](")]
                assert len(hits) <= 1, (report.kind, report.audience, hits)
        for version in ("2.6", "5.6"):
            assert f"[v{version}](" not in md, (report.kind, report.audience)  # the milestone is never its own row
    business = next(r for r in reports if r.kind == "status" and r.audience == "business").markdown
    shipped = business.split("**Shipped**")[1].split("**Next**")[0]
    rows = [line for line in shipped.splitlines() if line.startswith("| [")]
    assert [re.match(r"\| \[([^\]]+)\]", line).group(1) for line in rows] == ["Gadget 5.5", "Widget 2.5"]  # type: ignore[union-attr]
    nxt = business.split("**Next**")[1].split("## ")[0]
    assert sum(1 for line in nxt.splitlines() if line.startswith("| [Widget 2.6](")) == 1
    assert "milestone v2.6" in nxt and "tag v2.6.0 (draft)" in nxt


def _funnel_by_sql(db: sqlite3.Connection, release_ids: list[str]) -> tuple[int, ...]:
    """to do, in progress, done, done with code, merged, done with no code of the items planned for
    any of the release ids: computed from the tables, not through syncd's code."""
    marks = ",".join("?" * len(release_ids))
    rows = db.execute(f"""
        WITH planned AS (
            SELECT DISTINCT i.id, i.key, i.status_category FROM items i, json_each(i.release_ids) r
            WHERE r.value IN ({marks}) AND i.removed = 0 AND i.kind IN ('story', 'task', 'bug', 'issue')),
        code AS (
            SELECT p.id, SUM(pr.state = 'merged') AS merged, SUM(pr.state = 'open') AS open, COUNT(*) AS n
            FROM planned p
            JOIN items t ON t.id = p.id
            JOIN links l ON l.kind = 'implements' AND (l.to_id = p.id OR l.to_key = p.key)
            JOIN pulls pr ON pr.item_id = l.from_id
            JOIN items pi ON pi.id = pr.item_id AND pi.removed = 0
            GROUP BY p.id)
        SELECT p.status_category, c.n IS NOT NULL, COALESCE(c.merged > 0 AND c.open = 0, 0)
        FROM planned p LEFT JOIN code c ON c.id = p.id""", release_ids).fetchall()
    todo = sum(1 for cat, _, _ in rows if cat == "todo")
    doing = sum(1 for cat, _, _ in rows if cat == "in_progress")
    done = [(has_code, merged) for cat, has_code, merged in rows if cat == "done"]
    return (todo, doing, len(done), sum(1 for c, _ in done if c), sum(1 for c, m in done if c and m),
            sum(1 for c, _ in done if not c))


def test_funnel_counts_match_a_direct_query_of_the_store(analysis: Analysis, db: sqlite3.Connection) -> None:
    by_name = {r.release.name: r for r in analysis.releases}
    for name, shipped in (("Widget 2.6", False), ("Gadget 5.6", False), ("Widget 2.5", True), ("Gadget 5.5", True)):
        parts = _ids(db, "version", name) + _ids(db, "milestone", "v" + name.split()[1])
        f = by_name[name].progress.funnel
        expected = _funnel_by_sql(db, parts)
        assert (f.todo, f.in_progress, f.done, f.done_with_code, f.merged, f.done_no_code) == expected, name
        # a release not in production delivered none of its code; a production one all of its merged code
        assert f.released == (f.merged if shipped else 0), name
        assert by_name[name].release.released is shipped
    w26 = by_name["Widget 2.6"]
    assert w26.progress.funnel.released == 0 and w26.progress.funnel.merged > 0
    assert w26.progress.funnel.percent_delivered is not None
    assert w26.progress.funnel.percent_delivered < (w26.progress.counts.percent_items or 0)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_dora_counts_each_production_release_once(analysis: Analysis, db: sqlite3.Connection) -> None:
    start = NOW - timedelta(weeks=12)
    tags = [(repo, tag, _utc(at)) for repo, tag, at in db.execute(
        "SELECT project, tag, released_at FROM releases WHERE kind = 'release' AND released = 1 AND draft = 0 "
        "AND prerelease = 0 AND released_at IS NOT NULL")]
    in_window = {(repo, re.sub(r"^v|(\.0)+$", "", tag)) for repo, tag, at in tags if start <= at < NOW}
    jira = [(project, name.split()[-1]) for project, name, at in db.execute(
        "SELECT project, name, released_at FROM releases WHERE kind = 'version' AND released = 1") if start <= _utc(at) < NOW]
    repo_of = {"WID": "acme/widget", "GAD": "acme/gadget"}
    assert all((repo_of[p], v) in in_window for p, v in jira)  # every released Jira version has its tag: no extra deployment
    dora = analysis.flow.dora
    assert dora is not None and dora.deployments == len(in_window) == 2
    assert dora.deployment_frequency is not None and dora.deployment_frequency.band == "low"  # 2 in 12 weeks
    # lead time: PRs merged in the window, to the first production tag of their repository at or after the merge
    released = {}
    for repo, _, at in tags:
        released.setdefault(repo, []).append(at)
    hours = []
    for repo, merged_at in db.execute("SELECT i.project, p.merged_at FROM pulls p JOIN items i ON i.id = p.item_id "
                                      "WHERE p.state = 'merged' AND p.merged_at IS NOT NULL AND i.removed = 0"):
        merged = _utc(merged_at)
        after = [t for t in released.get(repo, []) if t >= merged]
        if start <= merged < NOW and after and min(after) <= NOW:
            hours.append((min(after) - merged).total_seconds() / 3600)
    hours.sort()
    lt = dora.lead_time_for_changes
    assert lt is not None and lt.sample == len(hours) > 0
    assert lt.value == pytest.approx(hours[(len(hours) + 1) // 2 - 1])  # nearest-rank median
    by_team = analysis.flow.dora_by_team
    assert sum(d.deployments for d in by_team.values()) == 2 and {"WID", "GAD"} <= set(by_team)
