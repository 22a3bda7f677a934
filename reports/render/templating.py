"""Jinja2 environments for Markdown and HTML, sharing one set of filters and the escaping helper.

The Markdown environment escapes every `{{ value }}` through `md_text` (its `finalize`), so a
template cannot forget to; filters that build markup (`link`) return `Md`, which passes through.
The HTML environment autoescapes. Dates are shown in the report's time zone, passed to every
render as `tz`, in a locale-neutral ISO-like form (`2026-11-20`, `2026-11-20 14:05 +01:00`).
"""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from syncd.reports.render.escape import Md, md_link, md_text

_LOADER = PackageLoader("syncd.reports.render", "templates")


def to_local(value: datetime, tz: tzinfo) -> datetime:
    """A timezone-aware datetime in the report's time zone."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a report")
    return value.astimezone(tz)


def format_date(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """`YYYY-MM-DD` (a datetime is first converted to `tz`); an em dash for no date."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value, tz) if tz is not None else value
        return value.date().isoformat()
    return value.isoformat()


def format_datetime(value: datetime | None, tz: tzinfo) -> str:
    """`YYYY-MM-DD HH:MM ±HH:MM` in `tz`; an em dash for no time."""
    if value is None:
        return "—"
    local = to_local(value, tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def format_number(value: float | int | None, digits: int = 1) -> str:
    """A number with at most `digits` decimals and no trailing zeros; an em dash for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_percent(value: float | None) -> str:
    """A fraction 0..1 as a whole percent (`64%`); an em dash for none."""
    if value is None or math.isnan(value):
        return "—"
    return f"{round(value * 100)}%"


def format_signed(value: float | int | None, unit: str = "") -> str:
    """A change with its sign (`+3`, `−2 d`, `±0`)."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{format_number(abs(value))}{(' ' + unit) if unit else ''}"


@pass_context
def _date_filter(ctx: Context, value: date | datetime | None) -> str:
    return format_date(value, ctx["tz"])


@pass_context
def _datetime_filter(ctx: Context, value: datetime | None) -> str:
    return format_datetime(value, ctx["tz"])


def _plural(n: float | int, singular: str, plural: str | None = None) -> str:
    word = singular if n == 1 else (plural or singular + "s")
    return f"{format_number(n)} {word}"


def _md_join(values: list[Any], sep: str = ", ", empty: str = "—") -> Md:
    """Join values for Markdown, escaping each one that is not already Markdown."""
    if not values:
        return md_text(empty)
    return Md(sep.join(md_text(v) for v in values))


def _release_parts(parts: Any, sep: str = " · ") -> Md:
    """A release's parts, each linked: "Jira Widget 2.6 · milestone v2.6 · tag v2.6.0 (draft)"."""
    return _md_join([md_link(p.label, p.url) for p in parts], sep)


FILTERS: dict[str, Any] = {
    "date": _date_filter,
    "datetime": _datetime_filter,
    "num": format_number,
    "pct": format_percent,
    "signed": format_signed,
    "plural": _plural,
    "link": lambda text, url: md_link(text, url),
    "md": md_text,
    "join_md": _md_join,
    "parts": _release_parts,
}


def _environment(*, autoescape: bool) -> Environment:
    env = Environment(
        loader=_LOADER,
        # the Markdown environment escapes through `finalize=md_text` instead of HTML autoescape
        autoescape=autoescape,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=None if autoescape else md_text,
    )
    env.filters.update(FILTERS)
    return env


MARKDOWN_ENV = _environment(autoescape=False)
HTML_ENV = _environment(autoescape=True)


def render_markdown(template: str, **context: Any) -> str:
    """Render a Markdown template (`templates/NAME.md.j2`); every value is escaped unless `Md`."""
    text = MARKDOWN_ENV.get_template(template).render(**context)
    # one trailing newline, no trailing spaces: stable golden files whatever the template does
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def render_html(template: str, **context: Any) -> str:
    """Render an HTML template (`templates/NAME.html.j2`) with autoescape on."""
    return HTML_ENV.get_template(template).render(**context)
