"""Rewinding the Jira fields a replay rebuilds beside status, sprint and points: priority, labels,
components, due date, flag, parent and epic, and issue links.

Each is rewound the way Jira's own version and sprint reports rebuild a past scope: start from the
value stored now and undo every change logged after the moment, newest first (a change's `from` side
is the value before it; ChangeDetails in Jira's REST API, ../shared/realdata/jira-openapi). What the
connector stores per field (connectors/jira_changelog.py `_history_field`):

- priority: `from_value`/`to_value` the priority id, the strings its name;
- labels: the whole set, space-separated, in `from_string`/`to_string` (Jira labels hold no spaces);
- components: one component added (`to_string`, its name) or removed (`from_string`) per row;
- due date: `from_value`/`to_value` as YYYY-MM-DD;
- flag: the Flagged checkbox's option: any `from` value means flagged before the change;
- parent (team-managed `IssueParentAssociation`, a sub-task's `Parent`) and `Epic Link`: the issue id in
  `from_value`/`to_value`, its key in the strings where Jira gives one;
- links: one link added (`to_value`: the far key) or removed (`from_value`) per row, logged on both
  issues, the strings saying which way ("This issue blocks WID-9", "This issue is blocked by WID-3").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from syncd.model import ItemKind, Link, LinkKind, TransitionField, WorkItem, make_id
from syncd.reports.data import Snapshot
from syncd.store import TransitionRow

PRIORITY = TransitionField.PRIORITY.value
LABELS = TransitionField.LABELS.value
COMPONENT = TransitionField.COMPONENT.value
DUE = TransitionField.DUE.value
FLAGGED = TransitionField.FLAGGED.value
PARENT = TransitionField.PARENT.value
EPIC = TransitionField.EPIC.value
LINK = TransitionField.LINK.value
ITEM_FIELDS = frozenset({PRIORITY, LABELS, COMPONENT, DUE, FLAGGED, PARENT, EPIC})

# How a link row's string reads from the issue it is logged on: Jira's default link types' outward and
# inward descriptions ("blocks" / "is blocked by", "duplicates" / "is duplicated by") and the usual
# dependency wording. Anything else is put back as relates.
_OWNER_WAITS = ("is blocked by", "depends on", "is dependent on", "requires", "needs")
_OWNER_BLOCKS = ("blocks", "is depended on by", "is depended by", "is a dependency of", "is required by",
                 "is needed by", "is a prerequisite of")


def rewind_item_fields(then: WorkItem, rows: Sequence[TransitionRow], at: datetime, snap: Snapshot) -> None:
    """Undo on `then` (a copy of the item) every change of the fields above logged after `at`."""
    for t in reversed(rows):
        if t.at <= at:
            break
        field = t.field
        if field == PRIORITY:
            then.priority, then.priority_id = t.from_string, t.from_value
        elif field == LABELS:
            then.labels = (t.from_string or "").split()
        elif field == COMPONENT:
            components = [c for c in then.components if c != t.to_string] if t.to_string else list(then.components)
            if t.from_string and t.from_string not in components:
                components.append(t.from_string)
            then.components = components
        elif field == DUE:
            then.due = _day(t.from_value)
        elif field == FLAGGED:
            then.flagged = bool(t.from_value or t.from_string)
        elif field == PARENT:
            _parent_before(then, t, snap)
        elif field == EPIC:
            then.epic_id = make_id(then.source, t.from_value) if t.from_value else None
            then.epic_key = t.from_string or _key_of(snap, then.epic_id)


def _parent_before(then: WorkItem, t: TransitionRow, snap: Snapshot) -> None:
    """The parent before change `t`; the epic follows the parent where it came from it."""
    via_parent = then.epic_id is not None and then.epic_id == then.parent_id
    parent_id = make_id(then.source, t.from_value) if t.from_value else None
    parent = snap.item_by_id.get(parent_id) if parent_id else None
    then.parent_id = parent_id
    then.parent_key = t.from_string or (parent.key if parent else None)
    if parent is not None and parent.kind == ItemKind.EPIC:
        then.epic_id, then.epic_key = parent.id, parent.key
    elif via_parent:  # the epic was the parent: it is the old parent now, when that is not known to be no epic
        unknown = parent is None and parent_id is not None
        then.epic_id, then.epic_key = (parent_id, then.parent_key) if unknown else (None, None)


def _key_of(snap: Snapshot, item_id: str | None) -> str | None:
    found = snap.item_by_id.get(item_id) if item_id else None
    return found.key if found else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def links_at(snap: Snapshot, live: dict[str, WorkItem], at: datetime) -> tuple[list[Link], int]:
    """The links between live items (and to items outside the store) as they were at `at`, and how many
    link changes since were undone (added since: left out; removed since: put back)."""
    later: list[tuple[WorkItem, TransitionRow]] = []  # each item's link changes after `at`, newest first
    for item_id in snap.history.changed_after(at, LINK):
        owner = live.get(item_id)
        if owner is not None:
            for t in reversed(snap.history[item_id]):
                if t.at <= at:
                    break
                if t.field == LINK:
                    later.append((owner, t))
    known = snap.item_by_id
    # a link to an item created after `at` did not exist (one to an item not in the store is kept)
    then = [lk for lk in snap.links
            if lk.from_id in live and (lk.to_id is None or lk.to_id in live or lk.to_id not in known)]
    if not later:
        return then, 0
    by_key = {i.key: i for i in live.values()}
    by_pair: dict[frozenset[str], list[Link]] = {}
    for lk in then:
        by_pair.setdefault(frozenset((live[lk.from_id].key, lk.to_key)), []).append(lk)
    for owner, t in later:
        if t.to_value:  # added since: the link of that kind between the two is left out
            pair = frozenset((owner.key, t.to_value))
            family = _FAMILY[_link_from_row(owner, t.to_value, t.to_string, by_key).kind]
            by_pair[pair] = [lk for lk in by_pair.get(pair, []) if _FAMILY[lk.kind] != family]
        if t.from_value:  # removed since: put back once (Jira logs the removal on both issues)
            pair = frozenset((owner.key, t.from_value))
            back = _link_from_row(owner, t.from_value, t.from_string, by_key)
            kept = by_pair.setdefault(pair, [])
            if all(_FAMILY[lk.kind] != _FAMILY[back.kind] for lk in kept):
                kept.append(back)
    kept_now = {id(lk) for links in by_pair.values() for lk in links}
    stored = {id(lk) for lk in then}
    return ([lk for lk in then if id(lk) in kept_now]  # in the stored order, then the ones put back
            + [lk for links in by_pair.values() for lk in links if id(lk) not in stored]), len(later)


_FAMILY = {LinkKind.BLOCKS: "blocks", LinkKind.BLOCKED_BY: "blocks", LinkKind.DUPLICATES: "duplicates",
           LinkKind.DUPLICATED_BY: "duplicates", LinkKind.RELATES: "relates", LinkKind.IMPLEMENTS: "implements"}


def _link_from_row(owner: WorkItem, far_key: str, wording: str | None, by_key: dict[str, WorkItem]) -> Link:
    """The link a removal row names, stored as the connector stores it (owned by its outward end)."""
    verb = _verb(wording, far_key)
    far = by_key.get(far_key)
    if verb in _OWNER_WAITS or verb == "is duplicated by":
        kind = LinkKind.BLOCKS if verb in _OWNER_WAITS else LinkKind.DUPLICATES
        if far is not None:
            return Link(from_id=far.id, kind=kind, to_key=owner.key, to_id=owner.id)
        inverse = LinkKind.BLOCKED_BY if kind == LinkKind.BLOCKS else LinkKind.DUPLICATED_BY
        return Link(from_id=owner.id, kind=inverse, to_key=far_key)
    kind = LinkKind.BLOCKS if verb in _OWNER_BLOCKS else LinkKind.DUPLICATES if verb == "duplicates" \
        else LinkKind.RELATES
    return Link(from_id=owner.id, kind=kind, to_key=far_key, to_id=far.id if far else None)


def _verb(wording: str | None, far_key: str) -> str:
    """"This issue is blocked by WID-3" -> "is blocked by"."""
    text = (wording or "").strip()
    if text.endswith(far_key):
        text = text[: -len(far_key)]
    low = text.strip().lower()
    return low.removeprefix("this issue ").strip()

