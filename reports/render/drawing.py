"""Where a chart is drawn: in this process, or by a drawer the caller installed for a run.

`draw("burnup_png", ...)` gives a `Drawn` whose `png()` is what `syncd.reports.render.charts.burnup_png(...)`
returns. A one-shot `syncd report` installs a drawer (syncd/chart_process.py: a second process that loaded
matplotlib while this one analysed, and draws while this one goes on rendering); a chart the drawer does
not deliver (it failed, or is gone) is drawn in this process, which loads matplotlib with its first chart.
Both draw with the same code: the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# (chart function's name in syncd.reports.render.charts, positional args, keyword args) -> None (not taken),
# or a call that waits for the chart's PNG bytes (None: not delivered)
Drawer = Callable[[str, tuple[Any, ...], dict[str, Any]], "Callable[[], bytes | None] | None"]

_drawers: list[Drawer] = []  # the installed one, if any (see `drawn_by`)


@contextmanager
def drawn_by(drawer: Drawer) -> Iterator[None]:
    """Within the block, `draw` hands each chart to `drawer` first."""
    _drawers.append(drawer)
    try:
        yield
    finally:
        _drawers.remove(drawer)


class Drawn:
    """A chart drawn here, or being drawn by a drawer: `png()` gives its bytes."""

    def __init__(self, chart: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                 answer: Callable[[], bytes | None] | None) -> None:
        self._call = (chart, args, kwargs)
        self._answer = answer
        self._png = None if answer is not None else _here(chart, args, kwargs)

    def png(self) -> bytes:
        """The PNG bytes (waiting for the drawer's, or drawn here if it did not deliver them)."""
        if self._png is None:
            got = self._answer() if self._answer is not None else None
            self._png = got if got is not None else _here(*self._call)
        return self._png


def draw(chart: str, *args: Any, **kwargs: Any) -> Drawn:
    """The chart function `chart` of syncd.reports.render.charts called with these arguments (plain data:
    dates, numbers, strings, so a drawer can send them to another process)."""
    answer = _drawers[-1](chart, args, kwargs) if _drawers else None
    return Drawn(chart, args, kwargs, answer)


def _here(chart: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    from syncd.reports.render import charts  # matplotlib with the first chart drawn here

    png = getattr(charts, chart)(*args, **kwargs)
    assert isinstance(png, bytes)
    return png
