"""The configuration of the generated Jira Cloud site: the ids of its fields, statuses, status
categories, issue types, priorities and resolutions, and its /rest/api/3/field catalogue.

`syncd.sandbox.generate_jira` renders the simulated work against these. A field entry has the
shape of `GET /rest/api/3/field` (FieldDetails in ../shared/realdata/jira-openapi); the ids are
fixed choices of the sandbox, so tests can name them: story points in `customfield_10016`
(jsw-story-points), Sprint in `customfield_10020` (gh-sprint), the company-managed "Story Points"
in `customfield_10026`, unused.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
POINTS_FIELD, SPRINT_FIELD, EPIC_LINK_FIELD, FLAGGED_FIELD, RANK_FIELD = (
    "customfield_10016", "customfield_10020", "customfield_10014", "customfield_10021", "customfield_10019")
STATUS_IDS = {"To Do": "10000", "In Progress": "3", "Blocked": "10003", "In Review": "10001", "QA": "10002",
              "Done": "10004"}
CATEGORIES = {"new": (2, "blue-gray", "To Do"), "indeterminate": (4, "yellow", "In Progress"),
              "done": (3, "green", "Done")}
ISSUE_TYPES = {"Epic": ("10000", 1, "A big user story that needs to be broken down."),
               "Story": ("10001", 0, "A user story."), "Task": ("10002", 0, "A small, distinct piece of work."),
               "Bug": ("10003", 0, "A problem or error."), "Sub-task": ("10004", -1, "A part of a larger task.")}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Duplicate": "10002"}


def _fields() -> list[Json]:
    """/rest/api/3/field: the system fields syncd reads and the custom fields of a Jira Software site."""
    def system(fid: str, name: str, kind: str, items: str | None = None) -> Json:
        schema: Json = {"type": kind, "system": fid}
        if items:
            schema["items"] = items
        return {"id": fid, "key": fid, "name": name, "custom": False, "orderable": True, "navigable": True,
                "searchable": True, "clauseNames": [fid], "schema": schema}

    def custom(num: int, name: str, kind: str, plugin: str, items: str | None = None) -> Json:
        schema: Json = {"type": kind, "custom": plugin, "customId": num}
        if items:
            schema["items"] = items
        return {"id": f"customfield_{num}", "key": f"customfield_{num}", "name": name, "untranslatedName": name,
                "custom": True, "orderable": True, "navigable": True, "searchable": True,
                "clauseNames": [f"cf[{num}]", name, f"{name}[{kind.capitalize()}]"], "schema": schema}

    gh = "com.pyxis.greenhopper.jira:"
    cf = "com.atlassian.jira.plugin.system.customfieldtypes:"
    return [
        system("summary", "Summary", "string"), system("status", "Status", "status"),
        system("issuetype", "Issue Type", "issuetype"), system("priority", "Priority", "priority"),
        system("labels", "Labels", "array", "string"), system("components", "Components", "array", "component"),
        system("assignee", "Assignee", "user"), system("reporter", "Reporter", "user"),
        system("creator", "Creator", "user"), system("created", "Created", "datetime"),
        system("updated", "Updated", "datetime"), system("resolutiondate", "Resolved", "datetime"),
        system("resolution", "Resolution", "resolution"), system("duedate", "Due date", "date"),
        system("parent", "Parent", "issuelink"), system("fixVersions", "Fix versions", "array", "version"),
        system("versions", "Affects versions", "array", "version"),
        system("issuelinks", "Linked Issues", "array", "issuelinks"), system("description", "Description", "string"),
        system("project", "Project", "project"), system("subtasks", "Sub-tasks", "array", "issuelinks"),
        system("timespent", "Time Spent", "number"), system("environment", "Environment", "string"),
        system("statuscategorychangedate", "Status Category Changed", "datetime"),
        custom(10000, "Development", "any", "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf"),
        custom(10014, "Epic Link", "any", gh + "gh-epic-link"),
        custom(10015, "Start date", "date", cf + "datepicker"),
        custom(10016, "Story point estimate", "number", gh + "jsw-story-points"),
        custom(10019, "Rank", "any", gh + "gh-lexo-rank"),
        custom(10020, "Sprint", "array", gh + "gh-sprint", "json"),
        custom(10021, "Flagged", "array", cf + "multicheckboxes", "option"),
        custom(10026, "Story Points", "number", cf + "float"),
    ]
