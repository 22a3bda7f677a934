"""Sources of different services sync at once; sources of one service one after the other.

A service is one rate budget: a Jira site (its scheme, host and port) or a GitHub host (`base_url`'s).
Jira Cloud's limits are counted per site and GitHub's per account on one host, so two sources of one
service would only share (and race for) one budget, while a Jira site and a GitHub host — or two Jira
sites — do not slow each other down. The work is waiting on HTTP, so threads are enough: one thread per
service, which syncs that service's sources in their configured order.

Everything a source's sync guarantees holds in its thread as before: it takes its own source lock, its
own run record and cursor, and every store call checks out its own connection from the engine's pool
(SQLAlchemy's Engine is shared between threads by design; its connections are not, and none is). SQLite
serialises the writers of several threads as it does those of several processes (WAL, busy_timeout).
Results keep the configured order. `should_stop` is checked before each source, as before; an exception
that escapes one source (the store unreachable) stops the other services before their next source and is
raised once all are back, the first in configured order.

`[sync] concurrent = false` (or `SYNCD_SYNC__CONCURRENT=0`) syncs every source one after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from syncd.connectors.config import GitHubSource, JiraSource

T = TypeVar("T")


def service_of(config: Any) -> str:
    """The service whose rate budget a source spends: `jira https://acme.atlassian.net:443`, `github ...`."""
    if isinstance(config, JiraSource):
        kind, url = "jira", config.url
    elif isinstance(config, GitHubSource):
        kind, url = "github", config.base_url
    else:
        return f"other {id(config)}"
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{kind} {parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def by_service(names: Sequence[str], service: Callable[[str], str]) -> list[list[str]]:
    """`names` grouped by service, each group in configured order, groups by their first source."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(service(name), []).append(name)
    return list(groups.values())


def run_by_service(names: Sequence[str], service: Callable[[str], str], run: Callable[[str], T], *,
                   concurrent: bool = True, should_stop: Callable[[], bool] = lambda: False) -> list[tuple[str, T]]:
    """(name, run(name)) for each source run, in configured order; services at once (see module)."""
    groups = by_service(names, service) if concurrent else [list(names)]
    done: dict[str, T] = {}
    failed: dict[str, BaseException] = {}
    abort = threading.Event()

    def run_group(group: list[str]) -> None:
        for name in group:
            if should_stop() or abort.is_set():
                return
            try:
                done[name] = run(name)
            except BaseException as exc:  # noqa: BLE001 - raised by the caller's thread once all are back
                failed[name] = exc
                abort.set()
                return

    if len(groups) == 1:
        run_group(groups[0])
    else:
        threads = [threading.Thread(target=run_group, args=(g,), name=f"syncd-sync-{g[0]}", daemon=True)
                   for g in groups]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for name in names:
        if name in failed:
            raise failed[name]
    return [(name, done[name]) for name in names if name in done]
