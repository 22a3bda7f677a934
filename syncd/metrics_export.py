"""Prometheus metrics: figures read from the store at scrape time, plus what only this process knows.

Most figures come from the store (sync runs, stored items, the delivery log, schedule slots), so
any `syncd serve` or `syncd run --serve` shows the work of every process sharing the database.
Rate-limit budgets and failed scheduled jobs come from `syncd.metrics`, what this process observed.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from syncd.metrics import observed
from syncd.store import Store
from syncd.store import _daemon as ledger


class StoreCollector(Collector):
    """Reads the figures from the store on every scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """The metric families, freshly read."""
        last_ok = GaugeMetricFamily("syncd_last_successful_sync_timestamp_seconds",
                                    "When the last successful sync of a source finished (Unix time).", labels=["source"])
        runs = CounterMetricFamily("syncd_sync_runs", "Sync runs by outcome.", labels=["source", "status"])
        items = CounterMetricFamily("syncd_items_synced", "Items changed by syncs.", labels=["source", "change"])
        requests = CounterMetricFamily("syncd_api_requests", "API requests made by syncs.", labels=["source"])
        errors = CounterMetricFamily("syncd_errors", "Failures: failed syncs and deliveries (store), failed "
                                     "scheduled jobs (this process).", labels=["area"])
        stored = GaugeMetricFamily("syncd_stored_items", "Live items in the store.", labels=["source"])
        deliveries = CounterMetricFamily("syncd_report_deliveries", "Report deliveries by outcome.",
                                         labels=["kind", "status"])
        slots = GaugeMetricFamily("syncd_schedule_slots", "Recorded schedule slots by state.", labels=["state"])
        remaining = GaugeMetricFamily("syncd_rate_limit_remaining",
                                      "Requests left in the source's rate-limit window, as last seen by this process.",
                                      labels=["source", "resource"])
        up = GaugeMetricFamily("syncd_store_up", "1 when the store answered this scrape.")
        try:
            figures = ledger.sync_figures(self.store)
            delivered = ledger.delivery_figures(self.store)
            slot_states = ledger.slot_figures(self.store)
            counts = ledger.stored_item_counts(self.store)
        except Exception:  # noqa: BLE001 - a scrape must answer even when the database does not
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        newest: dict[str, float] = {}
        failed_syncs = 0
        per_source: dict[str, dict[str, int]] = {}
        for f in figures:
            runs.add_metric([f["source"], f["status"]], f["runs"])
            acc = per_source.setdefault(f["source"], {"new": 0, "updated": 0, "removed": 0, "requests": 0})
            for key in acc:
                acc[key] += f[key]
            if f["status"] == "ok" and f["last_finished"] is not None:
                newest[f["source"]] = f["last_finished"].timestamp()
            if f["status"] == "failed":
                failed_syncs += f["runs"]
        for source, acc in sorted(per_source.items()):
            for change in ("new", "updated", "removed"):
                items.add_metric([source, change], acc[change])
            requests.add_metric([source], acc["requests"])
        for source, ts in sorted(newest.items()):
            last_ok.add_metric([source], ts)
        for source, n in sorted(counts.items()):
            stored.add_metric([source], n)
        failed_deliveries = 0
        for (kind, status), n in sorted(delivered.items()):
            deliveries.add_metric([kind, status], n)
            if status in ("failed", "uncertain"):
                failed_deliveries += n
        for state, n in sorted(slot_states.items()):
            slots.add_metric([state], n)
        budgets, job_errors = observed()
        for (source, resource), n in sorted(budgets.items()):
            remaining.add_metric([source, resource], n)
        errors.add_metric(["sync"], failed_syncs)
        errors.add_metric(["delivery"], failed_deliveries)
        for area, n in sorted(job_errors.items()):
            errors.add_metric([f"job_{area}"], n)
        yield from (up, last_ok, runs, items, requests, stored, deliveries, slots, remaining, errors)


def metrics_registry(store: Store) -> tuple[CollectorRegistry, Counter]:
    """A registry with the store's figures, and the HTTP request counter the service updates."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    http = Counter("syncd_http_requests", "HTTP requests served, by route and status class.",
                   ["route", "status"], registry=registry)
    return registry, http
