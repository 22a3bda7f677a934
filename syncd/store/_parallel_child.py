"""The child of `syncd.store._parallel`: the transitions of the parent's snapshot, read and sent back as columns.

Run as `python -m syncd.store._parallel_child`. Its request (a pickle: the DB-API driver's module and its
connect arguments, the statements that begin the read transaction on the parent's snapshot, the compiled
`TransitionsQuery`'s fields) comes on stdin; its messages go to stdout, each a pickle: ("began", seconds)
once its read transaction has begun (the parent then releases SQLite's write lock), then ("columns",
(item_ids, offsets, changes, change, at)) and ("usage", its own peak RSS and CPU), or ("error", text). It
exits when its stdin closes: the parent is done with it, or died.

It imports the driver, numpy, orjson and `_transitions_read` only (see there): the parent compiled the SQL.
"""

from __future__ import annotations

import importlib
import os
import pickle
import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any


def main() -> None:
    """Serve one request from stdin."""
    started = time.perf_counter()
    out: IO[bytes] = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing printed by an import can corrupt the messages
    request = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the parent, over our own stdin
    threading.Thread(target=_exit_at_eof, daemon=True).start()

    def send(message: tuple[str, Any]) -> None:
        pickle.dump(message, out, protocol=5)
        out.flush()

    began_s = 0.0

    def began() -> None:
        nonlocal began_s
        began_s = time.perf_counter() - started
        send(("began", began_s))

    try:
        columns = _read(request, began)
    except Exception as exc:  # noqa: BLE001 - told to the parent, which then reads in-process
        send(("error", f"{type(exc).__name__}: {exc}"))
        return
    send(("columns", columns))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    send(("usage", {"maxrss_mib": peak_rss_mib(), "cpu_s": usage.ru_utime + usage.ru_stime, "began_s": began_s}))


def peak_rss_mib() -> float:
    """This process's own peak RSS in MiB: VmHWM (a child's ru_maxrss counts its parent's pages of before the exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):  # not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _exit_at_eof() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


def _read(request: dict[str, Any], began: Callable[[], None]) -> tuple[Any, ...]:
    driver, args, kwargs = request["connect"]
    dbapi = importlib.import_module(driver).connect(*args, **kwargs)
    try:
        cursor = dbapi.cursor()
        for statement in request["begin"]:
            cursor.execute(statement)
            if cursor.description is not None:  # SQLite's read transaction begins with a SELECT's first step
                cursor.fetchall()
        cursor.close()
        began()
        # numpy and the columns code imported only now: SQLite writers no longer wait for them (the lock is held
        # until `began`), so the query comes as a plain dict
        from syncd.store._transitions_read import TransitionsQuery, read_columns

        cols = read_columns(dbapi, TransitionsQuery(**request["query"]), None)
        dbapi.rollback()
    finally:
        dbapi.close()
    return cols.item_ids, cols.offsets, cols.changes, cols.change, cols.at


if __name__ == "__main__":
    main()
