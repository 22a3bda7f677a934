"""What a GitHub source covers and how it fails: one failing repository does not stop the others (and
keeps its cursor), bad credentials stop the source; org mode with include/exclude; GitHub Enterprise
Server's base URL; GitHub App installation auth; the progress bar and summary line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from syncd.sandbox import github as gh_sandbox
from syncd.store import Store
from syncd.sync import Progress
from tests.canon import canonical, diff_summary
from tests.integration._github import Sandbox, add_repo, open_sandbox, sync


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from open_sandbox(issues=12, pulls=20)


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    """For what is the client's business alone (hosts, auth, org listing, progress): SQLite is enough."""
    s = Store(sqlite_url)
    s.upgrade()
    yield s
    s.close()


def keys(store: Store) -> set[str]:
    return {i.key for i in store.items()}


def test_a_missing_repository_fails_alone_with_one_line(store: Store, sandbox: Sandbox) -> None:
    gh_sandbox.add_issue(sandbox.world, "acme/gadget", "Gadget issue")
    result, _ = sync(store, sandbox, repos=("acme/widget", "acme/nope", "acme/gadget"))
    assert not result.ok and result.error is not None and "\n" not in result.error
    assert result.error == (f"source gh ({sandbox.url}): repository acme/nope: GET /repos/acme/nope/issues: "
                            "HTTP 404: Not Found — 2 of 3 repositories synced")
    assert "acme/gadget#1" in keys(store) and len(keys(store)) == 33  # the others are committed
    cursor = store.cursor("gh") or {}
    assert set(cursor["repos"]) == {"acme/widget", "acme/gadget"}  # nothing recorded for the failed one


def test_a_refused_repository_keeps_its_cursor_and_catches_up_later(store: Store, sandbox: Sandbox) -> None:
    world, clock = sandbox.world, sandbox.clock
    assert sync(store, sandbox)[0].ok
    gh_sandbox.add_issue(world, "acme/gadget", "Before the refusal")
    clock.advance(60)
    assert sync(store, sandbox)[0].ok
    before = (store.cursor("gh") or {})["repos"]["acme/widget"]
    clock.advance(60)
    sandbox.app.deny_repo("acme/widget", 403)  # e.g. a fine-grained token that lost the permission
    gh_sandbox.add_issue(world, "acme/widget", "Widget change while refused", now=clock.now())
    gh_sandbox.add_issue(world, "acme/gadget", "Gadget change", now=clock.now())
    result, _ = sync(store, sandbox)
    assert not result.ok and "repository acme/widget: GET /repos/acme/widget/issues: HTTP 403: Resource not " \
                             "accessible by personal access token — 1 of 2 repositories synced" in (result.error or "")
    assert "acme/gadget#2" in keys(store)
    assert (store.cursor("gh") or {})["repos"]["acme/widget"] == before
    sandbox.app.deny_repo("acme/widget", 0)
    assert sync(store, sandbox)[0].ok
    assert "acme/widget#33" in keys(store)


def test_a_repository_failing_after_its_listing_does_not_move_its_cursor(store: Store, sandbox: Sandbox) -> None:
    world, clock = sandbox.world, sandbox.clock
    assert sync(store, sandbox)[0].ok
    clock.advance(60)
    assert sync(store, sandbox)[0].ok  # settles the conditional query: the next quiet poll is a 304
    before = (store.cursor("gh") or {})["repos"]["acme/widget"]
    new = gh_sandbox.add_pull(world, "acme/widget", "WID-40 new", head="feature/wid-40", now=clock.now())
    sandbox.app.deny_repo("acme/widget", 404, apis=["graphql"])  # the listing works, the PR details fail
    result, _ = sync(store, sandbox)
    assert not result.ok and "repository acme/widget: GraphQL: NOT_FOUND: Could not resolve to a Repository with " \
                             "the name 'acme/widget'." in (result.error or "")
    # neither the page nor its ETag was recorded: the next poll cannot answer 304 and skip the new PR
    assert (store.cursor("gh") or {})["repos"]["acme/widget"] == before
    assert f"acme/widget#{new['number']}" not in keys(store)
    sandbox.app.deny_repo("acme/widget", 0)
    assert sync(store, sandbox)[0].ok
    assert f"acme/widget#{new['number']}" in keys(store)
    assert {lk.to_key for lk in store.links()} >= {"WID-40"}


def test_bad_credentials_stop_the_source_at_once(sqlite_store: Store, sandbox: Sandbox) -> None:
    result, conn = sync(sqlite_store, sandbox, token="not-the-token", repos=("acme/widget", "acme/gadget"))
    assert not result.ok and conn.requests == 1
    assert result.error == (f"source gh ({sandbox.url}): bad credentials (HTTP 401: Bad credentials): check the "
                            "token or the app installation (1 more repositories not synced) — 0 of 2 repositories synced")
    assert "not-the-token" not in (result.error or "")


def test_org_mode_with_include_and_exclude_and_a_cached_repository_list(sqlite_store: Store, sandbox: Sandbox) -> None:
    world, clock = sandbox.world, sandbox.clock
    add_repo(world, "widget-docs", 5003)
    add_repo(world, "sandbox-old", 5004)
    gh_sandbox.add_issue(world, "acme/widget-docs", "Docs issue")
    gh_sandbox.add_issue(world, "acme/sandbox-old", "Old issue")
    org: dict[str, Any] = {"repos": [], "org": "acme", "include": ["widget*", "gadget"], "exclude": ["*-docs"]}
    result, conn = sync(sqlite_store, sandbox, **org)
    assert result.ok, result.error
    assert {k.split("#")[0] for k in keys(sqlite_store)} == {"acme/widget"}
    assert conn.repositories() == ["acme/gadget", "acme/widget"]
    assert sandbox.controls.stats()["requests"]["github org_repos"] == 2  # this sync and the call above
    clock.advance(60)
    sync(sqlite_store, sandbox, **org)
    clock.advance(60)
    sandbox.controls.reset()
    result, _ = sync(sqlite_store, sandbox, **org)  # the list is cached in the cursor for repos_refresh_minutes
    assert result.ok and sandbox.controls.stats()["requests"] == {"github *": 2, "github issues": 2}
    clock.advance(61 * 60)
    sandbox.controls.reset()
    assert sync(sqlite_store, sandbox, **org)[0].ok
    assert sandbox.controls.stats()["requests"]["github org_repos"] == 1


def test_enterprise_server_base_url_gives_the_same_store(sqlite_store: Store, sandbox: Sandbox, tmp_path: Any) -> None:
    assert sync(sqlite_store, sandbox)[0].ok
    ghes = Store(f"sqlite:///{tmp_path / 'ghes.db'}")
    ghes.upgrade()
    result, conn = sync(ghes, sandbox, base_url=f"{sandbox.url}/api/v3")
    assert result.ok, result.error
    assert conn.client.requester.graphql_url == f"{sandbox.url}/api/graphql"
    assert diff_summary(canonical(ghes), canonical(sqlite_store)) == ""
    ghes.close()


def test_github_app_installation_auth(sqlite_store: Store, sandbox: Sandbox) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    result, conn = sync(sqlite_store, sandbox, token=None, app_id=123, private_key=SecretStr(pem), installation_id=42)
    assert result.ok, result.error
    assert len(keys(sqlite_store)) == 32
    # the installation token request is PyGithub's own, outside our count
    assert sandbox.controls.stats()["requests"]["github installation_token"] == 1
    assert conn.requests == sandbox.controls.total("github") - 1


class Recorder(Progress):
    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.advanced = 0
        self.closed = False

    def advance(self, n: int) -> None:
        self.advanced += n

    def total(self, n: int | None) -> None:
        self.totals.append(n)

    def close(self) -> None:
        self.closed = True


def test_progress_and_summary_line(sqlite_store: Store, sandbox: Sandbox) -> None:
    bar = Recorder()
    result, _ = sync(sqlite_store, sandbox, progress=bar)
    assert bar.closed and bar.advanced == 32 and set(bar.totals) == {32}
    assert result.summary().startswith("gh: ok: 32 new, 0 updated, 0 removed, 0 unchanged; 7 requests in ")
    sandbox.clock.advance(60)
    bar = Recorder()
    result, _ = sync(sqlite_store, sandbox, progress=bar)
    assert bar.closed and bar.advanced == 0 and set(bar.totals) == {None}  # incremental: no total known
