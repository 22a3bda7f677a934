"""GitHub's rules the fake applies, worked out by hand: GraphQL cost, connection windows, review decision,
check rollups, timestamps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from graphql import parse

from syncd.sandbox.github_common import _combined_state, _latest_check_runs, _parse_time
from syncd.sandbox.github_graphql import _query_cost
from syncd.sandbox.github_resolvers import _connection, _cursor, _GitHubGraphQLError, _review_decision, _rollup_state
from syncd.sandbox.world import GitHubRepo

INFO: Any = SimpleNamespace(field_name="reviews")


def test_cost_counts_requests_per_parent_node_and_nodes_as_products() -> None:
    query = """query($n: Int!) { repository(owner: "a", name: "b") {
        pullRequests(first: $n) { nodes { ...f labels(first: 10) { nodes { name } } } } }
      rateLimit { cost } }
      fragment f on PullRequest { reviews(first: 50) { nodes { author { login } } } }"""
    cost, nodes, dry = _query_cost(parse(query), None, {"n": 100})
    # requests: 1 (pulls) + 100 (reviews per PR) + 100 (labels per PR) = 201 -> 2 points
    assert (cost, nodes, dry) == (2, 100 + 100 * 50 + 100 * 10, False)


def test_cost_of_aliased_single_pulls_is_one() -> None:
    query = """{ repository(owner: "a", name: "b") { a: pullRequest(number: 1) { reviews(first: 100) { totalCount } }
                 b: pullRequest(number: 2) { reviews(first: 100) { totalCount } } } rateLimit(dryRun: true) { cost } }"""
    assert _query_cost(parse(query), None, {}) == (1, 200, True)


def test_cost_picks_the_named_operation() -> None:
    document = parse("query A { viewer { login } } query B { repository(owner: \"a\", name: \"b\") { "
                     "pullRequests(first: 100) { nodes { commits(first: 100) { totalCount } "
                     "reviews(first: 100) { totalCount } } } } }")
    assert _query_cost(document, "A", {}) == (1, 0, False)
    assert _query_cost(document, "B", {}) == (2, 100 + 2 * 100 * 100, False)


ITEMS = list(range(7))


def window(**args: Any) -> tuple[list[int], dict[str, Any]]:
    page = _connection(ITEMS, args, INFO, lambda i: {"n": i})
    assert page["totalCount"] == 7
    return [n["n"] for n in page["nodes"]], page["pageInfo"]


def test_connection_windows() -> None:
    assert window(first=3) == ([0, 1, 2], {"hasNextPage": True, "hasPreviousPage": False,
                                           "startCursor": _cursor(0), "endCursor": _cursor(2)})
    assert window(first=3, after=_cursor(5))[0] == [6]
    assert window(first=3, after=_cursor(5))[1]["hasNextPage"] is False
    assert window(last=2)[0] == [5, 6]
    assert window(last=2, before=_cursor(3))[0] == [1, 2]
    nodes, info = window(first=3, after=_cursor(6))
    assert nodes == [] and info["endCursor"] is None and info["hasNextPage"] is False


def test_connection_refuses_unbounded_and_oversized_pages() -> None:
    with pytest.raises(_GitHubGraphQLError) as caught:
        window()
    assert caught.value.kind == "MISSING_PAGINATION_BOUNDARIES"
    with pytest.raises(_GitHubGraphQLError) as caught:
        window(last=101)
    assert caught.value.kind == "EXCESSIVE_PAGINATION" and "`last` limit of 100" in str(caught.value)
    with pytest.raises(_GitHubGraphQLError) as caught:
        window(first=1, after="not a cursor")
    assert caught.value.kind == "INVALID_CURSOR_ARGUMENTS"


def review(login: str, state: str) -> dict[str, Any]:
    return {"user": {"login": login}, "state": state}


def test_review_decision_uses_each_reviewers_latest_decision() -> None:
    assert _review_decision([]) is None
    assert _review_decision([review("a", "COMMENTED")]) is None
    assert _review_decision([review("a", "CHANGES_REQUESTED"), review("a", "APPROVED")]) == "APPROVED"
    assert _review_decision([review("a", "APPROVED"), review("b", "CHANGES_REQUESTED")]) == "CHANGES_REQUESTED"
    assert _review_decision([review("a", "APPROVED"), review("a", "COMMENTED")]) == "APPROVED"
    assert _review_decision([review("a", "CHANGES_REQUESTED"), review("a", "DISMISSED")]) is None


def run(name: str, started: str, status: str = "completed", conclusion: str | None = "success",
        run_id: int = 1) -> dict[str, Any]:
    return {"id": run_id, "name": name, "started_at": started, "status": status, "conclusion": conclusion}


def test_rollup_takes_latest_run_per_name_and_worst_state() -> None:
    repo = GitHubRepo(repo={})
    assert _rollup_state(repo, "abc") is None
    repo.check_runs["abc"] = [run("build", "2026-01-01T10:00:00Z", conclusion="failure", run_id=1),
                              run("build", "2026-01-01T11:00:00Z", conclusion="success", run_id=2)]
    assert [r["id"] for r in _latest_check_runs(repo.check_runs["abc"])] == [2]
    assert _rollup_state(repo, "abc") == "SUCCESS"  # the re-run fixed it
    repo.check_runs["abc"].append(run("lint", "2026-01-01T11:00:00Z", status="queued", conclusion=None, run_id=3))
    assert _rollup_state(repo, "abc") == "PENDING"
    repo.statuses["abc"] = [{"id": 9, "context": "ci", "state": "error", "created_at": "2026-01-01T09:00:00Z"}]
    assert _rollup_state(repo, "abc") == "ERROR"


def test_combined_status_state() -> None:
    assert _combined_state([]) == "pending"
    assert _combined_state([{"state": "success"}, {"state": "pending"}]) == "pending"
    assert _combined_state([{"state": "success"}, {"state": "error"}]) == "failure"
    assert _combined_state([{"state": "success"}]) == "success"


def test_since_accepts_github_time_forms() -> None:
    assert _parse_time("2026-11-20T10:00:00Z") == "2026-11-20T10:00:00Z"
    assert _parse_time("2026-11-20T12:00:00+02:00") == "2026-11-20T10:00:00Z"
    assert _parse_time("2026-11-20T12:00:00 02:00") == "2026-11-20T10:00:00Z"  # '+' decoded as a space
    assert _parse_time("2026-11-20") == "2026-11-20T00:00:00Z"
    with pytest.raises(ValueError):
        _parse_time("yesterday")
