"""The fake GitHub answers in GitHub's shapes: responses validate against GitHub's OpenAPI description
(../shared/realdata/github-openapi, MIT) and carry the keys real recorded exchanges carry
(../shared/realdata/github-pygithub-replay, PyGithub's test recordings, LGPL-3.0)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from syncd.sandbox._http import Controls, Faults, RunningServer, serve
from syncd.sandbox.github import GitHubApp
from syncd.sandbox.world import World
from tests.integration.test_sandbox_github import get, make_world

# (operation path in the spec, path on the sandbox)
OPERATIONS = [
    ("/rate_limit", "/rate_limit"),
    ("/repos/{owner}/{repo}", "/repos/acme/widget"),
    ("/repos/{owner}/{repo}/issues", "/repos/acme/widget/issues?state=all&per_page=100"),
    ("/repos/{owner}/{repo}/issues/{issue_number}", "/repos/acme/widget/issues/2"),
    ("/repos/{owner}/{repo}/issues/{issue_number}", "/repos/acme/widget/issues/11"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "/repos/acme/widget/issues/3/comments"),
    ("/repos/{owner}/{repo}/pulls", "/repos/acme/widget/pulls?state=all"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/acme/widget/pulls/11"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/acme/widget/pulls/13"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "/repos/acme/widget/pulls/13/reviews"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}/commits", "/repos/acme/widget/pulls/12/commits"),
    ("/repos/{owner}/{repo}/commits/{ref}/check-runs", "/repos/acme/widget/commits/{sha}/check-runs"),
    ("/repos/{owner}/{repo}/commits/{ref}/status", "/repos/acme/widget/commits/{sha}/status"),
    ("/repos/{owner}/{repo}/commits/{ref}/statuses", "/repos/acme/widget/commits/{sha}/statuses"),
    ("/repos/{owner}/{repo}/milestones", "/repos/acme/widget/milestones?state=all"),
    ("/repos/{owner}/{repo}/milestones/{milestone_number}", "/repos/acme/widget/milestones/1"),
    ("/repos/{owner}/{repo}/releases", "/repos/acme/widget/releases"),
    ("/repos/{owner}/{repo}/releases/latest", "/repos/acme/widget/releases/latest"),
    ("/repos/{owner}/{repo}/labels", "/repos/acme/widget/labels"),
    ("/search/issues", "/search/issues?q=repo:acme/widget+is:pr"),
]


@pytest.fixture(scope="module")
def spec(realdata: Path) -> dict[str, Any]:
    return json.loads((realdata / "github-openapi" / "api.github.com.trimmed.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[RunningServer]:
    running = serve("github", GitHubApp(world, Controls()))
    try:
        yield running
    finally:
        running.stop()


def _null_in_nullable_enums(node: Any) -> Any:
    """GitHub sends null for nullable enums (`state_reason` of an open issue); OpenAPI 3.0 validators read
    `nullable` + `enum` strictly unless null is listed, so list it."""
    if isinstance(node, dict):
        fixed = {k: _null_in_nullable_enums(v) for k, v in node.items()}
        if fixed.get("nullable") and isinstance(fixed.get("enum"), list) and None not in fixed["enum"]:
            fixed["enum"] = [*fixed["enum"], None]
        return fixed
    if isinstance(node, list):
        return [_null_in_nullable_enums(v) for v in node]
    return node


def response_schema(spec: dict[str, Any], path: str, status: str = "200") -> dict[str, Any]:
    """The operation's JSON schema, with the spec's components beside it so `#/components/...` resolves."""
    schema = spec["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    return {**schema, "components": _null_in_nullable_enums(spec["components"])}


def assert_valid(spec: dict[str, Any], path: str, body: Any) -> None:
    errors = sorted(OAS30Validator(response_schema(spec, path)).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{path}: " + "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5])


@pytest.mark.parametrize(("spec_path", "path"), OPERATIONS, ids=[p for _, p in OPERATIONS])
def test_response_validates_against_github_openapi(spec: dict[str, Any], server: RunningServer, world: World,
                                                   spec_path: str, path: str) -> None:
    sha = world.github.repos["acme/widget"].pulls[11]["head"]["sha"]
    response = get(server, path.replace("{sha}", sha))
    assert response.status_code == 200
    body = response.json()
    assert body, "an empty answer would validate trivially"
    assert_valid(spec, spec_path, body)


def test_user_validates_as_private_user(spec: dict[str, Any], server: RunningServer) -> None:
    schema = {"$ref": "#/components/schemas/public-user", "components": spec["components"]}
    errors = list(OAS30Validator(schema).iter_errors(get(server, "/user").json()))
    assert not errors, [e.message for e in errors[:3]]


def test_single_commit_validates_as_commit(spec: dict[str, Any], server: RunningServer, world: World) -> None:
    sha = world.github.repos["acme/widget"].pulls[11]["head"]["sha"]
    schema = {"$ref": "#/components/schemas/commit", "components": spec["components"]}
    errors = list(OAS30Validator(schema).iter_errors(get(server, f"/repos/acme/widget/commits/{sha}").json()))
    assert not errors, [e.message for e in errors[:3]]


def test_error_bodies_validate(spec: dict[str, Any], server: RunningServer) -> None:
    schema = {"$ref": "#/components/schemas/basic-error", "components": spec["components"]}
    for path, token in (("/repos/acme/nope", "sandbox-github-token"), ("/repos/acme/widget", "bad")):
        body = get(server, path, token=token).json()
        assert not list(OAS30Validator(schema).iter_errors(body))


# -- key sets of recorded real exchanges ------------------------------------------------------------

def recorded(realdata: Path, name: str) -> list[dict[str, Any]]:
    """The exchanges of one PyGithub replay file: 10 lines each, then a blank line."""
    lines = (realdata / "github-pygithub-replay" / name).read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i + 9 < len(lines):
        if lines[i] in ("http", "https"):
            out.append({"method": lines[i + 1], "path": lines[i + 4], "status": int(lines[i + 7]),
                        "headers": dict(ast.literal_eval(lines[i + 8])),
                        "body": json.loads(lines[i + 9]) if lines[i + 9] else None})
            i += 11
        else:
            i += 1
    return out


def first_item(body: Any) -> dict[str, Any]:
    return body[0] if isinstance(body, list) else body


# (replay file, index of the exchange, the same kind of answer from the sandbox)
REPLAYS = [
    ("Issue.setUp.txt", 1, "/repos/acme/widget/issues/1"),
    ("Repository.testGetIssuesWithTypeWildcard.txt", 0, "/repos/acme/widget/issues?state=all"),
    ("PaginatedList.testCustomPerPageIteration.txt", 2, "/repos/acme/widget/issues/3/comments"),
    ("PullRequestComment.setUp.txt", 1, "/repos/acme/widget/pulls/11"),
    ("PullRequestReview.testAttributes.txt", 0, "/repos/acme/widget/pulls/13/reviews"),
    ("Milestone.setUp.txt", 1, "/repos/acme/widget/milestones/1"),
    ("GitRelease.testGetLatestRelease.txt", 0, "/repos/acme/widget/releases/latest"),
    ("CheckRun.testGetCheckRunsForRefFilterByFilter.txt", 1, "/repos/acme/widget/commits/{sha}/check-runs"),
    ("CommitCombinedStatus.setUp.txt", 0, "/repos/acme/widget/commits/{sha}/status"),
    ("RateLimiting.testGetRateLimit.txt", 0, "/rate_limit"),
    ("Label.setUp.txt", 1, "/repos/acme/widget/labels"),
]


@pytest.mark.parametrize(("name", "index", "path"), REPLAYS, ids=[r[0] for r in REPLAYS])
def test_keys_match_recorded_github(realdata: Path, server: RunningServer, world: World, name: str, index: int,
                                    path: str) -> None:
    real = first_item(recorded(realdata, name)[index]["body"])
    sha = world.github.repos["acme/widget"].pulls[11]["head"]["sha"]
    ours = first_item(get(server, path.replace("{sha}", sha)).json())
    missing = set(real) - set(ours)
    assert not missing, f"keys GitHub sends that the sandbox does not: {sorted(missing)}"
    for nested in ("resources", "check_runs"):  # envelopes whose inner objects matter too
        if nested in real:
            inner_real, inner_ours = real[nested], ours[nested]
            if isinstance(inner_real, list):
                assert not set(inner_real[0]) - set(inner_ours[0])
            else:
                assert not set(inner_real) - set(inner_ours)


def test_headers_match_recorded_github(realdata: Path, server: RunningServer) -> None:
    real = {k.lower() for k in recorded(realdata, "Repository.setUp.txt")[0]["headers"]}
    ours = {k.lower() for k in get(server, "/repos/acme/widget").headers}
    wanted = {"etag", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used",
              "x-ratelimit-resource", "x-github-api-version-selected", "content-type"}
    assert wanted <= real and wanted <= ours


def test_rate_limit_answers_match_recorded_github(realdata: Path) -> None:
    real_primary = next(e for e in recorded(realdata, "SpecificExceptions.testRateLimitExceeded.txt")
                        if e["status"] == 403)
    real_secondary = next(e for e in recorded(realdata, "SpecificExceptions.testAuthenticatedRateLimitExceeded.txt")
                          if e["status"] == 403)
    world = make_world()
    world.github.rate_limit = 1
    controls = Controls()
    running = serve("github", GitHubApp(world, controls))
    try:
        assert get(running, "/repos/acme/widget").status_code == 200
        primary = get(running, "/repos/acme/widget")
        controls.set_faults(Faults(rate_limit_rate=1.0, retry_after_s=60))
        secondary = get(running, "/repos/acme/widget")
    finally:
        running.stop()
    assert primary.status_code == real_primary["status"] == 403
    assert primary.json()["message"].lower().startswith(real_primary["body"]["message"].lower()[:23])
    assert primary.headers["x-ratelimit-remaining"] == real_primary["headers"]["x-ratelimit-remaining"] == "0"
    assert secondary.status_code == real_secondary["status"] == 403
    assert set(real_secondary["body"]) <= set(secondary.json())
    assert secondary.headers["Retry-After"] == real_secondary["headers"]["Retry-After"] == "60"
