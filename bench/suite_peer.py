"""The peer tool's own virtual environment (bench/.peer-venv, git-ignored) and how to run it.

Perceval is not a dependency of syncd: on first use, `ensure_peer_venv()` creates the environment
with the running interpreter and installs the pinned `perceval` from PyPI into it (about a minute);
later runs reuse it. `run_perceval(spec)` runs `bench/peer_perceval.py` there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PEER_VENV = BENCH / ".peer-venv"
PERCEVAL_VERSION = "1.6.1"


def peer_python() -> Path:
    """The peer environment's interpreter."""
    return PEER_VENV / "bin" / "python"


def installed_version() -> str | None:
    """The perceval version installed in the peer environment, or None."""
    if not peer_python().exists():
        return None
    out = subprocess.run([str(peer_python()), "-c", "from importlib.metadata import version; print(version('perceval'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_peer_venv(log: Any = print) -> str:
    """Create bench/.peer-venv with perceval==PERCEVAL_VERSION unless it is there; return the version."""
    version = installed_version()
    if version == PERCEVAL_VERSION:
        return version
    log(f"peer: installing perceval=={PERCEVAL_VERSION} into {PEER_VENV.relative_to(BENCH.parent)} (first run only)")
    if not peer_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    out = subprocess.run([str(peer_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          f"perceval=={PERCEVAL_VERSION}"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"peer: pip install perceval=={PERCEVAL_VERSION} failed: {out.stderr.strip()[-1500:]}")
    version = installed_version()
    if version != PERCEVAL_VERSION:
        raise RuntimeError(f"peer: perceval {version} installed, expected {PERCEVAL_VERSION}")
    return version


def run_perceval(spec: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    """Run Perceval on what `spec` names (see bench/peer_perceval.py); its JSON report."""
    out = subprocess.run([str(peer_python()), str(BENCH / "peer_perceval.py"), json.dumps(spec)],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"perceval failed (exit {out.returncode}): {out.stderr.strip()[-2500:]}")
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return report
