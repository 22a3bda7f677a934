"""Where a chart is drawn: in this process, or by a drawer the caller installed for a run.

`draw("burnup_png", ...)` returns what `syncd.reports.render.charts.burnup_png(...)` returns. A one-shot
`syncd report` installs a drawer (syncd/chart_process.py: a second process that loaded matplotlib
while this one analysed); a drawer that gives None (it failed, or is gone) leaves the chart to this
process, which loads matplotlib with its first chart. Both draw with the same code: the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# (chart function's name in syncd.reports.render.charts, positional args, keyword args) -> PNG bytes or None
Drawer = Callable[[str, tuple[Any, ...], dict[str, Any]], "bytes | None"]

_drawers: list[Drawer] = []  # the installed one, if any (see `drawn_by`)


@contextmanager
def drawn_by(drawer: Drawer) -> Iterator[None]:
    """Within the block, `draw` asks `drawer` first."""
    _drawers.append(drawer)
    try:
        yield
    finally:
        _drawers.remove(drawer)


def draw(chart: str, *args: Any, **kwargs: Any) -> bytes:
    """PNG bytes of the chart function `chart` of syncd.reports.render.charts called with these arguments
    (plain data: dates, numbers, strings, so a drawer can send them to another process)."""
    if _drawers:
        png = _drawers[-1](chart, args, kwargs)
        if png is not None:
            return png
    from syncd.reports.render import charts  # matplotlib with the first chart drawn here

    png = getattr(charts, chart)(*args, **kwargs)
    assert isinstance(png, bytes)
    return png
