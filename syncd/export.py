"""Streaming export of the normalized store (JSON lines or CSV), in bounded memory."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from typing import Any, TextIO

from syncd.store import ENTITIES, Store


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def write_export(store: Store, entity: str, fmt: str, out: TextIO) -> int:
    """Write every row of `entity` to `out` as `jsonl` or `csv`; return the row count."""
    columns = [c.name for c in ENTITIES[entity].columns if c.name not in ("raw", "content_hash")]
    n = 0
    if fmt == "jsonl":
        for row in store.iter_rows(entity):
            out.write(json.dumps({k: _plain(row.get(k)) for k in columns}, ensure_ascii=False, sort_keys=False))
            out.write("\n")
            n += 1
        return n
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in store.iter_rows(entity):
        writer.writerow([
            json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else _plain(v)
            for v in (row.get(k) for k in columns)
        ])
        n += 1
    return n
