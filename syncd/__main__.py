"""`python -m syncd` runs the CLI."""

from syncd.cli import run

run()
