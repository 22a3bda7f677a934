"""Fake Jira Cloud and GitHub servers on loopback, serving a generated project history.

`start_sandbox(seed, issues, now)` generates a world and serves it (see `syncd.sandbox.run`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Sandbox", "start_sandbox"]


def __getattr__(name: str) -> Any:
    # lazy, so importing one fake server does not import the generator
    if name in __all__:
        from syncd.sandbox import run

        return getattr(run, name)
    raise AttributeError(f"module 'syncd.sandbox' has no attribute {name!r}")
