"""`syncd serve` over real HTTP: uvicorn on a loopback port, the sandbox synced into a SQLite store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from syncd.jobs import sync_sources
from syncd.reporting import REPORT_KINDS
from syncd.sandbox import Sandbox, start_sandbox
from syncd.sandbox._http import Faults
from syncd.service import RunningService, create_app
from syncd.settings import Settings, load_settings
from syncd.store import Store
from tests.smtp_sink import free_port

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOKEN = "test-service-token-0123456789"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with start_sandbox(seed=21, issues=200, now=NOW) as running:
        yield running


@pytest.fixture(scope="module")
def settings(box: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("serve")
    config = box.write_config(folder / "syncd.toml", data_dir=folder / "data")
    config.write_text(config.read_text() + f'\n[server]\ntoken = "{TOKEN}"\n')
    return load_settings(config)


@pytest.fixture(scope="module")
def service(settings: Settings) -> Iterator[tuple[str, Store]]:
    store = Store(settings.db_url)
    store.upgrade()
    assert sync_sources(settings, store).ok
    running = RunningService(create_app(settings, store, clock=lambda: NOW), "127.0.0.1", 0).start()
    yield running.url, store
    running.stop()
    store.close()


def get(url: str, path: str, token: str | None = TOKEN, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url + path, params=params, headers=headers, timeout=60)


def test_healthz_is_open_and_binds_loopback(service: tuple[str, Store]) -> None:
    url, _ = service
    assert url.startswith("http://127.0.0.1:")
    r = get(url, "/healthz", token=None)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/metrics", "/reports/status", "/sync", "/nowhere"])
def test_everything_else_needs_the_bearer_token(service: tuple[str, Store], path: str) -> None:
    url, _ = service
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Bearerx {TOKEN}"},
                    {"Authorization": f"bearer {TOKEN[:-1]}"}, {"Authorization": "Bearer"},
                    {"Authorization": f"{TOKEN}"}):
        r = httpx.get(url + path, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.headers["www-authenticate"].startswith("Bearer") and "error" in r.json()
    assert httpx.post(url + "/sync").status_code == 401


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(service: tuple[str, Store], scheme: str) -> None:
    """RFC 6750 section 2.1 uses RFC 7235's auth-scheme, which is case-insensitive."""
    url, _ = service
    r = httpx.get(url + "/metrics", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert r.status_code == 200 and "syncd_store_up" in r.text


def _raw_request(url: str, chunks: list[bytes]) -> bytes:
    """Send a raw HTTP/1.1 request in `chunks` (one write each) and return what the server answers."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        for chunk in chunks:
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the server answered and closed early
                break
        answer = b""
        while data := conn.recv(65536):
            answer += data
            if b"\r\n\r\n" in answer and b"connection: close" in answer.lower():
                break
        return answer


def test_oversized_headers_are_refused_before_authentication(service: tuple[str, Store]) -> None:
    """100 KB of headers are refused, whether they come in one write (431) or trickle in (400), token or not."""
    from syncd.service import MAX_HEADER_BYTES

    url, _ = service
    big = b"X-Filler: " + b"a" * 100_000 + b"\r\n"
    for auth in (b"", f"Authorization: Bearer {TOKEN}\r\n".encode()):
        head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth
        whole = _raw_request(url, [head + big + b"\r\n"])
        assert whole.startswith(b"HTTP/1.1 431 "), whole[:200]
        trickled = _raw_request(url, [head] + [big[i:i + 4096] for i in range(0, len(big), 4096)] + [b"\r\n"])
        # h11 stops buffering at the cap; uvicorn answers its protocol errors with a plain 400
        assert trickled.startswith(b"HTTP/1.1 400 "), trickled[:200]
        assert b"syncd_store_up" not in whole + trickled
    # just under the cap is served
    filler = b"X-Filler: " + b"a" * (MAX_HEADER_BYTES - 400) + b"\r\n"
    ok = _raw_request(url, [b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            + f"Authorization: Bearer {TOKEN}\r\n".encode() + filler + b"\r\n"])
    assert ok.startswith(b"HTTP/1.1 200 "), ok[:200]


def test_every_report_kind_is_served(service: tuple[str, Store]) -> None:
    url, _ = service
    for kind, audiences in REPORT_KINDS.items():
        for audience in audiences:
            params = {"audience": audience} if audience else {}
            r = get(url, f"/reports/{kind}", **params)
            assert r.status_code == 200, (kind, audience, r.text[:200])
            assert r.headers["content-type"] == "text/html; charset=utf-8"
            assert r.text.lstrip().lower().startswith("<!doctype html") and "cid:" not in r.text
    md = get(url, "/reports/status", audience="engineering", format="md")
    assert md.status_code == 200 and md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "](data:image/png;base64," in md.text and "](./" not in md.text  # charts inlined
    html = get(url, "/reports/status", audience="engineering")
    assert 'src="data:image/png;base64,' in html.text


def test_the_engineering_reports_csv_is_served_when_the_report_lists_only_some_signals(
        service: tuple[str, Store], monkeypatch: pytest.MonkeyPatch) -> None:
    import csv
    import io

    from syncd.reports.catalogue import status_engineering

    url, _ = service
    missing = get(url, "/reports/status", audience="engineering", format="csv")
    assert missing.status_code == 404 and "no CSV" in missing.json()["error"]  # every signal fits the page
    monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)
    r = get(url, "/reports/status", audience="engineering", format="csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="status-engineering-risks.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    md = get(url, "/reports/status", audience="engineering", format="md").text
    assert rows and f"**All {len(rows)} signals are in status-engineering-risks.csv**" in md
    assert get(url, "/reports/status", audience="executive", format="csv").status_code == 404


def test_report_request_errors_are_one_line(service: tuple[str, Store]) -> None:
    url, _ = service
    cases = [("/reports/nope", {}, 404, "unknown report kind 'nope'"),
             ("/reports/status", {"audience": "board"}, 400, "unknown audience 'board'"),
             ("/reports/timeline", {"audience": "executive"}, 400, "unknown audience 'executive'"),
             ("/reports/status", {"format": "pdf"}, 400, "unknown format 'pdf'"),
             ("/reports/status", {"now": "yesterday"}, 400, "not an ISO date-time"),
             # year 10000 in UTC: converting it overflowed into a 500 with a traceback
             ("/reports/status", {"now": "9999-12-31T23:59:59-12:00"}, 400, "now: 9999-12-31T23:59:59-12:00 is out of range"),
             ("/reports/timeline", {"now": "0001-01-01T00:00:00+14:00"}, 400, "is out of range"),
             ("/reports/status", {"now": "9999-12-31T23:59:59"}, 400, "is out of range")]
    for path, params, status, text in cases:
        r = get(url, path, **params)
        assert r.status_code == status and text in r.json()["error"], (path, r.text)
        assert "\n" not in r.json()["error"]


def test_post_sync_runs_in_the_background_and_metrics_show_it(service: tuple[str, Store], box: Sandbox) -> None:
    url, store = service
    headers = {"Authorization": f"Bearer {TOKEN}"}
    runs_before = _runs_per_source(store)
    box.controls.set_faults(Faults(latency_ms=8000))  # the sync's first request stalls while we ask again
    try:
        first = httpx.post(url + "/sync", headers=headers)
        assert first.status_code == 202 and first.json()["state"] == "running"
        assert first.json()["sources"] == ["jira", "github"] and first.json()["queued"] == []
        with httpx.Client(headers=headers, timeout=30) as client:
            # 300 triggers while it runs: they all join one follow-up sync, in the order first asked for
            again = [client.post(url + "/sync", params={"source": "jira"}) for _ in range(150)]
            again += [client.post(url + "/sync", params={"source": ["github", "jira"]}) for _ in range(150)]
            box.controls.set_faults(Faults(latency_ms=150))
            assert {r.status_code for r in again} == {202}
            assert {r.json()["started_at"] for r in again} == {first.json()["started_at"]}  # all during the first
            assert again[0].json()["queued"] == ["jira"] and again[-1].json()["queued"] == ["jira", "github"]
            status = first.json()
            deadline = time.monotonic() + 120  # bounded by time, not by a poll count (a loaded machine polls slower)
            while time.monotonic() < deadline:
                status = client.get(url + "/sync").json()
                if status["state"] != "running":
                    break
                client.get(url + "/healthz")  # a real round trip between polls, no sleep
        assert status["state"] == "done" and status["queued"] == [], status
        assert [r["source"] for r in status["results"]] == ["jira", "github"] and all(r["ok"] for r in status["results"])
    finally:
        box.controls.set_faults(Faults())
    # the running sync and one follow-up: two runs per source for 301 requests (counted in the store)
    runs_after = _runs_per_source(store)
    assert {s: runs_after[s] - runs_before.get(s, 0) for s in runs_after} == {"jira": 2, "github": 2}
    bad = httpx.post(url + "/sync", params={"source": "nope"}, headers=headers)
    assert bad.status_code == 400 and "no source named 'nope'" in bad.json()["error"]

    text = get(url, "/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    runs = store.sync_runs()
    assert samples[("syncd_store_up", ())] == 1
    for source in ("jira", "github"):
        mine = [r for r in runs if r["source"] == source]
        assert samples[("syncd_api_requests_total", (("source", source),))] == sum(r["requests"] for r in mine)
        assert samples[("syncd_sync_runs_total", (("source", source), ("status", "ok")))] == len(mine) == 3
        newest = max(r["finished_at"] for r in mine).timestamp()
        assert samples[("syncd_last_successful_sync_timestamp_seconds", (("source", source),))] == pytest.approx(newest)
        assert samples[("syncd_items_synced_total", (("change", "new"), ("source", source)))] == sum(r["items_new"] for r in mine)
    assert samples[("syncd_stored_items", (("source", "jira"),))] + samples[("syncd_stored_items", (("source", "github"),))] == 200
    for resource in ("core", "graphql"):  # seen by this process's syncs
        assert 0 < samples[("syncd_rate_limit_remaining", (("resource", resource), ("source", "github")))] <= 5000
    assert not any(name == "syncd_rate_limit_remaining" and ("source", "jira") in labels for name, labels in samples)
    assert samples[("syncd_http_requests_total", (("route", "/sync"), ("status", "2xx")))] >= 2
    assert samples[("syncd_http_requests_total", (("route", "/sync"), ("status", "4xx")))] >= 2
    assert ("syncd_errors_total", (("area", "delivery"),)) in samples


def _runs_per_source(store: Store) -> dict[str, int]:
    """Sync runs recorded per source, by a direct query of the store."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT source, COUNT(*) FROM sync_runs GROUP BY source")).all())


@pytest.mark.slow
def test_syncd_serve_command(settings: Settings, tmp_path: Path) -> None:
    """The real command: refuses to start without a token; serves and stops cleanly on SIGTERM."""
    assert settings.config_path is not None
    no_token = tmp_path / "no-token.toml"
    no_token.write_text(settings.config_path.read_text().replace(f'token = "{TOKEN}"', ""))
    cmd = [sys.executable, "-m", "syncd", "serve", "--config"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    refused = subprocess.run([*cmd, str(no_token)], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "syncd: error: config: server.token: required to serve HTTP (every route but /healthz needs it)"]
    port = free_port()
    proc = subprocess.Popen([*cmd, str(settings.config_path), "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(timeout=2) as client:
            for _ in range(300):
                try:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:  # not listening yet: wait on the process (fails if it died)
                    with pytest.raises(subprocess.TimeoutExpired):
                        proc.wait(timeout=0.05)
            r = client.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 200 and "syncd_store_up 1.0" in r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert TOKEN not in out + err
