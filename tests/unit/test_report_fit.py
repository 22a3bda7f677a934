"""Emails that fit: shortening long tables and lists to the size budget, tables that reflow, and a
plain-text part that reads well in a terminal (no stray spaces, links as footnotes)."""

from __future__ import annotations

import re
from dataclasses import replace

from syncd.reports.render.html import markdown_body, text_alternative
from syncd.reports.render.shorten import Evidence, email_body, shorten_body


def _table(rows: int) -> str:
    lines = ["| Item | Title |", "| --- | --- |", *(f"| K-{n} | Title {n} |" for n in range(1, rows + 1))]
    return "\n".join(lines) + "\n"


def test_long_tables_and_lists_keep_their_first_rows_and_say_how_many_are_left() -> None:
    body = markdown_body("## Items\n\n" + _table(12) + "\n## Notes\n\n" + "".join(f"- note {n}\n" for n in range(1, 8))
                         + "\n## Short\n\n" + _table(2), charts=set())
    short = shorten_body(body, rows=3, full_url=None, attachment="status-engineering.html")
    first = short.split("<h2>Notes</h2>")[0]
    assert re.findall(r">K-(\d+)<", first) == ["1", "2", "3"]  # the first 3 of 12, in order
    assert "…and 9 more rows in the full report." in short
    assert re.findall(r"<li>note (\d)</li>", short) == ["1", "2", "3"] and "…and 4 more items in the full report." in short
    assert re.findall(r">K-(\d+)<", short.split("<h2>Short</h2>")[1]) == ["1", "2"]  # short tables untouched
    assert short.startswith("<p><strong>Shortened for email:</strong> long tables and lists show their first 3 rows. "
                            "The full report is attached (status-engineering.html).</p>")


def test_a_list_the_report_already_capped_gets_one_note_for_both_cuts() -> None:
    body = markdown_body(_table(8) + "\n_…and 30 more._\n\nAfter.\n", charts=set())
    short = shorten_body(body, rows=3, full_url=None, attachment="a.html")
    # 8 listed + 30 beyond them; 3 kept: 5 of the 35 left are in the full report
    assert "…and 35 more rows; the full report lists 5 of them." in short
    assert "…and 30 more." not in short and "After." in short


def test_the_note_links_to_the_full_report_when_it_is_published_and_never_to_a_bad_url() -> None:
    body = markdown_body(_table(4), charts=set())
    linked = shorten_body(body, rows=1, full_url="https://reports.example/syncd/status-engineering.html", attachment="x")
    assert '<a href="https://reports.example/syncd/status-engineering.html">Open the full report</a>.' in linked
    hostile = shorten_body(body, rows=1, full_url="javascript:alert(1)", attachment="status.html")
    assert "javascript" not in hostile and "attached (status.html)" in hostile


def test_email_body_cuts_no_more_than_it_must() -> None:
    body = markdown_body(_table(40), charts=set())
    sizes = {rows: len(shorten_body(body, rows=rows, full_url=None, attachment="a.html")) for rows in (10, 5, 3)}
    assert sizes[10] > sizes[5] > sizes[3]
    assert not email_body(body, size_of=len, full_url=None, attachment="a.html", budget=len(body) + 1).shortened
    picked = email_body(body, size_of=len, full_url=None, attachment="a.html", budget=sizes[5] + 1)
    assert picked.shortened and picked.rows_kept == 5 and len(re.findall(r">K-\d+<", picked.body)) == 5
    tiny = email_body(body, size_of=len, full_url=None, attachment="a.html", budget=10)
    assert tiny.rows_kept == 0 and "K-1" not in tiny.body and "Shortened for email" in tiny.body


def test_table_cells_carry_their_column_name_for_narrow_screens() -> None:
    body = markdown_body("| Item | Owner |\n| --- | --- |\n| K-1 | Ann &amp; Bo |\n", charts=set())
    assert '<table class="data" width="100%" cellpadding="0" cellspacing="0">' in body
    assert '<td data-label="Item">K-1</td>' in body and '<td data-label="Owner">Ann &amp; Bo</td>' in body


def test_plain_text_has_no_stray_spaces_around_dates_and_markers() -> None:
    body = markdown_body("Even the 50% forecast (2027-03-10) is after the target 2026-12-21: 🔴 Red.\n", charts=set())
    assert text_alternative(body, footer="f") == (
        "Even the 50% forecast (2027-03-10) is after the target 2026-12-21: ● Red.\n\n-- \nf\n")


def test_plain_text_links_are_numbered_footnotes_and_tables_stay_aligned() -> None:
    md = ("| Item | Owner |\n| --- | --- |\n| [K-1](https://j.example/browse/K-1) | Ann |\n"
          "| [K-22](https://j.example/browse/K-22) | Bo |\n\nSee [K-1](https://j.example/browse/K-1) again.\n")
    text = text_alternative(markdown_body(md, charts=set()), footer="f")
    # the widest cell, "K-22[2]", is 7 characters; columns are separated by two spaces
    assert text == ("Item     Owner\n"
                    "K-1[1]   Ann\n"
                    "K-22[2]  Bo\n"
                    "\n"
                    "See K-1[1] again.\n"
                    "\n"
                    "Links:\n"
                    "[1] https://j.example/browse/K-1\n"
                    "[2] https://j.example/browse/K-22\n"
                    "\n-- \nf\n")


def test_numbered_lists_align_past_nine() -> None:
    body = markdown_body("".join(f"{n}. risk {n}\n" for n in range(1, 12)), charts=set())
    lines = text_alternative(body, footer="f").splitlines()
    assert lines[0] == " 1. risk 1" and lines[8] == " 9. risk 9" and lines[9] == "10. risk 10"


def test_a_table_too_wide_for_a_terminal_becomes_records_and_long_lines_wrap_under_their_text() -> None:
    md = ("| Goal | Status | Forecast |\n| --- | --- | --- |\n"
          f"| [Checkout](https://j.example/1) | 🔴 Red | {'late by many days ' * 5}|\n\n"
          f"1. {'word ' * 30}\n")
    text = text_alternative(markdown_body(md, charts=set()), footer="f")
    lines = text.splitlines()
    assert lines[:4] == ["Checkout[1]", "", "  * Status: ● Red",
                         "  * Forecast: late by many days late by many days late by many days late by"]
    assert lines[4] == "    many days late by many days"  # continuation under the item's text
    first = next(n for n, line in enumerate(lines) if line.startswith(" 1. word word"))
    assert lines[first + 1].startswith("    word")  # continuation under the list item's text
    assert max(len(line) for line in lines) <= 78
    assert "[1] https://j.example/1" in lines


def test_a_details_block_is_opened_out_while_its_evidence_is_kept_and_left_to_the_full_report_without() -> None:
    body = "<h2>Risks</h2><details><summary>Evidence: 31 signals</summary><p>K-1 is late</p></details><p>After</p>"
    kept = shorten_body(body, rows=5, full_url=None, attachment="a.html")
    # mail clients that know <details> would show only its summary: the kept rows are shown instead
    assert "<details" not in kept and "<summary" not in kept and "<h2>Risks</h2><p>K-1 is late</p><p>After</p>" in kept
    short = shorten_body(body, rows=5, full_url=None, attachment="a.html", evidence_rows=0)
    assert "<details>" not in short and "K-1 is late" not in short
    assert "<p><em>Evidence: 31 signals: in the full report.</em></p><p>After</p>" in short


_EVIDENCE = Evidence(headings=frozenset({("Severity", "Signal", "Items")}), noun="signals", file="risks.csv",
                     link_columns=frozenset({"Items"}), links_kept=2)


def _evidence_table(theme: str, rows: int, keys: int = 1) -> str:
    lines = ["| Severity | Signal | Items |", "| --- | --- | --- |"]
    for n in range(1, rows + 1):
        links = ", ".join(f"[{theme}-{n}{k}](https://j.example/browse/{theme}-{n}{k})" for k in range(keys))
        lines.append(f"| {'red' if n <= 2 else 'amber'} | {theme} signal {n} | {links} |")
    return "\n".join(lines) + "\n"


def test_evidence_tables_keep_their_first_rows_when_other_tables_give_way_and_point_at_the_file() -> None:
    md = ("## Items\n\n" + _table(12) + "\n## Risks\n\n### A\n\n" + _evidence_table("A", 7, keys=5)
          + "\n_…and 20 more._\n\n### B\n\n" + _evidence_table("B", 1) + "\n### C\n\n" + _evidence_table("C", 3))
    body = markdown_body(md, charts=set())
    short = shorten_body(body, rows=0, full_url=None, attachment="a.html", evidence_rows=2, evidence=_EVIDENCE)
    items, risks = short.split("<h2>Risks</h2>")
    assert "<table" not in items and "…and 12 more rows in the full report." in items
    a, b, c = (part.split("<h3>", 1)[0] for part in risks.split("</h3>")[1:])
    assert re.findall(r">(\w) signal (\d)<", a) == [("A", "1"), ("A", "2")]  # the first two, in order
    # 7 listed and 20 beyond them, 2 kept: 25 more, all in the file; of 5 keys a row shows 2
    assert "<em>…and 25 more signals: see the attached risks.csv.</em>" in a and "…and 20 more." not in a
    assert re.findall(r">(A-\d+)<", a) == ["A-10", "A-11", "A-20", "A-21"] and a.count(" +3 more") == 2
    assert re.findall(r">(\w) signal (\d)<", b) == [("B", "1")] and "more signal" not in b
    assert re.findall(r">(\w) signal (\d)<", c) == [("C", "1"), ("C", "2")] and "…and 1 more signal: see" in c
    assert "long tables and lists are left to the full report (their rows counted); each evidence table shows " \
           "its first 2 signals. The full report is attached (a.html)." in short


def test_a_published_file_is_named_on_the_report_site_in_the_evidence_note() -> None:
    body = markdown_body(_evidence_table("A", 4), charts=set())
    published = replace(_EVIDENCE, published=True)
    short = shorten_body(body, rows=0, full_url=None, attachment="a.html", evidence_rows=1, evidence=published)
    assert "<em>…and 3 more signals: see risks.csv on the report site.</em>" in short and "attached risks" not in short


def test_email_body_cuts_evidence_last_and_keeps_as_many_of_its_first_rows_as_fit() -> None:
    long = "\n".join(["| Item | Title |", "| --- | --- |", *(f"| K-{n} | {'word ' * 300}|" for n in range(1, 41))])
    body = markdown_body("## Items\n\n" + long + "\n\n## Risks\n\n" + _evidence_table("A", 30), charts=set())
    cuts = ((1, 3), (1, 1), (0, 3), (0, 2), (0, 0))
    sizes = {cut: len(shorten_body(body, rows=cut[0], full_url=None, attachment="a.html", evidence_rows=cut[1],
                                   evidence=_EVIDENCE)) for cut in cuts}
    assert sizes[(1, 3)] > sizes[(1, 1)] > sizes[(0, 3)] > sizes[(0, 2)] > sizes[(0, 0)]

    def picked(budget: int) -> tuple[int | None, int | None, list[str], list[str]]:
        mail = email_body(body, size_of=len, full_url=None, attachment="a.html", budget=budget, evidence=_EVIDENCE)
        return (mail.rows_kept, mail.evidence_rows_kept, re.findall(r">K-(\d+)<", mail.body),
                re.findall(r">A signal (\d+)<", mail.body))

    # a list's first row goes before the evidence's third: one row and one signal, then no row and three
    assert picked(sizes[(1, 1)] + 1) == (1, 1, ["1"], ["1"])
    assert picked(sizes[(1, 1)] - 1) == (0, 3, [], ["1", "2", "3"])
    assert picked(sizes[(0, 2)] + 1) == (0, 2, [], ["1", "2"])
    assert picked(sizes[(0, 0)] + 1) == (0, 0, [], [])


def test_with_no_rows_left_a_long_table_gives_way_to_its_note() -> None:
    body = markdown_body("## Items\n\n" + _table(4) + "\nAfter the table.\n\n## Notes\n\n- one\n- two\n", charts=set())
    short = shorten_body(body, rows=0, full_url=None, attachment="a.html")
    items, notes = short.split("<h2>Items</h2>")[1].split("<h2>Notes</h2>")
    # no table of headings alone: the note says what the table held, the text after it stays
    assert "<table" not in short and "<th" not in short
    assert re.search(r"<p><em>…and 4 more rows in the full report\.</em></p>\s*<p>After the table\.</p>", items)
    assert "<ul" not in notes and "…and 2 more items in the full report." in notes


def test_email_body_skipping_a_run_of_cuts_that_cannot_fit_picks_what_trying_every_cut_would() -> None:
    from syncd.reports.render import shorten

    long = "\n".join(["| Item | Title |", "| --- | --- |", *(f"| K-{n} | {'word ' * 50}|" for n in range(1, 41))])
    body = markdown_body("## Items\n\n" + long + "\n\n## Risks\n\n" + _evidence_table("A", 30), charts=set())
    cuts = [cut for run in shorten._CUTS for cut in run]
    sizes = [len(shorten_body(body, rows=r, full_url=None, attachment="a.html", evidence_rows=e, evidence=_EVIDENCE))
             for r, e in cuts]
    tries = {}
    for budget in sorted({s + 1 for s in sizes}):
        every = next(cut for cut, size in zip(cuts, sizes, strict=True) if size < budget)  # the first that fits
        calls: list[int] = []

        def size_of(html: str) -> int:
            calls.append(len(html))
            return len(html)

        mail = email_body(body, size_of=size_of, full_url=None, attachment="a.html", budget=budget, evidence=_EVIDENCE)
        assert (mail.rows_kept, mail.evidence_rows_kept) == every, budget
        tries[every] = len(calls) - 1  # the first call sized the whole body
        assert tries[every] <= cuts.index(every) + 2  # at most one try more than going down the list
    # only (0, 0) fits: the first run's first and last cut, then the second run's first, last, (0, 2) and (0, 1)
    assert tries[(0, 0)] == 6 < len(cuts) and tries[(10, 10)] == 1
