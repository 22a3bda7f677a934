"""What a job does, whoever starts it (cron via `syncd sync`, the daemon, `POST /sync`).

A sync takes each source under that source's lock, so two processes never sync the same source at
once; a source another process is syncing is reported as busy, not failed. Sources of different
services sync at once, those of one service one after the other (`syncd.parallel`). A report
delivery generates the report from the store, sends it, and records its history only once it was
sent (a retried slot then still compares with the report before it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syncd import metrics
from syncd.errors import ConfigError, StoreError
from syncd.locks import LockBusy, source_lock
from syncd.parallel import run_by_service, service_of
from syncd.settings import Settings
from syncd.settings_sections import ScheduleEntry
from syncd.store import Store
from syncd.store import _daemon as ledger
from syncd.sync import Progress, ProgressFactory, SourceResult, build_connector, sync_source

if TYPE_CHECKING:
    from syncd.delivery import Delivery

log = logging.getLogger("syncd.jobs")


@dataclass
class SyncOutcome:
    """The results of the sources that synced, and the ones another process was syncing."""

    results: list[SourceResult] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no source failed (busy ones are not failures)."""
        return all(r.ok for r in self.results)


def wanted_sources(settings: Settings, names: Iterable[str] | None) -> list[str]:
    """The named sources (each must exist), or every enabled one."""
    wanted = list(names or [])
    for name in wanted:
        if name not in settings.sources:
            known = ", ".join(settings.sources) or "none configured"
            raise ConfigError(f"config: no source named {name!r} (known: {known})")
    return wanted or [n for n, c in settings.sources.items() if c.enabled]


def sync_one(settings: Settings, store: Store, name: str, *, full: bool = False,
             should_stop: Callable[[], bool] = lambda: False, progress: Progress | None = None) -> SourceResult | None:
    """Sync one source under its lock; None when another process is syncing it right now."""
    connector = build_connector(name, settings.sources[name], concurrent=settings.sync.concurrent)  # imports its client library: not under the lock
    try:
        with source_lock(settings, store, f"sync-{name}") as held:
            if ledger.close_abandoned_runs(store, name, now=datetime.now(UTC)):
                log.warning("source %s: an earlier sync was left unfinished by a stopped process", name)
            result = sync_source(store, name, connector, full=full, progress=progress, should_stop=should_stop,
                                 guard=held.check, prefetch=settings.sync.concurrent)
            for resource, remaining in rate_budgets(connector).items():
                metrics.observe_rate_limit(name, resource, remaining)
            return result
    except LockBusy as exc:
        log.info("source %s: skipped, %s", name, exc)
        return None


def rate_budgets(connector: object) -> dict[str, int]:
    """Rate-limit budgets a connector's client last saw, per API resource (GitHub: core, graphql).

    Read by duck typing: a client with `budgets: {resource: obj with .remaining}`; others report none.
    """
    budgets = getattr(getattr(connector, "client", None), "budgets", None)
    if not isinstance(budgets, dict):
        return {}
    return {str(k): int(b.remaining) for k, b in budgets.items() if isinstance(getattr(b, "remaining", None), int)}


def sync_sources(settings: Settings, store: Store, names: Iterable[str] | None = None, *, full: bool = False,
                 should_stop: Callable[[], bool] = lambda: False,
                 progress_factory: ProgressFactory | None = None) -> SyncOutcome:
    """Sync sources, each under its own lock: sources of different services at once, those of one service
    one after the other (`syncd.parallel`; all one after the other with `[sync] concurrent = false`)."""
    out = SyncOutcome()

    def run(name: str) -> SourceResult | None:
        progress = progress_factory(name, None) if progress_factory else None
        return sync_one(settings, store, name, full=full, should_stop=should_stop, progress=progress)

    for name, result in run_by_service(wanted_sources(settings, names), lambda n: service_of(settings.sources[n]),
                                       run, concurrent=settings.sync.concurrent, should_stop=should_stop):
        if result is None:
            out.busy.append(name)
        else:
            out.results.append(result)
    return out


def report_recipients(settings: Settings, entry: ScheduleEntry) -> list[str]:
    """A report job's recipients: its own list, else reports.recipients of its audience (or its kind's readers)."""
    if entry.recipients:
        return list(entry.recipients)
    from syncd.reporting import recipients_for

    return recipients_for(settings, entry.kind or "", entry.audience)


def deliver_report(settings: Settings, store: Store, *, kind: str, audience: str | None, recipients: list[str],
                   now: datetime, fmt: str = "eml", scope: str | None = None, job: str | None = None,
                   slot_at: datetime | None = None, owner: str | None = None, **send_kw: Any) -> Delivery:
    """Generate a report from the store, email it, then record its history; return the delivery."""
    from syncd.delivery import send_report
    from syncd.reporting import generate_report
    from syncd.store._history import record_report

    report = generate_report(settings, store, kind, audience, now=now, scope=scope, record=False)
    delivery = send_report(settings, store, report, recipients, job=job, slot_at=slot_at, now=now, fmt=fmt,
                           owner=owner, **send_kw)
    try:
        record_report(store, kind=report.kind, audience=report.audience, scope=report.scope or scope,
                      generated_at=datetime.now(UTC), as_of=now, summary=report.summary, risk_ids=report.risk_ids)
    except StoreError as exc:  # it was sent: the next report just compares with an older one
        log.warning("report %s was sent but its history was not recorded: %s", report.kind, exc)
    return delivery
