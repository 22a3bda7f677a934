"""Site shapes the sandbox can take besides a plain English Jira Software Cloud site (issue 17).

Real sites differ in ways a sync must survive; each mode reshapes a generated world into one of them:

- `zh-site`: a site in Chinese. Issue types and custom fields carry Chinese names (故事 Story, 缺陷 Bug,
  任务 Task, 长篇故事 Epic, 子任务 Sub-task; 冲刺 for the sprint field); `/issuetype` and `/field` keep the
  English `untranslatedName`, issue payloads carry only `name`, `subtask` and `hierarchyLevel`.
- `no-agile`: Jira Work Management / Core: no Jira Software, so every `/rest/agile/1.0` path is 404
  and the site has no sprint, epic-link or story-point-estimate fields.
- `hidden-board`: one scrum board is listed, but the API account may not read it (403).
- `text-sprint-field`: a text custom field named "Sprint" (`schema.custom` "x:sprint", values like
  "sprint-3"), listed before the real sprint field.
- `foreign-link`: issues linked from a project that is not synced (OTHER-35406 blocks one issue, with
  the far end's id; OTHER-35407 relates to another, without one).
- `cross-board-sprint`: a board lists a sprint of another board ("Emma Sprint 1" of "Emma board", a
  board of a project that is not synced), as Jira lists sprints shared through a board's filter.

`apply_site_modes(world, modes)` applies them (the CLI: `syncd sandbox --site-mode MODE`, repeatable) and
records what it did in `world.truth.extra["site_modes"]`, so tests can check a sync against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports SITE_MODES for its flag choices: keep this module light
    from syncd.sandbox.world import World

Json = dict[str, Any]

ZH_TYPES = {"Epic": "长篇故事", "Story": "故事", "Task": "任务", "Bug": "缺陷", "Sub-task": "子任务"}
ZH_FIELDS = {"Sprint": "冲刺", "Story point estimate": "故事点估算", "Epic Link": "长篇故事链接", "Flagged": "已标记",
             "Story Points": "故事点", "Rank": "排名", "Start date": "开始日期", "Development": "开发"}
TEXT_SPRINT_FIELD = "customfield_10100"
FOREIGN_BLOCKER = {"id": "35406", "key": "OTHER-35406"}
FOREIGN_RELATED = {"key": "OTHER-35407"}
# The far end as Jira's linked issue carries it (fields summary, status with statusCategory, priority,
# issuetype: the shape of IssueLink.outwardIssue/inwardIssue in Jira Cloud's platform v3 OpenAPI).
FOREIGN_FIELDS: dict[str, Any] = {
    "summary": "Another team's work",
    "status": {"self": "/rest/api/3/status/3", "description": "", "iconUrl": "/images/icons/statuses/inprogress.png",
               "name": "In Progress", "id": "3",
               "statusCategory": {"self": "/rest/api/3/statuscategory/4", "id": 4, "key": "indeterminate",
                                  "colorName": "yellow", "name": "In Progress"}},
    "priority": {"self": "/rest/api/3/priority/3", "iconUrl": "/images/icons/priorities/medium.svg", "name": "Medium", "id": "3"},
    "issuetype": {"self": "/rest/api/3/issuetype/10001", "id": "10001", "description": "A task that needs to be done.",
                  "iconUrl": "/images/icons/issuetypes/task.svg", "name": "Task", "subtask": False, "hierarchyLevel": 0},
}
SITE_MODES = ("zh-site", "no-agile", "hidden-board", "text-sprint-field", "foreign-link", "cross-board-sprint")


def apply_site_modes(world: World, modes: Iterable[str]) -> dict[str, Any]:
    """Reshape `world` (under its lock) into the given site modes; return (and record) what each mode did.

    Raises ValueError naming an unknown mode.
    """
    given = set(modes)
    for mode in sorted(given):
        if mode not in SITE_MODES:
            raise ValueError(f"unknown site mode {mode!r} (known: {', '.join(SITE_MODES)})")
    wanted = [m for m in SITE_MODES if m in given]  # one order, whatever order they were named in
    facts: dict[str, Any] = world.truth.extra.setdefault("site_modes", {})
    with world.lock:
        for mode in wanted:
            facts[mode] = _APPLY[mode](world)
        world.jira.revision += 1
    return facts


def _issues(world: World) -> list[Json]:
    return [world.jira.issues[k] for k in sorted(world.jira.issues, key=int)]


def _zh_site(world: World) -> Json:
    jw = world.jira
    english = {str(t["id"]): str(t.get("untranslatedName") or t["name"]) for t in jw.issue_types}
    for t in jw.issue_types:
        t["untranslatedName"] = english[str(t["id"])]
        t["name"] = ZH_TYPES.get(english[str(t["id"])], t["name"])
    translated = {str(t["id"]): t["name"] for t in jw.issue_types}

    def rename(node: Any) -> Any:
        """Issue type objects anywhere in an issue's fields (its own, its parent's, its links') renamed."""
        if isinstance(node, dict):
            out = {k: rename(v) for k, v in node.items()}
            if "subtask" in out and "hierarchyLevel" in out and str(out.get("id")) in translated:
                out["name"] = translated[str(out["id"])]
                out.pop("untranslatedName", None)
            return out
        if isinstance(node, list):
            return [rename(v) for v in node]
        return node

    kinds: dict[str, int] = {}
    for issue in _issues(world):
        issue["fields"] = {k: (rename(v) if k != "changelog" else v) for k, v in issue["fields"].items()}
        name = english.get(str((issue["fields"].get("issuetype") or {}).get("id")), "?")
        kinds[name] = kinds.get(name, 0) + 1
    for project in jw.projects.values():
        project["issueTypes"] = [dict(t) for t in jw.issue_types]
    for f in jw.fields:
        if f.get("custom") and f.get("name") in ZH_FIELDS:
            f["untranslatedName"] = f["name"]
            f["name"] = ZH_FIELDS[f["name"]]
    jw.myself["locale"] = "zh_CN"
    return {"types": translated, "issues_by_english_type": kinds}


def _no_agile(world: World) -> Json:
    jw = world.jira
    jw.agile = False
    software = ("com.pyxis.greenhopper.jira:",)
    dropped = [str(f["id"]) for f in jw.fields if str((f.get("schema") or {}).get("custom", "")).startswith(software)]
    jw.fields = [f for f in jw.fields if str(f["id"]) not in dropped]
    for issue in _issues(world):
        for fid in dropped:
            issue["fields"].pop(fid, None)
    return {"dropped_fields": dropped}


def _scrum_boards(world: World) -> list[int]:
    """The scrum boards of the site's own projects."""
    return [bid for bid, b in sorted(world.jira.boards.items())
            if b.get("type") == "scrum" and (b.get("location") or {}).get("projectKey") in world.jira.projects]


def _hidden_board(world: World) -> Json:
    boards = _scrum_boards(world)
    board = boards[-1]
    world.jira.hidden_boards.add(board)
    sprints = sorted(sid for sid, s in world.jira.sprints.items() if s.get("originBoardId") == board)
    return {"board": board, "sprints": sprints}


def _text_sprint_field(world: World) -> Json:
    jw = world.jira
    field: Json = {"id": TEXT_SPRINT_FIELD, "key": TEXT_SPRINT_FIELD, "name": "Sprint", "untranslatedName": "Sprint",
                   "custom": True, "orderable": True, "navigable": True, "searchable": True,
                   "clauseNames": ["cf[10100]", "Sprint"], "schema": {"type": "string", "custom": "x:sprint", "customId": 10100}}
    first_custom = next((n for n, f in enumerate(jw.fields) if f.get("custom")), len(jw.fields))
    jw.fields.insert(first_custom, field)
    issues = _issues(world)
    for n, issue in enumerate(issues):
        issue["fields"][TEXT_SPRINT_FIELD] = f"sprint-{n % 5 + 1}"
    return {"field": TEXT_SPRINT_FIELD, "issues": len(issues)}


def _foreign_link(world: World) -> Json:
    # open issues first, so the link from outside still blocks something a report looks at
    candidates = sorted((i for i in _issues(world) if (i["fields"].get("issuetype") or {}).get("hierarchyLevel") == 0),
                        key=lambda i: ((i["fields"].get("status") or {}).get("statusCategory") or {}).get("key") == "done")
    blocked, related = candidates[0], candidates[1]
    blocks = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"}
    relates = {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"}
    far_fields = FOREIGN_FIELDS
    blocked["fields"].setdefault("issuelinks", []).append(
        {"id": "93001", "type": blocks, "inwardIssue": {**FOREIGN_BLOCKER, "fields": far_fields}})
    related["fields"].setdefault("issuelinks", []).append(
        {"id": "93002", "type": relates, "inwardIssue": {**FOREIGN_RELATED, "fields": far_fields}})
    return {"blocked": {"id": str(blocked["id"]), "key": blocked["key"], "by": FOREIGN_BLOCKER},
            "related": {"id": str(related["id"]), "key": related["key"], "to": FOREIGN_RELATED}}


def _cross_board_sprint(world: World) -> Json:
    jw = world.jira
    lister = _scrum_boards(world)[0]
    origin = max(jw.boards) + 1
    jw.boards[origin] = {"id": origin, "self": f"{jw.base_url}/rest/agile/1.0/board/{origin}", "name": "Emma board",
                         "type": "scrum", "isPrivate": False,
                         "location": {"projectId": 19999, "projectKey": "EMMA", "projectName": "Emma",
                                      "displayName": "Emma (EMMA)", "name": "Emma (EMMA)", "projectTypeKey": "software"}}
    sprint_id = max(jw.sprints, default=0) + 1
    model = jw.sprints[max(jw.sprints)] if jw.sprints else {}
    sprint: Json = {"id": sprint_id, "self": f"{jw.base_url}/rest/agile/1.0/sprint/{sprint_id}", "state": "closed",
                    "name": "Emma Sprint 1", "originBoardId": origin, "goal": ""}
    for key in ("startDate", "endDate", "completeDate", "createdDate"):
        if model.get(key):
            sprint[key] = model[key]
    if sprint.get("completeDate") is None:
        sprint["state"] = "future"
        for key in ("startDate", "endDate"):
            sprint.pop(key, None)
    jw.sprints[sprint_id] = sprint
    jw.listed_sprints.setdefault(lister, []).append(sprint_id)
    world.truth.jira_sprints += 1
    return {"sprint": sprint_id, "listed_by": lister, "lister_name": jw.boards[lister]["name"],
            "origin": origin, "origin_name": "Emma board"}


_APPLY = {"zh-site": _zh_site, "no-agile": _no_agile, "hidden-board": _hidden_board,
          "text-sprint-field": _text_sprint_field, "foreign-link": _foreign_link, "cross-board-sprint": _cross_board_sprint}
