"""Jira Server/Data Center payload quirks in the mapping: the Sprint field as GreenHopper strings."""

from __future__ import annotations

from syncd.connectors.jira_fields import FieldMap
from syncd.connectors.jira_mapping import greenhopper_sprint, item_from_jira
from syncd.model import SprintState

CLOSED = ("com.atlassian.greenhopper.service.sprint.Sprint@3fd7dd59[id=48,rapidViewId=58,state=CLOSED,"
          "name=KW07-08, checkout,startDate=2026-02-09T14:24:02.654Z,endDate=2026-02-23T14:24:00.000Z,"
          "completeDate=2026-02-23T14:01:12.378Z,sequence=48,goal=<null>]")
ACTIVE = ("com.atlassian.greenhopper.service.sprint.Sprint@718eef48[id=50,rapidViewId=58,state=ACTIVE,name=KW11-12,"
          "startDate=2026-03-08T13:17:36.689+01:00,endDate=2026-03-22T13:17:00.000+01:00,completeDate=<null>,"
          "activatedDate=2026-03-08T13:17:36.689+01:00,sequence=50,goal=Ship search,autoStartStop=false,synced=false]")


def test_greenhopper_strings_become_sprint_objects() -> None:
    closed = greenhopper_sprint(CLOSED)
    assert closed == {"id": 48, "name": "KW07-08, checkout", "state": "closed", "goal": None, "boardId": 58,
                      "startDate": "2026-02-09T14:24:02.654Z", "endDate": "2026-02-23T14:24:00.000Z",
                      "completeDate": "2026-02-23T14:01:12.378Z"}
    active = greenhopper_sprint(ACTIVE)
    assert active is not None and active["state"] == "active" and active["goal"] == "Ship search"
    assert "completeDate" not in active
    assert greenhopper_sprint("Sprint 5") is None
    assert greenhopper_sprint("com.atlassian.greenhopper.service.sprint.Sprint@1[name=x]") is None


def test_server_issue_keeps_its_sprints() -> None:
    payload = {"id": "10001", "key": "WID-1", "fields": {
        "summary": "s", "status": {"name": "To Do", "statusCategory": {"key": "new"}}, "issuetype": {"name": "Story"},
        "created": "2026-03-01T10:00:00.000+0100", "updated": "2026-03-09T10:00:00.000+0100",
        "customfield_10020": [CLOSED, ACTIVE]}}
    records = item_from_jira("acme", payload, FieldMap(sprint="customfield_10020"), "https://jira.example.com")
    assert records.item.sprint_ids == ["acme:sprint:48", "acme:sprint:50"]
    assert [(s.state, s.board_id) for s in records.sprints] == [(SprintState.CLOSED, "58"), (SprintState.ACTIVE, "58")]
