"""The `syncd run` process: one daemon per SQLite file, graceful signals, the optional HTTP service."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import ExitStack
from types import FrameType

from syncd.checks import check_schedule
from syncd.clock import Clock
from syncd.errors import ConfigError, SyncdError
from syncd.locks import LockBusy, source_lock
from syncd.logs import register_secrets_of
from syncd.settings import Settings
from syncd.store import Store, redact_url

log = logging.getLogger("syncd.daemon")


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT ask for a graceful stop: finish the current batch or message, then exit 0."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("%s: stopping after the current batch", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_daemon(settings: Settings, store: Store, *, clock: Clock | None = None, once: bool = False,
               serve: bool | None = None, stop: threading.Event | None = None) -> None:
    """Run the schedule until stopped; raise SyncdError (one line) when it cannot start."""
    if not settings.schedule:
        raise ConfigError("config: no [[schedule]] entries: nothing for `syncd run` to do")
    for line in check_schedule(settings):
        log.warning("%s", line)
    register_secrets_of(settings)
    stop = stop or threading.Event()
    with ExitStack() as stack:
        if store.dialect == "sqlite":
            try:
                stack.enter_context(source_lock(settings, store, "daemon"))
            except LockBusy as exc:
                raise SyncdError(f"run: {redact_url(store.url)} is in use by another `syncd run` ({exc}); "
                                 "SQLite allows one daemon per database, use PostgreSQL to run several") from None
        if serve if serve is not None else settings.daemon.serve:
            from syncd.service import RunningService, create_app

            service = RunningService(create_app(settings, store), settings.server.host, settings.server.port).start()
            stack.callback(service.stop)
            log.info("serving HTTP on %s", service.url)
        # here, not at the top: `syncd sync` imports this module for stop_on_signals, and the scheduler brings
        # cron (croniter) and the report jobs (12 ms CPU)
        from syncd.scheduler import Scheduler

        Scheduler(settings, store, clock=clock, stop=stop).run(once=once)
