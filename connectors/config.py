"""Configuration of each source type. Settings compose these; connectors receive one of them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*@", re.IGNORECASE)


def check_no_credentials(url: str, use: str) -> None:
    """ValueError when `url` carries a user name or password (`user:pw@host`); `use` says where they go.

    `<source>` and `<NAME>` in `use` become the source's key and environment name in the message.

    A password in a source URL would be printed by `config check`, put in every error line, stored
    in items and raw payloads and sent in report links; it belongs in the source's token keys.
    """
    if _CREDENTIALS.match(url):
        raise ValueError(f"must not hold a user name or password (user:password@host): {use}")


class RetryPolicy(BaseModel):
    """How hard a connector retries one request: bounded in attempts and in time."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(6, ge=1, le=20)
    max_wait_s: float = Field(120.0, gt=0)  # longest single wait (a longer Retry-After fails the source)
    total_s: float = Field(900.0, gt=0)  # give up on a request after this long in all
    timeout_s: float = Field(30.0, gt=0)  # per-request socket timeout


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    reconcile_hours: float = Field(24.0, ge=0)  # how often to run the cheap deletion census (0: every sync)


class JiraSource(_Source):
    """A Jira Cloud site (email + API token) or Jira Server / Data Center (personal access token)."""

    type: Literal["jira"]
    url: str
    email: str | None = None  # Cloud: basic auth with email + API token; absent: bearer PAT
    token: SecretStr
    deployment: Literal["auto", "cloud", "server"] = "auto"  # auto: from serverInfo.deploymentType
    projects: list[str] = Field(min_length=1)
    jql: str | None = None  # extra filter ANDed with the project list
    story_points_field: str | None = None  # e.g. customfield_10016; default: discovered by schema and name
    # issue type name (as the site shows it, or its English untranslatedName) or id -> kind, for custom types
    issue_types: dict[str, Literal["epic", "story", "task", "bug", "subtask"]] = Field(default_factory=dict)
    boards: list[int] | None = None  # default: every board of the configured projects
    page_size: int = Field(100, ge=1, le=100)
    overlap_minutes: int = Field(5, ge=1, le=1440)
    agile_refresh_minutes: int = Field(60, ge=0)  # boards, sprints, versions: sprint events don't bump issues
    # issue property keys read with each issue of the search (Jira returns at most 5); releases.sign_off_property
    # is added to every Jira source's list
    issue_properties: list[str] = Field(default_factory=list, max_length=5)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL, e.g. https://acme.atlassian.net")
        check_no_credentials(v, "set <source>.email and <source>.token instead (the token best from "
                                "SYNCD_SOURCES__<NAME>__TOKEN)")
        return v.rstrip("/")

    @field_validator("projects")
    @classmethod
    def _projects(cls, v: list[str]) -> list[str]:
        for key in v:
            if not re.fullmatch(r"[A-Z][A-Z0-9_]+", key):
                raise ValueError(f"{key!r} is not a Jira project key (upper-case letters and digits)")
        return v


class GitHubSource(_Source):
    """github.com or GitHub Enterprise Server: explicit repositories or every repository of an org."""

    type: Literal["github"]
    base_url: str = "https://api.github.com"  # GHES: https://HOST/api/v3
    token: SecretStr | None = None  # classic or fine-grained PAT
    app_id: int | None = None  # GitHub App installation auth (with private_key, installation_id)
    private_key: SecretStr | None = None
    installation_id: int | None = None
    repos: list[str] = Field(default_factory=list)  # owner/name
    org: str | None = None
    include: list[str] = Field(default_factory=lambda: ["*"])  # glob patterns on repo names (org mode)
    exclude: list[str] = Field(default_factory=list)
    jira_projects: list[str] = Field(default_factory=list)  # keys that PR text may name
    key_pattern: str = r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]+-[1-9][0-9]*)(?![A-Za-z0-9])"
    graphql_batch: int = Field(50, ge=1, le=100)  # pull requests per GraphQL query
    max_rate_wait_s: float = Field(900.0, ge=0)  # longest wait for a rate-limit reset or Retry-After
    rate_reserve: int = Field(0, ge=0)  # requests of each hourly budget left for other clients of the token
    releases_refresh_minutes: int = Field(60, ge=0)  # milestones and releases don't bump issues
    checks_refresh_minutes: int = Field(15, ge=0)  # check runs don't bump PRs: re-read open PRs' rollups
    repos_refresh_minutes: int = Field(60, ge=0)  # org mode: re-list the org's repositories

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL, e.g. https://api.github.com")
        check_no_credentials(v, "set <source>.token instead (best from SYNCD_SOURCES__<NAME>__TOKEN), "
                                "or a GitHub App's app_id, private_key and installation_id")
        return v.rstrip("/")

    @field_validator("repos")
    @classmethod
    def _repos(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.fullmatch(r"[\w.-]+/[\w.-]+", name):
                raise ValueError(f"{name!r} is not owner/name")
        return v

    @field_validator("key_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _auth_and_scope(self) -> GitHubSource:
        if self.token is None and not (self.app_id and self.private_key and self.installation_id):
            raise ValueError("needs token, or app_id + private_key + installation_id")
        if not self.repos and not self.org:
            raise ValueError("needs repos or org")
        return self


SourceConfig = Annotated[JiraSource | GitHubSource, Field(discriminator="type")]
