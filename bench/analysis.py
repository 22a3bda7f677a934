"""Benchmark: load a 100,000-item store with 1,000,000 transitions and analyse it.

Builds (once, cached under bench/results/) a SQLite store through `Store.apply_batch`: five Jira
projects with two years of two-week sprints, story points, status/sprint/estimate/assignee
changelogs (exactly --transitions in all, 11 or 12 per Jira item), 10,000 GitHub pull requests with reviews implementing
Jira items, fix versions and GitHub releases. Then, in a fresh child process per run, it times
`load_snapshot` and `analyse` separately and prints seconds and peak RSS (median of --runs).
Targets: analysis under 2 s and under 1 GB.

    python bench/analysis.py [--runs 3] [--items 100000] [--transitions 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.model import (
    Batch,
    CheckConclusion,
    ItemKind,
    Link,
    LinkKind,
    Person,
    PullRequest,
    PullState,
    Release,
    ReleaseKind,
    Review,
    ReviewState,
    Sprint,
    SprintState,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.store import Store

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PROJECTS = ["WID", "API", "OPS", "WEB", "MOB"]
DAYS = 730
SPRINT_DAYS = 14
STATUS = {"To Do": StatusCategory.TODO, "In Progress": StatusCategory.IN_PROGRESS,
          "In Review": StatusCategory.IN_PROGRESS, "Done": StatusCategory.DONE}


def _sprints() -> dict[str, list[Sprint]]:
    first = NOW - timedelta(days=DAYS)
    out: dict[str, list[Sprint]] = {}
    for pi, project in enumerate(PROJECTS):
        sprints = []
        for k in range(DAYS // SPRINT_DAYS + 2):
            start = first + timedelta(days=SPRINT_DAYS * k)
            end = start + timedelta(days=SPRINT_DAYS)
            state = SprintState.CLOSED if end <= NOW else (SprintState.ACTIVE if start <= NOW else SprintState.FUTURE)
            sid = pi * 1000 + k + 1
            sprints.append(Sprint(
                id=f"jira:sprint:{sid}", source="jira", remote_id=str(sid), board_id=str(pi + 1),
                board_name=f"{project} board", name=f"{project} Sprint {k + 1}", goal=f"Sprint goal {k + 1}",
                state=state, start=start if state != SprintState.FUTURE else None,
                end=end if state != SprintState.FUTURE else None,
                complete=end if state == SprintState.CLOSED else None))
        out[project] = sprints
    return out


def _sprint_at(sprints: list[Sprint], at: datetime) -> int:
    first = NOW - timedelta(days=DAYS)
    return max(0, min(len(sprints) - 1, int((at - first).total_seconds() // (SPRINT_DAYS * 86400))))


def _jira_item(rng: random.Random, n: int, n_jira: int, sprints: dict[str, list[Sprint]], versions: dict[str, list[Release]],
               per_item: int) -> tuple[WorkItem, list[Transition]]:
    project = PROJECTS[n % len(PROJECTS)]
    created = NOW - timedelta(days=DAYS * (1 - n / n_jira) ** 0.7, hours=rng.random() * 24)
    created = min(created, NOW - timedelta(hours=1))
    kind = rng.choices([ItemKind.STORY, ItemKind.TASK, ItemKind.BUG, ItemKind.SUBTASK], [60, 20, 15, 5])[0]
    points = float(rng.choice([1, 2, 3, 5, 8])) if kind != ItemKind.SUBTASK else None
    tr: list[Transition] = []
    iid = f"jira:{n}"

    def add(at: datetime, fld: TransitionField, **kw: str | None) -> None:
        tr.append(Transition(item_id=iid, change_id=f"{n}-{len(tr)}", field=fld, at=at, **kw))

    start = created + timedelta(days=rng.expovariate(1 / 6))
    review = start + timedelta(days=rng.expovariate(1 / 3))
    done = review + timedelta(days=rng.expovariate(1 / 2))
    status = "To Do"
    if start < NOW:
        add(start, TransitionField.STATUS, from_string="To Do", to_string="In Progress")
        status = "In Progress"
    if review < NOW:
        add(review, TransitionField.STATUS, from_string="In Progress", to_string="In Review")
        status = "In Review"
    if done < NOW and rng.random() < 0.97:
        add(done, TransitionField.STATUS, from_string="In Review", to_string="Done")
        status = "Done"
    # sprint membership: the sprint of the start, carried over until the sprint in which it is done
    plan = sprints[project]
    first = _sprint_at(plan, max(created, start - timedelta(days=2)))
    last = _sprint_at(plan, min(done, NOW)) if status == "Done" else _sprint_at(plan, NOW)
    last = min(last, first + 2)  # carried over at most twice, then back to the backlog
    members: list[Sprint] = []
    for k in range(first, last + 1):
        joined = max(created, (plan[k].start or NOW) - timedelta(days=1)) if k == first else plan[k - 1].complete
        assert joined is not None
        old = ", ".join(s.remote_id for s in members) or None
        members = [*members, plan[k]]
        add(min(joined, NOW - timedelta(minutes=1)), TransitionField.SPRINT, from_value=old,
            to_value=", ".join(s.remote_id for s in members))
    # estimate and assignee changes, then padding history up to per_item transitions
    estimate = points
    while len(tr) < per_item:
        at = created + (min(NOW, done) - created) * rng.random()
        if estimate is not None and rng.random() < 0.4:
            new = float(rng.choice([1, 2, 3, 5, 8, 13]))
            add(at, TransitionField.ESTIMATE, from_string=f"{estimate:g}", to_string=f"{new:g}")
            estimate = new
        else:
            add(at, TransitionField.ASSIGNEE, from_value=f"jira:u{rng.randrange(40)}", to_value=f"jira:u{rng.randrange(40)}")
    tr.sort(key=lambda t: t.at)
    for i, t in enumerate(tr):
        t.change_id = f"{n}-{i}"
    version = versions[project][_sprint_at(plan, min(done, NOW)) // 2]
    item = WorkItem(
        id=iid, source="jira", source_type="jira", remote_id=str(n), key=f"{project}-{n}", project=project,
        kind=kind, title=f"{kind.value.title()} number {n} with a realistic title length", status=status,
        status_category=STATUS[status], labels=rng.sample(["customer", "onboarding", "billing", "tech-debt"], 1),
        components=[rng.choice(["Signup", "Billing", "Core"])],
        assignee_id=None if rng.random() < 0.03 else f"jira:u{rng.randrange(40)}", reporter_id="jira:u0",
        created=created, updated=max([created, *(t.at for t in tr)]), resolved=done if status == "Done" else None,
        due=(created + timedelta(days=30)).date() if rng.random() < 0.05 else None, estimate=estimate,
        epic_key=f"{project}-EPIC-{n % 20}", sprint_ids=[s.id for s in members], release_ids=[version.id],
        flagged=rng.random() < 0.005,
        description="As a user I want things.\nAcceptance criteria: it works." if rng.random() < 0.9 else "Do it.",
        url=f"https://jira.example/browse/{project}-{n}",
    )
    return item, tr


def store_path(n_items: int, n_transitions: int) -> Path:
    """Where the store of that size is cached; "v2": the one whose transitions total exactly n_transitions."""
    return RESULTS / f"analysis-{n_items}-{n_transitions}-v2.db"


def ensure_store(n_items: int, n_transitions: int) -> Path:
    """The cached bench store of that size, built first where it is missing (the build time on stderr)."""
    RESULTS.mkdir(exist_ok=True)
    db = store_path(n_items, n_transitions)
    start = time.perf_counter()
    build_store(db, n_items, n_transitions)
    if time.perf_counter() - start > 1:
        print(f"store built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return db


def build_store(path: Path, n_items: int, n_transitions: int) -> None:
    """A store of n_items (10% of them pull requests) and about n_transitions, built once and reused."""
    if path.exists():
        return
    rng = random.Random(20260601)
    tmp = path.with_suffix(".tmp.db")
    for suffix in ("", "-wal", "-shm"):  # leftovers of an interrupted build
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    store = Store(f"sqlite:///{tmp}")
    store.upgrade()
    sprints = _sprints()
    versions = {p: [Release(id=f"jira:version:{p}:{k}", source="jira", remote_id=f"{p}{k}", kind=ReleaseKind.VERSION,
                            project=p, name=f"{p} 1.{k}", due=(NOW - timedelta(days=DAYS - 28 * k)).date(),
                            released=NOW - timedelta(days=DAYS - 28 * k) < NOW,
                            released_at=NOW - timedelta(days=DAYS - 28 * k) if NOW - timedelta(days=DAYS - 28 * k) < NOW else None)
                    for k in range(DAYS // 28 + 3)] for p in PROJECTS}
    gh_releases = [Release(id=f"gh:release:acme/{r}:{k}", source="gh", remote_id=str(k), kind=ReleaseKind.RELEASE,
                           project=f"acme/{r}", name=f"v{k}", released=True, released_at=NOW - timedelta(days=7 * k + 1))
                   for r in ("widget", "api") for k in range(DAYS // 7)]
    people = [Person(id=f"jira:u{k}", source="jira", display_name=f"Person {k}") for k in range(40)]
    n_jira = n_items * 9 // 10
    written = 0  # transitions so far: each item pads its history up to its share of what is left
    store.apply_batch("jira", Batch(sprints=[s for ss in sprints.values() for s in ss],
                                    releases=[v for vs in versions.values() for v in vs] + gh_releases, people=people))
    batch_items: list[WorkItem] = []
    batch_tr: list[Transition] = []
    batch_links: list[Link] = []
    keys: list[str] = []
    for n in range(n_jira):
        # item n's share: the budget up to item n+1 minus what was written, so the total is exact
        item, tr = _jira_item(rng, n, n_jira, sprints, versions, (n + 1) * n_transitions // n_jira - written)
        written += len(tr)
        keys.append(item.key)
        batch_items.append(item)
        batch_tr.extend(tr)
        if n > 100 and rng.random() < 0.02:
            batch_links.append(Link(from_id=f"jira:{n - rng.randrange(1, 100)}", kind=LinkKind.BLOCKS,
                                    to_key=item.key, to_id=item.id))
        if len(batch_items) == 2000:
            store.apply_batch("jira", Batch(items=batch_items, transitions=batch_tr, links=batch_links))
            batch_items, batch_tr, batch_links = [], [], []
    if batch_items:
        store.apply_batch("jira", Batch(items=batch_items, transitions=batch_tr, links=batch_links))
    pulls: list[PullRequest] = []
    prs: list[WorkItem] = []
    links: list[Link] = []
    for k in range(n_items - n_jira):
        repo = "acme/widget" if k % 2 else "acme/api"
        created = NOW - timedelta(days=DAYS * rng.random())
        merged = created + timedelta(hours=rng.expovariate(1 / 30))
        state = PullState.MERGED if merged < NOW else PullState.OPEN
        iid = f"gh:{k}"
        prs.append(WorkItem(id=iid, source="gh", source_type="github", remote_id=str(k), key=f"{repo}#{k}",
                            project=repo, kind=ItemKind.PULL_REQUEST, title=f"PR {k}",
                            status="closed" if state == PullState.MERGED else "open",
                            status_category=StatusCategory.DONE if state == PullState.MERGED else StatusCategory.IN_PROGRESS,
                            created=created, updated=min(merged, NOW), reporter_id="gh:dev",
                            resolved=merged if state == PullState.MERGED else None))
        review = created + timedelta(hours=rng.expovariate(1 / 8))
        pulls.append(PullRequest(
            item_id=iid, state=state, merged_at=merged if state == PullState.MERGED else None,
            additions=int(rng.expovariate(1 / 150)), deletions=int(rng.expovariate(1 / 60)), changed_files=3,
            reviews=[Review(author_id="gh:rev", state=ReviewState.APPROVED, submitted_at=review)] if review < NOW else [],
            checks=CheckConclusion.FAILURE if rng.random() < 0.05 else CheckConclusion.SUCCESS))
        links.append(Link(from_id=iid, kind=LinkKind.IMPLEMENTS, to_key=keys[rng.randrange(len(keys))]))
        if len(prs) == 2000:
            store.apply_batch("gh", Batch(items=prs, pulls=pulls, links=links))
            prs, pulls, links = [], [], []
    if prs:
        store.apply_batch("gh", Batch(items=prs, pulls=pulls, links=links))
    print(f"built {path.name}: {store.counts()}", file=sys.stderr)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(tmp) + suffix)
        if src.exists():
            src.rename(str(path) + suffix)


CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[3])  # the project root: bench.machine
from bench.machine import reference_cpu
from datetime import date, datetime
from syncd.reports.analysis import analyse
from syncd.reports.data import load_snapshot
from syncd.reports.goals import Goal, Metric, Selector
from syncd.settings_sections import ReportSettings
from syncd.store import Store

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

metric = Metric(name="Open customer bugs", baseline=500, target=100, computed="open-bugs",
                selector=Selector(labels=("customer",)))
goals = [
    Goal(id="widget", title="Widget GA", objective="o", problem="p", owner="Dana", target_date=date(2026, 9, 30),
         metric=metric, scope=Selector(projects=("WID",))),
    Goal(id="customer", title="Customer bugs", objective="o", problem="p", owner="Priya", target_date=date(2026, 8, 31),
         metric=metric, scope=Selector(labels=("customer",), kinds=("bug",))),
    Goal(id="signup", title="Signup", objective="o", problem="p", owner="Sam", target_date=date(2026, 7, 31),
         metric=metric, scope=Selector(components=("Signup",), projects=("WEB", "MOB"))),
]
store = Store(sys.argv[1])
rss0 = rss()
t0, c0 = time.perf_counter(), time.process_time()
snap = load_snapshot(store)
t1, c1 = time.perf_counter(), time.process_time()
rss1 = rss()
analysis = analyse(snap, goals, ReportSettings(), datetime.fromisoformat(sys.argv[2]))
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"load_s": t1 - t0, "analysis_s": t2 - t1, "load_cpu_s": c1 - c0, "analysis_cpu_s": c2 - c1,
                  "load_avg": os.getloadavg()[0], "reference_cpu_s": reference_cpu(), "rss_after_load_mib": rss1, "peak_rss_mib": rss(),
                  "rss_before_mib": rss0, "items": len(snap.items), "transitions": len(snap.history.at),
                  "risks": len(analysis.risks), "themes": len(analysis.themes),
                  "hygiene": len(analysis.hygiene.signals), "sprints": len(analysis.sprints), "releases": len(analysis.releases)}))
"""


def run_once(db: Path) -> dict[str, float]:
    """One child process: load + analysis timings and RSS."""
    out = subprocess.run([sys.executable, "-c", CHILD, f"sqlite:///{db}", NOW.isoformat(), str(ROOT)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--transitions", type=int, default=1_000_000)
    args = parser.parse_args()
    db = ensure_store(args.items, args.transitions)
    runs = [run_once(db) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"items {med['items']:.0f}, transitions {med['transitions']:.0f}, risks {med['risks']:.0f} "
          f"(in {med['themes']:.0f} themes, {med['hygiene']:.0f} hygiene), "
          f"sprints {med['sprints']:.0f}, releases {med['releases']:.0f}  (median of {args.runs} runs)")
    print(f"load      {med['load_s']:6.2f} s (CPU {med['load_cpu_s']:5.2f} s)   RSS after load {med['rss_after_load_mib']:7.1f} MiB")
    print(f"analysis  {med['analysis_s']:6.2f} s (CPU {med['analysis_cpu_s']:5.2f} s)   peak RSS       "
          f"{med['peak_rss_mib']:7.1f} MiB (analysis added {med['peak_rss_mib'] - med['rss_after_load_mib']:.1f} MiB)")
    print(f"machine load average during the runs: {med['load_avg']:.1f} on {os.cpu_count()} CPUs "
          "(wall times stretch when it exceeds the CPU count)")
    print(f"reference loop {med['reference_cpu_s']:.2f} s CPU (a fixed workload: compare across machines and runs)")
    ok = med["analysis_s"] < 2 and med["peak_rss_mib"] < 1024
    print(f"target (analysis < 2 s, peak < 1 GiB): {'met' if ok else 'MISSED'}")
    (RESULTS / "analysis.json").write_text(json.dumps({"bench": "analysis", "median_of": args.runs,
                                                       "median": med, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
