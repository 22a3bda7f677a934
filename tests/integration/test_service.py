"""`syncd serve` over real HTTP: uvicorn on a loopback port, the sandbox synced into a SQLite store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"bearer {TOKEN}"}):
        r = httpx.get(url + path, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.headers["www-authenticate"].startswith("Bearer") and "error" in r.json()
    assert httpx.post(url + "/sync").status_code == 401


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


def test_report_request_errors_are_one_line(service: tuple[str, Store]) -> None:
    url, _ = service
    cases = [("/reports/nope", {}, 404, "unknown report kind 'nope'"),
             ("/reports/status", {"audience": "board"}, 400, "unknown audience 'board'"),
             ("/reports/timeline", {"audience": "executive"}, 400, "unknown audience 'executive'"),
             ("/reports/status", {"format": "pdf"}, 400, "unknown format 'pdf'"),
             ("/reports/status", {"now": "yesterday"}, 400, "not an ISO date-time")]
    for path, params, status, text in cases:
        r = get(url, path, **params)
        assert r.status_code == status and text in r.json()["error"], (path, r.text)


def test_post_sync_runs_in_the_background_and_metrics_show_it(service: tuple[str, Store], box: Sandbox) -> None:
    url, store = service
    headers = {"Authorization": f"Bearer {TOKEN}"}
    box.controls.set_faults(Faults(latency_ms=150))  # keep the sync running while we ask again
    try:
        first = httpx.post(url + "/sync", headers=headers)
        again = httpx.post(url + "/sync", headers=headers)
        assert first.status_code == 202 and first.json()["state"] == "running"
        assert first.json()["sources"] == ["jira", "github"]
        assert again.status_code == 409 and again.json()["state"] == "running"
        status = first.json()
        with httpx.Client(headers=headers, timeout=30) as client:
            for _ in range(600):
                status = client.get(url + "/sync").json()
                if status["state"] != "running":
                    break
                client.get(url + "/healthz")  # a real round trip between polls, no sleep
        assert status["state"] == "done", status
        assert [r["source"] for r in status["results"]] == ["jira", "github"] and all(r["ok"] for r in status["results"])
    finally:
        box.controls.set_faults(Faults())
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
        assert samples[("syncd_sync_runs_total", (("source", source), ("status", "ok")))] == len(mine) == 2
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
