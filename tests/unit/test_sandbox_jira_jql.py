"""The fake Jira's JQL: parsing (Jira's grammar and error wording) and meaning on a hand-built site."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.sandbox.jql import BoolOp, Clause, Function, JqlError, Not, OrderBy, Value, parse_jql
from syncd.sandbox.jql_eval import JqlSite, compile_query

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles


def _status(sid: str, name: str, category: str) -> dict[str, Any]:
    return {"id": sid, "name": name, "statusCategory": {"key": category}}


TODO, DOING, DONE = _status("1", "To Do", "new"), _status("3", "In Progress", "indeterminate"), _status("5", "Done", "done")
STORY, BUG = {"id": "10001", "name": "Story"}, {"id": "10004", "name": "Bug"}
ALICE = {"accountId": "acc-alice", "displayName": "Alice Park", "emailAddress": "alice@example.com"}


def issue(iid: int, key: str, updated: str, status: dict[str, Any] = TODO, kind: dict[str, Any] = STORY,
          assignee: dict[str, Any] | None = None, sprints: tuple[int, ...] = (), labels: tuple[str, ...] = (),
          resolved: bool = False, points: float | None = None) -> dict[str, Any]:
    project = key.split("-")[0]
    return {"id": str(iid), "key": key, "fields": {
        "project": {"id": {"WID": "100", "OPS": "101"}[project], "key": project}, "status": status, "issuetype": kind,
        "updated": updated, "created": "2026-11-01T09:00:00.000-0700", "assignee": assignee,
        "customfield_10020": [{"id": s} for s in sprints] or None, "labels": list(labels),
        "resolution": {"id": "1", "name": "Done"} if resolved else None, "customfield_10016": points}}


ISSUES = [
    issue(1, "WID-1", "2026-11-20T09:30:00.000-0800", DONE, resolved=True, sprints=(1,), points=3),
    issue(2, "WID-2", "2026-11-20T10:30:00.000-0800", DOING, assignee=ALICE, sprints=(1, 2), labels=("backend",), points=5),
    issue(3, "WID-10", "2026-11-20T10:30:00.000-0800", TODO, BUG, sprints=(3,)),
    issue(4, "OPS-1", "2026-11-19T08:00:00.000-0800", DOING, assignee=ALICE, labels=("Customer",)),
    issue(5, "WID-11", "2026-11-20T02:15:00.000-0800", TODO),  # was OPS-2 before a move
]
FIELDS = [{"id": "customfield_10016", "name": "Story point estimate", "clauseNames": ["cf[10016]", "Story point estimate"],
           "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"}},
          {"id": "customfield_10020", "name": "Sprint", "clauseNames": ["cf[10020]", "Sprint"],
           "schema": {"type": "array", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
          {"id": "summary", "name": "Summary", "clauseNames": ["summary"], "schema": {"type": "string"}}]


def site() -> JqlSite:
    keys = {i["key"]: i["id"] for i in ISSUES} | {"OPS-2": "5"}
    return JqlSite(tz=LA, now=NOW, me="acc-alice", projects={"WID": {"id": "100", "key": "WID", "name": "Widgets"},
                                                             "OPS": {"id": "101", "key": "OPS", "name": "Operations"}},
                   key_ids=keys, issue_ids={i["id"] for i in ISSUES}, statuses=[TODO, DOING, DONE],
                   issue_types=[STORY, BUG], sprints={1: {"id": 1, "name": "S1", "state": "closed"},
                                                      2: {"id": 2, "name": "S2", "state": "active"},
                                                      3: {"id": 3, "name": "S 3", "state": "future"}},
                   users={"acc-alice": ALICE}, versions=[], fields=FIELDS, sprint_field="customfield_10020")


def keys(jql: str) -> list[str]:
    """Keys matching `jql`, in its order."""
    return [i["key"] for _, i in compile_query(parse_jql(jql), site()).sort(ISSUES)]


def error(jql: str) -> str:
    with pytest.raises(JqlError) as err:
        compile_query(parse_jql(jql), site())
    return str(err.value)


# -- parsing ------------------------------------------------------------------------------------

def test_and_binds_tighter_than_or_and_parentheses_override() -> None:
    q = parse_jql('project = A OR project = B and status = "In Progress"')
    assert isinstance(q.where, BoolOp) and q.where.op == "OR"
    assert isinstance(q.where.parts[1], BoolOp) and q.where.parts[1].op == "AND"
    q = parse_jql("(project = A OR project = B) AND NOT status = Done ORDER BY updated ASC, key DESC")
    assert isinstance(q.where, BoolOp) and q.where.op == "AND"
    assert isinstance(q.where.parts[0], BoolOp) and isinstance(q.where.parts[1], Not)
    assert q.order == (OrderBy("updated", False), OrderBy("key", True))


def test_lists_functions_quoted_fields_and_custom_field_ids() -> None:
    q = parse_jql('project in ("WID", OPS) and sprint in openSprints() and "Story point estimate" > 3 and cf[10016] <= 8')
    assert isinstance(q.where, BoolOp)
    first, second, third, fourth = q.where.parts
    assert first == Clause("project", "IN", (Value("WID", quoted=True), Value("OPS")), 1)
    assert isinstance(second, Clause) and second.operand == Function("openSprints")
    assert isinstance(third, Clause) and third.field == "Story point estimate"
    assert isinstance(fourth, Clause) and fourth.field == "cf[10016]"
    assert parse_jql("ORDER BY key").where is None
    assert parse_jql("assignee is not EMPTY && labels != x || status ~ 'a b'").where is not None


@pytest.mark.parametrize("jql, message", [
    ("project WID", "Error in the JQL Query: Expecting operator but got 'WID'. The valid operators are '=', '!=', "
                    "'<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"),
    ('summary ~ "unfinished', "Error in the JQL Query: The quoted string 'unfinished' has not been completed. "
                              "(line 1, character 11)"),
    ("(project = WID", "Error in the JQL Query: Expecting ')' before the end of the query."),
    ("project = WID status = Done", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'. "
                                    "(line 1, character 15)"),
    ("project = ", "Error in the JQL Query: Expecting either a value, list or function but got the end of the query. "
                   "(line 1, character 11)"),
    ("labels = a%b", "Error in the JQL Query: The character '%' is a reserved JQL character. You must enclose it in "
                     "a string or use the escape '\\u0025' instead. (line 1, character 11)"),
    ("status in Done", "Error in the JQL Query: Expecting a list of values or a function after 'IN' but got 'Done'. "
                       "(line 1, character 11)"),
    ("ORDER updated", "Error in the JQL Query: Expecting 'BY' but got 'updated'. (line 1, character 7)"),
])
def test_syntax_errors_are_worded_like_jira(jql: str, message: str) -> None:
    assert error(jql) == message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('abWID-=!<>~()," \'ORANDNOTINIS0123456789%[]')), max_size=40))
def test_any_text_parses_or_fails_with_a_jql_error(text: str) -> None:
    try:
        query = parse_jql(text)
    except JqlError:
        return
    try:
        compile_query(query, site()).sort(ISSUES)
    except JqlError:
        pass


# -- meaning ------------------------------------------------------------------------------------

def test_projects_by_key_name_or_id_and_unknown_values_are_errors() -> None:
    assert keys('project in ("WID", "OPS") ORDER BY key ASC') == ["OPS-1", "WID-1", "WID-2", "WID-10", "WID-11"]
    assert keys("project = operations") == keys("project = 101") == ["OPS-1"]
    assert error('project in ("WID", "NOPE")') == "The value 'NOPE' does not exist for the field 'project'."
    assert error("status = Blocked") == "The value 'Blocked' does not exist for the field 'status'."
    assert error("flavour = sweet") == "Field 'flavour' does not exist or you do not have permission to view it."
    assert error("summary ~ x") == "Field 'summary' is not supported by the syncd sandbox's JQL."


def test_keys_and_ids_resolve_moved_keys_and_refuse_unknown_ones() -> None:
    assert keys("key in (WID-1, OPS-2) ORDER BY id") == ["WID-1", "WID-11"]  # OPS-2 is WID-11 now
    assert keys("id = 3") == ["WID-10"]
    assert keys("issuekey != WID-1 AND project = WID ORDER BY key") == ["WID-2", "WID-10", "WID-11"]
    assert error("key = WID-99") == "An issue with key 'WID-99' does not exist for field 'key'."


def test_epoch_millis_are_exact_and_bare_datetimes_are_read_in_the_site_time_zone() -> None:
    cutoff = int(datetime(2026, 11, 20, 18, 0, tzinfo=UTC).timestamp() * 1000)  # 10:00 in Los Angeles
    assert keys(f"updated >= {cutoff} ORDER BY key") == ["WID-2", "WID-10"]
    assert keys('updated >= "2026/11/20 10:00" ORDER BY key') == ["WID-2", "WID-10"]
    # A client that meant 10:00 UTC (02:00 in Los Angeles) but sent a bare datetime misses WID-1 and WID-11.
    meant = int(datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp() * 1000)
    assert keys(f"updated >= {meant} ORDER BY key") == ["WID-1", "WID-2", "WID-10", "WID-11"]
    assert keys('updated >= "2026-11-20 10:00" ORDER BY key') == ["WID-2", "WID-10"]
    assert keys('updated >= "2026/11/20" ORDER BY key') == ["WID-1", "WID-2", "WID-10", "WID-11"]
    assert keys("updated >= -10h ORDER BY key") == ["WID-1", "WID-2", "WID-10", "WID-11"]  # since 02:00 LA
    assert keys("updated < startOfDay() ORDER BY key") == ["OPS-1"]
    assert error('updated >= "20/11/2026"').startswith("Date value '20/11/2026' for field 'updated' is invalid.")


def test_status_type_sprint_labels_users_and_empty() -> None:
    assert keys('status = "in progress" ORDER BY key') == ["OPS-1", "WID-2"]
    assert keys("statusCategory = Done") == ["WID-1"]
    assert keys("issuetype = bug") == ["WID-10"]
    assert keys("sprint in openSprints() ORDER BY key") == ["WID-2", "WID-10"]
    assert keys("sprint in closedSprints() ORDER BY key") == ["WID-1", "WID-2"]
    assert keys('sprint = "S 3"') == ["WID-10"]
    assert keys("sprint is EMPTY ORDER BY key") == ["OPS-1", "WID-11"]
    assert keys("labels = customer") == ["OPS-1"]
    assert keys("assignee = currentUser() ORDER BY key") == ["OPS-1", "WID-2"]
    # like Jira, != never matches an empty value: unassigned issues are not "not Alice"
    assert keys("assignee != \"alice@example.com\"") == []
    assert keys("assignee != \"alice@example.com\" OR assignee is EMPTY ORDER BY key") == ["WID-1", "WID-10", "WID-11"]
    assert keys("resolution = Unresolved ORDER BY key") == ["OPS-1", "WID-2", "WID-10", "WID-11"]
    assert keys("resolution is not EMPTY") == ["WID-1"]
    assert keys('"Story point estimate" > 3') == ["WID-2"]
    assert keys("cf[10016] in (3, 5) ORDER BY key") == ["WID-1", "WID-2"]
    assert keys("NOT project = WID") == ["OPS-1"]


def test_order_by_updated_then_key_sorts_keys_numerically_and_empty_last() -> None:
    assert keys("project = WID ORDER BY updated ASC, key ASC") == ["WID-11", "WID-1", "WID-2", "WID-10"]
    assert keys("project = WID ORDER BY updated DESC, key DESC") == ["WID-10", "WID-2", "WID-1", "WID-11"]
    assert keys("project = WID ORDER BY key") == ["WID-1", "WID-2", "WID-10", "WID-11"]
    assert keys("project in (WID, OPS) ORDER BY key DESC") == ["WID-11", "WID-10", "WID-2", "WID-1", "OPS-1"]
    assert error("project = WID ORDER BY flavour") == "Not able to sort using field 'flavour'."
    assert error("project = WID ORDER BY " + ", ".join(["key"] * 8)) == \
        "The ORDER BY clause can contain at most 7 fields."


def test_search_after_values_are_a_total_order() -> None:
    query = compile_query(parse_jql("project in (WID, OPS) ORDER BY updated ASC"), site())
    ordered = query.sort(ISSUES)
    for (a, _), (b, _) in zip(ordered, ordered[1:], strict=False):
        assert query.compare(a, b) < 0 and query.compare(b, a) > 0
    assert not compile_query(parse_jql("ORDER BY key"), site()).bounded
