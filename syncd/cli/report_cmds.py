"""`syncd report`: write a report from the store (Markdown, HTML, .eml) or send it by email."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from syncd import collector
from syncd.cli._common import (
    config_option,
    database_option,
    exit_without_teardown,
    handle_errors,
    open_store,
    settings_from,
)
from syncd.clock import report_moment
from syncd.errors import ConfigError

KINDS = ("status", "sprint-kickoff", "sprint-review", "timeline", "launch-readiness", "retrospective")


def parse_now(value: str | None, tz_name: str) -> datetime:
    """`--now`: an ISO date-time (a bare one is read in the report time zone) or a date (its end)."""
    if value is None:
        return datetime.now(UTC)
    tz = ZoneInfo(tz_name)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            parsed = datetime.combine(day, time(23, 59, 59), tz)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--now: {value!r} is not an ISO date or date-time (e.g. 2026-11-20 or "
                          "2026-11-20T09:00+01:00)") from None
    try:
        return report_moment(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz))
    except ValueError as exc:
        raise ConfigError(f"--now: {exc}") from None


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--audience", "-a", type=click.Choice(["executive", "business", "engineering"]), default=None,
              help="Reader of a status report (default: executive). Other kinds have no audiences.")
@click.option("--format", "formats", type=click.Choice(["md", "html", "eml"]), multiple=True,
              help="File format to write (repeatable; default: all three).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder to write to (default: reports.out_dir).")
@click.option("--now", "now_text", default=None,
              help="Report as of this ISO date-time or date (a date means its end), to reproduce a past report.")
@click.option("--scope", default=None, help="Goal id (status, timeline), sprint id or name, or release id or name.")
@click.option("--send", is_flag=True, help="Email the report (SMTP settings) instead of only writing files.")
@click.option("--to", "to", multiple=True, help="Recipient (repeatable; default: reports.recipients of the audience).")
@config_option
@database_option
@handle_errors
def report(kind: str, audience: str | None, formats: tuple[str, ...], out_dir: Path | None, now_text: str | None,
           scope: str | None, send: bool, to: tuple[str, ...], config_path: Path | None,
           database_url: str | None) -> None:
    """Write the report KIND from the store, or --send it.

    KIND: status (executive, business or engineering), sprint-kickoff, sprint-review, timeline,
    launch-readiness, retrospective.
    """
    with collector.loading():  # a one-shot process: the report's modules live until it exits
        from syncd.reporting import generate_report, recipients_for, write_report

    settings = settings_from(config_path, database_url=database_url)
    now = parse_now(now_text, settings.reports.timezone)
    store = open_store(settings)
    recipients = list(to) or recipients_for(settings, kind, audience or ("executive" if kind == "status" else None))
    # a one-shot process: the snapshot lives until exit, so the cycle collector need not walk it
    rendered = generate_report(settings, store, kind, audience, now=now, scope=scope, record=True,
                               freeze_snapshot=True)
    try:
        if send:
            from syncd.delivery import send_report

            delivery = send_report(settings, store, rendered, recipients, now=datetime.now(UTC),
                                   fmt=formats[0] if len(formats) == 1 else "eml")
            click.echo(f"sent {rendered.kind} to {len(delivery.recipients)} recipient(s): {delivery.message_id}")
            if not formats:
                return
        paths = write_report(rendered, out_dir or settings.reports.out_dir, formats or ("md", "html", "eml"),
                             sender=settings.smtp.sender, recipients=recipients)
        for path in paths:
            click.echo(str(path))
    finally:
        store.close()  # report_history and the delivery log are committed; nothing is left open
        exit_without_teardown()  # files written and closed: freeing the snapshot object by object is wasted time


COMMANDS = [report]
