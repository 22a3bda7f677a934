"""The GitHub host rendered from the generator's specs: repositories, labels, milestones mirroring
fix versions, releases, and every issue and pull request (numbered per repository in creation
order) with its commits, reviews, check runs and commit statuses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncd.sandbox import gh_payloads as gp
from syncd.sandbox.generate import PROJECTS
from syncd.sandbox.timeline import DONE, Project, Version
from syncd.sandbox.world import GitHubRepo, GitHubWorld

Json = dict[str, Any]
LABELS = [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("chore", "cccccc"), ("dependencies", "0366d6"),
          ("question", "d876e3"), ("regression", "b60205"), ("good first issue", "7057ff"), ("needs: <triage>", "ededed")]


@dataclass(eq=False)
class Spec:
    """One issue or pull request before it has a number."""

    repo: str
    kind: str  # issue | pull
    created: datetime
    title: str
    author: str
    body: str | None = None
    labels: list[str] = field(default_factory=list)
    version: Version | None = None
    closed: datetime | None = None
    closed_by: str | None = None
    state_reason: str | None = None
    assignees: list[str] = field(default_factory=list)
    comments: list[tuple[datetime, str, str]] = field(default_factory=list)
    head: str = ""
    draft: bool = False
    merged: datetime | None = None
    additions: int = 10
    deletions: int = 2
    messages: list[tuple[datetime, str]] = field(default_factory=list)
    reviews: list[tuple[datetime, str, str]] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    checks: str = "success"
    lint: bool = False
    updated: datetime | None = None
    key: str | None = None


@dataclass
class Rendered:
    """The GitHub host plus what was counted while rendering it."""

    world: GitHubWorld
    issues: int = 0
    pulls: int = 0
    reviews: int = 0
    milestones: int = 0
    releases: int = 0
    links: int = 0


class HostRenderer:
    """Numbers the specs per repository and renders every payload of the GitHub host."""

    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.plan, self.rng, self.now = plan, rng, plan.now
        self.gh = GitHubWorld()
        self.base = self.gh.base_url.rstrip("/")
        self.users: dict[str, Json] = {}

    def user(self, login: str) -> Json:
        """The simple-user payload of `login`, created (with the next id) on first use."""
        found = self.users.get(login)
        if found is None:
            kind = "Bot" if login.endswith("[bot]") else "User"
            found = self.users[login] = gp.user(self.base, login, 1000 + len(self.users), kind)
            self.gh.users[login] = found
        return found

    def render(self, specs: list[Spec], links: int) -> Rendered:
        """Every repository with its labels, milestones, releases, issues and pull requests."""
        gh, plan, now = self.gh, self.plan, self.now
        out = Rendered(world=gh, links=links)
        org = gp.user(self.base, "acme", 900, "Organization")
        bot = self.user("syncd-bot")
        gh.viewer = gp.viewer(bot, "syncd service account", plan.projects[0].start - timedelta(days=400))
        milestones: dict[int, Json] = {}
        for n, project in enumerate(plan.projects):
            first = project.start - timedelta(days=200)
            name = PROJECTS[project.key][1]
            repo = GitHubRepo(repo=gp.repository(self.base, org, name.split("/")[1], 70001 + n,
                                                 f"The {project.name} service", first, now - timedelta(hours=2)))
            gh.repos[name] = repo
            repo.labels = [gp.label(repo.repo, 1_000_000 + 100 * n + k, label, color, None)
                           for k, (label, color) in enumerate(LABELS)]
            lead = self.user(project.lead.login)
            for number, v in enumerate(project.versions, 1):
                closed = datetime.combine(v.release, datetime.min.time(), now.tzinfo) + timedelta(hours=17) \
                    if v.released and v.release else None
                due = datetime.combine(v.release, datetime.min.time(), now.tzinfo) + timedelta(hours=7) if v.release else None
                created = datetime.combine(v.start, datetime.min.time(), now.tzinfo) + timedelta(hours=9)
                repo.milestones[number] = milestones[v.id] = gp.milestone(
                    repo.repo, number, 7_000_000 + v.id, "v" + v.name.rsplit(" ", 1)[-1], v.description, lead,
                    min(created, now), due, closed)
            out.milestones += len(project.versions)
            out.releases += self.releases(project, repo, lead)
        numbers: dict[str, int] = {}
        pull_count = 0
        for issue_count, spec in enumerate(sorted(specs, key=lambda s: (s.created, s.repo, s.title))):
            repo = gh.repos[spec.repo]
            numbers[spec.repo] = number = numbers.get(spec.repo, 0) + 1
            labels = [lab for lab in repo.labels if lab["name"] in spec.labels]
            milestone = milestones.get(spec.version.id) if spec.version is not None else None
            times = [spec.created, *(t for t, _, _ in spec.comments), *(t for t, _, _ in spec.reviews),
                     *(t for t, _ in spec.messages)]
            updated = min(now, max([*times, spec.closed or spec.created, spec.updated or spec.created]))
            issue = gp.issue(repo.repo, number, 2_000_000_000 + issue_count, spec.title, self.user(spec.author),
                             spec.body, labels, milestone, spec.created, updated, spec.closed,
                             self.user(spec.closed_by) if spec.closed_by else None,
                             spec.state_reason if spec.kind == "issue" else None,
                             [self.user(a) for a in spec.assignees], len(spec.comments))
            repo.issues[number] = issue
            if spec.comments:
                repo.comments[number] = [gp.comment(repo.repo, number, 6_000_000_000 + issue_count * 10 + k, body, at,
                                                    self.user(who)) for k, (at, who, body) in enumerate(spec.comments)]
            if spec.kind == "issue":
                out.issues += 1
                continue
            pull_count += 1
            out.pulls += 1
            out.reviews += self.pull(repo, issue, spec, 1_000_000_000 + pull_count)
        for repo in gh.repos.values():
            counts: dict[int, list[int]] = {}
            for issue in repo.issues.values():
                if issue["milestone"] is not None:
                    pair = counts.setdefault(issue["milestone"]["number"], [0, 0])
                    pair[0 if issue["state"] == "open" else 1] += 1
            for number, (open_, closed_) in counts.items():
                repo.milestones[number]["open_issues"], repo.milestones[number]["closed_issues"] = open_, closed_
            repo.repo["open_issues_count"] = repo.repo["open_issues"] = sum(
                1 for i in repo.issues.values() if i["state"] == "open")
        return out

    def pull(self, repo: GitHubRepo, issue: Json, spec: Spec, pull_id: int) -> int:
        """Render one pull request with its commits, reviews and checks; returns how many reviews."""
        rng, now, number = self.rng, self.now, issue["number"]
        author = self.user(spec.author)
        commits: list[Json] = []
        for k, (at, message) in enumerate(spec.messages):
            sha = gp.sha_of(repo.repo["full_name"], number, k, self.plan.seed)
            commits.append(gp.commit(repo.repo, sha, message, author, at, commits[-1] if commits else None))
        head_sha = commits[-1]["sha"]
        issue["pull_request"] = gp.pull_link(repo.repo, number, spec.merged)
        issue["draft"] = spec.draft
        approved = any(state == "APPROVED" for _, _, state in spec.reviews)
        state = "draft" if spec.draft else ("unstable" if spec.checks == "failure" else ("clean" if approved else "blocked"))
        pull = gp.pull(repo.repo, issue, pull_id, spec.head, head_sha, spec.draft, spec.merged,
                       self.user(spec.closed_by) if spec.merged and spec.closed_by else None,
                       [self.user(r) for r in spec.requested], len(commits), spec.additions, spec.deletions,
                       max(1, spec.additions // 60 + 1), state)
        issue["node_id"] = pull["node_id"]  # a PR's issue view shares the PR's global id
        repo.pulls[number] = pull
        repo.commits[number] = commits
        repo.reviews[number] = [
            gp.review(pull, 3_000_000_000 + pull_id * 8 + k, self.user(who), st,
                      {"APPROVED": "LGTM", "CHANGES_REQUESTED": "Please handle the error case.",
                       "COMMENTED": "A few nits inline."}[st], at, head_sha)
            for k, (at, who, st) in enumerate(spec.reviews)]
        pushed = spec.messages[-1][0]
        runs = []
        for k, name in enumerate(("build", "test")):
            started = pushed + timedelta(minutes=2 + k)
            completed: datetime | None = started + timedelta(minutes=rng.randint(3, 9))
            conclusion = "failure" if spec.checks == "failure" and name == "test" else "success"
            if spec.checks == "pending" and name == "test" or (completed is not None and completed >= now):
                completed = None
            runs.append(gp.check_run(repo.repo, 4_000_000_000 + pull_id * 4 + k, head_sha, name, conclusion,
                                     min(started, now), completed))
        repo.check_runs[head_sha] = runs
        if spec.lint:
            failed = rng.random() < (0.5 if spec.checks == "failure" else 0.05)
            repo.statuses[head_sha] = [gp.commit_status(repo.repo, head_sha, 5_000_000_000 + pull_id, "ci/lint",
                                                        "failure" if failed else "success",
                                                        min(pushed + timedelta(minutes=1), now),
                                                        self.user("github-actions[bot]"))]
        return len(spec.reviews)

    def releases(self, project: Project, repo: GitHubRepo, lead: Json) -> int:
        """Published releases for shipped versions, a draft for the overdue one, a release candidate for the next."""
        now = self.now
        upcoming = next((v for v in project.versions if not v.released and v.release and v.release > now.date()), None)
        for v in project.versions:
            number = v.name.rsplit(" ", 1)[-1]
            done = [i for i in project.items if i.versions and i.versions[0] is v and i.status == DONE
                    and i.kind != "Epic"][:8]
            body = "## What's changed\n" + "\n".join(f"- {i.key} {i.summary}" for i in done)
            if v.released and v.release:
                at = datetime.combine(v.release, datetime.min.time(), now.tzinfo) + timedelta(hours=16, minutes=30)
                repo.releases.append(gp.release(repo.repo, 8_000_000 + v.id, f"v{number}.0", f"{project.name} {number}",
                                                body, lead, at))
            elif v.overdue and v.release:
                at = datetime.combine(v.release, datetime.min.time(), now.tzinfo) + timedelta(hours=11)
                repo.releases.append(gp.release(repo.repo, 8_000_000 + v.id, f"v{number}.0", f"{project.name} {number}",
                                                body, lead, min(at, now), draft=True))
            elif v is upcoming:
                repo.releases.append(gp.release(repo.repo, 8_000_000 + v.id, f"v{number}.0-rc1",
                                                f"{project.name} {number} RC1", body, lead, now - timedelta(days=2),
                                                prerelease=True))
        return len(repo.releases)
