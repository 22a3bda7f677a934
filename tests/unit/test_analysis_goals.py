"""Goals file validation, risk-rule settings, and goal scopes checked against the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.checks import check_goals, check_settings
from syncd.errors import ConfigError
from syncd.model import Batch, ItemKind, Release, ReleaseKind
from syncd.reports.analysis import rule_configs
from syncd.reports.analysis.scope import items_of_kind, matching_items, select_items
from syncd.reports.goals import Selector, load_goals, load_goals_file
from syncd.settings import load_settings
from syncd.store import Store
from tests.unit.analysis_factories import Plan

ROOT = Path(__file__).resolve().parents[2]

GOAL = """
[[goals]]
id = "onboarding"
title = "Onboarding"
objective = "Grow conversion"
problem = "Setup needs a call"
owner = "Dana"
target_date = 2026-09-30
[goals.metric]
name = "Self-serve setups"
unit = "%"
baseline = 41
target = 70
value = 48
value_date = 2026-06-01
[goals.scope]
projects = ["WID"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "goals.toml"
    path.write_text(text)
    return path


def test_example_goals_file_is_valid() -> None:
    gf = load_goals_file(ROOT / "config" / "goals.example.toml")
    assert [g.id for g in gf.goals] == ["self-serve-onboarding", "customer-bugs"]
    assert gf.goals[1].metric.computed == "open-bugs"
    assert gf.capacity[1].sprint == "WID Sprint 12" and gf.capacity[1].points == 28


def test_valid_goal_loads(tmp_path: Path) -> None:
    [g] = load_goals(write(tmp_path, GOAL))
    assert g.id == "onboarding" and g.scope.projects == ("WID",) and g.metric.value == 48


@pytest.mark.parametrize(("change", "expected"), [
    (('value = 48\n', 'value = 48\ncomputed = "open-bugs"\n'), "goal onboarding: metric: give exactly one of value"),
    (('value_date = 2026-06-01\n', ''), "goal onboarding: metric: value_date is required"),
    (('projects = ["WID"]', ''), "goal onboarding: scope: empty selector"),
    (('projects = ["WID"]', 'projectz = ["WID"]'), "goal onboarding: scope.projectz: unknown key"),
    (('target_date = 2026-09-30', 'target_date = "soon"'), "goal onboarding: target_date: Input should be a valid date"),
    (('owner = "Dana"\n', ''), "goal onboarding: owner: Field required"),
    (('id = "onboarding"', 'id = "On Boarding"'), "goal On Boarding: id: must be lower-case"),
    (('target = 70', 'target = 41'), "goal onboarding: metric: target must differ from baseline"),
])
def test_bad_goal_is_one_line_naming_goal_and_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = write(tmp_path, GOAL.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_goals(path)
    message = str(err.value)
    assert "\n" not in message
    assert expected in message, message


def test_duplicate_goal_ids_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="goal onboarding: duplicate id"):
        load_goals(write(tmp_path, GOAL + GOAL))
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_goals(write(tmp_path, "[[goals]\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_goals(tmp_path / "nope.toml")


def test_selector_fields_combine_with_and_values_with_or() -> None:
    p = Plan()
    v1 = p.version("1.0")
    a = p.item(labels=["customer"], components=["Signup"], release_ids=[v1.id], epic_key="WID-100")
    b = p.item(labels=["customer"], kind=ItemKind.BUG)
    c = p.item(labels=["other"], project="OPS")
    p.item(kind=ItemKind.EPIC, labels=["customer"])  # epics never count as scope
    snap = p.snapshot()

    def keys(**kw: object) -> list[str]:
        return [i.key for i in select_items(snap, Selector(**kw))]  # type: ignore[arg-type]

    assert keys(labels=("customer",)) == [a.key, b.key]
    assert keys(labels=("customer", "other")) == [c.key, a.key, b.key]  # natural key order
    assert keys(labels=("customer",), kinds=("bug",)) == [b.key]
    assert keys(projects=("WID",), components=("Signup",)) == [a.key]
    assert keys(fix_versions=("1.0",)) == [a.key]
    assert keys(fix_versions=("2.0",)) == []
    assert keys(epics=("WID-100",)) == [a.key]
    assert keys(projects=("OPS",), labels=("customer",)) == []
    assert keys(repositories=("WID",)) == []  # repositories select GitHub items only


def test_a_kind_selector_reads_every_item_of_its_kinds_in_key_order() -> None:
    # one kind is read from the snapshot's items grouped by kind, several from a pass over all items:
    # both take any kind (an epic or a sub-task too, when named) and come out in natural key order
    p = Plan()
    b10 = p.item("WID-10", kind=ItemKind.BUG)
    s2 = p.item("WID-2", kind=ItemKind.SUBTASK)
    b9 = p.item("OPS-9", kind=ItemKind.BUG)
    e1 = p.item("WID-1", kind=ItemKind.EPIC)
    p.item("WID-3")  # a story
    snap = p.snapshot()

    def keys(*kinds: str) -> list[str]:
        return [i.key for i in select_items(snap, Selector(kinds=kinds))]  # type: ignore[arg-type]

    assert keys("bug") == [b9.key, b10.key]
    assert keys("epic") == [e1.key]
    assert keys("subtask") == [s2.key]
    assert keys("bug", "epic") == [b9.key, e1.key, b10.key]
    assert keys("issue") == []
    assert items_of_kind(snap, ItemKind.BUG) == [b10, b9]  # snapshot order, the same list every time
    assert items_of_kind(snap, ItemKind.BUG) is items_of_kind(snap, ItemKind.BUG)


def test_matching_items_are_the_selection_in_any_order() -> None:
    p = Plan()
    for n in (10, 2, 33, 1):
        p.item(f"WID-{n}", labels=["customer"] if n != 2 else [], kind=ItemKind.BUG if n > 2 else ItemKind.STORY)
    p.item("OPS-7", labels=["customer"])
    snap = p.snapshot()
    for sel in (Selector(labels=("customer",)), Selector(kinds=(ItemKind.BUG,)), Selector(projects=("WID",)),
                Selector(labels=("nobody",)), Selector()):
        unordered = matching_items(snap, sel)  # before the selection is made: the filter alone
        assert sorted(i.key for i in unordered) == sorted(i.key for i in select_items(snap, sel))
    made = select_items(snap, Selector(labels=("customer",)))
    assert matching_items(snap, Selector(labels=("customer",))) is made  # once made, the selection itself


def test_risk_rule_settings() -> None:
    cfg = rule_configs({"stale-work": {"threshold": 3, "severity": "red"}, "blocked": {"enabled": False}})
    assert cfg["stale-work"].threshold == 3 and cfg["stale-work"].severity == "red"
    assert not cfg["blocked"].enabled and cfg["scope-creep"].threshold == 15
    with pytest.raises(ConfigError, match=r"reports.risks.stale-wrok: unknown risk rule"):
        rule_configs({"stale-wrok": {}})
    with pytest.raises(ConfigError, match=r"reports.risks.stale-work.severity: "):
        rule_configs({"stale-work": {"severity": "purple"}})
    with pytest.raises(ConfigError, match=r"reports.risks.stale-work.limit: unknown key"):
        rule_configs({"stale-work": {"limit": 3}})


def _config(tmp_path: Path, goals: str, db: Path) -> Path:
    write(tmp_path, goals)
    cfg = tmp_path / "syncd.toml"
    cfg.write_text(f'database_url = "sqlite:///{db}"\n[reports]\ngoals_file = "goals.toml"\n')
    return cfg


def test_config_check_goal_scope_against_store(tmp_path: Path) -> None:
    db = tmp_path / "syncd.db"
    settings = load_settings(_config(tmp_path, GOAL, db))
    assert check_goals(settings) == ["goal scopes not checked against data: no database yet (run `syncd sync`)"]
    assert not db.exists()  # read-only: config check never creates the database

    store = Store(f"sqlite:///{db}")
    store.upgrade()
    assert "the store holds no items yet" in check_goals(settings)[0]

    p = Plan("WID")
    p.item()
    store.apply_batch("jira", Batch(items=list(p.items.values()),
                                    releases=[Release(id="jira:version:1", source="jira", remote_id="1",
                                                      kind=ReleaseKind.VERSION, project="WID", name="1.0")]))
    assert check_settings(settings) == []

    settings = load_settings(_config(tmp_path, GOAL.replace('projects = ["WID"]', 'projects = ["NOPE"]'), db))
    with pytest.raises(ConfigError) as err:
        check_settings(settings)
    assert str(err.value) == "goals: goal onboarding: scope matches no item (projects NOPE)"
    store.close()


def test_config_check_rejects_bad_risk_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "syncd.toml"
    cfg.write_text('[reports.risks.stale-work]\nthreshold = "soon"\n')
    with pytest.raises(ConfigError, match=r"reports.risks.stale-work.threshold"):
        check_settings(load_settings(cfg))


def test_syncd_config_check_fails_in_one_line_on_a_goal_matching_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncd.cli import main

    db = tmp_path / "syncd.db"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    p = Plan("WID")
    p.item()
    store.apply_batch("jira", Batch(items=list(p.items.values())))
    store.close()
    good = _config(tmp_path, GOAL, db)
    assert CliRunner().invoke(main, ["config", "check", "--config", str(good)]).exit_code == 0
    bad = _config(tmp_path, GOAL.replace('projects = ["WID"]', 'labels = ["nope"]'), db)
    result = CliRunner().invoke(main, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "syncd: error: goals: goal onboarding: scope matches no item (labels nope)"
