"""`status` for executives, business stakeholders and engineers: progress toward goals first.

Executive: one screen, no ticket lists (at most `EXECUTIVE_MAX_LINES` lines of Markdown). Business:
outcomes, releases, timeline and feedback per goal, with burn-up charts. Engineering: the work
itself, every item linked, with pull requests, blockers, stale work, carry-over, flow and risks.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from syncd.model import StatusCategory
from syncd.reports.analysis.scope import select_items
from syncd.reports.analysis.types import Forecast, GoalAnalysis, Lever, LeverKind, MetricValue, Theme
from syncd.reports.catalogue import charts_for
from syncd.reports.catalogue.base import (
    RAG_BADGE,
    Built,
    ReportInput,
    delivered_share,
    delivered_text,
    forecast_basis,
    funnel_text,
    not_released_note,
    percent_done,
)
from syncd.reports.catalogue.changes import changes_since
from syncd.reports.catalogue.readiness import launch_checklist
from syncd.reports.catalogue.risk_themes import (
    decision_line,
    signals_in_scope,
    theme_line,
    themes_footnote,
    themes_in_scope,
)
from syncd.reports.catalogue.verdict import verdict
from syncd.reports.render.drawing import Drawn
from syncd.reports.render.templating import format_number, format_percent, render_markdown

DELIVERED_BADGE = "✅ Delivered"
EXECUTIVE_MAX_LINES = 40
EXECUTIVE_MAX_GOALS = 10
MAX_RELEASES = 8  # shipped and upcoming releases listed for the business (upcoming: those with work planned)
EXECUTIVE_THEMES = 3  # themes the executive summary shows; the rest are counted and listed for engineers
BUSINESS_THEMES = 5
FEEDBACK_LABELS = frozenset({"customer", "feedback", "customer-feedback", "user-feedback", "customer-reported",
                             "support"})


def goals_in_scope(inp: ReportInput) -> list[GoalAnalysis]:
    """The goals a status report covers: all, or the one named by `scope`."""
    goals = inp.analysis.goals
    if inp.scope:
        goals = [g for g in goals if g.goal.id == inp.scope]
    return goals


def forecast_text(forecast: Forecast, target: date | None) -> str:
    """`2027-01-05 vs 2026-12-20 (16 d late) — <its inputs>`, `done`, or why there is no forecast."""
    if forecast.done:
        return "done"
    if forecast.p85 is None:
        return f"no forecast: {forecast.refused or 'no pace to project'} — {forecast_basis(forecast)}"
    if target is None:
        return f"{forecast.p85.isoformat()} (no target) — {forecast_basis(forecast)}"
    delta = (forecast.p85 - target).days
    verdict = f"{delta} d late" if delta > 0 else f"{-delta} d buffer" if delta < 0 else "on the day"
    return f"{forecast.p85.isoformat()} vs {target.isoformat()} ({verdict}) — {forecast_basis(forecast)}"


def metric_text(m: MetricValue) -> str:
    """`Checkout conversion 2.5 % (2.1 → 3 %, 44% of the way)`."""
    unit = f" {m.unit}" if m.unit else ""
    current = format_number(m.current) + unit if m.current is not None else "not measurable yet"
    way = f", {format_percent(m.progress_percent / 100)} of the way" if m.progress_percent is not None else ""
    return f"{m.name}: {current} ({format_number(m.baseline)} → {format_number(m.target)}{unit}{way})"


def headline(inp: ReportInput, goals: list[GoalAnalysis]) -> str:
    """One sentence: goals delivered / on track / at risk / missed, missed releases, and what changed."""
    return verdict(goals, inp.analysis, inp.previous, [t.id for t in themes_in_scope(inp)])


def goal_badge(g: GoalAnalysis) -> str:
    """The goal's status badge; a finished goal in production is delivered, not merely green."""
    return DELIVERED_BADGE if g.forecast.done and not g.progress.funnel.not_released else RAG_BADGE[g.status.rag]


def top_themes(themes: list[Theme], n: int = EXECUTIVE_THEMES) -> list[Theme]:
    """The `n` themes an executive should see: the first of the impact ranking (see analysis.themes)."""
    return themes[:n]


def late_goals(goals: list[GoalAnalysis]) -> list[GoalAnalysis]:
    """Goals whose 85% forecast is after the target, latest first."""
    late = [g for g in goals if g.forecast.p85 is not None and g.forecast.p85 > g.goal.target_date]
    return sorted(late, key=lambda g: -(g.forecast.p85 - g.goal.target_date).days)  # type: ignore[operator]


def lever_text(lever: Lever) -> str:
    """`cut 4 of 11 items → 2027-01-10`, `... → 2027-02-01 (still late)`."""
    when = lever.p85.isoformat() if lever.p85 else "no date"
    if lever.kind == LeverKind.MOVE_DATE:
        return f"move to {when}"
    return f"{lever.description} → {when}" + ("" if lever.makes_target else " (still late)")


def decisions(inp: ReportInput, goals: list[GoalAnalysis]) -> list[str]:
    """Sign-offs needed before the next release (the themes' decisions come from `decision_line`)."""
    out = []
    for rel in inp.analysis.releases:
        if rel.release.released:
            continue
        check = launch_checklist(inp, rel)
        signoff = next((c for c in check.checks if c.name == "Sign-offs done"), None)
        if signoff is not None and not signoff.ok:
            what = (f"{len(signoff.items)} sign-off item{'s' if len(signoff.items) != 1 else ''} still open"
                    if signoff.items else "no sign-off item planned")
            out.append(f"Release {rel.release.name} (due {rel.release.due or 'undated'}): {what} — sign off before launch.")
        break  # the next release only
    return out


def executive(inp: ReportInput) -> Built:
    """Markdown (one screen, no ticket lists), charts and the risk ids it considered.

    Decisions: one line per theme shown with dated options (see `risk_themes` for why the options
    are there and not in the top-risk lines), then the next release's sign-offs.
    """
    goals = goals_in_scope(inp)
    themes = themes_in_scope(inp)
    shown = top_themes(themes)
    theme_decisions = [d for t in shown if (d := decision_line(t)) is not None]
    risks = signals_in_scope(inp)
    rows = [{
        "title": g.goal.title, "badge": goal_badge(g), "pct": delivered_share(g.progress.funnel),
        "done_pct": percent_done(g.progress.counts),
        "merged": f"{g.progress.funnel.merged} of {g.progress.funnel.done_with_code} with code merged",
        "note": not_released_note(g.progress.funnel, g.forecast.done),
        "forecast": forecast_text(g.forecast, g.goal.target_date), "metric": metric_text(g.metric),
    } for g in goals[:EXECUTIVE_MAX_GOALS]]
    md = render_markdown(
        "status-executive.md.j2", tz=inp.tz, today=inp.analysis.today, headline=headline(inp, goals), goals=rows,
        more_goals=max(0, len(goals) - EXECUTIVE_MAX_GOALS),
        themes=[theme_line(inp, t, links=False, decision=False) for t in shown], total_themes=len(themes),
        accepted=[theme_line(inp, t, links=False) for t in themes_in_scope(inp, accepted=True)],
        theme_decisions=theme_decisions,
        more_decisions=sum(1 for t in themes[len(shown):] if decision_line(t) is not None),
        decisions=decisions(inp, goals),
        changes=changes_since(inp.previous, inp.analysis, risks)[:4])
    return Built("Status — executive summary", md, {}, [r.id for r in risks], inp.scope, footnote=themes_footnote(inp))


def _feedback(inp: ReportInput, goal: GoalAnalysis) -> dict[str, int] | None:
    """Customer-reported items in the goal's scope: done in the last 14 days, in progress, waiting."""
    # The goal's items as the analysis selected them (not its id set mapped back to items), each label
    # lower-cased once, not once per item: a store has a handful of distinct labels on 90,000 items at 100k
    # (3 goals: 46 + 22 ms for the id sets -> 18 ms)
    feedback: dict[str, bool] = {}
    fb = []
    for item in select_items(inp.snapshot, goal.goal.scope):
        for label in item.labels:
            hit = feedback.get(label)
            if hit is None:
                hit = feedback[label] = label.lower() in FEEDBACK_LABELS
            if hit:
                fb.append(item)
                break
    if not fb:
        return None
    fortnight_ago = inp.now - timedelta(days=14)
    done = [i for i in fb if i.status_category == StatusCategory.DONE]
    return {
        "total": len(fb), "done_recently": inp.hist.done_at_each(done, fortnight_ago).count(False),
        "in_progress": sum(1 for i in fb if i.status_category == StatusCategory.IN_PROGRESS),
        "waiting": sum(1 for i in fb if i.status_category == StatusCategory.TODO),
    }


def business(inp: ReportInput) -> Built:
    """Markdown with outcomes per goal, releases, timeline, success metrics, feedback; burn-up charts."""
    goals = goals_in_scope(inp)
    charts: dict[str, Drawn] = {}
    views: list[dict[str, Any]] = []
    for g in goals:
        chart = charts_for.goal_burnup(inp, g)
        if chart is not None:
            charts[chart[0]] = chart[1]
        c = g.progress.counts
        views.append({
            "g": g, "badge": goal_badge(g), "metric": metric_text(g.metric), "counts": c,
            "pct": percent_done(c), "delivery": g.progress.delivery, "feedback": _feedback(inp, g),
            "delivered": delivered_text(g.progress.funnel), "funnel": funnel_text(g.progress.funnel),
            "chart": chart[0] if chart else None, "forecast": forecast_text(g.forecast, g.goal.target_date),
        })
    releases = inp.analysis.releases
    themes = themes_in_scope(inp, goals_only=True)
    risks = [r for t in themes for r in t.signals]
    md = render_markdown(
        "status-business.md.j2", tz=inp.tz, today=inp.analysis.today, headline=headline(inp, goals), goals=views,
        shipped=[r for r in releases if r.release.released][:MAX_RELEASES],
        upcoming=[r for r in releases if not r.release.released and r.progress.counts.items_total][:MAX_RELEASES],
        rag=RAG_BADGE, pct_of=delivered_share, forecast_text=forecast_text, basis=forecast_basis,
        late=[{"g": g, "options": [{"lever": lv, "text": lever_text(lv),
                                    "cut": [inp.key_link(r) for r in lv.cut_items]} for lv in g.forecast.options]}
              for g in late_goals(goals)],
        themes=[theme_line(inp, t, links=False) for t in top_themes(themes, BUSINESS_THEMES)],
        total_themes=len(themes),
        changes=changes_since(inp.previous, inp.analysis, risks))
    return Built("Status — outcomes for the business", md, charts, [r.id for r in risks], inp.scope, footnote=themes_footnote(inp))
