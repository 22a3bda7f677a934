"""The scheduler's clock: real time, or virtual time that runs faster (tests, dry runs).

Everything that waits for a schedule asks a `Clock`, so tests drive days of cron slots in
milliseconds and several processes can share one fast virtual timeline (`syncd run --clock-*`).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


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
