"""What a parsed JQL query means on one site: a predicate over issue payloads and a sort order.

`compile_query` checks the query against the site the way Jira does (an unknown field, project,
status, sprint or issue key is a 400, not an empty result) and returns a `CompiledQuery`.
Semantics kept from Jira: `!=` and `NOT IN` never match an empty value; a bare datetime
(`"2026/11/20 10:00"`) is read in the site's time zone with minute precision, while a number is
epoch milliseconds; `ORDER BY` accepts at most 7 fields; `resolution = Unresolved` matches issues
without a resolution.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from syncd.sandbox.jql import BoolOp, Clause, Empty, Function, JqlError, Node, Not, Query, Value

Json = dict[str, Any]
OPEN_SPRINT_STATES = ("active", "future")
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_UNIT = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


@dataclass
class JqlSite:
    """The site a query is checked and evaluated against (built by the server per request)."""

    tz: tzinfo
    now: datetime
    me: str | None  # accountId of the caller, for currentUser()
    projects: dict[str, Json]  # key -> project
    key_ids: dict[str, str]  # issue key (current and moved-from, upper case) -> id
    issue_ids: set[str]
    statuses: list[Json]
    issue_types: list[Json]
    sprints: dict[int, Json]
    users: dict[str, Json]  # accountId -> user
    versions: list[Json]
    fields: list[Json]  # /field
    sprint_field: str | None = None
    clause_ids: dict[str, str] = field(default_factory=dict)  # lower clause name / cf[N] -> field id

    def __post_init__(self) -> None:
        for f in self.fields:
            for name in [*(f.get("clauseNames") or []), f.get("name", ""), f.get("id", "")]:
                if name:
                    self.clause_ids.setdefault(str(name).lower(), str(f["id"]))


def _err_value(value: str, name: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{name}'.")


def _named(items: list[Json], value: str) -> set[str]:
    low = value.lower()
    return {str(i.get("id")) for i in items if low in (str(i.get("name", "")).lower(), str(i.get("id")))}


def _user_field(name: str) -> Callable[[Json], set[str]]:
    return lambda f: {str(f[name]["accountId"])} if isinstance(f.get(name), dict) else set()


def _sprint_ids(site: JqlSite) -> Callable[[Json], set[str]]:
    def get(f: Json) -> set[str]:
        raw = f.get(site.sprint_field) if site.sprint_field else None
        return {str(s["id"]) for s in raw or [] if isinstance(s, dict) and "id" in s}
    return get


# -- set-valued fields: what an issue holds, and what a JQL value names ---------------------------

@dataclass
class _SetField:
    name: str
    get: Callable[[Json], set[str]]  # issue fields -> canonical values
    resolve: Callable[[Value | Function], set[str]]  # JQL value -> canonical values (raises JqlError)


def _set_fields(site: JqlSite) -> dict[str, _SetField]:
    def project(v: Value | Function) -> set[str]:
        text = _plain(v, "project")
        for key, p in site.projects.items():
            if text.upper() == key or text == str(p.get("id")) or text.lower() == str(p.get("name", "")).lower():
                return {key}
        raise _err_value(text, "project")

    def issue(name: str) -> Callable[[Value | Function], set[str]]:
        def resolve(v: Value | Function) -> set[str]:
            text = _plain(v, name)
            found = site.key_ids.get(text.upper()) or (text if text in site.issue_ids else None)
            if found is None:
                raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
            return {found}
        return resolve

    def named(name: str, pool: Callable[[], list[Json]]) -> Callable[[Value | Function], set[str]]:
        def resolve(v: Value | Function) -> set[str]:
            text = _plain(v, name)
            ids = _named(pool(), text)
            if not ids:
                raise _err_value(text, name)
            return ids
        return resolve

    def category(v: Value | Function) -> set[str]:
        text = _plain(v, "statusCategory").lower()
        for key, names in {"new": ("to do", "new", "2"), "indeterminate": ("in progress", "indeterminate", "4"),
                           "done": ("done", "complete", "3")}.items():
            if text in names:
                return {key}
        raise _err_value(text, "statusCategory")

    def sprint(v: Value | Function) -> set[str]:
        if isinstance(v, Function):
            states = {"opensprints": OPEN_SPRINT_STATES, "closedsprints": ("closed",),
                      "futuresprints": ("future",)}.get(v.name.lower())
            if states is None:
                raise JqlError(f"Unable to find JQL function '{v.name}()'.")
            return {str(i) for i, s in site.sprints.items() if s.get("state") in states}
        ids = {str(i) for i, s in site.sprints.items() if v.text == str(i) or v.text.lower() == str(s.get("name", "")).lower()}
        if not ids:
            raise _err_value(v.text, "sprint")
        return ids

    def user(name: str) -> Callable[[Value | Function], set[str]]:
        def resolve(v: Value | Function) -> set[str]:
            if isinstance(v, Function):
                if v.name.lower() != "currentuser":
                    raise JqlError(f"Unable to find JQL function '{v.name}()'.")
                return {site.me} if site.me else set()
            low = v.text.lower()
            ids = {a for a, u in site.users.items() if low in (a.lower(), str(u.get("emailAddress", "")).lower(),
                                                              str(u.get("displayName", "")).lower())}
            if not ids:
                raise _err_value(v.text, name)
            return ids
        return resolve

    def resolution(v: Value | Function) -> set[str]:
        text = _plain(v, "resolution")
        return {"unresolved"} if text.lower() == "unresolved" else {text.lower()}

    def any_text(name: str) -> Callable[[Value | Function], set[str]]:
        return lambda v: {_plain(v, name).lower()}

    statuses = lambda: site.statuses  # noqa: E731 - late-bound pools
    types = lambda: site.issue_types  # noqa: E731
    versions = lambda: site.versions  # noqa: E731
    key_of = issue("key")
    specs = [
        _SetField("project", lambda f: {str((f.get("project") or {}).get("key", "")).upper()}, project),
        _SetField("key", lambda f: set(), key_of),  # the issue id is matched in _matcher
        _SetField("id", lambda f: set(), issue("id")),
        _SetField("issuetype", lambda f: {str((f.get("issuetype") or {}).get("id"))}, named("issuetype", types)),
        _SetField("status", lambda f: {str((f.get("status") or {}).get("id"))}, named("status", statuses)),
        _SetField("statuscategory", lambda f: {str(((f.get("status") or {}).get("statusCategory") or {}).get("key"))},
                  category),
        _SetField("sprint", _sprint_ids(site), sprint),
        _SetField("labels", lambda f: {str(x).lower() for x in f.get("labels") or []}, any_text("labels")),
        _SetField("assignee", _user_field("assignee"), user("assignee")),
        _SetField("reporter", _user_field("reporter"), user("reporter")),
        _SetField("resolution", lambda f: {str((f.get("resolution") or {}).get("name", "")).lower()}
                  if f.get("resolution") else {"unresolved"}, resolution),
        _SetField("fixversion", lambda f: {str(v.get("id")) for v in f.get("fixVersions") or []},
                  named("fixVersion", versions)),
        _SetField("parent", lambda f: {str(f["parent"]["id"])} if isinstance(f.get("parent"), dict) else set(),
                  issue("parent")),
    ]
    out = {s.name: s for s in specs}
    out.update({"issuekey": out["key"], "issue": out["key"], "type": out["issuetype"], "fixversions": out["fixversion"]})
    return out


_DATE_FIELDS = {"updated": "updated", "updateddate": "updated", "created": "created", "createddate": "created",
                "resolved": "resolutiondate", "resolutiondate": "resolutiondate", "due": "duedate",
                "duedate": "duedate"}
_SORTABLE = {"summary": "summary", "status": "status", "issuetype": "issuetype", "type": "issuetype",
             "project": "project"}


def _plain(v: Value | Function, name: str) -> str:
    if isinstance(v, Function):
        raise JqlError(f"Unable to find JQL function '{v.name}()' for the field '{name}'.")
    return v.text


def jira_millis(value: str | None) -> int | None:
    """Epoch milliseconds of a Jira timestamp (`2026-11-20T10:00:00.000-0800`) or date (`2026-11-30`)."""
    if not value:
        return None
    text = value if "T" in value else value + "T00:00:00+00:00"
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _date_value(v: Value | Function, name: str, site: JqlSite) -> int:
    """A JQL date operand as epoch milliseconds."""
    if isinstance(v, Function):
        fn = v.name.lower()
        local = site.now.astimezone(site.tz)
        if fn == "now":
            return int(site.now.timestamp() * 1000)
        if fn in ("startofday", "endofday"):
            start = local.replace(hour=0, minute=0, second=0, microsecond=0)
            moment = start if fn == "startofday" else start + timedelta(days=1) - timedelta(milliseconds=1)
            return int(moment.timestamp() * 1000)
        raise JqlError(f"Unable to find JQL function '{v.name}()'.")
    text = v.text.strip()
    if re.fullmatch(r"\d+", text):  # any number is epoch milliseconds (Perceval sends `updated > 0`)
        return int(text)
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(parsed.replace(tzinfo=site.tz).timestamp() * 1000)
    period = _PERIOD.match(text)
    if period:
        delta = sum((int(n) * _UNIT[u.lower()] for n, u in _PERIOD_PART.findall(period.group(2))), timedelta())
        moment = site.now - delta if period.group(1) == "-" else site.now + delta
        return int(moment.timestamp() * 1000)
    raise JqlError(f"Date value '{text}' for field '{name}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
                   "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}
Matcher = Callable[[Json], bool]


def _unsupported_or_unknown(name: str, site: JqlSite) -> JqlError:
    if name.lower() in site.clause_ids:
        return JqlError(f"Field '{name}' is not supported by the syncd sandbox's JQL.")
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _clause(c: Clause, site: JqlSite, sets: dict[str, _SetField]) -> Matcher:
    name = c.field.lower()
    operand = c.operand
    if name in _DATE_FIELDS or _custom_number(name, site):
        fid = _DATE_FIELDS.get(name) or _custom_number(name, site)
        assert fid is not None
        is_date = name in _DATE_FIELDS

        def read(f: Json) -> Any:
            return jira_millis(f.get(fid)) if is_date else f.get(fid)

        if isinstance(operand, Empty):
            want_empty = c.op == "IS"
            return lambda i: (read(i.get("fields") or {}) is None) == want_empty
        if c.op in ("~", "!~"):
            raise JqlError(f"The operator '{c.op}' is not supported by the '{c.field}' field.")

        def value(v: Value | Function) -> Any:
            if is_date:
                return _date_value(v, c.field, site)
            try:
                return float(_plain(v, c.field))
            except ValueError:
                raise JqlError(f"The value '{_plain(v, c.field)}' is not a number for the field '{c.field}'.") from None

        if c.op in ("IN", "NOT IN"):
            targets = {value(v) for v in (operand if isinstance(operand, tuple) else (operand,))}
            negate = c.op == "NOT IN"
            return lambda i: (x := read(i.get("fields") or {})) is not None and ((x in targets) != negate)
        assert not isinstance(operand, tuple)
        target, compare = value(operand), _COMPARE[c.op]
        return lambda i: (x := read(i.get("fields") or {})) is not None and compare(x, target)

    spec = sets.get(name)
    if spec is None:
        raise _unsupported_or_unknown(c.field, site)
    is_issue = spec.name in ("key", "id")
    get = (lambda i: {str(i.get("id"))}) if is_issue else (lambda i: spec.get(i.get("fields") or {}))
    def empty(values: set[str]) -> bool:
        return not values or (spec.name == "resolution" and values == {"unresolved"})

    if isinstance(operand, Empty):
        want_empty = c.op == "IS"
        return lambda i: empty(get(i)) == want_empty
    if c.op not in ("=", "!=", "IN", "NOT IN"):
        raise JqlError(f"The operator '{c.op}' is not supported by the '{c.field}' field.")
    wanted: set[str] = set()
    for v in operand if isinstance(operand, tuple) else (operand,):
        wanted |= spec.resolve(v)
    if c.op in ("=", "IN"):
        return lambda i: bool(get(i) & wanted)
    return lambda i: not empty(got := get(i)) and not (got & wanted)  # like Jira, != never matches EMPTY


def _custom_number(name: str, site: JqlSite) -> str | None:
    fid = site.clause_ids.get(name)
    if name.startswith("cf[") and fid is None:
        fid = "customfield_" + name[3:-1]
    if fid is None:
        return None
    for f in site.fields:
        if f.get("id") == fid and (f.get("schema") or {}).get("type") == "number":
            return fid
    return None


def _matcher(node: Node, site: JqlSite, sets: dict[str, _SetField]) -> Matcher:
    if isinstance(node, Clause):
        return _clause(node, site, sets)
    if isinstance(node, Not):
        inner = _matcher(node.part, site, sets)
        return lambda i: not inner(i)
    parts = [_matcher(p, site, sets) for p in node.parts]
    assert isinstance(node, BoolOp)
    if node.op == "AND":
        return lambda i: all(p(i) for p in parts)
    return lambda i: any(p(i) for p in parts)


# -- ORDER BY -------------------------------------------------------------------------------------

def _key_parts(key: str) -> list[Any]:
    project, _, number = key.rpartition("-")
    return [project, int(number)] if number.isdigit() else [key, 0]


def _sort_reader(name: str) -> Callable[[Json], Any]:
    low = name.lower()
    if low in _DATE_FIELDS:
        fid = _DATE_FIELDS[low]
        return lambda i: jira_millis((i.get("fields") or {}).get(fid))
    if low in ("key", "issuekey"):
        return lambda i: _key_parts(str(i.get("key", "")))
    if low in ("id", "rank"):  # the sandbox ranks issues in the order they were created
        return lambda i: int(i.get("id", 0))
    if low in _SORTABLE:
        fid = _SORTABLE[low]

        def read(i: Json) -> Any:
            value = (i.get("fields") or {}).get(fid)
            if isinstance(value, dict):
                value = value.get("key") if fid == "project" else value.get("name")
            return None if value is None else str(value).lower()
        return read
    raise JqlError(f"Not able to sort using field '{name}'.")


def _cmp(a: Any, b: Any, desc: bool) -> int:
    if a == b:
        return 0
    if a is None or b is None:  # empty values last when ascending, first when descending
        result = 1 if a is None else -1
    else:
        result = -1 if a < b else 1
    return -result if desc else result


@dataclass
class CompiledQuery:
    """A query bound to a site: `matches(issue)` and `sort_values(issue)` with `compare` over them."""

    matches: Matcher
    readers: list[Callable[[Json], Any]]
    desc: list[bool]
    bounded: bool  # False for a query without a where clause ("order by key"): /search/jql refuses it

    def sort_values(self, issue: Json) -> list[Any]:
        """The issue's ORDER BY values, then its id (a total order; JSON-safe for page tokens)."""
        return [r(issue) for r in self.readers] + [int(issue.get("id", 0))]

    def compare(self, a: list[Any], b: list[Any]) -> int:
        """Compare two `sort_values` lists under the query's directions."""
        for x, y, desc in zip(a, b, [*self.desc, False], strict=False):
            c = _cmp(x, y, desc)
            if c:
                return c
        return 0

    def sort(self, issues: list[Json]) -> list[tuple[list[Any], Json]]:
        """Issues that match, in the query's order, each with its sort values."""
        keyed = [(self.sort_values(i), i) for i in issues if self.matches(i)]
        order: Callable[[tuple[list[Any], Json], tuple[list[Any], Json]], int] = lambda x, y: self.compare(x[0], y[0])  # noqa: E731
        keyed.sort(key=functools.cmp_to_key(order))
        return keyed


def compile_query(query: Query, site: JqlSite, default_order: tuple[str, bool] = ("created", True)) -> CompiledQuery:
    """Bind a parsed query to a site; raises JqlError for what Jira would refuse with 400."""
    sets = _set_fields(site)
    matches: Matcher = _matcher(query.where, site, sets) if query.where is not None else (lambda i: True)
    order = [(o.field, o.desc) for o in query.order] or [default_order]
    return CompiledQuery(matches, [_sort_reader(name) for name, _ in order], [desc for _, desc in order],
                         bounded=query.where is not None)
