"""The catalogue's charts, drawn from analysis results: file names are stable and free of data text.

Each function draws through syncd.reports.render.drawing: matplotlib is loaded by the first chart
drawn in this process, so a report without charts never pays for it (0.5 s and 30 MiB a run).
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

from syncd.reports.analysis.flow import percentiles
from syncd.reports.analysis.sprint_flow import FlowDay
from syncd.reports.analysis.sprint_goal import VelocityTrend
from syncd.reports.analysis.types import GoalAnalysis, SprintReport
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.derive import burndown, cycle_points, forecast_outcomes
from syncd.reports.render.drawing import Drawn, draw

Chart = tuple[str, Drawn]  # (NAME.png, its PNG bytes drawn or being drawn)
MAX_SCATTER_POINTS = 3000  # more points draw slower and show no more


def slug(value: str) -> str:
    """A file-name-safe form of an id (`jira:sprint:6` -> `jira-sprint-6`)."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:60] or "x"


def goal_burnup(inp: ReportInput, g: GoalAnalysis) -> Chart | None:
    """Burn-up of a goal's items with its p50–p95 forecast cone and target date."""
    points = g.progress.burnup
    if not points:
        return None
    fc = g.forecast
    cone = (fc.p50, fc.p85, fc.p95) if fc.p50 and fc.p85 and fc.p95 else None
    png = draw("burnup_png", "Burn-up (items)", [p.day for p in points], [p.scope_items for p in points],
                     [p.done_items for p in points], unit="items", target=g.goal.target_date, cone=cone)
    return f"burnup-{slug(g.goal.id)}.png", png


def goal_forecast(inp: ReportInput, g: GoalAnalysis) -> Chart | None:
    """Distribution of the goal's Monte Carlo completion dates."""
    fc = g.forecast
    outcomes = forecast_outcomes(inp, fc)
    total, seen, shown = sum(n for _, n in outcomes), 0, []
    for day, n in outcomes:  # the last 1% of trials is a long, flat tail: leave it out of the picture
        if seen >= 0.99 * total:
            break
        shown.append((day, n))
        seen += n
    outcomes = shown
    if not outcomes or fc.p50 is None or fc.p85 is None or fc.p95 is None:
        return None
    png = draw("forecast_png", "Forecast: finish date across trials", outcomes, p50=fc.p50, p85=fc.p85, p95=fc.p95,
                       target=g.goal.target_date, trials=fc.trials)
    return f"forecast-{slug(g.goal.id)}.png", png


def sprint_burndown(inp: ReportInput, rep: SprintReport) -> Chart | None:
    """Burndown of a sprint's story points against the ideal line."""
    series = burndown(inp, rep)
    if series is None or not series[0] or rep.sprint.start is None or rep.sprint.end is None:
        return None
    days, remaining = series
    committed = rep.committed_points or (remaining[0] if remaining else 0.0)
    png = draw("burndown_png", "Burndown (story points)", days, remaining, start=days[0],
                       end=rep.sprint.end.astimezone(inp.tz).date(), committed=committed, unit="points")
    return f"burndown-{slug(rep.sprint.id)}.png", png


def sprint_velocity(rep: SprintReport, trend: VelocityTrend) -> Chart | None:
    """Velocity chart of the board's last sprints (committed vs completed) with the completed trend."""
    if not trend.points:
        return None
    line = None
    if trend.slope is not None and trend.mean is not None:
        line = (trend.mean - trend.slope * (len(trend.points) - 1) / 2, trend.slope)
    png = draw("velocity_png", f"Velocity: last {len(trend.points)} sprints (story points)", [p.sprint for p in trend.points],
                       [p.committed for p in trend.points], [p.completed for p in trend.points], trend=line)
    return f"velocity-{slug(rep.sprint.id)}.png", png


def sprint_cumulative_flow(rep: SprintReport, days: list[FlowDay]) -> Chart | None:
    """Cumulative flow diagram of a sprint's items (done, in progress, to do per day)."""
    if len(days) < 2:
        return None
    png = draw("cumulative_flow_png", "Cumulative flow: the sprint's items by status category (at each day's end)",
                              [d.day for d in days], [d.todo for d in days], [d.in_progress for d in days],
                              [d.done for d in days])
    return f"cfd-{slug(rep.sprint.id)}.png", png


def cycle_scatter(inp: ReportInput, start: datetime, end: datetime, name: str = "cycle-time",
                  ids: AbstractSet[str] | None = None, team: str | None = None) -> Chart | None:
    """Cycle time of every item (of `ids`, default all) finished in [start, end) with its p50 and p85
    (`team`: the team they are, named in the title)."""
    pts = cycle_points(inp, start, end, ids)
    if not pts:
        return None
    pct = percentiles((v for _, v in pts), "days")
    title = "Cycle time of finished items (days)" if team is None else f"{team}: cycle time of finished items (days)"
    if len(pts) > MAX_SCATTER_POINTS:
        stride = -(-len(pts) // MAX_SCATTER_POINTS)
        title += f", every {stride}th of {len(pts)} shown"
        pts = pts[::stride]
    png = draw("cycle_time_png", title, pts, p50=pct.p50 if pct else None, p85=pct.p85 if pct else None)
    return f"{slug(name)}.png", png


def flow_window(inp: ReportInput) -> tuple[datetime, datetime]:
    """The flow metrics' window as instants: `forecast_weeks` weeks back from now."""
    flow = inp.analysis.flow.overall
    weeks = max(1, (flow.window_end - flow.window_start).days // 7)
    return inp.now - timedelta(days=7 * weeks), inp.now
