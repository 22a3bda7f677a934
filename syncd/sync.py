"""The sync engine: runs each configured source's connector and stores its batches."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from syncd import collector
from syncd.connectors.base import Connector
from syncd.connectors.config import GitHubSource, JiraSource
from syncd.connectors.prefetch import prefetched
from syncd.connectors.sanitise import sanitise_batch
from syncd.errors import ConfigError, StoreError, StoreUnavailable, SyncdError
from syncd.model import Batch
from syncd.parallel import run_by_service, service_of
from syncd.settings import Settings
from syncd.store import BatchResult, Store

log = logging.getLogger("syncd.sync")


@dataclass
class SourceResult:
    """The outcome of syncing one source."""

    source: str
    ok: bool
    result: BatchResult = field(default_factory=BatchResult)
    requests: int = 0
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)  # one line each, worth a user's attention once

    def summary(self) -> str:
        """One line: what changed, what it cost."""
        r = self.result
        state = "ok" if self.ok else "FAILED"
        line = (f"{self.source}: {state}: {r.new} new, {r.updated} updated, {r.removed} removed, "
                f"{r.unchanged} unchanged; {self.requests} requests in {self.seconds:.1f}s")
        return line + (f" — {self.error}" if self.error else "")


def build_connector(name: str, config: Any, *, concurrent: bool = True) -> Connector:
    """The connector for a configured source (`concurrent`: a GitHub source lists beside its GraphQL batches)."""
    if isinstance(config, JiraSource):
        from syncd.connectors.jira import JiraConnector

        return JiraConnector(name, config)
    if isinstance(config, GitHubSource):
        from syncd.connectors.github import GitHubConnector

        return GitHubConnector(name, config, concurrent=concurrent)
    raise ConfigError(f"config: sources.{name}: unknown source type")


ProgressFactory = Callable[[str, int | None], "Progress"]


class Progress:
    """Progress sink for one source; the default does nothing (cron, CI, tests)."""

    def advance(self, n: int) -> None:
        """`n` more items were stored."""

    def total(self, n: int | None) -> None:
        """The expected number of items became known."""

    def close(self) -> None:
        """The source is done."""


def rich_progress() -> tuple[AbstractContextManager[Any], ProgressFactory]:
    """A rich progress bar on a terminal; nothing elsewhere."""
    if not sys.stderr.isatty():
        return nullcontext(), lambda name, total: Progress()
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), transient=True)

    class _Bar(Progress):
        def __init__(self, name: str, total: int | None) -> None:
            self.task = bar.add_task(f"sync {name}", total=total)

        def advance(self, n: int) -> None:
            bar.advance(self.task, n)

        def total(self, n: int | None) -> None:
            bar.update(self.task, total=n)

        def close(self) -> None:
            bar.remove_task(self.task)

    return bar, _Bar


@collector.during_sync
def sync_source(store: Store, name: str, connector: Connector, *, full: bool = False,
                progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False,
                guard: Callable[[], None] = lambda: None, prefetch: bool = True) -> SourceResult:
    """Sync one source: every batch is stored with its cursor in one transaction.

    A failure leaves the cursor of the last stored batch, and everything stored before it, in place.
    `should_stop` is checked between batches (graceful shutdown); `guard` runs before each batch is
    stored and raises to stop the source (the source lock was lost).

    Every batch is made storable first (`connectors.sanitise`: each record changed is named in one of
    the result's warnings). A batch the store still refuses is stored record by record: a refused record is skipped
    and named, the rest is stored, and from then on this run stores no cursor, so the next sync reads
    the skipped records again. A lost database connection stops the source with one line.

    `prefetch`: the connector makes its next batch in a thread while this one is stored, one batch ahead
    (`connectors.prefetch`): the same batches in the same order, a fetch failure raised where it would be,
    a store failure or a stop closing the fetcher; the census's `known_ids` is read on this thread once
    every batch made before it is stored, so it sees what the sequential loop would.
    """
    progress = progress or Progress()
    started = time.monotonic()
    out = SourceResult(source=name, ok=True)
    cursor = None if full else store.cursor(name)
    run_id = store.start_run(name, full or cursor is None)
    batches: Iterator[Batch] = iter(())
    refused: list[str] = []
    sanitised: list[str] = []  # one warning per record stored with unstorable values made storable
    try:
        if prefetch:
            batches = prefetched(lambda on_store_thread: connector.fetch(
                cursor, full=full, known_ids=lambda: on_store_thread(lambda: store.item_keys(name))),
                name=f"syncd-fetch-{name}")
        else:
            batches = connector.fetch(cursor, full=full, known_ids=lambda: store.item_keys(name))
        for batch in batches:
            # read after the batch came: every answer it was made from was read before (a prefetched next
            # page's answer too, which can only make this False)
            strict = getattr(connector, "answers_strict", False) is True
            sanitised.extend(f"source {name}: {key} stored with unstorable values made storable: {what}"
                             for key, what in sanitise_batch(batch, answers_strict=strict))
            if refused:
                batch.cursor = None  # keep the cursor before the refused records: the next sync retries them
            guard()
            try:
                out.result.add(store.apply_batch(name, batch))
            except StoreUnavailable:
                raise
            except StoreError:
                stored, skipped = _store_record_by_record(store, name, batch)
                out.result.add(stored)
                refused.extend(skipped)
            progress.total(connector.total_hint)
            progress.advance(len(batch.items))
            if should_stop():
                out.error = "stopped before the end (shutdown requested); the next sync resumes from here"
                break
    except SyncdError as exc:
        out.ok = False
        out.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken source must not stop the others
        log.exception("source %s failed", name)
        out.ok = False
        out.error = f"source {name}: unexpected {exc.__class__.__name__}: {exc}"
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # a prefetching fetcher is stopped and joined before the run is recorded
        out.warnings = list(getattr(connector, "warnings", None) or []) + sanitised
        if refused:
            out.ok = False
            out.error = "; ".join(e for e in (_refused_line(name, refused), out.error) if e)
        out.requests = connector.requests
        out.seconds = time.monotonic() - started
        try:
            store.finish_run(run_id, status="ok" if out.ok else "failed", result=out.result,
                             requests=out.requests, error=out.error)
        except StoreError as exc:  # the run stays "running"; the next sync closes it as abandoned
            log.warning("source %s: its sync run could not be recorded: %s", name, exc)
        progress.close()
    return out


def _store_record_by_record(store: Store, name: str, batch: Batch) -> tuple[BatchResult, list[str]]:
    """Store a refused batch one record (an item with what it owns) at a time, without its cursor.

    Returns what was stored and one `what: why` entry per record the store refused.
    """
    done, skipped = BatchResult(), []
    for what, unit in _units(batch):
        try:
            done.add(store.apply_batch(name, unit))
        except StoreUnavailable:
            raise
        except StoreError as exc:
            reason = str(exc).split(": ", 1)[-1]
            log.warning("source %s: %s not stored, the store refused it: %s", name, what, reason)
            skipped.append(f"{what}: {reason}")
    return done, skipped


def _units(batch: Batch) -> list[tuple[str, Batch]]:
    """The batch as separately storable parts: people, sprints and releases first (items name them), then
    each item with its pull request, links and transitions, then children of items not in the batch."""
    units: list[tuple[str, Batch]] = [(f"person {p.id}", Batch(people=[p])) for p in batch.people]
    units += [(f"sprint {s.id}", Batch(sprints=[s])) for s in batch.sprints]
    units += [(f"release {r.id}", Batch(releases=[r])) for r in batch.releases]
    children = {p.item_id for p in batch.pulls} | {t.item_id for t in batch.transitions} | {
        lk.from_id for lk in batch.links}
    owners = [i.id for i in batch.items] + sorted(children - {i.id for i in batch.items})
    items = {i.id: i for i in batch.items}
    for owner in owners:
        item = items.get(owner)
        units.append((f"item {item.key}" if item else f"details of item {owner}", Batch(
            items=[item] if item else [], pulls=[p for p in batch.pulls if p.item_id == owner],
            links=[lk for lk in batch.links if lk.from_id == owner],
            transitions=[t for t in batch.transitions if t.item_id == owner])))
    if batch.removed_ids:
        units.append(("removals", Batch(removed_ids=batch.removed_ids)))
    return units


def _refused_line(name: str, refused: list[str]) -> str:
    head = "; ".join(refused[:3]) + (f"; and {len(refused) - 3} more" if len(refused) > 3 else "")
    noun = "1 record" if len(refused) == 1 else f"{len(refused)} records"
    return (f"source {name}: {noun} not stored, the store refused: {head} (everything else was stored; "
            "the cursor stays before them, so the next sync retries them)")


def sync_all(settings: Settings, store: Store, *, names: Iterable[str] | None = None, full: bool = False,
             progress_factory: ProgressFactory | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> list[SourceResult]:
    """Sync the named sources (default: every enabled one), each on its own; return their results.

    Sources of different services sync at once (`syncd.parallel`) unless `[sync] concurrent = false`.
    """
    wanted = list(names) if names else [n for n, c in settings.sources.items() if c.enabled]
    for name in wanted:
        if name not in settings.sources:
            known = ", ".join(settings.sources) or "none configured"
            raise ConfigError(f"config: no source named {name!r} (known: {known})")
    factory = progress_factory or (lambda n, t: Progress())
    concurrent = settings.sync.concurrent

    def run(name: str) -> SourceResult:
        connector = build_connector(name, settings.sources[name], concurrent=concurrent)
        return sync_source(store, name, connector, full=full, progress=factory(name, None),
                           should_stop=should_stop, prefetch=concurrent)

    return [r for _, r in run_by_service(wanted, lambda n: service_of(settings.sources[n]), run,
                                         concurrent=concurrent, should_stop=should_stop)]
