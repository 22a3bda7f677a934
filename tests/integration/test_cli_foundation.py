"""The foundation commands as a user types them: exit codes, one-line errors, export streams."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.model import Batch, ItemKind, StatusCategory, WorkItem
from syncd.store import Store

CONFIG = """
[sources.acme]
type = "jira"
url = "https://acme.atlassian.net"
email = "pm@acme.test"
token = "cli-secret-token-123"
projects = ["WID"]
"""


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "syncd", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG)
    return path


def test_help_and_version(tmp_path: Path) -> None:
    out = run("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in ("config", "db", "sync", "export", "report", "run", "serve", "sandbox", "demo"):
        assert command in out.stdout
    assert run("--version", cwd=tmp_path).stdout.startswith("syncd, version ")
    for sub in (["config", "check"], ["db", "upgrade"], ["sync"], ["export"]):
        assert run(*sub, "--help", cwd=tmp_path).returncode == 0


def test_config_check_masks_secrets(cfg: Path) -> None:
    out = run("config", "check", "--config", str(cfg), cwd=cfg.parent)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["sources"]["acme"]["token"] == "**********"
    assert "cli-secret-token-123" not in out.stdout + out.stderr


def test_bad_config_exits_2_with_one_line(cfg: Path) -> None:
    cfg.write_text(CONFIG.replace('projects = ["WID"]', 'projects = ["wid"]'))
    out = run("config", "check", "--config", str(cfg), cwd=cfg.parent)
    assert out.returncode == 2
    assert out.stderr.strip() == "syncd: error: config: sources.acme.projects: 'wid' is not a Jira project key (upper-case letters and digits)"
    assert "Traceback" not in out.stderr
    out = run("sync", "--config", str(cfg.parent / "missing.toml"), cwd=cfg.parent)
    assert out.returncode == 2 and "file not found" in out.stderr
    out = run("sync", "--source", "nope", "--config", str(cfg.parent / "missing.toml"), "--bogus", cwd=cfg.parent)
    assert out.returncode == 2


def test_sync_unknown_source_is_config_error(cfg: Path) -> None:
    out = run("sync", "--config", str(cfg), "--source", "nope", cwd=cfg.parent)
    assert out.returncode == 2
    assert "no source named 'nope' (known: acme)" in out.stderr


def test_db_upgrade_and_env_database_url(cfg: Path) -> None:
    db = cfg.parent / "elsewhere.db"
    out = run("db", "upgrade", "--config", str(cfg), cwd=cfg.parent, env={"SYNCD_DATABASE_URL": f"sqlite:///{db}"})
    assert out.returncode == 0, out.stderr
    assert "at revision" in out.stdout and db.exists()


def test_export_jsonl_and_csv(cfg: Path) -> None:
    db = cfg.parent / "syncd-data" / "syncd.db"  # the default data_dir, relative to the config file
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    items = [
        WorkItem(id=f"acme:{n}", source="acme", source_type="jira", remote_id=str(n), key=f"WID-{n}",
                 project="WID", kind=ItemKind.TASK, title=f"Title, with \"quotes\" {n}", status="Done",
                 status_category=StatusCategory.DONE, labels=["a", "b"], created=now, updated=now)
        for n in range(1, 6)
    ]
    store.apply_batch("acme", Batch(items=items))
    out = run("export", "--config", str(cfg), "--format", "jsonl", cwd=cfg.parent)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["key"] for r in rows] == [f"WID-{n}" for n in range(1, 6)]
    assert rows[0]["labels"] == ["a", "b"] and rows[0]["created"] == "2026-11-20T00:00:00+00:00"
    assert "raw" not in rows[0] and "content_hash" not in rows[0]
    out = run("export", "--config", str(cfg), "--format", "csv", "--entity", "items", cwd=cfg.parent)
    parsed = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(parsed) == 5 and parsed[0]["title"] == 'Title, with "quotes" 1'
    assert json.loads(parsed[0]["labels"]) == ["a", "b"]
    target = cfg.parent / "out.jsonl"
    out = run("export", "--config", str(cfg), "--entity", "transitions", "-o", str(target), cwd=cfg.parent)
    assert out.returncode == 0 and target.read_text() == "" and "wrote 0 transitions" in out.stderr


# The modules a quiet poll must not load: the analysis (numpy, every rule, the store's snapshot readers
# for reports), rendering and plotting. settings holds `[reports.thresholds]` through the leaf
# syncd.reports.thresholds, so `syncd sync` pays only for what syncing uses (issue 18 item 3).
REPORT_ONLY = ("syncd.reports.analysis", "syncd.reports.render", "syncd.reports.report", "numpy", "matplotlib", "jinja2")
LOADED_AT_EXIT = """
import atexit, json, sys
atexit.register(lambda: print("LOADED " + json.dumps(sorted(sys.modules)), file=sys.stderr))
from syncd.cli import run
sys.argv = ["syncd", *sys.argv[1:]]
run()
"""


def test_quiet_poll_loads_no_report_modules(tmp_path: Path) -> None:
    from syncd.sandbox import github as gh_sandbox
    from syncd.sandbox._http import Controls
    from tests.integration.test_sandbox_github import TOKEN, make_world

    server = gh_sandbox.serve_github(make_world(issues=3, pulls=2), Controls())
    try:
        cfg = tmp_path / "syncd.toml"
        cfg.write_text(f'data_dir = "{tmp_path / "data"}"\n\n[sources.gh]\ntype = "github"\n'
                       f'base_url = "{server.url}"\ntoken = "{TOKEN}"\nrepos = ["acme/widget"]\n')
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
        polls = [subprocess.run([sys.executable, "-c", LOADED_AT_EXIT, "sync", "--config", str(cfg)], cwd=tmp_path,
                                env=full_env, capture_output=True, text=True, timeout=120) for _ in range(2)]
    finally:
        server.stop()
    first, quiet = polls
    assert first.returncode == 0 and quiet.returncode == 0, first.stderr + quiet.stderr
    assert "gh: ok: 5 new" in first.stdout  # 3 issues + 2 pull requests: the poll after it had a store to check
    assert "gh: ok: 0 new, 0 updated, 0 removed" in quiet.stdout, quiet.stdout
    loaded = json.loads(quiet.stderr.split("LOADED ", 1)[1])
    assert "syncd.sync" in loaded and "syncd.store" in loaded  # it did sync
    assert [m for m in loaded if m.split(".")[0] in REPORT_ONLY or m.startswith(REPORT_ONLY)] == []
    assert [m for m in loaded if m.startswith("sqlalchemy.dialects.postgresql")] == []  # a SQLite store
    assert [m for m in loaded if m.split(".")[0] in ("prometheus_client", "croniter")] == []  # the daemon's
