"""The daemon's health file: `syncd run` writes a heartbeat, `syncd health` reads it (Docker's HEALTHCHECK).

The file is replaced atomically (write a temporary file, then `os.replace`), so a reader sees the
old heartbeat or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

from syncd.errors import SyncdError
from syncd.settings import Settings


def health_path(settings: Settings) -> Path:
    """The daemon's health file."""
    return settings.daemon.health_file or settings.data_dir / "daemon.health"


def write_health(path: Path, *, replica: str, now: datetime) -> None:
    """Write the health file atomically: who beat, when (real and scheduler time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"replica": replica, "pid": os.getpid(), "written": time.time(), "now": now.isoformat()}))
    os.replace(tmp, path)


def check_health(path: Path, max_age_s: float) -> str:
    """One line about the daemon's health; raises SyncdError when the heartbeat is missing or stale."""
    try:
        data = json.loads(path.read_text())
        age = time.time() - float(data["written"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SyncdError(f"health: no heartbeat in {path} ({exc.__class__.__name__})") from None
    if age > max_age_s:
        raise SyncdError(f"health: last heartbeat of replica {data.get('replica')} was {age:.0f}s ago "
                         f"(more than {max_age_s:.0f}s)")
    return f"ok: replica {data.get('replica')} beat {age:.0f}s ago"
