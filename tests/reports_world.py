"""A small, hand-built project history for report tests: one Jira board and one GitHub repository.

Built in the model's own terms (the records a sync would store), deterministic for a seed, and
written through `Store.apply_batch`. It has what every report needs: closed, active and future
sprints with changelog-driven membership and estimates; epics serving three goals; a released and
an upcoming fix version with docs, sign-off and rollback items; pull requests with reviews and
checks; blockers; stale work. `hostile=True` puts adversarial text in titles, names, labels,
sprint and release names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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

NOW = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # a Friday, 12:00 in Berlin
JIRA_URL = "https://acme.atlassian.example"
GH_URL = "https://github.example"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))\r\nBcc: evil@example.com 日本語 🚀"

STATUS = {StatusCategory.TODO: "To Do", StatusCategory.IN_PROGRESS: "In Progress", StatusCategory.DONE: "Done"}
PEOPLE = [("ann", "Ann Lee"), ("bo", "Bo Chen"), ("cy", "Cyra Diaz"), ("dev", "Devi Rao")]
EPICS = [("Checkout v2", "checkout"), ("Self-serve onboarding", "onboarding"), ("Payments API", "payments")]
SPRINT_START = datetime(2026, 8, 31, 8, tzinfo=UTC)


@dataclass
class World:
    """The records, kept by kind, plus the goals file text."""

    items: list[WorkItem] = field(default_factory=list)
    pulls: list[PullRequest] = field(default_factory=list)
    sprints: list[Sprint] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


def _sprints(hostile: bool) -> list[Sprint]:
    out = []
    for n in range(1, 8):
        start = SPRINT_START + timedelta(days=14 * (n - 1))
        end = start + timedelta(days=14)
        state = SprintState.CLOSED if end <= NOW else SprintState.ACTIVE if start <= NOW else SprintState.FUTURE
        name = f"WID Sprint {n}" + (f" {HOSTILE}" if hostile else "")
        goal = ["Checkout flow end to end", "Onboarding wizard", "Payments API beta"][n % 3]
        out.append(Sprint(
            id=f"jira:sprint:{n}", source="jira", remote_id=str(n), board_id="1", board_name="WID board", name=name,
            goal=goal + (f" {HOSTILE}" if hostile else ""), state=state,
            start=start if state != SprintState.FUTURE else start, end=end,
            complete=end if state == SprintState.CLOSED else None))
    return out


def _releases(hostile: bool) -> list[Release]:
    name = "1.1" + (f" {HOSTILE}" if hostile else "")
    return [
        Release(id="jira:version:100", source="jira", remote_id="100", kind=ReleaseKind.VERSION, project="WID",
                name="1.0", due=date(2026, 10, 15), released=True, released_at=datetime(2026, 10, 15, tzinfo=UTC),
                url=f"{JIRA_URL}/projects/WID/versions/100"),
        Release(id="jira:version:101", source="jira", remote_id="101", kind=ReleaseKind.VERSION, project="WID",
                name=name, due=date(2026, 12, 10), released=False, url=f"{JIRA_URL}/projects/WID/versions/101"),
        Release(id="gh:release:acme/widget:1", source="gh", remote_id="1", kind=ReleaseKind.RELEASE,
                project="acme/widget", name="v1.0.0", released=True, released_at=datetime(2026, 10, 15, 15, tzinfo=UTC),
                url=f"{GH_URL}/acme/widget/releases/tag/v1.0.0"),
    ]


def _sprint_of(day: datetime) -> int:
    return max(1, min(7, (day - SPRINT_START).days // 14 + 1))


def build_world(seed: int = 7, *, hostile: bool = False) -> World:
    """The fixture world: about 70 Jira items, 25 pull requests, 7 sprints, 3 releases."""
    rng = random.Random(seed)
    w = World(sprints=_sprints(hostile), releases=_releases(hostile))
    for login, name in PEOPLE:
        display = name + (f" {HOSTILE}" if hostile and login == "bo" else "")
        w.people.append(Person(id=f"jira:{login}", source="jira", display_name=display))
        w.people.append(Person(id=f"gh:{login}", source="gh", display_name=display))
    remote = iter(range(10001, 20000))
    key_no = iter(range(1, 1000))

    def add_item(title: str, kind: ItemKind, *, created: datetime, epic: WorkItem | None = None,
                 labels: list[str] | None = None, release: str | None = None, points: float | None = None,
                 plan: list[tuple[datetime, StatusCategory]] | None = None, sprints: list[int] | None = None,
                 priority: str = "Medium", description: str | None = None, flagged: bool = False) -> WorkItem:
        rid, key = str(next(remote)), f"WID-{next(key_no)}"
        item_id = f"jira:{rid}"
        status = StatusCategory.TODO
        updated = created
        for seq, (at, cat) in enumerate(plan or []):
            w.transitions.append(Transition(item_id=item_id, change_id=f"{rid}-s{seq}", field=TransitionField.STATUS,
                                            from_string=STATUS[status], to_string=STATUS[cat], at=at))
            status, updated = cat, at
        prev: list[str] = []
        for seq, n in enumerate(sprints or []):
            at = max(created, w.sprints[n - 1].start - timedelta(days=1)) if seq == 0 else w.sprints[n - 2].end  # type: ignore[operator]
            at = min(max(at, created), NOW - timedelta(hours=6))
            new = [*prev, str(n)] if seq else [str(n)]
            w.transitions.append(Transition(item_id=item_id, change_id=f"{rid}-p{seq}", field=TransitionField.SPRINT,
                                            from_value=", ".join(prev) or None, to_value=", ".join(new), at=at))
            prev = new
        if points is not None:
            w.transitions.append(Transition(item_id=item_id, change_id=f"{rid}-e", field=TransitionField.ESTIMATE,
                                            from_string=None, to_string=str(points), at=created + timedelta(hours=1)))
        assignee = f"jira:{rng.choice(PEOPLE)[0]}" if kind != ItemKind.EPIC else None
        item = WorkItem(
            id=item_id, source="jira", source_type="jira", remote_id=rid, key=key, project="WID", kind=kind,
            title=title, status=STATUS[status], status_category=status, priority=priority, labels=labels or [],
            assignee_id=assignee, created=created, updated=max(updated, created),
            resolved=updated if status == StatusCategory.DONE else None, estimate=points,
            epic_id=epic.id if epic else None, epic_key=epic.key if epic else None,
            parent_id=epic.id if epic else None, parent_key=epic.key if epic else None,
            sprint_ids=[f"jira:sprint:{n}" for n in (sprints or [])[-1:]],
            release_ids=[f"jira:version:{release}"] if release else [], description=description, flagged=flagged,
            url=f"{JIRA_URL}/browse/{key}")
        w.items.append(item)
        return item

    epics = [add_item(name, ItemKind.EPIC, created=datetime(2026, 8, 20, 9, tzinfo=UTC), labels=[label])
             for name, label in EPICS]
    hostile_label = [HOSTILE] if hostile else []
    titles = {
        "checkout": ["Cart summary", "Address form", "Saved cards", "Order review step", "Guest checkout",
                     "Promo codes", "Tax display", "Checkout analytics", "Shipping options", "Receipt email",
                     "Payment errors", "Mobile checkout layout"],
        "onboarding": ["Signup wizard", "Email verification", "Team invite", "Sample project", "Welcome tour",
                       "SSO setup page", "Plan picker", "Empty states", "Onboarding checklist", "Import CSV"],
        "payments": ["Charge endpoint", "Refund endpoint", "Webhooks", "Idempotency keys", "API docs",
                     "Rate limiting", "Sandbox keys", "Payout report", "Currency rounding", "Dispute events",
                     "SDK for Python", "SDK for Node"],
    }
    for epic, (_, label) in zip(epics, EPICS, strict=True):
        for k, title in enumerate(titles[label]):
            created = datetime(2026, 8, 24, 9, tzinfo=UTC) + timedelta(days=rng.randrange(0, 70), hours=rng.randrange(8))
            created = min(created, NOW - timedelta(days=3))
            points = float(rng.choice([1, 2, 3, 5, 8]))
            first = _sprint_of(created + timedelta(days=1))
            speed = {"checkout": 0.75, "onboarding": 0.5, "payments": 0.35}[label]
            plan: list[tuple[datetime, StatusCategory]] = []
            sprints = [first]
            roll = rng.random()
            start = created + timedelta(days=rng.randrange(1, 10), hours=3)
            if roll < speed and start < NOW - timedelta(days=2):
                plan.append((start, StatusCategory.IN_PROGRESS))
                finish = start + timedelta(days=rng.randrange(1, 12), hours=2)
                if finish < NOW:
                    plan.append((finish, StatusCategory.DONE))
                if _sprint_of(min(finish, NOW)) > first:
                    sprints.append(_sprint_of(min(finish, NOW)))
            elif roll < speed + 0.2 and start < NOW:
                plan.append((start, StatusCategory.IN_PROGRESS))
                sprints.append(6)
            elif k % 3 == 0:
                sprints = [7]
            else:
                sprints = []
            desc = "Acceptance criteria:\n- works" if k % 4 else "Make it work."
            add_item(title + (f" {HOSTILE}" if hostile and k == 0 else ""), ItemKind.STORY if k % 5 else ItemKind.TASK,
                     created=created, epic=epic, labels=[label, *hostile_label], points=points, plan=plan,
                     sprints=sorted(set(sprints)) if sprints else None, description=desc,
                     release="101" if label == "checkout" and k >= 6 else ("100" if k < 3 else None))
    # release 1.1 readiness items and bugs
    add_item("Document the checkout API", ItemKind.TASK, created=datetime(2026, 11, 2, 9, tzinfo=UTC), labels=["docs"],
             release="101", epic=epics[0], points=2.0, sprints=[6],
             plan=[(datetime(2026, 11, 10, 9, tzinfo=UTC), StatusCategory.IN_PROGRESS),
                   (datetime(2026, 11, 16, 9, tzinfo=UTC), StatusCategory.DONE)])
    add_item("Security sign-off for 1.1", ItemKind.TASK, created=datetime(2026, 11, 3, 9, tzinfo=UTC),
             labels=["sign-off"], release="101", epic=epics[0], sprints=[6])
    add_item("Rollback plan for 1.1", ItemKind.TASK, created=datetime(2026, 11, 3, 10, tzinfo=UTC),
             labels=["rollback"], release="101", epic=epics[0], points=1.0, sprints=[6],
             plan=[(datetime(2026, 11, 12, 9, tzinfo=UTC), StatusCategory.IN_PROGRESS),
                   (datetime(2026, 11, 13, 9, tzinfo=UTC), StatusCategory.DONE)])
    crit = add_item("Card declined twice on retry", ItemKind.BUG, created=datetime(2026, 11, 14, 9, tzinfo=UTC),
                    priority="Highest", release="101", epic=epics[0], labels=["customer"], points=3.0, sprints=[6],
                    plan=[(datetime(2026, 11, 16, 9, tzinfo=UTC), StatusCategory.IN_PROGRESS)], flagged=True)
    for n, day in enumerate((3, 6, 9, 11, 17)):
        add_item(f"Customer report {n + 1}: checkout slow", ItemKind.BUG, created=datetime(2026, 11, day, 9, tzinfo=UTC),
                 labels=["customer"], epic=epics[0], points=1.0)
    if hostile:
        add_item("Very long " + "title " * 600 + HOSTILE, ItemKind.STORY, created=datetime(2026, 11, 10, 9, tzinfo=UTC),
                 epic=epics[0], labels=["checkout", HOSTILE], points=2.0, sprints=[6],
                 plan=[(datetime(2026, 11, 11, 9, tzinfo=UTC), StatusCategory.IN_PROGRESS)])
    blocker = next(i for i in w.items if i.title.startswith("Webhooks"))
    blocked = next(i for i in w.items if i.title.startswith("Receipt email"))
    w.links.append(Link(from_id=blocker.id, kind=LinkKind.BLOCKS, to_key=blocked.key, to_id=blocked.id))
    w.links.append(Link(from_id=crit.id, kind=LinkKind.BLOCKS, to_key=blocked.key, to_id=blocked.id))
    _pulls(w, rng)
    return w


def _pulls(w: World, rng: random.Random) -> None:
    """One pull request for most started Jira items, merged when the item is done."""
    number = 100
    for item in list(w.items):
        if item.kind == ItemKind.EPIC or item.status_category == StatusCategory.TODO or rng.random() < 0.2:
            continue
        number += 1
        pid = f"gh:{900000 + number}"
        opened = item.created + timedelta(days=1)
        merged = item.resolved if item.status_category == StatusCategory.DONE else None
        state = PullState.MERGED if merged else PullState.OPEN
        reviewer = f"gh:{rng.choice(PEOPLE)[0]}"
        reviews = [Review(author_id=reviewer, state=ReviewState.APPROVED if merged else rng.choice(
            [ReviewState.COMMENTED, ReviewState.CHANGES_REQUESTED]), submitted_at=opened + timedelta(hours=rng.randrange(2, 40)))]
        if not merged and number % 3 == 0:
            reviews = []
        checks = CheckConclusion.FAILURE if number % 7 == 0 else CheckConclusion.SUCCESS
        title = f"{item.key}: {item.title}"
        w.items.append(WorkItem(
            id=pid, source="gh", source_type="github", remote_id=str(900000 + number), key=f"acme/widget#{number}",
            project="acme/widget", kind=ItemKind.PULL_REQUEST, title=title, status=state.value,
            status_category=StatusCategory.DONE if merged else StatusCategory.IN_PROGRESS,
            assignee_id=item.assignee_id.replace("jira:", "gh:") if item.assignee_id else None,
            created=opened, updated=merged or opened + timedelta(hours=3), resolved=merged,
            url=f"{GH_URL}/acme/widget/pull/{number}"))
        w.pulls.append(PullRequest(item_id=pid, state=state, merged_at=merged, reviews=reviews, checks=checks,
                                   additions=rng.randrange(10, 600), deletions=rng.randrange(0, 200),
                                   changed_files=rng.randrange(1, 20), linked_keys=[item.key],
                                   head_branch=f"{item.key.lower()}-work", base_branch="main"))
        w.links.append(Link(from_id=pid, kind=LinkKind.IMPLEMENTS, to_key=item.key))


def load_world(store: Store, world: World) -> None:
    """Store the world as the Jira and GitHub syncs would."""
    jira = [i for i in world.items if i.source == "jira"]
    gh = [i for i in world.items if i.source == "gh"]
    store.apply_batch("jira", Batch(items=jira, sprints=world.sprints, people=[p for p in world.people if p.source == "jira"],
                                    releases=[r for r in world.releases if r.source == "jira"],
                                    links=[lk for lk in world.links if lk.from_id.startswith("jira:")],
                                    transitions=world.transitions))
    store.apply_batch("gh", Batch(items=gh, pulls=world.pulls, people=[p for p in world.people if p.source == "gh"],
                                  releases=[r for r in world.releases if r.source == "gh"],
                                  links=[lk for lk in world.links if lk.from_id.startswith("gh:")]))


GOALS_TOML = """\
[[goals]]
id = "checkout"
title = "Checkout v2{hostile}"
objective = "Raise checkout conversion with a faster, simpler checkout"
problem = "Shoppers abandon a five-step checkout on mobile"
owner = "Ann Lee"
target_date = 2026-12-15
start = 2026-08-24
scope = {{ epics = ["WID-1"] }}
metric = {{ name = "Checkout conversion", unit = "%", baseline = 2.1, target = 3.0, value = 2.5, value_date = 2026-11-15 }}

[[goals]]
id = "onboarding"
title = "Self-serve onboarding"
objective = "Let teams start without a sales call"
problem = "New teams wait days for a guided setup"
owner = "Bo Chen"
target_date = 2027-01-29
scope = {{ epics = ["WID-2"] }}
metric = {{ name = "Median cycle time", unit = "days", baseline = 9, target = 5, computed = "median-cycle-time" }}

[[goals]]
id = "payments"
title = "Payments API beta"
objective = "Open the payments API to five beta partners"
problem = "Partners integrate by hand-built file exchange"
owner = "Cyra Diaz"
target_date = 2026-12-04
scope = {{ epics = ["WID-3"] }}
metric = {{ name = "Open bugs", unit = "bugs", baseline = 6, target = 0, computed = "open-bugs" }}

[[capacity]]
board = "WID board"
points = 30
"""


def write_goals(path: Path, *, hostile: bool = False) -> Path:
    """Write the goals file of this world; return its path."""
    path.write_text(GOALS_TOML.format(hostile=f" {HOSTILE}".replace("\r\n", " ").replace('"', "'") if hostile else ""),
                    encoding="utf-8")
    return path
