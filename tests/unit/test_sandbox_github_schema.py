"""The sandbox's GraphQL schema is a faithful subset of GitHub's public schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    parse,
    validate,
)

from syncd.sandbox.github import graphql_schema

CONNECTOR_QUERY = """
query($owner: String!, $name: String!, $n1: Int!, $n2: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pr1: pullRequest(number: $n1) { ...pr }
    pr2: pullRequest(number: $n2) { ...pr }
  }
  rateLimit { cost remaining resetAt limit nodeCount }
}
fragment pr on PullRequest {
  number databaseId id state isDraft merged mergedAt mergedBy { login } headRefName baseRefName headRefOid
  additions deletions changedFiles title body updatedAt createdAt closedAt url author { login }
  reviews(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { databaseId author { login } state submittedAt } }
  reviewRequests(first: 20) { nodes { requestedReviewer { ... on User { login } ... on Team { slug } } } }
  latest: commits(last: 1) { nodes { commit { oid statusCheckRollup { state } } } }
  commits(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { commit { message } } }
  labels(first: 20) { nodes { name } }
  milestone { number title }
}
"""


@pytest.fixture(scope="module")
def github_schema(realdata: Path) -> GraphQLSchema:
    sdl = realdata / "github-graphql" / "schema.graphql"
    if not sdl.is_file():
        pytest.skip(f"GitHub's schema not found at {sdl}")
    schema = build_schema(sdl.read_text(encoding="utf-8"), assume_valid_sdl=True)
    schema._validation_errors = []  # the published SDL has duplicate definitions graphql-core would reject
    return schema


def _user_types(schema: GraphQLSchema) -> dict[str, object]:
    return {name: t for name, t in schema.type_map.items()
            if not name.startswith("__") and name not in ("String", "Int", "Float", "Boolean", "ID")}


def test_every_type_field_and_argument_exists_in_github_schema(github_schema: GraphQLSchema) -> None:
    ours = graphql_schema()
    problems: list[str] = []
    checked = 0
    for name, ours_type in _user_types(ours).items():
        real = github_schema.type_map.get(name)
        if real is None or type(real) is not type(ours_type):
            problems.append(f"{name}: missing or of another kind in GitHub's schema")
            continue
        if isinstance(ours_type, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(real, GraphQLObjectType | GraphQLInterfaceType)
            for iface in ours_type.interfaces:
                if iface.name not in {i.name for i in real.interfaces}:
                    problems.append(f"{name} implements {iface.name}, GitHub's does not")
            for field_name, field in ours_type.fields.items():
                real_field = real.fields.get(field_name)
                checked += 1
                if real_field is None:
                    problems.append(f"{name}.{field_name}: no such field")
                    continue
                if str(field.type) != str(real_field.type):
                    problems.append(f"{name}.{field_name}: {field.type} here, {real_field.type} on GitHub")
                for arg_name, arg in field.args.items():
                    real_arg = real_field.args.get(arg_name)
                    if real_arg is None or str(real_arg.type) != str(arg.type):
                        problems.append(f"{name}.{field_name}({arg_name}: {arg.type}): "
                                        f"{'missing' if real_arg is None else real_arg.type} on GitHub")
                required = {a for a, v in real_field.args.items() if str(v.type).endswith("!")}
                if required - set(field.args):
                    problems.append(f"{name}.{field_name}: GitHub requires {sorted(required - set(field.args))}")
        elif isinstance(ours_type, GraphQLEnumType):
            assert isinstance(real, GraphQLEnumType)
            extra = set(ours_type.values) - set(real.values)
            if extra:
                problems.append(f"{name}: values {sorted(extra)} not on GitHub")
        elif isinstance(ours_type, GraphQLUnionType):
            assert isinstance(real, GraphQLUnionType)
            extra = {t.name for t in ours_type.types} - {t.name for t in real.types}
            if extra:
                problems.append(f"{name}: members {sorted(extra)} not on GitHub")
        elif isinstance(ours_type, GraphQLInputObjectType):
            assert isinstance(real, GraphQLInputObjectType)
            for field_name, field in ours_type.fields.items():
                real_field = real.fields.get(field_name)
                if real_field is None or str(real_field.type) != str(field.type):
                    problems.append(f"input {name}.{field_name}: {field.type} here, "
                                    f"{real_field.type if real_field else 'missing'} on GitHub")
        else:
            assert isinstance(ours_type, GraphQLScalarType)
    assert problems == []
    assert checked > 150  # every field of the subset was compared


def test_connector_query_is_valid_against_both_schemas(github_schema: GraphQLSchema) -> None:
    document = parse(CONNECTOR_QUERY)
    assert validate(github_schema, document) == []
    assert validate(graphql_schema(), document) == []


def test_a_field_github_lacks_would_be_caught(github_schema: GraphQLSchema) -> None:
    document = parse('query { repository(owner: "a", name: "b") { pullRequest(number: 1) { reviewCount } } }')
    assert validate(github_schema, document)
    assert validate(graphql_schema(), document)
