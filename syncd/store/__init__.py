"""The store: SQLite by default, PostgreSQL for shared deployments. It alone writes SQL."""

from syncd.store._snapshot import StoreSnapshot, TransitionRow
from syncd.store._store import ENTITIES, BatchResult, Store, content_hash, redact_url

__all__ = ["ENTITIES", "BatchResult", "Store", "StoreSnapshot", "TransitionRow", "content_hash", "redact_url"]
