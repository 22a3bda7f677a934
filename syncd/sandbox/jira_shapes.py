"""How the fake Jira projects the world's issue payloads into what one request asked for.

The world holds each issue once, in Jira Cloud REST v3 shape with every field and its whole
changelog (oldest first). A response differs by request and by site:
- `fields` selects (`*all`, `*navigable`, a list, `-name` exclusions; search/jql defaults to `id`);
- `expand=changelog` embeds the histories: on Cloud only the 100 most recent, newest first, with
  `total` telling how many exist (the rest come from /issue/{id}/changelog); Server embeds all;
- the Sprint field always shows each sprint's current state (sprint events do not touch issues);
- REST v2 renders rich text (ADF) as wiki markup;
- a Server/Data Center site names users by `name`/`key` (no accountId) and renders the Sprint
  field as GreenHopper's `com.atlassian.greenhopper.service.sprint.Sprint@...[...]` strings.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

Json = dict[str, Any]
CLOUD_EMBEDDED_HISTORIES = 100
ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"
RICH_TEXT_FIELDS = ("description", "environment")


def jira_time(moment: datetime, tz: tzinfo) -> str:
    """Platform timestamp: `2026-11-20T10:00:00.000-0800` (milliseconds, offset without a colon)."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def agile_time(moment: datetime, tz: tzinfo) -> str:
    """Agile (sprint) timestamp: `2026-11-20T10:00:00.000-08:00` (offset with a colon)."""
    text = jira_time(moment, tz)
    return text[:-2] + ":" + text[-2:]


def utc_time(value: str | None) -> str | None:
    """Any Jira timestamp as the Cloud Sprint field writes it: `2026-11-20T18:00:00.000Z`."""
    if not value:
        return None
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class FieldSelection:
    """A parsed `fields` parameter."""

    all: bool = False
    navigable: bool = False
    names: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, values: list[str], default: str) -> FieldSelection:
        """From the (repeated, comma-separated) `fields` values, or `default` when none were sent."""
        parts = [p.strip() for v in values for p in str(v).split(",") if p.strip()] or [default]
        names = {p for p in parts if not p.startswith(("*", "-"))}
        excluded = {p[1:] for p in parts if p.startswith("-")}
        all_ = "*all" in parts
        navigable = "*navigable" in parts or (bool(excluded) and not all_ and not names)
        return cls(all_, navigable, frozenset(names), frozenset(excluded))

    def id_only(self) -> bool:
        """True when nothing but the id was asked for (search/jql's default)."""
        return not self.all and not self.navigable and self.names <= {"id"}

    def wants(self, name: str, navigable: bool) -> bool:
        """Whether field `name` goes into the response."""
        if name in self.excluded:
            return False
        return self.all or (self.navigable and navigable) or name in self.names


@dataclass
class SiteShape:
    """What a projection needs to know about the site and the request."""

    base: str  # the payloads' origin, e.g. http://127.0.0.1:43125
    api: str  # "2" or "3"
    server: bool  # Server/Data Center shapes
    tz: tzinfo
    sprints: dict[int, Json]
    sprint_field: str | None
    flagged_field: str | None = None
    non_navigable: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # field id -> name (expand=names)


def project_issue(issue: Json, sel: FieldSelection, expand: set[str], shape: SiteShape, agile: bool = False,
                  envelope: bool = False, properties: list[str] | None = None) -> Json:
    """One issue as a search, issue or agile endpoint returns it (search/jql: only `{"id"}` for id-only).

    `properties`: the issue property keys asked for (`properties=`), returned as `"properties": {key: value}`
    with the ones the issue has (IssueBean.properties).
    """
    if sel.id_only() and not expand and not envelope and not properties:
        return {"id": issue["id"]}
    fields: Json = {}
    for name, value in (issue.get("fields") or {}).items():
        if sel.wants(name, name not in shape.non_navigable):
            fields[name] = _field_value(name, value, shape)
    if agile:
        fields.update(_agile_fields(issue, sel, shape))
    api_path = "agile/1.0" if agile else f"api/{shape.api}"
    out: Json = {"expand": ISSUE_EXPAND, "id": issue["id"], "self": f"{shape.base}/rest/{api_path}/issue/{issue['id']}",
                 "key": issue["key"]}
    if "changelog" in expand:
        out["changelog"] = embedded_changelog(issue, shape)
    if fields or not sel.id_only():
        out["fields"] = fields
    if properties:
        held = issue.get("properties") or {}
        out["properties"] = {k: held[k] for k in properties if k in held}
    if "names" in expand:
        out["names"] = {k: shape.names.get(k, k) for k in fields}
    return out


def embedded_changelog(issue: Json, shape: SiteShape) -> Json:
    """`expand=changelog`: Cloud embeds the 100 most recent histories, newest first; Server all, oldest first."""
    histories = (issue.get("changelog") or {}).get("histories") or []
    if shape.server:
        chosen = [user_fixed(h, shape) for h in histories]
    else:
        chosen = [user_fixed(h, shape) for h in reversed(histories[-CLOUD_EMBEDDED_HISTORIES:])]
    return {"startAt": 0, "maxResults": len(chosen), "total": len(histories), "histories": chosen}


def user_fixed(value: Any, shape: SiteShape) -> Any:
    """Server sites name users by `name`/`key`: rewrite every user object (Cloud: unchanged)."""
    if not shape.server:
        return value
    if isinstance(value, dict):
        if "accountId" in value and "displayName" in value:
            return server_user(value, shape.base)
        return {k: user_fixed(v, shape) for k, v in value.items()}
    if isinstance(value, list):
        return [user_fixed(v, shape) for v in value]
    return value


def server_user(user: Json, base: str) -> Json:
    """A Cloud user object as Jira Server shows it: `name`/`key` instead of `accountId`."""
    name = str(user.get("emailAddress") or user["accountId"]).split("@")[0]
    out = {"self": f"{base}/rest/api/2/user?username={name}", "name": name, "key": name}
    out.update({k: v for k, v in user.items() if k in ("emailAddress", "avatarUrls", "displayName", "active", "timeZone")})
    return out


def _field_value(name: str, value: Any, shape: SiteShape) -> Any:
    if name == shape.sprint_field and isinstance(value, list):
        return sprint_field_value(value, shape)
    if shape.api == "2" and name in RICH_TEXT_FIELDS and isinstance(value, dict):
        return adf_to_wiki(value)
    return user_fixed(value, shape)


def sprint_field_value(embedded: list[Any], shape: SiteShape) -> list[Any]:
    """The Sprint field with each sprint as it is now: Cloud objects, or Server's GreenHopper strings."""
    out: list[Any] = []
    for item in embedded:
        sprint_id = item.get("id") if isinstance(item, dict) else None
        sprint = shape.sprints.get(int(sprint_id)) if sprint_id is not None else None
        if sprint is None:
            continue
        if shape.server:
            out.append(greenhopper_string(sprint))
            continue
        obj: Json = {"id": sprint["id"], "name": sprint.get("name"), "state": sprint.get("state"),
                     "boardId": sprint.get("originBoardId"), "goal": sprint.get("goal") or ""}
        for key in ("startDate", "endDate", "completeDate"):
            if sprint.get(key):
                obj[key] = utc_time(sprint[key])
        out.append(obj)
    return out


def greenhopper_string(sprint: Json) -> str:
    """Jira Server's string form of a sprint in the Sprint field (REST v2)."""
    ident = zlib.crc32(str(sprint["id"]).encode()) & 0xFFFFFFF

    def v(key: str) -> str:
        value = sprint.get(key)
        return "<null>" if value in (None, "") else str(value)

    return (f"com.atlassian.greenhopper.service.sprint.Sprint@{ident:x}[id={sprint['id']},"
            f"rapidViewId={v('originBoardId')},state={str(sprint.get('state', 'future')).upper()},name={v('name')},"
            f"startDate={v('startDate')},endDate={v('endDate')},completeDate={v('completeDate')},"
            f"activatedDate={v('startDate')},sequence={sprint['id']},goal={v('goal')},autoStartStop=false,synced=false]")


def _agile_fields(issue: Json, sel: FieldSelection, shape: SiteShape) -> Json:
    """The fields the agile API adds: `sprint` (the open one), `closedSprints`, `flagged`, `epic`."""
    f = issue.get("fields") or {}
    embedded = f.get(shape.sprint_field) if shape.sprint_field else None
    sprints = [shape.sprints[int(s["id"])] for s in embedded or [] if isinstance(s, dict) and int(s["id"]) in shape.sprints]
    out: Json = {}
    if sel.wants("sprint", True):
        open_ = [s for s in sprints if s.get("state") != "closed"]
        out["sprint"] = open_[-1] if open_ else None
    if sel.wants("closedSprints", True):
        out["closedSprints"] = [s for s in sprints if s.get("state") == "closed"]
    if sel.wants("flagged", True):
        out["flagged"] = bool(f.get(shape.flagged_field)) if shape.flagged_field else False
    if sel.wants("epic", True):
        parent = f.get("parent") or {}
        ptype = ((parent.get("fields") or {}).get("issuetype") or {}).get("name")
        out["epic"] = None if ptype != "Epic" else {
            "id": int(parent["id"]), "key": parent["key"], "self": f"{shape.base}/rest/agile/1.0/epic/{parent['id']}",
            "name": (parent.get("fields") or {}).get("summary"), "summary": (parent.get("fields") or {}).get("summary"),
            "color": {"key": "color_1"}, "done": ((parent.get("fields") or {}).get("status") or {}).get(
                "statusCategory", {}).get("key") == "done"}
    return out


def adf_to_wiki(node: Any) -> str:
    """Atlassian Document Format as the wiki markup REST v2 returns (paragraphs, lists, headings, code)."""
    if not isinstance(node, dict):
        return "" if node is None else str(node)
    kind = node.get("type")
    children = node.get("content") or []
    if kind == "text":
        text = str(node.get("text", ""))
        marks = {m.get("type") for m in node.get("marks") or []}
        if "strong" in marks:
            text = f"*{text}*"
        if "em" in marks:
            text = f"_{text}_"
        if "code" in marks:
            text = "{{" + text + "}}"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind in ("bulletList", "orderedList"):
        bullet = "*" if kind == "bulletList" else "#"
        return "\n".join(f"{bullet} " + adf_to_wiki(item).strip() for item in children)
    inner = "".join(adf_to_wiki(c) for c in children)
    if kind == "heading":
        return f"h{(node.get('attrs') or {}).get('level', 1)}. {inner}"
    if kind == "codeBlock":
        return "{code}\n" + inner + "\n{code}"
    if kind == "doc":
        return "\n\n".join(adf_to_wiki(c) for c in children)
    return inner
