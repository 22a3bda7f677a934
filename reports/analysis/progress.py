"""Progress of a scope: done / in progress / to do, code done vs delivered, burn-up, scope creep."""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import NamedTuple

from syncd.model import PullState, ReleaseKind, StatusCategory, WorkItem
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.releases import ReleaseJoin, ReleaseState, join_releases, production_times
from syncd.reports.analysis.scope import item_ref, key_order, local_day
from syncd.reports.analysis.types import BurnUpPoint, Counts, Delivery, ItemRef, Progress, ScopeChange
from syncd.reports.data import Snapshot

BURNUP_MAX_DAYS = 730  # a burn-up longer than two years says nothing a shorter one does not
ADDED_LISTED = 50  # scope change lists the newest added items; the counts cover all of them


def count_items(items: Sequence[WorkItem]) -> Counts:
    """Items and story points by current status category."""
    n = {StatusCategory.DONE: 0, StatusCategory.IN_PROGRESS: 0, StatusCategory.TODO: 0}
    pts = {StatusCategory.DONE: 0.0, StatusCategory.IN_PROGRESS: 0.0, StatusCategory.TODO: 0.0}
    unestimated = 0
    for item in items:
        cat = item.status_category  # a member, or its value: both find the member's key
        n[cat] += 1
        estimate = item.estimate
        if estimate is None:
            unestimated += 1
        else:
            pts[cat] += estimate
    return _counts(n, pts, unestimated)


def _counts(n: dict[StatusCategory, int], pts: dict[StatusCategory, float], unestimated: int) -> Counts:
    return Counts(
        items_done=n[StatusCategory.DONE], items_in_progress=n[StatusCategory.IN_PROGRESS],
        items_todo=n[StatusCategory.TODO], points_done=pts[StatusCategory.DONE],
        points_in_progress=pts[StatusCategory.IN_PROGRESS], points_todo=pts[StatusCategory.TODO],
        unestimated=unestimated,
    )


class ReleaseClock:
    """When each repository released to production, to tell whether a merge has shipped.

    Production only: a joined release (see `releases.join_releases`) counts once, at its production
    date; release candidates and drafts never do.
    """

    def __init__(self, snap: Snapshot, join: ReleaseJoin | None = None) -> None:
        join = join if join is not None else join_releases(snap)
        self.join = join
        self.times = production_times(join)
        # part record id -> whether its joined release is in production (fix versions and milestones)
        self.in_production = {p.id: j.state == ReleaseState.RELEASED for j in join.releases for p in j.parts
                              if p.kind != ReleaseKind.RELEASE}
        # item id -> its code state, kept: a scope's delivery and its funnel each ask, and items sit in
        # a goal and a release (`code_state`; a clock serves one snapshot)
        self.code_states: dict[str, CodeState | None] = {}

    def tracks(self, repo: str) -> bool:
        """True when the repository publishes releases."""
        return repo in self.times

    def first_release_after(self, repo: str, at: datetime) -> datetime | None:
        """The first release of the repository at or after `at`."""
        ts = self.times.get(repo)
        if not ts:
            return None
        idx = bisect_right(ts, at - timedelta(microseconds=1))
        return ts[idx] if idx < len(ts) else None


class CodeState(StrEnum):
    """How far an item's code has gone (items without linked pull requests have none)."""

    OPEN = "open"  # a linked PR is open, or none is merged
    MERGED = "merged"  # every linked PR merged or closed, at least one merged; not in production yet
    RELEASED = "released"  # merged and in a production release


def code_state(snap: Snapshot, item: WorkItem, clock: ReleaseClock) -> CodeState | None:
    """The item's code state, None when no pull request implements it.

    Released: the release the item is planned for (fix version or milestone) is in production, or,
    without one, every merge shipped in a later production release of its repository. Where nothing
    tells when code ships (no planned release, a repository without releases), merged is released.
    """
    pr_ids = snap.pulls_implementing.get(item.id)
    if not pr_ids:
        return None
    known = clock.code_states
    if item.id in known:
        return known[item.id]
    state = known[item.id] = _code_state(snap, item, pr_ids, clock)
    return state


def _code_state(snap: Snapshot, item: WorkItem, pr_ids: Sequence[str], clock: ReleaseClock) -> CodeState | None:
    pulls = [snap.pull_by_item[p] for p in pr_ids]
    merged = [p for p in pulls if p.state == PullState.MERGED]
    if not merged or any(p.state == PullState.OPEN for p in pulls):
        return CodeState.OPEN
    planned = [clock.in_production[rid] for rid in item.release_ids if rid in clock.in_production]
    repos = {snap.item_by_id[p.item_id].project for p in merged}
    if planned:  # the planned release decides: delivered when it is in production
        shipped = any(planned)
    elif all(clock.tracks(r) for r in repos):  # every merge shipped in a later production release
        shipped = all(p.merged_at is not None
                      and clock.first_release_after(snap.item_by_id[p.item_id].project, p.merged_at) is not None
                      for p in merged)
    else:  # nothing tells when code ships: merged is as far as we can see
        return CodeState.RELEASED
    return CodeState.RELEASED if shipped else CodeState.MERGED


def _tracked(snap: Snapshot, item: WorkItem, clock: ReleaseClock) -> bool:
    """True when something tells whether the item's merged code has shipped."""
    if any(rid in clock.in_production for rid in item.release_ids):
        return True
    repos = {snap.item_by_id[p].project for p in snap.pulls_implementing.get(item.id, ())
             if snap.pull_by_item[p].state == PullState.MERGED}
    return bool(repos) and all(clock.tracks(r) for r in repos)


def delivery(snap: Snapshot, items: Sequence[WorkItem], clock: ReleaseClock) -> Delivery:
    """Code done (linked PRs merged) vs delivered (in production) for items with linked PRs."""
    with_prs = code_done = delivered = 0
    tracked = False
    waiting: list[ItemRef] = []
    implementing = snap.pulls_implementing
    for item in items:
        if not implementing.get(item.id):  # no pull request: no code state (most items; no call made)
            continue
        state = code_state(snap, item, clock)
        if state is None:
            continue
        with_prs += 1
        if state == CodeState.OPEN:
            continue
        code_done += 1
        tracked = tracked or _tracked(snap, item, clock)
        if state == CodeState.RELEASED:
            delivered += 1
        else:
            waiting.append(item_ref(snap, item))
    waiting.sort(key=lambda r: key_order(r.key))
    return Delivery(items_with_prs=with_prs, code_done=code_done, delivered=delivered, releases_tracked=tracked,
                    code_done_not_delivered=waiting)


def burnup(items: Sequence[WorkItem], done_at: dict[str, datetime | None], today: date, tz: tzinfo,
           start: date | None = None) -> list[BurnUpPoint]:
    """Daily scope and done (items and points) from the first item's creation (or `start`) to today."""
    created = [(local_day(i.created, tz), i.estimate or 0.0) for i in items]
    finished = [(local_day(d, tz), i.estimate or 0.0) for i in items if (d := done_at.get(i.id)) is not None]
    return _burnup_series(created, finished, today, start)


def _burnup_series(created: list[tuple[date, float]], finished: list[tuple[date, float]], today: date,
                   start: date | None) -> list[BurnUpPoint]:
    """`burnup` from each item's (creation day, points) and each done item's (done day, points)."""
    if not created:
        return []
    created.sort()
    finished.sort()
    first = created[0][0] if start is None else min(start, created[0][0])
    first = max(first, today - timedelta(days=BURNUP_MAX_DAYS))
    out = []
    ci = fi = 0
    scope_n = done_n = 0
    scope_p = done_p = 0.0
    day = first
    while day <= today:
        while ci < len(created) and created[ci][0] <= day:
            scope_n += 1
            scope_p += created[ci][1]
            ci += 1
        while fi < len(finished) and finished[fi][0] <= day:
            done_n += 1
            done_p += finished[fi][1]
            fi += 1
        out.append(BurnUpPoint(day=day, scope_items=scope_n, done_items=done_n, scope_points=scope_p,
                               done_points=done_p))
        day += timedelta(days=1)
    return out


def scope_change(snap: Snapshot, items: Sequence[WorkItem], baseline: date, reason: str, tz: tzinfo) -> ScopeChange:
    """Items and points that entered the scope after the end of the baseline day."""
    return _scope_change(snap, items, [(local_day(i.created, tz), i.estimate or 0.0) for i in items],
                         [i.created for i in items], baseline, reason)


def _scope_change(snap: Snapshot, items: Sequence[WorkItem], created: Sequence[tuple[date, float]],
                  created_at: Sequence[datetime], baseline: date, reason: str) -> ScopeChange:
    """`scope_change` from each item's (creation day, points) and creation time, in item order (the
    caller has them already: reading them off 17,000 items again cost 20 ms at 100k)."""
    base_n = add_n = 0
    base_p = add_p = 0.0
    added: list[int] = []  # positions in `items`
    for k, (day, points) in enumerate(created):
        if day <= baseline:
            base_n += 1
            base_p += points
        else:
            add_n += 1
            add_p += points
            added.append(k)
    newest = heapq.nlargest(ADDED_LISTED, added, key=created_at.__getitem__)
    return ScopeChange(baseline=baseline, baseline_reason=reason, baseline_items=base_n, baseline_points=base_p,
                       added_items=add_n, added_points=add_p, added=[item_ref(snap, items[k]) for k in newest])


class ForecastInputs(NamedTuple):
    """What a forecast reads from a scope's items: the items left (in progress first, then by key)."""

    remaining: list[WorkItem]


def progress(snap: Snapshot, hist: Histories, items: Sequence[WorkItem], clock: ReleaseClock, today: date,
             tz: tzinfo, baseline: tuple[date, str] | None = None) -> Progress:
    """Counts, delivery, burn-up and (with a baseline) scope change of a set of items."""
    return progress_and_forecast_inputs(snap, hist, items, clock, today, tz, baseline)[0]


def progress_and_forecast_inputs(snap: Snapshot, hist: Histories, items: Sequence[WorkItem], clock: ReleaseClock,
                                 today: date, tz: tzinfo, baseline: tuple[date, str] | GoalDates | None = None,
                                 ) -> tuple[Progress, ForecastInputs]:
    """`progress`, and the forecast's inputs read in the same pass over the items.

    A goal's `GoalDates` as the baseline: its `default_baseline`, with the first start found in that pass.
    """
    facts = hist.facts()
    # One pass over the items for the counts, the burn-up, the remaining work and the forecast:
    # each visit to an item costs more than the work done with it.
    n = {StatusCategory.DONE: 0, StatusCategory.IN_PROGRESS: 0, StatusCategory.TODO: 0}
    pts = {StatusCategory.DONE: 0.0, StatusCategory.IN_PROGRESS: 0.0, StatusCategory.TODO: 0.0}
    unestimated = 0
    created: list[tuple[date, float]] = []
    created_at: list[datetime] = []
    finished: list[tuple[date, float]] = []
    first_start: datetime | None = None
    remaining: list[WorkItem] = []
    with_prs: list[WorkItem] = []  # the items `delivery` looks at, picked out here rather than in a pass of its own
    implementing = snap.pulls_implementing
    done = StatusCategory.DONE
    for i in items:
        estimate = i.estimate
        points = estimate or 0.0
        at = i.created
        day = at.astimezone(tz).date()  # local_day, inlined
        created_at.append(at)
        created.append((day, points))
        item_id = i.id
        if implementing.get(item_id):
            with_prs.append(i)
        f = facts[item_id]
        if (d := f.done_at) is not None:
            finished.append((d.astimezone(tz).date(), points))
        if (st := f.started) is not None and (first_start is None or st < first_start):
            first_start = st
        cat = i.status_category  # a member, or its value: both find the member's key
        n[cat] += 1
        if estimate is None:
            unestimated += 1
        else:
            pts[cat] += estimate
        if cat != done:
            remaining.append(i)
    if isinstance(baseline, GoalDates):
        baseline = default_baseline(baseline, first_start, today, tz)
    remaining.sort(key=lambda i: (i.status_category != StatusCategory.IN_PROGRESS, key_order(i.key)))
    # the scope change before the burn-up: the burn-up sorts `created`, which is in item order until then
    change = _scope_change(snap, items, created, created_at, baseline[0], baseline[1]) if baseline else None
    return Progress(
        counts=_counts(n, pts, unestimated),
        delivery=delivery(snap, with_prs, clock),  # the same figures: it skips items without pull requests
        burnup=_burnup_series(created, finished, today, baseline[0] if baseline else None),
        scope_change=change,
        remaining=[item_ref(snap, i) for i in remaining],
    ), ForecastInputs(remaining)


class GoalDates(NamedTuple):
    """A goal's own dates that decide its scope-creep baseline (see `default_baseline`)."""

    configured: date | None  # the configured baseline date
    start: date | None  # the goal's start


def default_baseline(dates: GoalDates, first_start: datetime | None, today: date, tz: tzinfo) -> tuple[date, str]:
    """The scope-creep baseline: configured, else the goal's start, else the day work first started."""
    if dates.configured is not None:
        return dates.configured, "configured baseline date"
    if dates.start is not None:
        return dates.start, "goal start date"
    if first_start is not None:
        return local_day(first_start, tz), "the day work started"
    return today, "no work started yet"
