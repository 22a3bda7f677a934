"""A small hand-made Jira Cloud site for the sandbox tests, in the shapes of ../shared/realdata.

`make_world(issues=N)` builds two projects (WID with a scrum board, OPS with a kanban board),
sprints (closed, active, future), fix versions, epics with stories, links, and a changelog for
every issue (status, sprint and estimate changes). Issue WID-3 has 150 histories, more than Jira
Cloud embeds in a search result. Everything is derived from the arguments: same call, same world.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from syncd.sandbox.jira_shapes import agile_time, jira_time
from syncd.sandbox.world import GitHubWorld, JiraWorld, World

Json = dict[str, Any]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "http://127.0.0.1"  # payloads are written against this origin; the server rewrites it
EMAIL = "demo@example.com"
TOKEN = "sandbox-jira-token"
TZ = "America/Los_Angeles"
POINTS, SPRINT, EPIC_LINK, FLAGGED, RANK = "customfield_10016", "customfield_10020", "customfield_10014", \
    "customfield_10021", "customfield_10019"
BIG_HISTORY_KEY = "WID-3"
BIG_HISTORIES = 150


def _avatars(seed: str) -> Json:
    return {f"{n}x{n}": f"https://avatar-management.example/initials/{seed}.png?size={n}" for n in (48, 24, 16, 32)}


def user(account_id: str, name: str, email: str) -> Json:
    return {"self": f"{BASE}/rest/api/3/user?accountId={account_id}", "accountId": account_id,
            "emailAddress": email, "avatarUrls": _avatars(account_id[:4]), "displayName": name, "active": True,
            "timeZone": TZ, "accountType": "atlassian"}


def _field(fid: str, name: str, schema: Json, custom: bool = False, clause: list[str] | None = None,
           navigable: bool = True) -> Json:
    out = {"id": fid, "key": fid, "name": name, "custom": custom, "orderable": True, "navigable": navigable,
           "searchable": True, "clauseNames": clause or [fid], "schema": schema}
    return out


def fields() -> list[Json]:
    """/field: system fields the connector asks for plus the Jira Software custom fields."""
    system = [
        ("summary", "Summary", {"type": "string", "system": "summary"}, ["summary"]),
        ("status", "Status", {"type": "status", "system": "status"}, ["status"]),
        ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, ["issuetype", "type"]),
        ("priority", "Priority", {"type": "priority", "system": "priority"}, ["priority"]),
        ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, ["labels"]),
        ("components", "Components", {"type": "array", "items": "component", "system": "components"}, ["component"]),
        ("assignee", "Assignee", {"type": "user", "system": "assignee"}, ["assignee"]),
        ("reporter", "Reporter", {"type": "user", "system": "reporter"}, ["reporter"]),
        ("creator", "Creator", {"type": "user", "system": "creator"}, ["creator"]),
        ("created", "Created", {"type": "datetime", "system": "created"}, ["created", "createdDate"]),
        ("updated", "Updated", {"type": "datetime", "system": "updated"}, ["updated", "updatedDate"]),
        ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}, ["resolutiondate", "resolved"]),
        ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}, ["resolution"]),
        ("duedate", "Due date", {"type": "date", "system": "duedate"}, ["due", "duedate"]),
        ("parent", "Parent", {"type": "issuelink", "system": "parent"}, ["parent"]),
        ("fixVersions", "Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}, ["fixVersion"]),
        ("issuelinks", "Linked Issues", {"type": "array", "items": "issuelinks", "system": "issuelinks"}, ["issueLink"]),
        ("description", "Description", {"type": "string", "system": "description"}, ["description"]),
        ("project", "Project", {"type": "project", "system": "project"}, ["project"]),
    ]
    out = [_field(fid, name, schema, clause=clause) for fid, name, schema, clause in system]
    gh = "com.pyxis.greenhopper.jira:"
    out += [
        _field(POINTS, "Story point estimate", {"type": "number", "custom": f"{gh}jsw-story-points", "customId": 10016},
               True, ["cf[10016]", "Story point estimate"]),
        _field(SPRINT, "Sprint", {"type": "array", "items": "json", "custom": f"{gh}gh-sprint", "customId": 10020},
               True, ["cf[10020]", "Sprint"]),
        _field(EPIC_LINK, "Epic Link", {"type": "any", "custom": f"{gh}gh-epic-link", "customId": 10014},
               True, ["cf[10014]", "Epic Link"]),
        _field(FLAGGED, "Flagged", {"type": "array", "items": "option", "customId": 10021,
                                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes"},
               True, ["cf[10021]", "Flagged"]),
        _field(RANK, "Rank", {"type": "any", "custom": f"{gh}gh-lexo-rank", "customId": 10019},
               True, ["cf[10019]", "Rank"]),
    ]
    return out


_CATEGORIES = {"new": (2, "blue-gray", "To Do"), "indeterminate": (4, "yellow", "In Progress"),
               "done": (3, "green", "Done")}


def status(sid: str, name: str, category: str) -> Json:
    cid, color, cname = _CATEGORIES[category]
    return {"self": f"{BASE}/rest/api/3/status/{sid}", "description": "", "iconUrl": f"{BASE}/images/icons/status.png",
            "name": name, "id": sid, "statusCategory": {"self": f"{BASE}/rest/api/3/statuscategory/{cid}", "id": cid,
                                                        "key": category, "colorName": color, "name": cname}}


STATUSES = [status("10000", "To Do", "new"), status("3", "In Progress", "indeterminate"),
            status("10001", "In Review", "indeterminate"), status("10002", "Done", "done")]
TYPES = {name: {"self": f"{BASE}/rest/api/3/issuetype/{tid}", "id": tid, "description": "", "name": name,
                "subtask": False, "avatarId": 10300 + int(tid) % 100, "hierarchyLevel": level,
                "iconUrl": f"{BASE}/images/icons/issuetypes/{name.lower()}.svg"}
         for name, tid, level in (("Epic", "10000", 1), ("Story", "10001", 0), ("Bug", "10004", 0), ("Task", "10002", 0))}


def project(key: str, pid: str, name: str) -> Json:
    return {"self": f"{BASE}/rest/api/3/project/{pid}", "id": pid, "key": key, "name": name,
            "avatarUrls": _avatars(key), "projectTypeKey": "software", "simplified": False, "style": "classic",
            "isPrivate": False, "properties": {}}


def _adf(text: str) -> Json:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def make_world(issues: int = 30, ops_issues: int = 6, seed: int = 7, big_history: bool = True) -> World:
    """A site with `issues` WID issues (the first three are epics) and `ops_issues` OPS issues."""
    rnd = random.Random(seed)
    tz = ZoneInfo(TZ)
    people = [user("5b10a2844c20165700ede21g", "Mia Krystof", EMAIL), user("712020:aa11", "Alice Park", "alice@example.com"),
              user("712020:bb22", "Bob Osei", "bob@example.com"), user("712020:cc33", "Chen Wu", "chen@example.com")]
    jw = JiraWorld(base_url=BASE, email=EMAIL, api_token=TOKEN, timezone=TZ)
    jw.users = {u["accountId"]: u for u in people}
    jw.myself = {**people[0], "groups": {"size": 1, "items": []}, "applicationRoles": {"size": 1, "items": []}}
    jw.fields = fields()
    jw.statuses = [dict(s) for s in STATUSES]
    jw.projects = {"WID": project("WID", "10000", "Widgets"), "OPS": project("OPS", "10001", "Operations")}
    jw.server_info = {"baseUrl": BASE, "displayUrl": BASE, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                      "deploymentType": "Cloud", "buildNumber": 100273, "buildDate": "2026-11-01T00:00:00.000+0000",
                      "scmInfo": "4e6d6a1c8a2f", "serverTitle": "Jira"}
    location = {"projectId": 10000, "displayName": "Widgets (WID)", "projectName": "Widgets", "projectKey": "WID",
                "projectTypeKey": "software", "avatarURI": f"{BASE}/rest/api/2/universal_avatar/view/type/project/avatar/10400?size=small",
                "name": "Widgets (WID)"}
    jw.boards = {
        1: {"id": 1, "self": f"{BASE}/rest/agile/1.0/board/1", "name": "WID board", "type": "scrum", "location": location},
        2: {"id": 2, "self": f"{BASE}/rest/agile/1.0/board/2", "name": "OPS flow", "type": "kanban",
            "location": {**location, "projectId": 10001, "projectKey": "OPS", "projectName": "Operations",
                         "displayName": "Operations (OPS)", "name": "Operations (OPS)"}},
    }
    jw.board_config = {1: {
        "id": 1, "name": "WID board", "type": "scrum", "self": f"{BASE}/rest/agile/1.0/board/1/configuration",
        "location": {"type": "project", "key": "WID", "id": "10000", "self": f"{BASE}/rest/api/2/project/10000",
                     "name": "Widgets"},
        "filter": {"id": "10001", "self": f"{BASE}/rest/api/2/filter/10001"},
        "subQuery": {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"},
        "columnConfig": {"columns": [
            {"name": c, "statuses": [{"id": sid, "self": f"{BASE}/rest/api/2/status/{sid}"}], **({"max": 5} if c == "In Progress" else {})}
            for c, sid in (("To Do", "10000"), ("In Progress", "3"), ("In Review", "10001"), ("Done", "10002"))],
            "constraintType": "issueCount"},
        "estimation": {"type": "field", "field": {"fieldId": POINTS, "displayName": "Story point estimate"}},
        "ranking": {"rankCustomFieldId": 10019},
    }}
    start = NOW - timedelta(days=42)
    jw.sprints = {}
    for n, state in ((1, "closed"), (2, "closed"), (3, "active"), (4, "future")):
        sprint: Json = {"id": n, "self": f"{BASE}/rest/agile/1.0/sprint/{n}", "state": state, "name": f"WID Sprint {n}",
                        "originBoardId": 1}
        if state != "future":
            s0 = start + timedelta(days=14 * (n - 1))
            sprint.update({"startDate": agile_time(s0, tz), "endDate": agile_time(s0 + timedelta(days=14), tz)})
            if state == "closed":
                sprint["completeDate"] = agile_time(s0 + timedelta(days=14, hours=2), tz)
        if n in (3, 4):
            sprint["goal"] = f"Ship the sprint {n} slice"
        jw.sprints[n] = sprint
    jw.versions = {"WID": [
        {"self": f"{BASE}/rest/api/3/version/10100", "id": "10100", "description": "First release", "name": "1.0",
         "archived": False, "released": True, "releaseDate": "2026-10-30", "userReleaseDate": "30/Oct/26",
         "projectId": 10000},
        {"self": f"{BASE}/rest/api/3/version/10101", "id": "10101", "description": "Next release", "name": "1.1",
         "archived": False, "released": False, "releaseDate": "2026-12-18", "userReleaseDate": "18/Dec/26",
         "overdue": False, "projectId": 10000},
    ], "OPS": []}
    history_id = 20000
    epics: list[Json] = []
    plan = [("WID", n) for n in range(1, issues + 1)] + [("OPS", n) for n in range(1, ops_issues + 1)]
    for index, (pkey, number) in enumerate(plan):
        iid = str(10001 + index)
        created = start + timedelta(hours=7 * index + 1, minutes=rnd.randint(0, 59))
        kind = "Epic" if pkey == "WID" and number <= 3 else rnd.choice(["Story", "Story", "Bug", "Task"])
        reporter = people[index % 4]
        f: Json = {
            "summary": f"{kind} {pkey}-{number}: {rnd.choice(['checkout', 'search', 'billing', 'onboarding'])} work",
            "issuetype": TYPES[kind], "project": {k: jw.projects[pkey][k] for k in ("self", "id", "key", "name",
                                                                                   "projectTypeKey", "simplified", "avatarUrls")},
            "priority": {"self": f"{BASE}/rest/api/3/priority/3", "iconUrl": f"{BASE}/images/icons/priorities/medium.svg",
                         "name": "Medium", "id": "3"},
            "labels": sorted(rnd.sample(["backend", "frontend", "customer", "tech-debt"], rnd.randint(0, 2))),
            "components": [], "fixVersions": [], "issuelinks": [], "duedate": None,
            "assignee": people[(index + 1) % 4] if index % 5 else None, "reporter": reporter, "creator": reporter,
            "created": jira_time(created, tz), "resolution": None, "resolutiondate": None,
            "description": _adf(f"Acceptance criteria for {pkey}-{number}."), "status": jw.statuses[0],
            POINTS: None, SPRINT: None, EPIC_LINK: None, FLAGGED: None, RANK: f"0|i{index:05d}:",
        }
        issue: Json = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                       "id": iid, "self": f"{BASE}/rest/api/3/issue/{iid}", "key": f"{pkey}-{number}", "fields": f}
        histories: list[Json] = []
        moment = created

        def add(items: list[Json], author: Json, step: timedelta | None = None) -> None:
            nonlocal history_id, moment
            history_id += 1
            moment = moment + (step or timedelta(hours=rnd.randint(1, 20)))
            histories.append({"id": str(history_id), "author": author, "created": jira_time(moment, tz), "items": items})

        if kind == "Epic":
            epics.append(issue)
        elif pkey == "WID":
            points = rnd.choice([1, 2, 3, 5, 8])
            add([{"field": "Story point estimate", "fieldtype": "custom", "fieldId": POINTS, "from": None,
                  "fromString": None, "to": None, "toString": str(points)}], reporter)
            f[POINTS] = float(points)
            sprint_id = 1 + index % 4
            if sprint_id != 4 or index % 3:
                add([{"field": "Sprint", "fieldtype": "custom", "fieldId": SPRINT, "from": "", "fromString": "",
                      "to": str(sprint_id), "toString": f"WID Sprint {sprint_id}"}], people[0])
                f[SPRINT] = [{"id": sprint_id, "name": f"WID Sprint {sprint_id}"}]
            if epics and index % 3 != 1:
                epic = epics[index % len(epics)]
                f["parent"] = {"id": epic["id"], "key": epic["key"], "self": epic["self"],
                               "fields": {k: epic["fields"][k] for k in ("summary", "status", "priority", "issuetype")}}
            if index % 7 == 0 and index > 3:
                target = plan[index - 2]
                f["issuelinks"] = [{"id": str(30000 + index), "self": f"{BASE}/rest/api/3/issueLink/{30000 + index}",
                                    "type": {"id": "10000", "name": "Blocks", "inward": "is blocked by",
                                             "outward": "blocks", "self": f"{BASE}/rest/api/3/issueLinkType/10000"},
                                    "outwardIssue": {"id": str(10001 + index - 2), "key": f"{target[0]}-{target[1]}",
                                                     "self": f"{BASE}/rest/api/3/issue/{10001 + index - 2}",
                                                     "fields": {"summary": "blocked work", "status": jw.statuses[0]}}}]
            if index % 4 == 1:
                f["fixVersions"] = [{k: jw.versions["WID"][0][k] for k in ("self", "id", "description", "name",
                                                                          "archived", "released", "releaseDate")}]
        steps = 2 if issue["key"] == BIG_HISTORY_KEY else rnd.randint(0, 3)  # WID-3's oldest histories matter
        for step in range(steps):
            old, new = jw.statuses[step], jw.statuses[step + 1]
            items = [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": old["id"],
                      "fromString": old["name"], "to": new["id"], "toString": new["name"]}]
            if new["name"] == "Done":
                items.append({"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "from": None,
                              "fromString": None, "to": "10000", "toString": "Done"})
            add(items, f["assignee"] or reporter)
            f["status"] = new
            if new["name"] == "Done":
                f["resolution"] = {"self": f"{BASE}/rest/api/3/resolution/10000", "id": "10000",
                                   "description": "Work has been completed on this issue.", "name": "Done"}
                f["resolutiondate"] = histories[-1]["created"]
        if big_history and issue["key"] == BIG_HISTORY_KEY:
            for n in range(BIG_HISTORIES - len(histories)):
                add([{"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                      "fromString": f"round-{n}" if n else None, "to": None, "toString": f"round-{n + 1}"}],
                    people[1], timedelta(minutes=rnd.randint(1, 9)))
            f["labels"] = [histories[-1]["items"][0]["toString"]]
        f["updated"] = histories[-1]["created"] if histories else f["created"]
        issue["changelog"] = {"histories": histories}
        jw.issues[iid] = issue
    return World(seed=seed, now=NOW, jira=jw, github=GitHubWorld())


MODELLED_CHANGES = {"status", "Sprint", "Story point estimate", "assignee", "Fix Version", "priority", "labels",
                    "Component", "duedate", "Flagged", "IssueParentAssociation", "Parent", "Epic Link", "Link"}


def expected(world: World, projects: tuple[str, ...] = ("WID", "OPS")) -> Json:
    """What a sync of `projects` must store, counted from the world itself."""
    jw = world.jira
    live = [i for iid, i in jw.issues.items() if iid not in jw.deleted and i["fields"]["project"]["key"] in projects]
    return {
        "items": {i["id"]: i["key"] for i in live},
        "sprints": {str(sid) for sid, s in jw.sprints.items() if jw.boards[s["originBoardId"]]["type"] == "scrum"},
        "releases": {v["id"] for p in projects for v in jw.versions.get(p, [])},
        "links": sum(1 for i in live for link in i["fields"].get("issuelinks") or [] if "outwardIssue" in link),
        "transitions": {i["id"]: sum(1 for h in i["changelog"]["histories"] for item in h["items"]
                                     if item["field"] in MODELLED_CHANGES) for i in live},
        "sprint_ids": {i["id"]: sorted(str(s["id"]) for s in i["fields"].get(SPRINT) or []) for i in live},
    }
