"""The sandbox's world: a generated project history held as the payloads the real APIs return.

Both fake servers serve from one `World`, under its lock, so a mutation seen by one is seen by the
other. Payloads are stored in the shape of the real API (Jira Cloud REST v3 / agile 1.0, GitHub
REST v3), so the servers only page, filter and project them; fidelity is checked against
../shared/realdata. The generator (`syncd.sandbox.generate`) builds one; the servers never invent
data of their own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Json = dict[str, Any]


@dataclass
class JiraWorld:
    """One Jira Cloud site."""

    base_url: str = "http://127.0.0.1"  # rewritten to the server's address when it starts
    email: str = "demo@example.com"
    api_token: str = "sandbox-jira-token"  # basic auth: email + this token; bearer: the same token
    server_info: Json = field(default_factory=dict)  # /rest/api/3/serverInfo (deploymentType "Cloud")
    myself: Json = field(default_factory=dict)
    fields: list[Json] = field(default_factory=list)  # /rest/api/3/field (story points custom field)
    issue_types: list[Json] = field(default_factory=list)  # /rest/api/3/issuetype (untranslatedName, hierarchyLevel)
    projects: dict[str, Json] = field(default_factory=dict)  # key -> project
    statuses: list[Json] = field(default_factory=list)  # with statusCategory
    users: dict[str, Json] = field(default_factory=dict)  # accountId -> user
    # issue id (str) -> issue payload as /rest/api/3/issue/{id} returns it with every field, plus
    # "changelog": {"histories": [...all histories, oldest first...]}; the server slices what a
    # request asks for (fields, expand=changelog with at most 100 histories embedded).
    issues: dict[str, Json] = field(default_factory=dict)
    boards: dict[int, Json] = field(default_factory=dict)  # id -> board (agile)
    board_config: dict[int, Json] = field(default_factory=dict)  # id -> /board/{id}/configuration
    sprints: dict[int, Json] = field(default_factory=dict)  # sprint id -> sprint (has originBoardId)
    versions: dict[str, list[Json]] = field(default_factory=dict)  # project key -> versions
    deleted: set[str] = field(default_factory=set)  # ids of deleted issues (404 now)
    # The site's (and the API account's) time zone: Jira renders timestamps in it and reads a bare
    # JQL datetime ("2026/11/20 10:00") in it, so a client sending UTC that way is off by hours.
    timezone: str = "America/Los_Angeles"
    deployment: str = "Cloud"  # "Cloud", or "Server" (Data Center): v2 shapes, legacy /search only
    moved_keys: dict[str, str] = field(default_factory=dict)  # old key -> issue id (after a move)
    revision: int = 0  # bumped by every mutation, so a server can cache indexes until it changes
    last_history_id: int = 0  # highest changelog history id a mutation handed out (0: not looked up yet)
    # Site shapes (`syncd.sandbox.site_modes`): no Jira Software (every agile path 404), boards the API
    # account cannot see (403), and sprints a board lists besides its own (board id -> sprint ids).
    agile: bool = True
    hidden_boards: set[int] = field(default_factory=set)
    listed_sprints: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class GitHubRepo:
    """One repository and everything under it, keyed the way the REST API addresses it."""

    repo: Json  # /repos/{o}/{r}
    issues: dict[int, Json] = field(default_factory=dict)  # number -> issue (PRs carry "pull_request")
    pulls: dict[int, Json] = field(default_factory=dict)  # number -> /pulls/{n} payload
    reviews: dict[int, list[Json]] = field(default_factory=dict)  # PR number -> reviews
    commits: dict[int, list[Json]] = field(default_factory=dict)  # PR number -> commits
    check_runs: dict[str, list[Json]] = field(default_factory=dict)  # sha -> check runs
    statuses: dict[str, list[Json]] = field(default_factory=dict)  # sha -> commit statuses
    milestones: dict[int, Json] = field(default_factory=dict)  # number -> milestone
    releases: list[Json] = field(default_factory=list)
    labels: list[Json] = field(default_factory=list)
    comments: dict[int, list[Json]] = field(default_factory=dict)  # issue number -> comments
    deleted: set[int] = field(default_factory=set)  # numbers of deleted issues (410 Gone)
    transferred: dict[int, str] = field(default_factory=dict)  # number -> new repo full name (301)
    revision: int = 0  # bumped by every mutation, so a server can cache sorted indexes until it changes


@dataclass
class GitHubWorld:
    """One GitHub host."""

    base_url: str = "http://127.0.0.1"
    token: str = "sandbox-github-token"
    viewer: Json = field(default_factory=dict)  # /user
    users: dict[str, Json] = field(default_factory=dict)  # login -> simple user
    repos: dict[str, GitHubRepo] = field(default_factory=dict)  # "owner/name" -> repo
    rate_limit: int = 5000  # primary budget per hour (x-ratelimit-limit)


@dataclass
class Truth:
    """What the generator made, counted, so tests can compare a sync with it."""

    jira_issues: int = 0
    jira_sprints: int = 0
    jira_versions: int = 0
    jira_links: int = 0
    jira_transitions: int = 0
    github_issues: int = 0
    github_pulls: int = 0
    github_reviews: int = 0
    github_milestones: int = 0
    github_releases: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    """Everything both fake servers serve."""

    seed: int
    now: datetime
    jira: JiraWorld
    github: GitHubWorld
    truth: Truth = field(default_factory=Truth)
    lock: threading.RLock = field(default_factory=threading.RLock)
