"""The portfolio verdict: one sentence saying where the goals stand and what changed since the last report.

Each goal is in exactly one state: **delivered** (all its work done and in production: never "on
track"; done in Jira with items not yet released is at risk, or missed once its date passed), **missed**
(its date passed with work left), **at risk** (the 85% forecast is after the date, there is no
forecast, or a red risk stands against it) or **on track**. Releases whose due date passed with
work left are named with the date they missed. The change since the previous report of the same
kind compares those states, the largest forecast slip, and the risk theme ids it stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from syncd.reports.analysis.types import Analysis, GoalAnalysis, Rag
from syncd.reports.catalogue.base import Previous

STATES = ("delivered", "on track", "at risk", "missed")


def goal_state(g: GoalAnalysis, today: date) -> str:
    """delivered / missed / at risk / on track (see the module doc)."""
    if g.forecast.done and not g.progress.funnel.not_released:
        return "delivered"
    if g.goal.target_date < today:
        return "missed"
    if g.forecast.done or g.forecast.p85 is None or g.forecast.p85 > g.goal.target_date or g.status.rag == Rag.RED:
        return "at risk"
    return "on track"


def _state_from_summary(before: dict[str, Any], as_of: date) -> str | None:
    """A goal's state in a previous report's stored conclusions."""
    if before.get("done"):
        return "delivered"
    target = before.get("target")
    if target is None:
        return None
    if date.fromisoformat(target) < as_of:
        return "missed"
    p85 = before.get("p85")
    if p85 is None or date.fromisoformat(p85) > date.fromisoformat(target) or before.get("rag") == "red":
        return "at risk"
    return "on track"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def missed_releases(analysis: Analysis) -> dict[date, list[str]]:
    """Releases not in production whose due date has passed, by the date they missed."""
    out: dict[date, list[str]] = {}
    for r in analysis.releases:
        due = r.release.due
        if r.release.released or due is None or due >= analysis.today:  # done in Jira but not released: missed too
            continue
        out.setdefault(due, []).append(r.release.name)
    return dict(sorted(out.items()))


def changes_text(goals: list[GoalAnalysis], analysis: Analysis, previous: Previous | None,
                 theme_ids: list[str]) -> str:
    """What changed since the previous report, as one clause."""
    if previous is None:
        return "this is the first report, so there is nothing earlier to compare with"
    as_of = previous.as_of.date()
    before = previous.summary.get("goals") or {}
    moves, slips = [], []
    for g in goals:
        old = before.get(g.goal.id)
        if old is None:
            moves.append(f"{g.goal.title} is new")
            continue
        was, now = _state_from_summary(old, as_of), goal_state(g, analysis.today)
        if was is not None and was != now:
            moves.append(f"{g.goal.title} went from {was} to {now}")
        if old.get("p85") and g.forecast.p85 is not None:
            shift = (g.forecast.p85 - date.fromisoformat(old["p85"])).days
            if shift:
                slips.append((shift, g.goal.title))
    parts = moves[:2] + ([f"{len(moves) - 2} more goals changed state"] if len(moves) > 2 else [])
    if slips:
        shift, title = max(slips, key=lambda s: abs(s[0]))
        parts.append(f"{title}'s 85% forecast moved {abs(shift)} days {'later' if shift > 0 else 'earlier'}")
    old_themes = previous.summary.get("themes")
    if isinstance(old_themes, list):
        new = len(set(theme_ids) - set(old_themes))
        gone = len(set(old_themes) - set(theme_ids))
        if new or gone:
            parts.append(f"{new} new and {gone} resolved risk theme{'s' if new + gone != 1 else ''}")
    since = f"since the last report ({as_of.isoformat()})"
    return f"{since}: " + "; ".join(parts) if parts else f"nothing changed {since}"


def verdict(goals: list[GoalAnalysis], analysis: Analysis, previous: Previous | None, theme_ids: list[str]) -> str:
    """One sentence: goals delivered / on track / at risk / missed, releases that missed, what changed."""
    if not goals:
        return "No goals are configured: add them to the goals file to see progress toward outcomes."
    by_state: dict[str, list[str]] = {s: [] for s in STATES}
    for g in goals:
        by_state[goal_state(g, analysis.today)].append(g.goal.title)
    counts = ", ".join(f"{len(by_state[s])} {s}" for s in STATES)
    text = f"Of {len(goals)} goals: {counts}"
    if by_state["missed"]:
        text += f" ({_names(by_state['missed'])})"
    for due, names in missed_releases(analysis).items():
        label = "release" if len(names) == 1 else "releases"
        text += f"; {label} {_names(names)} missed {due.isoformat()}"
    return text + "; " + changes_text(goals, analysis, previous, theme_ids) + "."
