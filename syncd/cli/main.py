"""`syncd` group and the foundation commands: config check, db upgrade, sync, export.

Other command groups live in their own modules (report, run/serve, sandbox/demo) and are
registered at the bottom of this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from syncd import __version__
from syncd.cli._common import (
    config_option,
    database_option,
    handle_errors,
    open_store,
    settings_from,
    setup_logging,
)
from syncd.settings import masked


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="syncd")
def main() -> None:
    """syncd: sync Jira and GitHub into one store and report progress toward goals.

    Exit codes: 0 ok, 1 runtime failure (e.g. a source failed), 2 usage or configuration error.
    """


# -- config ---------------------------------------------------------------------------------------


@main.group()
def config() -> None:
    """Inspect and validate configuration."""


@config.command("check")
@config_option
@handle_errors
def config_check(config_path: Path | None) -> None:
    """Validate the configuration and print the effective settings, secrets masked."""
    settings = settings_from(config_path)
    from syncd.checks import check_settings

    warnings = check_settings(settings)
    click.echo(json.dumps(masked(settings), indent=2, default=str))
    from syncd.reports.analysis.risk_rules import rules_in_force_text

    for line in rules_in_force_text(settings.reports.risks):
        click.echo(line, err=True)
    for line in warnings:
        click.echo(f"syncd: warning: {line}", err=True)
    click.echo(f"config ok: {len(settings.sources)} source(s), {len(settings.schedule)} schedule(s)", err=True)


# -- db -------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@config_option
@database_option
@handle_errors
def db_upgrade(config_path: Path | None, database_url: str | None) -> None:
    """Create or migrate the database schema to the newest version."""
    from syncd.store import redact_url
    from syncd.store.migrate import current_revision

    settings = settings_from(config_path, database_url=database_url)
    store = open_store(settings)
    click.echo(f"database {redact_url(store.url)} at revision {current_revision(store.engine)}")


# -- sync -----------------------------------------------------------------------------------------


@main.command()
@config_option
@database_option
@click.option("--source", "sources", multiple=True, help="Sync only this source (repeatable).")
@click.option("--full", is_flag=True, help="Ignore the stored cursor: full backfill and census.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless something is wrong (for cron).")
@handle_errors
def sync(config_path: Path | None, database_url: str | None, sources: tuple[str, ...], full: bool, quiet: bool) -> None:
    """Sync configured sources into the store (incremental unless --full).

    Each source syncs under its own lock: a source another syncd process is syncing right now is
    skipped (noted unless --quiet). SIGTERM/SIGINT stop after the current batch. Exit 1 if a source failed.
    """
    import threading

    from syncd.daemon import stop_on_signals
    from syncd.jobs import sync_sources
    from syncd.sync import rich_progress

    settings = settings_from(config_path, database_url=database_url)
    setup_logging(settings.log_level, settings.log_format, quiet=quiet)
    store = open_store(settings)
    if not settings.sources:
        from syncd.errors import ConfigError

        raise ConfigError("config: no sources configured (add a [sources.NAME] table)")
    stop = threading.Event()
    stop_on_signals(stop)
    bar, factory = rich_progress()
    from syncd.collector import freeze_startup

    freeze_startup()  # what start-up built stays alive: the collector need not walk it during the sync
    with bar:
        outcome = sync_sources(settings, store, sources or None, full=full, should_stop=stop.is_set,
                               progress_factory=None if quiet else factory)
    for r in outcome.results:
        for line in r.warnings:
            click.echo(f"syncd: warning: {line}", err=True)
        if not r.ok:
            click.echo(f"syncd: error: {r.error}", err=True)
        elif not quiet:
            click.echo(r.summary())
    if not quiet:
        for name in outcome.busy:
            click.echo(f"{name}: skipped: another syncd process is syncing it right now")
    if not outcome.ok:
        sys.exit(1)


# -- export ---------------------------------------------------------------------------------------


@main.command()
@config_option
@database_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--entity", type=click.Choice(["items", "pulls", "sprints", "releases", "links", "transitions", "people"]),
              default="items", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file instead of standard output.")
@handle_errors
def export(config_path: Path | None, database_url: str | None, fmt: str, entity: str, output: Path | None) -> None:
    """Stream one entity of the normalized store as JSON lines or CSV (for BI tools)."""
    from syncd.export import write_export

    settings = settings_from(config_path, database_url=database_url)
    store = open_store(settings)
    if output is None:
        write_export(store, entity, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as fh:
            n = write_export(store, entity, fmt, fh)
        click.echo(f"wrote {n} {entity} to {output}", err=True)


# -- releases -------------------------------------------------------------------------------------


@main.command()
@config_option
@database_option
@handle_errors
def releases(config_path: Path | None, database_url: str | None) -> None:
    """List how fix versions, milestones and GitHub releases were joined into releases.

    One line per release (id, name, state and production date or due date, how it was joined), then
    its parts with their links; first the repository -> Jira project pairs the join used. A
    `[[releases.map]]` entry naming a part the store does not hold ends with exit 2.
    """
    from syncd.reporting import join_config
    from syncd.reports.analysis.releases import describe_join, join_releases
    from syncd.reports.data import Snapshot

    settings = settings_from(config_path, database_url=database_url)
    store = open_store(settings)
    snap = Snapshot(items=list(store.items()), pulls=list(store.pulls()), releases=list(store.releases()),
                    links=list(store.links()))
    join = join_releases(snap, join_config(settings))
    for line in describe_join(join):
        if not line.startswith("problem: "):
            click.echo(line)
    click.echo(f"{len(join.releases)} release(s) from {len(snap.releases)} part(s)", err=True)
    if join.problems:
        from syncd.errors import ConfigError

        raise ConfigError(f"config: {join.problems[0]}" + (f" (and {len(join.problems) - 1} more)"
                                                            if len(join.problems) > 1 else ""))


def _register() -> None:
    """Attach the command groups that live in their own modules."""
    from syncd.cli import daemon_cmds, delivery_cmds, demo_cmds, report_cmds, risk_cmds, sandbox_cmds

    for module in (report_cmds, risk_cmds, daemon_cmds, delivery_cmds, sandbox_cmds, demo_cmds):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
