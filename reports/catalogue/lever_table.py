"""A late scope's options as a table: option, what it means in items or %, its 85% date, vs the target.

One row per lever of the forecast (see `analysis.levers`): the same dated options the decision
and risk lines name, laid out so a reader can compare them. The status reports (executive
decisions, engineering risk themes) and launch readiness show it; each option appears once per
report, in the table, and the text around it points to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from syncd.reports.analysis.forecast import format_share
from syncd.reports.analysis.types import Forecast, ItemRef, Lever, LeverKind
from syncd.reports.render.escape import Md, md_concat, md_text

OPTION_NAMES = {LeverKind.CUT: "Cut scope", LeverKind.ALLOCATION: "Raise allocation",
                LeverKind.ADD_PEOPLE: "Add people", LeverKind.MOVE_DATE: "Move the date"}


CUT_KEYS_SHOWN = 10  # items named in a cut option's cell; the rest are counted


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def vs_target(lever: Lever, target: date) -> str:
    """`on the target`, `7 d early`, `30 d late`; a new date says how far it moves the target."""
    if lever.p85 is None:
        return "not forecast"
    days = (lever.p85 - target).days
    if lever.kind == LeverKind.MOVE_DATE:
        return f"+{days} d: the new target"
    if days == 0:
        return "on the target"
    return f"{-days} d early" if days < 0 else f"{days} d late: misses it"


def lever_means(lever: Lever, fc: Forecast, target: date,
                keys: Callable[[Sequence[ItemRef]], Md] | None = None) -> Md:
    """What the option asks for, in items or percent of the team's completions (`keys`: name the cut items)."""
    left = fc.remaining_items
    team = fc.team or "the team"
    if lever.kind == LeverKind.CUT and lever.makes_target:
        n = len(lever.cut_items)
        text = md_text(f"drop {n} of {left} items ({_pct(n, left)}), the lowest priority and latest added first")
        if keys is None or not lever.cut_items:
            return text
        shown = lever.cut_items[:CUT_KEYS_SHOWN]  # the most cuttable first; a long list would swamp the table
        more = md_text(f" and {n - len(shown)} more") if n > len(shown) else md_text("")
        return md_concat([text, ": ", keys(shown), more])
    if lever.kind == LeverKind.CUT:
        return md_text(f"even {left - 1} of {left} items dropped ({_pct(left - 1, left)}) is not enough")
    if lever.kind == LeverKind.ALLOCATION and lever.share is not None:
        points = round(100 * lever.share) - round(100 * fc.share)
        verb = "give" if lever.makes_target else "even all of it:"
        return md_text(f"{verb} {format_share(lever.share)} of {team}'s completions to it, from "
                       f"{format_share(fc.share)} (+{points} points)")
    if lever.kind == LeverKind.MOVE_DATE:
        passed = " (passed)" if "has passed" in lever.description else ""
        return md_text(f"move the target {target.isoformat()}{passed} to the 85% date")
    return md_text(lever.description)


def lever_rows(options: Sequence[Lever], fc: Forecast, target: date,
               keys: Callable[[Sequence[ItemRef]], Md] | None = None) -> list[dict[str, Md | str]]:
    """The table's rows, in the forecast's order (earliest 85% date first, those that make it first)."""
    return [{"option": OPTION_NAMES.get(o.kind, str(o.kind)), "means": lever_means(o, fc, target, keys),
             "p85": o.p85.isoformat() if o.p85 else "—", "vs": vs_target(o, target)} for o in options]
