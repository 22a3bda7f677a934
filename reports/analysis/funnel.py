"""The delivery funnel: how far each item got on the way to users, and the counts per scope.

An item's stage is the furthest it reached: to do, in progress, done in Jira (code still open),
code merged (waiting for a production release), released to production, or done with no code
(no linked pull request: nothing to release, so done is delivered). "Done" means delivered: the
headline of every goal and release is `Funnel.percent_delivered`.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def item_stages(snap: Snapshot, clock: ReleaseClock) -> dict[str, Stage]:
    """The stage of every item that is planned work (not epics, not pull requests)."""
    skip = (ItemKind.EPIC, ItemKind.PULL_REQUEST)
    return {i.id: item_stage(snap, i, clock) for i in snap.items if i.kind not in skip}


class Stages(dict[str, Stage]):
    """Item id -> stage, for every item of the snapshot that is planned work; others on demand."""

    def __init__(self, snap: Snapshot, clock: ReleaseClock) -> None:
        super().__init__(item_stages(snap, clock))
        self.snap, self.clock = snap, clock

    def of(self, item: WorkItem) -> Stage:
        """The item's stage (computed and kept the first time for items outside the planned work)."""
        found = self.get(item.id)
        if found is None:
            found = self[item.id] = item_stage(self.snap, item, self.clock)
        return found


def funnel_of(items: Iterable[WorkItem], stages: Stages) -> Funnel:
    """The funnel counts of a scope's items."""
    n = dict.fromkeys(Stage, 0)
    for item in items:
        n[stages.of(item)] += 1
    done = n[Stage.DONE] + n[Stage.MERGED] + n[Stage.RELEASED] + n[Stage.DONE_NO_CODE]
    return Funnel(todo=n[Stage.TODO], in_progress=n[Stage.IN_PROGRESS], done=done,
                  done_with_code=done - n[Stage.DONE_NO_CODE], merged=n[Stage.MERGED] + n[Stage.RELEASED],
                  released=n[Stage.RELEASED], done_no_code=n[Stage.DONE_NO_CODE])
