"""The timeline on the demo store (seed 7, 2,000 items, the demo's goals), synced the real way.

The dependencies that cross a team, an epic or a release are found by a direct query of the store's
links table (not through the code under test), and the timeline must list exactly those whose
waiting item is open: the demo holds WID-702 waiting on GAD-430 (another team) and WID-535 (Widget
2.6) waiting on WID-533 (Widget 2.7), the equivalents of issue 16's WID-693 → GAD-443 and
WID-535 → WID-533.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

import pytest

from syncd.demo import demo_goals_toml
from syncd.reporting import ReportContext, load_context, render_from
from syncd.reports.report import Report
from tests.reports_sandbox import SandboxStore, build_sandbox_store

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)

# waiting item <- the item it waits on, from both link directions; the crossings computed in SQL
DEPENDENCIES = """
with pairs as (
    select l.to_id as waiting_id, l.from_id as on_id from links l where l.kind = 'blocks'
    union
    select l.from_id, l.to_id from links l where l.kind = 'blocked_by'
)
select w.key, o.key,
       w.project != o.project as team,
       coalesce(w.epic_key, '') != coalesce(o.epic_key, '') as epic,
       exists (select 1 from json_each(w.release_ids) wr
               where wr.value not in (select value from json_each(o.release_ids))) as release_
from pairs p join items w on w.id = p.waiting_id join items o on o.id = p.on_id
where w.removed = 0 and o.removed = 0 and w.status_category != 'done'
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("demo"), seed=7, issues=2000, now=NOW, goals=demo_goals_toml)


@pytest.fixture(scope="module")
def ctx(demo: SandboxStore) -> ReportContext:
    return load_context(demo.settings, demo.store, now=NOW)


@pytest.fixture(scope="module")
def timeline(ctx: ReportContext) -> Report:
    return render_from(ctx, None, "timeline", None)


def _db(demo: SandboxStore) -> sqlite3.Connection:
    return sqlite3.connect(str(demo.store.engine.url.database))


def section(md: str, heading: str) -> str:
    start = md.index(heading)
    end = md.find("\n## ", start + len(heading))
    return md[start:] if end < 0 else md[start:end]


def test_the_timeline_lists_the_cross_team_and_cross_release_dependencies_the_links_table_holds(
        demo: SandboxStore, timeline: Report) -> None:
    rows = _db(demo).execute(DEPENDENCIES).fetchall()
    crossing = {(w, o) for w, o, team, epic, release in rows if team or epic or release}
    cross_team = {(w, o) for w, o, team, _, _ in rows if team}
    cross_release = {(w, o) for w, o, _, _, release in rows if release}
    assert cross_team and cross_release  # the demo's history holds both kinds
    assert ("WID-702", "GAD-430") in cross_team and ("WID-535", "WID-533") in cross_release
    table = section(timeline.markdown, "## Dependencies across epics, teams and releases")
    listed = set()
    for line in table.splitlines():
        if line.startswith("| [") and not line.startswith("| ---"):
            cells = line.split(" | ")
            waiting = re.match(r"\| \[([^\]]+)\]", cells[0])
            on = re.match(r"\[([^\]]+)\]", cells[1])
            assert waiting and on, line
            listed.add((waiting.group(1), on.group(1)))
    assert listed == crossing
    within = len(rows) - len(crossing)
    assert f"{within} more open dependencies lie inside one team, epic and release (not listed)." in table
    wid702 = next(line for line in table.splitlines() if line.startswith("| [WID-702]"))
    assert "team WID → GAD" in wid702 and "In Progress" in wid702
    wid535 = next(line for line in table.splitlines() if line.startswith("| [WID-535]"))
    assert "release Widget 2.6 → Widget 2.7" in wid535


def test_each_critical_path_is_a_chain_of_links_the_store_holds_and_adds_up(demo: SandboxStore,
                                                                            timeline: Report) -> None:
    pairs = {(w, o) for w, o, *_ in _db(demo).execute(DEPENDENCIES).fetchall()}
    paths = section(timeline.markdown, "## Critical path of each goal")
    chains = 0
    for block in paths.split("\n### ")[1:]:
        steps = [line.split(" | ") for line in block.splitlines() if re.match(r"\| \d+ \| ", line)]
        if not steps:
            continue
        keys = [re.match(r"\[([^\]]+)\]", s[1]).group(1) for s in steps]  # type: ignore[union-attr]
        days = [float(s[4].split(" ")[0]) for s in steps]
        finish = [float(s[6].rstrip(" |")) for s in steps]
        # each step waits on the one before it (a link in the store), and starts when it is done
        assert all((after, before) in pairs for before, after in zip(keys, keys[1:], strict=False)), keys
        assert finish == pytest.approx([sum(days[:n + 1]) for n in range(len(days))])
        head = block.splitlines()[2]
        assert head.startswith(f"{len(steps)} item") and f", {finish[-1]:g} days:" in head, head
        chains += len(steps) > 1
    assert chains >= 1  # the demo's goals hold at least one chain of dependent items
