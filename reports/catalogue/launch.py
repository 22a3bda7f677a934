"""`launch-readiness`: the go/no-go checklist of a release, its verdict and the reason for it."""

from __future__ import annotations

from typing import Any

from syncd.errors import ReportError
from syncd.reports.analysis.types import ReleaseAnalysis
from syncd.reports.catalogue.base import (
    RAG_BADGE,
    Built,
    ReportInput,
    delivered_text,
    find_scoped,
    funnel_text,
    percent_done,
    risk_line,
)
from syncd.reports.catalogue.launch_config import LaunchRoles
from syncd.reports.catalogue.lever_table import lever_rows
from syncd.reports.catalogue.readiness import AT_RISK, GO, launch_checklist
from syncd.reports.catalogue.signoffs import SignOffs
from syncd.reports.catalogue.status import forecast_text
from syncd.reports.render.escape import md_concat, md_text
from syncd.reports.render.templating import format_date, render_markdown

VERDICT_BADGE = {GO: "🟢 GO", AT_RISK: "🟠 AT RISK"}


def find_release(inp: ReportInput) -> ReleaseAnalysis:
    """The release named by `scope` (id or name), else the next unreleased one by due date."""
    releases = inp.analysis.releases
    if inp.scope:
        return find_scoped(inp.scope, releases, lambda r: (r.release.id, r.release.name),
                           "release among the planned and recent releases")
    upcoming = [r for r in releases if not r.release.released]
    if not upcoming:
        raise ReportError("no unreleased fix version or milestone to check (name one with --scope)")
    return upcoming[0]


def sign_off_rows(inp: ReportInput, sign_offs: SignOffs) -> list[dict[str, Any]]:
    """The Sign-offs table: role, person, given, by which record, the date and how it was found."""
    rows = []
    for r in sign_offs.rows:
        where = md_concat([r.source or "not found", *([" on ", inp.key_link(r.item)] if r.item else [])])
        rows.append({"role": r.role, "person": r.person, "given": "✅ yes" if r.given else "❌ no", "source": where,
                     "date": format_date(r.at, inp.tz), "dated_by": r.dated_by or "—"})
    return rows


# the go/no-go roles in the order a launch runs them, with their config keys
ROLE_ROWS = (("Decides go/no-go", "decides"), ("Deploys", "deploys"), ("Monitors after the release", "monitors"))


def role_rows(roles: LaunchRoles) -> list[dict[str, Any]]:
    """Who decides, deploys and monitors, from `[releases.roles]`; "not configured" with the key to set."""
    out = []
    for label, key in ROLE_ROWS:
        name = getattr(roles, key)
        out.append({"role": label, "who": name or f"not configured (set releases.roles.{key})",
                    "configured": name is not None})
    return out


def launch_readiness(inp: ReportInput) -> Built:
    """Markdown of the checklist: verdict, each check with its items linked, progress and risks."""
    rel = find_release(inp)
    ready = launch_checklist(inp, rel)
    checks = [{
        "name": c.name, "result": "✅ pass" if c.ok else ("❌ fail" if c.gate else "🟠 caution"),
        "detail": inp.linkify(c.detail), "gate": "gate" if c.gate else "caution",
        "items": [{"key": inp.key_link(i), "title": inp.linkify(i.title), "status": i.status,
                   "owner": i.assignee or "—"} for i in c.items] if not c.ok else [],
    } for c in ready.checks]
    options = (lever_rows(rel.forecast.options, rel.forecast, rel.release.due, keys=inp.key_links)
               if rel.release.due is not None else [])
    risks = [risk_line(inp, r, links=True) for r in rel.risks]
    for line, r in zip(risks, rel.risks, strict=True):
        if options and r.rule == "forecast-late":  # its options are the table's: said once
            line["mitigation"] = md_text("The options, each with its 85% date, are in the table above.")
    md = render_markdown(
        "launch-readiness.md.j2", tz=inp.tz, today=inp.analysis.today, rel=rel, ready=ready, checks=checks,
        reason=inp.linkify(ready.reason),
        verdict=VERDICT_BADGE.get(ready.verdict, "🔴 NO-GO"), pct=percent_done(rel.progress.counts),
        delivered=delivered_text(rel.progress.funnel), funnel=funnel_text(rel.progress.funnel),
        rag=RAG_BADGE[rel.status.rag], forecast=forecast_text(rel.forecast, rel.release.due),
        options=options,
        risks=risks, sign_offs=ready.sign_offs,
        sign_off_rows=sign_off_rows(inp, ready.sign_offs), roles=role_rows(inp.launch.roles),
        checklist=inp.key_link(ready.sign_offs.checklist) if ready.sign_offs.checklist else None,
        signoff_labels=", ".join(inp.launch.conventions.signoff_labels) or "none")
    return Built(f"Launch readiness: {rel.release.name}", md, {}, [r.id for r in rel.risks], rel.release.id, wide=True)
