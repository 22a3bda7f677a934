"""The executive verdict: goals delivered / on track / at risk / missed, missed releases, and what changed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from syncd.reports.analysis import analyse
from syncd.reports.catalogue.base import Previous
from syncd.reports.catalogue.changes import conclusions
from syncd.reports.catalogue.verdict import goal_state, verdict
from syncd.reports.goals import Selector
from tests.unit.analysis_factories import Plan, Settings, day, goal

NOW = day(70)
TODAY = NOW.date()


def scope(label: str) -> Selector:
    return Selector(labels=(label, "history"))


def world() -> Plan:
    p = Plan()
    for k in range(16):
        item = p.item(created=day(0), labels=["history"])
        p.move(item, "In Progress", day(10 + 3 * k))
        p.move(item, "Done", day(12 + 3 * k))
    return p


def test_each_goal_has_one_state_and_finished_goals_are_delivered() -> None:
    p = world()
    done = p.item(created=day(1), labels=["shipped"])
    p.move(done, "Done", day(20))
    for label, n in (("late", 1), ("huge", 40), ("easy", 1)):
        for _ in range(n):
            p.item(created=day(1), labels=[label])
    rel = p.version("3.1", due=TODAY - timedelta(days=4))
    p.item(created=day(1), labels=["other"]).release_ids = [rel.id]
    goals = [goal(scope("shipped"), id="shipped", target=TODAY - timedelta(days=30)),  # finished after its date
             goal(scope("late"), id="late", target=TODAY - timedelta(days=2)),
             goal(scope("huge"), id="huge", target=TODAY + timedelta(days=14)),
             goal(scope("easy"), id="easy", target=date(2027, 12, 31))]
    an = analyse(p.snapshot(), goals, Settings(), NOW)
    states = {g.goal.id: goal_state(g, TODAY) for g in an.goals}
    # 16 done in 50 days is ~2 a week: 40 items cannot finish in 2 weeks, 1 item can in 20 months
    assert states == {"shipped": "delivered", "late": "missed", "huge": "at risk", "easy": "on track"}
    text = verdict(an.goals, an, None, [t.id for t in an.themes])
    assert text == (f"Of 4 goals: 1 delivered, 1 on track, 1 at risk, 1 missed (Goal late); release 3.1 missed "
                    f"{(TODAY - timedelta(days=4)).isoformat()}; this is the first report, so there is nothing "
                    "earlier to compare with.")

    # a week ago: "late" was on track with a forecast 9 days earlier, and no risk themes were open
    before = conclusions(an)
    late = before["goals"]["late"]
    now_p85 = next(g.forecast.p85 for g in an.goals if g.goal.id == "late")
    assert now_p85 is not None
    late.update(target=(TODAY + timedelta(days=20)).isoformat(), p85=(now_p85 - timedelta(days=9)).isoformat(),
                rag="green")
    before["themes"] = []
    prev = Previous(as_of=datetime.combine(TODAY - timedelta(days=7), datetime.min.time(), NOW.tzinfo),
                    summary=before, risk_ids=[])
    text = verdict(an.goals, an, prev, [t.id for t in an.themes])
    week_ago = (TODAY - timedelta(days=7)).isoformat()
    assert text.endswith(f"since the last report ({week_ago}): Goal late went from on track to missed; "
                         f"Goal late's 85% forecast moved 9 days later; {len(an.themes)} new and 0 resolved risk "
                         "themes.")
