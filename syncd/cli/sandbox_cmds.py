"""`syncd sandbox` (fake Jira and GitHub servers) and `syncd demo`."""

from __future__ import annotations

import click

from syncd.cli._common import fail


@click.command()
def sandbox() -> None:
    """Run the sandbox Jira and GitHub servers on loopback."""
    fail("sandbox: not built yet", 1)


@click.command()
def demo() -> None:
    """Run the end-to-end demo on the embedded sandbox."""
    fail("demo: not built yet", 1)


COMMANDS = [sandbox, demo]
