"""What the fake GitHub's REST routes, GraphQL resolvers and mutations share: GitHub's time format,
per-revision indexes, paging, the API error, and the pure request helpers (filters, search, rollups)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import dumps
from syncd.sandbox.gh_payloads import iso as _iso  # GitHub's timestamp, defined once
from syncd.sandbox.world import GitHubRepo, GitHubWorld, Json

DOCS = "https://docs.github.com/rest"
PRIMARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
SEARCH_LIMIT = 30  # search requests per minute for an authenticated user
# Budgets /rate_limit lists that a sync never spends (GitHub's standard limits, as recorded in 2024).
_UNUSED_RESOURCES = {
    "integration_manifest": 5000, "source_import": 100, "code_scanning_upload": 1000, "code_scanning_autofix": 10,
    "actions_runner_registration": 10000, "scim": 15000, "dependency_snapshots": 100, "audit_log": 1750,
    "audit_log_streaming": 15, "code_search": 10,
}
WINDOW_S = {"core": 3600, "graphql": 3600, "search": 60}
# Keys of GET /pulls/{n} that the list endpoint leaves out (compare the two examples in the spec).
PULL_DETAIL_KEYS = frozenset({
    "additions", "deletions", "changed_files", "comments", "commits", "review_comments", "mergeable",
    "mergeable_state", "merged", "merged_by", "rebaseable", "maintainer_can_modify",
})


def _parse_time(value: str) -> str:
    """An ISO-8601 time (or date) as GitHub's own `YYYY-MM-DDTHH:MM:SSZ`, comparable as a string."""
    text = value.strip().replace(" ", "+")  # a '+' left unencoded in a query string arrives as a space
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _iso(moment)


def _payload_origin(gh: GitHubWorld) -> str:
    """The API origin the world's payloads were written with, e.g. http://127.0.0.1."""
    for repo in gh.repos.values():
        url = str(repo.repo.get("url") or "")
        if "/repos/" in url:
            return url.split("/repos/", 1)[0]
    return gh.base_url.rstrip("/")


def _dumps(data: Any) -> str:
    return dumps(data)


# ---------------------------------------------------------------------------------------------
# Indexes: each repository's issues and pulls sorted once per revision, items serialized once.
# ---------------------------------------------------------------------------------------------

_SORT_KEYS: dict[str, Callable[[Json], tuple[Any, ...]]] = {
    "created": lambda p: (p.get("created_at") or "", p["number"]),
    "updated": lambda p: (p.get("updated_at") or "", p["number"]),
    "comments": lambda p: (p.get("comments") or 0, p["number"]),
    "popularity": lambda p: (p.get("comments") or 0, p["number"]),
    "long-running": lambda p: (p.get("created_at") or "", p["number"]),
}


@dataclass
class _RepoIndex:
    """Sorted views of one repository at one revision (rebuilt lazily after any mutation)."""

    revision: int
    sorted: dict[tuple[str, str, str], list[Json]] = field(default_factory=dict)  # (kind, state, sort)
    updated_keys: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kind, state)
    text: dict[tuple[str, Any], str] = field(default_factory=dict)  # serialized items

    def items(self, repo: GitHubRepo, kind: str, state: str, sort: str) -> list[Json]:
        """Live issues (kind "issues", PRs included) or pulls in `state`, ascending by `sort`."""
        key = (kind, state, sort)
        if key not in self.sorted:
            if kind == "issues":
                pool = [p for n, p in repo.issues.items() if n not in repo.deleted and n not in repo.transferred]
            else:
                pool = list(repo.pulls.values())
            if state != "all":
                pool = [p for p in pool if p.get("state") == state]
            self.sorted[key] = sorted(pool, key=_SORT_KEYS[sort])
        return self.sorted[key]

    def updated(self, repo: GitHubRepo, kind: str, state: str) -> list[str]:
        """The `updated_at` of `items(kind, state, "updated")`, for bisecting a `since`."""
        key = (kind, state)
        if key not in self.updated_keys:
            self.updated_keys[key] = [p.get("updated_at") or "" for p in self.items(repo, kind, state, "updated")]
        return self.updated_keys[key]


@dataclass
class _Bucket:
    """One token's budget for one resource in the current window."""

    reset: int
    used: int = 0


class _Page:
    """A page of a list plus the `Link` header that points at its neighbours."""

    def __init__(self, request: Request, total: int, default_per_page: int = 30) -> None:
        try:
            self.per_page = max(1, min(100, int(request.args.get("per_page", default_per_page))))
            self.page = max(1, int(request.args.get("page", 1)))
        except ValueError as exc:
            raise _ApiError(422, "Validation Failed: per_page and page must be integers") from exc
        self.total = total
        self.start = (self.page - 1) * self.per_page
        self.last = max(1, -(-total // self.per_page))
        self._request = request

    def link(self) -> str | None:
        """RFC 5988 links in GitHub's order (prev, next, last, first); the last page has no next.

        Like GitHub, links of repository lists address the repository by id (`/repositories/{id}/...`).
        """
        rels: list[tuple[str, int]] = []
        if self.page > 1:
            rels.append(("prev", min(self.page - 1, self.last)))
        if self.page < self.last:
            rels += [("next", self.page + 1), ("last", self.last)]
        if self.page > 1:
            rels.append(("first", 1))
        if not rels:
            return None
        args = list(self._request.args.items(multi=True))
        path = self._request.environ.get("sandbox.github.link_path") or self._request.path
        base = self._request.host_url.rstrip("/") + self._request.script_root + path
        parts = []
        for rel, number in rels:
            query = urlencode([(k, v) for k, v in args if k != "page"] + [("page", str(number))])
            parts.append(f'<{base}?{query}>; rel="{rel}"')
        return ", ".join(parts)


class _ApiError(Exception):
    """An error answered in GitHub's shape: `{"message", "documentation_url", "status"}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 extra: Json | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers or {}, extra or {}




_FAILED_CONCLUSIONS = frozenset({"failure", "cancelled", "timed_out", "action_required", "startup_failure", "stale"})


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _not_modified_since(request: Request, response: Response) -> bool:
    """If-Modified-Since (only when no If-None-Match is sent) against the answer's Last-Modified."""
    since, modified = request.if_modified_since, response.last_modified
    return "If-None-Match" not in request.headers and since is not None and modified is not None and modified <= since


def _choice(args: Any, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = args.get(name) or default
    if value not in allowed:
        raise _ApiError(422, "Validation Failed", extra={"errors": [
            {"value": value, "resource": "Search", "field": name, "code": "invalid"}]})
    return str(value)


def _time_arg(args: Any, name: str) -> str | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return _parse_time(value)
    except ValueError as exc:
        raise _ApiError(422, "Validation Failed", extra={"errors": [
            {"value": value, "resource": "Issue", "field": name, "code": "invalid"}]}) from exc


def _filter_issues(items: Sequence[Json], args: Any) -> Sequence[Json]:
    """The issue-list filters other than state and since: labels, milestone, assignee, type, creator."""
    labels = [name.strip() for name in (args.get("labels") or "").split(",") if name.strip()]
    if labels:
        wanted = set(labels)
        items = [p for p in items if wanted <= {lab.get("name") for lab in p.get("labels", [])}]
    milestone = args.get("milestone")
    if milestone == "*":
        items = [p for p in items if p.get("milestone")]
    elif milestone == "none":
        items = [p for p in items if not p.get("milestone")]
    elif milestone:
        items = [p for p in items if p.get("milestone") and str(p["milestone"].get("number")) == milestone]
    assignee = args.get("assignee")
    if assignee == "*":
        items = [p for p in items if p.get("assignees")]
    elif assignee == "none":
        items = [p for p in items if not p.get("assignees")]
    elif assignee:
        items = [p for p in items if any(a.get("login") == assignee for a in p.get("assignees", []))]
    issue_type = args.get("type")
    if issue_type == "*":
        items = [p for p in items if p.get("type")]
    elif issue_type == "none":
        items = [p for p in items if not p.get("type")]
    elif issue_type:
        items = [p for p in items if (p.get("type") or {}).get("name", "").lower() == issue_type.lower()]
    creator = args.get("creator")
    if creator:
        items = [p for p in items if (p.get("user") or {}).get("login") == creator]
    return items


def _pull_list_item(pull: Json) -> Json:
    return {k: v for k, v in pull.items() if k not in PULL_DETAIL_KEYS}


def _latest_check_runs(runs: list[Json]) -> list[Json]:
    """The most recent run of each check name (GitHub's `filter=latest`)."""
    latest: dict[str, Json] = {}
    for run in runs:
        name = str(run.get("name"))
        if name not in latest or (run.get("started_at") or "", run.get("id") or 0) >= (
                latest[name].get("started_at") or "", latest[name].get("id") or 0):
            latest[name] = run
    return [run for run in runs if latest.get(str(run.get("name"))) is run]


def _latest_statuses(statuses: list[Json]) -> list[Json]:
    """The newest status of each context, newest first (the combined status lists those)."""
    latest: dict[str, Json] = {}
    for status in sorted(statuses, key=lambda s: (s.get("created_at") or "", s.get("id") or 0), reverse=True):
        latest.setdefault(str(status.get("context")), status)
    return list(latest.values())


def _combined_state(latest: list[Json]) -> str:
    states = {s.get("state") for s in latest}
    if states & {"error", "failure"}:
        return "failure"
    if not latest or "pending" in states:
        return "pending"
    return "success"


def _completeness(milestone: Json) -> float:
    total = (milestone.get("open_issues") or 0) + (milestone.get("closed_issues") or 0)
    return (milestone.get("closed_issues") or 0) / total if total else 0.0


def _transferred_number(gh: GitHubWorld, repo: GitHubRepo, number: int, target: str) -> int:
    """The number an issue got in the repository it was transferred to (same issue id there)."""
    issue_id = repo.issues.get(number, {}).get("id")
    new_repo = gh.repos.get(target)
    if new_repo is not None and issue_id is not None:
        for new_number, issue in new_repo.issues.items():
            if issue.get("id") == issue_id:
                return new_number
    return number


def _search(gh: GitHubWorld, query: str) -> list[Json]:
    """`/search/issues` for the qualifiers a sync uses: repo:, is:issue|pr, state:/is:open|closed,
    updated:>=T / >T, label:, plus free words matched in the title; best match = newest update."""
    repos: list[str] = []
    kinds: set[str] = set()
    state: str | None = None
    labels: list[str] = []
    updated: tuple[str, str] | None = None
    words: list[str] = []
    for term in query.split():
        key, sep, value = term.partition(":")
        value = value.strip('"')
        if not sep:
            words.append(term.lower())
        elif key == "repo":
            repos.append(value)
        elif key in ("is", "type") and value in ("issue", "pr", "pull-request"):
            kinds.add("pr" if value != "issue" else "issue")
        elif (key == "is" and value in ("open", "closed")) or key == "state":
            state = value
        elif key == "label":
            labels.append(value)
        elif key == "updated":
            op = ">=" if value.startswith(">=") else ">" if value.startswith(">") else ">="
            updated = (op, _parse_time(value.lstrip(">=")))
        else:
            raise _ApiError(422, "Validation Failed", extra={"errors": [
                {"message": f"The qualifier `{key}` is not supported by the sandbox", "resource": "Search",
                 "field": "q", "code": "invalid"}]})
    found: list[Json] = []
    for full, repo in gh.repos.items():
        if repos and full.lower() not in {r.lower() for r in repos}:
            continue
        for number, issue in repo.issues.items():
            if number in repo.deleted or number in repo.transferred:
                continue
            if kinds and ("pr" if "pull_request" in issue else "issue") not in kinds:
                continue
            if state and issue.get("state") != state:
                continue
            if labels and not set(labels) <= {lab.get("name") for lab in issue.get("labels", [])}:
                continue
            stamp = issue.get("updated_at") or ""
            if updated and not (stamp > updated[1] if updated[0] == ">" else stamp >= updated[1]):
                continue
            if words and not all(w in (issue.get("title") or "").lower() for w in words):
                continue
            found.append(issue)
    found.sort(key=lambda p: (p.get("updated_at") or "", p["number"]), reverse=True)
    return found[:1000]  # GitHub's search returns at most 1,000 results


# ---------------------------------------------------------------------------------------------
# Mutations, as GitHub would apply them (each bumps updated_at and the repository's revision)
# ---------------------------------------------------------------------------------------------
