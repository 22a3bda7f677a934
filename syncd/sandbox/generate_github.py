"""Render the GitHub side of the simulated history: pull requests for the Jira work, other PRs
(dependency bumps, chores, titles with look-alike keys such as UTF-8 or SHA-256), issues from
users, reviews, check runs and commit statuses, milestones mirroring fix versions, and releases.

A PR follows its Jira item: it opens shortly before the item moves to In Review, collects a
CHANGES_REQUESTED review each time the item bounced back to In Progress, is approved and merged
shortly before the item is resolved (or when it entered QA), and stays open while the item is
still in review. The Jira key sits where teams put it: the title, a `[KEY]` prefix, the head
branch, a commit message or the body ("Closes KEY").
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncd.sandbox import gh_payloads as gp
from syncd.sandbox.generate import PROJECTS
from syncd.sandbox.timeline import DONE, PROGRESS, QA, REVIEW, Item, Project, Version
from syncd.sandbox.world import GitHubRepo, GitHubWorld

Json = dict[str, Any]
PULL_SHARE = 0.65
DECOYS = ["Support UTF-8 file names in CSV exports", "Verify SHA-256 checksums of release artifacts",
          "Log ISO-8601 timestamps everywhere", "Rebuild the base image for CVE-2024-3094",
          "Require TLS-1.3 for the public API"]
CHORES = ["Fix flaky test in {x}", "Speed up CI cache for {x}", "Tidy up logging in {x}", "Refactor {x} helpers",
          "Add type hints to {x}", "Remove dead code from {x}"]
PACKAGES = [("requests", "2.31.0", "2.32.3"), ("django", "4.2.11", "4.2.16"), ("pydantic", "2.6.4", "2.9.2"),
            ("urllib3", "2.2.1", "2.2.3"), ("pytest", "8.1.1", "8.3.3"), ("boto3", "1.34.69", "1.35.40")]
HOSTILE_ISSUES = ["<script>alert(1)</script> in the search box", "Crash report\r\nBcc: evil@example.com",
                  "🐛 Emoji in product names breaks the PDF invoice 💥", "النص العربي لا يظهر في الفاتورة",
                  "[phish](javascript:alert(1)) link in the footer | cell | cell |"]
LABELS = [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("chore", "cccccc"), ("dependencies", "0366d6"),
          ("question", "d876e3"), ("regression", "b60205"), ("good first issue", "7057ff"), ("needs: <triage>", "ededed")]


@dataclass(eq=False)
class _Spec:
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


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:5]) or "change"


class _Builder:
    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.plan, self.rng, self.now = plan, rng, plan.now
        self.specs: list[_Spec] = []
        self.repo_of = {p.key: PROJECTS[p.key][1] for p in plan.projects}
        self.team_of = {p.key: [m.login for m in p.team] for p in plan.projects}
        self.outsiders = ["dana-customer", "lee-partner", "sam-oss", "kai-reporter", "noor-qa-vendor"]
        self.bugs: dict[str, list[Item]] = {}

    def between(self, lo: datetime, hi: datetime) -> datetime:
        return lo + (hi - lo) * self.rng.random() if hi > lo else lo

    def reviewer(self, project: str, author: str, skip: tuple[str, ...] = ()) -> str:
        pool = [m for m in self.team_of[project] if m != author and m not in skip] or self.team_of[project]
        return self.rng.choice(pool)

    # -- pull requests for Jira work ----------------------------------------------------------------

    def linked(self, project: Project, item: Item) -> None:
        rng, now = self.rng, self.now
        author = (item.assignee or rng.choice(project.team)).login
        wish = item.pr or {}
        placement = "title" if wish else rng.choices(["title", "bracket", "branch", "commit", "body"],
                                                     [55, 10, 15, 10, 10])[0]
        slug = _slug(item.summary)
        key = item.key
        title = {"title": f"{key}: {item.summary}", "bracket": f"[{key}] {item.summary}"}.get(placement, item.summary)
        head = f"feature/{key}-{slug}" if placement in ("title", "branch") else (
            f"fix/{slug}" if placement == "body" else f"{author}/{slug}")
        body = f"Closes {key}" if placement == "body" else f"## What\n{item.summary}\n\n## How to test\nSee the ticket."
        floor = (item.started or item.created) + timedelta(minutes=10)
        first_review = item.review_times[0] if item.review_times else now - timedelta(hours=2)
        created = wish.get("created") or max(floor, first_review - timedelta(hours=rng.uniform(0.2, 3)))
        bounces = [c.at for c in item.changes for f, old, new in c.items if f == "status" and old == REVIEW and new == PROGRESS]
        qa_at = next((c.at for c in item.changes for f, old, new in c.items if f == "status" and new == QA), None)
        spec = _Spec(repo=self.repo_of[project.key], kind="pull", created=created, title=title, author=author,
                     body=body, head=head, key=key, version=item.versions[0] if item.versions else None,
                     labels=[{"Bug": "bug", "Story": "enhancement"}.get(item.kind, "chore")])
        closed_at = None
        if wish:
            spec.draft = bool(wish.get("draft"))
            spec.merged = wish.get("merged")
            spec.reviews = [(at, who.login, state) for at, who, state in wish.get("reviews", [])]
            spec.requested = [who.login for who in wish.get("requested", [])]
            spec.checks = wish.get("checks", "success")
            spec.updated = wish.get("updated")
        else:
            if item.status == DONE and item.resolution != "Done":
                closed_at = item.resolved
            elif qa_at is not None:
                spec.merged = qa_at - timedelta(minutes=rng.randint(3, 90))
            elif item.status == DONE and item.done_at is not None:
                spec.merged = item.done_at - timedelta(minutes=rng.randint(3, 120))
            if spec.merged is not None:
                spec.merged = max(spec.merged, created + timedelta(minutes=30))
                if spec.merged >= now:
                    spec.merged = None  # not merged yet
            reviewer = self.reviewer(project.key, author)
            spec.reviews = [(at, reviewer, "CHANGES_REQUESTED") for at in bounces if at > created]
            last = max([created, *(at for at, _, _ in spec.reviews)])
            if spec.merged is not None and spec.merged > last:
                approve = last + (spec.merged - last) * rng.uniform(0.4, 0.95)
                if rng.random() < 0.25:
                    other = self.reviewer(project.key, author, (reviewer,))
                    spec.reviews.append((last + (approve - last) * rng.uniform(0.1, 0.6), other, "COMMENTED"))
                spec.reviews.append((approve, reviewer, "APPROVED"))
            elif spec.merged is None and closed_at is None and rng.random() < 0.5:
                at = last + timedelta(hours=rng.uniform(1, 8))
                if at < now:
                    spec.reviews.append((at, reviewer, "COMMENTED"))
            if spec.merged is None and closed_at is None:
                spec.checks = rng.choices(["success", "failure", "pending"], [80, 15, 5])[0]
                reviewed = {who for _, who, _ in spec.reviews}
                spec.requested = [m for m in (reviewer,) if m not in reviewed or rng.random() < 0.3]
            else:
                spec.checks = "failure" if rng.random() < 0.04 else "success"
        spec.reviews.sort()
        points = item.points or 2.0
        spec.additions = wish.get("additions") or max(1, int(rng.lognormvariate(math.log(30 * points), 0.7)))
        spec.deletions = wish.get("deletions") or int(spec.additions * rng.uniform(0.05, 0.6))
        end = spec.merged or closed_at or min(now - timedelta(minutes=5), max([created, *(r[0] for r in spec.reviews)]))
        spec.messages = self.commits(created, end, f"{key} {item.summary}" if placement == "commit" else f"Implement {slug.replace('-', ' ')}", head)
        if closed_at is not None:
            spec.closed, spec.closed_by = closed_at, author
        if spec.merged is not None:
            spec.closed, spec.closed_by = spec.merged, self.reviewer(project.key, author)
        spec.lint = rng.random() < 0.4
        self.specs.append(spec)

    def commits(self, created: datetime, end: datetime, first: str, head: str) -> list[tuple[datetime, str]]:
        rng = self.rng
        count = rng.choices([1, 2, 3, 4], [35, 30, 20, 15])[0]
        start = created - timedelta(minutes=rng.randint(5, 180))
        followups = ["Address review comments", "Fix tests", f"Merge branch 'main' into {head}", "Tidy up"]
        times = sorted(self.between(created, end) for _ in range(count - 1))
        return [(start, first)] + [(t, followups[n % len(followups)]) for n, t in enumerate(times)]

    # -- other pull requests and issues -------------------------------------------------------------

    def other_pull(self, project: Project, n: int, decoy: bool) -> None:
        rng, now = self.rng, self.now
        created = self.between(project.start - timedelta(days=10), now - timedelta(hours=3))
        team = self.team_of[project.key]
        if decoy:
            title, author, labels = DECOYS[n % len(DECOYS)], rng.choice(team), ["chore"]
            head = f"{author}/{_slug(title)}"
        elif rng.random() < 0.3:
            package, old, new = rng.choice(PACKAGES)
            title, author, labels = f"Bump {package} from {old} to {new}", "dependabot[bot]", ["dependencies"]
            head = f"dependabot/pip/{package}-{new}"
        else:
            title = rng.choice(CHORES).format(x=rng.choice(["the API client", "exports", "auth", "the worker", "CI"]))
            author, labels = rng.choice(team), ["chore"]
            head = f"{author}/{_slug(title)}"
        spec = _Spec(repo=self.repo_of[project.key], kind="pull", created=created, title=title, author=author,
                     body=f"{title}.", labels=labels, head=head)
        fate = rng.random()
        done_at = created + timedelta(hours=rng.lognormvariate(math.log(20), 0.9))
        if created < now - timedelta(days=10):  # nobody leaves a chore open for weeks: it lands or is dropped
            done_at, fate = min(done_at, created + timedelta(days=rng.uniform(1, 9))), fate * 0.85 / 0.9
        reviewer = self.reviewer(project.key, author)
        if fate < 0.8 and done_at < now:
            spec.reviews = [(self.between(created, done_at), reviewer, "APPROVED")]
            spec.merged, spec.closed, spec.closed_by = done_at, done_at, reviewer
        elif fate < 0.9 and done_at < now:
            spec.closed, spec.closed_by = done_at, reviewer
        else:
            spec.requested = [reviewer]
            spec.checks = rng.choices(["success", "failure"], [85, 15])[0]
        spec.additions = max(1, int(rng.lognormvariate(math.log(25), 0.8)))
        spec.deletions = int(spec.additions * rng.uniform(0.1, 0.8))
        end = spec.closed or max(created + timedelta(minutes=5), min(now - timedelta(minutes=5), created + timedelta(hours=2)))
        spec.messages = self.commits(created, end, title, head)
        self.specs.append(spec)

    def issue(self, project: Project, hostile: str | None) -> None:
        rng, now = self.rng, self.now
        from syncd.sandbox import gen_text

        created = self.between(project.start - timedelta(days=30), now - timedelta(hours=1))
        kind = rng.choices(["bug", "enhancement", "question"], [55, 30, 15])[0]
        title = hostile or {"bug": gen_text.bug_title, "enhancement": gen_text.story_title}.get(
            kind, lambda r, k: f"How do I configure the {r.choice(gen_text.PROJECT_WORDS[k][2])}?")(rng, project.key)
        team = self.team_of[project.key]
        author = rng.choice(self.outsiders) if rng.random() < 0.6 else rng.choice(team)
        labels = [kind] + (["needs: <triage>"] if hostile else []) + (["good first issue"] if rng.random() < 0.05 else [])
        body = "Steps:\n1. open the app\n2. try it\n\n**Expected** it works | **Actual** it does not"
        if project.key not in self.bugs:
            self.bugs[project.key] = [i for i in project.items if i.kind == "Bug"]
        jira = self.bugs[project.key]
        if jira and rng.random() < 0.15:
            body += f"\n\nTracked in {rng.choice(jira).key}."
        spec = _Spec(repo=self.repo_of[project.key], kind="issue", created=created, title=title, author=author,
                     body=body, labels=labels)
        if rng.random() < 0.2:
            spec.version = project.version_at(created.date())
        closes = created + timedelta(hours=rng.lognormvariate(math.log(72), 1.0))
        if closes < now and rng.random() < (0.8 if created < now - timedelta(days=14) else 0.35):
            spec.closed, spec.closed_by = closes, rng.choice(team)
            spec.state_reason = "completed" if rng.random() < 0.85 else "not_planned"
        if spec.version is not None and spec.closed is None and spec.version.release is not None \
                and spec.version.release < now.date():  # still open when its milestone passed: moved on
            spec.version = next((v for v in project.versions if v.release and v.release >= now.date()), None)
        # someone took it: most closed issues, some recent ones, few of the old ones still open
        recent = created > now - timedelta(days=21)
        if rng.random() < (0.5 if spec.closed or recent else 0.05):
            spec.assignees = [rng.choice(team)]
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            at = created + timedelta(hours=rng.uniform(1, 48))
            if at < (spec.closed or now):
                spec.comments.append((at, rng.choice(team), "Thanks for the report, we are looking into it."))
        spec.comments.sort()
        self.specs.append(spec)


def render(plan: Any, rng: random.Random) -> Rendered:
    """The GitHub host of `plan`: about 65% of `plan.github_items` are pull requests."""
    builder = _Builder(plan, rng)
    pulls = round(plan.github_items * PULL_SHARE)
    scripted = [(p, i) for p in plan.projects for i in p.items if i.pr is not None]
    candidates = [(p, i) for p in plan.projects for i in p.items
                  if i.pr is None and i.kind in ("Story", "Task", "Bug") and i.review_times]
    room = max(0, pulls - len(scripted) - len(DECOYS))
    chosen = sorted(rng.sample(candidates, min(len(candidates), round(room * 0.85))), key=lambda pair: pair[1].id)
    for project, item in scripted + chosen:
        builder.linked(project, item)
    weights = [p.budget for p in plan.projects]
    for n in range(pulls - len(scripted) - len(chosen)):
        builder.other_pull(rng.choices(plan.projects, weights)[0], n, decoy=n < len(DECOYS))
    for n in range(plan.github_items - pulls):
        builder.issue(rng.choices(plan.projects, weights)[0], HOSTILE_ISSUES[n] if n < len(HOSTILE_ISSUES) else None)
    return _Render(plan, rng).render(builder.specs, len(scripted) + len(chosen))


class _Render:
    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.plan, self.rng, self.now = plan, rng, plan.now
        self.gh = GitHubWorld()
        self.base = self.gh.base_url.rstrip("/")
        self.users: dict[str, Json] = {}

    def user(self, login: str) -> Json:
        found = self.users.get(login)
        if found is None:
            kind = "Bot" if login.endswith("[bot]") else "User"
            found = self.users[login] = gp.user(self.base, login, 1000 + len(self.users), kind)
            self.gh.users[login] = found
        return found

    def render(self, specs: list[_Spec], links: int) -> Rendered:
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

    def pull(self, repo: GitHubRepo, issue: Json, spec: _Spec, pull_id: int) -> int:
        """Render one pull request with its commits, reviews and checks; returns how many reviews."""
        rng, now, number = self.rng, self.now, issue["number"]
        author = self.user(spec.author)
        commits: list[Json] = []
        for k, (at, message) in enumerate(spec.messages):
            sha = gp.sha_of(repo.repo["full_name"], number, k, self.plan.seed)
            commits.append(gp.commit(repo.repo, sha, message, author, at, commits[-1] if commits else None))
        head_sha = commits[-1]["sha"]
        api, html = repo.repo["url"], repo.repo["html_url"]
        issue["pull_request"] = {"url": f"{api}/pulls/{number}", "html_url": f"{html}/pull/{number}",
                                 "diff_url": f"{html}/pull/{number}.diff", "patch_url": f"{html}/pull/{number}.patch",
                                 "merged_at": gp.iso(spec.merged) if spec.merged else None}
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
