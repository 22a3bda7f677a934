"""The fake Jira: Cloud platform REST v2/v3 and agile 1.0 as the `jira` client and our connector call them.

`JiraApp` serves `world.jira` under `world.lock`; it only filters, orders, pages and projects the
payloads the world holds (`syncd.sandbox.jira_shapes`), with JQL parsed by `syncd.sandbox.jql`.
What a sync depends on is modelled on the real API (../shared/realdata/jira-openapi, README):
- Cloud: `/search/jql` token pages; `/rest/api/{2,3}/search` answers 410 Gone.
- Server/Data Center (`world.jira.deployment == "Server"`): no `/search/jql`, no `/changelog`, no
  REST v3; legacy `/rest/api/2/search` with `startAt`/`total`; bearer personal access tokens.
- Errors in Jira's `{"errorMessages": [...], "errors": {}}` body; 401 for bad credentials; 429
  with `Retry-After` and `X-RateLimit-Reset` for rate limits (faults from `Controls`).
Mutations for live tests are in `syncd.sandbox.jira_mutations`; the agile routes in
`syncd.sandbox.jira_agile`; the search routes (paging, tokens, page caps) in `syncd.sandbox.jira_search`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import Controls, RunningServer, ServiceApp, dumps, json_response, serve
from syncd.sandbox.jira_agile import AgileRoutes, agile_rules
from syncd.sandbox.jira_pages import JiraApiError, int_arg, jira_error, offset_page
from syncd.sandbox.jira_search import SearchRoutes, _property_keys, _Search, search_rules
from syncd.sandbox.jira_shapes import FieldSelection, SiteShape, jira_time, project_issue, user_fixed
from syncd.sandbox.jql import JqlError, Query, parse_jql
from syncd.sandbox.jql_eval import CompiledQuery, JqlSite, compile_query
from syncd.sandbox.world import JiraWorld, Json, World

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def _rules() -> list[Rule]:
    api = "/rest/api/<any('2','3'):api>"
    return [
        Rule(f"{api}/serverInfo", endpoint="server_info"),
        Rule(f"{api}/myself", endpoint="myself"),
        Rule(f"{api}/field", endpoint="field"),
        Rule(f"{api}/status", endpoint="status"),
        Rule(f"{api}/issuetype", endpoint="issuetype"),
        *search_rules(api),
        Rule(f"{api}/issue/<key>", endpoint="issue"),
        Rule(f"{api}/issue/<key>/changelog", endpoint="changelog"),
        Rule(f"{api}/issue/<key>/comment", endpoint="comment"),
        Rule(f"{api}/issue/<key>/properties/<prop>", endpoint="issue_property", methods=["GET", "PUT"]),
        Rule(f"{api}/project/search", endpoint="project_search"),
        Rule(f"{api}/project/<key>", endpoint="project"),
        Rule(f"{api}/project/<key>/versions", endpoint="versions"),
        Rule(f"{api}/project/<key>/version", endpoint="version_page"),
        *agile_rules(),
    ]


class JiraApp(ServiceApp, AgileRoutes, SearchRoutes):
    """Jira Cloud (or Server/DC) REST over `world.jira`."""

    service = "jira"

    def __init__(self, world: World, controls: Controls, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(controls, _rules())
        self.world = world
        self.jw: JiraWorld = world.jira
        self.clock = clock
        self.payload_base = _payload_origin(self.jw)
        self._index_key: tuple[int, int, int] | None = None
        self._keys: dict[str, str] = {}
        self._live: list[Json] = []
        self._site_key: tuple[int, int, int] | None = None
        self._site_parts: tuple[list[Json], list[Json], set[str]] = ([], [], set())
        self._searches: dict[tuple[str, tuple[int, int, int] | None, int], _Search] = {}

    # -- site facts -------------------------------------------------------------------------------

    @property
    def server(self) -> bool:
        """True when the world is a Server/Data Center site."""
        return self.jw.deployment.lower() != "cloud"

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.jw.timezone)

    def field_id(self, custom_suffix: str | None, *names: str) -> str | None:
        """A custom field's id, found by schema type (`...:gh-sprint`), else by (lower-case, untranslated) name."""
        for f in self.jw.fields:
            if custom_suffix and str((f.get("schema") or {}).get("custom", "")).endswith(custom_suffix):
                return str(f["id"])
        for f in self.jw.fields:
            if str(f.get("untranslatedName") or f.get("name", "")).lower() in names:
                return str(f["id"])
        return None

    def _refresh_index(self) -> None:
        key = (self.jw.revision, len(self.jw.issues), len(self.jw.deleted))
        if key == self._index_key:
            return
        self._live = [i for iid, i in self.jw.issues.items() if iid not in self.jw.deleted]
        self._keys = {str(i["key"]).upper(): str(i["id"]) for i in self._live}
        for old, iid in self.jw.moved_keys.items():
            if iid not in self.jw.deleted:
                self._keys.setdefault(old.upper(), iid)
        self._index_key = key

    def live_issues(self) -> list[Json]:
        """Issues not deleted."""
        self._refresh_index()
        return self._live

    def find_issue(self, key_or_id: str) -> Json:
        """An issue by id, key or a key it had before a move; 404 as Jira answers it."""
        self._refresh_index()
        iid = key_or_id if key_or_id in self.jw.issues else self._keys.get(key_or_id.upper())
        if iid is None or iid in self.jw.deleted or iid not in self.jw.issues:
            raise JiraApiError(404, "Issue does not exist or you do not have permission to see it.")
        return self.jw.issues[iid]

    def jql_site(self) -> JqlSite:
        """What queries are checked against right now."""
        self._refresh_index()
        if self._site_key != self._index_key:  # one pass over the issues per revision, not per request
            statuses = {str(s.get("id")): s for s in self.jw.statuses}
            types: dict[str, Json] = {}
            for issue in self._live:
                f = issue.get("fields") or {}
                if f.get("status"):
                    statuses.setdefault(str(f["status"].get("id")), f["status"])
                if f.get("issuetype"):
                    types.setdefault(str(f["issuetype"].get("id")), f["issuetype"])
            self._site_parts = (list(statuses.values()), list(types.values()), {str(i["id"]) for i in self._live})
            self._site_key = self._index_key
        statuses_in_use, types_in_use, issue_ids = self._site_parts
        versions = [v for vs in self.jw.versions.values() for v in vs]
        return JqlSite(tz=self.tz, now=self.clock(), me=self.jw.myself.get("accountId"), projects=self.jw.projects,
                       key_ids=self._keys, issue_ids=issue_ids,
                       statuses=statuses_in_use, issue_types=types_in_use, sprints=self.jw.sprints,
                       users=self.jw.users, versions=versions, fields=self.jw.fields,
                       sprint_field=self.field_id("gh-sprint", "sprint"))

    def compile(self, jql: str | Query | None) -> CompiledQuery:
        """Parse and bind a JQL string (or an already parsed query); JqlError becomes a 400."""
        try:
            return compile_query(jql if isinstance(jql, Query) else parse_jql(jql or ""), self.jql_site())
        except JqlError as exc:
            raise JiraApiError(400, str(exc)) from None

    def search(self, jql: str | None) -> _Search:
        """`jql` compiled, with the live issues it matches in its order.

        Kept per query text until the world changes or the clock enters another minute (relative dates
        like `-5d` move with it), so each page of a long listing does not re-sort the whole site.
        """
        self._refresh_index()
        key = (str(jql or ""), self._index_key, int(self.clock().timestamp() // 60))
        found = self._searches.get(key)
        if found is None:
            query = self.compile(jql)
            found = _Search(query, query.sort(self._live))
            self._searches = {k: v for k, v in self._searches.items() if k[1:] == key[1:]}
            self._searches[key] = found
        return found

    def shape(self, request: Request, api: str) -> SiteShape:
        """How payloads are projected for this request."""
        return SiteShape(base=request.host_url.rstrip("/"), api=api, server=self.server, tz=self.tz,
                         sprints=self.jw.sprints, sprint_field=self.field_id("gh-sprint", "sprint"),
                         flagged_field=self.field_id(None, "flagged"),
                         non_navigable={str(f["id"]) for f in self.jw.fields if f.get("navigable") is False},
                         names={str(f["id"]): str(f.get("name", f["id"])) for f in self.jw.fields})

    # -- ServiceApp hooks -------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        """Basic (email + API token) anywhere, bearer PAT on Server/DC; serverInfo is public."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            if request.path.endswith("/serverInfo"):
                return None
            return jira_error(401, NOT_AUTHENTICATED)
        ok = False
        if scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
            ok = email.lower() == self.jw.email.lower() and token == self.jw.api_token
        elif scheme.lower() == "bearer" and self.server:
            ok = value.strip() == self.jw.api_token
        if not ok:
            return jira_error(401, NOT_AUTHENTICATED, {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                                                        "WWW-Authenticate": 'Basic realm="protected-area"'})
        return None

    def rate_limited_response(self, retry_after: float, primary: bool) -> Response:
        """429 with Retry-After (whole seconds) and X-RateLimit-Reset, as Jira Cloud's burst limit answers."""
        wait = int(retry_after + 0.999)
        reset = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%Y-%m-%dT%H:%MZ")
        return jira_error(429, "Rate limit exceeded.", {"Retry-After": str(wait), "X-RateLimit-Reset": reset,
                                                         "RateLimit-Reason": "jira-burst-based"})

    def error_response(self, status: int, message: str) -> Response:
        """Errors in Jira's shape; an unknown path answers like Jira's REST layer does."""
        if status == 404 and message.startswith("no such route: "):
            return json_response({"message": f"null for uri: {message.removeprefix('no such route: ')}",
                                  "status-code": 404}, 404)
        return jira_error(status, message)

    def dispatch(self, request: Request) -> Response:
        if self.server and request.path.startswith("/rest/api/3/"):  # Server/DC has REST v2 only
            return self.error_response(404, f"no such route: {request.path}")
        if not self.jw.agile and request.path.startswith("/rest/agile/"):  # no Jira Software on this site
            return self.error_response(404, f"no such route: {request.path}")
        with self.world.lock:
            try:
                return super().dispatch(request)
            except JiraApiError as exc:
                return jira_error(exc.status, exc.message, exc.headers)
            except JqlError as exc:
                return jira_error(400, str(exc))

    def json(self, request: Request, payload: Any, api: str | None = None, status: int = 200) -> Response:
        """Serialize with the payloads' origin rewritten to the address the request came in on."""
        text = dumps(payload)
        origin = request.host_url.rstrip("/")
        if self.payload_base and self.payload_base != origin:
            text = text.replace(self.payload_base + "/", origin + "/").replace(
                json.dumps(self.payload_base), json.dumps(origin))
        if api == "2":
            text = text.replace(f"{origin}/rest/api/3/", f"{origin}/rest/api/2/")
        return Response(text, status=status, content_type="application/json;charset=UTF-8")

    # -- platform: site -------------------------------------------------------------------------

    def handle_server_info(self, request: Request, api: str) -> Response:
        now = self.clock()
        info: Json = {"baseUrl": self.jw.base_url, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                      "deploymentType": "Cloud", "buildNumber": 100273, "buildDate": "2026-11-01T00:00:00.000+0000",
                      "scmInfo": "4e6d6a1c8a2f0d7d9f1f1c0f4b8f3c2a9e6b5d4c", "serverTitle": "Jira"}
        info.update(self.jw.server_info)
        info["deploymentType"] = "Server" if self.server else "Cloud"
        if self.server and str(info.get("version", "")).startswith("1001"):
            info.update({"version": "9.12.2", "versionNumbers": [9, 12, 2]})  # a Data Center release
        info["serverTime"] = jira_time(now, self.tz)
        info.setdefault("serverTimeZone", self.jw.timezone)
        info["baseUrl"] = request.host_url.rstrip("/")
        return self.json(request, info, api)

    def handle_myself(self, request: Request, api: str) -> Response:
        return self.json(request, user_fixed(self.jw.myself, self.shape(request, api)), api)

    def handle_field(self, request: Request, api: str) -> Response:
        return self.json(request, self.jw.fields, api)

    def handle_status(self, request: Request, api: str) -> Response:
        return self.json(request, self.jw.statuses, api)

    def handle_issuetype(self, request: Request, api: str) -> Response:
        types = [{k: v for k, v in t.items() if not (self.server and k in ("untranslatedName", "hierarchyLevel"))}
                 for t in self.jw.issue_types]  # Server/DC's types have neither
        return self.json(request, types, api)

    # -- platform: issues -----------------------------------------------------------------------

    def handle_issue(self, request: Request, api: str, key: str) -> Response:
        issue = self.find_issue(key)
        sel = FieldSelection.parse(request.args.getlist("fields"), "*all")
        expand = {e.strip() for v in request.args.getlist("expand") for e in v.split(",") if e.strip()}
        wanted = _property_keys(request.args.getlist("properties"))
        return self.json(request, project_issue(issue, sel, expand, self.shape(request, api), envelope=True,
                                                properties=wanted), api)

    def handle_issue_property(self, request: Request, api: str, key: str, prop: str) -> Response:
        """GET or PUT one issue property (`{key, value}`; PUT's body is the value: 201 created, 200 updated).

        As on Jira, setting a property does not change the issue's `updated` (properties have no history).
        """
        issue = self.find_issue(key)
        held: Json = issue.setdefault("properties", {})
        if request.method == "PUT":
            try:
                value = json.loads(request.get_data(as_text=True))
            except ValueError:
                raise JiraApiError(400, "The property value must be valid JSON.") from None
            created = prop not in held
            held[prop] = value
            return Response(status=201 if created else 200)
        if prop not in held:
            raise JiraApiError(404, f"The property with key '{prop}' does not exist.")
        return self.json(request, {"key": prop, "value": held[prop]}, api)

    def handle_changelog(self, request: Request, api: str, key: str) -> Response:
        if self.server:
            return self.error_response(404, f"no such route: {request.path}")
        issue = self.find_issue(key)
        shape = self.shape(request, api)
        histories = (issue.get("changelog") or {}).get("histories") or []
        page = offset_page(request, [user_fixed(h, shape) for h in histories], default_max=100, cap=100)
        return self.json(request, page, api)

    def handle_comment(self, request: Request, api: str, key: str) -> Response:
        """An issue's comments, oldest first: `{startAt, maxResults, total, comments}` (Perceval reads every issue's)."""
        issue = self.find_issue(key)
        comments = ((issue.get("fields") or {}).get("comment") or {}).get("comments") or []
        start = int_arg(request.args, "startAt", 0)
        size = min(5000, max(1, int_arg(request.args, "maxResults", 100)))
        chunk = [user_fixed(c, self.shape(request, api)) for c in comments[start:start + size]]
        return self.json(request, {"startAt": start, "maxResults": size, "total": len(comments),
                                   "comments": chunk}, api)

    # -- platform: projects and versions ----------------------------------------------------------

    def _project(self, key: str) -> tuple[str, Json]:
        for pkey, project in self.jw.projects.items():
            if key.upper() == pkey or key == str(project.get("id")):
                return pkey, project
        raise JiraApiError(404, f"No project could be found with key '{key}'.")

    def handle_project_search(self, request: Request, api: str) -> Response:
        wanted = {k.upper() for v in request.args.getlist("keys") for k in v.split(",") if k}
        text = (request.args.get("query") or "").lower()
        projects = [p for k, p in sorted(self.jw.projects.items())
                    if (not wanted or k in wanted) and (text in k.lower() or text in str(p.get("name", "")).lower())]
        return self.json(request, offset_page(request, projects), api)

    def handle_project(self, request: Request, api: str, key: str) -> Response:
        return self.json(request, self._project(key)[1], api)

    def handle_versions(self, request: Request, api: str, key: str) -> Response:
        pkey, _ = self._project(key)
        return self.json(request, self.jw.versions.get(pkey, []), api)

    def handle_version_page(self, request: Request, api: str, key: str) -> Response:
        pkey, _ = self._project(key)
        versions = list(self.jw.versions.get(pkey, []))
        states = {s.strip() for s in (request.args.get("status") or "").split(",") if s.strip()}
        if states:
            versions = [v for v in versions if ("archived" if v.get("archived") else
                                                "released" if v.get("released") else "unreleased") in states]
        text = (request.args.get("query") or "").lower()
        versions = [v for v in versions if text in str(v.get("name", "")).lower()
                    or text in str(v.get("description", "")).lower()]
        order = request.args.get("orderBy") or ""
        if order:
            name = order.lstrip("+-")
            attr = {"sequence": "id", "name": "name", "releaseDate": "releaseDate", "startDate": "startDate",
                    "description": "description"}.get(name)
            if attr is None:
                raise JiraApiError(400, f"Invalid orderBy value '{order}'.")
            versions.sort(key=lambda v: (v.get(attr) is None, int(v["id"]) if attr == "id" else str(v.get(attr))),
                          reverse=order.startswith("-"))
        return self.json(request, offset_page(request, versions), api)

    # -- admin routes (mutations for live tests) -----------------------------------------------

    def admin_extra(self, request: Request, path: str) -> Response:
        """`/__sandbox/jira/...` mutations (see `syncd.sandbox.jira_mutations.admin`)."""
        from syncd.sandbox.jira_mutations import admin

        return admin(self, request, path)


def _payload_origin(jw: JiraWorld) -> str:
    """The origin the world's payloads were written with, e.g. http://127.0.0.1."""
    for payload in [*jw.issues.values(), *jw.projects.values()]:
        url = str(payload.get("self") or "")
        if "/rest/" in url:
            return url.split("/rest/", 1)[0]
    return jw.base_url.rstrip("/")


def serve_jira(world: World, controls: Controls | None = None, port: int = 0,
               clock: Callable[[], datetime] | None = None) -> RunningServer:
    """Serve `world.jira` on 127.0.0.1 (a free port unless given) and point its base URL at the server."""
    app = JiraApp(world, controls or Controls(), **({"clock": clock} if clock else {}))
    running = serve("jira", app, port)
    with world.lock:
        world.jira.base_url = running.url
    return running

