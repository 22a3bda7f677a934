"""The charts' PNG encoding: laid out and drawn once, saved as RGB, it must hold exactly the pixels
matplotlib's own `savefig` draws for the same figure (which lays it out in a dry run, draws it
again and saves four channels)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from syncd.reports.render import charts


def _savefig_png(fig: Figure, ax: Axes) -> bytes:
    """The reference: the figure saved by matplotlib's savefig, as charts.py did before."""
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside lower center", ncols=5)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=charts.DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


DAYS = [date(2026, 5, 1) + timedelta(days=n) for n in range(40)]
CHARTS = {
    "burnup with cone and target": lambda: charts.burnup_png(
        "Burn-up (items)", DAYS, [50 + n // 4 for n in range(40)], [n * 0.9 for n in range(40)], unit="items",
        target=date(2026, 7, 1), cone=(date(2026, 6, 20), date(2026, 6, 30), date(2026, 7, 9))),
    "forecast": lambda: charts.forecast_png(
        "Forecast", [(date(2026, 6, 1) + timedelta(days=7 * n), 10 + 3 * n) for n in range(8)],
        p50=date(2026, 6, 29), p85=date(2026, 7, 13), p95=date(2026, 7, 20), target=date(2026, 7, 1)),
    "cycle time": lambda: charts.cycle_time_png(
        "Cycle time", [(DAYS[n % 40], 0.5 + (n * 37 % 23)) for n in range(300)], p50=6.0, p85=14.5),
    "timeline (its own height)": lambda: charts.timeline_png(
        "Timeline", [(f"phase {n}", date(2026, 3, 1) + timedelta(days=20 * n), date(2026, 4, 1) + timedelta(days=20 * n),
                      date(2026, 4, 20) + timedelta(days=20 * n), date(2026, 4, 10) + timedelta(days=20 * n))
                     for n in range(9)], today=date(2026, 5, 15)),
    "burndown": lambda: charts.burndown_png(
        "Burndown", DAYS[:15], [40.0 - 2.5 * n for n in range(15)], start=DAYS[0], end=DAYS[13], committed=40.0,
        unit="points"),
    "cumulative flow": lambda: charts.cumulative_flow_png(
        "Cumulative flow", DAYS[:15], [20 - n for n in range(15)], [5 + n % 3 for n in range(15)],
        [n for n in range(15)]),
    "velocity": lambda: charts.velocity_png(
        "Velocity", [f"GAD Sprint {n}" for n in range(14, 21)], [30.0] * 7, [22.0 + n for n in range(7)],
        trend=(22.0, 1.0)),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_the_png_holds_the_pixels_savefig_draws(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = Image.open(io.BytesIO(CHARTS[name]()))
    monkeypatch.setattr(charts, "_png", _savefig_png)
    reference = Image.open(io.BytesIO(CHARTS[name]()))
    assert reference.mode == "RGBA" and drawn.mode == "RGB"
    assert drawn.size == reference.size
    ref = np.asarray(reference)
    assert (ref[..., 3] == 255).all()  # opaque everywhere: the alpha channel carried nothing
    assert np.array_equal(np.asarray(drawn), ref[..., :3])
    assert drawn.info["dpi"] == pytest.approx((charts.DPI, charts.DPI), abs=0.01)


def test_the_same_chart_twice_is_the_same_bytes() -> None:
    first, second = CHARTS["burnup with cone and target"](), CHARTS["burnup with cone and target"]()
    assert first == second
    assert b"tEXt" not in first and b"iTXt" not in first  # no Software or creation-time text


def test_matplotlib_is_left_as_it_was_after_the_charts_load() -> None:
    import inspect

    import matplotlib.artist
    from matplotlib.lines import Line2D

    # the property tables are skipped only while the modules load: kwdoc itself is back and works
    assert matplotlib.artist.kwdoc.__module__ == "matplotlib.artist"
    assert "linewidth" in matplotlib.artist.kwdoc(Line2D)
    # and what the tables were written beside is still there: set()'s keyword signature
    assert "linewidth" in inspect.signature(Line2D.set).parameters
