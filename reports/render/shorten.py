"""The shortened body of a long report's email: long tables and lists cut until it fits the size budget.

Gmail clips an HTML body over about 102 KB ("[Message clipped]", everything after it hidden), so
`email_body` shortens long tables and lists until the email's HTML is under `EMAIL_HTML_BUDGET`
bytes, with a note that links to (or attaches) the full report. Evidence tables (a risk theme's
signals, see `Evidence`) keep their first rows longest, so a reader of the email still sees an
example item of each theme, and say where every row is (the report's CSV, attached or linked).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring

from syncd.reports.render.escape import safe_url
from syncd.reports.render.html import _fragment, _serialize

# Gmail clips an HTML body over about 102 KB; the email's HTML part, as transmitted (UTF-8,
# quoted-printable, which is larger than the decoded HTML), stays under this many bytes
EMAIL_HTML_BUDGET = 100_000
# (rows kept per long table or list, rows kept per evidence table), tried in turn until the email fits.
# Evidence (a risk theme's signals, red first) is cut last: once the other tables are down to their
# notes, each theme still shows its first signals, as many as fit (the 100,000-item bench store: one
# each, 98 KB; the demo: three, 85 KB, where its lists' first rows and no evidence took 94 KB).
# In each of the two runs of cuts every cut keeps less than the one before, so the body only shrinks:
# when a run's last cut does not fit, none of the run does, so it is tried right after the run's first
# (the engineering report on the bench store: 6 tries instead of 10; a report whose first cut fits: 1).
_CUTS = (((10, 10), (5, 5), (5, 3), (3, 3), (1, 3), (1, 1)), ((0, 3), (0, 2), (0, 1), (0, 0)))  # 0: none kept


@dataclass(frozen=True)
class Evidence:
    """Which tables of a body are evidence, kept longest when an email is shortened, and where all their rows are.

    A table is evidence when its column headings are one of `headings`. `file` names the file that
    lists every row (the engineering report's risks CSV): `published` on the report site (the report
    links it), else attached to the email. Without a file, rows cut from an evidence table are
    in the full report.
    """

    headings: frozenset[tuple[str, ...]] = frozenset()
    noun: str = "rows"  # what a row is, plural: "signals"
    file: str | None = None
    published: bool = False
    # columns that list links (an evidence row's item keys): each such cell of a kept row shows its
    # first `links_kept`, the rest counted, since a key's link with its inlined style is ~230 bytes
    link_columns: frozenset[str] = frozenset()
    links_kept: int = 3


NO_EVIDENCE = Evidence()


@dataclass(frozen=True)
class EmailBody:
    """The HTML body an email carries: the whole report, or a shortened one under the size budget."""

    body: str
    shortened: bool
    rows_kept: int | None = None  # rows kept per long table or list when shortened
    evidence_rows_kept: int | None = None  # rows kept per evidence table (and <details> block) when shortened


def shorten_body(body: str, *, rows: int, full_url: str | None, attachment: str, evidence_rows: int | None = None,
                 evidence: Evidence = NO_EVIDENCE) -> str:
    """The body with every table and list cut to its first `rows` rows, each cut noted, and a note on
    top that links to the full report (`full_url`) or names its attached file. With `rows=0` a long
    table or list gives way to its note.

    Evidence tables (see `Evidence`) and the content of collapsible `<details>` blocks keep
    `evidence_rows` rows instead (default: `rows`); a kept `<details>` block is opened out, its
    summary dropped (mail clients that know the tag would hide the rows kept), and with
    `evidence_rows=0` it is left to the full report, its summary kept.
    """
    kept_evidence = rows if evidence_rows is None else evidence_rows
    root = _fragment(body)
    folded = {table for details in root.iter("details") for table in details.iter("table")}  # evidence too
    for details in list(root.iter("details")):
        summary = next(iter(details.iter("summary")), None)
        if kept_evidence > 0:
            if summary is not None:
                summary.drop_tree()
            details.drop_tag()
            continue
        note = fragment_fromstring("<p></p>")
        em = etree.SubElement(note, "em")
        label = " ".join(summary.text_content().split()) if summary is not None else "Evidence"
        em.text = f"{label}: in the full report."
        note.tail = details.tail
        parent = details.getparent()
        assert parent is not None
        parent.replace(details, note)
    cut_evidence = False
    for block in list(root.iter("table", "ul", "ol")):
        is_evidence = block in folded or (block.tag == "table" and bool(evidence.headings)
                                          and _headings(block) in evidence.headings)
        keep = kept_evidence if is_evidence else rows
        if block.tag == "table":
            holder = next(iter(block.iter("tbody")), block)
            lines = [r for r in holder if r.tag == "tr"]
            noun = evidence.noun if is_evidence else "rows"
        else:
            holder, lines, noun = block, [li for li in block if li.tag == "li"], "items"
        if is_evidence:
            for cell in (c for line in lines[:keep] for c in line if c.get("data-label") in evidence.link_columns):
                _fewer_links(cell, evidence.links_kept)
        if len(lines) <= keep:
            continue
        cut_evidence = cut_evidence or is_evidence
        for line in lines[keep:]:
            holder.remove(line)
        left = len(lines) - keep
        beyond = _capped_note(block.getnext())
        if beyond is not None:  # the report itself listed only some: one note says both
            beyond[1].getparent().remove(beyond[1])
        if is_evidence and evidence.file is not None:
            note = _file_note(left + (beyond[0] if beyond else 0), noun, evidence)
        else:
            note = etree.SubElement(root, "p")
            em = etree.SubElement(note, "em")
            em.text = f"…and {left} more {noun if left > 1 else noun[:-1]} in the full report."
            if beyond is not None:
                em.text = f"…and {left + beyond[0]} more {noun}; the full report lists {left} of them."
        tail, block.tail = block.tail, None
        block.addnext(note)
        note.tail = tail
        if keep == 0:  # a table of column headings alone says nothing its note does not: the note stands in
            parent = block.getparent()
            assert parent is not None
            parent.remove(block)
    shown = kept_evidence if cut_evidence and kept_evidence != rows else None
    root.insert(0, _full_report_note(rows, full_url, attachment, evidence_rows=shown, noun=evidence.noun))
    return _serialize(root)


_MORE_LINKS = re.compile(r"\s*\+(\d+) more\s*$")


def _fewer_links(cell: HtmlElement, keep: int) -> None:
    """A cell listing links (`A, B, C +4 more`) cut to its first `keep`, the others added to its count."""
    links = [el for el in cell if el.tag == "a"]
    if len(links) <= keep or keep < 1:
        return
    counted = _MORE_LINKS.search(links[-1].tail or "")
    left = len(links) - keep + (int(counted.group(1)) if counted else 0)
    for link in links[keep:]:
        cell.remove(link)
    links[keep - 1].tail = f" +{left} more"


def _headings(table: HtmlElement) -> tuple[str, ...]:
    return tuple(" ".join(th.text_content().split()) for th in table.iter("th"))


def _file_note(left: int, noun: str, evidence: Evidence) -> HtmlElement:
    """`…and N more signals: see the attached FILE.`, or with the file published, `see FILE on the report site.`

    No link here: the report links its published file once, and a link in each theme's note (with
    its inlined style, about 200 bytes) cost the bench store's email its one signal per theme.
    """
    note = fragment_fromstring("<p></p>")
    em = etree.SubElement(note, "em")
    where = f"{evidence.file} on the report site" if evidence.published else f"the attached {evidence.file}"
    em.text = f"…and {left} more {noun if left > 1 else noun[:-1]}: see {where}."
    return note


_CAPPED = re.compile(r"…and (\d+) more\.")


def _capped_note(el: HtmlElement | None) -> tuple[int, HtmlElement] | None:
    """(N, the paragraph) when `el` is a report's own "…and N more." note under a capped list."""
    if el is None or el.tag != "p":
        return None
    m = _CAPPED.fullmatch(" ".join(el.text_content().split()))
    return (int(m.group(1)), el) if m else None


def _full_report_note(rows: int, full_url: str | None, attachment: str, *, evidence_rows: int | None = None,
                      noun: str = "rows") -> HtmlElement:
    note = fragment_fromstring("<p></p>")
    strong = etree.SubElement(note, "strong")
    strong.text = "Shortened for email:"
    strong.tail = (" long tables and lists are left to the full report (their rows counted)" if rows == 0 else
                   " long tables and lists show their first row" if rows == 1 else
                   f" long tables and lists show their first {rows} rows")
    if evidence_rows is not None:
        strong.tail += (f"; each evidence table shows its first {noun[:-1]}" if evidence_rows == 1 else
                        f"; each evidence table shows its first {evidence_rows} {noun}")
    strong.tail += ". "
    url = safe_url(full_url)
    if url is not None:
        link = etree.SubElement(note, "a", href=url)
        link.text = "Open the full report"
        link.tail = "."
    else:
        strong.tail += f"The full report is attached ({attachment})."
    return note


def email_body(body: str, *, size_of: Callable[[str], int], full_url: str | None, attachment: str,
               budget: int = EMAIL_HTML_BUDGET, evidence: Evidence = NO_EVIDENCE) -> EmailBody:
    """The body whose email HTML part (`size_of(body)` bytes) fits `budget`: as is, or shortened (fewest cuts first)."""
    if size_of(body) < budget:
        return EmailBody(body, shortened=False)
    # without evidence the cuts that differ only in evidence rows give the same body: try each once
    has_evidence = bool(evidence.headings) or "<details" in body
    tried: dict[object, str | None] = {}  # cut -> the shortened body if it fits

    def fitting(rows: int, evidence_rows: int) -> str | None:
        cut = (rows, evidence_rows) if has_evidence else rows
        if cut not in tried:
            short = shorten_body(body, rows=rows, full_url=full_url, attachment=attachment,
                                 evidence_rows=evidence_rows, evidence=evidence)
            tried[cut] = short if size_of(short) < budget else None
        return tried[cut]

    for run in _CUTS:
        if fitting(*run[0]) is None and fitting(*run[-1]) is None:  # the run's first cut often fits: tried first
            continue
        for rows, evidence_rows in run:
            short = fitting(rows, evidence_rows)
            if short is not None:
                return EmailBody(short, shortened=True, rows_kept=rows, evidence_rows_kept=evidence_rows)
    # still too long (thousands of sections): only the headings and the note remain
    root = _fragment(shorten_body(body, rows=0, full_url=full_url, attachment=attachment, evidence_rows=0,
                                  evidence=evidence))
    for el in list(root):
        if el.tag not in ("h1", "h2") and el is not root[0]:
            root.remove(el)
    return EmailBody(_serialize(root), shortened=True, rows_kept=0, evidence_rows_kept=0)
