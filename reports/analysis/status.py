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

from syncd.reports.analysis.types import Forecast, Funnel, Rag, Risk, Severity, Status


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
        return Status(Rag.RED, f"Even the 50% forecast ({forecast.p50.isoformat()}) is after the target "
                               f"{target.isoformat()}.")
    if n_red:
        more = f" (and {n_red - 1} more red risk{'s' if n_red > 2 else ''})" if n_red > 1 else ""
        return Status(Rag.RED, f"Red risk: {red_title}{more}.")
    if target is not None and forecast.p85 is not None and forecast.p85 > target:
        return Status(Rag.AMBER, f"The 85% forecast ({forecast.p85.isoformat()}) is after the target "
                                 f"{target.isoformat()}; the 50% forecast ({forecast.p50}) still makes it.")
    if forecast.refused:
        return Status(Rag.AMBER, f"No forecast yet: {forecast.refused}.")
    if n_amber:
        more = f" (and {n_amber - 1} more)" if n_amber > 1 else ""
        return Status(Rag.AMBER, f"On pace, but {n_amber} amber risk{'s' if n_amber > 1 else ''}: {amber_title}{more}.")
    if target is None:
        return Status(Rag.GREEN, f"No open risks; the 85% forecast is {forecast.p85} (no target date set).")
    return Status(Rag.GREEN, f"On track: the 85% forecast ({forecast.p85}) is on or before the target "
                             f"{target.isoformat()} and no risks are open.")
