"""Property-based fuzzing of configuration files: any input ends in settings or one ConfigError line."""

from __future__ import annotations

import tempfile
from pathlib import Path

import tomllib
from hypothesis import HealthCheck, given, settings, strategies as st

from syncd.errors import ConfigError
from syncd.settings import load_settings

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3),
)
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
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=40)))  # garbage line: may break TOML on purpose
    return "\n".join(lines) + "\n"


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
