"""The generated history, synced through the real connectors and analysed by the real risk rules:
every rule fires, and on the items the scenario made for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.reporting import load_context
from syncd.reports.analysis.risk_rules import RULES
from syncd.sandbox import start_sandbox
from syncd.settings import load_settings
from syncd.store import Store
from syncd.sync import sync_all

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def goals_toml(extra: dict) -> str:
    behind = next(e for e in extra["epics"] if e["key"] in extra["troubles"]["goal_behind"])
    upcoming = min((v for v in extra["versions"] if v["project"] == "WID" and v["target_date"] and not v["released"]
                    and not v["overdue"]), key=lambda v: v["target_date"])
    return f"""
[[goals]]
id = "mobile-checkout"
title = "{behind['title']}"
objective = "Lift mobile conversion"
problem = "Mobile shoppers abandon checkout"
owner = "Dana"
target_date = {behind['target_date']}
[goals.metric]
name = "Conversion"
unit = "%"
baseline = 1.8
target = 3.0
value = 2.0
value_date = 2026-11-01
[goals.scope]
epics = ["{behind['key']}"]

[[goals]]
id = "next-release"
title = "Ship {upcoming['title']}"
objective = "Deliver the release"
problem = "Customers wait for it"
owner = "Marco"
target_date = {upcoming['target_date']}
[goals.metric]
name = "Release scope done"
unit = "%"
baseline = 0
target = 100
computed = "percent-done"
[goals.scope]
projects = ["WID"]
fix_versions = ["{upcoming['title']}"]
"""


@pytest.mark.slow
def test_every_risk_rule_fires_on_the_generated_history(tmp_path: Path) -> None:
    with start_sandbox(seed=21, issues=600, now=NOW) as box:
        (tmp_path / "goals.toml").write_text(goals_toml(box.world.truth.extra))
        config = box.write_config(tmp_path / "syncd.toml", data_dir="data")
        config.write_text(config.read_text() + '\n[reports]\ngoals_file = "goals.toml"\n')
        settings = load_settings(config)
        store = Store(settings.db_url)
        store.upgrade()
        try:
            assert all(r.ok for r in sync_all(settings, store))
            analysis = load_context(settings, store, now=NOW).analysis
        finally:
            store.close()
        troubles = box.world.truth.extra["troubles"]
    fired: dict[str, set[str]] = {}
    for risk in analysis.risks:
        fired.setdefault(risk.rule, set()).update(ref.key for ref in risk.evidence.items)
    assert set(fired) == set(RULES)
    for rule, trouble in [("stale-work", "stale_in_progress"), ("aging-wip", "aging_work_in_progress"),
                          ("carry-over", "carried_over"), ("missing-acceptance", "missing_acceptance_criteria"),
                          ("unassigned-in-sprint", "unassigned_in_active_sprint"),
                          ("blocked", "blocked_by_later_sprint"), ("blocked", "blocked_by_other_project")]:
        assert set(troubles[trouble]) & fired[rule], (rule, troubles[trouble], fired[rule])
