"""A goal's success metric today: the configured value, or one syncd computes from the store."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from syncd.model import ItemKind, StatusCategory
from syncd.reports.analysis.flow import flow_metrics
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.scope import matching_items, select_items
from syncd.reports.analysis.types import MetricValue
from syncd.reports.data import Snapshot
from syncd.reports.goals import ComputedMetric, Goal

_WORDING = {
    ComputedMetric.OPEN_ITEMS: "open items",
    ComputedMetric.OPEN_BUGS: "open bugs",
    ComputedMetric.DONE_ITEMS: "done items",
    ComputedMetric.PERCENT_DONE: "percent of items done",
    ComputedMetric.MEDIAN_CYCLE_TIME: "median cycle time (days)",
    ComputedMetric.P85_CYCLE_TIME: "85th percentile cycle time (days)",
    ComputedMetric.WEEKLY_THROUGHPUT: "items finished per week",
}


_COUNTS = (ComputedMetric.OPEN_ITEMS, ComputedMetric.OPEN_BUGS, ComputedMetric.DONE_ITEMS, ComputedMetric.PERCENT_DONE)


def metric_value(snap: Snapshot, hist: Histories, goal: Goal, now: datetime, today: date, tz: tzinfo,
                 weeks: int) -> MetricValue:
    """The goal's metric with its current value, where it came from, and progress toward target."""
    m = goal.metric
    current: float | None
    if m.computed is None:
        current, as_of, source = m.value, m.value_date, f"set in config on {m.value_date}"
    else:
        selector = m.selector or goal.scope
        # a count needs the items, not their order (the flow metrics' lists keep the selection's order)
        items = matching_items(snap, selector) if m.computed in _COUNTS else select_items(snap, selector)
        open_items = [i for i in items if i.status_category != StatusCategory.DONE]
        as_of = today
        source = f"computed: {_WORDING[m.computed]} in {selector.describe()}"
        if m.computed == ComputedMetric.OPEN_ITEMS:
            current = float(len(open_items))
        elif m.computed == ComputedMetric.OPEN_BUGS:
            current = float(sum(1 for i in open_items if i.kind == ItemKind.BUG))
        elif m.computed == ComputedMetric.DONE_ITEMS:
            current = float(len(items) - len(open_items))
        elif m.computed == ComputedMetric.PERCENT_DONE:
            current = 100.0 * (len(items) - len(open_items)) / len(items) if items else None
        else:
            fm = flow_metrics(snap, hist.facts(), items, now, tz, weeks, selector.describe())
            if m.computed == ComputedMetric.WEEKLY_THROUGHPUT:
                current = sum(w.count for w in fm.throughput) / len(fm.throughput)
            else:
                ct = fm.cycle_time_days
                current = None if ct is None else (ct.p50 if m.computed == ComputedMetric.MEDIAN_CYCLE_TIME else ct.p85)
    progress = None
    if current is not None:
        progress = 100.0 * (current - m.baseline) / (m.target - m.baseline)
    return MetricValue(name=m.name, unit=m.unit, baseline=m.baseline, target=m.target, current=current,
                       as_of=as_of, source=source, progress_percent=progress)
