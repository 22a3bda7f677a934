"""GitHub connector: issues and pull requests with reviews, checks, milestones and releases.

What a sync costs, in requests:
- changed items come from `/repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=...` (100 a
  page, issues and PRs together). The PRs among them get their details (reviews, requested reviewers,
  head-commit check rollup, size, merge, commit messages for Jira keys) in GraphQL batches of
  `graphql_batch` PRs, always full: PRs are carried over from list page to list page and from repository to
  repository, and the last, partial batch goes out at the end (before the census), so a sync makes
  ⌈PRs / 50⌉ detail requests. A page is stored with its PRs' details, never before, each with its own cursor
  (`connectors.github_carry`). A nested connection that overflows its page (more than 50 reviews, 20 review
  requests or 30 commits) is followed up for that PR alone.
- a poll with nothing changed is ONE request per repository: the same `since` query with
  `If-None-Match`, answered 304, which GitHub does not charge against the rate limit. The refreshes
  below add requests only when they are due.
- checks: on GitHub a review, push, label change or merge bumps a PR's `updated_at`, but a check run or
  commit status does NOT, so the issues list never shows a check turning red. Every
  `checks_refresh_minutes`, a repository with open PRs costs one GraphQL request per 100 open PRs (their
  head-commit rollups, compared with the cursor's) plus one detail batch for the PRs whose rollup changed.
  A stored check conclusion of an open PR is therefore at most `checks_refresh_minutes` old.
- milestones and releases (which bump no issue either) are re-read, conditionally, when items changed or
  every `releases_refresh_minutes`; an org's repository list every `repos_refresh_minutes`.
- edits during a listing: it is paged by `since`, not page number, and ends with a catch-up read
  (`connectors.github_listing`).
- progress total of a first or `--full` sync: the first page's `Link: rel="last"` (no totals query).
- deletions and transfers: a full listing (first sync of a repository, or `--full`) sees every live item,
  so stored items it did not see are removal candidates at no extra cost; incremental syncs run a GraphQL
  id census (100 issues + 100 PRs a request) every `reconcile_hours`. A census races with edits too, so
  each candidate is confirmed gone with one `GET /repos/{o}/{r}/issues/{n}` (404, 410, or now in a
  repository not synced) before it is marked removed; one still there is stored as it is. An issue
  transferred into a synced repository keeps its id and is re-keyed; transferred anywhere else, it is removed.

Failures: a repository that fails (404, 403, retries exhausted) is skipped and the others are synced and
committed; the source then fails with one line naming each failed repository, whose cursor is left as it
was before (a repository's cursor only moves with a stored page; one whose PR details GraphQL cannot give
has none of its waiting pages stored). Bad credentials (401) or a rate limit that resets later than
`max_rate_wait_s` stop the whole source at once (the pages still waiting for PR details are read again
by the next sync).
Bad payloads: an issue or PR whose payload (issues-list entry or GraphQL node) the mapping cannot read
(`connectors.payload`) is skipped, not stored (a version stored before stays), and remembered in its
repository's cursor (`rejected`: number -> problem); the rest syncs and the source fails with one line
naming each skipped item and field. Every later sync retries it — the listing re-reads it while it is at
the cursor's edge, else one `GET /repos/{o}/{r}/issues/{n}` — until it maps or is gone (404, 410,
transferred). Milestones, releases, rollups or census nodes of the wrong shape fail their repository.
The cursor (per repository: `since`, the boundary items, ETag, open PRs' rollups, refresh times) is
committed with every page.
"""

from __future__ import annotations

import copy
import fnmatch
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.connectors.config import GitHubSource
from syncd.connectors.github_carry import Held, HeldBatches
from syncd.connectors.github_client import GitHubClient, SourceStopped, header, next_link
from syncd.connectors.github_graphql import GraphQLReads
from syncd.connectors.github_listing import RepoListing, _number
from syncd.connectors.github_mapping import (
    head_rollup,
    issue_records,
    pull_from_graphql,
    release_from_milestone,
    release_from_release,
)
from syncd.connectors.payload import PayloadError, skipped_line
from syncd.errors import SourceError
from syncd.model import Batch, ItemKind, Person, PullState, Release, make_id

log = logging.getLogger("syncd.github")
Json = dict[str, Any]


def _due(stamp: str | None, now: datetime, every: timedelta) -> bool:
    return not stamp or now - datetime.fromisoformat(stamp) >= every


def _matches(full_name: str, patterns: list[str]) -> bool:
    name, lowered = full_name.split("/")[-1].lower(), full_name.lower()
    return any(fnmatch.fnmatchcase(name, p.lower()) or fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


class GitHubConnector(RepoListing):
    """Yields batches of a GitHub source; see the module docstring for what each poll costs."""

    def __init__(self, name: str, config: GitHubSource, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), concurrent: bool = True) -> None:
        self.name = name
        self.config = config
        self.concurrent = concurrent  # list pages fetched beside the GraphQL batches (connectors.github_listing)
        self.client = GitHubClient(name, config)
        self.graph = GraphQLReads(name, config, self.client)
        self.total_hint: int | None = None
        self._now = now
        self._unidentified: list[str] = []  # skipped items without a number: reported, cannot be retried
        self._totals: dict[str, int] = {}  # repository -> items its complete listing holds (the progress total)
        self._held = HeldBatches({})  # batches waiting for their PRs' details (one sync's)
        self._live: dict[str, Json] = {}  # repository -> its cursor state as this sync moves it
        self._failed: dict[str, str] = {}  # repository ("" for the whole source) -> why it failed

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    @property
    def answers_strict(self) -> bool:
        """True while every answer read was strict JSON without a NUL (`connectors.payload.AnswerCheck`)."""
        return self.client.answers.strict

    # -- repositories -----------------------------------------------------------------------------

    def repositories(self, root: Json | None = None, full: bool = False) -> list[str]:
        """The configured repositories, or the org's (cached in the cursor) filtered by include/exclude."""
        if self.config.repos:
            return list(self.config.repos)
        org: Json = (root or {}).get("org") or {}
        if full or org.get("name") != self.config.org or _due(org.get("at"), self._now(),
                                                              timedelta(minutes=self.config.repos_refresh_minutes)):
            names = [r["full_name"] for r in self.client.paged(f"/orgs/{self.config.org}/repos", {"type": "all"})]
            org = {"name": self.config.org, "repos": sorted(names), "at": self._now().isoformat()}
            if root is not None:
                root["org"] = org
        return [n for n in org["repos"]
                if _matches(n, self.config.include) and not _matches(n, self.config.exclude)]

    # -- the sync ---------------------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any] | None, *, full: bool,
              known_ids: Callable[[], dict[str, str]]) -> Iterator[Batch]:
        """Yield batches repository by repository; a failing repository does not stop the others."""
        old = cursor or {}
        root: Json = {"repos": copy.deepcopy(old.get("repos") or {}), "census_at": old.get("census_at"),
                      "org": old.get("org")}
        repos = self.repositories(root, full)
        self._held = HeldBatches(root)
        self._failed = {}
        seen: dict[str, set[str]] = {}  # repository -> item ids of a complete listing
        done: list[str] = []  # repositories listed to the end
        self._unidentified = []
        try:
            self._totals = {}
            for index, repo in enumerate(repos):
                try:
                    for held in self._sync_repo(repo, root, full, seen):
                        yield from self._carry(held)
                        if repo in self._failed:
                            break  # its PR details failed: its held batches are dropped, its listing stops
                    done.append(repo)
                except SourceStopped as exc:
                    left = len(repos) - index - 1
                    raise SourceStopped(exc.source, _reason(exc) + (f" ({left} more repositories not synced)"
                                                                    if left else ""), exc.url) from None
                except SourceError as exc:
                    self._fail(repo, _reason(exc))
            yield from self._carry(None)  # the PRs still waiting, in one last (partial) batch
            if not self._failed and repos:
                for held in self._census(repos, seen, root, full, known_ids):
                    yield from self._carry(held)
                yield from self._carry(None)
        except SourceStopped as exc:
            self._failed[""] = _reason(exc)
        failures = [f"repository {repo}: {why}" if repo else why for repo, why in self._failed.items()]
        if failures:
            waiting = {h.repo for h in self._held.held}  # a stopped source leaves batches unstored
            synced = len([r for r in done if r not in self._failed and r not in waiting])
            failures[-1] += f" — {synced} of {len(repos)} repositories synced"
        stored = self._held.stored.get("repos") or {}  # what is stored: a dropped batch's skipped items are not
        skipped = [f"{repo}#{n}: {v.get('problem')}" for repo in repos
                   for n, v in sorted(((stored.get(repo) or {}).get("rejected") or {}).items(), key=lambda kv: int(kv[0]))]
        if skipped or self._unidentified:
            failures.append(skipped_line("item", skipped + self._unidentified))
        if failures:
            raise SourceError(self.name, "; ".join(failures), self.config.base_url)

    def _fail(self, repo: str, why: str, *, details: bool = False) -> None:
        """A repository failed: the others go on. When its PR details failed (`details`), its held batches are
        never stored, so its stored cursor stays before them; a listing that failed keeps the pages it read."""
        log.warning("%s: repository %s failed: %s", self.name, repo, why)
        self._failed.setdefault(repo, why)
        if details:
            self._held.drop(repo)

    def _commit(self, repo: str, work: Json, root: Json, held: Held) -> Held:
        """`held` to be stored with this repository's state at `work` (and the source-wide keys of `root`)."""
        held.repo, held.state = repo, copy.deepcopy(work)
        held.top = copy.deepcopy({k: v for k, v in root.items() if k != "repos"})
        return held

    def _carry(self, held: Held | None) -> Iterator[Batch]:
        """Hold a batch until its PRs have their details; send a detail batch whenever `graphql_batch` PRs
        wait (`held` None: send what waits, however few); yield the batches that are complete, in order.
        See `connectors.github_carry`."""
        if held is not None:
            self._held.hold(held)
        size = self.config.graphql_batch
        while (wanted := self._held.wanted()) and (held is None or len(wanted) >= size):
            nodes, failed = self.graph.pull_details_across(wanted[:size], texts=False)
            for repo, why in failed.items():
                self._fail(repo, why, details=True)
            for (repo, number), node in nodes.items():
                for waiting, states in self._held.waiting_for(repo, number):
                    self._details_arrived(waiting, states, number, node)
        yield from self._held.release()

    def _details_arrived(self, held: Held, states: list[Json], number: int, node: Json) -> None:
        """Add a PR's details to the held batch of its listing entry; the cursor states from that batch on (and
        the repository's live one) learn whether it is open, or that it was skipped."""
        repo = held.repo or ""
        issue = held.pulls.pop(number)
        live = self._live.get(repo)
        states = [*states, live] if live is not None and all(live is not s for s in states) else states
        try:
            self._add_pull(held.batch, held.people, states, number, make_id(self.name, issue["id"]), node,
                           issue.get("title"), issue.get("body"))
        except PayloadError as exc:
            for state in states:
                self._reject(repo, state.setdefault("rejected", {}), issue, exc, "pull request details: ", quiet=state is not live)
                (state.get("boundary") or {}).pop(str(issue["id"]), None)  # re-read at the edge: retried
            held.batch.items = [i for i in held.batch.items if i.remote_id != str(issue["id"])]

    def _sync_repo(self, repo: str, root: Json, full: bool, seen: dict[str, set[str]]) -> Iterator[Held]:
        before = root["repos"].get(repo) or {}
        work: Json = {} if full else copy.deepcopy(before)
        self._live[repo] = work
        changed = False
        listed: set[int] = set()
        for held in self._changed_items(repo, work, seen, listed):
            changed = True
            yield self._commit(repo, work, root, held)
        for held in self._retry_rejected(repo, work, listed):
            yield self._commit(repo, work, root, held)
        now = self._now()
        extra = Batch()
        if full or changed or _due(work.get("releases_at"), now, timedelta(minutes=self.config.releases_refresh_minutes)):
            try:
                extra.releases = self._releases(repo, work)
            except PayloadError as exc:
                raise SourceError(self.name, f"milestones and releases not understood: {exc}", self.config.base_url) from None
            work["releases_at"] = now.isoformat()
        if work.get("open") and _due(work.get("checks_at"), now, timedelta(minutes=self.config.checks_refresh_minutes)):
            self._refresh_checks(repo, work, extra)
        if not extra.is_empty() or work != before:
            yield self._commit(repo, work, root, Held(extra))


    def _page_batch(self, repo: str, issues: list[Any], work: Json) -> Held:
        """The records of these issues-list entries, held until their PRs' details arrive (`_carry`); one that
        cannot be mapped is skipped and remembered."""
        batch = Batch()
        people: dict[str, Person] = {}
        pulls: dict[int, Json] = {}
        rejected: Json = work.setdefault("rejected", {})
        for issue in issues:
            try:
                item, named = issue_records(self.name, repo, issue)
            except PayloadError as exc:
                self._reject(repo, rejected, issue, exc)
                continue
            rejected.pop(str(issue["number"]), None)
            batch.items.append(item)
            people.update((p.id, p) for p in named)
            if item.kind == ItemKind.PULL_REQUEST:
                pulls[int(issue["number"])] = issue
        return Held(batch, pulls, people)

    def _reject(self, repo: str, rejected: Json, issue: Any, exc: PayloadError, what: str = "",
                quiet: bool = False) -> None:
        number = _number(issue)
        if not quiet:
            log.warning("%s: %s#%s skipped, payload not understood: %s%s", self.name, repo, number, what, exc)
        if number is None:
            self._unidentified.append(f"an item of {repo} without a number: {what}{exc}")
        else:
            rejected[str(number)] = {"problem": f"{what}{exc}"}

    def _retry_rejected(self, repo: str, work: Json, listed: set[int]) -> Iterator[Held]:
        """Re-read each skipped item the listing did not bring again: store it once it maps, forget it once gone."""
        rejected: Json = work.get("rejected") or {}
        for number in sorted(int(n) for n in rejected if int(n) not in listed):
            _, issue = self.client.call("GET", f"/repos/{repo}/issues/{number}", missing_ok=True)
            url = issue.get("repository_url") if isinstance(issue, dict) else None
            if issue is None or (isinstance(url, str) and not url.endswith(f"/repos/{repo}")):
                log.info("%s: skipped %s#%d is gone or transferred; no longer retried", self.name, repo, number)
                del rejected[str(number)]
                yield Held(Batch())
                continue
            yield self._page_batch(repo, [issue], work)

    def _add_pull(self, batch: Batch, people: dict[str, Person], states: list[Json], number: int, item_id: str,
                  node: Json, title: str | None, body: str | None) -> None:
        """Add a PR's records to `batch`; each cursor state in `states` learns whether it is open (and its rollup)."""
        pr, links, pr_people = pull_from_graphql(self.name, item_id, node, title, body,
                                                 self.config.jira_projects, self.config.key_pattern)
        batch.pulls.append(pr)
        batch.links.extend(links)
        people.update((p.id, p) for p in pr_people)
        for state in states:
            if pr.state == PullState.OPEN:
                state.setdefault("open", {})[str(number)] = [item_id, head_rollup(node)]
            else:
                state.setdefault("open", {}).pop(str(number), None)

    def _refresh_checks(self, repo: str, work: Json, batch: Batch) -> None:
        """Re-read open PRs' head rollups; re-fetch the PRs whose rollup changed (checks don't bump updated_at)."""
        rollups = self.graph.open_rollups(repo)
        known: dict[str, list[Any]] = work["open"]
        for gone in [n for n in known if n not in rollups]:
            del known[gone]  # closed or merged: that bumped updated_at, the issues list brings it
        changed = sorted(int(n) for n, (_, state) in known.items() if rollups[n] != state)
        people: dict[str, Person] = {}
        for number, node in self.graph.pull_details(repo, changed, texts=True).items():
            item_id = known[str(number)][0]
            try:
                self._add_pull(batch, people, [work], number, item_id, node, node.get("title"), node.get("body"))
            except PayloadError as exc:  # retried through the issues API on the next sync
                self._reject(repo, work.setdefault("rejected", {}), {"number": number}, exc, "pull request details: ")
        batch.people.extend(people.values())
        work["checks_at"] = self._now().isoformat()

    # -- milestones and releases ------------------------------------------------------------------

    def _releases(self, repo: str, work: Json) -> list[Release]:
        milestones = self._conditional_list(f"/repos/{repo}/milestones", {"state": "all"}, work, "milestones_etag")
        releases = self._conditional_list(f"/repos/{repo}/releases", {}, work, "releases_etag")
        return ([release_from_milestone(self.name, repo, m) for m in milestones or []]
                + [release_from_release(self.name, repo, r) for r in releases or []])

    def _conditional_list(self, path: str, params: Json, work: Json, etag_key: str) -> list[Json] | None:
        """Every element of a list, or None when its (one-page) answer is unchanged (304, free)."""
        etag = work.get(etag_key)
        answer_headers, data = self.client.call("GET", path, params={**params, "per_page": 100},
                                                headers={"If-None-Match": etag} if etag else None)
        if data is None and etag:
            return None
        items = list(data or [])
        url = next_link(answer_headers)
        work[etag_key] = header(answer_headers, "ETag") if url is None else None
        if url:
            items.extend(self.client.paged(url, {}))
        return items

    # -- deletions and transfers ------------------------------------------------------------------

    def _census(self, repos: list[str], seen: dict[str, set[str]], root: Json, full: bool,
                known_ids: Callable[[], dict[str, str]]) -> Iterator[Held]:
        """Items the store has that GitHub no longer shows in these repositories (deleted, transferred out).

        A census is a listing too and races with edits and deletions (a page shifts), so an id it did not
        show is confirmed gone, one `GET /repos/{o}/{r}/issues/{n}` each, before it is marked removed; one
        GitHub still has is stored as it is now instead (the listing missed it).
        """
        now = self._now()
        listed_all = all(r in seen for r in repos)
        if not listed_all and not (full or _due(root.get("census_at"), now, timedelta(hours=self.config.reconcile_hours))):
            return
        known = known_ids()
        in_scope = {i: key for i, key in known.items() if key.split("#", 1)[0] in repos}
        present: set[str] = set().union(*seen.values()) if seen else set()
        pr_keys: set[str] = set()
        for repo in repos:
            if repo not in seen and in_scope:
                ids, numbers = self.graph.census(repo)
                present |= ids
                pr_keys |= {f"{repo}#{n}" for n in numbers}
        removed = []
        for item_id in sorted(i for i, key in in_scope.items() if i not in present and key not in pr_keys):
            repo, _, number = in_scope[item_id].rpartition("#")
            issue = self._still_there(repo, number, item_id)
            if issue is None:
                removed.append(item_id)
                continue
            log.info("%s: %s was missing from the census but GitHub still has it; stored, not removed",
                     self.name, in_scope[item_id])
            work = self._live.setdefault(repo, {})
            yield self._commit(repo, work, root, self._page_batch(repo, [issue], work))
        root["census_at"] = now.isoformat()
        yield Held(Batch(removed_ids=removed), top={"census_at": root["census_at"]})

    def _still_there(self, repo: str, number: str, item_id: str) -> Json | None:
        """The issues-list entry of a stored item, or None when it is gone from `repo` (404/410, transferred)."""
        if not number.isdigit():
            return None
        _, issue = self.client.call("GET", f"/repos/{repo}/issues/{number}", missing_ok=True)
        if not isinstance(issue, dict):
            return None
        url = issue.get("repository_url")
        if (isinstance(url, str) and not url.endswith(f"/repos/{repo}")) or make_id(self.name, str(issue.get("id"))) != item_id:
            return None
        return issue


def _reason(exc: SourceError) -> str:
    """A SourceError's message without its `source NAME (URL): ` prefix."""
    text = str(exc)
    prefix = f"source {exc.source}" + (f" ({exc.url})" if exc.url else "") + ": "
    return text.removeprefix(prefix)
