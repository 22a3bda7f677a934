"""GitHub connector: issues and pull requests with reviews, checks, milestones and releases.

Cost model:
- changed items come from `/repos/{o}/{r}/issues?since=…&sort=updated&direction=asc` (100 a page:
  issues and PRs together); the PRs among them get their details (reviews, checks, size, merge,
  commit messages for Jira keys) in GraphQL batches of `graphql_batch` PRs, so a PR costs about
  1/50 of a request; a PR with more reviews than fit is followed up on its own;
- a poll with nothing changed is ONE conditional request per repository (`If-None-Match` on the
  same `since` query: GitHub answers 304 and does not charge it);
- milestones and releases are refreshed when items changed or every `releases_refresh_minutes`;
  the deletion census (GraphQL id pages) runs every `reconcile_hours` or on `--full`.
The cursor, per repository, is committed with every page.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import requests
from github import Auth, Github, GithubException

from connectors._retry import RetryDecision, call_with_retry, parse_retry_after
from connectors.config import GitHubSource, RetryPolicy
from connectors.github_mapping import (
    CENSUS_QUERY,
    REVIEWS_QUERY,
    item_from_issue,
    people_from_issue,
    pull_from_graphql,
    pulls_query,
    release_from_milestone,
    release_from_release,
)
from syncd.errors import SourceError
from syncd.model import Batch, ItemKind, Person, make_id

log = logging.getLogger("syncd.github")
Json = dict[str, Any]
OVERLAP = timedelta(seconds=60)


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for k, v in dict(headers).items():
        if k.lower() == name.lower():
            return str(v)
    return None


def classify(exc: BaseException) -> RetryDecision | None:
    """Transient GitHub failures: rate limits (Retry-After or reset), 5xx, connection faults, broken JSON."""
    if isinstance(exc, GithubException):
        status = exc.status
        headers = exc.headers or {}
        if status in (403, 429):
            retry_after = parse_retry_after(_header(headers, "Retry-After"))
            if retry_after is not None:
                return RetryDecision(retry_after, f"secondary rate limit ({status})")
            if _header(headers, "x-ratelimit-remaining") == "0":
                reset = float(_header(headers, "x-ratelimit-reset") or time.time() + 60)
                return RetryDecision(max(0.0, reset - time.time()) + 1, "primary rate limit exhausted")
            return None
        if status >= 500:
            return RetryDecision(None, f"HTTP {status}")
        return None
    if isinstance(exc, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return RetryDecision(None, exc.__class__.__name__)
    if isinstance(exc, json.JSONDecodeError | ValueError):
        return RetryDecision(None, "malformed JSON")
    return None


def describe(exc: BaseException) -> str:
    """One line for a failure (GitHub's message, not the whole body)."""
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        msg = data.get("message") or (data.get("errors") or [{}])[0].get("message") if data else str(exc.data)
        return f"HTTP {exc.status}: {msg}"[:300]
    return f"{exc.__class__.__name__}: {exc}"[:300]


class GitHubClient:
    """Raw GitHub calls through PyGithub's requester: our retry policy, pacing, request counting."""

    def __init__(self, name: str, config: GitHubSource) -> None:
        self.name = name
        self.config = config
        self.requests = 0
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.sleep: Callable[[float], None] = time.sleep
        if config.token is not None:
            auth: Any = Auth.Token(config.token.get_secret_value())
        else:
            assert config.app_id and config.private_key and config.installation_id
            auth = Auth.AppAuth(config.app_id, config.private_key.get_secret_value()).get_installation_auth(
                config.installation_id)
        # PyGithub's own throttle and retries off: our policy paces and retries, once
        self.gh = Github(auth=auth, base_url=config.base_url, per_page=100, retry=None,
                         seconds_between_requests=None, seconds_between_writes=None,
                         timeout=int(config.retry.timeout_s))
        self.requester = self.gh.requester
        self.policy = RetryPolicy(**{**config.retry.model_dump(),
                                     "max_wait_s": max(config.retry.max_wait_s, config.max_rate_wait_s),
                                     "total_s": max(config.retry.total_s, config.max_rate_wait_s + 60)})

    def _observe(self, headers: Any) -> None:
        remaining = _header(headers, "x-ratelimit-remaining")
        reset = _header(headers, "x-ratelimit-reset")
        if remaining is not None and remaining.isdigit():
            self.remaining = int(remaining)
        if reset is not None:
            try:
                self.reset_at = float(reset)
            except ValueError:
                pass

    def _pace(self) -> None:
        """Never spend the last requests of the budget blindly: wait for the reset instead."""
        if self.remaining is not None and self.remaining <= 1 and self.reset_at:
            wait = self.reset_at - time.time() + 1
            if wait > self.config.max_rate_wait_s:
                raise SourceError(self.name, f"rate limit exhausted; resets in {wait:.0f}s "
                                             f"(more than max_rate_wait_s={self.config.max_rate_wait_s:.0f}s)",
                                  self.config.base_url)
            if wait > 0:
                log.info("%s: rate budget spent, waiting %.0fs for reset", self.name, wait)
                self.sleep(wait)
            self.remaining = None

    def call(self, verb: str, url: str, *, params: Json | None = None, headers: dict[str, str] | None = None,
             body: Any = None) -> tuple[dict[str, Any], Any]:
        """One REST/GraphQL request (headers, JSON) under the retry policy."""

        def once() -> tuple[dict[str, Any], Any]:
            self._pace()
            self.requests += 1
            try:
                out = self.requester.requestJsonAndCheck(verb, url, parameters=params, headers=headers, input=body)
            except GithubException as exc:
                self._observe(exc.headers)
                raise
            self._observe(out[0])
            return out

        return call_with_retry(once, policy=self.policy, source=self.name, classify=classify,
                               describe=lambda e: f"{verb} {urlparse(url).path or url}: {describe(e)}",
                               url=self.config.base_url, sleep=self.sleep)

    def graphql(self, query: str, variables: Json) -> Json:
        """A GraphQL query; GraphQL errors become one-line SourceErrors."""
        _, data = self.call("POST", self.requester.graphql_url, body={"query": query, "variables": variables})
        if not isinstance(data, dict):
            raise SourceError(self.name, "GraphQL: empty answer", self.config.base_url)
        if data.get("errors"):
            raise SourceError(self.name, f"GraphQL: {data['errors'][0].get('message')}", self.config.base_url)
        return data.get("data") or {}

    def paged(self, path: str, params: Json) -> Iterator[Json]:
        """Every element of a Link-paged REST list."""
        url: str | None = path
        query: Json | None = {**params, "per_page": 100}
        while url:
            headers, data = self.call("GET", url, params=query)
            yield from data or []
            url = _next_link(headers)
            query = None  # the next URL carries its own query


def _next_link(headers: dict[str, Any]) -> str | None:
    link = _header(headers, "Link") or ""
    for part in link.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


class GitHubConnector:
    """Yields batches of a GitHub source; see the module docstring for what each poll costs."""

    def __init__(self, name: str, config: GitHubSource, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.name = name
        self.config = config
        self.client = GitHubClient(name, config)
        self.total_hint: int | None = None
        self._now = now

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def repositories(self) -> list[str]:
        """The configured repositories, or the org's repositories filtered by include/exclude."""
        if self.config.repos:
            return list(self.config.repos)
        names = [r["full_name"] for r in self.client.paged(f"/orgs/{self.config.org}/repos", {"type": "all"})]
        return [n for n in sorted(names)
                if any(fnmatch.fnmatch(n.split("/")[-1], p) or fnmatch.fnmatch(n, p) for p in self.config.include)
                and not any(fnmatch.fnmatch(n.split("/")[-1], p) or fnmatch.fnmatch(n, p) for p in self.config.exclude)]

    def fetch(self, cursor: dict[str, Any] | None, *, full: bool,
              known_ids: Callable[[], dict[str, str]]) -> Iterator[Batch]:
        """Yield batches repository by repository; a failing repository does not stop the others."""
        state: dict[str, Any] = {k: dict(v) for k, v in (cursor or {}).get("repos", {}).items()}
        census_at = (cursor or {}).get("census_at")
        root: dict[str, Any] = {"repos": state, "census_at": census_at}
        failures: list[str] = []
        repos = self.repositories()
        for repo in repos:
            rstate: dict[str, Any] = {} if full else state.get(repo, {})
            state[repo] = rstate
            try:
                yield from self._sync_repo(repo, rstate, root, full)
            except SourceError as exc:
                failures.append(str(exc).removeprefix(f"source {self.name} "))
                log.warning("%s", exc)
        now = self._now()
        if not failures and repos and (full or _due(census_at, now, timedelta(hours=self.config.reconcile_hours))):
            root["census_at"] = now.isoformat()
            yield self._census_batch(repos, known_ids(), copy.deepcopy(root))
        if failures:
            raise SourceError(self.name, "; ".join(failures))

    def _sync_repo(self, repo: str, rstate: dict[str, Any], root: dict[str, Any], full: bool) -> Iterator[Batch]:
        since = rstate.get("since")
        query_since = (datetime.fromisoformat(since) - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ") if since else None
        params: Json = {"state": "all", "sort": "updated", "direction": "asc", "per_page": 100}
        if query_since:
            params["since"] = query_since
        boundary: dict[str, str] = dict(rstate.get("boundary") or {})
        url: str | None = f"/repos/{repo}/issues"
        headers_in = {"If-None-Match": rstate["etag"]} if rstate.get("etag") and rstate.get("etag_since") == query_since else None
        changed = 0
        first_page = True
        query: Json | None = params
        while url:
            headers, data = self.client.call("GET", url, params=query, headers=headers_in if first_page else None)
            if first_page:
                if data is None and headers_in:  # 304: nothing changed since the last poll
                    break
                rstate["etag"] = _header(headers, "ETag")
                rstate["etag_since"] = query_since
            first_page = False
            issues = [i for i in data or [] if boundary.get(str(i["id"])) != i.get("updated_at")]
            if issues:
                batch = self._page_batch(repo, issues)
                changed += len(batch.items)
                newest = max(i["updated_at"] for i in issues)
                old = rstate.get("since")
                rstate["since"] = max(newest.replace("Z", "+00:00"), old) if old else newest.replace("Z", "+00:00")
                cutoff = datetime.fromisoformat(rstate["since"]) - OVERLAP
                boundary.update({str(i["id"]): i["updated_at"] for i in issues})
                boundary = {k: v for k, v in boundary.items() if datetime.fromisoformat(v.replace("Z", "+00:00")) >= cutoff}
                rstate["boundary"] = boundary
                batch.cursor = copy.deepcopy(root)
                yield batch
            url = _next_link(headers)
            query = None
        if full or changed or _due(rstate.get("releases_at"), self._now(), timedelta(minutes=self.config.releases_refresh_minutes)):
            milestones = [release_from_milestone(self.name, repo, m)
                          for m in self.client.paged(f"/repos/{repo}/milestones", {"state": "all"})]
            releases = [release_from_release(self.name, repo, r) for r in self.client.paged(f"/repos/{repo}/releases", {})]
            rstate["releases_at"] = self._now().isoformat()
            yield Batch(releases=milestones + releases, cursor=copy.deepcopy(root))
        elif rstate.get("etag") and "since" in rstate:
            yield Batch(cursor=copy.deepcopy(root))

    def _page_batch(self, repo: str, issues: list[Json]) -> Batch:
        batch = Batch()
        people: dict[str, Person] = {}
        by_number: dict[int, Json] = {}
        for issue in issues:
            item = item_from_issue(self.name, repo, issue)
            batch.items.append(item)
            for p in people_from_issue(self.name, issue):
                people[p.id] = p
            if item.kind == ItemKind.PULL_REQUEST:
                by_number[int(issue["number"])] = issue
        numbers = sorted(by_number)
        owner, name = repo.split("/", 1)
        for start in range(0, len(numbers), self.config.graphql_batch):
            chunk = numbers[start : start + self.config.graphql_batch]
            data = self.client.graphql(pulls_query(chunk), {"owner": owner, "name": name})
            repo_data = data.get("repository") or {}
            for n in chunk:
                node = repo_data.get(f"pr{n}")
                if not node:
                    continue
                reviews = list((node.get("reviews") or {}).get("nodes") or [])
                page_info = (node.get("reviews") or {}).get("pageInfo") or {}
                after = page_info.get("endCursor")
                while page_info.get("hasNextPage"):
                    more = self.client.graphql(REVIEWS_QUERY, {"owner": owner, "name": name, "number": n, "after": after})
                    conn = (((more.get("repository") or {}).get("pullRequest") or {}).get("reviews") or {})
                    reviews.extend(conn.get("nodes") or [])
                    page_info = conn.get("pageInfo") or {}
                    after = page_info.get("endCursor")
                issue = by_number[n]
                pr, links, pr_people = pull_from_graphql(self.name, make_id(self.name, issue["id"]), issue, node, reviews,
                                                         self.config.jira_projects, self.config.key_pattern)
                batch.pulls.append(pr)
                batch.links.extend(links)
                for p in pr_people:
                    people[p.id] = p
        batch.people = list(people.values())
        return batch

    def _census_batch(self, repos: list[str], known: dict[str, str], cursor: Json) -> Batch:
        """Items the store has that GitHub no longer shows (deleted or transferred issues)."""
        present: set[str] = set()
        pr_keys: set[str] = set()
        for repo in repos:
            ids, numbers = self._census(repo)
            present |= ids
            pr_keys |= {f"{repo}#{n}" for n in numbers}
        in_scope = {i for i, key in known.items() if key.split("#", 1)[0] in repos}
        removed = sorted(i for i in in_scope if i not in present and known[i] not in pr_keys)
        return Batch(removed_ids=removed, cursor=cursor)

    def _census(self, repo: str) -> tuple[set[str], set[int]]:
        """Issue ids and PR numbers in the repository now (GraphQL, 100 a page).

        GraphQL knows a PR by number, not by the issue id the REST list gives it, hence the two sets.
        """
        owner, name = repo.split("/", 1)
        ids: set[str] = set()
        numbers: set[int] = set()
        after: dict[str, str | None] = {"issues": None, "pullRequests": None}
        want = {"issues": True, "pullRequests": True}
        while want["issues"] or want["pullRequests"]:
            data = self.client.graphql(CENSUS_QUERY, {"owner": owner, "name": name, "issuesAfter": after["issues"],
                                                      "pullsAfter": after["pullRequests"], "issues": want["issues"],
                                                      "pulls": want["pullRequests"]})
            repo_data = data.get("repository") or {}
            for conn_name in ("issues", "pullRequests"):
                if not want[conn_name]:
                    continue
                conn = repo_data.get(conn_name) or {}
                for node in conn.get("nodes") or []:
                    if node and conn_name == "issues":
                        ids.add(make_id(self.name, node["databaseId"]))
                    elif node:
                        numbers.add(int(node["number"]))
                info = conn.get("pageInfo") or {}
                want[conn_name] = bool(info.get("hasNextPage"))
                after[conn_name] = info.get("endCursor")
        return ids, numbers


def _due(stamp: str | None, now: datetime, every: timedelta) -> bool:
    if not stamp:
        return True
    return now - datetime.fromisoformat(stamp) >= every

