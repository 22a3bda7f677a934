"""The issues list of one GitHub repository, read so that it does not race with edits.

The list is ordered by `updated`, and an item edited after it was read moves to its end, so a list paged by
page number shifts and skips an entry. Each next page is therefore asked for by `since` = the newest
`updated_at` read (entries of that second come again and are dropped), and a listing of more than one page
ends with a catch-up read from when it began (minus the overlap): one more request per multi-page listing.
That catch-up asks from the cursor's `since` when it is earlier than the listing's start, i.e. exactly the
query the next poll sends: its ETag makes the first poll after a multi-page first sync a 304 too. Only 100+
entries sharing one second are paged by number.

Concurrency (`[sync] concurrent`, on by default): the list's next page is fetched (`connectors.prefetch`,
one page ahead, in a thread with its own PyGithub requester) while the connector maps the current one and
sends the GraphQL detail batches it fills; GraphQL requests stay one at a time, and list pages one at a time.
So a GitHub source has at most two requests in flight: one REST list page and one GraphQL batch. GitHub's
secondary rate limits allow "no more than 100 concurrent requests ... shared across the REST API and
GraphQL API" (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api, "About secondary rate
limits"), and its best practices ask to "make requests serially instead of concurrently" to stay clear of
them (docs.github.com/rest/guides/best-practices-for-using-the-rest-api, "Avoid concurrent requests"): two
in flight, each kind serial, is far inside the first and as close to the second as overlapping the two
kinds allows; more list pages at once would need page numbers, which this listing must not use (above).
Requests are the same as without it: the pages asked for depend only on the pages read before.

`RepoListing` is the part of `connectors.github.GitHubConnector` that pages the list and moves the
repository's cursor (`since`, `boundary`, `etag`); the connector maps the entries (`_page_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.connectors.github_carry import Held
from syncd.connectors.github_client import GitHubClient, header, last_page, next_link
from syncd.connectors.prefetch import prefetched
from syncd.model import make_id

Json = dict[str, Any]
OVERLAP = timedelta(seconds=60)  # re-read this much before the cursor: GitHub's search index lags a little


class RepoListing:
    """Pages a repository's issues list by `since`; the connector supplies the mapping (`_page_batch`)."""

    name: str
    client: GitHubClient
    concurrent: bool
    total_hint: int | None
    _now: Callable[[], datetime]
    _totals: dict[str, int]

    def _page_batch(self, repo: str, issues: list[Any], work: Json) -> Held:
        raise NotImplementedError

    def _changed_items(self, repo: str, work: Json, seen: dict[str, set[str]], listed: set[int]) -> Iterator[Held]:
        """Pages of items changed since the cursor (every item when there is none); `listed` gets the numbers read.

        The listing races with edits (see the module docstring): it pages by the `since` of the last item
        read, and a listing of more than one page ends with a catch-up read from when it began.
        """
        since = work.get("since")
        query_since = _query_time(datetime.fromisoformat(since)) if since else None
        if not query_since:
            seen[repo] = set()  # a complete listing doubles as the deletion census
        etag = work.get("etag") if work.get("etag_since") == query_since else None
        read: dict[str, str] = {}  # item id -> updated_at of every entry read by this listing
        work.setdefault("open", {})
        started = self._now()
        pages = 0
        for answer_headers, data in self._pages(repo, query_since, etag):
            pages += 1
            if data is None and etag:  # 304: nothing changed since the last poll
                seen.pop(repo, None)
                return
            if pages == 1:
                # only a one-page answer can be revalidated whole (a change may land on a later page)
                more = next_link(answer_headers)
                work["etag"], work["etag_since"] = (header(answer_headers, "ETag"), query_since) if not more else (None, None)
                if not query_since:
                    self._estimate_total(repo, answer_headers, data)
            yield from self._listed_page(repo, data, work, seen, listed, read)
        if pages > 1:
            # A multi-page listing is not a snapshot: re-read what changed while it ran before it is done.
            # Read from the cursor's own `since` when that is earlier (a superset of what changed since the
            # start): it is the very query the next poll sends, so this answer's ETag makes that poll a 304.
            cursor_since = work.get("since")
            begin = min(started, datetime.fromisoformat(cursor_since)) if cursor_since else started
            catch_up = _query_time(begin)
            answers = 0
            for answer_headers, data in self._pages(repo, catch_up, None):
                answers += 1
                if answers == 1:
                    one_page = next_link(answer_headers) is None
                    etag_now = header(answer_headers, "ETag")
                yield from self._listed_page(repo, data, work, seen, listed, read)
            if answers == 1 and one_page and work.get("since") == cursor_since:
                work["etag"], work["etag_since"] = etag_now, catch_up
        if not query_since:
            self._totals[repo] = len(read)
            self.total_hint = sum(self._totals.values())
        if repo in seen:  # every open PR was just read whole: their rollups are fresh
            work["checks_at"] = self._now().isoformat()

    def _estimate_total(self, repo: str, answer_headers: Any, data: Any) -> None:
        """The progress total while a complete listing runs: its first page's `Link: rel="last"` tells the
        page count (100 a page), so no query of its own is needed; replaced by the count read at the end."""
        last = last_page(answer_headers)
        self._totals[repo] = (last * 100) if last else (len(data) if isinstance(data, list) else 0)
        self.total_hint = sum(self._totals.values())

    def _pages(self, repo: str, since: str | None, etag: str | None) -> Iterator[tuple[dict[str, Any], Any]]:
        """`_listing`, each next page fetched while this one is used when `concurrent` (module docstring)."""
        if not self.concurrent:
            yield from self._listing(repo, since, etag)
            return
        with closing(prefetched(lambda _: self._listing(repo, since, etag), name=f"syncd-list-{repo}")) as pages:
            yield from pages

    def _listing(self, repo: str, since: str | None, etag: str | None) -> Iterator[tuple[dict[str, Any], Any]]:
        """(headers, entries) of each page of the issues list from `since`, in `updated` order.

        Each next page is asked for with `since` = the newest `updated_at` read so far (the entries at that
        second come again; `_listed_page` drops what it has read), not by page number: an item edited after
        it was read moves to the end of the order, which shifts every later page number by one and would
        skip an entry. Only a page whose entries all share one second goes on by page number.
        """
        page_no = 1
        while True:
            params: Json = {"state": "all", "sort": "updated", "direction": "asc", "per_page": 100}
            if since:
                params["since"] = since
            if page_no > 1:
                params["page"] = page_no
            answer_headers, data = self.client.call("GET", f"/repos/{repo}/issues", params=params,
                                                    headers={"If-None-Match": etag} if etag else None)
            etag = None
            yield answer_headers, data
            if data is None or next_link(answer_headers) is None:
                return
            newest = max((s for s in (_updated(i) for i in data) if s), default=None) if isinstance(data, list) else None
            if newest is not None and (since is None or newest > since):
                since, page_no = newest, 1
            else:
                page_no += 1

    def _listed_page(self, repo: str, data: Any, work: Json, seen: dict[str, set[str]], listed: set[int],
                     read: dict[str, str]) -> Iterator[Held]:
        """The batch of one listing page's entries not read before (at their `updated_at`); moves the cursor."""
        page = list(data) if isinstance(data, list) else []
        ids = [_item_id(i) for i in page]
        if repo in seen and None in ids:
            seen.pop(repo)  # an entry without an id: this listing cannot show what is gone
        elif repo in seen:
            seen[repo].update(make_id(self.name, i) for i in ids if i)
        listed.update(n for n in (_number(i) for i in page) if n is not None)
        boundary: dict[str, str] = dict(work.get("boundary") or {})
        issues = [i for i, iid in zip(page, ids, strict=True)
                  if iid is None or (boundary.get(iid) != i.get("updated_at") and read.get(iid) != i.get("updated_at"))]
        read.update((iid, str(i.get("updated_at"))) for i, iid in zip(page, ids, strict=True) if iid)
        if not issues:
            return
        held = self._page_batch(repo, issues, work)
        batch = held.batch
        if batch.items:  # skipped items do not move the cursor: they are remembered in `rejected`
            since = work.get("since")
            stored = {item.remote_id for item in batch.items}
            newest = max(item.updated for item in batch.items).isoformat()
            work["since"] = max(newest, since) if since else newest
            cutoff = datetime.fromisoformat(work["since"]) - OVERLAP
            boundary.update({str(i["id"]): i["updated_at"] for i in issues if _item_id(i) in stored})
            work["boundary"] = {k: v for k, v in boundary.items()
                                if datetime.fromisoformat(v.replace("Z", "+00:00")) >= cutoff}
        yield held


def _query_time(moment: datetime) -> str:
    """The `since` value that re-reads OVERLAP before `moment` (GitHub's search index lags a little)."""
    return (moment - OVERLAP).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _updated(issue: Any) -> str | None:
    """An issues-list entry's `updated_at` as a `since` value, when it has a readable one."""
    value = issue.get("updated_at") if isinstance(issue, dict) else None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") \
            if isinstance(value, str) else None
    except ValueError:
        return None


def _item_id(issue: Any) -> str | None:
    """An issues-list entry's id, when it has a readable one."""
    value = issue.get("id") if isinstance(issue, dict) else None
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) and str(value) else None


def _number(issue: Any) -> int | None:
    """An issues-list entry's number, when it has a readable one."""
    value = issue.get("number") if isinstance(issue, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
