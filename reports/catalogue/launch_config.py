"""What launch readiness is told in the config: `[releases.conventions]`, `[releases.roles]`,
`[releases.sign_offs]` and the checklist issue (`[releases.checklist]`, `releases.checklist_label`).

These are the models only; `syncd.settings.ReleaseSettings` extends `LaunchConfig`, so the TOML keys
live under `[releases]`. The defaults are the conventions launch readiness used before they could
be configured.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ROLE = re.compile(r"[A-Za-z][A-Za-z0-9 _-]{0,39}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _labels(v: list[str]) -> list[str]:
    out = [label.strip().lower() for label in v]
    if any(not label for label in out):
        raise ValueError("a label must not be empty")
    return out


def check_pattern(v: str | None) -> str | None:
    """A config value that must be a regular expression (None allowed): ValueError naming the problem."""
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
        return check_pattern(v)


class LaunchRoles(_Section):
    """`[releases.roles]`: who deploys, who monitors and who decides go/no-go (names, shown in the report)."""

    deploys: str | None = Field(None, min_length=1, max_length=120)
    monitors: str | None = Field(None, min_length=1, max_length=120)
    decides: str | None = Field(None, min_length=1, max_length=120)

    @field_validator("deploys", "monitors", "decides")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("name a person or team (or leave the key out)")
        return v.strip() if v is not None else None


class LaunchConfig(_Section):
    """Launch readiness settings (`[releases]`): conventions, go/no-go roles, sign-offs (role -> person) and the checklist issue."""

    conventions: LaunchConventions = Field(default_factory=LaunchConventions)
    roles: LaunchRoles = Field(default_factory=LaunchRoles)
    # role -> the person who signs it off, e.g. {"Product" = "Dana Whitfield", "QA" = "Lee Park"}
    sign_offs: dict[str, str] = Field(default_factory=dict)
    # release name (as reports show it) -> the key of its checklist issue, e.g. {"Gadget 5.6" = "GAD-900"}
    checklist: dict[str, str] = Field(default_factory=dict)
    # a label that marks the checklist issue among a release's items (when `checklist` names none)
    checklist_label: str = Field("release-checklist", min_length=1, max_length=100)
    # a Jira issue property key whose JSON value names the roles that signed (see reports/catalogue/signoffs.py);
    # the Jira sources fetch it with each issue of their search (no extra request)
    sign_off_property: str | None = Field(None, min_length=1, max_length=255)

    @field_validator("sign_offs")
    @classmethod
    def _sign_offs(cls, v: dict[str, str]) -> dict[str, str]:
        seen: set[str] = set()
        for role, person in v.items():
            if not _ROLE.fullmatch(role):
                raise ValueError(f"role {role!r} must start with a letter and hold only letters, digits, space, "
                                 "'-' or '_' (at most 40)")
            if not person.strip():
                raise ValueError(f"role {role!r}: name the person who signs it off")
            slug = role_slug(role)
            if slug in seen:
                raise ValueError(f"role {role!r} is given twice (roles are compared ignoring case, space, '-', '_')")
            seen.add(slug)
        return v

    @field_validator("checklist")
    @classmethod
    def _checklist(cls, v: dict[str, str]) -> dict[str, str]:
        for release, key in v.items():
            if not re.fullmatch(r"[A-Z][A-Z0-9_]+-\d+|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+", key):
                raise ValueError(f"{release!r}: {key!r} is not an issue key (PROJ-12 or owner/repo#34)")
        return v

    @field_validator("sign_off_property")
    @classmethod
    def _sign_off_property(cls, v: str | None) -> str | None:
        # Jira's property keys: at most 255 characters; a comma would split the search's property list
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]*", v):
            raise ValueError(f"{v!r} is not an issue property key (letters, digits, '.', '_', ':', '-')")
        return v

    @field_validator("checklist_label")
    @classmethod
    def _checklist_label(cls, v: str) -> str:
        return v.strip().lower()


def role_slug(role: str) -> str:
    """A role as labels write it: "Product Owner" -> "product-owner" (label `signoff-product-owner`)."""
    return re.sub(r"[\s_-]+", "-", role.strip().lower())
