"""The critical path of a goal: the longest chain of its open items that wait on one another.

The critical path method (CPM; Kelley and Walker, "Critical-path planning and scheduling", 1959):
a forward pass gives each item its earliest start (the latest earliest finish of what it waits on)
and earliest finish (start + duration); a backward pass from the end gives its latest finish (the
earliest latest start of what waits on it) and latest start; slack = latest start - earliest start,
and the critical path is the chain of items with no slack, as in the worked forward/backward scan of
https://mathsathome.com/critical-path/. Its length is the least time the goal can take if every
item starts as soon as what it waits on is done; it ignores how many people there are, which the
throughput forecast accounts for.

Durations are remaining-item estimates from cycle time (not points): each open item takes its team's
median (p50) cycle time over the forecast window (its team: the configured `[teams.NAME]` holding it,
`teams.team_map`, else its project; a step's team is shown that way, and a far end in a project that
is not synced is the team's that lists the project, else the project's); an item in progress, that less the days it has been
in progress (not below 0); an item of a project that is not synced has no known duration (0).
Links that close a cycle are left out (counted), so the graph is acyclic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from syncd.model import StatusCategory
from syncd.reports.analysis.dependencies import key_project
from syncd.reports.analysis.scope import key_order
from syncd.reports.analysis.types import TeamMap
from syncd.reports.data import SCOPE_KINDS, Snapshot

EPS = 1e-9


@dataclass(frozen=True)
class Schedule:
    """CPM times of one node, in days from the start."""

    duration: float
    early_start: float
    early_finish: float
    late_start: float
    late_finish: float

    @property
    def slack(self) -> float:
        """How long the node can slip without moving the end."""
        return self.late_start - self.early_start


@dataclass(frozen=True)
class Cpm:
    """A CPM result: each node's schedule, the critical path (first to last), its length, cut links."""

    times: dict[str, Schedule]
    path: list[str]
    length: float
    cut: list[tuple[str, str]] = field(default_factory=list)  # (before, after) links left out: they closed a cycle


def cpm(durations: Mapping[str, float], edges: Iterable[tuple[str, str]],
        order: Mapping[str, object] | None = None) -> Cpm:
    """Forward and backward pass over `durations` (node -> days) and `edges` (before, after): `after` waits.

    Ties (two predecessors finishing at once, two ends as late) go to the node first in `order`
    (node -> sort key; default the node id), so the path is the same on every run.
    """
    rank = order or {n: n for n in durations}

    def sort_key(n: str) -> tuple[object, str]:
        return (rank.get(n, n), n)

    succ: dict[str, list[str]] = {n: [] for n in durations}
    for before, after in edges:
        if before in succ and after in succ and before != after and after not in succ[before]:
            succ[before].append(after)
    for n in succ:
        succ[n].sort(key=sort_key)
    # depth-first topological order; an edge into a node still on the stack closes a cycle: cut it
    state: dict[str, int] = {}
    topo: list[str] = []
    cut: list[tuple[str, str]] = []
    for root in sorted(durations, key=sort_key):
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack.pop()
            if i < len(succ[node]):
                stack.append((node, i + 1))
                nxt = succ[node][i]
                if state.get(nxt) == 1:
                    cut.append((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                topo.append(node)
    topo.reverse()
    cut_set = set(cut)
    pred: dict[str, list[str]] = {n: [] for n in durations}
    for before, afters in succ.items():
        for after in afters:
            if (before, after) not in cut_set:
                pred[after].append(before)
    es: dict[str, float] = {}
    ef: dict[str, float] = {}
    for n in topo:
        es[n] = max((ef[p] for p in pred[n]), default=0.0)
        ef[n] = es[n] + durations[n]
    length = max(ef.values(), default=0.0)
    lf: dict[str, float] = {}
    ls: dict[str, float] = {}
    for n in reversed(topo):
        waiting = [s for s in succ[n] if (n, s) not in cut_set]
        lf[n] = min((ls[s] for s in waiting), default=length)
        ls[n] = lf[n] - durations[n]
    times = {n: Schedule(durations[n], es[n], ef[n], ls[n], lf[n]) for n in durations}
    path: list[str] = []
    if times:
        node = min((n for n in durations if abs(ef[n] - length) < EPS), key=sort_key)
        path.append(node)
        while pred[node]:
            on_path = [p for p in pred[node] if abs(ef[p] - es[node]) < EPS and times[p].slack < EPS]
            if not on_path:
                break
            node = min(on_path, key=sort_key)
            path.append(node)
        path.reverse()
    return Cpm(times=times, path=path, length=length, cut=cut)


@dataclass(frozen=True)
class PathStep:
    """One item on a critical path, with how its duration was reached."""

    key: str
    title: str | None
    status: str | None
    team: str
    external: bool
    duration: float  # days
    start: float  # earliest start, days from today
    finish: float  # earliest finish, days from today
    basis: str  # "p50 4.5" / "p50 4.5 − 2 in progress" / "not known (not synced)"
    in_goal: bool


@dataclass(frozen=True)
class CriticalPath:
    """A goal's critical path and the graph it came from."""

    steps: list[PathStep]
    length: float  # days
    items: int  # open items in the graph: the goal's, and outside ones they wait on
    outside: int  # of them, items outside the goal (stored or not synced)
    links: int  # dependencies between them (after cycles were cut)
    cut: int  # links left out because they closed a cycle
    refused: str | None = None  # why there is no path (no cycle time measured)


def goal_critical_path(snap: Snapshot, goal_item_ids: Iterable[str], cycle_p50: Mapping[str, float],
                       overall_p50: float | None, started: Mapping[str, datetime | None],
                       now: datetime, teams: TeamMap | None = None) -> CriticalPath:
    """CPM over the goal's open items and the open items (stored or not synced) they wait on, transitively.

    `cycle_p50`: team -> median cycle time in days (`Flow.by_team`); `overall_p50` for a team without one.
    `started`: item id -> when it first went in progress. `teams`: each item's team (default: its project).
    """
    team_map = teams or TeamMap()
    by_id = snap.item_by_id  # a scope item is one of SCOPE_KINDS (no set of the snapshot's scope built per goal)
    ids = sorted((i for i in goal_item_ids if (it := by_id.get(i)) is not None and it.kind in SCOPE_KINDS
                  and it.status_category != StatusCategory.DONE), key=lambda i: key_order(by_id[i].key))
    goal_ids = set(ids)
    nodes: dict[str, float] = {}
    info: dict[str, PathStep] = {}
    edges: list[tuple[str, str]] = []
    todo = list(ids)
    while todo:
        nid = todo.pop()
        if nid in nodes:
            continue
        item = snap.item_by_id[nid]
        team = team_map.of(item.id, item.project)
        measured = cycle_p50.get(team, overall_p50)
        if measured is None:
            return CriticalPath([], 0.0, 0, 0, 0, 0, refused=f"no cycle time measured for team {team}")
        p50 = round(measured, 1)  # tenths of a day, as shown, so the path's sums can be checked by hand
        when = started.get(nid)
        if item.status_category == StatusCategory.IN_PROGRESS and when is not None:
            age = round(max(0.0, (now - when).total_seconds() / 86400), 1)
            days, basis = round(max(0.0, p50 - age), 1), f"p50 {_num(p50)} − {_num(age)} in progress"
        else:
            days, basis = p50, f"p50 {_num(p50)}"
        nodes[nid] = days
        info[nid] = PathStep(item.key, item.title, item.status, team, False, days, 0.0, 0.0, basis,
                             nid in goal_ids)
        for bid in snap.blockers_of.get(nid, ()):
            blocker = snap.item_by_id[bid]
            if blocker.status_category != StatusCategory.DONE:
                edges.append((bid, nid))
                todo.append(bid)
        for link in snap.external_blockers_of.get(nid, ()):
            if link.to_category == StatusCategory.DONE:
                continue
            far = f"link:{link.to_key}"
            edges.append((far, nid))
            if far not in nodes:
                nodes[far] = 0.0
                info[far] = PathStep(link.to_key, link.to_summary, link.to_status,
                                     team_map.of_project(key_project(link.to_key)), True,
                                     0.0, 0.0, 0.0, "not known (not synced)", False)
    result = cpm(nodes, edges, {n: key_order(info[n].key) for n in nodes})
    steps = [PathStep(s.key, s.title, s.status, s.team, s.external, s.duration, result.times[n].early_start,
                      result.times[n].early_finish, s.basis, s.in_goal)
             for n in result.path for s in (info[n],)]
    kept = {(b, a) for b, a in edges} - set(result.cut)
    return CriticalPath(steps=steps, length=result.length, items=len(nodes), outside=len(nodes) - len(goal_ids),
                        links=len(kept), cut=len(result.cut))


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")
