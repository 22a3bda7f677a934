"""Fixtures shared by integration modules."""

from __future__ import annotations

import pytest

from tests.demo_store import build_demo_store
from tests.reports_sandbox import SandboxStore


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> SandboxStore:
    """The demo's store (tests/demo_store.py), built once per session. Read-only: a test that writes
    copies the database first."""
    return build_demo_store(tmp_path_factory.mktemp("demo"))
