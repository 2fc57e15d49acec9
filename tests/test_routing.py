"""Routing by the district's rules, through ``tipline route`` (its contract), and staff notices
by role when the outbox rows are written.

The case matrix (tips x schools x moments) lives in ``tools/routing_table.py``, which prints the
same table as Markdown for the closing note. Real triage, the real demo district file, real
SQLite/PostgreSQL for the role resolution.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tipline import outbox, routing, staff
from tipline import plugins as hooks
from tipline.models import Delivery, Tip
from tipline.orm import make_engine
from tipline.schedule import Why, school_time
from tipline.types import RouteAction, TipDraft, Triage, staff_target

ROOT = Path(__file__).resolve().parent.parent
TIPLINE = str(Path(sys.executable).parent / "tipline")
NY = ZoneInfo("America/New_York")
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}

_spec = importlib.util.spec_from_file_location("routing_table", ROOT / "tools" / "routing_table.py")
assert _spec and _spec.loader
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)

DISTRICT = routing.load_district()


def targets(out: dict[str, Any], kind: str) -> list[str]:
    return [a["target"] for a in out["actions"] if a["kind"] == kind]


def reason(out: dict[str, Any], kind: str, target: str) -> str:
    return next(str(a["reason"]) for a in out["actions"] if a["kind"] == kind and a["target"] == target)


def check(case: str, school: str, in_hours: bool, out: dict[str, Any]) -> None:
    """Who must be told, and why, for one case (DESIGN.md's routing rules, FAQ Q1/Q2)."""
    forwards, notices, pages = targets(out, "forward"), targets(out, "notify"), targets(out, "page")
    role = {r: staff_target(r, school) for r in ("school-admin", "sro", "threat-team", "deib", "counselor")}
    # Staff by role at the tip's school only; one page, to the on-call team the danger belongs to.
    assert pages == [] or (len(pages) == 1 and pages[0].startswith(f"oncall:{school}:"))  # one team woken
    # Nothing reaches police without triage's evidence.
    if not out["police"]:
        assert forwards == [], (case, out)
    if case.startswith("threat"):
        assert "threat" in out["workflows"]
        # The school is always told, at any hour: administrators, SRO/SSO, threat team.
        for r in ("school-admin", "sro", "threat-team"):
            assert role[r] in notices, (case, r)
        assert f"oncall:{school}:threat" in pages
        why = reason(out, "notify", role["sro"])
        assert ("during school hours" if in_hours else "outside school hours") in why.lower()
    if case == "threat, no evidence":
        assert not out["police"] and out["review"] and forwards == []
        if not in_hours:
            assert "without police evidence" in reason(out, "notify", role["school-admin"])
    elif case == "threat with police evidence":
        assert out["police"] and forwards == ["dispatch"]
        why = reason(out, "forward", "dispatch")
        assert "police.weapon_with_target" in why
        assert ("during school hours" if in_hours else "outside school hours (safety FAQ Q1)") in why
    elif case == "review only":
        assert out["review"] and not out["police"] and "threat" not in out["workflows"]
        assert forwards == [] and pages
        assert all("Marked for review" in reason(out, "page", p) for p in pages)
        assert role["sro"] not in notices and role["threat-team"] not in notices
    elif case == "bias only":
        assert out["workflows"] == ["deib"] and not out["police"]
        assert forwards == [] and pages == []
        assert {role["deib"], role["counselor"], role["school-admin"]} == set(notices)
    elif case == "wellbeing, danger now":
        assert out["police"] and "wellbeing" in out["workflows"] and "threat" not in out["workflows"]
        assert forwards == ["welfare"]
        assert "welfare check" in reason(out, "forward", "welfare")
        assert {role["counselor"], role["school-admin"]} <= set(notices)
        assert "welfare check was requested" in reason(out, "notify", role["counselor"])
        assert f"oncall:{school}:wellbeing" in pages
        assert role["sro"] not in notices


def test_the_demo_calendar_is_what_the_cases_say() -> None:
    """The moments mean what their names say at each school (so the matrix tests the rules)."""
    for when, at in table.MOMENTS.items():
        for school in table.SCHOOLS:
            moment = datetime.fromisoformat(at)
            assert routing.context(DISTRICT, school, moment).in_school_hours == (when in table.IN_HOURS), (when, school)
    assert school_time(DISTRICT, "SHS", datetime(2026, 11, 26, 10, tzinfo=UTC)).why is Why.CLOSURE  # Thanksgiving
    assert datetime.fromisoformat(table.MOMENTS["weekend (Sat 11:00)"]).weekday() == 5


def test_routing_table_through_tipline_route(capsys: pytest.CaptureFixture[str]) -> None:
    """Every tip kind at a high, a middle and an elementary school on a school day, an evening,
    a weekend, a holiday and a summer day: who was told and why. Prints the table."""
    rows = table.cases()
    answers = table.route(rows, TIPLINE)
    for row, out in zip(rows, answers, strict=True):
        assert set(out) == {"workflows", "priority", "police", "review", "actions"}
        assert all(set(a) == {"kind", "target", "reason"} and a["reason"] for a in out["actions"])
        if row["case"] != "issue example":
            check(row["case"], row["school"], row["in_hours"], out)
    with capsys.disabled():
        print("\n" + table.markdown(rows, answers))


def test_issue_example_after_hours_tells_police_and_the_school() -> None:
    """Issue 10, item 1: "Shoot up the school tomorrow, he has his dad's gun" at 16:29 on a
    school day went to dispatch only. Now dispatch AND the school's administrators, SRO and
    threat team (and the on-call threat team is paged)."""
    [out] = table.route([table.EXAMPLE], TIPLINE)
    assert out["police"] and targets(out, "forward") == ["dispatch"]
    assert "outside school hours" in reason(out, "forward", "dispatch")
    for r in ("school-admin", "sro", "threat-team"):
        assert staff_target(r, "SHS") in targets(out, "notify")
    assert "school is told at once too" in reason(out, "notify", "role:school-admin@SHS")
    assert targets(out, "page") == ["oncall:SHS:threat"]


def test_route_cli_answers_each_bad_line_and_goes_on() -> None:
    good = json.dumps({"text": "the bathroom sink is broken", "school": "SHS",
                       "submitted_at": "2026-11-23T10:30:00-05:00"})
    lines = [
        "not json",
        "[" * 10_000 + "]" * 10_000,
        json.dumps({"text": None, "submitted_at": "2026-11-23T10:30:00-05:00"}),
        json.dumps({"text": "a" * 20_000, "submitted_at": "2026-11-23T10:30:00-05:00"}),
        json.dumps({"text": "hi", "submitted_at": "2026-11-23T10:30:00"}),  # naive: refused, not guessed
        json.dumps({"text": "hi"}),
        json.dumps({"text": "hi", "school": "XYZ", "submitted_at": "2026-11-23T10:30:00-05:00"}),
        json.dumps({"text": "hi", "submitted_at": "Monday"}),
        good,
    ]
    done = subprocess.run([TIPLINE, "route"], input="\n".join(lines) + "\n", text=True, capture_output=True,
                          timeout=120, env=ENV)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(lines)
    errors = [r["error"] for r in rows[:-1]]
    assert "not JSON" in errors[0] and "nested" in errors[1] and '"text" must be a string' in errors[2]
    assert "longer than the form" in errors[3] and "no offset" in errors[4] and "required" in errors[5]
    assert "SHS" in errors[6] and "ISO 8601" in errors[7]
    assert [r["line"] for r in rows[:-1]] == list(range(1, len(lines)))
    assert rows[-1] == {"workflows": [], "priority": "low", "police": False, "review": False, "actions": []}


def test_route_line_in_process_is_the_command() -> None:
    """The command is a loop over ``routing.route_line``: the same answer in-process."""
    pm = hooks.make_manager()
    line = json.dumps({"text": table.EXAMPLE["text"], "school": "SHS", "submitted_at": table.EXAMPLE["submitted_at"]})
    assert routing.route_line(pm, DISTRICT, line, 10_000) == table.route([table.EXAMPLE], TIPLINE)[0]


# --- the rules with fixed triage, in-process ------------------------------------------------------

RULES = hooks.make_manager(["routing_rules"])
MOMENTS = [datetime.fromisoformat(at) for at in table.MOMENTS.values()]


def rules(triage: Triage, school: str | None, moment: datetime) -> list[RouteAction]:
    return routing.route(RULES, DISTRICT, TipDraft("x", "unsure", school, moment), triage)[1]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_bias_only_tip_never_goes_to_police(moment: datetime) -> None:
    """Even when triage's words put police evidence on a tip it triaged as bias only: a person
    decides (the on-call DEIB team is paged), nothing is forwarded."""
    bias = Triage(("deib",), "urgent", True, ("deib.race", "police.identity_death_threat"))
    actions = rules(bias, "SHS", moment)
    assert not [a for a in actions if a.kind == "forward"]
    [page] = [a for a in actions if a.kind == "page"]
    assert page.target == "oncall:SHS:deib" and "bias only" in page.reason


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("workflows", [("threat",), ("wellbeing",), ("cyberbullying",), ("threat", "deib"), ()])
def test_nothing_without_evidence_reaches_police(workflows: tuple[str, ...], moment: datetime) -> None:
    for review in (False, True):
        triage = Triage(workflows, "high", False, ("immediate.dispatch", "immediate.welfare"), review)
        assert not [a for a in rules(triage, "BMS", moment) if a.kind == "forward"]


def test_a_tip_with_no_school_goes_to_district_wide_roles_and_on_call() -> None:
    threat = Triage(("threat",), "high", False, ("threat.fight",), review=True)
    actions = {(a.kind, a.target) for a in rules(threat, None, MOMENTS[0])}
    assert {("notify", "role:school-admin"), ("notify", "role:sro"), ("notify", "role:threat-team"),
            ("page", "oncall:*:threat")} <= actions


# --- notices by role, at enqueue time ---------------------------------------------------------------

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 20:00 in Westport: out of hours
SECRET = "s" * 40


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def member(session: Session, email: str, role: str, school: str | None, active: bool = True) -> None:
    staff.create(session, email=email, role=role, school=school, password="correct horse battery",
                 secret_key=SECRET, schools=set(DISTRICT.schools), active=active)


def enqueue(engine: Engine, actions: list[RouteAction], school: str = "SHS") -> list[Delivery]:
    factory = sessionmaker(engine)
    tip_id = "t" * 32
    with factory() as session, session.begin():
        session.add(Tip(id=tip_id, lookup_id="l" * 64, school=school, received_at=NOW, updated_at=NOW,
                        sealed_report=b"sealed"))
        session.flush()
        outbox.enqueue_for_tip(session, DISTRICT, tip_id, school, Triage(("threat",), "urgent", True, ()),
                               actions, NOW)
    with factory() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        session.expunge_all()
        return rows


def test_role_targets_reach_the_console_accounts_that_hold_the_role(engine: Engine) -> None:
    with sessionmaker(engine)() as session, session.begin():
        member(session, "ap.one@shs.example.org", "school-admin", "SHS")
        member(session, "ap.two@shs.example.org", "school-admin", "SHS")
        member(session, "gone@shs.example.org", "school-admin", "SHS", active=False)
        member(session, "principal@bms.example.org", "school-admin", "BMS")
        member(session, "threat.lead@shs.example.org", "threat-team", "SHS")
        member(session, "threat.district@example.org", "threat-team", None)
    rows = enqueue(engine, [
        RouteAction("notify", "role:school-admin@SHS", "Threat out of hours.", "threat"),
        RouteAction("notify", "role:threat-team@SHS", "For the threat team.", "threat"),
        RouteAction("page", "oncall:SHS:threat", "Urgent tip.", "threat"),
    ])
    told = {r.destination: r for r in rows}
    assert set(told) == {"ap.one@shs.example.org", "ap.two@shs.example.org", "threat.lead@shs.example.org",
                         "threat.district@example.org"}
    # No inactive member, no other school's, no file address while accounts hold the role; pages
    # are not queued here (the on-call module queues them).
    assert all(r.channel == "smtp" and r.purpose == "threat" for r in rows)
    assert len({r.idempotency_key for r in rows}) == len(rows)
    assert told["ap.one@shs.example.org"].reason == "Threat out of hours."


def test_no_account_falls_back_to_the_district_file_then_to_the_admins(engine: Engine) -> None:
    with sessionmaker(engine)() as session, session.begin():
        member(session, "district.admin@example.org", "admin", None)
    rows = enqueue(engine, [
        RouteAction("notify", "role:sro@SHS", "Threat out of hours.", "threat"),
        RouteAction("notify", "role:threat-team@SHS", "For the threat team.", "threat"),
    ])
    told = {r.destination: r.reason for r in rows}
    # The SRO from the district file, saying why it was used.
    [sro] = DISTRICT.schools["SHS"].officers
    assert "district file" in told[sro] and "sro" in told[sro]
    # Nobody holds the threat-team role at SHS and the file lists none: the district admins.
    assert set(told) == {sro, "district.admin@example.org"}
    assert told["district.admin@example.org"].startswith("Nobody holds the threat-team role at SHS")


def test_with_no_admin_account_the_district_file_alerts_are_told(engine: Engine) -> None:
    rows = enqueue(engine, [RouteAction("notify", "role:deib@BMS", "A bias report.", "deib")], school="BMS")
    assert {r.destination for r in rows} == set(DISTRICT.admin_alerts)
    assert all("Nobody holds the deib role at BMS" in r.reason for r in rows)
