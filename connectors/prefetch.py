"""A bounded prefetch of one: the next element of an iterator is made in a thread while this one is used.

The sync engine stores page N while page N+1 is fetched; the GitHub connector maps and details page N
while the list's page N+1 is fetched. Exactly one element is ever ahead: the producer makes element N+1,
hands it over, and waits until the consumer has taken it before it makes N+2 (the consumer takes N+1 only
after it is done with N). So a failure of either side costs at most the one element made ahead:

- the producer's exception is raised to the consumer, the same exception object, at the element where the
  sequential loop would have raised it (after every element made before it was taken);
- when the consumer stops (a failure, a shutdown, an early return), the generator is closed, the producer
  is told to stop and joined: it makes no element after the one in hand, and it has ended when
  `prefetched` returns (nothing of the source runs on after the source's sync).

Elements are taken in the order they were made: nothing is stored out of order.

`on_consumer(fn)`, given to the factory, runs `fn` on the consumer's thread once every element handed
over has been used (the consumer is waiting for the next): a producer that must read what the consumer
wrote (the store's item ids, for a deletion census) sees exactly what the sequential loop would have seen,
on the consumer's own connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
OnConsumer = Callable[[Callable[[], Any]], Any]


class _Stopped(BaseException):
    """The consumer went away: the producer ends (a BaseException so no `except Exception` swallows it)."""


class _Handoff(Generic[T]):
    """One slot between a producer thread and its consumer, guarded by one condition."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.slot: tuple[str, Any] | None = None  # ("item", x) | ("error", exc) | ("done", None) | ("call", fn)
        self.answer: tuple[bool, Any] | None = None  # a call's (ok, result or exception)
        self.stopped = False

    def put(self, kind: str, value: Any) -> None:
        """Hand `value` over and wait until the consumer has taken it (raises _Stopped once it is gone)."""
        with self.cond:
            self.cond.wait_for(lambda: self.slot is None or self.stopped)
            if self.stopped:
                raise _Stopped
            self.slot = (kind, value)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.slot is None or self.stopped)
            if self.stopped and self.slot is not None:
                raise _Stopped

    def take(self) -> tuple[str, Any]:
        with self.cond:
            self.cond.wait_for(lambda: self.slot is not None)
            assert self.slot is not None
            kind_value, self.slot = self.slot, None
            self.cond.notify_all()
            return kind_value

    def call(self, fn: Callable[[], R]) -> R:
        """Run `fn` on the consumer's thread (producer side); its exception is raised here."""
        with self.cond:
            self.answer = None
        self.put("call", fn)
        with self.cond:
            self.cond.wait_for(lambda: self.answer is not None or self.stopped)
            if self.answer is None:
                raise _Stopped
            ok, value = self.answer
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def reply(self, ok: bool, value: Any) -> None:
        with self.cond:
            self.answer = (ok, value)
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def prefetched(make: Callable[[OnConsumer], Iterator[T]], *, name: str = "syncd-prefetch") -> Generator[T, None, None]:
    """The elements of `make(on_consumer)`, each made in a thread while the one before is used (see module)."""
    hand: _Handoff[T] = _Handoff()

    def produce() -> None:
        source: Iterator[T] | None = None
        try:
            source = make(hand.call)
            for element in source:
                hand.put("item", element)
            hand.put("done", None)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there as it would be
            try:
                hand.put("error", exc)
            except _Stopped:
                pass
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                try:
                    close()  # a generator's finally blocks run here, on its own thread
                except _Stopped:
                    pass

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = hand.take()
            if kind == "item":
                yield value
            elif kind == "call":
                try:
                    hand.reply(True, value())
                except BaseException as exc:  # noqa: BLE001 - raised in the producer, where it was asked for
                    hand.reply(False, exc)
            elif kind == "error":
                raise value
            else:
                return
    finally:
        hand.stop()
        thread.join()
