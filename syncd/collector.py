"""The cyclic garbage collector around syncs: start-up objects frozen, thresholds raised while a sync runs.

A first sync allocates millions of short-lived objects (parsed payloads, records, rows) that reference
counting frees as soon as a page is stored; the cyclic collector still walks the young ones every 700
allocations and, every 100 young passes, everything alive, modules and classes included. Issue 18 measured
it at about 11% of a replayed 10k sync. Two standard remedies:

- `gc.freeze()` after start-up (Python docs, `gc.freeze`: "Freeze all the objects tracked by the garbage
  collector; move them to a permanent generation and ignore them in all the future collections"): the
  imported modules, settings and engine are never walked again. `gc.collect()` first, so no start-up garbage
  is frozen with them (the order the docs give for the pre-fork use). Done once per process: objects of a
  finished sync are not frozen, so a daemon's later garbage is still collected.
- a higher generation-0 threshold during a sync (`gc.set_threshold`; the approach of Instagram's
  "Dismissing Python Garbage Collection at Instagram", 2017, without turning it off): fewer passes, each over
  young objects most of which reference counting has freed already. The thresholds before are restored when
  the last sync running in the process ends (sources may sync on threads at once).

The program's own start-up imports (`loading`) run with the collector off and are frozen when done: they
build some 200,000 objects (modules, classes, functions) that live until the process exits, which the
collector's passes during the imports walked again and again.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

SYNC_THRESHOLDS = (50_000, 20, 20)  # young passes every 50,000 allocations (default 700, 10, 10)

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None
_frozen = False

F = TypeVar("F", bound=Callable[..., Any])


def freeze_startup() -> None:
    """Collect once, then move every object alive now out of the collector's reach (once per process)."""
    global _frozen
    with _lock:
        if _frozen:
            return
        _frozen = True
    gc.collect()
    gc.freeze()


@contextmanager
def loading() -> Iterator[None]:
    """Imports in the block run with the collector off; what is alive after them is frozen (`gc.freeze`).

    For the program's start-up imports, whose modules, classes and functions live as long as the process:
    `import syncd.cli` 0.52 -> 0.45 s CPU (medians of 7 interleaved, load 6); the business report at 100k
    spent 185 ms in collections, 81 ms with `syncd.cli` and `syncd.reporting` loaded so (gc callbacks).
    Frozen, not only paused: a paused import's objects would all be walked by the first collections after it.
    The little cyclic garbage imports leave (1,297 objects after `syncd.cli`) is frozen with them: a
    collection to free it first would walk everything once more. The collector is back on after the block
    if it was on before it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def during_sync(fn: F) -> F:
    """Run `fn` with the collector's sync thresholds; the ones before are back when no sync is running."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _running, _saved
        with _lock:
            if _running == 0:
                _saved = gc.get_threshold()
                gc.set_threshold(*SYNC_THRESHOLDS)
            _running += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _lock:
                _running -= 1
                if _running == 0 and _saved is not None:
                    gc.set_threshold(*_saved)
                    _saved = None

    return wrapper  # type: ignore[return-value]
