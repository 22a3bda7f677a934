"""Item histories from the changelog: status category, story points, sprints, assignee and fix
versions at a time.

Jira's changelog names statuses (not their categories), story points as strings, sprints by
remote id, comma-separated, the assignee by account id and fix versions one added or removed
version per change. The state before the first change of a field is that change's `from` side; an
item with no change of a field has had its current value since it was created.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from syncd.model import StatusCategory, TransitionField, WorkItem, make_id
from syncd.reports.data import SCOPE_KINDS, Snapshot
from syncd.store import TransitionRow, micros, moment

STATUS = TransitionField.STATUS.value
SPRINT = TransitionField.SPRINT.value
ESTIMATE = TransitionField.ESTIMATE.value
ASSIGNEE = TransitionField.ASSIGNEE.value
FIX_VERSION = TransitionField.FIX_VERSION.value


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


_NONE = np.iinfo(np.int64).min  # no such change (in the per-item arrays of `_status_marks`)


class ItemFacts(NamedTuple):
    """When an item started (first in progress) and finished (became done for the last time)."""

    # A tuple, not a dataclass: one is built per item of the snapshot, and a tuple builds fastest.
    started: datetime | None
    done_at: datetime | None  # None unless the item is done now


def _moments(marks: npt.NDArray[np.int64]) -> list[datetime | None]:
    """Each mark of `_status_marks` as a `moment`, None where there is none."""
    out = np.full(len(marks), None, dtype=object)
    found = marks != _NONE
    out[found] = np.fromiter(map(moment, marks[found].tolist()), dtype=object, count=int(np.count_nonzero(found)))
    return cast(list[datetime | None], out.tolist())


class Histories:
    """Point-in-time questions about items, answered from the snapshot's transitions."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        # Status names as Jira items carry them now tell the category of the names in the changelog
        # (GitHub's "open" means to do or in progress, depending on an assignee: it has no changelog).
        self.categories: dict[str, StatusCategory] = {}
        for name, category in sorted(snap.jira_statuses):
            self.categories.setdefault(name.lower(), StatusCategory(category))
        self._by_field: dict[str, dict[str, list[TransitionRow]]] = {}
        self._sprint_changes: dict[str, tuple[frozenset[str], list[tuple[datetime, frozenset[str]]]]] = {}
        self._by_name: dict[str, StatusCategory] = {}
        self._sets: dict[tuple[str, str], frozenset[str]] = {}
        self._intervals: dict[str, dict[str, list[tuple[datetime, datetime | None]]]] = {}

    def category(self, status_name: str | None) -> StatusCategory:
        """The category of a status name: as items in that status have it, else guessed from the name."""
        if not status_name:
            return StatusCategory.TODO
        found = self._by_name.get(status_name)
        if found is None:
            found = self.categories.get(status_name.lower()) or _guess_category(status_name)
            self._by_name[status_name] = found
        return found

    def _rows(self, item_id: str, field: str) -> list[TransitionRow]:
        split = self._by_field.get(item_id)
        if split is None:
            split = {}
            for t in self.snap.history.get(item_id, ()):
                split.setdefault(t.field, []).append(t)
            self._by_field[item_id] = split
        return split.get(field, [])

    # -- status ------------------------------------------------------------------------------

    def facts(self) -> dict[str, ItemFacts]:
        """Started/done times of every item (computed once per snapshot, from the status columns of the transitions)."""
        shared = self.snap.memo.get("facts")  # kept on the snapshot: every Histories of it reads the same
        if shared is not None:
            return cast(dict[str, ItemFacts], shared)
        created_start, first_start, last_done = self._status_marks()
        out: dict[str, ItemFacts] = {}
        index = self.snap.history.index.get
        in_progress, done = StatusCategory.IN_PROGRESS, StatusCategory.DONE
        unknown = ItemFacts(None, None)  # not started, not done: shared, as most open items are
        new = tuple.__new__  # ItemFacts(a, b) without its Python-level __new__: 100,000 of them
        for item in self.snap.items:
            item_id = item.id
            g = index(item_id)
            started: datetime | None = None
            finished: datetime | None = None
            if g is not None:
                started = item.created if created_start[g] else first_start[g]
                finished = last_done[g]
            current = item.status_category
            if current == done:
                out[item_id] = new(ItemFacts, (started, finished or item.resolved or item.updated))
            elif started is not None:
                out[item_id] = new(ItemFacts, (started, None))
            elif current == in_progress:  # in progress with no recorded start (e.g. a GitHub issue)
                out[item_id] = new(ItemFacts, (item.created, None))
            else:
                out[item_id] = unknown
        self.snap.memo["facts"] = out
        return out

    def _status_marks(self) -> tuple[list[bool], list[datetime | None], list[datetime | None]]:
        """From the status changes, by item group of `snap.history`: whether the first change leaves an
        in-progress status (started on creation), the first change into in progress and the last into done
        (None: no such change).
        """
        cols = self.snap.history
        # per distinct change (a few hundred): a status change? the categories it leaves and enters
        status, left, entered = [], [], []
        for fld, _, _, from_string, to_string in cols.changes:
            status.append(fld == STATUS)
            left.append(fld == STATUS and self.category(from_string) is StatusCategory.IN_PROGRESS)
            cat = self.category(to_string) if fld == STATUS else None
            entered.append(1 if cat is StatusCategory.IN_PROGRESS else 2 if cat is StatusCategory.DONE else 0)
        n = len(cols)
        created_start = np.zeros(n, dtype=bool)
        first_start = np.full(n, _NONE, dtype=np.int64)
        last_done = np.full(n, _NONE, dtype=np.int64)
        rows = np.flatnonzero(np.array(status, dtype=bool)[cols.change]) if cols.changes else np.zeros(0, np.int64)
        if len(rows):
            change, groups = cols.change[rows], cols.groups()[rows]
            first = np.r_[True, groups[1:] != groups[:-1]]
            created_start[groups[first & np.array(left, dtype=bool)[change]]] = True
            into = np.array(entered, dtype=np.int8)[change]
            starts, start_groups = rows[into == 1], groups[into == 1]
            first = np.r_[True, start_groups[1:] != start_groups[:-1]] if len(starts) else np.zeros(0, dtype=bool)
            first_start[start_groups[first]] = cols.at[starts[first]]
            dones, done_groups = rows[into == 2], groups[into == 2]
            last = np.r_[done_groups[1:] != done_groups[:-1], True] if len(dones) else np.zeros(0, dtype=bool)
            last_done[done_groups[last]] = cols.at[dones[last]]
        return created_start.tolist(), _moments(first_start), _moments(last_done)

    def status_at(self, item: WorkItem, at: datetime) -> str:
        """The item's status name at `at` (its first recorded status before any change).

        A change whose name is missing (a row the changelog could not name) keeps the status before it:
        an unreadable row does not move the item anywhere the changelog never said.
        """
        rows = self._rows(item.id, STATUS)
        if not rows:
            return item.status
        current = rows[0].from_string or item.status
        for t in rows:
            if t.at > at:
                break
            current = t.to_string or current
        return current

    def category_at(self, item: WorkItem, at: datetime) -> StatusCategory:
        """The item's status category at `at`: the category of `status_at`, so a replayed item's status name
        and category always agree (an item with no status change keeps its own category)."""
        if not self._rows(item.id, STATUS):
            return item.status_category
        return self.category(self.status_at(item, at))

    def done_at(self, item: WorkItem, at: datetime) -> bool:
        """True when the item was in a done-category status at `at`."""
        return self.category_at(item, at) == StatusCategory.DONE

    def done_at_each(self, items: Iterable[WorkItem], at: datetime) -> list[bool]:
        """`done_at` of each item, read straight from the transition columns: for items asked once each.

        `done_at` builds (and keeps) every transition row of an item, a tuple and a datetime each, to read
        its status rows; asked once per item that is waste (the business report's 9,140 done feedback items
        at 100k: `_feedback` of 3 goals 199 -> 105 ms). Same rule as `status_at` and `category_at`.
        """
        cols = self.snap.history
        changes = cols.changes
        is_status = [c[0] == STATUS for c in changes]
        until = micros(at)
        done = StatusCategory.DONE
        out = []
        for item in items:
            codes, stamps = cols.coded(item.id)
            current: str | None = None  # None until the first status row
            for c, u in zip(codes, stamps, strict=True):
                if not is_status[c]:
                    continue
                if current is None:
                    current = changes[c][3] or item.status
                if u > until:
                    break
                current = changes[c][4] or current
            category = item.status_category if current is None else self.category(current)
            out.append(category == done)
        return out

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
        key = (item.source, value or "")
        found = self._sets.get(key)
        if found is None:  # the same field values recur across items: parse each once
            by_remote = self.snap.sprint_by_remote
            found = frozenset(s.id for part in key[1].split(",")
                              if (s := by_remote.get((item.source, part.strip()))) is not None)
            self._sets[key] = found
        return found

    def sprint_changes(self, item: WorkItem) -> tuple[frozenset[str], list[tuple[datetime, frozenset[str]]]]:
        """The item's sprints at creation and every later change of them (time, new set)."""
        cached = self._sprint_changes.get(item.id)
        if cached is not None:
            return cached
        rows = self._rows(item.id, SPRINT)
        if not rows:
            cached = frozenset(item.sprint_ids), []
        else:
            cached = self._sprint_set(item, rows[0].from_value), [(t.at, self._sprint_set(item, t.to_value)) for t in rows]
        self._sprint_changes[item.id] = cached
        return cached

    def sprint_intervals(self, item: WorkItem) -> dict[str, list[tuple[datetime, datetime | None]]]:
        """Sprint id -> the spans [entered, left) the item was in it (left None: still in it)."""
        cached = self._intervals.get(item.id)
        if cached is not None:
            return cached
        initial, changes = self.sprint_changes(item)
        since: dict[str, datetime] = dict.fromkeys(initial, item.created)
        out: dict[str, list[tuple[datetime, datetime | None]]] = {}
        for at, sprints in changes:
            for sid in [s for s in since if s not in sprints]:
                out.setdefault(sid, []).append((since.pop(sid), at))
            for sid in sprints:
                since.setdefault(sid, at)
        for sid, entered in since.items():
            out.setdefault(sid, []).append((entered, None))
        self._intervals[item.id] = out
        return out

    def sprints_at(self, item: WorkItem, at: datetime) -> list[str]:
        """Ids of the sprints the item was in at `at` (in the order the changelog names them)."""
        rows = self._rows(item.id, SPRINT)
        if not rows:
            return list(item.sprint_ids)
        value = rows[0].from_value
        for t in rows:
            if t.at > at:
                break
            value = t.to_value
        by_remote = self.snap.sprint_by_remote
        found = (by_remote.get((item.source, part.strip())) for part in (value or "").split(","))
        return list(dict.fromkeys(s.id for s in found if s is not None))

    def in_sprint_at(self, item: WorkItem, sprint_id: str, at: datetime) -> bool:
        """True when the item was in the sprint at `at` (and existed)."""
        if item.created > at:
            return False
        return any(entered <= at and (left is None or at < left)
                   for entered, left in self.sprint_intervals(item).get(sprint_id, ()))

    def joined_between(self, item: WorkItem, sprint_id: str, start: datetime, end: datetime) -> datetime | None:
        """When the item first entered the sprint within (start, end], or None."""
        for entered, _ in self.sprint_intervals(item).get(sprint_id, ()):
            if start < entered <= end:
                return entered
        return None

    def ever_in_sprint(self, item: WorkItem) -> set[str]:
        """Every sprint the item was ever in."""
        return set(self.sprint_intervals(item)) | set(item.sprint_ids)


    # -- assignee and fix versions (only read when the snapshot holds their transitions) --------

    def assignee_at(self, item: WorkItem, at: datetime) -> str | None:
        """The assignee's person id at `at` (the changelog names Jira users by account id)."""
        rows = self._rows(item.id, ASSIGNEE)
        if not rows:
            return item.assignee_id
        value = rows[0].from_value
        for t in rows:
            if t.at > at:
                break
            value = t.to_value
        return make_id(item.source, value) if value else None

    def releases_at(self, item: WorkItem, at: datetime) -> list[str]:
        """Ids of the item's releases (fix versions) at `at`.

        Jira logs a fix-version change as one version added (`to`) or removed (`from`) per row, so
        the set at `at` is the current set with every later change undone, newest first.
        """
        rows = self._rows(item.id, FIX_VERSION)
        if not rows or rows[-1].at <= at:
            return list(item.release_ids)
        by_remote = self.snap.release_by_remote
        out = list(item.release_ids)
        for t in reversed(rows):
            if t.at <= at:
                break
            added = by_remote.get((item.source, t.to_value)) if t.to_value else None
            removed = by_remote.get((item.source, t.from_value)) if t.from_value else None
            if added is not None and added.id in out:
                out.remove(added.id)
            if removed is not None and removed.id not in out:
                out.append(removed.id)
        return out


def is_scope(item: WorkItem) -> bool:
    """True for items that count as scope (stories, tasks, bugs, GitHub issues)."""
    return item.kind in SCOPE_KINDS
