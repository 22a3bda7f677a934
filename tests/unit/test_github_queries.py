"""Every GraphQL document the GitHub connector sends is one GitHub would answer: valid against GitHub's
public schema (../shared/realdata/github-graphql, octokit/graphql-schema, MIT) and the sandbox's, every
connection paged with first/last in 1..100, and at most 500,000 nodes (counted here the way GitHub's
"rate limits and node limits" page counts them: each connection's page size times its parents')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    get_named_type,
    parse,
    validate,
)

from syncd.connectors.config import GitHubSource
from syncd.connectors.github_queries import CENSUS_QUERY, FOLLOW_UPS, OPEN_ROLLUPS_QUERY, pulls_query
from syncd.sandbox.github import graphql_schema

MAX_NODES = 500_000
BATCH_MAX = GitHubSource.model_fields["graphql_batch"].metadata[-1].le  # the largest batch the config allows


def github_schema_from(realdata: Path) -> GraphQLSchema:
    """GitHub's published schema (its SDL has duplicates graphql-core would reject: see SOURCE.md)."""
    sdl = realdata / "github-graphql" / "schema.graphql"
    if not sdl.is_file():
        pytest.skip(f"GitHub's schema not found at {sdl}")
    schema = build_schema(sdl.read_text(encoding="utf-8"), assume_valid_sdl=True)
    schema._validation_errors = []
    return schema


@pytest.fixture(scope="module")
def github_schema(realdata: Path) -> GraphQLSchema:
    return github_schema_from(realdata)


def node_count(schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> int:
    """Nodes a document may return; fails when a connection lacks first/last or pages outside 1..100."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    total = 0

    def page_size(field: FieldNode, name: str) -> int:
        sizes = []
        for arg in field.arguments or ():
            if arg.name.value in ("first", "last"):
                value = arg.value
                size = variables[value.name.value] if isinstance(value, VariableNode) else None
                if isinstance(value, IntValueNode):
                    size = int(value.value)
                sizes.append(size)
        assert sizes, f"connection {name} has no first/last (GitHub: MISSING_PAGINATION_BOUNDARIES)"
        assert all(isinstance(s, int) and 1 <= s <= 100 for s in sizes), f"{name}: page size {sizes} not in 1..100"
        return max(sizes)

    def walk(selections: SelectionSetNode | None, parent: Any, multiplier: int) -> None:
        nonlocal total
        if selections is None:
            return
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == "__typename":
                    continue
                assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType), parent
                field_type = get_named_type(parent.fields[selection.name.value].type)
                if field_type.name.endswith("Connection"):
                    size = page_size(selection, f"{parent.name}.{selection.name.value}")
                    total += multiplier * size
                    walk(selection.selection_set, field_type, multiplier * size)
                else:
                    walk(selection.selection_set, field_type, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                walk(selection.selection_set, schema.type_map[condition.name.value] if condition else parent, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                walk(fragment.selection_set, schema.type_map[fragment.type_condition.name.value], multiplier)

    walk(operation.selection_set, schema.query_type, 1)
    return total


def connector_documents() -> dict[str, str]:
    """Every document connectors/github*.py can send, at the largest sizes it can send them."""
    docs = {"pulls (largest batch)": pulls_query([(0, range(1, BATCH_MAX + 1))]), "pulls (one PR)": pulls_query([(0, [7])]),
            "pulls (largest batch, three repositories)": pulls_query(
                [(0, range(1, 41)), (1, range(7, 57)), (2, range(1, BATCH_MAX - 89))]),
            "open rollups": OPEN_ROLLUPS_QUERY, "census": CENSUS_QUERY}
    docs.update({f"follow-up {alias}": query for alias, (_, query) in FOLLOW_UPS.items()})
    return docs


def assert_github_would_answer(github_schema: GraphQLSchema, document: str, variables: dict[str, Any]) -> int:
    """Valid on GitHub and on the sandbox, paged within limits; returns its node count."""
    parsed = parse(document)
    assert validate(github_schema, parsed) == [], "not valid against GitHub's schema"
    assert validate(graphql_schema(), parsed) == [], "the sandbox could not answer it"
    nodes = node_count(github_schema, parsed, variables)
    assert nodes <= MAX_NODES
    return nodes


@pytest.mark.parametrize("name", sorted(connector_documents()))
def test_every_connector_document_is_one_github_answers(github_schema: GraphQLSchema, name: str) -> None:
    nodes = assert_github_would_answer(github_schema, connector_documents()[name], {})
    assert nodes > 0


def test_node_counts_worked_out_by_hand(github_schema: GraphQLSchema) -> None:
    # per PR: reviews 50 + review requests 20 + head commit 1 + commit messages 30 = 101
    assert node_count(github_schema, parse(pulls_query([(0, range(1, 51))])), {}) == 50 * 101
    assert node_count(github_schema, parse(pulls_query([(0, range(1, BATCH_MAX + 1))])), {}) == BATCH_MAX * 101
    # a batch spread over repositories costs the same nodes as one of the same size in one repository
    assert node_count(github_schema, parse(pulls_query([(0, range(1, 31)), (1, range(1, 21))])), {}) == 50 * 101
    assert node_count(github_schema, parse(OPEN_ROLLUPS_QUERY), {}) == 100 + 100 * 1
    assert node_count(github_schema, parse(CENSUS_QUERY), {}) == 100 + 100
    assert node_count(github_schema, parse(FOLLOW_UPS["reviews"][1]), {}) == 100


def test_the_counter_catches_what_github_refuses(github_schema: GraphQLSchema) -> None:
    unpaged = parse('query { repository(owner: "a", name: "b") { pullRequests { totalCount } } }')
    with pytest.raises(AssertionError, match="MISSING_PAGINATION_BOUNDARIES"):
        node_count(github_schema, unpaged, {})
    too_big = parse('query($n: Int) { repository(owner: "a", name: "b") { pullRequests(first: $n) { totalCount } } }')
    with pytest.raises(AssertionError, match="not in 1..100"):
        node_count(github_schema, too_big, {"n": 101})
    nested = parse('query { repository(owner: "a", name: "b") { pullRequests(first: 100) { nodes { '
                   'commits(first: 100) { nodes { commit { oid } } } reviews(first: 100) { nodes { '
                   'comments(first: 100) { totalCount } } } } } } }')
    assert node_count(github_schema, nested, {}) == 100 + 100 * 100 + 100 * 100 + 100 * 100 * 100 > MAX_NODES
