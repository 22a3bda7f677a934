"""`syncd demo`: the whole product, end to end, on the embedded sandbox and a fresh SQLite store.

It starts the fake Jira and GitHub on free loopback ports with a generated project history, writes a
configuration and a goals file that select real scope of that history, syncs it (progress bar on
a terminal), writes every report kind for every audience as Markdown, HTML and .eml into the output
folder, prints a short summary and stops the sandbox. It never touches a real service.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.errors import SyncdError
from syncd.sandbox.run import toml_value
from syncd.sandbox.world import World

DEMO_TIMEZONE = "Europe/Berlin"
RECIPIENTS = {
    "executive": ["ceo@example.com", "vp-product@example.com"],
    "business": ["sales-lead@example.com", "support-lead@example.com"],
    "engineering": ["eng-team@example.com"],
}


@dataclass
class DemoResult:
    """What the demo did: where things are and what they say."""

    out_dir: Path
    config_path: Path
    goals_path: Path
    files: list[Path] = field(default_factory=list)
    sync_lines: list[str] = field(default_factory=list)
    goal_lines: list[str] = field(default_factory=list)
    risk_lines: list[str] = field(default_factory=list)
    failed_reports: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def demo_goals_toml(world: World) -> str:
    """A goals file whose goals select real scope of the generated `world` (epics, fix versions, labels)."""
    extra: dict[str, Any] = world.truth.extra
    today = world.now.date()
    troubles = extra.get("troubles", {})
    epics = {e["key"]: e for e in extra.get("epics", [])}
    versions = [v for v in extra.get("versions", []) if v.get("target_date") and not v.get("released")]
    blocks: list[str] = [
        "# Goals for the sandbox demo, written by `syncd demo` from the generated project history.",
        "# See config/goals.example.toml for every key.",
        "",
    ]

    def goal(gid: str, title: str, objective: str, problem: str, owner: str, target: date,
             scope: dict[str, list[str]], metric: list[str]) -> None:
        blocks.extend([
            "[[goals]]",
            f"id = {toml_value(gid)}",
            f"title = {toml_value(title)}",
            f"objective = {toml_value(objective)}",
            f"problem = {toml_value(problem)}",
            f"owner = {toml_value(owner)}",
            f"target_date = {target.isoformat()}",
            "",
            "[goals.metric]",
            *metric,
            "",
            "[goals.scope]",
            *(f"{k} = {toml_value(list(vals))}" for k, vals in scope.items()),
            "",
        ])

    behind = next((epics[k] for k in troubles.get("goal_behind", []) if k in epics), None)
    if behind is not None:
        target = date.fromisoformat(behind["target_date"]) if behind.get("target_date") else today + timedelta(days=21)
        goal("mobile-checkout", behind["title"],
             "Lift mobile conversion to match desktop before the holiday peak",
             "Mobile shoppers abandon checkout twice as often as desktop shoppers", "Dana Whitfield", target,
             {"epics": [behind["key"]]},
             ['name = "Mobile checkout conversion"', 'unit = "%"', "baseline = 1.8", "target = 3.0",
              "value = 2.1", f"value_date = {(today - timedelta(days=7)).isoformat()}"])
    shipped = sorted((v for v in extra.get("versions", []) if v.get("released") and v.get("target_date")),
                     key=lambda v: v["target_date"])
    if shipped:
        last = shipped[-1]
        goal(f"release-{_slug(last['title'])}", f"Ship {last['title']}",
             f"Deliver the {last['project']} release customers were promised",
             "Customers waiting on the features planned for this release", "Marco Rossi",
             date.fromisoformat(last["target_date"]), {"projects": [last["project"]], "fix_versions": [last["title"]]},
             ['name = "Release scope done"', 'unit = "%"', "baseline = 0", "target = 100", 'computed = "percent-done"'])
    owners = {"WID": "Marco Rossi", "GAD": "Aiko Tanaka", "OPS": "Sam Okafor"}
    for project in extra.get("projects", []):
        upcoming = sorted((v for v in versions if v["project"] == project["key"]), key=lambda v: v["target_date"])
        if not upcoming:
            continue
        version = upcoming[0]
        goal(f"release-{_slug(version['title'])}", f"Ship {version['title']}",
             f"Deliver the {project['name']} release customers were promised",
             f"Customers waiting on {project['name']} features planned for {version['title']}",
             owners.get(project["key"], "Release manager"), date.fromisoformat(version["target_date"]),
             {"projects": [project["key"]], "fix_versions": [version["title"]]},
             ['name = "Release scope done"', 'unit = "%"', "baseline = 0", "target = 100",
              'computed = "percent-done"'])
    customer = [i for i in world.jira.issues.values() if "customer" in (i["fields"].get("labels") or [])
                and (i["fields"].get("issuetype") or {}).get("name") not in ("Epic", "Sub-task")]
    if customer:
        goal("customer-requests", "Customer-requested work delivered",
             "Keep churn of enterprise accounts below 2% a quarter",
             "Enterprise customers wait months for fixes and features they asked for", "Priya Raman",
             today + timedelta(days=56), {"labels": ["customer"], "kinds": ["story", "task", "bug"]},
             ['name = "Open customer requests"', 'unit = "items"', f"baseline = {len(customer)}", "target = 0",
              'computed = "open-items"'])
    return "\n".join(blocks)


def _demo_config(sandbox_toml: str) -> str:
    recipients = "\n".join(f"{aud} = {toml_value(addrs)}" for aud, addrs in RECIPIENTS.items())
    return "\n".join([
        sandbox_toml.rstrip(),
        "",
        "[reports]",
        'goals_file = "goals.toml"',
        f'timezone = "{DEMO_TIMEZONE}"',
        "",
        "[reports.recipients]",
        recipients,
        "",
        "[smtp]",
        'sender = "syncd demo <syncd@example.com>"',
        "",
        "# launch readiness: who decides, deploys and monitors, and the named sign-offs, answered by a label",
        "# signoff-<role> or a checked line \"- [x] <Role> sign-off\" in the release's checklist issue",
        "# (see config/syncd.example.toml); the sandbox's history holds none, so the report shows them missing",
        "[releases.roles]",
        'decides = "Morgan Lee"',
        'deploys = "Platform on-call"',
        'monitors = "SRE rota"',
        "",
        "[releases.sign_offs]",
        'QA = "Lee Park"',
        '"Product Owner" = "Priya Raman"',
        "",
    ])


def run_demo(out_dir: Path, *, issues: int = 2000, seed: int = 7, now: datetime | None = None,
             show_progress: bool = True, echo: Callable[[str], None] = print) -> DemoResult:
    """Run the demo into `out_dir`; return what it did. Raises SyncdError when a step fails."""
    from syncd.cli._common import open_store
    from syncd.reporting import all_requests, generate_reports, load_context, recipients_for, write_report
    from syncd.reports.catalogue.risk_themes import theme_why
    from syncd.reports.catalogue.status import DELIVERED_BADGE, goal_badge, top_themes
    from syncd.sandbox.run import start_sandbox
    from syncd.settings import load_settings
    from syncd.sync import Progress, rich_progress, sync_all

    now = now or datetime.now(UTC)
    out_dir = out_dir.resolve()
    data_dir = out_dir / "data"
    reports_dir = out_dir / "reports"
    for stale in (data_dir, reports_dir):  # a fresh store and fresh reports every run
        if stale.exists():
            shutil.rmtree(stale)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out_dir=out_dir, config_path=out_dir / "syncd.toml", goals_path=out_dir / "goals.toml")

    started = time.perf_counter()
    echo(f"syncd demo: generating a project history of about {issues} items (seed {seed}) ...")
    with start_sandbox(seed=seed, issues=issues, now=now) as box:
        result.seconds["sandbox"] = time.perf_counter() - started
        echo(f"  sandbox Jira   {box.jira_url}  (projects {', '.join(box.jira_projects)})")
        echo(f"  sandbox GitHub {box.github_url}  (repos {', '.join(box.github_repos)})")
        result.config_path.write_text(_demo_config(box.config_toml(data_dir="data")), encoding="utf-8")
        result.goals_path.write_text(demo_goals_toml(box.world), encoding="utf-8")
        settings = load_settings(result.config_path)
        store = open_store(settings)
        try:
            t = time.perf_counter()
            bar, factory = rich_progress() if show_progress else (None, None)
            if bar is not None and factory is not None:
                with bar:
                    results = sync_all(settings, store, progress_factory=factory)
            else:
                results = sync_all(settings, store, progress_factory=lambda n, total: Progress())
            result.seconds["sync"] = time.perf_counter() - t
            for r in results:
                result.sync_lines.append(r.summary())
                result.requests += r.requests
            failed = [r for r in results if not r.ok]
            if failed:
                raise SyncdError(f"demo: sync failed: {failed[0].error}")

            t = time.perf_counter()
            outcomes = generate_reports(settings, store, all_requests(), now=now, record=True)
            for (kind, audience, _scope), outcome in zip(all_requests(), outcomes, strict=True):
                if isinstance(outcome, Exception):
                    result.failed_reports.append(f"{kind} {audience or ''}: {outcome}".strip())
                    continue
                result.files += write_report(outcome, reports_dir, sender=settings.smtp.sender,
                                             recipients=recipients_for(settings, kind, audience), date=now)
            result.seconds["reports"] = time.perf_counter() - t

            analysis = load_context(settings, store, now=now).analysis
            for g in analysis.goals:
                # the headline is delivered (released to production, or done with no code), as in the reports
                funnel = g.progress.funnel
                delivered = funnel.percent_delivered if funnel.percent_delivered is not None else 100.0
                in_jira = 100.0 * funnel.done / funnel.items if funnel.items else 100.0
                state = "DELIVERED" if goal_badge(g) == DELIVERED_BADGE else g.status.rag.value.upper()
                p85 = g.forecast.p85.isoformat() if g.forecast.p85 else "no forecast"
                result.goal_lines.append(
                    f"{state:9} {g.goal.title}: {delivered:.0f}% delivered ({in_jira:.0f}% done in Jira), p85 {p85} "
                    f"vs target {g.goal.target_date.isoformat()} — {g.status.reason}")
            for theme in top_themes(analysis.themes):
                result.risk_lines.append(f"[{theme.severity.value}] {theme.name}: {theme_why(theme)} → {theme.mitigation}")
            result.risk_lines.append(f"{len(analysis.themes)} risk themes from {analysis.signal_count} signals "
                                     f"({len(analysis.hygiene.signals)} hygiene)")
        finally:
            store.close()
    result.seconds["total"] = time.perf_counter() - started
    return result
