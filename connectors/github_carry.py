"""Batches held until their pull requests' details arrive, so that every GraphQL detail batch is full.

A listing page of 100 entries holds some PRs (65 on the bench's worlds); asking for their details page by
page sends a batch of 50 and a remainder for every page. Instead, PRs are carried over from page to page
and from repository to repository, and a detail request goes out when `graphql_batch` of them wait (the
rest at the end of the sync): ⌈PRs / 50⌉ requests (issue 18).

Exactly-once, crash-safe: a page cannot be stored before its PRs' details (a stored cursor would pass
them), so each batch is held here with the cursor state it is to be stored with, and released in the order
it was made once every PR it names has its details. The cursor a released batch carries is built from the
states of the batches released before it (never from later ones): the stored cursor never passes a PR whose
details are not stored, whichever batch a crash stops after. A repository whose details GraphQL cannot give
is dropped: its held batches are never stored, so its stored cursor stays where it was.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from syncd.model import Batch, Person

Json = dict[str, Any]


@dataclass
class Held:
    """One batch and what it waits for: its PRs' details (number -> issues-list entry)."""

    batch: Batch
    pulls: dict[int, Json] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)  # added to the batch when it is released
    repo: str | None = None  # None: a source-wide batch (the census's removals)
    state: Json | None = None  # the repository's cursor state once this batch is stored
    top: Json = field(default_factory=dict)  # the source-wide cursor keys (org, census_at) once it is stored


class HeldBatches:
    """Batches in the order they were made, released in that order once complete, each with its cursor."""

    def __init__(self, stored: Json) -> None:
        self.stored = copy.deepcopy(stored)  # the cursor as the last released batch leaves it
        self.held: list[Held] = []

    def hold(self, held: Held) -> None:
        """Queue a batch behind every batch made before it."""
        self.held.append(held)

    def wanted(self) -> list[tuple[str, int]]:
        """(repository, number) of every PR whose details a held batch waits for, oldest first, once each."""
        return list(dict.fromkeys((h.repo or "", n) for h in self.held for n in sorted(h.pulls)))

    def waiting_for(self, repo: str, number: int) -> list[tuple[Held, list[Json]]]:
        """Each held batch waiting for this PR, with the repository's cursor states to update with its
        details: that batch's and those of the repository's batches held after it."""
        out = []
        for index, held in enumerate(self.held):
            if held.repo == repo and number in held.pulls:
                later = [h.state for h in self.held[index:] if h.repo == repo and h.state is not None]
                out.append((held, later))
        return out

    def drop(self, repo: str) -> None:
        """Forget every held batch of a repository (its details failed): none of them is stored."""
        self.held = [h for h in self.held if h.repo != repo]

    def release(self) -> Iterator[Batch]:
        """The complete batches at the head of the queue, each carrying the cursor it is stored with."""
        while self.held and not self.held[0].pulls:
            held = self.held.pop(0)
            if held.repo is not None:
                self.stored.setdefault("repos", {})[held.repo] = held.state
            self.stored.update(held.top)
            held.batch.people.extend(held.people.values())
            held.batch.cursor = copy.deepcopy(self.stored)
            yield held.batch
