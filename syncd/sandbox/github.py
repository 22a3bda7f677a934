"""The fake GitHub: REST v3 as PyGithub calls it, and GraphQL v4 on a subset of GitHub's schema.

`GitHubApp` serves `world.github` under `world.lock`. It only pages, filters and projects the
payloads the world holds (they are already in GitHub's JSON shape); the mutation functions
(`add_pull`, `add_review`, `merge_pull`, ...) change the world the way GitHub would,
bumping `updated_at`, for live tests. Behaviour a sync depends on is modelled on the real API:
`Link` paging, a per-token hourly budget with `x-ratelimit-*` headers, weak ETags with free 304s,
403 primary and secondary rate limits, 401 bad credentials, 410 for deleted issues and 301 for
transferred ones. Like GitHub, a review, push, label change or merge bumps an issue's `updated_at`;
a check run or commit status does not. The API is also served under GitHub Enterprise Server's
prefixes (`/api/v3/...`, `/api/graphql`), and a repository can be hidden from the token (`deny_repo`).

The fake is split for reading: the REST routes in `github_rest`, the GraphQL endpoint in `github_graphql`
(its objects in `github_resolvers`), the world mutations in `github_mutations` and what they share in
`github_common`, the `/__sandbox/github/...` admin routes in `github_admin`; this module is the app
(authentication, rate limits, dispatch) and re-exports the public API.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import Controls, RunningServer, json_response, mutation_response, serve
from syncd.sandbox.github_admin import _ADMIN, _admin_rules
from syncd.sandbox.github_common import (
    _UNUSED_RESOURCES,
    DOCS,
    PRIMARY_DOCS,
    SEARCH_LIMIT,
    SECONDARY_DOCS,
    WINDOW_S,
    _ApiError,
    _Bucket,
    _etag_matches,
    _iso,
    _not_modified_since,
    _payload_origin,
    _RepoIndex,
)
from syncd.sandbox.github_graphql import _graphql, graphql_schema
from syncd.sandbox.github_mutations import (
    add_check_run,
    add_issue,
    add_pull,
    add_review,
    add_status,
    close_issue,
    delete_issue,
    merge_pull,
    push_commits,
    request_review,
    set_labels,
    transfer_issue,
)
from syncd.sandbox.github_rest import RestRoutes, _rules
from syncd.sandbox.world import GitHubWorld, Json, World

__all__ = [
    "GitHubApp", "add_check_run", "add_issue", "add_pull", "add_review", "add_status", "close_issue",
    "delete_issue", "graphql_schema", "merge_pull", "push_commits", "request_review", "serve_github",
    "set_labels", "transfer_issue",
]

class GitHubApp(RestRoutes):
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

    def handle_rate_limit(self, request: Request) -> Response:
        token = self._token(request) or ""
        resources = {name: self._rate_resource(token, name) for name in ("core", "search", "graphql")}
        reset = int(self.clock()) + 3600
        for name, limit in _UNUSED_RESOURCES.items():
            resources[name] = {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
        return self._json(request, {"resources": resources, "rate": resources["core"]})

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
