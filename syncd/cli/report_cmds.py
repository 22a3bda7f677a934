"""`syncd report`: generate a report from the store (filled by the reports work)."""

from __future__ import annotations

import click

from syncd.cli._common import fail


@click.command()
@click.argument("kind")
def report(kind: str) -> None:
    """Generate a report of KIND from the store."""
    fail(f"report {kind}: reports are not built yet", 1)


COMMANDS = [report]
