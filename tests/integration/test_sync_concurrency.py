"""Concurrency within the rules (issue 18 item 2), measured from the sandbox's own request log.

Sources of different services (the Jira site, the GitHub host) sync at once; two sources of one GitHub host
one after the other; the requests are the same, endpoint by endpoint, as a sequential sync's, and so is the
store. The sandbox's injected latency is waited out before its world lock is taken, so requests in flight at
once overlap in its log; `[sync] concurrent = false` shows none (the measurement can tell the difference).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.jobs import sync_sources
from syncd.sandbox import Sandbox, _http, start_sandbox
from syncd.sandbox._http import Faults
from syncd.settings import load_settings
from syncd.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LATENCY_MS = 30.0

Interval = tuple[float, float]


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with start_sandbox(seed=23, issues=400, now=NOW) as running:
        yield running


def _config(box: Sandbox, tmp_path: Path, *, concurrent: bool) -> Path:
    """Jira, and the two repositories as two GitHub sources of the one host (a service of their own)."""
    text = box.config_toml(tmp_path / "data").replace(
        'repos = ["acme/widget", "acme/gadget"]', 'repos = ["acme/widget"]')
    assert 'repos = ["acme/widget"]' in text
    github = text[text.index("[sources.github]"):]
    text += "\n" + github.replace("[sources.github]", "[sources.github2]").replace(
        'repos = ["acme/widget"]', 'repos = ["acme/gadget"]')
    text += f"\n[sync]\nconcurrent = {'true' if concurrent else 'false'}\n"
    path = tmp_path / "syncd.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _overlap(a: list[Interval], b: list[Interval]) -> float:
    """Seconds during which some interval of `a` and some interval of `b` were both open."""
    def union(xs: list[Interval]) -> list[Interval]:
        out: list[Interval] = []
        for s, e in sorted(xs):
            if out and s <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], e))
            else:
                out.append((s, e))
        return out

    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in union(a) for s2, e2 in union(b))


def _most_in_flight(xs: list[Interval]) -> int:
    events = sorted([(s, 1) for s, _ in xs] + [(e, -1) for _, e in xs], key=lambda ev: (ev[0], ev[1]))
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def _run(box: Sandbox, store: Store, tmp_path: Path, *, concurrent: bool) -> tuple[dict[str, int], list[tuple[str, str, float, float]]]:
    settings = load_settings(_config(box, tmp_path, concurrent=concurrent))
    box.controls.reset()
    box.controls.set_faults(Faults(latency_ms=LATENCY_MS))
    try:
        outcome = sync_sources(settings, store)
    finally:
        box.controls.set_faults(Faults())
    assert [r.source for r in outcome.results] == ["jira", "github", "github2"]  # configured order
    assert outcome.ok, [r.error for r in outcome.results]
    return dict(box.controls.counts), list(box.controls.log)


def _widget_or_gadget(path: str) -> str | None:
    for repo in ("widget", "gadget"):
        if f"/repos/acme/{repo}/" in path:
            return repo
    return None


def test_services_overlap_one_host_stays_serial_requests_unchanged(box: Sandbox, tmp_path: Path) -> None:
    stores = {}
    runs = {}
    for concurrent in (False, True):
        url = f"sqlite:///{tmp_path / f'c{concurrent}.db'}"
        stores[concurrent] = s = Store(url)
        s.upgrade()
        runs[concurrent] = _run(box, s, tmp_path / str(concurrent), concurrent=concurrent)
    (seq_counts, seq_log), (con_counts, con_log) = runs[False], runs[True]

    # the same requests, endpoint by endpoint
    assert con_counts == seq_counts
    # and the same store (a direct count of every table, and every item's stored version)
    assert stores[True].counts() == stores[False].counts()
    assert ({(i.id, i.updated, i.status) for i in stores[True].items()}
            == {(i.id, i.updated, i.status) for i in stores[False].items()})
    t = box.world.truth
    assert stores[True].counts()["items"] == t.jira_issues + t.github_issues + t.github_pulls

    for log, concurrent in ((seq_log, False), (con_log, True)):
        jira = [(b, e) for svc, _, b, e in log if svc == "jira"]
        github = [(b, e) for svc, _, b, e in log if svc == "github"]
        shared = _overlap(jira, github)
        if concurrent:
            # Jira and GitHub were in flight together for most of the shorter one's time
            shorter = min(_overlap(jira, jira), _overlap(github, github))
            assert shared >= 0.5 * shorter, (shared, shorter)
        else:
            assert shared == 0.0
        # one GitHub host: at most one list page and one GraphQL batch at a time
        assert _most_in_flight(github) <= (2 if concurrent else 1)
        assert _most_in_flight([(b, e) for svc, path, b, e in log if svc == "github" and "graphql" in path]) == 1
        assert _most_in_flight([(b, e) for svc, path, b, e in log if svc == "jira"]) == 1
        # the two sources of the one host did not overlap: every widget request ended before gadget's began
        widget = [e for svc, path, _, e in log if svc == "github" and _widget_or_gadget(path) == "widget"]
        gadget = [b for svc, path, b, _ in log if svc == "github" and _widget_or_gadget(path) == "gadget"]
        assert widget and gadget and max(widget) <= min(gadget)
    for s in stores.values():
        s.close()


def test_github_lists_beside_its_graphql_batches(tmp_path: Path) -> None:
    """Within one GitHub source a list page is in flight while a GraphQL batch is (the sandbox's record of
    two requests at once, never two of one kind); sequentially never. acme/widget lists 265 entries: 3 pages
    and the catch-up read."""
    with start_sandbox(seed=23, issues=1000, now=NOW) as big:
        seen = {}
        for concurrent in (False, True):
            settings = load_settings(_config(big, tmp_path / str(concurrent), concurrent=concurrent))
            store = Store(f"sqlite:///{tmp_path / f'g{concurrent}.db'}")
            store.upgrade()
            big.controls.reset()
            big.controls.set_faults(Faults(latency_ms=LATENCY_MS))
            outcome = sync_sources(settings, store, ["github"])
            assert outcome.ok, [r.error for r in outcome.results]
            assert store.counts()["items"] == len(big.world.github.repos["acme/widget"].issues)
            store.close()
            log = list(big.controls.log)
            rest = [(b, e) for svc, path, b, e in log if svc == "github" and path.endswith("/issues")]
            graphql = [(b, e) for svc, path, b, e in log if svc == "github" and "graphql" in path]
            assert len(rest) == 4 and graphql
            assert _most_in_flight(rest) == 1 and _most_in_flight(graphql) == 1
            seen[concurrent] = (_overlap(rest, graphql), dict(big.controls.counts))
    assert seen[False][0] == 0.0 < seen[True][0]
    assert seen[False][1] == seen[True][1]


def test_latency_is_waited_out_outside_the_world_lock(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a request waits out its injected latency, another thread can take the world's lock (both services
    dispatch under it): otherwise requests in flight at once would be answered one after the other."""
    free: list[bool] = []

    def try_lock() -> None:
        got = box.world.lock.acquire(timeout=2)
        if got:
            box.world.lock.release()
        free.append(got)

    class Clock:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            other = threading.Thread(target=try_lock)
            other.start()
            other.join()

    monkeypatch.setattr(_http, "time", Clock)
    box.controls.set_faults(Faults(latency_ms=5))
    try:
        for url in (f"{box.jira_url}/rest/api/3/myself", f"{box.github_url}/rate_limit"):
            try:
                urllib.request.urlopen(url, timeout=10).close()
            except urllib.error.HTTPError:
                pass  # unauthenticated: answered 401, after its latency all the same
    finally:
        box.controls.set_faults(Faults())
    assert free == [True, True]


def test_progress_of_sources_syncing_at_once(box: Sandbox, tmp_path: Path) -> None:
    """Each source's progress bar, advanced from its own thread, counts exactly the items stored for it."""
    from syncd.sync import Progress

    class Bar(Progress):
        def __init__(self) -> None:
            self.done, self.closed, self.threads = 0, False, set()

        def advance(self, n: int) -> None:
            self.done += n
            self.threads.add(threading.current_thread().name)

        def close(self) -> None:
            self.closed = True

    bars: dict[str, Bar] = {}

    def factory(name: str, total: int | None) -> Progress:
        bars[name] = Bar()
        return bars[name]

    settings = load_settings(_config(box, tmp_path, concurrent=True))
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    store.upgrade()
    outcome = sync_sources(settings, store, progress_factory=factory)
    assert outcome.ok, [r.error for r in outcome.results]
    for name in ("jira", "github", "github2"):
        assert bars[name].closed
        assert bars[name].done == len(list(store.items(source=name)))
    # Jira and the GitHub host each synced on a thread of their own
    assert bars["jira"].threads.isdisjoint(bars["github"].threads) and bars["github"].threads == bars["github2"].threads
    store.close()
