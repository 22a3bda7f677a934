"""Secrets never leave syncd, and hostile text stays data.

Every secret is distinctive (`SECRET` in it) and configured where syncd really uses it: the sandbox's
Jira and GitHub accept only these tokens, the PostgreSQL URL carries a password, SMTP and the HTTP
service have theirs. Then `syncd sync` runs as a real process with debug JSON logs while the sandbox
injects errors, dropped connections, broken JSON and rate limits (so retries and error paths log),
plus `syncd config check`, `syncd db upgrade`, `syncd export` of every entity in both formats, a
source rejecting wrong tokens (401) and an unreachable database: no secret appears in any output or
file. The sandbox's hostile titles (HTML, Markdown, CR/LF header injection, non-Latin, emoji, very
long) come out of `syncd export` exactly as the sources sent them. (The HTTP service's 401s without or
with a wrong bearer token are proven in test_service.py.)
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncd.cli import main
from syncd.sandbox import Sandbox, start_sandbox
from syncd.sandbox._http import Faults
from syncd.sandbox.gen_text import ADVERSARIAL_TITLES
from syncd.sandbox.generate import generate_world
from syncd.store import ENTITIES

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
JIRA_TOKEN = "tok-SECRET-jira-123"
GITHUB_TOKEN = "ghp_SECRETgithub456" + "Zq9" * 7
PG_PASSWORD = "pgSECRETpw789"
SMTP_PASSWORD = "smtp-SECRET-pw-321"
SERVER_TOKEN = "srv-SECRET-bearer-654"
WRONG_JIRA, WRONG_GITHUB = "tok-SECRET-wrong-jira-000", "ghp_SECRETwrong" + "Xy7" * 8
SECRETS = [JIRA_TOKEN, GITHUB_TOKEN, PG_PASSWORD, SMTP_PASSWORD, SERVER_TOKEN, WRONG_JIRA, WRONG_GITHUB]
TOP = 'log_level = "debug"\nlog_format = "json"\n'
SETTINGS = f"""
[smtp]
host = "127.0.0.1"
username = "reports"
password = "{SMTP_PASSWORD}"

[server]
token = "{SERVER_TOKEN}"
"""


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    world = generate_world(seed=9, issues=150, now=NOW)
    world.jira.api_token, world.github.token = JIRA_TOKEN, GITHUB_TOKEN
    with start_sandbox(world=world) as running:
        yield running


def write_config(box: Sandbox, folder: Path, jira_token: str = JIRA_TOKEN, github_token: str = GITHUB_TOKEN) -> Path:
    """The sandbox's config with these tokens, debug JSON logs, SMTP and server secrets, quick retries and
    small pages (many requests for the faults to hit)."""
    text = box.config_toml(folder / "data").replace(JIRA_TOKEN, jira_token).replace(GITHUB_TOKEN, github_token)
    retry = '\nretry = { attempts = 12, max_wait_s = 1.0, total_s = 60.0 }\n'
    text = text.replace('type = "jira"\n', 'type = "jira"\npage_size = 10' + retry)
    text = text.replace('type = "github"\n', 'type = "github"\ngraphql_batch = 5' + retry)
    path = folder / "syncd.toml"
    path.write_text(TOP + text + SETTINGS, encoding="utf-8")
    return path


def syncd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncd", *args], capture_output=True, text=True, timeout=120)


def assert_no_secret(what: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{what} shows {secret!r}"


def exports(config: Path, folder: Path) -> dict[tuple[str, str], str]:
    """Every entity in both formats through `syncd export` (to a file; items also to stdout)."""
    runner = CliRunner()
    out: dict[tuple[str, str], str] = {}
    for entity in ENTITIES:
        for fmt in ("jsonl", "csv"):
            target = folder / f"{entity}.{fmt}"
            result = runner.invoke(main, ["export", "--config", str(config), "--entity", entity, "--format", fmt,
                                          "--output", str(target)])
            assert result.exit_code == 0, result.output
            assert_no_secret(f"export {entity} {fmt} messages", result.output)
            with target.open(encoding="utf-8", newline="") as fh:
                out[(entity, fmt)] = fh.read()
    shown = runner.invoke(main, ["export", "--config", str(config)])  # JSON lines escape CR/LF: stdout is the same
    assert shown.exit_code == 0 and shown.output == out[("items", "jsonl")]
    return out


@pytest.mark.slow
def test_no_secret_in_logs_errors_or_exports_of_a_sync_with_faults(box: Sandbox, tmp_path: Path) -> None:
    config = write_config(box, tmp_path)
    box.controls.set_faults(Faults(error_rate=0.1, drop_rate=0.05, malformed_rate=0.05, rate_limit_rate=0.05,
                                   retry_after_s=1, seed=4))
    try:
        synced = syncd("sync", "--config", str(config))
    finally:
        box.controls.set_faults(Faults())
    assert synced.returncode == 0, synced.stderr[-2000:]
    logs = [json.loads(line) for line in synced.stderr.splitlines()]  # every line on stderr is a JSON log entry
    retries = [entry["msg"] for entry in logs if "retrying" in entry["msg"]]
    assert {msg.split(":")[0] for msg in retries} == {"jira", "github"}, "the faults made both connectors retry"
    assert any("HTTP 5" in msg for msg in retries) and any("429" in msg or "rate limit" in msg for msg in retries)
    assert_no_secret("syncd sync", synced.stdout + synced.stderr)

    checked = syncd("config", "check", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    masked = json.loads(checked.stdout)
    assert masked["sources"]["jira"]["token"] == masked["smtp"]["password"] == masked["server"]["token"] == "**********"
    assert_no_secret("syncd config check", checked.stdout + checked.stderr)

    files = exports(config, tmp_path)
    assert all(files[(entity, "csv")] for entity in ENTITIES) and files[("items", "jsonl")].count("\n") == 150
    for (entity, fmt), text in files.items():
        assert_no_secret(f"export of {entity} as {fmt}", text)


def test_hostile_titles_come_out_of_export_exactly_as_sent(box: Sandbox, tmp_path: Path) -> None:
    config = write_config(box, tmp_path)
    synced = syncd("sync", "--config", str(config))
    assert synced.returncode == 0, synced.stderr[-2000:]
    files = exports(config, tmp_path)  # files as written, byte for byte (a CR inside a CSV field stays)
    rows = {row["key"]: row for row in map(json.loads, files[("items", "jsonl")].splitlines())}
    csv_rows = {row["key"]: row for row in csv.DictReader(io.StringIO(files[("items", "csv")], newline=""))}

    world = box.world
    sent = {issue["key"]: issue["fields"]["summary"] for issue in world.jira.issues.values()}
    for name, repo in world.github.repos.items():
        sent.update({f"{name}#{number}": issue["title"] for number, issue in repo.issues.items()})
    hostile = {key: title for key, title in sent.items() if title in ADVERSARIAL_TITLES}
    assert set(world.truth.extra["troubles"]["hostile_text"]) <= set(hostile)
    assert {"\r\n" in t for t in hostile.values()} == {True, False} and any("<script>" in t for t in hostile.values())
    for key, title in hostile.items():
        assert rows[key]["title"] == title, key
        assert csv_rows[key]["title"] == title, key
    labelled = [row for row in rows.values() if "needs: <triage>" in row["labels"]]
    assert labelled, "hostile labels are kept as they are too"


def test_a_source_rejecting_wrong_tokens_fails_without_showing_them(box: Sandbox, tmp_path: Path) -> None:
    config = write_config(box, tmp_path, jira_token=WRONG_JIRA, github_token=WRONG_GITHUB)
    failed = syncd("sync", "--config", str(config))
    assert failed.returncode == 1
    errors = [line for line in failed.stderr.splitlines() if line.startswith("syncd: error:")]
    assert len(errors) == 2 and all("401" in line for line in errors), failed.stderr[-2000:]
    assert errors[0].startswith(f"syncd: error: source jira ({box.jira_url}): ")
    assert errors[1].startswith(f"syncd: error: source github ({box.github_url}): bad credentials")
    assert_no_secret("a sync with wrong tokens", failed.stdout + failed.stderr)


def test_a_database_password_is_never_shown(box: Sandbox, tmp_path: Path) -> None:
    config = write_config(box, tmp_path)
    unreachable = f"postgresql+psycopg://syncd:{PG_PASSWORD}@127.0.0.1:1/nowhere"
    for args in (["sync"], ["db", "upgrade"], ["export", "--entity", "people"]):
        failed = syncd(*args, "--config", str(config), "--database-url", unreachable)
        assert failed.returncode == 1, failed.stderr
        lines = failed.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "syncd: error: cannot migrate database postgresql+psycopg://syncd:***@127.0.0.1:1/nowhere: "), lines
        assert_no_secret(f"syncd {' '.join(args)} on an unreachable database", failed.stdout + failed.stderr)
    with_url = tmp_path / "with-url.toml"
    with_url.write_text(f'database_url = "{unreachable}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    checked = syncd("config", "check", "--config", str(with_url))
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["database_url"] == "postgresql+psycopg://syncd:***@127.0.0.1:1/nowhere"
    assert_no_secret("syncd config check with a database URL", checked.stdout + checked.stderr)


@pytest.mark.slow
def test_a_sync_into_postgresql_with_a_password_shows_none(box: Sandbox, tmp_path: Path, pg_url: str) -> None:
    # trust auth accepts any password: the URL carries one as a real deployment's would
    url = pg_url.replace("://postgres@", f"://postgres:{PG_PASSWORD}@")
    assert PG_PASSWORD in url
    config = write_config(box, tmp_path)
    upgraded = syncd("db", "upgrade", "--config", str(config), "--database-url", url)
    assert upgraded.returncode == 0, upgraded.stderr
    synced = syncd("sync", "--config", str(config), "--database-url", url)
    assert synced.returncode == 0, synced.stderr[-2000:]
    assert_no_secret("syncd db upgrade and sync on PostgreSQL", upgraded.stdout + upgraded.stderr + synced.stdout
                     + synced.stderr)
