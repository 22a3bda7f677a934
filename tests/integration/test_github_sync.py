"""Real PyGithub -> GitHub connector -> sandbox GitHub over loopback -> store (SQLite and PostgreSQL):
a full sync stores exactly the world, polls are cheap, live changes (and the check-run trap) show up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.connectors.github_queries import CENSUS_QUERY, FOLLOW_UPS, OPEN_ROLLUPS_QUERY
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls
from syncd.store import Store
from syncd.sync import sync_source
from tests.canon import canonical, diff_summary
from tests.integration._github import (
    FakeClock,
    Sandbox,
    add_repo,
    connector,
    expected_checks,
    live_issues,
    open_sandbox,
    sync,
)
from tests.unit.test_github_queries import assert_github_would_answer, github_schema_from


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from open_sandbox(issues=45, pulls=130)  # two issue pages (55 and 75 PRs), three GraphQL batches


def test_full_sync_stores_exactly_the_world_and_second_sync_changes_nothing(store: Store, sandbox: Sandbox) -> None:
    world = sandbox.world
    result, conn = sync(store, sandbox)
    assert result.ok, result.error
    widget = world.github.repos["acme/widget"]
    issues = live_issues(world)
    items = {i.key: i for i in store.items()}
    assert set(items) == set(issues) and len(items) == 175
    for key, issue in issues.items():
        item = items[key]
        assert (item.id, item.title, item.status) == (f"gh:{issue['id']}", issue["title"], issue["state"])
        assert item.labels == [lb["name"] for lb in issue["labels"]]
    pulls = {p.item_id: p for p in store.pulls()}
    assert len(pulls) == len(widget.pulls) == 130
    for number, payload in widget.pulls.items():
        pr = pulls[f"gh:{widget.issues[number]['id']}"]
        state = "merged" if payload["merged"] else payload["state"]
        assert (pr.state, pr.draft, pr.head_branch, pr.base_branch, pr.head_sha) == (
            state, payload["draft"], payload["head"]["ref"], payload["base"]["ref"], payload["head"]["sha"])
        assert (pr.additions, pr.deletions, pr.changed_files) == (
            payload["additions"], payload["deletions"], payload["changed_files"])
        assert [(r.author_id, r.state.upper(), r.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"))
                for r in pr.reviews] == [(f"gh:{r['user']['login']}", r["state"], r["submitted_at"])
                                         for r in widget.reviews.get(number, [])]
        assert pr.requested_reviewer_ids == [f"gh:{u['login']}" for u in payload["requested_reviewers"]]
        assert pr.checks == expected_checks(widget, payload["head"]["sha"])
        assert pr.linked_keys == [f"WID-{number - 45}"]  # title, body, branch, commits all name it
    assert {pr.checks for pr in pulls.values()} == {"success", "failure"}
    assert sum(len(p.reviews) for p in pulls.values()) == sum(len(r) for r in widget.reviews.values()) == 193  # i % 4 reviews for PR i
    releases = {r.id: r for r in store.releases()}
    assert set(releases) == {f"gh:milestone:acme/widget:{n}" for n in widget.milestones} | {
        f"gh:release:acme/widget:{r['id']}" for r in widget.releases}
    assert [releases[f"gh:release:acme/widget:{n}"].released for n in (71, 72, 73)] == [True, True, False]
    assert releases["gh:milestone:acme/widget:1"].released and not releases["gh:milestone:acme/widget:2"].released
    links = sorted((lk.from_id, lk.to_key) for lk in store.links())
    assert links == sorted((f"gh:{widget.issues[n]['id']}", f"WID-{n - 45}") for n in widget.pulls)
    assert {p.id for p in store.people()} == {"gh:alice", "gh:bob", "gh:octocat"}
    # 3 issue pages (widget 2, gadget 1) + widget's catch-up read (its listing took two pages) + 2 milestones
    # + 2 releases + 3 GraphQL batches: widget's pages hold 55 and 75 PRs, batched per page that was 50+5 and
    # 50+25 (4 requests); carried over from page to page it is 50, 50 and the last 30 = ⌈130/50⌉. The progress
    # total comes from the listing, not a query of its own
    assert result.requests == conn.requests == sandbox.controls.total("github") == 11
    assert sandbox.controls.stats()["requests"]["github graphql"] == 3
    assert result.requests / 130 <= 0.1
    assert conn.total_hint == 175
    before = canonical(store)
    again, _ = sync(store, sandbox)
    assert again.ok and (again.result.new, again.result.updated, again.result.removed) == (0, 0, 0)
    assert diff_summary(canonical(store), before) == ""


def test_no_change_poll_costs_one_request_per_repository(store: Store, sandbox: Sandbox) -> None:
    sync(store, sandbox)  # acme/widget's listing takes two pages (and a catch-up read), acme/gadget's one
    for _ in range(3):  # the very first poll too: the catch-up read's ETag answers the poll's query
        sandbox.clock.advance(60)
        sandbox.controls.reset()
        remaining = sandbox.app.rate_headers(sandbox.world.github.token, "core")["x-ratelimit-remaining"]
        result, _ = sync(store, sandbox)
        assert result.ok and result.requests == 2
        assert sandbox.controls.stats()["requests"] == {"github *": 2, "github issues": 2}
        # both were answered 304, which GitHub does not charge
        assert sandbox.app.rate_headers(sandbox.world.github.token, "core")["x-ratelimit-remaining"] == remaining


def test_live_mutations_show_up_after_the_next_incremental_sync(store: Store, sandbox: Sandbox) -> None:
    world = sandbox.world
    add_repo(world, "archive", 5003)  # not synced: an issue transferred there leaves our scope
    sync(store, sandbox)
    sandbox.clock.advance(300)
    later = sandbox.clock.now()
    widget = world.github.repos["acme/widget"]
    new = gh_sandbox.add_pull(world, "acme/widget", "Brand new export", head="feature/export", user="bob",
                              commit_messages=["Start export", "WID-999 finish export"], now=later)
    gh_sandbox.add_review(world, "acme/widget", new["number"], "alice", state="CHANGES_REQUESTED", now=later)
    gh_sandbox.add_review(world, "acme/widget", 50, "octocat", state="APPROVED", now=later)
    gh_sandbox.merge_pull(world, "acme/widget", 48, user="alice", now=later)
    gh_sandbox.set_labels(world, "acme/widget", 3, ["urgent"], now=later)
    gh_sandbox.push_commits(world, "acme/widget", 52, ["Also covers WID-500"], now=later)
    deleted = widget.issues[5]["id"]
    gh_sandbox.delete_issue(world, "acme/widget", 5)
    moved_in = gh_sandbox.transfer_issue(world, "acme/widget", 6, "acme/gadget", now=later)
    moved_out = widget.issues[7]["id"]
    gh_sandbox.transfer_issue(world, "acme/widget", 7, "acme/archive", now=later)
    sandbox.controls.reset()
    result, _ = sync(store, sandbox, reconcile_hours=0)
    assert result.ok, result.error
    assert (result.result.new, result.result.updated, result.result.removed) == (1, 5, 2)
    items = {i.key: i for i in store.items()}
    pulls = {p.item_id: p for p in store.pulls()}
    new_pr = pulls[items[f"acme/widget#{new['number']}"].id]
    assert [(r.author_id, r.state) for r in new_pr.reviews] == [("gh:alice", "changes_requested")]
    assert new_pr.linked_keys == ["WID-999"]  # named only in a commit message
    assert [r.state for r in pulls[items["acme/widget#50"].id].reviews][-1] == "approved"
    merged = pulls[items["acme/widget#48"].id]
    assert (merged.state, merged.merged_by_id, items["acme/widget#48"].resolution) == ("merged", "gh:alice", "merged")
    assert items["acme/widget#3"].labels == ["urgent"]
    pushed = pulls[items["acme/widget#52"].id]
    assert pushed.linked_keys == ["WID-7", "WID-500"] and pushed.head_sha == widget.pulls[52]["head"]["sha"]
    # deleted and transferred out: marked removed, kept; transferred in scope: same id, new key
    assert "acme/widget#5" not in items and f"gh:{deleted}" in store.item_ids("gh", include_removed=True)
    assert f"gh:{moved_out}" not in store.item_ids("gh")
    assert items[f"acme/gadget#{moved_in['number']}"].id == f"gh:{moved_in['id']}"
    assert "acme/widget#6" not in items
    # 2 issue lists + 1 GraphQL batch (4 changed PRs) + census of widget (2 pages; gadget was listed whole)
    # + milestones and releases of both (items changed; widget's answered 304) + the census's two candidates
    # confirmed gone: #5 (410) and #7 (301 to acme/archive, followed: 2 requests)
    assert sandbox.controls.stats()["requests"] == {"github *": 12, "github issues": 2, "github graphql": 3,
                                                    "github milestones": 2, "github releases": 2, "github issue": 3}


def test_check_runs_do_not_bump_prs_so_open_rollups_are_refreshed(store: Store, sandbox: Sandbox) -> None:
    world, clock = sandbox.world, sandbox.clock
    widget = world.github.repos["acme/widget"]
    sync(store, sandbox)
    clock.advance(60)
    sync(store, sandbox)
    items = {i.key: i.id for i in store.items()}

    def checks(number: int) -> str:
        return next(p.checks for p in store.pulls() if p.item_id == items[f"acme/widget#{number}"])

    assert (checks(48), checks(50)) == ("success", "success")
    gh_sandbox.add_check_run(world, "acme/widget", widget.pulls[48]["head"]["sha"], "e2e", conclusion="failure")
    gh_sandbox.add_status(world, "acme/widget", widget.pulls[50]["head"]["sha"], "ci/deploy", "pending")
    updated = widget.issues[48]["updated_at"]
    assert widget.pulls[48]["updated_at"] == updated  # GitHub does not bump the PR: the list cannot see it
    clock.advance(5 * 60)  # within checks_refresh_minutes (15): the poll stays one request per repository
    sandbox.controls.reset()
    result, _ = sync(store, sandbox)
    assert result.ok and result.requests == 2 and checks(48) == "success"
    clock.advance(11 * 60)  # the refresh is due: widget's 129 open PRs' rollups (2 pages), one detail batch
    sandbox.controls.reset()
    result, _ = sync(store, sandbox)
    assert result.ok and (result.result.new, result.result.updated) == (0, 0)
    assert sandbox.controls.stats()["requests"] == {"github *": 5, "github issues": 2, "github graphql": 3}
    assert (checks(48), checks(50)) == ("failure", "pending")
    assert checks(48) == expected_checks(widget, widget.pulls[48]["head"]["sha"])
    clock.advance(16 * 60)  # nothing changed since: the refresh costs its rollup pages, no detail batch
    assert sync(store, sandbox)[0].requests == 2 + 2


def test_overflowing_connections_are_followed_up(store: Store, sandbox: Sandbox) -> None:
    world = sandbox.world
    big = gh_sandbox.add_pull(world, "acme/widget", "Huge change", head="feature/huge", user="bob",
                              commit_messages=[f"step {k}" for k in range(74)] + ["WID-77 last step"])
    for k in range(120):
        gh_sandbox.add_review(world, "acme/widget", big["number"], f"reviewer{k}", state="COMMENTED")
    gh_sandbox.request_review(world, "acme/widget", big["number"], [f"lead{k}" for k in range(25)])
    result, _ = sync(store, sandbox)
    assert result.ok, result.error
    item = next(i for i in store.items() if i.key == f"acme/widget#{big['number']}")
    pr = next(p for p in store.pulls() if p.item_id == item.id)
    assert len(pr.reviews) == 120 and pr.reviews[-1].author_id == "gh:reviewer119"
    assert pr.requested_reviewer_ids == [f"gh:lead{k}" for k in range(25)]
    assert pr.linked_keys == ["WID-77"]  # from the 75th commit message: the 30 fetched first don't name it
    # 3 detail batches of the plain world (the new PR is the 131st: 50, 50, 31) + 3 follow-ups (reviews
    # 50+70, review requests 20+5, commits 30+45)
    assert sandbox.controls.stats()["requests"]["github graphql"] == 3 + 3


def test_every_document_sent_is_one_github_answers(realdata: Path, sqlite_url: str, sandbox: Sandbox) -> None:
    github_schema = github_schema_from(realdata)
    store = Store(sqlite_url)
    store.upgrade()
    world, clock = sandbox.world, sandbox.clock
    sent: list[tuple[str, dict[str, object]]] = []
    big = gh_sandbox.add_pull(world, "acme/widget", "WID-1 huge", head="h", commit_messages=[str(k) for k in range(40)])
    for k in range(60):
        gh_sandbox.add_review(world, "acme/widget", big["number"], f"r{k}")

    def recording(**kw: object) -> None:
        conn = connector(sandbox, **kw)
        original = conn.client.graphql_partial

        def spy(query: str, variables: dict[str, object]) -> tuple[dict[str, object], list[dict[str, object]]]:
            sent.append((query, variables))
            return original(query, variables)

        conn.client.graphql_partial = spy  # type: ignore[method-assign]
        result = sync_source(store, "gh", conn)
        assert result.ok, result.error

    recording()  # totals, PR batches, follow-ups of reviews and commits
    clock.advance(20 * 60)
    gh_sandbox.add_check_run(world, "acme/widget", world.github.repos["acme/widget"].pulls[50]["head"]["sha"], "x",
                             conclusion="failure")
    recording(reconcile_hours=0)  # rollups, a PR batch with texts, the census
    queries = {query for query, _ in sent}
    assert {FOLLOW_UPS["reviews"][1], FOLLOW_UPS["messages"][1], OPEN_ROLLUPS_QUERY, CENSUS_QUERY} <= queries
    assert {variables.get("texts") for _, variables in sent} == {None, False, True}
    for query, variables in sent:
        assert_github_would_answer(github_schema, query, variables)
    store.close()


def test_full_sync_of_a_generated_world_matches_its_truth(store: Store) -> None:
    from datetime import UTC, datetime

    from syncd.sandbox.generate import generate_world

    world = generate_world(seed=11, issues=600, now=datetime(2026, 11, 20, 9, tzinfo=UTC))
    truth = world.truth
    controls, clock = Controls(), FakeClock()
    sandbox = Sandbox(world, controls, gh_sandbox.serve_github(world, controls, clock=clock.time), clock)
    try:
        repos = tuple(world.github.repos)
        result, _ = sync(store, sandbox, repos=repos, jira_projects=["WID", "GAD", "OPS"])
        assert result.ok, result.error
        counts = store.counts()
        assert counts["items"] == truth.github_issues + truth.github_pulls == len(live_issues(world, repos))
        assert counts["pulls"] == truth.github_pulls
        assert counts["releases"] == truth.github_milestones + truth.github_releases
        assert sum(len(p.reviews) for p in store.pulls()) == truth.github_reviews
        assert counts["links"] == truth.extra["pull_links"] > 0
        by_id = {p.item_id: p for p in store.pulls()}
        checked = 0
        for name in repos:
            repo = world.github.repos[name]
            for number, payload in repo.pulls.items():
                pr = by_id[f"gh:{repo.issues[number]['id']}"]
                assert pr.checks == expected_checks(repo, payload["head"]["sha"]), f"{name}#{number}"
                checked += 1
        assert checked == truth.github_pulls
        assert {p.checks for p in by_id.values()} >= {"success", "failure"}
        before = canonical(store)
        assert sync(store, sandbox, repos=repos, jira_projects=["WID", "GAD", "OPS"])[0].ok
        assert diff_summary(canonical(store), before) == ""
    finally:
        sandbox.server.stop()
