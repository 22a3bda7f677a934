"""Replay of priority, labels, components, due date, flag, parent/epic and issue links (`snapshot_at`):
a store whose items change after a moment T, read back at T. Every expected value is the one written
into the test world before T, not what the code returns."""

from __future__ import annotations

from datetime import date, datetime

from syncd.model import (
    Batch,
    ItemKind,
    Link,
    LinkKind,
    Release,
    ReleaseKind,
    SprintState,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.reports.analysis import analyse
from syncd.reports.analysis.replay import load_snapshot_at, snapshot_at
from syncd.reports.analysis.scope import select_items
from syncd.reports.data import Snapshot
from syncd.reports.goals import Selector
from syncd.store import Store
from tests.unit.analysis_factories import Plan, Settings, day, goal

T = day(10)


def _change(p: Plan, item: WorkItem, fld: TransitionField, at: datetime, seq: int = 0, **values: str | None) -> None:
    """One changelog row as the Jira connector stores it (no change to `item`: the caller sets the new value)."""
    p.transitions.append(Transition(item_id=item.id, change_id=f"h{len(p.transitions)}", seq=seq, field=fld, at=at,
                                    **values))
    item.updated = max(item.updated, at)


def _world() -> tuple[Plan, dict[str, WorkItem]]:
    """Four stories and two epics; values before T noted beside each change after T."""
    p = Plan()
    e1 = p.item("WID-100", kind=ItemKind.EPIC, created=day(0))
    e2 = p.item("WID-200", kind=ItemKind.EPIC, created=day(0))
    a = p.item("WID-1", created=day(0), priority="Medium", priority_id="3", labels=["api"], components=["Checkout"],
               due=date(2026, 1, 20), parent_id=e1.id, parent_key=e1.key, epic_id=e1.id, epic_key=e1.key)
    b = p.item("WID-2", created=day(0), priority="Low", priority_id="4", labels=[], components=[])
    c = p.item("WID-3", created=day(0))
    d = p.item("WID-4", created=day(12))  # created after T: it and its links did not exist at T

    # WID-1: a change before T (kept), then after T priority up, a label added, Checkout swapped for
    # Search, due date moved, flagged, moved under the other epic
    _change(p, a, TransitionField.LABELS, day(5), from_string=None, to_string="api")
    _change(p, a, TransitionField.PRIORITY, day(11), from_value="3", from_string="Medium", to_value="1",
            to_string="Highest")
    _change(p, a, TransitionField.LABELS, day(11), seq=1, from_string="api", to_string="api customer")
    _change(p, a, TransitionField.COMPONENT, day(12), from_value="10010", from_string="Checkout")
    _change(p, a, TransitionField.COMPONENT, day(12), seq=1, to_value="10011", to_string="Search")
    _change(p, a, TransitionField.DUE, day(13), from_value="2026-01-20", from_string="2026-01-20 00:00:00.0",
            to_value="2026-02-10", to_string="2026-02-10 00:00:00.0")
    _change(p, a, TransitionField.FLAGGED, day(14), to_value="[10019]", to_string="Impediment")
    _change(p, a, TransitionField.PARENT, day(15), from_value=e1.remote_id, to_value=e2.remote_id)
    a.priority, a.priority_id, a.labels, a.components = "Highest", "1", ["api", "customer"], ["Search"]
    a.due, a.flagged = date(2026, 2, 10), True
    a.parent_id, a.parent_key, a.epic_id, a.epic_key = e2.id, e2.key, e2.id, e2.key

    # WID-2: customer label and Checkout added after T, no epic then, legacy Epic Link set after T
    _change(p, b, TransitionField.LABELS, day(11), from_string=None, to_string="customer")
    _change(p, b, TransitionField.COMPONENT, day(11), seq=1, to_value="10010", to_string="Checkout")
    _change(p, b, TransitionField.EPIC, day(11), seq=2, to_value=e1.remote_id, to_string=e1.key)
    _change(p, b, TransitionField.FLAGGED, day(3), to_value="[10019]", to_string="Impediment")  # before T
    _change(p, b, TransitionField.FLAGGED, day(12), from_value="[10019]", from_string="Impediment")  # cleared
    b.labels, b.components, b.epic_id, b.epic_key, b.flagged = ["customer"], ["Checkout"], e1.id, e1.key, False

    # links: WID-1 blocks WID-3 since day 11 (logged on both); WID-2 blocked WID-3 until day 12 (removed,
    # logged on both); WID-4 (created day 12) relates to WID-1
    p.links = [Link(from_id=a.id, kind=LinkKind.BLOCKS, to_key=c.key, to_id=c.id),
               Link(from_id=d.id, kind=LinkKind.RELATES, to_key=a.key, to_id=a.id)]
    _change(p, a, TransitionField.LINK, day(11), seq=3, to_value=c.key, to_string=f"This issue blocks {c.key}")
    _change(p, c, TransitionField.LINK, day(11), to_value=a.key, to_string=f"This issue is blocked by {a.key}")
    _change(p, b, TransitionField.LINK, day(12), seq=1, from_value=c.key, from_string=f"This issue blocks {c.key}")
    _change(p, c, TransitionField.LINK, day(12), from_value=b.key, from_string=f"This issue is blocked by {b.key}")
    p.transitions.sort(key=lambda t: (t.item_id, t.at))
    return p, {"a": a, "b": b, "c": c, "d": d, "e1": e1, "e2": e2}


def _by_key(snap: Snapshot) -> dict[str, WorkItem]:
    return {i.key: i for i in snap.items}


def _links(snap: Snapshot) -> set[tuple[str, str, str]]:
    key = {i.id: i.key for i in snap.items}
    return {(key[lk.from_id], str(lk.kind), lk.to_key) for lk in snap.links}


def _check_at_t(then: Snapshot) -> None:
    items = _by_key(then)
    a, b = items["WID-1"], items["WID-2"]
    assert (a.priority, a.priority_id, a.labels, a.components) == ("Medium", "3", ["api"], ["Checkout"])
    assert (a.due, a.flagged, a.parent_key, a.epic_key) == (date(2026, 1, 20), False, "WID-100", "WID-100")
    assert a.parent_id == a.epic_id == items["WID-100"].id
    assert (b.priority, b.labels, b.components, b.epic_key, b.epic_id, b.flagged) == ("Low", [], [], None, None, True)
    assert "WID-4" not in items
    # at T WID-2 blocked WID-3; WID-1's blocking link and WID-4's link came later
    assert _links(then) == {("WID-2", "blocks", "WID-3")}


def test_fields_and_links_at_t_are_the_values_written_before_t() -> None:
    p, it = _world()
    snap = p.snapshot()
    _check_at_t(snapshot_at(snap, T))
    # today: the values set after T (the replay to a later moment changes nothing)
    now = _by_key(snapshot_at(snap, day(20)))
    assert (now["WID-1"].priority, now["WID-1"].labels, now["WID-1"].epic_key) == ("Highest", ["api", "customer"],
                                                                                    "WID-200")
    assert _links(snapshot_at(snap, day(20))) == {("WID-1", "blocks", "WID-3"), ("WID-4", "relates", "WID-1")}
    # between the two: on day 11.5 the label and priority changed already, the components not yet
    mid = _by_key(snapshot_at(snap, day(11.5)))["WID-1"]
    assert (mid.priority, mid.labels, mid.components, mid.due) == ("Highest", ["api", "customer"], ["Checkout"],
                                                                  date(2026, 1, 20))
    assert _links(snapshot_at(snap, day(11.5))) == {("WID-1", "blocks", "WID-3"), ("WID-2", "blocks", "WID-3")}


def test_scope_membership_at_t_follows_labels_components_and_epics() -> None:
    """Goals over a label, a component and an epic hold at T what they held then (worked by hand)."""
    p, _ = _world()
    snap = p.snapshot()
    then = snapshot_at(snap, T)
    customer, checkout, epic1 = (Selector(labels=("customer",)), Selector(components=("Checkout",)),
                                 Selector(epics=("WID-100",)))
    # now: both WID-1 and WID-2 carry the customer label; Checkout is WID-2's only; WID-100 holds WID-2
    assert [i.key for i in select_items(snap, customer)] == ["WID-1", "WID-2"]
    assert [i.key for i in select_items(snap, checkout)] == ["WID-2"]
    assert [i.key for i in select_items(snap, epic1)] == ["WID-2"]
    # at T: no item had the label; Checkout was WID-1's; WID-100 held WID-1
    assert select_items(then, customer) == []
    assert [i.key for i in select_items(then, checkout)] == ["WID-1"]
    assert [i.key for i in select_items(then, epic1)] == ["WID-1"]
    g = goal(Selector(components=("Checkout",)), target=date(2026, 4, 1))
    counts = analyse(then, [g], Settings(), T).goals[0].progress.counts
    assert (counts.items_total, counts.items_todo) == (1, 1)


def test_the_store_read_at_t_and_the_footer(store: Store) -> None:
    p, _ = _world()
    store.apply_batch("jira", Batch(items=list(p.items.values()), transitions=p.transitions, links=p.links,
                                    people=p.people))
    then = load_snapshot_at(store, T)
    _check_at_t(then)
    assert then.as_of is not None
    # WID-1, WID-2 and WID-3 changed after T; WID-4 came later; four link rows after T were undone
    assert then.as_of.notes[0] == (
        "Replayed to this date: 3 items rebuilt from the changelog (status, sprint, story points, assignee, "
        "fix versions, priority, labels, components, due date, flag, parent and epic); 1 items created later "
        "left out; 4 issue-link changes since undone.")
    assert not any("priority" in line for line in then.as_of.notes[1:])


def test_sprints_and_releases_created_after_t_do_not_exist_then(store: Store) -> None:
    """Sprint 3 (created day 11), milestone m2 (created day 12) and fix version 2.0 (starts day 15, no
    item in it at T) came after T; sprint 2 (created day 8), version 1.1 (starts later, but WID-1 was in it
    at T) and milestone m1 existed. Sprints and releases without a creation date are kept."""
    p = Plan()
    s1 = p.sprint(1, SprintState.CLOSED, start=day(0), end=day(7), complete=day(7))
    s2 = p.sprint(2, SprintState.ACTIVE, start=day(7), end=day(14))
    s3 = p.sprint(3, SprintState.FUTURE)
    s2.created, s3.created = day(8), day(11)
    v11, v20 = p.version("1.1"), p.version("2.0")
    v11.start, v20.start = date(2026, 3, 20), date(2026, 3, 17)  # both after T (day 10 = 2026-03-12)
    m1 = Release(id="gh:milestone:acme/w:1", source="gh", remote_id="1", kind=ReleaseKind.MILESTONE,
                 project="acme/w", name="m1", created=day(2))
    m2 = m1.model_copy(update={"id": "gh:milestone:acme/w:2", "remote_id": "2", "name": "m2", "created": day(12)})
    p.releases += [m1, m2]
    p.item("WID-1", created=day(0), release_ids=[v11.id])
    store.apply_batch("jira", Batch(items=list(p.items.values()), sprints=list(p.sprints.values()),
                                    releases=p.releases, transitions=p.transitions, people=p.people))
    assert {s.id: s.created for s in store.sprints()} == {s1.id: None, s2.id: day(8), s3.id: day(11)}
    assert {r.name: (r.created, r.start) for r in store.releases()} == {
        "1.1": (None, date(2026, 3, 20)), "2.0": (None, date(2026, 3, 17)), "m1": (day(2), None),
        "m2": (day(12), None)}
    then = load_snapshot_at(store, T)
    assert sorted(s.name for s in then.sprints) == ["Sprint 1", "Sprint 2"]
    assert sorted(r.name for r in then.releases) == ["1.1", "m1"]
    assert then.as_of is not None
    assert "1 sprints created later left out" in then.as_of.notes[0]
    assert "2 releases not created yet left out" in then.as_of.notes[0]
    later = load_snapshot_at(store, day(16))
    assert len(later.sprints) == 3 and sorted(r.name for r in later.releases) == ["1.1", "2.0", "m1", "m2"]
