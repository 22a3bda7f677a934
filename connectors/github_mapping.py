"""Pure mapping of GitHub payloads (REST issues/milestones/releases, GraphQL pull requests) to the model.

The GraphQL documents these nodes come from are in `connectors.github_queries`. Every value is read
through `connectors.payload`, so a payload of the wrong shape raises `PayloadError` naming the field,
and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from syncd.connectors.payload import (
    PayloadError,
    array,
    count,
    day,
    ident,
    obj,
    objects,
    required_stamp,
    root,
    stamp,
    text,
)
from syncd.model import (
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
    SourceType,
    StatusCategory,
    WorkItem,
    make_id,
)

Json = dict[str, Any]


def parse_ts(value: Any, where: str = "timestamp") -> datetime | None:
    """GitHub timestamps (`2026-11-20T10:00:00Z`) as aware datetimes; PayloadError for anything else."""
    return stamp(value, where)


def user_id(source: str, user: Json | None, where: str = "user") -> str | None:
    """Record id of a GitHub user (by login: stable enough, and what GraphQL gives us)."""
    login = text(obj(user, where).get("login"), f"{where}.login")
    return make_id(source, login) if login else None


def person_from_user(source: str, user: Json | None, where: str = "user") -> Person | None:
    """A Person from a (simple) user object."""
    pid = user_id(source, user, where)
    if pid is None or user is None:
        return None
    name = text(user.get("name"), f"{where}.name") or str(user["login"])
    return Person.trusted(id=pid, source=source, display_name=name, email=text(user.get("email"), f"{where}.email") or None)


class _People:
    """The Person of each user object a payload names, each read once (`person_from_user`): an issue names its
    author and assignee in two to three objects, a PR its reviewers in several, mostly equal ones (issue 18 item
    3: each was read for its id, then again for its Person). Equal objects are one read: the read depends on the
    object's content only, and `where` only names a field that fails, which an equal object read before did not."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._read: list[tuple[Any, Person | None]] = []

    def person(self, user: Any, where: str) -> Person | None:
        """The Person of `user` (None for no user, or one without a login)."""
        for seen, person in self._read:
            if seen is user or seen == user:
                return person
        person = person_from_user(self.source, user, where)
        self._read.append((user, person))
        return person

    @staticmethod
    def each_once(people: Iterable[Person | None]) -> list[Person]:
        """These people, each id once, in the order first named (the last object's Person, as a dict by id keeps)."""
        return list({p.id: p for p in people if p is not None}.values())


def is_pull(issue: Json) -> bool:
    """True for a PR in the issues list (today's API: key present; 2014 form: `html_url` set)."""
    pr = issue.get("pull_request")
    return isinstance(pr, dict) and (pr.get("html_url") or pr.get("url")) is not None


def milestone_id(source: str, repo: str, number: int) -> str:
    """Record id of a milestone."""
    return make_id(source, f"milestone:{repo}:{number}")


# GitHub issue types (org-defined; these are GitHub's defaults plus common additions) -> kinds
_ISSUE_TYPES = {"bug": ItemKind.BUG, "task": ItemKind.TASK, "feature": ItemKind.STORY, "story": ItemKind.STORY,
                "user story": ItemKind.STORY, "epic": ItemKind.EPIC}


def item_kind(issue: Json) -> ItemKind:
    """pull_request for PRs; else the issue type (Bug, Task, Feature, Epic) when set; else issue."""
    if is_pull(issue):
        return ItemKind.PULL_REQUEST
    kind = issue.get("type")
    name = str(kind.get("name") or "").strip().lower() if isinstance(kind, dict) else ""
    return _ISSUE_TYPES.get(name, ItemKind.ISSUE)


def item_from_issue(source: str, repo: str, issue: Json) -> WorkItem:
    """A WorkItem (kind pull_request, or the issue's type) from an issues-list entry.

    Raises PayloadError naming the field when the payload does not have the shape of a GitHub issue.
    """
    return issue_records(source, repo, issue)[0]


def issue_records(source: str, repo: str, issue: Json) -> tuple[WorkItem, list[Person]]:
    """The WorkItem of an issues-list entry and everyone it names (`people_from_issue`), each user read once.

    Raises PayloadError naming the field when the payload does not have the shape of a GitHub issue.
    """
    issue = root(issue, "issue")
    people = _People(source)
    remote = ident(issue.get("id"), "id")
    number = count(issue.get("number"), "number")
    if number is None:
        raise PayloadError("number", "missing")
    pull = is_pull(issue)
    state = text(issue.get("state"), "state") or "open"
    closed = state == "closed"
    if closed:
        category = StatusCategory.DONE
    elif pull or issue.get("assignee") or issue.get("assignees"):
        category = StatusCategory.IN_PROGRESS  # an open PR, or an open issue someone has taken
    else:
        category = StatusCategory.TODO
    resolution = None
    if closed:
        reason = text(issue.get("state_reason"), "state_reason")
        if pull:
            resolution = "merged" if stamp(issue["pull_request"].get("merged_at"), "pull_request.merged_at") else "closed"
        else:
            resolution = reason or "completed"
    milestone = obj(issue.get("milestone"), "milestone")
    assignees = objects(issue.get("assignees"), "assignees")
    assignee, where = (issue.get("assignee"), "assignee") if issue.get("assignee") else \
        ((assignees[0], "assignees[0]") if assignees else (None, "assignee"))
    labels = array(issue.get("labels"), "labels")
    # every value below was read by the typed readers of `connectors.payload` (or is ours): built without
    # validating it again (`Record.trusted`; issue 18 item 3)
    item = WorkItem.trusted(
        id=make_id(source, remote), source=source, source_type=SourceType.GITHUB, remote_id=remote,
        key=f"{repo}#{number}", project=repo, kind=item_kind(issue),
        title=text(issue.get("title"), "title") or "", status=state, status_category=category,
        resolution=resolution,
        labels=[text(lb.get("name"), f"labels[{n}].name") or "" for n, lb in enumerate(labels) if isinstance(lb, dict)],
        assignee_id=_id(people.person(assignee, where)), reporter_id=_id(people.person(issue.get("user"), "user")),
        created=required_stamp(issue.get("created_at"), "created_at"),
        updated=required_stamp(issue.get("updated_at"), "updated_at"),
        resolved=stamp(issue.get("closed_at"), "closed_at"), due=day(milestone.get("due_on"), "milestone.due_on"),
        release_ids=[milestone_id(source, repo, _milestone_number(milestone, "milestone"))] if milestone else [],
        description=text(issue.get("body"), "body") or None, url=text(issue.get("html_url"), "html_url"), raw=issue,
    )
    return item, _issue_people(people, issue)


def _id(person: Person | None) -> str | None:
    return person.id if person is not None else None


def _milestone_number(milestone: Json, where: str) -> int:
    out = count(milestone.get("number"), f"{where}.number")
    if out is None:
        raise PayloadError(f"{where}.number", "missing")
    return out


def people_from_issue(source: str, issue: Json) -> list[Person]:
    """Everyone an issue payload names."""
    return _issue_people(_People(source), root(issue, "issue"))


def _issue_people(people: _People, issue: Json) -> list[Person]:
    """The issue's author, assignee and assignees, each once."""
    users = [(issue.get("user"), "user"), (issue.get("assignee"), "assignee"),
             *((u, f"assignees[{n}]") for n, u in enumerate(array(issue.get("assignees"), "assignees")))]
    return _People.each_once(people.person(user, where) for user, where in users)


_REVIEW = {"APPROVED": ReviewState.APPROVED, "CHANGES_REQUESTED": ReviewState.CHANGES_REQUESTED,
           "COMMENTED": ReviewState.COMMENTED, "DISMISSED": ReviewState.DISMISSED, "PENDING": ReviewState.PENDING}
_ROLLUP = {"SUCCESS": CheckConclusion.SUCCESS, "FAILURE": CheckConclusion.FAILURE, "ERROR": CheckConclusion.FAILURE,
           "PENDING": CheckConclusion.PENDING, "EXPECTED": CheckConclusion.PENDING}


def review_from_node(source: str, node: Json, where: str = "review") -> Review:
    """A Review from a GraphQL review node."""
    return _review(node, where, _People(source))[0]


def _review(node: Json, where: str, people: _People) -> tuple[Review, Person | None]:
    """A Review and its author, read through `people`."""
    node = obj(node, where)
    author = people.person(node.get("author"), f"{where}.author")
    return Review.trusted(author_id=_id(author), state=_REVIEW.get(str(node.get("state")), ReviewState.COMMENTED),
                          submitted_at=stamp(node.get("submittedAt"), f"{where}.submittedAt")), author


_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[0-9]+")  # what a configured pattern's match must look like
_GITHUB_BRANCH = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?-)?patch-[0-9]+")  # web editor's default names


def jira_keys(texts: Iterable[str | None], projects: Iterable[str], pattern: str,
              branches: Iterable[str | None] = ()) -> list[str]:
    """Jira keys named in PR text, accepted only for configured project keys (no `UTF-8`, `SHA-256`).

    Branch names are matched without regard to case (`feature/wid-12-login` names WID-12), as
    branch names are usually lower case, except the names GitHub gives branches itself (`patch-1`,
    `ann-patch-2` from the web editor), which are matched as written, so they never name PATCH-1 of a
    project PATCH. Keys come back upper case, first mention first.
    """
    allowed = {p.upper() for p in projects}
    found: dict[str, None] = {}
    named = [b for b in branches if b and not _GITHUB_BRANCH.fullmatch(b)]
    defaulted = [b for b in branches if b and _GITHUB_BRANCH.fullmatch(b)]
    exact, folded = re.compile(pattern), re.compile(pattern, re.IGNORECASE)
    for rx, values in ((exact, [*texts, *defaulted]), (folded, named)):
        for value in values:
            for match in rx.finditer(value or ""):
                key = (match.group(1) if match.groups() else match.group(0)).upper()
                if _KEY.fullmatch(key) and key.rsplit("-", 1)[0] in allowed:
                    found[key] = None
    return list(found)


def _nodes(node: Json, alias: str) -> list[Json]:
    """The non-null nodes of a connection (GraphQL nulls the nodes it may not show)."""
    return objects(obj(node.get(alias), alias).get("nodes"), f"{alias}.nodes")


def head_rollup(node: Json) -> str | None:
    """The statusCheckRollup state of a PR node's head commit (`head: commits(last: 1)`), if any."""
    heads = _nodes(obj(node, "pullRequest"), "head")
    where = f"head.nodes[{len(heads) - 1}].commit"
    commit = obj(heads[-1].get("commit"), where) if heads else {}
    rollup = obj(commit.get("statusCheckRollup"), f"{where}.statusCheckRollup")
    return text(rollup.get("state"), f"{where}.statusCheckRollup.state")


def pull_from_graphql(source: str, item_id: str, node: Json, title: str | None, body: str | None,
                      projects: Iterable[str], pattern: str) -> tuple[PullRequest, list[Link], list[Person]]:
    """PR details, its Jira links and the people it names, from a GraphQL PR node (see `PR_FRAGMENT`)
    whose nested connections hold every page; `title` and `body` are the PR's texts, for Jira keys.

    Raises PayloadError naming the field when the node does not have the shape of `PR_FRAGMENT`.
    """
    node = root(node, "pullRequest")
    people = _People(source)
    merged = bool(node.get("merged"))
    state = PullState.MERGED if merged else (PullState.CLOSED if node.get("state") == "CLOSED" else PullState.OPEN)
    reviews = _nodes(node, "reviews")
    messages = [text(obj(n.get("commit"), f"messages.nodes[{i}].commit").get("message"),
                     f"messages.nodes[{i}].commit.message") for i, n in enumerate(_nodes(node, "messages"))]
    requested = [(obj(r.get("requestedReviewer"), f"reviewRequests.nodes[{i}].requestedReviewer"),
                  f"reviewRequests.nodes[{i}].requestedReviewer") for i, r in enumerate(_nodes(node, "reviewRequests"))]
    head = text(node.get("headRefName"), "headRefName")
    keys = jira_keys([text(title, "title"), text(body, "body"), *messages], projects, pattern, branches=[head])
    merged_by = people.person(node.get("mergedBy"), "mergedBy")
    review_records = [_review(r, f"reviews.nodes[{i}]", people) for i, r in enumerate(reviews)]
    reviewers = [people.person(r, where) for r, where in requested]
    pr = PullRequest.trusted(
        item_id=item_id, state=state, draft=bool(node.get("isDraft")), merged_at=stamp(node.get("mergedAt"), "mergedAt"),
        merged_by_id=_id(merged_by), head_branch=head,
        base_branch=text(node.get("baseRefName"), "baseRefName"), head_sha=text(node.get("headRefOid"), "headRefOid"),
        additions=count(node.get("additions"), "additions"), deletions=count(node.get("deletions"), "deletions"),
        changed_files=count(node.get("changedFiles"), "changedFiles"),
        reviews=[review for review, _ in review_records],
        requested_reviewer_ids=[p.id for p in reviewers if p is not None],
        checks=_ROLLUP.get(str(head_rollup(node)), CheckConclusion.NEUTRAL), linked_keys=keys, raw=node,
    )
    links = [Link.trusted(from_id=item_id, kind=LinkKind.IMPLEMENTS, to_key=k) for k in keys]
    return pr, links, _People.each_once([merged_by, *(author for _, author in review_records), *reviewers])


def release_from_milestone(source: str, repo: str, m: Json, where: str = "milestone") -> Release:
    """A Release (kind milestone) from a milestone."""
    m = obj(m, where)
    number = _milestone_number(m, where)
    closed = m.get("state") == "closed"
    return Release.trusted(
        id=milestone_id(source, repo, number), source=source,
        remote_id=ident(m["id"], f"{where}.id") if m.get("id") is not None else str(number),
        kind=ReleaseKind.MILESTONE, project=repo, name=text(m.get("title"), f"{where}.title") or "",
        description=text(m.get("description"), f"{where}.description") or None, due=day(m.get("due_on"), f"{where}.due_on"),
        released_at=stamp(m.get("closed_at"), f"{where}.closed_at") if closed else None, released=closed,
        created=stamp(m.get("created_at"), f"{where}.created_at"),
        url=text(m.get("html_url"), f"{where}.html_url"), raw=m,
    )


def release_from_release(source: str, repo: str, r: Json, where: str = "release") -> Release:
    """A Release (kind release) from a GitHub release (drafts are not released)."""
    r = obj(r, where)
    remote = ident(r.get("id"), f"{where}.id")
    published = stamp(r.get("published_at"), f"{where}.published_at")
    released = bool(published) and not r.get("draft")
    return Release.trusted(
        id=make_id(source, f"release:{repo}:{remote}"), source=source, remote_id=remote, kind=ReleaseKind.RELEASE,
        project=repo, name=text(r.get("name"), f"{where}.name") or text(r.get("tag_name"), f"{where}.tag_name") or "",
        description=text(r.get("body"), f"{where}.body") or None,
        due=None, released_at=published if released else None, released=released,
        prerelease=bool(r.get("prerelease")), draft=bool(r.get("draft")),
        tag=text(r.get("tag_name"), f"{where}.tag_name") or None,
        created=stamp(r.get("created_at"), f"{where}.created_at"),
        url=text(r.get("html_url"), f"{where}.html_url"), raw=r,
    )
