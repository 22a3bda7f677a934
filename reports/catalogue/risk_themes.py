"""Risk themes as the status reports show them: which themes a report covers, and one theme as a line.

Every count a report states is taken from the same list the engineering report prints, so the
executive's "N more themes" and the business report's theme count equal what engineers can read.

The executive summary splits a theme in two, so nothing is said twice: its top-risk line is the
evidence (why it is raised, the work that answers it) and points to the decision; the decision line
holds the dated options and the owner. An executive acts on the decisions, so the options live
there, once, and the risk line explains why the decision is needed.
"""

from __future__ import annotations

from typing import Any

from syncd.reports.analysis.themes import mitigation_text, option_text
from syncd.reports.analysis.types import LeverKind, Risk, Theme, ThemeKind, ThemeTier
from syncd.reports.catalogue.base import SEVERITY_BADGE, ReportInput, risk_line
from syncd.reports.catalogue.lever_table import lever_rows

KIND_LABEL = {ThemeKind.GOAL: "goal", ThemeKind.RELEASE: "release", ThemeKind.SPRINT: "sprint", ThemeKind.TEAM: "team"}
SUMMARY_ACTIONS = 2  # actions a summary (executive, business) names; the engineering report names all
FOLD_AFTER = 5  # evidence lists longer than this fold in HTML (<details>)


def themes_in_scope(inp: ReportInput, *, goals_only: bool = False, accepted: bool = False) -> list[Theme]:
    """The ranked themes a report covers: all, those of the goal named by `scope`, or (business) goal themes.

    `accepted`: the acknowledged themes instead of the raised ones.
    """
    themes = inp.analysis.accepted if accepted else inp.analysis.themes
    if inp.scope:
        themes = [t for t in themes if t.goal_id == inp.scope]
    if goals_only:
        themes = [t for t in themes if t.kind == ThemeKind.GOAL]
    return themes


def hygiene_in_scope(inp: ReportInput) -> list[Risk]:
    """Hygiene signals a report covers (with a goal scope: those on the goal's items)."""
    signals = inp.analysis.hygiene.signals
    return [r for r in signals if inp.scope in r.goal_ids] if inp.scope else list(signals)


def signals_in_scope(inp: ReportInput) -> list[Risk]:
    """Every signal a status report accounts for: its themes' evidence and its hygiene."""
    return ([r for t in themes_in_scope(inp) for r in t.signals]
            + [r for t in themes_in_scope(inp, accepted=True) for r in t.signals] + hygiene_in_scope(inp))


def _left(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''} left"


def theme_why(theme: Theme) -> str:
    """Why the theme is raised, in one clause: the missed or late date and the work left."""
    fc = theme.forecast
    p85 = fc.p85.isoformat() if fc is not None and fc.p85 is not None else None
    if theme.tier == ThemeTier.MISSED and theme.missed_date is not None:
        text = f"missed its date {theme.missed_date.isoformat()} {theme.days_past_target} days ago"
        text += f"; {_left(theme.remaining_items)}" + (f", 85% forecast {p85}" if p85 else "")
        return text
    if theme.tier == ThemeTier.FORECAST_LATE and theme.target is not None:
        return (f"85% forecast {p85} is {theme.days_late} days after its date {theme.target.isoformat()}; "
                f"{_left(theme.remaining_items)}")
    reds = sum(1 for r in theme.signals if r.severity == "red")
    what = f"{len(theme.signals)} signal{'s' if len(theme.signals) != 1 else ''}"
    return what + (f", {reds} red" if reds else "") + (" incl. blocked work" if theme.tier == ThemeTier.BLOCKED else "")


def theme_line(inp: ReportInput, theme: Theme, *, links: bool, decision: bool = True,
               evidence_rows: int | None = None) -> dict[str, Any]:
    """A theme as templates show it: badge, name, why, mitigation, owner and (with `links`) its evidence rows.

    `evidence_rows`: list only the theme's first signals (red first); `count` stays the whole number.
    `decision=False`: the mitigation leaves out the decision and its owner (the executive's decisions
    section states them, see `decision_line`); `decided` then says whether it has one.
    """
    mitigation: str
    options: list[dict[str, Any]] = []
    fc = theme.forecast
    if links and fc is not None and theme.target is not None and theme.options and theme.decide_by is not None:
        # every option of the forecast (also those that do not make it), once, in the table
        options = lever_rows(fc.options or theme.options, fc, theme.target, keys=inp.key_links)
        mitigation = inp.linkify(mitigation_text(f"decide by {theme.decide_by.isoformat()} between the options "
                                                 "below", theme.actions, theme.owner))
    elif links:
        mitigation = inp.linkify(theme.mitigation)
    elif decision or theme.summary_decision is None:
        mitigation = mitigation_text(theme.summary_decision, theme.summary_actions, theme.owner, limit=SUMMARY_ACTIONS)
    else:
        mitigation = mitigation_text(None, theme.summary_actions, None, limit=SUMMARY_ACTIONS)
    return {
        "id": theme.id,
        "badge": SEVERITY_BADGE.get(str(theme.severity), str(theme.severity)),
        "kind": KIND_LABEL[theme.kind],
        "name": theme.name,
        "why": theme_why(theme),
        "mitigation": mitigation,
        "options": options,
        "decided": not decision and theme.summary_decision is not None,
        "owner": theme.owner,
        "count": len(theme.signals),
        "fold": len(theme.signals) > FOLD_AFTER,
        "evidence": [risk_line(inp, r, links=True) for r in theme.signals[:evidence_rows]] if links else [],
        "ack": ack_text(theme),
        "ack_suffix": f" {ack_text(theme)}." if theme.ack is not None else "",
    }


_DECIDE_WHAT = {LeverKind.CUT: "scope", LeverKind.ALLOCATION: "allocation", LeverKind.ADD_PEOPLE: "staffing",
                LeverKind.MOVE_DATE: "date"}


def decision_line(theme: Theme) -> dict[str, Any] | None:
    """A theme's decision as the template words it, `Decide the WHAT of the KIND NAME by DATE: OPTIONS. OWNER`; None without options.

    What is decided is named by the kinds of option (cut: scope, allocation, add people: staffing,
    move the date: date); the options are the theme's, each with its 85% date, without item keys.
    `rows`: the same options as the table's rows (see `lever_table`), empty without a forecast and target.
    """
    if not theme.options or theme.decide_by is None:
        return None
    kinds = [w for k, w in _DECIDE_WHAT.items() if any(o.kind == k for o in theme.options)]
    what = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]
    owner = (f"Owner: {theme.owner}." if theme.owner else
             "No owner: no goal covers this release." if theme.kind == ThemeKind.RELEASE else "No owner set.")
    return {"what": what, "kind": KIND_LABEL[theme.kind], "name": theme.name, "by": theme.decide_by.isoformat(),
            "options": " or ".join(option_text(o, named=False) for o in theme.options), "owner": owner,
            "rows": lever_rows(theme.options, theme.forecast, theme.target)
            if theme.forecast is not None and theme.target is not None else []}


def ack_text(theme: Theme) -> str | None:
    """`Accepted by Dana until 2026-12-31: waiting for the vendor.` or why it is raised again."""
    a = theme.ack
    if a is None:
        return None
    who = f"by {a.by} on {a.at.date().isoformat()} until {a.until.isoformat()}: {a.note}"
    if theme.ack_state == "accepted":
        return f"Accepted {who}"
    return f"Raised again ({theme.ack_reason}); it was accepted {who}"


def themes_footnote(inp: ReportInput) -> str:
    """The footer figure: how many themes the signals of this report's scope came down to."""
    themes, hygiene = themes_in_scope(inp), hygiene_in_scope(inp)
    accepted = themes_in_scope(inp, accepted=True)
    signals = len(signals_in_scope(inp))
    return (f"Risks: {len(themes)} theme{'s' if len(themes) != 1 else ''} from {signals} "
            f"signal{'s' if signals != 1 else ''} ({len(hygiene)} hygiene"
            + (f", {len(accepted)} accepted theme{'s' if len(accepted) != 1 else ''}" if accepted else "") + ").")
