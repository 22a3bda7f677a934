"""How fast this machine is right now: a fixed pure-Python workload, timed in CPU seconds.

The benches print it beside their figures (0.09 s on the quiet machine of the 11-25 figures in
bench/RESULTS.md), so CPU seconds measured on different machines or under different load can be
compared: contention from other processes shows here too.
"""

from __future__ import annotations

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
