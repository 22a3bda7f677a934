"""One release across Jira and GitHub: a fix version, a milestone and GitHub releases (tags) joined.

A release is planned as a Jira fix version ("Widget 2.6"), tracked as a GitHub milestone ("v2.6")
and shipped as GitHub releases (tags `v2.6.0-rc1`, `v2.6.0`). `join_releases` joins them by a
normalised version (`normalise_version`: the product word(s) before the first number, a leading
"v" and trailing ".0" groups stripped; a pre-release suffix such as "-rc1" or " RC1" is kept
apart), per team: a Jira project and the GitHub repositories paired with it. A repository's
Jira project comes from its pull requests' links to Jira items (the project most of them name),
limited to the GitHub source's `jira_projects` when it sets them; a source that names exactly one
project pairs each of its repositories with it. What the rule cannot join is joined by explicit
map entries (`[[releases.map]]`).

The joined release's id is its Jira version's record id when it has one (else the milestone's,
else the GitHub release's), so it stays stable as GitHub parts come and go. Its state:
`released` (to production: a published GitHub release that is neither draft nor pre-release, or a
released Jira version), `pre-release` (only release candidates or drafts exist), or `planned`.
Its date is the production release's: the published production GitHub release (when code is
deployed) or, without one, the Jira version's release date.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Protocol

from syncd.model import ItemKind, LinkKind, Release, ReleaseKind, SourceType
from syncd.reports.data import Snapshot

_VERSION = re.compile(r"(\d+(?:\.\d+)*)(.*)$")
_SUFFIX_SEP = re.compile(r"^[\s._+-]+")


class ReleaseState(StrEnum):
    """Where a joined release stands."""

    PLANNED = "planned"
    PRERELEASE = "pre-release"  # release candidates or drafts exist, nothing in production
    RELEASED = "released"  # in production


class MapEntry(Protocol):
    """One explicit join (`[[releases.map]]` in the config): the parts that are one release."""

    @property
    def name(self) -> str | None: ...
    @property
    def jira_project(self) -> str | None: ...
    @property
    def jira_version(self) -> str | None: ...
    @property
    def repo(self) -> str | None: ...
    @property
    def milestone(self) -> str | None: ...
    @property
    def tags(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class JoinConfig:
    """What the join reads from the configuration (built at the edge, in syncd.reporting)."""

    # GitHub source name -> the Jira projects its pull requests may name (its `jira_projects`)
    jira_projects: Mapping[str, Sequence[str]] = field(default_factory=dict)
    map: Sequence[MapEntry] = ()
    # what counts as production ([delivery]): released Jira versions, and tags that mark a pre-release
    jira_released_is_production: bool = True
    prerelease_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class JoinedRelease:
    """One release with its parts (Jira version, milestones, GitHub releases) and how they were joined."""

    id: str  # the Jira version's record id where there is one
    name: str
    version: str | None  # the normalised version ("2.6"), None for a name without a number
    team: str  # the Jira project (or, unpaired, the repository) it belongs to
    parts: tuple[Release, ...]  # Jira version first, then milestones, then GitHub releases by date
    state: ReleaseState
    released_at: datetime | None  # the production release's date
    due: date | None
    how: str  # "version 2.6 of WID (acme/widget)" / "map entry 1" / "unmatched"
    release: Release  # the joined release as one record (id, name, state, date, primary part's link)

    @property
    def part_ids(self) -> frozenset[str]:
        """Record ids of every part."""
        return frozenset(p.id for p in self.parts)

    @property
    def production_parts(self) -> list[Release]:
        """The parts that are a production release (the join's rules decided `state`; these are its evidence)."""
        return [p for p in self.parts if is_production(p)] if self.state == ReleaseState.RELEASED else []


@dataclass(frozen=True, slots=True)
class ReleaseJoin:
    """Every joined release, the repository -> Jira project pairing used, and map problems."""

    releases: list[JoinedRelease]  # by team, then version
    pairs: dict[str, str]  # repository -> Jira project
    problems: list[str]  # map entries naming parts that do not exist, parts named twice

    @property
    def of_part(self) -> dict[str, str]:
        """Part record id -> joined release id."""
        return {p.id: j.id for j in self.releases for p in j.parts}

    @property
    def by_id(self) -> dict[str, JoinedRelease]:
        """Joined releases by id."""
        return {j.id: j for j in self.releases}


def normalise_version(name: str) -> tuple[str, str] | None:
    """("2.6", "") for "Widget 2.6", "v2.6" and "v2.6.0"; ("2.7", "rc1") for "Widget 2.7 RC1"; None without a number."""
    m = _VERSION.search(name)
    if m is None:
        return None
    parts = m.group(1).split(".")
    while len(parts) > 1 and parts[-1].strip("0") == "":  # 2.6.0 -> 2.6, 2.0.0 -> 2
        parts.pop()
    suffix = _SUFFIX_SEP.sub("", m.group(2)).strip().casefold()
    return ".".join(str(int(p)) for p in parts), suffix


def is_production(r: Release, config: JoinConfig | None = None) -> bool:
    """A production release: a published non-draft, non-pre-release GitHub release, or a released Jira version
    (unless `jira_released_is_production` is off); a tag matching `prerelease_pattern` is a pre-release."""
    config = config or _DEFAULT
    if r.kind == ReleaseKind.RELEASE:
        return r.released and not r.draft and not r.prerelease and r.released_at is not None \
            and not _marked_prerelease(r, config)
    return r.kind == ReleaseKind.VERSION and r.released and config.jira_released_is_production


def is_prerelease(r: Release, config: JoinConfig | None = None) -> bool:
    """A GitHub release that is a release candidate or a draft."""
    return r.kind == ReleaseKind.RELEASE and (r.draft or r.prerelease or _marked_prerelease(r, config or _DEFAULT))


def _marked_prerelease(r: Release, config: JoinConfig) -> bool:
    return config.prerelease_pattern is not None and re.search(config.prerelease_pattern, r.tag or r.name) is not None


_DEFAULT = JoinConfig()


def repo_pairs(snap: Snapshot, jira_projects: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Repository -> Jira project: the project its pull requests link to most (within its source's
    `jira_projects`), else its source's only project."""
    votes: dict[str, Counter[str]] = {}
    source_of: dict[str, str] = {}
    for item in snap.items:
        if item.source_type == SourceType.GITHUB:
            source_of.setdefault(item.project, item.source)
    for r in snap.releases:
        if r.kind != ReleaseKind.VERSION:
            source_of.setdefault(r.project, r.source)
    by_id = snap.item_by_id
    for link in snap.links:
        if link.kind != LinkKind.IMPLEMENTS:
            continue
        pr = by_id.get(link.from_id)
        target = (by_id.get(link.to_id) if link.to_id else None) or snap.item_by_key.get(link.to_key)
        if pr is None or target is None or pr.kind != ItemKind.PULL_REQUEST or target.source_type != SourceType.JIRA:
            continue
        allowed = jira_projects.get(pr.source)
        if allowed and target.project not in allowed:
            continue
        counted = votes.get(pr.project)
        if counted is None:  # not setdefault(..., Counter()): that builds a Counter for every link
            counted = votes[pr.project] = Counter()
        counted[target.project] += 1
    out: dict[str, str] = {}
    for repo, source in source_of.items():
        counted = votes.get(repo)
        if counted:  # most links; ties broken by project key so the pairing is stable
            out[repo] = min(counted.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        elif len(allowed := jira_projects.get(source, ())) == 1:
            out[repo] = allowed[0]
    return out


def _team(r: Release, pairs: Mapping[str, str]) -> str:
    return r.project if r.kind == ReleaseKind.VERSION else pairs.get(r.project, r.project)


def _mapped(snap: Snapshot, entries: Sequence[MapEntry]) -> tuple[list[tuple[int, list[Release]]], list[str]]:
    """The parts each map entry names (entries numbered from 1), and what could not be found."""
    problems: list[str] = []
    groups: list[tuple[int, list[Release]]] = []
    taken: dict[str, int] = {}
    for n, e in enumerate(entries, start=1):
        wanted: list[tuple[str, ReleaseKind, str | None, str]] = []
        if e.jira_version:
            wanted.append(("Jira version", ReleaseKind.VERSION, e.jira_project, e.jira_version))
        if e.milestone:
            wanted.append(("milestone", ReleaseKind.MILESTONE, e.repo, e.milestone))
        wanted += [("GitHub release tag", ReleaseKind.RELEASE, e.repo, t) for t in e.tags]
        parts: list[Release] = []
        for what, kind, project, name in wanted:
            found = [r for r in snap.releases if r.kind == kind and (project is None or r.project == project)
                     and (r.tag == name if kind == ReleaseKind.RELEASE else r.name == name)]
            if not found:
                where = f" in {project}" if project else ""
                problems.append(f"releases.map[{n}]: no {what} {name!r}{where}")
            for r in found:
                if r.id in taken:
                    problems.append(f"releases.map[{n}]: {what} {name!r} is already joined by releases.map[{taken[r.id]}]")
                    continue
                taken[r.id] = n
                parts.append(r)
        if parts:
            groups.append((n, parts))
    return groups, problems


def _order(r: Release) -> tuple[int, datetime, str]:
    kind = {ReleaseKind.VERSION: 0, ReleaseKind.MILESTONE: 1, ReleaseKind.RELEASE: 2}[r.kind]
    return kind, r.released_at or datetime.max.replace(tzinfo=UTC), r.id


def _joined(parts: list[Release], team: str, version: str | None, how: str, config: JoinConfig,
            name: str | None = None) -> JoinedRelease:
    parts = sorted(parts, key=_order)
    primary = parts[0]
    production = [p for p in parts if is_production(p, config)]
    gh = [p.released_at for p in production if p.kind == ReleaseKind.RELEASE and p.released_at is not None]
    jira = [p.released_at for p in production if p.kind == ReleaseKind.VERSION and p.released_at is not None]
    released_at = min(gh) if gh else (min(jira) if jira else None)
    if production:
        state = ReleaseState.RELEASED
    elif any(is_prerelease(p, config) for p in parts):
        state = ReleaseState.PRERELEASE
    else:
        state = ReleaseState.PLANNED
    planned = [p for p in parts if p.kind != ReleaseKind.RELEASE]
    title = name or (planned[0].name if planned else primary.name)
    dues = [p.due for p in planned if p.due is not None]
    due = dues[0] if dues else None
    one = Release(id=primary.id, source=primary.source, remote_id=primary.remote_id, kind=primary.kind,
                  project=primary.project, name=title, description=primary.description, due=due,
                  released_at=released_at, released=state == ReleaseState.RELEASED,
                  prerelease=state == ReleaseState.PRERELEASE, tag=next((p.tag for p in parts if p.tag), None),
                  url=primary.url)
    return JoinedRelease(id=primary.id, name=title, version=version, team=team, parts=tuple(parts), state=state,
                         released_at=released_at, due=due, how=how, release=one)


def join_releases(snap: Snapshot, config: JoinConfig | None = None) -> ReleaseJoin:
    """Join the snapshot's fix versions, milestones and GitHub releases into one release per version and team."""
    config = config or JoinConfig()
    pairs = repo_pairs(snap, config.jira_projects)
    groups, problems = _mapped(snap, config.map)
    out: list[JoinedRelease] = []
    taken: set[str] = set()
    for n, parts in groups:
        entry = config.map[n - 1]
        taken.update(p.id for p in parts)
        planned = [p for p in parts if p.kind != ReleaseKind.RELEASE] or parts
        v = normalise_version(planned[0].name) or (normalise_version(planned[0].tag) if planned[0].tag else None)
        out.append(_joined(parts, _team(planned[0], pairs), v[0] if v else None, f"releases.map[{n}]", config,
                           entry.name))
    by_key: dict[tuple[str, str], list[Release]] = {}
    alone: list[Release] = []
    for r in snap.releases:
        if r.id in taken:
            continue
        v = normalise_version(r.tag) if r.kind == ReleaseKind.RELEASE and r.tag else None
        v = v or normalise_version(r.name)
        if v is None:
            alone.append(r)
            continue
        by_key.setdefault((_team(r, pairs), v[0]), []).append(r)
    for (team, version), parts in by_key.items():
        repos = sorted({p.project for p in parts if p.kind != ReleaseKind.VERSION})
        where = f"{team} ({', '.join(repos)})" if repos and repos != [team] else team
        how = f"version {version} of {where}" if len(parts) > 1 else "unmatched"
        out.append(_joined(parts, team, version, how, config))
    out += [_joined([r], _team(r, pairs), None, "unmatched (no version number in its name)", config) for r in alone]
    out.sort(key=lambda j: (j.team, _version_order(j.version), j.name))
    return ReleaseJoin(releases=out, pairs=pairs, problems=problems)


def _version_order(v: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split(".")) if v else (1 << 30,)


def production_times(join: ReleaseJoin) -> dict[str, list[datetime]]:
    """Repository -> when production releases went out (sorted): each joined release once, at its date,
    for the repositories it was tagged in on GitHub (or, released in Jira only, its milestones'
    repositories and those paired with its team)."""
    repos_of_team: dict[str, set[str]] = {}
    for repo, team in join.pairs.items():
        repos_of_team.setdefault(team, set()).add(repo)
    out: dict[str, list[datetime]] = {}
    for j in join.releases:
        if j.state != ReleaseState.RELEASED or j.released_at is None:
            continue
        tagged = {p.project for p in j.production_parts if p.kind == ReleaseKind.RELEASE}
        # a release tagged on GitHub shipped those repositories; one released in Jira only shipped the team's
        repos = tagged or ({p.project for p in j.parts if p.kind != ReleaseKind.VERSION} | repos_of_team.get(j.team, set()))
        for repo in repos:
            out.setdefault(repo, []).append(j.released_at)
    return {repo: sorted(set(ts)) for repo, ts in out.items()}


def describe_join(join: ReleaseJoin) -> Iterable[str]:
    """Lines for `syncd releases`: each release, its state and date, how it was joined, and its parts."""
    for repo, project in sorted(join.pairs.items()):
        yield f"pair: {repo} -> {project}"
    for j in join.releases:
        when = f" {j.released_at.date().isoformat()}" if j.released_at else (f" due {j.due}" if j.due else "")
        yield f"{j.id}\t{j.name}\t{j.state.value}{when}\t[{j.how}]"
        for p in j.parts:
            flags = [f for f, on in (("draft", p.draft), ("pre-release", p.prerelease), ("released", p.released)) if on]
            label = p.tag if p.kind == ReleaseKind.RELEASE and p.tag else p.name
            yield f"  {str(p.kind):<9} {p.project} {label!s}{' (' + ', '.join(flags) + ')' if flags else ''}" \
                  f"{'  ' + p.url if p.url else ''}"
    for line in join.problems:
        yield f"problem: {line}"
