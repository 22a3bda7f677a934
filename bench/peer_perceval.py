"""The peer: GrimoireLab's Perceval fetching the sandbox's GitHub repositories and Jira projects.

Runs inside the peer's own virtual environment (bench/.peer-venv, see `bench/suite_peer.py`), so it
imports nothing of syncd's:

    bench/.peer-venv/bin/python bench/peer_perceval.py '{"github": {...}, "jira": {...}}'

GitHub: the `issue` and `pull_request` categories of each repository, through `--enterprise-url`
(Perceval appends `/api/v3`; plain http on loopback works as is). Jira: the `issue` category of each
project, which uses the legacy `/rest/api/2/search` with `startAt` (a Server/Data Center site), with
a bearer personal access token. Perceval's sleeps are off (`sleep_for_rate=False`, `sleep_time=0`:
no back-off, and no wait for a rate-limit reset). Every backend runs in this one process, as one
`perceval` run per origin would, except that its user cache is shared between them (fewer requests,
to Perceval's advantage). Prints one JSON line: what was fetched, wall seconds per origin, peak RSS.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from typing import Any


def fetch_github(url: str, token: str, repo: str, from_date: str | None) -> dict[str, Any]:
    """Perceval's GitHub backend on one repository: issues (PRs included) and pull requests with details."""
    from grimoirelab_toolkit.datetime import str_to_datetime
    from perceval.backends.core.github import GitHub

    counts = {"issue_items": 0, "pull_items": 0, "reviews": 0, "requested_reviewers": 0, "commits": 0,
              "comments": 0}
    started = time.perf_counter()
    owner, name = repo.split("/", 1)
    since = {"from_date": str_to_datetime(from_date)} if from_date else {}
    for category in ("issue", "pull_request"):
        backend = GitHub(owner=owner, repository=name, api_token=[token], base_url=url,
                         sleep_for_rate=False, sleep_time=0)
        for item in backend.fetch(category=category, **since):
            data = item["data"]
            if category == "issue":
                counts["issue_items"] += 1
                counts["comments"] += len(data.get("comments_data") or [])
            else:
                counts["pull_items"] += 1
                counts["reviews"] += len(data.get("reviews_data") or [])
                counts["requested_reviewers"] += len(data.get("requested_reviewers_data") or [])
                counts["commits"] += len(data.get("commits_data") or [])
    return {"origin": f"github {repo}", "seconds": round(time.perf_counter() - started, 3), "fetched": counts}


def fetch_jira(url: str, token: str, project: str, from_date: str | None) -> dict[str, Any]:
    """Perceval's Jira backend on one project: issues with changelog and comments."""
    from grimoirelab_toolkit.datetime import str_to_datetime
    from perceval.backends.core.jira import Jira

    counts = {"issues": 0, "histories": 0, "comments": 0}
    started = time.perf_counter()
    since = {"from_date": str_to_datetime(from_date)} if from_date else {}
    backend = Jira(url, project=project, api_token=token)
    for item in backend.fetch(**since):
        data = item["data"]
        counts["issues"] += 1
        counts["histories"] += len((data.get("changelog") or {}).get("histories") or [])
        counts["comments"] += len(data.get("comments_data") or [])
    return {"origin": f"jira {project}", "seconds": round(time.perf_counter() - started, 3), "fetched": counts}


def main() -> None:
    """Fetch everything argv[1] names; print the report as one JSON line."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    spec = json.loads(sys.argv[1])
    from_date = spec.get("from_date")
    origins = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    gh = spec.get("github")
    if gh:
        for repo in gh["repos"]:
            origins.append(fetch_github(gh["url"], gh["token"], repo, from_date))
    jira = spec.get("jira")
    if jira:
        for project in jira["projects"]:
            origins.append(fetch_jira(jira["url"], jira["token"], project, from_date))
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    from importlib.metadata import version

    print(json.dumps({"tool": "perceval", "version": version("perceval"), "origins": origins,
                      "wall_s": round(wall, 3),
                      "cpu_s": round(usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime, 3),
                      "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
