"""Sign-offs of a release: each role configured in `[releases.sign_offs]`, who signs it, whether and
when it was given, and which record said so.

A sign-off is an approval with a name, a role and a timestamp (the audit trail of a release
approval form: exchange.brrain.io's go/no-go memo, beefed.ai's release-readiness kit). A role is
answered, in this order, by:

1. the Jira issue property named by `releases.sign_off_property` (e.g. "release-signoff"), on the
   checklist issue or any item of the release: the Jira sources fetch it with each issue of their
   search (`properties=` of GET/POST /rest/api/3/search/jql, no extra request). Its JSON value names the
   roles that signed, each with who and when:
   `{"qa": {"by": "Ana", "at": "2026-11-20"}, "product-owner": {"by": "Priya", "at": "2026-11-21T09:30:00Z"}}`
   (roles compared as labels write them: "Product Owner" = "product-owner"). Also read, with one note
   naming the documented shape: a role -> `true`, and a list of role names. A role given `false`,
   `null` or `{"signed": false}` has not signed. A date without a time is read as noon UTC, so a report
   shows that day in every time zone from UTC-11 to UTC+11; without `at` the item's last update dates
   it, which the report says (a property change is no field edit, so that date may be earlier than the
   sign-off);
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

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from syncd.model import SourceType, TransitionField, WorkItem
from syncd.reports.analysis.scope import item_ref
from syncd.reports.analysis.types import ItemRef, ReleaseRef
from syncd.reports.catalogue.launch_config import LaunchConfig, role_slug
from syncd.reports.data import Snapshot

PROPERTY_UNSET = ("No issue property answers a sign-off: set releases.sign_off_property to the key of a Jira issue "
                  "property that names the roles signed (see the README).")
PROPERTY_SHAPE = '{"<role>": {"by": "<name>", "at": "<YYYY-MM-DD>"}}'

# how a sign-off's date was found
LABEL_ADDED = "label added (Jira changelog)"
LABEL_SINCE_CREATED = "label there since the item was created"
ITEM_UPDATED = "item last updated (no label history stored for GitHub)"
CHECKLIST_UPDATED = "checklist issue last updated (description history is not stored)"
PROPERTY_AT = "the property's 'at'"
PROPERTY_UPDATED = "item last updated (the property gives no 'at')"


@dataclass(frozen=True)
class _PropertySignOff:
    """One role's answer read from an issue property value."""

    signed: bool
    by: str | None = None
    at: datetime | None = None


def _property_at(value: Any) -> datetime | None:
    """`at` of a property entry: an ISO date (read as noon UTC) or date-time (UTC when it names no offset)."""
    if not isinstance(value, str):
        return None
    try:
        if len(value.strip()) == 10:
            return datetime.combine(date.fromisoformat(value.strip()), time(12), UTC)
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def property_sign_offs(value: Any) -> tuple[dict[str, _PropertySignOff], str | None]:
    """Role slug -> its answer in one issue property value, and a note when the value is not of the documented shape.

    Documented: `{"qa": {"by": "Ana", "at": "2026-11-20"}}`. Read too, with the note: `{"qa": true}` and
    `["qa", "docs"]`. Anything else answers nothing and gets the note.
    """
    out: dict[str, _PropertySignOff] = {}
    odd: list[str] = []
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, str) and entry.strip():
                out[role_slug(entry)] = _PropertySignOff(True)
            else:
                odd.append(f"list entry {shown_value(entry)}")
        odd.insert(0, "a list of role names")
    elif isinstance(value, dict):
        for role, entry in value.items():
            slug = role_slug(str(role))
            if isinstance(entry, dict):
                signed = entry.get("signed", True) is not False
                by = entry.get("by") if isinstance(entry.get("by"), str) and entry["by"].strip() else None
                at = _property_at(entry.get("at"))
                if entry.get("at") is not None and at is None:
                    odd.append(f"{role}: 'at' {shown_value(entry.get('at'))} is not a date")
                out[slug] = _PropertySignOff(signed, by.strip() if by else None, at)
            elif isinstance(entry, bool) or entry is None:
                out[slug] = _PropertySignOff(bool(entry))
                if entry is True:
                    odd.append(f"{role}: true")
            else:
                odd.append(f"{role}: {shown_value(entry)}")
    else:
        odd.append(shown_value(value))
    note = f"is not of the documented shape {PROPERTY_SHAPE} (read: {'; '.join(odd)})" if odd else None
    return out, note


def shown_value(value: Any, limit: int = 40) -> str:
    """A short one-line rendering of a property value for a note."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class SignOff:
    """One configured role: who signs it off, and whether, where and when it was given."""

    role: str
    person: str
    given: bool
    source: str | None = None  # "issue property release-signoff (by Ana)", "label signoff-qa", "checked line", ...
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
    """Each configured sign-off of the release, answered by issue property, label or checked line (see the module
    docstring)."""
    if not config.sign_offs:
        return SignOffs(configured=False)
    checklist, found_by = checklist_issue(snap, config, release, work)
    # the checklist issue first, then the release's items by key: the first property or label found answers
    carriers = ([checklist] if checklist is not None else []) + [i for i in work if checklist is None
                                                                  or i.id != checklist.id]
    prop = config.sign_off_property
    answers: list[tuple[WorkItem, dict[str, _PropertySignOff]]] = []
    notes = [] if prop else [PROPERTY_UNSET]
    for item in carriers:
        if prop and prop in item.properties:
            read, note = property_sign_offs(item.properties[prop])
            answers.append((item, read))
            if note:
                notes.append(f"Issue property {prop} on {item.key} {note}.")
    rows = []
    for role, person in config.sign_offs.items():
        slug = role_slug(role)
        found = next(((i, a[slug]) for i, a in answers if slug in a and a[slug].signed), None)
        if found is not None:
            item, answer = found
            source = f"issue property {prop}" + (f" (by {answer.by})" if answer.by else "")
            at, how = (answer.at, PROPERTY_AT) if answer.at is not None else (item.updated, PROPERTY_UPDATED)
            rows.append(SignOff(role, person, True, source, item_ref(snap, item), at, how))
            continue
        label = f"signoff-{slug}"
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
                    checklist_found_by=found_by, notes=notes)
