"""Goals: what the business wants from the work, read from a TOML file (config/goals.example.toml).

A goal names its objective, the user problem it serves, an owner, a target date, one success metric
and a scope selector over normalized fields. The same file may hold sprint capacity. `load_goals`
and `load_goals_file` raise ConfigError with one line naming the goal id, the key and the problem.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from syncd.errors import ConfigError
from syncd.model import ItemKind

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selector(_Strict):
    """Which items a goal (or a computed metric) covers.

    Fields combine with AND; the values of one field with OR. `epics` selects the items under the
    named epic keys (never the epic itself); `fix_versions` names Jira fix versions, `milestones`
    GitHub milestones, `repositories` GitHub `owner/repo`. `kinds` narrows to item kinds (e.g.
    `["bug"]`). An empty selector matches nothing and is refused.
    """

    sources: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    epics: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    milestones: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    kinds: tuple[ItemKind, ...] = ()

    def is_empty(self) -> bool:
        """True when no field narrows anything."""
        return not any(getattr(self, name) for name in type(self).model_fields)

    def describe(self) -> str:
        """Human wording of the selector, e.g. `projects WID; labels customer`."""
        parts = []
        for name in type(self).model_fields:
            values = getattr(self, name)
            if values:
                parts.append(f"{name.replace('_', ' ')} {', '.join(str(v) for v in values)}")
        return "; ".join(parts) or "nothing"


class ComputedMetric(StrEnum):
    """Metrics syncd computes from the store for a goal's success metric."""

    OPEN_ITEMS = "open-items"  # items not done in the metric's selector
    OPEN_BUGS = "open-bugs"  # bugs not done
    DONE_ITEMS = "done-items"  # items done
    PERCENT_DONE = "percent-done"  # percent of items done
    MEDIAN_CYCLE_TIME = "median-cycle-time"  # days, items done in the flow window
    P85_CYCLE_TIME = "p85-cycle-time"  # days
    WEEKLY_THROUGHPUT = "weekly-throughput"  # mean items done per week in the flow window


class Metric(_Strict):
    """A goal's success metric: where it starts, where it should get, and where its value comes from.

    Exactly one of `value` (set by hand, with `value_date`) or `computed` (a `ComputedMetric`,
    over `selector` or by default the goal's scope) gives the current value. When `target` is
    below `baseline`, lower is better.
    """

    name: str = Field(min_length=1)
    unit: str = ""
    baseline: float
    target: float
    value: float | None = None
    value_date: date | None = None
    computed: ComputedMetric | None = None
    selector: Selector | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Metric:
        if (self.value is None) == (self.computed is None):
            raise ValueError("give exactly one of value (with value_date) or computed")
        if self.value is not None and self.value_date is None:
            raise ValueError("value_date is required with value")
        if self.computed is None and self.selector is not None:
            raise ValueError("selector only applies to a computed metric")
        if self.baseline == self.target:
            raise ValueError("target must differ from baseline")
        return self


class Goal(_Strict):
    """One business goal and the work that serves it."""

    id: str
    title: str = Field(min_length=1)
    objective: str = Field(min_length=1)  # the business objective
    problem: str = Field(min_length=1)  # the user problem it serves
    owner: str = Field(min_length=1)
    target_date: date
    start: date | None = None  # when work toward the goal began (informational)
    priority: int | None = Field(None, ge=1)  # 1 = most important; breaks ties when ranking risk themes
    baseline_date: date | None = None  # scope-creep baseline; default: `start`, else work start
    metric: Metric
    scope: Selector
    allocation: float | None = Field(None, gt=0, le=1)  # the team's share for this goal; wins over the recent share
    team: str | None = None  # a `[teams]` name: the team doing the work (default: the teams of its items)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.fullmatch(v):
            raise ValueError("must be lower-case letters, digits, - or _ (at most 64)")
        return v

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: Selector) -> Selector:
        if v.is_empty():
            raise ValueError("empty selector: name at least one of projects, epics, labels, ...")
        return v

    @model_validator(mode="after")
    def _dates(self) -> Goal:
        if self.start and self.start > self.target_date:
            raise ValueError("start is after target_date")
        return self


class Team(_Strict):
    """A team whose weekly throughput forecasts sample (`[teams.NAME]` in the settings).

    An item is the team's when it sits on one of its `boards` (a sprint of the board held it), or
    in one of its Jira `projects` or GitHub `repositories`. `people` is its headcount, the capacity
    the "add people" option scales. `members`, `days_off` (sprint name -> person -> days) and
    `focus_factor` (points per available person-day) give a sprint's kickoff capacity.
    """

    boards: tuple[str, ...] = ()  # board names or ids
    projects: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    people: int | None = Field(None, gt=0, le=1000)
    members: tuple[str, ...] = ()
    days_off: dict[str, dict[str, float]] = Field(default_factory=dict)
    focus_factor: float | None = Field(None, gt=0, le=10)

    @model_validator(mode="after")
    def _some(self) -> Team:
        if not (self.boards or self.projects or self.repositories):
            raise ValueError("name at least one of boards, projects or repositories")
        if len(set(self.members)) != len(self.members):
            raise ValueError("members lists someone twice")
        for sprint, people in self.days_off.items():
            for person, days in people.items():
                if person not in self.members:
                    raise ValueError(f"days_off for sprint {sprint!r} names {person!r}, who is not in members")
                if days < 0:
                    raise ValueError(f"days_off for {person!r} in sprint {sprint!r} is negative")
        return self


class Capacity(_Strict):
    """Planned capacity in story points for a board's sprints (or one named sprint)."""

    board: str = Field(min_length=1)  # board name or id
    sprint: str | None = None  # sprint name; absent: every sprint of the board
    points: float = Field(gt=0)


class GoalsFile(_Strict):
    """The whole goals file: goals and optional sprint capacity."""

    goals: list[Goal] = Field(default_factory=list)
    capacity: list[Capacity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> GoalsFile:
        seen: set[str] = set()
        for g in self.goals:
            if g.id in seen:
                raise ValueError(f"goal {g.id}: duplicate id")
            seen.add(g.id)
        return self


def _error_line(path: Path, data: dict[str, Any], err: ValidationError) -> str:
    first = err.errors()[0]
    loc = list(first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    where = ""
    if len(loc) >= 2 and loc[0] in ("goals", "capacity") and isinstance(loc[1], int):
        entries = data.get(loc[0]) or []
        ident = entries[loc[1]].get("id") if loc[0] == "goals" and loc[1] < len(entries) and isinstance(entries[loc[1]], dict) else None
        where = f"goal {ident}" if ident else f"{loc[0]}[{loc[1]}]"
        loc = loc[2:]
    key = ".".join(str(p) for p in loc)
    head = ": ".join(p for p in (where, key) if p)
    more = f" (and {len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"goals: {path}: {head + ': ' if head else ''}{msg}{more}"


def load_goals_file(path: Path | str) -> GoalsFile:
    """Read and validate a goals file; ConfigError with one line on any problem."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"goals: file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"goals: {p}: invalid TOML: {exc}") from None
    try:
        return GoalsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_error_line(p, data, exc)) from None


def load_goals(path: Path | str) -> list[Goal]:
    """The goals of a goals file, validated."""
    return load_goals_file(path).goals
