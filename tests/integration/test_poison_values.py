"""Issue 19 item 4: values no store can hold (NUL, a lone surrogate, 1e309, a 305-character "key") typed
into Jira and GitHub, synced through the sandbox into SQLite and PostgreSQL: each item is stored with the
value made storable and named in a warning, and the rest of the source is stored. A record the store
still refuses (a trigger here) is skipped with one line naming it, never the source, and comes in on the
next sync once the store takes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraConnector
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox import jira_mutations as edit
from syncd.sandbox._http import Controls, RunningServer
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.world import World
from syncd.store import Store
from syncd.sync import sync_source
from tests.canon import canonical, diff_summary
from tests.integration._github import Sandbox, open_sandbox, sync
from tests.integration.jira_world import EMAIL, TOKEN, expected, make_world

LONG_KEY = "WID-" + "1" * 301  # 305 characters: matches the key pattern, longer than links.to_key (255)
U = "\ufffd"  # what an unstorable character becomes


@pytest.fixture
def github() -> Iterator[Sandbox]:
    yield from open_sandbox(issues=20, pulls=10)


@pytest.fixture
def jira() -> Iterator[tuple[World, RunningServer]]:
    world = make_world(issues=30, ops_issues=6)
    server = serve_jira(world, Controls())
    yield world, server
    server.stop()


def _edit_issue(sandbox: Sandbox, number: int, **fields: Any) -> None:
    repo = sandbox.world.github.repos["acme/widget"]
    for payload in (repo.issues.get(number), repo.pulls.get(number)):
        if payload is not None:
            payload.update(fields)
    repo.revision += 1  # the sandbox's cached answers are stale now


POISONS = {  # name -> (issue number, payload fields, what the stored item must hold)
    "nul": (2, {"title": "Broken \x00 widget"}, ("title", f"Broken {U} widget")),
    "lone surrogate": (3, {"body": "Steps \ud800 to reproduce"}, ("description", f"Steps {U} to reproduce")),
    "1e309": (5, {"comments": float("inf")}, ("title", "Issue 4: fix the widget")),
    "305-character key": (21, {"body": f"Fixes {LONG_KEY} and WID-7"}, None),  # the first PR
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_github_poison_values_are_stored_made_storable_and_named(store: Store, github: Sandbox,
                                                                 poison: str) -> None:
    world = github.world
    number, fields, want = POISONS[poison]
    _edit_issue(github, number, **fields)
    later = gh_sandbox.add_issue(world, "acme/gadget", "An issue of the next repository", user="bob")
    result, _ = sync(store, github)
    assert result.ok, result.error
    assert result.result.new == 20 + 10 + 1  # every item, the next repository's too
    items = {i.key: i for i in store.items()}
    assert items[f"acme/gadget#{later['number']}"].title == "An issue of the next repository"
    key = f"acme/widget#{number}"
    if want is not None:
        assert getattr(items[key], want[0]) == want[1]
    with store.engine.connect() as conn:  # the raw payload was cleaned too
        raw = conn.execute(text("SELECT raw FROM items WHERE key = :k"), {"k": key}).scalar()
    raw = json.loads(raw) if isinstance(raw, str) else raw
    if poison == "1e309":
        assert raw["comments"] is None
    if poison == "305-character key":
        assert number in github.world.github.repos["acme/widget"].pulls
        pulls = {p.item_id: p for p in store.pulls()}
        # the over-long "key" is no link; the PR's real keys still are
        assert LONG_KEY not in {lk.to_key for lk in store.links()}
        assert "WID-7" in {lk.to_key for lk in store.links() if lk.from_id == items[key].id}
        assert LONG_KEY not in pulls[items[key].id].linked_keys
    assert [w for w in result.warnings if "made storable" in w] == [w for w in result.warnings if key in w]
    assert len([w for w in result.warnings if key in w]) == 1
    again, _ = sync(store, github)
    assert again.ok and (again.result.new, again.result.updated) == (0, 0)


def test_jira_poison_values_are_stored_and_a_corrected_summary_unsticks(store: Store,
                                                                       jira: tuple[World, RunningServer]) -> None:
    world, server = jira
    edit.update_issue(world, "WID-2", summary="Typed with a \x00 in it")
    edit.update_issue(world, "WID-4", points=float("inf"))  # what 1e309 parses as
    edit.update_issue(world, "WID-5", summary="Pasted \ud800 half an emoji")

    def sync_jira() -> Any:
        conn = JiraConnector("acme", JiraSource(type="jira", url=server.url, email=EMAIL, token=TOKEN,
                                                projects=["WID", "OPS"]))
        conn.client.sleep = lambda s: pytest.fail(f"asked to sleep {s}s with no fault in force")
        return sync_source(store, "acme", conn)

    result = sync_jira()
    assert result.ok, result.error
    want = expected(world)
    items = {i.key: i for i in store.items(source="acme")}
    assert set(items) == set(want["items"].values())  # every other item and the OPS project too
    assert items["WID-2"].title == f"Typed with a {U} in it"
    assert items["WID-5"].title == f"Pasted {U} half an emoji"
    assert items["WID-4"].estimate is None
    warned = "\n".join(result.warnings)
    assert all(f"source acme: {key} stored with unstorable values made storable: " in warned
               for key in ("WID-2", "WID-4", "WID-5"))
    assert "non-finite number dropped" in warned
    # the NUL stays in WID-2's changelog after the summary is corrected: the store must still take it
    edit.update_issue(world, "WID-2", summary="Corrected")
    fixed = sync_jira()
    assert fixed.ok, fixed.error
    assert {i.key: i for i in store.items(source="acme")}["WID-2"].title == "Corrected"
    quiet = sync_jira()
    assert quiet.ok and (quiet.result.new, quiet.result.updated) == (0, 0)


def _refuse(store: Store, key: str) -> None:
    """A trigger that makes the database refuse one item's row, as a constraint or a bad value would."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.key = '{key}' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"))
        else:
            conn.execute(text(f"CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.key = '{key}' THEN "
                              "RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$ "
                              "LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON items FOR EACH ROW "
                              "EXECUTE FUNCTION refuse()"))


def _accept(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse" + (" ON items" if store.dialect == "postgresql" else "")))


def test_a_refused_write_skips_that_item_with_one_line_not_the_source(store: Store, github: Sandbox,
                                                                       tmp_path: Path) -> None:
    later = gh_sandbox.add_issue(github.world, "acme/gadget", "An issue of the next repository", user="bob")
    _refuse(store, "acme/widget#4")
    result, _ = sync(store, github)
    assert not result.ok
    assert result.error is not None and "\n" not in result.error
    assert "item acme/widget#4" in result.error and "refused by a test trigger" in result.error
    assert "1 record not stored" in result.error
    with store.engine.connect() as conn:
        keys = set(conn.execute(text("SELECT key FROM items")).scalars())
    widget = github.world.github.repos["acme/widget"]
    assert keys == {f"acme/widget#{n}" for n in widget.issues if n != 4} | {f"acme/gadget#{later['number']}"}
    assert result.result.new == 30 + 1 - 1
    # once the store takes it, the next sync brings it (the cursor stayed before it)
    _accept(store)
    again, _ = sync(store, github)
    assert again.ok, again.error
    assert again.result.new == 1
    clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    clean.upgrade()
    assert sync(clean, github)[0].ok
    mine, theirs = canonical(store), canonical(clean)
    for rows in (mine, theirs):
        rows.pop("cursors", None)
        rows.pop("sync_runs", None)
    assert diff_summary(mine, theirs) == ""
    clean.close()


def test_a_clean_sync_reads_only_strict_answers_so_the_storability_look_is_skipped(
        store: Store, github: Sandbox, jira: tuple[World, RunningServer]) -> None:
    # issue 18 item 3: the look for unstorable values is skipped only while every answer was strict JSON
    # without a NUL; the sandbox writes a NUL as "\u0000" and 1e309 as "Infinity", which make an answer not strict
    result, conn = sync(store, github)
    assert result.ok and conn.answers_strict
    _, server = jira
    jira_conn = JiraConnector("acme", JiraSource(type="jira", url=server.url, email=EMAIL, token=TOKEN,
                                                 projects=["WID", "OPS"]))
    assert sync_source(store, "acme", jira_conn).ok and jira_conn.answers_strict
    _edit_issue(github, 2, title="Broken \x00 widget")
    again, conn = sync(store, github, full=True)  # the edit leaves `updated_at`: read everything again
    assert again.ok and not conn.answers_strict
    assert {i.key: i for i in store.items()}["acme/widget#2"].title == f"Broken {U} widget"
