"""Generate the sandbox's world: a product team's project history, deterministic from a seed.

`generate_world(seed, issues, now)` plans 2-3 Jira projects (WID "Widget" and GAD "Gadget" on
scrum boards, OPS on a kanban board from 3,000 items up) with their teams, two-week sprints and
fix versions; simulates each team's execution up to `now` (`simulate.Simulation`); adds the
scripted situations every risk rule should find (`scenario`); renders everything as the payloads
Jira Cloud and GitHub return (`generate_jira`, `generate_github`); and counts what it made in
`world.truth`. About 60% of `issues` are Jira issues, the rest GitHub issues and pull requests.

Nested objects in the payloads (users, statuses, sprints, versions, issue references) are shared
between payloads to keep 100,000-item worlds small: replace them, never mutate them in place.

Modules: `timeline` (people, sprints, versions, items and the changes recorded on them),
`backlog` + `simulate` (the product owner and the team), `scenario` (scripted trouble),
`generate_jira`, `generate_github` + `gh_render` + `gh_payloads` (API shapes), `gen_text` (words).
"""

from __future__ import annotations

import gc
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from syncd.sandbox import gen_text
from syncd.sandbox.simulate import ITEMS_PER_PERSON_SPRINT, Simulation
from syncd.sandbox.timeline import (
    DONE,
    POINT_WEIGHTS,
    POINTS,
    Item,
    Person,
    Project,
    Sprint,
    Version,
    at_hour,
    set_sprints,
    workdays,
)
from syncd.sandbox.world import Truth, World

MIN_ISSUES, MAX_ISSUES = 100, 100_000
JIRA_SHARE = 0.6
PROJECTS = {"WID": ("Widget", "acme/widget", "2"), "GAD": ("Gadget", "acme/gadget", "5"),
            "OPS": ("Operations", "acme/infra", "")}


@dataclass
class Plan:
    """The world before rendering: projects with their simulated items, and everyone involved."""

    seed: int
    now: datetime
    issues: int
    projects: list[Project]
    people: list[Person]  # every Jira user who is a person (team, product owners, support)
    owners: dict[str, Person]  # project key -> product owner
    support: list[Person]
    automation: Person  # the Jira automation app (author of automatic transitions)
    extra_boards: list[tuple[int, str, str]]  # (board id, name, project key): kanban boards without sprints
    github_items: int
    troubles: dict[str, list[Any]]  # rule -> items made to show it (filled by scenario)


class Factory:
    """Creates items with believable words, priorities, labels and components."""

    def __init__(self, rng: random.Random, plan: Plan) -> None:
        self.rng = rng
        self.plan = plan
        self.epic_titles: dict[str, int] = {}
        self.legacy_before = plan.projects[0].start + (plan.now - plan.projects[0].start) / 3

    def __call__(self, project: Project, kind: str, at: datetime, *, summary: str | None = None,
                 reporter: Person | None = None, epic: Item | None = None, parent: Item | None = None,
                 points: float | None = None, priority: str | None = None, labels: list[str] | None = None,
                 version: Version | None = None, due: date | None = None, acceptance: bool | None = None) -> Item:
        """A new item of `project`, created at `at` (it joins the project's items)."""
        rng, key = self.rng, project.key
        if summary is None:
            summary = {"Epic": lambda: gen_text.epic_title(rng, key, self.epic_titles),
                       "Bug": lambda: gen_text.bug_title(rng, key),
                       "Task": lambda: gen_text.task_title(rng, key),
                       "Sub-task": lambda: gen_text.subtask_title(rng, len(parent.children) if parent else 0),
                       }.get(kind, lambda: gen_text.story_title(rng, key))()
        if reporter is None:
            if kind == "Bug" and rng.random() < 0.4:
                reporter = rng.choice(self.plan.support)
            elif kind in ("Epic", "Story") and rng.random() < 0.7:
                reporter = self.plan.owners[key]
            else:
                reporter = rng.choice(project.team)
        if priority is None:
            priority = rng.choices(["High", "Medium", "Low"], [15, 70, 15])[0]
        if labels is None:
            labels = sorted(set(rng.sample(gen_text.LABELS, rng.choice([0, 0, 1, 1, 2]))))
        components = gen_text.PROJECT_WORDS[key][1]
        item = Item(project=key, kind=kind, summary=summary, created=at, reporter=reporter, priority=priority,
                    points=points, epic=epic, parent=parent, labels=labels,
                    components=[rng.choice(components)] if kind != "Epic" and rng.random() < 0.6 else [],
                    versions=[version] if version else [], due=due)
        if kind == "Story":
            item.acceptance = rng.random() > 0.12 if acceptance is None else acceptance
        if epic is not None:
            epic.children.append(item)
            item.legacy_epic_link = at < self.legacy_before and rng.random() < 0.5
        if parent is not None:
            parent.children.append(item)
            item.sprints = list(parent.sprints)
        project.items.append(item)
        return item


def generate_world(seed: int = 7, issues: int = 2000, now: datetime | None = None) -> World:
    """A whole world: `issues` work items (about 60% Jira), deterministic for one seed and `now`.

    `now` defaults to the real now; a naive `now` is read as UTC. Raises ValueError for a size
    outside 100..100,000.
    """
    if not MIN_ISSUES <= issues <= MAX_ISSUES:
        raise ValueError(f"issues must be between {MIN_ISSUES} and {MAX_ISSUES}, not {issues}")
    now = now or datetime.now(UTC)
    now = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)  # naive: UTC
    collecting = gc.isenabled()
    gc.disable()  # millions of young objects, none garbage: the cycle collector would only slow this down
    try:
        return _generate(seed, issues, now)
    finally:
        if collecting:
            gc.enable()


def _generate(seed: int, issues: int, now: datetime) -> World:
    from syncd.sandbox import generate_github, generate_jira, scenario

    rng = random.Random(seed)
    plan = plan_world(rng, issues, now)
    plan.seed = seed
    make = Factory(rng, plan)
    wave_start = now - timedelta(days=14)
    reserve = scenario.reserved(plan)
    sims = {}
    for project in plan.projects:
        budget = project.budget - reserve.get(project.key, 0) - max(3, project.budget // 12)
        sim = Simulation(project, rng, now, max(0, budget), make)
        sim.run(wave_start)
        sims[project.key] = sim
    scenario.apply(plan, make, rng)
    for project in plan.projects:
        _bug_inflow(project, make, rng, now)
        _top_up(project, sims[project.key], make, rng, now)
        if project.scrum:
            _plan_future_sprints(project, sims[project.key], rng, now)
            _sprint_goals(project, rng)
    scenario.hostile_titles(plan, rng)
    _number(plan)
    jira = generate_jira.render(plan, rng)
    github = generate_github.render(plan, rng)
    world = World(seed=seed, now=now, jira=jira.world, github=github.world)
    world.truth = Truth(
        jira_issues=len(jira.world.issues), jira_sprints=len(jira.world.sprints),
        jira_versions=sum(len(v) for v in jira.world.versions.values()), jira_links=jira.links,
        jira_transitions=jira.transitions, github_issues=github.issues, github_pulls=github.pulls,
        github_reviews=github.reviews, github_milestones=github.milestones, github_releases=github.releases,
        extra=_extra(plan, github.links),
    )
    _dismantle(plan, list(sims.values()))
    return world


def _dismantle(plan: Plan, sims: list[Simulation]) -> None:
    """Break the plan's reference cycles (epic <-> issues, member <-> current item, scheduled events),
    so reference counting frees it at once instead of leaving it to the cycle collector."""
    for sim in sims:
        sim.heap.clear()
    for person in plan.people:
        person.current = None
    for project in plan.projects:
        for item in project.items:
            item.epic = item.parent = None
            item.children, item.blocks, item.relates, item.changes = [], [], [], []
    plan.troubles.clear()


# -- the plan ---------------------------------------------------------------------------------------

def plan_world(rng: random.Random, issues: int, now: datetime) -> Plan:
    """Projects, teams, sprints and versions sized for `issues` items."""
    jira_n = round(issues * JIRA_SHARE)
    keys = ["WID", "GAD"] + (["OPS"] if issues >= 3000 else [])
    shares = {"WID": 0.62, "GAD": 0.38} if len(keys) == 2 else {"WID": 0.5, "GAD": 0.33, "OPS": 0.17}
    budgets = {k: int(jira_n * shares[k]) for k in keys}
    budgets["WID"] += jira_n - sum(budgets.values())
    closed = max(4, min(40, round(math.sqrt(issues) / 2.2)))
    monday = (now - timedelta(days=7)).date()
    monday -= timedelta(days=monday.weekday())
    active_start = at_hour(monday, 10 + rng.uniform(0, 0.5), UTC)
    first_start = active_start - timedelta(days=14 * closed)
    taken: set[str] = set()
    people: list[Person] = []

    def person(name: str) -> Person:
        login = gen_text.login_of(name, taken)
        account = f"712020:{rng.getrandbits(128):032x}"
        p = Person(name=name, account_id=account, email=f"{login}@acme.example", login=login,
                   speed=rng.uniform(0.75, 1.25))
        people.append(p)
        return p

    names = iter(gen_text.person_names(rng, 4 + sum(_team_size(budgets[k], closed, k) + 1 for k in keys)))
    support = [person(next(names)), person(next(names)), person("Zoë O'Brien <zoe@example.com>")]
    owners: dict[str, Person] = {}
    projects = []
    sprint_id, board_id, version_id = 1, 1, 10000
    for n, key in enumerate(keys):
        name, _, major = PROJECTS[key]
        owners[key] = person(next(names))
        team = [person(next(names)) for _ in range(_team_size(budgets[key], closed, key))]
        _days_off(team, rng, first_start.date(), now.date())
        scrum = key != "OPS"
        sprints: list[Sprint] = []
        versions: list[Version] = []
        if scrum:
            for i in range(closed + 3):
                start = first_start + timedelta(days=14 * i, minutes=rng.randint(0, 20))
                state = "closed" if i < closed else ("active" if i == closed else "future")
                sprint = Sprint(id=sprint_id, board=board_id, project=key, name=f"{key} Sprint {i + 1}", index=i,
                                state=state, created=min(start - timedelta(days=14), now - timedelta(hours=1)))
                if state != "future":
                    sprint.start, sprint.end = start, start + timedelta(days=14)
                sprints.append(sprint)
                sprint_id += 1
            for s, following in zip(sprints, sprints[1:], strict=False):
                if s.state == "closed" and following.start is not None:
                    s.complete = following.start - timedelta(minutes=rng.randint(5, 50))
            first_window = -math.ceil(closed / 3)
            for w in range(first_window, 2):
                first = closed + 3 * w
                start_day = (first_start + timedelta(days=14 * max(0, first))).date()
                release = (first_start + timedelta(days=14 * (first + 3))).date() if w < 1 else None
                versions.append(Version(id=version_id, project=key, name=f"{name} {major}.{w - first_window}",
                                        start=start_day, release=release, released=False, overdue=w == -1,
                                        description=f"{name} release {w - first_window}"))
                version_id += 1
        projects.append(Project(key=key, name=name, id=10000 + n, scrum=scrum, team=team, board_id=board_id,
                                sprints=sprints, versions=versions, budget=budgets[key], start=first_start))
        board_id += 1
    automation = Person(name="Automation for Jira", account_id="557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
                        email="", login="")
    return Plan(seed=0, now=now, issues=issues, projects=projects, people=people, owners=owners, support=support,
                automation=automation, extra_boards=[(board_id, "WID Support", "WID")],
                github_items=issues - jira_n, troubles={})


def _team_size(budget: int, sprints: int, key: str) -> int:
    per = ITEMS_PER_PERSON_SPRINT * (1.4 if key == "OPS" else 1.0)
    return max(2, round(budget * 0.72 / (per * (sprints + 1))))


def _days_off(team: list[Person], rng: random.Random, start: date, end: date) -> None:
    """Sick days, one vacation week per member every few months, and a couple of company holidays."""
    days = workdays(start, end + timedelta(days=1))
    holidays = {d.toordinal() for d in rng.sample(days, min(len(days), max(1, len(days) // 120)))}
    for member in team:
        off = {d.toordinal() for d in days if rng.random() < 0.025} | holidays
        for _ in range(max(1, len(days) // 60)):
            first = rng.randrange(len(days))
            off |= {d.toordinal() for d in days[first:first + 5]}
        member.days_off = off


# -- after the simulation ---------------------------------------------------------------------------

def _bug_inflow(project: Project, make: Factory, rng: random.Random, now: datetime) -> None:
    """More bugs arrived than were fixed in the last two weeks (ratio above 1.5): top up the wave if not."""
    if not project.scrum:
        return
    since = now - timedelta(days=14)
    bugs = [i for i in project.items if i.kind == "Bug"]
    created = sum(1 for b in bugs if b.created >= since)
    resolved = sum(1 for b in bugs if b.resolved is not None and b.resolved >= since)
    days = workdays(since.date() + timedelta(days=1), now.date())
    for _ in range(max(0, math.floor(1.6 * resolved) + 2 - created)):
        at = at_hour(rng.choice(days), 9 + rng.uniform(0, 8), UTC) if days else now - timedelta(hours=6)
        if at >= now:
            at = now - timedelta(hours=rng.uniform(1, 12))
        make(project, "Bug", at, priority=rng.choice(["High", "Medium"]), labels=["regression"])


def _top_up(project: Project, sim: Simulation, make: Factory, rng: random.Random, now: datetime) -> None:
    """Fill the backlog up to the project's exact item count: refinement of the next release."""
    version = project.versions[-1] if project.versions else None
    epic: Item | None = None
    while len(project.items) < project.budget:
        at = now - timedelta(hours=rng.uniform(60, 21 * 24))
        if project.scrum and (epic is None or len(epic.children) >= 8) and project.budget - len(project.items) > 3:
            epic = make(project, "Epic", at, version=version)
            continue
        kind = "Bug" if not project.scrum or rng.random() < 0.2 else rng.choice(["Story", "Story", "Task"])
        points = float(rng.choices(POINTS, POINT_WEIGHTS)[0]) if kind == "Story" else None
        item = make(project, kind, max(at, epic.created + timedelta(minutes=5)) if epic and kind != "Bug" else at,
                    epic=epic if kind != "Bug" else None, points=points)
        sim.backlog.append(item)


def _plan_future_sprints(project: Project, sim: Simulation, rng: random.Random, now: datetime) -> None:
    """Backlog refinement in the running sprint: fill the next sprint to about the velocity, the one after a little."""
    active = project.sprint_of("active")
    assert active.start is not None
    at = max(active.start + timedelta(hours=26), now - timedelta(hours=rng.uniform(18, 40)))
    recent = sim.velocity[-3:] or [sim.v_est]
    for n, share in ((0, 0.95), (1, 0.3)):
        sprint = project.sprint_of("future", n)
        target = sum(recent) / len(recent) * share - sum(sim.points_of(i) for i in project.items if sprint in i.sprints)
        for item in [i for i in sim.backlog if i.status != DONE and not i.sprints and i.created < at]:
            if target <= 0:
                break
            set_sprints(item, [sprint], at + timedelta(minutes=n), project.lead)
            target -= sim.points_of(item)
            sim.backlog.remove(item)


def _sprint_goals(project: Project, rng: random.Random) -> None:
    """Most sprints have a goal naming the epic they mostly worked on."""
    by_sprint: dict[int, dict[str, int]] = {}
    for item in project.items:
        if item.epic is not None:
            for s in item.sprints:
                counts = by_sprint.setdefault(s.id, {})
                counts[item.epic.summary] = counts.get(item.epic.summary, 0) + 1
    for sprint in project.sprints:
        found = by_sprint.get(sprint.id)
        if found and rng.random() < 0.85:
            counts = found
            top = max(counts, key=lambda k: (counts[k], k))
            sprint.goal = rng.choice([f"Ship {top} to beta", f"{top}: finish the core flow",
                                      f"Make {top} ready for the release"])


def _number(plan: Plan) -> None:
    """Ids and keys in creation order, as Jira hands them out."""
    everything = sorted((i for p in plan.projects for i in p.items), key=lambda i: i.created)
    counters: dict[str, int] = {}
    for n, item in enumerate(everything):
        item.id = 10001 + n
        counters[item.project] = counters.get(item.project, 0) + 1
        item.key = f"{item.project}-{counters[item.project]}"


def _extra(plan: Plan, pull_links: int) -> dict[str, Any]:
    """What a demo or a test needs to know about the world without reading every payload."""
    from syncd.sandbox import scenario

    epics = []
    for p in plan.projects:
        for item in p.items:
            if item.kind == "Epic":
                target = item.due or (item.versions[0].release if item.versions else None)
                epics.append({"key": item.key, "title": item.summary, "project": p.key, "status": item.status,
                              "target_date": target.isoformat() if target else None,
                              "version": item.versions[0].name if item.versions else None,
                              "issues": len(item.children)})
    versions = [{"key": v.name, "id": str(v.id), "title": v.name, "project": p.key,
                 "target_date": v.release.isoformat() if v.release else None, "released": v.released,
                 "overdue": v.overdue} for p in plan.projects for v in p.versions]
    return {
        "projects": [{"key": p.key, "name": p.name, "repo": PROJECTS[p.key][1], "board_id": p.board_id,
                      "scrum": p.scrum, "team": [m.name for m in p.team]} for p in plan.projects],
        "repos": [PROJECTS[p.key][1] for p in plan.projects],
        "epics": epics,
        "versions": versions,
        "active_sprints": [{"id": s.id, "name": s.name, "project": p.key} for p in plan.projects for s in p.sprints
                           if s.state == "active"],
        "troubles": scenario.troubles_by_key(plan.troubles),
        "pull_links": pull_links,
    }
