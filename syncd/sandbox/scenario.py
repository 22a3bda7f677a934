"""Scripted situations woven into the simulated history, so every risk rule has something to find.

The simulation makes most trouble on its own (carry-over, blocked work, bug waves, an optimistic
sprint plan), but whether a given seed happens to produce, say, a PR nobody reviewed for a day
is luck. The items here are written with explicit timelines relative to the sprints, so the
trouble is there for every seed and size, and `plan.troubles` names where:

- a goal behind schedule with scope creep: epic "Checkout redesign for mobile web" (due in about
  three weeks, a quarter done, a third of its stories added after it started);
- a stale item (in progress, untouched for a week) with a draft PR; an item in progress for
  six weeks, carried over three sprints, re-estimated, with a huge PR failing its checks;
- a PR waiting three days for its first review; a PR merged this sprint with a failing check; a big
  merged PR;
- blocked work: blocked by an item planned for a later sprint, by an item of another project,
  and flagged impediments; overdue due dates and an overdue fix version (planned in `plan_world`);
- stories without acceptance criteria in the running and the next sprint; unassigned work in
  the running sprint;
- hostile titles (HTML, Markdown, CR/LF header injection, very long, non-Latin, emoji).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from syncd.sandbox import gen_text
from syncd.sandbox.timeline import (
    BLOCKED,
    DONE,
    PROGRESS,
    REVIEW,
    Item,
    Person,
    Project,
    Sprint,
    assign,
    link_blocks,
    log_work,
    set_flag,
    set_points,
    set_sprints,
    set_status,
    set_version,
)

if TYPE_CHECKING:
    from syncd.sandbox.generate import Plan

RESERVED = {"WID": 24, "GAD": 1}
CHECKOUT = [
    ("Redesign the cart summary for small screens", 3), ("Sticky pay button on mobile", 5),
    ("Inline address validation", 3), ("Remember the last payment method", 2), ("Apple Pay on mobile web", 5),
    ("Split shipping and billing steps", 8), ("Progress indicator across checkout steps", 3),
    ("Promo code entry in the new layout", 2), ("Accessible error summary for checkout", 5),
    ("Checkout analytics events", 3),
]
CREEP = [("Guest checkout in the new layout", 5), ("Saved cards in the new layout", 3),
         ("Delivery slots picker", 8), ("Gift message field", 2), ("Order bump offers", 3)]


def reserved(plan: Plan) -> dict[str, int]:
    """Items each project must keep free for the script."""
    return {k: v for k, v in RESERVED.items() if any(p.key == k for p in plan.projects)}


def _project(plan: Plan, key: str) -> Project:
    return next(p for p in plan.projects if p.key == key)


class _Script:
    def __init__(self, plan: Plan, make: Callable[..., Item], rng: random.Random) -> None:
        self.plan, self.make, self.rng = plan, make, rng
        self.wid = _project(plan, "WID")
        self.gad = _project(plan, "GAD")
        self.now = plan.now
        self.active = self.wid.sprint_of("active")
        self.closed = [self.wid.sprint_of("closed", n) for n in range(3)]  # newest first
        self.next = self.wid.sprint_of("future", 0)
        self.v_over = next(v for v in self.wid.versions if v.overdue)
        self.v_next = self.wid.versions[self.wid.versions.index(self.v_over) + 1]
        self.team = self.wid.team

    def member(self, n: int) -> Person:
        return self.team[n % len(self.team)]

    def trouble(self, rule: str, *items: Item) -> None:
        self.plan.troubles.setdefault(rule, []).extend(items)

    def into(self, item: Item, sprints: list[Sprint], project: Project | None = None) -> None:
        """Planned into the first sprint, then carried over into each next one when the previous closed."""
        lead = (project or self.wid).lead
        for n, sprint in enumerate(sprints):
            if sprint.start is None:  # a future sprint: refined into it yesterday
                at = self.now - timedelta(hours=20)
            elif n == 0:
                at = max(sprint.start - timedelta(minutes=20), item.created + timedelta(minutes=5))
            else:
                previous = sprints[n - 1].complete
                assert previous is not None
                at = previous
            set_sprints(item, item.sprints + [sprint], at, lead)

    def start(self, item: Item, who: Person, at: datetime) -> None:
        assign(item, who, at, who)
        set_status(item, PROGRESS, at + timedelta(minutes=1), who)
        epic = item.epic
        if epic is not None and epic.status != PROGRESS and epic.status != DONE:
            set_status(epic, PROGRESS, at + timedelta(minutes=2), self.wid.lead)

    def finish(self, item: Item, review: datetime, done: datetime) -> None:
        set_status(item, REVIEW, review, item.assignee)
        set_status(item, DONE, done, None)

    def logs(self, item: Item, who: Person, first: datetime, last: datetime, every_days: float = 2.0) -> None:
        at = first
        while at < last:
            log_work(item, 3600 * self.rng.randint(1, 5), at, who)
            at += timedelta(days=every_days)
        log_work(item, 3600 * 2, last, who)

    # -- the situations ----------------------------------------------------------------------------

    def checkout(self) -> None:
        """A goal behind schedule whose scope grew by half after it started."""
        c1, c2 = self.closed[0], self.closed[1]
        assert self.active.start is not None and self.active.end is not None and c2.start is not None
        assert c1.start is not None
        epic = self.make(self.wid, "Epic", c2.start - timedelta(days=5), summary="Checkout redesign for mobile web",
                         reporter=self.plan.owners["WID"], version=self.v_next,
                         due=(self.active.end + timedelta(days=14)).date(), priority="High")
        stories = [self.make(self.wid, "Story", epic.created + timedelta(minutes=10 + n), summary=title, epic=epic,
                             points=float(pts), version=self.v_next, acceptance=True,
                             reporter=self.plan.owners["WID"])
                   for n, (title, pts) in enumerate(CHECKOUT)]
        for n, story in enumerate(stories[:3]):
            self.into(story, [c2])
            self.start(story, self.member(n + 1), c2.start + timedelta(days=1 + n, hours=1))
            self.finish(story, c2.start + timedelta(days=4 + n, hours=3), c2.start + timedelta(days=6 + n, hours=2))
        self.into(stories[3], [c2, c1])
        self.start(stories[3], self.member(2), c2.start + timedelta(days=9))
        self.finish(stories[3], c1.start + timedelta(days=2, hours=4), c1.start + timedelta(days=3, hours=1))
        for n, story in enumerate(stories[4:6]):
            self.into(story, [self.active])
            who = self.member(3 + n)
            self.start(story, who, self.active.start + timedelta(days=2 + n, hours=2))
            self.logs(story, who, self.active.start + timedelta(days=3 + n), self.now - timedelta(hours=20 + 3 * n))
        stories[6].acceptance = False
        self.into(stories[6], [self.active])
        stories[7].acceptance = False
        self.into(stories[7], [self.next])
        added = []
        for n, (title, pts) in enumerate(CREEP):
            at = self.active.start + timedelta(days=1 + n * 0.7, hours=2)
            story = self.make(self.wid, "Story", at, summary=title, epic=epic, points=float(pts),
                              reporter=self.plan.owners["WID"], acceptance=True)
            set_version(story, self.v_next, at + timedelta(minutes=30), self.plan.owners["WID"])
            if n < 2:
                set_sprints(story, [self.active], at + timedelta(hours=1), self.wid.lead)
            added.append(story)
        self.trouble("goal_behind", epic)
        self.trouble("scope_creep", epic, *added)
        self.trouble("scope_added_after_sprint_start", *added[:2])
        self.trouble("missing_acceptance_criteria", stories[6], stories[7])

    def long_running(self) -> None:
        """Six weeks in progress, carried over three times, re-estimated, a huge PR failing its checks."""
        c1, c2, c3 = self.closed
        assert c1.start is not None and c2.start is not None and c3.start is not None and c1.end is not None
        who = self.member(1)
        item = self.make(self.wid, "Story", c3.start - timedelta(days=10),
                         summary="Rewrite the billing engine for multi-currency invoices", points=8.0,
                         version=self.v_over, due=c1.end.date() - timedelta(days=2), priority="High",
                         labels=["backend", "tech-debt"], acceptance=True)
        self.into(item, [c3, c2, c1, self.active])
        self.start(item, who, c3.start + timedelta(days=2, hours=3))
        set_points(item, 13.0, c2.start + timedelta(days=2, hours=5), who)
        set_status(item, BLOCKED, c1.start + timedelta(days=3), who)
        set_flag(item, True, c1.start + timedelta(days=3, minutes=1), who)
        set_flag(item, False, c1.start + timedelta(days=5), who)
        set_status(item, PROGRESS, c1.start + timedelta(days=5, minutes=1), who)
        self.logs(item, who, c3.start + timedelta(days=3), self.now - timedelta(hours=26), every_days=3)
        item.pr = {"state": "open", "created": c2.start + timedelta(days=3), "additions": 1450, "deletions": 380,
                   "checks": "failure", "updated": self.now - timedelta(hours=26),
                   "reviews": [(c2.start + timedelta(days=5), self.member(2), "CHANGES_REQUESTED"),
                               (c1.start + timedelta(days=2), self.member(3), "COMMENTED")]}
        self.trouble("aging_work_in_progress", item)
        self.trouble("carried_over", item)
        self.trouble("large_pull_request", item)
        self.trouble("failing_checks_open", item)
        self.trouble("overdue_due_date", item)
        self.trouble("overdue_version", item)

    def stale(self) -> None:
        """In progress, carried into this sprint, nobody touched it since."""
        c1 = self.closed[0]
        assert c1.start is not None
        who = self.member(2)
        item = self.make(self.wid, "Story", c1.start - timedelta(days=3), summary="Migrate the session store to Redis",
                         points=5.0, version=self.v_over, acceptance=True, labels=["backend"])
        self.into(item, [c1, self.active])
        self.start(item, who, c1.start + timedelta(days=6, hours=2))
        log_work(item, 3 * 3600, c1.start + timedelta(days=7, hours=5), who)
        item.pr = {"state": "open", "draft": True, "created": c1.start + timedelta(days=6, hours=5), "reviews": [],
                   "checks": "success"}
        self.trouble("stale_in_progress", item)
        self.trouble("overdue_version", item)

    def waiting_for_review(self) -> None:
        """In review for three days; the PR has reviewers requested and no review yet."""
        assert self.active.start is not None
        who = self.member(3)
        item = self.make(self.wid, "Story", self.active.start - timedelta(days=2),
                         summary="Show the delivery estimate on the product page", points=3.0, version=self.v_next,
                         acceptance=True)
        self.into(item, [self.active])
        self.start(item, who, self.active.start + timedelta(days=1, hours=1))
        review = self.now - timedelta(days=3, hours=2)
        set_status(item, REVIEW, review, who)
        item.pr = {"state": "open", "created": review - timedelta(hours=1), "reviews": [], "checks": "success",
                   "requested": [self.member(1), self.member(4)]}
        self.trouble("pull_request_waiting_for_review", item)

    def merged_pulls(self) -> None:
        """A bug fix merged with a failing check, and a big change merged after a second review round."""
        a, c2 = self.active, self.closed[1]
        assert a.start is not None and c2.start is not None
        bug = self.make(self.wid, "Bug", a.start + timedelta(days=1), summary="Coupon field accepts expired codes",
                        priority="High", points=2.0)
        set_sprints(bug, [a], bug.created + timedelta(hours=2), self.wid.lead)  # urgent: into the running sprint
        self.start(bug, self.member(4), bug.created + timedelta(hours=3))
        self.finish(bug, a.start + timedelta(days=2, hours=2), a.start + timedelta(days=3))
        bug.pr = {"state": "merged", "created": a.start + timedelta(days=2, hours=1),
                  "merged": a.start + timedelta(days=2, hours=23), "checks": "failure",
                  "reviews": [(a.start + timedelta(days=2, hours=6), self.member(1), "APPROVED")]}
        big = self.make(self.wid, "Story", c2.start - timedelta(days=4), summary="Replace the cart pricing service client",
                        points=8.0, acceptance=True, labels=["backend"])
        self.into(big, [c2])
        self.start(big, self.member(5), c2.start + timedelta(days=1))
        self.finish(big, c2.start + timedelta(days=7), c2.start + timedelta(days=9, hours=4))
        big.pr = {"state": "merged", "created": c2.start + timedelta(days=6, hours=22), "additions": 620,
                  "deletions": 140, "merged": c2.start + timedelta(days=9, hours=3), "checks": "success",
                  "reviews": [(c2.start + timedelta(days=7, hours=5), self.member(1), "CHANGES_REQUESTED"),
                              (c2.start + timedelta(days=8, hours=6), self.member(1), "APPROVED")]}
        self.trouble("failing_checks_merged", bug)
        self.trouble("large_pull_request", big)

    def blocked(self) -> None:
        """Blocked by later-sprint work, by another project's work, and flagged impediments."""
        a = self.active
        assert a.start is not None
        gad_active = self.gad.sprint_of("active")
        assert gad_active.start is not None
        blocker = self.make(self.wid, "Task", a.start + timedelta(days=1, hours=4),
                            summary="Sign the contract with the bank-transfer provider", points=2.0, priority="High")
        self.into(blocker, [self.next])
        assign(blocker, self.wid.lead, blocker.created + timedelta(minutes=3), self.wid.lead)
        blocked = self.make(self.wid, "Story", a.start - timedelta(days=3), summary="Pay by bank transfer at checkout",
                            points=5.0, version=self.v_next, due=(a.start + timedelta(days=3)).date(), acceptance=True)
        self.into(blocked, [a])
        who = self.member(4)
        self.start(blocked, who, a.start + timedelta(days=1, hours=1))
        link_blocks(blocker, blocked, blocker.created + timedelta(minutes=10), who)
        set_status(blocked, BLOCKED, blocker.created + timedelta(minutes=12), who)
        set_flag(blocked, True, blocker.created + timedelta(minutes=13), who)
        gad_who = self.gad.team[-1]
        other = self.make(self.gad, "Task", gad_active.start - timedelta(days=1),
                          summary="Expose device status in the public API", points=3.0)
        self.into(other, [gad_active], self.gad)
        self.start(other, gad_who, gad_active.start + timedelta(days=2))
        self.logs(other, gad_who, gad_active.start + timedelta(days=3), self.now - timedelta(hours=30))
        waiting = self.make(self.wid, "Story", a.start - timedelta(days=1), summary="Show device status on the order page",
                            points=3.0, version=self.v_next, acceptance=True)
        self.into(waiting, [a])
        link_blocks(other, waiting, a.start + timedelta(days=1, hours=4), self.wid.lead)
        flagged = self.make(self.wid, "Task", a.start - timedelta(days=2), summary="Renew the Apple Pay merchant certificate",
                            points=1.0, priority="Highest")
        self.into(flagged, [a])
        self.start(flagged, self.member(5), a.start + timedelta(days=3))
        set_flag(flagged, True, a.start + timedelta(days=4), self.member(5))
        log_work(flagged, 3600, self.now - timedelta(hours=40), self.member(5))
        self.trouble("blocked_by_later_sprint", blocked)
        self.trouble("blocked_by_other_project", waiting)
        self.trouble("flagged", blocked, flagged)
        self.trouble("unassigned_in_active_sprint", waiting)
        self.trouble("overdue_due_date", blocked)


def apply(plan: Plan, make: Callable[..., Item], rng: random.Random) -> None:
    """Write the scripted situations into the plan's projects."""
    script = _Script(plan, make, rng)
    script.checkout()
    script.long_running()
    script.stale()
    script.waiting_for_review()
    script.merged_pulls()
    script.blocked()


def hostile_titles(plan: Plan, rng: random.Random) -> None:
    """Give a few ordinary items the hostile titles (after the backlog is full, so there are always enough)."""
    scripted = {id(i) for items in plan.troubles.values() for i in items}
    pool = [i for p in plan.projects for i in p.items
            if i.kind in ("Story", "Bug", "Task") and id(i) not in scripted and p.key in ("WID", "GAD")]
    chosen = rng.sample(pool, min(len(pool), len(gen_text.ADVERSARIAL_TITLES)))
    for item, title in zip(chosen, gen_text.ADVERSARIAL_TITLES, strict=False):
        item.summary = title
        if "\r\n" in title:
            item.labels = sorted({*item.labels, "imported"})
        item.note = "See | this | table | and <b>this</b> [link](javascript:alert(1)) **now**."
    plan.troubles["hostile_text"] = list(chosen)


def troubles_by_key(troubles: dict[str, list[Any]]) -> dict[str, list[str]]:
    """The trouble map with items replaced by their keys (once keys are given)."""
    return {rule: sorted({i.key for i in items}) for rule, items in troubles.items()}
