"""Smoke test of the benchmark suite (bench/run_all.py) on the smallest world, without installing the peer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run_all


@pytest.mark.slow
def test_run_all_on_a_small_world_syncs_everything_and_polls_cheaply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The peer is not installed here: its failure is recorded and every other figure is still written.
    monkeypatch.setattr(run_all, "ensure_peer_venv", lambda log: "0")

    def no_peer(spec: dict) -> dict:
        raise RuntimeError("perceval failed (exit 1): not installed in this test")

    monkeypatch.setattr(run_all, "run_perceval", no_peer)
    out = tmp_path / "run_all.json"
    results = run_all.main(["--sizes", "200", "--peer-size", "200", "--runs", "1", "--no-reports", "--out", str(out)])
    assert json.loads(out.read_text()) == results
    assert results["failed"] == ["peer"] and "not installed in this test" in results["peer"]["failed"]
    world = results["sync"][0]
    truth = world["truth"]
    initial = world["initial"]
    assert initial["items"] == truth["jira_issues"] + truth["github_issues"] + truth["github_pulls"]
    assert initial["store"]["pulls"] == truth["github_pulls"]
    assert initial["requests"] == sum(s["connector_requests"] for s in initial["sources"]) > 0
    assert initial["requests_per_item"] < 0.2
    no_change, changed = world["no_change"], world["changed_1pct"]
    assert no_change["requests"] <= no_change["origins"]  # at most one request per project or repository
    assert changed["changed"] > 0 and changed["requests"] > no_change["requests"]
    assert sum(s["updated"] for s in changed["sources"]) >= changed["changed"]
    printed = capsys.readouterr().out
    assert "### Initial sync" in printed and "### Incremental poll" in printed and "### Peer: FAILED" in printed
