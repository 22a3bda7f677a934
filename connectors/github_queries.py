"""Every GraphQL document the GitHub connector sends (validated against GitHub's public schema in
tests/unit/test_github_queries.py, which also counts each document's nodes).

Page sizes are chosen so that one pull-request batch stays far under GitHub's limits: 50 PRs x
(50 reviews + 20 review requests + 1 head commit + 30 commit messages) = 5,050 nodes (limit 500,000),
and a nested connection that overflows its page is followed up with `FOLLOW_UPS`.
Every document asks for `rateLimit { cost }` so the client can pace GraphQL by real cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

REVIEW_FIELDS = "author { login } state submittedAt"
REQUEST_FIELDS = "requestedReviewer { ... on User { login } ... on Bot { login } }"
MESSAGE_FIELDS = "commit { message }"

PR_FRAGMENT = f"""
fragment PR on PullRequest {{
  number
  title @include(if: $texts)
  body @include(if: $texts)
  state
  isDraft
  merged
  mergedAt
  mergedBy {{ login }}
  headRefName
  baseRefName
  headRefOid
  additions
  deletions
  changedFiles
  reviews(first: 50) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {REVIEW_FIELDS} }} }}
  reviewRequests(first: 20) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {REQUEST_FIELDS} }} }}
  head: commits(last: 1) {{ nodes {{ commit {{ oid statusCheckRollup {{ state }} }} }} }}
  messages: commits(first: 30) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {MESSAGE_FIELDS} }} }}
}}
"""


def pulls_query(groups: Sequence[tuple[int, Iterable[int]]]) -> str:
    """One document fetching the details of PRs of one or more repositories: `r{k}` aliases repository k of
    `groups` (k, numbers), `pr{n}` each of its PRs. A batch of PRs from several repositories is one request:
    that is what lets every detail batch be full (issue 18).

    Variables: `owner{k}` and `name{k}` per repository, and `texts` (also fetch title and body, for PRs
    whose issue entry was not listed, i.e. a check refresh).
    """
    params, repos = [], []
    for k, numbers in groups:
        params.append(f"$owner{int(k)}: String!, $name{int(k)}: String!")
        fields = "\n".join(f"    pr{int(n)}: pullRequest(number: {int(n)}) {{ ...PR }}" for n in numbers)
        repos.append(f"  r{int(k)}: repository(owner: $owner{int(k)}, name: $name{int(k)}) {{\n{fields}\n  }}")
    return (
        f"query({', '.join(params)}, $texts: Boolean!) {{\n"
        "  rateLimit { cost remaining resetAt }\n"
        + "\n".join(repos) + "\n"
        "}\n" + PR_FRAGMENT
    )


def pulls_variables(repos: Sequence[tuple[int, str]], texts: bool) -> dict[str, object]:
    """The variables of `pulls_query` for these (k, "owner/name") repositories."""
    variables: dict[str, object] = {"texts": texts}
    for k, full_name in repos:
        owner, name = full_name.split("/", 1)
        variables[f"owner{int(k)}"], variables[f"name{int(k)}"] = owner, name
    return variables


def _follow_up(field: str, selection: str) -> str:
    return f"""
query($owner: String!, $name: String!, $number: Int!, $after: String) {{
  rateLimit {{ cost remaining resetAt }}
  repository(owner: $owner, name: $name) {{
    pullRequest(number: $number) {{
      {field}(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }}
    }}
  }}
}}
"""


# The rest of a nested connection of one PR, by the alias it has in PR_FRAGMENT.
FOLLOW_UPS = {
    "reviews": ("reviews", _follow_up("reviews", REVIEW_FIELDS)),
    "reviewRequests": ("reviewRequests", _follow_up("reviewRequests", REQUEST_FIELDS)),
    "messages": ("commits", _follow_up("commits", MESSAGE_FIELDS)),
}

# Check runs and statuses do not bump a PR's updatedAt: open PRs' rollups are re-read on their own.
OPEN_ROLLUPS_QUERY = """
query($owner: String!, $name: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(states: [OPEN], first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { number head: commits(last: 1) { nodes { commit { statusCheckRollup { state } } } } }
    }
  }
}
"""

# The deletion census: every live issue id and PR number, 100 of each a page.
CENSUS_QUERY = """
query($owner: String!, $name: String!, $issuesAfter: String, $pullsAfter: String, $issues: Boolean!, $pulls: Boolean!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    issues(first: 100, after: $issuesAfter) @include(if: $issues) {
      pageInfo { hasNextPage endCursor }
      nodes { databaseId }
    }
    pullRequests(first: 100, after: $pullsAfter) @include(if: $pulls) {
      pageInfo { hasNextPage endCursor }
      nodes { number }
    }
  }
}
"""
