"""Figures the reports draw or list that the analysis results do not carry, derived from the same
snapshot with the analysis' own helpers: pull-request state per item, blockers, a sprint's daily
burndown, cycle-time points, the forecast's trial distribution, and dependencies between epics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from syncd.model import CheckConclusion, Link, PullRequest, PullState, ReviewState, StatusCategory, WorkItem
from syncd.reports.analysis.flow import first_review
from syncd.reports.analysis.forecast import MAX_WEEKS, forecast_shares, weeks_to_finish
from syncd.reports.analysis.history import ItemFacts
from syncd.reports.analysis.scope import item_ref, key_order, local_day
from syncd.reports.analysis.types import Forecast, ItemRef, SprintReport
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.data import SCOPE_KINDS
from syncd.reports.render.escape import Md, md_concat, md_link

_CHECKS = {CheckConclusion.SUCCESS: "✅ passing", CheckConclusion.FAILURE: "❌ failing",
           CheckConclusion.PENDING: "⏳ running", CheckConclusion.NEUTRAL: "— none"}


@dataclass(frozen=True)
class PullLine:
    """A pull request as the engineering views show it."""

    ref: ItemRef
    state: str  # open / draft / merged / closed
    review: str  # approved / changes requested / commented / waiting for review
    checks: str  # ✅ passing / ❌ failing / ⏳ running / — none
    waiting_hours: float | None  # open and unreviewed: hours since it was opened


def review_state(pull: PullRequest) -> str:
    """The review verdict that stands: each reviewer's latest review, changes requested winning."""
    latest: dict[str, ReviewState] = {}
    for review in sorted((r for r in pull.reviews if r.submitted_at), key=lambda r: r.submitted_at):  # type: ignore[arg-type,return-value]
        if review.state != ReviewState.PENDING:
            latest[review.author_id or "?"] = review.state
    states = set(latest.values())
    if ReviewState.CHANGES_REQUESTED in states:
        return "changes requested"
    if ReviewState.APPROVED in states:
        return "approved"
    if ReviewState.COMMENTED in states:
        return "commented"
    return "waiting for review"


def pull_line(inp: ReportInput, pull: PullRequest) -> PullLine | None:
    """How a pull request shows in a report (None when its item is gone)."""
    item = inp.snapshot.item_by_id.get(pull.item_id)
    if item is None:
        return None
    state = "draft" if pull.draft and pull.state == PullState.OPEN else str(pull.state)
    waiting = None
    if pull.state == PullState.OPEN and first_review(pull, item.reporter_id) is None:
        waiting = (inp.now - item.created).total_seconds() / 3600
    return PullLine(ref=item_ref(inp.snapshot, item), state=state, review=review_state(pull),
                    checks=_CHECKS[pull.checks], waiting_hours=waiting)


def pulls_for(inp: ReportInput, item_id: str) -> list[PullLine]:
    """The pull requests implementing a work item, by key."""
    snap = inp.snapshot
    lines = [pull_line(inp, snap.pull_by_item[pid]) for pid in snap.pulls_implementing.get(item_id, ())
             if pid in snap.pull_by_item]
    return sorted((line for line in lines if line is not None), key=lambda p: p.ref.key)


def open_blockers(inp: ReportInput, item_id: str) -> list[WorkItem]:
    """Items that block this one and are not done, by key."""
    snap = inp.snapshot
    found = (snap.item_by_id[b] for b in snap.blockers_of.get(item_id, ()) if b in snap.item_by_id)
    return sorted((b for b in found if b.status_category != StatusCategory.DONE), key=lambda i: i.key)


def open_external_blockers(inp: ReportInput, item_id: str) -> list[Link]:
    """Far ends outside the store (projects not synced) that block this item and are not known done, by key."""
    links = inp.snapshot.external_blockers_of.get(item_id, ())
    return sorted((lk for lk in links if lk.to_category != StatusCategory.DONE), key=lambda lk: key_order(lk.to_key))


def external_ref(inp: ReportInput, link: Link) -> Md:
    """`OTHER-35406 (In Progress, not synced)`: a far end outside the store, linked where a browse URL is known."""
    return md_concat([md_link(link.to_key, inp.item_url(link.to_key, None)),
                      f" ({link.to_status or 'status not known'}, not synced)"])


def burndown(inp: ReportInput, report: SprintReport) -> tuple[list[date], list[float]] | None:
    """Remaining story points in the sprint at its start, then at the end of each day to its end (or today)."""
    sprint = inp.snapshot.sprint_by_id.get(report.sprint.id)
    if sprint is None or sprint.start is None or sprint.end is None:
        return None
    ids = {e.item.id for part in (report.committed, report.added, report.removed, report.completed,
                                  report.not_completed) for e in part}
    items = [inp.snapshot.item_by_id[i] for i in sorted(ids) if i in inp.snapshot.item_by_id]
    first = local_day(sprint.start, inp.tz)
    last = min(local_day(sprint.complete or sprint.end, inp.tz), inp.analysis.today)
    hist = inp.hist
    # the first point is the sprint's start, where the ideal line starts too: what was in the
    # sprint then and not done (the commitment); each later point is the remaining work at the end
    # of a day, drawn at the midnight that ends it
    days: list[date] = [first]
    remaining: list[float] = [sum(hist.points_at(i, sprint.start) or 0.0 for i in items
                                  if hist.in_sprint_at(i, sprint.id, sprint.start) and not hist.done_at(i, sprint.start))]
    day = first
    while day <= last:
        # the end of the day, or the sprint's last moment on its final day (before carry-over moves items)
        at = datetime.combine(day + timedelta(days=1), time(), inp.tz)
        at = min(at, (sprint.complete or sprint.end) - timedelta(seconds=1), inp.now)
        total = 0.0
        for item in items:
            if hist.in_sprint_at(item, sprint.id, at) and not hist.done_at(item, at):
                total += hist.points_at(item, at) or 0.0
        days.append(day + timedelta(days=1))
        remaining.append(total)
        day += timedelta(days=1)
    return days, remaining


def cycle_points(inp: ReportInput, start: datetime, end: datetime,
                 ids: AbstractSet[str] | None = None) -> list[tuple[date, float]]:
    """(finish day, cycle time in days) of the scope items (of `ids`, default all) finished in [start, end),
    by finish time (then cycle time, then id).

    Each call reads the facts of its candidates afresh, not a sorted list of every finished item: at
    100k the callers' windows (the flow window, a retrospective's sprints) hold 4,260 and 100-520 of
    the 82,598 finished items, and sorting them all cost 0.28 s CPU against 0.02 s for one pass over
    the facts (0.08 s through the scope items' ids, each looked up in the facts: the scope is checked
    only for the few in the window). `ids` is a set the caller builds once: a retrospective asks for
    each of its periods and its chart with the same team's items, narrowed to those finished in the
    periods' weeks (`finished_in`).
    """
    facts, items = inp.facts, inp.snapshot.item_by_id
    candidates: Iterable[tuple[str, ItemFacts]] = (
        facts.items() if ids is None else ((i, f) for i in ids if (f := facts.get(i)) is not None))
    rows = []
    for item_id, f in candidates:
        done_at = f.done_at
        if done_at is None or not start <= done_at < end or f.started is None or f.started > done_at:
            continue
        item = items.get(item_id)
        if item is None or item.kind not in SCOPE_KINDS:
            continue
        rows.append((done_at, (done_at - f.started).total_seconds() / 86400, item_id))
    rows.sort()
    return [(local_day(done_at, inp.tz), days) for done_at, days, _ in rows]


def finished_in(inp: ReportInput, ids: AbstractSet[str], start: datetime, end: datetime) -> set[str]:
    """The items of `ids` that finished in [start, end): a narrower `ids` for `cycle_points` calls whose
    windows all lie within [start, end) (a retrospective's four periods and its chart read 18,000 team
    items at 100k, 5 times: 0.10-0.13 s; of them 522 finished in those weeks)."""
    facts = inp.facts
    return {i for i in ids if (f := facts.get(i)) is not None and f.done_at is not None and start <= f.done_at < end}


def forecast_outcomes(inp: ReportInput, forecast: Forecast) -> list[tuple[date, int]]:
    """The forecast's trials by finish date (the same draws `forecast_completion` made)."""
    if not forecast.ok or not forecast.weekly_throughput:
        return []
    weeks = weeks_to_finish(forecast.weekly_throughput, forecast.simulated_items, forecast.trials, forecast.seed,
                            forecast_shares(forecast))
    counts = Counter(int(w) for w in weeks if w <= MAX_WEEKS)
    return [(local_day(inp.now + timedelta(days=7 * w), inp.tz), n) for w, n in sorted(counts.items())]


def sprints_of(inp: ReportInput, item_ids: set[str], reports: Sequence[SprintReport]) -> list[SprintReport]:
    """The sprints (in the given order) that held any of the items."""
    out = []
    for rep in reports:
        members = {e.item.id for part in (rep.committed, rep.added, rep.completed, rep.not_completed) for e in part}
        if members & item_ids:
            out.append(rep)
    return out
