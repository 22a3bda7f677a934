"""`syncd deliveries`: the delivery log and scheduled slots left `uncertain`, and `resend` to settle one.

A slot is named `JOB@SLOT_TIME` as the listing prints it (e.g. `executive-weekly@2026-03-02T08:00:00+00:00`);
job names never hold an `@`.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from syncd.cli._common import config_option, database_option, handle_errors, open_store, settings_from, setup_logging
from syncd.errors import UsageError


def slot_name(job: str, slot_at: datetime) -> str:
    """How a slot is named on the command line."""
    return f"{job}@{slot_at.astimezone(UTC).isoformat()}"


def parse_slot(value: str) -> tuple[str, datetime]:
    """`JOB@ISO-TIME` -> (job, aware UTC time); UsageError (one line) otherwise."""
    job, at, when = value.rpartition("@")
    try:
        moment = datetime.fromisoformat(when) if at and job else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(f"deliveries: {value!r} is not a slot: write JOB@TIME as `syncd deliveries --uncertain` "
                         "prints it, e.g. executive-weekly@2026-03-02T08:00:00+00:00")
    return job, moment.astimezone(UTC)


def _row(d: dict[str, Any]) -> dict[str, Any]:
    return {"slot": slot_name(d["job"], d["slot_at"]) if d["job"] and d["slot_at"] else None,
            "at": d["at"].isoformat(), "kind": d["kind"], "audience": d["audience"], "status": d["status"],
            "recipients": d["recipients"], "message_id": d["message_id"], "error": d["error"]}


@click.group(invoke_without_command=True)
@config_option
@database_option
@click.option("--uncertain", is_flag=True, help="Only scheduled slots left uncertain (the server may have the message).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Newest deliveries shown.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@click.pass_context
@handle_errors
def deliveries(ctx: click.Context, config_path: Path | None, database_url: str | None, uncertain: bool, limit: int,
               as_json: bool) -> None:
    """Show the delivery log, newest first (with --uncertain: the slots to resolve, oldest first)."""
    if ctx.invoked_subcommand is not None:
        return
    from syncd.store import _daemon as ledger

    settings = settings_from(config_path, database_url=database_url)
    store = open_store(settings)
    try:
        if uncertain:
            rows = []
            for slot in ledger.slot_rows(store, state="uncertain"):
                logged = ledger.delivery_rows(store, job=slot.job, slot_at=slot.slot_at, limit=1)
                rows.append({**(_row(logged[0]) if logged else {}), "slot": slot_name(slot.job, slot.slot_at),
                             "status": "uncertain", "attempts": slot.attempts, "error": slot.detail})
        else:
            rows = [_row(d) for d in ledger.delivery_rows(store, limit=limit)]
    finally:
        store.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    for row in rows:
        who = f"{len(row.get('recipients') or [])} recipient(s)"
        what = "/".join(p for p in (row.get("kind"), row.get("audience")) if p) or "-"
        click.echo(f"{row['status']:<9} {row.get('slot') or row.get('at')}  {what}  {who}  "
                   f"{row.get('message_id') or '-'}" + (f"  ({row['error']})" if row.get("error") else ""))
    if uncertain:
        click.echo(f"{len(rows)} uncertain slot(s); `syncd deliveries resend SLOT` sends one again with the same "
                   "Message-ID", err=True)


@deliveries.command("resend")
@click.argument("slot")
@config_option
@database_option
@handle_errors
def resend(slot: str, config_path: Path | None, database_url: str | None) -> None:
    """Send an uncertain slot's report again now, with the slot's Message-ID (clients de-duplicate it)."""
    from syncd.logs import register_secrets_of
    from syncd.resend import resend_slot
    from syncd.scheduler import Scheduler

    job, slot_at = parse_slot(slot)
    settings = settings_from(config_path, database_url=database_url)
    setup_logging(settings.log_level, settings.log_format)
    register_secrets_of(settings)
    store = open_store(settings)
    try:
        replica = f"resend:{socket.gethostname()}:{os.getpid()}"
        delivery = resend_slot(Scheduler(settings, store, replica=replica), job, slot_at)
    finally:
        store.close()
    click.echo(f"sent {delivery.message_id} to {len(delivery.recipients)} recipient(s): {slot_name(job, slot_at)}")


COMMANDS = [deliveries]
