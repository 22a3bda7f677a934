"""Property-based fuzzing of source payloads through the mapping: a valid record or ONE PayloadError.

Seeds are realistic payloads: recorded Jira Cloud and GitHub payloads (../shared/realdata) and the
sandbox generator's Jira issues and GitHub issues/PRs; hand-built GraphQL PR nodes in `PR_FRAGMENT`'s
shape. Hypothesis then mutates them: drops keys, sets nulls, wrong types, huge strings, odd timestamps,
non-objects where objects belong, unknown fields. Whatever comes in, the mapping returns records that
serialize, or raises `PayloadError` whose one-line message names the field that was mutated (or one
inside it); never a KeyError, TypeError or AttributeError from deep inside. The connectors turn that
error into a skipped item and one SourceError line (tests/integration/test_bad_payloads.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.connectors.config import GitHubSource
from syncd.connectors.github_mapping import item_from_issue, people_from_issue, pull_from_graphql
from syncd.connectors.jira_changelog import embedded_changelog, transitions_from_histories
from syncd.connectors.jira_fields import FieldMap, field_map_from_fields
from syncd.connectors.jira_mapping import item_from_jira
from syncd.connectors.payload import PayloadError
from syncd.sandbox.generate import generate_world
from tests.conftest import REALDATA
from tests.unit.test_github_mapping import pr_node

Json = dict[str, Any]
Path = tuple[str | int, ...]
PATTERN = GitHubSource.model_fields["key_pattern"].default
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ODD_TIMES = ["2026-13-45T00:00:00.000+0000", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
             "2026-11-20T10:00:00", "yesterday", "", "2026-11-20", "2026-11-20T25:00:00Z", "1e10", "\x00",
             "2026-11-20T10:00:00.000+0000", "2026-11-20T10:00:00Z\r\nBcc: evil@example.com"]
HUGE = "x" * 100_000
WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(), st.text(max_size=20),
    st.sampled_from(ODD_TIMES), st.just(HUGE), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2), st.just([None]), st.just({}), st.just([{}]),
)


# -- seeds --------------------------------------------------------------------------------------------

@cache
def _world() -> Any:
    return generate_world(seed=11, issues=120, now=datetime(2026, 11, 20, 12, tzinfo=UTC))


def _diverse(payloads: list[Json], has: Callable[[Json], list[bool]], limit: int = 8) -> list[Json]:
    """Up to `limit` payloads covering each feature `has` tells apart (parent, sprints, links, ...)."""
    chosen: list[Json] = []
    covered: set[int] = set()
    for p in payloads:
        new = {i for i, flag in enumerate(has(p)) if flag} - covered
        if new or len(chosen) < 2:
            chosen.append(p)
            covered |= new
        if len(chosen) >= limit:
            break
    return chosen


@cache
def jira_seeds() -> list[tuple[Json, FieldMap]]:
    """Generated issues (epics, stories in sprints with fix versions, links, long changelogs) and recorded ones."""
    world = _world()
    fm = field_map_from_fields(world.jira.fields)
    issues = sorted(world.jira.issues.values(), key=lambda i: int(i["id"]))
    chosen = _diverse(issues, lambda i: [bool(i["fields"].get(k)) for k in
                                         ("parent", fm.sprint, "fixVersions", "issuelinks", "resolutiondate",
                                          "assignee", "components", "duedate")]
                      + [len(i["changelog"]["histories"]) > 3])
    seeds = [(i, fm) for i in chosen]
    recorded = REALDATA / "jira-recorded" / "go-jira_issues_in_sprint_with_changelog.json"
    if recorded.is_file():  # Jira Cloud, recorded by go-jira's tests: story points in customfield_10105
        seeds += [(i, FieldMap(points="customfield_10105")) for i in json.loads(recorded.read_text())["issues"]]
    return seeds


@cache
def github_seeds() -> list[Json]:
    """Generated issues and PR entries of the issues list, and a recorded issue when realdata is there."""
    items = [i for repo in _world().github.repos.values() for i in repo.issues.values()]
    chosen = _diverse(items, lambda i: [bool(i.get(k)) for k in ("pull_request", "milestone", "assignee", "assignees",
                                                                  "closed_at", "labels", "body", "state_reason")])
    recorded = REALDATA / "github-pygithub-replay" / "Issue.setUp.txt"
    if recorded.is_file():
        from tests.unit.test_github_mapping import recorded as exchanges

        chosen.append(exchanges(REALDATA, "Issue.setUp.txt")[1]["body"])  # PyGithub/PyGithub#28, recorded 2025
    return chosen


PR_NODES = [pr_node(), pr_node(state="OPEN", merged=False, mergedAt=None, mergedBy=None, isDraft=True),
            pr_node(head={"nodes": []}, reviews={"nodes": [], "pageInfo": {"hasNextPage": False}})]


# -- mutations ----------------------------------------------------------------------------------------

def paths_of(value: Any, prefix: Path = (), depth: int = 6) -> list[Path]:
    """Every path into a payload (the first three elements of each list)."""
    out = [prefix]
    if depth == 0:
        return out
    if isinstance(value, dict):
        for key, child in value.items():
            out += paths_of(child, (*prefix, key), depth - 1)
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            out += paths_of(child, (*prefix, index), depth - 1)
    return out


def render(path: Path, root: str) -> str:
    """A path as PayloadError names fields: `fields.labels[0]`, `changelog.histories[2].created`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or root


@st.composite
def mutation(draw: st.DrawFn, payload: Any) -> tuple[Any, Path, str]:
    """(mutated copy, path, operation) for one mutation at a random path."""
    path = draw(st.sampled_from(paths_of(payload)))
    out = json.loads(json.dumps(payload))  # as off the wire: no object shared between two places
    if not path:
        return draw(WRONG.filter(lambda v: not isinstance(v, dict))), path, "set"
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    target = parent[path[-1]]
    op = draw(st.sampled_from(["drop", "set", "set", "add"] if isinstance(target, dict) else ["drop", "set", "set"]))
    if op == "drop":
        del parent[path[-1]]
    elif op == "set":
        parent[path[-1]] = draw(WRONG)
    else:
        target["unexpected_" + draw(st.text("abcxyz", min_size=1, max_size=5))] = draw(WRONG)
    return out, path, op


def related(field: str, mutated: str) -> bool:
    """The error names the mutated field, one inside it, or the object it sits in."""
    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith(outer + ".") or inner.startswith(outer + "[")
    return within(field, mutated) or within(mutated, field)


def outcome(call: Callable[[], Any], mutated: str | None) -> Any:
    """The records, or None after checking the PayloadError: one short line naming the mutated field."""
    try:
        return call()
    except PayloadError as exc:
        line = str(exc)
        assert "\n" not in line and "\r" not in line and len(line) < 200, line
        assert exc.field and line.startswith(exc.field + ": ")
        if mutated is not None:
            assert related(exc.field, mutated), f"mutated {mutated}, error names {line}"
        return None


# -- Jira ---------------------------------------------------------------------------------------------

def map_jira_issue(payload: Any, fm: FieldMap) -> tuple[Any, list[Any], list[Any]]:
    """What the connector maps for an issue whose changelog is embedded whole."""
    mapped = item_from_jira("acme", payload, fm, "https://acme.atlassian.net")
    histories, _ = embedded_changelog(payload)
    authors: dict[str, Any] = {}
    transitions = list(transitions_from_histories("acme", mapped.item.remote_id, histories, fm, people=authors))
    return mapped, transitions, list(authors.values())


def assert_jira_records(records: Any) -> None:
    mapped, transitions, authors = records
    json.loads(mapped.item.model_dump_json())
    for record in [*mapped.links, *mapped.people, *mapped.sprints, *mapped.releases, *transitions, *authors]:
        json.loads(record.model_dump_json())


def test_every_jira_seed_maps_cleanly() -> None:
    assert len(jira_seeds()) >= 4
    for payload, fm in jira_seeds():
        assert_jira_records(map_jira_issue(payload, fm))


@SETTINGS
@given(st.data())
def test_one_mutation_of_a_jira_issue_maps_or_names_the_field(data: st.DataObject) -> None:
    payload, fm = data.draw(st.sampled_from(jira_seeds()))
    mutated, path, op = data.draw(mutation(payload))
    records = outcome(lambda: map_jira_issue(mutated, fm), render(path, "issue"))
    if op == "add":
        assert records is not None, "an unknown field is ignored"
    if records is not None:
        assert_jira_records(records)


@SETTINGS
@given(st.data())
def test_many_mutations_of_a_jira_issue_map_or_raise_one_error_type(data: st.DataObject) -> None:
    payload, fm = data.draw(st.sampled_from(jira_seeds()))
    for _ in range(data.draw(st.integers(2, 5))):
        payload, _, _ = data.draw(mutation(payload))
    records = outcome(lambda: map_jira_issue(payload, fm), None)
    if records is not None:
        assert_jira_records(records)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("status", "Done", "fields.status: expected an object, got a string"),
    ("created", "last tuesday", "fields.created: not a timestamp: 'last tuesday'"),
    ("updated", "2026-11-20T10:00:00", "fields.updated: timestamp without a time zone: '2026-11-20T10:00:00'"),
    ("labels", "urgent", "fields.labels: expected a list, got a string"),
    ("summary", ["a", "b"], "fields.summary: expected a string, got a list"),
    ("created", "2026-11-20T10:00:00Z\r\nBcc: evil@example.com",
     "fields.created: not a timestamp: '2026-11-20T10:00:00Z\\r\\nBcc: evil@exam…"),
])
def test_typical_bad_jira_fields_give_these_lines(field: str, value: Any, message: str) -> None:
    payload, fm = copy.deepcopy(jira_seeds()[0])
    payload["fields"][field] = value
    with pytest.raises(PayloadError) as err:
        item_from_jira("acme", payload, fm, "https://acme.atlassian.net")
    assert str(err.value) == message


def test_huge_text_and_unknown_fields_are_kept_as_data() -> None:
    payload, fm = copy.deepcopy(jira_seeds()[0])
    payload["fields"]["summary"] = HUGE
    payload["fields"]["customfield_99999"] = {"anything": [1, 2, {"deep": None}]}
    payload["renderedFields"] = "not what we read"
    item = item_from_jira("acme", payload, fm, "https://acme.atlassian.net").item
    assert item.title == HUGE and item.raw is not None and item.raw["renderedFields"] == "not what we read"


# -- GitHub -------------------------------------------------------------------------------------------

def map_github_issue(issue: Any) -> tuple[Any, list[Any]]:
    return item_from_issue("gh", "acme/widget", issue), people_from_issue("gh", issue)


def map_pull(node: Any) -> Any:
    return pull_from_graphql("gh", "gh:900", node, "Export CSV for WID-4", "Closes WID-4", ["WID"], PATTERN)


def test_every_github_seed_maps_cleanly() -> None:
    assert len(github_seeds()) >= 5 and any("pull_request" in i for i in github_seeds())
    for issue in github_seeds():
        item, people = map_github_issue(issue)
        json.loads(item.model_dump_json())
        assert people
    for node in PR_NODES:
        pr, links, _ = map_pull(node)
        assert json.loads(pr.model_dump_json())["item_id"] == "gh:900" and links


@SETTINGS
@given(st.data())
def test_one_mutation_of_a_github_issue_maps_or_names_the_field(data: st.DataObject) -> None:
    mutated, path, op = data.draw(mutation(data.draw(st.sampled_from(github_seeds()))))
    records = outcome(lambda: map_github_issue(mutated), render(path, "issue"))
    if op == "add":
        assert records is not None
    if records is not None:
        json.loads(records[0].model_dump_json())


@SETTINGS
@given(st.data())
def test_one_mutation_of_a_pull_request_node_maps_or_names_the_field(data: st.DataObject) -> None:
    mutated, path, op = data.draw(mutation(data.draw(st.sampled_from(PR_NODES))))
    records = outcome(lambda: map_pull(mutated), render(path, "pullRequest"))
    if op == "add":
        assert records is not None
    if records is not None:
        json.loads(records[0].model_dump_json())


@SETTINGS
@given(st.data())
def test_many_mutations_of_github_payloads_map_or_raise_one_error_type(data: st.DataObject) -> None:
    issue, node = data.draw(st.sampled_from(github_seeds())), data.draw(st.sampled_from(PR_NODES))
    for _ in range(data.draw(st.integers(2, 5))):
        issue, _, _ = data.draw(mutation(issue))
        node, _, _ = data.draw(mutation(node))
    outcome(lambda: map_github_issue(issue), None)
    outcome(lambda: map_pull(node), None)


@given(title=st.one_of(st.none(), st.text(max_size=50), WRONG), body=st.one_of(st.none(), st.text(max_size=50), WRONG))
@SETTINGS
def test_pull_request_texts_of_any_type_map_or_name_the_field(title: Any, body: Any) -> None:
    outcome(lambda: pull_from_graphql("gh", "gh:1", pr_node(), title, body, ["WID"], PATTERN), None)
