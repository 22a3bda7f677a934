"""Changes to the fake Jira's world, made the way Jira makes them (for live tests and the generator).

Each issue change bumps `updated` and appends one changelog history whose items name the field
as Jira does (`status`, `assignee`, `Sprint`, `Story point estimate`, `labels`, `summary`,
`resolution`; a move writes `project` and `Key`). Sprint events (add, start, close) change the
sprint only: like Jira, they leave every issue's `updated` alone. Every function takes the world
lock and bumps `world.jira.revision`. The same changes are served as admin routes:

    POST   /__sandbox/jira/issues                    {"project", "summary", ...}      add_issue
    POST   /__sandbox/jira/issues/<key>              {"status": "Done", ...}          update_issue
    DELETE /__sandbox/jira/issues/<key>                                               delete_issue
    POST   /__sandbox/jira/issues/<key>/move         {"project": "OPS"}               move_issue
    POST   /__sandbox/jira/boards/<id>/sprints       {"name", "goal"?}                add_sprint
    POST   /__sandbox/jira/sprints/<id>/start        {"end"?: ISO time}               start_sprint
    POST   /__sandbox/jira/sprints/<id>/close                                         close_sprint
    POST   /__sandbox/jira/projects/<key>/versions   {"name", "release_date"?, ...}   add_version
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import mutation_response
from syncd.sandbox.jira_shapes import agile_time, jira_time
from syncd.sandbox.world import JiraWorld, Json, World

if TYPE_CHECKING:
    from syncd.sandbox.jira import JiraApp

UNSET: Any = object()  # "leave this field alone" (None means "clear it")


# -- lookups ----------------------------------------------------------------------------------------

def find_issue(jw: JiraWorld, key_or_id: str) -> Json:
    """A live issue by id, key or pre-move key (KeyError otherwise)."""
    iid = key_or_id if key_or_id in jw.issues else None
    if iid is None:
        iid = next((i for i, p in jw.issues.items() if p.get("key") == key_or_id), None) or jw.moved_keys.get(key_or_id)
    if iid is None or iid in jw.deleted or iid not in jw.issues:
        raise KeyError(f"no issue {key_or_id!r} in the world")
    return jw.issues[iid]


def _field_id(jw: JiraWorld, custom_suffix: str, *names: str) -> str:
    for f in jw.fields:
        if str((f.get("schema") or {}).get("custom", "")).endswith(custom_suffix) or str(f.get("name", "")).lower() in names:
            return str(f["id"])
    raise KeyError(f"the world's /field has no {custom_suffix} field")


def _field_name(jw: JiraWorld, fid: str) -> str:
    return next((str(f.get("name")) for f in jw.fields if f.get("id") == fid), fid)


def _user(jw: JiraWorld, account_id: str | None) -> Json:
    if account_id is None:
        return dict(jw.myself)
    if account_id not in jw.users:
        raise KeyError(f"no user {account_id!r} in the world")
    return dict(jw.users[account_id])


def _status(jw: JiraWorld, name: str) -> Json:
    for s in jw.statuses:
        if str(s.get("name", "")).lower() == name.lower():
            return dict(s)
    raise KeyError(f"no status {name!r} in the world")


def _moment(world: World, after: str | None, now: datetime | None) -> datetime:
    """Now (never before the world's `now`), strictly later than `after` so an `updated >=` cursor sees it."""
    moment = (now or max(datetime.now(UTC), world.now)).astimezone(UTC)
    if after and moment <= datetime.fromisoformat(after):
        moment = datetime.fromisoformat(after).astimezone(UTC) + timedelta(seconds=1)
    return moment


def _next_history_id(jw: JiraWorld) -> int:
    """One more than the highest history id of the site: found by one scan, then counted on."""
    if not jw.last_history_id:
        ids = [int(h["id"]) for i in jw.issues.values() for h in (i.get("changelog") or {}).get("histories") or []
               if str(h.get("id", "")).isdigit()]
        jw.last_history_id = max([10000, *ids])
    jw.last_history_id += 1
    return jw.last_history_id


def _record(world: World, issue: Json, items: list[Json], author: str | None, now: datetime | None) -> Json:
    """Bump `updated`, append one history with `items`, bump the revision."""
    jw = world.jira
    fields = issue.setdefault("fields", {})
    moment = _moment(world, fields.get("updated"), now)
    stamp = jira_time(moment, ZoneInfo(jw.timezone))
    fields["updated"] = stamp
    history = {"id": str(_next_history_id(jw)), "author": _user(jw, author), "created": stamp, "items": items}
    issue.setdefault("changelog", {}).setdefault("histories", []).append(history)
    jw.revision += 1
    return issue


def _item(field: str, fid: str, old: Any, new: Any, old_text: Any, new_text: Any, custom: bool = False) -> Json:
    def s(v: Any) -> str | None:
        return None if v is None else str(v)
    return {"field": field, "fieldtype": "custom" if custom else "jira", "fieldId": fid, "from": s(old),
            "fromString": s(old_text), "to": s(new), "toString": s(new_text)}


# -- issues -------------------------------------------------------------------------------------------

def update_issue(world: World, key_or_id: str, *, summary: str | None = None, status: str | None = None,
                 points: Any = UNSET, assignee: Any = UNSET, sprint: Any = UNSET,
                 labels: Sequence[str] | None = None, author: str | None = None, now: datetime | None = None) -> Json:
    """Change fields of an issue as a user would; one history for all changes (none: no-op).

    `sprint` moves the issue into that sprint id (out of its open sprint; closed ones stay), None
    to the backlog; `points` None clears the estimate; `assignee` None unassigns.
    """
    with world.lock:
        jw = world.jira
        issue = find_issue(jw, key_or_id)
        f = issue["fields"]
        items: list[Json] = []
        if summary is not None and summary != f.get("summary"):
            items.append(_item("summary", "summary", None, None, f.get("summary"), summary))
            f["summary"] = summary
        if status is not None and status.lower() != str((f.get("status") or {}).get("name", "")).lower():
            items.extend(_change_status(jw, f, _status(jw, status), now or max(datetime.now(UTC), world.now)))
        fid = _field_id(jw, "jsw-story-points", "story point estimate", "story points") if points is not UNSET else ""
        if points is not UNSET and points != f.get(fid):
            items.append(_item(_field_name(jw, fid), fid, None, None, _num(f.get(fid)), _num(points), custom=True))
            f[fid] = points
        if assignee is not UNSET and assignee != (f.get("assignee") or {}).get("accountId"):
            old = f.get("assignee") or {}
            new = _user(jw, assignee) if assignee else None
            items.append(_item("assignee", "assignee", old.get("accountId"), assignee, old.get("displayName"),
                               (new or {}).get("displayName")))
            f["assignee"] = new
        if sprint is not UNSET:
            items.extend(_change_sprint(jw, f, sprint))
        if labels is not None and sorted(labels) != sorted(f.get("labels") or []):
            items.append(_item("labels", "labels", None, None, " ".join(f.get("labels") or []) or None,
                               " ".join(labels) or None))
            f["labels"] = list(labels)
        return _record(world, issue, items, author, now) if items else issue


def _num(value: Any) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def _change_status(jw: JiraWorld, f: Json, new: Json, moment: datetime) -> list[Json]:
    old = f.get("status") or {}
    items = [_item("status", "status", old.get("id"), new.get("id"), old.get("name"), new.get("name"))]
    f["status"] = new
    done = (new.get("statusCategory") or {}).get("key") == "done"
    if done and not f.get("resolution"):
        f["resolution"] = {"self": f"{jw.base_url}/rest/api/3/resolution/10000", "id": "10000",
                           "description": "Work has been completed on this issue.", "name": "Done"}
        f["resolutiondate"] = jira_time(moment, ZoneInfo(jw.timezone))
        items.append(_item("resolution", "resolution", None, "10000", None, "Done"))
    elif not done and f.get("resolution"):
        items.append(_item("resolution", "resolution", f["resolution"].get("id"), None, f["resolution"].get("name"), None))
        f["resolution"], f["resolutiondate"] = None, None
    return items


def _change_sprint(jw: JiraWorld, f: Json, sprint: int | None) -> list[Json]:
    fid = _field_id(jw, "gh-sprint", "sprint")
    current = [s for s in f.get(fid) or [] if isinstance(s, dict)]
    kept = [s for s in current if jw.sprints.get(int(s["id"]), {}).get("state") == "closed"]
    if sprint is not None:
        if int(sprint) not in jw.sprints:
            raise KeyError(f"no sprint {sprint!r} in the world")
        if all(int(s["id"]) != int(sprint) for s in kept):
            kept.append({"id": int(sprint), "name": jw.sprints[int(sprint)].get("name")})
    if [int(s["id"]) for s in kept] == [int(s["id"]) for s in current]:
        return []

    def names(sprints: list[Json]) -> tuple[str | None, str | None]:
        if not sprints:
            return None, None
        return (", ".join(str(s["id"]) for s in sprints),
                ", ".join(str(jw.sprints.get(int(s["id"]), s).get("name")) for s in sprints))

    (old_ids, old_names), (new_ids, new_names) = names(current), names(kept)
    f[fid] = kept or None
    return [_item("Sprint", fid, old_ids, new_ids, old_names, new_names, custom=True)]


def add_issue(world: World, project: str, summary: str, *, issuetype: str = "Story", status: str | None = None,
              points: float | None = None, assignee: str | None = None, reporter: str | None = None,
              sprint: int | None = None, labels: Sequence[str] = (), parent: str | None = None,
              now: datetime | None = None) -> Json:
    """Create an issue in `project` (no history, as Jira writes none on create); returns its payload."""
    with world.lock:
        jw = world.jira
        if project not in jw.projects:
            raise KeyError(f"no project {project!r} in the world")
        iid = str(max([10000, *(int(i) for i in jw.issues if i.isdigit())]) + 1)
        key = f"{project}-{_next_number(jw, project)}"
        moment = _moment(world, None, now)
        stamp = jira_time(moment, ZoneInfo(jw.timezone))
        first = status or next(s["name"] for s in jw.statuses if (s.get("statusCategory") or {}).get("key") == "new")
        kind = _issue_type(jw, issuetype)
        fields: Json = {
            "summary": summary, "issuetype": kind, "project": _project_ref(jw, project), "status": _status(jw, first),
            "priority": {"self": f"{jw.base_url}/rest/api/3/priority/3", "iconUrl": f"{jw.base_url}/images/icons/"
                         "priorities/medium.svg", "name": "Medium", "id": "3"},
            "labels": list(labels), "components": [], "fixVersions": [], "issuelinks": [], "description": None,
            "assignee": _user(jw, assignee) if assignee else None, "reporter": _user(jw, reporter),
            "creator": _user(jw, reporter), "created": stamp, "updated": stamp, "resolution": None,
            "resolutiondate": None, "duedate": None,
        }
        if parent is not None:
            p = find_issue(jw, parent)
            fields["parent"] = {"id": p["id"], "key": p["key"], "self": p.get("self"),
                                "fields": {k: p["fields"].get(k) for k in ("summary", "status", "priority", "issuetype")}}
        try:
            fields[_field_id(jw, "jsw-story-points", "story point estimate", "story points")] = points
        except KeyError:
            pass
        if sprint is not None:
            fields[_field_id(jw, "gh-sprint", "sprint")] = [{"id": int(sprint), "name": jw.sprints[int(sprint)]["name"]}]
        issue = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                 "id": iid, "self": f"{jw.base_url}/rest/api/3/issue/{iid}", "key": key, "fields": fields,
                 "changelog": {"histories": []}}
        jw.issues[iid] = issue
        jw.revision += 1
        return issue


def _next_number(jw: JiraWorld, project: str) -> int:
    keys = [str(i.get("key")) for i in jw.issues.values()] + list(jw.moved_keys)
    numbers = [int(k.rsplit("-", 1)[1]) for k in keys if k.startswith(project + "-") and k.rsplit("-", 1)[1].isdigit()]
    return max([0, *numbers]) + 1


def _issue_type(jw: JiraWorld, name: str) -> Json:
    for issue in jw.issues.values():
        kind = (issue.get("fields") or {}).get("issuetype") or {}
        if str(kind.get("name", "")).lower() == name.lower():
            return dict(kind)
    type_id = str(10001 + sum(ord(c) for c in name) % 97)
    return {"self": f"{jw.base_url}/rest/api/3/issuetype/{type_id}", "id": type_id, "description": "", "name": name,
            "subtask": name.lower() in ("sub-task", "subtask"), "hierarchyLevel": 1 if name == "Epic" else 0,
            "iconUrl": f"{jw.base_url}/images/icons/issuetypes/{name.lower()}.svg"}


def _project_ref(jw: JiraWorld, key: str) -> Json:
    p = jw.projects[key]
    return {k: p[k] for k in ("self", "id", "key", "name", "projectTypeKey", "simplified", "avatarUrls") if k in p}


def delete_issue(world: World, key_or_id: str) -> None:
    """Delete an issue: 404 from then on, gone from every search."""
    with world.lock:
        issue = find_issue(world.jira, key_or_id)
        world.jira.deleted.add(str(issue["id"]))
        world.jira.revision += 1


def move_issue(world: World, key_or_id: str, project: str, *, author: str | None = None,
               now: datetime | None = None) -> Json:
    """Move an issue to `project`: new key, same id; the old key still finds it; fix versions are dropped."""
    with world.lock:
        jw = world.jira
        issue = find_issue(jw, key_or_id)
        if project not in jw.projects:
            raise KeyError(f"no project {project!r} in the world")
        f = issue["fields"]
        old_key, old_project = str(issue["key"]), f.get("project") or {}
        if old_project.get("key") == project:
            return issue
        new_key = f"{project}-{_next_number(jw, project)}"
        new_project = _project_ref(jw, project)
        items = [_item("project", "project", old_project.get("id"), new_project.get("id"), old_project.get("name"),
                       new_project.get("name")),
                 _item("Key", "issuekey", None, None, old_key, new_key)]
        for version in f.get("fixVersions") or []:
            items.append(_item("Fix Version", "fixVersions", version.get("id"), None, version.get("name"), None))
        f["fixVersions"], f["project"], issue["key"] = [], new_project, new_key
        jw.moved_keys[old_key] = str(issue["id"])
        return _record(world, issue, items, author, now)


# -- sprints and versions (issues' `updated` untouched) ---------------------------------------------

def add_sprint(world: World, board_id: int, name: str, *, goal: str | None = None) -> Json:
    """A future sprint on a scrum board."""
    with world.lock:
        jw = world.jira
        if board_id not in jw.boards:
            raise KeyError(f"no board {board_id} in the world")
        sid = max([0, *jw.sprints]) + 1
        sprint: Json = {"id": sid, "self": f"{jw.base_url}/rest/agile/1.0/sprint/{sid}", "state": "future",
                        "name": name, "originBoardId": board_id}
        if goal:
            sprint["goal"] = goal
        jw.sprints[sid] = sprint
        jw.revision += 1
        return sprint


def start_sprint(world: World, sprint_id: int, *, start: datetime | None = None, end: datetime | None = None) -> Json:
    """Start a future sprint (two weeks unless `end` says otherwise)."""
    with world.lock:
        jw = world.jira
        sprint = jw.sprints[int(sprint_id)]
        begin = _moment(world, None, start)
        tz = ZoneInfo(jw.timezone)
        sprint.update({"state": "active", "startDate": agile_time(begin, tz),
                       "endDate": agile_time(end or begin + timedelta(days=14), tz)})
        jw.revision += 1
        return sprint


def close_sprint(world: World, sprint_id: int, *, now: datetime | None = None) -> Json:
    """Complete an active sprint."""
    with world.lock:
        jw = world.jira
        sprint = jw.sprints[int(sprint_id)]
        sprint.update({"state": "closed", "completeDate": agile_time(_moment(world, None, now), ZoneInfo(jw.timezone))})
        jw.revision += 1
        return sprint


def add_version(world: World, project: str, name: str, *, release_date: date | str | None = None,
                released: bool = False, description: str | None = None) -> Json:
    """A fix version of `project`."""
    with world.lock:
        jw = world.jira
        if project not in jw.projects:
            raise KeyError(f"no project {project!r} in the world")
        vid = str(max([10000, *(int(v["id"]) for vs in jw.versions.values() for v in vs)]) + 1)
        version: Json = {"self": f"{jw.base_url}/rest/api/3/version/{vid}", "id": vid, "name": name,
                         "archived": False, "released": released, "projectId": int(jw.projects[project]["id"])}
        if description:
            version["description"] = description
        if release_date:
            day = date.fromisoformat(str(release_date))
            version.update({"releaseDate": day.isoformat(), "userReleaseDate": day.strftime("%d/%b/%y"),
                            "overdue": not released and day < world.now.date()})
        jw.versions.setdefault(project, []).append(version)
        jw.revision += 1
        return version


# -- admin routes ---------------------------------------------------------------------------------------

def _admin_rules() -> list[Rule]:
    return [
        Rule("/jira/issues", endpoint="add_issue", methods=["POST"]),
        Rule("/jira/issues/<key>", endpoint="update_issue", methods=["POST"]),
        Rule("/jira/issues/<key>", endpoint="delete_issue", methods=["DELETE"]),
        Rule("/jira/issues/<key>/move", endpoint="move_issue", methods=["POST"]),
        Rule("/jira/boards/<int:board_id>/sprints", endpoint="add_sprint", methods=["POST"]),
        Rule("/jira/sprints/<int:sprint_id>/start", endpoint="start_sprint", methods=["POST"]),
        Rule("/jira/sprints/<int:sprint_id>/close", endpoint="close_sprint", methods=["POST"]),
        Rule("/jira/projects/<key>/versions", endpoint="add_version", methods=["POST"]),
    ]


def _times(body: Json, *names: str) -> Json:
    return {k: (datetime.fromisoformat(v) if k in names and isinstance(v, str) else v) for k, v in body.items()}


def _admin_delete(world: World, key: str) -> Json:
    delete_issue(world, key)
    return {"deleted": key}


_ADMIN: dict[str, Callable[..., Any]] = {
    "add_issue": lambda w, b: add_issue(w, **_times(b, "now")),
    "update_issue": lambda w, b, key: update_issue(w, key, **_times(b, "now")),
    "delete_issue": lambda w, b, key: _admin_delete(w, key),
    "move_issue": lambda w, b, key: move_issue(w, key, **_times(b, "now")),
    "add_sprint": lambda w, b, board_id: add_sprint(w, board_id, **b),
    "start_sprint": lambda w, b, sprint_id: start_sprint(w, sprint_id, **_times(b, "start", "end")),
    "close_sprint": lambda w, b, sprint_id: close_sprint(w, sprint_id, **_times(b, "now")),
    "add_version": lambda w, b, key: add_version(w, key, **b),
}
_MAP = Map(_admin_rules(), strict_slashes=False, merge_slashes=False)


def admin(app: JiraApp, request: Request, path: str) -> Response:
    """Serve one `/__sandbox/jira/...` mutation; answers the changed payload (400 for bad input)."""
    return mutation_response(_MAP, request, path,
                             lambda endpoint, body, **args: _ADMIN[endpoint](app.world, body, **args))
