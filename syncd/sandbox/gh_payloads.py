"""GitHub REST payloads (users, repositories, issues, pulls, commits, reviews, checks, milestones,
releases), built directly rather than through `github.add_*`: those helpers search a repository
for the next number and id on every call and mint random commit shas, which is fine for a live
test but neither fast nor deterministic for a 40,000-item world. The live helpers build their
users, pull requests and commits with the functions here (numbers, ids and shas are theirs); the
other key sets are the same (tests/unit/test_generate.py compares them with the helpers' payloads).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]
_USER_URLS = ("followers", "following{/other_user}", "gists{/gist_id}", "starred{/owner}{/repo}", "subscriptions",
              "organizations", "repos", "events{/privacy}", "received_events")
_REPO_URLS = [
    ("archive_url", "{archive_format}{/ref}"), ("assignees_url", "assignees{/user}"), ("blobs_url", "git/blobs{/sha}"),
    ("branches_url", "branches{/branch}"), ("collaborators_url", "collaborators{/collaborator}"),
    ("comments_url", "comments{/number}"), ("commits_url", "commits{/sha}"), ("compare_url", "compare/{base}...{head}"),
    ("contents_url", "contents/{+path}"), ("contributors_url", "contributors"), ("deployments_url", "deployments"),
    ("downloads_url", "downloads"), ("events_url", "events"), ("forks_url", "forks"),
    ("git_commits_url", "git/commits{/sha}"), ("git_refs_url", "git/refs{/sha}"), ("git_tags_url", "git/tags{/sha}"),
    ("hooks_url", "hooks"), ("issue_comment_url", "issues/comments{/number}"),
    ("issue_events_url", "issues/events{/number}"), ("issues_url", "issues{/number}"), ("keys_url", "keys{/key_id}"),
    ("labels_url", "labels{/name}"), ("languages_url", "languages"), ("merges_url", "merges"),
    ("milestones_url", "milestones{/number}"), ("notifications_url", "notifications{?since,all,participating}"),
    ("pulls_url", "pulls{/number}"), ("releases_url", "releases{/id}"), ("stargazers_url", "stargazers"),
    ("statuses_url", "statuses/{sha}"), ("subscribers_url", "subscribers"), ("subscription_url", "subscription"),
    ("tags_url", "tags"), ("teams_url", "teams"), ("trees_url", "git/trees{/sha}"),
]
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def iso(moment: datetime) -> str:
    """GitHub's timestamp: `2026-11-20T10:00:00Z`."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"


def node_id(prefix: str, number: int) -> str:
    """A global node id in GitHub's current style (`PR_kwDO...`)."""
    return f"{prefix}_kwDO" + base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode().rstrip("=")


def sha_of(*parts: object) -> str:
    """A deterministic 40-hex commit sha."""
    return hashlib.sha1(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def user(base: str, login: str, user_id: int, kind: str = "User") -> Json:
    """A simple-user payload."""
    url = f"{base}/users/{login}"
    payload: Json = {"login": login, "id": user_id, "node_id": node_id("U", user_id),
                     "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "gravatar_id": "",
                     "url": url, "html_url": f"https://github.com/{login}"}
    for suffix in _USER_URLS:
        payload[suffix.split("{")[0] + "_url"] = f"{url}/{suffix}"
    payload.update({"type": kind, "user_view_type": "public", "site_admin": False})
    return payload


def viewer(simple: Json, name: str, created: datetime) -> Json:
    """The authenticated user (/user)."""
    return {**simple, "name": name, "company": "Acme", "blog": "", "location": None, "email": None, "hireable": None,
            "bio": None, "twitter_username": None, "public_repos": 3, "public_gists": 0, "followers": 0, "following": 0,
            "created_at": iso(created), "updated_at": iso(created)}


def repository(base: str, owner: Json, name: str, repo_id: int, description: str, created: datetime,
               pushed: datetime) -> Json:
    """A full-repository payload."""
    full = f"{owner['login']}/{name}"
    url = f"{base}/repos/{full}"
    payload: Json = {
        "id": repo_id, "node_id": node_id("R", repo_id), "name": name, "full_name": full, "private": False,
        "owner": owner, "html_url": f"https://github.com/{full}", "description": description, "fork": False,
        "url": url, "homepage": None, "language": "Python", "forks_count": 0, "forks": 0, "stargazers_count": 12,
        "watchers_count": 12, "watchers": 12, "size": 4096, "default_branch": "main", "open_issues_count": 0,
        "open_issues": 0, "is_template": False, "topics": [], "has_issues": True, "has_projects": False,
        "has_wiki": False, "has_pages": False, "has_downloads": True, "has_discussions": False, "archived": False,
        "disabled": False, "visibility": "public", "pushed_at": iso(pushed), "created_at": iso(created),
        "updated_at": iso(pushed),
        "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        "allow_rebase_merge": True, "allow_squash_merge": True, "allow_merge_commit": True, "allow_auto_merge": False,
        "delete_branch_on_merge": True, "allow_forking": True, "temp_clone_token": "", "subscribers_count": 5,
        "network_count": 0, "license": None, "mirror_url": None, "git_url": f"git://github.com/{full}.git",
        "ssh_url": f"git@github.com:{full}.git", "clone_url": f"https://github.com/{full}.git",
        "svn_url": f"https://github.com/{full}",
    }
    for key, suffix in _REPO_URLS:
        payload[key] = f"{url}/{suffix}"
    return payload


def label(repo: Json, label_id: int, name: str, color: str, description: str | None) -> Json:
    """A label."""
    return {"id": label_id, "node_id": node_id("LA", label_id), "url": f"{repo['url']}/labels/{name}", "name": name,
            "color": color, "default": False, "description": description}


def issue(repo: Json, number: int, issue_id: int, title: str, author: Json, body: str | None, labels: list[Json],
          milestone: Json | None, created: datetime, updated: datetime, closed: datetime | None,
          closed_by: Json | None, state_reason: str | None, assignees: list[Json], comments: int) -> Json:
    """An issue (the keys `github.add_issue` writes)."""
    url = f"{repo['url']}/issues/{number}"
    return {
        "url": url, "repository_url": repo["url"], "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments", "events_url": f"{url}/events",
        "html_url": f"{repo['html_url']}/issues/{number}", "id": issue_id, "node_id": node_id("I", issue_id),
        "number": number, "title": title, "user": author, "labels": labels,
        "state": "closed" if closed else "open", "locked": False,
        "assignee": assignees[0] if assignees else None, "assignees": assignees, "milestone": milestone,
        "comments": comments, "created_at": iso(created), "updated_at": iso(updated),
        "closed_at": iso(closed) if closed else None, "author_association": "MEMBER", "type": None,
        "active_lock_reason": None, "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0, "total_blocking": 0},
        "body": body, "closed_by": closed_by,
        "reactions": {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                      "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
        "timeline_url": f"{url}/timeline", "performed_via_github_app": None, "state_reason": state_reason,
    }


def commit(repo: Json, sha: str, message: str, author: Json, at: datetime, parent: Json | None) -> Json:
    """A commit as `/pulls/{n}/commits` lists it."""
    api, html = repo["url"], repo["html_url"]
    who = {"name": author["login"], "email": f"{author['login']}@users.noreply.github.com", "date": iso(at)}
    return {
        "sha": sha, "node_id": node_id("C", int(sha[:12], 16)), "url": f"{api}/commits/{sha}",
        "html_url": f"{html}/commit/{sha}", "comments_url": f"{api}/commits/{sha}/comments",
        "commit": {"url": f"{api}/git/commits/{sha}", "author": who, "committer": who, "message": message,
                   "tree": {"sha": EMPTY_TREE, "url": f"{api}/git/trees/{EMPTY_TREE}"}, "comment_count": 0,
                   "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                    "verified_at": None}},
        "author": author, "committer": author,
        "parents": [{"sha": parent["sha"], "url": parent["url"], "html_url": parent["html_url"]}] if parent else [],
    }


def pull_link(repo: Json, number: int, merged: datetime | None) -> Json:
    """The `pull_request` object of a pull request's issue view (GET /issues/{n} of a PR)."""
    api, html = repo["url"], repo["html_url"]
    return {"url": f"{api}/pulls/{number}", "html_url": f"{html}/pull/{number}",
            "diff_url": f"{html}/pull/{number}.diff", "patch_url": f"{html}/pull/{number}.patch",
            "merged_at": iso(merged) if merged else None}


def pull(repo: Json, issue_payload: Json, pull_id: int, head: str, head_sha: str, draft: bool, merged: datetime | None,
         merged_by: Json | None, requested: list[Json], commits: int, additions: int, deletions: int,
         changed_files: int, mergeable_state: str, base: str = "main") -> Json:
    """A pull request from branch `head` into `base`, closed/merged as its issue says.

    The one builder of a PR's REST payload: the generator's PRs (gh_render) and the live ones
    (`github_mutations.add_pull`) are both made here, and the GraphQL view reads this payload
    (github_resolvers `_GraphResolver.pull`). The base branch's head is the repository's base commit.
    """
    number, api, html = issue_payload["number"], repo["url"], repo["html_url"]
    owner = repo["owner"]
    open_ = issue_payload["state"] == "open"
    return {
        "url": f"{api}/pulls/{number}", "id": pull_id, "node_id": node_id("PR", pull_id),
        "html_url": f"{html}/pull/{number}", "diff_url": f"{html}/pull/{number}.diff",
        "patch_url": f"{html}/pull/{number}.patch", "issue_url": issue_payload["url"], "number": number,
        "state": issue_payload["state"], "locked": False, "title": issue_payload["title"], "user": issue_payload["user"],
        "body": issue_payload["body"], "created_at": issue_payload["created_at"],
        "updated_at": issue_payload["updated_at"], "closed_at": issue_payload["closed_at"],
        "merged_at": iso(merged) if merged else None,
        "merge_commit_sha": sha_of("merge", repo["full_name"], number) if merged else None,
        "assignee": issue_payload["assignee"], "assignees": issue_payload["assignees"],
        "requested_reviewers": requested, "requested_teams": [], "labels": issue_payload["labels"],
        "milestone": issue_payload["milestone"], "draft": draft,
        "commits_url": f"{api}/pulls/{number}/commits", "review_comments_url": f"{api}/pulls/{number}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}", "comments_url": issue_payload["comments_url"],
        "statuses_url": f"{api}/statuses/{head_sha}",
        "head": {"label": f"{owner['login']}:{head}", "ref": head, "sha": head_sha, "user": owner, "repo": repo},
        "base": {"label": f"{owner['login']}:{base}", "ref": base, "sha": sha_of("base", repo["full_name"]),
                 "user": owner, "repo": repo},
        "_links": {"self": {"href": f"{api}/pulls/{number}"}, "html": {"href": f"{html}/pull/{number}"},
                   "issue": {"href": issue_payload["url"]}, "comments": {"href": issue_payload["comments_url"]},
                   "review_comments": {"href": f"{api}/pulls/{number}/comments"},
                   "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                   "commits": {"href": f"{api}/pulls/{number}/commits"},
                   "statuses": {"href": f"{api}/statuses/{head_sha}"}},
        "author_association": "MEMBER", "auto_merge": None, "active_lock_reason": None, "merged": merged is not None,
        "mergeable": True if open_ else None, "rebaseable": True if open_ else None,
        "mergeable_state": mergeable_state if open_ else "unknown", "merged_by": merged_by, "comments": 0,
        "review_comments": 0, "maintainer_can_modify": False, "commits": commits, "additions": additions,
        "deletions": deletions, "changed_files": changed_files,
    }


def review(pull_payload: Json, review_id: int, author: Json, state: str, body: str, at: datetime, sha: str) -> Json:
    """A submitted review (the keys `github.add_review` writes)."""
    html = f"{pull_payload['html_url']}#pullrequestreview-{review_id}"
    return {"id": review_id, "node_id": node_id("PRR", review_id), "user": author, "body": body, "state": state,
            "html_url": html, "pull_request_url": pull_payload["url"], "author_association": "MEMBER",
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_payload["url"]}},
            "submitted_at": iso(at), "commit_id": sha}


def check_run(repo: Json, run_id: int, sha: str, name: str, conclusion: str | None, started: datetime,
              completed: datetime | None) -> Json:
    """A check run (the keys `github.add_check_run` writes); `completed` None means still running."""
    api, html = repo["url"], repo["html_url"]
    return {
        "id": run_id, "head_sha": sha, "node_id": node_id("CR", run_id), "external_id": "",
        "url": f"{api}/check-runs/{run_id}", "html_url": f"{html}/runs/{run_id}", "details_url": f"{html}/runs/{run_id}",
        "status": "completed" if completed else "in_progress", "conclusion": conclusion if completed else None,
        "started_at": iso(started), "completed_at": iso(completed) if completed else None,
        "output": {"title": None, "summary": None, "text": None, "annotations_count": 0,
                   "annotations_url": f"{api}/check-runs/{run_id}/annotations"},
        "name": name, "check_suite": {"id": run_id}, "app": None, "pull_requests": [],
    }


def commit_status(repo: Json, sha: str, status_id: int, context: str, state: str, at: datetime, creator: Json) -> Json:
    """A commit status."""
    return {"url": f"{repo['url']}/statuses/{sha}", "avatar_url": creator["avatar_url"], "id": status_id,
            "node_id": node_id("SC", status_id), "state": state, "description": f"{context}: {state}",
            "target_url": f"https://ci.acme.example/runs/{status_id}", "context": context, "created_at": iso(at),
            "updated_at": iso(at), "creator": creator}


def comment(repo: Json, number: int, comment_id: int, body: str, at: datetime, author: Json) -> Json:
    """An issue comment."""
    url = f"{repo['url']}/issues/comments/{comment_id}"
    return {"id": comment_id, "node_id": node_id("IC", comment_id), "url": url,
            "html_url": f"{repo['html_url']}/issues/{number}#issuecomment-{comment_id}", "body": body, "user": author,
            "created_at": iso(at), "updated_at": iso(at), "issue_url": f"{repo['url']}/issues/{number}",
            "author_association": "MEMBER", "performed_via_github_app": None,
            "reactions": {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                          "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}}


def milestone(repo: Json, number: int, milestone_id: int, title: str, description: str, creator: Json,
              created: datetime, due: datetime | None, closed: datetime | None) -> Json:
    """A milestone (issue counts are filled in once its issues exist)."""
    url = f"{repo['url']}/milestones/{number}"
    return {"url": url, "html_url": f"{repo['html_url']}/milestone/{number}", "labels_url": f"{url}/labels",
            "id": milestone_id, "node_id": node_id("MI", milestone_id), "number": number,
            "state": "closed" if closed else "open", "title": title, "description": description, "creator": creator,
            "open_issues": 0, "closed_issues": 0, "created_at": iso(created), "updated_at": iso(closed or created),
            "closed_at": iso(closed) if closed else None, "due_on": iso(due) if due else None}


def release(repo: Json, release_id: int, tag: str, name: str, body: str, author: Json, created: datetime,
            draft: bool = False, prerelease: bool = False) -> Json:
    """A release (drafts have no published_at)."""
    url = f"{repo['url']}/releases/{release_id}"
    return {"url": url, "html_url": f"{repo['html_url']}/releases/tag/{tag}", "assets_url": f"{url}/assets",
            "upload_url": f"https://uploads.github.com/repos/{repo['full_name']}/releases/{release_id}/assets{{?name,label}}",
            "tarball_url": f"{repo['url']}/tarball/{tag}", "zipball_url": f"{repo['url']}/zipball/{tag}",
            "id": release_id, "node_id": node_id("RE", release_id), "tag_name": tag, "target_commitish": "main",
            "name": name, "body": body, "draft": draft, "prerelease": prerelease, "immutable": False,
            "created_at": iso(created), "published_at": None if draft else iso(created), "author": author,
            "assets": []}
