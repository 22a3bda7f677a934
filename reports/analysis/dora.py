"""DORA's four keys, each counted once, overall and per team, with the performance band each falls in.

The definitions are those of the DORA research program (DevOps Research and Assessment, Google
Cloud: "Accelerate State of DevOps Report 2023", https://dora.dev/research/2023/dora-report/, and
the four keys at https://dora.dev/guides/dora-metrics-four-keys/; the 2023 report renamed "time to
restore service" to "failed deployment recovery time"; bands summarised e.g. by Octopus Deploy,
https://octopus.com/blog/software-delivery-performance-clusters-2023):

- Deployment frequency: how often changes reach production. Here a production release (a joined
  release, see `releases`, counted once however many of its parts say so) dated in the window.
- Lead time for changes: the time from a change being committed to running in production. Here
  from a pull request's merge to the first production release of its repository at or after it
  (a release is cut from the default branch, which holds every merge before it); PRs merged in
  the window whose production release went out by `now`.
- Change failure rate: the share of deployments that cause a failure in production needing
  remediation (hotfix, rollback, patch). Here a production release followed within
  `change_failure_window_days` by a hotfix release of its team (name or tag matching
  `hotfix_pattern`), a merged revert PR in its repositories (title matching `revert_pattern`),
  or an incident or bug labelled `<caused_by_label_prefix><version>` naming it.
- Time to restore (failed deployment recovery time): how long it takes to recover from a failure
  in production. Here incident items (`incident_labels`, `incident_kinds`) from created to
  resolved, for incidents resolved in the window.

Bands (2023 report's clusters), taken on the median: deployment frequency elite on demand (daily
or more), high between once a day and once a week, medium between once a week and once a month,
low less often; lead time elite under a day, high under a week, medium under a month, low longer;
change failure rate elite 5% or less, high 10%, medium 15%, low above; time to restore elite under
an hour, high under a day, medium under a week, low longer.

Per team: a release counts for the team of its release line (a Jira project and the repositories paired
with it, or a repository of its own), a merge or an incident for its item's; with `[teams]` those
are grouped by the configured team that holds the item or lists the project (`TeamMap`), so one
team's two products are one row. A hotfix still has to be of the same release line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from syncd.model import ItemKind, PullState, ReleaseKind, WorkItem
from syncd.reports.analysis.releases import JoinedRelease, ReleaseJoin, ReleaseState, normalise_version
from syncd.reports.analysis.types import Dora, DoraKey, Percentiles, TeamMap
from syncd.reports.data import Snapshot

HOUR = 3600.0
WEEKS_PER_MONTH = 52 / 12


class DeliveryConventions(Protocol):
    """What DORA reads from the `[delivery]` settings (`syncd.settings.DeliverySettings` has it all)."""

    @property
    def hotfix_pattern(self) -> str: ...
    @property
    def revert_pattern(self) -> str: ...
    @property
    def incident_labels(self) -> Sequence[str]: ...
    @property
    def incident_kinds(self) -> Sequence[str]: ...
    @property
    def caused_by_label_prefix(self) -> str: ...
    @property
    def change_failure_window_days(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Conventions:
    """The `[delivery]` defaults (see config/syncd.example.toml)."""

    hotfix_pattern: str = r"(?i)hotfix|^v?\d+\.\d+\.[1-9]\d*$"
    revert_pattern: str = r'(?i)^revert\b'
    incident_labels: Sequence[str] = ("incident",)
    incident_kinds: Sequence[str] = ()
    caused_by_label_prefix: str = "caused-by:"
    change_failure_window_days: int = 7


def _percentiles(values: Iterable[float], unit: str) -> Percentiles | None:
    from syncd.reports.analysis.flow import percentiles

    return percentiles(values, unit)


def frequency_band(per_week: float) -> str:
    """The band of a deployment frequency (deployments per week)."""
    if per_week >= 7:
        return "elite"
    if per_week >= 1:
        return "high"
    if per_week >= 1 / WEEKS_PER_MONTH:
        return "medium"
    return "low"


def lead_time_band(hours: float) -> str:
    """The band of a median lead time for changes."""
    return "elite" if hours < 24 else "high" if hours < 24 * 7 else "medium" if hours < 24 * 30 else "low"


def failure_rate_band(percent: float) -> str:
    """The band of a change failure rate."""
    return "elite" if percent <= 5 else "high" if percent <= 10 else "medium" if percent <= 15 else "low"


def restore_band(hours: float) -> str:
    """The band of a median time to restore."""
    return "elite" if hours < 1 else "high" if hours < 24 else "medium" if hours < 24 * 7 else "low"


@dataclass
class _Team:
    deployments: list[JoinedRelease] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # names of failed deployments
    lead: list[float] = field(default_factory=list)
    restore: list[float] = field(default_factory=list)


def _repos_of(j: JoinedRelease, join: ReleaseJoin) -> set[str]:
    repos = {p.project for p in j.parts if p.kind != ReleaseKind.VERSION}
    return repos | {repo for repo, team in join.pairs.items() if team == j.team}


def _is_incident(item: WorkItem, labels: set[str], kinds: set[str]) -> bool:
    return str(item.kind) in kinds or not labels.isdisjoint(label.casefold() for label in item.labels)


def _reverts(snap: Snapshot, revert: re.Pattern[str]) -> list[tuple[datetime, str, str]]:
    """(merged at, repository, key) of each merged pull request whose title says it reverts, in pull order.

    Read once: each production release looks only at these, not at every pull request (issue 18 item 4).
    """
    out = []
    for pull in snap.pulls:
        item = snap.item_by_id.get(pull.item_id)
        if item is None or pull.state != PullState.MERGED or pull.merged_at is None or not revert.search(item.title):
            continue
        out.append((pull.merged_at, item.project, item.key))
    return out


def _failure(j: JoinedRelease, join: ReleaseJoin, reverts: list[tuple[datetime, str, str]], conv: DeliveryConventions,
             hotfix: re.Pattern[str], production: list[JoinedRelease], caused: dict[tuple[str, str], str],
             now: datetime) -> str | None:
    """Why the production release `j` counts as failed, or None."""
    assert j.released_at is not None
    until = min(now, j.released_at + timedelta(days=conv.change_failure_window_days))
    for other in production:
        if other.id == j.id or other.team != j.team or other.released_at is None \
                or not j.released_at < other.released_at <= until:
            continue
        names = [other.name, *(p.tag or p.name for p in other.parts if p.kind == ReleaseKind.RELEASE)]
        if any(hotfix.search(n) for n in names):
            return f"hotfix release {other.name}"
    repos = _repos_of(j, join)
    for merged_at, repo, pull_key in reverts:
        if repo in repos and j.released_at < merged_at <= until:
            return f"revert {pull_key}"
    if j.version is not None and (key := caused.get((j.team, j.version))) is not None:
        return f"{key} caused by it"
    return None


def _caused_by(snap: Snapshot, join: ReleaseJoin, prefix: str) -> dict[tuple[str, str], str]:
    """(team, version) -> the first item (by key) labelled as caused by that release."""
    out: dict[tuple[str, str], str] = {}
    prefix = prefix.casefold()
    # the few labelled items, then sorted (stable: the same order as sorting them all first)
    labelled = [i for i in snap.items if i.labels and any(label.casefold().startswith(prefix) for label in i.labels)]
    for item in sorted(labelled, key=lambda i: i.key):
        for label in item.labels:
            if label.casefold().startswith(prefix) and (v := normalise_version(label[len(prefix):])) is not None:
                out.setdefault((_team_of_item(item, join), v[0]), item.key)
    return out


def _team_of_item(item: WorkItem, join: ReleaseJoin) -> str:
    return join.pairs.get(item.project, item.project)


def _dora(team: str, t: _Team, weeks: int, basis: str) -> Dora:
    n = len(t.deployments)
    per_week = n / weeks
    lead = _percentiles(t.lead, "hours")
    restore = _percentiles(t.restore, "hours")
    cfr = 100.0 * len(t.failed) / n if n else None
    return Dora(
        deployments=n, per_week=per_week, lead_time_for_changes_hours=lead, basis=basis, team=team,
        deployment_frequency=DoraKey(value=per_week, unit="per week", sample=n, band=frequency_band(per_week)),
        lead_time_for_changes=DoraKey(value=lead.p50 if lead else None, unit="hours (p50)",
                                      sample=lead.count if lead else 0,
                                      band=lead_time_band(lead.p50) if lead else None),
        change_failure_rate=DoraKey(value=cfr, unit="%", sample=n, band=failure_rate_band(cfr) if cfr is not None else None,
                                    detail=", ".join(t.failed)),
        time_to_restore=DoraKey(value=restore.p50 if restore else None, unit="hours (p50)",
                                sample=restore.count if restore else 0,
                                band=restore_band(restore.p50) if restore else None),
    )


def dora_keys(snap: Snapshot, join: ReleaseJoin, first_release_after: FirstRelease, now: datetime, weeks: int,
              conv: DeliveryConventions | None = None,
              team_map: TeamMap | None = None) -> tuple[Dora | None, dict[str, Dora]]:
    """The four keys over the last `weeks` weeks: overall and per team (None overall: never released);
    `team_map`: the configured teams (default: each release line is a team)."""
    conv = conv or Conventions()
    tm = team_map or TeamMap()

    def item_team(item: WorkItem) -> str:
        return tm.by_item.get(item.id) or tm.of_project(_team_of_item(item, join))

    production = [j for j in join.releases if j.state == ReleaseState.RELEASED and j.released_at is not None]
    if not production:
        return None, {}
    start = now - timedelta(days=7 * weeks)
    hotfix, revert = re.compile(conv.hotfix_pattern), re.compile(conv.revert_pattern)
    caused = _caused_by(snap, join, conv.caused_by_label_prefix)
    reverts = _reverts(snap, revert)
    teams: dict[str, _Team] = {}
    overall = _Team()
    for j in production:
        assert j.released_at is not None
        if not start <= j.released_at < now:
            continue
        t = teams.setdefault(tm.of_project(j.team), _Team())
        for bucket in (t, overall):
            bucket.deployments.append(j)
        why = _failure(j, join, reverts, conv, hotfix, production, caused, now)
        if why is not None:
            for bucket in (t, overall):
                bucket.failed.append(f"{j.name} ({why})")
    for pull in snap.pulls:
        item = snap.item_by_id.get(pull.item_id)
        if item is None or pull.merged_at is None or not start <= pull.merged_at < now:
            continue
        released = first_release_after(item.project, pull.merged_at)
        if released is not None and released <= now:
            hours = (released - pull.merged_at).total_seconds() / HOUR
            for bucket in (teams.setdefault(item_team(item), _Team()), overall):
                bucket.lead.append(hours)
    labels = {label.casefold() for label in conv.incident_labels}
    kinds = {str(ItemKind(k)) for k in conv.incident_kinds}
    for item in snap.items:
        if item.resolved is None or not start <= item.resolved < now or not _is_incident(item, labels, kinds):
            continue
        hours = max(0.0, (item.resolved - item.created).total_seconds() / HOUR)
        for bucket in (teams.setdefault(item_team(item), _Team()), overall):
            bucket.restore.append(hours)
    basis = "production releases (published GitHub releases that are neither draft nor pre-release, released Jira " \
            "versions), each joined release once"
    return _dora("all", overall, weeks, basis), {name: _dora(name, teams[name], weeks, basis) for name in sorted(teams)}


class FirstRelease(Protocol):
    """`ReleaseClock.first_release_after`: the first production release of a repository at or after a time."""

    def __call__(self, repo: str, at: datetime, /) -> datetime | None: ...
