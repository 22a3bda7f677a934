"""Pure mapping of Jira payloads (REST v2/v3, agile 1.0) to the normalized model.

One function per entity; no HTTP here. `FieldMap` says which custom fields hold story points,
sprints, the epic link and the flag on this site, and what each issue type is called in English.
Every value is read through `connectors.payload`, so a payload of the wrong shape raises
`PayloadError` naming the field, and nothing else.

Sites differ in language and configuration, so the mapping reads facts that do not (STYLE.md, "Do
this" 8): custom fields are found by their plugin type (`schema.custom`), not by display name, and an
issue's kind comes from the type's `hierarchyLevel`, `subtask` flag and `untranslatedName` (GET
/rest/api/3/issuetype, see ../shared/realdata/jira-openapi) before its display name, with a per-source
override map. The levels are Jira Cloud's issue type hierarchy: -1 Subtask, 0 Base, 1 Epic (the
platform API's IssueTypeCreateBean.hierarchyLevel and GET /project/{id}/hierarchy, e.g. as documented
at https://mrrefactoring.github.io/jira.js/interfaces/Version3Parameters.CreateIssueType.html);
Atlassian replaced the issue type's `type` (standard/subtype) and the Epic Link field with
`hierarchyLevel` and `parent` (https://community.developer.atlassian.com/t/deprecation-of-the-epic-link-
parent-link-and-other-related-fields-in-rest-apis-and-webhooks/54048), which is why they come first.
A custom field whose value has the wrong shape (a text field where the sprint field should be) is
left out of that issue's record and reported in `IssueRecords.ignored`, never a reason to skip it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from syncd.connectors.payload import (
    PayloadError,
    array,
    count,
    day,
    ident,
    kind_of,
    number,
    obj,
    objects,
    required_stamp,
    root,
    shown,
    stamp,
    text,
)
from syncd.model import (
    ItemKind,
    Link,
    LinkKind,
    Person,
    Release,
    ReleaseKind,
    Sprint,
    SprintState,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
    make_id,
)

Json = dict[str, Any]
T = TypeVar("T")

POINT_FIELD_NAMES = ("story point estimate", "story points")
GREENHOPPER = "com.pyxis.greenhopper.jira:"
SPRINT_SCHEMA = GREENHOPPER + "gh-sprint"
EPIC_LINK_SCHEMA = GREENHOPPER + "gh-epic-link"
POINTS_SCHEMAS = (GREENHOPPER + "jsw-story-points", "com.atlassian.jira.plugin.system.customfieldtypes:float")
KIND_NAMES = {
    "epic": ItemKind.EPIC,
    "story": ItemKind.STORY, "user story": ItemKind.STORY, "feature": ItemKind.STORY,
    "new feature": ItemKind.STORY, "improvement": ItemKind.STORY,
    "bug": ItemKind.BUG, "defect": ItemKind.BUG, "incident": ItemKind.BUG,
    "subtask": ItemKind.SUBTASK, "sub-task": ItemKind.SUBTASK,
    "task": ItemKind.TASK,
}
"""English issue type names (as `untranslatedName` or `name` give them) and the kind each means."""
BASE_FIELDS = [
    "summary", "status", "issuetype", "priority", "labels", "components", "assignee", "reporter",
    "created", "updated", "resolutiondate", "resolution", "duedate", "parent", "fixVersions",
    "issuelinks", "description", "project",
]


@dataclass
class FieldMap:
    """Site-specific custom field ids (discovered from /field, overridable in config)."""

    points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None
    flagged: str | None = None
    point_names: set[str] = field(default_factory=lambda: set(POINT_FIELD_NAMES))
    type_names: dict[str, str] = field(default_factory=dict)  # issue type id -> untranslatedName (/issuetype)
    kind_overrides: dict[str, ItemKind] = field(default_factory=dict)  # type id or name (lower case) -> kind

    def to_json(self) -> Json:
        """For the cursor: a later poll needs no /field or /issuetype request (overrides come from config)."""
        return {"points": self.points, "sprint": self.sprint, "epic_link": self.epic_link, "flagged": self.flagged,
                "type_names": dict(self.type_names)}

    @classmethod
    def from_json(cls, data: Json) -> FieldMap:
        """Inverse of `to_json`."""
        names = data.get("type_names")
        return cls(points=data.get("points"), sprint=data.get("sprint"), epic_link=data.get("epic_link"),
                   flagged=data.get("flagged"),
                   type_names={str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {})

    def kind_of(self, issuetype: Json | None, where: str = "fields.issuetype") -> ItemKind:
        """The kind of an issue of this type on this site (see `item_kind`)."""
        return item_kind(issuetype, where, type_names=self.type_names, overrides=self.kind_overrides)

    def request_fields(self) -> list[str]:
        """The fields a search asks for: what the model needs, nothing more."""
        extra = [f for f in (self.points, self.sprint, self.epic_link, self.flagged) if f]
        return BASE_FIELDS + extra


def field_map_from_fields(fields: list[Json], points_override: str | None = None,
                          issue_types: list[Json] | None = None) -> FieldMap:
    """Find the story points, sprint, epic link and flagged fields in /field by their plugin type.

    Sprint: `schema.custom` gh-sprint; epic link: gh-epic-link; story points: jsw-story-points, else a
    float field with a known (untranslated) name; a configured id wins. Flagged has no plugin type of
    its own (a multi-checkbox field), so it is found by its untranslated name. A field named "Sprint"
    of another type is not the sprint field. `issue_types` (/issuetype) gives the types' English names.
    """
    fm = FieldMap()
    by_name_points: str | None = None
    for f in fields:
        if not isinstance(f, dict) or not f.get("id"):
            continue
        fid = str(f["id"])
        names = {str(f.get(k) or "").strip().lower() for k in ("untranslatedName", "name")} - {""}
        schema = f.get("schema")
        custom = str(schema.get("custom") or "") if isinstance(schema, dict) else ""
        if custom == POINTS_SCHEMAS[0] and fm.points is None:
            fm.points = fid
            fm.point_names |= names
        elif custom == POINTS_SCHEMAS[1] and names & set(POINT_FIELD_NAMES) and by_name_points is None:
            by_name_points = fid
            fm.point_names |= names
        elif custom == SPRINT_SCHEMA and fm.sprint is None:
            fm.sprint = fid
        elif custom == EPIC_LINK_SCHEMA and fm.epic_link is None:
            fm.epic_link = fid
        elif "flagged" in names and fm.flagged is None and f.get("custom", True):
            fm.flagged = fid
    fm.points = points_override or fm.points or by_name_points
    fm.type_names = type_names_from_issuetypes(issue_types or [])
    return fm


def type_names_from_issuetypes(issue_types: list[Any]) -> dict[str, str]:
    """Issue type id -> its English name, from /issuetype (`untranslatedName`, present on Cloud)."""
    out: dict[str, str] = {}
    for t in issue_types:
        if isinstance(t, dict) and t.get("id") is not None and isinstance(t.get("untranslatedName"), str):
            out[str(t["id"])] = t["untranslatedName"]
    return out


def kind_overrides(config: dict[str, str]) -> dict[str, ItemKind]:
    """A source's `issue_types` override map (type name or id -> kind) keyed as `item_kind` looks it up."""
    return {k.strip().lower(): ItemKind(v) for k, v in config.items()}


def parse_ts(value: Any, where: str = "timestamp") -> datetime | None:
    """Jira timestamps (`-0800`, `-07:00` or `Z`) as aware datetimes; PayloadError for anything else."""
    return stamp(value, where)


def parse_date(value: Any, where: str = "date") -> date | None:
    """A Jira date (`2026-11-30`) or the date part of a timestamp."""
    return day(value, where)


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format value (v3), or the string itself (v2 wiki).

    An action item (`taskItem`, `attrs.state` "TODO" or "DONE", inside a `taskList`: developer.atlassian.com
    ADF node reference) becomes a line `- [ ] text` or `- [x] text`, as GitHub writes task lists.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    out: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            if n.get("type") == "text":
                out.append(str(n.get("text", "")))
            elif n.get("type") == "hardBreak":
                out.append("\n")
            elif n.get("type") == "taskItem":  # an action item: its state as a Markdown checkbox (launch sign-offs)
                attrs = n.get("attrs")
                out.append("- [x] " if isinstance(attrs, dict) and attrs.get("state") == "DONE" else "- [ ] ")
            walk(n.get("content"))  # a list of nodes; anything else holds no text
            if n.get("type") in ("paragraph", "heading", "listItem", "codeBlock", "blockquote", "taskItem"):
                out.append("\n")
        elif isinstance(n, list):
            for child in n:
                walk(child)

    walk(node)
    return "".join(out).strip()


_CATEGORY = {"new": StatusCategory.TODO, "indeterminate": StatusCategory.IN_PROGRESS, "done": StatusCategory.DONE}


def status_category(status: Json | None, where: str = "fields.status") -> StatusCategory:
    """Our category from Jira's statusCategory key (new / indeterminate / done)."""
    category = obj(obj(status, where).get("statusCategory"), f"{where}.statusCategory")
    key = text(category.get("key"), f"{where}.statusCategory.key") or "new"
    return _CATEGORY.get(key, StatusCategory.TODO)


def item_kind(issuetype: Json | None, where: str = "fields.issuetype", *, type_names: dict[str, str] | None = None,
              overrides: dict[str, ItemKind] | None = None) -> ItemKind:
    """Our kind from the issue type, by facts that do not depend on the site's language.

    In order: the source's override map (by type id, untranslated name or name); `hierarchyLevel`
    (1 epic, -1 sub-task); the `subtask` flag; the English name (`type_names[id]` from /issuetype, the
    payload's own `untranslatedName`, then `name`); anything else is a task.
    """
    it = obj(issuetype, where)
    tid = str(it["id"]) if isinstance(it.get("id"), str | int) and not isinstance(it.get("id"), bool) else None
    english = (type_names or {}).get(tid or "") or text(it.get("untranslatedName"), f"{where}.untranslatedName")
    name = text(it.get("name"), f"{where}.name")
    for key in (tid, english, name):
        if key is not None and overrides and key.strip().lower() in overrides:
            return overrides[key.strip().lower()]
    level = it.get("hierarchyLevel")
    if level == 1 and not isinstance(level, bool):
        return ItemKind.EPIC
    if (level == -1 and not isinstance(level, bool)) or it.get("subtask") is True:
        return ItemKind.SUBTASK
    for candidate in (english, name):
        kind = KIND_NAMES.get((candidate or "").strip().lower())
        if kind is not None:
            return kind
    return ItemKind.TASK


def person_id(source: str, user: Json | None, where: str = "user") -> str | None:
    """Record id of a Jira user: accountId on Cloud, name/key on Server."""
    u = obj(user, where)
    for name in ("accountId", "name", "key"):
        if u.get(name):
            return make_id(source, ident(u[name], f"{where}.{name}"))
    return None


def person_from_jira(source: str, user: Json | None, where: str = "user") -> Person | None:
    """A Person from a user object."""
    pid = person_id(source, user, where)
    if pid is None or user is None:
        return None
    name = text(user.get("displayName"), f"{where}.displayName") or text(user.get("name"), f"{where}.name") or pid
    return Person(id=pid, source=source, display_name=name,
                  email=text(user.get("emailAddress"), f"{where}.emailAddress") or None)


def sprint_id(source: str, remote_id: Any) -> str:
    """Record id of a sprint."""
    return make_id(source, f"sprint:{remote_id}")


def version_id(source: str, remote_id: Any) -> str:
    """Record id of a fix version."""
    return make_id(source, f"version:{remote_id}")


def _sprint_state(value: Any) -> SprintState:
    v = str(value or "future").lower()
    return SprintState(v) if v in ("future", "active", "closed") else SprintState.FUTURE


def sprint_from_jira(source: str, payload: Json, board_name: str | None = None, where: str = "sprint") -> Sprint:
    """A Sprint from an agile sprint object (or the sprint field's embedded object)."""
    p = obj(payload, where)
    remote = ident(p.get("id"), f"{where}.id")
    board_key = "originBoardId" if p.get("originBoardId") is not None else "boardId"
    board = p.get(board_key)
    return Sprint(
        id=sprint_id(source, remote), source=source, remote_id=remote,
        board_id=ident(board, f"{where}.{board_key}") if board is not None else None, board_name=board_name,
        name=text(p.get("name"), f"{where}.name") or "", goal=text(p.get("goal"), f"{where}.goal") or None,
        state=_sprint_state(text(p.get("state"), f"{where}.state")),
        start=stamp(p.get("startDate"), f"{where}.startDate"), end=stamp(p.get("endDate"), f"{where}.endDate"),
        complete=stamp(p.get("completeDate"), f"{where}.completeDate"),
        created=stamp(p.get("createdDate"), f"{where}.createdDate"), raw=p,
    )


_GREENHOPPER_PAIR = re.compile(r"(\w+)=(.*?)(?=,\w+=|\]$)")


def greenhopper_sprint(text: str) -> Json | None:
    """A Server/DC Sprint field value, `com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=7,rapidViewId=3,
    state=ACTIVE,name=...,startDate=...,completeDate=<null>,...]`, as the sprint object Cloud would send."""
    start = text.find("[")
    if not text.startswith("com.atlassian.greenhopper.service.sprint.Sprint") or start < 0 or not text.endswith("]"):
        return None
    pairs = {k: (None if v in ("<null>", "") else v) for k, v in _GREENHOPPER_PAIR.findall(text[start + 1:])}
    if not str(pairs.get("id") or "").isdigit():
        return None
    out: Json = {"id": int(str(pairs["id"])), "name": pairs.get("name") or "", "state": str(pairs.get("state") or "future").lower(),
                 "goal": pairs.get("goal")}
    if str(pairs.get("rapidViewId") or "").isdigit():
        out["boardId"] = int(str(pairs["rapidViewId"]))
    for key in ("startDate", "endDate", "completeDate"):
        if pairs.get(key):
            out[key] = pairs[key]
    return out


def release_from_version(source: str, project: str, payload: Json, site_url: str, where: str = "version") -> Release:
    """A Release (kind version) from a Jira fix version."""
    p = obj(payload, where)
    remote = ident(p.get("id"), f"{where}.id")
    released = bool(p.get("released"))
    rdate = day(p.get("releaseDate"), f"{where}.releaseDate")
    released_at = datetime(rdate.year, rdate.month, rdate.day, tzinfo=UTC) if (released and rdate) else None
    return Release(
        id=version_id(source, remote), source=source, remote_id=remote, kind=ReleaseKind.VERSION,
        project=project, name=text(p.get("name"), f"{where}.name") or "",
        description=text(p.get("description"), f"{where}.description") or None,
        due=rdate, released_at=released_at, released=released, start=day(p.get("startDate"), f"{where}.startDate"),
        url=f"{site_url}/projects/{project}/versions/{remote}", raw=p,
    )


_LINK_KINDS = {"blocks": LinkKind.BLOCKS, "duplicate": LinkKind.DUPLICATES, "duplicates": LinkKind.DUPLICATES}
_INWARD_KINDS = {LinkKind.BLOCKS: LinkKind.BLOCKED_BY, LinkKind.DUPLICATES: LinkKind.DUPLICATED_BY,
                 LinkKind.BLOCKED_BY: LinkKind.BLOCKS, LinkKind.DUPLICATED_BY: LinkKind.DUPLICATES}
# Dependency link types are site-defined ("Dependency": "depends on" / "is depended on by"); only their
# descriptions say which way the wait goes. The issue an outwardIssue entry belongs to reads the type's
# `outward` text ("ED-1 is depended by PR-2"), so an outward text saying the owner waits makes it
# BLOCKED_BY, one saying the owner is waited on makes it BLOCKS.
_WAITS_ON = ("depends on", "is dependent on", "requires", "is blocked by", "needs")
_WAITED_ON = ("is depended on by", "is depended by", "is a dependency of", "is required by", "is needed by",
              "blocks", "is a prerequisite of")


def _link_kind(link_type: Json, where: str) -> LinkKind:
    """Our kind of a link as its outward side reads it (`owner <kind> outwardIssue`)."""
    name = (text(link_type.get("name"), f"{where}.name") or "").lower()
    if name in _LINK_KINDS:
        return _LINK_KINDS[name]
    outward = (text(link_type.get("outward"), f"{where}.outward") or "").strip().lower()
    inward = (text(link_type.get("inward"), f"{where}.inward") or "").strip().lower()
    if outward in _WAITS_ON or inward in _WAITED_ON:
        return LinkKind.BLOCKED_BY
    if outward in _WAITED_ON or inward in _WAITS_ON:
        return LinkKind.BLOCKS
    return LinkKind.RELATES


def _far_end(target: Json, where: str) -> dict[str, Any]:
    """What Jira's linked issue says about the far end: status name and category, summary, type name."""
    fields = obj(target.get("fields"), f"{where}.fields")
    status = obj(fields.get("status"), f"{where}.fields.status")
    issuetype = obj(fields.get("issuetype"), f"{where}.fields.issuetype")
    return {"to_status": text(status.get("name"), f"{where}.fields.status.name"),
            "to_category": status_category(status, f"{where}.fields.status") if status.get("statusCategory") else None,
            "to_summary": text(fields.get("summary"), f"{where}.fields.summary"),
            "to_type": text(issuetype.get("untranslatedName"), f"{where}.fields.issuetype.untranslatedName")
            or text(issuetype.get("name"), f"{where}.fields.issuetype.name")}


def links_from_issue(source: str, payload: Json, projects: Collection[str] | None = None) -> list[Link]:
    """The links an issue owns: its outward links, and its inward links from outside `projects`.

    A link between two synced issues is stored once, by the issue it goes out from. A link coming in
    from an issue of a project that is not synced (`OTHER-35406 blocks WID-7`) has no synced owner, so
    the issue it comes into keeps it, inverted (`WID-7 blocked_by OTHER-35406`), with the far end's key
    and its id where the payload gives one. `projects=None` keeps outward links only. A link whose far
    end is in a project that is not synced also keeps the far end's status (and category), summary and
    type, which the linked issue carries, since that item will not be in the store. Dependency types
    ("depends on") are told apart by their descriptions (`_link_kind`) and stored as blocks/blocked_by.
    """
    p = root(payload, "issue")
    me = make_id(source, ident(p.get("id"), "id"))
    synced = {k.upper() for k in projects} if projects is not None else None
    out = []
    for n, link in enumerate(objects(obj(p.get("fields"), "fields").get("issuelinks"), "fields.issuelinks")):
        where = f"fields.issuelinks[{n}]"
        kind = _link_kind(obj(link.get("type"), f"{where}.type"), f"{where}.type")
        outward = obj(link.get("outwardIssue"), f"{where}.outwardIssue")
        inward = obj(link.get("inwardIssue"), f"{where}.inwardIssue")
        if outward:
            target, side = outward, "outwardIssue"
        elif inward and synced is not None:
            far = ident(inward.get("key"), f"{where}.inwardIssue.key")
            if far.rsplit("-", 1)[0].upper() in synced:
                continue  # the far end is synced: its own outward link is this one
            target, side, kind = inward, "inwardIssue", _INWARD_KINDS.get(kind, kind)
        else:
            continue
        far_id = target.get("id")
        to_key = ident(target.get("key"), f"{where}.{side}.key")
        foreign = synced is not None and to_key.rsplit("-", 1)[0].upper() not in synced
        out.append(Link(from_id=me, kind=kind, to_key=to_key,
                        to_id=make_id(source, ident(far_id, f"{where}.{side}.id")) if far_id is not None else None,
                        **(_far_end(target, f"{where}.{side}") if foreign else {})))
    return out


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
        for seq, change in enumerate(objects(history.get("items"), f"{where}[{n}].items")):
            kind = _history_field(change, fm)
            if kind is None:
                continue
            yield Transition(
                item_id=item_id, change_id=change_id, seq=seq, field=kind,
                from_value=_s(change.get("from")), to_value=_s(change.get("to")),
                from_string=_s(change.get("fromString")), to_string=_s(change.get("toString")),
                at=at, author_id=author,
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


@dataclass
class IssueRecords:
    """Everything one issue payload maps to."""

    item: WorkItem
    links: list[Link]
    people: list[Person]
    sprints: list[Sprint]
    releases: list[Release]
    ignored: dict[str, str] = field(default_factory=dict)  # custom field id -> why its value was left out


def item_from_jira(source: str, payload: Json, fm: FieldMap, site_url: str,
                   projects: Collection[str] | None = None) -> IssueRecords:
    """Map one issue (search result or issue GET) to a WorkItem and the records it names.

    The issue properties the request asked for (`properties=` of the search or issue GET) come beside
    `fields` as `"properties": {key: JSON value}` and are kept as they are (`WorkItem.properties`).
    `projects`: the synced project keys (inward links from other projects are kept; see
    `links_from_issue`). Raises PayloadError naming the field when the payload does not have the shape
    of a Jira issue; a custom field of the wrong shape is left out and named in `ignored` instead.
    """
    issue = root(payload, "issue")
    f = obj(issue.get("fields"), "fields")
    remote = ident(issue.get("id"), "id")
    key = ident(issue.get("key"), "key")
    project = text(obj(f.get("project"), "fields.project").get("key"), "fields.project.key") or key.rsplit("-", 1)[0]
    status = obj(f.get("status"), "fields.status")
    parent = obj(f.get("parent"), "fields.parent") or None
    parent_id = make_id(source, ident(parent.get("id"), "fields.parent.id")) if parent else None
    parent_key = text(parent.get("key"), "fields.parent.key") if parent else None
    parent_is_epic = parent is not None and fm.kind_of(
        obj(parent.get("fields"), "fields.parent.fields").get("issuetype"), "fields.parent.fields.issuetype") == ItemKind.EPIC
    epic_key = parent_key if parent_is_epic else None
    epic_id = parent_id if parent_is_epic else None
    agile_epic = f.get("epic")  # agile API payloads embed the epic object
    if isinstance(agile_epic, dict) and agile_epic.get("id") and not epic_key:
        epic_key = text(agile_epic.get("key"), "fields.epic.key")
        epic_id = make_id(source, ident(agile_epic["id"], "fields.epic.id"))
    ignored: dict[str, str] = {}
    epic_field = fm.epic_link
    if epic_field and f.get(epic_field) and not epic_key:
        epic_key = _custom(ignored, epic_field, lambda: text(f.get(epic_field), f"fields.{epic_field}"))
    sprints = _issue_sprints(source, f, fm, ignored)
    estimate = number(f.get(fm.points)) if fm.points else None
    if fm.points and estimate is None and f.get(fm.points) is not None:
        ignored[fm.points] = f"expected a number, got {kind_of(f.get(fm.points))}"
    releases = [release_from_version(source, project, v, site_url, f"fields.fixVersions[{n}]")
                for n, v in enumerate(objects(f.get("fixVersions"), "fields.fixVersions"))]
    people = [p for p in (person_from_jira(source, f.get("assignee"), "fields.assignee"),
                          person_from_jira(source, f.get("reporter"), "fields.reporter")) if p]
    item = WorkItem(
        id=make_id(source, remote), source=source, source_type="jira", remote_id=remote, key=key,
        project=project, kind=fm.kind_of(f.get("issuetype")), title=text(f.get("summary"), "fields.summary") or "",
        status=text(status.get("name"), "fields.status.name") or "Unknown", status_category=status_category(status),
        resolution=text(obj(f.get("resolution"), "fields.resolution").get("name"), "fields.resolution.name"),
        priority=text(obj(f.get("priority"), "fields.priority").get("name"), "fields.priority.name"),
        priority_id=text(obj(f.get("priority"), "fields.priority").get("id"), "fields.priority.id"),
        labels=[_label(x, f"fields.labels[{n}]") for n, x in enumerate(array(f.get("labels"), "fields.labels"))],
        components=[text(c.get("name"), f"fields.components[{n}].name") or ""
                    for n, c in enumerate(objects(f.get("components"), "fields.components"))],
        assignee_id=person_id(source, f.get("assignee"), "fields.assignee"),
        reporter_id=person_id(source, f.get("reporter"), "fields.reporter"),
        created=required_stamp(f.get("created"), "fields.created"),
        updated=required_stamp(f.get("updated"), "fields.updated"),
        resolved=stamp(f.get("resolutiondate"), "fields.resolutiondate"), due=day(f.get("duedate"), "fields.duedate"),
        estimate=estimate,
        parent_id=parent_id, parent_key=parent_key, epic_id=epic_id, epic_key=epic_key,
        sprint_ids=[s.id for s in sprints], release_ids=[r.id for r in releases],
        flagged=bool(f.get(fm.flagged)) if fm.flagged else False,
        description=adf_text(f.get("description")) or None, url=f"{site_url}/browse/{key}",
        properties=dict(obj(issue.get("properties"), "properties")), raw=issue,
    )
    return IssueRecords(item=item, links=links_from_issue(source, issue, projects), people=people, sprints=sprints,
                        releases=releases, ignored=ignored)


def _custom(ignored: dict[str, str], field_id: str, read: Callable[[], T]) -> T | None:
    """A custom field's value read by `read`, or None (noted in `ignored`) when it has the wrong shape."""
    try:
        return read()
    except PayloadError as exc:
        ignored[field_id] = exc.problem
        return None


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(where, "expected a string")
    return value


def _issue_sprints(source: str, f: Json, fm: FieldMap, ignored: dict[str, str]) -> list[Sprint]:
    """The sprints an issue's fields name: the sprint custom field (objects, or Server/DC strings), and the
    agile API's `sprint` and `closedSprints`. A sprint field of the wrong shape is left out (`ignored`)."""
    found: list[tuple[Any, str]] = []
    seen: dict[str, Sprint] = {}
    sprint_field = fm.sprint
    if sprint_field:
        where = f"fields.{sprint_field}"

        def custom_sprints() -> list[Sprint]:
            out = []
            for n, o in enumerate(array(f.get(sprint_field), where)):
                if o is None:
                    continue
                value = greenhopper_sprint(o) if isinstance(o, str) else o
                if not isinstance(value, dict) or value.get("id") is None:
                    raise PayloadError(f"{where}[{n}]", f"expected a sprint, got {shown(o)}")
                out.append(sprint_from_jira(source, value, where=f"{where}[{n}]"))
            return out

        seen.update((s.id, s) for s in _custom(ignored, sprint_field, custom_sprints) or [])
    if isinstance(f.get("sprint"), dict):
        found.append((f["sprint"], "fields.sprint"))
    found += [(o, f"fields.closedSprints[{n}]") for n, o in enumerate(array(f.get("closedSprints"), "fields.closedSprints"))]
    for o, where in found:
        if isinstance(o, dict) and o.get("id") is not None:
            sprint = sprint_from_jira(source, o, where=where)
            seen[sprint.id] = sprint
    return list(seen.values())
