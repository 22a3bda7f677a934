"""GitHub payload mapping on real recorded payloads (../shared/realdata: PyGithub's replay recordings of
api.github.com, LGPL-3.0; GitHub's OpenAPI examples, MIT) and on hand-built GraphQL nodes: every field
the model has is taken from the payload, nothing is lost or invented."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors import github_mapping
from syncd.connectors.config import GitHubSource
from syncd.connectors.github_mapping import (
    head_rollup,
    issue_records,
    item_from_issue,
    jira_keys,
    milestone_id,
    people_from_issue,
    pull_from_graphql,
    release_from_milestone,
    release_from_release,
)
from syncd.model import (
    CheckConclusion,
    ItemKind,
    LinkKind,
    PullState,
    ReleaseKind,
    ReviewState,
    StatusCategory,
)

PATTERN = GitHubSource.model_fields["key_pattern"].default


def recorded(realdata: Path, name: str) -> list[dict[str, Any]]:
    """The exchanges of one PyGithub replay file: 10 lines each, then a blank line."""
    lines = (realdata / "github-pygithub-replay" / name).read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i + 9 < len(lines):
        if lines[i] in ("http", "https"):
            out.append({"path": lines[i + 4], "status": int(lines[i + 7]),
                        "headers": dict(ast.literal_eval(lines[i + 8])),
                        "body": json.loads(lines[i + 9]) if lines[i + 9] else None})
            i += 11
        else:
            i += 1
    return out


def example(realdata: Path, operation: str) -> Any:
    """The operation's 200 example; a few are still `$ref`s into the trimmed spec's components."""
    folder = realdata / "github-openapi"
    value = json.loads((folder / "api.github.com.examples.json").read_text(encoding="utf-8"))[operation]["200"]
    if isinstance(value, dict) and "$ref" in value:
        spec = json.loads((folder / "api.github.com.trimmed.json").read_text(encoding="utf-8"))
        value = spec["components"]["examples"][value["$ref"].rsplit("/", 1)[1]]["value"]
    return value


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def assert_item_keeps_the_payload(item: Any, issue: dict[str, Any], repo: str) -> None:
    """Every modelled field of an issues-list entry, worked out from the payload itself."""
    assert item.id == f"gh:{issue['id']}" and item.remote_id == str(issue["id"])
    assert item.key == f"{repo}#{issue['number']}" and item.project == repo
    assert item.title == issue["title"] and item.status == issue["state"]
    assert item.labels == [label["name"] for label in issue["labels"]]
    assignees = [issue.get("assignee"), *(issue.get("assignees") or [])]
    first = next((a for a in assignees if a), None)
    assert item.assignee_id == (f"gh:{first['login']}" if first else None)
    assert item.reporter_id == f"gh:{issue['user']['login']}"
    assert item.created == ts(issue["created_at"]) and item.updated == ts(issue["updated_at"])
    assert item.resolved == (ts(issue["closed_at"]) if issue.get("closed_at") else None)
    milestone = issue.get("milestone")
    assert item.release_ids == ([milestone_id("gh", repo, milestone["number"])] if milestone else [])
    assert item.due == (date.fromisoformat(milestone["due_on"][:10]) if milestone and milestone["due_on"] else None)
    assert item.description == (issue.get("body") or None) and item.url == issue["html_url"]
    assert item.raw == issue
    closed = issue["state"] == "closed"
    assert (item.status_category == StatusCategory.DONE) == closed


def test_recorded_issue_keeps_every_modelled_field(realdata: Path) -> None:
    issue = recorded(realdata, "Issue.setUp.txt")[1]["body"]  # PyGithub/PyGithub#28, recorded 2025
    item = item_from_issue("gh", "PyGithub/PyGithub", issue)
    assert_item_keeps_the_payload(item, issue, "PyGithub/PyGithub")
    assert item.kind == ItemKind.BUG  # its issue type is "Bug"
    assert item.resolution == "completed" and item.status_category == StatusCategory.DONE
    assert item.labels == ["bug", "question"] and item.assignee_id == "gh:jacquev6"
    assert item.due == date(2012, 8, 5) and item.release_ids == ["gh:milestone:PyGithub/PyGithub:8"]
    assert {p.id for p in people_from_issue("gh", issue)} == {"gh:jacquev6"}


def test_recorded_issue_list_with_issue_types(realdata: Path) -> None:
    page = recorded(realdata, "Repository.testGetIssuesWithTypeWildcard.txt")[1]["body"]
    items = [item_from_issue("gh", "PyGithub/PyGithub", issue) for issue in page]
    for item, issue in zip(items, page, strict=True):
        assert_item_keeps_the_payload(item, issue, "PyGithub/PyGithub")
    assert [(i.key, i.kind) for i in items] == [
        ("PyGithub/PyGithub#3364", ItemKind.BUG), ("PyGithub/PyGithub#3337", ItemKind.TASK),
        ("PyGithub/PyGithub#3336", ItemKind.TASK), ("PyGithub/PyGithub#3335", ItemKind.STORY),
        ("PyGithub/PyGithub#28", ItemKind.BUG)]


def test_recorded_2014_search_tells_pull_requests_by_html_url(realdata: Path) -> None:
    # 2014 form: plain issues carry "pull_request": {"html_url": null, ...}
    items = recorded(realdata, "Search.testSearchIssues.txt")[0]["body"]["items"]
    mapped = [item_from_issue("gh", issue["repository_url"].split("/repos/")[1] if "repository_url" in issue
                              else "x/y", issue) for issue in items]
    pulls = [i for i in mapped if i.kind == ItemKind.PULL_REQUEST]
    assert len(items) == 30 and len(pulls) == 19
    assert all(bool((issue["pull_request"] or {}).get("html_url")) == (item.kind == ItemKind.PULL_REQUEST)
               for issue, item in zip(items, mapped, strict=True))
    open_pull = next(i for i in pulls if i.status == "open")
    assert open_pull.status_category == StatusCategory.IN_PROGRESS


def test_openapi_issue_and_search_examples(realdata: Path) -> None:
    issue = example(realdata, "GET /repos/{owner}/{repo}/issues")[0]
    item = item_from_issue("gh", "octocat/Hello-World", issue)
    assert_item_keeps_the_payload(item, issue, "octocat/Hello-World")
    assert item.kind == ItemKind.PULL_REQUEST and item.status_category == StatusCategory.IN_PROGRESS
    single = example(realdata, "GET /repos/{owner}/{repo}/issues/{issue_number}")
    assert_item_keeps_the_payload(item_from_issue("gh", "octocat/Hello-World", single), single, "octocat/Hello-World")
    found = example(realdata, "GET /search/issues")["items"][0]
    searched = item_from_issue("gh", "batterseapower/pinyin-toolkit", found)
    assert searched.kind == ItemKind.PULL_REQUEST  # a PR with an issue type is still a PR
    assert searched.due == date(2012, 10, 9) and searched.labels == ["bug"]


def test_recorded_milestones(realdata: Path) -> None:
    one = recorded(realdata, "Milestone.setUp.txt")[1]["body"]
    release = release_from_milestone("gh", "PyGithub/PyGithub", one)
    assert (release.id, release.remote_id, release.kind) == ("gh:milestone:PyGithub/PyGithub:1", "93546",
                                                             ReleaseKind.MILESTONE)
    assert release.name == one["title"] == "Version 0.4" and release.project == "PyGithub/PyGithub"
    assert release.due == date.fromisoformat(one["due_on"][:10]) and release.url == one["html_url"]
    assert release.released == (one["state"] == "closed")
    assert release.released_at == (ts(one["closed_at"]) if one["state"] == "closed" and one["closed_at"] else None)
    assert release.created == ts(one["created_at"]) is not None  # a replay leaves it out before then
    listed = recorded(realdata, "Repository.testGetMilestonesWithArguments.txt")[0]["body"]
    mapped = [release_from_milestone("gh", "PyGithub/PyGithub", m) for m in listed]
    assert [(r.name, r.released, r.due) for r in mapped] == [
        (m["title"], True, date.fromisoformat(m["due_on"][:10])) for m in listed]
    opened = release_from_milestone("gh", "o/r", example(realdata, "GET /repos/{owner}/{repo}/milestones")[0])
    assert (opened.released, opened.released_at, opened.description) == (False, None, "Tracking milestone for version 1.0")


def test_recorded_releases(realdata: Path) -> None:
    pages = recorded(realdata, "RequesterThrottleTestCase.testDeferRequests.txt")[1:]
    releases = [r for page in pages for r in page["body"]]
    mapped = [release_from_release("gh", "PyGithub/PyGithub", r) for r in releases]
    assert len(mapped) == 30 and len({r.id for r in mapped}) == 30
    for release, payload in zip(mapped, releases, strict=True):
        assert release.id == f"gh:release:PyGithub/PyGithub:{payload['id']}" and release.kind == ReleaseKind.RELEASE
        assert release.name == (payload["name"] or payload["tag_name"])  # v1.55 has an empty name
        assert release.released == (not payload["draft"] and bool(payload["published_at"]))
        assert release.released_at == ts(payload["published_at"]) and release.url == payload["html_url"]
        assert release.created == ts(payload["created_at"]) is not None
        assert release.description == (payload.get("body") or None)
        assert (release.prerelease, release.draft, release.tag) == (payload["prerelease"], payload["draft"],
                                                                    payload["tag_name"])
    prerelease = recorded(realdata, "GitRelease.testGetReleaseByTag.txt")[1]["body"]
    mapped_pre = release_from_release("gh", "o/r", prerelease)
    assert mapped_pre.released and mapped_pre.prerelease == bool(prerelease["prerelease"])  # published, though a prerelease
    draft = {**example(realdata, "GET /repos/{owner}/{repo}/releases")[0], "draft": True, "published_at": None}
    mapped_draft = release_from_release("gh", "o/r", draft)
    assert (mapped_draft.released, mapped_draft.released_at, mapped_draft.draft) == (False, None, True)


# -- Jira keys -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("texts", "branch", "expected"), [
    (["WID-12 fix login", "Implements WID-12 and OPS-3"], "feature/x", ["WID-12", "OPS-3"]),
    (["Move to UTF-8, hash with SHA-256, dates as ISO-8601"], None, []),
    (["see https://acme.atlassian.net/browse/WID-7."], None, ["WID-7"]),
    (["xWID-1 WID-1x WID-01 wid-2 (lower case in text is not a key)"], None, []),
    ([None, ""], "feature/wid-12-login", ["WID-12"]),  # branches are matched without regard to case
    (["ABC-1 is not a configured project"], "abc-2", []),
])
def test_jira_keys(texts: list[str | None], branch: str | None, expected: list[str]) -> None:
    assert jira_keys(texts, ["WID", "OPS"], PATTERN, branches=[branch]) == expected


@pytest.mark.parametrize(("branch", "expected"), [
    ("patch-1", []),  # GitHub's web editor names branches patch-N: never PATCH-1
    ("ann-patch-2", []),  # ... and USER-patch-N on a fork
    ("PATCH-3", ["PATCH-3"]),  # written in upper case, it names the key on purpose
    ("feature/patch-4-hotfix", ["PATCH-4"]),  # a name someone chose is matched without regard to case
    ("patch-5-wid-6", ["PATCH-5", "WID-6"]),
])
def test_github_default_branch_names_do_not_link_by_case(branch: str, expected: list[str]) -> None:
    assert jira_keys(["no key in the title"], ["WID", "PATCH"], PATTERN, branches=[branch]) == expected


def test_jira_key_pattern_is_configurable() -> None:
    assert jira_keys(["[WID_12] odd convention"], ["WID"], r"\[([A-Z]+)_(?:\d+)\]") == []  # "WID" is no key
    assert jira_keys(["[WID-12] bracketed"], ["WID"], r"\[([A-Z]+-\d+)\]") == ["WID-12"]


# -- pull requests from GraphQL --------------------------------------------------------------------

def pr_node(**overrides: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "number": 7, "state": "MERGED", "isDraft": False, "merged": True, "mergedAt": "2026-11-19T10:00:00Z",
        "mergedBy": {"login": "alice"}, "headRefName": "feature/wid-4-export", "baseRefName": "main",
        "headRefOid": "a" * 40, "additions": 120, "deletions": 30, "changedFiles": 6,
        "reviews": {"pageInfo": {"hasNextPage": False, "endCursor": "c2"}, "nodes": [
            {"author": {"login": "bob"}, "state": "CHANGES_REQUESTED", "submittedAt": "2026-11-18T09:00:00Z"},
            {"author": None, "state": "COMMENTED", "submittedAt": "2026-11-18T09:30:00Z"},  # a deleted account
            {"author": {"login": "bob"}, "state": "APPROVED", "submittedAt": "2026-11-18T12:00:00+01:00"}]},
        "reviewRequests": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [
            {"requestedReviewer": {"login": "carol"}}, {"requestedReviewer": {}}]},  # {}: a team
        "head": {"nodes": [{"commit": {"oid": "a" * 40, "statusCheckRollup": {"state": "ERROR"}}}]},
        "messages": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": [
            {"commit": {"message": "OPS-9 prepare"}}, {"commit": {"message": "Fix UTF-8 in export"}}]},
    }
    return {**node, **overrides}


def test_pull_from_graphql_maps_every_field() -> None:
    node = pr_node()
    pr, links, people = pull_from_graphql("gh", "gh:900", node, "Export CSV", "Closes WID-4", ["WID", "OPS"], PATTERN)
    assert (pr.item_id, pr.state, pr.draft) == ("gh:900", PullState.MERGED, False)
    assert pr.merged_at == datetime(2026, 11, 19, 10, tzinfo=UTC) and pr.merged_by_id == "gh:alice"
    assert (pr.head_branch, pr.base_branch, pr.head_sha) == ("feature/wid-4-export", "main", "a" * 40)
    assert (pr.additions, pr.deletions, pr.changed_files) == (120, 30, 6)
    assert [(r.author_id, r.state, r.submitted_at) for r in pr.reviews] == [
        ("gh:bob", ReviewState.CHANGES_REQUESTED, datetime(2026, 11, 18, 9, tzinfo=UTC)),
        (None, ReviewState.COMMENTED, datetime(2026, 11, 18, 9, 30, tzinfo=UTC)),
        ("gh:bob", ReviewState.APPROVED, datetime(2026, 11, 18, 11, tzinfo=UTC))]
    assert pr.requested_reviewer_ids == ["gh:carol"]
    assert pr.checks == CheckConclusion.FAILURE  # ERROR rolls up as a failure
    assert pr.linked_keys == ["WID-4", "OPS-9"]  # body, then commit messages; branch repeats WID-4
    assert [(lk.from_id, lk.kind, lk.to_key) for lk in links] == [("gh:900", LinkKind.IMPLEMENTS, "WID-4"),
                                                                  ("gh:900", LinkKind.IMPLEMENTS, "OPS-9")]
    assert sorted(p.id for p in people) == ["gh:alice", "gh:bob", "gh:carol"]
    assert pr.raw == node


@pytest.mark.parametrize(("state", "merged", "draft", "rollup", "want_state", "want_checks"), [
    ("OPEN", False, True, "PENDING", PullState.OPEN, CheckConclusion.PENDING),
    ("OPEN", False, False, "EXPECTED", PullState.OPEN, CheckConclusion.PENDING),
    ("CLOSED", False, False, "SUCCESS", PullState.CLOSED, CheckConclusion.SUCCESS),
    ("OPEN", False, False, None, PullState.OPEN, CheckConclusion.NEUTRAL),  # no checks at all
])
def test_pull_states_and_rollups(state: str, merged: bool, draft: bool, rollup: str | None,
                                 want_state: PullState, want_checks: CheckConclusion) -> None:
    head = {"nodes": [{"commit": {"oid": "b" * 40, "statusCheckRollup": {"state": rollup} if rollup else None}}]}
    node = pr_node(state=state, merged=merged, mergedAt=None, mergedBy=None, isDraft=draft, head=head)
    pr, _, _ = pull_from_graphql("gh", "gh:1", node, "t", None, [], PATTERN)
    assert (pr.state, pr.draft, pr.checks, pr.merged_at) == (want_state, draft, want_checks, None)
    assert head_rollup(node) == rollup
    assert pr.linked_keys == []  # no configured projects: no links at all


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The `where` of every user object read into a Person from now on."""
    reads: list[str] = []
    real = github_mapping.person_from_user

    def counted(source: str, user: Any, where: str = "user") -> Any:
        reads.append(where)
        return real(source, user, where)

    monkeypatch.setattr(github_mapping, "person_from_user", counted)
    return reads


def test_an_issue_reads_each_of_its_users_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ann, bob = {"login": "ann", "id": 1}, {"login": "bob", "id": 2, "name": "Bob B."}
    issue = {"id": 7, "number": 7, "title": "t", "state": "open", "created_at": "2026-11-01T00:00:00Z",
             "updated_at": "2026-11-02T00:00:00Z", "user": dict(bob), "assignee": dict(ann),
             "assignees": [dict(ann), {"login": "carol"}]}  # the assignee again, as GitHub sends it: an equal copy
    reads = _counting_reads(monkeypatch)
    item, people = issue_records("gh", "acme/widget", issue)
    # the assignee, the author and the second assignee: the copy of the assignee is not read again
    assert reads == ["assignee", "user", "assignees[1]"]
    assert (item.assignee_id, item.reporter_id) == ("gh:ann", "gh:bob")
    assert [(p.id, p.display_name) for p in people] == [("gh:bob", "Bob B."), ("gh:ann", "ann"), ("gh:carol", "carol")]
    # the same records as the two functions read apart
    assert item == item_from_issue("gh", "acme/widget", issue) and people == people_from_issue("gh", issue)


def test_a_pull_request_reads_each_of_its_users_once(monkeypatch: pytest.MonkeyPatch) -> None:
    node = pr_node()  # merged by alice; reviews by bob, nobody, bob; carol and a team requested
    reads = _counting_reads(monkeypatch)
    pr, _, people = pull_from_graphql("gh", "gh:900", node, "Export CSV", None, ["WID"], PATTERN)
    assert reads == ["mergedBy", "reviews.nodes[0].author", "reviews.nodes[1].author",  # bob's second: not again
                     "reviewRequests.nodes[0].requestedReviewer", "reviewRequests.nodes[1].requestedReviewer"]
    assert [p.id for p in people] == ["gh:alice", "gh:bob", "gh:carol"]
    assert pr.merged_by_id == "gh:alice" and pr.requested_reviewer_ids == ["gh:carol"]
    assert [r.author_id for r in pr.reviews] == ["gh:bob", None, "gh:bob"]
