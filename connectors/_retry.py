"""The one retry policy every connector applies at its client edge (tenacity).

A connector wraps each API call in `call_with_retry`, with a `classify` function that says, for
an exception its client raised, whether to retry and how long the server asked us to wait
(`Retry-After`, a rate-limit reset). The client libraries' own retries are turned off so the two
never stack.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from syncd.connectors.config import RetryPolicy
from syncd.errors import SourceError

log = logging.getLogger("syncd.retry")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryDecision:
    """Retry this failure; wait `after` seconds when the server said so, else back off with jitter."""

    after: float | None = None
    reason: str = ""


Classifier = Callable[[BaseException], RetryDecision | None]


class WaitTooLong(Exception):
    """The server asked for a wait longer than the policy allows."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    source: str,
    classify: Classifier,
    describe: Callable[[BaseException], str] = lambda e: f"{e.__class__.__name__}: {e}",
    url: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`, retrying what `classify` calls transient, within the policy's bounds.

    Raises SourceError (one line, naming the source and URL) when it gives up.
    """
    backoff = wait_random_exponential(multiplier=0.5, max=min(policy.max_wait_s, 60.0))

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        decision = classify(exc) if exc else None
        if decision is not None and decision.after is not None:
            if decision.after > policy.max_wait_s:
                raise WaitTooLong(f"server asked to wait {decision.after:.0f}s (more than retry.max_wait_s={policy.max_wait_s:.0f}s)")
            wait_s = decision.after + 0.05
        else:
            wait_s = backoff(state)
        log.info("%s: retrying after %.1fs (%s, attempt %d)", source, wait_s,
                 decision.reason if decision else "", state.attempt_number)
        return wait_s

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.total_s),
        wait=wait,
        retry=retry_if_exception(lambda e: classify(e) is not None),
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(fn)
    except WaitTooLong as exc:
        raise SourceError(source, str(exc), url) from None
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - any client failure ends as one SourceError line
        raise SourceError(source, describe(exc), url) from None
