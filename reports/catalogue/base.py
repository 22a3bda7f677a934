"""What every report in the catalogue shares: its input, item links, and how a report is finished.

`ReportInput` is everything a report is rendered from: the analysis, the snapshot it came from,
`now`, the time zone, the previous report's conclusions and the subject template. `finish` turns a
report's Markdown and charts into a `Report` with its HTML, text alternative and subject.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from syncd.errors import ConfigError, ReportError
from syncd.reports.analysis.forecast import MIN_CONFIDENT_WEEKS, format_share
from syncd.reports.analysis.history import Histories, ItemFacts
from syncd.reports.analysis.scope import select_items
from syncd.reports.analysis.types import (
    Analysis,
    Counts,
    Forecast,
    ForecastMethod,
    Funnel,
    ItemRef,
    Rag,
    Risk,
    ShareSource,
)
from syncd.reports.catalogue.launch_config import LaunchConfig
from syncd.reports.data import Snapshot
from syncd.reports.email import html_part_size
from syncd.reports.render.drawing import Drawn
from syncd.reports.render.escape import Md, header_text, md_concat, md_link, md_text, plain_text
from syncd.reports.render.html import PAGE_WIDTH_PX, WIDE_PAGE_PX, html_document, markdown_body, text_alternative
from syncd.reports.render.shorten import EMAIL_HTML_BUDGET, NO_EVIDENCE, Evidence, email_body
from syncd.reports.render.templating import format_datetime, format_percent
from syncd.reports.report import Report, published_url, report_slug

T = TypeVar("T")

RAG_BADGE = {Rag.GREEN: "🟢 Green", Rag.AMBER: "🟠 Amber", Rag.RED: "🔴 Red"}
SEVERITY_BADGE = {"red": "🔴 red", "amber": "🟠 amber"}
# item keys as Jira (PROJ-12) and GitHub (owner/repo#34) write them; only stored items get linked
_KEY_PATTERN = re.compile(r"[A-Z][A-Z0-9_]+-\d+|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+")


@dataclass
class Built:
    """What a catalogue builder returns: the Markdown, its charts, and what the report is about."""

    title: str
    markdown: str
    charts: dict[str, Drawn]  # NAME.png -> its PNG bytes, drawn or being drawn
    risk_ids: list[str]
    scope: str | None = None  # the goal / sprint / release id the report covers, when it covers one
    wide: bool = False  # item-heavy: a wider HTML page
    footnote: str | None = None  # a sentence added to the footer (plain text)
    files: dict[str, bytes] = field(default_factory=dict)  # files that go with the report (see `Report.files`)
    evidence: Evidence = NO_EVIDENCE  # the tables a shortened email keeps longest (see `email_body`)


class _Started(Mapping[str, datetime | None]):
    """Item id -> started time, read through the facts."""

    def __init__(self, facts: Mapping[str, ItemFacts]) -> None:
        self._facts = facts

    def __getitem__(self, item_id: str) -> datetime | None:
        return self._facts[item_id].started

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


@dataclass(frozen=True)
class Previous:
    """What the previous report of the same kind, audience and scope concluded."""

    as_of: datetime
    summary: dict[str, Any]
    risk_ids: list[str]


@dataclass
class ReportInput:
    """Everything one report is rendered from (pure data; nothing here reads the clock or the store)."""

    analysis: Analysis
    snapshot: Snapshot
    now: datetime
    subject_template: str = "[syncd] {title} — {date}"
    previous: Previous | None = None
    scope: str | None = None
    browse_url: str | None = None  # base for Jira item links when an item has no URL
    site_url: str | None = None  # reports.base_url: where the full HTML reports are published
    launch: LaunchConfig = field(default_factory=LaunchConfig)  # [releases]: launch readiness conventions

    @cached_property
    def tz(self) -> ZoneInfo:
        """The report time zone."""
        return ZoneInfo(self.analysis.timezone)

    # Derived lookups shared by every report rendered from the same snapshot and analysis (pass the
    # same dict to each ReportInput of a run); they are computed on first use.
    shared: dict[str, Any] = field(default_factory=dict)

    def _shared(self, name: str, make: Callable[[], T]) -> T:
        if name not in self.shared:
            self.shared[name] = make()
        return cast(T, self.shared[name])

    @property
    def hist(self) -> Histories:
        """Point-in-time item histories (started/done times, sprint membership, estimates)."""
        return self._shared("hist", lambda: Histories(self.snapshot))

    @property
    def facts(self) -> dict[str, ItemFacts]:
        """Started and done times of every item."""
        return self._shared("facts", self.hist.facts)

    @property
    def started(self) -> Mapping[str, datetime | None]:
        """Item id -> when it first went in progress: a view of `facts` (a critical path reads a few
        hundred of them; a copy of all 100,000 per goal cost more than the path)."""
        return _Started(self.facts)

    @property
    def goal_items(self) -> dict[str, set[str]]:
        """Goal id -> ids of the items in its scope."""
        return self._shared("goal_items", lambda: {
            g.goal.id: {i.id for i in select_items(self.snapshot, g.goal.scope)} for g in self.analysis.goals})

    def item_url(self, key: str, url: str | None) -> str | None:
        """The item's URL, or a Jira browse link built from `browse_url`."""
        if url:
            return url
        if self.browse_url and re.fullmatch(r"[A-Z][A-Z0-9_]+-\d+", key):
            return f"{self.browse_url.rstrip('/')}/browse/{key}"
        return None

    def key_link(self, ref: ItemRef) -> Md:
        """The item's key, linked to the item."""
        return md_link(ref.key, self.item_url(ref.key, ref.url))

    def key_links(self, refs: Sequence[ItemRef]) -> Md:
        """The items' keys, each linked, comma-separated."""
        return md_concat([part for k, r in enumerate(refs) for part in ([", "] if k else []) + [self.key_link(r)]])

    def linkify(self, text: str) -> Md:
        """Escape free text (a risk title, a PR title) and link every stored item key in it."""
        items = self.snapshot.item_by_key
        text = plain_text(text)
        parts: list[Any] = []
        pos = 0
        for m in _KEY_PATTERN.finditer(text):
            item = items.get(m.group(0))
            if item is None:
                continue
            parts.append(text[pos:m.start()])
            parts.append(md_link(item.key, self.item_url(item.key, item.url)))
            pos = m.end()
        parts.append(text[pos:])
        return md_concat(parts)

    def date_text(self) -> str:
        """Today in the report time zone, `YYYY-MM-DD`."""
        return self.analysis.today.isoformat()


def find_scoped(scope: str, entries: Sequence[T], id_and_name: Callable[[T], tuple[str, str]], what: str) -> T:
    """The entry `--scope` names by id or name (case-insensitive); ReportError listing up to 8 known names.

    `what` says what was looked for and among which, e.g. "release ... among the planned and recent releases".
    """
    wanted = scope.casefold()
    for entry in entries:
        if wanted in (x.casefold() for x in id_and_name(entry)):
            return entry
    known = ", ".join(id_and_name(e)[1] for e in entries[:8]) or "none"
    noun, _, among = what.partition(" ")
    raise ReportError(f"no {noun} {scope!r} {among} (known: {known})")


def percent_done(counts: Counts) -> float | None:
    """Share of items done, 0..1 (None for an empty scope): the unit the forecast counts in."""
    pct = counts.percent_items
    return None if pct is None else pct / 100.0


def delivered_share(funnel: Funnel) -> float | None:
    """Share of items delivered (released to production, or done with no code), 0..1: the headline "% done"."""
    pct = funnel.percent_delivered
    return None if pct is None else pct / 100.0


def delivered_text(funnel: Funnel) -> str:
    """"3 of 15 items delivered (20%): 1 released to production, 2 done with no code to release"."""
    pct = funnel.percent_delivered
    head = f"{funnel.delivered} of {funnel.items} items delivered ({format_percent(None if pct is None else pct / 100)})"
    parts = [f"{funnel.released} released to production"]
    if funnel.done_no_code:
        parts.append(f"{funnel.done_no_code} done with no code to release")
    return f"{head}: {', '.join(parts)}"


def funnel_text(funnel: Funnel) -> str:
    """The stages: "to do 5 → in progress 6 → done in Jira 4 → code merged 2 of 3 → released to production 1"."""
    return (f"to do {funnel.todo} → in progress {funnel.in_progress} → done in Jira {funnel.done} → code merged "
            f"{funnel.merged} of {funnel.done_with_code} done with code → released to production {funnel.released}")


def not_released_note(funnel: Funnel, all_done: bool) -> str | None:
    """"done, not yet released (4 items)" for a scope all done in Jira with items not in production."""
    if not all_done or not funnel.not_released:
        return None
    n = funnel.not_released
    return f"done, not yet released ({n} item{'s' if n != 1 else ''})"


def subject_line(template: str, **values: str) -> str:
    """The email subject from the configured template (`{title}`, `{date}`, `{kind}`, `{audience}`)."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"config: reports.subject: {exc}") from None
    unknown = sorted(f for f in fields if f not in values)
    if unknown:
        raise ConfigError(f"config: reports.subject: unknown field {{{unknown[0]}}} (use {{title}}, {{date}}, "
                          "{kind} or {audience})")
    return header_text(template.format_map(values), limit=250)


def finish(inp: ReportInput, *, kind: str, audience: str | None, title: str, heading: str, markdown: str,
           charts: Mapping[str, Drawn] | None = None, summary: dict[str, Any] | None = None,
           risk_ids: Iterable[str] = (), scope: str | None = None, wide: bool = False,
           footnote: str | None = None, files: Mapping[str, bytes] | None = None,
           evidence: Evidence = NO_EVIDENCE) -> Report:
    """A `Report` from its Markdown and charts: HTML document, text alternative and subject added.

    The charts' bytes are taken last: a chart drawn by another process is drawn while this renders.
    """
    # chart files of different reports share an output folder: name them after the report
    prefix = "-".join(p for p in (kind, audience) if p)
    drawn = {f"{prefix}-{name}": chart for name, chart in (charts or {}).items()}
    for name in drawn:
        markdown = markdown.replace(f"](./{name.removeprefix(prefix + '-')})", f"](./{name})")
    as_of = format_datetime(inp.now, inp.tz)
    footer = f"Generated by syncd from Jira and GitHub data as of {as_of} ({inp.analysis.timezone})."
    if footnote:
        footer += " " + footnote
    body = markdown_body(markdown, drawn.keys())
    replay = inp.snapshot.as_of
    if replay is not None:  # a past date: say what was rebuilt and what the changelog cannot tell
        footer = " ".join((footer, *replay.notes))
        markdown = f"{markdown.rstrip()}\n\n---\n\n" + "\n\n".join(f"_{md_text(n)}_" for n in replay.notes) + "\n"

    def document(content: str) -> str:
        return html_document(title=title, heading=heading, as_of=as_of, body=content, footer=footer,
                             width=WIDE_PAGE_PX if wide else PAGE_WIDTH_PX)

    slug = report_slug(kind, audience, scope)
    full_url = published_url(inp.site_url, f"{slug}.html")
    html = document(body)
    mail = email_body(body, size_of=lambda content: html_part_size(html if content is body else document(content),
                                                                   over=EMAIL_HTML_BUDGET),
                      full_url=full_url, attachment=f"{slug}.html", evidence=evidence)
    return Report(
        kind=kind, audience=audience, title=title,
        subject=subject_line(inp.subject_template, title=title, date=inp.date_text(), kind=kind,
                             audience=audience or ""),
        markdown=markdown,
        html=html,
        text=text_alternative(mail.body, footer=footer),
        charts={name: chart.png() for name, chart in drawn.items()}, risk_ids=list(risk_ids), summary=summary or {},
        scope=scope,
        email_html=document(mail.body) if mail.shortened else None, full_url=full_url, files=dict(files or {}),
        site_url=inp.site_url,
    )


def risk_line(inp: ReportInput, risk: Risk, *, links: bool) -> dict[str, Any]:
    """A risk as templates show it: badge, title, mitigation, owner (keys linked when `links`)."""
    text = inp.linkify if links else md_text
    return {
        "badge": SEVERITY_BADGE.get(str(risk.severity), str(risk.severity)),
        "title": text(risk.title),
        "mitigation": text(risk.mitigation),
        "owner": risk.owner,
        "rule": risk.rule,
        "items": [inp.key_link(ref) for ref in risk.evidence.items] if links else [],
    }


_SHARE_WORDS = {ShareSource.CONFIGURED: "configured allocation", ShareSource.RECENT: "recent share",
                ShareSource.DEFAULT: "default share: no recent completions of its own"}


def queued_behind(fc: Forecast) -> str:
    """The releases a queued forecast waits behind: `queued behind Gadget 5.6 (15 items)`."""
    return "queued behind " + ", ".join(f"{a.name} ({a.remaining} item{'s' if a.remaining != 1 else ''})"
                                        for a in fc.ahead)


def forecast_basis(fc: Forecast) -> str:
    """A forecast's inputs in one line: method, team, window, sample, share, items left, seed, confidence.

    e.g. `team WID × 42% recent share; 12 of 12 weeks sampled (123 items); 21 left; seed 3090`; queued
    behind other releases (see `analysis.queue`): `queued behind Gadget 5.6 (15 items): team GAD × 56%
    share of the release stream; ...; 38 left (23 its own, 15 ahead); ...`.
    """
    left = f"{fc.remaining_items} left"
    if fc.share_source == ShareSource.QUEUED:
        own = f" ({format_share(fc.own_share)} its own)" if fc.own_share > 0 else ""
        how = f"{queued_behind(fc)}: team {fc.team} × {format_share(fc.share)} share of the release stream{own}"
        left = f"{fc.simulated_items} left ({fc.remaining_items} its own, {fc.ahead_items} ahead)"
    elif fc.method == ForecastMethod.TEAM_SHARE:
        how = f"team {fc.team} × {format_share(fc.share)} {_SHARE_WORDS.get(fc.share_source, 'share')}"
    else:
        how = "own history × 100% (no team identified)"
    sample = f"{fc.history_weeks} of {fc.window_weeks} weeks sampled ({fc.sample_items} items)"
    warn = f"⚠ low confidence (under {MIN_CONFIDENT_WEEKS} weeks sampled); " if fc.low_confidence and not fc.done else ""
    return f"{warn}{how}; {sample}; {left}; seed {fc.seed}"
