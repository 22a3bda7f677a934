"""The sandbox's generated history: deterministic, internally consistent, counted, and troubled.

Every check reads the rendered payloads the way a client would (not the generator's internals),
so a generator bug that breaks the API shapes or the story they tell fails here.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors.config import GitHubSource
from syncd.connectors.github_mapping import jira_keys
from syncd.sandbox import github as gh_helpers
from syncd.sandbox.generate import generate_world
from syncd.sandbox.world import GitHubRepo, World

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
TRACKED = {"status", "Sprint", "Story point estimate", "assignee", "Fix Version", "priority", "labels", "Component",
           "duedate", "Flagged", "IssueParentAssociation", "Parent", "Epic Link", "Link"}
Json = dict[str, Any]


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module", params=[(7, 2000, NOW), (3, 600, NOW + timedelta(days=3, hours=7))],
                ids=["seed7-2000", "seed3-600"])
def world(request: pytest.FixtureRequest) -> World:
    seed, size, now = request.param
    return generate_world(seed=seed, issues=size, now=now)


def issues(world: World) -> list[Json]:
    return list(world.jira.issues.values())


def pulls(world: World) -> list[tuple[GitHubRepo, Json]]:
    return [(repo, p) for repo in world.github.repos.values() for p in repo.pulls.values()]


def category(issue: Json) -> str:
    return str(issue["fields"]["status"]["statusCategory"]["key"])


def items_of(issue: Json, field: str) -> list[tuple[datetime, Json]]:
    return [(ts(h["created"]), it) for h in issue["changelog"]["histories"] for it in h["items"] if it["field"] == field]


def sprint_ids(issue: Json) -> list[int]:
    return [s["id"] for s in issue["fields"]["customfield_10020"] or []]


def digest(world: World) -> str:
    blob = json.dumps([world.jira.issues, world.jira.sprints, world.jira.versions, world.jira.users,
                       {name: [r.issues, r.pulls, r.reviews, r.commits, r.check_runs, r.milestones, r.releases]
                        for name, r in world.github.repos.items()}], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# -- size, determinism, truth ----------------------------------------------------------------------

def test_same_seed_and_now_give_the_same_world_and_another_seed_does_not() -> None:
    first, again = generate_world(3, 300, NOW), generate_world(3, 300, NOW)
    assert digest(first) == digest(again)
    assert first.truth == again.truth
    assert digest(generate_world(4, 300, NOW)) != digest(first)


def test_the_world_does_not_depend_on_the_interpreter_run() -> None:
    script = ("import sys; from datetime import datetime, UTC; from syncd.sandbox.generate import generate_world; "
              "from tests.unit.test_generate import digest; "
              "print(digest(generate_world(3, 300, datetime(2026, 11, 20, 12, tzinfo=UTC))))")
    digests = {subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
                              capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
               for seed in ("1", "2")}
    assert digests == {digest(generate_world(3, 300, NOW))}


@pytest.mark.parametrize("size", [100, 2000])
def test_item_count_is_exact_and_about_sixty_percent_jira(size: int) -> None:
    w = generate_world(11, size, NOW)
    t = w.truth
    assert t.jira_issues + t.github_issues + t.github_pulls == size
    assert t.jira_issues == round(size * 0.6)


def test_out_of_range_sizes_are_refused() -> None:
    for bad in (99, 100_001):
        with pytest.raises(ValueError, match="between 100 and 100000"):
            generate_world(1, bad, NOW)


def test_truth_counts_what_the_world_holds(world: World) -> None:
    t, jw = world.truth, world.jira
    assert t.jira_issues == len(jw.issues)
    assert t.jira_sprints == len(jw.sprints)
    assert t.jira_versions == sum(len(v) for v in jw.versions.values())
    link_ids = {link["id"] for i in issues(world) for link in i["fields"]["issuelinks"]}
    assert t.jira_links == len(link_ids) > 10
    assert t.jira_transitions == sum(1 for i in issues(world) for h in i["changelog"]["histories"]
                                     for it in h["items"] if it["field"] in TRACKED)
    repos = world.github.repos.values()
    assert t.github_pulls == sum(len(r.pulls) for r in repos)
    assert t.github_issues == sum(len(r.issues) - len(r.pulls) for r in repos)
    assert t.github_reviews == sum(len(v) for r in repos for v in r.reviews.values())
    assert t.github_milestones == sum(len(r.milestones) for r in repos)
    assert t.github_releases == sum(len(r.releases) for r in repos)


def test_truth_extra_describes_goals_with_real_keys(world: World) -> None:
    extra = world.truth.extra
    keys = {i["key"] for i in issues(world)}
    assert extra["epics"] and all(e["key"] in keys and e["project"] in ("WID", "GAD") for e in extra["epics"])
    assert any(e["target_date"] for e in extra["epics"])
    names = {v["name"] for vs in world.jira.versions.values() for v in vs}
    assert extra["versions"] and all(v["key"] in names for v in extra["versions"])
    assert sum(1 for v in extra["versions"] if v["overdue"]) == 2  # one a project
    for rule, found in extra["troubles"].items():
        assert found and set(found) <= keys, rule


# -- Jira consistency -----------------------------------------------------------------------------

def test_every_issue_tells_a_consistent_story(world: World) -> None:
    sprints = world.jira.sprints
    by_key = {i["key"]: i for i in issues(world)}
    for issue in issues(world):
        f = issue["fields"]
        created, updated = ts(f["created"]), ts(f["updated"])
        stamps = [ts(h["created"]) for h in issue["changelog"]["histories"]]
        assert stamps == sorted(stamps), issue["key"]
        assert all(created <= s <= updated for s in stamps), issue["key"]
        assert updated <= world.now
        done = category(issue) == "done"
        assert bool(f["resolution"]) == done == bool(f["resolutiondate"]), issue["key"]
        statuses = items_of(issue, "status")
        if statuses:
            assert statuses[0][1]["fromString"] == "To Do"
            assert statuses[-1][1]["toString"] == f["status"]["name"], issue["key"]
            for (_, a), (_, b) in zip(statuses, statuses[1:], strict=False):
                assert a["toString"] == b["fromString"], issue["key"]
        else:
            assert f["status"]["name"] == "To Do"
        sprint_changes = items_of(issue, "Sprint")
        final = [int(x) for x in sprint_changes[-1][1]["to"].split(", ") if x] if sprint_changes else []
        assert final == sprint_ids(issue), issue["key"]
        assert all(s in sprints for s in sprint_ids(issue))
        estimates = items_of(issue, "Story point estimate")
        if estimates:
            assert estimates[-1][1]["toString"] == (None if f["customfield_10016"] is None
                                                    else f"{f['customfield_10016']:g}"), issue["key"]
        assignees = items_of(issue, "assignee")
        assert (assignees[-1][1]["to"] if assignees else None) == (f["assignee"] or {}).get("accountId"), issue["key"]
        versions: set[str] = set()
        for _, change in items_of(issue, "Fix Version"):
            versions.discard(change["from"])
            if change["to"]:
                versions.add(change["to"])
        assert versions <= {v["id"] for v in f["fixVersions"]}, issue["key"]
        if "parent" in f:
            assert f["parent"]["key"] in by_key
            if f["issuetype"]["subtask"]:
                assert by_key[f["parent"]["key"]]["fields"]["issuetype"]["name"] != "Epic"


def test_sprints_are_shaped_by_their_state(world: World) -> None:
    states: Counter[str] = Counter()
    for sprint in world.jira.sprints.values():
        states[sprint["state"]] += 1
        assert sprint["originBoardId"] in world.jira.boards
        has = {k for k in ("startDate", "endDate", "completeDate") if k in sprint}
        expected = {"closed": {"startDate", "endDate", "completeDate"}, "active": {"startDate", "endDate"},
                    "future": set()}[sprint["state"]]
        assert has == expected, sprint
        if sprint["state"] == "closed":
            assert ts(sprint["startDate"]) < ts(sprint["completeDate"]) < world.now
    assert states["active"] == 2 and states["future"] == 4 and states["closed"] >= 8
    assert any(s.get("goal") for s in world.jira.sprints.values())
    assert {b["type"] for b in world.jira.boards.values()} == {"scrum", "kanban"}


def test_site_has_the_fields_statuses_and_links_a_connector_discovers(world: World) -> None:
    by_name = {f["name"]: f for f in world.jira.fields}
    assert by_name["Story point estimate"]["schema"]["custom"].endswith("jsw-story-points")
    assert "Story Points" in by_name and by_name["Sprint"]["schema"]["custom"].endswith("gh-sprint")
    assert by_name["Epic Link"]["schema"]["custom"].endswith("gh-epic-link") and "Flagged" in by_name
    assert {s["statusCategory"]["key"] for s in world.jira.statuses} == {"new", "indeterminate", "done"}
    assert {"Blocked", "QA"} <= {s["name"] for s in world.jira.statuses}
    legacy = [i for i in issues(world) if i["fields"]["customfield_10014"]]
    assert legacy and all("parent" not in i["fields"] for i in legacy)
    kinds = Counter(i["fields"]["issuetype"]["name"] for i in issues(world))
    assert all(kinds[k] > 10 for k in ("Epic", "Story", "Task", "Bug", "Sub-task"))
    assert any(i["fields"]["assignee"] is None for i in issues(world))
    assert any(v["released"] for vs in world.jira.versions.values() for v in vs)
    assert world.jira.server_info["deploymentType"] == "Cloud"


# -- GitHub consistency -----------------------------------------------------------------------------

def test_pull_requests_and_issues_are_consistent(world: World) -> None:
    for repo, pull in pulls(world):
        issue = repo.issues[pull["number"]]
        created = ts(pull["created_at"])
        assert issue["pull_request"]["merged_at"] == pull["merged_at"]
        assert issue["state"] == pull["state"] and issue["updated_at"] == pull["updated_at"]
        if pull["merged_at"]:
            assert ts(pull["merged_at"]) >= created and pull["state"] == "closed" and pull["merged"]
        for review in repo.reviews.get(pull["number"], []):
            assert created <= ts(review["submitted_at"]) <= ts(pull["updated_at"]) <= world.now
        assert repo.check_runs[pull["head"]["sha"]]
        assert repo.commits[pull["number"]][-1]["sha"] == pull["head"]["sha"]
    for repo in world.github.repos.values():
        assert sorted(repo.issues) == list(range(1, len(repo.issues) + 1))
        for m in repo.milestones.values():
            members = [i for i in repo.issues.values() if (i["milestone"] or {}).get("number") == m["number"]]
            assert (m["open_issues"], m["closed_issues"]) == (
                sum(1 for i in members if i["state"] == "open"), sum(1 for i in members if i["state"] == "closed"))
        if repo.milestones:  # a repository whose project has fix versions
            assert any(r["draft"] for r in repo.releases) and any(r["prerelease"] for r in repo.releases)


def test_payload_keys_match_the_github_helpers(world: World) -> None:
    from tests.integration.test_sandbox_github import make_world

    sample = make_world(issues=3, pulls=3)
    made = sample.github.repos["acme/widget"]
    number = max(made.pulls)
    gh_helpers.add_review(sample, "acme/widget", number, "alice")
    repo = world.github.repos["acme/widget"]
    pull = next(p for p in repo.pulls.values() if repo.reviews.get(p["number"]))
    plain = next(i for i in repo.issues.values() if "pull_request" not in i)
    assert set(plain) == set(made.issues[1])
    assert set(repo.issues[pull["number"]]) == set(made.issues[number])
    assert set(pull) == set(made.pulls[number])
    assert set(repo.reviews[pull["number"]][0]) == set(made.reviews[number][0])
    assert set(repo.commits[pull["number"]][0]) == set(made.commits[number][0])
    assert set(repo.check_runs[pull["head"]["sha"]][0]) == set(next(iter(made.check_runs.values()))[0])


def test_a_live_pull_request_is_based_on_the_repositorys_base_commit_like_a_generated_one(world: World) -> None:
    """One builder for both (gh_payloads.pull): a live PR's base was 40 zeros (git's null sha) while the
    generator's was the base commit. Worked answer: sha1 of "base:acme/widget", written out here."""
    from tests.integration.test_sandbox_github import make_world

    base_commit = hashlib.sha1(b"base:acme/widget", usedforsecurity=False).hexdigest()
    generated = next(iter(world.github.repos["acme/widget"].pulls.values()))
    sample = make_world(issues=3, pulls=3)  # live PRs (add_pull); the shared `world` stays as generated
    live = gh_helpers.add_pull(sample, "acme/widget", "WID-1 a live change", head="feature/live",
                               commit_messages=["first", "second"])
    assert generated["base"]["sha"] == live["base"]["sha"] == base_commit
    assert (live["base"]["ref"], live["head"]["ref"], live["state"], live["mergeable_state"]) == (
        "main", "feature/live", "open", "clean")
    commits = sample.github.repos["acme/widget"].commits[live["number"]]
    assert live["head"]["sha"] == commits[1]["sha"] and commits[1]["parents"][0]["sha"] == commits[0]["sha"]
    assert commits[0]["parents"] == [] and live["commits"] == 2


def test_pull_requests_name_jira_keys_that_exist_and_decoys_do_not_link(world: World) -> None:
    pattern = GitHubSource.model_fields["key_pattern"].default
    keys = {i["key"] for i in issues(world)}
    linked = 0
    titles = []
    for repo, pull in pulls(world):
        titles.append(pull["title"])
        messages = [c["commit"]["message"] for c in repo.commits[pull["number"]]]
        found = jira_keys([pull["title"], pull["head"]["ref"], pull["body"], *messages], ["WID", "GAD", "OPS"], pattern)
        assert set(found) <= keys
        linked += len(found)
    assert linked == world.truth.extra["pull_links"] > 0.5 * world.truth.github_pulls
    for decoy in ("UTF-8", "SHA-256", "ISO-8601", "CVE-2024-3094", "TLS-1.3"):
        assert any(decoy in t for t in titles), decoy
    places: Counter[str] = Counter()
    for repo, pull in pulls(world):
        if jira_keys([pull["title"]], ["WID", "GAD"], pattern):
            places["title"] += 1
        elif jira_keys([pull["head"]["ref"]], ["WID", "GAD"], pattern):
            places["branch"] += 1
        elif jira_keys([pull["body"]], ["WID", "GAD"], pattern):
            places["body"] += 1
        elif jira_keys([c["commit"]["message"] for c in repo.commits[pull["number"]]], ["WID", "GAD"], pattern):
            places["commit"] += 1
    assert set(places) == {"title", "branch", "body", "commit"}


# -- the trouble every risk rule should find ---------------------------------------------------------

def active_sprint(world: World, board: int = 1) -> Json:
    return next(s for s in world.jira.sprints.values() if s["state"] == "active" and s["originBoardId"] == board)


def closed_sprints(world: World, board: int = 1) -> list[Json]:
    return sorted((s for s in world.jira.sprints.values() if s["state"] == "closed" and s["originBoardId"] == board),
                  key=lambda s: s["startDate"])


def first_progress(issue: Json) -> datetime | None:
    return next((at for at, it in items_of(issue, "status") if it["toString"] == "In Progress"), None)


def test_stale_and_aging_work_in_progress(world: World) -> None:
    in_progress = [i for i in issues(world) if category(i) == "indeterminate" and i["fields"]["issuetype"]["name"] != "Epic"]
    assert any(ts(i["fields"]["updated"]) < world.now - timedelta(days=5) for i in in_progress)
    cycle = sorted((ts(i["fields"]["resolutiondate"]) - start).total_seconds()
                   for i in issues(world) if category(i) == "done" and (start := first_progress(i)))
    p85 = cycle[int(len(cycle) * 0.85)]
    assert any((world.now - start).total_seconds() > p85 for i in in_progress if (start := first_progress(i)))


def test_pull_request_trouble(world: World) -> None:
    open_prs = [(r, p) for r, p in pulls(world) if p["state"] == "open"]
    assert any(not p["draft"] and not r.reviews.get(p["number"]) and ts(p["created_at"]) < world.now - timedelta(hours=24)
               for r, p in open_prs)
    assert any(p["additions"] + p["deletions"] > 400 for _, p in pulls(world))

    def failing(repo: GitHubRepo, pull: Json) -> bool:
        return any(run["conclusion"] == "failure" for run in repo.check_runs[pull["head"]["sha"]])

    assert any(failing(r, p) for r, p in open_prs)
    assert any(failing(r, p) for r, p in pulls(world) if p["merged_at"])
    states = Counter(rv["state"] for r in world.github.repos.values() for rvs in r.reviews.values() for rv in rvs)
    assert {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"} <= set(states)
    assert len({rv["user"]["login"] for r in world.github.repos.values() for rvs in r.reviews.values() for rv in rvs}) >= 4


def test_blocked_work(world: World) -> None:
    by_key = {i["key"]: i for i in issues(world)}
    sprint_start = {s["id"]: s.get("startDate") for s in world.jira.sprints.values()}
    later, other_project = False, False
    for issue in issues(world):
        if category(issue) == "done":
            continue
        for link in issue["fields"]["issuelinks"]:
            blocker = link.get("inwardIssue")
            if link["type"]["name"] != "Blocks" or blocker is None:
                continue
            b = by_key[blocker["key"]]
            if category(b) == "done":
                continue
            other_project |= b["fields"]["project"]["key"] != issue["fields"]["project"]["key"]
            mine = [sprint_start[s] for s in sprint_ids(issue)]
            theirs = [sprint_start[s] for s in sprint_ids(b)]
            later |= bool(mine and theirs and theirs[-1] is None and mine[-1] is not None)
    assert later and other_project
    assert any(i["fields"]["customfield_10021"] for i in issues(world) if category(i) != "done")


def test_overdue_versions_and_due_dates(world: World) -> None:
    today = world.now.date()
    overdue = {v["id"] for vs in world.jira.versions.values() for v in vs
               if not v["released"] and "releaseDate" in v and date.fromisoformat(v["releaseDate"]) < today}
    assert overdue
    assert any(v["id"] in overdue for i in issues(world) if category(i) != "done" for v in i["fields"]["fixVersions"])
    assert any(i["fields"]["duedate"] and date.fromisoformat(i["fields"]["duedate"]) < today
               for i in issues(world) if category(i) != "done")


def test_scope_creep_and_a_goal_behind(world: World) -> None:
    by_epic: dict[str, list[Json]] = {}
    for issue in issues(world):
        parent = issue["fields"].get("parent")
        epic = parent["key"] if parent and parent["fields"]["issuetype"]["name"] == "Epic" else issue["fields"]["customfield_10014"]
        if epic:
            by_epic.setdefault(epic, []).append(issue)
    crept = behind = False
    for key, children in by_epic.items():
        starts = [s for c in children if (s := first_progress(c))]
        if not starts:
            continue
        baseline = min(starts)
        added = sum(1 for c in children if ts(c["fields"]["created"]) > baseline)
        crept |= added / len(children) > 0.15
        epic = world.jira.issues[next(i["id"] for i in issues(world) if i["key"] == key)]
        due = epic["fields"]["duedate"]
        done = sum(1 for c in children if category(c) == "done")
        if due and world.now.date() < date.fromisoformat(due) <= world.now.date() + timedelta(days=28):
            behind |= done / len(children) < 0.5
    assert crept and behind


def test_sprint_trouble(world: World) -> None:
    active = active_sprint(world)
    in_active = [i for i in issues(world) if active["id"] in sprint_ids(i) and not i["fields"]["issuetype"]["subtask"]]
    velocities = []
    for sprint in closed_sprints(world)[-3:]:
        start, end = ts(sprint["startDate"]), ts(sprint["completeDate"])
        velocities.append(sum(i["fields"]["customfield_10016"] or 0 for i in issues(world)
                              if sprint["id"] in sprint_ids(i) and i["fields"]["resolutiondate"]
                              and start <= ts(i["fields"]["resolutiondate"]) <= end))
    committed = sum(i["fields"]["customfield_10016"] or 0 for i in in_active)
    assert committed > 1.2 * statistics.mean(velocities)
    assert any(i["fields"]["assignee"] is None for i in in_active)

    def without_ac(issue: Json) -> bool:
        return issue["fields"]["issuetype"]["name"] == "Story" and "Acceptance criteria" not in json.dumps(
            issue["fields"]["description"])

    future = next(s for s in sorted(world.jira.sprints.values(), key=lambda s: s["id"])
                  if s["state"] == "future" and s["originBoardId"] == 1)
    assert any(without_ac(i) for i in in_active)
    assert any(without_ac(i) for i in issues(world) if future["id"] in sprint_ids(i))
    assert any(not without_ac(i) for i in in_active if i["fields"]["issuetype"]["name"] == "Story")
    assert any(len(sprint_ids(i)) >= 3 for i in issues(world) if category(i) != "done")
    added_late = [i for i in in_active for at, it in items_of(i, "Sprint")
                  if str(active["id"]) in it["to"].split(", ") and str(active["id"]) not in (it["from"] or "").split(", ")
                  and at > ts(active["startDate"])]
    assert added_late
    sprint_windows = [(ts(s["startDate"]), ts(s.get("completeDate") or world.now.isoformat())) for s in world.jira.sprints.values()
                      if "startDate" in s]
    assert any(any(a <= at <= b for a, b in sprint_windows) and it["fromString"]
               for i in issues(world) for at, it in items_of(i, "Story point estimate"))


def test_throughput_varies_and_bugs_outpace_fixes(world: World) -> None:
    weekly = Counter((ts(i["fields"]["resolutiondate"]).date() - world.now.date()).days // 7
                     for i in issues(world) if i["fields"]["resolutiondate"])
    counts = [weekly[w] for w in range(-20, -1)]
    assert max(counts) > 1.5 * min(counts) and statistics.pstdev(counts) > 1
    bugs = [i for i in issues(world) if i["fields"]["issuetype"]["name"] == "Bug"]
    since = world.now - timedelta(days=14)
    created = sum(1 for b in bugs if ts(b["fields"]["created"]) >= since)
    resolved = sum(1 for b in bugs if b["fields"]["resolutiondate"] and ts(b["fields"]["resolutiondate"]) >= since)
    assert created > 1.5 * max(resolved, 1)


def test_hostile_text_is_present(world: World) -> None:
    jira_titles = [i["fields"]["summary"] for i in issues(world)]
    gh_titles = [i["title"] for r in world.github.repos.values() for i in r.issues.values()]
    titles = jira_titles + gh_titles
    for needle in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "| pipes |", "](javascript:alert(1))",
                   "**bold**", "\r\nBcc: evil@example.com", "日本語", "العربية", "🚀"):
        assert any(needle in t for t in titles), needle
    assert any("\r\nBcc:" in t for t in jira_titles) and any("\r\nBcc:" in t for t in gh_titles)
    assert any(len(t) > 300 for t in jira_titles)
    assert any("<" in u["displayName"] for u in world.jira.users.values())
    assert any("<" in lab["name"] for r in world.github.repos.values() for lab in r.labels)


@pytest.mark.slow
def test_ten_thousand_items_hold_together() -> None:
    w = generate_world(5, 10_000, NOW)
    t = w.truth
    assert t.jira_issues + t.github_issues + t.github_pulls == 10_000
    assert {p["key"] for p in w.truth.extra["projects"]} == {"WID", "GAD", "OPS"}
    assert any(b["type"] == "kanban" and b["location"]["projectKey"] == "OPS" for b in w.jira.boards.values())
    assert t.jira_transitions > 3 * t.jira_issues
