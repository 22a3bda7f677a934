"""DORA's four keys on a hand-built fixture, each with its worked answer, overall and per team."""

from __future__ import annotations

from datetime import datetime, timedelta

from syncd.model import PullState, Release, ReleaseKind
from syncd.reports.analysis import analyse
from syncd.reports.analysis.dora import Conventions, frequency_band, lead_time_band, restore_band
from syncd.reports.analysis.types import Dora
from tests.unit.analysis_factories import Plan, Settings, day


def tag(p: Plan, repo: str, name: str, at: datetime, *, prerelease: bool = False) -> Release:
    n = len(p.releases)
    rel = Release(id=f"gh:release:{repo}:{n}", source="gh", remote_id=str(n), kind=ReleaseKind.RELEASE, project=repo,
                  name=name, tag=name, released_at=at, released=True, prerelease=prerelease)
    p.releases.append(rel)
    return rel


def world() -> Plan:
    p = Plan()
    w = "acme/widget"
    tag(p, w, "v0.9.0", day(-5))  # before the window
    tag(p, w, "v1.0.0", day(2))
    tag(p, w, "v1.0.1", day(4))  # a patch two days later: a hotfix, so v1.0.0 failed
    tag(p, w, "v1.1.0-rc1", day(9), prerelease=True)  # not a deployment
    tag(p, w, "v1.1.0", day(10))
    p.version("Widget 1.1", released_at=day(10))  # the same release in Jira: counted once
    tag(p, w, "v1.2.0", day(20))
    tag(p, "acme/tool", "tool 3.0", day(16))  # a repository no PR links to Jira: its own team
    for merged in (1, 3, 5, 25):  # lead times 24 h (-> day 2), 24 h (-> day 4), 120 h (-> day 10), none yet
        p.pull(w, implements=p.item(), state=PullState.MERGED, merged_at=day(merged))
    revert = p.pull(w, state=PullState.MERGED, merged_at=day(22))  # two days after v1.2.0: it failed
    revert.title = 'Revert "Faster checkout"'
    p.item(kind="bug", labels=["caused-by:1.1"], created=day(12))  # v1.1.0 caused it: failed
    for created, hours in ((day(11), 2.0), (day(12), 24.0), (day(14), 0.5)):  # time to restore: 2 h median
        p.item(labels=["incident"], created=created, status="Done", resolved=created + timedelta(hours=hours))
    p.item(labels=["incident"], created=day(15))  # not restored yet: not measured
    return p


def _keys(d: Dora) -> tuple[object, ...]:
    assert d.deployment_frequency and d.lead_time_for_changes and d.change_failure_rate and d.time_to_restore
    return (d.deployments, d.per_week, d.deployment_frequency.band,
            d.lead_time_for_changes.value, d.lead_time_for_changes.sample, d.lead_time_for_changes.band,
            d.change_failure_rate.value, d.change_failure_rate.sample, d.change_failure_rate.band,
            d.time_to_restore.value, d.time_to_restore.sample, d.time_to_restore.band)


def test_four_keys_overall_and_per_team() -> None:
    an = analyse(world().snapshot(), [], Settings(forecast_weeks=4), day(28))
    overall, teams = an.flow.dora, an.flow.dora_by_team
    assert overall is not None and sorted(teams) == ["WID", "acme/tool"]
    # deployments in days 0..28: v1.0.0, v1.0.1, v1.1.0 (= Jira Widget 1.1), v1.2.0, tool 3.0 -> 5 in 4 weeks;
    # lead times 24, 24, 120 h -> nearest-rank median 24 h; failed: v1.0.0 (hotfix v1.0.1), v1.1.0
    # (caused-by:1.1), v1.2.0 (revert) -> 3 of 5; restore 0.5, 2, 24 h -> median 2 h
    assert _keys(overall) == (5, 1.25, "high", 24.0, 3, "high", 60.0, 5, "low", 2.0, 3, "high")
    assert _keys(teams["WID"]) == (4, 1.0, "high", 24.0, 3, "high", 75.0, 4, "low", 2.0, 3, "high")
    tool = teams["acme/tool"]
    assert (tool.deployments, tool.per_week, tool.deployment_frequency.band if tool.deployment_frequency else None) == (
        1, 0.25, "medium")
    assert tool.change_failure_rate and (tool.change_failure_rate.value, tool.change_failure_rate.band) == (0.0, "elite")
    assert tool.lead_time_for_changes and tool.lead_time_for_changes.value is None
    assert overall.change_failure_rate is not None
    assert overall.change_failure_rate.detail == (
        "v1.0.0 (hotfix release v1.0.1), Widget 1.1 (WID-10 caused by it), v1.2.0 (revert acme/widget#9)")


def test_conventions_come_from_settings() -> None:
    p = world()
    # a 1-day window: the revert (2 days after v1.2.0) and the hotfix (2 days after v1.0.0) no longer count
    an = analyse(p.snapshot(), [], Settings(forecast_weeks=4), day(28),
                 delivery=Conventions(change_failure_window_days=1, revert_pattern="^nothing$", hotfix_pattern="^x$"))
    assert an.flow.dora is not None and an.flow.dora.change_failure_rate is not None
    assert (an.flow.dora.change_failure_rate.value, an.flow.dora.change_failure_rate.sample) == (20.0, 5)  # caused-by only
    assert an.flow.dora.time_to_restore is not None and an.flow.dora.time_to_restore.sample == 3
    an = analyse(p.snapshot(), [], Settings(forecast_weeks=4), day(28),
                 delivery=Conventions(incident_labels=(), incident_kinds=("bug",)))
    assert an.flow.dora is not None and an.flow.dora.time_to_restore is not None
    assert an.flow.dora.time_to_restore.sample == 0  # the bug is not resolved


def test_bands_at_their_edges() -> None:
    assert [frequency_band(x) for x in (7, 6.9, 1, 0.99, 12 / 52, 0.2)] == ["elite", "high", "high", "medium",
                                                                            "medium", "low"]
    assert [lead_time_band(h) for h in (23.9, 24, 167, 168, 719, 720)] == ["elite", "high", "high", "medium",
                                                                         "medium", "low"]
    assert [restore_band(h) for h in (0.9, 1, 23, 24, 167, 168)] == ["elite", "high", "high", "medium", "medium",
                                                                    "low"]


def test_with_teams_one_team_holding_both_release_lines_is_one_row() -> None:
    from syncd.reports.goals import Team

    # [teams.platform] holds WID with acme/widget and acme/tool: its row is the overall one worked out above
    an = analyse(world().snapshot(), [], Settings(forecast_weeks=4), day(28),
                 teams={"platform": Team(projects=("WID",), repositories=("acme/widget", "acme/tool"))})
    overall, teams = an.flow.dora, an.flow.dora_by_team
    assert overall is not None and sorted(teams) == ["platform"]
    assert _keys(teams["platform"]) == _keys(overall) == (5, 1.25, "high", 24.0, 3, "high", 60.0, 5, "low", 2.0, 3,
                                                          "high")
    # a team listing only acme/tool leaves WID's line (with acme/widget) a team of its own, named as before
    an = analyse(world().snapshot(), [], Settings(forecast_weeks=4), day(28),
                 teams={"tools": Team(repositories=("acme/tool",))})
    teams = an.flow.dora_by_team
    assert sorted(teams) == ["WID", "tools"]
    assert _keys(teams["WID"]) == (4, 1.0, "high", 24.0, 3, "high", 75.0, 4, "low", 2.0, 3, "high")
    assert (teams["tools"].deployments, teams["tools"].per_week) == (1, 0.25)
