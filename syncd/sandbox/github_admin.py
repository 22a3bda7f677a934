"""The fake GitHub's admin routes: `/__sandbox/github/...` calls that change the world for live tests.

Each route calls one mutation of `syncd.sandbox.github_mutations` (or an app control: a repository
hidden from the token, the hourly budget) and answers the changed payload; `GitHubApp.admin_extra`
matches the path against `_admin_rules()` and runs the `_ADMIN` entry under the world lock, as
`syncd.sandbox.jira_mutations.admin` does for the fake Jira.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule

from syncd.sandbox.github_mutations import (
    add_check_run,
    add_issue,
    add_pull,
    add_review,
    add_status,
    close_issue,
    delete_issue,
    merge_pull,
    push_commits,
    request_review,
    set_labels,
    transfer_issue,
)
from syncd.sandbox.world import Json

if TYPE_CHECKING:  # the app imports this module to serve its admin routes
    from syncd.sandbox.github import GitHubApp


def _admin_rules() -> list[Rule]:
    repo = "/github/repos/<owner>/<name>"
    return [
        Rule(f"{repo}/issues", endpoint="add_issue", methods=["POST"]),
        Rule(f"{repo}/pulls", endpoint="add_pull", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/reviews", endpoint="add_review", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/requested_reviewers", endpoint="request_review", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/merge", endpoint="merge_pull", methods=["POST", "PUT"]),
        Rule(f"{repo}/issues/<int:number>/close", endpoint="close_issue", methods=["POST"]),
        Rule(f"{repo}/issues/<int:number>/labels", endpoint="set_labels", methods=["POST", "PUT"]),
        Rule(f"{repo}/issues/<int:number>", endpoint="delete_issue", methods=["DELETE"]),
        Rule(f"{repo}/issues/<int:number>/transfer", endpoint="transfer_issue", methods=["POST"]),
        Rule(f"{repo}/commits/<sha>/check-runs", endpoint="add_check_run", methods=["POST"]),
        Rule(f"{repo}/statuses/<sha>", endpoint="add_status", methods=["POST"]),
        Rule(f"{repo}/pulls/<int:number>/commits", endpoint="push_commits", methods=["POST"]),
        Rule(f"{repo}/access", endpoint="deny_repo", methods=["POST"]),
        Rule("/github/rate_limit", endpoint="rate_limit", methods=["GET", "POST"]),
    ]


def _admin_rate_limit(app: GitHubApp, body: Json) -> Json:
    """POST {"limit": N} sets the hourly budget; {"reset": true} starts every window afresh."""
    if "limit" in body:
        app.gh.rate_limit = int(body["limit"])
    if body.get("reset"):
        with app._budget_lock:
            app._buckets.clear()
    return {"limit": app.gh.rate_limit}


def _admin_deny(app: GitHubApp, repo: str, status: int = 404, apis: Sequence[str] = ("rest", "graphql")) -> Json:
    """POST {"status": 404|403, "apis": ["rest", "graphql"]} hides the repository from the token; 0 lifts it."""
    app.deny_repo(repo, status, apis)
    return {"repository": repo, "status": status, "apis": sorted(apis) if status else []}


def _admin_delete(app: GitHubApp, repo: str, number: int) -> Json:
    delete_issue(app.world, repo, number)
    return {"deleted": number, "repository": repo}


_ADMIN: dict[str, Callable[..., Any]] = {
    "add_issue": lambda app, body, owner, name: add_issue(app.world, f"{owner}/{name}", **body),
    "add_pull": lambda app, body, owner, name: add_pull(app.world, f"{owner}/{name}", **body),
    "add_review": lambda app, body, owner, name, number: add_review(app.world, f"{owner}/{name}", number, **body),
    "request_review": lambda app, body, owner, name, number: request_review(app.world, f"{owner}/{name}", number,
                                                                            **body),
    "merge_pull": lambda app, body, owner, name, number: merge_pull(app.world, f"{owner}/{name}", number, **body),
    "close_issue": lambda app, body, owner, name, number: close_issue(app.world, f"{owner}/{name}", number, **body),
    "set_labels": lambda app, body, owner, name, number: set_labels(app.world, f"{owner}/{name}", number, **body),
    "delete_issue": lambda app, body, owner, name, number: _admin_delete(app, f"{owner}/{name}", number),
    "transfer_issue": lambda app, body, owner, name, number: transfer_issue(app.world, f"{owner}/{name}", number,
                                                                            **body),
    "add_check_run": lambda app, body, owner, name, sha: add_check_run(app.world, f"{owner}/{name}", sha, **body),
    "add_status": lambda app, body, owner, name, sha: add_status(app.world, f"{owner}/{name}", sha, **body),
    "push_commits": lambda app, body, owner, name, number: push_commits(app.world, f"{owner}/{name}", number,
                                                                        **body),
    "deny_repo": lambda app, body, owner, name: _admin_deny(app, f"{owner}/{name}", **body),
    "rate_limit": _admin_rate_limit,
}
