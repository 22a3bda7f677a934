"""Pure mapping of Jira payloads (REST v2/v3, agile 1.0) to the normalized model.

One function per entity; no HTTP here. `FieldMap` says which custom fields hold story points,
sprints, the epic link and the flag on this site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

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


def parse_ts(value: str | None) -> datetime | None:
    """Jira timestamps (`-0800`, `-07:00` or `Z`) as aware datetimes."""
    if not value:
        return None
    return datetime.fromisoformat(value)


def parse_date(value: str | None) -> date | None:
    """A Jira date (`2026-11-30`) or the date part of a timestamp."""
    if not value:
        return None
    return date.fromisoformat(value[:10])


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
            for child in n.get("content", []) or []:
                walk(child)
            if n.get("type") in ("paragraph", "heading", "listItem", "codeBlock", "blockquote"):
                out.append("\n")
        elif isinstance(n, list):
            for child in n:
                walk(child)

    walk(node)
    return "".join(out).strip()


_CATEGORY = {"new": StatusCategory.TODO, "indeterminate": StatusCategory.IN_PROGRESS, "done": StatusCategory.DONE}


def status_category(status: Json | None) -> StatusCategory:
    """Our category from Jira's statusCategory key (new / indeterminate / done)."""
    key = ((status or {}).get("statusCategory") or {}).get("key", "new")
    return _CATEGORY.get(str(key), StatusCategory.TODO)


def item_kind(issuetype: Json | None) -> ItemKind:
    """Our kind from the issue type (subtask flag first, then the type name)."""
    it = issuetype or {}
    if it.get("subtask"):
        return ItemKind.SUBTASK
    name = str(it.get("name", "")).lower().replace("-", "")
    if name == "epic":
        return ItemKind.EPIC
    if name in ("story", "user story", "feature", "new feature", "improvement"):
        return ItemKind.STORY
    if name in ("bug", "defect", "incident"):
        return ItemKind.BUG
    if name == "subtask":
        return ItemKind.SUBTASK
    return ItemKind.TASK


def person_id(source: str, user: Json | None) -> str | None:
    """Record id of a Jira user: accountId on Cloud, name/key on Server."""
    if not user:
        return None
    ident = user.get("accountId") or user.get("name") or user.get("key")
    return make_id(source, ident) if ident else None


def person_from_jira(source: str, user: Json | None) -> Person | None:
    """A Person from a user object."""
    pid = person_id(source, user)
    if pid is None or user is None:
        return None
    return Person(id=pid, source=source, display_name=str(user.get("displayName") or user.get("name") or pid),
                  email=user.get("emailAddress") or None)


def sprint_id(source: str, remote_id: Any) -> str:
    """Record id of a sprint."""
    return make_id(source, f"sprint:{remote_id}")


def version_id(source: str, remote_id: Any) -> str:
    """Record id of a fix version."""
    return make_id(source, f"version:{remote_id}")


def _sprint_state(value: Any) -> SprintState:
    v = str(value or "future").lower()
    return SprintState(v) if v in ("future", "active", "closed") else SprintState.FUTURE


def sprint_from_jira(source: str, payload: Json, board_name: str | None = None) -> Sprint:
    """A Sprint from an agile sprint object (or the sprint field's embedded object)."""
    board = payload.get("originBoardId", payload.get("boardId"))
    return Sprint(
        id=sprint_id(source, payload["id"]), source=source, remote_id=str(payload["id"]),
        board_id=str(board) if board is not None else None, board_name=board_name,
        name=str(payload.get("name", "")), goal=payload.get("goal") or None, state=_sprint_state(payload.get("state")),
        start=parse_ts(payload.get("startDate")), end=parse_ts(payload.get("endDate")),
        complete=parse_ts(payload.get("completeDate")), raw=payload,
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


def release_from_version(source: str, project: str, payload: Json, site_url: str) -> Release:
    """A Release (kind version) from a Jira fix version."""
    released = bool(payload.get("released"))
    rdate = parse_date(payload.get("releaseDate"))
    released_at = datetime(rdate.year, rdate.month, rdate.day, tzinfo=UTC) if (released and rdate) else None
    return Release(
        id=version_id(source, payload["id"]), source=source, remote_id=str(payload["id"]), kind=ReleaseKind.VERSION,
        project=project, name=str(payload.get("name", "")), description=payload.get("description") or None,
        due=rdate, released_at=released_at, released=released,
        url=f"{site_url}/projects/{project}/versions/{payload['id']}", raw=payload,
    )


_LINK_KINDS = {"blocks": LinkKind.BLOCKS, "duplicate": LinkKind.DUPLICATES, "duplicates": LinkKind.DUPLICATES}


def links_from_issue(source: str, payload: Json) -> list[Link]:
    """The outward links of an issue: each link is stored once, by the issue it goes out from."""
    me = make_id(source, payload["id"])
    out = []
    for link in (payload.get("fields") or {}).get("issuelinks") or []:
        target = link.get("outwardIssue")
        if not target:
            continue
        type_name = str((link.get("type") or {}).get("name", "")).lower()
        kind = _LINK_KINDS.get(type_name, LinkKind.RELATES)
        out.append(Link(from_id=me, kind=kind, to_key=str(target.get("key")), to_id=make_id(source, target["id"])))
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


def transitions_from_histories(source: str, issue_id: str, histories: list[Json], fm: FieldMap) -> Iterator[Transition]:
    """Transition rows for status, sprint, estimate, assignee and fix-version changes."""
    item_id = make_id(source, issue_id)
    for history in histories:
        at = parse_ts(history.get("created"))
        if at is None:
            continue
        author = person_id(source, history.get("author"))
        for seq, change in enumerate(history.get("items") or []):
            kind = _history_field(change, fm)
            if kind is None:
                continue
            yield Transition(
                item_id=item_id, change_id=str(history.get("id")), seq=seq, field=kind,
                from_value=_s(change.get("from")), to_value=_s(change.get("to")),
                from_string=_s(change.get("fromString")), to_string=_s(change.get("toString")),
                at=at, author_id=author,
            )


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
    """Map one issue (search result or issue GET) to a WorkItem and the records it names."""
    f = payload.get("fields") or {}
    key = str(payload["key"])
    project = str((f.get("project") or {}).get("key") or key.rsplit("-", 1)[0])
    status = f.get("status") or {}
    parent: Json | None = f.get("parent") or None
    parent_is_epic = parent is not None and item_kind((parent.get("fields") or {}).get("issuetype")) == ItemKind.EPIC
    epic_key = parent.get("key") if parent_is_epic and parent else None
    epic_id = make_id(source, parent["id"]) if parent_is_epic and parent else None
    agile_epic = f.get("epic")  # agile API payloads embed the epic object
    if isinstance(agile_epic, dict) and agile_epic.get("id") and not epic_key:
        epic_key, epic_id = agile_epic.get("key"), make_id(source, agile_epic["id"])
    if fm.epic_link and f.get(fm.epic_link) and not epic_key:
        epic_key = str(f.get(fm.epic_link))
    sprint_objs = [greenhopper_sprint(o) if isinstance(o, str) else o for o in f.get(fm.sprint) or []] if fm.sprint else []
    sprint_objs += ([f["sprint"]] if isinstance(f.get("sprint"), dict) else []) + list(f.get("closedSprints") or [])
    seen_sprints: dict[str, Sprint] = {}
    for obj in sprint_objs:
        if isinstance(obj, dict) and obj.get("id") is not None:
            sp = sprint_from_jira(source, obj)
            seen_sprints[sp.id] = sp
    sprints = list(seen_sprints.values())
    releases = [release_from_version(source, project, v, site_url) for v in f.get("fixVersions") or []]
    points = f.get(fm.points) if fm.points else None
    people = [p for p in (person_from_jira(source, f.get("assignee")), person_from_jira(source, f.get("reporter"))) if p]
    item = WorkItem(
        id=make_id(source, payload["id"]), source=source, source_type="jira", remote_id=str(payload["id"]), key=key,
        project=project, kind=item_kind(f.get("issuetype")), title=str(f.get("summary") or ""),
        status=str(status.get("name") or "Unknown"), status_category=status_category(status),
        resolution=(f.get("resolution") or {}).get("name"), priority=(f.get("priority") or {}).get("name"),
        labels=[str(x) for x in f.get("labels") or []], components=[str(c.get("name")) for c in f.get("components") or []],
        assignee_id=person_id(source, f.get("assignee")), reporter_id=person_id(source, f.get("reporter")),
        created=parse_ts(f.get("created")), updated=parse_ts(f.get("updated")),
        resolved=parse_ts(f.get("resolutiondate")), due=parse_date(f.get("duedate")),
        estimate=float(points) if isinstance(points, int | float) else None,
        parent_id=make_id(source, parent["id"]) if parent else None, parent_key=parent.get("key") if parent else None,
        epic_id=epic_id, epic_key=epic_key,
        sprint_ids=[s.id for s in sprints], release_ids=[r.id for r in releases],
        flagged=bool(f.get(fm.flagged)) if fm.flagged else False,
        description=adf_text(f.get("description")) or None, url=f"{site_url}/browse/{key}", raw=payload,
    )
    return IssueRecords(item=item, links=links_from_issue(source, payload), people=people, sprints=sprints,
                        releases=releases)
