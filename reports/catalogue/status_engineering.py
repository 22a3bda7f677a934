"""`status --audience engineering`: the work behind the goals, every item linked.

Per current sprint and per goal: the items with their pull requests (review and check state),
blockers and dependencies, stale and aging work, carry-over, flow metrics, and the risk themes with
the signals and items behind them. Long lists are capped (`MAX_ROWS`) with the number left out.

Every signal stays reachable: a theme (and the hygiene list) shows its first `MAX_ROWS` signals,
red first, and when any list is capped the report comes with `SLUG-risks.csv`, one row per signal
of the report (theme, severity, rule, title, item keys, link), written beside the report and
attached to its email; with a report site (reports.base_url) published beside the report and
linked instead. A big store raises thousands of signals (8,059 on the 100,000-item bench
store): listed in full they made a 1.4 MB Markdown and 8 MB HTML page nobody reads top to bottom.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from syncd.model import SprintState, StatusCategory
from syncd.reports.analysis.risks_work import idle_days
from syncd.reports.analysis.scope import item_ref
from syncd.reports.analysis.types import ItemRef, Risk, SprintReport, Theme
from syncd.reports.catalogue.base import (
    Built,
    ReportInput,
    delivered_share,
    funnel_text,
    percent_done,
    risk_line,
)
from syncd.reports.catalogue.charts_for import cycle_scatter, flow_window
from syncd.reports.catalogue.derive import PullLine, external_ref, open_blockers, open_external_blockers, pulls_for
from syncd.reports.catalogue.risk_themes import (
    FOLD_AFTER,
    hygiene_in_scope,
    theme_line,
    themes_footnote,
    themes_in_scope,
)
from syncd.reports.catalogue.status import goal_badge, goals_in_scope
from syncd.reports.render.drawing import Drawn
from syncd.reports.render.escape import Md, csv_cell, md_concat, md_link, md_text
from syncd.reports.render.shorten import Evidence
from syncd.reports.render.templating import format_number, render_markdown
from syncd.reports.report import published_url, report_slug

MAX_ROWS = 25
MAX_SPRINTS = 4
# a theme's evidence table and the hygiene list (the template's column headings): a shortened email
# keeps their first rows longest, each row's first two item keys (at the 100,000-item bench store one
# row per theme fits the budget with two keys, 98 KB, not with three, 101 KB)
EVIDENCE = Evidence(headings=frozenset({("Severity", "Signal", "Rule", "Items"), ("Team", "Signal", "Rule", "Items")}),
                    noun="signals", link_columns=frozenset({"Items"}), links_kept=2)


def _pull_cell(inp: ReportInput, pulls: list[PullLine]) -> Md:
    if not pulls:
        return md_text("—")
    parts: list[Any] = []
    for p in pulls[:3]:
        wait = f", {format_number(p.waiting_hours, 0)} h unreviewed" if p.waiting_hours is not None else ""
        parts += [inp.key_link(p.ref), f" {p.state}, {p.review}, checks {p.checks}{wait}", "; "]
    parts[-1] = f"; +{len(pulls) - 3} more" if len(pulls) > 3 else ""
    return md_concat(parts)


def item_row(inp: ReportInput, ref: ItemRef, points: float | None = None) -> dict[str, Any]:
    """One item as an engineering table row: linked key, linked title, status, owner, points, PRs, blockers."""
    blockers: list[Md] = [inp.key_link(item_ref(inp.snapshot, b)) for b in open_blockers(inp, ref.id)]
    blockers += [external_ref(inp, lk) for lk in open_external_blockers(inp, ref.id)]
    return {
        "key": inp.key_link(ref), "title": inp.linkify(ref.title), "status": ref.status, "owner": ref.assignee or "—",
        "points": format_number(points if points is not None else ref.points),
        "pulls": _pull_cell(inp, pulls_for(inp, ref.id)),
        "blocked_by": Md(", ".join(blockers)) if blockers else md_text("—"),
    }


def _sprint_view(inp: ReportInput, rep: SprintReport) -> dict[str, Any]:
    entries = [*rep.committed, *rep.added]
    seen: set[str] = set()
    removed = {r.item.id for r in rep.removed}
    listed = []
    for e in sorted(entries, key=lambda e: (e.done, e.item.key)):
        if e.item.id in seen or e.item.id in removed:
            continue
        seen.add(e.item.id)
        listed.append(e)
    rows = [item_row(inp, e.item, e.points_at_end) for e in listed[:MAX_ROWS]]  # rows shown only: each is costly
    return {"r": rep, "rows": rows, "more": max(0, len(listed) - MAX_ROWS)}


def _goal_view(inp: ReportInput, g: Any) -> dict[str, Any]:
    remaining = g.progress.remaining
    f = g.progress.funnel
    return {"g": g, "badge": goal_badge(g), "pct": delivered_share(f), "done_pct": percent_done(g.progress.counts),
            "merged": f"{f.merged} of {f.done_with_code} with code merged", "funnel": funnel_text(f),
            "rows": [item_row(inp, ref) for ref in remaining[:MAX_ROWS]], "more": max(0, len(remaining) - MAX_ROWS)}


def _blocked(inp: ReportInput) -> tuple[list[dict[str, Any]], int]:
    """The first `MAX_ROWS` open items waiting on open work, by key, and how many wait in all."""
    snap = inp.snapshot
    rows: list[dict[str, Any]] = []
    total = 0
    waiting = set(snap.blockers_of) | set(snap.external_blockers_of)
    for item_id in sorted(waiting, key=lambda i: snap.item_by_id[i].key if i in snap.item_by_id else i):
        item = snap.item_by_id.get(item_id)
        if item is None or item.status_category == StatusCategory.DONE:
            continue
        blockers, external = open_blockers(inp, item_id), open_external_blockers(inp, item_id)
        if not blockers and not external:
            continue
        total += 1
        if len(rows) == MAX_ROWS:  # counted, not rendered
            continue
        cells: list[Md] = [md_concat([inp.key_link(item_ref(snap, b)), f" ({b.status})"]) for b in blockers]
        cells += [external_ref(inp, lk) for lk in external]
        ref = item_ref(snap, item)
        rows.append({"key": inp.key_link(ref), "title": inp.linkify(item.title), "owner": ref.assignee or "—",
                     "blockers": md_concat([x for n, c in enumerate(cells) for x in (c, "; " if n < len(cells) - 1 else "")])})
    return rows, total


def _aging(inp: ReportInput) -> tuple[list[dict[str, Any]], int]:
    """The first `MAX_ROWS` of the in-progress work the stale-work or aging-wip rule flags, by the same
    limits (`Analysis.work_limits`), oldest first, and how many it flags in all."""
    limits = inp.analysis.work_limits
    found = []
    for team, metrics in inp.analysis.flow.by_team.items():
        for w in metrics.wip:
            item = inp.snapshot.item_by_id.get(w.item.id)
            if item is None:
                continue
            idle = idle_days(item, inp.now)
            aging = team in limits.aging_days and w.age_days > limits.aging_days[team]
            stale = item.status_category == StatusCategory.IN_PROGRESS and idle > limits.stale_days
            if aging or stale:
                found.append((w, idle))
    shown = sorted(found, key=lambda f: (-f[0].age_days, f[0].item.key))[:MAX_ROWS]
    return [{"key": inp.key_link(w.item), "title": inp.linkify(w.item.title), "owner": w.item.assignee or "—",
             "age": format_number(w.age_days, 0), "idle": format_number(idle, 0), "status": w.item.status}
            for w, idle in shown], len(found)


def _aging_rule(inp: ReportInput) -> str:
    """The limits the aging table applies, with their inputs: `longer than its team's p85 cycle time (GAD 8.1 days; ...)`."""
    limits = inp.analysis.work_limits
    times = "" if limits.aging_multiple == 1 else f"{format_number(limits.aging_multiple)} × "

    def team(p: str) -> str:
        cycle, limit = format_number(limits.cycle_days[p]), format_number(limits.aging_days[p])
        text = f"{p} {cycle} days" if not times else f"{p} {times}{cycle} = {limit} days"
        return text + (", all teams' figure: it finished nothing in the window" if p in limits.overall_for else "")

    with_wip = sorted(p for p, m in inp.analysis.flow.by_team.items() if m.wip and p in limits.aging_days)
    return (f"In progress longer than {times}its team's p{limits.aging_percentile} cycle time"
            + (f" ({'; '.join(team(p) for p in with_wip)})" if with_wip else "")
            + f", or without an update for more than {format_number(limits.stale_days)} days: "
            "the aging-wip and stale-work rules' thresholds.")


def _carry_over(inp: ReportInput) -> tuple[SprintReport | None, list[dict[str, Any]]]:
    """The last closed sprint and the rows of its first `MAX_ROWS` items not completed."""
    closed = next((r for r in inp.analysis.sprints if r.sprint.state == SprintState.CLOSED), None)
    if closed is None:
        return None, []
    return closed, [item_row(inp, e.item, e.points_at_end) for e in closed.not_completed[:MAX_ROWS]]


RISKS_CSV_COLUMNS = ("section", "theme_id", "theme", "team", "severity", "rule", "signal", "items", "owner", "link",
                     "risk_id")


def risks_csv(inp: ReportInput, themes: list[Theme], accepted: list[Theme], hygiene: list[Risk]) -> bytes:
    """Every signal of the report as CSV (UTF-8, RFC 4180): one row each, in the report's order.

    `section` is `theme`, `accepted` or `hygiene`; `items` the keys of the items concerned, space-separated.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RISKS_CSV_COLUMNS)
    team_of = inp.analysis.hygiene.team_of
    rows = [(section, t, r) for section, group in (("theme", themes), ("accepted", accepted))
            for t in group for r in t.signals] + [("hygiene", None, r) for r in hygiene]
    for section, t, r in rows:
        writer.writerow([csv_cell(v) for v in (
            section, t.id if t else "", t.name if t else "", team_of.get(r.id, "") if t is None else "",
            str(r.severity), r.rule, r.title, " ".join(ref.key for ref in r.evidence.items), r.owner or "",
            r.url or "", r.id)])
    return out.getvalue().encode()


def engineering(inp: ReportInput) -> Built:
    """Markdown with sprints, goals' remaining work, blockers, aging work, carry-over, flow and risks."""
    a = inp.analysis
    current = [r for r in a.sprints if r.sprint.state == SprintState.ACTIVE][:MAX_SPRINTS]
    themes = themes_in_scope(inp)
    hygiene = hygiene_in_scope(inp)
    accepted = themes_in_scope(inp, accepted=True)
    risks = [r for t in [*themes, *accepted] for r in t.signals] + hygiene
    charts: dict[str, Drawn] = {}
    start, end = flow_window(inp)
    scatter = cycle_scatter(inp, start, end)
    if scatter is not None:
        charts[scatter[0]] = scatter[1]
    team_of = a.hygiene.team_of
    by_team: dict[str, dict[str, int]] = {}
    for h in hygiene:
        counts = by_team.setdefault(team_of[h.id], {})
        counts[h.rule] = counts.get(h.rule, 0) + 1
    closed, carried = _carry_over(inp)
    (blocked, blocked_total), (aging, aging_total) = _blocked(inp), _aging(inp)
    capped = len(hygiene) > MAX_ROWS or any(len(t.signals) > MAX_ROWS for t in [*themes, *accepted])
    slug = report_slug("status", "engineering", inp.scope)
    files = {f"{slug}-risks.csv": risks_csv(inp, themes, accepted, hygiene)} if capped else {}
    risks_file = next(iter(files), None)
    # with a report site the CSV is published beside the report and linked, not attached to the email
    risks_url = published_url(inp.site_url, risks_file) if risks_file else None
    md = render_markdown(
        "status-engineering.md.j2", tz=inp.tz, today=a.today, flow=a.flow,
        sprints=[_sprint_view(inp, r) for r in current], goals=[_goal_view(inp, g) for g in goals_in_scope(inp)],
        blocked=blocked, blocked_more=blocked_total - len(blocked),
        aging=aging, aging_more=aging_total - len(aging), aging_rule=_aging_rule(inp),
        closed=closed, carried=carried, carried_more=len(closed.not_completed) - len(carried) if closed else 0,
        themes=[theme_line(inp, t, links=True, evidence_rows=MAX_ROWS) for t in themes], signals_total=len(risks),
        themed_total=len(risks) - len(hygiene), fold_after=FOLD_AFTER, risks_file=risks_file,
        risks_link=md_link(risks_file, risks_url) if risks_url else None,
        accepted=[theme_line(inp, t, links=True, evidence_rows=MAX_ROWS) for t in accepted],
        hygiene=[{"team": team_of[h.id], "line": risk_line(inp, h, links=True)} for h in hygiene[:MAX_ROWS]],
        hygiene_total=len(hygiene),
        hygiene_by_team=[{"team": t, "total": sum(c.values()), "rules": ", ".join(f"{r} {n}" for r, n in sorted(c.items()))}
                         for t, c in sorted(by_team.items())],
        scatter=scatter[0] if scatter else None, max_rows=MAX_ROWS)
    evidence = replace(EVIDENCE, file=risks_file, published=risks_url is not None)
    return Built("Status — engineering", md, charts, [r.id for r in risks], inp.scope, wide=True, footnote=themes_footnote(inp),
                 files=files, evidence=evidence)
