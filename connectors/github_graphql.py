"""The GitHub connector's GraphQL reads: pull-request details in batches (overflowing nested connections
followed up), open PRs' head rollups and the id census. Each returns plain data;
`connectors.github` turns it into batches and cursor state. The documents are in `connectors.github_queries`.
"""

from __future__ import annotations

from typing import Any

from syncd.connectors.config import GitHubSource
from syncd.connectors.github_client import GitHubClient
from syncd.connectors.github_mapping import head_rollup
from syncd.connectors.github_queries import CENSUS_QUERY, FOLLOW_UPS, OPEN_ROLLUPS_QUERY, pulls_query
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
        """Complete GraphQL nodes of these PRs: batches of `graphql_batch`, overflowing connections followed up."""
        owner, name = repo.split("/", 1)
        out: dict[int, Json] = {}
        for start in range(0, len(numbers), self.config.graphql_batch):
            chunk = numbers[start:start + self.config.graphql_batch]
            data = self.client.graphql(pulls_query(chunk), {"owner": owner, "name": name, "texts": texts})
            found = data.get("repository") or {}
            for number in chunk:
                node = found.get(f"pr{number}")
                if node is None:
                    raise SourceError(self.name, f"GraphQL: {repo}#{number} is listed as a pull request but "
                                                 "GraphQL has no such pull request", self.config.base_url)
                for alias, (field, query) in FOLLOW_UPS.items():
                    self._follow_up(owner, name, number, node, alias, field, query)
                out[number] = node
        return out

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
