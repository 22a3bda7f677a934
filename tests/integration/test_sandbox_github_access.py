"""The fake GitHub: Enterprise Server prefixes, repositories hidden from the token, and which mutations
bump `updated_at` (reviews, pushes: yes; check runs, commit statuses: no), as on GitHub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from github import Auth, Github, GithubException

from syncd.sandbox._http import Controls, RunningServer
from syncd.sandbox.github import (
    GitHubApp,
    add_check_run,
    add_review,
    add_status,
    push_commits,
    serve_github,
)
from syncd.sandbox.world import World
from tests.integration.test_sandbox_github import TOKEN, get, make_world


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def server(world: World) -> Iterator[RunningServer]:
    running = serve_github(world, Controls())
    try:
        yield running
    finally:
        running.stop()


def app_of(server: RunningServer) -> GitHubApp:
    app = server.server.app
    assert isinstance(app, GitHubApp)
    return app


def test_enterprise_server_prefixes_with_pygithub(server: RunningServer) -> None:
    gh = Github(auth=Auth.Token(TOKEN), base_url=f"{server.url}/api/v3", per_page=4, seconds_between_requests=0,
                retry=None)
    repo = gh.get_repo("acme/widget")
    assert repo.url == f"{server.url}/api/v3/repos/acme/widget"  # payload URLs carry the prefix
    # Link headers keep the prefix too, or PyGithub's URL check would refuse the next page
    assert len(list(repo.get_issues(state="all"))) == 15
    assert gh.requester.graphql_url == f"{server.url}/api/graphql"
    _, data = gh.requester.graphql_query('query { repository(owner: "acme", name: "widget") { nameWithOwner } }', {})
    assert data["data"]["repository"]["nameWithOwner"] == "acme/widget"
    page = get(server, "/api/v3/repos/acme/widget/issues?state=all&per_page=4")
    assert page.links["next"]["url"].startswith(f"{server.url}/api/v3/repositories/5001/issues?")


def test_denied_repository_is_404_or_403_and_graphql_not_found(server: RunningServer) -> None:
    app = app_of(server)
    app.deny_repo("acme/widget", 404)
    assert get(server, "/repos/acme/widget/issues").status_code == 404
    assert get(server, "/repos/acme/gadget/issues").status_code == 200
    answer = requests.post(f"{server.url}/graphql", headers={"Authorization": f"bearer {TOKEN}"}, timeout=10,
                           json={"query": 'query { repository(owner: "acme", name: "widget") { id } }'}).json()
    assert answer["data"]["repository"] is None and answer["errors"][0]["type"] == "NOT_FOUND"
    app.deny_repo("acme/widget", 403, apis=["rest"])
    refused = get(server, "/repos/acme/widget")
    assert refused.status_code == 403 and refused.json()["message"] == "Resource not accessible by personal access token"
    with pytest.raises(GithubException) as caught:  # not mistaken for a rate limit
        Github(auth=Auth.Token(TOKEN), base_url=server.url, retry=None).get_repo("acme/widget")
    assert type(caught.value) is GithubException and caught.value.status == 403
    admin = requests.post(f"{server.url}/__sandbox/github/repos/acme/widget/access", json={"status": 0}, timeout=10)
    assert admin.json() == {"repository": "acme/widget", "status": 0, "apis": []}
    assert get(server, "/repos/acme/widget").status_code == 200


def test_checks_and_statuses_do_not_bump_updated_at_but_reviews_and_pushes_do(server: RunningServer,
                                                                              world: World) -> None:
    widget = world.github.repos["acme/widget"]
    pull = widget.pulls[12]
    sha, stamp = pull["head"]["sha"], pull["updated_at"]
    add_check_run(world, "acme/widget", sha, "deploy", conclusion="failure")
    status = add_status(world, "acme/widget", sha, "ci/security", "error")
    assert widget.issues[12]["updated_at"] == pull["updated_at"] == stamp
    assert get(server, f"/repos/acme/widget/commits/{sha}/status").json()["state"] == "failure"
    assert status["state"] == "error" and status in widget.statuses[sha]
    add_review(world, "acme/widget", 12, "alice", "APPROVED")
    reviewed = widget.issues[12]["updated_at"]
    assert reviewed > stamp and pull["updated_at"] == reviewed
    pushed = push_commits(world, "acme/widget", 12, ["WID-3 follow-up"])
    assert pushed["head"]["sha"] != sha and pushed["commits"] == 4
    assert widget.issues[12]["updated_at"] > reviewed
    commits = get(server, "/repos/acme/widget/pulls/12/commits").json()
    assert [c["commit"]["message"] for c in commits][-1] == "WID-3 follow-up"
    assert commits[-1]["parents"][0]["sha"] == sha
    with pytest.raises(ValueError):
        add_status(world, "acme/widget", sha, "ci", "green")


def test_ids_are_unique_across_repositories(world: World) -> None:
    from syncd.sandbox.github import add_issue, add_pull

    widget = world.github.repos["acme/widget"]
    issue = add_issue(world, "acme/gadget", "First gadget issue")
    pull = add_pull(world, "acme/gadget", "First gadget PR", head="feature/g")
    assert issue["number"] == 1 and issue["id"] not in {i["id"] for i in widget.issues.values()}
    assert pull["id"] not in {p["id"] for p in widget.pulls.values()}
