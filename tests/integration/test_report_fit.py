"""Reports that fit real mail clients and phones, on the demo store and on the 100,000-item bench store.

- Size budget: every email's HTML part, as transmitted (quoted-printable) and decoded, is under
  100 KB (Gmail clips longer ones), for every kind x audience x delivery format. A shortened email
  says so and carries (or links to) the whole report.
- Width: every report's .html page and every email's HTML body (cid: charts resolved, as a mail
  client does) lays out with no horizontal scroll at 360, 400 and 900 px in headless Chromium
  (Debian's /usr/bin/chromium driven by Playwright; skipped with the reason where either is absent).
- Dark mode: the `color-scheme` meta is declared and no element sets a text colour without its
  background.

The demo runs through the real CLI (`syncd demo`, default size and seed 7, fixed `--now`); the bench
store is bench/analysis.py's, built once and cached under bench/results/ (about 90 s the first time).
"""

from __future__ import annotations

import base64
import email
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from syncd.delivery import FORMATS, build_message
from syncd.reporting import all_requests, load_context, render_from, write_report
from syncd.reports.report import Report
from syncd.settings import Settings
from syncd.settings_sections import ReportSettings
from syncd.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # the bench store: minutes on a busy machine

BUDGET = 100_000  # bytes: Gmail clips an HTML body over about 102 KB
WIDTHS = (360, 400, 900)
DEMO_NOW = "2026-11-20T12:00:00+00:00"
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()), None)


@dataclass
class Written:
    """A store's reports as files: each .html page and each .eml (parsed)."""

    name: str
    pages: list[Path]
    emails: dict[str, EmailMessage]  # file stem -> message
    reports: list[Report]


def _parse(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def _html_part(msg: EmailMessage) -> EmailMessage:
    part = msg.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return part


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Written:
    out = tmp_path_factory.mktemp("demo") / "syncd-demo"
    proc = subprocess.run([sys.executable, "-m", "syncd", "demo", "--out", str(out), "--now", DEMO_NOW, "-q"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    reports = out / "reports"
    emails = {p.stem: _parse(p) for p in sorted(reports.glob("*.eml"))}
    assert len(emails) == len(all_requests())
    return Written("demo", sorted(reports.glob("*.html")), emails, [])


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Written:
    from bench.analysis import NOW, ensure_store
    from bench.reports import GOALS

    db = ensure_store(100_000, 1_000_000)
    out = tmp_path_factory.mktemp("bench")
    goals = out / "goals.toml"
    goals.write_text(GOALS, encoding="utf-8")
    settings = Settings(reports=ReportSettings(goals_file=goals, timezone="Europe/Berlin"))
    store = Store(f"sqlite:///{db}")
    store.upgrade()  # a store cached by an earlier checkout may predate the newest migration
    ctx = load_context(settings, store, now=NOW)
    assert len(ctx.snapshot.items) == 100_000
    pages, emails, reports = [], {}, []
    for kind, audience, scope in all_requests():
        report = render_from(ctx, None, kind, audience, scope=scope)
        reports.append(report)
        for path in write_report(report, out, ("html", "eml"), sender="syncd@example.com", recipients=[], date=NOW):
            if path.suffix == ".html":
                pages.append(path)
            elif path.suffix == ".eml":
                emails[path.stem] = _parse(path)
    return Written("bench", pages, emails, reports)


@pytest.fixture(params=["demo", "bench"])
def written(request: pytest.FixtureRequest) -> Written:
    return request.getfixturevalue(request.param)


def test_every_email_html_part_is_under_the_budget(written: Written) -> None:
    for stem, msg in written.emails.items():
        part = _html_part(msg)
        encoded = len(str(part.get_payload()).encode())
        decoded = len(part.get_content().encode())
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert encoded < BUDGET and decoded < BUDGET, f"{written.name} {stem}: {encoded} B sent, {decoded} B decoded"


def test_the_engineering_email_is_shortened_and_attaches_the_whole_report(written: Written) -> None:
    stem = "status-engineering"
    page = next(p for p in written.pages if p.stem == stem)
    whole = page.read_text(encoding="utf-8")
    assert len(whole.encode()) > BUDGET  # the whole report would be clipped: this is the case that matters
    msg = written.emails[stem]
    body = _html_part(msg).get_content()
    assert "Shortened for email:" in body and "The full report is attached (status-engineering.html)" in body
    attached = [p for p in msg.iter_attachments() if p.get_filename() == f"{stem}.html"]
    assert len(attached) == 1
    full = attached[0].get_content()
    # the attachment is the whole report: every table row of the .html page, charts embedded
    assert full.count("<tr") == whole.count("<tr") > body.count("<tr")
    assert 'src="cid:' not in full and full.count('src="data:image/png;base64,') == whole.count("<img ")
    # every section heading of the whole report is still in the email, with a note for each cut
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", whole, re.S)
    assert headings and headings == re.findall(r"<h2[^>]*>(.*?)</h2>", body, re.S)
    # a cut list says how many rows are left (merged with the report's own "…and N more." under a capped list)
    assert re.search(r"…and \d+ more rows( in the full report\.|; the full report lists \d+ of them\.)", body)
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None and "Shortened for email:" in text.get_content()


def test_every_delivery_format_keeps_the_html_part_under_the_budget(bench: Written) -> None:
    from datetime import UTC, datetime

    for report in bench.reports:
        for fmt in FORMATS:
            msg = build_message(report, fmt, sender="syncd@example.com", recipients=["a@example.com"],
                                date=datetime(2026, 6, 1, tzinfo=UTC))
            for part in msg.walk():
                if part.get_content_type() == "text/html" and part.get_content_disposition() != "attachment":
                    size = len(str(part.get_payload()).encode())
                    assert size < BUDGET, f"{report.slug()} as {fmt}: {size} B"


def _colour_pairs(html: str) -> list[str]:
    """Inline styles that set a text colour without a background colour."""
    bad = []
    for style in re.findall(r'style="([^"]*)"', html):
        declarations = {d.split(":", 1)[0].strip().lower() for d in style.split(";") if ":" in d}
        if "color" in declarations and "background-color" not in declarations:
            bad.append(style)
    return bad


def test_dark_mode_safe_palette(written: Written) -> None:
    documents = [p.read_text(encoding="utf-8") for p in written.pages]
    documents += [_html_part(m).get_content() for m in written.emails.values()]
    for html in documents:
        assert '<meta name="color-scheme" content="light dark">' in html
        assert "@media (prefers-color-scheme: dark)" in html
        assert _colour_pairs(html) == []


def _with_cid_images(msg: EmailMessage) -> str:
    """The email's HTML with cid: charts replaced by their inline parts, as a mail client shows it."""
    html = _html_part(msg).get_content()
    for part in msg.walk():
        cid = part["Content-ID"]
        if cid and part.get_content_type() == "image/png":
            uri = "data:image/png;base64," + base64.b64encode(part.get_content()).decode()
            html = html.replace(f'src="cid:{cid.strip("<>")}"', f'src="{uri}"')
    assert 'src="cid:' not in html
    return html


def test_no_horizontal_scroll_at_phone_and_desktop_widths(written: Written, tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("no /usr/bin/chromium (Debian: apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    documents = list(written.pages)
    for stem, msg in written.emails.items():
        path = tmp_path / f"{stem}.email.html"
        path.write_text(_with_cid_images(msg), encoding="utf-8")
        documents.append(path)
    failures = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                for doc in documents:
                    page.goto(doc.as_uri())
                    state = page.evaluate("""() => ({
                        scroll: document.documentElement.scrollWidth,
                        images: Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0,
                                                                      i.getBoundingClientRect().right]),
                        stacked: Array.from(document.querySelectorAll('table.data td')).slice(0, 1)
                                      .map(td => getComputedStyle(td).display)})""")
                    if state["scroll"] != width:
                        failures.append(f"{doc.name} at {width} px: scroll width {state['scroll']}")
                    assert all(ok and right <= width for ok, right in state["images"]), (doc.name, width, state)
                    # phones get stacked cells (the media query), desktops the table
                    assert state["stacked"] in ([], ["block" if width < 600 else "table-cell"]), (doc.name, width)
                page.close()
        finally:
            browser.close()
    assert failures == []


def _sandbox_config(tmp_path: Path, base_url: str | None) -> tuple[Path, Path]:
    from tests.reports_sandbox import build_sandbox_store

    sandbox = build_sandbox_store(tmp_path / "sandbox")
    sandbox.store.close()
    out = tmp_path / "published"
    line = f'base_url = "{base_url}"' if base_url else ""
    config = tmp_path / "syncd.toml"
    config.write_text(f"""
database_url = "sqlite:///{tmp_path / 'sandbox' / 'syncd.db'}"
[reports]
goals_file = "{sandbox.goals_file}"
timezone = "Europe/Berlin"
{line}
""", encoding="utf-8")
    return config, out


def test_with_a_report_site_the_shortened_email_links_to_the_published_report(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncd.cli import main

    config, out = _sandbox_config(tmp_path, "https://reports.acme.example/syncd/")
    result = CliRunner().invoke(main, ["report", "status", "--audience", "engineering", "--config", str(config),
                                       "--out", str(out), "--now", "2026-11-20T12:00:00+01:00"])
    assert result.exit_code == 0, result.output
    msg = _parse(out / "status-engineering.eml")
    body = _html_part(msg).get_content()
    assert len(str(_html_part(msg).get_payload()).encode()) < BUDGET
    # the link names the file `syncd report` wrote: publishing the out folder at base_url serves it
    assert '<a href="https://reports.acme.example/syncd/status-engineering.html"' in body
    assert (out / "status-engineering.html").is_file()
    assert [p.get_filename() for p in msg.iter_attachments()] == []  # linked, not attached
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None and "https://reports.acme.example/syncd/status-engineering.html" in text.get_content()


@pytest.mark.parametrize("bad", ["ftp://reports.acme.example/", "reports.acme.example", "https://x.example/?a=1"])
def test_a_bad_base_url_is_a_config_error_naming_the_key(tmp_path: Path, bad: str) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text(f'[reports]\nbase_url = "{bad}"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "syncd", "config", "check", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "reports.base_url" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
