"""`syncd demo` end to end through the real CLI: sandbox, sync into SQLite, every report in every format."""

from __future__ import annotations

import email
import re
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from syncd.reporting import all_requests

NOW = "2026-11-20T12:00:00+00:00"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("demo") / "syncd-demo"
    proc = subprocess.run([sys.executable, "-m", "syncd", "demo", "--out", str(out), "--issues", "400",
                           "--now", NOW, "-q"], capture_output=True, text=True, timeout=240)
    return proc, out


def test_demo_exits_zero_and_prints_a_summary(demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo_run
    assert proc.returncode == 0, proc.stderr
    assert "synced jira: ok" in proc.stdout and "synced github: ok" in proc.stdout
    assert "Goals" in proc.stdout and "Top risks" in proc.stdout
    assert "127.0.0.1" in proc.stdout  # the sandbox, never a real service
    assert "report not produced" not in proc.stderr


def test_demo_summary_quotes_the_executive_reports_delivered_share(
        demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """The console's goal lines lead with % delivered, the same figure as the executive report's column."""
    proc, out = demo_run
    printed = dict(re.findall(r"^ +[A-Z]+ +(.+?): (\d+)% delivered \(\d+% done in Jira\)", proc.stdout, re.M))
    table = (out / "reports" / "status-executive.md").read_text()
    reported = dict(re.findall(r"^\| (.+?) \| [^|]+ \| (\d+)% \|", table, re.M))
    assert printed and printed == {title: pct for title, pct in reported.items() if title in printed}, (printed, reported)
    assert set(printed) == set(reported)


def test_demo_writes_every_report_kind_and_audience_in_every_format(
        demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo_run
    assert proc.returncode == 0, proc.stderr
    reports = out / "reports"
    md = sorted(p.name for p in reports.glob("*.md"))
    assert len(md) == len(all_requests())
    for kind, audience, _scope in all_requests():
        prefix = f"{kind}-{audience}" if audience else kind
        found = [name for name in md if name.startswith(prefix)]
        assert found, f"no Markdown for {kind} {audience}: {md}"
        stem = found[0].removesuffix(".md")
        html = (reports / f"{stem}.html").read_text(encoding="utf-8")
        assert "<script" not in html.lower()
        for src in [s.split('"')[0] for s in html.split('src="')[1:]]:
            assert (reports / src).is_file(), f"{stem}.html shows a missing image {src}"
        msg = email.message_from_bytes((reports / f"{stem}.eml").read_bytes(), policy=policy.default)
        assert msg["Subject"] and msg["Message-ID"] and msg["Date"]
        assert msg.get_body(preferencelist=("plain",)) is not None
    assert list(reports.glob("*.png")), "charts are written beside the Markdown"


def test_demo_config_and_goals_pass_config_check(demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo_run
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run([sys.executable, "-m", "syncd", "config", "check", "--config", str(out / "syncd.toml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "sandbox-jira-token" not in check.stdout  # secrets masked


def test_demo_rerun_starts_from_a_fresh_store(demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = demo_run
    again = subprocess.run([sys.executable, "-m", "syncd", "demo", "--out", str(out), "--issues", "400",
                            "--now", NOW, "-q"], capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr
    assert "0 updated" in again.stdout and "0 unchanged" in again.stdout  # everything new again: a fresh store


def test_demo_launch_readiness_names_its_sign_offs_and_go_no_go_roles(
        demo_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """The demo config names roles and sign-offs; the sandbox's history answers none of the sign-offs."""
    _, out = demo_run
    [md_path] = (out / "reports").glob("launch-readiness-*.md")
    md = md_path.read_text(encoding="utf-8")
    assert "| QA | Lee Park | ❌ no | not found | — | — |" in md
    assert "| Product Owner | Priya Raman | ❌ no | not found | — | — |" in md
    assert "| Sign-offs done | gate | ❌ fail | 2 of 2 sign-offs missing: QA (Lee Park), Product Owner (Priya Raman) |" in md
    assert "| Decides go/no-go | Morgan Lee |" in md and "| Monitors after the release | SRE rota |" in md
