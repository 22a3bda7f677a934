"""GitHub's HTTP edge: PyGithub's requester under our one retry policy, rate-limit pacing, request counting.

Rate limits, as GitHub documents them and as the client applies them:
- every answer's `x-ratelimit-remaining/-reset/-resource` is read, per resource (`core` for REST,
  `graphql` for GraphQL, which is charged by query cost: the client remembers the largest
  `rateLimit.cost` it has seen). Before a request, when the resource's remaining budget (minus
  `rate_reserve`) cannot pay for it, the client waits until the reset instead of spending the last
  points blindly;
- a primary limit (403/429 with `x-ratelimit-remaining: 0`, or GraphQL's `RATE_LIMITED` error) waits
  until `x-ratelimit-reset`; a secondary limit honours `Retry-After` (60 s when GitHub sends none);
- a wait longer than `max_rate_wait_s` stops the whole source with one line (`RateBudgetSpent`);
- PyGithub's own retries and throttle are off (`retry=None`: requests' adapter makes one attempt),
  so its retries never stack on ours. Requests PyGithub makes on its own (a GitHub App installation
  token, about once an hour) are not counted in `requests`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from github import Auth, Github, GithubException

from syncd.connectors._http import WholeBodyAdapter
from syncd.connectors._retry import RetryDecision, call_with_retry, parse_retry_after
from syncd.connectors.config import GitHubSource, RetryPolicy
from syncd.connectors.payload import AnswerCheck
from syncd.errors import SourceError

log = logging.getLogger("syncd.github")
Json = dict[str, Any]
SECONDARY_DEFAULT_WAIT = 60.0  # GitHub: without Retry-After, wait at least a minute


class SourceStopped(SourceError):
    """A failure no other repository of the source can escape: the whole source stops here."""


class RateBudgetSpent(SourceStopped):
    """The rate budget is spent and resets later than `max_rate_wait_s`."""


class BadCredentials(SourceStopped):
    """GitHub refused the token or app installation (401)."""


class _RateLimited(Exception):
    """A rate-limit answer we will wait out (`wait` seconds)."""

    def __init__(self, wait: float, reason: str) -> None:
        super().__init__(reason)
        self.wait, self.reason = wait, reason


class _GraphQLTimeout(Exception):
    """GitHub's 'Something went wrong while executing your query' (a server-side timeout): transient."""


def header(headers: Any, name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in dict(headers).items():
        if key.lower() == wanted:
            return str(value)
    return None


def next_link(headers: Any) -> str | None:
    """The `rel="next"` URL of a Link header, if any."""
    for part in (header(headers, "Link") or "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def last_page(headers: Any) -> int | None:
    """The page number of a Link header's `rel="last"` URL, if any."""
    for part in (header(headers, "Link") or "").split(","):
        if 'rel="last"' in part:
            query = part.split(";")[0].strip().strip("<>").partition("?")[2]
            for pair in query.split("&"):
                key, _, value = pair.partition("=")
                if key == "page" and value.isdigit():
                    return int(value)
    return None


def classify(exc: BaseException) -> RetryDecision | None:
    """Transient GitHub failures: rate limits we decided to wait out, 5xx, connection faults, broken JSON."""
    if isinstance(exc, _RateLimited):
        return RetryDecision(exc.wait, exc.reason)
    if isinstance(exc, GithubException):
        return RetryDecision(None, f"HTTP {exc.status}") if exc.status >= 500 else None
    if isinstance(exc, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return RetryDecision(None, exc.__class__.__name__)
    if isinstance(exc, json.JSONDecodeError):
        return RetryDecision(None, "malformed JSON")
    if isinstance(exc, _GraphQLTimeout):
        return RetryDecision(None, "GraphQL timeout")
    return None


def describe(exc: BaseException) -> str:
    """One line for a failure (GitHub's message, not the whole body)."""
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        msg = data.get("message") or ((data.get("errors") or [{}])[0] or {}).get("message") or ""
        return f"HTTP {exc.status}: {msg}".rstrip(": ")[:300]
    if isinstance(exc, _RateLimited):
        return exc.reason
    return f"{exc.__class__.__name__}: {exc}"[:300]


def graphql_problem(error: Json) -> str:
    """One line for a GraphQL error: `GraphQL: TYPE: message`."""
    kind = f"{error['type']}: " if error.get("type") else ""
    return f"GraphQL: {kind}{error.get('message')}"


_PARSE = "_Requester__structuredFromJson"  # PyGithub's one JSON parse of every answer (`Requester.__check`)


def _parse_answers(requester: Any, answers: AnswerCheck) -> None:
    """Have PyGithub parse its answers with orjson through `answers` (strictness noted) instead of the stdlib's
    `json.loads` (issue 18 item 3: about twice as fast); a PyGithub without that method parses as it did, and
    its answers do not count as strict."""
    if not callable(getattr(type(requester), _PARSE, None)):
        answers.strict = False
        return

    def structured(data: str | bytes) -> Any:  # what PyGithub 2's `__structuredFromJson` does
        if len(data) == 0:
            return None
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        try:
            return answers.parse(data)
        except ValueError:
            if data.startswith("{") or data.startswith("["):
                raise
            return {"data": data}

    setattr(requester, _PARSE, structured)


_CONNECT = "_Requester__createConnection"  # PyGithub's connection, kept for every request of its requester


def _read_bodies_whole(requester: Any) -> None:
    """Have PyGithub's connection read each answer's body in one piece (`connectors._http.read_body`), not in
    requests' 10 KiB pieces (issue 18 item 3: a replayed 10k first sync reads 20.8 MB of GitHub answers; one
    piece was 5.0 -> 2.0 ms CPU per MB for Jira's). A PyGithub without that connection reads as it did."""
    create = getattr(requester, _CONNECT, None)
    connection = create() if callable(create) else None
    session = getattr(connection, "session", None)
    if not isinstance(session, requests.Session):
        return
    size = getattr(connection, "pool_size", None) or requests.adapters.DEFAULT_POOLSIZE
    adapter = WholeBodyAdapter(max_retries=getattr(connection, "retry", None) or 0, pool_connections=size,
                               pool_maxsize=size)  # PyGithub's own adapter's settings (`retry=None`: 0)
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)


@dataclass
class Budget:
    """What GitHub last said about one rate-limit resource."""

    remaining: int | None = None
    reset: float | None = None  # epoch seconds
    cost: int = 1  # the most one request of this resource has cost


class SerialInstallationAuth(Auth.AppInstallationAuth):
    """A GitHub App installation auth that several threads' PyGithub clients can share.

    Every thread's client (see `GitHubClient.requester`) reads the one installation token through
    this object; when the token is near its expiry (PyGithub refreshes 20 s before), the first
    reader asks GitHub for a new one and the others wait for it, instead of each sending their own
    refresh over the one connection PyGithub's integration requester keeps (two threads on one
    http.client connection fail with CannotSendRequest/ResponseNotReady). One refresh an hour,
    whatever the number of threads.
    """

    def __init__(self, app_auth: Auth.AppAuth, installation_id: int) -> None:
        super().__init__(app_auth, installation_id)
        self._refreshing = threading.Lock()

    @property
    def token(self) -> str:
        with self._refreshing:
            return super().token


class GitHubClient:
    """Raw GitHub calls through PyGithub's requester: our retry policy, pacing, request counting."""

    def __init__(self, name: str, config: GitHubSource) -> None:
        self.name = name
        self.config = config
        self.requests = 0
        self.budgets: dict[str, Budget] = {"core": Budget(), "graphql": Budget()}
        self.sleep: Callable[[float], None] = time.sleep  # tests record waits instead of sleeping
        self.clock: Callable[[], float] = time.time  # tests share a fake clock with the sandbox
        if config.token is not None:
            auth: Any = Auth.Token(config.token.get_secret_value())
        else:
            assert config.app_id and config.private_key and config.installation_id
            auth = SerialInstallationAuth(Auth.AppAuth(config.app_id, config.private_key.get_secret_value()),
                                          config.installation_id)
        self._auth = auth
        self.answers = AnswerCheck()  # whether every answer read was strict JSON without a NUL
        self._local = threading.local()  # one PyGithub client per thread (see `requester`)
        self._counting = threading.Lock()
        self.gh = self._local.gh = self._github()
        # rate-limit waits are bounded by max_rate_wait_s (checked before waiting), not by max_wait_s
        retry = config.retry
        self.policy = RetryPolicy(**{**retry.model_dump(),
                                     "max_wait_s": max(retry.max_wait_s, config.max_rate_wait_s + 2),
                                     "total_s": retry.total_s + config.max_rate_wait_s})

    def _github(self) -> Github:
        gh = Github(auth=self._auth, base_url=self.config.base_url, per_page=100, retry=None,
                    seconds_between_requests=None, seconds_between_writes=None, timeout=int(self.config.retry.timeout_s))
        _parse_answers(gh.requester, self.answers)
        _read_bodies_whole(gh.requester)
        return gh

    @property
    def requester(self) -> Any:
        """This thread's PyGithub requester. A Requester keeps one connection object whose request() and
        getresponse() are two steps on shared fields, so two threads (the issues list prefetched beside a
        GraphQL batch, `connectors.prefetch`) must not share one; everything else of this client (rate
        budgets, pacing, the request count, retries) is shared."""
        gh = getattr(self._local, "gh", None)
        if gh is None:
            gh = self._local.gh = self._github()
        return gh.requester

    # -- rate limits ------------------------------------------------------------------------------

    def _observe(self, headers: Any, resource: str) -> Budget:
        budget = self.budgets.setdefault(header(headers, "x-ratelimit-resource") or resource, Budget())
        remaining, reset = header(headers, "x-ratelimit-remaining"), header(headers, "x-ratelimit-reset")
        if remaining is not None and remaining.isdigit():
            budget.remaining = int(remaining)
        if reset is not None and reset.isdigit():
            budget.reset = float(reset)
        return budget

    def _bounded(self, wait: float, reason: str) -> float:
        if wait > self.config.max_rate_wait_s:
            raise RateBudgetSpent(self.name, f"{reason}: waiting {wait:.0f}s would exceed "
                                             f"max_rate_wait_s={self.config.max_rate_wait_s:.0f}s; stopped",
                                  self.config.base_url)
        return max(0.0, wait)

    def _until_reset(self, budget: Budget) -> float:
        return (budget.reset - self.clock() + 1) if budget.reset else SECONDARY_DEFAULT_WAIT

    def _pace(self, resource: str) -> None:
        """Wait for the reset rather than send a request the remaining budget cannot pay for."""
        budget = self.budgets.setdefault(resource, Budget())
        if budget.remaining is None:
            return
        if budget.remaining - self.config.rate_reserve >= budget.cost:
            # counted as spent until an answer tells: a request whose answer is lost (a dropped connection,
            # a 5xx without rate headers) may still have been charged, and its retry must not overdraw
            budget.remaining -= budget.cost
            return
        wait = self._until_reset(budget)
        if wait > 0:
            wait = self._bounded(wait, f"{resource} rate budget spent ({budget.remaining} left)")
            log.info("%s: %s rate budget spent, waiting %.0fs for its reset", self.name, resource, wait)
            self.sleep(wait)
        budget.remaining = None  # a new window: the next answer tells

    def _rate_limit(self, exc: GithubException, budget: Budget) -> _RateLimited | None:
        """The wait a 403/429 asks for, when it is a rate limit (None for other refusals)."""
        if exc.status not in (403, 429):
            return None
        retry_after = parse_retry_after(header(exc.headers, "Retry-After"))
        if retry_after is not None:
            return _RateLimited(self._bounded(retry_after, "secondary rate limit"), "secondary rate limit")
        if header(exc.headers, "x-ratelimit-remaining") == "0":
            reason = "primary rate limit"
            return _RateLimited(self._bounded(self._until_reset(budget), reason), reason)
        message = str((exc.data or {}).get("message") if isinstance(exc.data, dict) else "").lower()
        if "rate limit" in message:
            reason = "secondary rate limit (no Retry-After)"
            return _RateLimited(self._bounded(SECONDARY_DEFAULT_WAIT, reason), reason)
        return None

    # -- requests ---------------------------------------------------------------------------------

    def call(self, verb: str, url: str, *, params: Json | None = None, headers: dict[str, str] | None = None,
             body: Any = None, resource: str = "core", missing_ok: bool = False) -> tuple[dict[str, Any], Any]:
        """One REST or GraphQL request (answer headers, JSON) under the retry policy and pacing.

        `missing_ok`: a 404 or 410 answers `({}, None)` instead of failing.
        """

        def once() -> tuple[dict[str, Any], Any]:
            self._pace(resource)
            with self._counting:
                self.requests += 1
            try:
                answer_headers, data = self.requester.requestJsonAndCheck(verb, url, parameters=params,
                                                                          headers=headers, input=body)
            except GithubException as exc:
                if missing_ok and exc.status in (404, 410):
                    return {}, None
                if exc.status == 401:
                    raise BadCredentials(self.name, f"bad credentials ({describe(exc)}): check the token or the "
                                                    "app installation", self.config.base_url) from None
                limited = self._rate_limit(exc, self._observe(exc.headers, resource))
                if limited is not None:
                    raise limited from None
                raise
            budget = self._observe(answer_headers, resource)
            if resource == "graphql" and isinstance(data, dict):
                self._check_graphql(data, budget)
            return answer_headers, data

        return call_with_retry(once, policy=self.policy, source=self.name, classify=classify,
                               describe=lambda e: f"{verb} {urlparse(url).path or url}: {describe(e)}",
                               url=self.config.base_url, sleep=self.sleep)

    def _check_graphql(self, data: Json, budget: Budget) -> None:
        cost = ((data.get("data") or {}).get("rateLimit") or {}).get("cost")
        if isinstance(cost, int):
            budget.cost = max(budget.cost, cost)
        for error in data.get("errors") or []:
            # RATE_LIMITED; some answers carry only the message ("API rate limit already exceeded ...")
            if error.get("type") == "RATE_LIMITED" or "api rate limit" in str(error.get("message", "")).lower():
                reason = "GraphQL rate limit"
                raise _RateLimited(self._bounded(self._until_reset(budget), reason), reason)
            if str(error.get("message", "")).startswith("Something went wrong while executing your query"):
                raise _GraphQLTimeout(error["message"])

    def graphql(self, query: str, variables: Json) -> Json:
        """A GraphQL query's `data`; a GraphQL error becomes a one-line SourceError."""
        data, errors = self.graphql_partial(query, variables)
        if errors:
            raise SourceError(self.name, graphql_problem(errors[0]), self.config.base_url)
        return data

    def graphql_partial(self, query: str, variables: Json) -> tuple[Json, list[Json]]:
        """A GraphQL query's `data` and `errors`: the data GitHub could resolve comes back beside the errors
        of what it could not (e.g. one aliased repository of several is missing). Rate limits and timeouts
        are retried as for `graphql`."""
        _, answer = self.call("POST", self.requester.graphql_url, body={"query": query, "variables": variables},
                              resource="graphql")
        if not isinstance(answer, dict):
            raise SourceError(self.name, "GraphQL: empty answer", self.config.base_url)
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in answer.get("errors") or []]
        data = answer.get("data")
        return (data if isinstance(data, dict) else {}), errors

    def paged(self, path: str, params: Json) -> Iterator[Json]:
        """Every element of a Link-paged REST list."""
        url: str | None = path
        query: Json | None = {**params, "per_page": 100}
        while url:
            answer_headers, data = self.call("GET", url, params=query)
            yield from data or []
            url = next_link(answer_headers)
            query = None  # the next URL carries its own query
