"""The typed results of analysis: everything a report renders, and nothing it has to compute.

This module is the contract between analysis and rendering. `analyse(snapshot, goals, settings,
now)` (in `reports.analysis`) returns one `Analysis`:

    Analysis
      .goals     [GoalAnalysis]    progress, burn-up, forecast, metric, status, risks per goal
      .releases  [ReleaseAnalysis] the same per release (fix version / milestone / GitHub release)
      .sprints   [SprintReport]    Jira-style sprint report per started sprint, from the changelog
      .flow      Flow              cycle/lead time, throughput, WIP, PR and DORA-style figures
      .risks     [Risk]            every risk, most severe first; goals/releases/sprints hold theirs
      .themes    [Theme]           the risks grouped per goal/release/sprint/team, ranked by impact
      .hygiene   Hygiene           the risks that threaten nothing planned, counted per team

Conventions a renderer can rely on:
- Every result is a frozen dataclass; lists are already sorted for display (noted per field).
- Durations are floats in the unit the field name says (`_days`, `_hours`); dates are calendar
  dates in the report time zone (`Analysis.timezone`); datetimes are aware UTC.
- Percentages are 0..100 floats, or None when the denominator is zero (nothing to measure).
- Text here (titles, names, goals) is untrusted: escape it when rendering.
- `ItemRef` is how any item is shown: key, title, url, status, assignee display name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from syncd.model import RiskAck
from syncd.reports.goals import Goal

if TYPE_CHECKING:
    from syncd.reports.analysis.history import Histories

T = TypeVar("T")


@dataclass(frozen=True)
class TeamMap:
    """Which team an item belongs to when dependencies and the blocked rule ask "is it another team's?".

    With `[teams]` configured, `by_item` holds the configured team of every item one holds (by board,
    project or repository, first team first: `teams.team_map`) and `by_project` the team listing each
    project or repository (for far ends of links into projects that are not synced). An item no
    configured team holds, and every item without `[teams]`, is its Jira project's or repository's.
    """

    by_item: dict[str, str] = field(default_factory=dict)  # item id -> configured team name
    by_project: dict[str, str] = field(default_factory=dict)  # project key or repository -> configured team
    names: tuple[str, ...] = ()  # the configured teams, in file order (empty: no `[teams]`)

    def of(self, item_id: str, project: str) -> str:
        """The item's team: its configured team, else its project."""
        return self.by_item.get(item_id) or self.of_project(project)

    def of_project(self, project: str) -> str:
        """The configured team that lists the project or repository, else the project itself."""
        return self.by_project.get(project, project)


class Rag(StrEnum):
    """Red / amber / green status."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Severity(StrEnum):
    """How bad a risk is. `red` threatens a date or a goal; `amber` needs attention."""

    AMBER = "amber"
    RED = "red"


# -- references: how analysis names the things it talks about -------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRef:
    """A work item or pull request as a report shows it."""

    id: str
    key: str  # WID-12, acme/widget#34
    title: str
    url: str | None
    status: str  # raw status name
    kind: str  # ItemKind value
    assignee: str | None = None  # display name when known
    points: float | None = None  # current story points


@dataclass(frozen=True, slots=True)
class SprintRef:
    """A sprint as a report names it."""

    id: str
    name: str
    board: str | None  # board name (or id when the name is unknown)
    state: str  # future / active / closed
    start: datetime | None
    end: datetime | None
    complete: datetime | None
    goal: str | None  # the sprint goal as written in Jira


@dataclass(frozen=True, slots=True)
class ReleasePartRef:
    """One part of a release: a Jira fix version, a GitHub milestone or a GitHub release (tag)."""

    id: str
    kind: str  # version / milestone / release
    project: str  # Jira project key or owner/repo
    name: str
    tag: str | None
    url: str | None
    released: bool
    released_at: datetime | None
    prerelease: bool = False
    draft: bool = False

    @property
    def label(self) -> str:
        """How a report names the part: "Jira version Widget 2.6", "milestone v2.6", "tag v2.6.0 (draft)"."""
        if self.kind == "version":
            return f"Jira {self.name}"
        if self.kind == "milestone":
            return f"milestone {self.name}"
        flags = [f for f, on in (("draft", self.draft), ("pre-release", self.prerelease)) if on]
        return f"tag {self.tag or self.name}" + (f" ({', '.join(flags)})" if flags else "")


@dataclass(frozen=True, slots=True)
class ReleaseRef:
    """A release as a report names it: one release joined across Jira and GitHub (see analysis.releases).

    `id` is the Jira version's record id when it has one (stable), `released`/`released_at` are the
    production release's, `state` is planned / pre-release / released, `parts` its fix version,
    milestones and GitHub releases with their links.
    """

    id: str
    name: str
    kind: str  # the primary part's kind: version / milestone / release
    project: str
    due: date | None
    released: bool  # released to production
    released_at: datetime | None  # the production release's date
    url: str | None
    state: str = "planned"  # planned / pre-release / released
    parts: tuple[ReleasePartRef, ...] = ()
    team: str | None = None  # the Jira project (or unpaired repository) the release belongs to

    @property
    def part_ids(self) -> frozenset[str]:
        """Record ids of the parts (the release's own id when it has no parts listed)."""
        return frozenset(p.id for p in self.parts) or frozenset({self.id})


# -- progress ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """Items and story points by status category ("done" = status category done)."""

    items_done: int = 0
    items_in_progress: int = 0
    items_todo: int = 0
    points_done: float = 0.0
    points_in_progress: float = 0.0
    points_todo: float = 0.0
    unestimated: int = 0  # items without story points (counted in items, not in points)

    @property
    def items_total(self) -> int:
        """All items in scope."""
        return self.items_done + self.items_in_progress + self.items_todo

    @property
    def points_total(self) -> float:
        """All story points in scope."""
        return self.points_done + self.points_in_progress + self.points_todo

    @property
    def percent_items(self) -> float | None:
        """Percent of items done, None for an empty scope."""
        return 100.0 * self.items_done / self.items_total if self.items_total else None

    @property
    def percent_points(self) -> float | None:
        """Percent of story points done, None when nothing is estimated."""
        return 100.0 * self.points_done / self.points_total if self.points_total else None


@dataclass(frozen=True, slots=True)
class Delivery:
    """"Code done" vs "delivered" for Jira items that have linked pull requests.

    `code_done`: every linked PR is merged (and there is at least one). `delivered`: code done and
    released — the item's fix version is released, or (when the repository publishes GitHub
    releases) every linked PR's merge shipped in a release. `releases_tracked` is False when no
    linked repository publishes releases and no fix version is set: then delivered == code done.
    """

    items_with_prs: int = 0
    code_done: int = 0
    delivered: int = 0
    releases_tracked: bool = False
    code_done_not_delivered: list[ItemRef] = field(default_factory=list)  # by key


@dataclass(frozen=True, slots=True)
class Funnel:
    """Where a scope's items stand on the way to users: to do → in progress → done in Jira → code
    merged → released to production.

    Each item counts once, at the furthest stage it reached; `done` counts every item done in Jira
    (status category done), of which `merged` have all their linked pull requests merged and
    `released` have that code in a production release (see `analysis.progress.code_state`).
    Items without linked pull requests carry no code: done, they are delivered (`done_no_code`,
    shown apart). `delivered` = released + done with no code: the headline "% done".
    """

    todo: int = 0
    in_progress: int = 0
    done: int = 0  # done in Jira, with or without code
    done_with_code: int = 0  # done in Jira and implemented by pull requests
    merged: int = 0  # done, every linked PR merged (released or not)
    released: int = 0  # done, code in a production release
    done_no_code: int = 0  # done, no linked pull request

    @property
    def items(self) -> int:
        """Items in scope."""
        return self.todo + self.in_progress + self.done

    @property
    def delivered(self) -> int:
        """Released to production, or done for items that carry no code."""
        return self.released + self.done_no_code

    @property
    def not_released(self) -> int:
        """Done in Jira but not delivered: code open, or merged and waiting for a production release."""
        return self.done - self.delivered

    @property
    def percent_delivered(self) -> float | None:
        """Delivered items as a percent of all items (None for an empty scope)."""
        return 100.0 * self.delivered / self.items if self.items else None

    @property
    def percent_done(self) -> float | None:
        """Items done in Jira as a percent of all items."""
        return 100.0 * self.done / self.items if self.items else None


@dataclass(frozen=True, slots=True)
class BurnUpPoint:
    """One day of a burn-up chart: scope and done at the end of `day` (report time zone)."""

    day: date
    scope_items: int
    done_items: int
    scope_points: float  # current estimates of the items in scope that day
    done_points: float


@dataclass(frozen=True, slots=True)
class ScopeChange:
    """Scope added after the baseline date (scope creep)."""

    baseline: date
    baseline_reason: str  # why this date: "configured", "goal start", "work started", ...
    baseline_items: int  # items in scope at the end of the baseline day
    baseline_points: float
    added_items: int  # items that entered scope after the baseline day
    added_points: float
    added: list[ItemRef] = field(default_factory=list)  # the newest 50 added, newest first

    @property
    def percent_items(self) -> float | None:
        """Added items as a percent of baseline items (None when the baseline was empty)."""
        return 100.0 * self.added_items / self.baseline_items if self.baseline_items else None

    @property
    def percent_points(self) -> float | None:
        """Added points as a percent of baseline points."""
        return 100.0 * self.added_points / self.baseline_points if self.baseline_points else None


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a goal, release or scope stands today."""

    counts: Counts
    delivery: Delivery
    burnup: list[BurnUpPoint]  # oldest day first, one point per day up to today
    scope_change: ScopeChange | None = None  # goals only
    remaining: list[ItemRef] = field(default_factory=list)  # not done: in progress first, then by key
    funnel: Funnel = field(default_factory=Funnel)  # to do → ... → released to production


# -- flow ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Percentiles:
    """p50/p85/p95 of a sample (nearest-rank); `count` says how big the sample was."""

    p50: float
    p85: float
    p95: float
    count: int
    unit: str  # "days", "hours", "lines"


@dataclass(frozen=True, slots=True)
class WeekCount:
    """Items finished in the 7 days starting `week_start`."""

    week_start: date
    count: int


@dataclass(frozen=True, slots=True)
class WipItem:
    """An item in progress and how long it has been."""

    item: ItemRef
    started: datetime
    age_days: float


@dataclass(frozen=True, slots=True)
class FlowMetrics:
    """Flow of one team (project) or of everything, over `window_start`..`window_end`."""

    scope: str  # "all" or a project key / repository
    window_start: date
    window_end: date
    cycle_time_days: Percentiles | None  # first in-progress -> done, items done in the window
    lead_time_days: Percentiles | None  # created -> done
    throughput: list[WeekCount]  # oldest week first
    wip: list[WipItem]  # oldest first
    wip_age_days: Percentiles | None


@dataclass(frozen=True, slots=True)
class PullMetrics:
    """Pull-request flow over the window: review speed and size."""

    opened: int
    merged: int
    open_now: int
    time_to_first_review_hours: Percentiles | None  # PR created -> first submitted review
    review_to_merge_hours: Percentiles | None  # first review -> merge
    size_lines: Percentiles | None  # additions + deletions of PRs merged in the window


@dataclass(frozen=True, slots=True)
class DoraKey:
    """One of DORA's four keys: its value, the sample it was measured on, and its performance band."""

    value: float | None  # None: nothing to measure (no deployments, no PR in production, no incident)
    unit: str  # "per week", "hours (p50)", "%"
    sample: int  # deployments, pull requests or incidents measured
    band: str | None  # elite / high / medium / low (DORA 2023 clusters), None without a value
    detail: str = ""  # e.g. which deployments failed and why


@dataclass(frozen=True, slots=True)
class Dora:
    """DORA's four keys over the flow window, for one team or all (see `analysis.dora`)."""

    deployments: int  # production releases in the window, each joined release once
    per_week: float
    lead_time_for_changes_hours: Percentiles | None  # PR merged -> the production release containing it
    basis: str  # which releases counted
    team: str = "all"
    deployment_frequency: DoraKey | None = None
    lead_time_for_changes: DoraKey | None = None
    change_failure_rate: DoraKey | None = None
    time_to_restore: DoraKey | None = None


@dataclass(frozen=True, slots=True)
class WorkLimits:
    """When in-progress work is stale or aging: the stale-work and aging-wip rules' thresholds in force.

    Computed once from the settings (`[reports.risks.stale-work]`, `[reports.risks.aging-wip]`,
    `[reports.thresholds] aging_percentile`); the rules and the engineering report's "Stale and aging
    work" table both read it, so the table lists what the rules flag.
    """

    stale_days: float  # stale-work: days an in-progress item may go without an update
    aging_percentile: int  # aging-wip compares an item's age with this percentile of its team's cycle time
    aging_multiple: float  # ... times this multiple (the aging-wip threshold)
    aging_days: dict[str, float]  # team (`Flow.by_team`) -> age in days past which its in-progress work is aging
    cycle_days: dict[str, float]  # team -> its cycle time at `aging_percentile`
    overall_for: tuple[str, ...] = ()  # teams with no finished work in the window: everyone's cycle time used


class Deferred(Generic[T]):
    """A figure worked out the first time it is read, then kept: what only some report kinds show.

    The analysis hands every report the same `Analysis`; a figure one kind prints (DORA's four keys
    in the engineering status) need not cost the others. Equal when the values are.
    """

    __slots__ = ("_make", "_value", "_lock")

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock()  # reports rendered from one analysis in threads work it out once

    def get(self) -> T:
        """The value (worked out now, the first time)."""
        if self._make is not None:
            with self._lock:
                if self._make is not None:
                    self._value, self._make = self._make(), None
        return self._value  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Deferred) and self.get() == other.get()

    def __repr__(self) -> str:
        return f"Deferred({self.get()!r})"


class FlowDelivery(NamedTuple):
    """Pull-request flow and DORA's four keys (see `analysis.dora`), together."""

    pulls: PullMetrics
    dora: Dora | None  # None when no release ever reached production
    dora_by_team: dict[str, Dora]  # team ([teams.NAME], else release line) -> keys


@dataclass(frozen=True, slots=True)
class Flow:
    """Flow and delivery metrics, overall and per project.

    The pull-request and DORA figures are worked out when first read (only the engineering status
    shows them): `pulls`, `dora`, `dora_by_team`.
    """

    overall: FlowMetrics
    by_project: dict[str, FlowMetrics]  # project key / repository -> metrics, sorted by key
    delivery: Deferred[FlowDelivery]
    # team (a configured `[teams.NAME]`, else the item's project) -> metrics; without `[teams]` the same as by_project
    by_team: dict[str, FlowMetrics] = field(default_factory=dict)

    @property
    def pulls(self) -> PullMetrics:
        """Pull-request flow over the window."""
        return self.delivery.get().pulls

    @property
    def dora(self) -> Dora | None:
        """DORA's four keys overall; None when no release ever reached production."""
        return self.delivery.get().dora

    @property
    def dora_by_team(self) -> dict[str, Dora]:
        """DORA's four keys per team ([teams.NAME], else release line)."""
        return self.delivery.get().dora_by_team


# -- forecast ------------------------------------------------------------------------------------


class ForecastMethod(StrEnum):
    """Where a forecast's weekly throughput samples come from."""

    TEAM_SHARE = "team-share"  # the team's weekly throughput x the scope's share of it
    OWN_HISTORY = "own-history"  # the scope's own completions (fallback: no team identified)


class ShareSource(StrEnum):
    """Where a team-share forecast's share came from."""

    CONFIGURED = "configured"  # the goal's `allocation`
    RECENT = "recent"  # the scope's share of the team's completions in the share window
    DEFAULT = "default"  # no completions of its own yet: `forecast.default_share`
    QUEUED = "queued"  # behind open releases of its team: their shares and its own (see `queue.py`)
    NONE = "none"  # own-history forecasts use no share (share = 1.0)


class LeverKind(StrEnum):
    """The kinds of option a late scope has."""

    CUT = "cut"
    ALLOCATION = "allocation"
    MOVE_DATE = "move-date"
    ADD_PEOPLE = "add-people"


@dataclass(frozen=True, slots=True)
class Lever:
    """One dated option for a scope forecast to miss its target.

    `p85` is the 85% date with the option taken. `cut_items` (kind "cut") names the items to cut,
    lowest priority / latest added first; `share` (kind "allocation") is the share that makes the
    target; `people` (kind "add-people") how many people to add to the configured capacity.
    """

    kind: LeverKind
    description: str  # one line, e.g. "cut 4 items: WID-12, WID-40, ..."
    p85: date | None  # None: the option cannot make a dated forecast
    makes_target: bool
    cut_items: list[ItemRef] = field(default_factory=list)
    share: float | None = None  # 0..1
    people: int | None = None


@dataclass(frozen=True, slots=True)
class QueuedAhead:
    """A release ahead of a queued scope in its team's queue: its remaining items and today's share."""

    name: str
    remaining: int
    share: float  # 0..1: its recent share of the team (0: none of its own)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Monte Carlo completion forecast of a remaining scope.

    Exactly one of these holds: `done` (nothing remains), `refused` (a reason, e.g. too little
    history), or `p50/p85/p95` completion dates. `weekly_throughput` is the history it sampled
    (oldest week first, already the team's counts before the share is applied),
    `history_start`..`history_end` its span.

    Its inputs are shown beside every forecast line: `method`, `team`, `window_weeks` (the window
    asked for), `history_weeks` and `sample_items` (the sample: weeks and items finished in them),
    `share` and `share_source`, `remaining_items`, `seed`. `low_confidence` is True when fewer
    than `MIN_CONFIDENT_WEEKS` weeks were sampled. `key` identifies the scope by its remaining
    item ids, so a goal and a release with the same items hold the same forecast. `options` are
    the dated levers of a scope forecast to miss its target (empty otherwise). A queued forecast
    (see `queue.py`) finishes `ahead_items` items of the releases `ahead` before its own.
    """

    remaining_items: int
    trials: int
    seed: int
    history_weeks: int
    history_start: date | None
    history_end: date | None
    weekly_throughput: list[int]
    done: bool = False
    refused: str | None = None
    p50: date | None = None
    p85: date | None = None
    p95: date | None = None
    method: ForecastMethod = ForecastMethod.OWN_HISTORY
    team: str | None = None  # team name (board, project or repository), None for own history
    window_weeks: int = 0
    sample_items: int = 0  # items finished in the sampled weeks (the team's, before the share)
    share: float = 1.0  # 0..1: the part of the team's throughput that goes to this scope
    share_source: ShareSource = ShareSource.NONE
    # (the scope's, the team's other) completions a measured share comes from: each trial draws its
    # share from Beta(scope's + 1, other + 1) (see `forecast.trial_shares`); None: the share is fixed
    share_counts: tuple[int, int] | None = None
    low_confidence: bool = False
    key: str = ""  # a digest of the sorted remaining item ids
    options: list[Lever] = field(default_factory=list)  # fastest first
    # a queued forecast (share source "queued"): the releases ahead, and their remaining items not the scope's own
    ahead: list[QueuedAhead] = field(default_factory=list)
    ahead_items: int = 0
    own_share: float = 0.0  # a queued forecast: the part of the stream's share that is the release's own (recent)

    @property
    def simulated_items(self) -> int:
        """The items the simulation finishes: the remaining ones, after those of the releases ahead."""
        return self.remaining_items + self.ahead_items

    @property
    def ok(self) -> bool:
        """True when the forecast has dates."""
        return self.p85 is not None


@dataclass(frozen=True, slots=True)
class ItemsByDate:
    """How many items will be finished by `until`: at least p95/p85/p50 with 95/85/50% confidence."""

    until: date
    history_weeks: int
    refused: str | None = None
    p50: int | None = None
    p85: int | None = None  # at least this many with 85% confidence
    p95: int | None = None


# -- risks ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a risk fired: the numbers (label -> value, in display order) and the items concerned."""

    numbers: dict[str, float | int | str]
    items: list[ItemRef] = field(default_factory=list)


class RiskSubject(StrEnum):
    """What a risk rule fired on: one item (or pull request), or a whole goal, release, sprint or team."""

    ITEM = "item"
    GOAL = "goal"
    RELEASE = "release"
    SPRINT = "sprint"
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class Risk:
    """One risk: a rule that fired on a subject.

    `id` is stable across runs (a hash of the rule id and the subject ids), so comparing with a
    previous run says new / ongoing / resolved (see `compare_risks`). The subject attributions
    (`goal_ids`, `release_ids`, `sprint_ids`) say which goals, releases and sprints it threatens;
    `subject_kind` what the rule fired on (an item, or a whole goal, release, sprint or team).
    """

    id: str
    rule: str  # rule id, e.g. "stale-work"
    severity: Severity
    title: str  # one line, names the subject
    evidence: Evidence
    mitigation: str  # what to do, worded for action
    owner: str | None  # display name of who can act, when known
    url: str | None  # link to the subject
    subject_ids: tuple[str, ...]  # record ids / goal ids the risk is about
    goal_ids: tuple[str, ...] = ()
    release_ids: tuple[str, ...] = ()
    sprint_ids: tuple[str, ...] = ()
    subject_kind: RiskSubject = RiskSubject.ITEM

    def __hash__(self) -> int:
        """Risks hash by their stable id (their evidence holds unhashable dicts)."""
        return hash(self.id)


@dataclass(frozen=True, slots=True)
class RiskChanges:
    """Risks compared with a previous run: new, still open, and resolved (ids only)."""

    new: list[Risk]
    ongoing: list[Risk]
    resolved_ids: list[str]


class ThemeKind(StrEnum):
    """What a risk theme is about."""

    GOAL = "goal"
    RELEASE = "release"
    SPRINT = "sprint"
    TEAM = "team"


class ThemeTier(StrEnum):
    """The impact class a theme is ranked in, most urgent first."""

    MISSED = "missed"  # the target date has passed and work remains
    FORECAST_LATE = "forecast-late"  # the 85% forecast is after the target
    BLOCKED = "blocked"  # blocked work on the path of a goal or release
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Theme:
    """One problem a manager acts on: the signals threatening one goal, release, sprint or team.

    `id` is stable across runs: `goal:<goal id>`, `release:<release id>`, `sprint:<sprint id>` or
    `team:<project>`. `signals` is the evidence (every risk the rules raised on it, red first);
    `release_ids` the releases folded into a goal's theme. `impact` is days late (or past the
    target, whichever is more) x remaining items; `options` the dated levers of its forecast.
    """

    id: str
    kind: ThemeKind
    subject_id: str
    name: str  # the goal's, release's, sprint's or team's own name, without its kind (`kind` says that)
    severity: Severity
    tier: ThemeTier
    impact: float
    target: date | None
    missed_date: date | None  # the earliest date passed with work left (its own or a folded release's)
    forecast: Forecast | None
    days_past_target: int | None  # the target has passed this many days ago and work remains
    days_late: int | None  # the 85% forecast is this many days after the target
    remaining_items: int
    signals: list[Risk]
    mitigation: str  # the whole proposal: decision, then every action
    decision: str | None = None  # "decide by DATE: cut 4 items (WID-1, ...) (date) or move the date ..." when late
    summary_decision: str | None = None  # the same without item keys
    actions: list[str] = field(default_factory=list)  # one clause per kind of evidence, naming the items
    summary_actions: list[str] = field(default_factory=list)  # the same clauses with counts, no item keys
    options: list[Lever] = field(default_factory=list)
    decide_by: date | None = None  # when its options are: within a week, or by the target when that comes first
    owner: str | None = None
    url: str | None = None
    priority: int | None = None
    release_ids: tuple[str, ...] = ()
    ack: RiskAck | None = None  # the acknowledgement that applies to it, if any
    ack_state: str | None = None  # accepted | expired | worse (raised again)
    ack_reason: str | None = None  # why it is raised again: "expired 2026-12-01", "2 new red signals", ...

    @property
    def goal_id(self) -> str | None:
        """The goal id of a goal theme."""
        return self.subject_id if self.kind == ThemeKind.GOAL else None


@dataclass(frozen=True, slots=True)
class Hygiene:
    """Signals that threaten no goal, release or current sprint: counted per team, listed for engineers."""

    signals: list[Risk] = field(default_factory=list)  # by team, rule, key
    by_team: dict[str, dict[str, int]] = field(default_factory=dict)  # team -> rule -> count
    team_of: dict[str, str] = field(default_factory=dict)  # risk id -> team (project or repository)


# -- status --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    """Red/amber/green with the one-sentence reason for it.

    `names_inputs`: the reason names the forecast's method, window, sample and share (a late one does).
    """

    rag: Rag
    reason: str
    names_inputs: bool = False


# -- per goal, release, sprint --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricValue:
    """A goal's success metric today."""

    name: str
    unit: str
    baseline: float
    target: float
    current: float | None  # None when it cannot be computed (e.g. no cycle times yet)
    as_of: date | None
    source: str  # "set in config on 2026-03-01" or "computed: open bugs in labels customer"
    progress_percent: float | None  # (current - baseline) / (target - baseline), 0..100+


@dataclass(frozen=True, slots=True)
class PhaseForecast:
    """One phase (epic) of a goal: its items in the goal, those left, and its own forecast."""

    epic: ItemRef | None  # None: the goal's items in no epic
    items: int
    remaining: int
    forecast: Forecast

    @property
    def buffer_days(self) -> int | None:
        """The schedule buffer at p85: p85 - p50 of the phase's forecast, in days (None without dates)."""
        fc = self.forecast
        return (fc.p85 - fc.p50).days if fc.p85 is not None and fc.p50 is not None else None


@dataclass(frozen=True, slots=True)
class GoalAnalysis:
    """Everything about one goal."""

    goal: Goal
    progress: Progress
    forecast: Forecast
    on_track: bool | None  # p85 on or before the target date; None without a forecast
    metric: MetricValue
    status: Status
    risks: list[Risk]  # most severe first
    # its epics, by key; items in no epic last: worked out when first read (the timeline shows them)
    phase_forecasts: Deferred[list[PhaseForecast]] = field(default_factory=lambda: Deferred(list))

    @property
    def phases(self) -> list[PhaseForecast]:
        """The goal's phases (its epics, by key; items in no epic last), each with its own forecast."""
        return self.phase_forecasts.get()


@dataclass(frozen=True, slots=True)
class ReleaseAnalysis:
    """Everything about one release (fix version, milestone, or GitHub release)."""

    release: ReleaseRef
    progress: Progress
    forecast: Forecast
    on_track: bool | None  # p85 on or before the due date; None without a due date or forecast
    status: Status
    risks: list[Risk]


@dataclass(frozen=True, slots=True)
class SprintEntry:
    """One item's line in a sprint report."""

    item: ItemRef
    points_at_start: float | None  # story points when the sprint started (or when added)
    points_at_end: float | None  # story points at sprint end (or now for an active sprint)
    added_after_start: bool
    done: bool  # status category done at sprint end
    status_at_end: str | None = None  # status name at sprint end (or now, while active)


@dataclass(frozen=True, slots=True)
class SprintCapacity:
    """How much a sprint can take on, with every input shown."""

    start: datetime | None
    end: datetime | None
    dates_inferred_from: str | None  # the sprint the dates were inferred from (None: Jira's own dates)
    working_days: int | None
    team: str | None  # the configured team whose members are counted
    members: int  # configured members (0: none configured)
    days_off: float  # the members' days off in this sprint
    person_days: float | None  # members × working days − days off
    focus_factor: float | None  # points per available person-day
    focus_source: str | None  # "configured" or the sprints it was measured on
    points: float | None  # the capacity in points
    basis: str  # one sentence: how `points` was worked out
    carry_over_from: str | None  # the board's active sprint
    carry_over_open: float  # its open points now
    carry_over_points: float  # the part of them likely not finished by its end
    headroom: float | None  # points − carry_over_points (never below 0)


@dataclass(frozen=True, slots=True)
class SprintReport:
    """Jira's sprint report, rebuilt from the changelog (not from today's state).

    `committed`: in the sprint when it started (points as at start). `added`: joined after start
    (never committed). `removed`: left during the sprint. `completed`: done at sprint end (or now,
    while active). `not_completed`: still in the sprint at its end and not done (carried over).
    `completed_outside`: already done when the sprint started.
    """

    sprint: SprintRef
    committed: list[SprintEntry]
    added: list[SprintEntry]
    removed: list[SprintEntry]
    completed: list[SprintEntry]
    not_completed: list[SprintEntry]
    completed_outside: list[SprintEntry]
    committed_points: float
    added_points: float
    removed_points: float
    completed_points: float
    not_completed_points: float
    velocity_average: float | None  # mean completed points of the previous N closed sprints
    velocity_sprints: list[str]  # names of the sprints averaged, oldest first
    capacity_points: float | None  # configured capacity, when any
    commitment_percent: float | None  # committed points vs capacity (if set) else velocity
    commitment_basis: str | None  # "capacity" or "velocity"
    next_sprint: SprintRef | None = None  # the board's sprint after this one, when known
    plan: SprintCapacity | None = None  # kickoff capacity of a sprint not yet closed (analysis.capacity)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything a report needs, computed once from one snapshot at `now`."""

    now: datetime
    timezone: str
    today: date  # `now` in the report time zone
    goals: list[GoalAnalysis]  # in goals-file order
    releases: list[ReleaseAnalysis]  # unreleased first (by due date), then released (newest first)
    sprints: list[SprintReport]  # active first, then closed newest first, then the next future ones
    flow: Flow
    risks: list[Risk]  # red first, then by rule and title
    work_limits: WorkLimits  # stale and aging thresholds in force, as the rules applied them
    release_of: dict[str, str] = field(default_factory=dict)  # release part record id -> joined release id
    # item id -> its funnel stage (analysis.funnel.Stage; `Stages`, worked out as they are asked for)
    stages: Mapping[str, str] = field(default_factory=dict)
    themes: list[Theme] = field(default_factory=list)  # raised, ranked by impact (see analysis.themes)
    hygiene: Hygiene = field(default_factory=Hygiene)
    accepted: list[Theme] = field(default_factory=list)  # acknowledged and not worse: shown, not raised
    pinned_acks: list[RiskAck] = field(default_factory=list)  # acks first applied here, with their baseline
    teams: TeamMap = field(default_factory=TeamMap)  # each item's team, as dependencies cross them
    # the point-in-time histories of the snapshot the analysis read (what it worked out is kept there):
    # a report of the same snapshot asks them again rather than working everything out a second time
    histories: Histories | None = field(default=None, repr=False, compare=False)

    @property
    def signal_count(self) -> int:
        """Signals the rules raised: each is in exactly one theme or in hygiene."""
        return sum(len(t.signals) for t in [*self.themes, *self.accepted]) + len(self.hygiene.signals)
