"""The sandbox answers what GrimoireLab's Perceval asks (the benchmark's peer), as the real APIs do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from syncd.sandbox._http import Controls, RunningServer
from syncd.sandbox.generate import generate_world
from syncd.sandbox.github import serve_github
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.world import World


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[World, RunningServer, RunningServer]]:
    world = generate_world(7, 200, datetime(2026, 11, 20, 12, tzinfo=UTC))
    world.jira.deployment = "Server"
    controls = Controls()
    jira, github = serve_jira(world, controls), serve_github(world, controls)
    yield world, jira, github
    jira.stop()
    github.stop()


def test_legacy_search_takes_any_number_as_epoch_millis_and_comments_page(sandbox: tuple) -> None:
    world, jira, _ = sandbox
    auth = {"Authorization": f"Bearer {world.jira.api_token}"}
    wid = sum(1 for i in world.jira.issues.values() if i["key"].startswith("WID-"))
    params: dict[str, str | int] = {"jql": "project = WID AND updated > 0 order by updated asc", "maxResults": 100,
                                    "expand": "renderedFields,transitions,operations,changelog", "startAt": 0}
    page = requests.get(f"{jira.url}/rest/api/2/search", headers=auth, timeout=10, params=params)
    assert page.status_code == 200, page.text
    assert page.json()["total"] == wid > 0
    issue = page.json()["issues"][0]
    comments = requests.get(f"{jira.url}/rest/api/2/issue/{issue['id']}/comment", headers=auth, timeout=10,
                            params={"startAt": 0, "maxResults": 100})
    assert comments.status_code == 200
    assert comments.json() == {"startAt": 0, "maxResults": 100, "total": 0, "comments": []}
    gone = requests.get(f"{jira.url}/rest/api/2/issue/NOPE-1/comment", headers=auth, timeout=10)
    assert gone.status_code == 404


def test_user_orgs_are_listed_for_known_users_only(sandbox: tuple) -> None:
    world, _, github = sandbox
    auth = {"Authorization": f"token {world.github.token}"}
    login = next(iter(world.github.users))
    orgs = requests.get(f"{github.url}/api/v3/users/{login}/orgs", headers=auth, timeout=10)
    assert orgs.status_code == 200 and orgs.json() == []
    assert requests.get(f"{github.url}/api/v3/users/no-such-user-x/orgs", headers=auth, timeout=10).status_code == 404
