"""The `Report`: one rendered report in every format, as the CLI, delivery and service consume it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """A rendered report: Markdown, an email-safe HTML document, a plain-text alternative and charts.

    `charts` maps NAME.png to PNG bytes; the Markdown shows each as `./NAME.png` and the HTML as
    `cid:NAME`. `summary` and `risk_ids` are what the report concluded, stored in report_history so
    the next report can say what changed since.
    """

    kind: str
    audience: str | None
    title: str
    subject: str
    markdown: str
    html: str
    text: str
    charts: dict[str, bytes] = field(default_factory=dict)
    risk_ids: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None  # goal / sprint / release id the report is about, None for all

    def chart_names(self) -> list[str]:
        """Chart names without the `.png` suffix, as the HTML's `cid:` references use them."""
        return [name.removesuffix(".png") for name in self.charts]
