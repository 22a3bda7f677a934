"""The store's column types: `UtcDateTime`'s one-step SQLite binding gives the text SQLAlchemy's own chain gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from syncd.store import schema

MOMENTS = [
    (datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=1))), "2026-01-01 09:00:00.000000"),
    (datetime(2026, 3, 1, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-8))), "2026-03-02 07:30:00.000005"),
    (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02 03:04:05.000000"),
    (datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC), "0001-01-01 00:00:00.000001"),
    (datetime(2026, 12, 6, 23, 59, 59, 120000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     "2026-12-06 18:29:59.120000"),
    (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31 23:59:59.999999"),
]


@pytest.mark.parametrize(("moment", "text"), MOMENTS)
def test_a_moment_is_bound_on_sqlite_as_its_utc_text(moment: datetime, text: str) -> None:
    dialect = sqlite.dialect()
    bind = schema.UtcDateTime()._cached_bind_processor(dialect)
    assert bind is not None
    # the text worked out by hand, and the one SQLAlchemy's SQLite DATETIME gives the naive UTC moment
    sqlalchemy_text = DATETIME().bind_processor(dialect)(moment.astimezone(UTC).replace(tzinfo=None))
    assert bind(moment) == text == sqlalchemy_text


def test_none_and_naive_moments_on_sqlite() -> None:
    bind = schema.UtcDateTime()._cached_bind_processor(sqlite.dialect())
    assert bind is not None
    assert bind(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        bind(datetime(2026, 1, 1))


def test_postgresql_keeps_the_aware_moment() -> None:
    bind = schema.UtcDateTime()._cached_bind_processor(postgresql.dialect())
    moment = datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    got = bind(moment) if bind is not None else moment
    assert got == moment and got.utcoffset() == timedelta(0)


def test_a_moment_binds_as_the_same_text_in_any_zone() -> None:
    """One moment bound from UTC and from other zones gives one UTC text; a naive one is refused every time."""
    bind = schema.UtcDateTime()._cached_bind_processor(sqlite.dialect())
    assert bind is not None
    in_utc = datetime(2026, 5, 6, 7, 8, 9, 10, tzinfo=UTC)
    in_new_york = in_utc.astimezone(timezone(timedelta(hours=-4)))
    in_kolkata = in_utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    as_zero_offset = in_utc.replace(tzinfo=timezone(timedelta(0)))  # UTC, but not the `UTC` object
    assert bind(in_utc) == bind(in_new_york) == bind(in_kolkata) == bind(as_zero_offset) == "2026-05-06 07:08:09.000010"
    naive = datetime(2026, 5, 6, 7, 8, 9, 10)
    for _ in range(2):
        with pytest.raises(ValueError, match="naive datetime"):
            bind(naive)
