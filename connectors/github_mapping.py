"""Pure mapping of GitHub payloads (REST issues/milestones/releases, GraphQL pull requests) to the model.

The GraphQL documents these nodes come from are in `connectors.github_queries`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

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
    StatusCategory,
    WorkItem,
    make_id,
)

Json = dict[str, Any]

def parse_ts(value: str | None) -> datetime | None:
    """GitHub timestamps (`2026-11-20T10:00:00Z`) as aware datetimes."""
    return datetime.fromisoformat(value) if value else None


def user_id(source: str, user: Json | None) -> str | None:
    """Record id of a GitHub user (by login: stable enough, and what GraphQL gives us)."""
    login = (user or {}).get("login")
    return make_id(source, login) if login else None


def person_from_user(source: str, user: Json | None) -> Person | None:
    """A Person from a (simple) user object."""
    pid = user_id(source, user)
    if pid is None or user is None:
        return None
    return Person(id=pid, source=source, display_name=str(user.get("name") or user["login"]), email=user.get("email") or None)


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
    """A WorkItem (kind pull_request, or the issue's type) from an issues-list entry."""
    pull = is_pull(issue)
    closed = issue.get("state") == "closed"
    if closed:
        category = StatusCategory.DONE
    elif pull or issue.get("assignee") or issue.get("assignees"):
        category = StatusCategory.IN_PROGRESS  # an open PR, or an open issue someone has taken
    else:
        category = StatusCategory.TODO
    resolution = None
    if closed:
        reason = issue.get("state_reason")
        if pull:
            resolution = "merged" if (issue.get("pull_request") or {}).get("merged_at") else "closed"
        else:
            resolution = str(reason) if reason else "completed"
    milestone = issue.get("milestone")
    assignee = issue.get("assignee") or ((issue.get("assignees") or [None])[0])
    return WorkItem(
        id=make_id(source, issue["id"]), source=source, source_type="github", remote_id=str(issue["id"]),
        key=f"{repo}#{issue['number']}", project=repo, kind=item_kind(issue),
        title=str(issue.get("title") or ""), status=str(issue.get("state", "open")), status_category=category,
        resolution=resolution, labels=[str(lb.get("name")) for lb in issue.get("labels") or [] if isinstance(lb, dict)],
        assignee_id=user_id(source, assignee), reporter_id=user_id(source, issue.get("user")),
        created=parse_ts(issue["created_at"]), updated=parse_ts(issue["updated_at"]),
        resolved=parse_ts(issue.get("closed_at")),
        due=date.fromisoformat(milestone["due_on"][:10]) if milestone and milestone.get("due_on") else None,
        release_ids=[milestone_id(source, repo, milestone["number"])] if milestone else [],
        description=issue.get("body") or None, url=issue.get("html_url"), raw=issue,
    )


def people_from_issue(source: str, issue: Json) -> list[Person]:
    """Everyone an issue payload names."""
    users = [issue.get("user"), issue.get("assignee"), *(issue.get("assignees") or [])]
    out = {p.id: p for p in (person_from_user(source, u) for u in users) if p}
    return list(out.values())


_REVIEW = {"APPROVED": ReviewState.APPROVED, "CHANGES_REQUESTED": ReviewState.CHANGES_REQUESTED,
           "COMMENTED": ReviewState.COMMENTED, "DISMISSED": ReviewState.DISMISSED, "PENDING": ReviewState.PENDING}
_ROLLUP = {"SUCCESS": CheckConclusion.SUCCESS, "FAILURE": CheckConclusion.FAILURE, "ERROR": CheckConclusion.FAILURE,
           "PENDING": CheckConclusion.PENDING, "EXPECTED": CheckConclusion.PENDING}


def review_from_node(source: str, node: Json) -> Review:
    """A Review from a GraphQL review node."""
    return Review(author_id=user_id(source, node.get("author")), state=_REVIEW.get(str(node.get("state")), ReviewState.COMMENTED),
                  submitted_at=parse_ts(node.get("submittedAt")))


_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[0-9]+")  # what a configured pattern's match must look like


def jira_keys(texts: Iterable[str | None], projects: Iterable[str], pattern: str,
              branches: Iterable[str | None] = ()) -> list[str]:
    """Jira keys named in PR text, accepted only for configured project keys (no `UTF-8`, `SHA-256`).

    Branch names are matched without regard to case (`feature/wid-12-login` names WID-12), as
    branch names are usually lower case; keys come back upper case, first mention first.
    """
    allowed = {p.upper() for p in projects}
    found: dict[str, None] = {}
    for rx, values in ((re.compile(pattern), texts), (re.compile(pattern, re.IGNORECASE), branches)):
        for text in values:
            for match in rx.finditer(text or ""):
                key = (match.group(1) if match.groups() else match.group(0)).upper()
                if _KEY.fullmatch(key) and key.rsplit("-", 1)[0] in allowed:
                    found[key] = None
    return list(found)


def _nodes(node: Json, alias: str) -> list[Json]:
    return [n for n in ((node.get(alias) or {}).get("nodes") or []) if n]


def head_rollup(node: Json) -> str | None:
    """The statusCheckRollup state of a PR node's head commit (`head: commits(last: 1)`), if any."""
    heads = _nodes(node, "head")
    commit = heads[-1].get("commit") if heads else None
    return ((commit or {}).get("statusCheckRollup") or {}).get("state")


def pull_from_graphql(source: str, item_id: str, node: Json, title: str | None, body: str | None,
                      projects: Iterable[str], pattern: str) -> tuple[PullRequest, list[Link], list[Person]]:
    """PR details, its Jira links and the people it names, from a GraphQL PR node (see `PR_FRAGMENT`)
    whose nested connections hold every page; `title` and `body` are the PR's texts, for Jira keys."""
    merged = bool(node.get("merged"))
    state = PullState.MERGED if merged else (PullState.CLOSED if node.get("state") == "CLOSED" else PullState.OPEN)
    reviews = _nodes(node, "reviews")
    messages = [(n.get("commit") or {}).get("message") for n in _nodes(node, "messages")]
    requested = [r.get("requestedReviewer") or {} for r in _nodes(node, "reviewRequests")]
    keys = jira_keys([title, body, *messages], projects, pattern, branches=[node.get("headRefName")])
    pr = PullRequest(
        item_id=item_id, state=state, draft=bool(node.get("isDraft")), merged_at=parse_ts(node.get("mergedAt")),
        merged_by_id=user_id(source, node.get("mergedBy")), head_branch=node.get("headRefName"),
        base_branch=node.get("baseRefName"), head_sha=node.get("headRefOid"), additions=node.get("additions"),
        deletions=node.get("deletions"), changed_files=node.get("changedFiles"),
        reviews=[review_from_node(source, r) for r in reviews],
        requested_reviewer_ids=[make_id(source, r["login"]) for r in requested if r.get("login")],
        checks=_ROLLUP.get(str(head_rollup(node)), CheckConclusion.NEUTRAL), linked_keys=keys, raw=node,
    )
    links = [Link(from_id=item_id, kind=LinkKind.IMPLEMENTS, to_key=k) for k in keys]
    people = {}
    for user in [node.get("mergedBy"), *(r.get("author") for r in reviews), *requested]:
        p = person_from_user(source, user if isinstance(user, dict) else None)
        if p:
            people[p.id] = p
    return pr, links, list(people.values())


def release_from_milestone(source: str, repo: str, m: Json) -> Release:
    """A Release (kind milestone) from a milestone."""
    closed = m.get("state") == "closed"
    return Release(
        id=milestone_id(source, repo, m["number"]), source=source, remote_id=str(m.get("id", m["number"])),
        kind=ReleaseKind.MILESTONE, project=repo, name=str(m.get("title", "")), description=m.get("description") or None,
        due=date.fromisoformat(m["due_on"][:10]) if m.get("due_on") else None,
        released_at=parse_ts(m.get("closed_at")) if closed else None, released=closed, url=m.get("html_url"), raw=m,
    )


def release_from_release(source: str, repo: str, r: Json) -> Release:
    """A Release (kind release) from a GitHub release (drafts are not released)."""
    published = parse_ts(r.get("published_at"))
    released = bool(published) and not r.get("draft")
    return Release(
        id=make_id(source, f"release:{repo}:{r['id']}"), source=source, remote_id=str(r["id"]), kind=ReleaseKind.RELEASE,
        project=repo, name=str(r.get("name") or r.get("tag_name") or ""), description=r.get("body") or None,
        due=None, released_at=published if released else None, released=released, url=r.get("html_url"), raw=r,
    )
