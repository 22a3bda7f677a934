"""The suite's use of the per-part benchmarks: analysis and reports on 100,000 items.

bench/analysis.py, bench/reports.py and bench/report_cli.py own their own measurement; the suite runs each as a child
process and keeps what it prints and the JSON it writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"


def run_part(script: str, args: list[str], result_json: str, log: Callable[[str], None],
             timeout: float = 1800) -> dict[str, Any]:
    """Run bench/<script> with `args`; its printed table and the JSON it wrote (or why it was skipped or failed)."""
    path = BENCH / script
    if not path.exists():
        log(f"{script}: not present, skipped")
        return {"skipped": f"bench/{script} not present"}
    log(f"{script} {' '.join(args)}")
    out = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:  # recorded, so the rest of the suite's figures are still written
        log(f"{script} failed (exit {out.returncode})")
        return {"failed": f"bench/{script} exit {out.returncode}: {out.stderr.strip()[-2000:]}"}
    written = RESULTS / result_json
    data = json.loads(written.read_text()) if written.exists() else None
    return {"command": f"bench/{script} {' '.join(args)}".strip(), "table": out.stdout.strip(), "json": data}


def analysis_and_reports(*, quick: bool, runs: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Analysis, all reports, and each report through the CLI on 100,000 items and 1,000,000 transitions
    (a tenth in a quick run)."""
    size = ["--items", "10000", "--transitions", "100000"] if quick else ["--items", "100000", "--transitions", "1000000"]
    return {
        "analysis": run_part("analysis.py", [*size, "--runs", str(runs)], "analysis.json", log),
        "reports": run_part("reports.py", [*size, "--runs", str(runs)], "reports.json", log),
        "report_cli": run_part("report_cli.py", [*size, "--runs", str(runs)], "report_cli.json", log),
    }
