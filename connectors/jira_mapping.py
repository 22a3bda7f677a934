"""Pure mapping of Jira payloads (REST v2/v3, agile 1.0) to the normalized model.

One function per entity; no HTTP here. `FieldMap` says which custom fields hold story points,
sprints, the epic link and the flag on this site. Every value is read through `connectors.payload`,
so a payload of the wrong shape raises `PayloadError` naming the field, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from syncd.connectors.payload import (
    PayloadError,
    array,
    count,
    day,
    ident,
    number,
    obj,
    objects,
    required_stamp,
    root,
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

POINT_FIELD_NAMES = ("story point estimate", "story points")
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

    def to_json(self) -> Json:
        """For the cursor: a later poll needs no /field request."""
        return {"points": self.points, "sprint": self.sprint, "epic_link": self.epic_link, "flagged": self.flagged}

    @classmethod
    def from_json(cls, data: Json) -> FieldMap:
        """Inverse of `to_json`."""
        return cls(points=data.get("points"), sprint=data.get("sprint"), epic_link=data.get("epic_link"),
                   flagged=data.get("flagged"))

    def request_fields(self) -> list[str]:
        """The fields a search asks for: what the model needs, nothing more."""
        extra = [f for f in (self.points, self.sprint, self.epic_link, self.flagged) if f]
        return BASE_FIELDS + extra


def field_map_from_fields(fields: list[Json], points_override: str | None = None) -> FieldMap:
    """Find the story points, sprint, epic link and flagged fields by name or schema in /field."""
    fm = FieldMap()
    for f in fields:
        name = str(f.get("name", "")).strip().lower()
        custom = str((f.get("schema") or {}).get("custom", ""))
        fid = f.get("id")
        if not fid:
            continue
        if fm.points is None and (name in POINT_FIELD_NAMES or custom.endswith("jsw-story-points")):
            fm.points = fid
            fm.point_names.add(name)
        elif fm.sprint is None and (name == "sprint" or custom.endswith("gh-sprint")):
            fm.sprint = fid
        elif fm.epic_link is None and (name == "epic link" or custom.endswith("gh-epic-link")):
            fm.epic_link = fid
        elif fm.flagged is None and name == "flagged":
            fm.flagged = fid
    if points_override:
        fm.points = points_override
    return fm


def parse_ts(value: Any, where: str = "timestamp") -> datetime | None:
    """Jira timestamps (`-0800`, `-07:00` or `Z`) as aware datetimes; PayloadError for anything else."""
    return stamp(value, where)


def parse_date(value: Any, where: str = "date") -> date | None:
    """A Jira date (`2026-11-30`) or the date part of a timestamp."""
    return day(value, where)


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format value (v3), or the string itself (v2 wiki)."""
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
            walk(n.get("content"))  # a list of nodes; anything else holds no text
            if n.get("type") in ("paragraph", "heading", "listItem", "codeBlock", "blockquote"):
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


def item_kind(issuetype: Json | None, where: str = "fields.issuetype") -> ItemKind:
    """Our kind from the issue type (subtask flag first, then the type name)."""
    it = obj(issuetype, where)
    if it.get("subtask"):
        return ItemKind.SUBTASK
    name = (text(it.get("name"), f"{where}.name") or "").lower().replace("-", "")
    if name == "epic":
        return ItemKind.EPIC
    if name in ("story", "user story", "feature", "new feature", "improvement"):
        return ItemKind.STORY
    if name in ("bug", "defect", "incident"):
        return ItemKind.BUG
    if name == "subtask":
        return ItemKind.SUBTASK
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
        complete=stamp(p.get("completeDate"), f"{where}.completeDate"), raw=p,
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
        due=rdate, released_at=released_at, released=released,
        url=f"{site_url}/projects/{project}/versions/{remote}", raw=p,
    )


_LINK_KINDS = {"blocks": LinkKind.BLOCKS, "duplicate": LinkKind.DUPLICATES, "duplicates": LinkKind.DUPLICATES}


def links_from_issue(source: str, payload: Json) -> list[Link]:
    """The outward links of an issue: each link is stored once, by the issue it goes out from."""
    p = root(payload, "issue")
    me = make_id(source, ident(p.get("id"), "id"))
    out = []
    for n, link in enumerate(objects(obj(p.get("fields"), "fields").get("issuelinks"), "fields.issuelinks")):
        where = f"fields.issuelinks[{n}]"
        target = obj(link.get("outwardIssue"), f"{where}.outwardIssue")
        if not target:
            continue
        type_name = (text(obj(link.get("type"), f"{where}.type").get("name"), f"{where}.type.name") or "").lower()
        kind = _LINK_KINDS.get(type_name, LinkKind.RELATES)
        out.append(Link(from_id=me, kind=kind, to_key=ident(target.get("key"), f"{where}.outwardIssue.key"),
                        to_id=make_id(source, ident(target.get("id"), f"{where}.outwardIssue.id"))))
    return out


def _history_field(item: Json, fm: FieldMap) -> TransitionField | None:
    fid = str(item.get("fieldId") or "")
    name = str(item.get("field") or "").lower()
    if fid == "status" or name == "status":
        return TransitionField.STATUS
    if (fm.sprint and fid == fm.sprint) or name == "sprint":
        return TransitionField.SPRINT
    if (fm.points and fid == fm.points) or name in fm.point_names:
        return TransitionField.ESTIMATE
    if fid == "assignee" or name == "assignee":
        return TransitionField.ASSIGNEE
    if fid == "fixVersions" or name == "fix version":
        return TransitionField.FIX_VERSION
    return None


def transitions_from_histories(source: str, issue_id: str, histories: list[Json], fm: FieldMap,
                               where: str = "changelog.histories") -> Iterator[Transition]:
    """Transition rows for status, sprint, estimate, assignee and fix-version changes.

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


def item_from_jira(source: str, payload: Json, fm: FieldMap, site_url: str) -> IssueRecords:
    """Map one issue (search result or issue GET) to a WorkItem and the records it names.

    Raises PayloadError naming the field when the payload does not have the shape of a Jira issue.
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
    parent_is_epic = parent is not None and item_kind(
        obj(parent.get("fields"), "fields.parent.fields").get("issuetype"), "fields.parent.fields.issuetype") == ItemKind.EPIC
    epic_key = parent_key if parent_is_epic else None
    epic_id = parent_id if parent_is_epic else None
    agile_epic = f.get("epic")  # agile API payloads embed the epic object
    if isinstance(agile_epic, dict) and agile_epic.get("id") and not epic_key:
        epic_key = text(agile_epic.get("key"), "fields.epic.key")
        epic_id = make_id(source, ident(agile_epic["id"], "fields.epic.id"))
    if fm.epic_link and f.get(fm.epic_link) and not epic_key:
        epic_key = text(f.get(fm.epic_link), f"fields.{fm.epic_link}")
    sprints = _issue_sprints(source, f, fm)
    releases = [release_from_version(source, project, v, site_url, f"fields.fixVersions[{n}]")
                for n, v in enumerate(objects(f.get("fixVersions"), "fields.fixVersions"))]
    people = [p for p in (person_from_jira(source, f.get("assignee"), "fields.assignee"),
                          person_from_jira(source, f.get("reporter"), "fields.reporter")) if p]
    item = WorkItem(
        id=make_id(source, remote), source=source, source_type="jira", remote_id=remote, key=key,
        project=project, kind=item_kind(f.get("issuetype")), title=text(f.get("summary"), "fields.summary") or "",
        status=text(status.get("name"), "fields.status.name") or "Unknown", status_category=status_category(status),
        resolution=text(obj(f.get("resolution"), "fields.resolution").get("name"), "fields.resolution.name"),
        priority=text(obj(f.get("priority"), "fields.priority").get("name"), "fields.priority.name"),
        labels=[_label(x, f"fields.labels[{n}]") for n, x in enumerate(array(f.get("labels"), "fields.labels"))],
        components=[text(c.get("name"), f"fields.components[{n}].name") or ""
                    for n, c in enumerate(objects(f.get("components"), "fields.components"))],
        assignee_id=person_id(source, f.get("assignee"), "fields.assignee"),
        reporter_id=person_id(source, f.get("reporter"), "fields.reporter"),
        created=required_stamp(f.get("created"), "fields.created"),
        updated=required_stamp(f.get("updated"), "fields.updated"),
        resolved=stamp(f.get("resolutiondate"), "fields.resolutiondate"), due=day(f.get("duedate"), "fields.duedate"),
        estimate=number(f.get(fm.points)) if fm.points else None,
        parent_id=parent_id, parent_key=parent_key, epic_id=epic_id, epic_key=epic_key,
        sprint_ids=[s.id for s in sprints], release_ids=[r.id for r in releases],
        flagged=bool(f.get(fm.flagged)) if fm.flagged else False,
        description=adf_text(f.get("description")) or None, url=f"{site_url}/browse/{key}", raw=issue,
    )
    return IssueRecords(item=item, links=links_from_issue(source, issue), people=people, sprints=sprints,
                        releases=releases)


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(where, "expected a string")
    return value


def _issue_sprints(source: str, f: Json, fm: FieldMap) -> list[Sprint]:
    """The sprints an issue's fields name: the sprint custom field (objects, or Server/DC strings), and the
    agile API's `sprint` and `closedSprints`."""
    found: list[tuple[Any, str]] = []
    if fm.sprint:
        where = f"fields.{fm.sprint}"
        for n, o in enumerate(array(f.get(fm.sprint), where)):
            found.append((greenhopper_sprint(o) if isinstance(o, str) else o, f"{where}[{n}]"))
    if isinstance(f.get("sprint"), dict):
        found.append((f["sprint"], "fields.sprint"))
    found += [(o, f"fields.closedSprints[{n}]") for n, o in enumerate(array(f.get("closedSprints"), "fields.closedSprints"))]
    seen: dict[str, Sprint] = {}
    for o, where in found:
        if isinstance(o, dict) and o.get("id") is not None:
            sprint = sprint_from_jira(source, o, where=where)
            seen[sprint.id] = sprint
    return list(seen.values())
