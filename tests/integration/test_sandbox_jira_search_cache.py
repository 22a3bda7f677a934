"""The fake Jira keeps a query's sorted matches between pages, and never serves them stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from syncd.sandbox.jira import serve_jira
from syncd.sandbox.jira_mutations import update_issue
from tests.integration.jira_world import EMAIL, TOKEN, make_world


def _keys(url: str, jql: str) -> list[str]:
    keys: list[str] = []
    body: dict[str, Any] = {"jql": jql, "maxResults": 5, "fields": ["summary"]}
    while True:
        page = requests.post(f"{url}/rest/api/3/search/jql", json=body, auth=(EMAIL, TOKEN), timeout=10).json()
        keys += [i["key"] for i in page["issues"]]
        if page.get("isLast"):
            return keys
        body["nextPageToken"] = page["nextPageToken"]


def test_search_results_follow_mutations_and_the_clock_minute() -> None:
    world = make_world(issues=12, ops_issues=0)
    now = [datetime(2026, 11, 20, 12, tzinfo=UTC)]
    server = serve_jira(world, clock=lambda: now[0])
    try:
        jql = "project = WID ORDER BY updated DESC"
        before = _keys(server.url, jql)
        assert len(before) == 12 == len(set(before))
        update_issue(world, before[-1], summary="touched last", now=now[0] + timedelta(days=30))
        after = _keys(server.url, jql)
        assert after[0] == before[-1] and sorted(after) == sorted(before)  # not the cached order
        recent = "project = WID AND updated >= -1d"
        assert _keys(server.url, recent) == [before[-1]]  # only the issue touched "in 30 days" is recent
        now[0] += timedelta(days=31)  # a relative date moves with the clock
        assert _keys(server.url, recent) == [before[-1]]
        now[0] += timedelta(days=2)
        assert _keys(server.url, recent) == []
    finally:
        server.stop()
