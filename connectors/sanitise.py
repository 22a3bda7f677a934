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
flagged in the log, and the rest of the batch goes on. Values are checked at C speed per record, and only a
record that needs it is walked: a record's own fields (`__dict__`, nested records as theirs, not a
`model_dump()` copy) by the stdlib JSON encoder with `allow_nan=False` (a non-finite number raises), UTF-8
encoding (a lone surrogate raises) and the NUL's `\\u0000` escape; its raw payload by orjson, whose text is
kept for the store to bind (encoded once, issue 18), with non-finite numbers found in its marshal dump. The
whole batch is looked at first (one orjson dump of every record's own fields, one marshal dump of every payload);
each record is checked alone only where that finds something.
"""

from __future__ import annotations

import functools
import json
import marshal
import math
import pickle
import re
from datetime import date, datetime
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

from syncd.model import Batch, RawRecord

KEY_LIMIT = 255  # links.to_key / from_id columns
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _plain(value: Any) -> Any:
    """What the check dumps for a value JSON has no type for: a nested record's fields, else its text."""
    if isinstance(value, BaseModel):
        return value.__dict__
    return str(value)  # datetimes, dates: their text holds nothing unstorable


def _dumped(value: Any) -> str | None:
    """`value` as compact JSON text when it holds no NUL, lone surrogate or non-finite number, else None
    (cheap; may say no wrongly)."""
    try:
        dumped = json.dumps(value, ensure_ascii=False, allow_nan=False, check_circular=False, default=_plain,
                            separators=(",", ":"))
        dumped.encode()  # a lone surrogate cannot be encoded as UTF-8
    except ValueError:  # a non-finite number; UnicodeEncodeError is a ValueError too
        return None
    return None if "\\u0000" in dumped else dumped


# A float in a marshal dump (format version 2 and later, in this process only) is the type code TYPE_BINARY_FLOAT,
# b"g" (b"\xe7" with FLAG_REF set), then the IEEE 754 double little-endian (CPython's Python/marshal.c:
# `w_float_bin` packs with `PyFloat_Pack8(v, buf, 1)`): infinities and NaNs are the doubles whose 11 exponent bits
# are all ones, so their last two bytes are 0xf0-0xff, then 0x7f or 0xff. UTF-8 text never holds 0xff and seldom
# DEL (0x7f), so `bytes.find` (memchr) visits few places; a match elsewhere only makes the check say yes wrongly.
_FLOAT_CODES = (ord("g"), ord("g") | 0x80)


def _payload_text(raw: Any, finite: bool = False) -> bytes | None:
    """A raw payload as JSON (orjson's UTF-8 bytes, which the store binds as they are) when it holds no NUL, lone surrogate or non-finite number, else None
    (may say None wrongly). orjson encodes about 6x faster than the stdlib (issue 18: the stdlib's dump of
    every payload was a sixth of a replayed first sync) but writes a non-finite number as null, so those are
    looked for in the payload's marshal dump (`_finite`); `finite`: the batch's dump already found none
    (`_batch_storable`)."""
    try:
        dumped = orjson.dumps(raw)  # refuses a lone surrogate (not UTF-8)
    except orjson.JSONEncodeError:  # that, or what only the stdlib encodes (an integer beyond 64 bits)
        return None
    if b"\\u0000" in dumped or not (finite or _finite(raw)):
        return None
    return dumped


def _finite(value: Any) -> bool:
    """True when `value` holds no non-finite float (may say no wrongly): none in its marshal dump, which the C
    marshaller writes about 7x faster than the pickler (no memo; issue 18: the pickle of a replayed 10k first
    sync's payloads took 0.61 s CPU, marshal and the search 0.10 s); the pickle for what marshal cannot write."""
    try:
        dumped = marshal.dumps(value)
    except ValueError:  # a type marshal does not know (a datetime in a hand-built field), or nesting too deep
        return not _NON_FINITE_PICKLED.search(pickle.dumps(value, protocol=5))
    for byte in b"\x7f", b"\xff":
        at = dumped.find(byte, 8)
        while at != -1:
            if dumped[at - 1] >= 0xF0 and dumped[at - 8] in _FLOAT_CODES:
                return False
            at = dumped.find(byte, at + 1)
    return True


# In a pickle (protocol 1 and later) a float is the opcode BINFLOAT, b"G", then the double big-endian
# (pickletools: "float8 ... big-endian ... shared with the struct module (format string '>d')").
_NON_FINITE_PICKLED = re.compile(rb"G[\x7f\xff][\xf0-\xff]")


def _needs_care(value: Any) -> bool:
    """True when `value` may hold a NUL, a lone surrogate or a non-finite number (cheap; may say yes wrongly)."""
    return _dumped(value) is None


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


def _plain_type(annotation: Any) -> bool:
    """True when a field of this type cannot hold a float: text, whole numbers, booleans, times, enums, and
    lists or unions of those (or of records whose fields are all such)."""
    if annotation in (str, int, bool, datetime, date, type(None)):
        return True
    if isinstance(annotation, type):
        if issubclass(annotation, str | Enum):
            return True
        if issubclass(annotation, BaseModel):
            return not _float_fields(annotation)
        return False
    origin = get_origin(annotation)
    if origin is Annotated:
        return _plain_type(get_args(annotation)[0])
    if origin in (Union, UnionType, list, tuple, set, frozenset):
        return all(_plain_type(a) for a in get_args(annotation) if a is not Ellipsis)
    return False


@functools.cache
def _float_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` (its raw payload aside) that may hold a float: orjson writes a non-finite one as
    null, so these are looked at on their own."""
    return tuple(name for name, f in model.model_fields.items() if name != "raw" and not _plain_type(f.annotation))


def _own_fields(record: BaseModel) -> dict[str, Any]:
    """A record's fields without its raw payload (checked apart, as the text the store binds)."""
    fields = record.__dict__
    if "raw" not in fields:
        return fields
    fields = fields.copy()
    del fields["raw"]
    return fields


def _text_storable(fields: Any) -> bool:
    """True when `fields` hold no NUL or lone surrogate (may say no wrongly): one orjson dump of them (a lone
    surrogate raises, a NUL shows as its escape). Non-finite numbers are `_floats_finite`'s."""
    try:
        dumped = orjson.dumps(fields, default=_plain)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate, or what only the stdlib encodes
        return False
    return b"\\u0000" not in dumped


def _floats_finite(record: BaseModel, fields: dict[str, Any]) -> bool:
    """True when the few fields of `record` that may hold a float hold no non-finite one (may say no wrongly)."""
    for name in _float_fields(type(record)):
        value = fields.get(name)
        if isinstance(value, float):
            if not math.isfinite(value):
                return False
        elif isinstance(value, dict | list) and value and not _finite(value):
            return False
    return True


def _batch_storable(records: list[BaseModel]) -> tuple[bool, bool]:
    """(every record's own fields are storable, no raw payload holds a non-finite number) for a whole batch,
    by one orjson dump of all the records' fields and one marshal dump of all the payloads (may say no wrongly:
    then each record is checked alone). Issue 18 item 3: the per-record calls were a sixth of the check."""
    own = [_own_fields(r) for r in records]
    fields_ok = _text_storable(own) and all(_floats_finite(r, f) for r, f in zip(records, own, strict=True))
    raws = [raw for r in records if (raw := r.__dict__.get("raw")) is not None]
    return fields_ok, _finite(raws)


def _record_problems(record: BaseModel, fields_ok: bool = False, finite: bool = False) -> dict[str, str]:
    """Clean one record in place; the fields changed and what was done to each. `fields_ok`, `finite`: what
    `_batch_storable` already found for the record's own fields and its raw payload."""
    found: dict[str, str] = {}
    raw = record.__dict__.get("raw")
    raw_text = None if raw is None else _payload_text(raw, finite)
    if raw_text is not None and isinstance(record, RawRecord):
        record.keep_raw_json(raw_text)  # checked and encoded: the store binds this text (encoded once)
    if not fields_ok:
        fields = _own_fields(record)
        fields_ok = _text_storable(fields) and _floats_finite(record, fields)
    if not fields_ok or (raw is not None and raw_text is None):
        _clean_model(record, "", found)
    return found


def keep_payload_text(record: RawRecord) -> bool:
    """Encode a record's raw payload once (orjson), kept for the store to bind; False when it cannot be.

    The Jira connector calls this right after mapping an issue, while its objects are still in the CPU's caches:
    the 6,000 issues of a replayed 10k first sync encode in 0.07 s CPU there, 0.16 s once the batch reaches
    `sanitise_batch` (issue 18 item 3). GitHub's lighter entries gained nothing there, and their batches wait
    for their pull requests' details: encoded early, they raised the peak RSS 103 -> 107-108 MiB.
    The text is not checked here: `sanitise_batch` decides whether it may be stored as it is, and a payload it
    cleans gets a new text (`RawRecord.raw_json` is that of `raw` only).
    """
    raw = record.__dict__.get("raw")
    if raw is None or record.raw_json() is not None:
        return True
    try:
        record.keep_raw_json(orjson.dumps(raw))
    except orjson.JSONEncodeError:  # what only the stdlib encodes (an integer beyond 64 bits)
        return False
    return True


def _keep_payload_texts(records: list[BaseModel]) -> bool:
    """Encode every raw payload not encoded yet (`keep_payload_text`); False when one cannot be."""
    return all(keep_payload_text(r) for r in records if isinstance(r, RawRecord))


def sanitise_batch(batch: Batch, answers_strict: bool = False) -> list[tuple[str, str]]:
    """Make every record of `batch` storable, in place; (key or id, what was done) per record changed.

    `answers_strict`: the batch was made from answers that were all strict JSON without a NUL
    (`connectors.payload.AnswerCheck`), so no value in it holds a NUL, a lone surrogate or a non-finite number
    (the mappers take text as the answer has it and numbers only when finite; the rest is the settings' and
    ours): then only the payloads are encoded, for the store, and the keys measured.
    """
    keys = {item.id: item.key for item in batch.items}
    changed: dict[str, dict[str, str]] = {}

    def note(owner: str, found: dict[str, str]) -> None:
        if found:
            changed.setdefault(keys.get(owner, owner), {}).update(found)

    records: list[BaseModel] = [*batch.items, *batch.pulls, *batch.links, *batch.transitions, *batch.sprints,
                                *batch.releases, *batch.people]
    # a strict batch has nothing to look at but its keys' lengths: no call per record (the 28,466 transitions
    # of a replayed 10k first sync among them)
    checked = not (answers_strict and _keep_payload_texts(records))
    ok = _batch_storable(records) if checked else (True, True)

    def problems(record: BaseModel) -> dict[str, str]:
        return _record_problems(record, *ok)

    for item in batch.items if checked else ():
        note(item.id, problems(item))
    for pull in batch.pulls:
        if checked:
            note(pull.item_id, {f"pull request {k}": v for k, v in problems(pull).items()})
        long = [k for k in pull.linked_keys if len(k) > KEY_LIMIT]
        if long:
            pull.linked_keys = [k for k in pull.linked_keys if len(k) <= KEY_LIMIT]
            note(pull.item_id, {"linked keys": f"{len(long)} key(s) over {KEY_LIMIT} characters are not links"})
    kept = []
    for link in batch.links:
        if checked:
            note(link.from_id, problems(link))
        if len(link.to_key) > KEY_LIMIT or len(link.from_id) > KEY_LIMIT:
            note(link.from_id, {"links": f"a key over {KEY_LIMIT} characters is not a link"})
            continue
        kept.append(link)
    batch.links = kept
    for transition in batch.transitions if checked else ():
        note(transition.item_id, {f"history {k}": v for k, v in problems(transition).items()})
    for record in [*batch.sprints, *batch.releases, *batch.people] if checked else ():
        note(getattr(record, "id", ""), problems(record))
    return [(owner, ", ".join(f"{field} ({what})" for field, what in sorted(found.items())))
            for owner, found in changed.items()]
