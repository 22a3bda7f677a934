"""Jira changelog histories -> `Transition` rows of the modelled fields (and the people who made them).

Pure: no HTTP here (connectors/jira.py pages /issue/{key}/changelog when an issue embeds only part of it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

from syncd.connectors.jira_fields import FieldMap
from syncd.connectors.jira_mapping import person_from_jira, person_id
from syncd.connectors.payload import array, count, ident, obj, objects, root, stamp
from syncd.model import Person, Transition, TransitionField, make_id

Json = dict[str, Any]


# Changelog field ids (Cloud's `fieldId`) and names (Server/DC, older payloads) of the modelled fields.
# A history item is ChangeDetails (../shared/realdata/jira-openapi: `field` "the name of the field
# changed", `fieldId`, `from`/`to` ids, `fromString`/`toString` display text). As Jira writes them:
# priority by priority id (go-jira's recorded sprint issue, ../shared/realdata/jira-recorded: `priority`
# 10300 Major -> 10802 Minor); labels as the whole set in one row (`labels`, space-separated in the
# strings); components one added (`to`) or removed (`from`) component id per row (`Component`, fieldId
# `components`); the due date as YYYY-MM-DD (`duedate`); the flag as the Flagged checkbox's option
# (toString "Impediment"); a team-managed parent as `IssueParentAssociation` (`to`: the parent's id,
# no fieldId, as in the Cloud changelog fixtures of public Jira tools); a sub-task's parent as
# `Parent`; the company-managed epic as `Epic Link` (its custom field id); an issue link as `Link`
# (`to`: the far key, toString "This issue blocks WID-5"). Jira Data Center's data-pipeline export
# ("Issue history" schema) has the same columns: field, from/to ids, from/to strings. The sandbox writes the same
# shapes (syncd/sandbox/generate_jira.py `change_items`, syncd/sandbox/jira_mutations.py).
_HISTORY_IDS = {"status": TransitionField.STATUS, "assignee": TransitionField.ASSIGNEE,
                "fixVersions": TransitionField.FIX_VERSION, "priority": TransitionField.PRIORITY,
                "labels": TransitionField.LABELS, "components": TransitionField.COMPONENT,
                "duedate": TransitionField.DUE, "parent": TransitionField.PARENT,
                "issuelinks": TransitionField.LINK}
_HISTORY_NAMES = {"status": TransitionField.STATUS, "sprint": TransitionField.SPRINT,
                  "assignee": TransitionField.ASSIGNEE, "fix version": TransitionField.FIX_VERSION,
                  "priority": TransitionField.PRIORITY, "labels": TransitionField.LABELS,
                  "component": TransitionField.COMPONENT, "duedate": TransitionField.DUE,
                  "flagged": TransitionField.FLAGGED, "issueparentassociation": TransitionField.PARENT,
                  "parent": TransitionField.PARENT, "epic link": TransitionField.EPIC, "link": TransitionField.LINK}


def _history_field(item: Json, fm: FieldMap) -> TransitionField | None:
    """Which modelled field a change is of: by `fieldId` where the history gives it (Cloud), else by name
    (Server/DC and older payloads), so a text field named "Sprint" is not taken for the sprint field."""
    fid = str(item.get("fieldId") or "")
    if fid:
        custom = {fm.sprint: TransitionField.SPRINT, fm.points: TransitionField.ESTIMATE,
                  fm.flagged: TransitionField.FLAGGED, fm.epic_link: TransitionField.EPIC}
        return custom.get(fid) or _HISTORY_IDS.get(fid)
    name = str(item.get("field") or "").lower()
    if name in fm.point_names:
        return TransitionField.ESTIMATE
    return _HISTORY_NAMES.get(name)


def transitions_from_histories(source: str, issue_id: str, histories: list[Json], fm: FieldMap,
                               where: str = "changelog.histories") -> Iterator[Transition]:
    """Transition rows for the changes of the modelled fields (`TransitionField`; see `_history_field`).

    Raises PayloadError (naming `where[n]...`) for a history of the wrong shape.
    """
    item_id = make_id(source, issue_id)
    for n, history in enumerate(objects(histories, where)):
        at = stamp(history.get("created"), f"{where}[{n}].created")
        if at is None:
            continue
        # recorded Cloud payloads have histories without an id: their time and place name them instead
        change_id = (ident(history["id"], f"{where}[{n}].id") if history.get("id") is not None
                     else f"{at.isoformat()}/{n}")
        author = person_id(source, history.get("author"), f"{where}[{n}].author")
        at_utc = at.astimezone(UTC)  # what the model's UtcDatetime validation would make of it
        for seq, change in enumerate(objects(history.get("items"), f"{where}[{n}].items")):
            kind = _history_field(change, fm)
            if kind is None:
                continue
            # every value is already of its field's type (ids and texts as str, the field an enum member, the
            # time aware UTC), so validating would only confirm it: a 10k first sync builds some 34,000 (issue 18)
            yield Transition.model_construct(
                item_id=item_id, change_id=change_id, seq=seq, field=kind,
                from_value=_s(change.get("from")), to_value=_s(change.get("to")),
                from_string=_s(change.get("fromString")), to_string=_s(change.get("toString")),
                at=at_utc, author_id=author,
            )


def history_authors(source: str, histories: list[Json], where: str = "changelog.histories") -> list[Person]:
    """The people who made these changes."""
    people = (person_from_jira(source, h.get("author"), f"{where}[{n}].author")
              for n, h in enumerate(array(histories, where)) if isinstance(h, dict))
    return [p for p in people if p]


def embedded_changelog(payload: Json) -> tuple[list[Any], int]:
    """The histories an issue payload embeds, and how many the issue has in all (Cloud embeds 100 at most)."""
    changelog = obj(root(payload, "issue").get("changelog"), "changelog")
    histories = array(changelog.get("histories"), "changelog.histories")
    return histories, max(count(changelog.get("total"), "changelog.total") or 0, len(histories))


def _s(value: Any) -> str | None:
    return None if value is None else str(value)
