"""`syncd report`: files written from the store, a past date reproduced, and --send over real SMTP
(aiosmtpd on loopback) with the message parsed part by part."""

from __future__ import annotations

import email
import gc
import json
import logging
import re
import subprocess
import sys
import weakref
from datetime import datetime
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncd import chart_process
from syncd.cli import main
from syncd.cli.report_cmds import KINDS
from syncd.reporting import REPORT_KINDS, generate_report, load_context
from syncd.settings import load_settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from syncd.store._history import report_history
from tests.reports_world import build_world, load_world, write_goals
from tests.smtp_sink import Sink, SmtpServer


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    store = Store(f"sqlite:///{folder / 'syncd.db'}")
    store.upgrade()
    load_world(store, build_world())
    store.close()
    write_goals(folder / "goals.toml")
    return folder


def _config(folder: Path, tmp_path: Path, smtp_port: int = 2525) -> Path:
    db = tmp_path / "syncd.db"
    db.write_bytes((folder / "syncd.db").read_bytes())  # each test gets its own copy of the store
    config = tmp_path / "syncd.toml"
    config.write_text(f"""
database_url = "sqlite:///{db}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "syncd <syncd@acme.test>"
timeout_s = 5
[reports]
goals_file = "{folder / 'goals.toml'}"
timezone = "Europe/Berlin"
out_dir = "{tmp_path / 'out'}"
[reports.recipients]
business = ["Biz Team <biz@acme.test>", "cfo@acme.test"]
engineering = ["eng@acme.test"]
""", encoding="utf-8")
    return config


def test_cli_kinds_are_the_catalogue() -> None:
    assert KINDS == tuple(REPORT_KINDS)


def test_writes_markdown_html_eml_and_charts_and_records_history(world_db: Path, tmp_path: Path) -> None:
    config = _config(world_db, tmp_path)
    result = CliRunner().invoke(main, ["report", "status", "--audience", "business", "-c", str(config),
                                       "--now", "2026-11-20T12:00:00+01:00"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert {"status-business.md", "status-business.html", "status-business.eml"} <= set(names)
    md = (out / "status-business.md").read_text(encoding="utf-8")
    for image in re.findall(r"\]\(\./([^)]+\.png)\)", md):
        assert (out / image).read_bytes().startswith(b"\x89PNG")
    html = (out / "status-business.html").read_text(encoding="utf-8")
    assert "cid:" not in html and 'src="status-business-burnup-checkout.png"' in html
    eml = email.message_from_bytes((out / "status-business.eml").read_bytes(), policy=policy.default)
    assert eml["To"] == "Biz Team <biz@acme.test>, cfo@acme.test"
    [row] = report_history(Store(f"sqlite:///{tmp_path / 'syncd.db'}"))
    assert (row.kind, row.audience, row.as_of.isoformat()) == ("status", "business", "2026-11-20T11:00:00+00:00")
    assert set(row.summary["goals"]) == {"checkout", "onboarding", "payments"}


def test_the_program_exits_early_with_everything_written_and_committed(world_db: Path, tmp_path: Path) -> None:
    # `python -m syncd report` skips interpreter teardown (os._exit): the files, the printed paths and the
    # report_history row must all be complete first; an in-process run (CliRunner) is the reference.
    config = _config(world_db, tmp_path)
    args = ["report", "status", "--audience", "engineering", "-c", str(config), "--now", "2026-11-20T12:00:00+01:00"]
    proc = subprocess.run([sys.executable, "-m", "syncd", *args, "--out", str(tmp_path / "program")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    printed = [Path(p).name for p in proc.stdout.splitlines()]
    assert printed[-3:] == ["status-engineering.md", "status-engineering.html", "status-engineering.eml"]
    assert sorted(printed) == sorted(p.name for p in (tmp_path / "program").iterdir())
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "inproc")]).exit_code == 0
    for name in printed:
        if name.endswith((".md", ".html", ".png")):
            assert (tmp_path / "program" / name).read_bytes() == (tmp_path / "inproc" / name).read_bytes(), name
    eml = email.message_from_bytes((tmp_path / "program" / "status-engineering.eml").read_bytes(),
                                   policy=policy.default)
    assert eml.get_body(preferencelist=("plain",)) is not None  # the whole message, not a truncated file
    rows = report_history(Store(f"sqlite:///{tmp_path / 'syncd.db'}"))
    assert [(r.kind, r.audience) for r in rows] == [("status", "engineering")] * 2
    bad = subprocess.run([sys.executable, "-m", "syncd", "report", "status", "-c", str(config), "--now", "never"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--now" in bad.stderr



# `main` in-process, then the modules it loaded (the program itself ends with os._exit: no atexit hook runs)
LOADED_AFTER_MAIN = """
import json, sys
from syncd.cli import main
sys.argv = ["syncd", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    print("EXIT", exc.code, file=sys.stderr)
print("LOADED " + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def test_a_report_on_an_up_to_date_store_loads_no_migration_tooling(world_db: Path, tmp_path: Path) -> None:
    """Alembic (and the Mako and Pygments it brings) is loaded only when the store needs migrating."""
    config = _config(world_db, tmp_path)
    proc = subprocess.run([sys.executable, "-c", LOADED_AFTER_MAIN, "report", "status", "-c", str(config),
                           "--now", "2026-11-20T12:00:00+01:00", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert "EXIT 0" in proc.stderr, proc.stderr
    assert (tmp_path / "out" / "status-executive.md").is_file()
    loaded = json.loads(proc.stderr.split("LOADED ", 1)[1])
    assert "syncd.reporting" in loaded and "syncd.store.migrate" in loaded  # it reported, and checked the revision
    assert [m for m in loaded if m.split(".")[0] in ("alembic", "mako", "pygments")] == []
    assert [m for m in loaded if m.startswith("sqlalchemy.dialects.postgresql")] == []  # a SQLite store

def test_a_one_shot_context_stays_referenced_and_the_collector_as_it_was(world_db: Path, tmp_path: Path) -> None:
    # `syncd report` (freeze_snapshot): the context outlives the call (the process exits without freeing it),
    # only the last one is held, and the collector ends on or off as it was found
    settings = load_settings(_config(world_db, tmp_path))
    store = Store(settings.db_url)
    now = datetime.fromisoformat("2026-11-20T12:00:00+01:00")
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            ctx = load_context(settings, store, now=now, freeze_snapshot=True)
            assert gc.isenabled() is enabled
            held = weakref.ref(ctx.snapshot)
            del ctx
            assert held() is not None
        plain = weakref.ref(load_context(settings, store, now=now).snapshot)
        gc.collect()
        assert plain() is None  # without freeze_snapshot nothing is held
    finally:
        (gc.enable if was else gc.disable)()
        store.close()


@pytest.mark.parametrize("child", ["drawn there", "fails to start"])
def test_a_one_shot_report_is_the_same_with_its_chart_process_or_without(
        world_db: Path, tmp_path: Path, child: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # `syncd report` (freeze_snapshot) has its charts drawn by a second process (syncd/chart_process.py)
    settings = load_settings(_config(world_db, tmp_path))
    store = Store(settings.db_url)
    now = datetime.fromisoformat("2026-11-20T12:00:00+01:00")
    try:
        plain = generate_report(settings, store, "status", "business", now=now, record=False)
        if child == "fails to start":
            monkeypatch.setattr(chart_process, "_CHILD", [sys.executable, "-c", "raise SystemExit(3)"])
        with caplog.at_level(logging.DEBUG, logger="syncd.chart_process"):
            one_shot = generate_report(settings, store, "status", "business", now=now, record=False,
                                       freeze_snapshot=True)
    finally:
        store.close()
    assert plain.charts and one_shot.charts == plain.charts
    assert (one_shot.markdown, one_shot.html) == (plain.markdown, plain.html)
    drawn_there = f"charts drawn by a child process: {len(plain.charts)} charts" in caplog.text
    assert drawn_there is (child == "drawn there"), caplog.text


def test_a_past_date_reproduces_the_same_report(world_db: Path, tmp_path: Path) -> None:
    config = _config(world_db, tmp_path)
    runner = CliRunner()
    args = ["report", "sprint-review", "-c", str(config), "--now", "2026-11-01", "--format", "md"]
    assert runner.invoke(main, args).exit_code == 0
    first = (tmp_path / "out" / "sprint-review-jira-sprint-4.md").read_text(encoding="utf-8")
    assert "# Sprint review: WID Sprint 4" in first
    assert runner.invoke(main, args).exit_code == 0
    assert (tmp_path / "out" / "sprint-review-jira-sprint-4.md").read_text(encoding="utf-8") == first


def test_bad_input_is_one_line_and_an_exit_code(world_db: Path, tmp_path: Path) -> None:
    config = _config(world_db, tmp_path)
    runner = CliRunner()
    bad_scope = runner.invoke(main, ["report", "launch-readiness", "-c", str(config), "--scope", "9.9"])
    assert bad_scope.exit_code == 1
    assert bad_scope.output.strip().splitlines() == [
        "syncd: error: no release '9.9' among the planned and recent releases (known: 1.1, 1.0)"]
    bad_now = runner.invoke(main, ["report", "status", "-c", str(config), "--now", "last friday"])
    assert bad_now.exit_code == 2 and "--now" in bad_now.output
    for edge in ("9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):  # overflowed: traceback
        out_of_range = runner.invoke(main, ["report", "status", "-c", str(config), "--now", edge])
        assert out_of_range.exit_code == 2, (edge, out_of_range.output)
        [line] = out_of_range.output.strip().splitlines()
        assert line.startswith("syncd: error: --now: ") and line.endswith(
            " is out of range (a time in the years 1970 to 2999)"), line
    no_audience = runner.invoke(main, ["report", "timeline", "--audience", "executive", "-c", str(config)])
    assert no_audience.exit_code == 1 and "has no audiences" in no_audience.output


def test_send_delivers_a_multipart_email_with_inline_charts(world_db: Path, tmp_path: Path) -> None:
    sink = Sink()
    with SmtpServer(sink) as server:
        config = _config(world_db, tmp_path, server.port)
        result = CliRunner().invoke(main, ["report", "status", "--audience", "business", "--send", "-c", str(config),
                                           "--now", "2026-11-20T12:00:00+01:00"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sent status to 2 recipient(s): <")
    [got] = sink.messages
    assert got.sender == "syncd@acme.test" and got.recipients == ["biz@acme.test", "cfo@acme.test"]
    msg = email.message_from_bytes(got.data, policy=policy.default)
    assert msg["Subject"] == "[syncd] Status — outcomes for the business — 2026-11-20"
    assert msg["From"] == "syncd <syncd@acme.test>" and msg["To"] == "Biz Team <biz@acme.test>, cfo@acme.test"
    assert msg["Date"] and msg["Message-ID"].endswith("@acme.test>")
    assert [p.get_content_type() for p in msg.walk()][:4] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Outcomes by goal" in text and "<" not in text.split("Outcomes by goal")[0]
    images = {p["Content-ID"].strip("<>"): p for p in msg.walk() if p.get_content_type() == "image/png"}
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids and cids == set(images)
    for part in images.values():
        assert part.get_content_disposition() == "inline" and part.get_content().startswith(b"\x89PNG")
    assert "http" not in "".join(re.findall(r'<img[^>]*>', html)) and "data:" not in html
    [row] = ledger.delivery_rows(Store(f"sqlite:///{tmp_path / 'syncd.db'}"))
    assert (row["status"], row["kind"], row["audience"]) == ("sent", "status", "business")
    assert not (tmp_path / "out").exists()  # --send alone writes no files


def test_now_accepts_a_date_meaning_its_end_or_a_date_time() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from syncd.cli.report_cmds import parse_now

    berlin = ZoneInfo("Europe/Berlin")
    assert parse_now("2026-11-20", "Europe/Berlin") == datetime(2026, 11, 20, 23, 59, 59, tzinfo=berlin)
    assert parse_now("2026-11-20T09:30", "Europe/Berlin") == datetime(2026, 11, 20, 9, 30, tzinfo=berlin)
    assert parse_now("2026-11-20T09:30+00:00", "Europe/Berlin").utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_send_refused_after_data_exits_1_with_the_servers_answer(world_db: Path, tmp_path: Path) -> None:
    sink = Sink()
    sink.on_data = lambda got: "552 5.3.4 message too large"
    with SmtpServer(sink) as server:
        config = _config(world_db, tmp_path, server.port)
        result = CliRunner().invoke(main, ["report", "status", "--audience", "business", "--send", "-c", str(config),
                                           "--now", "2026-11-20T12:00:00+01:00"])
    assert result.exit_code == 1 and sink.messages == [] and sink.data_calls == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("syncd: error: smtp 127.0.0.1:") and line.endswith(
        "server refused the message after DATA: 552 5.3.4 message too large")
    [row] = ledger.delivery_rows(Store(f"sqlite:///{tmp_path / 'syncd.db'}"))
    assert row["status"] == "failed" and "552" in row["error"]


def test_teams_and_allocation_reach_the_report_and_an_unknown_team_is_one_line(world_db: Path,
                                                                                tmp_path: Path) -> None:
    config = _config(world_db, tmp_path)
    goals = (world_db / "goals.toml").read_text(encoding="utf-8")
    first = goals.index("[[goals]]", 1) if goals.count("[[goals]]") > 1 else len(goals)
    with_alloc = tmp_path / "goals.toml"
    with_alloc.write_text(goals[:first].replace("target_date", "allocation = 0.4\ntarget_date", 1) + goals[first:],
                          encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace(str(world_db / "goals.toml"), str(with_alloc))
    config.write_text(text + '\n[teams.web]\nprojects = ["WID"]\n', encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(main, ["report", "status", "--audience", "business", "-c", str(config),
                              "--now", "2026-11-20T12:00:00+01:00", "--format", "md"])
    assert ok.exit_code == 0, ok.output
    md = (tmp_path / "out" / "status-business.md").read_text(encoding="utf-8")
    assert "team web × 40% configured allocation" in md
    with_alloc.write_text(goals[:first].replace("target_date", 'team = "nobody"\ntarget_date', 1) + goals[first:],
                          encoding="utf-8")
    bad = runner.invoke(main, ["report", "status", "-c", str(config), "--now", "2026-11-20T12:00:00+01:00"])
    assert bad.exit_code == 2
    [line] = bad.output.strip().splitlines()
    assert line.startswith("syncd: error: goals: goal ") and line.endswith(
        "team: 'nobody' is neither a [teams] name nor a project or repository in the store")


@pytest.mark.parametrize("site", [None, "https://reports.example.com/syncd"])
def test_send_engineering_attaches_its_csv_or_with_a_report_site_links_it(
        world_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: str | None) -> None:
    import csv
    import io

    from syncd.reports.catalogue import status_engineering

    monkeypatch.setattr(status_engineering, "MAX_ROWS", 2)  # the world's themes overflow it: the report has a CSV
    sink = Sink()
    with SmtpServer(sink) as server:
        config = _config(world_db, tmp_path, server.port)
        if site is not None:
            config.write_text(config.read_text(encoding="utf-8").replace(
                "[reports]\n", f'[reports]\nbase_url = "{site}"\n'), encoding="utf-8")
        result = CliRunner().invoke(main, ["report", "status", "--audience", "engineering", "--send", "-c", str(config),
                                           "--now", "2026-11-20T12:00:00+01:00"])
    assert result.exit_code == 0, result.output
    [got] = sink.messages
    msg = email.message_from_bytes(got.data, policy=policy.default)
    html = msg.get_body(("html",)).get_content()
    total = int(re.search(r"All (\d+) signals are in", html).group(1))  # type: ignore[union-attr]
    attached = {p.get_filename(): p for p in msg.iter_attachments()}
    csv_name = "status-engineering-risks.csv"
    if site is None:
        part = attached[csv_name]
        assert part.get_content_type() == "text/csv"
        rows = list(csv.DictReader(io.StringIO(part.get_payload(decode=True).decode())))
        assert len(rows) == total and "attached to its email" in html
        assert f'href="{site}' not in html
    else:
        assert csv_name not in attached
        assert f'<a href="{site}/{csv_name}"' in html and "published beside this report" in html
        assert f"{site}/{csv_name}" in msg.get_body(("plain",)).get_content()  # the text part's link footnote
