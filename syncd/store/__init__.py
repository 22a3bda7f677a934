"""The store: SQLite by default, PostgreSQL for shared deployments. It alone writes SQL.

The snapshot reader and the transition columns (numpy) are imported when first named: a sync, a
quiet poll or the daemon never needs them, and numpy alone is ~15 MiB and ~0.1 s of start-up.
"""

from typing import TYPE_CHECKING, Any

from syncd.store._store import ENTITIES, BatchResult, Store, content_hash, redact_url

if TYPE_CHECKING:
    from syncd.store._snapshot import StoreSnapshot
    from syncd.store._transitions import TransitionColumns, TransitionRow, moment

_LAZY = {"StoreSnapshot": "syncd.store._snapshot", "TransitionColumns": "syncd.store._transitions",
         "TransitionRow": "syncd.store._transitions", "moment": "syncd.store._transitions"}

__all__ = ["ENTITIES", "BatchResult", "Store", "StoreSnapshot", "TransitionColumns", "TransitionRow", "content_hash", "moment",
           "redact_url"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
