"""Transitions kept as columns (syncd/store/_transitions.py): the rows an item is asked for, and facts from columns."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

from syncd.model import StatusCategory, Transition, TransitionField
from syncd.reports.analysis.history import Histories, ItemFacts
from syncd.reports.data import Snapshot
from syncd.store import TransitionColumns, TransitionRow
from syncd.store._transitions import ColumnsBuilder, micros, moment
from tests.unit.analysis_factories import Plan, day

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row(item_id: str, field: str, fv: str | None, tv: str | None, fs: str | None, ts: str | None,
        hours: float) -> TransitionRow:
    return TransitionRow(item_id, field, fv, tv, fs, ts, T + timedelta(hours=hours))


# Given out of order: b before a, later rows first, two rows of `a` at the same moment (kept in the order given).
A1 = row("a", "status", "1", "3", "To Do", "In Progress", 1)
A2 = row("a", "sprint", None, "7", None, "Sprint 7", 2.5)
A3 = row("a", "status", "3", "5", "In Progress", "Done", 2.5)
A0 = TransitionRow("a", "estimate", None, None, "", "3", T + timedelta(microseconds=1))
B1 = row("b", "status", "1", "3", "To Do", "In Progress", -30)
GIVEN = [B1, A2, A3, A1, A0]


def test_an_item_gets_exactly_its_rows_in_time_order_built_once() -> None:
    cols = TransitionColumns.from_rows(GIVEN)
    assert list(cols) == ["a", "b"] and len(cols) == 2
    assert "a" in cols and "c" not in cols and cols.get("c") is None and cols.get("c", ()) == ()
    assert cols["a"] == [A0, A1, A2, A3]  # by time; A2 before A3 (same moment) as given
    assert cols["b"] == [B1]
    assert cols["a"] is cols["a"]  # built on first access, then kept
    assert all(t.at.tzinfo is UTC and type(t) is TransitionRow for t in cols["a"])
    assert cols["a"][0].at == datetime(2026, 3, 2, 9, 0, 0, 1, tzinfo=UTC)
    assert cols.rows() == [A0, A1, A2, A3, B1]
    assert cols.present_fields() == {"status", "sprint", "estimate"}


def test_records_and_other_offsets_give_the_same_rows() -> None:
    berlin = timezone(timedelta(hours=1))
    rec = Transition(item_id="x", change_id="c1", field=TransitionField.STATUS, from_string="To Do",
                     to_string="Done", at=datetime(2026, 3, 2, 10, 0, tzinfo=berlin))
    cols = TransitionColumns.from_rows([rec])
    assert cols["x"] == [TransitionRow("x", "status", None, None, "To Do", "Done", T)]
    assert micros(T) == calendar.timegm((2026, 3, 2, 9, 0, 0)) * 1_000_000


def test_the_builder_keeps_only_the_given_items_and_the_cut_keeps_what_a_moment_had() -> None:
    build = ColumnsBuilder(["b", "a"])
    build.add([(i, "status", "1", "3", "To Do", "In Progress", micros(T + timedelta(hours=h)))
               for i, h in (("z", 1), ("a", 3), ("b", 2))])
    cols = build.columns()
    assert list(cols) == ["a", "b"]  # z's row left out
    assert cols["b"] == [row("b", "status", "1", "3", "To Do", "In Progress", 2)]
    assert cols.changed_after(T + timedelta(hours=2.5)) == ["a"]
    full = TransitionColumns.from_rows(GIVEN)
    assert full.changed_after(T + timedelta(hours=2)) == ["a"]
    assert full.changed_after(T + timedelta(hours=2), "estimate") == []
    assert full.changed_after(T, "estimate") == ["a"]
    assert full.cut({"a", "b"}, T + timedelta(hours=3), {"status", "sprint", "estimate"}) is full
    cut = full.cut({"a"}, T + timedelta(hours=2), {"status", "sprint"})
    assert list(cut) == ["a"] and cut["a"] == [A1] and cut.rows() == [A1]
    assert list(full.cut({"b"}, T - timedelta(days=3), {"status"})) == []


def test_facts_from_the_status_columns_match_a_hand_worked_answer() -> None:
    p = Plan()
    # started day 1, done day 3, reopened day 4, done again day 5: started day 1, done day 5
    a = p.item(created=day(0))
    p.move(a, "In Progress", day(1))
    p.estimate(a, 5, day(2))  # not a status change: ignored
    p.move(a, "Done", day(3))
    p.move(a, "In Progress", day(4))
    p.move(a, "Done", day(5))
    # created straight into In Progress: its first change leaves In Progress, so it started on creation
    b = p.item(created=day(0), status="In Progress")
    p.move(b, "In Review", day(2))
    # to do, then done without ever being in progress: never started, done day 2
    c = p.item(created=day(1))
    p.move(c, "Done", day(2))
    # no history: to do; in progress (started on creation); done (resolved is the done time)
    d = p.item(created=day(1))
    e = p.item(created=day(2), status="In Progress")
    f = p.item(created=day(1), status="Done", resolved=day(6))
    # done, then reopened to To Do: not done, and never started
    g = p.item(created=day(0))
    p.move(g, "Done", day(1))
    p.move(g, "To Do", day(2))
    snap = Snapshot.of(p.items.values(), transitions=reversed(p.transitions))
    facts = Histories(snap).facts()
    assert facts == {
        a.id: ItemFacts(day(1), day(5)),
        b.id: ItemFacts(day(0), None),
        c.id: ItemFacts(None, day(2)),
        d.id: ItemFacts(None, None),
        e.id: ItemFacts(day(2), None),
        f.id: ItemFacts(None, day(6)),
        g.id: ItemFacts(None, None),
    }
    assert snap.items[0].status_category == StatusCategory.DONE


def test_moments_round_trip_to_the_microsecond() -> None:
    cases = [datetime(2026, 3, 2, 9, 0, 0, us, tzinfo=UTC) for us in (0, 1, 499_999, 500_000, 999_999)]
    cases += [datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2106, 2, 7, 6, 28, 16, 1, tzinfo=UTC),
              datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)]
    for dt in cases:
        back = moment(micros(dt))
        assert back == dt and back.tzinfo is UTC and back.microsecond == dt.microsecond


def test_rows_read_item_by_item_or_going_back_in_time_come_out_by_item_then_time() -> None:
    """Rows read item by item, each item's in time order (one sort by item is the order), and rows of an item
    going back in time (sorted by time too) both give each item's rows by time, ties in the order read; the
    rows of items not kept are left out however they are ordered."""
    def built(rows: list[tuple[str, str, float]]) -> dict[str, list[tuple[str | None, float]]]:
        build = ColumnsBuilder(["a", "b"])
        build.add([(i, "status", None, None, None, to, micros(T + timedelta(hours=h))) for i, to, h in rows])
        cols = build.columns()
        return {i: [(t.to_string, (t.at - T) / timedelta(hours=1)) for t in cols[i]] for i in cols}

    in_order = [("a", "1", 1), ("a", "2", 2), ("a", "3", 2), ("z", "9", 5), ("z", "8", 1), ("b", "4", 0), ("b", "5", 3)]
    expected = {"a": [("1", 1), ("2", 2), ("3", 2)], "b": [("4", 0), ("5", 3)]}
    assert built(in_order) == expected
    assert built([in_order[6], *in_order[:6]]) == expected  # b's rows go back in time
    assert built([in_order[2], in_order[0], in_order[1], *in_order[3:]]) == {"a": [("1", 1), ("3", 2), ("2", 2)],
                                                                               "b": expected["b"]}
