"""Raw Jira calls through the `jira` library: our retry policy, request counting, one-line failures.

The connector (`connectors.jira`) turns what these return into records; nothing here maps payloads.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from jira import JIRA, JIRAError

from syncd.connectors._http import WholeBodyAdapter
from syncd.connectors._retry import RetryDecision, call_with_retry, parse_retry_after
from syncd.connectors.config import JiraSource
from syncd.connectors.payload import AnswerCheck
from syncd.errors import SourceError

Json = dict[str, Any]


class _OneLineLog(logging.Filter):
    """The `jira` library logs whole response bodies at ERROR (`_get_json` logs the JSON error, then
    `r.text`: about 400 KB for one truncated search page that our retry policy then reads again).
    Keep the first line, capped, and say how much was left out."""

    LIMIT = 300

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        first, newline, _ = message.partition("\n")
        if newline or len(first) > self.LIMIT:
            record.msg = f"{first[:self.LIMIT]} ({len(message)} characters, response body not logged)"
            record.args = None
        return True


def _quiet_library_logs() -> None:
    """Install `_OneLineLog` on the library's loggers once (a filter applies to its own logger only)."""
    for name in ("jira", "jira.resilientsession"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _OneLineLog) for f in target.filters):
            target.addFilter(_OneLineLog())


_quiet_library_logs()


class _CountingAdapter(WholeBodyAdapter):
    """Counts every request sent (including ones that fail), never retries by itself, reads bodies whole."""

    def __init__(self, on_send: Callable[[], None]) -> None:
        super().__init__(max_retries=0, pool_connections=4, pool_maxsize=4)
        self._on_send = on_send

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        self._on_send()
        return super().send(request, stream=stream, **kwargs)


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
        if text.lstrip().startswith("<"):  # an HTML error page (a proxy, a crashed node): its title at most
            title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
            text = title.group(1) if title else ""
        return " ".join(f"HTTP {exc.status_code}: {text}".split()).rstrip(":")[:300]
    return " ".join(f"{exc.__class__.__name__}: {exc}".split())[:300]


class Refused(SourceError):
    """A request Jira answered 403 or 404: the resource is absent on this site or hidden from the token."""

    def __init__(self, source: str, message: str, url: str | None, status: int) -> None:
        super().__init__(source, message, url)
        self.status = status


class JiraClient:
    """Raw Jira calls through the `jira` library, with our retry policy and request counting."""

    def __init__(self, name: str, config: JiraSource, deployment: str = "cloud") -> None:
        self.name = name
        self.config = config
        self.requests = 0
        self.deployment = deployment
        self._jira: JIRA | None = None
        self.answers = AnswerCheck()  # whether every answer read was strict JSON without a NUL
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
        """GET a platform (`/rest/api/N/...`) or agile (`/rest/agile/1.0/...`) path as JSON.

        Raises `Refused` (a SourceError) for 403 and 404, so callers can tell "not here" from a failure.
        """
        j = self.jira
        base = j.AGILE_BASE_URL if agile else j.JIRA_BASE_URL

        def get() -> Any:
            try:
                return self.answers.parsed(j._get_json(path, params=params, base=base))
            except JIRAError as exc:
                if exc.status_code in (403, 404):
                    raise Refused(self.name, f"GET {path}: {describe(exc)}", self.config.url, exc.status_code) from None
                raise

        return self.call(get, f"GET {path}")

    def server_info(self) -> Json:
        """/rest/api/2/serverInfo (deploymentType tells Cloud from Server/DC; REST v3 exists on Cloud only)."""
        j = self.jira
        return self.call(lambda: self.answers.parsed(j._get_json("serverInfo", base="{server}/rest/api/2/{path}")),  # type: ignore[no-any-return]
                         "GET serverInfo")

    def fields(self) -> list[Json]:
        """/field: every system and custom field of the site."""
        return self.get("field")  # type: ignore[no-any-return]

    def issue_types(self) -> list[Json]:
        """/issuetype: every issue type of the site (on Cloud with `untranslatedName` and `hierarchyLevel`)."""
        return self.get("issuetype")  # type: ignore[no-any-return]

    def search_page(self, jql: str, fields: list[str], token: str | None, start_at: int, max_results: int,
                    expand: str | None, properties: list[str] | None = None) -> Json:
        """One search page: /search/jql (Cloud, token) or legacy /search (Server, startAt).

        `properties`: issue property keys (at most 5) returned with each issue as `"properties": {key: value}`.
        """
        j = self.jira
        if self.deployment == "cloud":
            # the POST body's `properties` is a list of keys (OpenAPI SearchAndReconcileRequestBean), though
            # the library types it as a string
            wanted: Any = list(properties) if properties else None
            # the body `enhanced_search_issues(json_result=True, use_post=True)` posts, key for key, through the
            # client's own session (auth, our counting adapter; its `request` raises JIRAError on an error
            # status), parsed by orjson: the library's `r.json()` was a tenth of a first sync (issue 18)
            body: Json = {"jql": jql, "fields": list(fields), "expand": expand, "properties": wanted,
                          "reconcileIssues": []}
            if token:
                body["nextPageToken"] = token
            body["maxResults"] = max_results

            def search() -> Json:
                answer = j._session.post(j._get_url("search/jql"), data=json.dumps(body))
                return self.answers.parse(answer.content)  # type: ignore[no-any-return]

            return self.call(search, "search")  # type: ignore[no-any-return]
        # Server/DC's GET /search takes them comma-separated
        joined = ",".join(properties) if properties else None
        return self.call(lambda: self.answers.parsed(j.search_issues(  # type: ignore[return-value]
            jql, startAt=start_at, maxResults=max_results, fields=list(fields), expand=expand,
            properties=joined, json_result=True, validate_query=True)), "search")

    def changelog(self, issue_id: str, start_at: int) -> Json:
        """One page of an issue's changelog."""
        return self.get(f"issue/{issue_id}/changelog", {"startAt": start_at, "maxResults": 100})  # type: ignore[no-any-return]

    def issue(self, issue_id: str, fields: list[str], properties: list[str] | None = None) -> Json | None:
        """One issue with its changelog (as a search embeds it), or None when it is gone (404)."""
        j = self.jira
        params = {"fields": ",".join(fields), "expand": "changelog"}
        if properties:
            params["properties"] = ",".join(properties)

        def get() -> Json | None:
            try:
                return self.answers.parsed(j._get_json(f"issue/{issue_id}", params=params))  # type: ignore[no-any-return]
            except JIRAError as exc:
                if exc.status_code == 404:
                    return None
                raise

        return self.call(get, f"GET issue/{issue_id}")  # type: ignore[no-any-return]

    def paged_values(self, path: str, params: Json, *, agile: bool) -> Iterator[Json]:
        """Every value of an offset-paged list (`{startAt, maxResults, isLast, values}`)."""
        start = 0
        while True:
            page = self.get(path, {**params, "startAt": start, "maxResults": 50}, agile=agile)
            if not isinstance(page, dict) or not isinstance(page.get("values"), list | None):
                raise SourceError(self.name, f"GET {path}: expected a page of values", self.config.url)
            values = page.get("values") or []
            yield from values
            start += len(values)
            if page.get("isLast", True) or not values:
                return
