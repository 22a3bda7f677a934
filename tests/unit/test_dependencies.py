"""Item-level dependencies from links: both directions, far ends outside the store, crossings."""

from __future__ import annotations

import re

from syncd.model import ItemKind, Link, LinkKind, SprintState, StatusCategory, WorkItem
from syncd.reports.analysis import analyse
from syncd.reports.analysis.dependencies import EPIC, EXTERNAL, RELEASE, TEAM, item_dependencies, key_project
from syncd.reports.analysis.teams import team_map
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.data import Snapshot
from syncd.reports.goals import Team
from tests.unit.analysis_factories import Plan, Settings, day


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


def _teams_world() -> tuple[Plan, dict[str, WorkItem]]:
    """WID and GAD are one configured team's projects; WID's two boards are two teams; OPS is no team's.

    WID-1 (no sprint) waits on GAD-2; WID-3 (Board 1) waits on WID-4 (Board 2); WID-1 waits on OPS-5
    and on PAY-9 (not synced, a project of team "product").
    """
    p = Plan()
    b1, b2 = p.sprint(1, SprintState.ACTIVE, board="1"), p.sprint(2, SprintState.ACTIVE, board="2")
    w1, g2 = p.item(), p.item(project="GAD", status="In Progress")
    w3, w4 = p.item(), p.item(status="In Progress")
    p.set_sprints(w3, [b1], day(1))
    p.set_sprints(w4, [b2], day(1))
    o5 = p.item(project="OPS")
    p.block(g2, w1)
    p.block(w4, w3)
    p.block(o5, w1)
    p.links.append(Link(from_id=w1.id, kind=LinkKind.BLOCKED_BY, to_key="PAY-9", to_status="In Progress",
                        to_category=StatusCategory.IN_PROGRESS))
    return p, {"w1": w1, "g2": g2, "w3": w3, "w4": w4, "o5": o5}


TEAMS = {"web": Team(boards=("Board 1",)), "mobile": Team(boards=("2",)),
         "product": Team(projects=("WID", "GAD", "PAY"))}


def test_configured_teams_decide_which_dependencies_cross_a_team() -> None:
    p, it = _teams_world()
    snap = p.snapshot()
    k = {name: item.key for name, item in it.items()}
    # by hand: w1 and g2 are both "product" (WID, GAD listed, no board of theirs); w3 sits on Board 1 ("web",
    # by board name), w4 on board id 2 ("mobile"); o5's OPS is no team's, so it is team OPS; PAY is "product"'s
    mine = {(d.waiting.key, d.on.key): d for d in item_dependencies(snap, team_map(snap, TEAMS))}
    assert mine[(k["w1"], k["g2"])].crosses == ()
    assert (mine[(k["w3"], k["w4"])].waiting.team, mine[(k["w3"], k["w4"])].on.team) == ("web", "mobile")
    assert mine[(k["w3"], k["w4"])].crosses == (TEAM,)
    assert (mine[(k["w1"], k["o5"])].on.team, mine[(k["w1"], k["o5"])].crosses) == ("OPS", (TEAM,))
    assert (mine[(k["w1"], "PAY-9")].on.team, mine[(k["w1"], "PAY-9")].crosses) == ("product", (EXTERNAL,))
    # without [teams] each project is a team: the reverse for the first two
    plain = {(d.waiting.key, d.on.key): d for d in item_dependencies(snap)}
    assert plain[(k["w1"], k["g2"])].crosses == (TEAM,)
    assert plain[(k["w3"], k["w4"])].crosses == ()
    assert plain[(k["w1"], "PAY-9")].crosses == (TEAM, EXTERNAL)


def test_the_timeline_compares_configured_teams() -> None:
    p, it = _teams_world()
    snap = p.snapshot()
    k = {name: item.key for name, item in it.items()}

    def rows(teams: dict[str, Team] | None) -> dict[tuple[str, str], str]:
        an = analyse(snap, [], Settings(), day(10), teams=teams)
        md = render_report("timeline", None, ReportInput(analysis=an, snapshot=snap, now=day(10))).markdown
        table = md.split("## Dependencies across epics, teams and releases", 1)[1].split("\n## ", 1)[0]
        out = {}
        for line in table.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            keys = [re.search(r"\[([A-Z]+-\d+)\]", c) for c in cells[:2]]
            if len(cells) == 4 and all(keys):
                out[(keys[0].group(1), keys[1].group(1))] = cells[3]  # type: ignore[union-attr]
            elif len(cells) == 4 and keys[0] and "PAY-9" in cells[1]:
                out[(keys[0].group(1), "PAY-9")] = cells[3]  # type: ignore[union-attr]
        return out

    assert rows(TEAMS) == {(k["w3"], k["w4"]): "team web → mobile", (k["w1"], k["o5"]): "team product → OPS",
                           (k["w1"], "PAY-9"): "external: PAY is not synced"}
    assert rows(None) == {(k["w1"], k["g2"]): "team WID → GAD", (k["w1"], k["o5"]): "team WID → OPS",
                          (k["w1"], "PAY-9"): "team WID → PAY; external: PAY is not synced"}
