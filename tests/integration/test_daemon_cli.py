"""The one-shot and daemon commands in-process (click's runner): `syncd sync` per-source locks and
exit codes, `syncd run --once`, `syncd health`, JSON logs with secrets redacted."""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from syncd.cli import main
from syncd.health import write_health
from syncd.locks import source_lock
from syncd.logs import configure, register_secrets_of
from syncd.sandbox import github as gh_sandbox
from syncd.sandbox._http import Controls
from syncd.settings import load_settings
from syncd.store import Store
from syncd.store import _daemon as ledger
from tests.daemon_process import write_config
from tests.integration.test_sandbox_github import TOKEN, make_world
from tests.smtp_sink import Sink, SmtpServer


@pytest.fixture(scope="module")
def github() -> Iterator[str]:
    server = gh_sandbox.serve_github(make_world(issues=5, pulls=5), Controls())
    yield server.url
    server.stop()


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SYNCD_ variables from the caller; the commands' signal handlers and log handler undone."""
    for var in list(__import__("os").environ):
        if var.startswith("SYNCD_"):
            monkeypatch.delenv(var)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    for h in list(logging.getLogger().handlers):
        if getattr(h, "_syncd", False):
            logging.getLogger().removeHandler(h)


def source(url: str, token: str = TOKEN) -> dict[str, Any]:
    return {"type": "github", "base_url": url, "token": token, "repos": ["acme/widget"]}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_sync_skips_a_source_another_process_syncs_and_exits_by_outcome(tmp_path: Path, github: str) -> None:
    cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path / "data")},
                       tables={"sources.gh": source(github), "sources.gh2": source(github)}, schedule=[])
    settings = load_settings(cfg)
    store = Store(settings.db_url)
    store.upgrade()
    with source_lock(settings, store, "sync-gh2"):  # an overlapping cron run is syncing gh2
        loud = invoke("sync", "--config", str(cfg))
        quiet = invoke("sync", "-q", "--config", str(cfg))
    assert loud.exit_code == 0, loud.output
    synced, busy = loud.stdout.splitlines()
    assert synced.startswith("gh: ok: 10 new, 0 updated, 0 removed, 0 unchanged; ")
    assert busy == "gh2: skipped: another syncd process is syncing it right now"
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert {r["source"] for r in store.sync_runs()} == {"gh"}

    broken = write_config(tmp_path / "broken.toml", top={"data_dir": str(tmp_path / "data")},
                          tables={"sources.gh": source(github), "sources.bad": source(github, "wrong-token")},
                          schedule=[])
    failed = invoke("sync", "-q", "--config", str(broken))
    assert failed.exit_code == 1 and failed.stdout == ""
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("syncd: error: source bad (") and "401" in line and "wrong-token" not in line


def test_run_once_sends_what_is_due_exactly_once(tmp_path: Path, github: str) -> None:
    sink = Sink()
    with SmtpServer(sink) as smtp:
        cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path / "data"), "log_format": "json"}, tables={
            "sources.gh": source(github),
            "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "sender": "syncd@acme.test"},
            "reports.recipients": {"executive": ["ceo@acme.test"]},
        }, schedule=[{"name": "exec", "cron": "0 9 * * 1", "job": "report", "kind": "status",
                      "audience": "executive", "sync_first": True}])
        # a Monday after the sandbox world's items exist (a report replays the store to its slot's time)
        args = ["run", "--once", "--config", str(cfg), "--clock-start", "2026-11-23T09:10:00+00:00"]
        first = invoke(*args)
        again = invoke(*args)
    assert first.exit_code == 0 and again.exit_code == 0, first.output
    assert len(sink.messages) == 1
    assert sink.messages[0].message["X-Syncd-Slot"] == "exec 2026-11-23T09:00:00+00:00"
    logs = [json.loads(line) for line in first.stderr.splitlines()]
    assert {"ts", "level", "logger", "msg"} <= set(logs[0])
    assert any(entry["msg"].startswith("exec: sent ") for entry in logs)
    assert TOKEN not in first.stderr
    store = Store(load_settings(cfg).db_url)
    assert [(s.job, s.state) for s in ledger.slot_rows(store)] == [("exec", "done")]
    assert [r["source"] for r in store.sync_runs()] == ["gh"]  # sync_first synced before generating


def test_deliveries_lists_an_uncertain_slot_and_resend_sends_it_with_the_same_message_id(
        tmp_path: Path, github: str) -> None:
    """Issue 19 item 6, by hand: hold (the default) keeps the slot uncertain until an operator resends it."""
    sink = Sink()
    sink.on_data = lambda got: "drop" if sink.data_calls == 1 else None  # the first hand-over's answer is lost
    slot = "exec@2026-11-23T09:00:00+00:00"
    with SmtpServer(sink) as smtp:
        cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path / "data")}, tables={
            "sources.gh": source(github),
            "smtp": {"host": "127.0.0.1", "port": smtp.port, "security": "none", "sender": "syncd@acme.test"},
            "reports.recipients": {"executive": ["ceo@acme.test", "cfo@acme.test"]},
        }, schedule=[{"name": "exec", "cron": "0 9 * * 1", "job": "report", "kind": "status",
                      "audience": "executive", "sync_first": True}])
        ran = invoke("run", "--once", "--config", str(cfg), "--clock-start", "2026-11-23T09:10:00+00:00")
        assert ran.exit_code == 0 and len(sink.messages) == 1, ran.output
        listed = invoke("deliveries", "--uncertain", "--config", str(cfg))
        assert listed.exit_code == 0, listed.output
        [line] = listed.stdout.strip().splitlines()
        first_id = str(sink.messages[0].message["Message-ID"])
        assert line.startswith(f"uncertain {slot}  status/executive  2 recipient(s)  {first_id}  (smtp "), line
        assert "connection lost during DATA" in line
        as_json = json.loads(invoke("deliveries", "--uncertain", "--json", "--config", str(cfg)).stdout)
        assert as_json["slot"] == slot and as_json["attempts"] == 1 and as_json["message_id"] == first_id

        resent = invoke("deliveries", "resend", slot, "--config", str(cfg))
        assert resent.exit_code == 0, resent.output
        assert resent.stdout.strip() == f"sent {first_id} to 2 recipient(s): {slot}"
        again = invoke("deliveries", "resend", slot, "--config", str(cfg))
        unknown = invoke("deliveries", "resend", "exec@2026-11-30T09:00:00+00:00", "--config", str(cfg))
        garbled = invoke("deliveries", "resend", "exec-monday", "--config", str(cfg))
        log = invoke("deliveries", "--config", str(cfg))
    assert [str(m.message["Message-ID"]) for m in sink.messages] == [first_id, first_id]
    assert [m.recipients for m in sink.messages] == [["ceo@acme.test", "cfo@acme.test"]] * 2
    store = Store(load_settings(cfg).db_url)
    [row] = ledger.slot_rows(store)
    assert (row.state, row.attempts) == ("done", 2)
    assert [d["status"] for d in ledger.delivery_rows(store)] == ["sent", "uncertain"]
    store.close()
    assert invoke("deliveries", "--uncertain", "--config", str(cfg)).stdout == ""
    assert [ln.split()[0] for ln in log.stdout.strip().splitlines()] == ["sent", "uncertain"]
    assert (again.exit_code, again.stderr.strip()) == (2, f"syncd: error: deliveries: slot {slot} is done, not "
                                                          "uncertain: only an uncertain delivery is resent")
    assert (unknown.exit_code, unknown.stderr.strip()) == (2, "syncd: error: deliveries: no slot "
                                                              "exec@2026-11-30T09:00:00+00:00 (see `syncd deliveries --uncertain`)")
    assert garbled.exit_code == 2 and garbled.stderr.strip().startswith(
        "syncd: error: deliveries: 'exec-monday' is not a slot: write JOB@TIME")
    assert len(sink.messages) == 2


def test_run_needs_a_schedule_and_checks_it(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path)}, tables={}, schedule=[])
    result = invoke("run", "--config", str(cfg))
    assert result.exit_code == 2 and result.stderr.strip() == (
        "syncd: error: config: no [[schedule]] entries: nothing for `syncd run` to do")
    bad = write_config(tmp_path / "bad.toml", top={"data_dir": str(tmp_path)}, tables={}, schedule=[
        {"name": "x", "cron": "0 9 * * 1", "job": "report", "kind": "status", "audience": "executive"}])
    result = invoke("run", "--config", str(bad))
    assert result.exit_code == 2 and result.stderr.strip() == (
        "syncd: error: config: schedule 'x': no recipients (set the entry's recipients or reports.recipients.executive)")


def test_what_run_would_trip_over_fails_config_check_and_run_alike(tmp_path: Path, github: str) -> None:
    """Issue 19 item 7: one line, exit 2, from `config check` and from `syncd run`, never a traceback."""
    good = {"data_dir": str(tmp_path)}
    cases = [
        ({**good}, {"sources.gh": source(github)}, [{"name": "feb", "cron": "0 9 31 2 *", "job": "sync"}],
         "config: schedule.0.cron: cron '0 9 31 2 *' never fires (no such date, e.g. 31 February)"),
        ({**good}, {"sources.gh": source(github), "reports": {"subject": "{title} {weekday}"}},
         [{"name": "s", "cron": "0 9 * * 1", "job": "sync"}],
         "config: reports.subject: unknown field {weekday} (known: {title}, {date}, {kind}, {audience})"),
        ({**good, "database_url": "postgresql://syncd:pg-SECRET@db:port/x"}, {"sources.gh": source(github)},
         [{"name": "s", "cron": "0 9 * * 1", "job": "sync"}],
         "config: database_url: not a database URL (e.g. postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME or "
         "sqlite:///PATH)"),
        ({**good}, {"sources.gh": source(github.replace("http://", "http://me:gh-SECRET@"))},
         [{"name": "s", "cron": "0 9 * * 1", "job": "sync"}],
         "config: sources.gh.base_url: must not hold a user name or password (user:password@host): set sources.gh.token "
         "instead (best from SYNCD_SOURCES__GH__TOKEN), or a GitHub App's app_id, private_key and installation_id"),
        ({**good}, {"sources.gh": source(github), "daemon": {"serve": True}},
         [{"name": "s", "cron": "0 9 * * 1", "job": "sync"}],
         "config: server.token: required when daemon.serve is true (every route but /healthz needs it)"),
    ]
    for i, (top, tables, schedule, line) in enumerate(cases):
        cfg = write_config(tmp_path / f"case{i}.toml", top=top, tables=tables, schedule=schedule)
        for command in (["config", "check"], ["run", "--once"]):
            result = invoke(*command, "--config", str(cfg))
            assert result.exit_code == 2, (command, result.output)
            assert result.stderr.strip().splitlines() == [f"syncd: error: {line}"], (command, result.stderr)
            assert "SECRET" not in result.output


def test_the_scheduler_keeps_running_other_entries_when_a_cron_cannot_be_evaluated(
        tmp_path: Path, github: str, caplog: pytest.LogCaptureFixture) -> None:
    """Settings built around validation (a library caller): the broken entry idles, logged once."""
    from datetime import UTC, datetime

    from syncd.clock import FastClock
    from syncd.scheduler import Scheduler
    from syncd.settings_sections import ScheduleEntry

    cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path)}, tables={"sources.gh": source(github)},
                       schedule=[{"name": "hourly", "cron": "0 * * * *", "job": "sync"}])
    settings = load_settings(cfg)
    never = ScheduleEntry.model_construct(**{**settings.schedule[0].model_dump(), "name": "feb", "cron": "0 9 31 2 *"})
    settings.schedule.insert(0, never)
    store = Store(settings.db_url)
    store.upgrade()
    start = datetime(2026, 11, 20, 9, 59, 58, tzinfo=UTC)
    scheduler = Scheduler(settings, store, clock=FastClock(start, speed=1.0))
    scheduler.started_at = start
    assert scheduler.next_wake(start) == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert scheduler.due(datetime(2026, 11, 20, 10, 0, 30, tzinfo=UTC))[0][1].key == "hourly/gh"
    broken = [r.getMessage() for r in caplog.records if "schedule feb" in r.getMessage()]
    assert broken == ["schedule feb: cron '0 9 31 2 *' never fires (no such date, e.g. 31 February); "
                      "its jobs do not run, the other schedules do"]
    store.close()


def test_health_reports_the_heartbeat(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path)}, tables={}, schedule=[])
    missing = invoke("health", "--config", str(cfg))
    assert missing.exit_code == 1 and "no heartbeat in" in missing.stderr
    from datetime import UTC, datetime

    write_health(tmp_path / "daemon.health", replica="r1", now=datetime.now(UTC))
    ok = invoke("health", "--config", str(cfg))
    assert ok.exit_code == 0 and ok.stdout.startswith("ok: replica r1 beat ")
    data = json.loads((tmp_path / "daemon.health").read_text())
    data["written"] = time.time() - 3600
    (tmp_path / "daemon.health").write_text(json.dumps(data))
    stale = invoke("health", "--config", str(cfg))
    assert stale.exit_code == 1 and "last heartbeat of replica r1 was 3600s ago" in stale.stderr


def test_registered_secrets_never_reach_a_log_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "syncd.toml", top={"data_dir": str(tmp_path)}, tables={
        "smtp": {"username": "mailer", "password": "smtp-pass-8f3k2"}, "server": {"token": "srv-token-77aa"}},
        schedule=[])
    register_secrets_of(load_settings(cfg))
    configure(fmt="json")
    logging.getLogger("syncd.test").warning("login with smtp-pass-8f3k2 failed; token srv-token-77aa")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["msg"] == "login with ********** failed; token **********"
