"""Kill -9 trials: `syncd sync` of a Jira source, SIGKILLed at random moments, then re-run to completion,
leaves exactly the store a clean sync leaves (SQLite: the database file the process was writing)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from syncd.connectors.config import JiraSource
from syncd.connectors.jira import JiraConnector
from syncd.sandbox._http import Controls, serve
from syncd.sandbox.jira import JiraApp
from syncd.sandbox.jira_mutations import update_issue
from syncd.store import Store
from syncd.sync import sync_source
from tests.canon import canonical, diff_summary
from tests.conftest import PG_OK
from tests.integration.jira_world import EMAIL, TOKEN, make_world

KILLS = 20  # SIGKILLs delivered in all: about 25 runs of `syncd sync`, ~30 s on an idle 2-core machine
PAGE_SIZE = 10  # small pages: a sync commits many batches, so a kill can land between (or inside) any of them


class KillSwitch:
    """WSGI middleware: once armed, SIGKILLs the syncing process a random moment after its k-th request."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.count = 0
        self.target: tuple[int, int, float] | None = None  # (pid, request number, delay after it)

    def arm(self, pid: int, after_requests: int, delay_s: float) -> None:
        with self.lock:
            self.target = (pid, self.count + after_requests, delay_s)

    def disarm(self) -> None:
        with self.lock:
            self.target = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self.lock:
            self.count += 1
            fire = self.target if self.target and self.count == self.target[1] else None
        body = self.app(environ, start_response)
        if fire:  # the answer is on its way: the kill lands while it is read, mapped, stored or the next is sent
            threading.Timer(fire[2], _kill, (fire[0],)).start()
        return body


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def write_config(path: Path, url: str, database_url: str) -> Path:
    path.write_text(f"""
data_dir = "{path.parent}"
database_url = "{database_url}"
log_level = "warning"

[sources.acme]
type = "jira"
url = "{url}"
email = "{EMAIL}"
token = "{TOKEN}"
projects = ["WID", "OPS"]
page_size = {PAGE_SIZE}
""")
    return path


def start_sync(config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    return subprocess.Popen([sys.executable, "-m", "syncd", "sync", "--config", str(config), "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigkilled_syncs_resume_to_the_clean_store(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # one kill sequence runs on PostgreSQL when it is reachable, the others on SQLite files
    databases = [request.getfixturevalue("pg_url")] if PG_OK else []
    world = make_world(issues=130, ops_issues=8)
    update_issue(world, "WID-10", sprint=3)  # the newest issue, re-read by every resumed run, is in a sprint
    controls = Controls()
    switch = KillSwitch(JiraApp(world, controls))
    server = serve("jira", switch)
    world.jira.base_url = server.url
    try:
        clean = Store(f"sqlite:///{tmp_path / 'clean.db'}")
        clean.upgrade()
        source = JiraSource(type="jira", url=server.url, email=EMAIL, token=TOKEN, projects=["WID", "OPS"],
                            page_size=PAGE_SIZE)
        before = controls.total("jira")
        assert sync_source(clean, "acme", JiraConnector("acme", source)).ok
        full_cost = controls.total("jira") - before  # requests of one uninterrupted sync
        want = canonical(clean)
        clean.close()

        rnd = random.Random(20261120)
        kills, sequences = 0, 0
        while kills < KILLS:
            sequences += 1
            url = databases.pop() if databases else f"sqlite:///{tmp_path / f'crash-{sequences}.db'}"
            config = write_config(tmp_path / f"syncd-{sequences}.toml", server.url, url)
            remaining, finished = full_cost, False
            for _ in range(rnd.randint(5, 8)):  # kills in a row, each run resuming what the last one stored
                proc = start_sync(config)
                moment = rnd.randint(1, max(3, remaining))
                switch.arm(proc.pid, moment, rnd.uniform(0.0, 0.03))
                code = proc.wait(timeout=60)
                switch.disarm()
                if code != -signal.SIGKILL:
                    assert code == 0, proc.stderr.read().decode() if proc.stderr else code
                    finished = True  # it ended before the chosen moment: this sequence is complete
                    break
                kills += 1
                remaining = max(3, remaining - moment + 3)  # a resumed run re-reads a little
            if not finished:
                final = start_sync(config)
                assert final.wait(timeout=60) == 0, final.stderr.read().decode() if final.stderr else ""
            store = Store(url)
            got = canonical(store)
            store.close()
            assert diff_summary(got, want) == "", f"sequence {sequences} on {url.split(':')[0]} after {kills} kills"
    finally:
        server.stop()
