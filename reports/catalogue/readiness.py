"""Launch readiness of a release: a go/no-go checklist computed from the data.

Gates (a failure means NO-GO) in `GATE_ORDER`, most serious first, and the NO-GO reason lists the
failed ones in that order: no scope open past the due date (the release date has already been
missed with planned work open: "feature complete to scope, or an explicit cut-list" is the first
hard gate of a go/no-go memo), no open blockers, no open critical bugs (the memo's "no P0 / P1 open
bugs"), no failing checks on the release's merged pull requests (the CI evidence), sign-off items
done. Cautions (a failure means AT RISK): the documentation items done, a rollback-plan item present
and done, remaining work forecast to finish by the due date, and a sign-off item planned at all.
Sources: the go/no-go decision memo template (exchange.brrain.io/listing/tmpl-go-no-go-decision)
and Resillion's release-readiness cheat sheet ("Scope is locked" before testing, defects, evidence).

Documentation, rollback-plan and sign-off items are recognised by the conventions of
`[releases.conventions]` (reports/catalogue/launch_config.py): labels, components or title words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from syncd.model import CheckConclusion, ItemKind, Link, PullState, StatusCategory, WorkItem
from syncd.reports.analysis.scope import item_ref, key_order
from syncd.reports.analysis.types import ItemRef, ReleaseAnalysis, ReleaseRef
from syncd.reports.catalogue.base import ReportInput, forecast_basis
from syncd.reports.catalogue.signoffs import SignOffs, release_sign_offs

CRITICAL_PRIORITIES = frozenset({"highest", "blocker", "critical", "p0", "p1", "urgent"})

GO, NO_GO, AT_RISK = "GO", "NO-GO", "AT RISK"

PAST_DUE = "No scope open past the due date"
BLOCKERS = "No open blockers"
CRITICAL_BUGS = "No open critical bugs"
CHECKS_GREEN = "Checks green on merged pull requests"
SIGN_OFFS = "Sign-offs done"
DOCUMENTATION = "Documentation done"
ROLLBACK = "Rollback plan ready"
SCHEDULE = "Remaining work fits the due date"
# the gates, most serious first: the checklist shows them in this order and the NO-GO reason leads with the first failed
GATE_ORDER = (PAST_DUE, BLOCKERS, CRITICAL_BUGS, CHECKS_GREEN, SIGN_OFFS)
CAUTION_ORDER = (SIGN_OFFS, DOCUMENTATION, ROLLBACK, SCHEDULE)  # a sign-off check is a caution when nothing is planned


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    name: str
    ok: bool
    gate: bool  # a failed gate means NO-GO; a failed caution means AT RISK
    detail: str
    items: list[ItemRef] = field(default_factory=list)


@dataclass(frozen=True)
class Readiness:
    """The checklist of one release and its verdict."""

    release: ReleaseAnalysis
    verdict: str  # GO / NO-GO / AT RISK
    reason: str
    checks: list[Check]
    sign_offs: SignOffs = field(default_factory=lambda: SignOffs(configured=False))


def _labels(item: WorkItem) -> set[str]:
    return {label.lower() for label in item.labels} | {c.lower() for c in item.components}


def _done(item: WorkItem) -> bool:
    return item.status_category == StatusCategory.DONE


def release_work(inp: ReportInput, release: ReleaseRef) -> list[WorkItem]:
    """Every item planned for the release, in any of its parts (any kind but epics and pull requests), by key."""
    ids = release.part_ids
    return sorted((i for i in inp.snapshot.items if not ids.isdisjoint(i.release_ids)
                   and i.kind not in (ItemKind.EPIC, ItemKind.PULL_REQUEST)), key=lambda i: i.key)


def _named(inp: ReportInput, items: list[WorkItem]) -> list[ItemRef]:
    return [item_ref(inp.snapshot, i) for i in items]


def _keys(items: list[WorkItem], limit: int = 5) -> str:
    keys = [i.key for i in items[:limit]]
    return ", ".join(keys) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _marked(items: list[WorkItem], labels: list[str], title: str | None) -> list[WorkItem]:
    """The items carrying one of `labels` (as a label or component) or whose title matches `title`."""
    wanted = set(labels)
    words = re.compile(title, re.IGNORECASE) if title is not None else None
    return [i for i in items if wanted & _labels(i) or (words is not None and words.search(i.title))]


def _severity(check: Check) -> tuple[int, int]:
    """Where a check stands in the checklist: gates in GATE_ORDER, then cautions in CAUTION_ORDER."""
    order = GATE_ORDER if check.gate else CAUTION_ORDER
    return (0 if check.gate else 1, order.index(check.name))


def _open_check(inp: ReportInput, name: str, items: list[WorkItem], what: str, *, gate: bool) -> Check:
    if not items:
        return Check(name, True, gate, f"no open {what}s")
    noun = what if len(items) == 1 else f"{what}s"
    return Check(name, False, gate, f"{len(items)} open {noun}: {_keys(items)}", _named(inp, items))


def _blockers_check(inp: ReportInput, items: list[WorkItem], external: list[Link]) -> Check:
    """No open blockers: stored items, and far ends in projects that are not synced not shown done."""
    if not external:
        return _open_check(inp, BLOCKERS, items, "blocker", gate=True)
    n = len(items) + len(external)
    outside = ", ".join(f"{lk.to_key} ({lk.to_status or 'status not known'}, not synced)" for lk in external)
    keys = f"{_keys(items)}, {outside}" if items else outside
    return Check(BLOCKERS, False, True, f"{n} open blocker{'s' if n != 1 else ''}: {keys}", _named(inp, items))


def _marked_check(inp: ReportInput, name: str, marked: list[WorkItem], what: str, *, gate: bool) -> Check:
    if not marked:  # nothing planned is a caution, not a gate: the team may track it elsewhere
        return Check(name, False, False, f"no {what} item in the release")
    open_ = [i for i in marked if not _done(i)]
    if open_:
        return Check(name, False, gate, f"{len(open_)} of {len(marked)} {what} item{'s' if len(marked) > 1 else ''} still open: {_keys(open_)}",
                     _named(inp, open_))
    return Check(name, True, gate, f"{len(marked)} {what} item{'s' if len(marked) > 1 else ''} done", _named(inp, marked))


def _sign_off_check(inp: ReportInput, sign_offs: SignOffs, work: list[WorkItem]) -> Check:
    """The sign-off gate: the configured roles all signed off, else (none configured) the sign-off items done."""
    if not sign_offs.configured:
        conv = inp.launch.conventions
        return _marked_check(inp, SIGN_OFFS, _marked(work, conv.signoff_labels, conv.signoff_title), "sign-off",
                             gate=True)
    total, missing = len(sign_offs.rows), sign_offs.missing  # the Sign-offs table shows who, where and when
    if not missing:
        return Check(SIGN_OFFS, True, True, f"{total} of {total} sign-offs given")
    who = ", ".join(f"{r.role} ({r.person})" for r in missing)
    return Check(SIGN_OFFS, False, True, f"{len(missing)} of {total} sign-offs missing: {who}")


def launch_checklist(inp: ReportInput, rel: ReleaseAnalysis) -> Readiness:
    """The release's go/no-go checklist and verdict."""
    snap = inp.snapshot
    work = release_work(inp, rel.release)
    work_ids = {i.id for i in work}
    blockers: dict[str, WorkItem] = {}
    external: dict[str, Link] = {}
    for item in work:
        if _done(item):
            continue
        if item.flagged or (item.priority or "").lower() == "blocker":
            blockers[item.id] = item
        for bid in snap.blockers_of.get(item.id, ()):
            b = snap.item_by_id.get(bid)
            if b is not None and not _done(b):
                blockers[b.id] = b
        for lk in snap.external_blockers_of.get(item.id, ()):  # in a project that is not synced
            if lk.to_category != StatusCategory.DONE:
                external.setdefault(lk.to_key, lk)
    critical = [i for i in work if i.kind == ItemKind.BUG and not _done(i)
                and (i.priority or "").lower() in CRITICAL_PRIORITIES]
    failing = []
    for item_id in sorted(work_ids):
        for pid in snap.pulls_implementing.get(item_id, ()):
            pull = snap.pull_by_item.get(pid)
            if pull is not None and pull.state == PullState.MERGED and pull.checks == CheckConclusion.FAILURE:
                failing.append(snap.item_by_id[pid])
    failing = sorted({i.id: i for i in failing}.values(), key=lambda i: i.key)
    remaining = [i for i in work if not _done(i)]
    fc, due = rel.forecast, rel.release.due
    overdue = due is not None and due < inp.analysis.today and bool(remaining)
    past_due = Check(PAST_DUE, not overdue, True,
                     f"{len(remaining)} of {len(work)} items open past the due date {due.isoformat()}: "
                     f"{_keys(sorted(remaining, key=lambda i: key_order(i.key)))}" if overdue and due is not None
                     else "the due date has not passed with work open",
                     _named(inp, sorted(remaining, key=lambda i: key_order(i.key))) if overdue else [])
    if not remaining:
        schedule = Check(SCHEDULE, True, False, "every planned item is done")
    elif due is not None and fc.p85 is not None and fc.p85 <= due:
        schedule = Check(SCHEDULE, True, False,
                         f"{len(remaining)} items open; 85% forecast {fc.p85.isoformat()} is on or before {due.isoformat()}"
                         f" ({forecast_basis(fc)})")
    else:
        when = f"85% forecast {fc.p85.isoformat()}" if fc.p85 else (fc.refused or "no forecast")
        schedule = Check(SCHEDULE, False, False,
                         f"{len(remaining)} items open; {when}" + (f" vs due {due.isoformat()}" if due else "")
                         + f" ({forecast_basis(fc)})")
    conv = inp.launch.conventions
    sign_offs = release_sign_offs(snap, inp.launch, rel.release, work)
    checks = sorted([
        past_due,
        _blockers_check(inp, sorted(blockers.values(), key=lambda i: i.key),
                        [external[k] for k in sorted(external, key=key_order)]),
        _open_check(inp, CRITICAL_BUGS, critical, "critical bug", gate=True),
        Check(CHECKS_GREEN, not failing, True,
              f"{len(failing)} merged with failing checks: {_keys(failing)}" if failing
              else "no merged pull request has failing checks", _named(inp, failing)),
        _sign_off_check(inp, sign_offs, work),
        _marked_check(inp, DOCUMENTATION, _marked(work, conv.documentation_labels, conv.documentation_title),
                      "documentation", gate=False),
        _marked_check(inp, ROLLBACK, _marked(work, conv.rollback_labels, conv.rollback_title), "rollback-plan",
                      gate=False),
        *([] if overdue else [schedule]),  # past the due date the gate above says it
    ], key=_severity)
    failed_gates = [c for c in checks if c.gate and not c.ok]
    failed = [c for c in checks if not c.ok]
    if rel.release.released:
        verdict, reason = GO, "already released"
    elif failed_gates:
        verdict, reason = NO_GO, "; ".join(c.detail for c in failed_gates)
    elif failed:
        verdict, reason = AT_RISK, "; ".join(c.detail for c in failed)
    else:
        verdict, reason = GO, "every gate and caution passes"
    return Readiness(release=rel, verdict=verdict, reason=reason, checks=checks, sign_offs=sign_offs)
