"""The normalized model every layer shares: work items, pull requests, sprints, releases, links,
transitions and people, plus the `Batch` a connector yields.

This module is a leaf: it imports nothing of ours. Every timestamp is timezone-aware and held in
UTC; naive datetimes are refused, so a connector cannot silently store local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from types import UnionType
from typing import Annotated, Any, Self, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, converted to UTC on validation."""


class SourceType(StrEnum):
    JIRA = "jira"
    GITHUB = "github"


class ItemKind(StrEnum):
    EPIC = "epic"
    STORY = "story"
    TASK = "task"
    BUG = "bug"
    SUBTASK = "subtask"
    ISSUE = "issue"
    PULL_REQUEST = "pull_request"


class StatusCategory(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class SprintState(StrEnum):
    FUTURE = "future"
    ACTIVE = "active"
    CLOSED = "closed"


class LinkKind(StrEnum):
    BLOCKS = "blocks"  # from blocks to
    RELATES = "relates"
    DUPLICATES = "duplicates"  # from duplicates to
    IMPLEMENTS = "implements"  # a pull request implements a work item (PR -> Jira key)
    # Inverted links kept by the item they come into, when the item they go out from is not synced
    # (another team's Jira project): `from` is blocked by / duplicated by `to`.
    BLOCKED_BY = "blocked_by"
    DUPLICATED_BY = "duplicated_by"


class ReviewState(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    DISMISSED = "dismissed"
    PENDING = "pending"


class CheckConclusion(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    NEUTRAL = "neutral"  # skipped, neutral or no checks at all


class PullState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


class TransitionField(StrEnum):
    STATUS = "status"
    SPRINT = "sprint"
    ESTIMATE = "estimate"
    ASSIGNEE = "assignee"
    FIX_VERSION = "fix_version"
    PRIORITY = "priority"  # from/to: priority ids
    LABELS = "labels"  # the whole set, space-separated, in from_string/to_string
    COMPONENT = "component"  # one component id added (to) or removed (from) per row
    DUE = "due"  # from/to: YYYY-MM-DD
    FLAGGED = "flagged"  # to_string set: flagged; empty: not
    PARENT = "parent"  # from/to: the parent issue's id (team-managed or sub-task parent)
    EPIC = "epic"  # the Epic Link field: from/to the epic's id, strings its key
    LINK = "link"  # one issue link added (to: the far key) or removed (from) per row


class Record(BaseModel):
    """Base of all stored records: strict about unknown fields, values compared by content."""

    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A record from values already of their fields' types, without validating them.

        For the connectors' mappers, which read every value of an untrusted payload through typed readers
        (`connectors.payload`): validating what they built would only confirm it, and was about a tenth of a
        replayed first sync's CPU (issue 18 item 3). What validation would still change is done: timestamps to
        UTC (a naive one is refused), enum values to their members, absent fields to their defaults; a missing
        required field or an unknown one raises TypeError. The record equals the validated one, field for field.
        """
        shape = _SHAPES.get(cls) or _shape(cls)
        if not (shape.required <= values.keys() <= shape.names):
            missing, unknown = shape.required - values.keys(), values.keys() - shape.names
            raise TypeError(f"{cls.__name__}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        data = shape.template.copy()
        data.update(values)
        for name, factory in shape.factories:
            if name not in values:
                data[name] = factory()  # type: ignore[call-arg]  # no factory here takes the data
        for name in shape.utc:
            stamp = data[name]
            if stamp is not None and stamp.tzinfo is not UTC:  # `...Z` and `+00:00` parse to UTC itself
                data[name] = _to_utc(stamp)
        for name, enum in shape.enums:
            value = data[name]
            if value is not None and value.__class__ is not enum:
                data[name] = enum(value)
        record = cls.__new__(cls)
        _set(record, "__dict__", data)
        _set(record, "__pydantic_fields_set__", set(values))
        _set(record, "__pydantic_extra__", None)
        _set(record, "__pydantic_private__", shape.private.copy() if shape.private is not None else None)
        return record

    def __eq__(self, other: Any) -> bool:
        """Records are equal when their fields are: the kept JSON text of the payload is a cache, not content."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


class RawRecord(Record):
    """A record kept with the raw payload it was mapped from (work items, pull requests, sprints, releases)."""

    # (payload, its JSON: text, or orjson's UTF-8 bytes) once something encoded the raw payload (the sync's
    # storability check does): the store binds it instead of encoding the payload again, while `raw` is still
    # that very payload
    _raw_json: tuple[Any, str | bytes] | None = PrivateAttr(default=None)

    # both read the private state's dict itself: pydantic's `__getattr__`/`__setattr__` for a private attribute
    # run in Python, once per stored record (issue 18 item 3)
    def raw_json(self) -> str | bytes | None:
        """The raw payload's JSON (text or UTF-8 bytes) when it was encoded for the payload `raw` holds now."""
        private = self.__pydantic_private__
        kept = private.get("_raw_json") if private else None
        return kept[1] if kept is not None and kept[0] is self.__dict__.get("raw") else None

    def keep_raw_json(self, text: str | bytes) -> None:
        """Remember `text` as the JSON of the current raw payload."""
        kept = (self.__dict__.get("raw"), text)
        private = self.__pydantic_private__
        if private is None:  # a record built without its private state (the store's snapshot reader)
            _set(self, "__pydantic_private__", {"_raw_json": kept})
        else:
            private["_raw_json"] = kept


_set = object.__setattr__


class _Shape:
    """What `Record.trusted` needs to know of a record class, worked out once per class."""

    def __init__(self, model: type[BaseModel]) -> None:
        fields = model.model_fields
        self.names = frozenset(fields)
        self.required = frozenset(n for n, f in fields.items() if f.is_required())
        # every field in declaration order (as validation writes `__dict__`); plain defaults in place
        self.template = {n: (None if f.is_required() or f.default_factory else f.default) for n, f in fields.items()}
        self.factories = [(n, f.default_factory) for n, f in fields.items() if f.default_factory is not None]
        self.utc = [n for n, f in fields.items() if _is_utc(f.annotation, f.metadata)]
        self.enums = [(n, e) for n, f in fields.items() if (e := _enum_of(f.annotation)) is not None]
        private = model.__private_attributes__
        self.private = {n: a.get_default() for n, a in private.items()} if private else None


_SHAPES: dict[type[BaseModel], _Shape] = {}


def _shape(model: type[BaseModel]) -> _Shape:
    shape = _SHAPES.get(model)
    if shape is None:
        shape = _SHAPES[model] = _Shape(model)
    return shape


def _is_utc(annotation: Any, metadata: list[Any]) -> bool:
    """True for a `UtcDatetime` field (or `UtcDatetime | None`)."""
    if any(isinstance(m, AfterValidator) and m.func is _to_utc for m in metadata):
        return True
    if get_origin(annotation) is Annotated:
        return _is_utc(get_args(annotation)[0], list(get_args(annotation)[1:]))
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_utc(a, []) for a in get_args(annotation))
    return False


def _enum_of(annotation: Any) -> type[Enum] | None:
    """The enum of an enum field (or of an optional one)."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        found = [e for a in get_args(annotation) if (e := _enum_of(a)) is not None]
        return found[0] if len(found) == 1 else None
    return None


def make_id(source: str, remote_id: str | int) -> str:
    """Stable record id: the configured source name plus the immutable remote id."""
    return f"{source}:{remote_id}"


class Person(Record):
    id: str  # make_id(source, accountId / login)
    source: str
    display_name: str
    email: str | None = None


class WorkItem(RawRecord):
    """A Jira issue, a GitHub issue or a GitHub pull request."""

    id: str  # make_id(source, immutable remote id): survives key changes on project moves
    source: str  # configured source name
    source_type: SourceType
    remote_id: str
    key: str  # WID-12, acme/widget#34
    project: str  # Jira project key or GitHub owner/repo
    kind: ItemKind
    title: str
    status: str  # raw status name
    status_category: StatusCategory
    resolution: str | None = None
    priority: str | None = None
    priority_id: str | None = None  # Jira's priority id: the same in every language (the cut order ranks by it)
    labels: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    assignee_id: str | None = None
    reporter_id: str | None = None
    created: UtcDatetime
    updated: UtcDatetime
    resolved: UtcDatetime | None = None
    due: date | None = None
    estimate: float | None = None  # story points
    parent_id: str | None = None  # parent issue or epic (record id)
    parent_key: str | None = None
    epic_id: str | None = None  # the epic this item rolls up to (record id), when known
    epic_key: str | None = None  # the epic's key (older Jira sites name the epic only by key)
    sprint_ids: list[str] = Field(default_factory=list)  # record ids of sprints
    release_ids: list[str] = Field(default_factory=list)  # fix versions or milestone
    flagged: bool = False
    description: str | None = None  # plain text, for acceptance-criteria checks
    url: str | None = None
    removed: bool = False
    # Jira issue properties the source asked for (key -> JSON value), e.g. the launch sign-off property
    properties: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)


class Review(Record):
    author_id: str | None
    state: ReviewState
    submitted_at: UtcDatetime | None = None


class PullRequest(RawRecord):
    """Pull-request details beside the WorkItem of kind pull_request with the same id."""

    item_id: str
    state: PullState
    draft: bool = False
    merged_at: UtcDatetime | None = None
    merged_by_id: str | None = None
    head_branch: str | None = None
    base_branch: str | None = None
    head_sha: str | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    reviews: list[Review] = Field(default_factory=list)
    requested_reviewer_ids: list[str] = Field(default_factory=list)
    checks: CheckConclusion = CheckConclusion.NEUTRAL
    linked_keys: list[str] = Field(default_factory=list)  # Jira keys named in the PR
    raw: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)


class Sprint(RawRecord):
    id: str  # make_id(source, sprint id)
    source: str
    remote_id: str
    board_id: str | None = None
    board_name: str | None = None
    name: str
    goal: str | None = None
    state: SprintState
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    complete: UtcDatetime | None = None
    created: UtcDatetime | None = None  # Jira Cloud's createdDate (Server/DC and older sites give none)
    raw: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)


class ReleaseKind(StrEnum):
    VERSION = "version"  # Jira fix version
    MILESTONE = "milestone"  # GitHub milestone
    RELEASE = "release"  # GitHub release (tag)


class Release(RawRecord):
    id: str  # make_id(source, "version:10000" / "milestone:acme/widget:3" / "release:...")
    source: str
    remote_id: str
    kind: ReleaseKind
    project: str
    name: str
    description: str | None = None
    due: date | None = None
    released_at: UtcDatetime | None = None
    released: bool = False
    prerelease: bool = False  # a GitHub release marked pre-release (release candidates, betas)
    draft: bool = False  # a GitHub release not yet published
    tag: str | None = None  # the GitHub release's tag name (v2.6.0)
    url: str | None = None
    created: UtcDatetime | None = None  # GitHub's created_at (a Jira fix version has no creation date)
    start: date | None = None  # a Jira fix version's start date
    raw: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)


class Link(Record):
    """A directed relation. `from_id` owns the link: a batch replaces all links it owns."""

    from_id: str
    kind: LinkKind
    to_key: str  # the target's key as the source named it
    to_id: str | None = None  # the target's record id, when the source gave it
    # The far end as the source showed it, kept only when its project is not synced (so it is not in
    # the store): Jira's linked issue carries its status, summary and type (issue 16 item 4).
    to_status: str | None = None
    to_category: StatusCategory | None = None
    to_summary: str | None = None
    to_type: str | None = None


class Transition(Record):
    """One field change from an item's history (Jira changelog, GitHub timeline)."""

    item_id: str
    change_id: str  # the history entry's id; with `field` and `seq` it is unique
    seq: int = 0
    field: TransitionField
    from_value: str | None = None
    to_value: str | None = None
    from_string: str | None = None
    to_string: str | None = None
    at: UtcDatetime
    author_id: str | None = None


class RiskAck(Record):
    """An accepted risk theme: who accepted it, when, until which day, why, and its state then.

    `red_signal_ids` and `forecast_p85` are the theme's red signals and 85% forecast when it was
    accepted (None: not pinned yet, e.g. a config acknowledgement before a report pins it); a new
    red signal or a forecast slip beyond the configured days raises the theme again.
    """

    theme_id: str
    by: str
    at: UtcDatetime
    until: date
    note: str
    source: str = "cli"  # cli | config
    red_signal_ids: tuple[str, ...] | None = None
    forecast_p85: date | None = None


class Batch(Record):
    """What a connector yields: records plus the cursor that is true once they are stored.

    For every item in `items`, the batch carries its complete set of owned links and transitions:
    the store replaces them whole. `removed_ids` are items the source no longer has (or no longer
    shows us); they are marked removed, never deleted. `cursor`, when set, replaces the source's
    cursor in the same transaction as the records.
    """

    items: list[WorkItem] = Field(default_factory=list)
    pulls: list[PullRequest] = Field(default_factory=list)
    sprints: list[Sprint] = Field(default_factory=list)
    releases: list[Release] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    removed_ids: list[str] = Field(default_factory=list)
    cursor: dict[str, Any] | None = None

    def is_empty(self) -> bool:
        """True when the batch carries no records and no cursor change."""
        return not (
            self.items or self.pulls or self.sprints or self.releases or self.links
            or self.transitions or self.people or self.removed_ids or self.cursor is not None
        )
