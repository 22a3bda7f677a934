"""The risk rule set: defaults, per-rule settings (`[reports.risks.RULE]`), and how a risk is made.

Each rule has a default threshold and severity; `settings.reports.risks[rule_id]` may set
`enabled`, `threshold` and `severity`. A configured severity replaces the rule's own escalation
(e.g. blocked is red when the blocker sits in a later sprint or another team, unless a severity is
configured).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from syncd.errors import ConfigError
from syncd.reports.analysis.types import Evidence, ItemRef, Risk, RiskChanges, RiskSubject, Severity
from syncd.reports.thresholds import RiskThresholds as RiskThresholds  # re-exported: its old home, for the analysis


@dataclass(frozen=True)
class RuleDefault:
    """A rule's defaults, what its threshold means, and where the default comes from."""

    threshold: float | None
    severity: Severity
    signal: str  # what the threshold measures, for docs and `config check`
    source: str  # where the default comes from: a practitioner source, or the reasoning of syncd's choice


RULES: dict[str, RuleDefault] = {
    "forecast-late": RuleDefault(0, Severity.AMBER, "days the 85% forecast may pass the target (red if the 50% does too)",
                                 "no slack: the 85% forecast is the commitment level (Vacanti, When Will It Be Done?)"),
    "scope-creep": RuleDefault(15, Severity.AMBER, "percent of baseline items added since the baseline date",
                               "syncd's choice: about one item in seven added is more than refinement"),
    "over-commitment": RuleDefault(120, Severity.AMBER, "percent of commitment vs capacity or average velocity",
                                   "syncd's choice: a fifth above what the team delivers is past normal variation"),
    "stale-work": RuleDefault(5, Severity.AMBER, "days an in-progress item went without an update",
                              "syncd's choice: one working week without a word"),
    "aging-wip": RuleDefault(1.0, Severity.AMBER, "multiple of the team's cycle time (at thresholds.aging_percentile) an item has been in progress",
                             "aging WIP against the 85th-percentile cycle time (Vacanti, Actionable Agile Metrics for Predictability)"),
    "blocked": RuleDefault(None, Severity.AMBER, "any unresolved blocker or flag (red: blocker in a later sprint or another team)",
                           "any: a blocked item on a plan is always worth saying"),
    "review-wait": RuleDefault(24, Severity.AMBER, "hours an open pull request waited for its first review",
                               "one business day at most to respond to a review (Google Engineering Practices, Speed of Code Reviews)"),
    "pr-too-large": RuleDefault(400, Severity.AMBER, "changed lines of an open pull request",
                                "review fewer than 400 lines at a time (SmartBear/Cisco study, Best Practices for Peer Code Review)"),
    "failing-checks": RuleDefault(14, Severity.AMBER, "days back merged pull requests are checked (open ones always)",
                                  "syncd's choice: two one-week sprints, like bug_window_days"),
    "unassigned-in-sprint": RuleDefault(None, Severity.AMBER, "any active-sprint item without an assignee",
                                        "any: sprint work without an owner"),
    "missing-acceptance": RuleDefault(None, Severity.AMBER, "any story in an active or next sprint without acceptance criteria",
                                      "any: a story is ready only with acceptance criteria (a Definition of Ready)"),
    "overdue": RuleDefault(0, Severity.RED, "days past the due date", "no slack: a due date is a date"),
    "carry-over": RuleDefault(2, Severity.AMBER, "sprints an item was carried over",
                              "syncd's choice: one carry-over happens, the second says the item is too big or stuck"),
    "bug-inflow": RuleDefault(1.5, Severity.AMBER, "bugs opened / closed over thresholds.bug_window_days (at least bug_wave_size opened)",
                              "syncd's choice: half again as many bugs opened as closed is a growing backlog"),
}


def rules_in_force_text(raw: Mapping[str, Any]) -> list[str]:
    """One line per rule: the threshold in force, the default and where it comes from (for `config check`)."""
    lines = []
    for rule, cfg in rule_configs(raw).items():
        d = RULES[rule]
        default = "any" if d.threshold is None else f"{d.threshold:g}"
        now = "any" if d.threshold is None and cfg.threshold == 0 else f"{cfg.threshold:g}"
        state = "" if cfg.enabled else " (disabled)"
        severity = f", severity {cfg.severity}" if cfg.severity else ""
        lines.append(f"risk rule {rule}{state}: {now}{severity} — {d.signal}; default {default}: {d.source}")
    return lines


class RuleSettings(BaseModel):
    """Per-rule settings from `[reports.risks.RULE]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    threshold: float | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class RuleConfig:
    """A rule's settings in force: defaults overlaid with configuration."""

    rule: str
    enabled: bool
    threshold: float
    severity: Severity | None  # configured severity, or None for the rule's own

    def pick(self, default: Severity) -> Severity:
        """The configured severity, else the rule's choice."""
        return self.severity or default


def rule_configs(raw: Mapping[str, Any]) -> dict[str, RuleConfig]:
    """Settings in force for every rule; ConfigError naming the rule and key on bad input."""
    for rule in raw:
        if rule not in RULES:
            raise ConfigError(f"config: reports.risks.{rule}: unknown risk rule (known: {', '.join(RULES)})")
    out = {}
    for rule, default in RULES.items():
        try:
            cfg = RuleSettings.model_validate(raw.get(rule) or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise ConfigError(f"config: reports.risks.{rule}.{key}: {msg}") from None
        threshold = cfg.threshold if cfg.threshold is not None else (default.threshold or 0.0)
        out[rule] = RuleConfig(rule=rule, enabled=cfg.enabled, threshold=float(threshold), severity=cfg.severity)
    return out


def risk_id(rule: str, subject_ids: Iterable[str]) -> str:
    """Stable identity of a risk: the rule and what it is about, not its numbers."""
    text = rule + "\n" + "\n".join(sorted(set(subject_ids)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Attribution:
    """Which goals, releases and sprints a risk threatens."""

    goal_ids: Iterable[str] = ()
    release_ids: Iterable[str] = ()
    sprint_ids: Iterable[str] = ()


def make_risk(rule: str, severity: Severity, title: str, mitigation: str, *, subjects: Iterable[str],
              numbers: dict[str, float | int | str], items: Sequence[ItemRef] = (), owner: str | None = None,
              url: str | None = None, attr: Attribution = Attribution(),
              kind: RiskSubject = RiskSubject.ITEM) -> Risk:
    """A Risk with its stable id; `kind`: what it fired on (an item unless a goal, release, sprint or team)."""
    subject_ids = tuple(sorted(set(subjects)))
    return Risk(id=risk_id(rule, subject_ids), rule=rule, severity=severity, title=title,
                evidence=Evidence(numbers=numbers, items=list(items)), mitigation=mitigation, owner=owner,
                url=url, subject_ids=subject_ids, goal_ids=tuple(sorted(set(attr.goal_ids))),
                release_ids=tuple(sorted(set(attr.release_ids))), sprint_ids=tuple(sorted(set(attr.sprint_ids))),
                subject_kind=kind)


def sort_risks(risks: Iterable[Risk]) -> list[Risk]:
    """Red first, then by rule, then by title."""
    return sorted(risks, key=lambda r: (r.severity != Severity.RED, r.rule, r.title, r.id))


def compare_risks(current: Iterable[Risk], previous_ids: Iterable[str]) -> RiskChanges:
    """Split current risks into new and ongoing against a previous run's ids; list the resolved ids."""
    before = set(previous_ids)
    now = sort_risks(current)
    ids = {r.id for r in now}
    return RiskChanges(new=[r for r in now if r.id not in before], ongoing=[r for r in now if r.id in before],
                       resolved_ids=sorted(before - ids))
