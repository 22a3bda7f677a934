"""Jira mapping on the site shapes of issue 17: another language, fields by schema, foreign links, sprint boards.

Fixtures are hand-written in the shapes quoted in the issue (a Chinese Cloud site's issue type, a text
field named "Sprint", a link from a project that is not synced, a board listing another board's sprint),
plus the Atlassian OpenAPI examples of /issuetype and /board/{id}/sprint from ../shared/realdata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors.jira_changelog import transitions_from_histories
from syncd.connectors.jira_fields import (
    FieldMap,
    field_map_from_fields,
    item_kind,
    kind_overrides,
    type_names_from_issuetypes,
)
from syncd.connectors.jira_mapping import item_from_jira, links_from_issue, sprint_from_jira
from syncd.model import ItemKind, LinkKind, StatusCategory, TransitionField

GH = "com.pyxis.greenhopper.jira:"
CF = "com.atlassian.jira.plugin.system.customfieldtypes:"

# /rest/api/3/issuetype of a site in Chinese, as the issue quotes it: English names in untranslatedName
ZH_TYPES = [
    {"id": "10000", "name": "长篇故事", "untranslatedName": "Epic", "subtask": False, "hierarchyLevel": 1},
    {"id": "10001", "name": "故事", "untranslatedName": "Story", "subtask": False, "hierarchyLevel": 0},
    {"id": "10002", "name": "任务", "untranslatedName": "Task", "subtask": False, "hierarchyLevel": 0},
    {"id": "10003", "name": "缺陷", "untranslatedName": "Bug", "subtask": False, "hierarchyLevel": 0},
    {"id": "10004", "name": "子任务", "untranslatedName": "Subtask", "subtask": True, "hierarchyLevel": -1},
    {"id": "10005", "name": "需求", "untranslatedName": "Requirement", "subtask": False, "hierarchyLevel": 0},
]


def issue(issuetype: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": "10042", "key": "WID-42", "fields": {
        "summary": "checkout", "project": {"key": "WID"}, "issuetype": issuetype,
        "status": {"name": "进行中", "statusCategory": {"key": "indeterminate"}},
        "created": "2026-11-01T09:00:00.000+0800", "updated": "2026-11-20T10:00:00.000+0800", **fields}}


def test_issue_types_in_chinese_get_their_kinds_from_untranslated_names_and_hierarchy() -> None:
    fm = FieldMap(type_names=type_names_from_issuetypes(ZH_TYPES))
    # the payload carries only the translated name: the kind comes from /issuetype's untranslatedName
    story = {"id": "10001", "name": "故事", "subtask": False, "hierarchyLevel": 0}
    bug = {"id": "10003", "name": "缺陷", "subtask": False, "hierarchyLevel": 0}
    assert fm.kind_of(story) == ItemKind.STORY
    assert fm.kind_of(bug) == ItemKind.BUG
    assert fm.kind_of({"id": "10002", "name": "任务", "hierarchyLevel": 0}) == ItemKind.TASK
    # hierarchy level alone decides epics and sub-tasks, whatever the name
    assert fm.kind_of({"id": "99", "name": "史诗", "hierarchyLevel": 1}) == ItemKind.EPIC
    assert fm.kind_of({"id": "98", "name": "小任务", "hierarchyLevel": -1}) == ItemKind.SUBTASK
    assert fm.kind_of({"id": "97", "name": "x", "subtask": True}) == ItemKind.SUBTASK
    # without /issuetype the Chinese name says nothing: that was the bug (a bug became a task)
    assert FieldMap().kind_of(bug) == ItemKind.TASK
    mapped = item_from_jira("acme", issue(bug), fm, "https://acme.atlassian.net")
    assert mapped.item.kind == ItemKind.BUG


def test_the_override_map_names_custom_types_by_name_untranslated_name_or_id() -> None:
    types = type_names_from_issuetypes(ZH_TYPES)
    overrides = kind_overrides({"Requirement": "story", "缺陷": "task", "10002": "bug"})
    requirement = {"id": "10005", "name": "需求", "hierarchyLevel": 0}
    assert item_kind(requirement, type_names=types) == ItemKind.TASK  # an unknown custom type
    assert item_kind(requirement, type_names=types, overrides=overrides) == ItemKind.STORY  # by untranslatedName
    assert item_kind({"id": "10003", "name": "缺陷", "hierarchyLevel": 0}, type_names=types,
                     overrides=overrides) == ItemKind.TASK  # by the translated name, over the built-in Bug
    assert item_kind({"id": "10002", "name": "任务"}, type_names=types, overrides=overrides) == ItemKind.BUG  # by id
    # an epic's parent-of check uses the same facts: a child of a 长篇故事 rolls up to it
    fm = FieldMap(type_names=types)
    child = issue({"id": "10001", "name": "故事", "hierarchyLevel": 0},
                  parent={"id": "10001", "key": "WID-1", "fields": {"issuetype": {"id": "10000", "name": "长篇故事",
                                                                                    "hierarchyLevel": 1}}})
    assert item_from_jira("acme", child, fm, "https://x").item.epic_key == "WID-1"


def test_atlassian_issuetype_example_maps_by_name(realdata: Path) -> None:
    # Atlassian's /issuetype example (jira-platform-v3.examples.json) has no untranslatedName: names then decide
    examples = json.loads((realdata / "jira-openapi/jira-platform-v3.examples.json").read_text())
    types = examples["GET /rest/api/3/issuetype"]["200"]
    assert type_names_from_issuetypes(types) == {}
    assert [item_kind(t) for t in types] == [ItemKind.TASK, ItemKind.BUG]


def test_fields_are_found_by_schema_not_by_name() -> None:
    fields = [
        {"id": "customfield_10100", "name": "Sprint", "custom": True, "schema": {"type": "string", "custom": "x:sprint"}},
        {"id": "customfield_10101", "name": "Story Points", "custom": True, "schema": {"type": "string", "custom": CF + "textfield"}},
        {"id": "customfield_10102", "name": "Epic Link", "custom": True, "schema": {"type": "string", "custom": CF + "textfield"}},
        {"id": "customfield_10020", "name": "冲刺", "untranslatedName": "Sprint", "custom": True,
         "schema": {"type": "array", "items": "json", "custom": GH + "gh-sprint"}},
        {"id": "customfield_10014", "name": "长篇故事链接", "custom": True, "schema": {"type": "any", "custom": GH + "gh-epic-link"}},
        {"id": "customfield_10026", "name": "故事点", "untranslatedName": "Story Points", "custom": True,
         "schema": {"type": "number", "custom": CF + "float"}},
        {"id": "customfield_10021", "name": "已标记", "untranslatedName": "Flagged", "custom": True,
         "schema": {"type": "array", "custom": CF + "multicheckboxes"}},
    ]
    fm = field_map_from_fields(fields, issue_types=ZH_TYPES)
    assert (fm.sprint, fm.epic_link, fm.points, fm.flagged) == (
        "customfield_10020", "customfield_10014", "customfield_10026", "customfield_10021")
    assert fm.type_names["10003"] == "Bug"
    # Jira Software's own estimate field wins over a float field by name; a configured id over both
    with_jsw = [*fields, {"id": "customfield_10016", "name": "Story point estimate", "custom": True,
                          "schema": {"type": "number", "custom": GH + "jsw-story-points"}}]
    assert field_map_from_fields(with_jsw).points == "customfield_10016"
    assert field_map_from_fields(with_jsw, "customfield_10999").points == "customfield_10999"
    # the cursor keeps the issue types' English names with the field map
    assert FieldMap.from_json(fm.to_json()).type_names == fm.type_names


def test_a_text_field_named_sprint_skips_no_issue() -> None:
    fields = [{"id": "customfield_10100", "name": "Sprint", "custom": True, "schema": {"type": "string", "custom": "x:sprint"}}]
    assert field_map_from_fields(fields).sprint is None
    payload = issue({"id": "1", "name": "Story"}, customfield_10100="sprint-3")
    assert item_from_jira("acme", payload, field_map_from_fields(fields), "https://x").item.sprint_ids == []
    # a sprint field whose value has the wrong shape (configured so, or a site's odd plugin) is left out with
    # the reason, and the issue is kept
    fm = FieldMap(sprint="customfield_10100", epic_link="customfield_10014", points="customfield_10016")
    odd = issue({"id": "1", "name": "Story"}, customfield_10100="sprint-3", customfield_10014={"key": "WID-1"},
                customfield_10016={"value": 5})
    mapped = item_from_jira("acme", odd, fm, "https://x")
    assert mapped.item.key == "WID-42" and mapped.item.sprint_ids == [] and mapped.item.epic_key is None
    assert mapped.item.estimate is None
    assert mapped.ignored == {"customfield_10100": "expected a list, got a string",
                              "customfield_10014": "expected a string, got an object",
                              "customfield_10016": "expected a number, got an object"}
    good = issue({"id": "1", "name": "Story"}, customfield_10100=[{"id": 7, "name": "S7", "state": "active"}])
    assert item_from_jira("acme", good, fm, "https://x").item.sprint_ids == ["acme:sprint:7"]
    # its changes in the changelog are not sprint moves: the history names the field by id
    histories = [{"id": "1", "created": "2026-11-02T10:00:00.000+0000", "items": [
        {"field": "Sprint", "fieldId": "customfield_10100", "fromString": "sprint-2", "toString": "sprint-3"},
        {"field": "Sprint", "fieldId": "customfield_10020", "from": "", "to": "7", "toString": "S7"}]}]
    rows = list(transitions_from_histories("acme", "10042", histories, FieldMap(sprint="customfield_10020")))
    assert [(r.field, r.to_value) for r in rows] == [(TransitionField.SPRINT, "7")]


def test_links_from_projects_that_are_not_synced_are_kept_inverted() -> None:
    payload = issue({"id": "1", "name": "Story"}, issuelinks=[
        {"type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
         "inwardIssue": {"key": "OTHER-35406"}},
        {"type": {"name": "Blocks", "inward": "is blocked by"}, "inwardIssue": {"id": "35407", "key": "OTHER-35407"}},
        {"type": {"name": "Duplicate"}, "inwardIssue": {"id": "35408", "key": "OTHER-35408"}},
        {"type": {"name": "Relates"}, "inwardIssue": {"id": "35409", "key": "OTHER-35409"}},
        {"type": {"name": "Blocks"}, "inwardIssue": {"id": "10060", "key": "WID-60"}},  # synced: WID-60 owns it
        {"type": {"name": "Blocks"}, "outwardIssue": {"id": "35410", "key": "OTHER-35410"}},
    ])
    links = links_from_issue("acme", payload, ["WID", "PAY"])
    assert [(lk.from_id, lk.kind, lk.to_key, lk.to_id) for lk in links] == [
        ("acme:10042", LinkKind.BLOCKED_BY, "OTHER-35406", None),
        ("acme:10042", LinkKind.BLOCKED_BY, "OTHER-35407", "acme:35407"),
        ("acme:10042", LinkKind.DUPLICATED_BY, "OTHER-35408", "acme:35408"),
        ("acme:10042", LinkKind.RELATES, "OTHER-35409", "acme:35409"),
        ("acme:10042", LinkKind.BLOCKS, "OTHER-35410", "acme:35410"),
    ]
    assert [lk.to_key for lk in links_from_issue("acme", payload)] == ["OTHER-35410"]  # no project list: outward only


def test_a_link_to_an_item_that_is_not_synced_keeps_the_far_ends_status_summary_and_type() -> None:
    # the far end's fields as Jira Cloud's IssueLink carries them (platform v3 OpenAPI example, with the
    # statusCategory, priority and issuetype that a live site adds)
    far = {"summary": "Payment API <b>v2</b>", "priority": {"name": "High", "id": "2"},
           "status": {"name": "Code review", "id": "10100",
                      "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}},
           "issuetype": {"id": "10001", "name": "任务", "untranslatedName": "Task", "hierarchyLevel": 0}}
    payload = issue({"id": "1", "name": "Story"}, issuelinks=[
        {"type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
         "inwardIssue": {"id": "35406", "key": "PAY-7", "fields": far}},
        {"type": {"name": "Blocks"}, "outwardIssue": {"id": "10060", "key": "WID-60", "fields": far}},  # synced
        {"type": {"name": "Blocks"}, "outwardIssue": {"key": "OPS-9", "fields": {"status": {"name": "Open"}}}},
    ])
    links = links_from_issue("acme", payload, ["WID"])
    assert [(lk.to_key, lk.to_status, lk.to_category, lk.to_summary, lk.to_type) for lk in links] == [
        ("PAY-7", "Code review", StatusCategory.IN_PROGRESS, "Payment API <b>v2</b>", "Task"),
        ("WID-60", None, None, None, None),  # in the store: its own row says all that
        ("OPS-9", "Open", None, None, None),  # no statusCategory given: not guessed
    ]


def test_dependency_link_types_are_read_by_their_descriptions() -> None:
    # Jira's "Dependent" example type (inward "depends on", outward "is depended by") and a site's own
    # "Dependency" type the other way round: both become blocks / blocked_by, the direction kept
    dependent = {"id": "10000", "name": "Dependent", "inward": "depends on", "outward": "is depended by"}
    dependency = {"id": "10400", "name": "Dependency", "inward": "is depended on by", "outward": "depends on"}
    payload = issue({"id": "1", "name": "Story"}, issuelinks=[
        {"type": dependent, "outwardIssue": {"id": "2", "key": "WID-2"}},  # WID-42 is depended by WID-2
        {"type": dependency, "outwardIssue": {"id": "3", "key": "WID-3"}},  # WID-42 depends on WID-3
        {"type": dependent, "inwardIssue": {"id": "4", "key": "PAY-4"}},  # WID-42 depends on PAY-4 (not synced)
        {"type": {"name": "Cloners", "inward": "is cloned by", "outward": "clones"}, "outwardIssue": {"id": "5", "key": "WID-5"}},
    ])
    links = links_from_issue("acme", payload, ["WID"])
    assert [(lk.kind, lk.to_key) for lk in links] == [
        (LinkKind.BLOCKS, "WID-2"), (LinkKind.BLOCKED_BY, "WID-3"), (LinkKind.BLOCKED_BY, "PAY-4"),
        (LinkKind.RELATES, "WID-5")]


@pytest.mark.parametrize("listed_by", [8, 13])
def test_a_sprint_belongs_to_its_origin_board(listed_by: int) -> None:
    # board 8's sprint list includes a sprint of board 13 (the issue's recording)
    sprint = sprint_from_jira("acme", {"id": 15, "name": "Emma Sprint 1", "state": "active", "originBoardId": 13},
                              where=f"board {listed_by} sprint 15")
    assert sprint.board_id == "13"


def test_atlassian_sprint_example_has_origin_board(realdata: Path) -> None:
    examples = json.loads((realdata / "jira-openapi/jira-software-agile.examples.json").read_text())
    page = examples["GET /rest/agile/1.0/board/{boardId}/sprint"]["200"]
    sprints = [sprint_from_jira("acme", s) for s in page["values"]]
    assert [(s.remote_id, s.board_id) for s in sprints] == [("37", "5"), ("72", None)]
