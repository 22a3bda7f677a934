"""The snapshot read: one consistent pass over the store (SQLite and PostgreSQL), lean transitions."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from syncd.model import Batch, ItemKind, Review, StatusCategory, Transition, TransitionField
from syncd.reports.analysis import analyse
from syncd.reports.data import Snapshot, load_snapshot
from syncd.store import Store, TransitionRow, _snapshot
from tests.unit.analysis_factories import Plan, Settings, day
from tests.unit.test_analysis_risks import NOW, World, t_carry_over, t_review_wait, t_stale_work


def test_store_snapshot_matches_the_records_and_analysis_agrees(store: Store) -> None:
    w = World()
    t_stale_work(w)
    t_review_wait(w)
    t_carry_over(w)
    p = w.plan
    gone = p.item(created=NOW)
    p.move(gone, "In Progress", NOW)
    items = list(p.items.values())
    store.apply_batch("jira", Batch(items=items, pulls=p.pulls, sprints=list(p.sprints.values()),
                                    releases=p.releases, links=p.links,
                                    transitions=list(reversed(p.transitions)), people=p.people))
    store.apply_batch("jira", Batch(removed_ids=[gone.id]))

    snap = load_snapshot(store)
    assert {i.id for i in snap.items} == {i.id for i in items} - {gone.id}
    assert all(t.item_id != gone.id for t in snap.transitions)
    assert all(isinstance(t, TransitionRow) and t.at.tzinfo is not None and t.at.utcoffset().total_seconds() == 0
               for t in snap.transitions)
    order = [(t.item_id, t.at) for t in snap.transitions]
    assert order == sorted(order) and len(order) == len(p.transitions) - 1
    assert all(i.created.tzinfo is not None for i in snap.items)
    assert all(isinstance(r, Review) for pull in snap.pulls for r in pull.reviews)
    assert len(snap.sprints) == len(p.sprints) and len(snap.links) == len(p.links)
    # the lean read path builds records equal to the validated ones that were written
    by_id = sorted(snap.items, key=lambda i: i.id)
    assert by_id == sorted((i for i in items if i.id != gone.id), key=lambda i: i.id)
    assert sorted(snap.pulls, key=lambda x: x.item_id) == sorted(p.pulls, key=lambda x: x.item_id)
    assert sorted(snap.sprints, key=lambda x: x.id) == sorted(p.sprints.values(), key=lambda x: x.id)
    assert sorted(snap.releases, key=lambda x: x.id) == sorted(p.releases, key=lambda x: x.id)
    assert all(isinstance(i.kind, ItemKind) and isinstance(i.status_category, StatusCategory) for i in by_id)

    del p.items[gone.id]
    expected = analyse(Snapshot.of(p.items.values(), pulls=p.pulls, sprints=p.sprints.values(),
                                   releases=p.releases, links=p.links,
                                   transitions=[t for t in p.transitions if t.item_id != gone.id],
                                   people=p.people), [w.goal], w_settings(), NOW)
    got = analyse(snap, [w.goal], w_settings(), NOW)
    assert [r.id for r in got.risks] == [r.id for r in expected.risks]
    assert {r.rule for r in got.risks} >= {"stale-work", "review-wait", "carry-over"}
    assert got.sprints == expected.sprints
    assert got.goals[0].forecast == expected.goals[0].forecast
    assert got.flow == expected.flow


def w_settings() -> Settings:
    return Settings(timezone="Europe/Berlin")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        analyse(Snapshot(items=[]), [], w_settings(), NOW.replace(tzinfo=None))
    assert NOW.tzinfo is UTC


def test_snapshot_records_hold_the_written_values_and_types_sharing_repeats(store: Store) -> None:
    """Each field of a read record has the value and the type of the written one (True, not 1; an enum member,
    not its text); a resolution stored equal to the last update is that same datetime, repeated story
    points, statuses and label lists one object each."""
    p = Plan()
    v = p.version("1.0", due=date(2026, 4, 1))
    done = [p.item(f"WID-{n}", created=day(0), points=3.0, labels=["ux"], release_ids=[v.id], flagged=n == 1,
                   due=date(2026, 3, 20), properties={"signoff": {"qa": True}}) for n in (1, 2)]
    for item in done:
        p.move(item, "Done", day(2))  # resolved = updated = day 2
    p.move(open_ := p.item("WID-3", created=day(0), points=5.0), "In Progress", day(1))
    p.pull(created=day(1), reviews=[day(1.5)])
    store.apply_batch("jira", Batch(items=list(p.items.values()), pulls=p.pulls, releases=p.releases,
                                    transitions=p.transitions, people=p.people))
    snap = load_snapshot(store)
    read = {i.id: i for i in snap.items}
    for written in p.items.values():
        got = read[written.id]
        for name, value in written.__dict__.items():
            assert got.__dict__[name] == value and type(got.__dict__[name]) is type(value), (written.key, name)
    a, b = (read[i.id] for i in done)
    assert a.resolved == day(2) and a.resolved is a.updated and b.resolved is b.updated
    assert a.estimate is b.estimate and a.status is b.status and a.due is b.due
    # the items' labels are read as text (within one JSON array per row) on both, parsed once per distinct text
    assert a.labels is b.labels and a.properties is b.properties
    assert (a.flagged, b.flagged, read[open_.id].resolved, read[open_.id].estimate) == (True, False, None, 5.0)
    assert snap.releases == p.releases and type(snap.releases[0].due) is date


def test_transitions_read_in_rowid_spans_equal_the_row_by_row_read(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's read of the transitions as JSON arrays, a span of rowids at a time, gives the very columns the
    row-by-row read gives (PostgreSQL's path): NULL kept apart from "", any text, rows of one item at one
    instant in the order stored, rowid gaps, other fields and removed items left out."""
    assert len(store.snapshot().history) == 0  # an empty table
    p = Plan()
    items = [p.item(created=day(0)) for _ in range(4)]
    texts = ["", None, "Ünïcødé ✓ 漢字", 'a "quote", a back\\slash', "new\nline\ttab\x01", "[1, 2]", "null", ","]
    written = [Transition(item_id=item.id, change_id=f"c{n}-{k}", field=fld, from_value=texts[k],
                          to_value=texts[-1 - k], from_string=texts[(k + 3) % 8], to_string=texts[(k + n) % 8],
                          at=day(1) if k % 3 else day(1) + timedelta(microseconds=k * 999_999))
               for n, item in enumerate(items) for k in range(8)
               for fld in (TransitionField.STATUS if k % 2 else TransitionField.SPRINT, TransitionField.ASSIGNEE)]
    store.apply_batch("jira", Batch(items=items, transitions=written))
    # item 1 written again: its rows get new rowids after the others', leaving a gap
    store.apply_batch("jira", Batch(items=[items[1]], transitions=[t for t in written if t.item_id == items[1].id]))
    store.apply_batch("jira", Batch(removed_ids=[items[3].id]))
    monkeypatch.setattr(_snapshot, "_ROWID_SPAN", 5)  # several spans, some of them empty
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            assert _snapshot._json_arrays(conn)  # the span read is what this test checks
    spans = store.snapshot(["status", "sprint"]).history
    monkeypatch.setattr(_snapshot, "_json_arrays", lambda conn: False)
    rows = store.snapshot(["status", "sprint"]).history
    assert spans.item_ids == rows.item_ids == [i.id for i in items[:3]]
    assert spans.changes == rows.changes and spans.change.tolist() == rows.change.tolist()
    assert spans.at.tolist() == rows.at.tolist() and spans.offsets.tolist() == rows.offsets.tolist()
    expected = [TransitionRow(t.item_id, str(t.field), t.from_value, t.to_value, t.from_string, t.to_string, t.at)
                for t in written if t.item_id != items[3].id and t.field != TransitionField.ASSIGNEE]
    assert spans.rows() == sorted(expected, key=lambda t: (t.item_id, t.at))  # a stable sort: ties as written


def test_snapshot_reads_the_grouped_item_columns_as_written(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The columns read together as one JSON text per item (project, status, labels, properties...) come back as
    written whatever they hold: quotes, backslashes, control characters and non-ASCII text, NULLs, empty lists,
    nested JSON; items differing in one of them only are told apart; the same labels are one list."""
    p = Plan()
    odd = 'Revisión "QA" \\ \n\t\x1f 😀'
    items = [
        p.item("WID-1", created=day(0), project="ÆØÅ-1", resolution=odd, priority=None, labels=[odd, "a\"b", ""],
               components=[], properties={"signoff": {"ñ": [1, 2.5, None, True, "x\\y"]}}, flagged=True),
        p.item("WID-2", created=day(0), project="ÆØÅ-1", resolution=odd, priority=None, labels=[odd, "a\"b", ""],
               components=[], properties={"signoff": {"ñ": [1, 2.5, None, True, "x\\y"]}}, flagged=False),
        p.item("WID-3", created=day(0), priority="High", priority_id="2", resolution=None, labels=[], components=["Ü"]),
        p.item("WID-4", created=day(0), kind=ItemKind.BUG, labels=[], components=["Ü"], status="Done"),
    ]
    store.apply_batch("jira", Batch(items=items))
    read = {i.id: i for i in load_snapshot(store).items}
    monkeypatch.setattr(_snapshot, "_json_arrays", lambda conn: False)  # SQLite without JSON functions
    assert [list(i.__dict__.items()) for i in load_snapshot(store).items] == \
        [list(i.__dict__.items()) for i in read.values()]  # the same values, the same order of fields
    for written in items:
        got = read[written.id]
        assert got == written
        for name, value in written.__dict__.items():
            assert type(got.__dict__[name]) is type(value), (written.key, name)
    a, b, c, d = (read[i.id] for i in items)
    assert (a.flagged, b.flagged) == (True, False) and a.labels is b.labels and c.components is d.components
    assert isinstance(d.kind, ItemKind) and d.status_category == StatusCategory.DONE
