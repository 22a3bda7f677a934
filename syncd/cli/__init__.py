"""The `syncd` command line: a thin layer over library functions that tests call too."""

import os
import sys

from syncd import collector

with collector.loading():  # every command's start-up: modules that live until the process exits
    from syncd.cli import _common
    from syncd.cli.main import main

__all__ = ["main", "run"]


def run() -> None:
    """The `syncd` program: `main`, then, if the command asked for it, exit without interpreter teardown.

    A one-shot report holds a snapshot of a million objects; freeing them one by one at exit took
    longer than the analysis (issue 18 item 4). The command flushes its output and closes the store
    first (`_common.exit_without_teardown`); only the program does this, never `main` called in-process
    (tests, CliRunner).
    """
    try:
        main()
    except SystemExit as exc:
        if not _common.teardown_skipped():
            raise
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
