"""A product team's execution, simulated day by day and sprint by sprint, as plain Python objects.

`Simulation.run` walks a project's sprints: the product owner refines epics and stories ahead of
each release window, the team plans a sprint from its recent velocity, members pull work, take
days off, get blocked, re-estimate, send work to review and QA; bugs arrive all the time (the
urgent ones straight into the running sprint); unfinished work carries over when a sprint closes,
and unfinished scope moves to the next fix version when one ships. Every change is recorded on
the item (`Item.changes`) with its time and author, so `generate_jira` can render Jira's changelog
and `generate_github` the pull requests that went with the work. Nothing here knows an API shape.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

from syncd.sandbox.backlog import Backlog
from syncd.sandbox.timeline import (
    BLOCKED,
    DAY,
    DONE,
    HOUR,
    POINTS,
    PROGRESS,
    QA,
    REVIEW,
    TODO,
    Item,
    Person,
    Sprint,
    assign,
    at_hour,
    log_work,
    set_flag,
    set_points,
    set_sprints,
    set_status,
    set_version,
    workdays,
)

ITEMS_PER_PERSON_SPRINT = 5.0  # what one member's sprint turns into (items, subtasks and bugs included)


class Simulation(Backlog):
    """Runs one project's history up to `now`, creating at most `budget` items."""

    # -- the team ---------------------------------------------------------------------------------

    def plan(self, sprint: Sprint, overcommit: float = 1.0) -> None:
        """Sprint planning: carried-over work first, then the backlog's top until the velocity is reached."""
        assert sprint.start is not None
        rng, lead = self.rng, self.p.lead
        at = sprint.start - timedelta(minutes=rng.randint(5, 40))
        recent = self.velocity[-3:]
        target = (sum(recent) / len(recent) if recent else self.v_est) * rng.uniform(0.9, 1.1) * overcommit
        committed = sum(self.points_of(i) for i in self.sprint_items)
        version = self.p.version_at(sprint.start.date())
        while committed < target:
            item = self.take_backlog(at)
            if item is None:
                break
            set_sprints(item, item.sprints + [sprint], at, lead)
            committed += self.points_of(item)
            self.sprint_items.append(item)
            self.queue.append(item)
            if rng.random() < 0.4:
                assign(item, rng.choice(self.p.team), at + timedelta(minutes=1), lead)
            if not item.versions and version is not None and item.kind in ("Story", "Task") and rng.random() < 0.7:
                set_version(item, version, at + timedelta(minutes=2), lead)

    def close(self, sprint: Sprint, following: Sprint) -> None:
        """Sprint review: count the velocity, carry unfinished work into the next sprint."""
        assert sprint.complete is not None and sprint.start is not None
        done = [i for i in self.sprint_items if i.status == DONE and i.done_at and i.done_at >= sprint.start
                and i.kind != "Sub-task"]
        self.velocity.append(sum(i.points or 0 for i in done))
        carried = [i for i in self.sprint_items if i.status != DONE]
        for item in carried:
            set_sprints(item, item.sprints + [following], sprint.complete, self.p.lead)
        held = {id(m.current) for m in self.p.team if m.current is not None}
        self.sprint_items = carried
        self.queue = [i for i in carried if i.status in (TODO, PROGRESS) and id(i) not in held]

    def pull(self, member: Person, at: datetime) -> Item | None:
        """The member takes the next piece of work: their own first, then unassigned, then from the backlog."""
        chosen = None
        for item in self.queue:
            if item.assignee is member and self._ready(item) and item.created < at:
                chosen = item
                break
        if chosen is None:
            for item in self.queue:
                if item.assignee is None and self._ready(item) and item.created < at:
                    chosen = item
                    break
        if chosen is None and self.sprint is not None:
            chosen = self.take_backlog(at - timedelta(minutes=3))  # sprint work ran out: pull the next item in
            if chosen is not None:
                set_sprints(chosen, chosen.sprints + [self.sprint], at - timedelta(minutes=3), member)
                self.sprint_items.append(chosen)
                self.queue.append(chosen)
        if chosen is None:
            return None
        self.queue.remove(chosen)
        if chosen.status == TODO:
            chosen.effort = self.effort_for(chosen)
        assign(chosen, member, at, member)
        set_status(chosen, PROGRESS, at, member)
        if chosen.epic is not None and chosen.epic.status == TODO:
            set_status(chosen.epic, PROGRESS, at, self.p.lead)
        member.current = chosen
        return chosen

    @staticmethod
    def _ready(item: Item) -> bool:
        """Work someone can pick up: not started, or resumed after a block (not waiting on review)."""
        return item.status == TODO or (item.status == PROGRESS and item.effort > 0.01)

    def finish(self, item: Item, at: datetime, member: Person) -> None:
        """Work is done: straight to Done for small tasks, otherwise review (and sometimes QA)."""
        member.current = None
        self.settle_subtasks(item, at)
        if item.kind == "Task" and self.rng.random() < 0.3:
            self.done(at, item, member)
            return
        set_status(item, REVIEW, at, member)
        self.later(self._workhours_later(at, self.rng.lognormvariate(math.log(5), 0.8)), self._reviewed, item)

    def _reviewed(self, at: datetime, item: Item) -> None:
        if item.status != REVIEW:
            return
        rng = self.rng
        if rng.random() < 0.12:  # changes requested: back to work for a few hours
            set_status(item, PROGRESS, at, item.assignee)
            back = self._workhours_later(at, rng.uniform(1, 6))
            self.later(back, self._resubmit, item)
        elif rng.random() < 0.2:
            set_status(item, QA, at, item.assignee)
            self.later(self._workhours_later(at, rng.uniform(2, 14)), self.done, item, None)
        else:
            self.done(at, item, None if rng.random() < 0.3 else item.assignee)

    def _resubmit(self, at: datetime, item: Item) -> None:
        if item.status == PROGRESS:
            set_status(item, REVIEW, at, item.assignee)
            self.later(self._workhours_later(at, self.rng.uniform(1, 8)), self._reviewed, item)

    def done(self, at: datetime, item: Item, author: Person | None) -> None:
        """Resolve an item; an epic whose issues are all done follows within two days."""
        if item.status == DONE:
            return
        resolution = "Done" if item.kind != "Bug" or self.rng.random() > 0.08 else "Won't Do"
        set_status(item, DONE, at, author, resolution)
        epic = item.epic
        if epic is not None and epic.status != DONE and all(c.status == DONE for c in epic.children):
            self.later(at + timedelta(hours=self.rng.uniform(1, 48)), self._epic_done, epic)

    def _epic_done(self, at: datetime, epic: Item) -> None:
        if epic.status != DONE and all(c.status == DONE for c in epic.children):
            set_status(epic, DONE, at, self.p.lead)

    def settle_subtasks(self, item: Item, until: datetime) -> None:
        """Sub-tasks were worked on between the parent's start and `until`: record that."""
        subs = [s for s in item.children if s.status != DONE] if item.kind != "Epic" else []
        if not subs or item.started is None or item.assignee is None:
            return
        span = (until - item.started) / (len(subs) + 1)
        for n, sub in enumerate(subs):
            start = item.started + span * n + timedelta(minutes=5)
            assign(sub, item.assignee, start, item.assignee)
            set_status(sub, PROGRESS, start + timedelta(minutes=1), item.assignee)
            if until < self.now and start + span < until:
                set_status(sub, DONE, start + span, item.assignee)

    def day(self, day: date, sprint: Sprint | None, not_before: datetime) -> None:
        """One working day: bugs arrive, members work, things get blocked and re-estimated."""
        rng, tz = self.rng, self.now.tzinfo
        t0 = max(at_hour(day, 9 + rng.uniform(0, 0.6), tz), not_before)
        if t0 >= self.now:
            return
        self.run_until(t0)
        for _ in range(_poisson(rng, self.bug_rate)):
            self.bug(t0 + timedelta(hours=rng.uniform(0, 8)), sprint)
        if sprint is not None and rng.random() < 0.08:
            self.discovered_work(t0 + timedelta(hours=rng.uniform(0, 8)), sprint)
        team = self.p.team
        shift = day.toordinal() % len(team)
        for member in team[shift:] + team[:shift]:
            if day.toordinal() in member.days_off:
                continue
            self._work(member, t0, rng.uniform(0.6, 1.05) * member.speed)

    def _work(self, member: Person, t0: datetime, capacity: float) -> None:
        rng = self.rng
        t = t0
        while capacity > 0.01 and t < self.now:
            item = member.current or self.pull(member, t)
            if item is None:
                return
            if rng.random() < 0.006:  # waiting on someone else: blocked and flagged for a few days
                set_status(item, BLOCKED, t, member)
                set_flag(item, True, t + timedelta(minutes=1), member)
                member.current = None
                self.later(self._workhours_later(t, rng.uniform(8, 30)), self._unblock, item, member)
                continue
            if item.points and rng.random() < 0.01:
                bigger = POINTS[min(len(POINTS) - 1, POINTS.index(int(item.points)) + 1)] if int(item.points) in POINTS else item.points
                set_points(item, float(bigger), t + timedelta(minutes=rng.randint(5, 90)), member)
            used = min(capacity, item.effort)
            item.effort -= used
            capacity -= used
            t_end = t + timedelta(hours=8 * used / max(member.speed, 0.1))
            if t_end >= self.now:
                return
            if item.effort <= 0.01:
                self.finish(item, t_end, member)
            elif rng.random() < 0.5:
                log_work(item, 1800 * rng.randint(2, 12), t_end, member)
            t = t_end

    def _unblock(self, at: datetime, item: Item, member: Person) -> None:
        if item.status != BLOCKED:
            return
        set_status(item, PROGRESS, at, member)
        set_flag(item, False, at + timedelta(minutes=1), member)
        if item in self.sprint_items or not self.p.scrum:
            self.queue.insert(0, item)

    # -- the whole history ------------------------------------------------------------------------

    def run(self, wave_start: datetime) -> None:
        """Simulate from the project's start until now (scrum: sprint by sprint; kanban: day by day)."""
        p, rng, tz = self.p, self.rng, self.now.tzinfo
        for v in p.versions:
            if v.release is not None and not v.overdue:
                self.later(at_hour(v.release, 16 + rng.uniform(0, 2), tz), self.ship, v)
        started = [s for s in p.sprints if s.state != "future"]
        days_total = max(1, len(workdays(p.start.date(), self.now.date())))
        self.bug_rate = 0.15 * self.budget / days_total
        if not p.scrum:
            self.bug_rate = 0.35 * self.budget / days_total
            for day in workdays(p.start.date(), self.now.date() + DAY):
                for _ in range(_poisson(rng, 0.65 * self.budget / days_total)):
                    task = self.create("Task", at_hour(day, 9 + rng.uniform(0, 8), tz),
                                       points=float(rng.choice([1, 2, 3])))
                    if task is not None:
                        self.backlog.append(task)
                self.queue = self.backlog
                self.day(day, None, p.start)
            self.run_until(self.now)
            return
        bugs_expected = self.bug_rate * days_total * 1.2
        self.refine(p.version_at(p.start.date()), p.start, 3, self.share(3, len(started), bugs_expected))
        for n, sprint in enumerate(started):
            assert sprint.start is not None and sprint.end is not None
            self.sprint = sprint
            self.plan(sprint, overcommit=1.45 if sprint.state == "active" else 1.0)
            left = len(started) - n
            refine_day = sprint.start.date() + timedelta(days=8)
            refined = False
            for day in workdays(sprint.start.date(), min(sprint.end.date(), self.now.date() + DAY)):
                if not refined and day >= refine_day:
                    refined = True
                    upcoming = p.version_at(sprint.end.date())
                    bugs_left = bugs_expected * left / len(started)
                    if upcoming is not None and upcoming.start >= sprint.end.date() - timedelta(days=1):
                        self.refine(upcoming, min(at_hour(day, 14, tz), self.now - HOUR), 3, self.share(3, left, bugs_left))
                    elif len(self.backlog) < 8:
                        self.refine(upcoming, min(at_hour(day, 14, tz), self.now - HOUR), 1, self.share(1, left, bugs_left))
                if day >= wave_start.date():
                    for _ in range(_poisson(rng, self.bug_rate * 2.5)):  # the regression wave
                        self.bug(at_hour(day, 9 + rng.uniform(0, 8), tz), sprint, wave=True)
                self.day(day, sprint, sprint.start + timedelta(minutes=15))
            if sprint.state == "closed":
                assert sprint.complete is not None
                self.run_until(sprint.complete)
                self.close(sprint, started[n + 1] if n + 1 < len(started) else p.sprints[n + 1])
        self.run_until(self.now)
        for item in self.sprint_items:
            if item.status in (PROGRESS, BLOCKED) and item.started is not None:
                self.settle_subtasks(item, self.now)


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth; lam is small here)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k
