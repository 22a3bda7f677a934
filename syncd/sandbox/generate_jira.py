"""Render the simulated projects as Jira Cloud payloads (REST v3 platform and agile 1.0).

Shapes follow ../shared/realdata (jira-openapi examples, go-jira recordings): platform dates with
an offset without a colon (`2026-11-20T10:00:00.000+0000`), agile sprint dates with `Z`,
statusCategory keys new/indeterminate/done, Cloud users by accountId, ADF descriptions, and a
changelog of every status, Sprint, story point, assignee, fix version, flag, link and worklog
change. The story points live in `customfield_10016` ("Story point estimate", jsw-story-points);
the site also has the company-managed "Story Points" field (`customfield_10026`), unused here.
The site's configuration (field ids, the /field catalogue, status/type/priority/resolution ids) is
in `syncd.sandbox.gen_jira_catalog`; this module renders the simulated work against it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from syncd.sandbox import gen_text
from syncd.sandbox.gen_jira_catalog import (
    CATEGORIES,
    EPIC_LINK_FIELD,
    FLAGGED_FIELD,
    ISSUE_TYPES,
    POINTS_FIELD,
    PRIORITIES,
    RANK_FIELD,
    RESOLUTIONS,
    SPRINT_FIELD,
    STATUS_IDS,
    _fields,
)
from syncd.sandbox.timeline import CATEGORY, Item, Person, Project, Sprint, Version
from syncd.sandbox.world import JiraWorld

Json = dict[str, Any]
TRACKED = {"status", "Sprint", "Story point estimate", "assignee", "Fix Version", "priority", "labels", "Component",
           "duedate", "Flagged", "IssueParentAssociation", "Parent", "Epic Link", "Link"}  # what the connector maps


def jira_time(moment: datetime) -> str:
    """Platform timestamp of a UTC time: `2026-11-20T10:00:00.000+0000`."""
    return moment.isoformat(timespec="milliseconds")[:23] + "+0000"


def agile_time(moment: datetime) -> str:
    """Agile timestamp of a UTC time: `2026-11-20T10:00:00.000Z`."""
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


@dataclass
class Rendered:
    """The Jira site plus what was counted while rendering it."""

    world: JiraWorld
    links: int
    transitions: int


class _Renderer:
    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.plan, self.rng = plan, rng
        self.world = JiraWorld()
        self.base = self.world.base_url.rstrip("/")
        self.users: dict[int, Json] = {}
        self.sprint_values: dict[int, Json] = {}
        self.version_refs: dict[int, Json] = {}
        self.refs: dict[int, Json] = {}
        self.history_id = 10000
        self.worklog_id = 10000
        self.transitions = 0
        self.links = 0
        b = self.base
        self.statuses = {name: {"self": f"{b}/rest/api/3/status/{sid}", "description": f"{name} status",
                                "iconUrl": f"{b}/images/icons/statuses/generic.png", "name": name,
                                "untranslatedName": name, "id": sid,
                                "statusCategory": self.category(CATEGORY[name])}
                         for name, sid in STATUS_IDS.items()}
        self.types = {name: {"self": f"{b}/rest/api/3/issuetype/{tid}", "id": tid, "description": desc,
                             "iconUrl": f"{b}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{tid}?size=medium",
                             "name": name, "subtask": name == "Sub-task", "avatarId": int(tid), "hierarchyLevel": level}
                      for name, (tid, level, desc) in ISSUE_TYPES.items()}
        self.priorities = {name: {"self": f"{b}/rest/api/3/priority/{pid}", "iconUrl":
                                  f"{b}/images/icons/priorities/{name.lower()}.svg", "name": name, "id": pid}
                           for name, pid in PRIORITIES.items()}
        self.resolutions = {name: {"self": f"{b}/rest/api/3/resolution/{rid}", "id": rid,
                                   "description": f"Work on this issue is {name.lower()}.", "name": name}
                            for name, rid in RESOLUTIONS.items()}
        self.blocks_type = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks",
                            "self": f"{b}/rest/api/3/issueLinkType/10000"}
        self.relates_type = {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to",
                             "self": f"{b}/rest/api/3/issueLinkType/10003"}
        self.flag_value = [{"self": f"{b}/rest/api/3/customFieldOption/10019", "value": "Impediment", "id": "10019"}]

    def category(self, key: str) -> Json:
        cid, color, name = CATEGORIES[key]
        return {"self": f"{self.base}/rest/api/3/statuscategory/{cid}", "id": cid, "key": key, "colorName": color,
                "name": name}

    def user(self, person: Person | None) -> Json | None:
        if person is None:
            return None
        found = self.users.get(id(person))
        if found is None:
            app = person is self.plan.automation
            found = {"self": f"{self.base}/rest/api/3/user?accountId={person.account_id}",
                     "accountId": person.account_id,
                     "avatarUrls": {f"{n}x{n}": f"https://avatar-management.example/initials/{person.account_id[-6:]}.png?size={n}"
                                    for n in (48, 24, 16, 32)},
                     "displayName": person.name, "active": True, "timeZone": "UTC",
                     "accountType": "app" if app else "atlassian"}
            if person.email:
                found["emailAddress"] = person.email
            self.users[id(person)] = found
            self.world.users[person.account_id] = found
        return found

    # -- agile objects --------------------------------------------------------------------------

    def sprint(self, sprint: Sprint) -> Json:
        payload: Json = {"id": sprint.id, "self": f"{self.base}/rest/agile/1.0/sprint/{sprint.id}", "state": sprint.state,
                         "name": sprint.name}
        if sprint.start is not None and sprint.end is not None:
            payload["startDate"], payload["endDate"] = agile_time(sprint.start), agile_time(sprint.end)
        if sprint.complete is not None:
            payload["completeDate"] = agile_time(sprint.complete)
        if sprint.created is not None:  # Jira Cloud's agile sprint carries when it was created
            payload["createdDate"] = agile_time(sprint.created)
        payload["originBoardId"] = sprint.board
        if sprint.goal:
            payload["goal"] = sprint.goal
        value = {"id": sprint.id, "name": sprint.name, "state": sprint.state, "boardId": sprint.board,
                 "goal": sprint.goal or ""}
        for key in ("startDate", "endDate", "completeDate"):
            if key in payload:
                value[key] = payload[key]
        self.sprint_values[sprint.id] = value
        return payload

    def version(self, project: Project, v: Version) -> Json:
        payload: Json = {"self": f"{self.base}/rest/api/3/version/{v.id}", "id": str(v.id), "description": v.description,
                         "name": v.name, "archived": False, "released": v.released}
        if v.release is not None:
            payload["releaseDate"] = v.release.isoformat()
        self.version_refs[v.id] = dict(payload)
        payload.update({"startDate": v.start.isoformat(), "userStartDate": f"{v.start.day}/{v.start:%b/%y}",
                        "projectId": project.id})
        if v.release is not None:
            payload["userReleaseDate"] = f"{v.release.day}/{v.release:%b/%y}"
            payload["overdue"] = not v.released and v.release < self.plan.now.date()
        return payload

    def board(self, board_id: int, name: str, kind: str, project: Project) -> None:
        self.world.boards[board_id] = {
            "id": board_id, "self": f"{self.base}/rest/agile/1.0/board/{board_id}", "name": name, "type": kind,
            "location": {"projectId": project.id, "displayName": f"{project.name} ({project.key})",
                         "projectName": project.name, "projectKey": project.key, "projectTypeKey": "software",
                         "avatarURI": f"{self.base}/rest/api/2/universal_avatar/view/type/project/avatar/10400?size=small",
                         "name": f"{project.name} ({project.key})"},
            "isPrivate": False,
        }
        columns = [("Backlog" if kind == "kanban" else "To Do", ["To Do"]), ("In Progress", ["In Progress", "Blocked"]),
                   ("In Review", ["In Review", "QA"]), ("Done", ["Done"])]
        self.world.board_config[board_id] = {
            "id": board_id, "name": name, "type": kind, "self": f"{self.base}/rest/agile/1.0/board/{board_id}/configuration",
            "location": {"type": "project", "key": project.key, "id": str(project.id),
                         "self": f"{self.base}/rest/api/2/project/{project.id}", "name": project.name},
            "filter": {"id": str(10000 + board_id), "self": f"{self.base}/rest/api/2/filter/{10000 + board_id}"},
            "subQuery": {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"} if kind == "kanban" else {},
            "columnConfig": {"columns": [{"name": col, "statuses": [
                {"id": STATUS_IDS[s], "self": f"{self.base}/rest/api/2/status/{STATUS_IDS[s]}"} for s in statuses]}
                for col, statuses in columns], "constraintType": "issueCount"},
            "estimation": {"type": "field", "field": {"fieldId": POINTS_FIELD, "displayName": "Story point estimate"}},
            "ranking": {"rankCustomFieldId": 10019},
        }

    # -- issues -----------------------------------------------------------------------------------

    def ref(self, item: Item) -> Json:
        found = self.refs.get(item.id)
        if found is None:
            found = self.refs[item.id] = {
                "id": str(item.id), "key": item.key, "self": f"{self.base}/rest/api/3/issue/{item.id}",
                "fields": {"summary": item.summary, "status": self.statuses[item.status],
                           "priority": self.priorities[item.priority], "issuetype": self.types[item.kind]}}
        return found

    def change_items(self, field: str, old: Any, new: Any) -> list[Json]:
        if field == "status":
            return [_item("status", "jira", "status", STATUS_IDS[old], old, STATUS_IDS[new], new)]
        if field == "resolution":
            return [_item("resolution", "jira", "resolution", RESOLUTIONS.get(old), old, RESOLUTIONS.get(new), new)]
        if field == "sprint":
            return [_item("Sprint", "custom", SPRINT_FIELD, ", ".join(str(s.id) for s in old),
                          ", ".join(s.name for s in old), ", ".join(str(s.id) for s in new), ", ".join(s.name for s in new))]
        if field == "points":
            return [_item("Story point estimate", "custom", POINTS_FIELD, None, _num(old), None, _num(new))]
        if field == "assignee":
            return [_item("assignee", "jira", "assignee", old.account_id if old else None, old.name if old else None,
                          new.account_id if new else None, new.name if new else None)]
        if field == "fix_version":
            return [_item("Fix Version", "jira", "fixVersions", str(old.id) if old else None, old.name if old else None,
                          str(new.id) if new else None, new.name if new else None)]
        if field == "duedate":
            return [_item("duedate", "jira", "duedate", _day(old), _day(old) and f"{old:%Y-%m-%d} 00:00:00.0",
                          _day(new), _day(new) and f"{new:%Y-%m-%d} 00:00:00.0")]
        if field == "flagged":
            return [_item("Flagged", "custom", FLAGGED_FIELD, "[10019]" if old else None, "Impediment" if old else None,
                          "[10019]" if new else None, "Impediment" if new else None)]
        if field == "timespent":
            self.worklog_id += 1
            return [_item("timespent", "jira", "timespent", str(old) if old else None, str(old) if old else None,
                          str(new), str(new)),
                    _item("WorklogId", "jira", "worklogId", None, None, str(self.worklog_id), str(self.worklog_id))]
        if field == "link":
            verb, other = new
            return [{"field": "Link", "fieldtype": "jira", "from": None, "fromString": None, "to": other.key,
                     "toString": f"This issue {verb} {other.key}"}]
        raise ValueError(f"unknown change field {field!r}")

    def histories(self, item: Item) -> list[Json]:
        out = []
        automation = self.user(self.plan.automation)
        for change in sorted(item.changes, key=lambda c: c.at):
            self.history_id += 1
            rows = [row for f, old, new in change.items for row in self.change_items(f, old, new)]
            self.transitions += sum(1 for row in rows if row["field"] in TRACKED)
            out.append({"id": str(self.history_id), "author": self.user(change.author) or automation,
                        "created": jira_time(change.at), "items": rows})
        return out

    def issue(self, project: Project, item: Item, project_ref: Json, components: dict[str, Json]) -> Json:
        b, rng = self.base, self.rng
        links = [{"id": str(20000 + self._link_id(item, blocked)), "self": "",
                  "type": self.blocks_type, "outwardIssue": self.ref(blocked)} for blocked in item.blocks]
        links += [{"id": str(20000 + self._link_id(blocker, item)), "self": "", "type": self.blocks_type,
                   "inwardIssue": self.ref(blocker)} for blocker in self.blocked_by.get(item.id, [])]
        links += [{"id": str(20000 + self._link_id(item, other)), "self": "", "type": self.relates_type,
                   "outwardIssue": self.ref(other)} for other in item.relates]
        links += [{"id": str(20000 + self._link_id(other, item)), "self": "", "type": self.relates_type,
                   "inwardIssue": self.ref(other)} for other in self.related_by.get(item.id, [])]
        for link in links:
            link["self"] = f"{b}/rest/api/3/issueLink/{link['id']}"
        parent = item.parent or (item.epic if item.epic is not None and not item.legacy_epic_link else None)
        spent = item.timespent or None
        fields: Json = {
            "statuscategorychangedate": jira_time(item.category_changed or item.created),
            "issuetype": self.types[item.kind], "timespent": spent, "project": project_ref,
            "fixVersions": [self.version_refs[v.id] for v in item.versions], "aggregatetimespent": spent,
            "resolution": self.resolutions[item.resolution] if item.resolution else None,
            EPIC_LINK_FIELD: item.epic.key if item.epic is not None and item.legacy_epic_link else None,
            "customfield_10015": None,
            "resolutiondate": jira_time(item.resolved) if item.resolved else None, "workratio": -1,
            "watches": {"self": f"{b}/rest/api/3/issue/{item.key}/watchers", "watchCount": 1, "isWatching": False},
            "lastViewed": None, "created": jira_time(item.created),
            SPRINT_FIELD: [self.sprint_values[s.id] for s in item.sprints] or None,
            FLAGGED_FIELD: self.flag_value if item.flagged else None,
            "priority": self.priorities[item.priority], "labels": list(item.labels), POINTS_FIELD: item.points,
            RANK_FIELD: f"0|i{item.id:05x}:", "customfield_10026": None, "timeestimate": None,
            "aggregatetimeoriginalestimate": None, "versions": [], "issuelinks": links,
            "assignee": self.user(item.assignee), "updated": jira_time(item.updated or item.created),
            "status": self.statuses[item.status], "components": [components[c] for c in item.components],
            "timeoriginalestimate": None,
            "description": gen_text.description(rng, item.kind, item.summary, item.acceptance, item.note),
            "timetracking": {"timeSpent": f"{spent // 3600}h", "timeSpentSeconds": spent} if spent else {},
            "security": None, "attachment": [], "aggregatetimeestimate": None, "summary": item.summary,
            "creator": self.user(item.reporter), "subtasks": [self.ref(s) for s in item.children if item.kind != "Epic"],
            "reporter": self.user(item.reporter),
            "aggregateprogress": {"progress": spent or 0, "total": spent or 0, **({"percent": 100} if spent else {})},
            "environment": None, "duedate": item.due.isoformat() if item.due else None,
            "progress": {"progress": spent or 0, "total": spent or 0, **({"percent": 100} if spent else {})},
            "votes": {"self": f"{b}/rest/api/3/issue/{item.key}/votes", "votes": 0, "hasVoted": False},
            "comment": {"comments": [], "self": f"{b}/rest/api/3/issue/{item.id}/comment", "maxResults": 0,
                        "total": 0, "startAt": 0},
            "worklog": {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []},
        }
        if parent is not None:
            fields["parent"] = self.ref(parent)
        histories = self.histories(item)
        return {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                "id": str(item.id), "self": f"{b}/rest/api/3/issue/{item.id}", "key": item.key, "fields": fields,
                "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                              "histories": histories}}

    def _link_id(self, blocker: Item, blocked: Item) -> int:
        key = (blocker.id, blocked.id)
        if key not in self.link_ids:
            self.link_ids[key] = len(self.link_ids) + 1
            self.links += 1
        return self.link_ids[key]

    # -- the site ---------------------------------------------------------------------------------

    def render(self) -> Rendered:
        w, b, plan = self.world, self.base, self.plan
        self.link_ids: dict[tuple[int, int], int] = {}
        self.blocked_by: dict[int, list[Item]] = {}
        self.related_by: dict[int, list[Item]] = {}
        for project in plan.projects:
            for item in project.items:
                for blocked in item.blocks:
                    self.blocked_by.setdefault(blocked.id, []).append(item)
                for other in item.relates:
                    self.related_by.setdefault(other.id, []).append(item)
        w.statuses = list(self.statuses.values())
        w.fields = _fields()
        w.issue_types = [{**t, "untranslatedName": t["name"]} for t in self.types.values()]
        admin = Person(name="Demo Admin", account_id="712020:00000000-0000-4000-8000-00000000d3m0",
                       email=w.email, login="")
        w.myself = {**(self.user(admin) or {}), "locale": "en_US", "groups": {"size": 2, "items": []},
                    "applicationRoles": {"size": 1, "items": []}}
        w.server_info = {"baseUrl": b, "displayUrl": b, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                         "deploymentType": "Cloud", "buildNumber": 100276, "buildDate": "2026-01-05T00:00:00.000+0000",
                         "serverTime": jira_time(plan.now), "scmInfo": "a7c1e1f2b3d4c5e6f708192a3b4c5d6e7f809102",
                         "serverTitle": "Acme Jira", "defaultLocale": {"locale": "en_US"}, "serverTimeZone": "Etc/UTC"}
        for person in [*plan.people, plan.automation]:
            self.user(person)
        for project in plan.projects:
            for sprint in project.sprints:
                w.sprints[sprint.id] = self.sprint(sprint)
            w.versions[project.key] = [self.version(project, v) for v in project.versions]
            self.board(project.board_id, f"{project.key} board", "scrum" if project.scrum else "kanban", project)
        for board_id, name, key in plan.extra_boards:
            self.board(board_id, name, "kanban", next(p for p in plan.projects if p.key == key))
        for project in plan.projects:
            components = {name: {"self": f"{b}/rest/api/3/component/{project.id * 10 + n}",
                                 "id": str(project.id * 10 + n), "name": name}
                          for n, name in enumerate(gen_text.PROJECT_WORDS[project.key][1])}
            avatars = {f"{n}x{n}": f"{b}/rest/api/3/universal_avatar/view/type/project/avatar/10400?size={n}"
                       for n in (48, 24, 16, 32)}
            ref = {"self": f"{b}/rest/api/3/project/{project.id}", "id": str(project.id), "key": project.key,
                   "name": project.name, "projectTypeKey": "software", "simplified": False, "avatarUrls": avatars}
            w.projects[project.key] = {
                "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight", **ref,
                "description": f"The {project.name} product", "lead": self.user(project.lead),
                "components": [{**c, "isAssigneeTypeValid": False, "description": f"{c['name']} area"}
                               for c in components.values()],
                "issueTypes": list(self.types.values()), "assigneeType": "UNASSIGNED",
                "versions": w.versions[project.key], "roles": {}, "style": "classic", "isPrivate": False,
                "properties": {}, "url": f"https://{project.key.lower()}.acme.example",
            }
            for item in sorted(project.items, key=lambda i: i.id):
                w.issues[str(item.id)] = self.issue(project, item, ref, components)
        return Rendered(world=w, links=self.links, transitions=self.transitions)


def _item(field: str, fieldtype: str, field_id: str, frm: str | None, frm_s: str | None, to: str | None,
          to_s: str | None) -> Json:
    return {"field": field, "fieldtype": fieldtype, "fieldId": field_id, "from": frm, "fromString": frm_s,
            "to": to, "toString": to_s}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _num(value: float | None) -> str | None:
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def render(plan: Any, rng: random.Random) -> Rendered:
    """The Jira site of `plan` (items must have ids and keys)."""
    return _Renderer(plan, rng).render()
