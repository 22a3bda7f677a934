"""Which Jira fields and issue types mean what on one site: `FieldMap`, found from /field and /issuetype.

Sites differ in language and configuration, so this reads facts that do not (STYLE.md, "Do this" 8):
custom fields are found by their plugin type (`schema.custom`), not by display name, and an issue's
kind comes from the type's `hierarchyLevel`, `subtask` flag and `untranslatedName` (GET
/rest/api/3/issuetype, see ../shared/realdata/jira-openapi) before its display name, with a per-source
override map. The levels are Jira Cloud's issue type hierarchy: -1 Subtask, 0 Base, 1 Epic (the
platform API's IssueTypeCreateBean.hierarchyLevel and GET /project/{id}/hierarchy, e.g. as documented
at https://mrrefactoring.github.io/jira.js/interfaces/Version3Parameters.CreateIssueType.html);
Atlassian replaced the issue type's `type` (standard/subtype) and the Epic Link field with
`hierarchyLevel` and `parent` (https://community.developer.atlassian.com/t/deprecation-of-the-epic-link-
parent-link-and-other-related-fields-in-rest-apis-and-webhooks/54048), which is why they come first.
Pure: no HTTP here (connectors/jira.py fetches /field and /issuetype).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syncd.connectors.payload import obj, text
from syncd.model import ItemKind

Json = dict[str, Any]

POINT_FIELD_NAMES = ("story point estimate", "story points")
GREENHOPPER = "com.pyxis.greenhopper.jira:"
SPRINT_SCHEMA = GREENHOPPER + "gh-sprint"
EPIC_LINK_SCHEMA = GREENHOPPER + "gh-epic-link"
POINTS_SCHEMAS = (GREENHOPPER + "jsw-story-points", "com.atlassian.jira.plugin.system.customfieldtypes:float")
KIND_NAMES = {
    "epic": ItemKind.EPIC,
    "story": ItemKind.STORY, "user story": ItemKind.STORY, "feature": ItemKind.STORY,
    "new feature": ItemKind.STORY, "improvement": ItemKind.STORY,
    "bug": ItemKind.BUG, "defect": ItemKind.BUG, "incident": ItemKind.BUG,
    "subtask": ItemKind.SUBTASK, "sub-task": ItemKind.SUBTASK,
    "task": ItemKind.TASK,
}
"""English issue type names (as `untranslatedName` or `name` give them) and the kind each means."""
BASE_FIELDS = [
    "summary", "status", "issuetype", "priority", "labels", "components", "assignee", "reporter",
    "created", "updated", "resolutiondate", "resolution", "duedate", "parent", "fixVersions",
    "issuelinks", "description", "project",
]


@dataclass
class FieldMap:
    """Site-specific custom field ids (discovered from /field, overridable in config)."""

    points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None
    flagged: str | None = None
    point_names: set[str] = field(default_factory=lambda: set(POINT_FIELD_NAMES))
    type_names: dict[str, str] = field(default_factory=dict)  # issue type id -> untranslatedName (/issuetype)
    kind_overrides: dict[str, ItemKind] = field(default_factory=dict)  # type id or name (lower case) -> kind

    def to_json(self) -> Json:
        """For the cursor: a later poll needs no /field or /issuetype request (overrides come from config)."""
        return {"points": self.points, "sprint": self.sprint, "epic_link": self.epic_link, "flagged": self.flagged,
                "type_names": dict(self.type_names)}

    @classmethod
    def from_json(cls, data: Json) -> FieldMap:
        """Inverse of `to_json`."""
        names = data.get("type_names")
        return cls(points=data.get("points"), sprint=data.get("sprint"), epic_link=data.get("epic_link"),
                   flagged=data.get("flagged"),
                   type_names={str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {})

    def kind_of(self, issuetype: Json | None, where: str = "fields.issuetype") -> ItemKind:
        """The kind of an issue of this type on this site (see `item_kind`)."""
        return item_kind(issuetype, where, type_names=self.type_names, overrides=self.kind_overrides)

    def request_fields(self) -> list[str]:
        """The fields a search asks for: what the model needs, nothing more."""
        extra = [f for f in (self.points, self.sprint, self.epic_link, self.flagged) if f]
        return BASE_FIELDS + extra


def field_map_from_fields(fields: list[Json], points_override: str | None = None,
                          issue_types: list[Json] | None = None) -> FieldMap:
    """Find the story points, sprint, epic link and flagged fields in /field by their plugin type.

    Sprint: `schema.custom` gh-sprint; epic link: gh-epic-link; story points: jsw-story-points, else a
    float field with a known (untranslated) name; a configured id wins. Flagged has no plugin type of
    its own (a multi-checkbox field), so it is found by its untranslated name. A field named "Sprint"
    of another type is not the sprint field. `issue_types` (/issuetype) gives the types' English names.
    """
    fm = FieldMap()
    by_name_points: str | None = None
    for f in fields:
        if not isinstance(f, dict) or not f.get("id"):
            continue
        fid = str(f["id"])
        names = {str(f.get(k) or "").strip().lower() for k in ("untranslatedName", "name")} - {""}
        schema = f.get("schema")
        custom = str(schema.get("custom") or "") if isinstance(schema, dict) else ""
        if custom == POINTS_SCHEMAS[0] and fm.points is None:
            fm.points = fid
            fm.point_names |= names
        elif custom == POINTS_SCHEMAS[1] and names & set(POINT_FIELD_NAMES) and by_name_points is None:
            by_name_points = fid
            fm.point_names |= names
        elif custom == SPRINT_SCHEMA and fm.sprint is None:
            fm.sprint = fid
        elif custom == EPIC_LINK_SCHEMA and fm.epic_link is None:
            fm.epic_link = fid
        elif "flagged" in names and fm.flagged is None and f.get("custom", True):
            fm.flagged = fid
    fm.points = points_override or fm.points or by_name_points
    fm.type_names = type_names_from_issuetypes(issue_types or [])
    return fm


def type_names_from_issuetypes(issue_types: list[Any]) -> dict[str, str]:
    """Issue type id -> its English name, from /issuetype (`untranslatedName`, present on Cloud)."""
    out: dict[str, str] = {}
    for t in issue_types:
        if isinstance(t, dict) and t.get("id") is not None and isinstance(t.get("untranslatedName"), str):
            out[str(t["id"])] = t["untranslatedName"]
    return out


def kind_overrides(config: dict[str, str]) -> dict[str, ItemKind]:
    """A source's `issue_types` override map (type name or id -> kind) keyed as `item_kind` looks it up."""
    return {k.strip().lower(): ItemKind(v) for k, v in config.items()}


def item_kind(issuetype: Json | None, where: str = "fields.issuetype", *, type_names: dict[str, str] | None = None,
              overrides: dict[str, ItemKind] | None = None) -> ItemKind:
    """Our kind from the issue type, by facts that do not depend on the site's language.

    In order: the source's override map (by type id, untranslated name or name); `hierarchyLevel`
    (1 epic, -1 sub-task); the `subtask` flag; the English name (`type_names[id]` from /issuetype, the
    payload's own `untranslatedName`, then `name`); anything else is a task.
    """
    it = obj(issuetype, where)
    tid = str(it["id"]) if isinstance(it.get("id"), str | int) and not isinstance(it.get("id"), bool) else None
    english = (type_names or {}).get(tid or "") or text(it.get("untranslatedName"), f"{where}.untranslatedName")
    name = text(it.get("name"), f"{where}.name")
    for key in (tid, english, name):
        if key is not None and overrides and key.strip().lower() in overrides:
            return overrides[key.strip().lower()]
    level = it.get("hierarchyLevel")
    if level == 1 and not isinstance(level, bool):
        return ItemKind.EPIC
    if (level == -1 and not isinstance(level, bool)) or it.get("subtask") is True:
        return ItemKind.SUBTASK
    for candidate in (english, name):
        kind = KIND_NAMES.get((candidate or "").strip().lower())
        if kind is not None:
            return kind
    return ItemKind.TASK
