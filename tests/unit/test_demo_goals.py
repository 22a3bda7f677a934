"""The demo's goals file is valid TOML whatever text the generated history holds."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

from syncd.demo import demo_goals_toml
from syncd.sandbox.world import GitHubWorld, JiraWorld, World

HOSTILE = 'Checkout "v2" \\ redesign\r\nBcc: evil@example.com <script>alert(1)</script> 日本語 🚀'


def test_goal_text_from_the_history_survives_a_toml_round_trip() -> None:
    world = World(seed=1, now=datetime(2026, 11, 20, 12, tzinfo=UTC), jira=JiraWorld(), github=GitHubWorld())
    world.truth.extra = {
        "troubles": {"goal_behind": ["WID-9"]},
        "epics": [{"key": "WID-9", "title": HOSTILE, "target_date": "2026-12-14"}],
        "versions": [{"title": 'Widget "2.7"', "project": "WID", "target_date": "2026-12-28", "released": False}],
        "projects": [{"key": "WID", "name": "Widget"}],
    }
    goals = tomllib.loads(demo_goals_toml(world))["goals"]
    assert goals[0]["title"] == HOSTILE
    assert goals[0]["scope"] == {"epics": ["WID-9"]}
    assert goals[1]["title"] == 'Ship Widget "2.7"'
    assert goals[1]["scope"]["fix_versions"] == ['Widget "2.7"']


def test_toml_value_writes_any_text_as_valid_toml() -> None:
    from syncd.sandbox.run import toml_value

    texts = [HOSTILE, "tab\there", "del\x7fnul\x00", "emoji 🚀 and 日本語", "back\\slash \"quoted\""]
    assert tomllib.loads(f"a = {toml_value(texts)}")["a"] == texts
    for text in texts:
        assert tomllib.loads(f"a = {toml_value(text)}")["a"] == text
