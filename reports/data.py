"""The analysis input: a `Snapshot` of the store, loaded once, with the lookups analysis needs.

`load_snapshot(store)` reads it through the store (which owns the SQL); tests build one with
`Snapshot.of(...)` from model records. Transitions are `history`, `TransitionColumns`
(syncd/store/_transitions.py): item id -> that item's lean `TransitionRow` tuples, oldest first,
built when asked for. A snapshot rewound to a past moment (reports/analysis/replay.py) carries
`as_of`: what the replay rebuilt and what the changelog could not tell, for the report footer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

from syncd.model import (
    ItemKind,
    Link,
    LinkKind,
    Person,
    PullRequest,
    Release,
    ReleaseKind,
    SourceType,
    Sprint,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.store import Store, TransitionColumns, TransitionRow

# Kinds that count as scope: epics are containers, sub-tasks roll up to their parent, pull requests
# are how work ships (measured apart).
SCOPE_KINDS = frozenset({ItemKind.STORY, ItemKind.TASK, ItemKind.BUG, ItemKind.ISSUE})


@dataclass(frozen=True)
class AsOf:
    """A snapshot replayed to `at`: one line per fact about the replay, for the report footer."""

    at: datetime
    notes: tuple[str, ...]


class _ItemLookups(NamedTuple):
    """The item lookups of a `Snapshot` that are built together (see `Snapshot._item_lookups`)."""

    scope_items: list[WorkItem]
    open_work: list[WorkItem]
    by_key: dict[str, WorkItem]
    by_kind: dict[ItemKind, list[WorkItem]]
    by_release: dict[str, list[WorkItem]]
    jira_statuses: set[tuple[str, StatusCategory]]


@dataclass
class Snapshot:
    """Every live record analysis looks at, with lazily built indexes."""

    items: list[WorkItem]
    pulls: list[PullRequest] = field(default_factory=list)
    sprints: list[Sprint] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    history: TransitionColumns = field(default_factory=lambda: TransitionColumns.from_rows(()))  # by item, then time
    as_of: AsOf | None = None  # set when replayed to a past moment that the store holds later changes of

    @classmethod
    def of(
        cls,
        items: Iterable[WorkItem] = (),
        *,
        pulls: Iterable[PullRequest] = (),
        sprints: Iterable[Sprint] = (),
        releases: Iterable[Release] = (),
        links: Iterable[Link] = (),
        transitions: Iterable[Transition | TransitionRow] = (),
        people: Iterable[Person] = (),
    ) -> Snapshot:
        """A snapshot from model records (transitions sorted by item, then time); removed items dropped."""
        live = [i for i in items if not i.removed]
        return cls(items=live, pulls=list(pulls), sprints=list(sprints), releases=list(releases),
                   links=list(links), people=list(people), history=TransitionColumns.from_rows(transitions))

    # -- lookups ------------------------------------------------------------------------------

    @cached_property
    def _item_lookups(self) -> _ItemLookups:
        # One pass over the items for the lookups every analysis reads, not one each: at 100,000 items
        # a pass costs its memory reads (about 20 ms) more than its work: these six and the Histories' read
        # of the Jira statuses went from 0.30 to 0.16 s CPU.
        scope: list[WorkItem] = []
        open_work: list[WorkItem] = []
        by_key: dict[str, WorkItem] = {}
        by_kind: dict[ItemKind, list[WorkItem]] = {}
        by_release: dict[str, list[WorkItem]] = {}
        jira_statuses: set[tuple[str, StatusCategory]] = set()
        scope_kinds, done, jira = SCOPE_KINDS, StatusCategory.DONE, SourceType.JIRA
        for item in self.items:
            kind = item.kind
            if item.source_type == jira:
                jira_statuses.add((item.status, item.status_category))
            by_key[item.key] = item
            of_kind = by_kind.get(kind)
            if of_kind is None:
                of_kind = by_kind[kind] = []
            of_kind.append(item)
            if kind in scope_kinds:
                scope.append(item)
                if item.status_category != done:
                    open_work.append(item)
            for rid in item.release_ids:
                planned = by_release.get(rid)
                if planned is None:
                    planned = by_release[rid] = []
                planned.append(item)
        return _ItemLookups(scope, open_work, by_key, by_kind, by_release, jira_statuses)

    @cached_property
    def scope_items(self) -> list[WorkItem]:
        """Items that count as scope (stories, tasks, bugs, GitHub issues)."""
        return self._item_lookups.scope_items

    @cached_property
    def open_work(self) -> list[WorkItem]:
        """Scope items not done."""
        return self._item_lookups.open_work

    @cached_property
    def jira_statuses(self) -> set[tuple[str, StatusCategory]]:
        """The (status name, status category) pairs the Jira items have now."""
        return self._item_lookups.jira_statuses

    @cached_property
    def items_by_kind(self) -> dict[ItemKind, list[WorkItem]]:
        """Items by kind, each kind's in snapshot order."""
        return self._item_lookups.by_kind

    @cached_property
    def selections(self) -> dict[object, list[WorkItem]]:
        """Memo of `select_items` results by selector (the snapshot does not change)."""
        return {}

    @cached_property
    def item_by_id(self) -> dict[str, WorkItem]:
        """Items by record id."""
        return {i.id: i for i in self.items}

    @cached_property
    def memo(self) -> dict[str, object]:
        """Values derived from the snapshot once for every reader (the analysis' and the reports' item facts)."""
        return {}

    @cached_property
    def item_by_key(self) -> dict[str, WorkItem]:
        """Items by key (WID-12, acme/widget#34)."""
        return self._item_lookups.by_key

    @cached_property
    def pull_by_item(self) -> dict[str, PullRequest]:
        """Pull-request details by the PR item's record id."""
        return {p.item_id: p for p in self.pulls}

    @cached_property
    def sprint_by_id(self) -> dict[str, Sprint]:
        """Sprints by record id."""
        return {s.id: s for s in self.sprints}

    @cached_property
    def sprint_by_remote(self) -> dict[tuple[str, str], Sprint]:
        """Sprints by (source, remote id): the changelog names sprints by remote id."""
        return {(s.source, s.remote_id): s for s in self.sprints}

    @cached_property
    def release_by_id(self) -> dict[str, Release]:
        """Releases by record id."""
        return {r.id: r for r in self.releases}

    @cached_property
    def release_by_remote(self) -> dict[tuple[str, str], Release]:
        """Jira fix versions by (source, remote id): the changelog names them by remote id."""
        return {(r.source, r.remote_id): r for r in self.releases if r.kind == ReleaseKind.VERSION}

    @cached_property
    def items_by_release(self) -> dict[str, list[WorkItem]]:
        """Release id -> the items planned for it (fix version or milestone)."""
        return self._item_lookups.by_release

    @cached_property
    def person_name(self) -> dict[str, str]:
        """Display names by person id."""
        return {p.id: p.display_name for p in self.people}

    @property
    def transitions(self) -> list[TransitionRow]:
        """Every transition, by item, then time (built afresh each time: read `history` instead)."""
        return self.history.rows()

    @cached_property
    def pulls_implementing(self) -> dict[str, list[str]]:
        """Work-item id -> ids of the PR items that implement it (IMPLEMENTS links by key)."""
        out: dict[str, list[str]] = {}
        by_key = self.item_by_key
        for link in self.links:
            if link.kind != LinkKind.IMPLEMENTS or link.from_id not in self.pull_by_item:
                continue
            target = self.item_by_id.get(link.to_id) if link.to_id else None
            target = target or by_key.get(link.to_key)
            if target is not None:
                out.setdefault(target.id, []).append(link.from_id)
        return out

    def linked_item(self, link: Link) -> WorkItem | None:
        """The stored item at a link's far end (by record id, else by key); None when it is not synced."""
        target = self.item_by_id.get(link.to_id) if link.to_id else None
        return target or self.item_by_key.get(link.to_key)

    @cached_property
    def blockers_of(self) -> dict[str, list[str]]:
        """Item id -> ids of the stored items that block it, each once, in link order.

        Read from both directions: a BLOCKS link (`from` blocks `to`) and a BLOCKED_BY link (`from`
        is blocked by `to`: a "depends on" type, or a link that came in from an item of a project
        that is not synced, kept inverted by the issue it came into).
        """
        out: dict[str, list[str]] = {}
        for link in self.links:
            if link.from_id not in self.item_by_id or link.kind not in (LinkKind.BLOCKS, LinkKind.BLOCKED_BY):
                continue
            target = self.linked_item(link)
            if target is None or target.id == link.from_id:
                continue
            blocked, blocker = (target.id, link.from_id) if link.kind == LinkKind.BLOCKS else (link.from_id, target.id)
            found = out.setdefault(blocked, [])
            if blocker not in found:
                found.append(blocker)
        return out

    @cached_property
    def external_blockers_of(self) -> dict[str, list[Link]]:
        """Item id -> its BLOCKED_BY links whose far end is not in the store (a project that is not synced).

        The link carries what the source showed of the far end (`to_status`, `to_category`,
        `to_summary`, `to_type`) where it showed it; each far-end key once, in link order.
        """
        out: dict[str, list[Link]] = {}
        for link in self.links:
            if link.kind != LinkKind.BLOCKED_BY or link.from_id not in self.item_by_id:
                continue
            if self.linked_item(link) is not None:
                continue
            found = out.setdefault(link.from_id, [])
            if all(lk.to_key != link.to_key for lk in found):
                found.append(link)
        return out


# The changelog fields analysis reads (labels: when a sign-off label was added); the others are left in the store.
ANALYSIS_FIELDS = (TransitionField.STATUS, TransitionField.SPRINT, TransitionField.ESTIMATE, TransitionField.LABELS)


def load_snapshot(store: Store, *, fields: Iterable[TransitionField] = ANALYSIS_FIELDS,
                  live_at: datetime | None = None) -> Snapshot:
    """Read the store once, consistently, into a Snapshot (transitions of `fields` only).

    With `live_at`, items removed after that moment are read too, still marked removed (the
    replay to that moment puts them back).
    """
    snap = store.snapshot(transition_fields=[f.value for f in fields], live_at=live_at)
    out = Snapshot(items=snap.items, pulls=snap.pulls, sprints=snap.sprints, releases=snap.releases,
                   links=snap.links, people=snap.people, history=snap.history)
    if snap.item_by_id is not None:
        out.__dict__["item_by_id"] = snap.item_by_id  # likewise the index of items by id
    return out
