"""The GitHub connector's GraphQL reads: pull-request details in batches (overflowing nested connections
followed up), open PRs' head rollups and the id census. Each returns plain data;
`connectors.github` turns it into batches and cursor state. The documents are in `connectors.github_queries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from syncd.connectors.config import GitHubSource
from syncd.connectors.github_client import GitHubClient, SourceStopped, graphql_problem
from syncd.connectors.github_mapping import head_rollup
from syncd.connectors.github_queries import CENSUS_QUERY, FOLLOW_UPS, OPEN_ROLLUPS_QUERY, pulls_query, pulls_variables
from syncd.connectors.payload import PayloadError, ident, objects
from syncd.errors import SourceError
from syncd.model import make_id

Json = dict[str, Any]


class GraphQLReads:
    """GraphQL reads of one GitHub source, through its client (pacing, retries, request counting)."""

    def __init__(self, name: str, config: GitHubSource, client: GitHubClient) -> None:
        self.name = name
        self.config = config
        self.client = client

    def pull_details(self, repo: str, numbers: list[int], texts: bool) -> dict[int, Json]:
        """Complete GraphQL nodes of these PRs of one repository; SourceError when GraphQL cannot give one."""
        nodes, failed = self.pull_details_across([(repo, n) for n in numbers], texts)
        if repo in failed:
            raise SourceError(self.name, failed[repo], self.config.base_url)
        return {number: node for (_, number), node in nodes.items()}

    def pull_details_across(self, wanted: Sequence[tuple[str, int]], texts: bool
                            ) -> tuple[dict[tuple[str, int], Json], dict[str, str]]:
        """Complete GraphQL nodes of these (repository, number) PRs, `graphql_batch` a request whatever
        repositories they are of; overflowing nested connections followed up.

        Returns the nodes and, for each repository GraphQL could not give every PR of, why (one line): that
        repository fails, the others in the same request do not. A stopped source (bad credentials, rate
        budget) raises.
        """
        out: dict[tuple[str, int], Json] = {}
        failed: dict[str, str] = {}
        size = self.config.graphql_batch
        for start in range(0, len(wanted), size):
            chunk = list(dict.fromkeys(wanted[start:start + size]))
            repos = list(dict.fromkeys(repo for repo, _ in chunk))
            groups = [(k, [n for r, n in chunk if r == repo]) for k, repo in enumerate(repos)]
            try:
                data, errors = self.client.graphql_partial(pulls_query(groups), pulls_variables(list(enumerate(repos)), texts))
            except SourceStopped:
                raise
            except SourceError as exc:
                failed.update((repo, failed.get(repo) or _reason(exc)) for repo in repos)
                continue
            for k, repo in enumerate(repos):
                found = data.get(f"r{k}")
                for number in groups[k][1]:
                    node = found.get(f"pr{number}") if isinstance(found, dict) else None
                    if not isinstance(node, dict):
                        failed.setdefault(repo, _missing(errors, k, repo, number))
                        continue
                    try:
                        owner, name = repo.split("/", 1)
                        for alias, (field, query) in FOLLOW_UPS.items():
                            self._follow_up(owner, name, number, node, alias, field, query)
                    except SourceStopped:
                        raise
                    except SourceError as exc:
                        failed.setdefault(repo, _reason(exc))
                        continue
                    out[(repo, number)] = node
        return out, failed

    def _follow_up(self, owner: str, name: str, number: int, node: Json, alias: str, field: str, query: str) -> None:
        """Append the remaining pages of one nested connection of a PR node to the node itself."""
        conn = node.get(alias) or {}
        info = conn.get("pageInfo") if isinstance(conn, dict) else None  # a wrong shape is the mapping's to name
        while isinstance(info, dict) and info.get("hasNextPage"):
            data = self.client.graphql(query, {"owner": owner, "name": name, "number": number,
                                               "after": info.get("endCursor")})
            more = (((data.get("repository") or {}).get("pullRequest") or {}).get(field) or {})
            conn["nodes"] = [*(conn.get("nodes") or []), *(more.get("nodes") or [])]
            info = more.get("pageInfo") or {}
        if isinstance(conn, dict) and conn and isinstance(info, dict):
            conn["pageInfo"] = {"hasNextPage": False, "endCursor": info.get("endCursor")}

    def open_rollups(self, repo: str) -> dict[str, str | None]:
        """PR number -> head-commit rollup state of every open PR (100 a request)."""
        owner, name = repo.split("/", 1)
        rollups: dict[str, str | None] = {}
        after = None
        while True:
            data = self.client.graphql(OPEN_ROLLUPS_QUERY, {"owner": owner, "name": name, "after": after})
            conn = ((data.get("repository") or {}).get("pullRequests") or {})
            try:
                rollups.update((ident(n.get("number"), "pullRequests.nodes.number"), head_rollup(n))
                               for n in objects(conn.get("nodes"), "pullRequests.nodes"))
            except PayloadError as exc:
                raise SourceError(self.name, f"open pull requests' checks not understood: {exc}",
                                  self.config.base_url) from None
            info = conn.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        return rollups

    def census(self, repo: str) -> tuple[set[str], set[int]]:
        """Issue ids and PR numbers in the repository now (GraphQL, 100 of each a page).

        GraphQL knows a PR by number, not by the issue id the REST list gives it, hence the two sets.
        """
        owner, name = repo.split("/", 1)
        ids: set[str] = set()
        numbers: set[int] = set()
        after: dict[str, str | None] = {"issues": None, "pullRequests": None}
        want = {"issues": True, "pullRequests": True}
        while want["issues"] or want["pullRequests"]:
            data = self.client.graphql(CENSUS_QUERY, {"owner": owner, "name": name, "issuesAfter": after["issues"],
                                                      "pullsAfter": after["pullRequests"], "issues": want["issues"],
                                                      "pulls": want["pullRequests"]})
            found = data.get("repository") or {}
            for conn_name in [c for c in ("issues", "pullRequests") if want[c]]:
                conn = found.get(conn_name) or {}
                try:
                    for node in objects(conn.get("nodes"), f"census {conn_name}.nodes"):
                        if conn_name == "issues":
                            ids.add(make_id(self.name, ident(node.get("databaseId"), "census issues.nodes.databaseId")))
                        else:
                            numbers.add(int(ident(node.get("number"), "census pullRequests.nodes.number")))
                except (PayloadError, ValueError) as exc:
                    raise SourceError(self.name, f"{repo}: census not understood: {exc}", self.config.base_url) from None
                info = conn.get("pageInfo") or {}
                want[conn_name] = bool(info.get("hasNextPage"))
                after[conn_name] = info.get("endCursor")
        return ids, numbers


def _missing(errors: list[Json], k: int, repo: str, number: int) -> str:
    """Why GraphQL gave no node for PR `number` of repository `r{k}`: its own error (or its repository's, or
    one about the whole query), else that it has no such PR."""
    for wanted in ([f"r{k}", f"pr{number}"], [f"r{k}"], None):
        for error in errors:
            path = error.get("path")
            where = [str(p) for p in path[:len(wanted)]] if isinstance(path, list) and wanted else None
            if (wanted is None and not path) or (wanted is not None and where == wanted):
                return graphql_problem(error)
    return f"GraphQL: {repo}#{number} is listed as a pull request but GraphQL has no such pull request"


def _reason(exc: SourceError) -> str:
    """A SourceError's message without its `source NAME (URL): ` prefix."""
    prefix = f"source {exc.source}" + (f" ({exc.url})" if exc.url else "") + ": "
    return str(exc).removeprefix(prefix)
