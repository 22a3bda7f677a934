"""`syncd sandbox` (fake Jira and GitHub servers) and `syncd demo`."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from syncd.cli._common import fail, handle_errors
from syncd.errors import ConfigError, SyncdError
from syncd.sandbox.site_modes import SITE_MODES


def _now_option(value: str | None) -> datetime | None:
    """`--now` as an aware datetime (naive means UTC); a ConfigError names a bad value."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"sandbox: --now: {value!r} is not an ISO-8601 time (e.g. 2026-11-20T12:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.option("--issues", type=int, default=2000, show_default=True,
              help="Work items to generate (100 to 100000; about 60% Jira, the rest GitHub issues and PRs).")
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed and --now, same world.")
@click.option("--now", "now_text", default=None, help="The world's present (ISO-8601; default: the real now).")
@click.option("--jira-port", type=int, default=0, help="Port of the fake Jira (default: a free one).")
@click.option("--github-port", type=int, default=0, help="Port of the fake GitHub (default: a free one).")
@click.option("--write-config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("syncd-sandbox.toml"), show_default=True, help="Write a syncd config for the sandbox here.")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="data_dir of the written config (default: syncd-sandbox-data beside it).")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Answer this share of requests 500/502/503.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0, help="Drop the connection mid-body.")
@click.option("--malformed-rate", type=click.FloatRange(0, 1), default=0.0, help="Cut the body into broken JSON.")
@click.option("--rate-limit-rate", type=click.FloatRange(0, 1), default=0.0, help="Answer as rate limited (Retry-After).")
@click.option("--retry-after", type=click.FloatRange(0), default=1.0, show_default=True, help="Retry-After seconds.")
@click.option("--latency-ms", type=click.FloatRange(0), default=0.0, help="Added to every request.")
@click.option("--rate-limit-after", type=click.IntRange(1), default=None,
              help="After this many requests, rate limit everything for --rate-limit-for seconds.")
@click.option("--rate-limit-for", type=click.FloatRange(0), default=2.0, show_default=True,
              help="Seconds each --rate-limit-after window lasts.")
@click.option("--fault-seed", type=int, default=0, help="Seed of the fault choices.")
@click.option("--site-mode", "site_modes", multiple=True, type=click.Choice(SITE_MODES),
              help="Reshape the Jira site (repeatable): zh-site (a site in Chinese), no-agile (no Jira Software), "
                   "hidden-board (a board the account cannot read), text-sprint-field (a text field named "
                   "Sprint), foreign-link (links from a project not synced), cross-board-sprint (a board "
                   "listing another board's sprint).")
@click.option("--jira-server", is_flag=True, help="Serve Jira as Server / Data Center (REST v2, legacy search).")
@click.option("--ghes", is_flag=True, help="Write the config for GitHub Enterprise Server (REST under /api/v3).")
@handle_errors
def sandbox(issues: int, seed: int, now_text: str | None, jira_port: int, github_port: int, config_path: Path,
            data_dir: Path | None, error_rate: float, drop_rate: float, malformed_rate: float, rate_limit_rate: float,
            retry_after: float, latency_ms: float, rate_limit_after: int | None, rate_limit_for: float,
            fault_seed: int, site_modes: tuple[str, ...], jira_server: bool, ghes: bool) -> None:
    """Run fake Jira Cloud and GitHub servers on 127.0.0.1 with a generated project history.

    Prints both base URLs, writes a config that `syncd sync --config PATH` accepts, and serves
    until interrupted (Ctrl-C or SIGTERM). The credentials in that config only open the sandbox.
    """
    from syncd.sandbox._http import Faults
    from syncd.sandbox.generate import MAX_ISSUES, MIN_ISSUES
    from syncd.sandbox.run import start_sandbox

    if not MIN_ISSUES <= issues <= MAX_ISSUES:
        raise ConfigError(f"sandbox: --issues must be between {MIN_ISSUES} and {MAX_ISSUES}, not {issues}")
    now = _now_option(now_text)
    faults = Faults(error_rate=error_rate, drop_rate=drop_rate, malformed_rate=malformed_rate,
                    rate_limit_rate=rate_limit_rate, retry_after_s=retry_after, latency_ms=latency_ms,
                    rate_limit_after=rate_limit_after, rate_limit_for_s=rate_limit_for, seed=fault_seed)
    try:
        box = start_sandbox(seed=seed, issues=issues, now=now, jira_port=jira_port, github_port=github_port,
                            faults=faults if faults.any() else None, site_modes=site_modes, jira_server=jira_server,
                            github_enterprise=ghes)
    except OSError as exc:
        raise SyncdError(f"sandbox: cannot listen on 127.0.0.1 (--jira-port {jira_port}, --github-port "
                         f"{github_port}): {exc.strerror or exc}") from None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            written = box.write_config(config_path, data_dir.resolve() if data_dir is not None else "syncd-sandbox-data")
        except OSError as exc:
            raise SyncdError(f"sandbox: cannot write {config_path}: {exc.strerror or exc}") from None
        t = box.world.truth
        click.echo(f"sandbox: {t.jira_issues} Jira issues, {t.github_issues} GitHub issues, {t.github_pulls} pull "
                   f"requests (seed {seed}, now {box.world.now.isoformat()}) generated in {box.generation_s:.1f}s")
        shape = ", ".join([*site_modes, *(["Server/DC"] if jira_server else [])])
        click.echo(f"jira: {box.jira_url}" + (f" ({shape})" if shape else ""))
        click.echo(f"github: {box.github_url}")
        click.echo(f"config: {written.resolve()}")
        if faults.any():
            click.echo(f"faults: {faults}")
        click.echo("ready (Ctrl-C to stop)")
        while not stop.wait(0.5):
            pass
    finally:
        box.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("sandbox: stopped")


@click.command()
def demo() -> None:
    """Run the end-to-end demo on the embedded sandbox."""
    fail("demo: not built yet", 1)


COMMANDS = [sandbox, demo]
