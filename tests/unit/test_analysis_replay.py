"""Point-in-time replay (`snapshot_at`): hand-built histories with the state at each moment worked out
by hand, what a goal and its analysis count then, and the store's read of items removed later."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.model import (
    Batch,
    ItemKind,
    PullState,
    SourceType,
    SprintState,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.reports.analysis import analyse
from syncd.reports.analysis.history import Histories
from syncd.reports.analysis.replay import load_snapshot_at, snapshot_at
from syncd.reports.analysis.scope import select_items
from syncd.reports.data import Snapshot
from syncd.reports.goals import Selector
from syncd.store import Store
from tests.unit.analysis_factories import Plan, Settings, day, goal


def _assign(p: Plan, item: WorkItem, account: str | None, at: datetime) -> None:
    """Change the assignee as the Jira connector stores it (account ids in from/to)."""
    old = item.assignee_id.split(":", 1)[1] if item.assignee_id else None
    p.transitions.append(Transition(item_id=item.id, change_id=f"a{len(p.transitions)}",
                                    field=TransitionField.ASSIGNEE, from_value=old, to_value=account, at=at))
    item.assignee_id = f"jira:{account}" if account else None
    item.updated = max(item.updated, at)


def _fix_version(p: Plan, item: WorkItem, *, added: str | None, removed: str | None, at: datetime) -> None:
    """One Jira fix-version change: removal and addition are separate rows, by version remote id."""
    by_remote = {r.remote_id: r for r in p.releases}
    if removed is not None:
        p.transitions.append(Transition(item_id=item.id, change_id=f"v{len(p.transitions)}", seq=0,
                                        field=TransitionField.FIX_VERSION, from_value=removed,
                                        from_string=by_remote[removed].name, at=at))
        item.release_ids.remove(by_remote[removed].id)
    if added is not None:
        p.transitions.append(Transition(item_id=item.id, change_id=f"v{len(p.transitions)}", seq=1,
                                        field=TransitionField.FIX_VERSION, to_value=added,
                                        to_string=by_remote[added].name, at=at))
        item.release_ids.append(by_remote[added].id)
    item.updated = max(item.updated, at)


def _by_key(snap: Snapshot) -> dict[str, WorkItem]:
    return {i.key: i for i in snap.items}


def test_status_resolution_and_existence_at_each_moment() -> None:
    p = Plan()
    a = p.item("WID-1", created=day(0))
    p.move(a, "In Progress", day(2))
    p.move(a, "Done", day(5))
    reopened = p.item("WID-2", created=day(0))
    p.move(reopened, "Done", day(1))
    p.move(reopened, "In Progress", day(3))
    p.move(reopened, "Done", day(6))
    p.item("WID-3", created=day(6))  # does not exist before day 6
    snap = p.snapshot()

    at1, at4, at2 = (_by_key(snapshot_at(snap, day(n))) for n in (1.5, 4, 2))
    # day 1.5: WID-1 still To Do, WID-2 done on day 1 (its current resolved, day 6, is later)
    assert (at1["WID-1"].status, at1["WID-1"].status_category) == ("To Do", StatusCategory.TODO)
    assert (at1["WID-2"].status_category, at1["WID-2"].resolved) == (StatusCategory.DONE, day(1))
    assert at2["WID-2"].resolved == day(1)
    # day 4: WID-1 in progress since day 2; WID-2 reopened on day 3: not resolved
    assert (at4["WID-1"].status, at4["WID-1"].resolved) == ("In Progress", None)
    assert (at4["WID-2"].status, at4["WID-2"].status_category, at4["WID-2"].resolved) == (
        "In Progress", StatusCategory.IN_PROGRESS, None)
    assert "WID-3" not in at4
    # the changelog is cut at the moment (WID-1 keeps its day-2 change only) and updated follows it
    cut = snapshot_at(snap, day(4))
    assert [(t.to_string, t.at) for t in cut.history["jira:10001"]] == [("In Progress", day(2))]
    assert at4["WID-1"].updated == day(2)
    # nothing changed after day 7: the same records, no footer
    later = snapshot_at(snap, day(7))
    assert later.as_of is None and all(x is y for x, y in zip(later.items, snap.items, strict=True))


def test_status_name_and_category_at_a_moment_agree_across_an_unnamed_change() -> None:
    """`Histories.category_at` is the category of `status_at` (they were two walks of the changelog that
    disagreed on a change with no name: the name kept "In Progress", the category fell to To Do)."""
    p = Plan()
    a = p.item("WID-1", created=day(0))
    p.move(a, "In Progress", day(1))
    p._tr(a, day(2), TransitionField.STATUS, from_string="In Progress", to_string=None)  # a row with no name
    p.move(a, "Done", day(3))
    snap = p.snapshot()
    hist = Histories(snap)
    # worked by hand from the four moments: before any change the first row's from side, To Do; day 1 In
    # Progress; the unnamed day-2 change keeps In Progress (it names nowhere else); day 3 Done
    expected = {0.5: ("To Do", StatusCategory.TODO), 1.5: ("In Progress", StatusCategory.IN_PROGRESS),
                2.5: ("In Progress", StatusCategory.IN_PROGRESS), 3.5: ("Done", StatusCategory.DONE)}
    assert {n: (hist.status_at(a, day(n)), hist.category_at(a, day(n))) for n in expected} == expected
    assert [hist.done_at(a, day(n)) for n in expected] == [False, False, False, True]
    at = _by_key(snapshot_at(snap, day(2.5)))["WID-1"]  # the replayed item carries the same pair
    assert (at.status, at.status_category) == ("In Progress", StatusCategory.IN_PROGRESS)


def test_done_at_each_reads_the_columns_as_done_at_reads_the_rows() -> None:
    """`Histories.done_at_each` (straight from the transition columns) answers as `done_at` (from the built
    rows): no status change, one, many with unnamed rows, a tie and a first row naming no `from` side."""
    p = Plan()
    quiet = p.move(p.item("WID-1", created=day(0)), "Done", day(0))
    quiet_points = p.estimate(p.item("WID-2", status="Done", created=day(0)), 3, day(1))  # no status change
    once = p.move(p.item("WID-3", created=day(0)), "Done", day(2))
    p.estimate(once, 5, day(1))
    many = p.item("WID-4", status="Done", created=day(0))
    p._tr(many, day(1), TransitionField.STATUS, from_string=None, to_string="In Progress")  # from: item.status
    p._tr(many, day(2), TransitionField.STATUS, from_string="In Progress", to_string=None)  # keeps In Progress
    p.estimate(many, 2, day(2))
    p._tr(many, day(3), TransitionField.STATUS, from_string="In Progress", to_string="Done")
    p._tr(many, day(3), TransitionField.STATUS, from_string="Done", to_string="In Progress")  # same moment
    p._tr(many, day(4), TransitionField.STATUS, from_string="In Progress", to_string="Done")
    hist = Histories(p.snapshot())
    items = [quiet, quiet_points, once, many]
    moments = [0.5, 1, 1.9, 2, 2.5, 3, 3.5, 4, 5]
    # worked by hand, per moment: WID-4 is Done before its first row (the row names no from side: its
    # status now), then In Progress until day 4 (the day-3 tie ends on the second row, In Progress)
    expected = {n: [n >= 0, True, n >= 2, n < 1 or n >= 4] for n in moments}
    assert {n: hist.done_at_each(items, day(n)) for n in moments} == expected
    assert {n: [hist.done_at(i, day(n)) for i in items] for n in moments} == expected
    assert hist.done_at_each([], day(1)) == []


def test_sprints_points_assignee_fix_versions_and_goal_membership() -> None:
    p = Plan()
    s1 = p.sprint(1, SprintState.CLOSED, start=day(0), end=day(7), complete=day(7))
    s2 = p.sprint(2, SprintState.ACTIVE, start=day(7), end=day(14))
    v1, v2 = p.version("1.0"), p.version("1.1")
    item = p.item("WID-1", created=day(0), assignee=None)
    p.set_sprints(item, [s1], day(0.5))
    p.estimate(item, 3, day(0.5))
    _assign(p, item, "alice", day(1))
    _fix_version(p, item, added="0", removed=None, at=day(2))  # into 1.0
    p.estimate(item, 5, day(3))
    _fix_version(p, item, added="1", removed="0", at=day(6))  # moved to 1.1
    p.set_sprints(item, [s2], day(7))  # carried over
    _assign(p, item, "carol", day(8))
    snap = p.snapshot()
    assert (item.sprint_ids, item.estimate, item.assignee_id, item.release_ids) == ([s2.id], 5, "jira:carol", [v2.id])

    def state(n: float) -> tuple[list[str], float | None, str | None, list[str]]:
        then = _by_key(snapshot_at(snap, day(n)))["WID-1"]
        return then.sprint_ids, then.estimate, then.assignee_id, then.release_ids

    assert state(0.25) == ([], None, None, [])
    assert state(1.5) == ([s1.id], 3, "jira:alice", [])
    assert state(4) == ([s1.id], 5, "jira:alice", [v1.id])
    assert state(7.5) == ([s2.id], 5, "jira:alice", [v2.id])
    assert state(9) == ([s2.id], 5, "jira:carol", [v2.id])

    # sprint states where their dates tell: on day 4 sprint 1 was running and sprint 2 not started
    at4 = snapshot_at(snap, day(4))
    states = {s.id: (s.state, s.complete) for s in at4.sprints}
    assert states == {s1.id: (SprintState.ACTIVE, None), s2.id: (SprintState.FUTURE, None)}
    # a goal over fix version 1.0 holds the item on day 4, a goal over 1.1 does not (and the reverse now)
    g10, g11 = Selector(fix_versions=("1.0",)), Selector(fix_versions=("1.1",))
    assert [i.key for i in select_items(at4, g10)] == ["WID-1"] and select_items(at4, g11) == []
    assert select_items(snap, g10) == [] and [i.key for i in select_items(snap, g11)] == ["WID-1"]


def test_pull_requests_github_issues_and_releases() -> None:
    p = Plan()
    story = p.item("WID-1", created=day(0))
    merged = p.pull(created=day(1), state=PullState.MERGED, merged_at=day(5), implements=story,
                    reviews=[day(2), day(4.5)])
    still_open = p.pull(created=day(1))
    issue = WorkItem(id="gh:issue", source="gh", source_type=SourceType.GITHUB, remote_id="77", key="acme/widget#77",
                     project="acme/widget", kind=ItemKind.ISSUE, title="An issue", status="closed",
                     status_category=StatusCategory.DONE, resolution="completed", created=day(0), updated=day(6),
                     resolved=day(6))
    p.items[issue.id] = issue
    shipped = p.version("1.0", due=date(2026, 3, 9), released_at=day(5))
    published = p.gh_release("acme/widget", day(5))
    early = p.gh_release("acme/widget", day(1))
    snap = p.snapshot()

    at4 = snapshot_at(snap, day(4))
    pulls = {x.item_id: x for x in at4.pulls}
    assert (pulls[merged.id].state, pulls[merged.id].merged_at) == (PullState.OPEN, None)
    assert [r.submitted_at for r in pulls[merged.id].reviews] == [day(2)]  # the day-4.5 review came later
    assert pulls[still_open.id] is next(x for x in snap.pulls if x.item_id == still_open.id)
    items = at4.item_by_id
    assert (items[merged.id].status, items[merged.id].status_category, items[merged.id].resolved) == (
        "open", StatusCategory.IN_PROGRESS, None)
    assert (items[issue.id].status, items[issue.id].status_category) == ("open", StatusCategory.TODO)  # no assignee
    releases = {r.id: r for r in at4.releases}
    assert (releases[shipped.id].released, releases[shipped.id].released_at) == (False, None)
    assert published.id not in releases and releases[early.id] is early
    # the PR still implements the story then
    assert at4.pulls_implementing == {story.id: [merged.id]}
    notes = " ".join(at4.as_of.notes) if at4.as_of else ""
    assert "1 pull requests merged or closed since shown open" in notes
    # the shipped milestone is unreleased then; the release published later did not exist yet
    assert "1 releases set to their state then" in notes and "1 releases not created yet left out" in notes
    assert "for the 2 GitHub items changed since, labels, milestone and assignee" in notes


def test_analysis_counts_what_was_open_then() -> None:
    """A goal of four stories: on day 4 two are open (worked out below), now one is; the footer says why."""
    p = Plan()
    v = p.version("2.0")
    stories = [p.item(f"WID-{n}", created=day(0), release_ids=[v.id]) for n in range(1, 4)]
    p.move(stories[0], "Done", day(2))  # done by day 4
    p.move(stories[1], "In Progress", day(3))
    p.move(stories[1], "Done", day(5))  # done after day 4
    late = p.item("WID-4", created=day(6), release_ids=[v.id])  # added after day 4
    p.move(late, "Done", day(6.5))
    snap = p.snapshot()
    g = goal(Selector(fix_versions=("2.0",)), target=date(2026, 4, 1))
    now = analyse(snap, [g], Settings(), day(8)).goals[0].progress.counts
    then = analyse(snapshot_at(snap, day(4)), [g], Settings(), day(4)).goals[0].progress.counts
    assert (now.items_total, now.items_done) == (4, 3)
    # day 4: WID-1 done; WID-2 in progress; WID-3 to do; WID-4 not created
    assert (then.items_total, then.items_done, then.items_in_progress, then.items_todo) == (3, 1, 1, 1)
    replayed = snapshot_at(snap, day(4)).as_of
    assert replayed is not None and replayed.at == day(4)
    assert replayed.notes[0] == ("Replayed to this date: 1 items rebuilt from the changelog (status, sprint, "
                                 "story points, assignee, fix versions, priority, labels, components, due date, "
                                 "flag, parent and epic); 1 items created later left out.")
    # every Jira field the analysis reads has history now: nothing is said to be shown as it is now
    assert replayed.notes[1:] == ("Last-update times are the last recorded change (comments and edits are not "
                                  "stored).",)



def test_a_moment_after_every_change_gives_back_the_stored_records() -> None:
    """Nothing newer than the moment: the records themselves; sprint and release plans still as they were then."""
    p = Plan()
    story = p.item("WID-1", created=day(0))
    p.move(story, "In Progress", day(1))
    p.move(story, "Done", day(2))
    other = p.item("WID-2", created=day(0))
    p.estimate(other, 3, day(1))
    p.block(story, other)
    later = p.sprint(1, SprintState.ACTIVE, start=day(10), end=day(24))  # active now, starts after day 3
    p.pull(created=day(1), reviews=[day(1.5)])
    snap = p.snapshot()
    at3 = snapshot_at(snap, day(3))
    assert all(a is b for a, b in zip(at3.items, snap.items, strict=True))
    assert all(a is b for a, b in zip(at3.pulls, snap.pulls, strict=True)) and at3.links == snap.links
    assert at3.history is snap.history  # the same columns (`transitions` is built from them on each read)
    assert [(s.id, s.state) for s in at3.sprints] == [(later.id, SprintState.FUTURE)]
    assert at3.as_of is not None and "1 sprints" in " ".join(at3.as_of.notes)
    at30 = snapshot_at(snap, day(30))  # after the sprint started too: nothing to say
    assert at30.as_of is None and at30.sprints == snap.sprints
    assert at30.item_by_id == {story.id: story, other.id: other, snap.pulls[0].item_id: snap.items[2]}


def test_a_review_changelog_row_or_field_after_the_moment_is_still_replayed() -> None:
    """Records whose own dates are all before the moment may still hold something later: it is undone."""
    p = Plan()
    pr = p.pull(created=day(1), reviews=[day(2), day(4.5)])  # the pull request item's update stays day 1
    at4 = snapshot_at(p.snapshot(), day(4))
    assert [r.submitted_at for r in at4.pulls[0].reviews] == [day(2)] and at4.pulls[0].item_id == pr.id
    p = Plan()
    story = p.item("WID-1", created=day(0))
    p.move(story, "In Progress", day(1))
    p.move(story, "Done", day(5))
    story.updated, story.resolved = day(1), None  # a changelog row newer than the item's own update
    at4 = snapshot_at(p.snapshot(), day(4))
    assert [t.at for t in at4.history[story.id]] == [day(1)] and [t.at for t in at4.transitions] == [day(1)]
    # an assignee change (a field analysis does not read) before the moment: left out of the replayed history
    p = Plan()
    story = p.item("WID-1", created=day(0))
    _assign(p, story, "carol", day(0.5))
    p.move(story, "Done", day(1))
    at6 = snapshot_at(p.snapshot(), day(6))
    assert [t.field for t in at6.history[story.id]] == ["status"] and [t.field for t in at6.transitions] == ["status"]
    # an edit after the moment that left no changelog row
    p = Plan()
    story = p.item("WID-1", created=day(0))
    p.move(story, "In Progress", day(1))
    story.updated = day(5)
    assert snapshot_at(p.snapshot(), day(4)).items[0].updated == day(1)
    # the changelog of an item no longer in the snapshot
    p.move(p.item("WID-2", created=day(0)), "In Progress", day(1))
    del p.items["jira:10002"]
    assert [t.item_id for t in snapshot_at(p.snapshot(), day(6)).transitions] == [story.id]

def test_items_removed_later_existed_then(store: Store) -> None:
    p = Plan()
    kept, gone = p.item("WID-1", created=day(0)), p.item("WID-2", created=day(0))
    store.apply_batch("jira", Batch(items=list(p.items.values()), transitions=p.transitions, people=p.people))
    store.apply_batch("jira", Batch(removed_ids=[gone.id]))  # removed now, by the real clock
    before = datetime.now(UTC) - timedelta(hours=1)
    then = load_snapshot_at(store, before)
    assert sorted(i.key for i in then.items) == ["WID-1", "WID-2"] and not any(i.removed for i in then.items)
    assert then.as_of is not None and "1 items removed since put back" in then.as_of.notes[0]
    assert [i.key for i in load_snapshot_at(store, datetime.now(UTC) + timedelta(hours=1)).items] == [kept.key]


def test_store_tells_whether_it_holds_anything_newer(store: Store) -> None:
    p = Plan()
    item = p.item("WID-1", created=day(0))
    p.move(item, "In Progress", day(2))
    sprint = p.sprint(1, SprintState.ACTIVE, start=day(3), end=day(17))
    version = p.version("1.0", released_at=day(4))
    store.apply_batch("jira", Batch(items=[item], sprints=[sprint], releases=[version], transitions=p.transitions))
    # day 2: the item's update; day 3: the sprint's start; day 4: the release
    assert [store.changed_after(day(n)) for n in (1.5, 2.5, 3.5, 4)] == [True, True, True, False]
    assert load_snapshot_at(store, day(4)).as_of is None


_EVENT = st.tuples(st.sampled_from(["status", "sprint", "estimate", "assignee", "version"]),
                   st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=72))


@settings(max_examples=80, deadline=None)
@given(events=st.lists(_EVENT, max_size=14), probe_hours=st.integers(min_value=-5, max_value=14 * 72))
def test_replay_gives_the_state_last_set_before_the_moment(events: list[tuple[str, int, int]], probe_hours: int) -> None:
    """Random histories: the state at a moment is the one recorded when the last change before it was made."""
    p = Plan()
    sprints = [p.sprint(n, SprintState.FUTURE) for n in range(1, 4)]
    versions = [p.version(f"{n}.0") for n in range(3)]
    statuses = ["To Do", "In Progress", "In Review", "Done"]
    item = p.item("WID-1", created=day(0), assignee=None)

    def state() -> tuple[object, ...]:
        return (item.status, item.status_category, list(item.sprint_ids), item.estimate, item.assignee_id,
                sorted(item.release_ids))

    truth = [(day(0), state())]
    at = day(0)
    for kind, n, hours in events:
        at += timedelta(hours=hours)
        if kind == "status" and statuses[n] != item.status:
            p.move(item, statuses[n], at)
        elif kind == "sprint":
            p.set_sprints(item, sprints[:n], at)  # none, the first, the first two, all three
        elif kind == "estimate":
            p.estimate(item, float(n + 1), at)
        elif kind == "assignee":
            _assign(p, item, f"user{n}" if n else None, at)
        elif kind == "version":
            v = versions[n % 3]
            inside = v.id in item.release_ids
            _fix_version(p, item, added=None if inside else v.remote_id, removed=v.remote_id if inside else None, at=at)
        truth.append((at, state()))
    probe = day(0) + timedelta(hours=probe_hours)
    then = snapshot_at(p.snapshot(), probe)
    if probe < day(0):
        assert then.items == []
        return
    want = [s for t, s in truth if t <= probe][-1]
    got = then.items[0]
    assert (got.status, got.status_category, got.sprint_ids, got.estimate, got.assignee_id,
            sorted(got.release_ids)) == want
