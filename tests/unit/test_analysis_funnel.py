"""The delivery funnel on a hand-built world: each stage counted with its worked answer; done is not
delivered in the status of every audience's report."""

from __future__ import annotations

from datetime import date

from syncd.model import ItemKind, PullState, Release, ReleaseKind
from syncd.reports.analysis import analyse
from syncd.reports.analysis.types import Rag
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.goals import Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal


def gh_release(p: Plan, tag: str, at: day, *, prerelease: bool = False) -> Release:  # type: ignore[valid-type]
    n = len(p.releases)
    rel = Release(id=f"gh:release:acme/widget:{n}", source="gh", remote_id=str(n), kind=ReleaseKind.RELEASE,
                  project="acme/widget", name=tag, tag=tag, released_at=at, released=True, prerelease=prerelease)
    p.releases.append(rel)
    return rel


def test_funnel_counts_each_stage() -> None:
    p = Plan()
    planned = p.version("Widget 2.6")  # not released
    shipped = p.version("Widget 2.5", released_at=day(4))  # released in Jira
    gh_release(p, "v3.0.0", day(6))  # production release of acme/widget
    gh_release(p, "v3.1.0-rc1", day(8), prerelease=True)  # a release candidate: not production

    def merged(item: object, at: float) -> None:
        p.pull("acme/widget", implements=item, state=PullState.MERGED, merged_at=day(at))  # type: ignore[arg-type]

    p.item(release_ids=[planned.id])  # a: to do
    b = p.move(p.item(release_ids=[planned.id]), "In Progress", day(1))  # b: in progress, its PR merged
    merged(b, 2)
    p.move(p.item(release_ids=[planned.id]), "Done", day(2))  # c: done, no code
    d = p.move(p.item(release_ids=[planned.id]), "Done", day(2))  # d: done, PR still open
    p.pull("acme/widget", implements=d)
    e = p.move(p.item(release_ids=[planned.id]), "Done", day(3))  # e: done, merged, its version not released
    merged(e, 3)
    f = p.move(p.item(release_ids=[shipped.id]), "Done", day(3))  # f: done, merged, its version released
    merged(f, 3)
    g = p.move(p.item(), "Done", day(5))  # g: no version, merged day 5, production release day 6
    merged(g, 5)
    h = p.move(p.item(), "Done", day(7))  # h: no version, merged day 7, only an RC after it
    merged(h, 7)

    an = analyse(p.snapshot(), [goal(Selector(projects=("WID",)))], Settings(), day(10))
    fn = an.goals[0].progress.funnel
    # worked: to do a; in progress b; done c d e f g h, of which with code d e f g h, merged e f g h,
    # released f g; done with no code c; delivered = f g + c = 3 of 8
    assert (fn.todo, fn.in_progress, fn.done, fn.done_with_code, fn.merged, fn.released, fn.done_no_code) == (
        1, 1, 6, 5, 4, 2, 1)
    assert (fn.items, fn.delivered, fn.not_released, fn.percent_delivered) == (8, 3, 3, 37.5)
    assert an.goals[0].progress.counts.items_done == 6  # done in Jira stays visible beside it
    rel = next(r for r in an.releases if r.release.name == "Widget 2.6")
    assert (rel.progress.funnel.items, rel.progress.funnel.delivered, rel.progress.funnel.merged) == (5, 1, 1)


def _all_done_world() -> tuple[Plan, Release]:
    p = Plan()
    v = p.version("Widget 2.6", due=date(2026, 6, 1))
    for n in range(3):
        item = p.move(p.item(release_ids=[v.id]), "Done", day(1 + n))
        p.pull("acme/widget", implements=item, state=PullState.MERGED, merged_at=day(1 + n))
    return p, v


def test_a_goal_all_done_but_not_released_is_not_green_in_any_audience() -> None:
    p, v = _all_done_world()
    g = goal(Selector(fix_versions=("Widget 2.6",)), target=date(2026, 6, 1))
    an = analyse(snap := p.snapshot(), [g], Settings(), day(10))
    status = an.goals[0].status
    assert status.rag == Rag.AMBER
    assert "done, not yet released" in status.reason and "3 of 3 items are not in a production release" in status.reason
    inp = ReportInput(analysis=an, snapshot=snap, now=day(10))
    for audience in ("executive", "business", "engineering"):
        md = render_report("status", audience, inp).markdown
        assert "done, not yet released" in md, audience
        line = next(x for x in md.splitlines() if "Goal g1" in x and ("#" in x or "|" in x))
        assert "🟠" in line and "🟢" not in line, (audience, line)
    business = render_report("status", "business", inp).markdown
    assert "0 of 3 items delivered (0%): 0 released to production" in business
    assert ("to do 0 → in progress 0 → done in Jira 3 → code merged 3 of 3 done with code → released to "
            "production 0") in business

    # released in Jira: delivered, green
    p.releases[0] = v.model_copy(update={"released": True, "released_at": day(5)})
    an = analyse(p.snapshot(), [g], Settings(), day(10))
    assert an.goals[0].status.rag == Rag.GREEN and an.goals[0].progress.funnel.delivered == 3
    assert an.goals[0].status.reason == "All goal work is done and delivered."


def test_a_release_all_done_but_not_in_production_is_not_green() -> None:
    p = Plan()
    v = p.version("Widget 2.9")
    p.move(p.item(release_ids=[v.id]), "Done", day(1))  # done, no code: delivered as an item
    an = analyse(p.snapshot(), [], Settings(), day(10))
    rel = an.releases[0]
    assert rel.progress.funnel.delivered == 1 and rel.status.rag == Rag.AMBER
    assert rel.status.reason == "All release items are done, not yet released: the release is not in production yet."


def test_stages_are_worked_out_when_asked() -> None:
    """`Analysis.stages` answers like the full table (`item_stages`) but works out only the items read."""
    from syncd.reports.analysis.funnel import Stage, Stages, item_stages
    from syncd.reports.analysis.progress import ReleaseClock

    p = Plan()
    epic = p.item(kind=ItemKind.EPIC)
    a = p.item()  # to do
    b = p.move(p.item(), "Done", day(2))  # done, no code
    c = p.move(p.item(), "Done", day(2))  # done, its PR still open
    p.pull("acme/widget", implements=c)
    snap = p.snapshot()
    stages = Stages(snap, ReleaseClock(snap))
    assert stages.get(b.id) == Stage.DONE_NO_CODE and stages[a.id] == Stage.TODO
    assert stages._known.keys() == {a.id, b.id}  # nothing else worked out yet
    assert stages.get(epic.id) is None and epic.id not in stages  # not planned work, as in the full table
    assert stages.get("no-such-item") is None
    assert dict(stages) == item_stages(snap, ReleaseClock(snap)) == {a.id: Stage.TODO, b.id: Stage.DONE_NO_CODE,
                                                                     c.id: Stage.DONE}
    assert stages[c.id] == Stage.DONE
