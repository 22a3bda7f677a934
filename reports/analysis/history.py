"""Item histories from the changelog: status category, story points and sprint membership at a time.

Jira's changelog names statuses (not their categories), story points as strings and sprints by
remote id, comma-separated. The state before the first change of a field is that change's `from`
side; an item with no change of a field has had its current value since it was created.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from reports.data import Snapshot
from syncd.model import ItemKind, StatusCategory, TransitionField, WorkItem
from syncd.store import TransitionRow

STATUS = TransitionField.STATUS.value
SPRINT = TransitionField.SPRINT.value
ESTIMATE = TransitionField.ESTIMATE.value

# Kinds that count as scope: epics are containers, sub-tasks roll up to their parent, pull requests
# are how work ships (measured apart).
SCOPE_KINDS = frozenset({ItemKind.STORY, ItemKind.TASK, ItemKind.BUG, ItemKind.ISSUE})

_DONE_WORDS = ("done", "closed", "resolved", "complete", "released", "shipped", "merged", "won't", "cancel")
_TODO_WORDS = ("to do", "todo", "open", "backlog", "new", "selected", "ready")


def _guess_category(name: str) -> StatusCategory:
    low = name.lower()
    if any(w in low for w in _DONE_WORDS):
        return StatusCategory.DONE
    if any(low.startswith(w) for w in _TODO_WORDS):
        return StatusCategory.TODO
    return StatusCategory.IN_PROGRESS


def parse_points(value: str | None) -> float | None:
    """Story points from a changelog string ("5", "5.0", "" or None)."""
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """When an item started (first in progress) and finished (became done for the last time)."""

    started: datetime | None
    done_at: datetime | None  # None unless the item is done now


class Histories:
    """Point-in-time questions about items, answered from the snapshot's transitions."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.categories: dict[str, StatusCategory] = {}
        for item in snap.items:
            self.categories.setdefault(item.status.lower(), item.status_category)
        self._facts: dict[str, ItemFacts] | None = None

    def category(self, status_name: str | None) -> StatusCategory:
        """The category of a status name: as items in that status have it, else guessed from the name."""
        if not status_name:
            return StatusCategory.TODO
        found = self.categories.get(status_name.lower())
        return found if found is not None else _guess_category(status_name)

    def _rows(self, item_id: str, field: str) -> list[TransitionRow]:
        return [t for t in self.snap.history.get(item_id, ()) if t.field == field]

    # -- status ------------------------------------------------------------------------------

    def facts(self) -> dict[str, ItemFacts]:
        """Started/done times of every item (computed once, in one pass over the transitions)."""
        if self._facts is not None:
            return self._facts
        out: dict[str, ItemFacts] = {}
        history = self.snap.history
        cat = self.category
        in_progress, done = StatusCategory.IN_PROGRESS, StatusCategory.DONE
        for item in self.snap.items:
            started: datetime | None = None
            last_done: datetime | None = None
            for t in history.get(item.id, ()):
                if t.field != STATUS:
                    continue
                c = cat(t.to_string)
                if c == in_progress and started is None:
                    started = t.at
                elif c == done:
                    last_done = t.at
                    if started is None and cat(t.from_string) == in_progress:
                        started = t.at  # history began mid-way: at least it was in progress until now
            is_done = item.status_category == done
            done_at = (last_done or item.resolved or item.updated) if is_done else None
            if started is None and item.status_category == in_progress:
                started = item.created  # in progress with no recorded start (e.g. a GitHub issue)
            out[item.id] = ItemFacts(started=started, done_at=done_at)
        self._facts = out
        return out

    def category_at(self, item: WorkItem, at: datetime) -> StatusCategory:
        """The item's status category at `at`."""
        rows = self._rows(item.id, STATUS)
        if not rows:
            return item.status_category
        current = self.category(rows[0].from_string)
        for t in rows:
            if t.at > at:
                break
            current = self.category(t.to_string)
        return current

    def done_at(self, item: WorkItem, at: datetime) -> bool:
        """True when the item was in a done-category status at `at`."""
        return self.category_at(item, at) == StatusCategory.DONE

    # -- story points ------------------------------------------------------------------------

    def points_at(self, item: WorkItem, at: datetime) -> float | None:
        """Story points at `at`: the value set by the last change at or before it."""
        rows = self._rows(item.id, ESTIMATE)
        if not rows:
            return item.estimate
        value = parse_points(rows[0].from_string or rows[0].from_value)
        for t in rows:
            if t.at > at:
                break
            value = parse_points(t.to_string or t.to_value)
        return value

    # -- sprint membership -------------------------------------------------------------------

    def _sprint_set(self, item: WorkItem, value: str | None) -> frozenset[str]:
        out = set()
        for part in (value or "").split(","):
            rid = part.strip()
            if rid:
                sprint = self.snap.sprint_by_remote.get((item.source, rid))
                if sprint is not None:
                    out.add(sprint.id)
        return frozenset(out)

    def sprint_changes(self, item: WorkItem) -> tuple[frozenset[str], list[tuple[datetime, frozenset[str]]]]:
        """The item's sprints at creation and every later change of them (time, new set)."""
        rows = self._rows(item.id, SPRINT)
        if not rows:
            return frozenset(item.sprint_ids), []
        initial = self._sprint_set(item, rows[0].from_value)
        return initial, [(t.at, self._sprint_set(item, t.to_value)) for t in rows]

    def in_sprint_at(self, item: WorkItem, sprint_id: str, at: datetime) -> bool:
        """True when the item was in the sprint at `at` (and existed)."""
        if item.created > at:
            return False
        initial, changes = self.sprint_changes(item)
        times = [c[0] for c in changes]
        idx = bisect_right(times, at)
        current = changes[idx - 1][1] if idx else initial
        return sprint_id in current

    def ever_in_sprint(self, item: WorkItem) -> set[str]:
        """Every sprint the item was ever in."""
        initial, changes = self.sprint_changes(item)
        out = set(initial) | set(item.sprint_ids)
        for _, sprints in changes:
            out |= sprints
        return out


def is_scope(item: WorkItem) -> bool:
    """True for items that count as scope (stories, tasks, bugs, GitHub issues)."""
    return item.kind in SCOPE_KINDS
