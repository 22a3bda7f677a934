"""Jira payload mapping: recorded real payloads (../shared/realdata) and hand-built Cloud v3 shapes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from syncd.connectors.jira_changelog import transitions_from_histories
from syncd.connectors.jira_fields import FieldMap, field_map_from_fields
from syncd.connectors.jira_mapping import (
    adf_text,
    item_from_jira,
    links_from_issue,
    release_from_version,
    sprint_from_jira,
)
from syncd.connectors.payload import PayloadError
from syncd.model import ItemKind, LinkKind, SprintState, StatusCategory, TransitionField


def test_recorded_sprint_issue_keeps_every_modelled_field(realdata: Path) -> None:
    # go-jira mock recorded from Jira Cloud 2015-16: story points in customfield_10105, agile epic object
    page = json.loads((realdata / "jira-recorded/go-jira_issues_in_sprint_with_changelog.json").read_text())
    payload = page["issues"][0]
    mapped = item_from_jira("acme", payload, FieldMap(points="customfield_10105"), "https://example.atlassian.net")
    item = mapped.item
    assert item.id == "acme:12338" and item.key == "AR-86" and item.project == "AR"
    assert item.kind == ItemKind.TASK
    assert item.status == "Ready" and item.status_category == StatusCategory.TODO
    assert item.resolution == "Done" and item.priority == "Major" and item.priority_id == "3"
    assert item.estimate == 13.0
    assert item.epic_key == "AR-37" and item.epic_id == "acme:11900"
    assert item.assignee_id == "acme:mister.morris"
    # -0800 offsets become UTC
    assert item.resolved == datetime(2015, 12, 7, 22, 19, 13, tzinfo=UTC)
    assert item.url == "https://example.atlassian.net/browse/AR-86"
    assert item.raw == payload
    # its two histories change summary and priority: the priority change is kept, by id and name, as
    # recorded (the second history has no id: its time and place name it)
    rows = list(transitions_from_histories("acme", payload["id"], payload["changelog"]["histories"], FieldMap()))
    assert [(r.field, r.from_value, r.from_string, r.to_value, r.to_string) for r in rows] == [
        (TransitionField.PRIORITY, "10300", "Major", "10802", "Minor")]
    assert rows[0].item_id == "acme:12338" and rows[0].change_id == "2016-02-01T08:17:04-08:00/1"


def test_recorded_sprints_and_boards(realdata: Path) -> None:
    page = json.loads((realdata / "jira-recorded/go-jira_sprints.json").read_text())
    sprints = [sprint_from_jira("acme", s, "Board") for s in page["values"]]
    states = {s.state for s in sprints}
    assert states == {SprintState.CLOSED, SprintState.ACTIVE, SprintState.FUTURE}
    closed = next(s for s in sprints if s.state == SprintState.CLOSED)
    assert closed.complete is not None and closed.complete.tzinfo is not None
    future = [s for s in sprints if s.state == SprintState.FUTURE]
    assert all(s.start is None for s in future)
    # go-jira's 2016 recording has no createdDate; Jira Cloud's agile sprint has it (optional)
    assert all(s.created is None for s in sprints)
    cloud = sprint_from_jira("acme", {**page["values"][0], "createdDate": "2016-04-01T09:00:00.000-07:00"})
    assert cloud.created == datetime(2016, 4, 1, 16, tzinfo=UTC)


def test_field_discovery_by_name_and_schema() -> None:
    fields = [
        {"id": "summary", "name": "Summary"},
        {"id": "customfield_10016", "name": "Story point estimate", "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"}},
        {"id": "customfield_10020", "name": "Sprint", "schema": {"type": "array", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
        {"id": "customfield_10014", "name": "Epic Link", "schema": {"custom": "com.pyxis.greenhopper.jira:gh-epic-link"}},
        {"id": "customfield_10021", "name": "Flagged"},
    ]
    fm = field_map_from_fields(fields)
    assert (fm.points, fm.sprint, fm.epic_link, fm.flagged) == ("customfield_10016", "customfield_10020", "customfield_10014", "customfield_10021")
    assert field_map_from_fields(fields, points_override="customfield_99").points == "customfield_99"
    assert field_map_from_fields([]).points is None
    assert FieldMap.from_json(fm.to_json()).to_json() == fm.to_json()


def cloud_issue() -> dict:
    return {
        "id": "10042", "key": "WID-42",
        "fields": {
            "summary": "<script>alert(1)</script> checkout", "project": {"key": "WID"},
            "issuetype": {"name": "Story", "subtask": False},
            "status": {"name": "In Review", "statusCategory": {"key": "indeterminate"}},
            "priority": {"name": "High"}, "labels": ["customer"], "components": [{"name": "api"}],
            "assignee": {"accountId": "abc", "displayName": "Ann"}, "reporter": None,
            "created": "2026-11-01T09:00:00.000+0100", "updated": "2026-11-20T10:00:00.000+0000",
            "resolutiondate": None, "resolution": None, "duedate": "2026-12-01",
            "parent": {"id": "10001", "key": "WID-1", "fields": {"issuetype": {"name": "Epic"}}},
            "fixVersions": [{"id": "3", "name": "WID 1.2", "released": False, "releaseDate": "2026-12-15"}],
            "customfield_10016": 5, "customfield_10021": [{"value": "Impediment"}],
            "customfield_10020": [{"id": 7, "name": "WID Sprint 7", "state": "active", "boardId": 1,
                                   "startDate": "2026-11-16T09:00:00.000Z", "endDate": "2026-11-30T09:00:00.000Z"}],
            "description": {"type": "doc", "version": 1, "content": [
                {"type": "heading", "content": [{"type": "text", "text": "Acceptance criteria"}]},
                {"type": "paragraph", "content": [{"type": "text", "text": "Given a cart"}, {"type": "hardBreak"},
                                                  {"type": "text", "text": "then pay"}]}]},
            "issuelinks": [
                {"type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                 "outwardIssue": {"id": "10050", "key": "WID-50"}},
                {"type": {"name": "Blocks"}, "inwardIssue": {"id": "10060", "key": "WID-60"}},
                {"type": {"name": "Relates"}, "outwardIssue": {"id": "10070", "key": "PAY-7"}},
            ],
        },
    }


def test_cloud_v3_issue() -> None:
    fm = FieldMap(points="customfield_10016", sprint="customfield_10020", flagged="customfield_10021")
    mapped = item_from_jira("acme", cloud_issue(), fm, "https://acme.atlassian.net")
    item = mapped.item
    assert item.kind == ItemKind.STORY and item.status_category == StatusCategory.IN_PROGRESS
    assert item.created == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert item.due == date(2026, 12, 1) and item.estimate == 5.0 and item.flagged
    assert item.epic_id == "acme:10001" and item.epic_key == "WID-1" and item.parent_key == "WID-1"
    assert item.sprint_ids == ["acme:sprint:7"] and item.release_ids == ["acme:version:3"]
    assert item.description == "Acceptance criteria\nGiven a cart\nthen pay"
    assert item.title == "<script>alert(1)</script> checkout"  # kept as data; escaping is the renderer's job
    assert [(lk.kind, lk.to_key) for lk in mapped.links] == [(LinkKind.BLOCKS, "WID-50"), (LinkKind.RELATES, "PAY-7")]
    assert mapped.sprints[0].state == SprintState.ACTIVE and mapped.sprints[0].board_id == "1"
    assert mapped.releases[0].name == "WID 1.2" and mapped.releases[0].due == date(2026, 12, 15)
    assert [p.display_name for p in mapped.people] == ["Ann"]


def test_links_only_outward() -> None:
    assert len(links_from_issue("s", cloud_issue())) == 2


def test_transitions_from_changelog() -> None:
    histories = [
        {"id": "5", "created": "2026-11-02T10:00:00.000-0800", "author": {"accountId": "u1"}, "items": [
            {"field": "status", "fieldId": "status", "from": "1", "fromString": "To Do", "to": "3", "toString": "In Progress"},
            {"field": "Sprint", "fieldId": "customfield_10020", "from": "", "fromString": "", "to": "7", "toString": "WID Sprint 7"},
            {"field": "summary", "fieldId": "summary", "fromString": "a", "toString": "b"},
        ]},
        {"id": "6", "created": "2026-11-03T10:00:00.000+0000", "items": [
            {"field": "Story point estimate", "fieldId": "customfield_10016", "fromString": "3", "toString": "5"},
            {"field": "assignee", "fieldId": "assignee", "from": None, "to": "u2"},
            {"field": "Fix Version", "fieldId": "fixVersions", "to": "3", "toString": "WID 1.2"},
        ]},
    ]
    fm = FieldMap(points="customfield_10016", sprint="customfield_10020")
    rows = list(transitions_from_histories("acme", "10042", histories, fm))
    assert [(r.change_id, r.seq, r.field) for r in rows] == [
        ("5", 0, TransitionField.STATUS), ("5", 1, TransitionField.SPRINT), ("6", 0, TransitionField.ESTIMATE),
        ("6", 1, TransitionField.ASSIGNEE), ("6", 2, TransitionField.FIX_VERSION)]
    assert rows[0].at == datetime(2026, 11, 2, 18, tzinfo=UTC) and rows[0].author_id == "acme:u1"
    assert rows[2].from_string == "3" and rows[2].to_string == "5"


def test_transitions_of_fields_replayed_at_a_past_date() -> None:
    # the Cloud shapes of the other fields a replay rewinds: labels as the whole set in one row,
    # components one per row, the due date, the flag (custom field), the team-managed parent and a link
    # (both without fieldId, as Cloud writes them), the Epic Link custom field
    histories = [
        {"id": "7", "created": "2026-11-04T09:00:00.000+0000", "items": [
            {"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None, "fromString": "api",
             "to": None, "toString": "api customer"},
            {"field": "Component", "fieldtype": "jira", "fieldId": "components", "from": None, "fromString": None,
             "to": "10010", "toString": "Checkout"},
            {"field": "duedate", "fieldtype": "jira", "fieldId": "duedate", "from": None, "fromString": None,
             "to": "2026-12-01", "toString": "2026-12-01 00:00:00.0"},
            {"field": "Flagged", "fieldtype": "custom", "fieldId": "customfield_10021", "from": None,
             "fromString": None, "to": "[10019]", "toString": "Impediment"},
            {"field": "IssueParentAssociation", "fieldtype": "jira", "from": None, "fromString": None,
             "to": "14614", "toString": "WID-3"},
            {"field": "Link", "fieldtype": "jira", "from": None, "fromString": None, "to": "WID-9",
             "toString": "This issue blocks WID-9"},
            {"field": "Epic Link", "fieldtype": "custom", "fieldId": "customfield_10014", "from": None,
             "fromString": None, "to": "14615", "toString": "WID-4"},
            {"field": "Rank", "fieldtype": "custom", "fieldId": "customfield_10019", "from": "", "to": ""},
        ]},
        # Server/DC: names without fieldId; a text custom field named "Flagged" with an id is not the flag
        {"id": "8", "created": "2026-11-05T09:00:00.000+0000", "items": [
            {"field": "Component", "from": "10010", "fromString": "Checkout", "to": None, "toString": None},
            {"field": "priority", "from": "3", "fromString": "Medium", "to": "2", "toString": "High"},
            {"field": "Flagged", "fieldId": "customfield_99999", "from": None, "toString": "yes"},
            {"field": "Parent", "from": "14614", "fromString": "WID-3", "to": "14620", "toString": "WID-5"},
        ]},
    ]
    fm = FieldMap(flagged="customfield_10021", epic_link="customfield_10014")
    rows = list(transitions_from_histories("acme", "10042", histories, fm))
    assert [(r.change_id, r.seq, r.field, r.from_value, r.to_value, r.from_string, r.to_string) for r in rows] == [
        ("7", 0, TransitionField.LABELS, None, None, "api", "api customer"),
        ("7", 1, TransitionField.COMPONENT, None, "10010", None, "Checkout"),
        ("7", 2, TransitionField.DUE, None, "2026-12-01", None, "2026-12-01 00:00:00.0"),
        ("7", 3, TransitionField.FLAGGED, None, "[10019]", None, "Impediment"),
        ("7", 4, TransitionField.PARENT, None, "14614", None, "WID-3"),
        ("7", 5, TransitionField.LINK, None, "WID-9", None, "This issue blocks WID-9"),
        ("7", 6, TransitionField.EPIC, None, "14615", None, "WID-4"),
        ("8", 0, TransitionField.COMPONENT, "10010", None, "Checkout", None),
        ("8", 1, TransitionField.PRIORITY, "3", "2", "Medium", "High"),
        ("8", 3, TransitionField.PARENT, "14614", "14620", "WID-3", "WID-5"),
    ]


def test_version_and_adf_edges() -> None:
    rel = release_from_version("acme", "WID", {"id": "9", "name": "1.0", "released": True, "releaseDate": "2026-10-01"}, "https://x")
    assert rel.released and rel.released_at == datetime(2026, 10, 1, tzinfo=UTC)
    assert rel.start is None and rel.created is None  # Jira versions have no creation date
    planned = release_from_version("acme", "WID", {"id": "10", "name": "1.1", "startDate": "2026-10-02"}, "https://x")
    assert planned.start == date(2026, 10, 2) and not planned.released
    assert adf_text(None) == "" and adf_text("h1. wiki text") == "h1. wiki text"
    # an ADF task list (action items) keeps each item's state as a checkbox line
    tasks = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Launch checklist"}]},
        {"type": "taskList", "attrs": {"localId": "a1"}, "content": [
            {"type": "taskItem", "attrs": {"localId": "t1", "state": "DONE"},
             "content": [{"type": "text", "text": "QA sign-off"}]},
            {"type": "taskItem", "attrs": {"localId": "t2", "state": "TODO"},
             "content": [{"type": "text", "text": "Security "}, {"type": "text", "text": "sign-off",
                                                                 "marks": [{"type": "strong"}]}]}]}]}
    assert adf_text(tasks) == "Launch checklist\n- [x] QA sign-off\n- [ ] Security sign-off"


def test_issue_properties_come_with_the_issue_as_the_real_api_returns_them(realdata: Path) -> None:
    # Jira Cloud's OpenAPI (salto-io swaggers): the search request's `properties` is a list of keys and each
    # IssueBean carries "properties": {key: value} beside "fields"
    spec = json.loads((realdata / "jira-openapi/jira-platform-v3.trimmed.json").read_text())["components"]["schemas"]
    assert spec["SearchAndReconcileRequestBean"]["properties"]["properties"]["type"] == "array"
    assert spec["IssueBean"]["properties"]["properties"]["type"] == "object"
    page = json.loads((realdata / "jira-recorded/go-jira_issues_in_sprint_with_changelog.json").read_text())
    value = {"qa": {"by": "Ana", "at": "2026-11-20"}}
    payload = {**page["issues"][0], "properties": {"release-signoff": value}}
    item = item_from_jira("acme", payload, FieldMap(points="customfield_10105"), "https://example.atlassian.net").item
    assert item.properties == {"release-signoff": {"qa": {"by": "Ana", "at": "2026-11-20"}}}
    assert item.raw == payload
    # not asked for: none
    assert item_from_jira("acme", page["issues"][0], FieldMap(), "https://example.atlassian.net").item.properties == {}
    # a value that is not an object is a bad payload, named by its field
    with pytest.raises(PayloadError, match="properties"):
        item_from_jira("acme", {**page["issues"][0], "properties": ["x"]}, FieldMap(), "https://x.example")
