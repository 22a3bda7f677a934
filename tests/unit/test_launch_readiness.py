"""Launch readiness on the hand-built world: the order of the gates, the conventions from the config,
worked out here from the same records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncd.errors import ConfigError
from syncd.model import (
    CheckConclusion,
    ItemKind,
    PullState,
    SourceType,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)
from syncd.reports.analysis import analyse
from syncd.reports.catalogue.base import ReportInput
from syncd.reports.catalogue.catalogue import render_report
from syncd.reports.catalogue.launch import find_release
from syncd.reports.catalogue.launch_config import LaunchConfig, LaunchConventions
from syncd.reports.catalogue.readiness import Readiness, launch_checklist
from syncd.reports.catalogue.signoffs import _PropertySignOff, property_sign_offs
from syncd.reports.data import Snapshot
from syncd.reports.goals import load_goals_file
from syncd.settings import load_settings
from syncd.settings_sections import ReportSettings
from tests.reports_world import NOW, World, build_world, write_goals

RELEASE = "jira:version:101"  # release 1.1 of the world, due 2026-12-10


def _ready(world: World, tmp_path: Path, launch: LaunchConfig | None = None) -> Readiness:
    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="Europe/Berlin"), NOW, capacity=goals.capacity)
    inp = ReportInput(analysis=analysis, snapshot=snap, now=NOW, scope="1.1", launch=launch or LaunchConfig())
    return launch_checklist(inp, find_release(inp))


def _every_gate_failing(world: World) -> None:
    """Release 1.1 past its due date, and a merged pull request of one of its items with failing checks
    (the world already has an open blocker, an open Highest bug and an open sign-off item)."""
    world.releases = [r.model_copy(update={"due": NOW.date() - timedelta(days=2)}) if r.id == RELEASE else r
                      for r in world.releases]
    docs = next(i for i in world.items if i.title == "Document the checkout API")
    pull = next(p for p in world.pulls if p.linked_keys == [docs.key])
    assert pull.state == PullState.MERGED
    pull.checks = CheckConclusion.FAILURE


def test_gates_are_listed_and_the_no_go_reason_ordered_most_serious_first(tmp_path: Path) -> None:
    world = build_world()
    _every_gate_failing(world)
    ready = _ready(world, tmp_path)
    # the order a go/no-go memo weighs them in, written out here rather than read from GATE_ORDER
    expected = ["No scope open past the due date", "No open blockers", "No open critical bugs",
                "Checks green on merged pull requests", "Sign-offs done"]
    gates = [c for c in ready.checks if c.gate]
    assert [c.name for c in gates] == expected and not any(c.ok for c in gates)
    assert [c.name for c in ready.checks if not c.gate] == ["Documentation done", "Rollback plan ready"]
    assert ready.verdict == "NO-GO"
    work = [i for i in world.items if RELEASE in i.release_ids and i.kind != ItemKind.EPIC]
    open_ = [i for i in work if i.status_category != StatusCategory.DONE]
    due = (NOW.date() - timedelta(days=2)).isoformat()
    parts = ready.reason.split("; ")
    assert parts[0].startswith(f"{len(open_)} of {len(work)} items open past the due date {due}: ")
    by_id = {i.id: i for i in world.items}
    blockers = sorted({i.key for i in open_ if i.flagged} | {
        by_id[lk.from_id].key for lk in world.links if lk.kind == "blocks" and lk.to_id in {i.id for i in open_}
        and by_id[lk.from_id].status_category != StatusCategory.DONE})
    assert parts[1] == f"{len(blockers)} open blockers: {', '.join(blockers)}" and len(blockers) == 2
    critical = [i.key for i in open_ if i.kind == ItemKind.BUG and i.priority == "Highest"]
    assert parts[2] == f"1 open critical bug: {critical[0]}" and len(critical) == 1
    assert parts[3].startswith("1 merged with failing checks: acme/widget#")
    assert parts[4] == "1 of 1 sign-off item still open: " + next(
        i.key for i in world.items if i.title == "Security sign-off for 1.1")
    assert len(parts) == 5


def test_the_reason_leads_with_the_worst_failed_gate_even_when_it_is_a_later_one(tmp_path: Path) -> None:
    world = build_world()
    _every_gate_failing(world)
    for item in world.items:  # finish everything in the release: only the failing checks remain
        if RELEASE in item.release_ids:
            item.status, item.status_category, item.resolved = "Done", StatusCategory.DONE, NOW
    blockers = {lk.from_id for lk in world.links if lk.kind == "blocks"}
    for item in world.items:
        if item.id in blockers:
            item.status, item.status_category, item.resolved = "Done", StatusCategory.DONE, NOW
    ready = _ready(world, tmp_path)
    assert ready.verdict == "NO-GO" and ready.reason.startswith("1 merged with failing checks: acme/widget#")
    assert [c.name for c in ready.checks if not c.ok] == ["Checks green on merged pull requests"]


def test_conventions_from_the_config_replace_the_default_labels_and_title_words(tmp_path: Path) -> None:
    world = build_world()
    rollback = next(i for i in world.items if i.title == "Rollback plan for 1.1")
    docs = next(i for i in world.items if i.title == "Document the checkout API")
    default = {c.name: c for c in _ready(world, tmp_path).checks}
    assert default["Rollback plan ready"].ok and [r.key for r in default["Rollback plan ready"].items] == [rollback.key]
    assert default["Documentation done"].ok and [r.key for r in default["Documentation done"].items] == [docs.key]

    # a team that labels its plans "backout" and writes "Release notes" in titles, with no docs label
    conv = LaunchConventions(rollback_labels=["Backout"], rollback_title=None, documentation_labels=[],
                             documentation_title=r"\brelease notes\b")
    none_found = {c.name: c for c in _ready(world, tmp_path, LaunchConfig(conventions=conv)).checks}
    assert not none_found["Rollback plan ready"].ok and not none_found["Rollback plan ready"].gate
    assert none_found["Rollback plan ready"].detail == "no rollback-plan item in the release"
    assert none_found["Documentation done"].detail == "no documentation item in the release"

    other = next(i for i in world.items if RELEASE in i.release_ids and i.status_category != StatusCategory.DONE
                 and i.kind == ItemKind.STORY)
    other.labels = [*other.labels, "backout"]
    docs.title = "Release notes for 1.1"
    found = {c.name: c for c in _ready(world, tmp_path, LaunchConfig(conventions=conv)).checks}
    assert [r.key for r in found["Rollback plan ready"].items] == [other.key]
    assert found["Rollback plan ready"].detail == f"1 of 1 rollback-plan item still open: {other.key}"
    assert found["Documentation done"].ok and [r.key for r in found["Documentation done"].items] == [docs.key]


def test_conventions_are_read_from_the_releases_section_of_the_toml(tmp_path: Path) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text("[releases.conventions]\nrollback_labels = ['Backout', 'RUNBOOK']\nrollback_title = "
                      "'\\bback ?out\\b'\n", encoding="utf-8")
    conv = load_settings(config).releases.conventions
    assert conv.rollback_labels == ["backout", "runbook"] and conv.rollback_title == r"\bback ?out\b"
    assert conv.documentation_labels == ["docs", "documentation", "release-notes", "release-note"]  # the default

    config.write_text("[releases.conventions]\nrollback_title = '(unclosed'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert str(err.value).startswith("config: releases.conventions.rollback_title: '(unclosed' is not a regular "
                                     "expression: ")
    assert "\n" not in str(err.value)
    config.write_text("[releases.conventions]\nrollback_lables = ['x']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^config: releases\.conventions\.rollback_lables: unknown key$"):
        load_settings(config)


def test_a_bad_convention_is_one_line_and_a_non_zero_exit_through_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncd.cli import main

    config = tmp_path / "syncd.toml"
    config.write_text(f"database_url = 'sqlite:///{tmp_path / 'syncd.db'}'\n[releases.conventions]\n"
                      "documentation_labels = ['docs', ' ']\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "launch-readiness", "-c", str(config), "--now", "2026-11-20"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == "syncd: error: config: releases.conventions.documentation_labels: a label must not be empty"


# -- sign-offs -------------------------------------------------------------------------------------

SIGNED = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)


def _with_checklist(world: World, description: str) -> tuple[WorkItem, WorkItem]:
    """Release 1.1's rollback-plan item doubles as its checklist issue (label release-checklist, the
    description given), with `signoff-qa` added by a Jira changelog row at SIGNED; the docs item carries
    `signoff-docs` since it was created. Returns (checklist, docs item)."""
    checklist = next(i for i in world.items if i.title == "Rollback plan for 1.1")
    checklist.labels = [*checklist.labels, "release-checklist", "signoff-qa"]
    checklist.description = description
    before = " ".join(label for label in checklist.labels if label != "signoff-qa")
    world.transitions.append(Transition(item_id=checklist.id, change_id="lbl-1", field=TransitionField.LABELS,
                                        from_string=before, to_string=" ".join(checklist.labels), at=SIGNED))
    docs = next(i for i in world.items if i.title == "Document the checkout API")
    docs.labels = [*docs.labels, "SignOff-Docs"]
    return checklist, docs


ROLES = {"QA": "Lee Park", "Docs": "Devi Rao", "Product Owner": "Priya Raman", "Security": "Bo Chen",
         "Legal": "Ann Lee"}


def test_each_sign_off_source_answers_with_the_person_and_the_date_it_was_given(tmp_path: Path) -> None:
    world = build_world()
    checklist, docs = _with_checklist(world, "Launch checklist\n- [x] Product owner sign-off\n- [ ] Security sign-off\n"
                                             "- [ ] QA sign-off\n")
    ready = _ready(world, tmp_path, LaunchConfig(sign_offs=ROLES))
    so = ready.sign_offs
    assert so.configured and so.checklist is not None and so.checklist.key == checklist.key
    assert so.checklist_found_by == "label release-checklist"
    rows = {r.role: r for r in so.rows}
    assert list(rows) == list(ROLES) and all(rows[role].person == person for role, person in ROLES.items())
    # label on the checklist issue, dated by the changelog row that added it
    qa = rows["QA"]
    assert (qa.given, qa.source, qa.item and qa.item.key, qa.at, qa.dated_by) == (
        True, "label signoff-qa", checklist.key, SIGNED, "label added (Jira changelog)")
    # label on another item of the release, there since that item was created (no changelog row added it)
    d = rows["Docs"]
    assert (d.given, d.source, d.item and d.item.key, d.at, d.dated_by) == (
        True, "label signoff-docs", docs.key, docs.created, "label there since the item was created")
    # a checked line in the checklist's description, dated by the checklist's last update
    po = rows["Product Owner"]
    assert (po.given, po.source, po.item and po.item.key, po.at) == (True, "checked line", checklist.key,
                                                                     checklist.updated)
    assert po.dated_by == "checklist issue last updated (description history is not stored)"
    sec = rows["Security"]
    assert (sec.given, sec.source, sec.at) == (False, "unchecked line", None)
    legal = rows["Legal"]
    assert (legal.given, legal.source, legal.item, legal.at) == (False, None, None, None)
    assert any("set releases.sign_off_property" in n for n in so.notes)

    gate = next(c for c in ready.checks if c.name == "Sign-offs done")
    assert gate.gate and not gate.ok
    assert gate.detail == "2 of 5 sign-offs missing: Security (Bo Chen), Legal (Ann Lee)"
    assert gate.items == []  # the Sign-offs table names the checklist issue; it is not open work
    assert ready.reason.endswith("; 2 of 5 sign-offs missing: Security (Bo Chen), Legal (Ann Lee)")


def test_sign_offs_all_given_pass_the_gate_and_the_sign_off_items_no_longer_count(tmp_path: Path) -> None:
    world = build_world()
    checklist, _ = _with_checklist(world, "- [x] Security sign-off\n* [X] legal signoff\n[x] product-owner sign off")
    # the world's "Security sign-off for 1.1" item is open: with roles configured it is ordinary work
    assert any(i.title == "Security sign-off for 1.1" and i.status_category != StatusCategory.DONE
               for i in world.items)
    ready = _ready(world, tmp_path, LaunchConfig(sign_offs=ROLES))
    assert all(r.given for r in ready.sign_offs.rows)
    gate = next(c for c in ready.checks if c.name == "Sign-offs done")
    assert gate.ok and gate.gate and gate.detail == "5 of 5 sign-offs given"


def test_the_checklist_issue_named_in_the_config_wins_and_a_missing_one_is_said(tmp_path: Path) -> None:
    world = build_world()
    _with_checklist(world, "")
    named = next(i for i in world.items if i.title == "Security sign-off for 1.1")
    named.description = "- [x] Legal sign-off"
    ready = _ready(world, tmp_path, LaunchConfig(sign_offs={"Legal": "Ann Lee"}, checklist={"1.1": named.key}))
    assert ready.sign_offs.checklist is not None and ready.sign_offs.checklist.key == named.key
    assert ready.sign_offs.checklist_found_by == "releases.checklist"
    assert ready.sign_offs.rows[0].given and ready.sign_offs.rows[0].source == "checked line"
    gone = _ready(world, tmp_path, LaunchConfig(sign_offs={"Legal": "Ann Lee"}, checklist={"1.1": "WID-9999"}))
    assert gone.sign_offs.checklist is None
    assert gone.sign_offs.checklist_found_by == "WID-9999 (releases.checklist) is not in the store"
    assert not gone.sign_offs.rows[0].given
    none = _ready(build_world(), tmp_path, LaunchConfig(sign_offs={"Legal": "Ann Lee"}))
    assert none.sign_offs.checklist is None and none.sign_offs.checklist_found_by == (
        'set releases.checklist."1.1" = "KEY" or label an item of the release release-checklist')


def test_a_github_label_is_dated_by_the_items_last_update(tmp_path: Path) -> None:
    world = build_world()
    issue = next(i for i in world.items if RELEASE in i.release_ids and i.kind == ItemKind.STORY)
    gh = issue.model_copy(update={"id": "gh:issue:1", "source": "gh", "source_type": SourceType.GITHUB,
                                  "key": "acme/widget#1", "labels": ["signoff-qa"]})
    world.items.append(gh)
    ready = _ready(world, tmp_path, LaunchConfig(sign_offs={"QA": "Lee Park"}))
    [row] = ready.sign_offs.rows
    assert (row.given, row.item and row.item.key, row.at) == (True, "acme/widget#1", gh.updated)
    assert row.dated_by == "item last updated (no label history stored for GitHub)"


def test_the_sign_offs_table_shows_names_sources_and_dates(tmp_path: Path) -> None:
    world = build_world()
    checklist, docs = _with_checklist(world, "- [x] Product Owner sign-off")
    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="Europe/Berlin"), NOW, capacity=goals.capacity)
    inp = ReportInput(analysis=analysis, snapshot=snap, now=NOW, scope="1.1",
                      launch=LaunchConfig(sign_offs={"QA": "Lee Park", "Product Owner": "Priya Raman",
                                                     "Legal": "<b>Ann</b>"}))
    report = render_report("launch-readiness", None, inp)
    md = report.markdown
    assert "<b>Ann" not in report.html and "&lt;b&gt;Ann&lt;/b&gt;" in report.html
    section = md.split("## Sign-offs\n", 1)[1].split("\n## ", 1)[0]
    link = f"[{checklist.key}]({checklist.url})"
    assert f"Checklist issue: {link} (label release-checklist)." in section
    assert f"| QA | Lee Park | ✅ yes | label signoff-qa on {link} | 2026-11-17 | label added (Jira changelog) |" \
        in section
    assert (f"| Product Owner | Priya Raman | ✅ yes | checked line on {link} | "
            f"{checklist.updated.astimezone(ZoneInfo('Europe/Berlin')).date().isoformat()} | checklist issue last "
            "updated (description history is not stored) |") in section
    assert "| Legal | &lt;b&gt;Ann&lt;/b&gt; | ❌ no | not found | — | — |" in section  # config text stays text
    assert "set releases.sign\\_off\\_property to the key of a Jira issue property" in section

    plain = render_report("launch-readiness", None, _input_plain(world, tmp_path)).markdown
    assert "No sign-offs are configured: name each role and the person who signs it off under " \
           "`[releases.sign_offs]`" in plain


def _input_plain(world: World, tmp_path: Path) -> ReportInput:
    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="Europe/Berlin"), NOW, capacity=goals.capacity)
    return ReportInput(analysis=analysis, snapshot=snap, now=NOW, scope="1.1")


def test_bad_sign_off_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "syncd.toml"
    for body, message in (
            ('[releases.sign_offs]\nQA = " "\n', "config: releases.sign_offs: role 'QA': name the person who signs it off"),
            ('[releases.sign_offs]\n"Q/A" = "Lee"\n', "config: releases.sign_offs: role 'Q/A' must start with a letter"),
            ('[releases.sign_offs]\n"Product Owner" = "A"\nproduct_owner = "B"\n',
             "config: releases.sign_offs: role 'product_owner' is given twice"),
            ('[releases.checklist]\n"Gadget 5.6" = "gad 12"\n',
             "config: releases.checklist: 'Gadget 5.6': 'gad 12' is not an issue key (PROJ-12 or owner/repo#34)")):
        config.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_settings(config)
        assert str(err.value).startswith(message) and "\n" not in str(err.value), str(err.value)


# -- go/no-go roles --------------------------------------------------------------------------------


def test_go_no_go_roles_are_shown_from_the_config_and_missing_ones_name_their_key(tmp_path: Path) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text('[releases.roles]\ndecides = "Dana Whitfield"\ndeploys = "  Platform on-call  "\n',
                      encoding="utf-8")
    launch = load_settings(config).releases
    assert (launch.roles.decides, launch.roles.deploys, launch.roles.monitors) == ("Dana Whitfield",
                                                                                    "Platform on-call", None)
    inp = _input_plain(build_world(), tmp_path)
    inp.launch = launch
    md = render_report("launch-readiness", None, inp).markdown
    section = md.split("## Go/no-go roles\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == ["| Role | Who |", "| Decides go/no-go | Dana Whitfield |", "| Deploys | Platform on-call |",
                    "| Monitors after the release | _not configured (set releases.roles.monitors)_ |"]

    config.write_text('[releases.roles]\nmonitors = " "\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^config: releases\.roles\.monitors: name a person or team \(or leave "
                                          r"the key out\)$"):
        load_settings(config)
    config.write_text('[releases.roles]\napproves = "X"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^config: releases\.roles\.approves: unknown key$"):
        load_settings(config)


def test_an_issue_property_answers_first_with_who_and_when(tmp_path: Path) -> None:
    world = build_world()
    checklist, docs = _with_checklist(world, "- [x] Product Owner sign-off")
    # the documented shape on the checklist issue: QA dated by 'at', Product Owner without one, Legal said no
    checklist.properties = {"release-signoff": {"qa": {"by": "Ana", "at": "2026-11-20"},
                                                "Product Owner": {"by": "Priya"}, "legal": {"signed": False}}}
    # a tolerated shape on another item of the release: a list of role names (one note says the shape)
    docs.properties = {"release-signoff": ["Security"]}
    ready = _ready(world, tmp_path, LaunchConfig(sign_offs=ROLES, sign_off_property="release-signoff"))
    rows = {r.role: r for r in ready.sign_offs.rows}
    qa = rows["QA"]  # the property wins over the checklist's label signoff-qa
    assert (qa.given, qa.source, qa.item and qa.item.key, qa.at, qa.dated_by) == (
        True, "issue property release-signoff (by Ana)", checklist.key, datetime(2026, 11, 20, 12, tzinfo=UTC),
        "the property's 'at'")
    po = rows["Product Owner"]  # no 'at': the checklist's last update, said so
    assert (po.given, po.source, po.at, po.dated_by) == (
        True, "issue property release-signoff (by Priya)", checklist.updated,
        "item last updated (the property gives no 'at')")
    sec = rows["Security"]
    assert (sec.given, sec.source, sec.item and sec.item.key, sec.at) == (
        True, "issue property release-signoff", docs.key, docs.updated)
    docs_row = rows["Docs"]  # no property names it: its label answers as before
    assert (docs_row.given, docs_row.source) == (True, "label signoff-docs")
    assert not rows["Legal"].given and rows["Legal"].source is None  # signed: false is not a sign-off
    assert ready.sign_offs.notes == [
        f'Issue property release-signoff on {docs.key} is not of the documented shape '
        '{"<role>": {"by": "<name>", "at": "<YYYY-MM-DD>"}} (read: a list of role names).']
    gate = next(c for c in ready.checks if c.name == "Sign-offs done")
    assert gate.detail == "1 of 5 sign-offs missing: Legal (Ann Lee)"


def test_property_values_of_other_shapes_answer_what_they_can_and_say_so() -> None:
    read, note = property_sign_offs({"QA": True, "docs": None, "security": {"by": "Bo", "at": "soon"}, "legal": 3})
    assert read == {"qa": _PropertySignOff(True), "docs": _PropertySignOff(False),
                    "security": _PropertySignOff(True, "Bo", None)}
    assert note == ('is not of the documented shape {"<role>": {"by": "<name>", "at": "<YYYY-MM-DD>"}} '
                    '(read: QA: true; security: \'at\' "soon" is not a date; legal: 3)')
    assert property_sign_offs("qa") == ({}, 'is not of the documented shape {"<role>": {"by": "<name>", '
                                            '"at": "<YYYY-MM-DD>"}} (read: "qa")')
    # a date-time keeps its instant (in UTC); the documented shape gives no note
    read, note = property_sign_offs({"qa": {"at": "2026-11-20T23:30:00+01:00"}})
    assert read["qa"].at == datetime(2026, 11, 20, 22, 30, tzinfo=UTC) and note is None


def test_the_sign_offs_table_shows_a_property_sign_off_and_its_signer_as_text(tmp_path: Path) -> None:
    world = build_world()
    checklist, _ = _with_checklist(world, "")
    checklist.properties = {"release-signoff": {"qa": {"by": "<img src=x onerror=alert(1)>", "at": "2026-11-20"}}}
    goals = load_goals_file(write_goals(tmp_path / "goals.toml"))
    snap = Snapshot.of(world.items, pulls=world.pulls, sprints=world.sprints, releases=world.releases,
                       links=world.links, transitions=world.transitions, people=world.people)
    analysis = analyse(snap, goals.goals, ReportSettings(timezone="America/Los_Angeles"), NOW,
                       capacity=goals.capacity)
    inp = ReportInput(analysis=analysis, snapshot=snap, now=NOW, scope="1.1",
                      launch=LaunchConfig(sign_offs={"QA": "Lee Park"}, sign_off_property="release-signoff"))
    report = render_report("launch-readiness", None, inp)
    section = report.markdown.split("## Sign-offs\n", 1)[1].split("\n## ", 1)[0]
    link = f"[{checklist.key}]({checklist.url})"
    # a date without a time shows that day in a time zone eight hours behind UTC too
    assert (f"| QA | Lee Park | ✅ yes | issue property release-signoff (by &lt;img src=x onerror=alert(1)&gt;) "
            f"on {link} | 2026-11-20 | the property's 'at' |") in section
    assert "<img" not in report.html
    # the sentence above the table is its own paragraph, so the table is a table in the HTML too
    assert "(label release-checklist).\n\n| Role |" in section
    html_section = report.html.split("Sign-offs</h2>", 1)[1].split("</h2>", 1)[0]
    assert "<table" in html_section and ">Lee Park</td>" in html_section, html_section
    assert "sign\\_off\\_property" not in section and "issue properties are not synced" not in section


JIRA_SOURCE = ('[sources.acme]\ntype = "jira"\nurl = "https://acme.atlassian.net"\nemail = "a@acme.example"\n'
               'token = "t"\nprojects = ["WID"]\n')


def test_the_sign_off_property_is_asked_of_every_jira_source_and_a_bad_key_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text(JIRA_SOURCE + 'issue_properties = ["triage"]\n[releases]\nsign_off_property = "release-signoff"\n',
                      encoding="utf-8")
    settings = load_settings(config)
    assert settings.sources["acme"].issue_properties == ["triage", "release-signoff"]  # type: ignore[union-attr]
    for body, message in (
            ('[releases]\nsign_off_property = "a,b"\n',
             "config: releases.sign_off_property: 'a,b' is not an issue property key"),
            (JIRA_SOURCE + 'issue_properties = ["a", "b", "c", "d", "e"]\n[releases]\nsign_off_property = "f"\n',
             "config: sources.acme.issue_properties: Jira returns at most 5 issue properties, "
             "releases.sign_off_property 'f' would be a sixth")):
        config.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_settings(config)
        assert str(err.value).startswith(message) and "\n" not in str(err.value), str(err.value)
