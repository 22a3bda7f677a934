"""What launch readiness is told in the config: `[releases.conventions]`.

These are the models only; `syncd.settings.ReleaseSettings` extends `LaunchConfig`, so the TOML keys
live under `[releases]`. The defaults are the conventions launch readiness used before they could
be configured.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _labels(v: list[str]) -> list[str]:
    out = [label.strip().lower() for label in v]
    if any(not label for label in out):
        raise ValueError("a label must not be empty")
    return out


def _pattern(v: str | None) -> str | None:
    if v is not None:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"{v!r} is not a regular expression: {exc}") from None
    return v


class LaunchConventions(_Section):
    """`[releases.conventions]`: how the documentation, rollback-plan and sign-off items of a release are recognised.

    An item is one when it carries one of the labels (or a component of that name; case does not
    matter) or its title matches the pattern (a regular expression, case-insensitive; none: labels
    only). The sign-off items count only while no `[releases.sign_offs]` are configured.
    """

    documentation_labels: list[str] = Field(default_factory=lambda: ["docs", "documentation", "release-notes",
                                                                     "release-note"])
    documentation_title: str | None = None
    rollback_labels: list[str] = Field(default_factory=lambda: ["rollback", "rollback-plan"])
    rollback_title: str | None = r"\broll[- ]?back\b"
    signoff_labels: list[str] = Field(default_factory=lambda: ["sign-off", "signoff", "approval", "go-live",
                                                               "launch-approval"])
    signoff_title: str | None = r"\bsign[- ]?off\b|\bapproval\b"

    @field_validator("documentation_labels", "rollback_labels", "signoff_labels")
    @classmethod
    def _labels(cls, v: list[str]) -> list[str]:
        return _labels(v)

    @field_validator("documentation_title", "rollback_title", "signoff_title")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        return _pattern(v)


class LaunchConfig(_Section):
    """Launch readiness settings (`[releases]`): how its items are recognised."""

    conventions: LaunchConventions = Field(default_factory=LaunchConventions)
