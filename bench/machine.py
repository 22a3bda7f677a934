"""How fast this machine is right now: a fixed pure-Python workload, timed in CPU seconds.

The benches print it beside their figures (0.09 s on the quiet machine of the 11-25 figures in
bench/RESULTS.md), so CPU seconds measured on different machines or under different load can be
compared: contention from other processes shows here too.
"""

from __future__ import annotations

import os
import random
import time


def reference_cpu() -> float:
    """CPU seconds of sorting and indexing 300,000 random floats."""
    rnd = random.Random(1)
    start = time.process_time()
    data = [rnd.random() for _ in range(300_000)]
    sorted(data)
    {i: x for i, x in enumerate(data)}
    return time.process_time() - start


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a measured syncd child: this one's, with bytecode caching allowed, plus `extra`.

    An installed syncd runs from compiled bytecode (pip compiles a package when it installs it, the
    Dockerfile's image included; an editable checkout writes __pycache__ on its first import). A shell
    that sets PYTHONDONTWRITEBYTECODE (some sandboxes do) would have every measured child compile
    syncd's sources again: 1.1 s of a 100,000-item report's 8.5 s on the 2026-12-04 machine, and
    seconds no user pays.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | extra
