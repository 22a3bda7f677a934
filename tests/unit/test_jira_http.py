"""HTTP edge cases of the Jira client edge, one call each, with `responses`."""

from __future__ import annotations

import pytest
import responses

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraClient
from syncd.errors import SourceError

URL = "https://acme.atlassian.net"


def client(**retry: float) -> tuple[JiraClient, list[float]]:
    cfg = JiraSource(type="jira", url=URL, email="a@b.c", token="tok-secret-1", projects=["WID"],
                     retry={"attempts": 4, "max_wait_s": 30, **retry})
    c = JiraClient("acme", cfg)
    waits: list[float] = []
    c.sleep = waits.append
    return c, waits


@responses.activate
def test_429_retry_after_is_honoured() -> None:
    responses.get(f"{URL}/rest/api/3/field", status=429, headers={"Retry-After": "7"}, json={"errorMessages": ["slow down"]})
    responses.get(f"{URL}/rest/api/3/field", json=[{"id": "summary", "name": "Summary"}])
    c, waits = client()
    assert c.fields() == [{"id": "summary", "name": "Summary"}]
    assert len(waits) == 1 and 7.0 <= waits[0] < 7.5
    assert c.requests == 2


@responses.activate
def test_5xx_retried_then_one_line_error() -> None:
    for _ in range(4):
        responses.get(f"{URL}/rest/api/3/field", status=503, json={"errorMessages": ["maintenance"]})
    c, waits = client()
    with pytest.raises(SourceError) as err:
        c.fields()
    msg = str(err.value)
    assert msg.startswith(f"source acme ({URL}): GET field: HTTP 503")
    assert "maintenance" in msg and "\n" not in msg and "tok-secret-1" not in msg
    assert len(waits) == 3 and c.requests == 4


@responses.activate
def test_malformed_json_is_retried() -> None:
    responses.get(f"{URL}/rest/api/2/serverInfo", body='{"deploymentType": "Clo', content_type="application/json")
    responses.get(f"{URL}/rest/api/2/serverInfo", json={"deploymentType": "Cloud"})
    c, waits = client()
    assert c.server_info()["deploymentType"] == "Cloud"
    assert len(waits) == 1


@responses.activate
def test_401_is_not_retried() -> None:
    responses.get(f"{URL}/rest/api/3/field", status=401, json={"errorMessages": ["You are not authenticated."]})
    c, waits = client()
    with pytest.raises(SourceError, match="HTTP 401: You are not authenticated"):
        c.fields()
    assert waits == [] and c.requests == 1


@responses.activate
def test_retry_after_longer_than_policy_fails_clearly() -> None:
    responses.get(f"{URL}/rest/api/3/field", status=429, headers={"Retry-After": "3600"})
    c, waits = client()
    with pytest.raises(SourceError, match="server asked to wait 3600s"):
        c.fields()
    assert waits == []


@responses.activate
def test_an_html_error_page_ends_in_one_line() -> None:
    page = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    responses.get(f"{URL}/rest/api/3/field", status=500, body=page, content_type="text/html")
    c, waits = client(attempts=2)
    with pytest.raises(SourceError) as err:
        c.fields()
    assert str(err.value) == f"source acme ({URL}): GET field: HTTP 500: 500 Internal Server Error" and len(waits) == 1


@responses.activate
def test_an_agile_api_the_token_may_not_use_is_one_warning_not_a_failure() -> None:
    from syncd.connectors.jira import JiraConnector

    cfg = JiraSource(type="jira", url=URL, email="a@b.c", token="tok-secret-1", projects=["WID"])
    issue = {"id": "10001", "key": "WID-1", "fields": {
        "summary": "s", "project": {"key": "WID"}, "issuetype": {"id": "1", "name": "Story", "hierarchyLevel": 0},
        "status": {"name": "To Do", "statusCategory": {"key": "new"}},
        "created": "2026-11-01T09:00:00.000+0000", "updated": "2026-11-02T09:00:00.000+0000"}}
    responses.get(f"{URL}/rest/api/2/serverInfo", json={"deploymentType": "Cloud"})
    responses.get(f"{URL}/rest/api/3/field", json=[])
    responses.get(f"{URL}/rest/api/3/issuetype", json=[{"id": "1", "name": "Story", "untranslatedName": "Story"}])
    responses.post(f"{URL}/rest/api/3/search/jql", json={"issues": [issue], "isLast": True})
    responses.get(f"{URL}/rest/agile/1.0/board", status=403,
                  json={"errorMessages": ["The app is not installed on this instance."]})
    responses.get(f"{URL}/rest/api/3/project/WID/versions", json=[])
    conn = JiraConnector("acme", cfg)
    batches = list(conn.fetch(None, full=False, known_ids=dict))  # no SourceError: the source syncs
    assert [i.key for b in batches for i in b.items] == ["WID-1"]
    assert not any(b.sprints for b in batches)
    assert conn.warnings == ["source acme: no agile API on this site (GET board: HTTP 403): boards and sprints are "
                             "not synced, everything else is"]
    assert batches[-1].cursor is not None and batches[-1].cursor["agile_missing"] == 403
    assert "census_at" in batches[-1].cursor and batches[-1].removed_ids == []  # the deletion census ran
