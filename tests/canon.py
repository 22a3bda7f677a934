"""A canonical, comparable dump of a store: what 'the same store' means in the proof tests."""

from __future__ import annotations

import json
from typing import Any

from syncd.store import ENTITIES, Store

VOLATILE = {"removed_at"}


def canonical(store: Store) -> dict[str, list[str]]:
    """Every entity's rows as sorted JSON strings, without sync-time columns."""
    out: dict[str, list[str]] = {}
    for entity in ENTITIES:
        rows = []
        for row in store.iter_rows(entity):
            clean: dict[str, Any] = {k: v for k, v in row.items() if k not in VOLATILE}
            rows.append(json.dumps(clean, sort_keys=True, default=str))
        out[entity] = sorted(rows)
    return out


def diff_summary(a: dict[str, list[str]], b: dict[str, list[str]]) -> str:
    """A short description of how two canonical dumps differ ('' when equal)."""
    parts = []
    for entity in a:
        sa, sb = set(a[entity]), set(b.get(entity, []))
        if sa != sb:
            parts.append(f"{entity}: {len(sa - sb)} only left, {len(sb - sa)} only right; e.g. {sorted(sa ^ sb)[:1]}")
    return "; ".join(parts)
