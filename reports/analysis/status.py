"""Red / amber / green for a goal or release, with the one sentence that explains it.

Red: the 50% forecast is already after the target, or a red risk stands against it. Amber: the 85%
forecast is after the target, there is no forecast, or amber risks stand against it. Green: the
85% forecast is on or before the target and no risk stands against it (or everything is delivered).
Done is not delivered: a scope whose items are all done in Jira while some are not in a production
release is amber ("done, not yet released"), red with a red risk against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from syncd.reports.analysis.forecast import MIN_CONFIDENT_WEEKS
from syncd.reports.analysis.types import Forecast, ForecastMethod, Funnel, Rag, Risk, Severity, ShareSource, Status

_SHARE_SOURCE = {ShareSource.RECENT: "recent", ShareSource.CONFIGURED: "configured",
                 ShareSource.DEFAULT: "default, none of its own recently"}


def _own_part(fc: Forecast) -> str:
    """`, 0.067 its own` when a queued release has a recent share of its own in its stream's share."""
    return f", {fc.own_share:.2g} its own" if fc.own_share > 0 else ""


def forecast_inputs(fc: Forecast) -> str:
    """What a forecast was computed from, in the reason's words.

    `team WID throughput, 12 weeks (41 items), share 0.42 (recent)`: the method (the team's weekly
    throughput × the scope's share, or the scope's own history where no team is identified), the
    weeks sampled and the items finished in them (the team's, before the share), and the share.
    """
    if fc.share_source == ShareSource.QUEUED:
        behind = ", ".join(f"{a.name} ({a.remaining} item{'s' if a.remaining != 1 else ''})" for a in fc.ahead)
        low = f", low confidence (under {MIN_CONFIDENT_WEEKS} weeks sampled)" if fc.low_confidence else ""
        return (f"queued behind {behind}: team {fc.team} throughput, {fc.history_weeks} weeks ({fc.sample_items} "
                f"items), share {fc.share:.2g} (of the release stream{_own_part(fc)}), {fc.simulated_items} items to finish "
                f"({fc.remaining_items} its own){low}")
    if fc.method == ForecastMethod.TEAM_SHARE:
        how = f"team {fc.team} throughput"
        source = _SHARE_SOURCE.get(fc.share_source)
        share = f"share {fc.share:.2g}" + (f" ({source})" if source else "")
    else:
        how, share = "own history (no team identified)", "share 1"
    low = f", low confidence (under {MIN_CONFIDENT_WEEKS} weeks sampled)" if fc.low_confidence else ""
    return f"{how}, {fc.history_weeks} weeks ({fc.sample_items} items), {share}{low}"


def _top(risks: Sequence[Risk], severity: Severity) -> tuple[int, str]:
    hits = [r for r in risks if r.severity == severity]
    return len(hits), (hits[0].title if hits else "")


def scope_status(what: str, forecast: Forecast, target: date | None, risks: Sequence[Risk],
                 funnel: Funnel | None = None, in_production: bool | None = None) -> Status:
    """The RAG status of a goal or release (`what` names it in the reason).

    `funnel`: the scope's delivery funnel; `in_production`: for a release, whether it is released to production.
    """
    n_red, red_title = _top(risks, Severity.RED)
    n_amber, amber_title = _top(risks, Severity.AMBER)
    waiting = ""
    if forecast.done and funnel is not None and funnel.not_released:
        waiting = (f"{funnel.not_released} of {funnel.items} item{'s' if funnel.items != 1 else ''} "
                   f"{'are' if funnel.not_released != 1 else 'is'} not in a production release yet")
    elif forecast.done and in_production is False and funnel is not None and funnel.items:
        waiting = f"the {what} is not in production yet"
    if waiting:
        if n_red:
            return Status(Rag.RED, f"All {what} items are done, not yet released: {waiting}; red risk: {red_title}.")
        return Status(Rag.AMBER, f"All {what} items are done, not yet released: {waiting}.")
    if forecast.done:
        return Status(Rag.GREEN, f"All {what} work is done{' and delivered' if funnel is not None else ''}.")
    if target is not None and forecast.p50 is not None and forecast.p50 > target:
        return Status(Rag.RED, f"Even the 50% forecast is late: p50 {forecast.p50.isoformat()} (p85 {forecast.p85}) "
                               f"vs target {target.isoformat()}: {forecast_inputs(forecast)}.", names_inputs=True)
    if n_red:
        more = f" (and {n_red - 1} more red risk{'s' if n_red > 2 else ''})" if n_red > 1 else ""
        late = ""
        if target is not None and forecast.p85 is not None and forecast.p85 > target:
            late = f"; p85 {forecast.p85.isoformat()} vs target {target.isoformat()}: {forecast_inputs(forecast)}"
        return Status(Rag.RED, f"Red risk: {red_title}{more}{late}.", names_inputs=bool(late))
    if target is not None and forecast.p85 is not None and forecast.p85 > target:
        return Status(Rag.AMBER, f"The 85% forecast is late, the 50% one makes it: p85 {forecast.p85.isoformat()} "
                                 f"(p50 {forecast.p50}) vs target {target.isoformat()}: {forecast_inputs(forecast)}.", names_inputs=True)
    if forecast.refused:
        return Status(Rag.AMBER, f"No forecast yet: {forecast.refused}.")
    if n_amber:
        more = f" (and {n_amber - 1} more)" if n_amber > 1 else ""
        return Status(Rag.AMBER, f"On pace, but {n_amber} amber risk{'s' if n_amber > 1 else ''}: {amber_title}{more}.")
    if target is None:
        return Status(Rag.GREEN, f"No open risks; the 85% forecast is {forecast.p85} (no target date set).")
    return Status(Rag.GREEN, f"On track: the 85% forecast ({forecast.p85}) is on or before the target "
                             f"{target.isoformat()} and no risks are open.")
