"""The scheduler's clock: real time, or virtual time that runs faster (tests, dry runs).

Everything that waits for a schedule asks a `Clock`, so tests drive days of cron slots in
milliseconds and several processes can share one fast virtual timeline (`syncd run --clock-*`).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

REPORT_YEARS = (1970, 2999)  # a report "as of" outside these years is a typo, and would overflow datetime


def report_moment(moment: datetime) -> datetime:
    """An aware `moment` a report may be generated as of; ValueError (one line) when out of range.

    Reports reach weeks before and after `now` (history windows, forecast horizons), so a moment
    near datetime's limits (9999-12-31T23:59:59-12:00 is year 10000 in UTC) cannot be one.
    """
    first, last = REPORT_YEARS
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not first <= in_utc.year <= last:
        raise ValueError(f"{moment.isoformat()} is out of range (a time in the years {first} to {last})")
    return moment


class Clock(Protocol):
    """Where the scheduler gets the time and how it waits."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait `seconds` of this clock's time or until `stop` is set; True when stopped."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait on `stop` for up to `seconds`."""
        return stop.wait(max(0.0, seconds))


class FastClock:
    """Virtual time: `start` at Unix time `epoch`, running `speed` times faster (tests, dry runs)."""

    def __init__(self, start: datetime, speed: float = 1.0, epoch: float | None = None) -> None:
        self.start, self.speed = start, speed
        self.epoch = time.time() if epoch is None else epoch

    def now(self) -> datetime:
        """The virtual time now."""
        return self.start + timedelta(seconds=(time.time() - self.epoch) * self.speed)

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait `seconds` of virtual time."""
        return stop.wait(max(0.0, seconds) / self.speed)
