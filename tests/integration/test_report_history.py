"""report_history on SQLite and PostgreSQL: the previous report is the one before `now`, per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.store import Store
from syncd.store._history import previous_report, record_report, report_history

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _record(store: Store, as_of: datetime, *, audience: str | None = "executive", scope: str | None = None,
            pct: int = 0) -> int:
    return record_report(store, kind="status", audience=audience, scope=scope, generated_at=as_of,
                         as_of=as_of, summary={"goals": {"g1": {"percent": pct}}}, risk_ids=[f"r{pct}"])


def test_previous_report_is_the_latest_before_now_for_the_same_kind_audience_and_scope(store: Store) -> None:
    assert previous_report(store, kind="status", audience="executive", scope=None, before=T0) is None
    _record(store, T0, pct=10)
    _record(store, T0 + timedelta(days=7), pct=20)
    _record(store, T0 + timedelta(days=14), pct=30)
    _record(store, T0 + timedelta(days=10), audience="business", pct=99)
    _record(store, T0 + timedelta(days=10), scope="g2", pct=98)

    prev = previous_report(store, kind="status", audience="executive", scope=None, before=T0 + timedelta(days=14))
    assert prev is not None
    assert prev.summary == {"goals": {"g1": {"percent": 20}}} and prev.risk_ids == ["r20"]
    assert prev.as_of == T0 + timedelta(days=7) and prev.as_of.tzinfo is not None
    # reproducing a past report compares with the report before that past date
    past = previous_report(store, kind="status", audience="executive", scope=None, before=T0 + timedelta(days=7))
    assert past is not None and past.summary["goals"]["g1"]["percent"] == 10
    scoped = previous_report(store, kind="status", audience="executive", scope="g2", before=T0 + timedelta(days=30))
    assert scoped is not None and scoped.summary["goals"]["g1"]["percent"] == 98
    none_audience = previous_report(store, kind="status", audience=None, scope=None, before=T0 + timedelta(days=30))
    assert none_audience is None
    rows = report_history(store, kind="status", limit=2)
    assert [r.summary["goals"]["g1"]["percent"] for r in rows] == [30, 98]  # same as_of: newest row first
