"""Cron slots on the local wall clock across daylight-saving changes (answers worked out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncd.cron import describe_slot, next_slot, previous_slot, slots_between


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(slots: list[datetime], tz: str) -> list[str]:
    return [describe_slot(s, tz) for s in slots]


# Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
# America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).


def test_daily_0230_berlin_spring_forward_runs_once_when_the_clock_jumps() -> None:
    slots = slots_between("30 2 * * *", "Europe/Berlin", utc(2026, 3, 27), utc(2026, 3, 31))
    assert slots == [utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]
    assert local(slots, "Europe/Berlin")[2] == "2026-03-29 03:00 CEST"


def test_daily_0230_berlin_fall_back_runs_once_at_the_first_occurrence() -> None:
    slots = slots_between("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24), utc(2026, 10, 27))
    assert slots == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    assert local(slots, "Europe/Berlin") == ["2026-10-24 02:30 CEST", "2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"]


def test_daily_0230_new_york_both_changes() -> None:
    spring = slots_between("30 2 * * *", "America/New_York", utc(2026, 3, 7), utc(2026, 3, 10))
    assert spring == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]
    fall = slots_between("30 2 * * *", "America/New_York", utc(2026, 10, 31), utc(2026, 11, 3))
    # 02:30 is not repeated in New York (01:00-02:00 is): one slot a day, offset moves from -4 to -5
    assert fall == [utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30)]


def test_fixed_time_in_new_yorks_repeated_hour_runs_once() -> None:
    fall = slots_between("30 1 * * *", "America/New_York", utc(2026, 11, 1), utc(2026, 11, 2))
    assert fall == [utc(2026, 11, 1, 5, 30)]  # 01:30 EDT, not again at 01:30 EST (06:30Z)


@pytest.mark.parametrize(("tz", "before", "after"), [
    ("Europe/Berlin", utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)),
    ("America/New_York", utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)),
])
def test_monday_0900_keeps_local_time_across_spring_forward(tz: str, before: datetime, after: datetime) -> None:
    slots = slots_between("0 9 * * 1", tz, before.replace(hour=0), after.replace(hour=23))
    assert slots == [before, after]
    assert {describe_slot(s, tz)[11:16] for s in slots} == {"09:00"}


def test_monday_0900_across_fall_back() -> None:
    assert slots_between("0 9 * * mon", "Europe/Berlin", utc(2026, 10, 19), utc(2026, 10, 27)) == [
        utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)]
    assert slots_between("0 9 * * 1", "America/New_York", utc(2026, 10, 26), utc(2026, 11, 3)) == [
        utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]


def test_wildcard_jobs_keep_real_time_rhythm() -> None:
    fall = slots_between("*/30 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23), utc(2026, 10, 25, 2))
    assert local(fall, "Europe/Berlin") == [
        "2026-10-25 01:30 CEST", "2026-10-25 02:00 CEST", "2026-10-25 02:30 CEST",
        "2026-10-25 02:00 CET", "2026-10-25 02:30 CET", "2026-10-25 03:00 CET"]
    assert all((b - a).total_seconds() == 1800 for a, b in zip(fall, fall[1:], strict=False))
    spring = slots_between("*/30 * * * *", "Europe/Berlin", utc(2026, 3, 28, 23), utc(2026, 3, 29, 2))
    assert local(spring, "Europe/Berlin") == [
        "2026-03-29 00:30 CET", "2026-03-29 01:00 CET", "2026-03-29 01:30 CET",
        "2026-03-29 03:00 CEST", "2026-03-29 03:30 CEST", "2026-03-29 04:00 CEST"]


def test_window_is_half_open_and_next_previous_agree() -> None:
    assert slots_between("0 * * * *", "UTC", utc(2026, 1, 1, 9), utc(2026, 1, 1, 11)) == [
        utc(2026, 1, 1, 10), utc(2026, 1, 1, 11)]
    assert next_slot("0 9 * * 1", "Europe/Berlin", utc(2026, 3, 23, 8)) == utc(2026, 3, 30, 7)
    assert previous_slot("0 9 * * 1", "Europe/Berlin", utc(2026, 3, 30, 7)) == utc(2026, 3, 30, 7)
    assert previous_slot("0 9 * * 1", "Europe/Berlin", utc(2026, 3, 30, 6, 59)) == utc(2026, 3, 23, 8)
    assert next_slot("@daily", "UTC", utc(2026, 2, 28, 12)) == utc(2026, 3, 1)
    assert next_slot("0 0 29 2 *", "UTC", utc(2026, 3, 1)) == utc(2028, 2, 29)


def test_invalid_expression_is_refused() -> None:
    with pytest.raises(ValueError, match="five-field"):
        slots_between("0 0 * * * *", "UTC", utc(2026, 1, 1), utc(2026, 1, 2))
