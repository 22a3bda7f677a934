"""The objects a simulated project history is made of, and the changes recorded on them.

People, sprints, fix versions and work items, plus one function per kind of change (status,
sprint, estimate, assignee, fix version, flag, worklog, link). Each change is appended to the
item's history with its time and author, the way Jira's changelog records it; `generate_jira`
renders that history. The simulation (`simulate`) and the scripted situations (`scenario`) both
change items only through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

TODO, PROGRESS, BLOCKED, REVIEW, QA, DONE = "To Do", "In Progress", "Blocked", "In Review", "QA", "Done"
CATEGORY = {TODO: "new", PROGRESS: "indeterminate", BLOCKED: "indeterminate", REVIEW: "indeterminate",
            QA: "indeterminate", DONE: "done"}
POINTS = [1, 2, 3, 5, 8, 13]
POINT_WEIGHTS = [10, 20, 30, 25, 12, 3]
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(eq=False)
class Person:
    """A team member (one Jira account and one GitHub login), or an outsider."""

    name: str
    account_id: str
    email: str
    login: str
    speed: float = 1.0
    days_off: set[int] = field(default_factory=set)  # date ordinals
    current: Item | None = None


@dataclass(eq=False)
class Sprint:
    """A two-week sprint of one scrum board."""

    id: int
    board: int
    project: str
    name: str
    index: int
    state: str  # closed | active | future
    goal: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    complete: datetime | None = None
    created: datetime | None = None  # planned a sprint ahead: two weeks before its (planned) start


@dataclass(eq=False)
class Version:
    """A fix version (release) of one project, covering a window of sprints."""

    id: int
    project: str
    name: str
    start: date
    release: date | None
    released: bool = False
    overdue: bool = False  # decided in the plan: this one missed its date and is not out yet
    description: str = ""


@dataclass(eq=False)
class Change:
    """One changelog entry: (field, old, new) triples in simulation terms, rendered later."""

    at: datetime
    author: Person | None  # None: the automation app
    items: list[tuple[str, Any, Any]]


@dataclass(eq=False)
class Item:
    """A Jira issue as the simulation sees it."""

    project: str
    kind: str  # Epic | Story | Task | Bug | Sub-task
    summary: str
    created: datetime
    reporter: Person
    priority: str = "Medium"
    points: float | None = None
    epic: Item | None = None
    parent: Item | None = None  # sub-tasks
    legacy_epic_link: bool = False  # older issues name their epic in the Epic Link field only
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    status: str = TODO
    assignee: Person | None = None
    sprints: list[Sprint] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)
    resolution: str | None = None
    resolved: datetime | None = None
    category_changed: datetime | None = None
    updated: datetime | None = None
    changes: list[Change] = field(default_factory=list)
    effort: float = 0.0  # person-days of work left
    started: datetime | None = None
    review_times: list[datetime] = field(default_factory=list)
    done_at: datetime | None = None
    due: date | None = None
    acceptance: bool = True
    flagged: bool = False
    timespent: int = 0  # seconds logged
    blocks: list[Item] = field(default_factory=list)  # outward "Blocks" links
    relates: list[Item] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)  # epic -> issues, story -> sub-tasks
    note: str | None = None  # an extra paragraph in the description
    pr: dict[str, Any] | None = None  # scripted wishes for the pull request (see scenario)
    key: str = ""
    id: int = 0

    def __post_init__(self) -> None:
        if self.updated is None:
            self.updated = self.created
        if self.category_changed is None:
            self.category_changed = self.created


# -- recording changes ----------------------------------------------------------------------------

def record(item: Item, at: datetime, author: Person | None, *entries: tuple[str, Any, Any]) -> None:
    """Append one changelog entry and bump `updated`."""
    item.changes.append(Change(at, author, list(entries)))
    if item.updated is None or at > item.updated:
        item.updated = at


def set_status(item: Item, status: str, at: datetime, author: Person | None, resolution: str = "Done") -> None:
    """Move an item to `status`, setting or clearing its resolution the way Jira's workflow does."""
    old = item.status
    if old == status:
        return
    entries: list[tuple[str, Any, Any]] = [("status", old, status)]
    if status == DONE and item.resolution is None:
        entries.append(("resolution", None, resolution))
        item.resolution, item.resolved = resolution, at
    elif status != DONE and item.resolution is not None:
        entries.append(("resolution", item.resolution, None))
        item.resolution, item.resolved = None, None
    if CATEGORY[old] != CATEGORY[status]:
        item.category_changed = at
    item.status = status
    if status == PROGRESS and item.started is None:
        item.started = at
    if status == REVIEW:
        item.review_times.append(at)
    item.done_at = at if status == DONE else None
    record(item, at, author, *entries)


def set_sprints(item: Item, sprints: list[Sprint], at: datetime, author: Person | None) -> None:
    """Replace the Sprint field (sub-tasks follow their parent)."""
    if [s.id for s in sprints] == [s.id for s in item.sprints]:
        return
    record(item, at, author, ("sprint", list(item.sprints), list(sprints)))
    item.sprints = list(sprints)
    for sub in item.children if item.kind != "Epic" else []:
        set_sprints(sub, sprints, at, author)


def set_points(item: Item, points: float | None, at: datetime, author: Person | None) -> None:
    """Re-estimate."""
    if points != item.points:
        record(item, at, author, ("points", item.points, points))
        item.points = points


def assign(item: Item, person: Person | None, at: datetime, author: Person | None) -> None:
    """Change the assignee."""
    if person is not item.assignee:
        record(item, at, author, ("assignee", item.assignee, person))
        item.assignee = person


def set_version(item: Item, version: Version | None, at: datetime, author: Person | None) -> None:
    """Replace the fix version (Jira logs a removal and an addition)."""
    old = item.versions[0] if item.versions else None
    if old is version:
        return
    entries = ([("fix_version", old, None)] if old else []) + ([("fix_version", None, version)] if version else [])
    record(item, at, author, *entries)
    item.versions = [version] if version else []


def set_due(item: Item, due: date | None, at: datetime, author: Person | None) -> None:
    """Move the due date."""
    if due != item.due:
        record(item, at, author, ("duedate", item.due, due))
        item.due = due


def set_flag(item: Item, on: bool, at: datetime, author: Person | None) -> None:
    """Flag (impediment) or unflag."""
    if on != item.flagged:
        record(item, at, author, ("flagged", item.flagged, on))
        item.flagged = on


def log_work(item: Item, seconds: int, at: datetime, author: Person) -> None:
    """Log time spent (a changelog entry Jira records for worklogs)."""
    record(item, at, author, ("timespent", item.timespent, item.timespent + seconds))
    item.timespent += seconds


def link_blocks(blocker: Item, blocked: Item, at: datetime, author: Person | None) -> None:
    """`blocker` blocks `blocked` (Jira records the link on both issues)."""
    blocker.blocks.append(blocked)
    record(blocker, at, author, ("link", None, ("blocks", blocked)))
    record(blocked, at, author, ("link", None, ("is blocked by", blocker)))


def link_relates(item: Item, other: Item, at: datetime, author: Person | None) -> None:
    """`item` relates to `other` (stored outward on `item`)."""
    item.relates.append(other)
    record(item, at, author, ("link", None, ("relates to", other)))
    record(other, at, author, ("link", None, ("relates to", item)))


def workdays(start: date, end: date) -> list[date]:
    """Monday to Friday from `start` up to and excluding `end`."""
    out, day = [], start
    while day < end:
        if day.weekday() < 5:
            out.append(day)
        day += DAY
    return out


def at_hour(day: date, hour: float, tz: Any) -> datetime:
    """`day` at a fractional hour."""
    return datetime.combine(day, time(0), tz) + timedelta(hours=hour)


@dataclass(eq=False)
class Project:
    """One Jira project, its board, team, sprints and fix versions, and what the simulation made."""

    key: str
    name: str
    id: int
    scrum: bool
    team: list[Person]
    board_id: int
    sprints: list[Sprint]
    versions: list[Version]
    budget: int  # Jira issues this project ends up with
    start: datetime
    items: list[Item] = field(default_factory=list)

    @property
    def lead(self) -> Person:
        """The team lead (plans sprints, releases versions)."""
        return self.team[0]

    def sprint_of(self, state: str, offset: int = 0) -> Sprint:
        """The active sprint, or the n-th future/closed sprint (closed counts back from the newest)."""
        chosen = [s for s in self.sprints if s.state == state]
        return chosen[-1 - offset] if state == "closed" else chosen[offset]

    def version_at(self, day: date) -> Version | None:
        """The version whose window contains `day`."""
        for v in self.versions:
            if v.start <= day and (v.release is None or day < v.release):
                return v
        return self.versions[-1] if self.versions else None
