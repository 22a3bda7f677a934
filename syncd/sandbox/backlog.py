"""The product owner's side of a simulated project: the event clock, the item budget, and the
backlog (refining epics and stories ahead of each release window, filing bugs, ranking, shipping
versions). `simulate.Simulation` adds the team that works the backlog off.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from syncd.sandbox.timeline import (
    DAY,
    DONE,
    POINT_WEIGHTS,
    POINTS,
    Item,
    Project,
    Sprint,
    Version,
    at_hour,
    link_blocks,
    link_relates,
    set_due,
    set_points,
    set_sprints,
    set_version,
)

DAYS_PER_POINT = 0.55  # person-days of work per story point, before noise


class Backlog:
    """One project's clock (scheduled events up to `now`), item budget and ranked backlog."""

    def __init__(self, project: Project, rng: random.Random, now: datetime, budget: int,
                 new_item: Callable[..., Item]) -> None:
        self.p = project
        self.rng = rng
        self.now = now
        self.budget = budget
        self._new_item = new_item
        self.heap: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = 0
        self.backlog: list[Item] = []
        self.queue: list[Item] = []  # the running sprint's work nobody holds
        self.sprint_items: list[Item] = []
        self.sprint: Sprint | None = None  # the running sprint
        self.velocity: list[float] = []
        # points a sprint before there is any history: nine working days at ~0.83 of a day's focus
        self.v_est = sum(m.speed for m in project.team) * 9 * 0.83 / (DAYS_PER_POINT * 1.18)
        self.bug_rate = 0.0

    # -- plumbing ---------------------------------------------------------------------------------

    def create(self, kind: str, at: datetime, **kw: Any) -> Item | None:
        """A new item of this project, or None when the budget is spent (or `at` is still to come)."""
        if self.budget <= 0 or at >= self.now:
            return None
        self.budget -= 1
        item = self._new_item(self.p, kind, at, **kw)
        return item

    def later(self, at: datetime, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(at, *args)` when the clock reaches `at` (never when that is after now)."""
        if at < self.now:
            self.seq += 1
            heapq.heappush(self.heap, (at, self.seq, fn, args))

    def run_until(self, until: datetime) -> None:
        """Apply every scheduled event up to `until`."""
        while self.heap and self.heap[0][0] <= until:
            at, _, fn, args = heapq.heappop(self.heap)
            fn(at, *args)

    def _workhours_later(self, at: datetime, hours: float) -> datetime:
        """`hours` of working time after `at` (nights and weekends skipped)."""
        t = at
        while hours > 0:
            if t.weekday() >= 5 or t.hour >= 18:
                t = at_hour((t + DAY).date(), 9, t.tzinfo)
                continue
            if t.hour < 9:
                t = at_hour(t.date(), 9, t.tzinfo)
            left = (at_hour(t.date(), 18, t.tzinfo) - t).total_seconds() / 3600
            step = min(left, hours)
            t += timedelta(hours=step)
            hours -= step
        return t

    def points_of(self, item: Item) -> float:
        """Points for planning (unestimated work counts as one)."""
        return item.points if item.points is not None else 1.0

    def effort_for(self, item: Item) -> float:
        """Person-days of work the item will really take."""
        base = (item.points or self.rng.choice([1, 1, 2])) * DAYS_PER_POINT
        effort = base * math.exp(self.rng.gauss(0, 0.45))
        if self.rng.random() < 0.05:
            effort *= 2.5  # badly underestimated
        return max(0.15, effort)

    # -- the product owner ------------------------------------------------------------------------

    def refine(self, version: Version | None, at: datetime, sprints: int, share: int) -> None:
        """Create the epics and stories of a release window (at most `share` items), ranked."""
        rng, p = self.rng, self.p
        recent = self.velocity[-3:]
        target = (sum(recent) / len(recent) if recent else self.v_est) * sprints * 0.85
        made = 0
        points = 0.0
        lanes: list[list[Item]] = []
        while points < target and made < share and self.budget > 0:
            created = at - timedelta(hours=rng.uniform(2, 120))
            epic = self.create("Epic", created, reporter=p.lead, version=version,
                               due=version.release if version and rng.random() < 0.6 else None)
            if epic is None:
                break
            made += 1
            lane: list[Item] = []
            epic_points = rng.uniform(22, 50)
            got = 0.0
            while got < epic_points and made < share:
                kind = "Task" if rng.random() < 0.22 else "Story"
                pts = float(rng.choices(POINTS, POINT_WEIGHTS)[0]) if kind == "Story" else float(rng.choice([1, 2, 3]))
                estimated_later = rng.random() < 0.6  # estimated in the refinement meeting, not when written
                story = self.create(kind, created + timedelta(minutes=rng.randint(5, 600)), epic=epic,
                                    points=None if estimated_later else pts,
                                    version=version if rng.random() < 0.5 else None)
                if story is None:
                    break
                if estimated_later:
                    when = max(at, story.created + timedelta(minutes=30))
                    set_points(story, pts, when if when < self.now else story.created + (self.now - story.created) / 2,
                               p.lead)
                made += 1
                got += pts
                lane.append(story)
                if kind == "Story" and rng.random() < 0.3:
                    for n in range(rng.randint(1, 3)):
                        if made >= share:
                            break
                        if self.create("Sub-task", story.created + timedelta(minutes=10 + n), parent=story) is not None:
                            made += 1
            for before, after in zip(lane, lane[1:], strict=False):
                if rng.random() < 0.1:  # a dependency found in refinement
                    link_blocks(before, after, max(before.created, after.created) + timedelta(minutes=30), p.lead)
            lanes.append(lane)
            points += got
        # teams work a few epics in parallel: interleave the lanes, keeping each lane's order
        while any(lanes):
            lane = rng.choice([lane for lane in lanes if lane])
            self.backlog.append(lane.pop(0))

    def bug(self, at: datetime, sprint: Sprint | None, wave: bool = False) -> None:
        """A bug report arrives; urgent ones go straight into the running sprint."""
        rng = self.rng
        priority = rng.choices(["Highest", "High", "Medium", "Low"], [5, 20, 50, 25])[0]
        item = self.create("Bug", at, priority=priority, points=None if rng.random() < 0.5 else float(rng.choice([1, 2, 3])),
                           labels=["regression"] if wave else [])
        if item is None:
            return
        related = [i for i in self.sprint_items[-20:] if i.kind == "Story"]
        if related and rng.random() < 0.12:
            link_relates(item, rng.choice(related), at + timedelta(minutes=rng.randint(5, 60)), item.reporter)
        if sprint is not None and priority in ("Highest", "High") and rng.random() < 0.6:
            added = at + timedelta(minutes=rng.randint(20, 240))
            self.later(added, self._hot_bug, item, sprint)
        else:
            slot = {"Highest": 0, "High": min(3, len(self.backlog)), "Medium": len(self.backlog) // 2}.get(
                priority, len(self.backlog))
            self.backlog.insert(slot, item)

    def _hot_bug(self, at: datetime, item: Item, sprint: Sprint) -> None:
        if sprint.state != "closed" or (sprint.complete and at < sprint.complete):
            set_sprints(item, item.sprints + [sprint], at, self.p.lead)
            self.sprint_items.append(item)
            self.queue.insert(0, item)
        else:
            self.backlog.insert(0, item)

    def take_backlog(self, at: datetime) -> Item | None:
        """The top backlog item that already existed at `at` (bugs filed later that day wait)."""
        for n, item in enumerate(self.backlog):
            if item.created < at:
                return self.backlog.pop(n)
        return None

    def discovered_work(self, at: datetime, sprint: Sprint) -> None:
        """A story found mid-sprint for an epic in flight: scope added after the sprint started."""
        epics = [i.epic for i in self.sprint_items if i.epic is not None and i.epic.status != DONE]
        if not epics:
            return
        epic = self.rng.choice(epics)
        story = self.create("Story", at, epic=epic, points=float(self.rng.choice([1, 2, 3, 5])))
        if story is None:
            return
        if self.rng.random() < 0.5:
            self.later(at + timedelta(minutes=self.rng.randint(10, 120)), self._hot_bug, story, sprint)
        else:
            self.backlog.insert(min(5, len(self.backlog)), story)

    def ship(self, at: datetime, version: Version) -> None:
        """Ship a version; its unfinished scope moves to the next one."""
        version.released = True
        following = next((v for v in self.p.versions if v.start >= (version.release or v.start) and v is not version), None)
        for item in self.p.items:
            if item.versions and item.versions[0] is version and item.status != DONE and following is not None:
                set_version(item, following, at, self.p.lead)
                if item.due is not None and item.due == version.release and following.release is not None:
                    set_due(item, following.release, at + timedelta(minutes=1), self.p.lead)

    def share(self, sprints: int, sprints_left: int, bugs_left: float) -> int:
        """Items one refinement may create: its part of what the budget has left after the bugs to come."""
        return max(0, int((self.budget - bugs_left) * min(1.0, sprints / max(1, sprints_left))))
