"""One release across Jira and GitHub: the join on worked cases, pre-releases and drafts, the map."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from syncd.model import PullState, Release, ReleaseKind
from syncd.reports.analysis import analyse
from syncd.reports.analysis.releases import JoinConfig, ReleaseState, join_releases, normalise_version
from tests.unit.analysis_factories import Plan, Settings, day


def gh(p: Plan, repo: str, name: str, *, tag: str | None = None, at: datetime | None = None, prerelease: bool = False,
       draft: bool = False) -> Release:
    """A GitHub release (published at `at`; a draft has no publish time)."""
    n = len(p.releases)
    rel = Release(id=f"gh:release:{repo}:{n}", source="gh", remote_id=str(n), kind=ReleaseKind.RELEASE, project=repo,
                  name=name, tag=tag, released_at=None if draft else at, released=not draft and at is not None,
                  prerelease=prerelease, draft=draft, url=f"https://github.example/{repo}/releases/tag/{tag or name}")
    p.releases.append(rel)
    return rel


def milestone(p: Plan, repo: str, title: str, *, due: date | None = None, closed: datetime | None = None) -> Release:
    n = len(p.releases)
    rel = Release(id=f"gh:milestone:{repo}:{n}", source="gh", remote_id=str(n), kind=ReleaseKind.MILESTONE,
                  project=repo, name=title, due=due, released_at=closed, released=closed is not None,
                  url=f"https://github.example/{repo}/milestone/{n}")
    p.releases.append(rel)
    return rel


@dataclass(frozen=True)
class Entry:
    """A `[[releases.map]]` entry as the settings give it."""

    name: str | None = None
    jira_project: str | None = None
    jira_version: str | None = None
    repo: str | None = None
    milestone: str | None = None
    tags: list[str] = field(default_factory=list)


def linked(p: Plan, repo: str, project: str = "WID") -> None:
    """One merged PR of `repo` implementing an item of `project`: pairs the repository with the project."""
    p.pull(repo, implements=p.item(project=project), state=PullState.MERGED, merged_at=day(1))


@pytest.mark.parametrize(("name", "expected"), [
    ("Widget 2.6", ("2.6", "")), ("v2.6", ("2.6", "")), ("v2.6.0", ("2.6", "")), ("2.6.0.0", ("2.6", "")),
    ("Widget Pro 2.10", ("2.10", "")), ("v2.7.0-rc1", ("2.7", "rc1")), ("Widget 2.7 RC1", ("2.7", "rc1")),
    ("Gadget 5.0", ("5", "")), ("v5.0.0", ("5", "")), ("v10", ("10", "")), ("Spring train", None),
])
def test_normalise_version(name: str, expected: tuple[str, str] | None) -> None:
    assert normalise_version(name) == expected


def test_matching_names_join_per_project_and_repository_pair() -> None:
    p = Plan()
    linked(p, "acme/widget")
    v = p.version("Widget 2.6", due=date(2026, 4, 1))
    m = milestone(p, "acme/widget", "v2.6", due=date(2026, 4, 1))
    rc = gh(p, "acme/widget", "Widget 2.6 RC1", tag="v2.6.0-rc1", at=day(20), prerelease=True)
    final = gh(p, "acme/widget", "Widget 2.6", tag="v2.6.0", at=day(30))
    other = gh(p, "acme/gadget", "Gadget 2.6", tag="v2.6.0", at=day(31))  # same number, repository not paired
    join = join_releases(p.snapshot())
    assert join.pairs == {"acme/widget": "WID"}
    by_id = join.by_id
    j = by_id[v.id]  # the joined release keeps the Jira version's id
    assert [x.id for x in j.parts] == [v.id, m.id, rc.id, final.id]
    assert (j.name, j.version, j.team, j.state) == ("Widget 2.6", "2.6", "WID", ReleaseState.RELEASED)
    assert j.released_at == day(30)  # the production release's date, not the RC's
    assert j.release.released and j.release.due == date(2026, 4, 1)
    assert by_id[other.id].parts == (other,)  # acme/gadget has no Jira project: its own release
    assert len(join.releases) == 2


def test_names_that_do_not_match_stay_apart() -> None:
    p = Plan()
    linked(p, "acme/widget")
    v = p.version("Widget 2.6")
    m = milestone(p, "acme/widget", "v2.7")  # another version
    train = milestone(p, "acme/widget", "Spring train")  # no number at all
    join = join_releases(p.snapshot())
    assert sorted(len(j.parts) for j in join.releases) == [1, 1, 1]
    assert {j.id for j in join.releases} == {v.id, m.id, train.id}
    assert join.by_id[train.id].how.startswith("unmatched")


def test_milestone_without_jira_version_is_a_release_of_its_own() -> None:
    p = Plan()
    linked(p, "acme/widget")
    m = milestone(p, "acme/widget", "v3.0", due=date(2026, 4, 20))
    issue = p.item(release_ids=[m.id])
    tag = gh(p, "acme/widget", "v3.0.0", tag="v3.0.0", draft=True)
    join = join_releases(p.snapshot())
    j = join.by_id[m.id]
    assert [x.id for x in j.parts] == [m.id, tag.id]
    assert (j.team, j.state, j.released_at) == ("WID", ReleaseState.PRERELEASE, None)  # a draft is not production
    an = analyse(p.snapshot(), [], Settings(), day(10))
    assert [r.release.id for r in an.releases] == [m.id]
    assert an.releases[0].progress.counts.items_total == 1 and an.releases[0].release.state == "pre-release"
    assert issue.id in {i.id for i in p.snapshot().items_by_release[m.id]}


def test_prerelease_and_draft_are_not_production() -> None:
    p = Plan()
    linked(p, "acme/widget")
    v = p.version("Widget 2.7")
    gh(p, "acme/widget", "Widget 2.7 RC1", tag="v2.7.0-rc1", at=day(5), prerelease=True)
    gh(p, "acme/widget", "Widget 2.7", tag="v2.7.0", draft=True)
    planned = p.version("Widget 2.8")
    join = join_releases(p.snapshot())
    assert join.by_id[v.id].state == ReleaseState.PRERELEASE and join.by_id[v.id].released_at is None
    assert join.by_id[planned.id].state == ReleaseState.PLANNED
    # a released Jira version is production, dated by Jira when no GitHub release is published
    shipped = p.version("Widget 2.5", released_at=day(3))
    assert join_releases(p.snapshot()).by_id[shipped.id].state == ReleaseState.RELEASED
    assert join_releases(p.snapshot()).by_id[shipped.id].released_at == day(3)


def test_pairing_follows_pr_links_within_the_sources_jira_projects() -> None:
    p = Plan()
    for _ in range(3):
        linked(p, "acme/widget", "OPS")  # most links name OPS ...
    linked(p, "acme/widget", "WID")
    snap = p.snapshot()
    assert join_releases(snap).pairs == {"acme/widget": "OPS"}
    # ... but the source may only name WID
    assert join_releases(snap, JoinConfig(jira_projects={"gh": ["WID"]})).pairs == {"acme/widget": "WID"}
    # a source without links that names one project pairs with it
    q = Plan()
    milestone(q, "acme/solo", "v1.0")
    assert join_releases(q.snapshot(), JoinConfig(jira_projects={"gh": ["WID"]})).pairs == {"acme/solo": "WID"}


def test_explicit_map_joins_what_the_rule_cannot() -> None:
    p = Plan()
    linked(p, "acme/widget")
    v = p.version("Widget 2.6")
    m = milestone(p, "acme/widget", "Spring train")
    t = gh(p, "acme/widget", "w-26", tag="w-26", at=day(9))
    entry = Entry(name="Widget 2.6 (spring)", jira_project="WID", jira_version="Widget 2.6", repo="acme/widget",
                  milestone="Spring train", tags=["w-26"])
    join = join_releases(p.snapshot(), JoinConfig(map=[entry]))
    assert len(join.releases) == 1
    j = join.releases[0]
    assert (j.id, j.name, j.how, j.state, j.released_at) == (v.id, "Widget 2.6 (spring)", "releases.map[1]",
                                                             ReleaseState.RELEASED, day(9))
    assert {x.id for x in j.parts} == {v.id, m.id, t.id}
    assert join.problems == []
    bad = Entry(jira_project="WID", jira_version="Widget 9.9", repo="acme/widget", milestone="Spring train")
    assert join_releases(p.snapshot(), JoinConfig(map=[bad])).problems == [
        "releases.map[1]: no Jira version 'Widget 9.9' in WID"]


def test_every_release_is_one_row_with_its_parts_and_risks_attributed_to_it() -> None:
    p = Plan()
    linked(p, "acme/widget")
    v = p.version("Widget 2.6", due=date(2026, 3, 5))
    m = milestone(p, "acme/widget", "v2.6", due=date(2026, 3, 5))
    gh(p, "acme/widget", "Widget 2.6", tag="v2.6.0", draft=True)
    jira_item = p.item(release_ids=[v.id])
    gh_issue = p.item(release_ids=[m.id], project="acme/widget")
    an = analyse(p.snapshot(), [], Settings(), day(10))
    assert [r.release.id for r in an.releases] == [v.id]
    rel = an.releases[0]
    assert [x.kind for x in rel.release.parts] == ["version", "milestone", "release"]
    assert rel.progress.counts.items_total == 2  # the version's and the milestone's items, once each
    assert {r.id for r in rel.progress.remaining} == {jira_item.id, gh_issue.id}
    assert an.release_of[m.id] == v.id
    overdue = [r for r in an.risks if r.rule == "overdue" and v.id in r.release_ids]
    assert len(overdue) == 1 and overdue[0] in rel.risks
    assert not any(m.id in r.release_ids for r in an.risks)  # attributed to the joined release, never its part


def test_what_counts_as_production_comes_from_the_delivery_settings() -> None:
    p = Plan()
    linked(p, "acme/widget")
    v = p.version("Widget 3.0", released_at=day(4))  # released in Jira only
    beta = p.version("Widget 3.1")
    gh(p, "acme/widget", "Widget 3.1 beta", tag="v3.1.0-beta2", at=day(6))  # published, not flagged pre-release
    snap = p.snapshot()
    default = join_releases(snap).by_id
    assert default[v.id].state == ReleaseState.RELEASED and default[beta.id].state == ReleaseState.RELEASED
    strict = join_releases(snap, JoinConfig(jira_released_is_production=False, prerelease_pattern=r"-(rc|beta)\d*$"))
    assert strict.by_id[v.id].state == ReleaseState.PLANNED  # a Jira release date alone is not production
    assert strict.by_id[beta.id].state == ReleaseState.PRERELEASE and strict.by_id[beta.id].released_at is None
