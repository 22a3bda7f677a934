"""Red/amber/green per goal and release, with its one-sentence reason."""

from __future__ import annotations

from datetime import date

from syncd.reports.analysis.risk_rules import make_risk
from syncd.reports.analysis.status import scope_status
from syncd.reports.analysis.types import Forecast, Rag, Risk, Severity

TARGET = date(2026, 6, 30)


def forecast(p50: date | None = None, p85: date | None = None, **kw: object) -> Forecast:
    return Forecast(remaining_items=5, trials=100, seed=1, history_weeks=8, history_start=None, history_end=None,
                    weekly_throughput=[1] * 8, sample_items=8, p50=p50, p85=p85, p95=p85, **kw)  # type: ignore[arg-type]


def risk(severity: Severity, title: str = "WID-1 is stale") -> Risk:
    return make_risk("stale-work", severity, title, "Ask.", subjects=[title], numbers={"n": 1})


def test_rag_rules_in_order() -> None:
    on_time = forecast(date(2026, 6, 1), date(2026, 6, 20))
    p85_late = forecast(date(2026, 6, 25), date(2026, 7, 10))
    p50_late = forecast(date(2026, 7, 5), date(2026, 7, 20))
    cases = [
        (forecast(done=True), [risk(Severity.RED)], Rag.GREEN, "All goal work is done."),
        (p50_late, [], Rag.RED, "Even the 50% forecast is late: p50 2026-07-05 (p85 2026-07-20) vs target 2026-06-30: "
                                "own history (no team identified), 8 weeks (8 items), share 1."),
        (on_time, [risk(Severity.RED, "Release 1.0 is late"), risk(Severity.RED, "x")], Rag.RED,
         "Red risk: Release 1.0 is late (and 1 more red risk)."),
        (p85_late, [], Rag.AMBER, "The 85% forecast is late, the 50% one makes it: p85 2026-07-10 (p50 2026-06-25) "
                                  "vs target 2026-06-30: own history (no team identified), 8 weeks (8 items), share 1."),
        (p85_late, [risk(Severity.RED, "Release 1.0 is late")], Rag.RED,
         "Red risk: Release 1.0 is late; p85 2026-07-10 vs target 2026-06-30: own history (no team identified), "
         "8 weeks (8 items), share 1."),
        (forecast(refused="only 2 full week(s) of history"), [], Rag.AMBER,
         "No forecast yet: only 2 full week(s) of history."),
        (on_time, [risk(Severity.AMBER)], Rag.AMBER, "On pace, but 1 amber risk: WID-1 is stale."),
        (on_time, [], Rag.GREEN, "On track: the 85% forecast (2026-06-20) is on or before the target 2026-06-30 "
                                 "and no risks are open."),
    ]
    for fc, risks, rag, reason in cases:
        status = scope_status("goal", fc, TARGET, risks)
        assert (status.rag, status.reason) == (rag, reason)


def test_release_without_due_date() -> None:
    status = scope_status("release", forecast(date(2026, 6, 1), date(2026, 6, 20)), None, [])
    assert status.rag == Rag.GREEN and "no target date set" in status.reason
