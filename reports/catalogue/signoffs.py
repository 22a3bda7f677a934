"""Sign-offs of a release: each role configured in `[releases.sign_offs]`, who signs it, whether and
when it was given, and which record said so.

A sign-off is an approval with a name, a role and a timestamp (the audit trail of a release
approval form: exchange.brrain.io's go/no-go memo, beefed.ai's release-readiness kit). A role is
answered, in this order, by:

1. a Jira issue property — syncd does not sync issue properties, so this source never answers and
   the report says so;
2. the label `signoff-<role>` (the role in lower case, spaces as '-') on the release's checklist
   issue, or on any item planned for the release;
3. a checked line `- [x] <Role> sign-off` in the checklist issue's description (an unchecked
   `- [ ]` line is shown as still open).

The date is when the label was added, read from the Jira changelog; a Jira item whose changelog never
added it carried it since it was created; a GitHub item (whose label history is not stored) and a
checked line (descriptions have no stored history) are dated by the item's last update, which the
report says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from syncd.model import SourceType, TransitionField, WorkItem
from syncd.reports.analysis.scope import item_ref
from syncd.reports.analysis.types import ItemRef, ReleaseRef
from syncd.reports.catalogue.launch_config import LaunchConfig, role_slug
from syncd.reports.data import Snapshot

PROPERTY_NOTE = ("Jira issue properties are not synced by syncd, so none can answer a sign-off: use a label such as "
                 "signoff-qa, or a checked line such as \"[x] QA sign-off\" in the checklist issue.")

# how a sign-off's date was found
LABEL_ADDED = "label added (Jira changelog)"
LABEL_SINCE_CREATED = "label there since the item was created"
ITEM_UPDATED = "item last updated (no label history stored for GitHub)"
CHECKLIST_UPDATED = "checklist issue last updated (description history is not stored)"


@dataclass(frozen=True)
class SignOff:
    """One configured role: who signs it off, and whether, where and when it was given."""

    role: str
    person: str
    given: bool
    source: str | None = None  # "label signoff-qa", "checked line", "unchecked line"
    item: ItemRef | None = None  # the item that carries the answer
    at: datetime | None = None
    dated_by: str | None = None  # how `at` was found (LABEL_ADDED, ...)


@dataclass(frozen=True)
class SignOffs:
    """The sign-offs of one release and where its checklist issue was found."""

    configured: bool
    rows: list[SignOff] = field(default_factory=list)
    checklist: ItemRef | None = None
    checklist_found_by: str = ""  # "releases.checklist", "label release-checklist", or (none found) what to do
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[SignOff]:
        """The roles not signed off yet."""
        return [r for r in self.rows if not r.given]


def checklist_issue(snap: Snapshot, config: LaunchConfig, release: ReleaseRef,
                    work: list[WorkItem]) -> tuple[WorkItem | None, str]:
    """The release's checklist issue and how it was found: `[releases.checklist]` by release name or
    id, else the first item of the release (by key) labelled `checklist_label`."""
    key = config.checklist.get(release.name) or config.checklist.get(release.id)
    if key is not None:
        item = snap.item_by_key.get(key)
        if item is None:
            return None, f"{key} (releases.checklist) is not in the store"
        return item, "releases.checklist"
    labelled = sorted((i for i in work if config.checklist_label in {label.lower() for label in i.labels}),
                      key=lambda i: i.key)
    if labelled:
        more = f"; also labelled: {', '.join(i.key for i in labelled[1:])}" if len(labelled) > 1 else ""
        return labelled[0], f"label {config.checklist_label}{more}"
    return None, (f"set releases.checklist.\"{release.name}\" = \"KEY\" or label an item of the release "
                  f"{config.checklist_label}")


def _line(role: str) -> re.Pattern[str]:
    """`- [x] QA sign-off` (also `* [X] qa signoff`, `[x] Product Owner sign off`), checked or not."""
    words = r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s_-]+", role.strip()))
    return re.compile(rf"^\s*(?:[-*+]\s*)?\[(?P<mark>[ xX])\]\s*{words}\s+sign[- ]?off\b", re.IGNORECASE | re.MULTILINE)


def _label_added(snap: Snapshot, item: WorkItem, label: str) -> tuple[datetime, str]:
    """When `label` was last added to `item`, and how that is known."""
    if item.source_type != SourceType.JIRA:
        return item.updated, ITEM_UPDATED
    added = None
    for t in snap.history.get(item.id, ()):
        if t.field != TransitionField.LABELS.value:
            continue
        before = {x.lower() for x in (t.from_string or "").split()}
        after = {x.lower() for x in (t.to_string or "").split()}
        if label in after and label not in before:
            added = t.at
    return (added, LABEL_ADDED) if added is not None else (item.created, LABEL_SINCE_CREATED)


def release_sign_offs(snap: Snapshot, config: LaunchConfig, release: ReleaseRef, work: list[WorkItem]) -> SignOffs:
    """Each configured sign-off of the release, answered by label or checked line (see the module docstring)."""
    if not config.sign_offs:
        return SignOffs(configured=False)
    checklist, found_by = checklist_issue(snap, config, release, work)
    # the checklist issue first, then the release's items by key: the first label found answers
    carriers = ([checklist] if checklist is not None else []) + [i for i in work if checklist is None
                                                                  or i.id != checklist.id]
    rows = []
    for role, person in config.sign_offs.items():
        label = f"signoff-{role_slug(role)}"
        carrier = next((i for i in carriers if label in {x.lower() for x in i.labels}), None)
        if carrier is not None:
            at, how = _label_added(snap, carrier, label)
            rows.append(SignOff(role, person, True, f"label {label}", item_ref(snap, carrier), at, how))
            continue
        marks = [m.group("mark") for m in _line(role).finditer(checklist.description or "")] if checklist else []
        if any(m in "xX" for m in marks) and checklist is not None:
            rows.append(SignOff(role, person, True, "checked line", item_ref(snap, checklist), checklist.updated,
                                CHECKLIST_UPDATED))
        elif marks and checklist is not None:
            rows.append(SignOff(role, person, False, "unchecked line", item_ref(snap, checklist)))
        else:
            rows.append(SignOff(role, person, False))
    return SignOffs(configured=True, rows=rows, checklist=item_ref(snap, checklist) if checklist else None,
                    checklist_found_by=found_by, notes=[PROPERTY_NOTE])
