"""What a report concluded (stored in report_history) and what changed since the previous one."""

from __future__ import annotations

from datetime import date
from typing import Any

from syncd.reports.analysis import compare_risks
from syncd.reports.analysis.types import Analysis, Risk
from syncd.reports.catalogue.base import Previous, percent_done

_RAG_WORD = {"green": "Green", "amber": "Amber", "red": "Red"}


def conclusions(analysis: Analysis) -> dict[str, Any]:
    """Per goal and release: status, percent done in Jira and delivered, p85 forecast and target; the risk
    theme ids (JSON-ready)."""
    goals = {}
    for g in analysis.goals:
        pct = percent_done(g.progress.counts)
        goals[g.goal.id] = {
            "title": g.goal.title, "rag": g.status.rag.value, "percent": None if pct is None else round(100 * pct, 1),
            "p85": _iso(g.forecast.p85), "done": g.forecast.done and not g.progress.funnel.not_released,
            "target": g.goal.target_date.isoformat(), "metric": g.metric.current,
            "delivered": _pct(g.progress.funnel.percent_delivered),
        }
    releases = {}
    for r in analysis.releases:
        pct = percent_done(r.progress.counts)
        releases[r.release.id] = {
            "name": r.release.name, "rag": r.status.rag.value, "released": r.release.released,
            "percent": None if pct is None else round(100 * pct, 1), "p85": _iso(r.forecast.p85),
        }
    return {"goals": goals, "releases": releases, "themes": [t.id for t in analysis.themes]}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _goal_changes(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    parts = []
    if before.get("rag") != now["rag"]:
        parts.append(f"{_RAG_WORD.get(before.get('rag') or '', '?')} → {_RAG_WORD[now['rag']]}")
    if before.get("delivered") is not None and now.get("delivered") is not None \
            and before["delivered"] != now["delivered"]:
        parts.append(f"{before['delivered']:.0f}% → {now['delivered']:.0f}% delivered")
    elif before.get("percent") is not None and now["percent"] is not None and before["percent"] != now["percent"]:
        parts.append(f"{before['percent']:.0f}% → {now['percent']:.0f}% done in Jira")
    if now.get("done") and not before.get("done"):
        parts.append("all work delivered")
    elif before.get("p85") and now.get("p85") and before["p85"] != now["p85"]:
        shift = (date.fromisoformat(now["p85"]) - date.fromisoformat(before["p85"])).days
        direction = "later" if shift > 0 else "earlier"
        parts.append(f"p85 forecast {abs(shift)} days {direction} ({before['p85']} → {now['p85']})")
    elif not before.get("p85") and now.get("p85"):
        parts.append(f"first forecast: p85 {now['p85']}")
    return parts


def changes_since(previous: Previous | None, analysis: Analysis, risks: list[Risk]) -> list[str]:
    """Plain sentences: status, progress and forecast moves per goal, releases shipped, risks new/resolved."""
    if previous is None:
        return ["First report of its kind: nothing earlier to compare with."]
    now = conclusions(analysis)
    before_goals = previous.summary.get("goals") or {}
    out = []
    for gid, g in now["goals"].items():
        old = before_goals.get(gid)
        if old is None:
            out.append(f"{g['title']}: new goal.")
            continue
        parts = _goal_changes(old, g)
        if parts:
            out.append(f"{g['title']}: {'; '.join(parts)}.")
    for gid, old in before_goals.items():
        if gid not in now["goals"]:
            out.append(f"{old.get('title', gid)}: no longer tracked.")
    before_releases = previous.summary.get("releases") or {}
    for rid, r in now["releases"].items():
        old = before_releases.get(rid)
        if r["released"] and old is not None and not old.get("released"):
            out.append(f"Release {r['name']} shipped.")
    diff = compare_risks(risks, previous.risk_ids)
    if diff.new or diff.resolved_ids:
        out.append(f"Risks: {len(diff.new)} new, {len(diff.resolved_ids)} resolved, {len(diff.ongoing)} still open.")
    if not out:
        out.append("No change in status, progress, forecasts or risks.")
    return out
