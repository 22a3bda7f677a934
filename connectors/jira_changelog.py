"""Jira changelog histories -> `Transition` rows of the modelled fields (and the people who made them).

Pure: no HTTP here (connectors/jira.py pages /issue/{key}/changelog when an issue embeds only part of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any, TypeVar

from syncd.connectors.jira_fields import FieldMap
from syncd.connectors.jira_mapping import person_from_jira, person_id
from syncd.connectors.payload import array, count, ident, obj, objects, root, stamp
from syncd.model import Person, Transition, TransitionField, make_id

Json = dict[str, Any]
_T = TypeVar("_T")


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


def _custom_ids(fm: FieldMap) -> dict[str | None, TransitionField]:
    """The modelled custom fields by their ids on this site."""
    return {fm.sprint: TransitionField.SPRINT, fm.points: TransitionField.ESTIMATE,
            fm.flagged: TransitionField.FLAGGED, fm.epic_link: TransitionField.EPIC}


def _history_field(item: Json, fm: FieldMap, custom: dict[str | None, TransitionField] | None = None
                   ) -> TransitionField | None:
    """Which modelled field a change is of: by `fieldId` where the history gives it (Cloud), else by name
    (Server/DC and older payloads), so a text field named "Sprint" is not taken for the sprint field.
    `custom`: `_custom_ids(fm)`, when the caller has it."""
    fid = str(item.get("fieldId") or "")
    if fid:
        return (custom if custom is not None else _custom_ids(fm)).get(fid) or _HISTORY_IDS.get(fid)
    name = str(item.get("field") or "").lower()
    if name in fm.point_names:
        return TransitionField.ESTIMATE
    return _HISTORY_NAMES.get(name)


def _read_once(met: list[tuple[Any, _T]], user: Any, read: Callable[[str, Any, str], _T], source: str,
               where: str, n: int) -> _T:
    """What `read` makes of history n's author, read once per distinct user object (kept in `met`).

    An issue's histories name a few authors many times (a 10k first sync's 37,000 histories): a list
    compared by equality, as user objects are dicts (unhashable) (issue 18 item 3)."""
    for seen, value in met:
        if seen == user:
            return value
    value = read(source, user, f"{where}[{n}].author")
    met.append((user, value))
    return value


def transitions_from_histories(source: str, issue_id: str, histories: list[Json], fm: FieldMap,
                               where: str = "changelog.histories", people: dict[str, Person] | None = None
                               ) -> Iterator[Transition]:
    """Transition rows for the changes of the modelled fields (`TransitionField`; see `_history_field`).

    `people`: when given, receives the people who made the changes, each once (the last history's copy, where
    the first one named them), read in the same pass (issue 18 item 3: a pass of their own over a replayed
    10k first sync's 37,000 histories was 0.06-0.09 s CPU). Raises PayloadError (naming `where[n]...`) for a
    history of the wrong shape.
    """
    item_id = make_id(source, issue_id)
    custom = _custom_ids(fm)
    authors: list[tuple[Any, Any]] = []  # user objects read, and their ids or people (an issue has few authors)
    for n, history in enumerate(objects(histories, where)):
        user = history.get("author")
        if people is not None:
            person = _read_once(authors, user, person_from_jira, source, where, n)
            if person is not None:
                people[person.id] = person
        at = stamp(history.get("created"), f"{where}[{n}].created")
        if at is None:
            continue
        # recorded Cloud payloads have histories without an id: their time and place name them instead
        change_id = (ident(history["id"], f"{where}[{n}].id") if history.get("id") is not None
                     else f"{at.isoformat()}/{n}")
        if people is None:
            author = _read_once(authors, user, person_id, source, where, n)
        else:
            author = person.id if person is not None else None
        at_utc = at.astimezone(UTC)  # what the model's UtcDatetime validation would make of it
        for seq, change in enumerate(objects(history.get("items"), f"{where}[{n}].items")):
            kind = _history_field(change, fm, custom)
            if kind is None:
                continue
            # every value is already of its field's type (ids and texts as str, the field an enum member, the
            # time aware UTC): built without validating it again (`Record.trusted`; issue 18 item 3)
            yield Transition.trusted(
                item_id=item_id, change_id=change_id, seq=seq, field=kind,
                from_value=_s(change.get("from")), to_value=_s(change.get("to")),
                from_string=_s(change.get("fromString")), to_string=_s(change.get("toString")),
                at=at_utc, author_id=author,
            )


def embedded_changelog(payload: Json) -> tuple[list[Any], int]:
    """The histories an issue payload embeds, and how many the issue has in all (Cloud embeds 100 at most)."""
    changelog = obj(root(payload, "issue").get("changelog"), "changelog")
    histories = array(changelog.get("histories"), "changelog.histories")
    return histories, max(count(changelog.get("total"), "changelog.total") or 0, len(histories))


def _s(value: Any) -> str | None:
    return None if value is None else str(value)
