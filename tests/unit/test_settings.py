"""Settings precedence, validation messages and secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.errors import ConfigError
from syncd.settings import load_settings, masked

CONFIG = """
data_dir = "data"
[sources.acme]
type = "jira"
url = "https://acme.atlassian.net/"
email = "pm@acme.test"
token = "toml-secret-token"
projects = ["WID", "PAY"]

[sources.gh]
type = "github"
token = "ghp_tomlsecret123456"
repos = ["acme/widget"]
jira_projects = ["WID"]
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in list(__import__("os").environ):
        if var.startswith("SYNCD_"):
            monkeypatch.delenv(var)
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG)
    return path


def test_toml_is_read_and_normalised(cfg: Path) -> None:
    s = load_settings(cfg)
    jira = s.sources["acme"]
    assert jira.type == "jira" and jira.url == "https://acme.atlassian.net"
    assert jira.projects == ["WID", "PAY"]
    assert s.data_dir == cfg.parent / "data"
    assert s.db_url == f"sqlite:///{cfg.parent / 'data' / 'syncd.db'}"


def test_env_beats_toml_and_flags_beat_env(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_SOURCES__ACME__TOKEN", "env-token")
    monkeypatch.setenv("SYNCD_DATABASE_URL", "sqlite:////tmp/env.db")
    s = load_settings(cfg)
    assert s.sources["acme"].token.get_secret_value() == "env-token"
    assert s.sources["acme"].projects == ["WID", "PAY"]  # the rest of the table still comes from TOML
    assert s.database_url == "sqlite:////tmp/env.db"
    s = load_settings(cfg, database_url="sqlite:////tmp/flag.db")
    assert s.database_url == "sqlite:////tmp/flag.db"


def test_config_path_from_environment(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_CONFIG", str(cfg))
    assert "acme" in load_settings().sources


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (("projects = [\"WID\", \"PAY\"]", "projects = []"), "config: sources.acme.projects: List should have at least 1 item"),
        (("type = \"jira\"", "type = \"gitlab\""), "config: sources.acme: Input tag 'gitlab'"),
        (("url = \"https://acme.atlassian.net/\"", "url = \"acme\""), "config: sources.acme.url: must be an http(s) URL"),
        (("data_dir = \"data\"", "data_dir = \"data\"\nbogus = 1"), "config: bogus: unknown key"),
        (("repos = [\"acme/widget\"]", "repos = [\"widget\"]"), "config: sources.gh.repos: 'widget' is not owner/name"),
    ],
)
def test_invalid_config_names_key_and_problem(cfg: Path, patch: tuple[str, str], expected: str) -> None:
    cfg.write_text(CONFIG.replace(*patch))
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)
    assert "secret" not in str(err.value)


def test_invalid_toml_and_missing_file(cfg: Path) -> None:
    cfg.write_text("[sources.acme\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(cfg.parent / "nope.toml")


def test_secrets_are_masked(cfg: Path) -> None:
    s = load_settings(cfg, database_url="postgresql+psycopg://u:pgpass@db/x")
    text = repr(s) + str(masked(s))
    for secret in ("toml-secret-token", "ghp_tomlsecret123456", "pgpass"):
        assert secret not in text
    assert masked(s)["sources"]["acme"]["token"] == "**********"


def test_unknown_timezone_rejected(cfg: Path) -> None:
    cfg.write_text(CONFIG + "\n[reports]\ntimezone = \"Mars/Olympus\"\n")
    with pytest.raises(ConfigError, match="reports.timezone: unknown time zone 'Mars/Olympus'"):
        load_settings(cfg)
