"""Small factories for analysis tests: a `Plan` builds items, their history, sprints and PRs by hand.

Every mutation records the changelog the way the Jira connector stores it (status by name, sprints
as comma-separated remote ids, story points as strings), and keeps the item's current state in step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from syncd.model import (
    CheckConclusion,
    ItemKind,
    Link,
    LinkKind,
    Person,
    PullRequest,
    PullState,
    Release,
    ReleaseKind,
    Review,
    ReviewState,
    SourceType,
    Sprint,
    SprintState,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.reports.analysis.risk_rules import RiskThresholds
from syncd.reports.data import Snapshot
from syncd.reports.goals import Goal, Metric, Selector

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
CATEGORY = {"To Do": StatusCategory.TODO, "In Progress": StatusCategory.IN_PROGRESS,
            "In Review": StatusCategory.IN_PROGRESS, "Done": StatusCategory.DONE}


def day(n: float) -> datetime:
    """T0 plus n days."""
    return T0 + timedelta(days=n)


@dataclass
class Settings:
    """A stand-in for ReportSettings with the fields analysis reads."""

    timezone: str = "UTC"
    velocity_sprints: int = 3
    forecast_trials: int = 2000
    forecast_weeks: int = 8
    forecast_share_weeks: int = 6
    forecast_default_share: float | None = None
    risks: dict = field(default_factory=dict)
    thresholds: RiskThresholds = field(default_factory=RiskThresholds)


def goal(scope: Selector, *, id: str = "g1", target: date = date(2026, 6, 1), **kw: object) -> Goal:
    """A goal with a hand-set metric."""
    metric = kw.pop("metric", Metric(name="NPS", baseline=10, target=30, value=20, value_date=date(2026, 3, 1)))
    return Goal(id=id, title=f"Goal {id}", objective="Grow revenue", problem="Users wait", owner="Olivia",
                target_date=target, metric=metric, scope=scope, **kw)  # type: ignore[arg-type]


class Plan:
    """Builds a consistent little world."""

    def __init__(self, project: str = "WID") -> None:
        self.project = project
        self.items: dict[str, WorkItem] = {}
        self.transitions: list[Transition] = []
        self.sprints: dict[str, Sprint] = {}
        self.releases: list[Release] = []
        self.links: list[Link] = []
        self.pulls: list[PullRequest] = []
        self.people: list[Person] = [Person(id="jira:alice", source="jira", display_name="Alice"),
                                     Person(id="gh:bob", source="gh", display_name="Bob")]
        self._n = 0

    # -- items ----------------------------------------------------------------------------------

    def item(self, key: str | None = None, *, kind: ItemKind = ItemKind.STORY, status: str = "To Do",
             created: datetime = T0, points: float | None = None, assignee: str | None = "jira:alice",
             project: str | None = None, **kw: object) -> WorkItem:
        """A Jira item created at `created` in `status` (no history yet)."""
        self._n += 1
        project = project or self.project
        key = key or f"{project}-{self._n}"
        item = WorkItem(id=f"jira:{10000 + self._n}", source="jira", source_type=SourceType.JIRA,
                        remote_id=str(10000 + self._n), key=key, project=project, kind=kind, title=f"Title of {key}",
                        status=status, status_category=CATEGORY[status], created=created, updated=created,
                        estimate=points, assignee_id=assignee, url=f"https://jira.example/browse/{key}",
                        **kw)  # type: ignore[arg-type]
        self.items[item.id] = item
        return item

    def _tr(self, item: WorkItem, at: datetime, fld: TransitionField, **kw: str | None) -> None:
        self.transitions.append(Transition(item_id=item.id, change_id=f"c{len(self.transitions)}", field=fld,
                                           at=at, **kw))
        item.updated = max(item.updated, at)

    def move(self, item: WorkItem, status: str, at: datetime) -> WorkItem:
        """Change the item's status at `at` (recorded in the changelog)."""
        self._tr(item, at, TransitionField.STATUS, from_string=item.status, to_string=status)
        item.status, item.status_category = status, CATEGORY[status]
        item.resolved = at if status == "Done" else None
        return item

    def estimate(self, item: WorkItem, points: float, at: datetime) -> WorkItem:
        """Change the story points at `at`."""
        old = "" if item.estimate is None else f"{item.estimate:g}"
        self._tr(item, at, TransitionField.ESTIMATE, from_string=old, to_string=f"{points:g}")
        item.estimate = points
        return item

    # -- sprints --------------------------------------------------------------------------------

    def sprint(self, n: int, state: SprintState, start: datetime | None = None, end: datetime | None = None,
               complete: datetime | None = None, board: str = "1", goal: str | None = None) -> Sprint:
        """Sprint number n (remote id n) of a board."""
        s = Sprint(id=f"jira:sprint:{n}", source="jira", remote_id=str(n), board_id=board, board_name=f"Board {board}",
                   name=f"Sprint {n}", state=state, start=start, end=end, complete=complete, goal=goal)
        self.sprints[s.id] = s
        return s

    def set_sprints(self, item: WorkItem, sprints: list[Sprint], at: datetime) -> WorkItem:
        """Replace the item's sprints at `at`, as Jira's Sprint field change records it."""
        old = [self.sprints[s] for s in item.sprint_ids]
        self._tr(item, at, TransitionField.SPRINT, from_value=", ".join(s.remote_id for s in old) or None,
                 to_value=", ".join(s.remote_id for s in sprints) or None,
                 from_string=", ".join(s.name for s in old) or None, to_string=", ".join(s.name for s in sprints) or None)
        item.sprint_ids = [s.id for s in sprints]
        return item

    # -- links, releases, pulls ------------------------------------------------------------------

    def block(self, blocker: WorkItem, blocked: WorkItem) -> None:
        """`blocker` blocks `blocked`."""
        self.links.append(Link(from_id=blocker.id, kind=LinkKind.BLOCKS, to_key=blocked.key, to_id=blocked.id))

    def version(self, name: str, *, due: date | None = None, released_at: datetime | None = None) -> Release:
        """A Jira fix version."""
        rel = Release(id=f"jira:version:{len(self.releases)}", source="jira", remote_id=str(len(self.releases)),
                      kind=ReleaseKind.VERSION, project=self.project, name=name, due=due, released_at=released_at,
                      released=released_at is not None)
        self.releases.append(rel)
        return rel

    def gh_release(self, repo: str, at: datetime) -> Release:
        """A published GitHub release."""
        rel = Release(id=f"gh:release:{repo}:{len(self.releases)}", source="gh", remote_id=str(len(self.releases)),
                      kind=ReleaseKind.RELEASE, project=repo, name=f"v{len(self.releases)}", released_at=at, released=True)
        self.releases.append(rel)
        return rel

    def pull(self, repo: str = "acme/widget", *, created: datetime = T0, state: PullState = PullState.OPEN,
             implements: WorkItem | None = None, merged_at: datetime | None = None, reviews: list[datetime] = (),  # type: ignore[assignment]
             additions: int = 10, deletions: int = 5, checks: CheckConclusion = CheckConclusion.SUCCESS,
             draft: bool = False) -> WorkItem:
        """A pull request (item + details), optionally implementing a Jira item."""
        self._n += 1
        done = state != PullState.OPEN
        item = WorkItem(id=f"gh:{self._n}", source="gh", source_type=SourceType.GITHUB, remote_id=str(self._n),
                        key=f"{repo}#{self._n}", project=repo, kind=ItemKind.PULL_REQUEST, title=f"PR {self._n}",
                        status="closed" if done else "open",
                        status_category=StatusCategory.DONE if done else StatusCategory.IN_PROGRESS,
                        created=created, updated=created, reporter_id="gh:bob", url=f"https://github.example/{repo}/pull/{self._n}",
                        resolved=merged_at)
        self.items[item.id] = item
        self.pulls.append(PullRequest(item_id=item.id, state=state, merged_at=merged_at, additions=additions,
                                      deletions=deletions, checks=checks, draft=draft,
                                      reviews=[Review(author_id="gh:carol", state=ReviewState.APPROVED, submitted_at=r)
                                               for r in reviews]))
        if implements is not None:
            self.links.append(Link(from_id=item.id, kind=LinkKind.IMPLEMENTS, to_key=implements.key))
        return item

    def snapshot(self) -> Snapshot:
        """The world as analysis sees it."""
        return Snapshot.of(self.items.values(), pulls=self.pulls, sprints=self.sprints.values(),
                           releases=self.releases, links=self.links, transitions=self.transitions, people=self.people)


def beta_quantile(p: float, a: int, b: int) -> float:
    """The p-quantile of Beta(a, b) for whole a, b, by hand: P(Beta(a, b) <= x) = P(Binomial(a + b - 1, x) >= a).

    (The order-statistic identity: the a-th smallest of a + b - 1 uniform draws is Beta(a, b).)
    Bisection on x; independent of numpy's Beta sampler.
    """
    n = a + b - 1

    def cdf(x: float) -> float:
        return sum(math.comb(n, j) * x**j * (1 - x) ** (n - j) for j in range(a, n + 1))

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return lo
