"""Which reports exist, for which audiences, and `render_report` that dispatches to them."""

from __future__ import annotations

from collections.abc import Callable

from syncd.errors import ReportError
from syncd.reports.catalogue import status
from syncd.reports.catalogue.base import Built, ReportInput, finish
from syncd.reports.catalogue.changes import conclusions
from syncd.reports.report import Report

Builder = Callable[[ReportInput], Built]

REPORT_KINDS: dict[str, tuple[str | None, ...]] = {
    "status": ("executive", "business", "engineering"),
    "sprint-kickoff": (None,),
    "sprint-review": (None,),
    "timeline": (None,),
    "launch-readiness": (None,),
    "retrospective": (None,),
}
# the (kind, audience) that may draw charts; the others never do, so a one-shot `syncd report` starts
# its chart process (syncd/chart_process.py) for these only (a kind missing here draws in-process)
DRAWS_CHARTS = frozenset({("status", "business"), ("status", "engineering"), ("sprint-review", None),
                          ("timeline", None), ("retrospective", None)})


def _builder(kind: str, audience: str | None) -> Builder:
    if kind == "status":
        if audience == "executive":
            return status.executive
        if audience == "business":
            return status.business
        from syncd.reports.catalogue.status_engineering import engineering

        return engineering
    if kind == "sprint-kickoff":
        from syncd.reports.catalogue.sprint import kickoff

        return kickoff
    if kind == "sprint-review":
        from syncd.reports.catalogue.sprint import review

        return review
    if kind == "timeline":
        from syncd.reports.catalogue.timeline import timeline

        return timeline
    if kind == "launch-readiness":
        from syncd.reports.catalogue.launch import launch_readiness

        return launch_readiness
    if kind == "retrospective":
        from syncd.reports.catalogue.retro import retrospective

        return retrospective
    raise ReportError(f"unknown report kind {kind!r}")


def check_kind(kind: str, audience: str | None) -> str | None:
    """The audience in force for a kind (its first one by default); ReportError for bad names."""
    if kind not in REPORT_KINDS:
        raise ReportError(f"unknown report kind {kind!r} (known: {', '.join(REPORT_KINDS)})")
    audiences = REPORT_KINDS[kind]
    if audience is None:
        return audiences[0]
    if audience not in audiences:
        if audiences == (None,):
            raise ReportError(f"report {kind} has no audiences (drop --audience {audience})")
        raise ReportError(f"report {kind} has no audience {audience!r} (known: {', '.join(a for a in audiences if a)})")
    return audience


def render_report(kind: str, audience: str | None, inp: ReportInput) -> Report:
    """Render one report of the catalogue from its input."""
    audience = check_kind(kind, audience)
    built = _builder(kind, audience)(inp)
    heading = f"{kind.replace('-', ' ')}" + (f" · {audience}" if audience else "")
    return finish(inp, kind=kind, audience=audience, title=built.title, heading=heading, markdown=built.markdown,
                  charts=built.charts, summary=conclusions(inp.analysis), risk_ids=built.risk_ids, scope=built.scope,
                  wide=built.wide, footnote=built.footnote, files=built.files,
                  evidence=built.evidence)
