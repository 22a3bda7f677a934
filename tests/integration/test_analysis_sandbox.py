"""Analysis on the sandbox's generated history, synced the real way (fake Jira and GitHub servers,
real connectors, SQLite): every risk rule fires somewhere, and the figures hang together."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from syncd.checks import check_settings
from syncd.reports.analysis import RULES, analyse
from syncd.reports.analysis.types import Analysis
from syncd.reports.data import load_snapshot
from syncd.reports.goals import load_goals_file
from tests.reports_sandbox import NOW, SandboxStore, build_sandbox_store


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    return build_sandbox_store(tmp_path_factory.mktemp("analysis-sandbox"))


@pytest.fixture(scope="module")
def analysis(sandbox: SandboxStore) -> Analysis:
    plan = load_goals_file(sandbox.goals_file)
    return analyse(load_snapshot(sandbox.store), plan.goals, sandbox.settings.reports, NOW, capacity=plan.capacity)


def test_every_rule_fires_on_the_generated_history(analysis: Analysis) -> None:
    fired = Counter(r.rule for r in analysis.risks)
    assert set(fired) == set(RULES), f"rules that never fired: {sorted(set(RULES) - set(fired))}"
    for risk in analysis.risks:
        assert risk.title and risk.mitigation and risk.evidence.numbers, risk


def test_figures_hang_together(analysis: Analysis, sandbox: SandboxStore) -> None:
    assert [g.goal.id for g in analysis.goals] == ["checkout", "customer-requests", "gadget-alerts"]
    for g in analysis.goals:
        c = g.progress.counts
        assert c.items_total > 0
        assert g.progress.burnup[-1].scope_items == c.items_total
        assert g.progress.burnup[-1].done_items == c.items_done
        assert g.forecast.done == (c.items_done == c.items_total)
        assert g.status.reason
        assert set(g.risks) <= set(analysis.risks)
    active = [s for s in analysis.sprints if s.sprint.state == "active"]
    assert active and all(s.committed for s in active)
    wid = next(s for s in active if s.sprint.board == "WID board")
    assert wid.capacity_points == 40 and wid.commitment_basis == "capacity"
    assert analysis.flow.overall.cycle_time_days is not None and analysis.flow.pulls.merged > 0


def test_config_check_accepts_the_goals_against_the_synced_store(sandbox: SandboxStore) -> None:
    settings = sandbox.settings.model_copy(update={"database_url": sandbox.store.url})
    assert check_settings(settings) == []
    assert Path(sandbox.goals_file).is_file()
