"""Issue 19 item 9: a truncated Jira answer that is retried successfully costs one short log line, not the
whole response body the `jira` library logs at ERROR (about 400 KB a search page on a real site)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraConnector
from syncd.sandbox._http import Controls, Faults, RunningServer
from syncd.sandbox.jira import serve_jira
from syncd.store import Store
from syncd.sync import sync_source
from tests.integration.jira_world import EMAIL, TOKEN, make_world


@pytest.fixture
def server() -> Iterator[tuple[Controls, RunningServer]]:
    controls = Controls()
    running = serve_jira(make_world(issues=130, ops_issues=8), controls)
    yield controls, running
    running.stop()


def test_a_retried_truncated_answer_is_logged_in_one_short_line(sqlite_url: str, server: tuple[Controls, RunningServer],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    controls, running = server
    store = Store(sqlite_url)
    store.upgrade()
    controls.set_faults(Faults(malformed_rate=0.5, seed=4))  # about half the answers are cut mid-body
    conn = JiraConnector("acme", JiraSource(type="jira", url=running.url, email=EMAIL, token=TOKEN,
                                            projects=["WID", "OPS"], retry={"attempts": 12}))
    waits: list[float] = []
    conn.client.sleep = waits.append
    caplog.set_level(logging.INFO)
    result = sync_source(store, "acme", conn)
    controls.set_faults(Faults())
    assert result.ok, result.error
    assert waits, "no answer was cut: the test proves nothing"
    library = [r for r in caplog.records if r.name.split(".")[0] == "jira"]
    for record in library:
        message = record.getMessage()
        assert "\n" not in message and len(message) < 400, f"{len(message)} characters: {message[:200]}"
    assert any("response body not logged" in r.getMessage() for r in library)
    assert sum(len(r.getMessage()) for r in caplog.records) < 20_000
    store.close()
