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


# -- issue 19 item 7: what the daemon would trip over is refused by `config check` (and every command)

SCHEDULE = """
[[schedule]]
name = "feb"
cron = "{cron}"
job = "sync"
"""


@pytest.mark.parametrize("cron", ["0 9 31 2 *", "0 9 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_refused(cfg: Path, cron: str) -> None:
    cfg.write_text(CONFIG + SCHEDULE.format(cron=cron))
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(err.value) == f"config: schedule.0.cron: cron {cron!r} never fires (no such date, e.g. 31 February)"


@pytest.mark.parametrize("cron", ["0 9 29 2 *", "0 0 29 2 1", "0 9 31 * *", "@yearly"])
def test_a_rare_cron_that_fires_is_accepted(cfg: Path, cron: str) -> None:
    cfg.write_text(CONFIG + SCHEDULE.format(cron=cron))
    assert load_settings(cfg).schedule[0].cron == cron


@pytest.mark.parametrize(("subject", "expected"), [
    ("[syncd] {titel} {date}", "unknown field {titel} (known: {title}, {date}, {kind}, {audience})"),
    ("{title.__class__}", "unknown field {title.__class__}"),
    ("{0} report", "unknown field {0}"),
    ("{} report", "unknown field {}"),
    ("report {title", "expected '}' before end of string (write a literal brace as {{ or }})"),
])
def test_unknown_fields_in_the_subject_are_refused(cfg: Path, subject: str, expected: str) -> None:
    cfg.write_text(CONFIG + f"\n[reports]\nsubject = '{subject}'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(err.value).startswith(f"config: reports.subject: {expected}")


def test_every_subject_field_is_accepted(cfg: Path) -> None:
    cfg.write_text(CONFIG + "\n[reports]\nsubject = '{kind}/{audience}: {title} {{{date}}}'\n")
    assert load_settings(cfg).reports.subject == "{kind}/{audience}: {title} {{{date}}}"


@pytest.mark.parametrize(("url", "expected"), [
    ("postgres-ql://u:SECRETpw@db/x", "not a database URL"),
    ("postgresql://u:SECRETpw@db:notaport/x", "not a database URL"),
    ("mysql://u:SECRETpw@db/x", "syncd stores into SQLite or PostgreSQL, not mysql"),
    ("postgresql+nosuchdriver://u:SECRETpw@db/x", "unknown database driver"),
    ("postgresql+psycopg://u:SEC@RETpw@db/x", "the user name or password holds an unescaped '@': write it as %40"),
    ("just some words SECRETpw", "not a database URL"),
])
def test_a_bad_database_url_is_a_config_error_naming_the_key_not_the_url(cfg: Path, url: str, expected: str) -> None:
    for how in ("file", "flag"):
        if how == "file":
            cfg.write_text(f"database_url = '{url}'\n" + CONFIG)
            with pytest.raises(ConfigError) as err:
                load_settings(cfg)
        else:
            cfg.write_text(CONFIG)
            with pytest.raises(ConfigError) as err:
                load_settings(cfg, database_url=url)
        assert str(err.value).startswith(f"config: database_url: {expected}"), str(err.value)
        assert "SECRET" not in str(err.value) and "RETpw" not in str(err.value)


def test_good_database_urls_are_accepted(cfg: Path) -> None:
    for url in ("sqlite:////tmp/x.db", "postgresql+psycopg://u:p%40ss@db:5432/x", "postgresql://db/x"):
        assert load_settings(cfg, database_url=url).database_url == url


# -- issue 19 item 8: no credentials in source URLs; a database password masked even with an '@'

@pytest.mark.parametrize(("patch", "expected"), [
    (("https://acme.atlassian.net/", "https://pm:SECRETpw@acme.atlassian.net/"),
     "config: sources.acme.url: must not hold a user name or password (user:password@host): set sources.acme.email "
     "and sources.acme.token instead (the token best from SYNCD_SOURCES__ACME__TOKEN)"),
    (("https://acme.atlassian.net/", "http://SECRETtoken@acme.atlassian.net"),
     "config: sources.acme.url: must not hold a user name or password"),
    (("repos = [\"acme/widget\"]", "repos = [\"acme/widget\"]\nbase_url = \"https://x:SECRETpw@ghe.acme.test/api/v3\""),
     "config: sources.gh.base_url: must not hold a user name or password (user:password@host): set sources.gh.token "
     "instead (best from SYNCD_SOURCES__GH__TOKEN), or a GitHub App's app_id, private_key and installation_id"),
    (("data_dir = \"data\"", "data_dir = \"data\"\n[reports]\njira_browse_url = \"https://u:SECRETpw@jira.acme/browse/\""),
     "config: reports.jira_browse_url: must not hold a user name or password (user:password@host): report links"),
])
def test_credentials_in_urls_are_refused_pointing_to_the_token_keys(cfg: Path, patch: tuple[str, str],
                                                                    expected: str) -> None:
    cfg.write_text(CONFIG.replace(*patch))
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(err.value).startswith(expected), str(err.value)
    assert "SECRET" not in str(err.value) and "\n" not in str(err.value)


def test_an_at_sign_in_a_path_or_query_is_not_a_credential(cfg: Path) -> None:
    cfg.write_text(CONFIG.replace("https://acme.atlassian.net/", "https://jira.acme.test/team@acme"))
    assert load_settings(cfg).sources["acme"].url == "https://jira.acme.test/team@acme"


@pytest.mark.parametrize(("url", "password", "shown"), [
    ("postgresql+psycopg://syncd:p@ss@db:5432/syncd", "p@ss", "postgresql+psycopg://syncd:***@db:5432/syncd"),
    ("postgresql+psycopg://syncd:a@b@c@db/x?sslmode=require", "a@b@c", "postgresql+psycopg://syncd:***@db/x?sslmode=require"),
    ("postgresql+psycopg://syncd:p%40ss@db/x", "p%40ss", "postgresql+psycopg://syncd:***@db/x"),
    ("postgresql+psycopg://syncd@db/x", None, "postgresql+psycopg://syncd@db/x"),
    ("sqlite:////var/lib/syncd/syncd.db", None, "sqlite:////var/lib/syncd/syncd.db"),
    ("syncd:p@ss@db/x", "p@ss", "syncd:***@db/x"),
])
def test_a_database_password_is_masked_even_with_an_unescaped_at(url: str, password: str | None, shown: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """In messages (redact_url) and in log lines, by pattern and as a registered secret."""
    from syncd import logs
    from syncd.logs import redact, register_secrets_of

    monkeypatch.setattr(logs, "_registered", set())
    from syncd.settings import Settings
    from syncd.store import redact_url

    assert redact_url(url) == shown
    if password is None:
        return
    if "://" in url:  # the pattern needs a scheme; a registered secret does not
        assert password not in redact(f"cannot open {url}: refused")
        assert "ss@" not in redact(f'{{"msg": "cannot open {url}", "level": "error"}}')
    register_secrets_of(Settings.model_construct(database_url=url))
    assert password not in redact(f"connecting as {password!r}")


def test_teams_are_read_and_a_team_naming_nothing_is_refused(cfg: Path) -> None:
    cfg.write_text(CONFIG + '\n[teams.web]\nprojects = ["WID"]\nboards = ["WID board"]\npeople = 5\n')
    team = load_settings(cfg).teams["web"]
    assert (team.projects, team.boards, team.repositories, team.people) == (("WID",), ("WID board",), (), 5)
    cfg.write_text(CONFIG + "\n[teams.web]\npeople = 5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(err.value) == "config: teams.web: name at least one of boards, projects or repositories"
    cfg.write_text(CONFIG + "\n[reports]\nforecast_default_share = 1.5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(err.value).startswith("config: reports.forecast_default_share: ")


@pytest.mark.parametrize(("section", "key"), [("delivery", "hotfix_pattern"), ("delivery", "prerelease_pattern"),
                                              ("releases.conventions", "rollback_title")])
def test_a_pattern_that_is_not_a_regular_expression_is_one_line_naming_its_key(cfg: Path, section: str,
                                                                               key: str) -> None:
    """[delivery] and [releases.conventions] patterns are checked by one rule (launch_config.check_pattern)."""
    cfg.write_text(CONFIG + f'\n[{section}]\n{key} = "v(2"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"config: {section}.{key}: 'v(2' is not a regular expression: ")
