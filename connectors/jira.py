"""Jira connector: Cloud (search/jql, token pages) and Server/DC (legacy search), incremental.

Cost model (what a poll costs in requests):
- first or `--full` sync: serverInfo + /field + one search page per 100 issues + changelog pages
  for issues with more than the embedded histories + boards/sprints/versions + an id-only census;
- incremental poll with nothing changed: ONE search request. Boards, sprints and versions are
  refreshed when issues changed or every `agile_refresh_minutes` (sprint events do not bump an
  issue's `updated`, so they cannot ride on the issue cursor); the deletion census runs every
  `reconcile_hours`.
The cursor (`updated`, the site's field map, deployment, refresh times) is committed with each page.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter

from connectors._retry import RetryDecision, call_with_retry, parse_retry_after
from connectors.config import JiraSource
from connectors.jira_mapping import (
    FieldMap,
    field_map_from_fields,
    item_from_jira,
    person_from_jira,
    release_from_version,
    sprint_from_jira,
    transitions_from_histories,
)
from syncd.errors import SourceError
from syncd.model import Batch, Person, Release, Sprint, make_id

log = logging.getLogger("syncd.jira")
Json = dict[str, Any]
EMBEDDED_HISTORIES = 100


class _CountingAdapter(HTTPAdapter):
    """Counts every request sent (including ones that fail) and never retries by itself."""

    def __init__(self, on_send: Callable[[], None]) -> None:
        super().__init__(max_retries=0, pool_connections=4, pool_maxsize=4)
        self._on_send = on_send

    def send(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self._on_send()
        return super().send(*args, **kwargs)


def classify(exc: BaseException) -> RetryDecision | None:
    """Which Jira failures are transient: 429 (Retry-After), 5xx, connection faults, broken JSON."""
    if isinstance(exc, JIRAError):
        status = exc.status_code or 0
        headers = exc.response.headers if exc.response is not None else {}
        if status == 429:
            after = parse_retry_after(headers.get("Retry-After"))  # "0" means now, not "unknown"
            return RetryDecision(5.0 if after is None else after, "429 rate limited")
        if status >= 500:
            return RetryDecision(None, f"HTTP {status}")
        return None
    if isinstance(exc, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return RetryDecision(None, exc.__class__.__name__)
    if isinstance(exc, json.JSONDecodeError | requests.exceptions.JSONDecodeError):
        return RetryDecision(None, "malformed JSON")
    return None


def describe(exc: BaseException) -> str:
    """One line for a failure, without the response body's noise or any credential."""
    if isinstance(exc, JIRAError):
        text = exc.text if isinstance(exc.text, str) else ""
        try:
            body = json.loads(exc.response.text) if exc.response is not None else {}
            msgs = body.get("errorMessages") or list((body.get("errors") or {}).values())
            text = "; ".join(str(m) for m in msgs) or text
        except (ValueError, AttributeError):
            pass
        return f"HTTP {exc.status_code}: {text}".strip().rstrip(":")[:300]
    return f"{exc.__class__.__name__}: {exc}"[:300]


class JiraClient:
    """Raw Jira calls through the `jira` library, with our retry policy and request counting."""

    def __init__(self, name: str, config: JiraSource, deployment: str = "cloud") -> None:
        self.name = name
        self.config = config
        self.requests = 0
        self.deployment = deployment
        self._jira: JIRA | None = None
        self.sleep: Callable[[float], None] = time.sleep  # tests record waits instead of sleeping

    def _count(self) -> None:
        self.requests += 1

    @property
    def jira(self) -> JIRA:
        """The `jira` client, created on first use with its own retries off."""
        if self._jira is None:
            cfg = self.config
            token = cfg.token.get_secret_value()
            api = "3" if self.deployment == "cloud" else "2"
            kwargs: dict[str, Any] = dict(
                server=cfg.url, options={"rest_api_version": api, "agile_rest_path": "agile"},
                get_server_info=False, max_retries=0, timeout=cfg.retry.timeout_s, validate=False,
            )
            if cfg.email:
                kwargs["basic_auth"] = (cfg.email, token)
            else:
                kwargs["token_auth"] = token
            client = JIRA(**kwargs)
            # without get_server_info the client believes it is not on Cloud, and its @cloud_api methods
            # (enhanced_search_issues) silently return None: tell it what the deployment is
            client.deploymentType = "Cloud" if self.deployment == "cloud" else "Server"
            # the client maps JQL field names to ids through a lazily fetched /field cache; we pass
            # ids already, so a non-empty cache keeps it from spending a request on every poll
            client._fields_cache_value = {"id": "id"}
            adapter = _CountingAdapter(self._count)
            client._session.mount("http://", adapter)
            client._session.mount("https://", adapter)
            self._jira = client
        return self._jira

    def set_deployment(self, deployment: str) -> None:
        """Switch REST version (v3 on Cloud, v2 on Server/DC) before the first search."""
        if deployment != self.deployment:
            self.deployment = deployment
            self._jira = None

    def call(self, fn: Callable[[], Any], what: str) -> Any:
        """Run one API call under the shared retry policy."""
        return call_with_retry(fn, policy=self.config.retry, source=self.name, classify=classify,
                               describe=lambda e: f"{what}: {describe(e)}", url=self.config.url, sleep=self.sleep)

    def get(self, path: str, params: Json | None = None, *, agile: bool = False) -> Any:
        """GET a platform (`/rest/api/N/...`) or agile (`/rest/agile/1.0/...`) path as JSON."""
        j = self.jira
        base = j.AGILE_BASE_URL if agile else j.JIRA_BASE_URL
        return self.call(lambda: j._get_json(path, params=params, base=base), f"GET {path}")

    def server_info(self) -> Json:
        """/rest/api/2/serverInfo (deploymentType tells Cloud from Server/DC; REST v3 exists on Cloud only)."""
        j = self.jira
        return self.call(lambda: j._get_json("serverInfo", base="{server}/rest/api/2/{path}"),  # type: ignore[no-any-return]
                         "GET serverInfo")

    def fields(self) -> list[Json]:
        """/field: every system and custom field of the site."""
        return self.get("field")  # type: ignore[no-any-return]

    def search_page(self, jql: str, fields: list[str], token: str | None, start_at: int, max_results: int,
                    expand: str | None) -> Json:
        """One search page: /search/jql (Cloud, token) or legacy /search (Server, startAt)."""
        j = self.jira
        if self.deployment == "cloud":
            return self.call(lambda: j.enhanced_search_issues(  # type: ignore[return-value]
                jql, nextPageToken=token, maxResults=max_results, fields=list(fields), expand=expand,
                json_result=True, use_post=True), "search")
        return self.call(lambda: j.search_issues(  # type: ignore[return-value]
            jql, startAt=start_at, maxResults=max_results, fields=list(fields), expand=expand,
            json_result=True, validate_query=True), "search")

    def changelog(self, issue_id: str, start_at: int) -> Json:
        """One page of an issue's changelog."""
        return self.get(f"issue/{issue_id}/changelog", {"startAt": start_at, "maxResults": 100})  # type: ignore[no-any-return]

    def paged_values(self, path: str, params: Json, *, agile: bool) -> Iterator[Json]:
        """Every value of an offset-paged list (`{startAt, maxResults, isLast, values}`)."""
        start = 0
        while True:
            page = self.get(path, {**params, "startAt": start, "maxResults": 50}, agile=agile)
            values = page.get("values") or []
            yield from values
            start += len(values)
            if page.get("isLast", True) or not values:
                return


class JiraConnector:
    """Yields batches of a Jira source; see the module docstring for what each poll costs."""

    def __init__(self, name: str, config: JiraSource, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.name = name
        self.config = config
        self.client = JiraClient(name, config)
        self.total_hint: int | None = None
        self._now = now

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    # -- scope ---------------------------------------------------------------------------------

    def _scope_jql(self) -> str:
        projects = ", ".join(f'"{p}"' for p in self.config.projects)
        jql = f"project in ({projects})"
        if self.config.jql:
            jql = f"({jql}) AND ({self.config.jql})"
        return jql

    # -- fetch ---------------------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any] | None, *, full: bool, known_ids: Callable[[], dict[str, str]]) -> Iterator[Batch]:
        """Yield batches: changed issues page by page, then agile data and the census when due."""
        state: dict[str, Any] = dict(cursor or {})
        first = full or "updated" not in state or "fields" not in state
        if first or "deployment" not in state:
            state["deployment"] = self._deployment()
        self.client.set_deployment(state["deployment"])
        if first or "fields" not in state:
            fm = field_map_from_fields(self.client.fields(), self.config.story_points_field)
            state["fields"] = fm.to_json()
        fm = FieldMap.from_json(state["fields"])
        if self.config.story_points_field:
            fm.points = self.config.story_points_field

        # The cursor overlap re-reads the newest issues on every poll; only issues updated after the
        # cursor count as changes, or a poll with nothing new would refresh boards and versions too.
        since = None if first else datetime.fromisoformat(state["updated"])
        changed = 0
        for batch in self._changed_issues(state, fm, incremental=not first):
            changed += sum(1 for item in batch.items if since is None or item.updated > since)
            yield batch

        now = self._now()
        agile_due = _due(state.get("agile_at"), now, timedelta(minutes=self.config.agile_refresh_minutes))
        if first or changed or agile_due:
            sprints, releases = self._agile_and_versions()
            state["agile_at"] = now.isoformat()
            state["agile_ids"] = {"sprints": sorted(s.remote_id for s in sprints),
                                  "versions": sorted(r.remote_id for r in releases)}
            yield Batch(sprints=sprints, releases=releases, cursor=dict(state))

        census_due = _due(state.get("census_at"), now, timedelta(hours=self.config.reconcile_hours))
        if full or census_due:
            present = self._census()
            removed = sorted(set(known_ids()) - present)
            state["census_at"] = now.isoformat()
            yield Batch(removed_ids=removed, cursor=dict(state))

    def _deployment(self) -> str:
        if self.config.deployment != "auto":
            return self.config.deployment
        info = self.client.server_info()
        return "cloud" if str(info.get("deploymentType", "")).lower() == "cloud" else "server"

    def _changed_issues(self, state: dict[str, Any], fm: FieldMap, *, incremental: bool) -> Iterator[Batch]:
        jql = self._scope_jql()
        if incremental:
            since = datetime.fromisoformat(state["updated"]) - timedelta(minutes=self.config.overlap_minutes)
            jql += f" AND updated >= {int(since.timestamp() * 1000)}"
        jql += " ORDER BY updated ASC, key ASC"
        token: str | None = None
        start_at = 0
        seen: set[str] = set()
        while True:
            page = self.client.search_page(jql, fm.request_fields(), token, start_at, self.config.page_size, "changelog")
            issues = page.get("issues") or []
            if "total" in page and self.total_hint is None and not incremental:
                self.total_hint = int(page["total"])
            fresh = [i for i in issues if str(i.get("id")) not in seen]
            seen.update(str(i.get("id")) for i in issues)
            if fresh:
                batch = self._issues_batch(fresh, fm, state.get("agile_ids") or {})
                newest = max(i.updated for i in batch.items)
                previous = datetime.fromisoformat(state["updated"]) if "updated" in state else None
                state["updated"] = max(newest, previous).isoformat() if previous else newest.isoformat()
                batch.cursor = dict(state)
                yield batch
            start_at += len(issues)
            token = page.get("nextPageToken")
            if self.client.deployment == "cloud":
                if page.get("isLast", token is None) or not token:
                    break
            elif not issues or start_at >= int(page.get("total", 0)):
                break
        if not seen and "updated" not in state:
            state["updated"] = datetime(1970, 1, 1, tzinfo=UTC).isoformat()

    def _issues_batch(self, issues: list[Json], fm: FieldMap, agile_ids: dict[str, list[str]]) -> Batch:
        batch = Batch()
        people: dict[str, Person] = {}
        sprints: dict[str, Sprint] = {}
        releases: dict[str, Release] = {}
        for payload in issues:
            mapped = item_from_jira(self.name, payload, fm, self.config.url)
            batch.items.append(mapped.item)
            batch.links.extend(mapped.links)
            for p in mapped.people:
                people[p.id] = p
            for s in mapped.sprints:
                sprints[s.id] = s
            for r in mapped.releases:
                releases[r.id] = r
            histories = self._histories(payload)
            for h in histories:
                author = person_from_jira(self.name, h.get("author"))
                if author:
                    people[author.id] = author
            batch.transitions.extend(transitions_from_histories(self.name, str(payload["id"]), histories, fm))
        # Sprints and versions embedded in issues are partial copies (no board name): store them only
        # until the agile refresh has stored the full ones, or every re-read issue would overwrite those.
        known_sprints, known_versions = set(agile_ids.get("sprints", ())), set(agile_ids.get("versions", ()))
        batch.sprints = [s for s in sprints.values() if s.board_id is not None and s.remote_id not in known_sprints]
        batch.releases = [r for r in releases.values() if r.remote_id not in known_versions]
        batch.people = list(people.values())
        return batch

    def _histories(self, payload: Json) -> list[Json]:
        """All histories of an issue: the embedded ones, or every page when Jira embedded fewer."""
        changelog = payload.get("changelog") or {}
        embedded = changelog.get("histories") or []
        total = int(changelog.get("total", len(embedded)) or 0)
        if total <= len(embedded):
            return sorted(embedded, key=lambda h: (h.get("created", ""), str(h.get("id"))))
        histories: list[Json] = []
        start = 0
        while start < total:
            page = self.client.changelog(str(payload["id"]), start)
            values = page.get("values") or []
            histories.extend(values)
            start += len(values)
            total = int(page.get("total", total))
            if not values or page.get("isLast"):
                break
        return sorted(histories, key=lambda h: (h.get("created", ""), str(h.get("id"))))

    def _agile_and_versions(self) -> tuple[list[Sprint], list[Release]]:
        sprints: list[Sprint] = []
        releases: list[Release] = []
        board_ids = list(self.config.boards or [])
        board_names: dict[int, str] = {}
        if not board_ids:
            for project in self.config.projects:
                for board in self.client.paged_values("board", {"projectKeyOrId": project}, agile=True):
                    if board["id"] not in board_names and str(board.get("type", "scrum")) == "scrum":
                        board_ids.append(int(board["id"]))
                        board_names[int(board["id"])] = str(board.get("name", ""))
        for board_id in board_ids:
            try:
                for s in self.client.paged_values(f"board/{board_id}/sprint", {}, agile=True):
                    sprints.append(sprint_from_jira(self.name, s, board_names.get(board_id)))
            except SourceError as exc:
                if "HTTP 400" not in str(exc):  # kanban boards have no sprints
                    raise
        for project in self.config.projects:
            for v in self.client.get(f"project/{project}/versions"):
                releases.append(release_from_version(self.name, project, v, self.config.url))
        return sprints, releases

    def _census(self) -> set[str]:
        """Ids of every issue in scope now (id-only pages): the source's side of delete detection."""
        ids: set[str] = set()
        token: str | None = None
        start_at = 0
        jql = self._scope_jql() + " ORDER BY key ASC"
        while True:
            page = self.client.search_page(jql, ["id"], token, start_at, 1000, None)
            issues = page.get("issues") or []
            ids.update(make_id(self.name, i["id"]) for i in issues)
            start_at += len(issues)
            token = page.get("nextPageToken")
            if self.client.deployment == "cloud":
                if page.get("isLast", token is None) or not token:
                    return ids
            elif not issues or start_at >= int(page.get("total", 0)):
                return ids


def _due(stamp: str | None, now: datetime, every: timedelta) -> bool:
    if not stamp:
        return True
    return now - datetime.fromisoformat(stamp) >= every
