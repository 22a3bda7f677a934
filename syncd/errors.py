"""One exception hierarchy; the CLI maps each class to an exit code and a one-line message."""

from __future__ import annotations


class SyncdError(Exception):
    """Base of every error syncd raises on purpose. `str(err)` is a one-line message for users."""

    exit_code = 1


class ConfigError(SyncdError):
    """The configuration (file, environment, flags or goals) is invalid."""

    exit_code = 2


class SourceError(SyncdError):
    """A source (Jira site, GitHub host) failed: API error, bad payload, exhausted retries."""

    def __init__(self, source: str, message: str, url: str | None = None) -> None:
        self.source = source
        self.url = url
        where = f" ({url})" if url else ""
        super().__init__(f"source {source}{where}: {message}")


class StoreError(SyncdError):
    """The store cannot be opened, migrated or written."""


class StoreUnavailable(StoreError):
    """The connection to the database was lost (server restart, network, a killed session): nothing more
    can be stored now, so the source stops rather than skipping record after record."""


class DeliveryError(SyncdError):
    """A report could not be delivered (SMTP failure, unwritable output)."""


class ReportError(SyncdError):
    """A report cannot be produced (unknown kind, missing goal, no data)."""


class UsageError(SyncdError):
    """A command was asked for something that does not exist or does not apply (e.g. an unknown slot)."""

    exit_code = 2
