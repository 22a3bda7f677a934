"""The fake Jira over loopback, driven by the real `jira` client (and raw HTTP for what it hides)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from syncd.sandbox._http import Controls, Faults, RunningServer
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.jira_mutations import (
    add_issue,
    add_sprint,
    add_version,
    close_sprint,
    delete_issue,
    move_issue,
    start_sprint,
    update_issue,
)
from syncd.sandbox.jira_search import SEARCH_GONE
from syncd.sandbox.world import World
from tests.integration.jira_world import BIG_HISTORIES, BIG_HISTORY_KEY, EMAIL, POINTS, SPRINT, TOKEN, make_world


def _serve() -> Iterator[tuple[World, Controls, RunningServer]]:
    world = make_world(issues=30, ops_issues=6)
    controls = Controls()
    server = serve_jira(world, controls)
    yield world, controls, server
    server.stop()


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[World, Controls, RunningServer]]:
    """One site for the tests that only read (they reset the request counts they look at)."""
    yield from _serve()


@pytest.fixture
def fresh() -> Iterator[tuple[World, Controls, RunningServer]]:
    """A site of its own, for tests that change the world or its faults."""
    yield from _serve()


def client(server: RunningServer, token: str = TOKEN) -> JIRA:
    return JIRA(server=server.url, basic_auth=(EMAIL, token), max_retries=0)


def get(server: RunningServer, path: str, auth: Any = (EMAIL, TOKEN), **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, auth=auth, timeout=10)


def post(server: RunningServer, path: str, body: Any, auth: Any = (EMAIL, TOKEN)) -> requests.Response:
    return requests.post(server.url + path, json=body, auth=auth, timeout=10)


# -- search ------------------------------------------------------------------------------------------

def test_enhanced_search_pages_by_token_and_returns_every_issue_once(site: tuple) -> None:
    world, controls, server = site
    controls.reset()
    jira = client(server)
    assert jira.deploymentType == "Cloud"
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = jira.enhanced_search_issues("project in (WID, OPS) ORDER BY updated ASC, key ASC", nextPageToken=token,
                                           maxResults=7, fields=["summary", "updated"], json_result=True, use_post=True)
        pages += 1
        assert "total" not in page and len(page["issues"]) <= 7
        seen += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
        if page["isLast"]:
            assert token is None  # absent on the last page, as on Jira Cloud
            break
    assert pages == 6 and len(seen) == len(set(seen)) == 36
    assert sorted(seen) == sorted(i["key"] for i in world.jira.issues.values())
    everything = jira.enhanced_search_issues("project in (WID, OPS)", maxResults=0, fields="summary")
    assert sorted(i.key for i in everything) == sorted(seen)
    assert controls.stats()["requests"]["jira search_jql"] == pages + 1  # fetch-all in pages of 100


def test_fields_default_to_id_and_pages_are_capped(site: tuple) -> None:
    world, _, server = site
    body = post(server, "/rest/api/3/search/jql", {"jql": "project = WID", "maxResults": 1000}).json()
    assert all(set(i) == {"id"} for i in body["issues"]) and len(body["issues"]) == 30 and body["isLast"]
    world_big = make_world(issues=130, ops_issues=0, big_history=False)
    big = serve_jira(world_big)
    try:
        with_fields = post(big, "/rest/api/3/search/jql", {"jql": "project = WID", "maxResults": 1000,
                                                           "fields": ["summary"]}).json()
        ids = post(big, "/rest/api/3/search/jql", {"jql": "project = WID", "maxResults": 1000}).json()
    finally:
        big.stop()
    assert len(with_fields["issues"]) == 100 and not with_fields["isLast"] and with_fields["nextPageToken"]
    assert len(ids["issues"]) == 130 and ids["isLast"]  # id-only pages may be far larger
    every = get(server, "/rest/api/3/search/jql", jql="key = WID-4", fields="*all").json()["issues"][0]["fields"]
    assert {POINTS, SPRINT, "summary", "description", "updated"} <= set(every)
    listed = get(server, "/rest/api/3/search/jql", jql="key = WID-4", fields=["summary", "status"]).json()
    assert set(listed["issues"][0]["fields"]) == {"summary", "status"}
    minus = get(server, "/rest/api/3/search/jql", jql="key = WID-4", fields="*navigable,-description").json()
    assert "description" not in minus["issues"][0]["fields"] and "summary" in minus["issues"][0]["fields"]
    names = get(server, "/rest/api/3/search/jql", jql="key = WID-4", fields="summary", expand="names").json()
    assert names["names"] == {"summary": "Summary"}


def test_changelog_embeds_the_latest_100_and_the_rest_pages(site: tuple) -> None:
    _, _, server = site
    found = post(server, "/rest/api/3/search/jql", {"jql": f"key = {BIG_HISTORY_KEY}", "fields": ["summary"],
                                                    "expand": "changelog"}).json()["issues"][0]
    embedded = found["changelog"]
    assert embedded["total"] == BIG_HISTORIES and len(embedded["histories"]) == embedded["maxResults"] == 100
    created = [h["created"] for h in embedded["histories"]]
    assert created == sorted(created, reverse=True)  # newest first
    pages, start = [], 0
    while True:
        page = get(server, f"/rest/api/3/issue/{BIG_HISTORY_KEY}/changelog", startAt=start).json()
        pages.append(page)
        start += len(page["values"])
        if page["isLast"]:
            break
    assert [len(p["values"]) for p in pages] == [100, 50] and "nextPage" in pages[0] and "nextPage" not in pages[1]
    everything = [h["id"] for p in pages for h in p["values"]]
    assert len(set(everything)) == BIG_HISTORIES and {h["id"] for h in embedded["histories"]} <= set(everything)
    assert pages[1]["values"][-1]["id"] == embedded["histories"][0]["id"]  # oldest first when paged


def test_old_search_is_gone_on_cloud(site: tuple) -> None:
    _, _, server = site
    for api in ("2", "3"):
        answer = get(server, f"/rest/api/{api}/search", jql="project = WID")
        assert answer.status_code == 410
        assert answer.json() == {"errorMessages": [SEARCH_GONE], "errors": {}}
    with pytest.raises(JIRAError) as err:
        client(server).search_issues("project = WID", startAt=5)  # the client knows, too
    assert "deprecated" in str(err.value)


def test_jql_errors_and_unbounded_queries_are_400(site: tuple) -> None:
    _, _, server = site
    jira = client(server)
    with pytest.raises(JIRAError) as err:
        jira.enhanced_search_issues("project = NOPE", fields="summary")
    assert err.value.status_code == 400 and "The value 'NOPE' does not exist for the field 'project'." in err.value.text
    with pytest.raises(JIRAError) as err:
        jira.enhanced_search_issues("project WID", fields="summary")
    assert err.value.status_code == 400 and "Expecting operator but got 'WID'" in err.value.text
    unbounded = post(server, "/rest/api/3/search/jql", {"jql": "order by key"})
    assert unbounded.status_code == 400 and "Unbounded JQL queries are not allowed" in unbounded.json()["errorMessages"][0]
    assert post(server, "/rest/api/3/search/jql", {"jql": "project = WID", "startAt": 0, "sort": "x"}).status_code == 400


def test_page_tokens_belong_to_their_query_and_expire() -> None:
    world = make_world(issues=12, ops_issues=0)
    now = [datetime(2026, 11, 20, 12, tzinfo=UTC)]
    server = serve_jira(world, clock=lambda: now[0])
    try:
        first = post(server, "/rest/api/3/search/jql", {"jql": "project = WID", "maxResults": 5}).json()
        token = first["nextPageToken"]
        other = post(server, "/rest/api/3/search/jql", {"jql": "project = OPS", "nextPageToken": token})
        assert other.status_code == 400 and "does not belong" in other.json()["errorMessages"][0]
        bad = post(server, "/rest/api/3/search/jql", {"jql": "project = WID", "nextPageToken": "garbage!"})
        assert bad.status_code == 400
        now[0] += timedelta(days=6)
        assert post(server, "/rest/api/3/search/jql", {"jql": "project = WID", "nextPageToken": token}).ok
        now[0] += timedelta(days=2)
        expired = post(server, "/rest/api/3/search/jql", {"jql": "project = WID", "nextPageToken": token})
        assert expired.status_code == 400 and "expired" in expired.json()["errorMessages"][0]
    finally:
        server.stop()


def test_a_bare_utc_datetime_is_read_in_the_site_time_zone(fresh: tuple) -> None:
    world, _, server = fresh
    jira = client(server)
    update_issue(world, "WID-5", summary="edited at 18:30 UTC", now=datetime(2026, 11, 20, 18, 30, tzinfo=UTC))
    since_utc = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    epoch = jira.enhanced_search_issues(f"project = WID AND updated >= {int(since_utc.timestamp() * 1000)}",
                                        fields="summary")
    assert [i.key for i in epoch] == ["WID-5"]
    # The same instant written as a bare UTC datetime means 18:00 in Los Angeles: eight hours later.
    bare = jira.enhanced_search_issues('project = WID AND updated >= "2026/11/20 18:00"', fields="summary")
    assert [i.key for i in bare] == []
    local = jira.enhanced_search_issues('project = WID AND updated >= "2026/11/20 10:00"', fields="summary")
    assert [i.key for i in local] == ["WID-5"]


# -- issues, auth, agile ----------------------------------------------------------------------------------

def test_issue_by_key_or_id_and_404_for_unknown(site: tuple) -> None:
    world, _, server = site
    jira = client(server)
    issue = jira.issue("WID-4")
    assert issue.key == "WID-4" and jira.issue(issue.id).key == "WID-4"
    assert isinstance(issue.fields.description, str)  # the client speaks REST v2: wiki text, not ADF
    assert isinstance(get(server, "/rest/api/3/issue/WID-4").json()["fields"]["description"], dict)
    assert issue.self.startswith(server.url + "/rest/api/2/issue/")
    with pytest.raises(JIRAError) as err:
        jira.issue("WID-999")
    assert err.value.status_code == 404 and "Issue does not exist" in err.value.text


def test_bad_or_missing_credentials_are_401(site: tuple) -> None:
    _, _, server = site
    with pytest.raises(JIRAError) as err:
        client(server, token="wrong")
    assert err.value.status_code == 401
    assert get(server, "/rest/api/3/field", auth=None).status_code == 401
    assert get(server, "/rest/api/3/serverInfo", auth=None).json()["deploymentType"] == "Cloud"
    bearer = requests.get(server.url + "/rest/api/3/myself", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert bearer.status_code == 401  # Cloud API tokens go with basic auth, not as a bearer token
    assert bearer.json() == {"errorMessages": ["You are not authenticated. Authentication required to perform this "
                                               "operation."], "errors": {}}


def test_boards_sprints_and_sprint_issues(site: tuple) -> None:
    world, _, server = site
    jira = client(server)
    assert [b.name for b in jira.boards(projectKeyOrID="WID")] == ["WID board"]
    assert [b.type for b in jira.boards()] == ["scrum", "kanban"]
    assert [s.name for s in jira.sprints(1, state="active")] == ["WID Sprint 3"]
    assert [s.state for s in jira.sprints(1)] == ["closed", "closed", "active", "future"]
    with pytest.raises(JIRAError) as err:
        jira.sprints(2)
    assert err.value.status_code == 400 and "does not support sprints" in err.value.text
    assert jira.sprint(4).goal == "Ship the sprint 4 slice"
    page = get(server, "/rest/agile/1.0/sprint/3/issue", expand="changelog").json()
    in_sprint = sorted(i["key"] for i in world.jira.issues.values()
                       if any(s["id"] == 3 for s in i["fields"].get(SPRINT) or []))
    assert sorted(i["key"] for i in page["issues"]) == in_sprint and page["total"] == len(in_sprint)
    assert all(i["fields"]["sprint"]["id"] == 3 for i in page["issues"])
    config = get(server, "/rest/agile/1.0/board/1/configuration").json()
    assert config["estimation"]["field"]["fieldId"] == POINTS


def test_server_mode_has_legacy_search_bearer_tokens_and_server_shapes() -> None:
    world = make_world(issues=30, ops_issues=6)
    world.jira.deployment = "Server"
    server = serve_jira(world)
    try:
        jira = JIRA(server=server.url, token_auth=TOKEN, max_retries=0)
        assert jira.deploymentType == "Server" and jira._version[0] == 9
        keys, start = [], 0
        while True:
            page = jira.search_issues("project in (WID, OPS) ORDER BY key ASC", startAt=start, maxResults=10,
                                      fields=["summary", SPRINT, "assignee", "description"], expand="changelog",
                                      json_result=True)
            assert page["total"] == 36 and page["startAt"] == start
            keys += [i["key"] for i in page["issues"]]
            start += len(page["issues"])
            if start >= page["total"]:
                break
        assert len(set(keys)) == 36
        big = jira.search_issues(f"key = {BIG_HISTORY_KEY}", fields="summary", expand="changelog", json_result=True)
        assert len(big["issues"][0]["changelog"]["histories"]) == BIG_HISTORIES  # Server embeds them all
        issue = jira.issue("WID-5")
        assert issue.fields.assignee is None or (hasattr(issue.fields.assignee, "name")
                                                 and not hasattr(issue.fields.assignee, "accountId"))
        sprints = getattr(issue.fields, SPRINT)
        assert sprints and sprints[0].startswith("com.atlassian.greenhopper.service.sprint.Sprint@")
        assert isinstance(issue.fields.description, str)
        assert get(server, "/rest/api/2/search/jql", jql="project = WID").status_code == 404
        assert get(server, "/rest/api/3/serverInfo").status_code == 404  # Server/DC has no REST v3
        assert get(server, f"/rest/api/2/issue/{BIG_HISTORY_KEY}/changelog").status_code == 404
    finally:
        server.stop()


# -- mutations ----------------------------------------------------------------------------------------------

def test_update_issue_bumps_updated_and_writes_one_history(fresh: tuple) -> None:
    world, _, server = fresh
    before = get(server, "/rest/api/3/issue/WID-6", expand="changelog").json()
    when = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    update_issue(world, "WID-6", status="Done", points=13, sprint=4, assignee="712020:cc33", labels=["urgent"],
                 summary="Renamed", author="712020:aa11", now=when)
    after = get(server, "/rest/api/3/issue/WID-6", expand="changelog").json()
    f = after["fields"]
    assert f["updated"] == "2026-11-21T01:00:00.000-0800" and f["updated"] != before["fields"]["updated"]
    assert (f["status"]["name"], f["resolution"]["name"], f[POINTS], f["assignee"]["displayName"], f["labels"],
            f["summary"]) == ("Done", "Done", 13, "Chen Wu", ["urgent"], "Renamed")
    assert [s["id"] for s in f[SPRINT]][-1] == 4
    assert after["changelog"]["total"] == before["changelog"]["total"] + 1
    newest = after["changelog"]["histories"][0]
    assert newest["author"]["accountId"] == "712020:aa11"
    assert {i["field"] for i in newest["items"]} >= {"summary", "status", "resolution", "Story point estimate",
                                                     "assignee", "Sprint", "labels"}
    unchanged = update_issue(world, "WID-6", summary="Renamed")
    assert unchanged["fields"]["updated"] == f["updated"]  # nothing changed: no history, no bump
    assert len(unchanged["changelog"]["histories"]) == after["changelog"]["total"]


def test_add_delete_and_move_issues(fresh: tuple) -> None:
    world, _, server = fresh
    jira = client(server)
    created = add_issue(world, "WID", "Brand new", issuetype="Bug", points=3, sprint=3, assignee="712020:bb22")
    assert created["key"] == "WID-31" and jira.issue("WID-31").fields.summary == "Brand new"
    delete_issue(world, "WID-7")
    with pytest.raises(JIRAError):
        jira.issue("WID-7")
    assert "WID-7" not in {i.key for i in jira.enhanced_search_issues("project = WID", maxResults=0, fields="key")}
    moved = move_issue(world, "WID-8", "OPS")
    assert moved["key"] == "OPS-7"
    by_old = jira.issue("WID-8")
    assert by_old.key == "OPS-7" and by_old.id == moved["id"]
    assert [i.key for i in jira.enhanced_search_issues("key = WID-8", fields="key")] == ["OPS-7"]
    assert "OPS-7" in {i.key for i in jira.enhanced_search_issues("project = OPS", maxResults=0, fields="key")}
    history = get(server, "/rest/api/3/issue/OPS-7/changelog").json()["values"][-1]["items"]
    assert {"field": "Key", "fieldtype": "jira", "fieldId": "issuekey", "from": None, "fromString": "WID-8",
            "to": None, "toString": "OPS-7"} in history


def test_sprint_events_do_not_bump_issues(fresh: tuple) -> None:
    world, _, server = fresh
    jira = client(server)
    stamps = {i["key"]: i["fields"]["updated"] for i in world.jira.issues.values()}
    close_sprint(world, 3)
    start_sprint(world, 4)
    new = add_sprint(world, 1, "WID Sprint 5", goal="Next")
    assert [s.state for s in jira.sprints(1)] == ["closed", "closed", "closed", "active", "future"]
    assert {i["key"]: i["fields"]["updated"] for i in world.jira.issues.values()} == stamps
    member = next(i for i in world.jira.issues.values() if any(s["id"] == 3 for s in i["fields"].get(SPRINT) or []))
    shown = get(server, f"/rest/api/3/issue/{member['key']}", fields=SPRINT).json()["fields"][SPRINT]
    assert next(s for s in shown if s["id"] == 3)["state"] == "closed"  # the field shows the sprint as it is now
    assert jira.sprint(new["id"]).name == "WID Sprint 5"
    version = add_version(world, "WID", "2.0", release_date="2027-02-01")
    assert [v.name for v in jira.project_versions("WID")] == ["1.0", "1.1", "2.0"] and version["id"] == "10102"


def test_admin_routes_mutate_over_http(fresh: tuple) -> None:
    world, _, server = fresh
    added = post(server, "/__sandbox/jira/issues", {"project": "OPS", "summary": "via admin"}).json()
    assert added["key"] == "OPS-7"
    assert post(server, f"/__sandbox/jira/issues/{added['key']}", {"status": "In Progress"}).json()["fields"][
        "status"]["name"] == "In Progress"
    assert post(server, "/__sandbox/jira/issues/OPS-7/move", {"project": "WID"}).json()["key"] == "WID-31"
    assert requests.delete(server.url + "/__sandbox/jira/issues/WID-31", timeout=10).json() == {"deleted": "WID-31"}
    assert get(server, "/rest/api/3/issue/OPS-7").status_code == 404
    sprint = post(server, "/__sandbox/jira/boards/1/sprints", {"name": "Extra"}).json()
    assert post(server, f"/__sandbox/jira/sprints/{sprint['id']}/start", {}).json()["state"] == "active"
    assert post(server, "/__sandbox/jira/projects/WID/versions", {"name": "3.0"}).json()["name"] == "3.0"
    bad = post(server, "/__sandbox/jira/issues/WID-1", {"status": "Nope"})
    assert bad.status_code == 400 and "no status" in bad.json()["error"]


def test_rate_limit_faults_answer_429_with_retry_after(fresh: tuple) -> None:
    _, controls, server = fresh
    controls.set_faults(Faults(rate_limit_rate=1.0, retry_after_s=3))
    answer = post(server, "/rest/api/3/search/jql", {"jql": "project = WID"})
    controls.set_faults(Faults())
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert answer.headers["RateLimit-Reason"] == "jira-burst-based"
    assert datetime.strptime(answer.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%MZ")
    assert answer.json()["errorMessages"] and json.loads(answer.text)["errors"] == {}
    assert controls.stats()["requests"]["jira search_jql"] == 1
