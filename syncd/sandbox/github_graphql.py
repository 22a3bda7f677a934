"""The fake GitHub's GraphQL v4 endpoint: github_schema.graphql (a subset of GitHub's schema), with GitHub's
node-count limit, point cost, rate limit and error shapes.

A query is parsed, validated, costed and charged here, then executed over the objects that
`syncd.sandbox.github_resolvers` builds from the world's REST payloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    execute,
    parse,
    validate,
)
from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import json_response
from syncd.sandbox.github_common import _ApiError, _iso
from syncd.sandbox.github_resolvers import _GitHubGraphQLError, _gql_actor, _GraphResolver
from syncd.sandbox.world import Json

if TYPE_CHECKING:  # the app imports this module to serve /graphql
    from syncd.sandbox.github import GitHubApp

SCHEMA_PATH = Path(__file__).with_name("github_schema.graphql")
MAX_NODES = 500_000  # GitHub refuses a query that could return more nodes than this
_schema_cache: list[GraphQLSchema] = []


def graphql_schema() -> GraphQLSchema:
    """The sandbox's GraphQL schema (built once)."""
    if not _schema_cache:
        _schema_cache.append(build_schema(SCHEMA_PATH.read_text(encoding="utf-8")))
    return _schema_cache[0]


def _query_cost(document: DocumentNode, operation_name: str | None, variables: dict[str, Any]) -> tuple[int, int, bool]:
    """(cost, nodeCount, dryRun) the way GitHub counts them: each connection costs one request per parent
    node that could hold it; cost = requests / 100 (at least 1); nodes = the product of the page sizes."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    requests_needed, nodes, dry_run = 0, 0, False

    def size(field: FieldNode) -> int | None:
        for arg in field.arguments or ():
            if arg.name.value in ("first", "last"):
                value = arg.value
                if isinstance(value, VariableNode):
                    return int(variables.get(value.name.value) or 0)
                if isinstance(value, IntValueNode):
                    return int(value.value)
        return None

    def walk(selections: SelectionSetNode | None, multiplier: int, seen: frozenset[str]) -> None:
        nonlocal requests_needed, nodes, dry_run
        if selections is None:
            return
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == "rateLimit":
                    dry_run = dry_run or any(a.name.value == "dryRun" and getattr(a.value, "value", False)
                                             for a in selection.arguments or ())
                page = size(selection)
                if page is not None:
                    requests_needed += multiplier
                    nodes += multiplier * page
                    walk(selection.selection_set, multiplier * max(page, 1), seen)
                else:
                    walk(selection.selection_set, multiplier, seen)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set, multiplier, seen | {selection.name.value})

    for operation in operations[:1]:
        walk(operation.selection_set, 1, frozenset())
    return max(1, round(requests_needed / 100)), nodes, dry_run


def _gql_errors(errors: Sequence[GraphQLError]) -> list[Json]:
    out = []
    for error in errors:
        formatted: Json = dict(error.formatted)
        original = error.original_error
        if isinstance(original, _GitHubGraphQLError):
            formatted["type"] = original.kind
        formatted.pop("extensions", None)
        out.append(formatted)
    return out


def _graphql(app: GitHubApp, request: Request) -> Response:
    """POST /graphql: parse, validate, cost and charge the query, then execute it over the world."""
    token = app._token(request) or ""
    request.environ["sandbox.github.resource"] = "graphql"
    payload = request.get_json(force=True, silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return app._error(400, "Problems parsing JSON", "https://docs.github.com/graphql")
    variables = payload.get("variables") or {}
    try:
        document = parse(payload["query"])
    except GraphQLError as exc:
        return json_response({"errors": _gql_errors([exc])})
    schema = graphql_schema()
    problems = validate(schema, document)
    if problems:
        return json_response({"errors": _gql_errors(problems)})
    cost, node_count, dry_run = _query_cost(document, payload.get("operationName"), variables)
    if node_count > MAX_NODES:
        return json_response({"errors": [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": (
            f"This query requests up to {node_count:,} possible nodes which exceeds the maximum limit of "
            f"{MAX_NODES:,}.")}]})
    if not dry_run and not app.charge(token, "graphql", cost):
        # GitHub: status 200, an error of type RATE_LIMITED, and x-ratelimit-remaining 0
        app.rejected["graphql"] += 1
        headers = {**app.rate_headers(token, "graphql"), "x-ratelimit-remaining": "0"}
        return json_response({"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": (
            f"API rate limit already exceeded for user ID {app.gh.viewer.get('id', 1)}.")}]}, headers=headers)
    resolver = _GraphResolver(app)

    def repository(info: GraphQLResolveInfo, owner: str, name: str, followRenames: bool = True) -> Json:  # noqa: N803
        try:
            full, repo = app._repo(owner, name, "graphql")
        except _ApiError:
            raise _GitHubGraphQLError("NOT_FOUND",
                                      f"Could not resolve to a Repository with the name '{owner}/{name}'.") from None
        return resolver.repository(full, repo)

    def rate_limit(info: GraphQLResolveInfo, dryRun: bool = False) -> Json:  # noqa: N803
        state = app._rate_resource(token, "graphql")
        return {"cost": cost, "limit": state["limit"], "nodeCount": node_count, "remaining": state["remaining"],
                "used": state["used"], "resetAt": _iso(datetime.fromtimestamp(state["reset"], UTC))}

    def node(info: GraphQLResolveInfo, id: str) -> Json | None:  # noqa: A002
        found = resolver.node(id)
        if found is None:
            raise _GitHubGraphQLError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
        return found

    def nodes(info: GraphQLResolveInfo, ids: list[str]) -> list[Json | None]:
        found = [resolver.node(node_id) for node_id in ids]
        missing = [node_id for node_id, hit in zip(ids, found, strict=True) if hit is None]
        if missing:
            raise _GitHubGraphQLError("NOT_FOUND", f"Could not resolve to a node with the global id of '{missing[0]}'")
        return found

    root = {"repository": repository, "rateLimit": rate_limit, "node": node, "nodes": nodes,
            "viewer": lambda info: _gql_actor(app.gh.viewer)}
    result = execute(schema, document, root_value=root, variable_values=variables,
                     operation_name=payload.get("operationName"))
    if isinstance(result, ExecutionResult):
        body: Json = {"data": result.data}
        if result.errors:
            body = {"data": result.data, "errors": _gql_errors(result.errors)}
        return app._json(request, body)
    raise _ApiError(500, "asynchronous execution is not supported")
