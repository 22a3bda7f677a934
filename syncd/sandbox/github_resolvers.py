"""The GraphQL objects of the fake GitHub: the world's REST payloads resolved as github_schema.graphql's
types (Repository, Issue, PullRequest, reviews, commits, rollups), and Relay connections with GitHub's
paging rules (`first` or `last` required, at most 100; opaque `cursor:v2:<offset>` cursors).

The types are GitHub's (../shared/realdata/github-graphql/schema.graphql, the public SDL our
github_schema.graphql is a subset of); the paging rules are those of GitHub's "Using pagination in
the GraphQL API" guide. The endpoint that parses, costs and executes queries over these objects is
`syncd.sandbox.github_graphql`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo

from syncd.sandbox.github_common import _FAILED_CONCLUSIONS, _latest_check_runs, _latest_statuses, _parse_time
from syncd.sandbox.world import GitHubRepo, Json

if TYPE_CHECKING:  # the app builds a resolver per /graphql request
    from syncd.sandbox.github import GitHubApp


class _GitHubGraphQLError(Exception):
    """A resolver error with GitHub's error `type` (NOT_FOUND, MISSING_PAGINATION_BOUNDARIES, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:v2:{offset}".encode()).decode()


def _offset(cursor: str | None, connection: str) -> int | None:
    if cursor is None:
        return None
    try:
        return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise _GitHubGraphQLError("INVALID_CURSOR_ARGUMENTS",
                                  f"`{cursor}` does not appear to be a valid cursor.") from None


def _connection(items: Sequence[Any], args: dict[str, Any], info: GraphQLResolveInfo,
                node: Callable[[Any], Json | None]) -> Json:
    """A Relay connection over `items` with GitHub's rules: `first` or `last` required, at most 100."""
    name = info.field_name
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise _GitHubGraphQLError("MISSING_PAGINATION_BOUNDARIES",
                                  f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.")
    for bound, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= 100:
            raise _GitHubGraphQLError("EXCESSIVE_PAGINATION",
                                      f"Requesting {value} records on the `{name}` connection exceeds the `{bound}` "
                                      "limit of 100 records.")
    after, before = _offset(args.get("after"), name), _offset(args.get("before"), name)
    start = 0 if after is None else after + 1
    end = len(items) if before is None else min(before, len(items))
    end = max(start, end)
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    window = range(start, end)
    edges = [{"cursor": _cursor(i), "node": node(items[i])} for i in window]
    return {
        "totalCount": len(items),
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {"hasNextPage": end < len(items), "hasPreviousPage": start > 0,
                     "startCursor": _cursor(start) if window else None,
                     "endCursor": _cursor(end - 1) if window else None},
    }


def _gql_actor(user: Json | None) -> Json | None:
    if not user:
        return None
    kind = {"Bot": "Bot", "Organization": "Organization"}.get(str(user.get("type")), "User")
    avatar = user.get("avatar_url", "")
    return {"__typename": kind, "login": user["login"], "id": user.get("node_id"), "databaseId": user.get("id"),
            "name": user.get("name"), "url": user.get("html_url"), "resourcePath": f"/{user['login']}",
            "avatarUrl": lambda info, size=None: f"{avatar}&s={size}" if size else avatar}


def _gql_label(label: Json) -> Json:
    return {"__typename": "Label", "id": label.get("node_id"), "name": label["name"], "color": label.get("color", ""),
            "description": label.get("description")}


def _gql_milestone(milestone: Json | None) -> Json | None:
    if not milestone:
        return None
    return {"__typename": "Milestone", "id": milestone.get("node_id"), "number": milestone["number"],
            "title": milestone["title"], "state": str(milestone.get("state", "open")).upper(),
            "closed": milestone.get("state") == "closed", "dueOn": milestone.get("due_on"),
            "description": milestone.get("description")}


def _rollup_state(repo: GitHubRepo, sha: str) -> str | None:
    """statusCheckRollup.state: the worst of the commit's latest check runs and statuses (None without any)."""
    states: set[str] = set()
    for run in _latest_check_runs(repo.check_runs.get(sha, [])):
        if run.get("status") != "completed":
            states.add("PENDING")
        elif run.get("conclusion") in _FAILED_CONCLUSIONS:
            states.add("FAILURE")
        else:
            states.add("SUCCESS")
    for status in _latest_statuses(repo.statuses.get(sha, [])):
        states.add(str(status.get("state", "pending")).upper())
    for state in ("ERROR", "FAILURE", "PENDING", "EXPECTED", "SUCCESS"):
        if state in states:
            return state
    return None


class _GraphResolver:
    """Builds GraphQL objects (dicts, with callables for fields that take arguments) from one world."""

    def __init__(self, app: GitHubApp) -> None:
        self.app = app
        self.gh = app.gh

    def repository(self, full: str, repo: GitHubRepo) -> Json:
        payload = repo.repo

        def pull_request(info: GraphQLResolveInfo, number: int) -> Json:
            pull = repo.pulls.get(number)
            if pull is None:
                raise _GitHubGraphQLError("NOT_FOUND", f"Could not resolve to a PullRequest with the number of {number}.")
            return self.pull(full, repo, pull)

        def issue(info: GraphQLResolveInfo, number: int) -> Json:
            found = repo.issues.get(number)
            if found is None or number in repo.pulls or number in repo.deleted or number in repo.transferred:
                raise _GitHubGraphQLError("NOT_FOUND", f"Could not resolve to an Issue with the number of {number}.")
            return self.issue(full, repo, found)

        def pull_requests(info: GraphQLResolveInfo, **args: Any) -> Json:
            field = (args.get("orderBy") or {}).get("field", "CREATED_AT")
            desc = (args.get("orderBy") or {}).get("direction", "ASC") == "DESC"
            pulls = self.app._index(full, repo).items(repo, "pulls", "all", _GQL_ORDER[field])
            states = set(args.get("states") or [])
            chosen = [p for p in pulls if (not states or _pull_state(p) in states)
                      and (not args.get("baseRefName") or p["base"]["ref"] == args["baseRefName"])
                      and (not args.get("headRefName") or p["head"]["ref"] == args["headRefName"])
                      and (not args.get("labels") or set(args["labels"]) & {lab["name"] for lab in p.get("labels", [])})]
            return _connection(chosen[::-1] if desc else chosen, args, info, lambda p: self.pull(full, repo, p))

        def issues(info: GraphQLResolveInfo, **args: Any) -> Json:
            field = (args.get("orderBy") or {}).get("field", "CREATED_AT")
            desc = (args.get("orderBy") or {}).get("direction", "ASC") == "DESC"
            pool = self.app._index(full, repo).items(repo, "issues", "all", _GQL_ORDER[field])
            filters = args.get("filterBy") or {}
            states = set(args.get("states") or filters.get("states") or [])
            labels = set(args.get("labels") or filters.get("labels") or [])
            since = _parse_time(filters["since"]) if filters.get("since") else None
            chosen = [i for i in pool if "pull_request" not in i
                      and (not states or str(i.get("state")).upper() in states)
                      and (not labels or labels & {lab["name"] for lab in i.get("labels", [])})
                      and (since is None or (i.get("updated_at") or "") >= since)
                      and (not filters.get("createdBy") or (i.get("user") or {}).get("login") == filters["createdBy"])
                      and (not filters.get("milestoneNumber")
                           or str((i.get("milestone") or {}).get("number")) == filters["milestoneNumber"])]
            return _connection(chosen[::-1] if desc else chosen, args, info, lambda i: self.issue(full, repo, i))

        return {"__typename": "Repository", "id": payload.get("node_id"), "databaseId": payload.get("id"),
                "name": payload.get("name"), "nameWithOwner": payload.get("full_name", full),
                "owner": _gql_actor(payload.get("owner")), "url": payload.get("html_url"),
                "pullRequest": pull_request, "issue": issue, "pullRequests": pull_requests, "issues": issues}

    def _repository_of(self, full: str, repo: GitHubRepo) -> Callable[[GraphQLResolveInfo], Json]:
        return lambda info: self.repository(full, repo)

    def issue(self, full: str, repo: GitHubRepo, issue: Json) -> Json:
        labels, assignees = issue.get("labels", []), issue.get("assignees", [])
        reason = issue.get("state_reason")
        return {
            "__typename": "Issue", "id": issue.get("node_id"), "databaseId": issue.get("id"),
            "number": issue["number"], "title": issue.get("title", ""), "body": issue.get("body") or "",
            "state": str(issue.get("state")).upper(), "closed": issue.get("state") == "closed",
            "stateReason": lambda info, enableDuplicate=None: reason.upper() if reason else None,
            "createdAt": issue.get("created_at"), "updatedAt": issue.get("updated_at"),
            "closedAt": issue.get("closed_at"), "url": issue.get("html_url"), "author": _gql_actor(issue.get("user")),
            "milestone": _gql_milestone(issue.get("milestone")), "repository": self._repository_of(full, repo),
            "labels": lambda info, **args: _connection(labels, args, info, _gql_label),
            "assignees": lambda info, **args: _connection(assignees, args, info, _gql_actor),
        }

    def pull(self, full: str, repo: GitHubRepo, pull: Json) -> Json:
        number = pull["number"]
        reviews = repo.reviews.get(number, [])
        commits = repo.commits.get(number, [])[:250]
        labels, assignees = pull.get("labels", []), pull.get("assignees", [])
        requested = [("User", u) for u in pull.get("requested_reviewers", [])] + \
                    [("Team", t) for t in pull.get("requested_teams", [])]

        def review_list(info: GraphQLResolveInfo, **args: Any) -> Json:
            states, author = set(args.get("states") or []), args.get("author")
            chosen = [r for r in reviews if (not states or r.get("state") in states)
                      and (not author or (r.get("user") or {}).get("login") == author)]
            return _connection(chosen, args, info, self.review)

        def commit_list(info: GraphQLResolveInfo, **args: Any) -> Json:
            return _connection(commits, args, info, lambda c: self.pull_commit(repo, pull, c))

        def review_requests(info: GraphQLResolveInfo, **args: Any) -> Json:
            return _connection(requested, args, info, lambda pair: self.review_request(pull, *pair))

        return {
            "__typename": "PullRequest", "id": pull.get("node_id"), "databaseId": pull.get("id"), "number": number,
            "title": pull.get("title", ""), "body": pull.get("body") or "", "state": _pull_state(pull),
            "closed": pull.get("state") == "closed", "isDraft": bool(pull.get("draft")),
            "merged": bool(pull.get("merged") or pull.get("merged_at")), "mergedAt": pull.get("merged_at"),
            "mergedBy": _gql_actor(pull.get("merged_by")), "author": _gql_actor(pull.get("user")),
            "headRefName": pull["head"]["ref"], "headRefOid": pull["head"]["sha"],
            "baseRefName": pull["base"]["ref"], "baseRefOid": pull["base"].get("sha") or "0" * 40,
            "additions": pull.get("additions", 0), "deletions": pull.get("deletions", 0),
            "changedFiles": pull.get("changed_files", 0), "createdAt": pull.get("created_at"),
            "updatedAt": pull.get("updated_at"), "closedAt": pull.get("closed_at"), "url": pull.get("html_url"),
            "mergeable": _MERGEABLE.get(pull.get("mergeable"), "UNKNOWN"),
            "reviewDecision": _review_decision(reviews), "milestone": _gql_milestone(pull.get("milestone")),
            "repository": self._repository_of(full, repo), "reviews": review_list, "commits": commit_list,
            "reviewRequests": review_requests,
            "labels": lambda info, **args: _connection(labels, args, info, _gql_label),
            "assignees": lambda info, **args: _connection(assignees, args, info, _gql_actor),
        }

    def review(self, review: Json) -> Json:
        return {"__typename": "PullRequestReview", "id": review.get("node_id"), "databaseId": review.get("id"),
                "author": _gql_actor(review.get("user")), "state": review.get("state"), "body": review.get("body") or "",
                "submittedAt": review.get("submitted_at"),
                "createdAt": review.get("submitted_at") or review.get("created_at"), "url": review.get("html_url"),
                "commit": None}

    def pull_commit(self, repo: GitHubRepo, pull: Json, commit: Json) -> Json:
        sha, detail = commit["sha"], commit.get("commit", {})
        message = detail.get("message", "")
        return {
            "__typename": "PullRequestCommit", "id": f"PURC_{commit.get('node_id')}",
            "url": f"{pull.get('html_url')}/commits/{sha}",
            "commit": {"__typename": "Commit", "id": commit.get("node_id"), "oid": sha, "abbreviatedOid": sha[:7],
                       "message": message, "messageHeadline": message.split("\n", 1)[0],
                       "committedDate": (detail.get("committer") or {}).get("date"),
                       "authoredDate": (detail.get("author") or {}).get("date"), "url": commit.get("html_url"),
                       "statusCheckRollup": lambda info: _rollup(repo, sha)},
        }

    def review_request(self, pull: Json, kind: str, reviewer: Json) -> Json:
        if kind == "Team":
            target: Json | None = {"__typename": "Team", "id": reviewer.get("node_id"), "name": reviewer.get("name"),
                                   "slug": reviewer.get("slug")}
        else:
            target = _gql_actor(reviewer)
        return {"__typename": "ReviewRequest", "id": f"RR_{pull.get('node_id')}_{reviewer.get('id')}",
                "databaseId": reviewer.get("id"), "asCodeOwner": False, "requestedReviewer": target}

    def node(self, node_id: str) -> Json | None:
        """Any pull request, issue, repository or user by its global node id."""
        for full, repo in self.gh.repos.items():
            if repo.repo.get("node_id") == node_id:
                return self.repository(full, repo)
        found = self.app._node_index().get(node_id)
        if found is None:
            user = next((u for u in [self.gh.viewer, *self.gh.users.values()] if u.get("node_id") == node_id), None)
            return _gql_actor(user)
        full, kind, number = found
        repo = self.gh.repos[full]
        if kind == "pull":
            return self.pull(full, repo, repo.pulls[number])
        return self.issue(full, repo, repo.issues[number])


_MERGEABLE: dict[Any, str] = {True: "MERGEABLE", False: "CONFLICTING"}
_GQL_ORDER = {"CREATED_AT": "created", "UPDATED_AT": "updated", "COMMENTS": "comments"}


def _rollup(repo: GitHubRepo, sha: str) -> Json | None:
    state = _rollup_state(repo, sha)
    if state is None:
        return None
    return {"__typename": "StatusCheckRollup", "id": "SCR_" + sha[:12], "state": state}


def _pull_state(pull: Json) -> str:
    if pull.get("merged") or pull.get("merged_at"):
        return "MERGED"
    return str(pull.get("state", "open")).upper()


def _review_decision(reviews: list[Json]) -> str | None:
    """APPROVED or CHANGES_REQUESTED from each reviewer's latest deciding review; None when nobody decided."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[(review.get("user") or {}).get("login", "")] = review["state"]
    decided = set(latest.values())
    if "CHANGES_REQUESTED" in decided:
        return "CHANGES_REQUESTED"
    return "APPROVED" if "APPROVED" in decided else None
