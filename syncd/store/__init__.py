"""The store: SQLite by default, PostgreSQL for shared deployments. It alone writes SQL."""

from syncd.store._snapshot import StoreSnapshot
from syncd.store._store import ENTITIES, BatchResult, Store, content_hash, redact_url
from syncd.store._transitions import TransitionColumns, TransitionRow, moment

__all__ = ["ENTITIES", "BatchResult", "Store", "StoreSnapshot", "TransitionColumns", "TransitionRow", "content_hash", "moment",
           "redact_url"]
