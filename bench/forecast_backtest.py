"""Backtest: how often do forecasts made in the past come true? The old method beside the new one.

On the sandbox history (seed 7, synced into a fresh SQLite store through the real connectors, as
`syncd demo` does), for every goal of the demo goals file and every Jira fix version and GitHub
milestone, and for every week of its life (from its first item's creation to its completion or
now), forecast from what was known that week and record whether the actual completion fell on or
before the forecast's p50 / p85 / p95 date. A calibrated p85 hits about 85% of the time.

What "known that week" means here: the store replayed to that moment (`snapshot_at`, what
`syncd report --now` shows): the scope's members then (a goal's selector over the labels,
components, epics and fix versions items had then; a release's items then), their status then, and
the team's and the scope's completions before it. The forecast is of the scope's items that week;
the actual completion is when the last of *those* items was done (items added later are a new
forecast the next week). A
forecast whose date is already past at the end of the history and whose items are not all done is
a miss; one whose date is still ahead is undecided and left out.

- old: the scope's own weekly completions, over at most 12 weeks counted from its first item's
  creation, refused under 4 weeks of history or with no completion (the method before issue 12);
- new: `syncd.reports.analysis` as the reports use it (team throughput × the scope's share, the
  share resampled per trial where it was measured, own history from its first start where no team
  is identified; `teams.forecast_sample`, `forecast.trial_shares`);
- new + queue: new, with releases (a recent share of their own or none) queued behind the open
  releases of their team due before them (`queue.queued_forecast`, as the reports do since issue 12's
  queue item).

    .venv/bin/python bench/forecast_backtest.py [--seed 7] [--issues 2000] [--trials 2000] [--now ISO]

Prints the hit rates side by side and how many scope-weeks each method forecast at all (about
3.5 minutes for the default history on a loaded 2-CPU machine: one replay per scope-week).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from syncd.model import ReleaseKind, StatusCategory, WorkItem
from syncd.reports.analysis.flow import weekly_counts
from syncd.reports.analysis.forecast import Trials, forecast_completion, scope_key, seed_for, week_date
from syncd.reports.analysis.history import Histories, ItemFacts
from syncd.reports.analysis.queue import queued_forecast, queued_release, releases_ahead
from syncd.reports.analysis.replay import snapshot_at
from syncd.reports.analysis.scope import local_day, release_items, select_items
from syncd.reports.analysis.teams import Teams, forecast_sample
from syncd.reports.analysis.types import ShareSource
from syncd.reports.data import Snapshot, load_snapshot
from syncd.reports.goals import load_goals

NOW = datetime(2026, 12, 2, 14, 25, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
WINDOW, SHARE_WEEKS, DEFAULT_SHARE = 12, 6, None  # the settings' defaults
OLD_MIN_WEEKS = 4
LEVELS = (50, 85, 95)

# (the scope's members then, those of them not done, when, seed, the store replayed to then) -> p50/p85/p95
Forecaster = Callable[[list[WorkItem], list[WorkItem], datetime, int, Snapshot], tuple[date, date, date] | None]


@dataclass
class Tally:
    """Hits per percentile among the decided forecasts of one method."""

    asked: int = 0  # scope-weeks with work left
    dated: int = 0  # ... that got a forecast
    decided: int = 0  # ... whose outcome is known
    hits: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))

    def rate(self, p: int) -> float:
        return 100.0 * self.hits[p] / self.decided if self.decided else float("nan")


def synced_snapshot(seed: int, issues: int, now: datetime, folder: Path) -> tuple[Snapshot, Path]:
    """The sandbox world synced into `folder` the way `syncd demo` does it; the snapshot and goals file."""
    from syncd.cli._common import open_store
    from syncd.demo import demo_goals_toml
    from syncd.sandbox.run import start_sandbox
    from syncd.settings import load_settings
    from syncd.sync import Progress, sync_all

    with start_sandbox(seed=seed, issues=issues, now=now) as box:
        config = folder / "syncd.toml"
        config.write_text(box.config_toml(data_dir="data"), encoding="utf-8")
        goals = folder / "goals.toml"
        goals.write_text(demo_goals_toml(box.world), encoding="utf-8")
        settings = load_settings(config)
        store = open_store(settings)
        try:
            results = sync_all(settings, store, progress_factory=lambda n, total: Progress())
            failed = [r for r in results if not r.ok]
            if failed:
                raise SystemExit(f"backtest: sync failed: {failed[0].error}")
            return load_snapshot(store), goals
        finally:
            store.close()


Members = Callable[[Snapshot], list[WorkItem]]


def scopes(snap: Snapshot, goals_file: Path) -> list[tuple[str, list[WorkItem], Members]]:
    """Every goal and every fix version / milestone with items, once per distinct item set (today's);
    each with how to find its members in a snapshot (a replayed one: its members then)."""
    out: list[tuple[str, list[WorkItem], Members]] = []
    seen: set[frozenset[str]] = set()
    candidates: list[tuple[str, Members]] = [
        (f"goal {g.id}", lambda s, sel=g.scope: select_items(s, sel)) for g in load_goals(goals_file)]
    candidates += [(f"{r.kind} {r.name} ({r.project})", lambda s, rid=r.id: _release_members(s, rid))
                   for r in snap.releases if r.kind != ReleaseKind.RELEASE]
    for name, members in candidates:
        items = members(snap)
        ids = frozenset(i.id for i in items)
        if items and ids not in seen:
            seen.add(ids)
            out.append((name, items, members))
    return out


def _release_members(snap: Snapshot, release_id: str) -> list[WorkItem]:
    release = snap.release_by_id.get(release_id)
    return release_items(snap, release) if release is not None else []


def old_method(facts: dict[str, ItemFacts], trials: int) -> Forecaster:
    """The forecast before issue 12: the scope's own completions since its first item's creation."""
    def forecast(existing: list[WorkItem], remaining: list[WorkItem], at: datetime, seed: int, then: Snapshot):
        first_created = min(i.created for i in existing)
        available = min(WINDOW, int((at - first_created).total_seconds() // (7 * 86400)))
        if available < OLD_MIN_WEEKS:
            return None
        samples = weekly_counts([d for i in existing if (d := facts[i.id].done_at) is not None], at, available)
        if not sum(samples):
            return None
        weeks = Trials(samples, trials, seed).percentiles(len(remaining))
        return tuple(week_date(at, TZ, w) for w in weeks)  # type: ignore[return-value]
    return forecast


def new_method(snap: Snapshot, hist: Histories, trials: int) -> Forecaster:
    """The forecast the reports make now (team throughput × share; own history where no team)."""
    teams, facts = Teams(snap, hist), hist.facts()

    def forecast(existing: list[WorkItem], remaining: list[WorkItem], at: datetime, seed: int, then: Snapshot):
        sample = forecast_sample(teams, existing, facts, at, window=WINDOW, share_weeks=SHARE_WEEKS,
                                 default_share=DEFAULT_SHARE)
        fc = forecast_completion([i.id for i in remaining], sample, at, TZ, trials=trials, seed=seed)
        return (fc.p50, fc.p85, fc.p95) if fc.ok else None  # type: ignore[return-value]
    return forecast


class QueuedMethod:
    """`new`, with a release that has the default share or a recent share of its own forecast queued
    behind the open releases of its team due before it (`analysis.queue`). The queue is the fix versions and milestones open then, each
    on its own (the scopes this backtest tests), not joined into one release as the reports join them.
    `queued` holds the seeds of the scope-weeks it forecast queued (to compare both methods on them)."""

    def __init__(self, snap: Snapshot, hist: Histories, trials: int) -> None:
        self.teams, self.facts, self.trials = Teams(snap, hist), hist.facts(), trials
        self.plain = new_method(snap, hist, trials)
        self.queued: set[int] = set()

    def __call__(self, existing: list[WorkItem], remaining: list[WorkItem], at: datetime, seed: int,
                 then: Snapshot) -> tuple[date, date, date] | None:
        teams, facts = self.teams, self.facts
        sample = forecast_sample(teams, existing, facts, at, window=WINDOW, share_weeks=SHARE_WEEKS,
                                 default_share=DEFAULT_SHARE)
        if sample.share_source in (ShareSource.DEFAULT, ShareSource.RECENT) and not sample.refused:
            open_ = [queued_release(teams, r.name, r.due, items, [i for i in items
                                                                if i.status_category != StatusCategory.DONE])
                     for r in then.releases if r.kind != ReleaseKind.RELEASE and not r.released
                     and (items := release_items(then, r))]
            rel, ahead = releases_ahead(open_).get(scope_key(i.id for i in remaining), (None, []))
            if rel is not None and sample.team == rel.team_label:
                fc = queued_forecast(rel, ahead, sample, teams, facts, at, TZ, share_weeks=SHARE_WEEKS,
                                     trials=self.trials, seed=seed)
                if fc is not None:
                    self.queued.add(seed)
                    return (fc.p50, fc.p85, fc.p95) if fc.ok else None  # type: ignore[return-value]
        return self.plain(existing, remaining, at, seed, then)


def backtest(snap: Snapshot, goals_file: Path, now: datetime, trials: int, *,
             life: str = "started") -> tuple[dict[str, Tally], int]:
    """Hit rates of both methods over every scope and week; and how many scopes were tested.

    `life`: a scope's life starts when its first item is started or done ("started"), or when its
    first item was created ("created": also the weeks before anyone worked on it).
    """
    hist = Histories(snap)
    facts = hist.facts()
    queue = QueuedMethod(snap, hist, trials)
    methods: dict[str, Forecaster] = {"old": old_method(facts, trials), "new": new_method(snap, hist, trials),
                                      "new + queue": queue}
    tallies = {name: Tally() for name in methods}
    on_queued = {f"{name}, queued weeks only": Tally() for name in ("new", "new + queue")}
    tested = scopes(snap, goals_file)
    for name, items, members in tested:
        if life == "created":
            start = min(i.created for i in items)
        else:
            begun = [t for i in items for t in facts[i.id] if t is not None]
            if not begun:
                continue
            start = min(begun)
        at = start + timedelta(weeks=1)
        while at < now:
            then = snapshot_at(snap, at)
            existing = members(then)  # the scope's members then, as they were then
            remaining = [i for i in existing if i.status_category != StatusCategory.DONE]
            if remaining:
                done_times = [facts[i.id].done_at for i in remaining]
                finished = None if any(d is None for d in done_times) else local_day(max(done_times), TZ)  # type: ignore[type-var,arg-type]
                seed = seed_for(f"{name}:{at.isoformat()}")
                outcomes = {method: forecast(existing, remaining, at, seed, then)
                            for method, forecast in methods.items()}
                counted = [(tallies[m], dates) for m, dates in outcomes.items()]
                if seed in queue.queued:  # both methods on the weeks the queue changed
                    counted += [(on_queued[f"{m}, queued weeks only"], outcomes[m]) for m in ("new", "new + queue")]
                for t, dates in counted:
                    t.asked += 1
                    if dates is None:
                        continue
                    t.dated += 1
                    if finished is None and dates[-1] >= local_day(now, TZ):
                        # still open and the p95 not reached yet: the p50/p85 may be decided already,
                        # but counting some levels and not others would skew them: leave it out
                        continue
                    t.decided += 1
                    for p, when in zip(LEVELS, dates, strict=True):
                        if finished is not None and finished <= when:
                            t.hits[p] += 1
            at += timedelta(weeks=1)
    return {**tallies, **on_queued}, len(tested)


def render(tallies: dict[str, Tally], n_scopes: int) -> str:
    """The side-by-side table."""
    lines = ["| method | p50 hit % | p85 hit % | p95 hit % | decided forecasts | scope-weeks forecast / with work left |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, t in tallies.items():
        lines.append(f"| {name} | {t.rate(50):.1f} | {t.rate(85):.1f} | {t.rate(95):.1f} | {t.decided} | "
                     f"{t.dated} / {t.asked} |")
    lines.append(f"\n{n_scopes} scopes (goals, fix versions, milestones; each distinct item set once).")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--now", default=NOW.isoformat(), help="the end of the sandbox history (ISO, with offset)")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now)
    if now.tzinfo is None:
        parser.error("--now needs a time zone offset")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="syncd-backtest-") as tmp:
        snap, goals_file = synced_snapshot(args.seed, args.issues, now, Path(tmp))
        results = {life: backtest(snap, goals_file, now, args.trials, life=life) for life in ("started", "created")}
    print(f"Forecast backtest: sandbox seed {args.seed}, {args.issues} items, history up to {now.isoformat()}, "
          f"{args.trials} trials per forecast ({time.perf_counter() - started:.0f} s)")
    print("\nEvery week from each scope's first item started or done (its working life):\n")
    print(render(*results["started"]))
    print("\nEvery week from each scope's first item created (also the weeks before anyone worked on it):\n")
    print(render(*results["created"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
