"""config/syncd.example.toml passes `syncd config check` and documents every settings key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from syncd.cli import main
from syncd.connectors.config import GitHubSource, JiraSource
from syncd.reports.analysis.risk_rules import RULES, RuleSettings
from syncd.settings import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "syncd.example.toml"


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models anywhere in a field's type (lists, dicts, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in models_in(arg)]


def all_keys(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[tuple[str, str]]:
    """(model name, key) for every field of `model` and of every model nested in it."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    out = set()
    for name, field in model.model_fields.items():
        out.add((model.__name__, name))
        for nested in models_in(field.annotation) + ([JiraSource, GitHubSource] if name == "sources" else []):
            out |= all_keys(nested, seen)
    return out


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(__import__("os").environ):
        if var.startswith("SYNCD_"):
            monkeypatch.delenv(var)


def test_example_passes_config_check() -> None:
    result = CliRunner().invoke(main, ["config", "check", "--config", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "config ok: 2 source(s), 4 schedule(s)" in result.output
    settings = load_settings(EXAMPLE)
    assert {type(s).__name__ for s in settings.sources.values()} == {"JiraSource", "GitHubSource"}
    assert {(e.job, e.trigger) for e in settings.schedule} == {("sync", "cron"), ("report", "cron"),
                                                                ("report", "sprint-closed")}


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text()
    written = set(re.findall(r"^#?\s*([a-z_]+)\s*=", text, flags=re.MULTILINE))
    for header in re.findall(r"^#?\s*\[\[?([a-z0-9_.-]+)\]\]?", text, flags=re.MULTILINE):
        written.update(header.split("."))
    keys = all_keys(Settings) | {("RuleSettings", k) for k in RuleSettings.model_fields}
    missing = sorted(f"{model}.{key}" for model, key in keys if key not in written)
    assert missing == []
    assert "[daemon]" in text and "[[schedule]]" in text and "[smtp.retry]" in text
    for rule in RULES:  # every risk rule is named
        assert rule in text, rule


def test_all_keys_sees_nested_models() -> None:
    keys = all_keys(Settings)
    assert ("GitHubSource", "installation_id") in keys and ("RetryPolicy", "timeout_s") in keys
    assert ("ScheduleEntry", "sync_first") in keys and ("DaemonSettings", "lease_seconds") in keys
    assert get_origin(Settings.model_fields["schedule"].annotation) is list


def test_config_check_prints_every_rule_in_force_with_its_default_and_source() -> None:
    """Thresholds are settings: `config check` says for each rule what is in force, the default and why."""
    from syncd.reports.analysis.risk_rules import RULES

    result = CliRunner().invoke(main, ["config", "check", "--config", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("risk rule ")]
    assert [line.split(":", 1)[0].removeprefix("risk rule ") for line in lines] == list(RULES)
    by_rule = dict(zip(RULES, lines, strict=True))
    # the example sets stale-work to 7 and pr-too-large to 600 (amber); the defaults are 5 and 400
    assert by_rule["stale-work"].startswith("risk rule stale-work: 7 — days an in-progress item went without")
    assert by_rule["stale-work"].endswith("; default 5: syncd's choice: one working week without a word")
    assert by_rule["pr-too-large"].startswith("risk rule pr-too-large: 600, severity amber — ")
    assert "; default 400: review fewer than 400 lines at a time (SmartBear/Cisco study" in by_rule["pr-too-large"]
    text = EXAMPLE.read_text()
    for rule, default in RULES.items():  # the example names each default beside its rule
        assert default.source
        if default.threshold is not None:
            assert f"{rule} {default.threshold:g}" in text, rule
