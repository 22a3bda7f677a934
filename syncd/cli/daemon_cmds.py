"""`syncd run` (scheduler daemon), `syncd serve` (HTTP service) and `syncd health` (daemon heartbeat)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from syncd.cli._common import config_option, database_option, handle_errors, open_store, settings_from, setup_logging


@click.command()
@config_option
@database_option
@click.option("--once", is_flag=True, help="Run what is due now (catch-up included), then exit.")
@click.option("--serve/--no-serve", default=None, help="Also serve the HTTP API (default: daemon.serve).")
@click.option("--clock-start", default=None, hidden=True, help="Virtual time at start (ISO), for tests and dry runs.")
@click.option("--clock-speed", type=float, default=1.0, hidden=True, help="Virtual seconds per real second.")
@click.option("--clock-epoch", type=float, default=None, hidden=True, help="Unix time at which the clock reads --clock-start.")
@handle_errors
def run(config_path: Path | None, database_url: str | None, once: bool, serve: bool | None,
        clock_start: str | None, clock_speed: float, clock_epoch: float | None) -> None:
    """Run the scheduler daemon: syncs and report deliveries on the configured cron schedules.

    Each slot runs exactly once, also across restarts and (on PostgreSQL) several replicas.
    SIGTERM or SIGINT finishes the current batch, then exits 0.
    """
    from syncd.clock import Clock, FastClock, SystemClock
    from syncd.daemon import run_daemon, stop_on_signals

    settings = settings_from(config_path, database_url=database_url)
    setup_logging(settings.log_level, settings.log_format)
    clock: Clock = SystemClock()
    if clock_start:
        from syncd.errors import ConfigError

        try:
            start = datetime.fromisoformat(clock_start)
        except ValueError:
            raise ConfigError(f"--clock-start: not an ISO date-time: {clock_start!r}") from None
        if start.tzinfo is None:
            raise ConfigError("--clock-start: needs a UTC offset, e.g. 2026-03-02T09:00:00+00:00")
        clock = FastClock(start, clock_speed, clock_epoch)
    import threading

    stop = threading.Event()
    stop_on_signals(stop)
    store = open_store(settings)
    from syncd.collector import freeze_startup

    freeze_startup()  # start-up objects live as long as the daemon: out of the collector's reach
    run_daemon(settings, store, clock=clock, once=once, serve=serve, stop=stop)


@click.command()
@config_option
@database_option
@click.option("--host", default=None, help="Address to bind (default: server.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: server.port, 8787).")
@click.option("--hash-password", "hash_password", is_flag=True,
              help="Read a password from stdin, print its argon2 hash for server.users, and exit.")
@handle_errors
def serve(config_path: Path | None, database_url: str | None, host: str | None, port: int | None,
          hash_password: bool) -> None:
    """Serve the report site, reports, a sync trigger, health and metrics over HTTP."""
    from syncd.logs import register_secrets_of
    from syncd.service import serve as serve_http

    if hash_password:
        from syncd.errors import ConfigError
        from syncd.site import hash_password as make_hash

        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("--hash-password: no password on stdin")
        click.echo(make_hash(password))
        return
    settings = settings_from(config_path, database_url=database_url)
    setup_logging(settings.log_level, settings.log_format)
    register_secrets_of(settings)
    serve_http(settings, open_store(settings), host=host, port=port)


@click.command()
@config_option
@click.option("--max-age", type=float, default=None,
              help="Seconds since the last heartbeat that still count as healthy (default: 3 heartbeats + 10).")
@handle_errors
def health(config_path: Path | None, max_age: float | None) -> None:
    """Exit 0 when the local `syncd run` beat recently (for Docker HEALTHCHECK and monitors), 1 otherwise."""
    from syncd.health import check_health, health_path

    settings = settings_from(config_path)
    limit = max_age if max_age is not None else 3 * settings.daemon.heartbeat_seconds + 10
    click.echo(check_health(health_path(settings), limit))


COMMANDS = [run, serve, health]
