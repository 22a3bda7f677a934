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
from datetime import datetime, timedelta
from typing import Any

from syncd.sandbox.generate import PROJECTS
from syncd.sandbox.gh_render import HostRenderer, Rendered, Spec
from syncd.sandbox.timeline import DONE, PROGRESS, QA, REVIEW, Item, Project

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


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:5]) or "change"


class _Builder:
    def __init__(self, plan: Any, rng: random.Random) -> None:
        self.plan, self.rng, self.now = plan, rng, plan.now
        self.specs: list[Spec] = []
        self.repo_of = {p.key: PROJECTS[p.key][1] for p in plan.projects}
        self.team_of = {p.key: [m.login for m in p.team] for p in plan.projects}
        self.outsiders = ["dana-customer", "lee-partner", "sam-oss", "kai-reporter", "noor-qa-vendor"]
        self.bugs: dict[str, list[Item]] = {}

    def between(self, lo: datetime, hi: datetime) -> datetime:
        """A uniformly random moment in [lo, hi) (lo when the span is empty)."""
        return lo + (hi - lo) * self.rng.random() if hi > lo else lo

    def reviewer(self, project: str, author: str, skip: tuple[str, ...] = ()) -> str:
        """A teammate of `author` to review (not one of `skip`)."""
        pool = [m for m in self.team_of[project] if m != author and m not in skip] or self.team_of[project]
        return self.rng.choice(pool)

    # -- pull requests for Jira work ----------------------------------------------------------------

    def linked(self, project: Project, item: Item) -> None:
        """The pull request that implemented `item`, timed by its Jira history (or its scripted wishes)."""
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
        spec = Spec(repo=self.repo_of[project.key], kind="pull", created=created, title=title, author=author,
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
        """Commit times and messages: the first before the PR opened, follow-ups until `end`."""
        rng = self.rng
        count = rng.choices([1, 2, 3, 4], [35, 30, 20, 15])[0]
        start = created - timedelta(minutes=rng.randint(5, 180))
        followups = ["Address review comments", "Fix tests", f"Merge branch 'main' into {head}", "Tidy up"]
        times = sorted(self.between(created, end) for _ in range(count - 1))
        return [(start, first)] + [(t, followups[n % len(followups)]) for n, t in enumerate(times)]

    # -- other pull requests and issues -------------------------------------------------------------

    def other_pull(self, project: Project, n: int, decoy: bool) -> None:
        """A PR without a Jira key: a dependency bump, a chore, or a title with a look-alike key."""
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
        spec = Spec(repo=self.repo_of[project.key], kind="pull", created=created, title=title, author=author,
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
        """An issue from a user or a teammate, closed, commented and assigned the way issues are."""
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
        spec = Spec(repo=self.repo_of[project.key], kind="issue", created=created, title=title, author=author,
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
    return HostRenderer(plan, rng).render(builder.specs, len(scripted) + len(chosen))
