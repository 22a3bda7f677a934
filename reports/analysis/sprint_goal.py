"""A sprint's outcome as its review judges it: was the sprint goal met, by which rule, and the
board's velocity trend (committed vs completed of the last sprints, as Jira's velocity chart draws it).

The Scrum Guide makes the sprint goal the sprint's single objective: it is met or not, not a
percentage of points. So where the goal's own items can be told apart (labelled `sprint-goal`, or
named by key in the goal text) the goal is met when every one of them was done at sprint end; only
when they cannot be told does the verdict fall back to the share of committed points completed.
A goal text carried verbatim into the next sprint says the team itself did not treat it as met.
Both rules count points as committed: at sprint start (or when an added item joined), as Jira's
sprint report counts the commitment, so a re-estimate during the sprint moves neither figure.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from syncd.model import SprintState
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.sprints import order_key, sprint_figures, sprint_members
from syncd.reports.analysis.types import SprintEntry, SprintReport
from syncd.reports.data import Snapshot

GOAL_LABELS = frozenset({"sprint-goal", "sprintgoal", "sprint_goal"})
GOAL_MET_SHARE = 0.9  # fallback rule: met when this share of committed points was completed
VELOCITY_CHART_SPRINTS = 7  # Jira's velocity chart shows the last 7 sprints


@dataclass(frozen=True, slots=True)
class GoalVerdict:
    """Whether a sprint met its goal, the rule that decided it and the items it judged."""

    met: bool | None  # None: cannot tell (nothing committed, no goal items)
    rule: str  # "labelled", "named", "committed points"
    rule_text: str  # the rule in words, for the report
    items: list[SprintEntry]  # the items judged
    done_items: list[SprintEntry]  # of those, done at sprint end
    done_points: float
    total_points: float
    carried_into: str | None  # name of the next sprint that repeats the goal text verbatim


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def goal_verdict(snap: Snapshot, rep: SprintReport) -> GoalVerdict:
    """Judge the sprint goal: its own items if they can be told, else >= 90% of committed points."""
    removed = {e.item.id for e in rep.removed}
    entries = [e for e in [*rep.committed, *rep.added] if e.item.id not in removed]
    goal_text = rep.sprint.goal or ""
    named_keys = {m.upper() for m in re.findall(r"\b[A-Za-z][A-Za-z0-9]+-\d+\b", goal_text)}
    labelled = [e for e in entries if (item := snap.item_by_id.get(e.item.id)) is not None
                and GOAL_LABELS & {lb.casefold() for lb in item.labels}]
    named = [e for e in entries if e.item.key.upper() in named_keys]
    carried = None
    nxt = rep.next_sprint
    if nxt is not None and _norm(goal_text) and _norm(nxt.goal) == _norm(goal_text):
        carried = nxt.name
    if labelled or named:
        rule, judged = ("labelled", labelled) if labelled else ("named", named)
        done = [e for e in judged if e.done]
        which = "labelled sprint-goal" if rule == "labelled" else "the goal names"
        met: bool | None = len(done) == len(judged)
        rule_text = (f"the one item {which}: met when it was done at sprint end" if len(judged) == 1 else
                     f"the {len(judged)} items {which}: met when every one was done at sprint end")
        done_pts = sum((e.points_at_start or 0.0) for e in done)
        total = sum((e.points_at_start or 0.0) for e in judged)
    else:
        rule, judged = "committed points", list(rep.committed)
        done = [e for e in judged if e.done and any(c.item.id == e.item.id for c in rep.completed)]
        total = rep.committed_points
        done_pts = sum(e.points_at_start or 0.0 for e in done)
        met = (done_pts / total >= GOAL_MET_SHARE) if total else None
        judged_words = "the one committed item" if len(judged) == 1 else f"all {len(judged)} committed items"
        rule_text = (f"no item is labelled sprint-goal or named in the goal, so {judged_words}: "
                     f"met when at least {GOAL_MET_SHARE:.0%} of the committed points were completed")
    if carried is not None:
        met = False
    return GoalVerdict(met, rule, rule_text, judged, done, done_pts, total, carried)


@dataclass(frozen=True, slots=True)
class VelocityPoint:
    """One closed sprint on the velocity chart."""

    sprint: str
    committed: float
    completed: float


@dataclass(frozen=True, slots=True)
class VelocityTrend:
    """The last closed sprints of a board and the least-squares trend of their completed points."""

    points: list[VelocityPoint]
    mean: float | None
    slope: float | None  # completed points gained (lost) per sprint; None with fewer than 3 sprints
    direction: str  # rising / falling / steady / not enough sprints


def velocity_trend(snap: Snapshot, hist: Histories, sprint_id: str, now: datetime,
                   n: int = VELOCITY_CHART_SPRINTS, known: Mapping[str, SprintReport] | None = None) -> VelocityTrend:
    """Committed vs completed of the board's last `n` sprints closed by `now`, up to this sprint.

    `known`: sprint id -> the figures the analysis already has (`Analysis.sprints`); a sprint's point is
    taken from there, so the sprint review and its velocity chart show the same numbers (STYLE.md, "Do
    this" 6); only sprints the analysis did not report are computed, by the same `sprint_figures`.
    """
    sprint = snap.sprint_by_id[sprint_id]
    known = known or {}
    closed = [s for s in sorted(snap.sprints, key=order_key)
              if s.board_id == sprint.board_id and s.state == SprintState.CLOSED and s.start is not None
              and (s.complete or s.end or now) <= now and order_key(s) <= order_key(sprint)][-n:]
    missing = [s for s in closed if s.id not in known]
    members = sprint_members(snap, hist, {s.id for s in missing},
                             min((s.start for s in missing if s.start), default=now)) if missing else {}
    points = []
    for s in closed:
        rep = known.get(s.id) or sprint_figures(snap, hist, s, members.get(s.id, []), now)
        points.append(VelocityPoint(s.name, rep.committed_points, rep.completed_points))
    ys = [p.completed for p in points]
    mean = sum(ys) / len(ys) if ys else None
    slope = None
    direction = "not enough sprints"
    if len(ys) >= 3 and mean is not None:
        slope = statistics.linear_regression(range(len(ys)), ys).slope
        # a change under 5% of the mean per sprint is noise, not a trend
        direction = "steady" if abs(slope) < 0.05 * max(mean, 1.0) else ("rising" if slope > 0 else "falling")
    return VelocityTrend(points, mean, slope, direction)
