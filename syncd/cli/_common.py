"""What every command shares: settings from --config, the store, error to exit-code mapping."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from syncd.errors import SyncdError
from syncd.settings import Settings, load_settings
from syncd.store import Store

F = TypeVar("F", bound=Callable[..., Any])

config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path, dir_okay=False),
    envvar="SYNCD_CONFIG", help="TOML configuration file (default: $SYNCD_CONFIG).",
)
database_option = click.option("--database-url", default=None, help="Override database_url (SQLite or PostgreSQL URL).")


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit with `code`."""
    click.echo(f"syncd: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn SyncdError into a one-line message and its exit code (2 for config, 1 otherwise)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SyncdError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def settings_from(config_path: Path | None, **overrides: Any) -> Settings:
    """Settings for a command, with CLI flag overrides (None means not given)."""
    return load_settings(config_path, **overrides)


def open_store(settings: Settings, migrate: bool = True) -> Store:
    """The store in force, migrated to the newest schema unless told otherwise."""
    store = Store(settings.db_url)
    if migrate:
        store.upgrade()
    return store


_SKIP_TEARDOWN = False


def exit_without_teardown() -> None:
    """Ask `syncd.cli.run` to end the process without freeing every object (its output is flushed first).

    For a one-shot command whose last act has been done: files written and closed, the store's
    transactions committed and its connections closed.
    """
    global _SKIP_TEARDOWN
    _SKIP_TEARDOWN = True


def teardown_skipped() -> bool:
    """Whether the command that ran asked to skip interpreter teardown."""
    return _SKIP_TEARDOWN


def setup_logging(level: str = "info", fmt: str = "plain", quiet: bool = False) -> None:
    """Plain or JSON logs on stderr; `quiet` keeps only warnings and errors."""
    from syncd.logs import configure

    configure(level="warning" if quiet else level, fmt=fmt)
