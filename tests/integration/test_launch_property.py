"""A launch sign-off answered by a Jira issue property, end to end: the property set through the real
`jira` client (PUT /rest/api/3/issue/{key}/properties/{propertyKey}, as on Jira Cloud), `syncd sync` (a
real process) fetching it with the search it makes anyway, and `syncd report launch-readiness` showing
the role signed with the property's date. The stored value is read back with plain SQL, and the sync's
requests are counted against the same sync without a sign-off property: the same number.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from jira import JIRA

from syncd.sandbox import start_sandbox

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
VALUE = {"qa": {"by": "Ana Silva", "at": "2026-11-18"}}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    return subprocess.run([sys.executable, "-m", "syncd", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_sign_off_set_as_an_issue_property_is_synced_and_reported_at_no_extra_request(tmp_path: Path) -> None:
    with start_sandbox(seed=7, issues=150, now=NOW) as box:
        # an issue of an unreleased fix version carries the checklist property
        issues = sorted(box.world.jira.issues.values(), key=lambda p: int(p["id"]))
        carrier = next(p for p in issues if any(not v.get("released") for v in p["fields"].get("fixVersions") or []))
        release = next(v["name"] for v in carrier["fields"]["fixVersions"] if not v.get("released"))
        client = JIRA(server=box.jira_url, basic_auth=(box.world.jira.email, box.world.jira.api_token))
        put = client.add_issue_property(carrier["key"], "release-signoff", VALUE)
        assert put.status_code == 201
        assert client.issue_property(carrier["key"], "release-signoff").raw == {"key": "release-signoff", "value": VALUE}

        requests: dict[str, Counter[str]] = {}
        said: dict[str, list[str]] = {}
        for name, extra in (("plain", ""), ("signoff", 'sign_off_property = "release-signoff"\n')):
            config = tmp_path / f"{name}.toml"
            config.write_text(box.config_toml(tmp_path / name) + f"""
[reports]
timezone = "America/Los_Angeles"
[releases]
{extra}[releases.sign_offs]
QA = "Lee Park"
Security = "Bo Chen"
[releases.checklist]
"{release}" = "{carrier['key']}"
""", encoding="utf-8")
            before = Counter(box.controls.stats()["requests"])
            done = run("sync", "--config", str(config), "--source", "jira", cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            requests[name] = Counter(box.controls.stats()["requests"]) - before
            said[name] = re.findall(r"^jira: ok: .*; (\d+) requests in ", done.stdout + done.stderr, re.M)
        # the property rides on the search pages: the same requests, endpoint by endpoint, and as syncd counts them
        assert requests["signoff"] == requests["plain"] and requests["plain"]["jira search_jql"] >= 1
        assert said["signoff"] == said["plain"] and len(said["plain"]) == 1
        # serverInfo, /field, /issuetype, one search page, boards, sprints and versions (2 each); "jira *": all served
        assert int(said["plain"][0]) == requests["plain"]["jira *"] == 10

    db = sqlite3.connect(tmp_path / "signoff" / "syncd.db")
    stored = dict((k, json.loads(v)) for k, v in db.execute("select key, properties from items where source = 'jira'"))
    assert stored[carrier["key"]] == {"release-signoff": VALUE}
    assert sum(1 for v in stored.values() if v) == 1  # no other issue has it
    plain = sqlite3.connect(tmp_path / "plain" / "syncd.db")
    assert {v for (v,) in plain.execute("select properties from items")} == {"{}"}  # not asked for: none stored
    url = db.execute("select url from items where key = ?", (carrier["key"],)).fetchone()[0]

    out = tmp_path / "out"
    done = run("report", "launch-readiness", "--config", str(tmp_path / "signoff.toml"), "--scope", release,
               "--now", NOW.isoformat(), "--format", "md", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    md = next(out.glob("launch-readiness*.md")).read_text(encoding="utf-8")
    link = f"[{carrier['key']}]({url})"
    # a date without a time is that day in Los Angeles too (read as noon UTC)
    assert (f"| QA | Lee Park | ✅ yes | issue property release-signoff (by Ana Silva) on {link} | 2026-11-18 | "
            "the property's 'at' |") in md
    assert re.search(r"^\| Security \| Bo Chen \| ❌ no \| not found \| — \| — \|$", md, re.M)
    assert "not synced" not in md.split("## Sign-offs", 1)[1].split("\n## ", 1)[0]
