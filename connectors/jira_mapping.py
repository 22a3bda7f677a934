"""Pure mapping of Jira payloads (REST v2/v3, agile 1.0) to the normalized model.

One function per entity; no HTTP here. `FieldMap` (connectors/jira_fields.py) says which custom fields
hold story points, sprints, the epic link and the flag on this site, and what each issue type is called
in English; changelog histories become transitions in connectors/jira_changelog.py.
Every value is read through `connectors.payload`, so a payload of the wrong shape raises
`PayloadError` naming the field, and nothing else.

A custom field whose value has the wrong shape (a text field where the sprint field should be) is
left out of that issue's record and reported in `IssueRecords.ignored`, never a reason to skip it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from syncd.connectors.jira_fields import FieldMap
from syncd.connectors.payload import (
    PayloadError,
    array,
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
    SourceType,
    Sprint,
    SprintState,
    StatusCategory,
    WorkItem,
    make_id,
)

Json = dict[str, Any]
T = TypeVar("T")


def parse_ts(value: Any, where: str = "timestamp") -> datetime | None:
    """Jira timestamps (`-0800`, `-07:00` or `Z`) as aware datetimes; PayloadError for anything else."""
    return stamp(value, where)


def parse_date(value: Any, where: str = "date") -> date | None:
    """A Jira date (`2026-11-30`) or the date part of a timestamp."""
    return day(value, where)


# nodes that end with a line (a tuple: a node's `type` may be anything in an untrusted payload, even unhashable)
_BLOCKS = ("paragraph", "heading", "listItem", "codeBlock", "blockquote", "taskItem")


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
            kind = n.get("type")
            if kind == "text":
                out.append(str(n.get("text", "")))
            elif kind == "hardBreak":
                out.append("\n")
            elif kind == "taskItem":  # an action item: its state as a Markdown checkbox (launch sign-offs)
                attrs = n.get("attrs")
                out.append("- [x] " if isinstance(attrs, dict) and attrs.get("state") == "DONE" else "- [ ] ")
            content = n.get("content")  # a list of nodes; anything else holds no text
            if content is not None:
                walk(content)
            if kind in _BLOCKS:
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
    # every value is a str (or None) read by the typed readers above: built without validation (`trusted`)
    return Person.trusted(id=pid, source=source, display_name=name,
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
    return Sprint.trusted(
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
    return Release.trusted(
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
        out.append(Link.trusted(from_id=me, kind=kind, to_key=to_key,
                        to_id=make_id(source, ident(far_id, f"{where}.{side}.id")) if far_id is not None else None,
                        **(_far_end(target, f"{where}.{side}") if foreign else {})))
    return out


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
    priority = obj(f.get("priority"), "fields.priority")
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
    assignee = person_from_jira(source, f.get("assignee"), "fields.assignee")
    reporter = person_from_jira(source, f.get("reporter"), "fields.reporter")
    people = [p for p in (assignee, reporter) if p]
    # every value below was read by the typed readers of `connectors.payload` (or is ours): built without
    # validating it again (`Record.trusted`; issue 18 item 3)
    item = WorkItem.trusted(
        id=make_id(source, remote), source=source, source_type=SourceType.JIRA, remote_id=remote, key=key,
        project=project, kind=fm.kind_of(f.get("issuetype")), title=text(f.get("summary"), "fields.summary") or "",
        status=text(status.get("name"), "fields.status.name") or "Unknown", status_category=status_category(status),
        resolution=text(obj(f.get("resolution"), "fields.resolution").get("name"), "fields.resolution.name"),
        priority=text(priority.get("name"), "fields.priority.name"),
        priority_id=text(priority.get("id"), "fields.priority.id"),
        labels=[_label(x, f"fields.labels[{n}]") for n, x in enumerate(array(f.get("labels"), "fields.labels"))],
        components=[text(c.get("name"), f"fields.components[{n}].name") or ""
                    for n, c in enumerate(objects(f.get("components"), "fields.components"))],
        assignee_id=assignee.id if assignee else None, reporter_id=reporter.id if reporter else None,
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
