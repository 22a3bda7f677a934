"""The `Report`: one rendered report in every format, as the CLI, delivery and service consume it."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


@dataclass
class Report:
    """A rendered report: Markdown, an email-safe HTML document, a plain-text alternative and charts.

    `charts` maps NAME.png to PNG bytes; the Markdown shows each as `./NAME.png` and the HTML as
    `cid:NAME`. `files` maps a file name to the bytes of a file that goes with the report (the
    engineering report's `...-risks.csv` of every signal, when it lists only some): written beside
    the Markdown and HTML, attached to every email of the report. `summary` and `risk_ids` are what
    the report concluded, stored in report_history so the next report can say what changed since.

    `html` is the whole report (the .html file, the report site). An email carries `email_html`
    (and `text`), which is the whole report too unless it is over the size budget: then long lists
    are shortened (`email_shortened`) and the email links to `full_url` or, without one, attaches
    the whole report. Likewise the report's files: with a site (`site_url`, reports.base_url) each
    is published beside the report (`file_url`) and the report links it instead of the email
    attaching it.
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
    email_html: str | None = None  # the email's HTML body when it differs from `html` (shortened)
    full_url: str | None = None  # where the whole report is published (reports.base_url), if anywhere
    files: dict[str, bytes] = field(default_factory=dict)  # name -> bytes: files that go with the report
    site_url: str | None = None  # reports.base_url: the published folder of the report and its files

    @property
    def email_shortened(self) -> bool:
        """Whether the email shows a shortened report (the whole one is linked or attached)."""
        return self.email_html is not None and self.email_html != self.html

    def email_part(self) -> str:
        """The HTML the email carries."""
        return self.email_html if self.email_html is not None else self.html

    def slug(self) -> str:
        """File name stem of the report: `status-executive`, `sprint-review-jira-sprint-6`."""
        return report_slug(self.kind, self.audience, self.scope)

    def standalone_html(self) -> str:
        """The whole HTML report with its charts as data: URIs (a file or page without the cid: parts)."""
        html = self.html
        for filename, png in self.charts.items():
            uri = "data:image/png;base64," + base64.b64encode(png).decode()
            html = html.replace(f'"cid:{filename.removesuffix(".png")}"', f'"{uri}"')
        return html

    def file_url(self, filename: str) -> str | None:
        """Where one of the report's files is published (beside the report on the site), or None without a site."""
        return published_url(self.site_url, filename)

    def chart_names(self) -> list[str]:
        """Chart names without the `.png` suffix, as the HTML's `cid:` references use them."""
        return [name.removesuffix(".png") for name in self.charts]


def report_slug(kind: str, audience: str | None, scope: str | None) -> str:
    """File name stem of a report: `status-executive`, `sprint-review-jira-sprint-6`."""
    parts = [kind, audience or ""]
    if scope:
        parts.append(re.sub(r"[^a-z0-9]+", "-", scope.lower()).strip("-")[:60])
    return "-".join(p for p in parts if p)


def published_url(site_url: str | None, filename: str) -> str | None:
    """The URL of a report's file (`status-engineering.html`, its CSV) in the published folder `site_url`; None without one."""
    return f"{site_url}/{quote(filename)}" if site_url else None
