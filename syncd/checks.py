"""Checks of a loaded configuration beyond what pydantic validates field by field."""

from __future__ import annotations

from syncd.errors import ConfigError
from syncd.settings import Settings


def check_settings(settings: Settings) -> list[str]:
    """Raise ConfigError on an inconsistent configuration; return warnings worth showing."""
    warnings: list[str] = []
    for entry in settings.schedule:
        for name in entry.sources:
            if name not in settings.sources:
                raise ConfigError(f"config: schedule {entry.name!r}: unknown source {name!r}")
        if entry.job == "report" and not entry.kind:
            raise ConfigError(f"config: schedule {entry.name!r}: a report job needs kind")
    if settings.reports.goals_file is not None and not settings.reports.goals_file.is_file():
        raise ConfigError(f"config: reports.goals_file: file not found: {settings.reports.goals_file}")
    if any(e.job == "report" for e in settings.schedule) and settings.smtp.host == "localhost":
        warnings.append("report schedules send mail through smtp.host=localhost")
    return warnings
