"""The fake GitHub's REST v3 routes, as PyGithub calls them: one `handle_<endpoint>` per route of `_rules`.

`RestRoutes` is the base of `GitHubApp` (syncd.sandbox.github), which adds authentication, rate
limits, GraphQL and the admin routes; it pages, filters and projects `world.github`'s payloads.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import ServiceApp
from syncd.sandbox.github_common import (
    _ApiError,
    _choice,
    _combined_state,
    _completeness,
    _dumps,
    _filter_issues,
    _latest_check_runs,
    _latest_statuses,
    _Page,
    _pull_list_item,
    _RepoIndex,
    _search,
    _time_arg,
    _transferred_number,
)
from syncd.sandbox.world import GitHubRepo, GitHubWorld, Json, World


def _rules() -> list[Rule]:
    repo = "/repos/<owner>/<name>"
    paths = [
        ("/user", "user"), ("/users/<login>", "users"), ("/users/<login>/orgs", "user_orgs"),
        ("/rate_limit", "rate_limit"),
        ("/user/repos", "user_repos"), ("/orgs/<org>/repos", "org_repos"), ("/search/issues", "search_issues"),
        (repo, "repo"), (f"{repo}/issues", "issues"), (f"{repo}/issues/<int:number>", "issue"),
        (f"{repo}/issues/<int:number>/comments", "issue_comments"), (f"{repo}/pulls", "pulls"),
        (f"{repo}/pulls/<int:number>", "pull"), (f"{repo}/pulls/<int:number>/reviews", "reviews"),
        (f"{repo}/pulls/<int:number>/commits", "pull_commits"),
        (f"{repo}/pulls/<int:number>/requested_reviewers", "requested_reviewers"),
        (f"{repo}/commits/<ref>", "commit"), (f"{repo}/commits/<path:ref>/check-runs", "check_runs"),
        (f"{repo}/commits/<path:ref>/status", "combined_status"),
        (f"{repo}/commits/<path:ref>/statuses", "statuses"), (f"{repo}/statuses/<path:ref>", "statuses"),
        (f"{repo}/milestones", "milestones"),
        (f"{repo}/milestones/<int:number>", "milestone"), (f"{repo}/releases", "releases"),
        (f"{repo}/releases/latest", "release_latest"), (f"{repo}/releases/tags/<path:tag>", "release_by_tag"),
        (f"{repo}/releases/<int:release_id>", "release"), (f"{repo}/labels", "labels"),
    ]
    rules = [Rule(path, endpoint=name, methods=["GET"]) for path, name in paths]
    rules.append(Rule("/graphql", endpoint="graphql", methods=["POST"]))
    rules.append(Rule("/app/installations/<int:installation_id>/access_tokens", endpoint="installation_token",
                      methods=["POST"]))
    return rules



class RestRoutes(ServiceApp):
    """GitHub REST v3 over `world.github` (serialization, lookups and the GET routes)."""

    # Set by GitHubApp.__init__.
    world: World
    gh: GitHubWorld
    payload_base: str
    _indexes: dict[str, _RepoIndex]
    denied: dict[str, tuple[int, frozenset[str]]]

    # -- serialization ------------------------------------------------------------------------

    def _index(self, full_name: str, repo: GitHubRepo) -> _RepoIndex:
        index = self._indexes.get(full_name)
        if index is None or index.revision != repo.revision:
            index = _RepoIndex(repo.revision)
            self._indexes[full_name] = index
        return index

    def _rewrite(self, text: str, request: Request) -> str:
        origin = request.host_url.rstrip("/") + request.script_root
        if self.payload_base and origin != self.payload_base:
            return text.replace(self.payload_base + "/", origin + "/")
        return text

    def _text(self, request: Request, index: _RepoIndex | None, key: tuple[str, Any], payload: Any) -> str:
        if index is None:
            return self._rewrite(_dumps(payload), request)
        cached = index.text.get(key)
        if cached is None:
            cached = index.text[key] = self._rewrite(_dumps(payload), request)
        return cached

    def _json(self, request: Request, payload: Any, index: _RepoIndex | None = None,
              key: tuple[str, Any] | None = None, status: int = 200) -> Response:
        text = self._text(request, index, key, payload) if key is not None else self._rewrite(_dumps(payload), request)
        response = Response(text, status=status, content_type="application/json; charset=utf-8")
        if isinstance(payload, dict) and payload.get("updated_at"):
            response.last_modified = datetime.fromisoformat(str(payload["updated_at"]).replace("Z", "+00:00"))
        return response

    def _list(self, request: Request, items: Sequence[Json], index: _RepoIndex | None = None,
              kind: str = "", id_key: str = "id", project: Callable[[Json], Json] | None = None) -> Response:
        """One page of `items` (already filtered and ordered) with its Link header."""
        page = _Page(request, len(items))
        chunk = items[page.start: page.start + page.per_page]
        return self._page_response(request, page, chunk, index, kind, id_key, project)

    def _page_response(self, request: Request, page: _Page, chunk: Sequence[Json], index: _RepoIndex | None,
                       kind: str, id_key: str, project: Callable[[Json], Json] | None) -> Response:
        texts = []
        for item in chunk:
            payload = project(item) if project else item
            if index is not None and kind:
                texts.append(self._text(request, index, (kind, item[id_key]), payload))
            else:
                texts.append(self._rewrite(_dumps(payload), request))
        response = Response("[" + ",".join(texts) + "]", content_type="application/json; charset=utf-8")
        link = page.link()
        if link:
            response.headers["Link"] = link
        return response

    # -- lookups ------------------------------------------------------------------------------

    def _repo(self, owner: str, name: str, api: str = "rest") -> tuple[str, GitHubRepo]:
        full = f"{owner}/{name}"
        denied = self.denied.get(full.lower())
        if denied and api in denied[1]:
            raise _ApiError(denied[0], "Resource not accessible by personal access token" if denied[0] == 403
                            else "Not Found")
        repo = self.gh.repos.get(full)
        if repo is None:
            lowered = full.lower()  # owner and name are not case sensitive on GitHub
            for key, candidate in self.gh.repos.items():
                if key.lower() == lowered:
                    return key, candidate
            raise _ApiError(404, "Not Found")
        return full, repo

    def _issue_or_gone(self, request: Request, full: str, repo: GitHubRepo, number: int) -> Json:
        if number in repo.deleted:
            raise _ApiError(410, "This issue was deleted", extra={})
        if number in repo.transferred:
            target = repo.transferred[number]
            new_number = _transferred_number(self.gh, repo, number, target)
            location = f"{request.host_url.rstrip('/')}{request.script_root}/repos/{target}/issues/{new_number}"
            raise _ApiError(301, "Moved Permanently", headers={"Location": location}, extra={"url": location})
        issue = repo.issues.get(number)
        if issue is None:
            raise _ApiError(404, "Not Found")
        return issue

    # -- users, repositories, rate limit ----------------------------------------------------------

    def handle_user(self, request: Request) -> Response:
        return self._json(request, self.gh.viewer)

    def handle_users(self, request: Request, login: str) -> Response:
        user = self.gh.users.get(login) or (self.gh.viewer if self.gh.viewer.get("login") == login else None)
        if user is None:
            raise _ApiError(404, "Not Found")
        return self._json(request, user)

    def handle_user_orgs(self, request: Request, login: str) -> Response:
        """A user's public organization memberships: none in the sandbox (Perceval reads every author's)."""
        self.handle_users(request, login)
        return self._list(request, [])

    def handle_repo(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        return self._json(request, repo.repo, self._index(full, repo), ("repo", 0))

    def _repo_list(self, request: Request, owner: str | None) -> Response:
        repos = [r.repo for r in self.gh.repos.values()
                 if owner is None or r.repo.get("owner", {}).get("login", "").lower() == owner.lower()]
        return self._list(request, sorted(repos, key=lambda r: r.get("full_name", "")))

    def handle_user_repos(self, request: Request) -> Response:
        return self._repo_list(request, None)

    def handle_org_repos(self, request: Request, org: str) -> Response:
        if not any(r.repo.get("owner", {}).get("login", "").lower() == org.lower() for r in self.gh.repos.values()):
            raise _ApiError(404, "Not Found")
        return self._repo_list(request, org)

    # -- issues -------------------------------------------------------------------------------

    def handle_issues(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        index = self._index(full, repo)
        args = request.args
        state = _choice(args, "state", ("open", "closed", "all"), "open")
        sort = _choice(args, "sort", ("created", "updated", "comments"), "created")
        desc = _choice(args, "direction", ("asc", "desc"), "desc") == "desc"
        since = _time_arg(args, "since")
        items: Sequence[Json] = index.items(repo, "issues", state, sort)
        lo = 0
        if since and sort == "updated":
            lo = bisect.bisect_left(index.updated(repo, "issues", state), since)
        elif since:
            items = [p for p in items if (p.get("updated_at") or "") >= since]
        items = _filter_issues(items, args)
        return self._ordered_page(request, items, lo, desc, index, "issue")

    def _ordered_page(self, request: Request, items: Sequence[Json], lo: int, desc: bool,
                      index: _RepoIndex, kind: str, project: Callable[[Json], Json] | None = None,
                      id_key: str = "number") -> Response:
        """Page `items[lo:]` (ascending) forwards or backwards without copying the whole list."""
        page = _Page(request, len(items) - lo)
        if desc:
            end = len(items) - page.start
            chunk = list(reversed(items[max(lo, end - page.per_page): max(lo, end)]))
        else:
            chunk = list(items[lo + page.start: lo + page.start + page.per_page])
        return self._page_response(request, page, chunk, index, kind, id_key, project)

    def handle_issue(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo = self._repo(owner, name)
        issue = self._issue_or_gone(request, full, repo, number)
        return self._json(request, issue, self._index(full, repo), ("issue", number))

    def handle_issue_comments(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo = self._repo(owner, name)
        self._issue_or_gone(request, full, repo, number)
        comments: Sequence[Json] = repo.comments.get(number, [])
        since = _time_arg(request.args, "since")
        if since:
            comments = [c for c in comments if (c.get("updated_at") or "") >= since]
        return self._list(request, comments, self._index(full, repo), "comment")

    def handle_search_issues(self, request: Request) -> Response:
        query = request.args.get("q", "")
        if not query.strip():
            raise _ApiError(422, "Validation Failed", extra={"errors": [{"resource": "Search", "field": "q",
                                                                          "code": "missing"}]})
        items = _search(self.gh, query)
        page = _Page(request, len(items))
        chunk = items[page.start: page.start + page.per_page]
        body = {"total_count": len(items), "incomplete_results": False, "search_type": "lexical",
                "items": [{**item, "score": 1.0} for item in chunk]}
        response = self._json(request, body)
        link = page.link()
        if link:
            response.headers["Link"] = link
        return response

    # -- pull requests ------------------------------------------------------------------------

    def handle_pulls(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        index = self._index(full, repo)
        args = request.args
        state = _choice(args, "state", ("open", "closed", "all"), "open")
        sort = _choice(args, "sort", ("created", "updated", "popularity", "long-running"), "created")
        default_direction = "desc" if sort == "created" else "asc"
        desc = _choice(args, "direction", ("asc", "desc"), default_direction) == "desc"
        items: Sequence[Json] = index.items(repo, "pulls", state, sort)
        base, head = args.get("base"), args.get("head")
        if base:
            items = [p for p in items if p.get("base", {}).get("ref") == base]
        if head:
            owner_part, _, ref = head.rpartition(":")
            items = [p for p in items if p.get("head", {}).get("ref") == ref
                     and (not owner_part or p.get("head", {}).get("label", "").split(":")[0].lower() == owner_part.lower())]
        return self._ordered_page(request, items, 0, desc, index, "pull-list", _pull_list_item)

    def _pull(self, owner: str, name: str, number: int) -> tuple[str, GitHubRepo, Json]:
        full, repo = self._repo(owner, name)
        pull = repo.pulls.get(number)
        if pull is None:
            raise _ApiError(404, "Not Found")
        return full, repo, pull

    def handle_pull(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo, pull = self._pull(owner, name, number)
        return self._json(request, pull, self._index(full, repo), ("pull", number))

    def handle_reviews(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo, _ = self._pull(owner, name, number)
        return self._list(request, repo.reviews.get(number, []), self._index(full, repo), "review")

    def handle_pull_commits(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo, _ = self._pull(owner, name, number)
        commits = repo.commits.get(number, [])[:250]  # GitHub lists at most 250 commits of a PR
        return self._list(request, commits, self._index(full, repo), "commit", id_key="sha")

    def handle_requested_reviewers(self, request: Request, owner: str, name: str, number: int) -> Response:
        _, _, pull = self._pull(owner, name, number)
        return self._json(request, {"users": pull.get("requested_reviewers", []),
                                    "teams": pull.get("requested_teams", [])})

    # -- commits: checks and statuses ---------------------------------------------------------

    def _sha(self, repo: GitHubRepo, ref: str) -> str:
        """A ref (sha, branch, heads/branch) as the sha the world keys checks and statuses by."""
        if ref in repo.check_runs or ref in repo.statuses:
            return ref
        branch = ref.removeprefix("heads/")
        for pull in repo.pulls.values():
            head = pull.get("head", {})
            if head.get("ref") == branch or (head.get("sha") or "").startswith(ref):
                return str(head.get("sha"))
        return ref

    def handle_commit(self, request: Request, owner: str, name: str, ref: str) -> Response:
        """A commit of some pull request, by sha (or a unique sha prefix of at least 7 characters)."""
        _, repo = self._repo(owner, name)
        sha = self._sha(repo, ref)
        for commits in repo.commits.values():
            for commit in commits:
                if commit.get("sha") == sha or (len(ref) >= 7 and str(commit.get("sha", "")).startswith(ref)):
                    return self._json(request, commit)
        raise _ApiError(422, f"No commit found for SHA: {ref}")

    def handle_check_runs(self, request: Request, owner: str, name: str, ref: str) -> Response:
        _, repo = self._repo(owner, name)
        runs = repo.check_runs.get(self._sha(repo, ref), [])
        args = request.args
        if _choice(args, "filter", ("latest", "all"), "latest") == "latest":
            runs = _latest_check_runs(runs)
        if args.get("check_name"):
            runs = [r for r in runs if r.get("name") == args["check_name"]]
        if args.get("status"):
            runs = [r for r in runs if r.get("status") == args["status"]]
        page = _Page(request, len(runs))
        response = self._json(request, {"total_count": len(runs),
                                        "check_runs": runs[page.start: page.start + page.per_page]})
        link = page.link()
        if link:
            response.headers["Link"] = link
        return response

    def handle_combined_status(self, request: Request, owner: str, name: str, ref: str) -> Response:
        full, repo = self._repo(owner, name)
        sha = self._sha(repo, ref)
        latest = _latest_statuses(repo.statuses.get(sha, []))
        page = _Page(request, len(latest), default_per_page=100)
        body = {"state": _combined_state(latest), "statuses": latest[page.start: page.start + page.per_page],
                "sha": sha, "total_count": len(latest), "repository": repo.repo,
                "commit_url": f"{repo.repo.get('url', '')}/commits/{sha}",
                "url": f"{repo.repo.get('url', '')}/commits/{sha}/status"}
        return self._json(request, body)

    def handle_statuses(self, request: Request, owner: str, name: str, ref: str) -> Response:
        _, repo = self._repo(owner, name)
        statuses = sorted(repo.statuses.get(self._sha(repo, ref), []),
                          key=lambda s: (s.get("created_at") or "", s.get("id") or 0), reverse=True)
        return self._list(request, statuses)

    # -- milestones, releases, labels ---------------------------------------------------------

    def handle_milestones(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        args = request.args
        state = _choice(args, "state", ("open", "closed", "all"), "open")
        sort = _choice(args, "sort", ("due_on", "completeness"), "due_on")
        desc = _choice(args, "direction", ("asc", "desc"), "asc") == "desc"
        items = [m for m in repo.milestones.values() if state == "all" or m.get("state") == state]
        if sort == "due_on":
            # Milestones without a due date come last in either direction, as on GitHub.
            dated = sorted((m for m in items if m.get("due_on")), key=lambda m: (m["due_on"], m["number"]),
                           reverse=desc)
            items = dated + sorted((m for m in items if not m.get("due_on")), key=lambda m: m["number"])
        else:
            items.sort(key=lambda m: (_completeness(m), m["number"]), reverse=desc)
        return self._list(request, items, self._index(full, repo), "milestone", id_key="number")

    def handle_milestone(self, request: Request, owner: str, name: str, number: int) -> Response:
        full, repo = self._repo(owner, name)
        milestone = repo.milestones.get(number)
        if milestone is None:
            raise _ApiError(404, "Not Found")
        return self._json(request, milestone, self._index(full, repo), ("milestone", number))

    def handle_releases(self, request: Request, owner: str, name: str) -> Response:
        full, repo = self._repo(owner, name)
        releases = sorted(repo.releases, key=lambda r: (r.get("created_at") or "", r.get("id") or 0), reverse=True)
        return self._list(request, releases, self._index(full, repo), "release")

    def handle_release_latest(self, request: Request, owner: str, name: str) -> Response:
        _, repo = self._repo(owner, name)
        published = [r for r in repo.releases if not r.get("draft") and not r.get("prerelease")]
        if not published:
            raise _ApiError(404, "Not Found")
        return self._json(request, max(published, key=lambda r: (r.get("created_at") or "", r.get("id") or 0)))

    def handle_release_by_tag(self, request: Request, owner: str, name: str, tag: str) -> Response:
        _, repo = self._repo(owner, name)
        for release in repo.releases:
            if release.get("tag_name") == tag and not release.get("draft"):
                return self._json(request, release)
        raise _ApiError(404, "Not Found")

    def handle_release(self, request: Request, owner: str, name: str, release_id: int) -> Response:
        _, repo = self._repo(owner, name)
        for release in repo.releases:
            if release.get("id") == release_id:
                return self._json(request, release)
        raise _ApiError(404, "Not Found")

    def handle_labels(self, request: Request, owner: str, name: str) -> Response:
        _, repo = self._repo(owner, name)
        return self._list(request, repo.labels)

