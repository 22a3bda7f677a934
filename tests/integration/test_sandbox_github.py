"""The fake GitHub over loopback, driven by the real PyGithub client (and raw HTTP for headers)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from github import Auth, Github, GithubException

from syncd.sandbox._http import Controls, Faults, RunningServer, serve
from syncd.sandbox.github import (
    GitHubApp,
    add_check_run,
    add_issue,
    add_pull,
    add_review,
    close_issue,
    delete_issue,
    merge_pull,
    request_review,
    serve_github,
    set_labels,
    transfer_issue,
)
from syncd.sandbox.world import GitHubRepo, GitHubWorld, JiraWorld, World

TOKEN = "sandbox-github-token"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "http://127.0.0.1"  # the base URL payloads are written against before the server starts


# -- a small hand-made world, in the shapes of ../shared/realdata/github-openapi -----------------

def _user(login: str, user_id: int) -> dict[str, Any]:
    url = f"{BASE}/users/{login}"
    return {
        "login": login, "id": user_id, "node_id": f"U_kgDO{user_id:06d}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "gravatar_id": "", "url": url,
        "html_url": f"https://github.com/{login}", "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}", "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos", "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events", "type": "User", "user_view_type": "public",
        "site_admin": False,
    }


def _repo(owner: dict[str, Any], name: str, repo_id: int) -> dict[str, Any]:
    full = f"{owner['login']}/{name}"
    url = f"{BASE}/repos/{full}"
    payload: dict[str, Any] = {
        "id": repo_id, "node_id": f"R_kgDO{repo_id:06d}", "name": name, "full_name": full, "private": False,
        "owner": owner, "html_url": f"https://github.com/{full}", "description": f"The {name} service",
        "fork": False, "url": url, "homepage": None, "language": "Python", "forks_count": 0, "forks": 0,
        "stargazers_count": 3, "watchers_count": 3, "watchers": 3, "size": 120, "default_branch": "main",
        "open_issues_count": 0, "open_issues": 0, "is_template": False, "topics": [], "has_issues": True,
        "has_projects": False, "has_wiki": False, "has_pages": False, "has_downloads": True,
        "has_discussions": False, "archived": False, "disabled": False, "visibility": "public",
        "pushed_at": "2026-11-19T08:00:00Z", "created_at": "2025-01-10T09:00:00Z",
        "updated_at": "2026-11-19T08:00:00Z", "permissions": {"admin": False, "maintain": False, "push": True,
                                                              "triage": True, "pull": True},
        "allow_rebase_merge": True, "allow_squash_merge": True, "allow_merge_commit": True,
        "allow_auto_merge": False, "delete_branch_on_merge": False, "allow_forking": True,
        "temp_clone_token": "", "subscribers_count": 2, "network_count": 0, "license": None, "mirror_url": None,
        "git_url": f"git://github.com/{full}.git", "ssh_url": f"git@github.com:{full}.git",
        "clone_url": f"https://github.com/{full}.git", "svn_url": f"https://github.com/{full}",
    }
    for key, suffix in [
        ("archive_url", "{archive_format}{/ref}"), ("assignees_url", "assignees{/user}"),
        ("blobs_url", "git/blobs{/sha}"), ("branches_url", "branches{/branch}"),
        ("collaborators_url", "collaborators{/collaborator}"), ("comments_url", "comments{/number}"),
        ("commits_url", "commits{/sha}"), ("compare_url", "compare/{base}...{head}"),
        ("contents_url", "contents/{+path}"), ("contributors_url", "contributors"),
        ("deployments_url", "deployments"), ("downloads_url", "downloads"), ("events_url", "events"),
        ("forks_url", "forks"), ("git_commits_url", "git/commits{/sha}"), ("git_refs_url", "git/refs{/sha}"),
        ("git_tags_url", "git/tags{/sha}"), ("hooks_url", "hooks"), ("issue_comment_url", "issues/comments{/number}"),
        ("issue_events_url", "issues/events{/number}"), ("issues_url", "issues{/number}"),
        ("keys_url", "keys{/key_id}"), ("labels_url", "labels{/name}"), ("languages_url", "languages"),
        ("merges_url", "merges"), ("milestones_url", "milestones{/number}"),
        ("notifications_url", "notifications{?since,all,participating}"), ("pulls_url", "pulls{/number}"),
        ("releases_url", "releases{/id}"), ("stargazers_url", "stargazers"), ("statuses_url", "statuses/{sha}"),
        ("subscribers_url", "subscribers"), ("subscription_url", "subscription"), ("tags_url", "tags"),
        ("teams_url", "teams"), ("trees_url", "git/trees{/sha}"),
    ]:
        payload[key] = f"{url}/{suffix}"
    return payload


def _milestone(repo: GitHubRepo, number: int, title: str, state: str, due_on: str | None,
               creator: dict[str, Any]) -> dict[str, Any]:
    url = f"{repo.repo['url']}/milestones/{number}"
    return {
        "url": url, "html_url": f"{repo.repo['html_url']}/milestone/{number}", "labels_url": f"{url}/labels",
        "id": 900 + number, "node_id": f"MI_kwDO{number:06d}", "number": number, "state": state, "title": title,
        "description": f"{title} scope", "creator": creator, "open_issues": 0, "closed_issues": 0,
        "created_at": "2026-09-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z",
        "closed_at": "2026-11-01T10:00:00Z" if state == "closed" else None, "due_on": due_on,
    }


def _release(repo: GitHubRepo, release_id: int, tag: str, created: str, author: dict[str, Any],
             draft: bool = False, prerelease: bool = False) -> dict[str, Any]:
    url = f"{repo.repo['url']}/releases/{release_id}"
    return {
        "url": url, "html_url": f"{repo.repo['html_url']}/releases/tag/{tag}", "assets_url": f"{url}/assets",
        "upload_url": f"https://uploads.github.com/repos/{repo.repo['full_name']}/releases/{release_id}/assets{{?name,label}}",
        "tarball_url": f"{repo.repo['url']}/tarball/{tag}", "zipball_url": f"{repo.repo['url']}/zipball/{tag}",
        "id": release_id, "node_id": f"RE_kwDO{release_id:06d}", "tag_name": tag, "target_commitish": "main",
        "name": f"Release {tag}", "body": f"Changes in {tag}", "draft": draft, "prerelease": prerelease,
        "immutable": False, "created_at": created, "published_at": None if draft else created, "author": author,
        "assets": [],
    }


def _status(repo: GitHubRepo, sha: str, status_id: int, context: str, state: str, created: str,
            creator: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": f"{repo.repo['url']}/statuses/{sha}", "avatar_url": creator["avatar_url"], "id": status_id,
        "node_id": f"SC_kwDO{status_id:06d}", "state": state, "description": f"{context} {state}",
        "target_url": f"https://ci.example.com/{status_id}", "context": context, "created_at": created,
        "updated_at": created, "creator": creator,
    }


def _comment(repo: GitHubRepo, number: int, comment_id: int, body: str, created: str,
             user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": comment_id, "node_id": f"IC_kwDO{comment_id:06d}",
        "url": f"{repo.repo['url']}/issues/comments/{comment_id}",
        "html_url": f"{repo.repo['html_url']}/issues/{number}#issuecomment-{comment_id}", "body": body,
        "user": user, "created_at": created, "updated_at": created,
        "issue_url": f"{repo.repo['url']}/issues/{number}", "author_association": "MEMBER",
        "performed_via_github_app": None,
        "reactions": {"url": f"{repo.repo['url']}/issues/comments/{comment_id}/reactions", "total_count": 0,
                      "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
    }


def make_world(issues: int = 9, pulls: int = 6) -> World:
    """acme/widget with `issues` plain issues and `pulls` PRs (reviews, commits, checks, statuses),
    3 milestones and 3 releases; acme/gadget empty (a transfer target). Times are fixed, so counts
    and orders below are worked out by hand."""
    viewer = {**_user("octocat", 1), "name": "The Octocat", "company": None, "blog": "", "location": None,
              "email": None, "hireable": None, "bio": None, "twitter_username": None, "public_repos": 2,
              "public_gists": 0, "followers": 0, "following": 0, "created_at": "2020-01-01T00:00:00Z",
              "updated_at": "2026-01-01T00:00:00Z"}
    org = {**_user("acme", 100), "type": "Organization"}
    gh = GitHubWorld(base_url=BASE, token=TOKEN, viewer=viewer,
                     users={"octocat": _user("octocat", 1), "alice": _user("alice", 2), "bob": _user("bob", 3)})
    world = World(seed=7, now=NOW, jira=JiraWorld(), github=gh)
    widget = GitHubRepo(repo=_repo(org, "widget", 5001))
    gh.repos = {"acme/widget": widget, "acme/gadget": GitHubRepo(repo=_repo(org, "gadget", 5002))}
    widget.milestones = {
        1: _milestone(widget, 1, "v1.0", "closed", "2026-10-01T07:00:00Z", gh.users["alice"]),
        2: _milestone(widget, 2, "v1.1", "open", "2026-12-01T08:00:00Z", gh.users["alice"]),
        3: _milestone(widget, 3, "Backlog", "open", None, gh.users["bob"]),
    }
    widget.releases = [
        _release(widget, 71, "v1.0.0", "2026-10-01T12:00:00Z", gh.users["alice"]),
        _release(widget, 72, "v1.1.0-rc1", "2026-11-10T12:00:00Z", gh.users["alice"], prerelease=True),
        _release(widget, 73, "v1.1.0", "2026-11-18T12:00:00Z", gh.users["bob"], draft=True),
    ]
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    for i in range(issues):  # issue i created at start + i hours, labelled bug on even i
        issue = add_issue(world, "acme/widget", f"Issue {i}: fix the widget", user="alice", body=f"Steps {i}",
                          labels=["bug"] if i % 2 == 0 else ["feature"], milestone=2 if i < 3 else None,
                          now=start + timedelta(hours=i))
        widget.comments[issue["number"]] = [
            _comment(widget, issue["number"], 10_000 + issue["number"] * 10 + k, f"comment {k}",
                     f"2026-10-0{2 + k}T10:00:00Z", gh.users["bob"]) for k in range(i % 3)]
        issue["comments"] = i % 3
    for i in range(pulls):  # PR i created at start + 100 + i hours; reviews: i % 4 of them
        pull = add_pull(world, "acme/widget", f"WID-{i + 1} widget change {i}", head=f"feature/wid-{i + 1}",
                        user="bob", body=f"Implements WID-{i + 1}", commit_messages=[f"WID-{i + 1} step {k}" for k in range(1 + i % 3)],
                        additions=10 * (i + 1), deletions=i, changed_files=1 + i,
                        now=start + timedelta(hours=100 + i))
        for k in range(i % 4):
            add_review(world, "acme/widget", pull["number"], "alice" if k % 2 == 0 else "octocat",
                       state="COMMENTED" if k < 2 else "APPROVED", body=f"review {k}",
                       now=start + timedelta(hours=101 + i, minutes=k))
        sha = pull["head"]["sha"]
        add_check_run(world, "acme/widget", sha, "build", conclusion="success" if i % 2 == 0 else "failure",
                      now=start + timedelta(hours=100 + i, minutes=30))
        widget.statuses[sha] = [_status(widget, sha, 600 + i, "ci/lint", "success", "2026-10-06T10:00:00Z",
                                        gh.users["octocat"])]
    request_review(world, "acme/widget", issues + 1, ["octocat"], now=start + timedelta(hours=120))
    merge_pull(world, "acme/widget", issues + 2, user="alice", now=start + timedelta(hours=130))
    close_issue(world, "acme/widget", 2, user="alice", now=start + timedelta(hours=140))
    return world


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def server(world: World) -> Iterator[RunningServer]:
    running = serve("github", GitHubApp(world, Controls()))
    try:
        yield running
    finally:
        running.stop()


def client(server: RunningServer, token: str = TOKEN, per_page: int = 100) -> Github:
    return Github(auth=Auth.Token(token), base_url=server.url, per_page=per_page, seconds_between_requests=0,
                  retry=None)


def get(server: RunningServer, path: str, token: str | None = TOKEN, **headers: str) -> requests.Response:
    if token:
        headers["Authorization"] = f"token {token}"
    return requests.get(server.url + path, headers=headers, timeout=10, allow_redirects=False)


# -- PyGithub reads everything --------------------------------------------------------------------

def test_pygithub_iterates_every_entity(server: RunningServer, world: World) -> None:
    widget = world.github.repos["acme/widget"]
    repo = client(server).get_repo("acme/widget")
    everything = list(repo.get_issues(state="all"))
    assert len(everything) == 15
    assert sum(1 for i in everything if i.pull_request is None) == 9
    pulls = list(repo.get_pulls(state="all"))
    assert sorted(p.number for p in pulls) == list(range(10, 16))
    assert sum(p.get_reviews().totalCount for p in pulls) == sum(len(r) for r in widget.reviews.values()) == 0 + 1 + 2 + 3 + 0 + 1
    assert [p.title for p in repo.get_pulls(state="closed")] == ["WID-2 widget change 1"]
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1.0", "v1.1", "Backlog"]
    assert [r.tag_name for r in repo.get_releases()] == ["v1.1.0", "v1.1.0-rc1", "v1.0.0"]
    assert repo.get_latest_release().tag_name == "v1.0.0"
    assert [lab.name for lab in repo.get_labels()] == ["bug", "feature"]
    pull = repo.get_pull(13)
    assert (pull.additions, pull.deletions, pull.changed_files, pull.merged) == (40, 3, 4, False)
    assert [c.commit.message for c in pull.get_commits()] == ["WID-4 step 0"]
    assert [r.state for r in pull.get_reviews()] == ["COMMENTED", "COMMENTED", "APPROVED"]
    users, teams = repo.get_pull(10).get_review_requests()
    assert [u.login for u in users] == ["octocat"] and teams.totalCount == 0
    merged = repo.get_pull(11)
    assert merged.merged and merged.merged_by.login == "alice" and merged.state == "closed"
    head = list(repo.get_pull(11).get_commits())[-1]
    assert [r.conclusion for r in head.get_check_runs()] == ["failure"]
    status = head.get_combined_status()
    assert (status.state, status.total_count, status.statuses[0].context) == ("success", 1, "ci/lint")
    assert [s.state for s in head.get_statuses()] == ["success"]
    by_sha = repo.get_commit(head.sha)  # the usual way to reach a commit's checks
    assert by_sha.commit.message == "WID-2 step 1"
    assert [r.name for r in by_sha.get_check_runs()] == ["build"]
    assert [c.body for c in repo.get_issue(1).get_comments()] == []
    assert [c.body for c in repo.get_issue(2).get_comments()] == ["comment 0"]
    assert repo.get_issue(2).state == "closed"


def test_payload_urls_point_at_the_server(server: RunningServer) -> None:
    body = get(server, "/repos/acme/widget/issues/1").json()
    assert body["url"] == f"{server.url}/repos/acme/widget/issues/1"
    assert body["user"]["url"] == f"{server.url}/users/alice"


# -- paging -----------------------------------------------------------------------------------------

def _links(response: requests.Response) -> dict[str, str]:
    return {rel: link["url"] for rel, link in response.links.items()}


def test_link_paging_walks_every_page_once(server: RunningServer) -> None:
    seen: list[int] = []
    url: str | None = f"{server.url}/repos/acme/widget/issues?state=all&per_page=4&sort=created&direction=asc"
    pages = []
    while url:
        response = requests.get(url, headers={"Authorization": f"token {TOKEN}"}, timeout=10)
        assert response.status_code == 200
        pages.append(_links(response))
        seen += [item["number"] for item in response.json()]
        url = _links(response).get("next")
    assert seen == list(range(1, 16))
    assert len(pages) == 4
    assert set(pages[0]) == {"next", "last"} and pages[0]["last"].endswith("page=4")
    assert set(pages[1]) == {"next", "last", "prev", "first"}
    assert set(pages[-1]) == {"prev", "first"}  # the last page has no next
    assert "per_page=4" in pages[0]["next"] and "state=all" in pages[0]["next"]
    # like GitHub, follow links address the repository by id
    assert pages[0]["next"].startswith(f"{server.url}/repositories/5001/issues?")


def test_default_page_is_30_and_per_page_caps_at_100(server: RunningServer, world: World) -> None:
    for n in range(40):
        add_issue(world, "acme/gadget", f"gadget issue {n}", now=NOW + timedelta(minutes=n))
    first = get(server, "/repos/acme/gadget/issues")
    assert len(first.json()) == 30 and _links(first)["last"].endswith("page=2")
    assert [i["number"] for i in first.json()][:2] == [40, 39]  # default: newest created first
    assert len(get(server, "/repos/acme/gadget/issues?per_page=500").json()) == 40
    assert get(server, "/repos/acme/gadget/issues?page=9").json() == []


def test_since_and_filters(server: RunningServer, world: World) -> None:
    since = "2026-10-01T13:00:00Z"
    numbers = [i["number"] for i in get(server, f"/repos/acme/widget/issues?state=all&sort=updated"
                                                f"&direction=asc&since={since}").json()]
    assert numbers[:6] == [5, 6, 7, 8, 9, 12]  # issues 0..3 were updated before 13:00; PR 10 and 11 late
    assert all(i["updated_at"] >= since for i in get(server, f"/repos/acme/widget/issues?since={since}").json())
    bugs = get(server, "/repos/acme/widget/issues?state=all&labels=bug").json()
    assert sorted(i["number"] for i in bugs) == [1, 3, 5, 7, 9]
    in_v11 = get(server, "/repos/acme/widget/issues?state=all&milestone=2").json()
    assert sorted(i["number"] for i in in_v11) == [1, 2, 3]
    assert [i["number"] for i in get(server, "/repos/acme/widget/issues?state=closed").json()] == [11, 2]
    assert get(server, "/repos/acme/widget/issues?since=yesterday").status_code == 422


def test_pulls_filters_and_no_since(server: RunningServer) -> None:
    open_pulls = get(server, "/repos/acme/widget/pulls").json()
    assert [p["number"] for p in open_pulls] == [15, 14, 13, 12, 10]
    assert "additions" not in open_pulls[0] and "head" in open_pulls[0]  # list items are pull-request-simple
    by_update = get(server, "/repos/acme/widget/pulls?state=all&sort=updated").json()
    assert by_update[-1]["number"] == 11  # updated desc is not the default: asc for sort=updated
    head = get(server, "/repos/acme/widget/pulls?state=all&head=acme:feature/wid-3").json()
    assert [p["number"] for p in head] == [12]
    assert get(server, "/repos/acme/widget/pulls?base=develop").json() == []


def test_milestone_order(server: RunningServer) -> None:
    titles = [m["title"] for m in get(server, "/repos/acme/widget/milestones?state=all&direction=desc").json()]
    assert titles == ["v1.1", "v1.0", "Backlog"]  # undated last in both directions
    assert [m["title"] for m in get(server, "/repos/acme/widget/milestones").json()] == ["v1.1", "Backlog"]
    assert get(server, "/repos/acme/widget/milestones/1").json()["state"] == "closed"


# -- conditional requests and rate limits -----------------------------------------------------------

def test_etag_304_costs_nothing(server: RunningServer) -> None:
    first = get(server, "/repos/acme/widget/issues?state=all")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = get(server, "/repos/acme/widget/issues?state=all", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    assert again.headers["ETag"] == etag
    third = get(server, "/repos/acme/widget/issues?state=all&page=1", **{"If-None-Match": '"other"'})
    assert third.status_code == 200 and int(third.headers["x-ratelimit-remaining"]) == remaining - 1


def test_last_modified_and_if_modified_since(server: RunningServer, world: World) -> None:
    first = get(server, "/repos/acme/widget/issues/2")
    stamp = first.headers["Last-Modified"]
    assert stamp == "Wed, 07 Oct 2026 05:00:00 GMT"  # closed at start (Oct 1, 09:00) + 140 h
    assert get(server, "/repos/acme/widget/issues/2", **{"If-Modified-Since": stamp}).status_code == 304
    set_labels(world, "acme/widget", 2, ["bug"])
    assert get(server, "/repos/acme/widget/issues/2", **{"If-Modified-Since": stamp}).status_code == 200


def test_headers_and_rate_limit_endpoint(server: RunningServer) -> None:
    response = get(server, "/repos/acme/widget")
    assert response.headers["x-ratelimit-limit"] == "5000"
    assert response.headers["x-ratelimit-resource"] == "core"
    used = int(response.headers["x-ratelimit-used"])
    assert int(response.headers["x-ratelimit-remaining"]) == 5000 - used
    rate = client(server).get_rate_limit()
    assert rate.resources.core.remaining == 5000 - used  # /rate_limit itself is free
    assert rate.resources.search.limit == 30 and rate.resources.graphql.limit == 5000


def test_primary_limit_is_403_with_reset(world: World) -> None:
    world.github.rate_limit = 3
    clock = [1_800_000_000.0]
    running = serve("github", GitHubApp(world, Controls(), clock=lambda: clock[0]))
    try:
        gh = client(running)
        for _ in range(3):
            gh.get_repo("acme/widget")
        with pytest.raises(GithubException) as caught:
            gh.get_repo("acme/widget")
        assert caught.value.status == 403
        assert type(caught.value).__name__ == "RateLimitExceededException"
        assert caught.value.headers["x-ratelimit-remaining"] == "0"
        assert caught.value.headers["x-ratelimit-reset"] == str(1_800_000_000 + 3600)
        assert caught.value.data["message"].startswith("API rate limit exceeded for user ID 1.")
        clock[0] += 3600  # the window rolls over
        assert gh.get_repo("acme/widget").full_name == "acme/widget"
    finally:
        running.stop()


def test_secondary_limit_fault_has_retry_after(world: World) -> None:
    controls = Controls()
    running = serve("github", GitHubApp(world, controls))
    try:
        controls.set_faults(Faults(rate_limit_rate=1.0, retry_after_s=7))
        response = get(running, "/repos/acme/widget")
        assert response.status_code == 403 and response.headers["Retry-After"] == "7"
        assert response.json()["message"].startswith("You have exceeded a secondary rate limit")
        assert "documentation_url" in response.json()
        with pytest.raises(GithubException) as caught:
            client(running).get_repo("acme/widget")
        assert type(caught.value).__name__ == "RateLimitExceededException"
        controls.set_faults(Faults(rate_limit_after=1, rate_limit_for_s=30))
        assert get(running, "/repos/acme/widget").status_code == 200
        primary = get(running, "/repos/acme/widget")
        assert primary.status_code == 403 and primary.headers["x-ratelimit-remaining"] == "0"
        assert primary.json()["message"].startswith("API rate limit exceeded")
    finally:
        running.stop()


def test_bad_and_missing_token_are_401(server: RunningServer) -> None:
    with pytest.raises(GithubException) as caught:
        client(server, token="wrong").get_repo("acme/widget")
    assert type(caught.value).__name__ == "BadCredentialsException"
    missing = get(server, "/repos/acme/widget", token=None)
    assert missing.status_code == 401 and missing.json()["message"] == "Bad credentials"
    bearer = requests.get(f"{server.url}/user", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert bearer.json()["login"] == "octocat"


def test_installation_token_is_accepted(server: RunningServer) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJl"
    denied = requests.post(f"{server.url}/app/installations/42/access_tokens", timeout=10)
    assert denied.status_code == 401
    issued = requests.post(f"{server.url}/app/installations/42/access_tokens",
                           headers={"Authorization": f"Bearer {jwt}"}, timeout=10)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("ghs_")
    assert client(server, token=token).get_repo("acme/widget").id == 5001


# -- deleted, transferred, mutations ----------------------------------------------------------------

def test_deleted_issue_is_410_and_leaves_lists(server: RunningServer, world: World) -> None:
    delete_issue(world, "acme/widget", 4)
    gone = get(server, "/repos/acme/widget/issues/4")
    assert gone.status_code == 410 and gone.json()["message"] == "This issue was deleted"
    assert 4 not in [i["number"] for i in get(server, "/repos/acme/widget/issues?state=all").json()]
    with pytest.raises(GithubException) as caught:
        client(server).get_repo("acme/widget").get_issue(4)
    assert caught.value.status == 410


def test_transferred_issue_is_301(server: RunningServer, world: World) -> None:
    moved = transfer_issue(world, "acme/widget", 5, "acme/gadget")
    response = get(server, "/repos/acme/widget/issues/5")
    assert response.status_code == 301
    assert response.headers["Location"] == f"{server.url}/repos/acme/gadget/issues/{moved['number']}"
    assert requests.get(response.headers["Location"], headers={"Authorization": f"token {TOKEN}"},
                        timeout=10).json()["id"] == world.github.repos["acme/widget"].issues[5]["id"]


def test_mutations_bump_updated_at_and_show_up_in_since(server: RunningServer, world: World) -> None:
    cursor = max(i["updated_at"] for i in world.github.repos["acme/widget"].issues.values())
    add_review(world, "acme/widget", 13, "bob", "CHANGES_REQUESTED")
    set_labels(world, "acme/widget", 1, ["bug", "urgent"])
    changed = get(server, f"/repos/acme/widget/issues?state=all&sort=updated&direction=asc&since={cursor}").json()
    # since is inclusive: issue 2 (closed last, at the cursor) comes back with the two changed ones
    assert {i["number"] for i in changed} == {1, 2, 13}
    assert all(i["updated_at"] > cursor for i in changed if i["number"] != 2)
    assert [lab["name"] for lab in next(i for i in changed if i["number"] == 1)["labels"]] == ["bug", "urgent"]
    assert get(server, "/repos/acme/widget/pulls/13/reviews").json()[-1]["state"] == "CHANGES_REQUESTED"
    merged = merge_pull(world, "acme/widget", 13, user="octocat")
    assert get(server, "/repos/acme/widget/pulls/13").json()["merged_at"] == merged["merged_at"]
    assert get(server, "/repos/acme/widget/issues/13").json()["pull_request"]["merged_at"] == merged["merged_at"]


def test_admin_routes_mutate_the_world(server: RunningServer, world: World) -> None:
    admin = f"{server.url}/__sandbox/github/repos/acme/widget"
    pull = requests.post(f"{admin}/pulls", json={"title": "WID-99 admin", "head": "feature/wid-99"}, timeout=10)
    assert pull.status_code == 200
    number = pull.json()["number"]
    assert requests.post(f"{admin}/pulls/{number}/reviews", json={"user": "alice"}, timeout=10).ok
    assert requests.post(f"{admin}/pulls/{number}/merge", json={"user": "bob"}, timeout=10).ok
    assert requests.post(f"{admin}/issues/1/labels", json={"labels": ["x"]}, timeout=10).json()["labels"][0]["name"] == "x"
    assert requests.delete(f"{admin}/issues/3", timeout=10).ok
    assert requests.post(f"{admin}/pulls/999/merge", json={}, timeout=10).status_code == 400
    assert requests.post(f"{server.url}/__sandbox/github/rate_limit", json={"limit": 10, "reset": True},
                         timeout=10).json() == {"limit": 10}
    pr = client(server).get_repo("acme/widget").get_pull(number)
    assert pr.merged and pr.get_reviews().totalCount == 1
    assert get(server, "/repos/acme/widget/issues/3").status_code == 410
    assert get(server, "/repos/acme/widget").headers["x-ratelimit-limit"] == "10"


def test_org_and_user_repos(server: RunningServer) -> None:
    gh = client(server)
    assert [r["full_name"] for r in get(server, "/orgs/acme/repos").json()] == ["acme/gadget", "acme/widget"]
    assert [r.full_name for r in gh.get_user().get_repos()] == ["acme/gadget", "acme/widget"]
    assert get(server, "/orgs/nobody/repos").status_code == 404


def test_search_issues(server: RunningServer) -> None:
    found = client(server).search_issues("repo:acme/widget is:pr is:open")
    assert sorted(i.number for i in found) == [10, 12, 13, 14, 15]
    response = get(server, "/search/issues?q=repo:acme/widget+label:bug")
    assert response.headers["x-ratelimit-resource"] == "search"
    assert response.json()["total_count"] == 5 and response.json()["incomplete_results"] is False


def test_pygithub_app_installation_auth(server: RunningServer) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    auth = Auth.AppAuth(123, pem).get_installation_auth(42)
    gh = Github(auth=auth, base_url=server.url, per_page=100, seconds_between_requests=0, retry=None)
    assert len(list(gh.get_repo("acme/widget").get_issues(state="all"))) == 15
    assert auth.token.startswith("ghs_")


def test_serve_github_points_the_world_at_the_server(world: World) -> None:
    running = serve_github(world)
    try:
        assert world.github.base_url == running.url
        assert client(running).get_repo("acme/widget").get_issue(1).url == f"{running.url}/repos/acme/widget/issues/1"
    finally:
        running.stop()


def test_urls_are_rewritten_even_after_base_url_changes(world: World) -> None:
    world.github.base_url = "http://127.0.0.1:1"  # a launcher rewrote it before building the app
    running = serve("github", GitHubApp(world, Controls()))
    try:
        assert get(running, "/repos/acme/widget/pulls/10").json()["url"] == f"{running.url}/repos/acme/widget/pulls/10"
    finally:
        running.stop()


def test_budget_is_exact_under_concurrent_requests(server: RunningServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def fetch(page: int) -> int:
        return get(server, f"/repos/acme/widget/issues?state=all&per_page=5&page={page % 3 + 1}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(fetch, range(80)))
    assert statuses == [200] * 80
    rate = get(server, "/rate_limit").json()["resources"]["core"]
    assert (rate["used"], rate["remaining"]) == (80, 5000 - 80)
