"""The delivery funnel: how far each item got on the way to users, and the counts per scope.

An item's stage is the furthest it reached: to do, in progress, done in Jira (code still open),
code merged (waiting for a production release), released to production, or done with no code
(no linked pull request: nothing to release, so done is delivered). "Done" means delivered: the
headline of every goal and release is `Funnel.percent_delivered`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum

from syncd.model import ItemKind, StatusCategory, WorkItem
from syncd.reports.analysis.progress import CodeState, ReleaseClock, code_state
from syncd.reports.analysis.types import Funnel
from syncd.reports.data import Snapshot


class Stage(StrEnum):
    """The furthest stage an item reached."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"  # done in Jira, a linked PR still open (or none merged)
    MERGED = "merged"  # done, code merged, not in production yet
    RELEASED = "released"  # done, code in a production release
    DONE_NO_CODE = "done_no_code"  # done, no linked pull request


DELIVERED = frozenset({Stage.RELEASED, Stage.DONE_NO_CODE})


def item_stage(snap: Snapshot, item: WorkItem, clock: ReleaseClock) -> Stage:
    """The item's stage from its status category and its code's state."""
    if item.status_category == StatusCategory.TODO:
        return Stage.TODO
    if item.status_category == StatusCategory.IN_PROGRESS:
        return Stage.IN_PROGRESS
    state = code_state(snap, item, clock)
    if state is None:
        return Stage.DONE_NO_CODE
    return {CodeState.OPEN: Stage.DONE, CodeState.MERGED: Stage.MERGED, CodeState.RELEASED: Stage.RELEASED}[state]


_NOT_PLANNED = (ItemKind.EPIC, ItemKind.PULL_REQUEST)


def item_stages(snap: Snapshot, clock: ReleaseClock) -> dict[str, Stage]:
    """The stage of every item that is planned work (not epics, not pull requests)."""
    return {i.id: item_stage(snap, i, clock) for i in snap.items if i.kind not in _NOT_PLANNED}


class Stages(Mapping[str, Stage]):
    """Item id -> stage, for every item of the snapshot that is planned work; others on demand.

    Each stage is worked out the first time it is asked for: the analysis reads its scopes' items
    and a report a sprint's, a few thousand of a big store's 100,000 (working them all out was a
    tenth of the analysis). The same answers as `item_stages`, plus the items `of` was asked about.
    """

    def __init__(self, snap: Snapshot, clock: ReleaseClock) -> None:
        self.snap, self.clock = snap, clock
        self._known: dict[str, Stage] = {}

    def of(self, item: WorkItem) -> Stage:
        """The item's stage (kept, also for items outside the planned work)."""
        found = self._known.get(item.id)
        if found is None:
            found = self._known[item.id] = item_stage(self.snap, item, self.clock)
        return found

    def __getitem__(self, item_id: str) -> Stage:
        found = self._known.get(item_id)
        if found is not None:
            return found
        item = self.snap.item_by_id.get(item_id)
        if item is None or item.kind in _NOT_PLANNED:
            raise KeyError(item_id)
        return self.of(item)

    def __iter__(self) -> Iterator[str]:
        planned = [i.id for i in self.snap.items if i.kind not in _NOT_PLANNED]
        asked = [k for k in self._known if (i := self.snap.item_by_id.get(k)) is None or i.kind in _NOT_PLANNED]
        return iter([*planned, *asked])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def funnel_of(items: Iterable[WorkItem], stages: Stages) -> Funnel:
    """The funnel counts of a scope's items."""
    n = dict.fromkeys(Stage, 0)
    for item in items:
        n[stages.of(item)] += 1
    done = n[Stage.DONE] + n[Stage.MERGED] + n[Stage.RELEASED] + n[Stage.DONE_NO_CODE]
    return Funnel(todo=n[Stage.TODO], in_progress=n[Stage.IN_PROGRESS], done=done,
                  done_with_code=done - n[Stage.DONE_NO_CODE], merged=n[Stage.MERGED] + n[Stage.RELEASED],
                  released=n[Stage.RELEASED], done_no_code=n[Stage.DONE_NO_CODE])
