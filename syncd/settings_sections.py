"""The sections of the configuration (`[smtp]`, `[server]`, `[reports]`, `[releases]`, `[[schedule]]`,
`[delivery]`, `[daemon]`): what each key means, its default and how it is validated.

syncd/settings.py layers them (flags > environment > TOML > defaults) into the one `Settings`;
sources are connectors/config.py's. Every section forbids unknown keys, so a typo is one line naming it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from syncd.connectors.config import RetryPolicy, check_no_credentials
from syncd.reports.catalogue.launch_config import LaunchConfig, check_pattern
from syncd.reports.thresholds import RiskThresholds

Audience = Literal["executive", "business", "engineering"]
SUBJECT_FIELDS = ("title", "date", "kind", "audience")  # what reports.subject may name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
    return value


class SmtpSettings(_Section):
    """Outgoing mail server."""

    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "syncd <syncd@localhost>"
    timeout_s: float = Field(30.0, gt=0)
    retry: RetryPolicy = Field(default_factory=lambda: RetryPolicy(attempts=4, max_wait_s=60.0, total_s=300.0))


class ServerSettings(_Section):
    """`syncd serve`: the on-demand HTTP service."""

    host: str = "127.0.0.1"
    port: int = Field(8787, ge=1, le=65535)
    token: SecretStr | None = None  # bearer token required on every route but /healthz
    # the report site's login (besides the token): user name -> argon2 hash (`syncd serve --hash-password`)
    users: dict[str, SecretStr] = Field(default_factory=dict)
    session_secret: SecretStr | None = None  # signs site session cookies; default: derived from token
    session_hours: float = Field(12.0, gt=0, le=24 * 30)  # a site session lasts this long

    @field_validator("users")
    @classmethod
    def _users(cls, v: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, hashed in v.items():
            if not hashed.get_secret_value().startswith("$argon2"):
                raise ValueError(f"{name}: not an argon2 hash (make one with `syncd serve --hash-password`)")
        return v


class RiskAckSettings(_Section):
    """One `[[reports.risk_acks]]`: a risk theme accepted in the config until a day, with why."""

    theme: str = Field(min_length=3)  # goal:<id>, release:<id>, sprint:<id> or team:<key>
    since: date  # the day it was accepted: "gets worse" compares with the theme as it was that day
    until: date  # the last day it holds
    note: str = Field(min_length=1)
    by: str = "config"

    @field_validator("theme")
    @classmethod
    def _theme(cls, v: str) -> str:
        if v.split(":", 1)[0] not in ("goal", "release", "sprint", "team") or ":" not in v:
            raise ValueError("must be goal:<id>, release:<id>, sprint:<id> or team:<key>")
        return v

    @model_validator(mode="after")
    def _since_until(self) -> RiskAckSettings:
        if self.since > self.until:
            raise ValueError(f"since {self.since.isoformat()} is after until {self.until.isoformat()}")
        return self


class ReportSettings(_Section):
    """Report generation defaults."""

    goals_file: Path | None = None  # goals TOML (see config/goals.example.toml)
    out_dir: Path = Path("reports")
    timezone: str = "UTC"
    recipients: dict[Audience, list[str]] = Field(default_factory=dict)
    subject: str = "[syncd] {title} — {date}"
    jira_browse_url: str | None = None  # base for item links when the source gives none
    base_url: str | None = None  # where the full HTML reports are published (emails over budget link there)
    velocity_sprints: int = Field(3, ge=1, le=20)
    forecast_trials: int = Field(10_000, ge=100, le=1_000_000)
    forecast_weeks: int = Field(12, ge=2, le=104)  # the team throughput window forecasts sample
    forecast_share_weeks: int = Field(6, ge=1, le=52)  # a scope's share: its part of the team's completions in these weeks
    # the share of a scope with no recent completions of its own; None: 1 / (team completions in the window + 2)
    forecast_default_share: float | None = Field(None, gt=0, le=1)
    risks: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per rule id: enabled, threshold, severity
    thresholds: RiskThresholds = Field(default_factory=RiskThresholds)  # risk figures beyond the rules' own
    risk_acks: list[RiskAckSettings] = Field(default_factory=list)  # accepted risk themes (also: syncd risk ack)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_tz(v)

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        import string

        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(v) if name is not None]
        except ValueError as exc:  # e.g. a lone "{"
            raise ValueError(f"{exc} (write a literal brace as {{{{ or }}}})") from None
        for name in fields:
            if name not in SUBJECT_FIELDS:
                known = ", ".join(f"{{{f}}}" for f in SUBJECT_FIELDS)
                raise ValueError(f"unknown field {{{name}}} (known: {known})")
        return v

    @field_validator("jira_browse_url")
    @classmethod
    def _browse_url(cls, v: str | None) -> str | None:
        if v is not None:
            check_no_credentials(v, "report links are read by every recipient")
        return v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an http(s) URL without query or fragment, e.g. https://reports.acme.example/syncd")
        check_no_credentials(v, "report links are read by every recipient")
        return v.strip().rstrip("/")


class ReleaseMapEntry(_Section):
    """One explicit release join: the fix version, milestone and tags that are one release."""

    name: str | None = None  # the release's name in reports; default: the Jira version's (else milestone's) name
    jira_project: str | None = None  # the Jira project of `jira_version`
    jira_version: str | None = None  # a fix version's name, exactly as in Jira
    repo: str | None = None  # owner/name of `milestone` and `tags`
    milestone: str | None = None  # a milestone's title, exactly as on GitHub
    tags: list[str] = Field(default_factory=list)  # GitHub release tag names, e.g. ["w-2.6", "w-2.6-rc1"]

    @model_validator(mode="after")
    def _parts(self) -> ReleaseMapEntry:
        if self.jira_version and not self.jira_project:
            raise ValueError("jira_version needs jira_project (the project key the version belongs to)")
        if (self.milestone or self.tags) and not self.repo:
            raise ValueError("milestone and tags need repo (owner/name)")
        if self.repo is not None and not re.fullmatch(r"[^/\s]+/[^/\s]+", self.repo):
            raise ValueError(f"repo {self.repo!r} must be owner/name")
        if sum(1 for x in (self.jira_version, self.milestone) if x) + len(self.tags) < 2:
            raise ValueError("a map entry joins at least two parts (jira_version, milestone, tags)")
        return self


class ReleaseSettings(LaunchConfig):
    """`[releases]`: how Jira fix versions, GitHub milestones and GitHub releases are joined into one
    release, and what launch readiness is told (reports/catalogue/launch_config.py)."""

    map: list[ReleaseMapEntry] = Field(default_factory=list)  # joins the version-name rule cannot make


class ScheduleEntry(_Section):
    """One cron-driven job of `syncd run`."""

    name: str
    cron: str  # five-field cron expression
    timezone: str = "UTC"
    job: Literal["sync", "report"]
    sources: list[str] = Field(default_factory=list)  # sync: empty means all
    full: bool = False
    kind: str | None = None  # report kind
    audience: Audience | None = None
    recipients: list[str] = Field(default_factory=list)  # default: reports.recipients[audience]
    format: Literal["eml", "html", "md"] = "eml"
    grace_minutes: int = Field(60, ge=0)  # a slot missed while down runs on start when within grace
    trigger: Literal["cron", "sprint-closed"] = "cron"  # sprint-closed: one report per sprint completed since the previous slot
    scope: str | None = None  # report scope: a goal, sprint or release id
    sync_first: bool = False  # report: sync `sources` (empty: all) right before generating it

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _check_tz(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", v):
            raise ValueError(f"schedule name {v!r} must be letters, digits, '.', '-' or '_' (no '/')")
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from croniter import croniter

        from syncd.cron import check_fires

        v = " ".join(v.split())
        if not (len(v.split()) == 5 or v.startswith("@")) or not croniter.is_valid(v):
            raise ValueError(f"{v!r} is not a five-field cron expression (minute hour day month weekday)")
        check_fires(v)
        return v


class DeliverySettings(_Section):
    """`[delivery]`: what happens to a scheduled report whose hand-over to SMTP was cut off (see
    syncd/delivery.py), and what counts as delivered to production with the conventions DORA's four
    keys are counted by (see syncd/reports/analysis/dora.py)."""

    # hold: at most once, the slot stays `uncertain` for an operator (`syncd deliveries`); resend:
    # at least once, the daemon sends it again with the same Message-ID (clients de-duplicate)
    uncertain: Literal["hold", "resend"] = "hold"
    jira_released_is_production: bool = True  # a released Jira fix version is a production release
    prerelease_pattern: str | None = None  # a GitHub release whose tag (or name) matches is a pre-release, e.g. "-(rc|beta)"
    hotfix_pattern: str = r"(?i)hotfix|^v?\d+\.\d+\.[1-9]\d*$"  # names/tags of hotfix releases (v2.5.1 by default)
    revert_pattern: str = r"(?i)^revert\b"  # titles of pull requests that revert a change
    incident_labels: list[str] = Field(default_factory=lambda: ["incident"])  # items with any of these labels are incidents
    incident_kinds: list[Literal["epic", "story", "task", "bug", "subtask", "issue"]] = Field(default_factory=list)
    caused_by_label_prefix: str = Field("caused-by:", min_length=1)  # label "caused-by:2.6" ties an item to release 2.6
    change_failure_window_days: int = Field(7, ge=1, le=90)  # how long after a release a hotfix or revert counts

    @field_validator("prerelease_pattern", "hotfix_pattern", "revert_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        return check_pattern(v)


class DaemonSettings(_Section):
    """`syncd run`: replica identity, claim leases, heartbeat and health file."""

    replica_id: str | None = None  # default: <hostname>:<pid>
    lease_seconds: float = Field(120.0, ge=1)  # a claim not renewed for this long is taken over by another replica
    heartbeat_seconds: float = Field(15.0, gt=0)  # how often claims are renewed and the health file is written
    poll_seconds: float = Field(30.0, gt=0)  # longest sleep between looks for due or abandoned work
    health_file: Path | None = None  # default: <data_dir>/daemon.health
    serve: bool = False  # also run the HTTP service of `syncd serve` inside the daemon


class SyncSettings(_Section):
    """`[sync]`: how sources sync (see syncd/parallel.py and connectors/prefetch.py)."""

    # true: sources of different services (a Jira site, a GitHub host) sync at once, and each source fetches
    # its next page while the current one is stored; false: one source, one request, one page at a time
    concurrent: bool = True
