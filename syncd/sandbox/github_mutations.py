"""Mutations of the fake GitHub's world, as GitHub would apply them, for live tests and the admin routes.

Each bumps `updated_at` (where GitHub does) and the repository's revision.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from syncd.sandbox import gh_payloads as gp
from syncd.sandbox.github_common import _iso
from syncd.sandbox.world import GitHubRepo, Json, World


def _repo_of(world: World, repo: str) -> GitHubRepo:
    try:
        return world.github.repos[repo]
    except KeyError:
        raise KeyError(f"no repository {repo!r} in the world") from None


def _stamp(world: World, after: str | None = None, now: datetime | None = None) -> str:
    """Now (never before the world's `now`), strictly later than `after` so a `since` cursor sees it."""
    moment = now or max(datetime.now(UTC), world.now.astimezone(UTC))
    stamp = _iso(moment)
    if after and stamp <= after:
        stamp = _iso(datetime.fromisoformat(after.replace("Z", "+00:00")) + timedelta(seconds=1))
    return stamp


def _touch(repo: GitHubRepo, number: int, stamp: str) -> None:
    for payload in (repo.issues.get(number), repo.pulls.get(number)):
        if payload is not None:
            payload["updated_at"] = stamp
    repo.revision += 1


def _user(world: World, login: str | None) -> Json:
    """The simple-user payload of `login` (the viewer when None)."""
    gh = world.github
    if login is None:
        login = str(gh.viewer.get("login", "octocat"))
    known = gh.users.get(login) or (gh.viewer if gh.viewer.get("login") == login else None)
    if known is not None:
        return {k: v for k, v in known.items() if k in _SIMPLE_USER_KEYS}
    user_id = 10_000 + sum(ord(c) for c in login) * 7
    simple = gp.user(gh.base_url.rstrip("/"), login, user_id)
    gh.users[login] = simple
    return dict(simple)


_SIMPLE_USER_KEYS = frozenset({
    "login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url", "following_url",
    "gists_url", "starred_url", "subscriptions_url", "organizations_url", "repos_url", "events_url",
    "received_events_url", "type", "user_view_type", "site_admin",
})


def _next_number(repo: GitHubRepo) -> int:
    return max([0, *repo.issues, *repo.pulls, *repo.deleted, *repo.transferred]) + 1


def _next_id(payloads: Sequence[Json], floor: int) -> int:
    return max([floor, *(int(p.get("id") or 0) for p in payloads)]) + 1


def _next_global_id(world: World, payloads: Callable[[GitHubRepo], Iterable[Json]], floor: int) -> int:
    """A new id above every one of its kind on the host: GitHub's ids are unique across repositories."""
    return max([floor, *(int(p.get("id") or 0) for repo in world.github.repos.values() for p in payloads(repo))]) + 1


def _label(repo: GitHubRepo, name: str) -> Json:
    for label in repo.labels:
        if label.get("name") == name:
            return label
    label_id = _next_id(repo.labels, 1_000_000)
    label = {"id": label_id, "node_id": gp.node_id("LA", label_id), "url": f"{repo.repo['url']}/labels/{name}",
             "name": name, "color": "ededed", "default": False, "description": None}
    repo.labels.append(label)
    repo.revision += 1
    return label


def add_issue(world: World, repo: str, title: str, user: str | None = None, body: str | None = None,
              labels: Sequence[str] = (), milestone: int | None = None, now: datetime | None = None) -> Json:
    """Open a new issue in `repo` ("owner/name"); returns its payload."""
    target = _repo_of(world, repo)
    with world.lock:
        number = _next_number(target)
        stamp = _stamp(world, now=now)
        issue_id = _next_global_id(world, lambda r: r.issues.values(), 2_000_000_000)
        url = f"{target.repo['url']}/issues/{number}"
        issue: Json = {
            "url": url, "repository_url": target.repo["url"], "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments", "events_url": f"{url}/events",
            "html_url": f"{target.repo['html_url']}/issues/{number}", "id": issue_id,
            "node_id": gp.node_id("I", issue_id), "number": number, "title": title, "user": _user(world, user),
            "labels": [_label(target, name) for name in labels], "state": "open", "locked": False,
            "assignee": None, "assignees": [],
            "milestone": target.milestones.get(milestone) if milestone is not None else None,
            "comments": 0, "created_at": stamp, "updated_at": stamp, "closed_at": None,
            "author_association": "MEMBER", "type": None, "active_lock_reason": None,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0,
                                           "total_blocking": 0},
            "body": body, "closed_by": None,
            "reactions": {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                          "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
            "timeline_url": f"{url}/timeline", "performed_via_github_app": None, "state_reason": None,
        }
        target.issues[number] = issue
        target.revision += 1
        return issue


def add_pull(world: World, repo: str, title: str, head: str, base: str | None = None, user: str | None = None,
             body: str | None = None, draft: bool = False, labels: Sequence[str] = (),
             commit_messages: Sequence[str] = (), additions: int = 10, deletions: int = 2, changed_files: int = 1,
             now: datetime | None = None) -> Json:
    """Open a pull request from branch `head` into `base` (the default branch); returns the /pulls/{n} payload."""
    target = _repo_of(world, repo)
    with world.lock:
        issue = add_issue(world, repo, title, user=user, body=body, labels=labels, now=now)
        number, stamp = issue["number"], issue["created_at"]
        issue["pull_request"] = gp.pull_link(target.repo, number, None)
        issue["draft"] = draft
        pull_id = _next_global_id(world, lambda r: r.pulls.values(), 1_000_000_000)
        commits: list[Json] = []
        for message in list(commit_messages) or [title]:
            commits.append(_commit(world, target, message, issue["user"], stamp, commits[-1] if commits else None))
        pull = gp.pull(target.repo, issue, pull_id, head, commits[-1]["sha"], draft, None, None, [], len(commits),
                       additions, deletions, changed_files, "clean",
                       base=base or target.repo.get("default_branch", "main"))
        issue["node_id"] = pull["node_id"]  # on GitHub a PR's issue view shares the PR's global id
        target.pulls[number] = pull
        target.commits[number] = commits
        target.revision += 1
        return pull


def _commit(world: World, repo: GitHubRepo, message: str, author: Json, stamp: str, parent: Json | None) -> Json:
    """A new commit (random sha: live tests push the same message twice) on top of `parent`."""
    sha = hashlib.sha1(f"{repo.repo['full_name']}:{message}:{stamp}:{secrets.token_hex(4)}".encode(),
                       usedforsecurity=False).hexdigest()
    return gp.commit(repo.repo, sha, message, author, datetime.fromisoformat(stamp.replace("Z", "+00:00")), parent)


def _pull_of(world: World, repo: str, number: int) -> tuple[GitHubRepo, Json]:
    target = _repo_of(world, repo)
    pull = target.pulls.get(number)
    if pull is None:
        raise KeyError(f"no pull request {repo}#{number}")
    return target, pull


def add_review(world: World, repo: str, number: int, user: str, state: str = "APPROVED", body: str = "",
               now: datetime | None = None) -> Json:
    """Submit a review (APPROVED, CHANGES_REQUESTED, COMMENTED) on pull request `number`."""
    if state not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"):
        raise ValueError(f"unknown review state {state!r}")
    with world.lock:
        target, pull = _pull_of(world, repo, number)
        reviews = target.reviews.setdefault(number, [])
        review_id = _next_global_id(world, lambda r: (v for vs in r.reviews.values() for v in vs), 3_000_000_000)
        stamp = _stamp(world, pull.get("updated_at"), now)
        author = _user(world, user)
        review = {
            "id": review_id, "node_id": gp.node_id("PRR", review_id), "user": author, "body": body, "state": state,
            "html_url": f"{pull['html_url']}#pullrequestreview-{review_id}", "pull_request_url": pull["url"],
            "author_association": "MEMBER", "_links": {"html": {"href": f"{pull['html_url']}#pullrequestreview-{review_id}"},
                                                       "pull_request": {"href": pull["url"]}},
            "submitted_at": stamp, "commit_id": pull["head"]["sha"],
        }
        if state == "PENDING":
            del review["submitted_at"]
        reviews.append(review)
        pull["requested_reviewers"] = [u for u in pull.get("requested_reviewers", []) if u.get("login") != user]
        _touch(target, number, stamp)
        return review


def request_review(world: World, repo: str, number: int, reviewers: Sequence[str], now: datetime | None = None) -> Json:
    """Ask `reviewers` (logins) to review pull request `number`."""
    with world.lock:
        target, pull = _pull_of(world, repo, number)
        known = {u.get("login") for u in pull.get("requested_reviewers", [])}
        pull.setdefault("requested_reviewers", []).extend(_user(world, r) for r in reviewers if r not in known)
        _touch(target, number, _stamp(world, pull.get("updated_at"), now))
        return pull


def merge_pull(world: World, repo: str, number: int, user: str | None = None, now: datetime | None = None) -> Json:
    """Merge an open pull request; it is closed and `merged` with a merge commit sha."""
    with world.lock:
        target, pull = _pull_of(world, repo, number)
        if pull.get("merged") or pull.get("state") != "open":
            raise ValueError(f"{repo}#{number} is not open")
        stamp = _stamp(world, pull.get("updated_at"), now)
        merger = _user(world, user)
        sha = hashlib.sha1(f"merge:{repo}:{number}:{stamp}".encode(), usedforsecurity=False).hexdigest()
        pull.update({"state": "closed", "merged": True, "merged_at": stamp, "closed_at": stamp, "merged_by": merger,
                     "merge_commit_sha": sha, "mergeable": None, "mergeable_state": "unknown", "draft": False})
        issue = target.issues.get(number)
        if issue is not None:
            issue.update({"state": "closed", "closed_at": stamp, "closed_by": merger, "state_reason": None,
                          "draft": False})
            issue.setdefault("pull_request", {})["merged_at"] = stamp
        _touch(target, number, stamp)
        _recount_milestone(target, pull.get("milestone"))
        return pull


def close_issue(world: World, repo: str, number: int, user: str | None = None, state_reason: str = "completed",
                now: datetime | None = None) -> Json:
    """Close an issue (or a pull request without merging it)."""
    with world.lock:
        target = _repo_of(world, repo)
        issue = target.issues.get(number)
        if issue is None:
            raise KeyError(f"no issue {repo}#{number}")
        stamp = _stamp(world, issue.get("updated_at"), now)
        closer = _user(world, user)
        issue.update({"state": "closed", "closed_at": stamp, "closed_by": closer,
                      "state_reason": None if number in target.pulls else state_reason})
        if number in target.pulls:
            target.pulls[number].update({"state": "closed", "closed_at": stamp})
        _touch(target, number, stamp)
        _recount_milestone(target, issue.get("milestone"))
        return issue


def _recount_milestone(repo: GitHubRepo, milestone: Json | None) -> None:
    if not milestone or milestone.get("number") not in repo.milestones:
        return
    stored = repo.milestones[milestone["number"]]
    members = [i for n, i in repo.issues.items() if n not in repo.deleted and n not in repo.transferred
               and (i.get("milestone") or {}).get("number") == stored["number"]]
    stored["open_issues"] = sum(1 for i in members if i.get("state") == "open")
    stored["closed_issues"] = len(members) - stored["open_issues"]


def set_labels(world: World, repo: str, number: int, labels: Sequence[str], now: datetime | None = None) -> Json:
    """Replace the labels of an issue or pull request (creating unknown labels)."""
    with world.lock:
        target = _repo_of(world, repo)
        issue = target.issues.get(number)
        if issue is None:
            raise KeyError(f"no issue {repo}#{number}")
        payloads = [_label(target, name) for name in labels]
        issue["labels"] = payloads
        if number in target.pulls:
            target.pulls[number]["labels"] = payloads
        _touch(target, number, _stamp(world, issue.get("updated_at"), now))
        return issue


def delete_issue(world: World, repo: str, number: int) -> None:
    """Delete an issue: it leaves every list and answers 410 Gone."""
    with world.lock:
        target = _repo_of(world, repo)
        if number not in target.issues or number in target.pulls:
            raise KeyError(f"no deletable issue {repo}#{number} (pull requests cannot be deleted)")
        target.deleted.add(number)
        target.revision += 1


def transfer_issue(world: World, repo: str, number: int, new_repo: str, now: datetime | None = None) -> Json:
    """Move an issue to `new_repo`: it gets a new number there (same id); the old URL answers 301."""
    with world.lock:
        source, target = _repo_of(world, repo), _repo_of(world, new_repo)
        issue = source.issues.get(number)
        if issue is None or number in source.pulls or number in source.deleted:
            raise KeyError(f"no transferable issue {repo}#{number}")
        new_number = _next_number(target)
        url = f"{target.repo['url']}/issues/{new_number}"
        moved = {**issue, "number": new_number, "url": url, "repository_url": target.repo["url"],
                 "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments",
                 "events_url": f"{url}/events", "timeline_url": f"{url}/timeline",
                 "html_url": f"{target.repo['html_url']}/issues/{new_number}", "milestone": None,
                 "updated_at": _stamp(world, issue.get("updated_at"), now)}
        target.issues[new_number] = moved
        target.comments[new_number] = source.comments.get(number, [])
        source.transferred[number] = new_repo
        source.revision += 1
        target.revision += 1
        return moved


def add_check_run(world: World, repo: str, sha: str, name: str, status: str = "completed",
                  conclusion: str | None = "success", now: datetime | None = None) -> Json:
    """Record a check run on commit `sha` (it also changes the PR's `statusCheckRollup`)."""
    with world.lock:
        target = _repo_of(world, repo)
        runs = target.check_runs.setdefault(sha, [])
        run_id = _next_global_id(world, lambda r: (v for vs in r.check_runs.values() for v in vs), 4_000_000_000)
        stamp = _stamp(world, now=now)
        api = target.repo["url"]
        run = {
            "id": run_id, "head_sha": sha, "node_id": gp.node_id("CR", run_id), "external_id": "",
            "url": f"{api}/check-runs/{run_id}", "html_url": f"{target.repo['html_url']}/runs/{run_id}",
            "details_url": f"{target.repo['html_url']}/runs/{run_id}", "status": status,
            "conclusion": conclusion if status == "completed" else None, "started_at": stamp,
            "completed_at": stamp if status == "completed" else None,
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0,
                       "annotations_url": f"{api}/check-runs/{run_id}/annotations"},
            "name": name, "check_suite": {"id": run_id}, "app": None, "pull_requests": [],
        }
        runs.append(run)
        target.revision += 1
        return run


def add_status(world: World, repo: str, sha: str, context: str, state: str = "success",
               now: datetime | None = None) -> Json:
    """Record a commit status (error, failure, pending, success) on `sha`; like a check run, it changes the
    PR's `statusCheckRollup` but not its `updated_at`."""
    if state not in ("error", "failure", "pending", "success"):
        raise ValueError(f"unknown status state {state!r}")
    with world.lock:
        target = _repo_of(world, repo)
        statuses = target.statuses.setdefault(sha, [])
        status_id = _next_global_id(world, lambda r: (v for vs in r.statuses.values() for v in vs), 5_000_000_000)
        stamp = _stamp(world, now=now)
        creator = _user(world, None)
        status = {
            "url": f"{target.repo['url']}/statuses/{sha}", "avatar_url": creator.get("avatar_url"), "id": status_id,
            "node_id": gp.node_id("SC", status_id), "state": state, "description": f"{context} {state}",
            "target_url": f"https://ci.example.com/{status_id}", "context": context, "created_at": stamp,
            "updated_at": stamp, "creator": creator,
        }
        statuses.append(status)
        target.revision += 1
        return status


def push_commits(world: World, repo: str, number: int, messages: Sequence[str], user: str | None = None,
                 now: datetime | None = None) -> Json:
    """Push commits to pull request `number`'s branch: a new head sha, and `updated_at` bumped (as on GitHub)."""
    with world.lock:
        target, pull = _pull_of(world, repo, number)
        if pull.get("state") != "open":
            raise ValueError(f"{repo}#{number} is not open")
        stamp = _stamp(world, pull.get("updated_at"), now)
        author = _user(world, user or (pull.get("user") or {}).get("login"))
        commits = target.commits.setdefault(number, [])
        for message in messages:
            commits.append(_commit(world, target, message, author, stamp, commits[-1] if commits else None))
        head = commits[-1]["sha"]
        pull["head"]["sha"] = head
        pull["statuses_url"] = f"{target.repo['url']}/statuses/{head}"
        pull["_links"]["statuses"] = {"href": pull["statuses_url"]}
        pull["commits"] = len(commits)
        _touch(target, number, stamp)
        return pull

