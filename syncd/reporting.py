"""Reports from the store: load one snapshot, the goals and the previous report, analyse, render,
record; and write a report's files.

`generate_report` is what the CLI, the scheduler and the HTTP service call. `generate_reports`
renders many kinds from one snapshot and one analysis (the demo, the benchmark). Everything here is
glue at the edge: the clock, files and the store are touched here, never inside `reports/`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from syncd.chart_process import ChartProcess
from syncd.connectors.config import GitHubSource
from syncd.errors import ConfigError, ReportError
from syncd.model import RiskAck
from syncd.reports.analysis import analyse
from syncd.reports.analysis.releases import JoinConfig
from syncd.reports.analysis.replay import load_snapshot_at
from syncd.reports.analysis.types import Analysis, Severity
from syncd.reports.catalogue.base import Previous, ReportInput
from syncd.reports.catalogue.catalogue import DRAWS_CHARTS, REPORT_KINDS, check_kind, render_report
from syncd.reports.data import Snapshot
from syncd.reports.email import report_email
from syncd.reports.goals import GoalsFile, load_goals_file
from syncd.reports.render.drawing import drawn_by
from syncd.reports.report import Report
from syncd.settings import Settings
from syncd.store import Store
from syncd.store._acks import theme_acks
from syncd.store._history import previous_report, record_report

__all__ = ["REPORT_KINDS", "ReportContext", "generate_report", "generate_reports", "load_context", "write_report"]

FORMATS = ("md", "html", "eml")
# whose recipients a kind without audiences goes to (reports.recipients is keyed by audience)
READERS: dict[str, tuple[str, ...]] = {
    "sprint-kickoff": ("engineering",), "sprint-review": ("engineering",), "retrospective": ("engineering",),
    "timeline": ("business",), "launch-readiness": ("executive", "engineering"),
}


@dataclass
class ReportContext:
    """One snapshot of the store analysed at `now`: the shared input of every report of a run."""

    settings: Settings
    snapshot: Snapshot
    analysis: Analysis
    now: datetime
    shared: dict[str, Any] = field(default_factory=dict)  # lookups every report of the run reuses


def join_config(settings: Settings) -> JoinConfig:
    """How releases are joined: each GitHub source's `jira_projects` and the `[[releases.map]]` entries."""
    return JoinConfig(jira_projects={name: list(src.jira_projects) for name, src in settings.sources.items()
                                     if isinstance(src, GitHubSource)}, map=list(settings.releases.map),
                      jira_released_is_production=settings.delivery.jira_released_is_production,
                      prerelease_pattern=settings.delivery.prerelease_pattern)


def _goals(settings: Settings) -> GoalsFile:
    path = settings.reports.goals_file
    return load_goals_file(path) if path is not None else GoalsFile()


def load_context(settings: Settings, store: Store, *, now: datetime, freeze_snapshot: bool = False,
                 snapshot_read: Callable[[], object] | None = None) -> ReportContext:
    """Read the store once (one consistent snapshot) as it was at `now`, load the goals file and analyse.

    A `now` in the past rewinds the store along its changelog (reports/analysis/replay.py), so the
    report says what one generated that day would have said. Nothing is written: a config
    acknowledgement is pinned in memory to its theme as the store says it was at the end of the
    entry's `since` day (one more analysis, rewound to then, per `since` day before today).

    `freeze_snapshot` (a one-shot process, e.g. `syncd report`): the cycle collector stays off
    through the load and the analysis, and then their million objects are moved out of its reach
    (`gc.freeze`), so the render's collections never walk them; the context returned stays
    referenced until the process ends (see `_hold`). Never in a long-lived process: whatever is
    frozen is only freed by reference counting.

    `snapshot_read` is called once the snapshot at `now` is read, before anything is analysed.
    """
    if now.tzinfo is None:
        raise ReportError("now must include a time zone offset")
    goals = _goals(settings)
    if not freeze_snapshot:
        return _analysed_context(settings, store, goals, now, snapshot_read)
    # Off until the analysis is done: the analysis turns the collector back on only if it found it on,
    # and its first collection would then walk every object it allocated (2% of the executive report
    # at 100k); frozen instead, as the snapshot is, they are never walked.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        ctx = _analysed_context(settings, store, goals, now, snapshot_read)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    _hold(ctx)
    return ctx


def _analysed_context(settings: Settings, store: Store, goals: GoalsFile, now: datetime,
                      snapshot_read: Callable[[], object] | None) -> ReportContext:
    snapshot = load_snapshot_at(store, now)
    if snapshot_read is not None:
        snapshot_read()
    if not snapshot.items:
        if snapshot.as_of is not None:
            raise ReportError(f"no stored item existed yet at {now.isoformat()}: nothing to report as of then")
        raise ReportError("the store holds no items yet: run `syncd sync` first")
    projects = {i.project for i in snapshot.items}
    for g in goals.goals:
        if g.team is not None and g.team not in settings.teams and (settings.teams or g.team not in projects):
            raise ConfigError(f"goals: goal {g.id}: team: {g.team!r} is neither a [teams] name nor a project or "
                              "repository in the store")

    def analysed(snap: Snapshot, at: datetime, acks: Sequence[RiskAck]) -> Analysis:
        return analyse(snap, goals.goals, settings.reports, at, capacity=goals.capacity, teams=settings.teams,
                       releases=join_config(settings), delivery=settings.delivery, acks=acks)

    acks = risk_acks(settings, store)
    baselines: dict[date, Analysis | None] = {}  # a config entry's `since` day -> the analysis as of its end
    tz = ZoneInfo(settings.reports.timezone)
    for ack in acks:
        since = ack.at.astimezone(tz).date()
        if ack.red_signal_ids is None and since not in baselines:
            end = datetime.combine(since, time(23, 59, 59), tz)
            past = load_snapshot_at(store, end) if end < now else None
            baselines[since] = analysed(past, end, ()) if past is not None and past.items else None
    acks = [_pinned(a, baselines.get(a.at.astimezone(tz).date())) if a.red_signal_ids is None else a
            for a in acks]
    analysis = analysed(snapshot, now, acks)
    # the reports read the histories the analysis built (and the facts it worked out), not new ones
    shared: dict[str, Any] = {"hist": analysis.histories} if analysis.histories is not None else {}
    return ReportContext(settings=settings, snapshot=snapshot, analysis=analysis, now=now, shared=shared)


# The context of a one-shot process (`freeze_snapshot`), referenced until the process ends: returning
# from `generate_report` would otherwise free the snapshot and the analysis object by object (3.4% of
# the executive report at 100k), which a process that exits without teardown never needs to do.
_HELD: list[ReportContext] = []


def _hold(ctx: ReportContext) -> None:
    """Keep `ctx` referenced until the process ends (only the last one: a second run frees the first)."""
    _HELD[:] = [ctx]


def _pinned(ack: RiskAck, then: Analysis | None) -> RiskAck:
    """A config acknowledgement pinned to its theme as the analysis of its `since` day saw it.

    No analysis (the `since` day is today, or the store held nothing yet): left unpinned, so the
    analysis pins it to the theme as it is now (in memory; nothing is stored). A theme that did not
    exist then is pinned with no red signals and no forecast: every red signal since is new.
    """
    if then is None:
        return ack
    theme = next((t for t in [*then.themes, *then.accepted] if t.id == ack.theme_id), None)
    if theme is None:
        return ack.model_copy(update={"red_signal_ids": (), "forecast_p85": None})
    return ack.model_copy(update={
        "red_signal_ids": tuple(sorted(r.id for r in theme.signals if r.severity == Severity.RED)),
        "forecast_p85": theme.forecast.p85 if theme.forecast is not None else None})


def risk_acks(settings: Settings, store: Store) -> list[RiskAck]:
    """Acknowledgements in force: the stored ones (`syncd risk ack`) and the config's, which are never stored.

    A stored acknowledgement wins over a config entry for the same theme. A config entry is dated
    by its `since` day (noon in the report time zone, the same day in UTC) and not pinned yet (see
    `load_context`).
    Rows an earlier version stored for config entries are ignored: the config is their only source.
    """
    stored = {a.theme_id: a for a in theme_acks(store) if a.source != "config"}
    tz = ZoneInfo(settings.reports.timezone)
    for entry in settings.reports.risk_acks:
        if entry.theme in stored:
            continue
        stored[entry.theme] = RiskAck(theme_id=entry.theme, by=entry.by, at=datetime.combine(entry.since, time(12), tz),
                                      until=entry.until, note=entry.note, source="config")
    return sorted(stored.values(), key=lambda a: a.theme_id)


def render_from(ctx: ReportContext, store: Store | None, kind: str, audience: str | None = None, *,
                scope: str | None = None) -> Report:
    """Render one report from an analysed context; `store` (if given) supplies the previous report."""
    audience = check_kind(kind, audience)
    prev = None
    if store is not None:
        row = previous_report(store, kind=kind, audience=audience, scope=scope, before=ctx.now)
        prev = Previous(as_of=row.as_of, summary=row.summary, risk_ids=row.risk_ids) if row else None
    inp = ReportInput(analysis=ctx.analysis, snapshot=ctx.snapshot, now=ctx.now,
                      subject_template=ctx.settings.reports.subject, previous=prev, scope=scope,
                      browse_url=ctx.settings.reports.jira_browse_url, site_url=ctx.settings.reports.base_url,
                      launch=ctx.settings.releases, shared=ctx.shared)
    return render_report(kind, audience, inp)


def _record(store: Store, report: Report, scope: str | None, now: datetime) -> None:
    record_report(store, kind=report.kind, audience=report.audience, scope=report.scope or scope,
                  generated_at=datetime.now(UTC), as_of=now, summary=report.summary, risk_ids=report.risk_ids)


def generate_report(settings: Settings, store: Store, kind: str, audience: str | None = None, *, now: datetime,
                    scope: str | None = None, record: bool = True, freeze_snapshot: bool = False) -> Report:
    """One report from the store at `now`; with `record`, its conclusions go to report_history.

    `freeze_snapshot`: see `load_context` (one-shot processes only); a kind that draws charts then has
    them drawn by a second process that loads matplotlib while this one analyses (syncd/chart_process.py),
    started once the snapshot is read: while it is read, the second core reads the transitions.
    """
    drawer = ChartProcess() if freeze_snapshot and (kind, check_kind(kind, audience)) in DRAWS_CHARTS else None
    try:
        ctx = load_context(settings, store, now=now, freeze_snapshot=freeze_snapshot,
                           snapshot_read=drawer.start if drawer is not None else None)
        with drawn_by(drawer) if drawer is not None else nullcontext():
            report = render_from(ctx, store, kind, audience, scope=scope)
    finally:
        if drawer is not None:
            drawer.close()
    if record:
        _record(store, report, scope, now)
    return report


def generate_reports(settings: Settings, store: Store, requests: Iterable[tuple[str, str | None, str | None]], *,
                     now: datetime, record: bool = False) -> list[Report | ReportError]:
    """Many reports (kind, audience, scope) from one snapshot and one analysis; a failed one is its error."""
    ctx = load_context(settings, store, now=now)
    out: list[Report | ReportError] = []
    for kind, audience, scope in requests:
        try:
            report = render_from(ctx, store, kind, audience, scope=scope)
        except ReportError as exc:
            out.append(exc)
            continue
        if record:
            _record(store, report, scope, now)
        out.append(report)
    return out


def all_requests() -> list[tuple[str, str | None, str | None]]:
    """Every kind for every audience it has, default scope."""
    return [(kind, audience, None) for kind, audiences in REPORT_KINDS.items() for audience in audiences]


def recipients_for(settings: Settings, kind: str, audience: str | None) -> list[str]:
    """reports.recipients of the audience (or, for kinds without audiences, of the kind's readers)."""
    audiences = (audience,) if audience else READERS.get(kind, ())
    found: list[str] = []
    for a in audiences:
        found += settings.reports.recipients.get(a, [])  # type: ignore[call-overload]
    return list(dict.fromkeys(found))


def report_slug(report: Report) -> str:
    """File name stem of a report: `status-executive`, `sprint-review-jira-sprint-6`."""
    return report.slug()


def write_report(report: Report, out_dir: Path, formats: Sequence[str] = FORMATS, *, sender: str,
                 recipients: Sequence[str], date: datetime | None = None) -> list[Path]:
    """Write the report as Markdown (charts as PNG beside it), HTML and/or .eml; return the paths.

    The .html file shows its charts from the PNG files beside it; the .eml carries them inline. The
    report's own files (`Report.files`) are written beside the Markdown and HTML. With no
    recipients the .eml is a draft addressed to the sender.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ReportError(f"unknown format {unknown[0]!r} (use {', '.join(FORMATS)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_slug(report)
    written: list[Path] = []
    if "md" in formats or "html" in formats:
        for name, data in [*report.charts.items(), *report.files.items()]:
            path = out_dir / name
            path.write_bytes(data)
            written.append(path)
    if "md" in formats:
        path = out_dir / f"{stem}.md"
        path.write_text(report.markdown, encoding="utf-8")
        written.append(path)
    if "html" in formats:
        html = report.html
        for name in report.charts:
            html = html.replace(f'src="cid:{name.removesuffix(".png")}"', f'src="{name}"')
        path = out_dir / f"{stem}.html"
        path.write_text(html, encoding="utf-8")
        written.append(path)
    if "eml" in formats:
        msg = report_email(report, sender=sender, recipients=list(recipients) or [sender],
                           date=date or datetime.now(UTC))
        path = out_dir / f"{stem}.eml"
        path.write_bytes(msg.as_bytes())
        written.append(path)
    return written
