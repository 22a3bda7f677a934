"""Structured logging (plain or JSON) on stderr, with secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# each pattern keeps group 1 and masks what follows it
_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)\S+"),
    re.compile(r"(?i)((?:token|password|secret|api[_-]?key)[\"']?\s*[=:]\s*[\"']?)[^\s\"',}]+"),
    re.compile(r"()\bgh[pousr]_[A-Za-z0-9]{10,}"),
    re.compile(r"(://[^:/@\s\"]+:)[^\s\"]*(?=@)"),  # to the last @: a password may hold an unescaped @
]
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Make sure `value` never appears in a log line."""
    if value and len(value) >= 4:
        _registered.add(value)


def register_secrets_of(model: object) -> None:
    """Register every SecretStr value found in a (nested) pydantic model, e.g. the settings."""
    from pydantic import BaseModel, SecretStr

    if isinstance(model, SecretStr):
        register_secret(model.get_secret_value())
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            value = getattr(model, name)
            if name == "database_url" and isinstance(value, str) and "@" in value:  # a plain str, may hold a password
                userinfo = (value.partition("://")[2] or value).rpartition("@")[0]
                register_secret(userinfo.partition(":")[2])
            register_secrets_of(value)
    elif isinstance(model, dict):
        for value in model.values():
            register_secrets_of(value)
    elif isinstance(model, list | tuple):
        for value in model:
            register_secrets_of(value)


def redact(text: str) -> str:
    """`text` with known secrets and secret-looking values masked."""
    for value in _registered:
        text = text.replace(value, "**********")
    for pat in _SECRET_PATTERNS:
        text = pat.sub(r"\1**********", text)
    return text


class _Redacting(logging.Formatter):
    def __init__(self, json_mode: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.json_mode = json_mode

    def format(self, record: logging.LogRecord) -> str:
        if self.json_mode:
            payload = {
                "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "msg": record.getMessage(),
            }
            if record.exc_info:
                payload["exc"] = self.formatException(record.exc_info)
            return redact(json.dumps(payload, ensure_ascii=False))
        return redact(super().format(record))


def configure(level: str = "info", fmt: str = "plain") -> None:
    """Install the stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_syncd", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting(fmt == "json"))
    handler._syncd = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("urllib3", "github", "alembic", "jira", "matplotlib", "PIL", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
