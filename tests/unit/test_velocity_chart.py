"""The velocity chart's sprint names: wrapped to their slot, so no two tick labels overlap (the
demo's seven 'GAD Sprint 14' .. 'GAD Sprint 20' ran into each other on one line)."""

from __future__ import annotations

import pytest

from syncd.reports.render.charts import sprint_labels, velocity_figure, velocity_png


def _label_boxes(names: list[str]) -> list[tuple[float, float]]:
    n = len(names)
    with velocity_figure("Velocity", names, [30.0] * n, [25.0] * n, trend=(20.0, 1.0)) as (fig, ax):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        return [(b.x0, b.x1) for b in (t.get_window_extent(renderer) for t in ax.get_xticklabels())]


@pytest.mark.parametrize("names", [
    [f"GAD Sprint {n}" for n in range(14, 21)],
    [f"Widget Platform Team Sprint 2026-{n:02d}" for n in range(1, 8)],
    ["Sprint1234567890123456789", "S2", "Sprint with a very long name indeed for a chart", "S4", "S5", "S6", "S7"],
    ["WWWWWWWWWWWWWWWWWWWW"] * 7,  # the widest glyphs, no space to wrap at
    ["mmmm mmmm mmmm mmmm"] * 7,
])
def test_seven_sprint_names_do_not_overlap(names: list[str]) -> None:
    boxes = _label_boxes(names)
    assert len(boxes) == 7
    # at 200 dpi, 10 px is 0.05 in: the old one-line labels touched (1 px apart)
    for (_, right), (left, _) in zip(boxes, boxes[1:], strict=False):
        assert left - right >= 10, f"tick labels touch or overlap: {right:.0f} px, then {left:.0f} px"


def test_names_wrap_at_spaces_and_keep_every_word_when_they_fit() -> None:
    labels = sprint_labels([f"GAD Sprint {n}" for n in range(14, 21)])
    assert labels[0] == "GAD Sprint\n14" and labels[6] == "GAD Sprint\n20"
    # one sprint has the whole width: its name stays on one line
    assert sprint_labels(["GAD Sprint 14"]) == ["GAD Sprint 14"]


def test_an_overlong_name_keeps_its_first_lines_and_its_end() -> None:
    labels = sprint_labels([f"Widget Platform Team Sprint 2026-{n:02d}" for n in range(1, 8)])
    assert labels[0] == "Widget\nPlatform\n… 2026-01" and labels[6] == "Widget\nPlatform\n… 2026-07"


def test_the_png_is_drawn() -> None:
    png = velocity_png("Velocity", ["A", "B"], [1.0, 2.0], [1.0, 1.0])
    assert png.startswith(b"\x89PNG")
