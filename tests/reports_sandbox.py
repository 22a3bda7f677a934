"""A report store built the real way: the sandbox's generated world, served by the fake Jira and
GitHub servers, synced through the real connectors into SQLite. Used by the golden, email and
browser tests of the reports (built once per test module; about two seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from syncd.connectors.config import GitHubSource, JiraSource
from syncd.connectors.github import GitHubConnector
from syncd.connectors.jira import JiraConnector
from syncd.sandbox._http import Controls
from syncd.sandbox.generate import generate_world
from syncd.sandbox.github import serve_github
from syncd.sandbox.jira import serve_jira
from syncd.sandbox.world import World
from syncd.settings import Settings
from syncd.settings_sections import ReportSettings
from syncd.store import Store
from syncd.sync import sync_source

SEED = 7
ISSUES = 600
NOW = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # a Friday, noon in Berlin
TIMEZONE = "Europe/Berlin"

GOALS = """\
[[goals]]
id = "checkout"
title = "Checkout redesign"
objective = "Raise checkout conversion on web and mobile web"
problem = "Shoppers abandon a five-step checkout, most of them on phones"
owner = "Dana Whitfield"
target_date = 2026-12-18
start = 2026-09-14
scope = {{ epics = [{checkout}] }}
metric = {{ name = "Checkout conversion", unit = "%", baseline = 2.1, target = 3.0, value = 2.4, value_date = 2026-11-16 }}

[[goals]]
id = "customer-requests"
title = "Customer requests delivered"
objective = "Keep churn of enterprise accounts below 2% a quarter"
problem = "Enterprise customers wait months for what they asked for"
owner = "Priya Raman"
target_date = 2027-01-15
scope = {{ labels = ["customer"] }}
metric = {{ name = "Open bugs", unit = "bugs", baseline = 40, target = 10, computed = "open-bugs", selector = {{ kinds = ["bug"] }} }}

[[goals]]
id = "gadget-alerts"
title = "Gadget alerts and notifications"
objective = "Let device owners act on problems before they call support"
problem = "Owners learn about device faults from support calls"
owner = "Sam Okafor"
target_date = 2027-01-29
scope = {{ epics = [{alerts}] }}
metric = {{ name = "Median cycle time", unit = "days", baseline = 9, target = 5, computed = "median-cycle-time" }}

[[capacity]]
board = "WID board"
points = 40
"""


@dataclass
class SandboxStore:
    """The synced store and the settings reports use with it."""

    store: Store
    settings: Settings
    goals_file: Path
    origins: dict[str, str]  # the servers' loopback origins -> fixed names, for comparing output


def _epic_keys(store: Store, *titles_starting: str) -> list[str]:
    keys = sorted(i.key for i in store.items() if str(i.kind) == "epic" and i.title.startswith(titles_starting))
    if not keys:
        raise AssertionError(f"no epic titled {titles_starting} in the generated world")
    return keys


def synced_store(folder: Path, world: World) -> tuple[Store, dict[str, str]]:
    """Serve the world, sync it through the real connectors into `folder`/syncd.db; the store and origins."""
    world.github.rate_limit = 10**9
    controls = Controls()
    jira, github = serve_jira(world, controls), serve_github(world, controls)
    store = Store(f"sqlite:///{folder / 'syncd.db'}")
    store.upgrade()
    try:
        jc = JiraConnector("acme", JiraSource(type="jira", url=jira.url, email=world.jira.email,
                                               token=world.jira.api_token, projects=sorted(world.jira.projects)))
        jc.client.sleep = lambda s: None
        gc = GitHubConnector("gh", GitHubSource(type="github", base_url=github.url, token=world.github.token,
                                                repos=sorted(world.github.repos), jira_projects=sorted(world.jira.projects)))
        gc.client.sleep = lambda s: None
        for name, conn in (("acme", jc), ("gh", gc)):
            result = sync_source(store, name, conn)
            if not result.ok:
                raise AssertionError(f"sandbox sync of {name} failed: {result.error}")
    finally:
        jira.stop()
        github.stop()
    origins = {jira.url.rstrip("/"): "https://jira.sandbox.example", github.url.rstrip("/"): "https://github.sandbox.example"}
    return store, origins


def build_sandbox_store(folder: Path, *, seed: int = SEED, issues: int = ISSUES, now: datetime = NOW,
                        goals: Callable[[World], str] | None = None) -> SandboxStore:
    """Generate, serve and sync the sandbox world into `folder`/syncd.db; write the goals file beside it.

    `goals` writes the goals file from the world (e.g. `syncd.demo.demo_goals_toml`, the demo's goals);
    default: the fixed goals of the golden reports.
    """
    world = generate_world(seed=seed, issues=issues, now=now)
    store, origins = synced_store(folder, world)
    goals_file = folder / "goals.toml"
    if goals is not None:
        goals_file.write_text(goals(world), encoding="utf-8")
    else:
        checkout = ", ".join(f'"{k}"' for k in _epic_keys(store, "Checkout redesign"))
        alerts = ", ".join(f'"{k}"' for k in _epic_keys(store, "Alerts and notifications"))
        goals_file.write_text(GOALS.format(checkout=checkout, alerts=alerts), encoding="utf-8")
    settings = Settings(data_dir=folder, reports=ReportSettings(
        goals_file=goals_file, timezone=TIMEZONE, out_dir=folder / "out",
        recipients={"executive": ["Dana Whitfield <dana@example.com>"], "business": ["biz@example.com"],
                    "engineering": ["Eng Team <eng@example.com>", "lead@example.com"]}))
    return SandboxStore(store=store, settings=settings, goals_file=goals_file, origins=origins)
