"""When a schedule's slots fall: five-field cron expressions in an IANA time zone.

Cron is evaluated on the local wall clock, with the daylight-saving rules of Vixie cron (cronie):

- a local time skipped by a spring-forward change: a job at a fixed time (minute and hour given,
  e.g. `30 2 * * *`) runs once, at the first instant after the change (03:00 local); a wildcard
  job (minute or hour field starting with `*`, e.g. `*/15 * * * *`) simply has no slots then;
- a local time repeated by a fall-back change: a fixed-time job runs once, at the first occurrence;
  a wildcard job runs at both, so an every-15-minutes sync keeps its real-time rhythm.

Every function takes and returns timezone-aware UTC datetimes; nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

_ALIASES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_MARGIN = timedelta(hours=3)  # wider than any UTC offset change, so no slot near an edge is missed
_SEARCH = (timedelta(hours=2), timedelta(days=2), timedelta(days=64), timedelta(days=366 * 8))


@lru_cache(maxsize=256)
def _expand(expr: str) -> tuple[str, bool]:
    """The five-field form of `expr` and whether it is a wildcard job (minute or hour starts with `*`)."""
    fields = _ALIASES.get(expr.strip().lower(), expr).split()
    if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
        raise ValueError(f"{expr!r} is not a five-field cron expression")
    return " ".join(fields), fields[0].startswith("*") or fields[1].startswith("*")


def _gap_end(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (lo, hi] whose UTC offset differs from lo's: where the clock jumped."""
    before = lo.astimezone(zone).utcoffset()
    low, high = lo, hi
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high.replace(microsecond=0)


def _instants(naive: datetime, zone: ZoneInfo, wildcard: bool) -> list[datetime]:
    """The UTC instants at which the local wall clock reads `naive`, under the rules above."""
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    if first.astimezone(zone).replace(tzinfo=None) == naive:  # shown twice (fall back)
        return sorted({first, second}) if wildcard else [min(first, second)]
    if wildcard:  # skipped by a spring-forward change
        return []
    return [_gap_end(min(first, second), max(first, second), zone)]


def slots_between(expr: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """The slots of `expr` in time zone `tz` within (start, end], ascending, as UTC datetimes."""
    if end <= start:
        return []
    five, wildcard = _expand(expr)
    zone = ZoneInfo(tz)
    lo = start.astimezone(zone).replace(tzinfo=None) - _MARGIN
    hi = end.astimezone(zone).replace(tzinfo=None) + _MARGIN
    found: set[datetime] = set()
    it = croniter(five, lo)
    try:
        while (naive := it.get_next(datetime)) <= hi:
            found.update(u for u in _instants(naive, zone, wildcard) if start < u <= end)
    except CroniterBadDateError:  # croniter gives up on an expression with no date ahead (31 February)
        raise ValueError(f"cron {expr!r} never fires (no such date, e.g. 31 February)") from None
    return sorted(found)


def next_slot(expr: str, tz: str, after: datetime) -> datetime:
    """The first slot strictly after `after`."""
    for width in _SEARCH:
        slots = slots_between(expr, tz, after, after + width)
        if slots:
            return slots[0]
    raise ValueError(f"cron {expr!r} has no slot within eight years of {after.isoformat()}")


def check_fires(expr: str) -> None:
    """ValueError when `expr` has no slot at all (`0 9 31 2 *`: February never has a 31st).

    Every expression that fires at all fires within four years (29 February), and within eight
    around a skipped leap year (2100); the search starts from a fixed date, not the clock.
    """
    try:
        next_slot(expr, "UTC", datetime(2096, 3, 1, tzinfo=UTC))
    except (ValueError, CroniterBadDateError):
        raise ValueError(f"cron {expr!r} never fires (no such date, e.g. 31 February)") from None


def previous_slot(expr: str, tz: str, at: datetime) -> datetime | None:
    """The last slot at or before `at`, or None when there is none within eight years."""
    for width in _SEARCH:
        slots = slots_between(expr, tz, at - width, at)
        if slots:
            return slots[-1]
    return None


def describe_slot(moment: datetime, tz: str) -> str:
    """A slot as local time with its offset, for logs and messages: `2026-03-30 09:00 CEST`."""
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
