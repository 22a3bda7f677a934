"""Property-based fuzzing of configuration files: any input ends in settings or one ConfigError line."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.errors import ConfigError
from syncd.settings import load_settings

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3),
)
CRONS = ["0 6 * * 1-5", "*/15 * * * *", "@daily", "61 * * * *", "* * *", "0 6 * * 1-5 2026", "@fortnightly",
         "0 0 31 2 *", "0 9 * * MON", "\t0  6 * * *\n"]
SECTIONS = {"smtp": ["host", "port", "security", "password", "bogus"], "server": ["host", "port", "token", "bogus"],
            "daemon": ["lease_seconds", "poll_seconds", "replica_id", "bogus"]}
TOP = ["database_url", "log_level", "log_format", "data_dir", "bogus"]
KEYS = ["type", "url", "email", "token", "projects", "repos", "org", "base_url", "jql", "page_size",
        "deployment", "overlap_minutes", "key_pattern", "retry", "bogus", "include", "jira_projects"]


def toml_value(v: object) -> str:
    if v is None:
        return '""'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t") + '"'


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    lines = []
    for n in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["jira", "gh", "Bad Name", "x" * 70, "ok_2"]))
        lines.append(f'[sources."{name}{n}"]')
        lines.append(f'type = "{draw(st.sampled_from(["jira", "github", "gitlab", ""]))}"')
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True)):
            if key != "type":
                lines.append(f"{key} = {toml_value(draw(scalars))}")
    if draw(st.booleans()):
        lines.append("[reports]")
        lines.append(f"timezone = {toml_value(draw(st.sampled_from(['UTC', 'Europe/Berlin', 'Nowhere/Zone', ''])))}")
        lines.append(f"forecast_trials = {toml_value(draw(scalars))}")
    for _ in range(draw(st.integers(0, 2))):
        lines.append("[[schedule]]")
        entry = {"name": draw(st.sampled_from(["nightly", "a/b", "", "x" * 120])),
                 "cron": draw(st.one_of(st.sampled_from(CRONS), st.text(max_size=20), scalars)),
                 "timezone": draw(st.sampled_from(["UTC", "Europe/Berlin", "Mars/Olympus", "", "../../etc/passwd"])),
                 "job": draw(st.sampled_from(["sync", "report", "reboot"])), "grace_minutes": draw(scalars)}
        for key in draw(st.lists(st.sampled_from([*entry, "bogus"]), max_size=6, unique=True)):
            lines.append(f"{key} = {toml_value(entry.get(key, draw(scalars)))}")
    for section, keys in SECTIONS.items():
        if draw(st.booleans()):
            lines.append(f"[{section}]")
            for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
                lines.append(f"{key} = {toml_value(draw(scalars))}")
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=40)))  # garbage line: may break TOML on purpose
    top = [f"{key} = {toml_value(draw(scalars))}" for key in draw(st.lists(st.sampled_from(TOP), max_size=2, unique=True))]
    return "\n".join(top + lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_texts())
def test_any_config_gives_settings_or_one_line_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "syncd.toml"
        path.write_text(text, encoding="utf-8")
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            pass
        try:
            load_settings(path)
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith("config: ")
            assert "\n" not in message
            assert "Traceback" not in message


BASE = """
[sources.acme]
type = "jira"
url = "https://acme.atlassian.net"
email = "pm@acme.test"
token = "tok-SECRET-jira-123"
projects = ["WID"]

[sources.gh]
type = "github"
token = "ghp_SECRETgithub456"
repos = ["acme/widget"]
"""


@pytest.mark.parametrize(("edit", "expected"), [
    (("", "[[schedule]]\nname = \"n\"\njob = \"sync\"\ncron = \"61 * * * *\"\n"),
     "config: schedule.0.cron: '61 * * * *' is not a five-field cron expression (minute hour day month weekday)"),
    (("", "[[schedule]]\nname = \"n\"\njob = \"sync\"\ncron = \"0 6 * * *\"\ntimezone = \"Mars/Olympus\"\n"),
     "config: schedule.0.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)"),
    (('token = "tok-SECRET-jira-123"\n', ""), "config: sources.acme.token: Field required"),
    (('token = "ghp_SECRETgithub456"\n', ""),
     "config: sources.gh: needs token, or app_id + private_key + installation_id"),
    (('url = "https://acme.atlassian.net"', 'url = "ftp://acme"'),
     "config: sources.acme.url: must be an http(s) URL, e.g. https://acme.atlassian.net"),
    (('repos = ["acme/widget"]', 'repos = ["acme/widget"]\nbase_url = "api.github.com"'),
     "config: sources.gh.base_url: must be an http(s) URL, e.g. https://api.github.com"),
    (('projects = ["WID"]', 'projects = ["WID"]\npage_size = "lots"'),
     "config: sources.acme.page_size: Input should be a valid integer, unable to parse string as an integer"),
    (('projects = ["WID"]', 'projects = ["WID"]\ntokn = "typo"'), "config: sources.acme.tokn: unknown key"),
    (("", "[smtp]\nport = 70000\n"), "config: smtp.port: Input should be less than or equal to 65535"),
    (("", "[server]\nbogus = 1\n"), "config: server.bogus: unknown key"),
])
def test_each_kind_of_bad_config_names_the_key_and_never_a_secret(tmp_path: Path, edit: tuple[str, str],
                                                                  expected: str) -> None:
    old, new = edit
    text = BASE.replace(old, new) if old else BASE + new
    path = tmp_path / "syncd.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value) == expected
    assert "SECRET" not in str(err.value)
