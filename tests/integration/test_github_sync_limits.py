"""Faults and rate limits against the sandbox, on one fake clock shared by server and client: the sync
ends in the same store as a clean one, waits exactly as long as GitHub says, and stops clearly when
the wait would be too long."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from syncd.sandbox._http import Faults
from syncd.store import Store
from tests.canon import canonical, diff_summary
from tests.integration._github import Sandbox, open_sandbox, sync
from tests.integration.test_sandbox_github import TOKEN

PATIENT = {"retry": {"attempts": 12, "max_wait_s": 60, "total_s": 600}, "max_rate_wait_s": 4000}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from open_sandbox(issues=45, pulls=130)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """SQLite only: rate limits are the client's business (test_github_sync.py runs on both databases)."""
    s = Store(sqlite_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture
def clean(sandbox: Sandbox, tmp_path: Path) -> dict[str, list[str]]:
    """The canonical store of a sync without faults, then a fresh budget of `limit` for the test."""
    store = Store(f"sqlite:///{tmp_path / 'clean.db'}")
    store.upgrade()
    assert sync(store, sandbox)[0].ok
    want = canonical(store)
    store.close()
    sandbox.clock.waits.clear()
    sandbox.controls.reset()
    return want


def set_budget(sandbox: Sandbox, limit: int) -> None:
    answer = requests.post(f"{sandbox.url}/__sandbox/github/rate_limit", json={"limit": limit, "reset": True},
                           timeout=10)
    assert answer.json() == {"limit": limit}


def spend(sandbox: Sandbox, core: int, graphql: int) -> None:
    """Another client of the same token spends budget (charged on the fake clock)."""
    auth = {"Authorization": f"token {TOKEN}"}
    for _ in range(core):
        assert requests.get(f"{sandbox.url}/user", headers=auth, timeout=10).status_code == 200
    for _ in range(graphql):
        requests.post(f"{sandbox.url}/graphql", json={"query": "query { viewer { login } }"}, headers=auth, timeout=10)


def test_faults_and_a_small_budget_end_in_the_same_store(store: Store, sandbox: Sandbox,
                                                          clean: dict[str, list[str]]) -> None:
    set_budget(sandbox, 4)  # per hour, for REST and for GraphQL points: the sync needs 8 REST requests, 3 batches
    sandbox.controls.set_faults(Faults(error_rate=0.05, drop_rate=0.05, malformed_rate=0.05, rate_limit_rate=0.04,
                                       retry_after_s=30, seed=11))
    result, conn = sync(store, sandbox, **PATIENT)
    sandbox.controls.set_faults(Faults())
    assert result.ok, result.error
    assert diff_summary(canonical(store), clean) == ""
    waits, app = sandbox.clock.waits, sandbox.app
    # paced: it waited for each reset instead of running into the primary limit
    resets = [w for w in waits if w > 600]
    assert len(resets) >= 2 and all(3000 < w <= 3601 for w in resets), waits
    assert app.rejected["core"] == app.rejected["graphql"] == 0, (app.rejected, waits)
    # secondary limits: exactly the Retry-After each time (plus the policy's 50 ms margin)
    assert app.rejected["fault"] > 0 and waits.count(30.05) == app.rejected["fault"]
    # PyGithub retried nothing behind our back: every request the server saw, we sent and counted
    assert conn.requests == sandbox.controls.total("github")
    assert sandbox.controls.total("github") > 11  # faults did cost retries


@pytest.mark.parametrize("resource", ["core", "graphql"])
def test_a_budget_spent_by_another_client_is_waited_out(store: Store, sandbox: Sandbox, clean: dict[str, list[str]],
                                                         resource: str) -> None:
    set_budget(sandbox, 30)
    spend(sandbox, core=30 if resource == "core" else 0, graphql=30 if resource == "graphql" else 0)
    start = sandbox.clock.t  # the window opened now, when `spend` ran
    result, _ = sync(store, sandbox, **PATIENT)
    assert result.ok, result.error
    assert diff_summary(canonical(store), clean) == ""
    # the connector could not know: one request refused (403, or GraphQL's RATE_LIMITED), then it waited
    assert sandbox.app.rejected == {resource: 1}
    assert sandbox.clock.waits == [pytest.approx(3600 + 1 + 0.05, abs=1)]
    assert sandbox.clock.t >= start + 3600


def test_a_reset_beyond_max_rate_wait_stops_the_source_and_a_later_sync_resumes(store: Store, sandbox: Sandbox,
                                                                                 clean: dict[str, list[str]]) -> None:
    set_budget(sandbox, 30)
    spend(sandbox, core=30, graphql=0)
    result, conn = sync(store, sandbox, max_rate_wait_s=600)
    assert not result.ok and store.cursor("gh") is None
    assert conn.requests == 1  # the refused REST request (the progress total needs no query of its own)
    assert result.error is not None and "\n" not in result.error
    assert result.error.startswith(f"source gh ({sandbox.url}): primary rate limit: waiting 3601s would exceed "
                                   "max_rate_wait_s=600s; stopped (1 more repositories not synced)")
    assert "FAILED" in result.summary()
    # mid-sync: the budget lasts for part of the sync only; what was stored stays, the cursor covers it
    set_budget(sandbox, 6)
    result, _ = sync(store, sandbox, max_rate_wait_s=600)
    assert not result.ok and "rate budget spent" in (result.error or "")
    stored = store.counts()["items"]
    assert 0 < stored < 175 and store.cursor("gh") is not None
    assert sandbox.clock.waits == []  # it never slept beyond what it was allowed to
    set_budget(sandbox, 5000)
    result, _ = sync(store, sandbox, max_rate_wait_s=600)
    assert result.ok, result.error
    assert result.result.new == 175 - stored
    assert diff_summary(canonical(store), clean) == ""


def test_secondary_limits_wait_exactly_retry_after(store: Store, sandbox: Sandbox, clean: dict[str, list[str]]) -> None:
    sandbox.controls.set_faults(Faults(rate_limit_rate=0.25, retry_after_s=45, seed=1))  # 3+ of 11 requests refused
    result, conn = sync(store, sandbox, **PATIENT)
    sandbox.controls.set_faults(Faults())
    assert result.ok, result.error
    assert sandbox.app.rejected["fault"] >= 3
    assert sandbox.clock.waits == [45.05] * sandbox.app.rejected["fault"]
    assert conn.requests == 11 + sandbox.app.rejected["fault"]  # 11: the clean sync's requests
    assert diff_summary(canonical(store), clean) == ""
