"""The fake GitHub's GraphQL endpoint: batches with aliases, nested paging, errors and its own budget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from github import Auth, Github

from syncd.sandbox._http import Controls, RunningServer, serve
from syncd.sandbox.github import GitHubApp, add_check_run
from syncd.sandbox.world import World
from tests.integration.test_sandbox_github import TOKEN, get, make_world

PULL_FIELDS = """
  number databaseId id state isDraft merged mergedAt mergedBy { login }
  headRefName baseRefName headRefOid additions deletions changedFiles title body updatedAt
  author { login }
  reviews(first: $reviews, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { author { login } state submittedAt }
  }
  reviewRequests(first: 10) { nodes { requestedReviewer { ... on User { login } ... on Team { slug } } } }
  last: commits(last: 1) { nodes { commit { oid statusCheckRollup { state } } } }
  commits(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { commit { message } } }
  labels(first: 10) { nodes { name } }
  milestone { number title }
"""


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def server(world: World) -> Iterator[RunningServer]:
    running = serve("github", GitHubApp(world, Controls()))
    try:
        yield running
    finally:
        running.stop()


def gql(server: RunningServer, query: str, token: str = TOKEN, **variables: Any) -> requests.Response:
    return requests.post(f"{server.url}/graphql", json={"query": query, "variables": variables},
                         headers={"Authorization": f"bearer {token}"}, timeout=10)


def test_aliased_batch_with_nested_review_paging(server: RunningServer, world: World) -> None:
    query = f"""
    query($reviews: Int!, $after: String) {{
      repository(owner: "acme", name: "widget") {{
        pr1: pullRequest(number: 11) {{ ...pr }}
        pr2: pullRequest(number: 13) {{ ...pr }}
        pr3: pullRequest(number: 12) {{ ...pr }}
      }}
      rateLimit {{ cost remaining limit nodeCount resetAt used }}
    }}
    fragment pr on PullRequest {{ {PULL_FIELDS} }}
    """
    response = gql(server, query, reviews=2)
    assert response.status_code == 200
    assert response.headers["x-ratelimit-resource"] == "graphql"
    body = response.json()
    assert "errors" not in body
    repo = body["data"]["repository"]
    widget = world.github.repos["acme/widget"]
    for alias, number in (("pr1", 11), ("pr2", 13), ("pr3", 12)):
        pr, rest = repo[alias], widget.pulls[number]
        assert (pr["number"], pr["databaseId"], pr["id"]) == (number, rest["id"], rest["node_id"])
        assert (pr["headRefName"], pr["headRefOid"], pr["additions"]) == (rest["head"]["ref"], rest["head"]["sha"],
                                                                           rest["additions"])
        assert pr["reviews"]["totalCount"] == len(widget.reviews.get(number, []))
        assert pr["commits"]["totalCount"] == len(widget.commits[number])
        assert pr["last"]["nodes"][0]["commit"]["oid"] == widget.commits[number][-1]["sha"]
    assert repo["pr1"]["state"] == "MERGED" and repo["pr1"]["mergedBy"] == {"login": "alice"}
    assert repo["pr2"]["state"] == "OPEN" and repo["pr2"]["mergedAt"] is None
    assert repo["pr1"]["last"]["nodes"][0]["commit"]["statusCheckRollup"] == {"state": "FAILURE"}
    assert repo["pr3"]["last"]["nodes"][0]["commit"]["statusCheckRollup"] == {"state": "SUCCESS"}
    assert [n["commit"]["message"] for n in repo["pr3"]["commits"]["nodes"]] == ["WID-3 step 0", "WID-3 step 1",
                                                                                "WID-3 step 2"]
    # PR 13 has 3 reviews: 2 on the first page, then the rest after endCursor
    page = repo["pr2"]["reviews"]
    assert [n["state"] for n in page["nodes"]] == ["COMMENTED", "COMMENTED"]
    assert page["pageInfo"]["hasNextPage"] is True
    more = gql(server, f"""query($reviews: Int!, $after: String) {{
        repository(owner: "acme", name: "widget") {{ pullRequest(number: 13) {{ {PULL_FIELDS} }} }} }}""",
               reviews=2, after=page["pageInfo"]["endCursor"]).json()
    rest_page = more["data"]["repository"]["pullRequest"]["reviews"]
    assert [n["state"] for n in rest_page["nodes"]] == ["APPROVED"]
    assert rest_page["pageInfo"]["hasNextPage"] is False
    assert body["data"]["rateLimit"]["cost"] == 1 and body["data"]["rateLimit"]["limit"] == 5000


def test_status_rollup_follows_new_check_runs(server: RunningServer, world: World) -> None:
    sha = world.github.repos["acme/widget"].pulls[12]["head"]["sha"]
    query = 'query { repository(owner:"acme", name:"widget") { pullRequest(number: 12) { commits(last: 1) { ' \
            'nodes { commit { statusCheckRollup { state } } } } } } }'

    def state() -> str:
        data = gql(server, query).json()["data"]
        return data["repository"]["pullRequest"]["commits"]["nodes"][0]["commit"]["statusCheckRollup"]["state"]

    assert state() == "SUCCESS"
    add_check_run(world, "acme/widget", sha, "deploy", status="in_progress", conclusion=None)
    assert state() == "PENDING"
    add_check_run(world, "acme/widget", sha, "deploy", conclusion="timed_out")
    assert state() == "FAILURE"


def test_not_found_is_partial_data_with_github_error_type(server: RunningServer) -> None:
    body = gql(server, 'query { repository(owner:"acme", name:"widget") { a: pullRequest(number: 10) { number } '
                       'b: pullRequest(number: 999) { number } } nope: repository(owner:"acme", name:"nope") { id } }'
               ).json()
    assert body["data"]["repository"] == {"a": {"number": 10}, "b": None}
    assert body["data"]["nope"] is None
    types = {(tuple(e["path"]), e["type"]) for e in body["errors"]}
    assert types == {(("repository", "b"), "NOT_FOUND"), (("nope",), "NOT_FOUND")}
    assert any(e["message"] == "Could not resolve to a PullRequest with the number of 999." for e in body["errors"])


def test_pagination_rules_and_validation(server: RunningServer) -> None:
    missing = gql(server, 'query { repository(owner:"acme", name:"widget") { pullRequests { totalCount } } }').json()
    assert missing["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert "You must provide a `first` or `last` value" in missing["errors"][0]["message"]
    excessive = gql(server, 'query { repository(owner:"acme", name:"widget") { pullRequests(first: 101) '
                            '{ totalCount } } }').json()
    assert excessive["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    unknown = gql(server, 'query { repository(owner:"acme", name:"widget") { pullRequest(number: 10) '
                          '{ nonsense } } }').json()
    assert "data" not in unknown and "nonsense" in unknown["errors"][0]["message"]
    assert gql(server, "query {", ).json()["errors"][0]["message"].startswith("Syntax Error")


def test_pull_requests_connection_pages_every_pr(server: RunningServer) -> None:
    query = """query($after: String) { repository(owner:"acme", name:"widget") {
        pullRequests(first: 4, after: $after, states: [OPEN, MERGED], orderBy: {field: CREATED_AT, direction: ASC}) {
          totalCount pageInfo { hasNextPage endCursor } nodes { number state } } } }"""
    seen: list[int] = []
    after = None
    while True:
        page = gql(server, query, after=after).json()["data"]["repository"]["pullRequests"]
        assert page["totalCount"] == 6  # 5 open + 1 merged
        seen += [n["number"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [10, 11, 12, 13, 14, 15]
    issues = gql(server, 'query { repository(owner:"acme", name:"widget") { issues(first: 100, states: [CLOSED]) '
                         '{ totalCount nodes { number stateReason } } } }').json()["data"]["repository"]["issues"]
    assert issues == {"totalCount": 1, "nodes": [{"number": 2, "stateReason": "COMPLETED"}]}


def test_nodes_by_global_id(server: RunningServer, world: World) -> None:
    widget = world.github.repos["acme/widget"]
    ids = [widget.pulls[14]["node_id"], widget.issues[3]["node_id"], widget.repo["node_id"]]
    body = gql(server, 'query($ids: [ID!]!) { nodes(ids: $ids) { __typename id '
                       '... on PullRequest { number } ... on Issue { number } ... on Repository { nameWithOwner } } }',
               ids=ids).json()
    assert body["data"]["nodes"] == [
        {"__typename": "PullRequest", "id": ids[0], "number": 14},
        {"__typename": "Issue", "id": ids[1], "number": 3},
        {"__typename": "Repository", "id": ids[2], "nameWithOwner": "acme/widget"},
    ]


def test_graphql_budget_is_separate_and_costed(world: World) -> None:
    world.github.rate_limit = 5
    running = serve("github", GitHubApp(world, Controls()))
    try:
        wide = 'query { repository(owner:"acme", name:"widget") { pullRequests(first: 100) { nodes { ' \
               'reviews(first: 100) { totalCount } commits(first: 100) { totalCount } } } } ' \
               'rateLimit { cost nodeCount remaining used } }'
        first = gql(running, wide)
        rate = first.json()["data"]["rateLimit"]
        # 1 request for the PRs + 100 for their reviews + 100 for their commits = 201 -> 2 points
        assert rate == {"cost": 2, "nodeCount": 100 + 100 * 100 * 2, "remaining": 3, "used": 2}
        assert first.headers["x-ratelimit-remaining"] == "3" and first.headers["x-ratelimit-used"] == "2"
        assert gql(running, wide).headers["x-ratelimit-remaining"] == "1"
        limited = gql(running, wide)
        assert limited.status_code == 200 and limited.json()["errors"][0]["type"] == "RATE_LIMITED"
        assert limited.headers["x-ratelimit-remaining"] == "0"  # as GitHub documents it, though 1 point is left
        core = get(running, "/repos/acme/widget")  # the REST budget is untouched
        assert core.status_code == 200 and core.headers["x-ratelimit-remaining"] == "4"
        huge = gql(running, 'query { repository(owner:"acme", name:"widget") { pullRequests(first: 100) { nodes { '
                            'reviews(first: 100) { nodes { author { login } } } commits(first: 100) { nodes { '
                            'id } } labels(first: 100) { nodes { name } } } } } }')
        assert huge.json()["errors"][0]["type"] == "RATE_LIMITED"
        bad_token = gql(running, "query { viewer { login } }", token="not-a-token")
        assert bad_token.status_code == 401 and bad_token.json()["message"] == "Bad credentials"
    finally:
        running.stop()


def test_node_limit(server: RunningServer) -> None:
    body = gql(server, 'query { repository(owner:"acme", name:"widget") { pullRequests(first: 100) { nodes { '
                       'repository { pullRequests(first: 100) { nodes { reviews(first: 100) { nodes { id } } } } } '
                       '} } } }').json()
    assert body["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert "1,010,100 possible nodes" in body["errors"][0]["message"]  # 100 + 100*100 + 100*100*100


def test_pygithub_graphql_query(server: RunningServer) -> None:
    gh = Github(auth=Auth.Token(TOKEN), base_url=server.url, seconds_between_requests=0, retry=None)
    headers, data = gh.requester.graphql_query(
        'query($n: Int!) { repository(owner:"acme", name:"widget") { pullRequest(number: $n) { title } } }',
        {"n": 10})
    assert data["data"]["repository"]["pullRequest"]["title"] == "WID-1 widget change 0"
    assert headers["x-ratelimit-resource"] == "graphql"
