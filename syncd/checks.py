"""Checks of a loaded configuration beyond what pydantic validates field by field."""

from __future__ import annotations

from syncd.errors import ConfigError
from syncd.settings import Settings


def check_settings(settings: Settings) -> list[str]:
    """Raise ConfigError on an inconsistent configuration; return warnings worth showing."""
    warnings: list[str] = []
    warnings.extend(check_schedule(settings))
    if settings.reports.goals_file is not None and not settings.reports.goals_file.is_file():
        raise ConfigError(f"config: reports.goals_file: file not found: {settings.reports.goals_file}")
    from syncd.reports.analysis.risk_rules import rule_configs

    rule_configs(settings.reports.risks)
    if settings.reports.goals_file is not None:
        warnings.extend(check_goals(settings))
    if any(e.job == "report" for e in settings.schedule) and settings.smtp.host == "localhost":
        warnings.append("report schedules send mail through smtp.host=localhost")
    warnings.extend(check_sources_seen(settings))
    return warnings


def check_sources_seen(settings: Settings) -> list[str]:
    """What the last syncs learnt about the sites that is worth repeating: a Jira without the agile API.

    Reads the stored cursors when the store is a SQLite file that exists (read-only, no migration); a
    server database is not contacted for this note (an unreachable one would stall `config check`).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from syncd.connectors.config import JiraSource
    from syncd.errors import StoreError
    from syncd.store import Store

    jira = [name for name, source in settings.sources.items() if isinstance(source, JiraSource)]
    url = settings.db_url
    if not jira or not _store_exists(url):
        return []
    out: list[str] = []
    store = None
    try:
        store = Store(url)
        for name in jira:
            status = (store.cursor(name) or {}).get("agile_missing")
            if status:
                out.append(f"source {name}: no agile API on this site (GET board: HTTP {status} at the last sync): "
                           "boards and sprints are not synced")
    except (SQLAlchemyError, StoreError):
        return []  # check_goals reports an unreadable store when it matters; this note is only a repeat
    finally:
        if store is not None:
            store.close()
    return out


def _store_exists(url: str) -> bool:
    """True for a SQLite file that exists (opening one that does not would create it)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        from pathlib import Path

        return Path(url.removeprefix("sqlite:///")).is_file()
    return False


def check_goals(settings: Settings) -> list[str]:
    """Validate the goals file, and each goal's scope against the store when it has data.

    Opens the store read-only (no migration, no new SQLite file). A scope that matches nothing is a
    ConfigError; a store that does not exist yet or holds no items only earns a warning.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from syncd.errors import StoreError
    from syncd.reports.analysis.scope import unmatched_goals
    from syncd.reports.data import Snapshot
    from syncd.reports.goals import load_goals_file
    from syncd.store import Store, redact_url

    assert settings.reports.goals_file is not None
    goals = load_goals_file(settings.reports.goals_file).goals
    if not goals:
        return [f"goals file {settings.reports.goals_file} defines no goals"]
    url = settings.db_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        from pathlib import Path

        if not Path(url.removeprefix("sqlite:///")).is_file():
            return ["goal scopes not checked against data: no database yet (run `syncd sync`)"]
    store = None
    try:
        store = Store(url)
        snap = Snapshot(items=list(store.items()), releases=list(store.releases()))
    except (SQLAlchemyError, StoreError) as exc:
        reason = str(exc).splitlines()[0] if isinstance(exc, StoreError) else exc.__class__.__name__
        return [f"goal scopes not checked against data: cannot read {redact_url(url)} ({reason})"]
    finally:
        if store is not None:
            store.close()
    if not snap.items:
        return ["goal scopes not checked against data: the store holds no items yet (run `syncd sync`)"]
    problems = unmatched_goals(snap, goals)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(problems[0] + more)
    return []


def check_schedule(settings: Settings) -> list[str]:
    """Validate `[[schedule]]` entries and `[daemon]` against each other and the report catalogue."""
    warnings: list[str] = []
    seen: set[str] = set()
    for entry in settings.schedule:
        where = f"config: schedule {entry.name!r}"
        if entry.name in seen:
            raise ConfigError(f"{where}: the name is used twice (names key the delivery ledger)")
        seen.add(entry.name)
        for name in entry.sources:
            if name not in settings.sources:
                raise ConfigError(f"{where}: unknown source {name!r}")
        if entry.job == "sync":
            extra = [k for k in ("kind", "audience", "scope") if getattr(entry, k)]
            extra += [k for k in ("recipients", "sync_first") if getattr(entry, k)]
            if entry.trigger != "cron":
                extra.append("trigger")
            if extra:
                raise ConfigError(f"{where}: {', '.join(extra)} only apply to report jobs")
            if not settings.sources:
                raise ConfigError(f"{where}: a sync job needs at least one [sources.NAME]")
            continue
        if not entry.kind:
            raise ConfigError(f"{where}: a report job needs kind")
        _check_report_kind(where, entry.kind, entry.audience)
        from syncd.jobs import report_recipients

        if not report_recipients(settings, entry):
            target = f"reports.recipients.{entry.audience}" if entry.audience else "recipients"
            raise ConfigError(f"{where}: no recipients (set the entry's recipients or {target})")
    daemon = settings.daemon
    if daemon.serve and (settings.server.token is None or not settings.server.token.get_secret_value()):
        raise ConfigError("config: server.token: required when daemon.serve is true (every route but /healthz "
                          "needs it)")
    if daemon.lease_seconds < 2 * daemon.heartbeat_seconds:
        raise ConfigError(f"config: daemon.lease_seconds ({daemon.lease_seconds:g}) must be at least twice "
                          f"daemon.heartbeat_seconds ({daemon.heartbeat_seconds:g})")
    return warnings


def _check_report_kind(where: str, kind: str, audience: str | None) -> None:
    from syncd.reporting import REPORT_KINDS

    if kind not in REPORT_KINDS:
        raise ConfigError(f"{where}: unknown report kind {kind!r} (known: {', '.join(REPORT_KINDS)})")
    audiences = [a for a in REPORT_KINDS[kind] if a is not None]
    if audience is None and audiences:
        raise ConfigError(f"{where}: report {kind} needs an audience ({', '.join(audiences)})")
    if audience is not None and audience not in audiences:
        raise ConfigError(f"{where}: report {kind} has no audience {audience!r} (known: {', '.join(audiences) or 'none'})")
