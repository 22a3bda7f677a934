"""The demo's store for tests: the world `syncd demo` builds (seed 7, 2,000 items, the demo's goals),
synced through the real connectors at a fixed moment. Built once per session by the `demo_store`
fixture (tests/integration/conftest.py); about 6 s."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syncd.demo import demo_goals_toml
from tests.reports_sandbox import SandboxStore, build_sandbox_store

DEMO_NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # the moment issue 14's demo figures were taken at


def build_demo_store(folder: Path) -> SandboxStore:
    """The demo's world synced into `folder`/syncd.db at DEMO_NOW, with the demo's goals file."""
    return build_sandbox_store(folder, seed=7, issues=2000, now=DEMO_NOW, goals=demo_goals_toml)
