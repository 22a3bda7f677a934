"""What only this process knows for its Prometheus metrics: rate-limit budgets seen, failed scheduled jobs.

Rate-limit budgets are only known to the process that made the requests: they come from syncs run by this
process (`syncd run`, `POST /sync`). `syncd.metrics_export` serves them beside the figures it reads from the
store. Kept apart from it so that a sync, which records what it sees here, does not load prometheus_client
(18 ms CPU of a `syncd sync`).
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_rate_remaining: dict[tuple[str, str], int] = {}
_job_errors: dict[str, int] = {}


def observe_rate_limit(source: str, resource: str, remaining: int) -> None:
    """Remember the last rate-limit budget a source's API reported to this process, per API resource."""
    with _lock:
        _rate_remaining[(source, resource)] = remaining


def observe_job_error(area: str) -> None:
    """Count a failed scheduled job in this process (`sync`, `report`, `scheduler`)."""
    with _lock:
        _job_errors[area] = _job_errors.get(area, 0) + 1


def observed() -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Copies of what was observed so far: rate-limit budgets by (source, resource), failed jobs by area."""
    with _lock:
        return dict(_rate_remaining), dict(_job_errors)
