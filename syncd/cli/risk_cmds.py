"""`syncd risk`: accept a risk theme until a day (`ack`), list the acknowledgements, clear one.

A theme id says what the theme is about (`goal:<id>`, `release:<id>`, `sprint:<id>`, `team:<key>`)
and is the same in every run; the engineering status report prints each theme's id.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path

import click

from syncd.cli._common import config_option, database_option, handle_errors, open_store, settings_from
from syncd.errors import ConfigError


@click.group()
def risk() -> None:
    """Acknowledge risk themes: shown as accepted, not raised again until they expire or get worse."""


def _until(value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--until: {value!r} is not an ISO date (e.g. 2026-12-31)") from None
    if day < today:
        raise ConfigError(f"--until: {value} is in the past (today is {today.isoformat()})")
    return day


@risk.command("ack")
@click.argument("theme_id")
@click.option("--until", "until_text", required=True, help="Last day the acknowledgement holds (ISO date).")
@click.option("--note", required=True, help="Why the risk is accepted (shown beside it).")
@click.option("--by", "by", default=None, help="Who accepts it (default: the login name).")
@click.option("--now", "now_text", default=None, help="Judge the theme as of this ISO date-time or date (default: now).")
@config_option
@database_option
@handle_errors
def risk_ack(theme_id: str, until_text: str, note: str, by: str | None, now_text: str | None,
             config_path: Path | None, database_url: str | None) -> None:
    """Accept the risk theme THEME_ID until --until, with a --note (stored with who and when)."""
    from syncd.cli.report_cmds import parse_now
    from syncd.reporting import load_context
    from syncd.reports.analysis.themes import acknowledge
    from syncd.store._acks import ack_theme

    settings = settings_from(config_path, database_url=database_url)
    if not note.strip():
        raise ConfigError("--note: say why the risk is accepted")
    now = parse_now(now_text, settings.reports.timezone)
    store = open_store(settings)
    ctx = load_context(settings, store, now=now)
    until = _until(until_text, ctx.analysis.today)
    themes = {t.id: t for t in [*ctx.analysis.themes, *ctx.analysis.accepted]}
    if theme_id not in themes:
        known = ", ".join(sorted(themes)) or "none"
        raise ConfigError(f"risk ack: no risk theme {theme_id!r} today (themes: {known})")
    ack = acknowledge(themes[theme_id], by=by or getpass.getuser(), at=datetime.now(UTC), until=until,
                      note=note.strip())
    ack_theme(store, ack)
    click.echo(f"accepted {theme_id} until {until.isoformat()} ({len(themes[theme_id].signals)} signals)")


@risk.command("list")
@config_option
@database_option
@handle_errors
def risk_list(config_path: Path | None, database_url: str | None) -> None:
    """List the acknowledgements in force: stored ones (`syncd risk ack`) and the config's."""
    from syncd.reporting import risk_acks

    settings = settings_from(config_path, database_url=database_url)
    for a in risk_acks(settings, open_store(settings)):
        click.echo(f"{a.theme_id}\tuntil {a.until.isoformat()}\tby {a.by} on {a.at.date().isoformat()} "
                   f"({a.source})\t{a.note}")


@risk.command("clear")
@click.argument("theme_id")
@config_option
@database_option
@handle_errors
def risk_clear(theme_id: str, config_path: Path | None, database_url: str | None) -> None:
    """Remove the acknowledgement of THEME_ID: it is raised again from the next report."""
    from syncd.store._acks import clear_theme_ack

    settings = settings_from(config_path, database_url=database_url)
    if not clear_theme_ack(open_store(settings), theme_id):
        raise ConfigError(f"risk clear: {theme_id!r} is not acknowledged")
    click.echo(f"cleared {theme_id}")


COMMANDS = [risk]
