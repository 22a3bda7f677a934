"""The bounded prefetch of `sync_source` (issue 18 item 2): a fetch failure and a store failure mid-source
leave the store exactly as the sequential loop leaves it (checked by direct store queries against what was
handed over, on SQLite and PostgreSQL), the fetcher stops after at most one batch made ahead, and the
census's `known_ids` sees every batch made before it stored."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from syncd.errors import SourceError, StoreUnavailable
from syncd.model import Batch, ItemKind, StatusCategory, WorkItem
from syncd.store import BatchResult, Store
from syncd.sync import sync_source


def item(n: int) -> WorkItem:
    return WorkItem(id=f"j:{n}", source="j", source_type="jira", remote_id=str(n), key=f"WID-{n}", project="WID",
                    kind=ItemKind.STORY, title=f"Item {n}", status="To Do", status_category=StatusCategory.TODO,
                    created=datetime(2026, 1, 1, tzinfo=UTC), updated=datetime(2026, 1, 2, tzinfo=UTC))


class Pages:
    """A connector of 5 pages of 3 items, cursor {"page": k}; it fails at page `fail_at`, if given, and asks
    `known_ids` before page 4 (as a census would)."""

    name = "j"
    total_hint: int | None = None

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.made: list[int] = []  # pages made, in order
        self.known_before_4: dict[str, str] | None = None
        self.closed = False
        self.threads: set[str] = set()

    @property
    def requests(self) -> int:
        return len(self.made)

    def fetch(self, cursor: dict[str, Any] | None, *, full: bool,
              known_ids: Callable[[], dict[str, str]]) -> Iterator[Batch]:
        try:
            for page in range(1, 6):
                self.threads.add(threading.current_thread().name)
                if page == self.fail_at:
                    raise SourceError("j", f"page {page}: 503 after retries")
                if page == 4:
                    self.known_before_4 = known_ids()
                self.made.append(page)
                yield Batch(items=[item(10 * page + i) for i in range(3)], cursor={"page": page})
        finally:
            self.closed = True


class FailingStore(Store):
    """A store whose `fail_at`-th apply_batch loses its connection."""

    def __init__(self, url: str, fail_at: int) -> None:
        super().__init__(url)
        self.fail_at, self.calls = fail_at, 0

    def apply_batch(self, source: str, batch: Batch) -> BatchResult:
        self.calls += 1
        if self.calls == self.fail_at:
            raise StoreUnavailable("database connection lost (test)")
        return super().apply_batch(source, batch)


def _state(store: Store) -> tuple[list[str], dict[str, Any] | None, list[tuple[str, str | None]]]:
    runs = [(r["status"], r.get("error")) for r in store.sync_runs("j")]
    return sorted(i.key for i in store.items(source="j")), store.cursor("j"), runs


def _store(url: str, fail_at: int | None = None) -> Store:
    s = FailingStore(url, fail_at) if fail_at else Store(url)
    s.upgrade()
    return s


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Callable[[], str]]:
    """Fresh empty databases, as many as a test asks for."""
    n = iter(range(100))
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path / f'db{next(n)}.db'}"
    else:
        made: list[str] = []

        def fresh() -> str:
            from sqlalchemy import create_engine, text

            from tests.conftest import PG_ADMIN_URL
            name = f"syncd_p_{next(n)}_{id(made)}"
            with create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            made.append(name)
            return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        request.getfixturevalue("pg_url")  # skips when PostgreSQL is unreachable
        yield fresh
        from sqlalchemy import create_engine, text

        from tests.conftest import PG_ADMIN_URL
        with create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_fetch_failure_mid_source(urls: Callable[[], str]) -> None:
    out = {}
    for prefetch in (False, True):
        store = _store(urls())
        pages = Pages(fail_at=3)
        result = sync_source(store, "j", pages, prefetch=prefetch)
        assert not result.ok and result.error == "source j: page 3: 503 after retries"
        out[prefetch] = _state(store)
        # pages 1 and 2 stored, the cursor is page 2's: worked from what was handed over
        assert out[prefetch][0] == ["WID-10", "WID-11", "WID-12", "WID-20", "WID-21", "WID-22"]
        assert out[prefetch][1] == {"page": 2}
        assert pages.closed
        store.close()
    assert out[True] == out[False]


def test_store_failure_stops_the_fetcher(urls: Callable[[], str]) -> None:
    out = {}
    for prefetch in (False, True):
        store = _store(urls(), fail_at=2)
        pages = Pages()
        result = sync_source(store, "j", pages, prefetch=prefetch)
        assert not result.ok and "database connection lost" in (result.error or "")
        out[prefetch] = _state(store)
        assert out[prefetch][0] == ["WID-10", "WID-11", "WID-12"] and out[prefetch][1] == {"page": 1}
        # the fetcher was closed and made at most the one page ahead of the one refused (page 2)
        assert pages.closed and pages.made == ([1, 2] if not prefetch else pages.made)
        assert pages.made in ([1, 2], [1, 2, 3])
        store.close()
    assert out[True] == out[False]


def test_prefetch_fetches_on_its_own_thread_and_census_sees_the_stored_pages(urls: Callable[[], str]) -> None:
    store = _store(urls())
    pages = Pages()
    result = sync_source(store, "j", pages, prefetch=True)
    assert result.ok and result.result.new == 15
    assert pages.threads == {"syncd-fetch-j"}
    # asked before page 4 was made: pages 1-3 were all stored by then, as in the sequential loop
    assert pages.known_before_4 is not None
    assert sorted(pages.known_before_4.values()) == sorted(f"WID-{10 * p + i}" for p in (1, 2, 3) for i in range(3))
    assert store.cursor("j") == {"page": 5}
    store.close()


def test_stop_between_batches_closes_the_fetcher(urls: Callable[[], str]) -> None:
    store = _store(urls())
    pages = Pages()
    stored: list[int] = []

    def should_stop() -> bool:
        stored.append(1)
        return len(stored) == 2

    result = sync_source(store, "j", pages, prefetch=True, should_stop=should_stop)
    assert result.ok and result.error and "shutdown requested" in result.error
    assert store.cursor("j") == {"page": 2} and len(list(store.items(source="j"))) == 6
    assert pages.closed and pages.made in ([1, 2], [1, 2, 3])
    store.close()
