"""`syncd report launch-readiness` end to end: a store holding the fixture world (with a checklist
issue whose sign-off label the changelog dates), a config naming sign-offs and go/no-go roles, and
the Markdown and HTML files the command writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from syncd.cli import main
from syncd.model import Transition, TransitionField
from syncd.store import Store
from tests.reports_world import build_world, load_world, write_goals

SIGNED = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)


def test_launch_readiness_from_the_cli_names_sign_offs_and_roles(tmp_path: Path) -> None:
    world = build_world()
    checklist = next(i for i in world.items if i.title == "Rollback plan for 1.1")
    before = " ".join(checklist.labels)
    checklist.labels = [*checklist.labels, "release-checklist", "signoff-qa"]
    checklist.description = "Go-live list\n- [x] Product Owner sign-off\n- [ ] Security sign-off"
    world.transitions.append(Transition(item_id=checklist.id, change_id="lbl-1", field=TransitionField.LABELS,
                                        from_string=before, to_string=" ".join(checklist.labels), at=SIGNED))
    store = Store(f"sqlite:///{tmp_path / 'syncd.db'}")
    store.upgrade()
    load_world(store, world)
    store.close()
    config = tmp_path / "syncd.toml"
    config.write_text(f"""
database_url = "sqlite:///{tmp_path / 'syncd.db'}"
[reports]
goals_file = "{write_goals(tmp_path / 'goals.toml')}"
timezone = "Europe/Berlin"
out_dir = "{tmp_path / 'out'}"
[releases.sign_offs]
QA = "Lee Park"
"Product Owner" = "Priya Raman"
Security = "Bo Chen"
[releases.roles]
decides = "Ann Lee"
deploys = "Platform on-call"
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "launch-readiness", "-c", str(config), "--scope", "1.1",
                                       "--now", "2026-11-20T12:00:00+01:00", "--format", "md", "--format", "html"])
    assert result.exit_code == 0, result.output
    md = next((tmp_path / "out").glob("launch-readiness*.md")).read_text(encoding="utf-8")
    link = f"[{checklist.key}]({checklist.url})"
    assert "## 🔴 NO-GO" in md
    assert "| Sign-offs done | gate | ❌ fail | 1 of 3 sign-offs missing: Security (Bo Chen) |" in md
    assert f"| QA | Lee Park | ✅ yes | label signoff-qa on {link} | 2026-11-17 | label added (Jira changelog) |" in md
    assert f"| Product Owner | Priya Raman | ✅ yes | checked line on {link} | " in md
    assert f"| Security | Bo Chen | ❌ no | unchecked line on {link} | — | — |" in md
    assert "| Decides go/no-go | Ann Lee |" in md and "| Deploys | Platform on-call |" in md
    assert "| Monitors after the release | _not configured (set releases.roles.monitors)_ |" in md
    html = next((tmp_path / "out").glob("launch-readiness*.html")).read_text(encoding="utf-8")
    assert "Priya Raman" in html and "not configured (set releases.roles.monitors)" in html
    # a day before the labels were added (--now rewinds labels along the changelog): no checklist issue yet,
    # so neither the QA label nor the checked line answers
    before = CliRunner().invoke(main, ["report", "launch-readiness", "-c", str(config), "--scope", "1.1",
                                       "--now", "2026-11-16", "--format", "md"])
    assert before.exit_code == 0, before.output
    md = next((tmp_path / "out").glob("launch-readiness*.md")).read_text(encoding="utf-8")
    assert "| QA | Lee Park | ❌ no | not found | — | — |" in md
    assert "3 of 3 sign-offs missing: QA (Lee Park), Product Owner (Priya Raman), Security (Bo Chen)" in md
    assert "No checklist issue found: set releases.checklist.\"1.1\" = \"KEY\" or label an item" in md
