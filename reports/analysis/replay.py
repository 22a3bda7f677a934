"""The store as it was at a past moment: a `Snapshot` rewound along the stored changelog.

`snapshot_at(snap, at)` is what `syncd report --now T` analyses, so that a report for a past date
says what a report generated that day would have said (given the same store):

- items created after `at` do not exist; items removed from the source after `at` still do;
- each item's status (and its category), sprints, story points, assignee and fix versions are the
  values the changelog gives for `at` (`Histories.status_at`, `sprints_at`, `points_at`,
  `assignee_at`, `releases_at`); `resolved` is the last change into done up to `at`, `updated` the
  last recorded change up to `at`, and the changelog itself is cut at `at`;
- a Jira item's priority, labels, components, due date, flag, parent and epic have every change
  after `at` undone, and issue links added after `at` are left out, those removed after put back
  (reports/analysis/replay_fields.py);
- syncd reads no GitHub changelog (its issue events cost one request per issue, or a whole
  repository's event listing without `since`: README, "--now"): an issue or pull request closed or
  merged after `at` is open at `at`
  (in progress when it is a pull request or has an assignee, as the connector maps open ones);
  reviews submitted after `at` are left out;
- sprints started after `at` are future and sprints completed after `at` active; releases and
  milestones released (closed) after `at` are unreleased, and GitHub releases published after `at`
  do not exist;
- sprints created after `at` (Jira Cloud's sprint `createdDate`, optional in its agile API: jira.js's
  AgileModels.Sprint, https://mrrefactoring.github.io/jira.js/interfaces/AgileModels.Sprint.html) and
  milestones and releases created after `at` (GitHub's `created_at`) do not exist; a Jira fix version
  has no creation date, so one starting after `at` (`startDate`) that no item held at `at` does not.

Reading the past from the changelog is what Jira's own charts do: each history item carries a
field's `from`/`to` values (ChangeDetails, Jira Cloud platform REST API), and Jira Software's
version reports rebuild a version's scope from "a list of changes to the fix version (issues added
and issues removed with corresponding dates)" (FixVersionHistoryService,
https://docs.atlassian.com/jira-software/6.3.3/com/atlassian/greenhopper/service/charts/FixVersionHistoryService.html).
A move between versions is two items, one removal (`from`) and one addition (`to`); the sandbox
logs it so (syncd/sandbox/timeline.py, set_version).

Fields the store has no history of (GitHub labels, milestones and assignees; pull-request checks,
drafts and requested reviewers; sprint goals) keep their current values: the snapshot's `as_of`
names which of them may differ for how many items, and every report prints that in its footer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from syncd.model import (
    ItemKind,
    Link,
    PullRequest,
    PullState,
    Release,
    ReleaseKind,
    SourceType,
    Sprint,
    SprintState,
    StatusCategory,
    TransitionField,
    WorkItem,
)
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.replay_fields import links_at, rewind_item_fields
from syncd.reports.data import ANALYSIS_FIELDS, AsOf, Snapshot, load_snapshot
from syncd.store import Store, TransitionColumns

# Every changelog field the store keeps: replaying needs assignee and fix-version changes too.
REPLAY_FIELDS = tuple(TransitionField)
_KEPT = frozenset(f.value for f in ANALYSIS_FIELDS)


def load_snapshot_at(store: Store, at: datetime) -> Snapshot:
    """Read the store once and rewind it to `at` (the same records when nothing stored is newer).

    The assignee and fix-version changes only a replay reads are loaded only when the store holds
    something newer than `at`, so a report as of now reads what it always read (and, no item having
    been removed after `at` then, does not look for such items either).
    """
    later = store.changed_after(at)
    snap = load_snapshot(store, fields=REPLAY_FIELDS if later else ANALYSIS_FIELDS, live_at=at if later else None)
    return snapshot_at(snap, at)


@dataclass
class _Counts:
    """What the replay changed, for the footer."""

    later: int = 0  # items created after `at`, left out
    rewound: int = 0  # items changed after `at`, rebuilt from the changelog
    github_changed: int = 0  # GitHub items changed after `at`
    reopened: int = 0  # pull requests merged or closed after `at`
    restored: int = 0  # items removed after `at`, present then
    sprints: int = 0
    releases: int = 0
    links: int = 0  # link changes since undone
    later_sprints: int = 0  # sprints created after `at`, left out
    later_releases: int = 0  # releases, milestones and fix versions not there yet at `at`, left out


def snapshot_at(snap: Snapshot, at: datetime) -> Snapshot:
    """The snapshot as it was at `at`, with only the analysis fields of the changelog kept.

    Items and records not changed after `at` are the same objects as in `snap`.
    """
    counts = _Counts()
    if _nothing_later(snap, at):
        # the usual report as of now: what the loops below would rebuild is `snap`'s own (a third of a
        # second at 100,000 items); only the sprints' and releases' plans are checked against `at`
        sprints, releases = _plans_at(snap, snap.items, at, counts)
        return _replayed(snap, at, counts, items=list(snap.items), sprints=sprints, releases=releases,
                         pulls=[p for p in snap.pulls if p.item_id in snap.item_by_id],
                         links=[lk for lk in snap.links if lk.from_id in snap.item_by_id],
                         history=snap.history, item_by_id=snap.item_by_id)
    hist = Histories(snap)
    items: list[WorkItem] = []
    changed_later = set(snap.history.changed_after(at))
    for item in snap.items:
        then = _item_at(item, hist, at, item.id in changed_later)
        if then is None:
            counts.later += 1
            continue
        if then is not item:
            counts.rewound += 1
            counts.restored += item.removed
            counts.github_changed += item.source_type == SourceType.GITHUB
        items.append(then)
    live = {i.id for i in items}
    pulls = []
    for pull in snap.pulls:
        if pull.item_id in live:
            then_pull = _pull_at(pull, snap.item_by_id[pull.item_id], at)
            counts.reopened += then_pull.state != pull.state
            pulls.append(then_pull)
    sprints, releases = _plans_at(snap, items, at, counts)
    # the changelog up to `at`, analysis fields only: the same columns when that is all of it
    history = snap.history.cut(live, at, _KEPT)
    links, counts.links = links_at(snap, {i.id: i for i in items}, at)
    return _replayed(snap, at, counts, items=items, pulls=pulls, sprints=sprints, releases=releases, links=links,
                     history=history)


def _replayed(snap: Snapshot, at: datetime, counts: _Counts, *, items: list[WorkItem], pulls: list[PullRequest],
              sprints: list[Sprint], releases: list[Release], links: list[Link], history: TransitionColumns,
              item_by_id: dict[str, WorkItem] | None = None) -> Snapshot:
    """The snapshot of these records at `at`, its footer from `counts` (none when nothing changed)."""
    changed = (counts.later or counts.rewound or counts.reopened or counts.sprints or counts.releases or counts.links
               or counts.later_sprints or counts.later_releases)
    out = Snapshot(items=items, pulls=pulls, sprints=sprints, releases=releases, links=links, history=history,
                   people=list(snap.people), as_of=AsOf(at=at, notes=_notes(counts)) if changed else None)
    if item_by_id is not None:
        out.__dict__["item_by_id"] = item_by_id  # the same items: the same index
    return out


def _nothing_later(snap: Snapshot, at: datetime) -> bool:
    """True when no item, pull request or changelog row of `snap` is newer than `at` and the changelog holds
    only the fields analysis reads: then `_item_at` and `_pull_at` give back every record itself, every
    item's history is kept as it is and `links_at` has no link change to undo."""
    if not all(i.created <= at and i.updated <= at and not i.removed and (i.resolved is None or i.resolved <= at)
               for i in snap.items):
        return False
    history = snap.history
    if not (history.keys() <= snap.item_by_id.keys() and not history.changed_after(at)):
        return False
    if not history.present_fields() <= _KEPT:
        return False
    return all((p.merged_at is None or p.merged_at <= at)
               and all(r.submitted_at is None or r.submitted_at <= at for r in p.reviews) for p in snap.pulls)


def _plans_at(snap: Snapshot, items: list[WorkItem], at: datetime, counts: _Counts) -> tuple[list[Sprint], list[Release]]:
    """The sprints and releases as they were at `at` (`items`: the items then, for the fix versions they held)."""
    sprints = []
    for sprint in snap.sprints:
        then_sprint = _sprint_at(sprint, at)
        counts.sprints += then_sprint is not sprint and then_sprint is not None
        counts.later_sprints += then_sprint is None
        if then_sprint is not None:
            sprints.append(then_sprint)
    held: set[str] | None = None  # the fix versions items held at `at`: only a version starting later asks
    releases = []
    for release in snap.releases:
        if held is None and release.start is not None and release.start > at.date():
            held = {rid for i in items for rid in i.release_ids}
        then_release = _release_at(release, at, held is not None and release.id in held)
        counts.releases += then_release is not release and then_release is not None
        counts.later_releases += then_release is None
        if then_release is not None:
            releases.append(then_release)
    return sprints, releases


def _item_at(item: WorkItem, hist: Histories, at: datetime, changed_later: bool) -> WorkItem | None:
    """The item as it was at `at` (None: not created yet); `item` itself when nothing changed since.

    `changed_later`: the item has a transition later than `at`.
    """
    if item.created > at:
        return None
    if item.updated <= at and not item.removed and not changed_later \
            and (item.resolved is None or item.resolved <= at):
        return item
    rows = hist.snap.history.get(item.id, ())
    then = item.model_copy()
    then.removed = False
    if item.source_type == SourceType.GITHUB:
        _github_status_at(then, item, at)
    else:
        then.status = hist.status_at(item, at)
        then.status_category = hist.category_at(item, at)
        then.sprint_ids = hist.sprints_at(item, at)
        then.estimate = hist.points_at(item, at)
        then.assignee_id = hist.assignee_at(item, at)
        then.release_ids = hist.releases_at(item, at)
        rewind_item_fields(then, rows, at, hist.snap)
        if then.status_category != StatusCategory.DONE:
            then.resolved, then.resolution = None, None
        elif item.resolved is None or item.resolved > at:
            done = [t.at for t in rows if t.field == TransitionField.STATUS.value and t.at <= at]
            then.resolved = done[-1] if done else item.created
    if item.updated > at:
        then.updated = max([item.created, *(t.at for t in rows if t.at <= at)])
    return then


def _github_status_at(then: WorkItem, item: WorkItem, at: datetime) -> None:
    """A GitHub issue or pull request closed after `at` was open at `at` (GitHub keeps no changelog)."""
    if item.resolved is not None and item.resolved > at:
        then.status, then.resolved, then.resolution = "open", None, None
        taken = item.kind == ItemKind.PULL_REQUEST or item.assignee_id is not None
        then.status_category = StatusCategory.IN_PROGRESS if taken else StatusCategory.TODO
    if item.updated > at:
        then.updated = max(item.created, then.resolved or item.created)


def _pull_at(pull: PullRequest, item: WorkItem, at: datetime) -> PullRequest:
    """Pull-request details at `at`: open if merged or closed later (the item's `resolved`), reviews up to `at`."""
    closed_later = (pull.merged_at is not None and pull.merged_at > at) or \
        (pull.state != PullState.OPEN and item.resolved is not None and item.resolved > at)
    reviews = [r for r in pull.reviews if r.submitted_at is None or r.submitted_at <= at]
    if not closed_later and len(reviews) == len(pull.reviews):
        return pull
    then = pull.model_copy()
    then.reviews = reviews
    if closed_later:
        then.state, then.merged_at, then.merged_by_id = PullState.OPEN, None, None
    return then


def _sprint_at(sprint: Sprint, at: datetime) -> Sprint | None:
    """The sprint's state at `at`, where its dates tell (started after: future; completed after: active);
    None when it was created after `at` (Jira Cloud's createdDate; a sprint without one is kept)."""
    if sprint.created is not None and sprint.created > at:
        return None
    started = sprint.start is not None and sprint.start <= at
    if sprint.state == SprintState.CLOSED:
        ended = sprint.complete or sprint.end
        if ended is None or ended <= at:
            return sprint
        state = SprintState.ACTIVE if started else SprintState.FUTURE
    elif sprint.state == SprintState.ACTIVE and sprint.start is not None and not started:
        state = SprintState.FUTURE
    else:
        return sprint
    return sprint.model_copy(update={"state": state, "complete": None})


def _release_at(release: Release, at: datetime, held: bool) -> Release | None:
    """The release at `at`: unreleased if released later; None when it was not there yet.

    Not there yet: a GitHub release published or a milestone created after `at`; a Jira fix version
    (Jira gives no creation date) whose start date is after `at` and that no item held at `at`.
    """
    if release.created is not None and release.created > at:
        return None
    if release.released_at is None or release.released_at <= at:
        if release.kind == ReleaseKind.VERSION and release.released_at is None and not held \
                and release.start is not None and release.start > at.date():
            return None
        return release
    if release.kind == ReleaseKind.RELEASE:
        return None
    return release.model_copy(update={"released": False, "released_at": None})


def _notes(c: _Counts) -> tuple[str, ...]:
    """The footer lines: what was rebuilt, and what the changelog cannot tell."""
    done = [f"{c.rewound} items rebuilt from the changelog (status, sprint, story points, assignee, fix versions, "
            "priority, labels, components, due date, flag, parent and epic)"]
    if c.later:
        done.append(f"{c.later} items created later left out")
    if c.restored:
        done.append(f"{c.restored} items removed since put back")
    if c.reopened:
        done.append(f"{c.reopened} pull requests merged or closed since shown open")
    if c.links:
        done.append(f"{c.links} issue-link changes since undone")
    if c.sprints:
        done.append(f"{c.sprints} sprints set to their state then")
    if c.later_sprints:
        done.append(f"{c.later_sprints} sprints created later left out")
    if c.releases:
        done.append(f"{c.releases} releases set to their state then")
    if c.later_releases:
        done.append(f"{c.later_releases} releases not created yet left out (a fix version: starting later, "
                    "no items then)")
    out = ["Replayed to this date: " + "; ".join(done) + "."]
    unknown = []
    if c.github_changed:
        unknown.append(f"for the {c.github_changed} GitHub items changed since, labels, milestone and assignee "
                       "(syncd does not read GitHub's issue events, which cost a request per issue)")
    if c.reopened:
        unknown.append("pull-request checks, drafts and requested reviewers")
    if c.sprints:
        unknown.append("sprint goals")
    if unknown:
        out.append("The stored changelog cannot tell these, shown as they are now: " + "; ".join(unknown) + ".")
    if c.rewound:
        out.append("Last-update times are the last recorded change (comments and edits are not stored).")
    return tuple(out)
