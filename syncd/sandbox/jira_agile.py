"""The agile 1.0 routes of the fake Jira: boards, board configuration, sprints and sprint issues.

Shapes follow ../shared/realdata/jira-recorded (go-jira's recordings of real Jira): boards and
sprints are offset pages `{maxResults, startAt, total, isLast, values}`; a sprint's issues are a
search-style page `{expand, startAt, maxResults, total, issues}` whose issues carry the agile
fields (`sprint`, `closedSprints`, `flagged`, `epic`). A kanban board has no sprints: 400, as Jira.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from syncd.sandbox.jira_pages import JiraApiError, int_arg, offset_page
from syncd.sandbox.jira_shapes import FieldSelection, SiteShape, project_issue
from syncd.sandbox.jql import BoolOp, Clause, OrderBy, Query, Value, parse_jql
from syncd.sandbox.jql_eval import CompiledQuery
from syncd.sandbox.world import JiraWorld, Json

SPRINT_STATES = ("future", "active", "closed")


def agile_rules() -> list[Rule]:
    """Werkzeug rules of the agile routes (endpoints are `AgileRoutes.handle_*`)."""
    agile = "/rest/agile/1.0"
    return [
        Rule(f"{agile}/board", endpoint="boards"),
        Rule(f"{agile}/board/<int:board_id>", endpoint="board"),
        Rule(f"{agile}/board/<int:board_id>/configuration", endpoint="board_configuration"),
        Rule(f"{agile}/board/<int:board_id>/sprint", endpoint="board_sprints"),
        Rule(f"{agile}/sprint/<int:sprint_id>", endpoint="sprint"),
        Rule(f"{agile}/sprint/<int:sprint_id>/issue", endpoint="sprint_issues"),
    ]


class AgileRoutes:
    """Mixin of `JiraApp`: it supplies the world, JQL, projection and JSON helpers declared here."""

    jw: JiraWorld

    def json(self, request: Request, payload: Any, api: str | None = None, status: int = 200) -> Response:
        raise NotImplementedError

    def shape(self, request: Request, api: str) -> SiteShape:
        raise NotImplementedError

    def compile(self, jql: str | Query | None) -> CompiledQuery:
        raise NotImplementedError

    def live_issues(self) -> list[Json]:
        raise NotImplementedError

    def field_id(self, custom_suffix: str | None, *names: str) -> str | None:
        raise NotImplementedError

    def _board(self, board_id: int) -> Json:
        board = self.jw.boards.get(board_id)
        if board is not None and board_id in self.jw.hidden_boards:
            raise JiraApiError(403, "You do not have permission to view this board.")
        if board is None:
            raise JiraApiError(404, "The requested board cannot be viewed because it either does not exist or you "
                                    "do not have permission to view it.")
        return board

    def _sprint(self, sprint_id: int) -> Json:
        sprint = self.jw.sprints.get(sprint_id)
        if sprint is None:
            raise JiraApiError(404, "The requested sprint cannot be viewed because it either does not exist or you "
                                    "do not have permission to view it.")
        return sprint

    def handle_boards(self, request: Request) -> Response:
        boards = [b for _, b in sorted(self.jw.boards.items())]  # hidden ones too: their sprints answer 403
        wanted = request.args.get("projectKeyOrId")
        if wanted:
            project = next((p for k, p in self.jw.projects.items()
                            if wanted.upper() == k or wanted == str(p.get("id"))), None)
            if project is None:
                raise JiraApiError(400, f"No project could be found with key '{wanted}'.")
            boards = [b for b in boards if str((b.get("location") or {}).get("projectKey", "")).upper() == project["key"]
                      or str((b.get("location") or {}).get("projectId", "")) == str(project.get("id"))]
        types = {t.strip() for t in (request.args.get("type") or "").split(",") if t.strip()}
        if types:
            boards = [b for b in boards if b.get("type") in types]
        name = (request.args.get("name") or "").lower()
        boards = [b for b in boards if name in str(b.get("name", "")).lower()]
        return self.json(request, offset_page(request, boards, with_links=False))

    def handle_board(self, request: Request, board_id: int) -> Response:
        return self.json(request, self._board(board_id))

    def handle_board_configuration(self, request: Request, board_id: int) -> Response:
        board = self._board(board_id)
        config = self.jw.board_config.get(board_id)
        if config is None:
            config = self._derived_configuration(request, board)
        return self.json(request, config)

    def _derived_configuration(self, request: Request, board: Json) -> Json:
        """The configuration of a board the world gave none: one column per status category."""
        base = request.host_url.rstrip("/")
        columns = []
        for name, key in (("To Do", "new"), ("In Progress", "indeterminate"), ("Done", "done")):
            ids = [str(s["id"]) for s in self.jw.statuses if (s.get("statusCategory") or {}).get("key") == key]
            columns.append({"name": name, "statuses": [{"id": i, "self": f"{base}/rest/api/2/status/{i}"} for i in ids]})
        location = board.get("location") or {}
        config: Json = {
            "id": board["id"], "name": board.get("name"), "type": board.get("type", "scrum"),
            "self": f"{base}/rest/agile/1.0/board/{board['id']}/configuration",
            "location": {"type": "project", "key": location.get("projectKey"), "id": str(location.get("projectId")),
                         "self": f"{base}/rest/api/2/project/{location.get('projectId')}",
                         "name": location.get("projectName")},
            "filter": {"id": str(10000 + int(board["id"])), "self": f"{base}/rest/api/2/filter/{10000 + int(board['id'])}"},
            "columnConfig": {"columns": columns, "constraintType": "none"},
            "ranking": {"rankCustomFieldId": 10019},
        }
        points = self.field_id("jsw-story-points", "story point estimate", "story points")
        if points:
            config["estimation"] = {"type": "field", "field": {"fieldId": points, "displayName": "Story point estimate"}}
        return config

    def handle_board_sprints(self, request: Request, board_id: int) -> Response:
        board = self._board(board_id)
        if board.get("type") != "scrum":
            raise JiraApiError(400, "The board does not support sprints")
        states = [s.strip().lower() for s in (request.args.get("state") or "").split(",") if s.strip()]
        for state in states:
            if state not in SPRINT_STATES:
                raise JiraApiError(400, f"The sprint state '{state}' is not valid. Valid states are: future, active, "
                                        "closed.")
        also = set(self.jw.listed_sprints.get(board_id, ()))  # sprints of other boards this board shows
        sprints = [s for sid, s in sorted(self.jw.sprints.items())
                   if (s.get("originBoardId") == board_id or sid in also) and (not states or s.get("state") in states)]
        return self.json(request, offset_page(request, sprints, with_links=False))

    def handle_sprint(self, request: Request, sprint_id: int) -> Response:
        return self.json(request, self._sprint(sprint_id))

    def handle_sprint_issues(self, request: Request, sprint_id: int) -> Response:
        self._sprint(sprint_id)
        extra = parse_jql(request.args.get("jql") or "")
        in_sprint = Clause("sprint", "=", Value(str(sprint_id)), 1)
        where = in_sprint if extra.where is None else BoolOp("AND", (in_sprint, extra.where))
        query = self.compile(Query(where, extra.order or (OrderBy("rank"),)))
        start = int_arg(request.args, "startAt", 0)
        size = min(100, max(1, int_arg(request.args, "maxResults", 50)))
        sel = FieldSelection.parse(request.args.getlist("fields"), "*navigable")
        expand = {e.strip() for v in request.args.getlist("expand") for e in v.split(",") if e.strip()}
        ordered = query.sort(self.live_issues())
        shape = self.shape(request, "2")
        issues = [project_issue(i, sel, expand, shape, agile=True, envelope=True) for _, i in ordered[start:start + size]]
        return self.json(request, {"expand": "schema,names", "startAt": start, "maxResults": size,
                                   "total": len(ordered), "issues": issues})
