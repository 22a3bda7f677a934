"""`syncd demo`: the whole product end to end on the embedded sandbox (see syncd/demo.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from syncd.cli._common import handle_errors


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date-time such as 2026-11-20T09:00:00+00:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs a time zone offset, e.g. {value}+00:00")
    return moment


@click.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("syncd-demo"),
              show_default=True, help="Folder for the configuration, the store and the reports.")
@click.option("--issues", type=click.IntRange(100, 100_000), default=2000, show_default=True,
              help="Size of the generated project history (work items).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated history.")
@click.option("--now", "now_text", default=None, help="Pretend it is this moment (ISO, with offset); default: now.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_errors
def demo(out_dir: Path, issues: int, seed: int, now_text: str | None, quiet: bool) -> None:
    """Run the end-to-end demo: sandbox, sync into SQLite, every report in every format."""
    from syncd.demo import run_demo

    result = run_demo(out_dir, issues=issues, seed=seed, now=_when(now_text), show_progress=not quiet,
                      echo=click.echo)
    for line in result.sync_lines:
        click.echo(f"  synced {line}")
    n_reports = len([f for f in result.files if f.suffix == ".md"])
    click.echo(f"\nWrote {n_reports} reports (Markdown, HTML, .eml and charts) to {result.out_dir / 'reports'}")
    click.echo(f"Configuration: {result.config_path}   goals: {result.goals_path}")
    click.echo("\nGoals")
    for line in result.goal_lines:
        click.echo(f"  {line}")
    click.echo("\nTop risks")
    for line in result.risk_lines:
        click.echo(f"  {line}")
    for line in result.failed_reports:
        click.echo(f"syncd: warning: report not produced: {line}", err=True)
    s = result.seconds
    click.echo(f"\nDone in {s['total']:.1f}s (sandbox {s['sandbox']:.1f}s, sync {s['sync']:.1f}s with "
               f"{result.requests} API requests, reports {s['reports']:.1f}s). "
               f"Open {result.out_dir / 'reports' / 'status-executive.html'} in a browser.")


COMMANDS = [demo]
