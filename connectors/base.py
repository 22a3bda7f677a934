"""What every connector offers the sync engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from syncd.model import Batch


class Connector(Protocol):
    """One configured source. `fetch` yields batches; each batch's cursor is true once it is stored.

    `known_ids` returns the items the store holds for this source (not removed), id -> key, for
    the deletion census; a connector calls it only when it reconciles. `requests` counts HTTP requests made so
    far; `total_hint` is the number of items expected, when the source can tell cheaply. A connector may
    also offer `answers_strict` (a bool property): True while every answer it read was strict JSON without a NUL
    (`connectors.payload.AnswerCheck`), so its batches need no look for unstorable values.
    """

    name: str
    total_hint: int | None

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""

    def fetch(
        self,
        cursor: dict[str, Any] | None,
        *,
        full: bool,
        known_ids: Callable[[], dict[str, str]],
    ) -> Iterator[Batch]: ...
