"""Item-level dependencies from issue links: who waits on whom, across epics, teams and releases.

A dependency is one item waiting on another: a blocking link read either way (`Snapshot.blockers_of`:
`A blocks B`, `B is blocked by A`, a "depends on" type), or a link to or from an item of a project
that is not synced. Such a far end is not in the store; it is shown as *external*, with the status,
summary and type the source showed of it (`Link.to_status` ...), where it showed them.

A dependency *crosses* a boundary when its two ends are in different teams (the configured
`[teams]`, `Analysis.teams`: one team holding projects WID and GAD makes a WID -> GAD link not
cross, two boards of one project in two teams make it cross; without `[teams]`, or for an item no
configured team holds, its Jira project or repository), different epics (one of them in an epic), or when the waiting item is planned for a
release the item it waits on is not planned for (another release, or none).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.model import Link, LinkKind, StatusCategory, WorkItem
from syncd.reports.analysis.types import TeamMap
from syncd.reports.data import Snapshot

TEAM, EPIC, RELEASE, EXTERNAL = "team", "epic", "release", "external"


@dataclass(frozen=True)
class DependencyEnd:
    """One end of a dependency: a stored item, or the far end of a link into a project not synced."""

    key: str
    title: str | None  # the summary (external: as the link showed it, if it did)
    status: str | None  # None: an external far end whose status the source did not show
    done: bool | None  # None: not known (external, no status category)
    team: str  # its configured team, else its Jira project or repository (external: by the key's project)
    epic: str | None  # epic key
    releases: tuple[str, ...]  # names of the releases (fix versions, milestones) it is planned for
    item: WorkItem | None  # None: external
    kind: str | None = None  # the item's kind, or the far end's issue type

    @property
    def external(self) -> bool:
        """Not in the store: its project is not synced."""
        return self.item is None


@dataclass(frozen=True)
class Dependency:
    """`waiting` cannot finish before `on` does."""

    waiting: DependencyEnd
    on: DependencyEnd
    crosses: tuple[str, ...]  # of TEAM, EPIC, RELEASE, EXTERNAL, in that order

    @property
    def open(self) -> bool:
        """The item waited on is not known to be done."""
        return self.on.done is not True


def key_project(key: str) -> str:
    """The project of a Jira key (`OTHER-35406` -> `OTHER`); a GitHub key's repository (`a/b#3` -> `a/b`)."""
    if "#" in key:
        return key.split("#", 1)[0]
    head, _, tail = key.rpartition("-")
    return head if head and tail.isdigit() else key


def _stored_end(snap: Snapshot, teams: TeamMap, item: WorkItem) -> DependencyEnd:
    epic = snap.item_by_id.get(item.epic_id) if item.epic_id else None
    releases = tuple(sorted({r.name for rid in item.release_ids if (r := snap.release_by_id.get(rid)) is not None}))
    return DependencyEnd(key=item.key, title=item.title, status=item.status,
                         done=item.status_category == StatusCategory.DONE, team=teams.of(item.id, item.project),
                         epic=epic.key if epic is not None else item.epic_key, releases=releases, item=item,
                         kind=str(item.kind))


def _external_end(teams: TeamMap, link: Link) -> DependencyEnd:
    return DependencyEnd(key=link.to_key, title=link.to_summary, status=link.to_status,
                         done=None if link.to_category is None else link.to_category == StatusCategory.DONE,
                         team=teams.of_project(key_project(link.to_key)), epic=None, releases=(), item=None, kind=link.to_type)


def _crosses(waiting: DependencyEnd, on: DependencyEnd) -> tuple[str, ...]:
    out = []
    if waiting.team != on.team:
        out.append(TEAM)
    if (waiting.epic or on.epic) and waiting.epic != on.epic and not (waiting.external or on.external):
        out.append(EPIC)
    if waiting.releases and not set(waiting.releases) <= set(on.releases) and not on.external:
        out.append(RELEASE)
    if waiting.external or on.external:
        out.append(EXTERNAL)
    return tuple(out)


def item_dependencies(snap: Snapshot, teams: TeamMap | None = None) -> list[Dependency]:
    """Every dependency the links hold, each pair once: stored pairs, then links out of and into the store.

    `teams`: each item's team (`Analysis.teams`); none: every project and repository is a team.
    """
    teams = teams or TeamMap()
    out: list[Dependency] = []
    for blocked_id, blocker_ids in snap.blockers_of.items():
        blocked = snap.item_by_id.get(blocked_id)
        if blocked is None:
            continue
        waiting = _stored_end(snap, teams, blocked)
        for bid in blocker_ids:
            on = _stored_end(snap, teams, snap.item_by_id[bid])
            out.append(Dependency(waiting, on, _crosses(waiting, on)))
    for item_id, links in snap.external_blockers_of.items():
        waiting = _stored_end(snap, teams, snap.item_by_id[item_id])
        for link in links:
            on = _external_end(teams, link)
            out.append(Dependency(waiting, on, _crosses(waiting, on)))
    seen: set[tuple[str, str]] = set()
    for link in snap.links:  # a stored item blocks an item of a project that is not synced
        if link.kind != LinkKind.BLOCKS or link.from_id not in snap.item_by_id or snap.linked_item(link) is not None:
            continue
        if (link.from_id, link.to_key) in seen:
            continue
        seen.add((link.from_id, link.to_key))
        waiting, on = _external_end(teams, link), _stored_end(snap, teams, snap.item_by_id[link.from_id])
        out.append(Dependency(waiting, on, _crosses(waiting, on)))
    return out
