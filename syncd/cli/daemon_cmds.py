"""`syncd run` (scheduler daemon) and `syncd serve` (HTTP service)."""

from __future__ import annotations

import click

from syncd.cli._common import fail


@click.command()
def run() -> None:
    """Run the scheduler daemon."""
    fail("run: the daemon is not built yet", 1)


@click.command()
def serve() -> None:
    """Serve reports over HTTP."""
    fail("serve: the HTTP service is not built yet", 1)


COMMANDS = [run, serve]
