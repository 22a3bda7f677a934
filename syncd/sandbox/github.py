"""The fake GitHub: REST v3 as PyGithub calls it, and GraphQL v4 on a subset of GitHub's schema.

`GitHubApp` serves `world.github` under `world.lock`. It only pages, filters and projects the
payloads the world holds (they are already in GitHub's JSON shape); the functions at the end of
the module (`add_pull`, `add_review`, `merge_pull`, ...) change the world the way GitHub would,
bumping `updated_at`, for live tests. Behaviour a sync depends on is modelled on the real API:
`Link` paging, a per-token hourly budget with `x-ratelimit-*` headers, weak ETags with free 304s,
403 primary and secondary rate limits, 401 bad credentials, 410 for deleted issues and 301 for
transferred ones. Like GitHub, a review, push, label change or merge bumps an issue's `updated_at`;
a check run or commit status does not. The API is also served under GitHub Enterprise Server's
prefixes (`/api/v3/...`, `/api/graphql`), and a repository can be hidden from the token (`deny_repo`).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    execute,
    parse,
    validate,
)
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import Controls, RunningServer, ServiceApp, json_response, mutation_response, serve
from syncd.sandbox.world import GitHubRepo, GitHubWorld, Json, World

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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


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


def _rules() -> list[Rule]:
    repo = "/repos/<owner>/<name>"
    paths = [
        ("/user", "user"), ("/users/<login>", "users"), ("/users/<login>/orgs", "user_orgs"),
        ("/rate_limit", "rate_limit"),
        ("/user/repos", "user_repos"), ("/orgs/<org>/repos", "org_repos"), ("/search/issues", "search_issues"),
        (repo, "repo"), (f"{repo}/issues", "issues"), (f"{repo}/issues/<int:number>", "issue"),
        (f"{repo}/issues/<int:number>/comments", "issue_comments"), (f"{repo}/pulls", "pulls"),
        (f"{repo}/pulls/<int:number>", "pull"), (f"{repo}/pulls/<int:number>/reviews", "reviews"),
        (f"{repo}/pulls/<int:number>/commits", "pull_commits"),
        (f"{repo}/pulls/<int:number>/requested_reviewers", "requested_reviewers"),
        (f"{repo}/commits/<ref>", "commit"), (f"{repo}/commits/<path:ref>/check-runs", "check_runs"),
        (f"{repo}/commits/<path:ref>/status", "combined_status"),
        (f"{repo}/commits/<path:ref>/statuses", "statuses"), (f"{repo}/statuses/<path:ref>", "statuses"),
        (f"{repo}/milestones", "milestones"),
        (f"{repo}/milestones/<int:number>", "milestone"), (f"{repo}/releases", "releases"),
        (f"{repo}/releases/latest", "release_latest"), (f"{repo}/releases/tags/<path:tag>", "release_by_tag"),
        (f"{repo}/releases/<int:release_id>", "release"), (f"{repo}/labels", "labels"),
    ]
    rules = [Rule(path, endpoint=name, methods=["GET"]) for path, name in paths]
    rules.append(Rule("/graphql", endpoint="graphql", methods=["POST"]))
    rules.append(Rule("/app/installations/<int:installation_id>/access_tokens", endpoint="installation_token",
                      methods=["POST"]))
    return rules


class GitHubApp(ServiceApp):
    """GitHub REST v3 + GraphQL v4 over `world.github`."""

    service = "github"

    def __init__(self, world: World, controls: Controls, clock: Callable[[], float] = time.time) -> None:
        super().__init__(controls, _rules())
        self.world = world
        self.gh: GitHubWorld = world.github
        self.clock = clock
        # Payload URLs were written against the base URL the world had when it was built (read back
        # from a repository's "url"); they are rewritten to the address a request came in on, once
        # per serialized item.
        self.payload_base = _payload_origin(self.gh)
        self._indexes: dict[str, _RepoIndex] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._installation_tokens: dict[str, int] = {}  # token -> installation id
        self._budget_lock = threading.Lock()
        self._admin = Map(_admin_rules(), strict_slashes=False, merge_slashes=False)
        self._nodes: dict[str, tuple[str, str, int]] = {}
        self._nodes_key: tuple[tuple[str, int], ...] | None = None
        # repository (lower case) -> (HTTP status, APIs) the token is refused with (see `deny_repo`)
        self.denied: dict[str, tuple[int, frozenset[str]]] = {}
        self.rejected: Counter[str] = Counter()  # rate-limit refusals: core, graphql, secondary

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """GitHub Enterprise Server's prefixes: REST under `/api/v3`, GraphQL at `/api/graphql`."""
        path = environ.get("PATH_INFO", "")
        if path == "/api/graphql":
            environ = {**environ, "SCRIPT_NAME": "/api", "PATH_INFO": "/graphql"}
        elif path == "/api/v3" or path.startswith("/api/v3/"):
            environ = {**environ, "SCRIPT_NAME": "/api/v3", "PATH_INFO": path.removeprefix("/api/v3") or "/"}
        return super().__call__(environ, start_response)

    def deny_repo(self, repo: str, status: int = 404, apis: Sequence[str] = ("rest", "graphql")) -> None:
        """Refuse the token access to `repo`: 404 (private, not visible) or 403 (fine-grained token without
        the permission) on REST, NOT_FOUND on GraphQL; `apis` limits it to one of the two. Status 0 lifts it."""
        if status:
            self.denied[repo.lower()] = (status, frozenset(apis))
        else:
            self.denied.pop(repo.lower(), None)

    # -- authentication and rate limits ---------------------------------------------------------

    @staticmethod
    def _token(request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("token", "bearer") and value.strip():
            return value.strip()
        return None

    @staticmethod
    def _resource(request: Request) -> str:
        if request.path.startswith("/search/"):
            return "search"
        if request.path.rstrip("/") == "/graphql":
            return "graphql"
        return "core"

    def _limit(self, resource: str) -> int:
        return SEARCH_LIMIT if resource == "search" else self.gh.rate_limit

    def _bucket(self, token: str, resource: str) -> _Bucket:
        now = int(self.clock())
        bucket = self._buckets.get((token, resource))
        if bucket is None or now >= bucket.reset:
            bucket = _Bucket(reset=now + WINDOW_S[resource])
            self._buckets[(token, resource)] = bucket
        return bucket

    def charge(self, token: str, resource: str, points: int) -> bool:
        """Take `points` from a token's budget; False (nothing taken) when it would go below zero."""
        with self._budget_lock:
            bucket = self._bucket(token, resource)
            if bucket.used + points > self._limit(resource):
                return False
            bucket.used += points
            return True

    def refund(self, token: str, resource: str, points: int) -> None:
        """Give points back (a 304 answer costs nothing on GitHub)."""
        with self._budget_lock:
            bucket = self._bucket(token, resource)
            bucket.used = max(0, bucket.used - points)

    def rate_headers(self, token: str | None, resource: str) -> dict[str, str]:
        """The `x-ratelimit-*` headers for a token and resource (an anonymous caller gets 60/hour)."""
        if token is None:
            return {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "60", "x-ratelimit-used": "0",
                    "x-ratelimit-reset": str(int(self.clock()) + 3600), "x-ratelimit-resource": "core"}
        with self._budget_lock:
            bucket = self._bucket(token, resource)
            limit = self._limit(resource)
            return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(max(0, limit - bucket.used)),
                    "x-ratelimit-used": str(bucket.used), "x-ratelimit-reset": str(bucket.reset),
                    "x-ratelimit-resource": resource}

    def _rate_resource(self, token: str, resource: str) -> Json:
        headers = self.rate_headers(token, resource)
        return {"limit": int(headers["x-ratelimit-limit"]), "used": int(headers["x-ratelimit-used"]),
                "remaining": int(headers["x-ratelimit-remaining"]), "reset": int(headers["x-ratelimit-reset"])}

    def _valid_token(self, token: str) -> bool:
        return token == self.gh.token or token in self._installation_tokens

    def authenticate(self, request: Request) -> Response | None:
        """401 for a missing or unknown token; 403 when the token's budget is spent; else charge it."""
        token = self._token(request)
        if request.path.startswith("/app/"):
            # GitHub App JWT (three dot-separated parts); the signature is not verified here.
            if token is None or token.count(".") != 2:
                return self._error(401, "A JSON web token could not be decoded")
            return None
        if token is None or not self._valid_token(token):
            return self._error(401, "Bad credentials")
        resource = self._resource(request)
        if request.path.rstrip("/") == "/rate_limit" or resource == "graphql":
            return None  # /rate_limit is free; GraphQL is charged by query cost in its handler
        if not self.charge(token, resource, 1):
            return self._primary_limit(token, resource)
        request.environ["sandbox.github.charged"] = (token, resource, 1)
        return None

    def _primary_limit(self, token: str, resource: str) -> Response:
        self.rejected[resource] += 1
        response = self._error(403, f"API rate limit exceeded for user ID {self.gh.viewer.get('id', 1)}. "
                                    "If you reach out to GitHub Support for help, please include the request ID.",
                               PRIMARY_DOCS)
        response.headers.update(self.rate_headers(token, resource))
        return response

    def rate_limited_response(self, retry_after: float, primary: bool) -> Response:
        """A fault: the secondary limit (403 + Retry-After), or a spent budget (403, remaining 0 + reset)."""
        self.rejected["fault"] += 1
        if primary:
            reset = int(self.clock() + retry_after + 0.999)
            response = self._error(403, f"API rate limit exceeded for user ID {self.gh.viewer.get('id', 1)}.",
                                   PRIMARY_DOCS)
            limit = str(self.gh.rate_limit)
            response.headers.update({"x-ratelimit-limit": limit, "x-ratelimit-remaining": "0",
                                     "x-ratelimit-used": limit, "x-ratelimit-reset": str(reset),
                                     "x-ratelimit-resource": "core"})
            return response
        response = self._error(403, "You have exceeded a secondary rate limit. Please wait a few minutes before "
                                    "you try again. If you reach out to GitHub Support for help, please include "
                                    "the request ID.", SECONDARY_DOCS)
        response.headers["Retry-After"] = str(int(retry_after + 0.999))
        return response

    def error_response(self, status: int, message: str) -> Response:
        """Errors in GitHub's shape; a missing route is GitHub's plain "Not Found"."""
        if status == 404:
            message = "Not Found"
        return self._error(status, message)

    @staticmethod
    def _error(status: int, message: str, docs: str = DOCS, headers: dict[str, str] | None = None,
               extra: Json | None = None) -> Response:
        body = {"message": message, **(extra or {}), "documentation_url": docs, "status": str(status)}
        return json_response(body, status, headers)

    def decorate(self, request: Request, response: Response) -> Response:
        """Rate-limit headers on every answer; weak ETag on 200 GETs, and 304 on a matching If-None-Match."""
        token = self._token(request)
        resource = request.environ.get("sandbox.github.resource") or self._resource(request)
        # (a body the fault injector cuts off is a stream: reading it here would raise before anything is sent)
        if response.status_code == 200 and request.method == "GET" and response.is_sequence:
            etag = 'W/"' + hashlib.sha256(response.get_data()).hexdigest() + '"'
            response.headers["ETag"] = etag
            if _etag_matches(request.headers.get("If-None-Match"), etag) or _not_modified_since(request, response):
                charged = request.environ.get("sandbox.github.charged")
                if charged:
                    self.refund(*charged)
                not_modified = Response(status=304, headers={"ETag": etag})
                for name in ("Link", "Last-Modified"):
                    if name in response.headers:
                        not_modified.headers[name] = response.headers[name]
                response = not_modified
        valid = token is not None and (self._valid_token(token) or request.path.startswith("/app/"))
        for name, value in self.rate_headers(token if valid else None, resource).items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        return response

    def dispatch(self, request: Request) -> Response:
        with self.world.lock:
            self._route_by_repository_id(request)
            try:
                return super().dispatch(request)
            except _ApiError as exc:
                return self._error(exc.status, exc.message, headers=exc.headers, extra=exc.extra)

    def _route_by_repository_id(self, request: Request) -> None:
        """Serve `/repositories/{id}/...` as `/repos/{owner}/{name}/...`, and note the id form for Link headers."""
        parts = request.path.split("/", 4)  # "", "repos"|"repositories", owner|id, name|rest, rest
        if len(parts) >= 3 and parts[1] == "repositories" and parts[2].isdigit():
            for full, repo in self.gh.repos.items():
                if repo.repo.get("id") == int(parts[2]):
                    rest = "/" + "/".join(parts[3:]) if len(parts) > 3 else ""
                    request.environ["sandbox.github.link_path"] = request.path
                    request.environ["PATH_INFO"] = f"/repos/{full}{rest}"
                    return
        elif len(parts) >= 5 and parts[1] == "repos":
            repo_obj = self.gh.repos.get(f"{parts[2]}/{parts[3]}")
            if repo_obj is not None and repo_obj.repo.get("id") is not None:
                request.environ["sandbox.github.link_path"] = f"/repositories/{repo_obj.repo['id']}/{parts[4]}"

    # -- serialization ------------------------------------------------------------------------

    def _index(self, full_name: str, repo: GitHubRepo) -> _RepoIndex:
        index = self._indexes.get(full_name)
        if index is None or index.revision != repo.revision:
            index = _RepoIndex(repo.revision)
            self._indexes[full_name] = index
        return index

    def _rewrite(self, text: str, request: Request) -> str:
        origin = request.host_url.rstrip("/") + request.script_root
        if self.payload_base and origin != self.payload_base:
            return text.replace(self.payload_base + "/", origin + "/")
        return text

    def _text(self, request: Request, index: _RepoIndex | None, key: tuple[str, Any], payload: Any) -> str:
        if index is None:
            return self._rewrite(_dumps(payload), request)
        cached = index.text.get(key)
        if cached is None:
            cached = index.text[key] = self._rewrite(_dumps(payload), request)
        return cached

    def _json(self, request: Request, payload: Any, index: _RepoIndex | None = None,
              key: tuple[str, Any] | None = None, status: int = 200) -> Response:
        text = self._text(request, index, key, payload) if key is not None else self._rewrite(_dumps(payload), request)
        response = Response(text, status=status, content_type="application/json; charset=utf-8")
        if isinstance(payload, dict) and payload.get("updated_at"):
            response.last_modified = datetime.fromisoformat(str(payload["updated_at"]).replace("Z", "+00:00"))
        return response

    def _list(self, request: Request, items: Sequence[Json], index: _RepoIndex | None = None,
              kind: str = "", id_key: str = "id", project: Callable[[Json], Json] | None = None) -> Response:
        """One page of `items` (already filtered and ordered) with its Link header."""
        page = _Page(request, len(items))
        chunk = items[page.start: page.start + page.per_page]
        return self._page_response(request, page, chunk, index, kind, id_key, project)

    def _page_response(self, request: Request, page: _Page, chunk: Sequence[Json], index: _RepoIndex | None,
                       kind: str, id_key: str, project: Callable[[Json], Json] | None) -> Response:
        texts = []
        for item in chunk:
            payload = project(item) if project else item
            if index is not None and kind:
                texts.append(self._text(request, index, (kind, item[id_key]), payload))
            else:
                texts.append(self._rewrite(_dumps(payload), request))
        response = Response("[" + ",".join(texts) + "]", content_type="application/json; charset=utf-8")
        link = page.link()
        if link:
            response.headers["Link"] = link
        return response

    # -- lookups ------------------------------------------------------------------------------

    def _repo(self, owner: str, name: str, api: str = "rest") -> tuple[str, GitHubRepo]:
        full = f"{owner}/{name}"
        denied = self.denied.get(full.lower())
        if denied and api in denied[1]:
            raise _ApiError(denied[0], "Resource not accessible by personal access token" if denied[0] == 403
                            else "Not Found")
        repo = self.gh.repos.get(full)
        if repo is None:
            lowered = full.lower()  # owner and name are not case sensitive on GitHub
            for key, candidate in self.gh.repos.items():
                if key.lower() == lowered:
                    return key, candidate
            raise _ApiError(404, "Not Found")
        return full, repo

    def _issue_or_gone(self, request: Request, full: str, repo: GitHubRepo, number: int) -> Json:
        if number in repo.deleted:
            raise _ApiError(410, "This issue was deleted", extra={})
        if number in repo.transferred:
            target = repo.transferred[number]
            new_number = _transferred_number(self.gh, repo, number, target)
            location = f"{request.host_url.rstrip('/')}{request.script_root}/repos/{target}/issues/{new_number}"
            raise _ApiError(301, "Moved Permanently", headers={"Location": location}, extra={"url": location})
        issue = repo.issues.get(number)
        if issue is None:
            raise _ApiError(404, "Not Found")
        return issue

    # -- users, repositories, rate limit ----------------------------------------------------------

    def handle_user(self, request: Request) -> Response:
        return self._json(request, self.gh.viewer)

    def handle_users(self, request: Request, login: str) -> Response:
        user = self.gh.users.get(login) or (self.gh.viewer if self.gh.viewer.get("login") == login else None)
        if user is None:
            raise _ApiError(404, "Not Found")
        return self._json(request, user)

    def handle_user_orgs(self, request: Request, login: str) -> Response:
        """A user's public organization memberships: none in the sandbox (Perceval reads every author's)."""
        self.handle_users(request, login)
        return self._list(request, [])

    def handle_rate_limit(self, request: Request) -> Response:
        token = self._token(request) or ""
        resources = {name: self._rate_resource(token, name) for name in ("core", "search", "graphql")}
        reset = int(self.clock()) + 3600
        for name, limit in _UNUSED_RESOURCES.items():
            resources[name] = {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
        return self._json(request, {"resources": resources, "rate": resources["core"]})

    def handle_repo(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        return self._json(request, repo.repo, self._index(full, repo), ("repo", 0))

    def _repo_list(self, request: Request, owner: str | None) -> Response:
        repos = [r.repo for r in self.gh.repos.values()
                 if owner is None or r.repo.get("owner", {}).get("login", "").lower() == owner.lower()]
        return self._list(request, sorted(repos, key=lambda r: r.get("full_name", "")))

    def handle_user_repos(self, request: Request) -> Response:
        return self._repo_list(request, None)

    def handle_org_repos(self, request: Request, org: str) -> Response:
        if not any(r.repo.get("owner", {}).get("login", "").lower() == org.lower() for r in self.gh.repos.values()):
            raise _ApiError(404, "Not Found")
        return self._repo_list(request, org)

    # -- issues -------------------------------------------------------------------------------

    def handle_issues(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        index = self._index(full, repo)
        args = request.args
        state = _choice(args, "state", ("open", "closed", "all"), "open")
        sort = _choice(args, "sort", ("created", "updated", "comments"), "created")
        desc = _choice(args, "direction", ("asc", "desc"), "desc") == "desc"
        since = _time_arg(args, "since")
        items: Sequence[Json] = index.items(repo, "issues", state, sort)
        lo = 0
        if since and sort == "updated":
            lo = bisect.bisect_left(index.updated(repo, "issues", state), since)
        elif since:
            items = [p for p in items if (p.get("updated_at") or "") >= since]
        items = _filter_issues(items, args)
        return self._ordered_page(request, items, lo, desc, index, "issue")

    def _ordered_page(self, request: Request, items: Sequence[Json], lo: int, desc: bool,
                      index: _RepoIndex, kind: str, project: Callable[[Json], Json] | None = None,
                      id_key: str = "number") -> Response:
        """Page `items[lo:]` (ascending) forwards or backwards without copying the whole list."""
        page = _Page(request, len(items) - lo)
        if desc:
            end = len(items) - page.start
            chunk = list(reversed(items[max(lo, end - page.per_page): max(lo, end)]))
        else:
            chunk = list(items[lo + page.start: lo + page.start + page.per_page])
        return self._page_response(request, page, chunk, index, kind, id_key, project)

    def handle_issue(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo = self._repo(owner, name)
        issue = self._issue_or_gone(request, full, repo, number)
        return self._json(request, issue, self._index(full, repo), ("issue", number))

    def handle_issue_comments(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo = self._repo(owner, name)
        self._issue_or_gone(request, full, repo, number)
        comments: Sequence[Json] = repo.comments.get(number, [])
        since = _time_arg(request.args, "since")
        if since:
            comments = [c for c in comments if (c.get("updated_at") or "") >= since]
        return self._list(request, comments, self._index(full, repo), "comment")

    def handle_search_issues(self, request: Request) -> Response:
        query = request.args.get("q", "")
        if not query.strip():
            raise _ApiError(422, "Validation Failed", extra={"errors": [{"resource": "Search", "field": "q",
                                                                          "code": "missing"}]})
        items = _search(self.gh, query)
        page = _Page(request, len(items))
        chunk = items[page.start: page.start + page.per_page]
        body = {"total_count": len(items), "incomplete_results": False, "search_type": "lexical",
                "items": [{**item, "score": 1.0} for item in chunk]}
        response = self._json(request, body)
        link = page.link()
        if link:
            response.headers["Link"] = link
        return response

    # -- pull requests ------------------------------------------------------------------------

    def handle_pulls(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        index = self._index(full, repo)
        args = request.args
        state = _choice(args, "state", ("open", "closed", "all"), "open")
        sort = _choice(args, "sort", ("created", "updated", "popularity", "long-running"), "created")
        default_direction = "desc" if sort == "created" else "asc"
        desc = _choice(args, "direction", ("asc", "desc"), default_direction) == "desc"
        items: Sequence[Json] = index.items(repo, "pulls", state, sort)
        base, head = args.get("base"), args.get("head")
        if base:
            items = [p for p in items if p.get("base", {}).get("ref") == base]
        if head:
            owner_part, _, ref = head.rpartition(":")
            items = [p for p in items if p.get("head", {}).get("ref") == ref
                     and (not owner_part or p.get("head", {}).get("label", "").split(":")[0].lower() == owner_part.lower())]
        return self._ordered_page(request, items, 0, desc, index, "pull-list", _pull_list_item)

    def _pull(self, owner: str, name: str, number: int) -> tuple[str, GitHubRepo, Json]:
        full, repo = self._repo(owner, name)
        pull = repo.pulls.get(number)
        if pull is None:
            raise _ApiError(404, "Not Found")
        return full, repo, pull

    def handle_pull(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo, pull = self._pull(owner, name, number)
        return self._json(request, pull, self._index(full, repo), ("pull", number))

    def handle_reviews(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo, _ = self._pull(owner, name, number)
        return self._list(request, repo.reviews.get(number, []), self._index(full, repo), "review")

    def handle_pull_commits(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo, _ = self._pull(owner, name, number)
        commits = repo.commits.get(number, [])[:250]  # GitHub lists at most 250 commits of a PR
        return self._list(request, commits, self._index(full, repo), "commit", id_key="sha")

    def handle_requested_reviewers(self, request: Request, owner: str, name: str, number: int) -> Response:
        _, _, pull = self._pull(owner, name, number)
        return self._json(request, {"users": pull.get("requested_reviewers", []),
                                    "teams": pull.get("requested_teams", [])})

    # -- commits: checks and statuses ---------------------------------------------------------

    def _sha(self, repo: GitHubRepo, ref: str) -> str:
        """A ref (sha, branch, heads/branch) as the sha the world keys checks and statuses by."""
        if ref in repo.check_runs or ref in repo.statuses:
            return ref
        branch = ref.removeprefix("heads/")
        for pull in repo.pulls.values():
            head = pull.get("head", {})
            if head.get("ref") == branch or (head.get("sha") or "").startswith(ref):
                return str(head.get("sha"))
        return ref

    def handle_commit(self, request: Request, owner: str, name: str, ref: str) -> Response:
        """A commit of some pull request, by sha (or a unique sha prefix of at least 7 characters)."""
        _, repo = self._repo(owner, name)
        sha = self._sha(repo, ref)
        for commits in repo.commits.values():
            for commit in commits:
                if commit.get("sha") == sha or (len(ref) >= 7 and str(commit.get("sha", "")).startswith(ref)):
                    return self._json(request, commit)
        raise _ApiError(422, f"No commit found for SHA: {ref}")

    def handle_check_runs(self, request: Request, owner: str, name: str, ref: str) -> Response:
        _, repo = self._repo(owner, name)
        runs = repo.check_runs.get(self._sha(repo, ref), [])
        args = request.args
        if _choice(args, "filter", ("latest", "all"), "latest") == "latest":
            runs = _latest_check_runs(runs)
        if args.get("check_name"):
            runs = [r for r in runs if r.get("name") == args["check_name"]]
        if args.get("status"):
            runs = [r for r in runs if r.get("status") == args["status"]]
        page = _Page(request, len(runs))
        response = self._json(request, {"total_count": len(runs),
                                        "check_runs": runs[page.start: page.start + page.per_page]})
        link = page.link()
        if link:
            response.headers["Link"] = link
        return response

    def handle_combined_status(self, request: Request, owner: str, name: str, ref: str) -> Response:
        full, repo = self._repo(owner, name)
        sha = self._sha(repo, ref)
        latest = _latest_statuses(repo.statuses.get(sha, []))
        page = _Page(request, len(latest), default_per_page=100)
        body = {"state": _combined_state(latest), "statuses": latest[page.start: page.start + page.per_page],
                "sha": sha, "total_count": len(latest), "repository": repo.repo,
                "commit_url": f"{repo.repo.get('url', '')}/commits/{sha}",
                "url": f"{repo.repo.get('url', '')}/commits/{sha}/status"}
        return self._json(request, body)

    def handle_statuses(self, request: Request, owner: str, name: str, ref: str) -> Response:
        _, repo = self._repo(owner, name)
        statuses = sorted(repo.statuses.get(self._sha(repo, ref), []),
                          key=lambda s: (s.get("created_at") or "", s.get("id") or 0), reverse=True)
        return self._list(request, statuses)

    # -- milestones, releases, labels ---------------------------------------------------------

    def handle_milestones(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        args = request.args
        state = _choice(args, "state", ("open", "closed", "all"), "open")
        sort = _choice(args, "sort", ("due_on", "completeness"), "due_on")
        desc = _choice(args, "direction", ("asc", "desc"), "asc") == "desc"
        items = [m for m in repo.milestones.values() if state == "all" or m.get("state") == state]
        if sort == "due_on":
            # Milestones without a due date come last in either direction, as on GitHub.
            dated = sorted((m for m in items if m.get("due_on")), key=lambda m: (m["due_on"], m["number"]),
                           reverse=desc)
            items = dated + sorted((m for m in items if not m.get("due_on")), key=lambda m: m["number"])
        else:
            items.sort(key=lambda m: (_completeness(m), m["number"]), reverse=desc)
        return self._list(request, items, self._index(full, repo), "milestone", id_key="number")

    def handle_milestone(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo = self._repo(owner, name)
        milestone = repo.milestones.get(number)
        if milestone is None:
            raise _ApiError(404, "Not Found")
        return self._json(request, milestone, self._index(full, repo), ("milestone", number))

    def handle_releases(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        releases = sorted(repo.releases, key=lambda r: (r.get("created_at") or "", r.get("id") or 0), reverse=True)
        return self._list(request, releases, self._index(full, repo), "release")

    def handle_release_latest(self, request: Request, owner: str, name: str) -> Response:
        _, repo = self._repo(owner, name)
        published = [r for r in repo.releases if not r.get("draft") and not r.get("prerelease")]
        if not published:
            raise _ApiError(404, "Not Found")
        return self._json(request, max(published, key=lambda r: (r.get("created_at") or "", r.get("id") or 0)))

    def handle_release_by_tag(self, request: Request, owner: str, name: str, tag: str) -> Response:
        _, repo = self._repo(owner, name)
        for release in repo.releases:
            if release.get("tag_name") == tag and not release.get("draft"):
                return self._json(request, release)
        raise _ApiError(404, "Not Found")

    def handle_release(self, request: Request, owner: str, name: str, release_id: int) -> Response:
        _, repo = self._repo(owner, name)
        for release in repo.releases:
            if release.get("id") == release_id:
                return self._json(request, release)
        raise _ApiError(404, "Not Found")

    def handle_labels(self, request: Request, owner: str, name: str) -> Response:
        _, repo = self._repo(owner, name)
        return self._list(request, repo.labels)

    # -- GraphQL ------------------------------------------------------------------------------

    def handle_graphql(self, request: Request) -> Response:
        return _graphql(self, request)

    def _node_index(self) -> dict[str, tuple[str, str, int]]:
        """Global node id -> (repository, "pull" or "issue", number), rebuilt when any repository changes."""
        key = tuple((full, repo.revision) for full, repo in self.gh.repos.items())
        if self._nodes_key != key:
            index: dict[str, tuple[str, str, int]] = {}
            for full, repo in self.gh.repos.items():
                for number, issue in repo.issues.items():
                    if number not in repo.deleted and number not in repo.transferred and number not in repo.pulls:
                        index[str(issue.get("node_id"))] = (full, "issue", number)
                for number, pull in repo.pulls.items():
                    index[str(pull.get("node_id"))] = (full, "pull", number)
            self._nodes, self._nodes_key = index, key
        return self._nodes

    # -- GitHub App installation tokens ---------------------------------------------------------

    def handle_installation_token(self, request: Request, installation_id: int) -> Response:
        token = "ghs_" + secrets.token_hex(18)
        self._installation_tokens[token] = installation_id
        expires = datetime.fromtimestamp(self.clock(), UTC) + timedelta(hours=1)
        body = {"token": token, "expires_at": _iso(expires), "permissions": {"issues": "read", "pull_requests": "read",
                                                                             "checks": "read", "metadata": "read"},
                "repository_selection": "all"}
        return json_response(body, 201)

    # -- admin routes (mutations for live tests) -----------------------------------------------

    def admin_extra(self, request: Request, path: str) -> Response:
        """`/__sandbox/github/...` mutations; each answers the changed payload."""

        def run(endpoint: str, body: Json, **args: Any) -> Any:
            with self.world.lock:
                return _ADMIN[endpoint](self, body, **args)

        return mutation_response(self._admin, request, path, run)


def serve_github(world: World, controls: Controls | None = None, port: int = 0,
                 clock: Callable[[], float] = time.time) -> RunningServer:
    """Serve `world.github` on 127.0.0.1 (a free port unless given) and point its base URL at the server.

    `clock` drives the rate-limit windows (tests share a fake clock with the client they test).
    The app is `running.server.app`.
    """
    running = serve("github", GitHubApp(world, controls or Controls(), clock=clock), port)
    with world.lock:
        world.github.base_url = running.url
    return running


# ---------------------------------------------------------------------------------------------
# Request helpers
# ---------------------------------------------------------------------------------------------

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
    base = gh.base_url.rstrip("/")
    user_id = 10_000 + sum(ord(c) for c in login) * 7
    simple: Json = {
        "login": login, "id": user_id, "node_id": _node_id("U", user_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "gravatar_id": "",
        "url": f"{base}/users/{login}", "html_url": f"https://github.com/{login}",
        "type": "User", "user_view_type": "public", "site_admin": False,
    }
    for suffix in ("followers", "following{/other_user}", "gists{/gist_id}", "starred{/owner}{/repo}",
                   "subscriptions", "organizations", "repos", "events{/privacy}", "received_events"):
        simple[suffix.split("{")[0] + "_url"] = f"{base}/users/{login}/{suffix}"
    gh.users[login] = simple
    return dict(simple)


_SIMPLE_USER_KEYS = frozenset({
    "login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url", "following_url",
    "gists_url", "starred_url", "subscriptions_url", "organizations_url", "repos_url", "events_url",
    "received_events_url", "type", "user_view_type", "site_admin",
})


def _node_id(prefix: str, number: int) -> str:
    return f"{prefix}_kwDO" + base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode().rstrip("=")


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
    label = {"id": label_id, "node_id": _node_id("LA", label_id), "url": f"{repo.repo['url']}/labels/{name}",
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
            "node_id": _node_id("I", issue_id), "number": number, "title": title, "user": _user(world, user),
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
        api, html = target.repo["url"], target.repo["html_url"]
        issue["pull_request"] = {"url": f"{api}/pulls/{number}", "html_url": f"{html}/pull/{number}",
                                 "diff_url": f"{html}/pull/{number}.diff", "patch_url": f"{html}/pull/{number}.patch",
                                 "merged_at": None}
        issue["draft"] = draft
        pull_id = _next_global_id(world, lambda r: r.pulls.values(), 1_000_000_000)
        messages = list(commit_messages) or [title]
        commits = [_commit(world, target, message, issue["user"], stamp) for message in messages]
        for parent, child in zip(commits, commits[1:], strict=False):
            child["parents"] = [{"sha": parent["sha"], "url": parent["url"], "html_url": parent["html_url"]}]
        owner = target.repo["owner"]
        base_ref = base or target.repo.get("default_branch", "main")
        pull: Json = {
            "url": f"{api}/pulls/{number}", "id": pull_id, "node_id": _node_id("PR", pull_id),
            "html_url": f"{html}/pull/{number}", "diff_url": f"{html}/pull/{number}.diff",
            "patch_url": f"{html}/pull/{number}.patch", "issue_url": issue["url"], "number": number,
            "state": "open", "locked": False, "title": title, "user": issue["user"], "body": body,
            "created_at": stamp, "updated_at": stamp, "closed_at": None, "merged_at": None,
            "merge_commit_sha": None, "assignee": None, "assignees": [], "requested_reviewers": [],
            "requested_teams": [], "labels": issue["labels"], "milestone": issue["milestone"], "draft": draft,
            "commits_url": f"{api}/pulls/{number}/commits", "review_comments_url": f"{api}/pulls/{number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}", "comments_url": issue["comments_url"],
            "statuses_url": f"{api}/statuses/{commits[-1]['sha']}",
            "head": {"label": f"{owner['login']}:{head}", "ref": head, "sha": commits[-1]["sha"], "user": owner,
                     "repo": target.repo},
            "base": {"label": f"{owner['login']}:{base_ref}", "ref": base_ref, "sha": "0" * 40, "user": owner,
                     "repo": target.repo},
            "_links": {"self": {"href": f"{api}/pulls/{number}"}, "html": {"href": f"{html}/pull/{number}"},
                       "issue": {"href": issue["url"]}, "comments": {"href": issue["comments_url"]},
                       "review_comments": {"href": f"{api}/pulls/{number}/comments"},
                       "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                       "commits": {"href": f"{api}/pulls/{number}/commits"},
                       "statuses": {"href": f"{api}/statuses/{commits[-1]['sha']}"}},
            "author_association": "MEMBER", "auto_merge": None, "active_lock_reason": None, "merged": False,
            "mergeable": True, "rebaseable": True, "mergeable_state": "clean", "merged_by": None, "comments": 0,
            "review_comments": 0, "maintainer_can_modify": False, "commits": len(commits), "additions": additions,
            "deletions": deletions, "changed_files": changed_files,
        }
        issue["node_id"] = pull["node_id"]  # on GitHub a PR's issue view shares the PR's global id
        target.pulls[number] = pull
        target.commits[number] = commits
        target.revision += 1
        return pull


def _commit(world: World, repo: GitHubRepo, message: str, author: Json, stamp: str) -> Json:
    sha = hashlib.sha1(f"{repo.repo['full_name']}:{message}:{stamp}:{secrets.token_hex(4)}".encode(),
                       usedforsecurity=False).hexdigest()
    api, html = repo.repo["url"], repo.repo["html_url"]
    person = {"name": author["login"], "email": f"{author['login']}@users.noreply.github.com", "date": stamp}
    return {
        "sha": sha, "node_id": _node_id("C", int(sha[:12], 16)), "url": f"{api}/commits/{sha}",
        "html_url": f"{html}/commit/{sha}", "comments_url": f"{api}/commits/{sha}/comments",
        "commit": {"url": f"{api}/git/commits/{sha}", "author": person, "committer": person, "message": message,
                   "tree": {"sha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                            "url": f"{api}/git/trees/4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
                   "comment_count": 0,
                   "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                    "verified_at": None}},
        "author": author, "committer": author, "parents": [],
    }


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
            "id": review_id, "node_id": _node_id("PRR", review_id), "user": author, "body": body, "state": state,
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
            "id": run_id, "head_sha": sha, "node_id": _node_id("CR", run_id), "external_id": "",
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
            "node_id": _node_id("SC", status_id), "state": state, "description": f"{context} {state}",
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
            commit = _commit(world, target, message, author, stamp)
            if commits:
                parent = commits[-1]
                commit["parents"] = [{"sha": parent["sha"], "url": parent["url"], "html_url": parent["html_url"]}]
            commits.append(commit)
        head = commits[-1]["sha"]
        pull["head"]["sha"] = head
        pull["statuses_url"] = f"{target.repo['url']}/statuses/{head}"
        pull["_links"]["statuses"] = {"href": pull["statuses_url"]}
        pull["commits"] = len(commits)
        _touch(target, number, stamp)
        return pull


def _admin_rules() -> list[Rule]:
    repo = "/github/repos/<owner>/<name>"
    return [
        Rule(f"{repo}/issues", endpoint="add_issue", methods=["POST"]),
        Rule(f"{repo}/pulls", endpoint="add_pull", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/reviews", endpoint="add_review", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/requested_reviewers", endpoint="request_review", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/merge", endpoint="merge_pull", methods=["POST", "PUT"]),
        Rule(f"{repo}/issues/<int:number>/close", endpoint="close_issue", methods=["POST"]),
        Rule(f"{repo}/issues/<int:number>/labels", endpoint="set_labels", methods=["POST", "PUT"]),
        Rule(f"{repo}/issues/<int:number>", endpoint="delete_issue", methods=["DELETE"]),
        Rule(f"{repo}/issues/<int:number>/transfer", endpoint="transfer_issue", methods=["POST"]),
        Rule(f"{repo}/commits/<sha>/check-runs", endpoint="add_check_run", methods=["POST"]),
        Rule(f"{repo}/statuses/<sha>", endpoint="add_status", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/commits", endpoint="push_commits", methods=["POST"]),
        Rule(f"{repo}/access", endpoint="deny_repo", methods=["POST"]),
        Rule("/github/rate_limit", endpoint="rate_limit", methods=["GET", "POST"]),
    ]


def _admin_rate_limit(app: GitHubApp, body: Json) -> Json:
    """POST {"limit": N} sets the hourly budget; {"reset": true} starts every window afresh."""
    if "limit" in body:
        app.gh.rate_limit = int(body["limit"])
    if body.get("reset"):
        with app._budget_lock:
            app._buckets.clear()
    return {"limit": app.gh.rate_limit}


def _admin_deny(app: GitHubApp, repo: str, status: int = 404, apis: Sequence[str] = ("rest", "graphql")) -> Json:
    """POST {"status": 404|403, "apis": ["rest", "graphql"]} hides the repository from the token; 0 lifts it."""
    app.deny_repo(repo, status, apis)
    return {"repository": repo, "status": status, "apis": sorted(apis) if status else []}


def _admin_delete(app: GitHubApp, repo: str, number: int) -> Json:
    delete_issue(app.world, repo, number)
    return {"deleted": number, "repository": repo}


_ADMIN: dict[str, Callable[..., Any]] = {
    "add_issue": lambda app, body, owner, name: add_issue(app.world, f"{owner}/{name}", **body),
    "add_pull": lambda app, body, owner, name: add_pull(app.world, f"{owner}/{name}", **body),
    "add_review": lambda app, body, owner, name, number: add_review(app.world, f"{owner}/{name}", number, **body),
    "request_review": lambda app, body, owner, name, number: request_review(app.world, f"{owner}/{name}", number,
                                                                            **body),
    "merge_pull": lambda app, body, owner, name, number: merge_pull(app.world, f"{owner}/{name}", number, **body),
    "close_issue": lambda app, body, owner, name, number: close_issue(app.world, f"{owner}/{name}", number, **body),
    "set_labels": lambda app, body, owner, name, number: set_labels(app.world, f"{owner}/{name}", number, **body),
    "delete_issue": lambda app, body, owner, name, number: _admin_delete(app, f"{owner}/{name}", number),
    "transfer_issue": lambda app, body, owner, name, number: transfer_issue(app.world, f"{owner}/{name}", number,
                                                                            **body),
    "add_check_run": lambda app, body, owner, name, sha: add_check_run(app.world, f"{owner}/{name}", sha, **body),
    "add_status": lambda app, body, owner, name, sha: add_status(app.world, f"{owner}/{name}", sha, **body),
    "push_commits": lambda app, body, owner, name, number: push_commits(app.world, f"{owner}/{name}", number,
                                                                        **body),
    "deny_repo": lambda app, body, owner, name: _admin_deny(app, f"{owner}/{name}", **body),
    "rate_limit": _admin_rate_limit,
}


# ---------------------------------------------------------------------------------------------
# GraphQL: github_schema.graphql (a subset of GitHub's schema) resolved over the REST payloads
# ---------------------------------------------------------------------------------------------

SCHEMA_PATH = Path(__file__).with_name("github_schema.graphql")
MAX_NODES = 500_000  # GitHub refuses a query that could return more nodes than this
_schema_cache: list[GraphQLSchema] = []


def graphql_schema() -> GraphQLSchema:
    """The sandbox's GraphQL schema (built once)."""
    if not _schema_cache:
        _schema_cache.append(build_schema(SCHEMA_PATH.read_text(encoding="utf-8")))
    return _schema_cache[0]


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


def _query_cost(document: DocumentNode, operation_name: str | None, variables: dict[str, Any]) -> tuple[int, int, bool]:
    """(cost, nodeCount, dryRun) the way GitHub counts them: each connection costs one request per parent
    node that could hold it; cost = requests / 100 (at least 1); nodes = the product of the page sizes."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    requests_needed, nodes, dry_run = 0, 0, False

    def size(field: FieldNode) -> int | None:
        for arg in field.arguments or ():
            if arg.name.value in ("first", "last"):
                value = arg.value
                if isinstance(value, VariableNode):
                    return int(variables.get(value.name.value) or 0)
                if isinstance(value, IntValueNode):
                    return int(value.value)
        return None

    def walk(selections: SelectionSetNode | None, multiplier: int, seen: frozenset[str]) -> None:
        nonlocal requests_needed, nodes, dry_run
        if selections is None:
            return
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == "rateLimit":
                    dry_run = dry_run or any(a.name.value == "dryRun" and getattr(a.value, "value", False)
                                             for a in selection.arguments or ())
                page = size(selection)
                if page is not None:
                    requests_needed += multiplier
                    nodes += multiplier * page
                    walk(selection.selection_set, multiplier * max(page, 1), seen)
                else:
                    walk(selection.selection_set, multiplier, seen)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set, multiplier, seen | {selection.name.value})

    for operation in operations[:1]:
        walk(operation.selection_set, 1, frozenset())
    return max(1, round(requests_needed / 100)), nodes, dry_run


def _gql_errors(errors: Sequence[GraphQLError]) -> list[Json]:
    out = []
    for error in errors:
        formatted: Json = dict(error.formatted)
        original = error.original_error
        if isinstance(original, _GitHubGraphQLError):
            formatted["type"] = original.kind
        formatted.pop("extensions", None)
        out.append(formatted)
    return out


def _graphql(app: GitHubApp, request: Request) -> Response:
    """POST /graphql: parse, validate, cost and charge the query, then execute it over the world."""
    token = app._token(request) or ""
    request.environ["sandbox.github.resource"] = "graphql"
    payload = request.get_json(force=True, silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return app._error(400, "Problems parsing JSON", "https://docs.github.com/graphql")
    variables = payload.get("variables") or {}
    try:
        document = parse(payload["query"])
    except GraphQLError as exc:
        return json_response({"errors": _gql_errors([exc])})
    schema = graphql_schema()
    problems = validate(schema, document)
    if problems:
        return json_response({"errors": _gql_errors(problems)})
    cost, node_count, dry_run = _query_cost(document, payload.get("operationName"), variables)
    if node_count > MAX_NODES:
        return json_response({"errors": [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": (
            f"This query requests up to {node_count:,} possible nodes which exceeds the maximum limit of "
            f"{MAX_NODES:,}.")}]})
    if not dry_run and not app.charge(token, "graphql", cost):
        # GitHub: status 200, an error of type RATE_LIMITED, and x-ratelimit-remaining 0
        app.rejected["graphql"] += 1
        headers = {**app.rate_headers(token, "graphql"), "x-ratelimit-remaining": "0"}
        return json_response({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": (
            f"API rate limit already exceeded for user ID {app.gh.viewer.get('id', 1)}.")}]}, headers=headers)
    resolver = _GraphResolver(app)

    def repository(info: GraphQLResolveInfo, owner: str, name: str, followRenames: bool = True) -> Json:  # noqa: N803
        try:
            full, repo = app._repo(owner, name, "graphql")
        except _ApiError:
            raise _GitHubGraphQLError("NOT_FOUND",
                                      f"Could not resolve to a Repository with the name '{owner}/{name}'.") from None
        return resolver.repository(full, repo)

    def rate_limit(info: GraphQLResolveInfo, dryRun: bool = False) -> Json:  # noqa: N803
        state = app._rate_resource(token, "graphql")
        return {"cost": cost, "limit": state["limit"], "nodeCount": node_count, "remaining": state["remaining"],
                "used": state["used"], "resetAt": _iso(datetime.fromtimestamp(state["reset"], UTC))}

    def node(info: GraphQLResolveInfo, id: str) -> Json | None:  # noqa: A002
        found = resolver.node(id)
        if found is None:
            raise _GitHubGraphQLError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
        return found

    def nodes(info: GraphQLResolveInfo, ids: list[str]) -> list[Json | None]:
        found = [resolver.node(node_id) for node_id in ids]
        missing = [node_id for node_id, hit in zip(ids, found, strict=True) if hit is None]
        if missing:
            raise _GitHubGraphQLError("NOT_FOUND", f"Could not resolve to a node with the global id of '{missing[0]}'")
        return found

    root = {"repository": repository, "rateLimit": rate_limit, "node": node, "nodes": nodes,
            "viewer": lambda info: _gql_actor(app.gh.viewer)}
    result = execute(schema, document, root_value=root, variable_values=variables,
                     operation_name=payload.get("operationName"))
    if isinstance(result, ExecutionResult):
        body: Json = {"data": result.data}
        if result.errors:
            body = {"data": result.data, "errors": _gql_errors(result.errors)}
        return app._json(request, body)
    raise _ApiError(500, "asynchronous execution is not supported")
