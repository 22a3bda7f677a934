"""Smoke test of bench/replay.py on a small world: the recorded answers replay a whole first sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import replay


@pytest.mark.slow
def test_a_replayed_first_sync_asks_each_recorded_request_and_stores_what_the_live_sync_stored(tmp_path: Path) -> None:
    results = replay.main(["--issues", "300", "--runs", "1", "--recording", str(tmp_path / "rec.pickle")])
    run = results["median"]
    # every request found its recorded answer (a miss fails the run), once each
    assert run["requests"] == results["recorded_answers"] > 10
    # the live sync against the sandbox and the replayed one stored the same
    assert run["store"] == results["live_store"] and run["items"] == results["live_store"]["items"] > 250
    assert run["cpu_s"] > 0 and abs(run["items_per_cpu_s"] - run["items"] / run["cpu_s"]) < 0.01 * run["items_per_cpu_s"]
    assert 20 < run["peak_rss_mib"] < 1000
