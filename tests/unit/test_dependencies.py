"""Item-level dependencies from links: both directions, far ends outside the store, crossings."""

from __future__ import annotations

from syncd.model import ItemKind, Link, LinkKind, StatusCategory
from syncd.reports.analysis.dependencies import EPIC, EXTERNAL, RELEASE, TEAM, item_dependencies, key_project
from syncd.reports.data import Snapshot
from tests.unit.analysis_factories import Plan


def test_dependencies_cross_teams_epics_releases_and_the_synced_projects() -> None:
    p = Plan()
    r26, r27 = p.version("2.6"), p.version("2.7")
    e1 = p.item(kind=ItemKind.EPIC)
    e2 = p.item(kind=ItemKind.EPIC)
    a = p.item(epic_id=e1.id, epic_key=e1.key, release_ids=[r26.id])
    b = p.item(epic_id=e1.id, epic_key=e1.key, release_ids=[r27.id])  # same epic, later release
    c = p.item(epic_id=e2.id, epic_key=e2.key, release_ids=[r26.id])  # other epic, same release
    g = p.item(project="GAD", status="In Progress")
    d = p.item(epic_id=e1.id, epic_key=e1.key, release_ids=[r26.id])  # inside a's epic and release
    p.block(b, a)  # a waits on b
    p.links.append(Link(from_id=a.id, kind=LinkKind.BLOCKED_BY, to_key=c.key, to_id=c.id))  # a depends on c
    p.block(g, c)  # c waits on GAD's g
    p.block(d, a)
    p.links.append(Link(from_id=d.id, kind=LinkKind.BLOCKED_BY, to_key="OTHER-5", to_status="Done",
                        to_category=StatusCategory.DONE, to_summary="Their API"))
    p.links.append(Link(from_id=c.id, kind=LinkKind.BLOCKS, to_key="OTHER-9"))  # OTHER-9 waits on c
    snap = Snapshot.of(p.items.values(), releases=p.releases, links=p.links)
    found = {(x.waiting.key, x.on.key): x for x in item_dependencies(snap)}
    assert set(found) == {(a.key, b.key), (a.key, c.key), (c.key, g.key), (a.key, d.key), (d.key, "OTHER-5"),
                          ("OTHER-9", c.key)}
    assert found[(a.key, b.key)].crosses == (RELEASE,)  # 2.6 waits on 2.7
    assert found[(a.key, c.key)].crosses == (EPIC,)
    assert found[(c.key, g.key)].crosses == (TEAM, EPIC, RELEASE)  # g: no epic; c is planned for 2.6, g for none
    assert found[(c.key, g.key)].on.status == "In Progress" and found[(c.key, g.key)].open
    assert found[(a.key, d.key)].crosses == ()
    outside = found[(d.key, "OTHER-5")]
    assert outside.crosses == (TEAM, EXTERNAL) and outside.on.external and not outside.open
    assert outside.on.title == "Their API" and outside.on.team == "OTHER"
    theirs = found[("OTHER-9", c.key)]
    assert theirs.waiting.external and theirs.waiting.done is None and theirs.crosses == (TEAM, EXTERNAL)


def test_key_project() -> None:
    assert key_project("OTHER-35406") == "OTHER"
    assert key_project("acme/widget#12") == "acme/widget"
    assert key_project("weird") == "weird"
