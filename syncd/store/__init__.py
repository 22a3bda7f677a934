"""The store: SQLite by default, PostgreSQL for shared deployments. It alone writes SQL.

Every name is imported when first named, so that importing one of the package's modules does not
import the others: the child process reading a snapshot's transitions (`_parallel_child`) needs
neither the `Store` nor SQLAlchemy (`import syncd.store._store`: 0.65 CPU s and 50 MiB, against 0.16 s
and 28 MiB for numpy, orjson and sqlite3), and a sync, a quiet poll or the daemon never needs the
snapshot reader or numpy (~15 MiB and ~0.1 s).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncd.store._snapshot import StoreSnapshot
    from syncd.store._store import ENTITIES, BatchResult, Store, content_hash, redact_url
    from syncd.store._transitions import TransitionColumns, TransitionRow, micros, moment

_LAZY = {"ENTITIES": "syncd.store._store", "BatchResult": "syncd.store._store", "Store": "syncd.store._store",
         "content_hash": "syncd.store._store", "redact_url": "syncd.store._store",
         "StoreSnapshot": "syncd.store._snapshot", "TransitionColumns": "syncd.store._transitions",
         "TransitionRow": "syncd.store._transitions", "micros": "syncd.store._transitions",
         "moment": "syncd.store._transitions"}

__all__ = ["ENTITIES", "BatchResult", "Store", "StoreSnapshot", "TransitionColumns", "TransitionRow", "content_hash", "micros",
           "moment", "redact_url"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
