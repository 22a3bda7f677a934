"""Jira connector: Cloud (search/jql, token pages) and Server/DC (legacy search), incremental.

Cost model (what a poll costs in requests):
- first or `--full` sync: serverInfo + /field + one search page per 100 issues + changelog pages
  for issues with more than the embedded histories + boards/sprints/versions. No census: the listing
  has just read every issue in scope, so a stored id it did not bring is gone (the progress total is the
  Server search page's `total`, no query of its own; Cloud's pages tell none);
- incremental poll with nothing changed: ONE search request. The query overlaps the cursor by
  `overlap_minutes` (Jira's index lags), so it re-reads the newest issues; the cursor remembers which
  (issue id, `updated`) pairs at its edge are stored (`boundary`), and those are skipped: not mapped,
  not re-stored, their long changelogs not paged again. A changed issue has a newer `updated`.
  Boards, sprints and versions are refreshed when issues changed or every `agile_refresh_minutes`
  (sprint events do not bump an issue's `updated`, so they cannot ride on the issue cursor); the
  deletion census (id-only pages: 5,000 ids a request on Cloud, 1,000 on Server/DC) runs every
  `reconcile_hours`.
The cursor (`updated`, the boundary, the site's field map, deployment, refresh times) is committed with
each page.

Bad payloads: an issue whose payload the mapping cannot read (a missing id or timestamp, an object where
Jira sends a list, an unparseable date; see `connectors.payload`) is skipped and the rest of the source
syncs. The skipped issue is not stored (a version stored before stays as it was) and is remembered in
the cursor (`rejected`: id -> key and problem); the sync then fails with one line naming the source,
each skipped issue and the field. Every later sync retries it — the search re-reads it while it is at
the cursor's edge, else one `GET issue/{id}` each — until it maps (then it is stored) or is gone (404,
or moved out of the configured projects). One bad issue thus costs its own data, never the site's.
Shapes wrong beyond one issue (a search page that is not a page, a sprint or version that cannot be
read) fail the source with one line, everything stored before kept.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.connectors.config import JiraSource
from syncd.connectors.jira_changelog import embedded_changelog, transitions_from_histories
from syncd.connectors.jira_client import JiraClient, Refused, classify, describe
from syncd.connectors.jira_fields import FieldMap, field_map_from_fields, kind_overrides
from syncd.connectors.jira_mapping import item_from_jira, release_from_version, sprint_from_jira
from syncd.connectors.payload import PayloadError, array, count, ident, obj, safe_name, shown, skipped_line, stamp
from syncd.connectors.sanitise import keep_payload_text
from syncd.errors import SourceError
from syncd.model import Batch, Person, Release, Sprint, Transition, make_id

__all__ = ["JiraClient", "JiraConnector", "classify", "describe"]

log = logging.getLogger("syncd.jira")
Json = dict[str, Any]
EMBEDDED_HISTORIES = 100
FIELD_MAP_VERSION = 2  # the cursor's field map: 2 = found by schema, with the issue types' English names
# What the stored changelog holds: 2 = also priority, labels, components, due date, flag, parent, epic
# and links (issue 12). A cursor from before re-reads every issue once, so `--now` can replay them.
HISTORY_VERSION = 2


class JiraConnector:
    """Yields batches of a Jira source; see the module docstring for what each poll costs."""

    def __init__(self, name: str, config: JiraSource, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.name = name
        self.config = config
        self.client = JiraClient(name, config)
        self.total_hint: int | None = None
        self.warnings: list[str] = []  # one line each, shown once: the cursor remembers what was warned
        self._now = now
        self._unidentified: list[str] = []  # skipped issues without an id: reported, cannot be retried

    def _warn(self, state: dict[str, Any], key: str, line: str) -> None:
        """Warn about `key` once: on the first sync that meets it (again after a `--full` sync)."""
        warned: list[str] = state.setdefault("warned", [])
        if key not in warned:
            warned.append(key)
            self.warnings.append(f"source {self.name}: {line}")

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    @property
    def answers_strict(self) -> bool:
        """True while every answer read was strict JSON without a NUL (`connectors.payload.AnswerCheck`)."""
        return self.client.answers.strict

    # -- scope ---------------------------------------------------------------------------------

    def _scope_jql(self) -> str:
        projects = ", ".join(f'"{p}"' for p in self.config.projects)
        jql = f"project in ({projects})"
        if self.config.jql:
            jql = f"({jql}) AND ({self.config.jql})"
        return jql

    # -- fetch ---------------------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any] | None, *, full: bool, known_ids: Callable[[], dict[str, str]]) -> Iterator[Batch]:
        """Yield batches: changed issues page by page, retried bad issues, then agile data and the census when due.

        Raises SourceError at the end when issues were skipped for bad payloads (everything else is stored).
        """
        state: dict[str, Any] = copy.deepcopy(cursor or {})
        first = full or "updated" not in state or "fields" not in state or state.get("history") != HISTORY_VERSION
        if first or "deployment" not in state:
            state["deployment"] = self._deployment()
        self.client.set_deployment(state["deployment"])
        if first or (state.get("fields") or {}).get("v") != FIELD_MAP_VERSION:
            # also when the cursor holds a field map found the old way (by display name): found again by schema
            fm = field_map_from_fields(self.client.fields(), self.config.story_points_field, self.client.issue_types())
            state["fields"] = {**fm.to_json(), "v": FIELD_MAP_VERSION}
        fm = FieldMap.from_json(state["fields"])
        fm.kind_overrides = kind_overrides(dict(self.config.issue_types))
        if self.config.story_points_field:
            fm.points = self.config.story_points_field
        state["rejected"] = dict(state.get("rejected") or {}) if not full else {}
        if full:
            state.pop("warned", None)
        self._unidentified = []
        self.warnings = []

        # Only issues updated after the cursor count as changes: a retried issue is older, and counting the
        # overlap's re-reads would refresh boards and versions on every poll.
        # Changed issues make the agile refresh due, recorded with them (`agile_pending`): a refresh that
        # fails after they were stored runs on the next poll, not only after `agile_refresh_minutes`.
        since = None if first else datetime.fromisoformat(state["updated"])
        seen: dict[str, str | None] = {}  # issue id -> the `updated` read in this sync
        for batch in self._changed_issues(state, fm, seen, incremental=not first):
            if any(since is None or item.updated > since for item in batch.items):
                _agile_pending(state, batch)
            yield batch
        # every issue's changelog was read whole: recorded with the next batch's cursor (a first listing
        # always ends with the agile batch), so an interrupted re-read starts again
        state["history"] = HISTORY_VERSION
        for batch in self._retry_rejected(state, fm, seen):
            if batch.items:
                _agile_pending(state, batch)
            yield batch

        now = self._now()
        agile_due = _due(state.get("agile_at"), now, timedelta(minutes=self.config.agile_refresh_minutes))
        if first or state.get("agile_pending") or agile_due:
            sprints, releases = self._agile_and_versions(state)
            state.pop("agile_pending", None)
            state["agile_at"] = now.isoformat()
            state["agile_ids"] = {"sprints": sorted(s.remote_id for s in sprints),
                                  "versions": sorted(r.remote_id for r in releases)}
            yield Batch(sprints=sprints, releases=releases, cursor=copy.deepcopy(state))

        # A first or `--full` listing has just read every issue in scope: the ids it saw are the census
        # (unless an issue came without an id, then it cannot tell what is gone and the census runs).
        listed_all = first and not self._unidentified
        census_due = _due(state.get("census_at"), now, timedelta(hours=self.config.reconcile_hours))
        if listed_all or full or census_due:
            present = {make_id(self.name, iid) for iid in seen} if listed_all else self._census()
            removed = sorted(set(known_ids()) - present)
            state["census_at"] = now.isoformat()
            yield Batch(removed_ids=removed, cursor=copy.deepcopy(state))

        skipped = [f"{_label(k, v['key'])}: {v['problem']}" for k, v in sorted(state["rejected"].items())]
        skipped += self._unidentified
        if skipped:
            raise SourceError(self.name, skipped_line("issue", skipped), self.config.url)

    def _deployment(self) -> str:
        if self.config.deployment != "auto":
            return self.config.deployment
        info = self.client.server_info()
        return "cloud" if str(info.get("deploymentType", "")).lower() == "cloud" else "server"

    def _changed_issues(self, state: dict[str, Any], fm: FieldMap, seen: dict[str, str | None], *,
                        incremental: bool) -> Iterator[Batch]:
        jql = self._scope_jql()
        overlap = timedelta(minutes=self.config.overlap_minutes)
        if incremental:
            since_ms = int((datetime.fromisoformat(state["updated"]) - overlap).timestamp() * 1000)
            if since_ms > 0:  # a cursor still at the epoch (nothing stored yet) reads everything again
                jql += f" AND updated >= {since_ms}"
        jql += " ORDER BY updated ASC, key ASC"
        boundary: dict[str, str] = dict(state.get("boundary") or {}) if incremental else {}
        token: str | None = None
        start_at = 0
        while True:
            page = self.client.search_page(jql, fm.request_fields(), token, start_at, self.config.page_size, "changelog",
                                           self.config.issue_properties)
            issues = self._page_issues(page)
            if isinstance(page.get("total"), int) and self.total_hint is None and not incremental:
                self.total_hint = page["total"]
            fresh = []
            for issue in issues:
                iid = _issue_id(issue)
                if iid is not None:
                    # An issue edited after we read it moves to the end of this `updated`-ordered listing
                    # and comes again: keep the newer version, skip only a re-read of the same or an older one.
                    updated = _updated_utc(issue)
                    if iid in seen and not _newer(updated, seen[iid]):
                        continue
                    seen[iid] = updated
                    if boundary.get(iid) is not None and boundary[iid] == updated:
                        continue  # stored at exactly this version on an earlier poll
                fresh.append(issue)
            if fresh:
                batch = self._issues_batch(fresh, fm, state)
                if batch.items:
                    newest = max(i.updated for i in batch.items)
                    previous = datetime.fromisoformat(state["updated"]) if "updated" in state else None
                    state["updated"] = max(newest, previous).isoformat() if previous else newest.isoformat()
                    cutoff = datetime.fromisoformat(state["updated"]) - overlap
                    boundary.update({i.remote_id: i.updated.isoformat() for i in batch.items})
                    boundary = {k: v for k, v in boundary.items() if datetime.fromisoformat(v) >= cutoff}
                    state["boundary"] = boundary
                batch.cursor = copy.deepcopy(state)
                yield batch
            start_at += len(issues)
            token = page.get("nextPageToken")
            if self.client.deployment == "cloud":
                if page.get("isLast", token is None) or not token:
                    break
            elif not issues or not isinstance(page.get("total"), int) or start_at >= page["total"]:
                break
        if "updated" not in state:  # nothing stored (an empty site, or every issue skipped): start from the epoch
            state["updated"] = datetime(1970, 1, 1, tzinfo=UTC).isoformat()

    def _page_issues(self, page: Any) -> list[Any]:
        """The issues of a search page; a page of the wrong shape fails the source."""
        if not isinstance(page, dict) or not isinstance(page.get("issues"), list | None):
            raise SourceError(self.name, "search: the answer is not a page of issues", self.config.url)
        return page.get("issues") or []

    def _retry_rejected(self, state: dict[str, Any], fm: FieldMap, seen: dict[str, str | None]) -> Iterator[Batch]:
        """Re-read each skipped issue the search did not bring again: store it once it maps, forget it once gone."""
        rejected: dict[str, Json] = state["rejected"]
        for iid in sorted(set(rejected) - seen.keys()):
            payload = self.client.issue(iid, fm.request_fields(), self.config.issue_properties)
            if payload is None or _project_of(payload) not in (None, *self.config.projects):
                log.info("%s: skipped issue %s is gone or out of scope; no longer retried", self.name,
                         _label(iid, rejected[iid]["key"]))
                del rejected[iid]
                yield Batch(cursor=copy.deepcopy(state))
                continue
            batch = self._issues_batch([payload], fm, state)
            batch.cursor = copy.deepcopy(state)
            yield batch

    def _issues_batch(self, issues: list[Any], fm: FieldMap, state: dict[str, Any]) -> Batch:
        """The records of these issues; one that cannot be mapped is skipped and remembered in `state`."""
        agile_ids: dict[str, list[str]] = state.get("agile_ids") or {}
        batch = Batch()
        people: dict[str, Person] = {}
        sprints: dict[str, Sprint] = {}
        releases: dict[str, Release] = {}
        for payload in issues:
            try:
                mapped = item_from_jira(self.name, payload, fm, self.config.url, self.config.projects)
                histories, where = self._histories(payload, mapped.item.remote_id)
                authors: dict[str, Person] = {}  # who made the changes, read in the transitions' pass
                transitions: list[Transition] = list(transitions_from_histories(
                    self.name, mapped.item.remote_id, histories, fm, where, authors))
            except PayloadError as exc:
                self._reject(state["rejected"], payload, exc)
                continue
            state["rejected"].pop(mapped.item.remote_id, None)
            for fid, problem in mapped.ignored.items():
                self._warn(state, f"field:{fid}", f"custom field {safe_name(fid)} ignored, its value is not what "
                           f"that field holds ({_label(mapped.item.remote_id, mapped.item.key)}: {problem}); "
                           "the issues are synced without it")
            keep_payload_text(mapped.item)  # now, while the payload is in the CPU's caches
            batch.items.append(mapped.item)
            batch.links.extend(mapped.links)
            batch.transitions.extend(transitions)
            people.update((p.id, p) for p in [*mapped.people, *authors.values()])
            sprints.update((s.id, s) for s in mapped.sprints)
            releases.update((r.id, r) for r in mapped.releases)
        # Sprints and versions embedded in issues are partial copies (no board name): store them only
        # until the agile refresh has stored the full ones, or every re-read issue would overwrite those.
        known_sprints, known_versions = set(agile_ids.get("sprints", ())), set(agile_ids.get("versions", ()))
        batch.sprints = [s for s in sprints.values() if s.board_id is not None and s.remote_id not in known_sprints]
        batch.releases = [r for r in releases.values() if r.remote_id not in known_versions]
        batch.people = list(people.values())
        return batch

    def _reject(self, rejected: dict[str, Json], payload: Any, exc: PayloadError) -> None:
        iid, key = _issue_id(payload), _issue_key(payload)
        log.warning("%s: %s skipped, payload not understood: %s", self.name, _label(iid, key), exc)
        if iid is None:
            self._unidentified.append(f"{_label(None, key)}: {exc}")
        else:
            rejected[iid] = {"key": key, "problem": str(exc)}

    def _histories(self, payload: Json, issue_id: str) -> tuple[list[Any], str]:
        """All histories of an issue (the embedded ones, or every page when Jira embedded fewer), and
        where they are in the payload (for PayloadError)."""
        embedded, total = embedded_changelog(payload)
        if total <= len(embedded):
            return embedded, "changelog.histories"
        histories: list[Any] = []
        start = 0
        while start < total:
            page = obj(self.client.changelog(issue_id, start), "changelog")
            values = array(page.get("values"), f"changelog[{start}:].values")
            histories.extend(values)
            start += len(values)
            total = count(page.get("total"), "changelog.total") or total
            if not values or page.get("isLast"):
                break
        return histories, "changelog"

    def _agile_and_versions(self, state: dict[str, Any]) -> tuple[list[Sprint], list[Release]]:
        try:
            sprints = self._sprints(state)
            return sprints, self._versions()
        except PayloadError as exc:
            raise SourceError(self.name, f"agile data not understood: {exc}", self.config.url) from None

    def _sprints(self, state: dict[str, Any]) -> list[Sprint]:
        """Every sprint of the boards (configured, or of the projects), each named by its own board.

        A site without the agile API (Jira Work Management / Core, or a token that may not use it) answers
        404 or 403 to the board listing (or to every configured board): no boards, no sprints, one warning.
        A board the token cannot see (403) or that is gone (404) is skipped with one warning. A board lists
        sprints of other boards too: a sprint's board is its `originBoardId`, named from that board's record.
        """
        boards: dict[int, Json | None] = {}
        try:
            if self.config.boards:
                refused = []
                for board_id in self.config.boards:
                    boards[board_id], status = self._board(board_id)
                    refused += [status] if status else []
                if len(refused) == len(boards):
                    raise Refused(self.name, "every configured board refused", self.config.url, refused[0])
            else:
                for project in self.config.projects:
                    for listed_board in self.client.paged_values("board", {"projectKeyOrId": project}, agile=True):
                        board = obj(listed_board, f"board of project {project}")
                        boards.setdefault(int(ident(board.get("id"), f"board of project {project}.id")), board)
        except Refused as exc:
            self._warn(state, "agile", f"no agile API on this site (GET board: HTTP {exc.status}): boards and "
                                        "sprints are not synced, everything else is")
            state["agile_missing"] = exc.status
            return []
        state.pop("agile_missing", None)
        sprints: dict[str, Sprint] = {}
        for board_id, own in list(boards.items()):
            if own is not None and str(own.get("type", "scrum")) != "scrum":
                continue
            try:
                listed = list(self.client.paged_values(f"board/{board_id}/sprint", {}, agile=True))
            except Refused as exc:
                self._warn(state, f"board:{board_id}", f"board {board_id} skipped (GET board/{board_id}/sprint: "
                                                       f"HTTP {exc.status}): its sprints are not synced")
                continue
            except SourceError as exc:
                if "HTTP 400" in str(exc):  # a board that does not support sprints
                    continue
                raise
            for s in listed:
                sid = safe_name(str(s.get("id"))) if isinstance(s, dict) else "?"
                sprint = sprint_from_jira(self.name, s, where=f"board {board_id} sprint {sid}")
                if sprint.id in sprints:
                    continue
                origin = int(sprint.board_id) if sprint.board_id and sprint.board_id.isdigit() else board_id
                if origin not in boards:
                    boards[origin], _ = self._board(origin)
                record = boards[origin] or {}
                sprint.board_id = str(origin)
                sprint.board_name = _text_or_none(record.get("name"))
                sprints[sprint.id] = sprint
        return list(sprints.values())

    def _board(self, board_id: int) -> tuple[Json | None, int | None]:
        """One board's own record, or None and the HTTP status when the token cannot see it or it is gone."""
        try:
            return obj(self.client.get(f"board/{board_id}", agile=True), f"board {board_id}"), None
        except Refused as exc:
            return None, exc.status

    def _versions(self) -> list[Release]:
        releases: list[Release] = []
        for project in self.config.projects:
            versions = array(self.client.get(f"project/{project}/versions"), f"versions of project {project}")
            releases.extend(release_from_version(self.name, project, v, self.config.url,
                                                 where=f"versions of project {project}[{n}]")
                            for n, v in enumerate(versions))
        return releases

    def _census_page_size(self) -> int:
        """Ids a census page asks for: Cloud's /search/jql returns up to 5,000 when only `id` or `key` is
        requested (its OpenAPI description of `maxResults`); Server/DC's /search stops at 1,000
        (`jira.search.views.default.max`)."""
        return 5000 if self.client.deployment == "cloud" else 1000

    def _census(self) -> set[str]:
        """Ids of every issue in scope now (id-only pages): the source's side of delete detection."""
        ids: set[str] = set()
        token: str | None = None
        start_at = 0
        jql = self._scope_jql() + " ORDER BY key ASC"
        while True:
            page = self.client.search_page(jql, ["id"], token, start_at, self._census_page_size(), None)
            issues = self._page_issues(page)
            for issue in issues:
                iid = _issue_id(issue)
                if iid is None:
                    raise SourceError(self.name, f"census: an issue without an id: {shown(issue)}", self.config.url)
                ids.add(make_id(self.name, iid))
            start_at += len(issues)
            token = page.get("nextPageToken")
            if self.client.deployment == "cloud":
                if page.get("isLast", token is None) or not token:
                    return ids
            elif not issues or not isinstance(page.get("total"), int) or start_at >= page["total"]:
                return ids


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _due(stamp: str | None, now: datetime, every: timedelta) -> bool:
    if not stamp:
        return True
    return now - datetime.fromisoformat(stamp) >= every


def _agile_pending(state: dict[str, Any], batch: Batch) -> None:
    """Record, with this batch of changed issues, that the agile data needs a refresh."""
    state["agile_pending"] = True
    if batch.cursor is not None:
        batch.cursor["agile_pending"] = True


def _issue_id(payload: Any) -> str | None:
    """The issue's id, when the payload has a readable one."""
    try:
        return ident(obj(payload, "issue").get("id"), "id")
    except PayloadError:
        return None


def _issue_key(payload: Any) -> str | None:
    key = payload.get("key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) and key else None


def _updated_utc(payload: Any) -> str | None:
    """The payload's `updated` in UTC ISO form (as the boundary holds it), None when unreadable."""
    try:
        value = stamp(obj(obj(payload, "issue").get("fields"), "fields").get("updated"), "fields.updated")
    except PayloadError:
        return None
    return value.astimezone(UTC).isoformat() if value else None


def _newer(updated: str | None, before: str | None) -> bool:
    """Whether a re-read `updated` (UTC ISO, None when unreadable) is later than the one read before."""
    if updated is None or before is None:
        return updated is not None
    return datetime.fromisoformat(updated) > datetime.fromisoformat(before)


def _project_of(payload: Any) -> str | None:
    fields = payload.get("fields") if isinstance(payload, dict) else None
    project = fields.get("project") if isinstance(fields, dict) else None
    key = project.get("key") if isinstance(project, dict) else None
    return key if isinstance(key, str) else None


def _label(iid: str | None, key: str | None) -> str:
    """How a message names an issue: `issue WID-7 (id 10007)`; odd keys or ids are quoted, never raw."""
    if key and iid:
        return f"issue {safe_name(key)} (id {safe_name(iid)})"
    if key or iid:
        return f"issue {safe_name(key)}" if key else f"issue id {safe_name(iid or '')}"
    return "an issue without an id"
