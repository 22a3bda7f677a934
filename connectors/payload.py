"""Reading untrusted source payloads: `PayloadError` and typed readers that name the bad field.

The mapping modules read every value they use through these readers, so a payload of the wrong
shape (a missing id, a string where Jira sends an object, an unparseable timestamp, a list where a
dict belongs) ends in ONE exception type, `PayloadError`, naming the field by its path in the
payload (`fields.status`, `changelog.histories[3].created`), never in a KeyError or TypeError from
deep inside. Connectors turn it into a `SourceError` line naming the source and the item.
A null is read as "absent" everywhere: sources send nulls for unset fields.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any

import orjson

Json = dict[str, Any]


def parse_json(body: bytes | str) -> Any:
    """A response body as JSON: orjson (C, RFC 8259 strict), else the stdlib for what orjson refuses.

    orjson refuses what the stdlib reads on purpose: `1e309` (infinity), `NaN`, a lone surrogate escape
    (`\\ud800`); those are read as Python reads them and made storable by `connectors.sanitise`, as before.
    Broken JSON raises the stdlib's `json.JSONDecodeError` (the retry policy's "malformed JSON").
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


class AnswerCheck:
    """Whether every answer a client has read so far is strict: JSON orjson parses (RFC 8259: no NaN or
    infinity, no lone surrogate, no control character unescaped) without a NUL's `\\u0000` escape.

    Then no value read from those answers holds a NUL, a lone surrogate or a non-finite number, so the sync's
    storability check (`connectors.sanitise`) need not look for them in the batches made from them (issue 18
    item 3: that look was a sixth of a replayed first sync's CPU). `strict` only ever turns False, so a client's
    threads may share one; a batch's answers are all read before the batch reaches the check.
    """

    def __init__(self) -> None:
        self.strict = True

    def parse(self, body: bytes | str) -> Any:
        """A response body as JSON (`parse_json`), noting whether it was strict."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            self.strict = False
            return json.loads(body)
        # an escaped backslash before "u0000" is taken for a NUL too: only slower
        if self.strict and (("\\u0000" in body) if isinstance(body, str) else (b"\\u0000" in body)):
            self.strict = False
        return data

    def parsed(self, data: Any) -> Any:
        """An answer the client library parsed itself (small ones: fields, boards, sprints, versions), noting
        whether it holds a NUL, a lone surrogate or a non-finite number (the stdlib encoder's `allow_nan=False`
        and UTF-8 encoding refuse the last two)."""
        if self.strict:
            try:
                dumped = json.dumps(data, ensure_ascii=False, allow_nan=False, check_circular=False)
                dumped.encode()
            except (ValueError, TypeError):  # UnicodeEncodeError is a ValueError
                self.strict = False
            else:
                if "\\u0000" in dumped:
                    self.strict = False
        return data


class PayloadError(ValueError):
    """A payload lacks what the mapping needs, or holds the wrong type there; `field` is its path."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def kind_of(value: Any) -> str:
    """A value's JSON type in words, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shown(value: Any, limit: int = 40) -> str:
    """A short, one-line rendering of a bad value (repr escapes CR/LF; long values are cut)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def obj(value: Any, where: str) -> Json:
    """An object ({} when absent)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(where, f"expected an object, got {kind_of(value)}")
    return value


def root(value: Any, where: str) -> Json:
    """The payload itself: an object, never absent."""
    if not isinstance(value, dict):
        raise PayloadError(where, f"expected an object, got {kind_of(value)}")
    return value


def array(value: Any, where: str) -> list[Any]:
    """A list ([] when absent)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(where, f"expected a list, got {kind_of(value)}")
    return value


def objects(value: Any, where: str) -> list[Json]:
    """A list of objects ([] when absent; null entries are left out)."""
    values = array(value, where)
    plain = [v for v in values if v.__class__ is dict]
    if len(plain) == len(values):  # the usual case, without naming each entry's place for an error not raised
        return plain
    return [obj(v, f"{where}[{n}]") for n, v in enumerate(values) if v is not None]


def text(value: Any, where: str) -> str | None:
    """A string (None when absent)."""
    if value is None or isinstance(value, str):
        return value
    raise PayloadError(where, f"expected a string, got {kind_of(value)}")


def ident(value: Any, where: str) -> str:
    """A required id: a non-empty string or an integer, as a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    if value is None or value == "":
        raise PayloadError(where, "missing")
    raise PayloadError(where, f"expected an id, got {kind_of(value)}")


def count(value: Any, where: str) -> int | None:
    """A whole number (None when absent)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PayloadError(where, f"expected a whole number, got {kind_of(value)}")


def number(value: Any) -> float | None:
    """A finite number, or None for anything else (estimates are optional: a text value means none)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        out = float(value)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def stamp(value: Any, where: str) -> datetime | None:
    """A timezone-aware ISO 8601 timestamp (None when absent or empty)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(where, f"expected a timestamp, got {kind_of(value)}")
    try:
        out = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(where, f"not a timestamp: {shown(value)}") from None
    if out.tzinfo is UTC:  # `Z`, `+00:00`, `+0000`: nothing more to check
        return out
    if out.tzinfo is None or out.utcoffset() is None:
        raise PayloadError(where, f"timestamp without a time zone: {shown(value)}")
    try:
        out.astimezone(UTC)
    except OverflowError:
        raise PayloadError(where, f"timestamp out of range: {shown(value)}") from None
    return out


def required_stamp(value: Any, where: str) -> datetime:
    """A timestamp that must be there."""
    out = stamp(value, where)
    if out is None:
        raise PayloadError(where, "missing")
    return out


def day(value: Any, where: str) -> date | None:
    """A date (`2026-11-30`), or the date part of a timestamp (None when absent or empty)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(where, f"expected a date, got {kind_of(value)}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise PayloadError(where, f"not a date: {shown(value)}") from None


_PLAIN = re.compile(r"[\w./#-]{1,100}")


def safe_name(value: str) -> str:
    """A key or id from a payload as a message may show it: plain ones as they are, anything else quoted."""
    return value if _PLAIN.fullmatch(value) else shown(value)


def skipped_line(kind: str, entries: list[str]) -> str:
    """One line for the items skipped because their payloads could not be read (`entries`: `what: problem`)."""
    head = "; ".join(entries[:3]) + (f"; and {len(entries) - 3} more" if len(entries) > 3 else "")
    noun = f"1 {kind}" if len(entries) == 1 else f"{len(entries)} {kind}s"
    return (f"{noun} skipped, payload not understood: {head} (everything else was synced; "
            f"skipped {kind}s are retried on every sync)")
