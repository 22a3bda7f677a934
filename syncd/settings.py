"""Settings: CLI flags > environment (SYNCD_, `__` for nesting) > TOML file > defaults.

`load_settings` is the one place that builds them; everything else receives them as an argument.
The sections' keys and checks are syncd/settings_sections.py's, the sources' connectors/config.py's.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from syncd.connectors.config import JiraSource, SourceConfig
from syncd.errors import ConfigError
from syncd.reports.goals import Team
from syncd.settings_sections import (
    DaemonSettings,
    DeliverySettings,
    ReleaseSettings,
    ReportSettings,
    ScheduleEntry,
    ServerSettings,
    SmtpSettings,
    SyncSettings,
)

_CONFIG_PATH: ContextVar[Path | None] = ContextVar("syncd_config_path", default=None)


class Settings(BaseSettings):
    """Everything syncd can be told."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCD_",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
    )

    data_dir: Path = Path("syncd-data")
    database_url: str | None = Field(None, repr=False)  # default: sqlite:///<data_dir>/syncd.db (may hold a password)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["plain", "json"] = "plain"
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    schedule: list[ScheduleEntry] = Field(default_factory=list)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    teams: dict[str, Team] = Field(default_factory=dict)  # forecasts' teams; default: each project and repository

    @field_validator("teams")
    @classmethod
    def _team_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _./-]{0,63}", name):
                raise ValueError(f"team name {name!r} must be letters, digits, space, '.', '/', '-' or '_'")
        return v
    releases: ReleaseSettings = Field(default_factory=ReleaseSettings)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        if v is not None:
            check_database_url(v)
        return v

    @field_validator("sources")
    @classmethod
    def _source_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
                raise ValueError(f"source name {name!r} must be lower-case letters, digits, - or _")
        return v

    @model_validator(mode="after")
    def _sign_off_property(self) -> Settings:
        # the sign-off property rides on each Jira source's search (`properties=`), so the sources ask for it
        key = self.releases.sign_off_property
        if key is None:
            return self
        for name, source in self.sources.items():
            if isinstance(source, JiraSource) and key not in source.issue_properties:
                if len(source.issue_properties) >= 5:
                    raise ValueError(f"sources.{name}.issue_properties: Jira returns at most 5 issue properties, "
                                     f"releases.sign_off_property {key!r} would be a sixth")
                source.issue_properties = [*source.issue_properties, key]
        return self

    @property
    def db_url(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'syncd.db').resolve()}"

    _config_path: Path | None = PrivateAttr(default=None)

    @property
    def config_path(self) -> Path | None:
        """The TOML file these settings were read from, if any."""
        return self._config_path

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _CONFIG_PATH.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def check_database_url(url: str) -> None:
    """ValueError (never quoting the URL, which may hold a password) unless `url` is a usable store URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "e.g. postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME or sqlite:///PATH"
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        parsed.get_dialect()
    except NoSuchModuleError:  # before ArgumentError, its base class
        raise ValueError(f"unknown database driver ({example})") from None
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"not a database URL ({example})") from None
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"syncd stores into SQLite or PostgreSQL, not {backend} ({example})")
    if parsed.host and "@" in parsed.host:
        raise ValueError("the user name or password holds an unescaped '@': write it as %40")


def format_validation_error(err: ValidationError, prefix: str = "config") -> str:
    """One line naming the first bad key and what is wrong with it (never the value of a secret)."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-after"))
    # discriminated unions add the tag to the path: sources.jira.jira.url -> sources.jira.url
    parts = loc.split(".")
    if len(parts) >= 3 and parts[0] == "sources" and parts[2] in ("jira", "github"):
        del parts[2]
    loc = ".".join(parts)
    msg = first["msg"].removeprefix("Value error, ")
    if len(parts) >= 2 and parts[0] == "sources":  # placeholders of source validators (connectors/config.py)
        msg = msg.replace("<source>", f"sources.{parts[1]}").replace("<NAME>", parts[1].upper())
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"{prefix}: {loc}: {msg}{more}" if loc else f"{prefix}: {msg}{more}"  # a model validator names its keys


def load_settings(config: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings from a TOML file (or $SYNCD_CONFIG), the environment and `overrides`.

    Raises ConfigError with a one-line message on any problem.
    """
    path_value = config if config is not None else os.environ.get("SYNCD_CONFIG")
    path = Path(path_value).expanduser() if path_value else None
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config: file not found: {path}")
        try:
            with path.open("rb") as fh:
                tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path}: invalid TOML: {exc}") from None
    token = _CONFIG_PATH.set(path)
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
    finally:
        _CONFIG_PATH.reset(token)
    settings._config_path = path
    if path is not None and settings.reports.goals_file and not settings.reports.goals_file.is_absolute():
        settings.reports.goals_file = (path.parent / settings.reports.goals_file).resolve()
    if path is not None and not settings.data_dir.is_absolute() and "SYNCD_DATA_DIR" not in os.environ \
            and "data_dir" not in overrides:
        settings.data_dir = (path.parent / settings.data_dir).resolve()
    return settings


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets shown as '**********'."""
    data = settings.model_dump(mode="json")
    if settings.database_url:
        from syncd.store import redact_url

        data["database_url"] = redact_url(settings.database_url)
    return data
