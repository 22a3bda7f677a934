"""Values no store can hold, made storable at the boundary between a connector's records and the store.

Anyone who can type into a Jira summary or open a pull request on a public repository chooses these
values, and each one used to stop a whole source:
- a NUL character (`\\x00`): PostgreSQL's text and JSONB refuse it ("invalid byte sequence"); it is
  replaced by U+FFFD, the Unicode replacement character;
- a lone surrogate (`\\ud800`, legal in JSON's `\\u` escapes, not in UTF-8): no backend can encode it; it
  is replaced by U+FFFD too;
- a non-finite number (`1e309` parses as infinity, `NaN`): JSON has no such value and PostgreSQL's JSONB
  refuses `Infinity`; it is dropped (null) from raw payloads and numeric fields;
- a link key longer than the store's key column (255 characters, e.g. a 305-character "WID-000…1" in a
  PR body): no issue tracker has such a key, so it is not a link.
Each record changed is named in one warning line (its key, the fields touched), so the item is stored,
flagged in the log, and the rest of the batch goes on. Values are checked with C-speed JSON dumps per
record (the stdlib encoder with `allow_nan=False` finds non-finite numbers, UTF-8 encoding finds lone
surrogates, and a NUL shows as its `\\u0000` escape); only a record that needs it is walked. The check
reads the record's fields as they are (`__dict__`, nested records as theirs), not a `model_dump()` copy:
issue 18 measured the dump-based check at a third of the sync's JSON work.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel

from syncd.model import Batch

KEY_LIMIT = 255  # links.to_key / from_id columns
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _plain(value: Any) -> Any:
    """What the check dumps for a value JSON has no type for: a nested record's fields, else its text."""
    if isinstance(value, BaseModel):
        return value.__dict__
    return str(value)  # datetimes, dates: their text holds nothing unstorable


def _needs_care(value: Any) -> bool:
    """True when `value` may hold a NUL, a lone surrogate or a non-finite number (cheap; may say yes wrongly)."""
    try:
        dumped = json.dumps(value, ensure_ascii=False, allow_nan=False, check_circular=False, default=_plain)
        dumped.encode()  # a lone surrogate cannot be encoded as UTF-8
    except ValueError:  # a non-finite number; UnicodeEncodeError is a ValueError too
        return True
    return "\\u0000" in dumped


def _clean(value: Any, path: str, found: dict[str, str]) -> Any:
    """`value` with unstorable text replaced and non-finite numbers dropped; `found`: path -> what was done."""
    if type(value) is str:
        if _UNSTORABLE.search(value):
            found.setdefault(path, "text replaced")
            return _UNSTORABLE.sub(REPLACEMENT, value)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        found.setdefault(path, "non-finite number dropped")
        return None
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            clean_key = _clean(key, path, found) if isinstance(key, str) else key
            out[clean_key] = _clean(inner, f"{path}.{clean_key}" if path else str(clean_key), found)
        return out
    if isinstance(value, list):
        return [_clean(inner, path, found) for inner in value]
    if isinstance(value, BaseModel):
        _clean_model(value, path, found)
    return value


def _clean_model(record: BaseModel, path: str, found: dict[str, str]) -> None:
    """Clean a record's fields in place (its raw payload, when it needs it, as one field)."""
    for name in type(record).model_fields:
        value = getattr(record, name)
        where = f"{path}.{name}" if path else name
        if name == "raw":
            if value is not None and _needs_care(value):
                inner: dict[str, str] = {}
                setattr(record, name, _clean(value, "", inner))
                if inner:
                    found[f"{where} payload"] = ", ".join(sorted(set(inner.values())))
            continue
        cleaned = _clean(value, where, found)
        if cleaned is not value:
            setattr(record, name, cleaned)


def _record_problems(record: BaseModel) -> dict[str, str]:
    """Clean one record in place; the fields changed and what was done to each."""
    found: dict[str, str] = {}
    fields = {k: v for k, v in record.__dict__.items() if k != "raw"}
    raw = getattr(record, "raw", None)
    if _needs_care(fields) or (raw is not None and _needs_care(raw)):
        _clean_model(record, "", found)
    return found


def sanitise_batch(batch: Batch) -> list[tuple[str, str]]:
    """Make every record of `batch` storable, in place; (key or id, what was done) per record changed."""
    keys = {item.id: item.key for item in batch.items}
    changed: dict[str, dict[str, str]] = {}

    def note(owner: str, found: dict[str, str]) -> None:
        if found:
            changed.setdefault(keys.get(owner, owner), {}).update(found)

    for item in batch.items:
        note(item.id, _record_problems(item))
    for pull in batch.pulls:
        note(pull.item_id, {f"pull request {k}": v for k, v in _record_problems(pull).items()})
        long = [k for k in pull.linked_keys if len(k) > KEY_LIMIT]
        if long:
            pull.linked_keys = [k for k in pull.linked_keys if len(k) <= KEY_LIMIT]
            note(pull.item_id, {"linked keys": f"{len(long)} key(s) over {KEY_LIMIT} characters are not links"})
    kept = []
    for link in batch.links:
        note(link.from_id, _record_problems(link))
        if len(link.to_key) > KEY_LIMIT or len(link.from_id) > KEY_LIMIT:
            note(link.from_id, {"links": f"a key over {KEY_LIMIT} characters is not a link"})
            continue
        kept.append(link)
    batch.links = kept
    for transition in batch.transitions:
        note(transition.item_id, {f"history {k}": v for k, v in _record_problems(transition).items()})
    for record in [*batch.sprints, *batch.releases, *batch.people]:
        note(getattr(record, "id", ""), _record_problems(record))
    return [(owner, ", ".join(f"{field} ({what})" for field, what in sorted(found.items())))
            for owner, found in changed.items()]
