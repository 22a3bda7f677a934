"""The search routes of the fake Jira: Cloud's `/search/jql` token pages, its approximate count, and the
legacy offset `/search` (410 Gone on Cloud, the only search on Server/DC).

Modelled on the real API (../shared/realdata/jira-openapi, README): `/search/jql` pages by
`nextPageToken` (absent on the last page, `isLast`, no `total`), returns only ids unless `fields`
says otherwise, refuses unbounded queries, and caps pages at 100 issues (5,000 when only ids are
asked for); the token names the query and the last sort key it answered, so a page resumes after
that issue even when issues moved meanwhile. Server/DC's `/search` pages by `startAt`/`total`.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from syncd.sandbox.jira_pages import JiraApiError, int_arg, jira_error
from syncd.sandbox.jira_shapes import FieldSelection, SiteShape, project_issue
from syncd.sandbox.jql import Query
from syncd.sandbox.jql_eval import CompiledQuery
from syncd.sandbox.world import JiraWorld, Json

PAGE_MAX = 100  # /search/jql issues per page with fields
ID_PAGE_MAX = 5000  # /search/jql issues per page when only ids (or keys) are asked for
LEGACY_PAGE_MAX = 1000  # Server's jira.search.views.default.max
TOKEN_TTL = timedelta(days=7)
SEARCH_GONE = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
               "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
_SEARCH_BODY_KEYS = {"jql", "nextPageToken", "maxResults", "fields", "expand", "properties", "fieldsByKeys",
                     "reconcileIssues", "failFast"}


def search_rules(api: str) -> list[Rule]:
    """Werkzeug rules of the search routes under `api` (endpoints are `SearchRoutes.handle_*`)."""
    return [
        Rule(f"{api}/search/jql", endpoint="search_jql", methods=["GET", "POST"]),
        Rule(f"{api}/search/approximate-count", endpoint="approximate_count", methods=["POST"]),
        Rule(f"{api}/search", endpoint="search", methods=["GET", "POST"]),
    ]


class _Search:
    """A compiled query and the issues it matched, in order (with bisectable sort keys on demand)."""

    def __init__(self, query: CompiledQuery, ordered: list[tuple[list[Any], Json]]) -> None:
        self.query, self.ordered = query, ordered
        self._keys: list[Any] | None = None

    def keys(self) -> list[Any]:
        """The sort keys of `ordered`, comparable with `functools.cmp_to_key(query.compare)`."""
        if self._keys is None:
            self._keys = [functools.cmp_to_key(self.query.compare)(v) for v, _ in self.ordered]
        return self._keys


class SearchRoutes:
    """Mixin of `JiraApp`: it supplies the site facts, the cached search, projection and JSON helpers declared here."""

    jw: JiraWorld
    clock: Callable[[], datetime]

    @property
    def server(self) -> bool:
        raise NotImplementedError

    def search(self, jql: str | None) -> _Search:
        raise NotImplementedError

    def compile(self, jql: str | Query | None) -> CompiledQuery:
        raise NotImplementedError

    def live_issues(self) -> list[Json]:
        raise NotImplementedError

    def shape(self, request: Request, api: str) -> SiteShape:
        raise NotImplementedError

    def json(self, request: Request, payload: Any, api: str | None = None, status: int = 200) -> Response:
        raise NotImplementedError

    def error_response(self, status: int, message: str) -> Response:
        raise NotImplementedError

    def _search_params(self, request: Request) -> dict[str, Any]:
        if request.method == "POST":
            body = request.get_json(force=True, silent=True)
            if not isinstance(body, dict):
                raise JiraApiError(400, "The request body must be a JSON object.")
            unknown = sorted(set(body) - _SEARCH_BODY_KEYS - {"startAt", "validateQuery"})
            if unknown:
                raise JiraApiError(400, f'Unrecognized field "{unknown[0]}"')
            fields = body.get("fields") or []
            return {"jql": body.get("jql"), "token": body.get("nextPageToken"), "maxResults": body.get("maxResults"),
                    "startAt": body.get("startAt"), "fields": fields if isinstance(fields, list) else [fields],
                    "expand": body.get("expand") or "", "properties": _property_keys(body.get("properties"))}
        args = request.args
        expand = ",".join(args.getlist("expand"))
        return {"jql": args.get("jql"), "token": args.get("nextPageToken"), "maxResults": args.get("maxResults"),
                "startAt": args.get("startAt"), "fields": args.getlist("fields"), "expand": expand,
                "properties": _property_keys(args.getlist("properties"))}

    def handle_search_jql(self, request: Request, api: str) -> Response:
        if self.server:
            return self.error_response(404, f"no such route: {request.path}")
        p = self._search_params(request)
        found = self.search(p["jql"])
        query = found.query
        if not query.bounded:
            raise JiraApiError(400, "Unbounded JQL queries are not allowed here. Please add a search restriction "
                                    "to your query.")
        sel = FieldSelection.parse(p["fields"], "id")
        expand = {e.strip() for e in str(p["expand"]).split(",") if e.strip()}
        cap = ID_PAGE_MAX if sel.names <= {"id", "key"} and not sel.all and not sel.navigable and not expand \
            else PAGE_MAX
        size = min(cap, max(1, int_arg({"maxResults": p["maxResults"]}, "maxResults", 50)))
        ordered = found.ordered
        digest = hashlib.sha256(str(p["jql"]).encode()).hexdigest()[:16]
        start = 0
        if p["token"]:
            after = self._read_token(str(p["token"]), digest)
            start = bisect.bisect_right(found.keys(), functools.cmp_to_key(query.compare)(after))
        chunk = ordered[start:start + size]
        shape = self.shape(request, api)
        body: Json = {"issues": [project_issue(i, sel, expand, shape, properties=p["properties"]) for _, i in chunk]}
        is_last = start + len(chunk) >= len(ordered)
        if not is_last:
            body["nextPageToken"] = self._token(digest, chunk[-1][0])
        body["isLast"] = is_last
        if "names" in expand:
            body["names"] = {k: v for k, v in shape.names.items() if sel.wants(k, k not in shape.non_navigable)}
        if "schema" in expand:
            body["schema"] = {str(f["id"]): f["schema"] for f in self.jw.fields
                              if f.get("schema") and sel.wants(str(f["id"]), f.get("navigable") is not False)}
        for issue in body["issues"]:
            issue.pop("names", None)
        return self.json(request, body, api)

    def _token(self, digest: str, after: list[Any]) -> str:
        raw = json.dumps({"q": digest, "a": after, "t": int(self.clock().timestamp())}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _read_token(self, token: str, digest: str) -> list[Any]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            after, issued, query = list(data["a"]), float(data["t"]), str(data["q"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise JiraApiError(400, "The provided next page token is invalid.") from None
        if query != digest:
            raise JiraApiError(400, "The provided next page token does not belong to this query.")
        if self.clock().timestamp() - issued > TOKEN_TTL.total_seconds():
            raise JiraApiError(400, "The provided next page token has expired.")
        return after

    def handle_approximate_count(self, request: Request, api: str) -> Response:
        if self.server:
            return self.error_response(404, f"no such route: {request.path}")
        body = request.get_json(force=True, silent=True) or {}
        query = self.compile(body.get("jql") if isinstance(body, dict) else None)
        return self.json(request, {"count": sum(1 for i in self.live_issues() if query.matches(i))}, api)

    def handle_search(self, request: Request, api: str) -> Response:
        """Legacy offset search: gone on Cloud (410), the only search on Server/DC."""
        if not self.server:
            return jira_error(410, SEARCH_GONE)
        p = self._search_params(request)
        ordered = self.search(p["jql"]).ordered
        start = int_arg({"startAt": p["startAt"]}, "startAt", 0)
        size = min(LEGACY_PAGE_MAX, max(1, int_arg({"maxResults": p["maxResults"]}, "maxResults", 50)))
        sel = FieldSelection.parse(p["fields"], "*navigable")
        expand = {e.strip() for e in str(p["expand"]).split(",") if e.strip()}
        shape = self.shape(request, api)
        issues = [project_issue(issue, sel, expand, shape, envelope=True, properties=p["properties"])
                  for _, issue in ordered[start:start + size]]
        return self.json(request, {"expand": "schema,names", "startAt": start, "maxResults": size,
                                   "total": len(ordered), "issues": issues}, api)


def _property_keys(value: Any) -> list[str]:
    """The `properties` asked for: a list (POST body) or comma-separated values (query), at most 5 as Jira allows."""
    parts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    keys = [k.strip() for part in parts if isinstance(part, str) for k in part.split(",") if k.strip()]
    if len(keys) > 5:
        raise JiraApiError(400, "A maximum of 5 issue properties can be requested.")
    return keys
