"""The `syncd` command line: a thin layer over library functions that tests call too."""

from syncd.cli.main import main

__all__ = ["main"]
