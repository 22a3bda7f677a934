"""`syncd releases` as a user types it: the joins listed with their parts, a bad map entry exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from syncd.model import (
    Batch,
    ItemKind,
    Link,
    LinkKind,
    PullRequest,
    PullState,
    Release,
    ReleaseKind,
    StatusCategory,
    WorkItem,
)
from syncd.store import Store

CONFIG = """
[sources.jira]
type = "jira"
url = "https://acme.atlassian.net"
email = "pm@acme.test"
token = "t"
projects = ["WID"]

[sources.gh]
type = "github"
token = "t"
repos = ["acme/widget"]
jira_projects = ["WID"]
"""

AT = datetime(2026, 11, 20, tzinfo=UTC)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    return subprocess.run([sys.executable, "-m", "syncd", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'syncd-data' / 'syncd.db'}")
    store.upgrade()
    rel = [
        Release(id="jira:version:1", source="jira", remote_id="1", kind=ReleaseKind.VERSION, project="WID",
                name="Widget 2.6", due=date(2026, 11, 23), url="https://acme.atlassian.net/versions/1"),
        Release(id="jira:version:2", source="jira", remote_id="2", kind=ReleaseKind.VERSION, project="WID",
                name="Widget 2.7"),
    ]
    gh_rel = [
        Release(id="gh:milestone:acme/widget:7", source="gh", remote_id="7", kind=ReleaseKind.MILESTONE,
                project="acme/widget", name="v2.6", url="https://github.com/acme/widget/milestone/7"),
        Release(id="gh:release:acme/widget:9", source="gh", remote_id="9", kind=ReleaseKind.RELEASE,
                project="acme/widget", name="Widget 2.6", tag="v2.6.0", draft=True,
                url="https://github.com/acme/widget/releases/tag/v2.6.0"),
        Release(id="gh:milestone:acme/widget:8", source="gh", remote_id="8", kind=ReleaseKind.MILESTONE,
                project="acme/widget", name="Autumn train"),
    ]
    item = WorkItem(id="jira:1", source="jira", source_type="jira", remote_id="1", key="WID-1", project="WID",
                    kind=ItemKind.STORY, title="A story", status="Done", status_category=StatusCategory.DONE,
                    created=AT, updated=AT, release_ids=["jira:version:1"])
    pr = WorkItem(id="gh:5", source="gh", source_type="github", remote_id="5", key="acme/widget#5",
                  project="acme/widget", kind=ItemKind.PULL_REQUEST, title="WID-1 done", status="closed",
                  status_category=StatusCategory.DONE, created=AT, updated=AT)
    store.apply_batch("jira", Batch(items=[item], releases=rel))
    store.apply_batch("gh", Batch(items=[pr], releases=gh_rel,
                                  pulls=[PullRequest(item_id="gh:5", state=PullState.MERGED, merged_at=AT)],
                                  links=[Link(from_id="gh:5", kind=LinkKind.IMPLEMENTS, to_key="WID-1")]))
    store.close()


def test_releases_lists_joins_and_map(tmp_path: Path) -> None:
    _store(tmp_path)
    cfg = tmp_path / "syncd.toml"
    cfg.write_text(CONFIG)
    out = run("releases", "--config", str(cfg), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "pair: acme/widget -> WID"
    head = lines.index("jira:version:1\tWidget 2.6\tpre-release due 2026-11-23\t[version 2.6 of WID (acme/widget)]")
    assert lines[head + 1].split() == ["version", "WID", "Widget", "2.6", "https://acme.atlassian.net/versions/1"]
    assert lines[head + 2].split() == ["milestone", "acme/widget", "v2.6", "https://github.com/acme/widget/milestone/7"]
    assert lines[head + 3].split()[:4] == ["release", "acme/widget", "v2.6.0", "(draft)"]
    assert "gh:milestone:acme/widget:8\tAutumn train\tplanned\t[unmatched (no version number in its name)]" in lines
    assert "3 release(s) from 5 part(s)" in out.stderr

    cfg.write_text(CONFIG + '\n[[releases.map]]\njira_project = "WID"\njira_version = "Widget 2.7"\n'
                            'repo = "acme/widget"\nmilestone = "Autumn train"\n')
    out = run("releases", "--config", str(cfg), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "jira:version:2\tWidget 2.7\tplanned\t[releases.map[1]]" in out.stdout.splitlines()
    assert "2 release(s) from 5 part(s)" in out.stderr

    cfg.write_text(CONFIG + '\n[[releases.map]]\njira_project = "WID"\njira_version = "Widget 9"\n'
                            'repo = "acme/widget"\nmilestone = "Autumn train"\n')
    out = run("releases", "--config", str(cfg), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == "syncd: error: config: releases.map[1]: no Jira version 'Widget 9' in WID"

    cfg.write_text(CONFIG + '\n[[releases.map]]\njira_project = "WID"\njira_version = "Widget 2.7"\n')
    out = run("config", "check", "--config", str(cfg), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == ("syncd: error: config: releases.map.0: a map entry joins at least two parts "
                                  "(jira_version, milestone, tags)")


def test_config_check_validates_delivery_conventions(tmp_path: Path) -> None:
    cfg = tmp_path / "syncd.toml"
    for body, line in (
        ('[delivery]\nhotfix_pattern = "("\n', "syncd: error: config: delivery.hotfix_pattern: '(' is not a regular "
                                                "expression: missing ), unterminated subpattern at position 0"),
        ("[delivery]\nchange_failure_window_days = 0\n", "syncd: error: config: delivery.change_failure_window_days: "
                                                         "Input should be greater than or equal to 1"),
        ('[delivery]\nincident_kinds = ["incident"]\n', "syncd: error: config: delivery.incident_kinds.0: Input should "
                                                         "be 'epic', 'story', 'task', 'bug', 'subtask' or 'issue'"),
    ):
        cfg.write_text(CONFIG + body)
        out = run("config", "check", "--config", str(cfg), cwd=tmp_path)
        assert (out.returncode, out.stderr.strip()) == (2, line)
