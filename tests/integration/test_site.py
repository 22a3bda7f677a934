"""The report site of `syncd serve` in a real browser (Playwright driving Debian's chromium) and over
plain HTTP: login form, signed session cookie, CSRF on every POST, report pages and history.

Skipped with the reason where /usr/bin/chromium or playwright is absent (.ci/run installs chromium).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from syncd.reporting import REPORT_KINDS, generate_report
from syncd.service import RunningService, create_app
from syncd.settings_sections import ServerSettings
from syncd.site import SESSION_COOKIE, hash_password
from tests.reports_sandbox import NOW, build_sandbox_store

pytestmark = pytest.mark.slow

TOKEN = "site-test-token-0123456789abcdef"
USER, PASSWORD = "dana", "correct horse battery staple"
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()), None)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sandbox = build_sandbox_store(tmp_path_factory.mktemp("site"))
    settings = sandbox.settings.model_copy(update={"server": ServerSettings(
        token=SecretStr(TOKEN), users={USER: SecretStr(hash_password(PASSWORD))})})
    # one delivered report in the history, so the history page has an entry to open
    generate_report(settings, sandbox.store, "status", "executive", now=NOW, record=True)
    running = RunningService(create_app(settings, sandbox.store, clock=lambda: NOW), "127.0.0.1", 0).start()
    yield running.url
    running.stop()
    sandbox.store.close()


def _login(client: httpx.Client, user: str, password: str, csrf: str | None = None) -> httpx.Response:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    return client.post("/login", data={"csrf": csrf if csrf is not None else token.group(1), "user": user,
                                       "password": password, "next": "/"})


def test_without_a_session_every_page_redirects_to_login(site: str) -> None:
    with httpx.Client(base_url=site, timeout=60) as client:
        for path in ("/", "/history", "/view/status?audience=engineering"):
            r = client.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), (path, r.status_code)
    with httpx.Client(base_url=site, timeout=60, cookies={SESSION_COOKIE: "eyJ1IjoiZGFuYSJ9.forged.sig"}) as forged:
        assert forged.get("/").status_code == 303


def test_login_checks_password_csrf_and_sets_a_safe_cookie(site: str) -> None:
    with httpx.Client(base_url=site, timeout=60) as client:
        assert _login(client, USER, "wrong").status_code == 401
        assert _login(client, "", "not-the-token").status_code == 401
        assert _login(client, USER, PASSWORD, csrf="forged-token").status_code == 403  # CSRF on the login POST
        r = _login(client, USER, PASSWORD)
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        page = client.get("/")
        assert page.status_code == 200 and "Sign out" in page.text
        assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in page.headers[
            "content-security-policy"]
        # logout is a POST with the session's CSRF token; without it nothing happens
        assert client.post("/logout", data={"csrf": "nope"}).status_code == 403
        assert client.get("/").status_code == 200
    with httpx.Client(base_url=site, timeout=60) as client:  # the server token signs in too
        assert _login(client, "", TOKEN).status_code == 303 and client.get("/").status_code == 200


def test_the_bearer_api_stays_for_scripts_and_a_session_does_not_open_it(site: str) -> None:
    with httpx.Client(base_url=site, timeout=60) as client:
        _login(client, USER, PASSWORD)
        assert client.get("/reports/status").status_code == 401  # the API wants the bearer token
        r = client.get("/reports/status", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and "<html" in r.text.lower()


def test_the_engineering_reports_csv_of_every_signal_downloads_when_the_report_lists_only_some(
        site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import csv
    import io

    from syncd.reports.catalogue import status_engineering

    path = "/view/status?audience=engineering&file=status-engineering-risks.csv"
    with httpx.Client(base_url=site, timeout=60) as client:
        _login(client, USER, PASSWORD)
        missing = client.get(path)  # the sandbox's themes fit the cap: the report lists every signal itself
        assert missing.status_code == 404 and "lists everything itself" in missing.text
        monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)
        report = client.get("/view/status?audience=engineering")
        shown = re.search(r"All (\d+) signals are in status-engineering-risks.csv", report.text)
        assert shown is not None
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"] == 'attachment; filename="status-engineering-risks.csv"'
        rows = list(csv.DictReader(io.StringIO(r.text)))
        # one row per signal the rules raised: the risk section's own count, and no id twice
        assert len(rows) == int(shown.group(1)) == len({row["risk_id"] for row in rows})
        assert client.get("/view/status?audience=engineering&file=../secrets").status_code == 404


def test_in_a_browser_log_in_open_a_report_follow_a_link_log_out(site: str) -> None:
    if CHROMIUM is None:
        pytest.skip("no /usr/bin/chromium (Debian: apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 400, "height": 900})
            page.goto(site + "/view/status?audience=engineering")
            assert "/login" in page.url  # no session: the login form, remembering where we were going
            page.fill("#user", USER)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            assert page.url == site + "/view/status?audience=engineering"
            assert page.locator("h1").first.inner_text().startswith("Engineering status")
            cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read the session

            page.goto(site + "/")
            goals = page.locator("main li").all_inner_texts()
            assert any(t.startswith(("RED", "AMBER", "GREEN")) and "Checkout redesign" in t for t in goals)
            labels = page.locator("main a[href^='/view/']").all_inner_texts()
            assert len(labels) == sum(len(a) for a in REPORT_KINDS.values())
            page.click("text=status · executive")  # follow a link from the index
            page.wait_for_load_state()
            assert page.url.endswith("/view/status?audience=executive")
            assert "Status: are we on track?" in page.locator("h1").first.inner_text()

            page.goto(site + "/history")
            page.click("main a[href^='/view/status']")  # a past report, opened as of its date
            page.wait_for_load_state()
            assert "now=2026-11-20T11%3A00%3A00%2B00%3A00" in page.url
            assert "Status: are we on track?" in page.locator("h1").first.inner_text()

            page.goto(site + "/")
            page.click("text=Sign out")
            page.wait_for_load_state()
            assert page.url.startswith(site + "/login")
            page.goto(site + "/history")
            assert "/login" in page.url  # signed out: pages redirect to the login form again
        finally:
            browser.close()
