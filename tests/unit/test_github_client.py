"""GitHub client edge cases of one call (PyGithub over `responses`): which refusals are rate limits and how
long they wait, which failures are retried, and that nothing is retried twice."""

from __future__ import annotations

import json

import pytest
import responses

from syncd.connectors._http import WholeBodyAdapter
from syncd.connectors.config import GitHubSource
from syncd.connectors.github_client import BadCredentials, GitHubClient, RateBudgetSpent
from syncd.errors import SourceError

API = "https://api.github.com:443"  # PyGithub names the port
NOW = 1_800_000_000.0


def client(**kw: object) -> tuple[GitHubClient, list[float]]:
    config = GitHubSource(type="github", token="t", repos=["a/b"], **kw)  # type: ignore[arg-type]
    gh = GitHubClient("gh", config)
    waits: list[float] = []
    gh.sleep = waits.append
    gh.clock = lambda: NOW
    return gh, waits


def rate_headers(remaining: int, reset: float = NOW + 120, resource: str = "core") -> dict[str, str]:
    return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": str(int(reset)),
            "x-ratelimit-resource": resource}


@responses.activate
def test_secondary_limit_without_retry_after_waits_a_minute() -> None:
    gh, waits = client()
    url = f"{API}/repos/a/b"
    responses.get(url, status=403, headers=rate_headers(4000),
                  json={"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                                   "try again."})
    responses.get(url, json={"id": 1}, headers=rate_headers(3999))
    assert gh.call("GET", "/repos/a/b")[1]["id"] == 1
    assert waits == [60.05] and gh.requests == 2 == len(responses.calls)


@responses.activate
def test_429_with_retry_after_and_5xx_are_retried() -> None:
    gh, waits = client()
    url = f"{API}/repos/a/b"
    responses.get(url, status=429, headers={"Retry-After": "7"}, json={"message": "slow down"})
    responses.get(url, status=502, body="<html>bad gateway</html>")
    responses.get(url, json={"id": 1})
    assert gh.call("GET", "/repos/a/b")[1] == {"id": 1, "url": "/repos/a/b"}
    assert waits[0] == 7.05 and len(waits) == 2 and len(responses.calls) == 3


@responses.activate
def test_a_permission_refusal_is_not_retried() -> None:
    gh, waits = client()
    responses.get(f"{API}/repos/a/b", status=403, headers=rate_headers(4000),
                  json={"message": "Resource not accessible by personal access token"})
    with pytest.raises(SourceError, match="HTTP 403: Resource not accessible by personal access token$"):
        gh.call("GET", "/repos/a/b")
    assert waits == [] and len(responses.calls) == 1


@responses.activate
def test_401_is_bad_credentials_and_a_long_reset_stops_the_source() -> None:
    gh, _ = client(max_rate_wait_s=60)
    responses.get(f"{API}/user", status=401, json={"message": "Bad credentials"})
    with pytest.raises(BadCredentials, match="bad credentials"):
        gh.call("GET", "/user")
    responses.get(f"{API}/repos/a/b", status=403, headers=rate_headers(0, NOW + 900),
                  json={"message": "API rate limit exceeded for user ID 1."})
    with pytest.raises(RateBudgetSpent, match="primary rate limit: waiting 901s would exceed "
                                              "max_rate_wait_s=60s; stopped"):
        gh.call("GET", "/repos/a/b")


@responses.activate
def test_pacing_waits_for_the_reset_before_the_budget_runs_out() -> None:
    gh, waits = client(rate_reserve=10)
    url = f"{API}/repos/a/b"
    responses.get(url, json={"id": 1}, headers=rate_headers(10, NOW + 300))
    responses.get(url, json={"id": 1}, headers=rate_headers(4999, NOW + 3900))
    gh.call("GET", "/repos/a/b")
    assert waits == []
    gh.call("GET", "/repos/a/b")  # 10 left = the reserve: wait for the reset first
    assert waits == [301] and gh.budgets["core"].remaining == 4999


@responses.activate
def test_graphql_timeouts_are_retried_and_rate_limits_without_type_are_waited() -> None:
    gh, waits = client()
    url = f"{API}/graphql"
    graphql = rate_headers(0, NOW + 30, "graphql")
    responses.post(url, json={"errors": [{"message": "Something went wrong while executing your query. This may be "
                                                     "the result of a timeout, or it could be a GitHub bug."}]})
    responses.post(url, headers=graphql, json={"errors": [{"message": "API rate limit already exceeded for user ID 1."}]})
    responses.post(url, json={"data": {"rateLimit": {"cost": 3}, "viewer": {"login": "x"}}})
    assert gh.graphql("query { viewer { login } }", {})["viewer"] == {"login": "x"}
    assert len(responses.calls) == 3 and waits[1] == 31.05 and gh.budgets["graphql"].cost == 3
    assert json.loads(responses.calls[0].request.body)["query"] == "query { viewer { login } }"


@responses.activate
def test_graphql_errors_are_one_line_or_partial() -> None:
    gh, _ = client()
    body = {"data": {"a": {"id": "1"}, "b": None},
            "errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a Repository with the name 'a/x'."}]}
    responses.post(f"{API}/graphql", json=body)
    responses.post(f"{API}/graphql", json=body)
    with pytest.raises(SourceError, match="GraphQL: NOT_FOUND: Could not resolve to a Repository with the name 'a/x'.$"):
        gh.graphql("query { a: viewer { id } }", {})
    assert gh.graphql_partial("query { a: viewer { id } }", {}) == ({"a": {"id": "1"}, "b": None}, body["errors"])


def _pr_node(number: int) -> dict[str, object]:
    empty = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}
    return {"number": number, "reviews": empty, "reviewRequests": empty, "messages": empty}


@responses.activate
def test_pr_details_of_several_repositories_in_one_request_fail_only_the_repository_graphql_cannot_give() -> None:
    from syncd.connectors.github_graphql import GraphQLReads

    gh, _ = client(graphql_batch=3)
    reads = GraphQLReads("gh", gh.config, gh)
    # first request: a/b#1, a/b#2, c/d#5 (r0 = a/b, r1 = c/d); c/d is gone. Second: c/d#6 and e/f#9 (r0, r1)
    responses.post(f"{API}/graphql", json={
        "data": {"r0": {"pr1": _pr_node(1), "pr2": _pr_node(2)}, "r1": None},
        "errors": [{"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve to a Repository with the name 'c/d'."}]})
    responses.post(f"{API}/graphql", json={"data": {"r0": None, "r1": {"pr9": _pr_node(9)}}, "errors": [
        {"type": "NOT_FOUND", "path": ["r0"], "message": "Could not resolve to a Repository with the name 'c/d'."}]})
    nodes, failed = reads.pull_details_across([("a/b", 1), ("a/b", 2), ("c/d", 5), ("c/d", 6), ("e/f", 9)], texts=False)
    assert sorted(nodes) == [("a/b", 1), ("a/b", 2), ("e/f", 9)]
    assert failed == {"c/d": "GraphQL: NOT_FOUND: Could not resolve to a Repository with the name 'c/d'."}
    assert len(responses.calls) == 2  # 5 PRs, 3 a request, whatever their repositories
    first = json.loads(responses.calls[0].request.body)
    assert first["variables"] == {"texts": False, "owner0": "a", "name0": "b", "owner1": "c", "name1": "d"}
    assert "r1: repository(owner: $owner1, name: $name1)" in first["query"] and "pr5: pullRequest(number: 5)" in first["query"]
    # one PR GraphQL has no node for, without an error naming it, fails its repository with that line
    responses.post(f"{API}/graphql", json={"data": {"r0": {"pr1": _pr_node(1), "pr3": None}}})
    nodes, failed = reads.pull_details_across([("a/b", 1), ("a/b", 3)], texts=True)
    assert list(nodes) == [("a/b", 1)]
    assert failed == {"a/b": "GraphQL: a/b#3 is listed as a pull request but GraphQL has no such pull request"}


@responses.activate
def test_threads_sharing_an_app_installation_refresh_its_token_one_at_a_time() -> None:
    """Two threads' clients (the prefetched issue list beside a GraphQL batch) share one installation
    auth; a token past its expiry is refreshed by one thread while the other waits, never by both at
    once over the integration's one connection."""
    import threading
    import time

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from pydantic import SecretStr

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    config = GitHubSource(type="github", app_id=123, private_key=SecretStr(pem), installation_id=42, repos=["a/b"])
    gh = GitHubClient("gh", config)
    gh.sleep = lambda s: None
    inside, most, refreshes = 0, 0, 0
    guard = threading.Lock()

    def refresh(request: object) -> tuple[int, dict[str, str], str]:
        nonlocal inside, most, refreshes
        with guard:
            inside += 1
            refreshes += 1
            most = max(most, inside)
        time.sleep(0.05)  # long enough for the other thread to arrive while this refresh is in flight
        with guard:
            inside -= 1
        # already expired: every request refreshes it, so the two threads keep meeting here
        return 201, {}, json.dumps({"token": f"ghs_{refreshes}", "expires_at": "2020-01-01T00:00:00Z"})

    responses.add_callback(responses.POST, f"{API}/app/installations/42/access_tokens", callback=refresh)
    responses.get(f"{API}/repos/a/b", json={"id": 1}, headers=rate_headers(4000))
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(4):
                assert gh.call("GET", "/repos/a/b")[1]["id"] == 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert refreshes >= 8  # every request found the token expired and refreshed it
    assert most == 1


@responses.activate
def test_answers_are_read_in_one_piece_and_whole() -> None:
    gh, _ = client()
    # PyGithub's one connection reads bodies through our adapter (`read_body`), not in requests' 10 KiB pieces
    session = getattr(gh.requester, "_Requester__createConnection")().session
    assert isinstance(session.get_adapter(f"{API}/repos/a/b/issues"), WholeBodyAdapter)
    issues = [{"number": n, "body": "é" * 500 + str(n)} for n in range(100)]  # about 100 KB, not ASCII
    responses.get(f"{API}/repos/a/b/issues", json=issues)
    assert gh.call("GET", "/repos/a/b/issues")[1] == issues and gh.answers.strict
