"""Charts as PNG bytes: goal burn-up with forecast cone, sprint burndown, forecast distribution,
cycle-time scatter, cumulative flow, timeline and velocity.

Drawn with matplotlib's Agg canvas on a private `Figure` (no pyplot state, no display, safe in the
daemon's threads), with fixed fonts, sizes and no PNG metadata, so the same input gives the same
bytes. Dates are calendar dates already in the report time zone. Text is drawn literally (math
parsing off), so `$` in a goal title cannot turn into mathtext.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)

from matplotlib import artist as _artist  # noqa: E402 - after selecting the backend


@contextmanager
def _no_property_tables() -> Iterator[None]:
    """While matplotlib's modules load, its artists' property tables are not written.

    Each Artist subclass matplotlib defines writes a table of its settable properties into its
    `set` method's docstring (`matplotlib.artist.kwdoc`, also pulled into other docstrings): about
    30% of importing the Figure and Agg modules, 0.1 s of every report that draws a chart, for
    text only `help()` shows. The signatures and every behaviour stay as they are; `kwdoc` is put
    back afterwards (a name not there in another matplotlib: nothing is changed).
    """
    kwdoc = getattr(_artist, "kwdoc", None)
    if kwdoc is None:
        yield
        return
    _artist.kwdoc = lambda artist: ""  # type: ignore[assignment]
    try:
        yield
    finally:
        _artist.kwdoc = kwdoc


with _no_property_tables():
    from matplotlib import rc_context  # noqa: E402
    from matplotlib.axes import Axes  # noqa: E402
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num  # noqa: E402
    from matplotlib.figure import Figure  # noqa: E402
    from matplotlib.font_manager import FontProperties  # noqa: E402
    from matplotlib.textpath import TextToPath  # noqa: E402
    from PIL import Image  # noqa: E402 - matplotlib's own image library

from syncd.reports.render.escape import plain_text  # noqa: E402

WIDTH_IN, HEIGHT_IN, DPI = 6.4, 2.8, 200  # 1280 x 560 pixels, shown at 640 x 280 (sharp at 2x)

INK, GRID, MUTED = "#172b4d", "#dfe1e6", "#6b778c"
DONE, SCOPE, CONE, TARGET, IDEAL = "#0052cc", "#8993a4", "#ff991f", "#de350b", "#97a0af"

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "text.parse_math": False,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "axes.titlesize": 9,
    "axes.titlecolor": INK,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "savefig.dpi": DPI,
    "svg.hashsalt": "syncd",
    "path.simplify": True,
    "axes.formatter.use_locale": False,
}


@contextmanager
def _figure(title: str) -> Iterator[tuple[Figure, Axes]]:
    with rc_context(_RC), warnings.catch_warnings():  # type: ignore[arg-type]
        # a glyph the bundled font lacks (emoji, CJK) is drawn as a box, not worth a warning
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title(plain_text(title, 90), loc="left")
        yield fig, ax


def _png(fig: Figure, ax: Axes) -> bytes:
    """The figure as an opaque RGB PNG, laid out once and drawn once.

    `savefig` would draw it twice (a dry run so the layout engine can measure the text, then the
    picture) and encode four channels, the fourth always opaque on the white face; this lays out,
    draws the pixels savefig draws and encodes three: ~30% less work a chart, ~10% smaller files.
    No text chunks (no Software/creation metadata): identical input, identical bytes.
    """
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside lower center", ncols=5)
    fig.set_facecolor("white")
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine("none")
    canvas = fig.canvas
    canvas.draw()
    width, height = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)  # type: ignore[attr-defined]
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="png", dpi=(DPI, DPI))
    return buf.getvalue()


def _x(day: date) -> float:
    return float(date2num(day))


def _xs(days: Sequence[date]) -> list[float]:
    return [float(v) for v in date2num(list(days))] if len(days) else []


def _dates_axis(ax: Axes) -> None:
    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))


def burnup_png(
    title: str,
    days: Sequence[date],
    scope: Sequence[float],
    done: Sequence[float],
    *,
    unit: str,
    target: date | None = None,
    cone: tuple[date, date, date] | None = None,
) -> bytes:
    """Burn-up: scope and done per day, and the p50/p85/p95 forecast cone from today to the scope line."""
    with _figure(title) as (fig, ax):
        ax.step(_xs(days), scope, where="post", color=SCOPE, linewidth=1.4, label="scope")
        ax.step(_xs(days), done, where="post", color=DONE, linewidth=1.8, label="done")
        if cone is not None and days:
            today, now_done, total = days[-1], done[-1], scope[-1]
            p50, p85, p95 = cone
            ax.fill(_xs([today, p50, p95]), [now_done, total, total], color=CONE, alpha=0.18, linewidth=0,
                    label="forecast p50–p95")
            ax.plot(_xs([today, p85]), [now_done, total], color=CONE, linewidth=1.2, linestyle="--", label="forecast p85")
            ax.plot(_xs([today, p95]), [total, total], color=SCOPE, linewidth=1.0, linestyle=":")
        if target is not None:
            ax.axvline(_x(target), color=TARGET, linewidth=1.2, linestyle="--", label=f"target {target.isoformat()}")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        _dates_axis(ax)
        return _png(fig, ax)


def burndown_png(
    title: str,
    days: Sequence[date],
    remaining: Sequence[float],
    *,
    start: date,
    end: date,
    committed: float,
    unit: str,
) -> bytes:
    """Sprint burndown: remaining work per day against the ideal line from commitment to zero."""
    with _figure(title) as (fig, ax):
        ax.plot(_xs([start, end]), [committed, 0], color=IDEAL, linewidth=1.0, linestyle="--", label="ideal")
        ax.step(_xs(days), remaining, where="post", color=DONE, linewidth=1.8, label="remaining")
        ax.set_xlim(_x(start) - 0.5, _x(end) + 0.5)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        _dates_axis(ax)
        return _png(fig, ax)


def forecast_png(
    title: str,
    outcomes: Sequence[tuple[date, int]],
    *,
    p50: date,
    p85: date,
    p95: date,
    target: date | None = None,
    trials: int | None = None,
) -> bytes:
    """Forecast distribution: the share of `trials` (default: all counted) finishing on each date,
    with p50/p85/p95 and the target."""
    with _figure(title) as (fig, ax):
        when = [d for d, _ in outcomes]
        counts = [n for _, n in outcomes]
        total = trials or sum(counts) or 1
        ax.bar(_xs(when), [100.0 * n / total for n in counts], width=5.0, color=DONE, alpha=0.75, label="share of trials")
        for day, label, style in ((p50, "p50", ":"), (p85, "p85", "--"), (p95, "p95", "-.")):
            ax.axvline(_x(day), color=CONE, linewidth=1.2, linestyle=style, label=f"{label} {day.isoformat()}")
        if target is not None:
            ax.axvline(_x(target), color=TARGET, linewidth=1.4, label=f"target {target.isoformat()}")
        ax.set_ylabel("% of trials")
        _dates_axis(ax)
        return _png(fig, ax)


def cycle_time_png(
    title: str,
    points: Sequence[tuple[date, float]],
    *,
    p50: float | None,
    p85: float | None,
) -> bytes:
    """Cycle-time scatter: each finished item's cycle time on its finish date, with p50 and p85 lines."""
    with _figure(title) as (fig, ax):
        if points:
            ax.scatter(_xs([d for d, _ in points]), [v for _, v in points], s=9, color=DONE, alpha=0.55,
                       linewidths=0, label="item")
        for value, label, style in ((p50, "p50", ":"), (p85, "p85", "--")):
            if value is not None:
                ax.axhline(value, color=CONE, linewidth=1.2, linestyle=style, label=f"{label} {value:.1f} d")
        ax.set_ylabel("days")
        ax.set_ylim(bottom=0)
        _dates_axis(ax)
        return _png(fig, ax)


def cumulative_flow_png(
    title: str,
    days: Sequence[date],
    todo: Sequence[int],
    in_progress: Sequence[int],
    done: Sequence[int],
) -> bytes:
    """Cumulative flow diagram: items per status category at each day's end, stacked done (bottom),
    in progress, to do (top), so the in-progress band's height is the day's WIP."""
    with _figure(title) as (fig, ax):
        ax.stackplot(_xs(days), [list(done), list(in_progress), list(todo)], colors=[DONE, CONE, SCOPE],
                     alpha=0.85, labels=["done", "in progress", "to do"], linewidth=0)
        ax.set_ylabel("items")
        ax.set_ylim(bottom=0)
        if len(days) > 1:
            ax.set_xlim(_x(days[0]), _x(days[-1]))
        _dates_axis(ax)
        return _png(fig, ax)


def timeline_png(
    title: str,
    phases: Sequence[tuple[str, date, date | None, date | None, date | None]],
    *,
    today: date,
) -> bytes:
    """Phases as bars: start to p50 (solid), p50 to p95 (light), the target as a red tick, today as a line.

    Each phase is (label, start, end, p95, target): `end` is the p50 date, or the day a finished
    phase was done (no p95 then), or None (drawn to today). Labels are drawn literally, cut to 28
    characters.
    """
    height = max(HEIGHT_IN, 0.9 + 0.38 * len(phases))
    with _figure(title) as (fig, ax):
        fig.set_size_inches(WIDTH_IN, height)
        for row, (_, start, p50, p95, target) in enumerate(phases):
            y = len(phases) - 1 - row
            end = p50 or today
            ax.barh(y, _x(end) - _x(start), left=_x(start), height=0.5, color=DONE, alpha=0.85,
                    label="start → p50 (or done)" if row == 0 else None)
            if p50 is not None and p95 is not None and p95 > p50:
                ax.barh(y, _x(p95) - _x(p50), left=_x(p50), height=0.5, color=CONE, alpha=0.45,
                        label="p50 → p95" if row == 0 else None)
            if target is not None:
                ax.plot([_x(target)], [y], marker="|", markersize=16, markeredgewidth=2.4, color=TARGET,
                        linestyle="none", label="target" if row == 0 else None)
        ax.axvline(_x(today), color=MUTED, linewidth=1.0, linestyle=":", label="today")
        ax.set_yticks(range(len(phases)), [plain_text(p[0], 28) for p in reversed(phases)])
        ax.grid(axis="y", visible=False)
        _dates_axis(ax)
        return _png(fig, ax)


_TEXT = TextToPath()
_TICK_FONT = FontProperties(family="DejaVu Sans", size=8)
LABEL_LINES = 3


def _text_width(text: str) -> float:
    """Width in points of `text` drawn in the tick font (measured from the font's glyphs)."""
    return float(_TEXT.get_text_width_height_descent(text, _TICK_FONT, ismath=False)[0])


def _cut_to(text: str, width: float, mark: str = "") -> str:
    while text and _text_width(text + mark) > width:
        text = text[:-1]
    return text.rstrip() + mark


def sprint_labels(sprints: Sequence[str]) -> list[str]:
    """Sprint names as velocity-chart tick labels: wrapped at spaces to the width of a sprint's slot
    (measured in the tick font; a word wider than the slot is split), at most 3 lines (a longer
    name keeps its first two and its last, "…" for the middle), so neighbouring names never run
    into each other."""
    # the plot area is ~85% of the figure; keep ~8 pt between neighbouring labels
    width = WIDTH_IN * 72 * 0.85 / max(len(sprints), 1) - 8
    out = []
    for name in sprints:
        lines: list[str] = []
        for word in plain_text(name, 80).split(" "):
            if lines and _text_width(f"{lines[-1]} {word}") <= width:
                lines[-1] += f" {word}"
                continue
            while _text_width(word) > width:  # a word wider than the slot: split it
                head = _cut_to(word, width)
                if not head:
                    break
                lines.append(head)
                word = word[len(head):]
            lines.append(word)
        if len(lines) > LABEL_LINES:
            # the end of a name tells sprints apart ("... Sprint 2026-03"): keep it, cut the middle
            tail = lines[-1] if _text_width(f"… {lines[-1]}") <= width else None
            last = f"… {tail}" if tail else _cut_to(lines[LABEL_LINES - 1], width, "…")
            lines = [*lines[:LABEL_LINES - 1], last]
        out.append("\n".join(lines))
    return out


@contextmanager
def velocity_figure(
    title: str,
    sprints: Sequence[str],
    committed: Sequence[float],
    completed: Sequence[float],
    *,
    trend: tuple[float, float] | None = None,
) -> Iterator[tuple[Figure, Axes]]:
    """The velocity chart drawn on a figure (see `velocity_png`), for callers that measure it."""
    with _figure(title) as (fig, ax):
        xs = list(range(len(sprints)))
        ax.bar([x - 0.2 for x in xs], committed, width=0.4, color=SCOPE, label="commitment")
        ax.bar([x + 0.2 for x in xs], completed, width=0.4, color=DONE, label="completed")
        if trend is not None and len(xs) >= 2:
            intercept, slope = trend
            ax.plot([xs[0], xs[-1]], [intercept, intercept + slope * xs[-1]], color=CONE, linewidth=1.4,
                    linestyle="--", label="completed trend")
        ax.set_xticks(xs, sprint_labels(sprints))
        ax.grid(axis="x", visible=False)
        ax.set_ylabel("story points")
        ax.set_ylim(bottom=0)
        yield fig, ax


def velocity_png(
    title: str,
    sprints: Sequence[str],
    committed: Sequence[float],
    completed: Sequence[float],
    *,
    trend: tuple[float, float] | None = None,
) -> bytes:
    """Velocity chart as Jira draws it: committed (grey) beside completed (blue) per sprint, oldest
    first, with the completed points' least-squares trend line (`trend` = (intercept, slope))."""
    with velocity_figure(title, sprints, committed, completed, trend=trend) as (fig, ax):
        return _png(fig, ax)
