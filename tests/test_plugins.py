"""The plugin system: hooks documented, a third-party workflow added without touching the core,
the command-line triage interface, and routing by the district's rules with a fixed clock."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pluggy
import pytest
from flask.testing import FlaskClient
from helpers import submit
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline import hookspecs, keyring
from tipline import plugins as hooks
from tipline.config import load_settings
from tipline.hookspecs import hookimpl
from tipline.models import Inbox, Tip
from tipline.schedule import in_school_hours
from tipline.types import RouteContext, Step, TipDraft, Triage, Vote, Workflow, staff_target

ROOT = Path(__file__).resolve().parent.parent
NY = ZoneInfo("America/New_York")


def test_every_hook_is_documented() -> None:
    doc = (ROOT / "docs" / "plugins.md").read_text()
    names = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("tipline_")]
    assert len(names) >= 6
    for name in names:
        assert re.search(rf"^## {name}$", doc, re.M), f"docs/plugins.md has no section for {name}"
        signature = f"def {name}("
        assert signature in doc, f"docs/plugins.md does not show the signature of {name}"


def test_builtins_load_through_entry_points() -> None:
    pm = hooks.make_manager()
    names = {name for name, _ in pm.list_name_plugin()}
    assert {"threat", "deib", "cyberbullying", "wellbeing", "routing_rules", "smtp", "webhook"} <= names
    assert set(hooks.workflows(pm)) >= {"threat", "deib", "cyberbullying", "wellbeing"}
    only = hooks.make_manager(["threat", "routing_rules"])
    assert {n for n, _ in only.list_name_plugin()} == {"threat", "routing_rules"}
    with pytest.raises(hooks.PluginError, match="nope"):
        hooks.make_manager(["nope"])


class AttendancePlugin:
    """A district's own fifth workflow, defined entirely outside tipline/ and plugins/."""

    @hookimpl
    def tipline_workflows(self) -> list[Workflow]:
        return [Workflow(key="attendance", title="Chronic absence", roles=("counselor", "school-admin"),
                         steps=(Step("contact_family", "Contact the family"),))]

    received: list[tuple[str, tuple[str, ...]]] = []

    @hookimpl
    def tipline_tip_received(self, tip_id: str, triage: Triage, received_at: datetime) -> None:
        self.received.append((tip_id, triage.workflows))

    @hookimpl
    def tipline_triage(self, tip: TipDraft) -> Vote | None:
        if re.search(r"\b(skipping|truant|absent)\b", tip.text, re.I):
            return Vote(workflows=("attendance",), priority="normal", signals=("attendance.absence",))
        return None


@pytest.fixture
def pm() -> pluggy.PluginManager:
    manager = hooks.make_manager()
    manager.register(AttendancePlugin(), name="attendance")
    return manager


def test_third_party_workflow(client: FlaskClient, db: Session) -> None:
    status, _ = submit(client, message="my friend has been skipping school for three weeks", school="BMS")
    assert status == 200
    tip = db.scalars(select(Tip)).one()
    # Weeks of absence may also read as a wellbeing concern to the model; the fifth workflow
    # opens either way.
    assert "attendance" in tip.workflow_keys and set(tip.workflow_keys) <= {"attendance", "wellbeing"}
    assert "attendance.absence" in tip.signals
    # Its inboxes were made like any built-in workflow's, per school and district-wide.
    inbox_keys = set(db.scalars(select(Inbox.key)))
    assert {"BMS:attendance", "wf:attendance"} <= inbox_keys
    assert {"BMS:attendance", "wf:attendance"} <= set(tip.routing["inboxes"])
    # Event hooks fire after the commit, with the id and triage but no text.
    assert AttendancePlugin.received[-1][0] == tip.id and "attendance" in AttendancePlugin.received[-1][1]


def test_triage_cli_contract() -> None:
    lines = [
        {"text": "he said he will bring his dad's gun tomorrow and shoot up the cafeteria", "category": "unsure"},
        {"text": "the bathroom sink is broken", "category": "other", "school": "SHS",
         "submitted_at": "2026-11-23T10:00:00-05:00"},
        {"text": "mi amiga dice que se quiere morir esta noche y tiene las pastillas", "category": "crisis"},
    ]
    stdin = "".join(json.dumps(x) + "\n" for x in lines)
    out = subprocess.run([str(Path(sys.executable).parent / "tipline"), "triage"], input=stdin, text=True,
                         capture_output=True, check=True, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert set(row) == {"workflows", "priority", "police", "signals", "review"}
        assert row["workflows"] == sorted(row["workflows"])
        assert row["priority"] in ("urgent", "high", "normal", "low")
    assert rows[0]["workflows"] == ["threat"] and rows[0]["police"] is True
    assert rows[1] == {"workflows": [], "priority": "low", "police": False, "signals": [], "review": False}
    assert "wellbeing" in rows[2]["workflows"] and rows[2]["police"] is True
    assert any(s.startswith("police.") for s in rows[0]["signals"])


def test_triage_cli_answers_each_bad_line_and_goes_on() -> None:
    """Issue 8, item 16: a deeply nested line, ``"text": null`` and a 1 MB line each get a
    clear error object on stdout, and the next line is still triaged."""
    good = json.dumps({"text": "the bathroom sink is broken", "category": "other"})
    lines = [
        "not json",
        "[" * 10_000 + "]" * 10_000,
        json.dumps({"text": None, "category": "other"}),
        json.dumps({"text": "a" * 1_000_000}),
        json.dumps(["text"]),
        json.dumps({"text": "hi", "submitted_at": "yesterday"}),
        good,
    ]
    done = subprocess.run([str(Path(sys.executable).parent / "tipline"), "triage"], input="\n".join(lines) + "\n",
                          text=True, capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row.get("line") for row in rows[:6]] == [1, 2, 3, 4, 5, 6]
    assert all(row["error"] for row in rows[:6])
    assert "nested" in rows[1]["error"]
    assert '"text" must be a string' in rows[2]["error"]
    assert "longer" in rows[3]["error"]
    assert rows[6] == {"workflows": [], "priority": "low", "police": False, "signals": [], "review": False}


# --- routing with a fixed clock ------------------------------------------------------------

SETTINGS = load_settings(environ={}, overrides={"secret_key": "r" * 40, "instance_path": "/nonexistent"})
DISTRICT = SETTINGS.district
THREAT = Triage(("threat",), "high", False, ("threat.fight",), review=True)
THREAT_POLICE = Triage(("threat",), "urgent", True, ("immediate.dispatch", "police.weapon_at_school", "threat.weapon"))
WELFARE = Triage(("wellbeing",), "urgent", True, ("immediate.welfare", "police.danger_now", "wellbeing.plan_tonight"))
BIAS = Triage(("deib",), "normal", False, ("deib.race", "deib.slur"))


def route(triage: Triage, school: str | None, local: datetime) -> list[tuple[str, str]]:
    pm = hooks.make_manager(["routing_rules"])
    school_cfg = DISTRICT.schools.get(school or "")
    moment = local.replace(tzinfo=NY)
    ctx = RouteContext(school=school, now=moment, in_school_hours=in_school_hours(DISTRICT, school, moment),
                       administrators=school_cfg.administrators if school_cfg else (),
                       officers=school_cfg.officers if school_cfg else (),
                       counselors=school_cfg.counselors if school_cfg else ())
    draft = TipDraft("x", "unsure", school, moment)
    return [(a.kind, a.target) for a in hooks.route(pm, draft, triage, ctx)]


SCHOOL_DAY = datetime(2026, 11, 23, 10, 30)  # a Monday
EVENING = datetime(2026, 11, 23, 19, 45)
WEEKEND = datetime(2026, 11, 21, 11, 0)  # a Saturday
HOLIDAY = datetime(2026, 11, 26, 10, 30)  # Thanksgiving, a Thursday


@pytest.mark.parametrize("school", sorted(DISTRICT.schools))
def test_threat_in_school_hours_goes_to_school_staff(school: str) -> None:
    actions = route(THREAT, school, SCHOOL_DAY)
    assert ("forward", "dispatch") not in actions
    for role in ("school-admin", "sro", "threat-team"):
        assert ("notify", staff_target(role, school)) in actions


@pytest.mark.parametrize("moment", [EVENING, WEEKEND, HOLIDAY], ids=["evening", "weekend", "holiday"])
@pytest.mark.parametrize("school", sorted(DISTRICT.schools))
def test_threat_with_evidence_out_of_hours_goes_to_police(school: str, moment: datetime) -> None:
    assert ("forward", "dispatch") in route(THREAT_POLICE, school, moment)


@pytest.mark.parametrize("moment", [EVENING, WEEKEND, HOLIDAY], ids=["evening", "weekend", "holiday"])
@pytest.mark.parametrize("school", sorted(DISTRICT.schools))
def test_threat_without_evidence_out_of_hours_tells_staff_not_police(school: str, moment: datetime) -> None:
    """DESIGN.md: out of hours a threat goes to police only when triage's police evidence
    holds; otherwise the school's administrators, officers and threat team are told, without
    content, and the on-call team is paged (the tip is marked for review)."""
    actions = route(THREAT, school, moment)
    assert ("forward", "dispatch") not in actions
    for role in ("school-admin", "sro", "threat-team"):
        assert ("notify", staff_target(role, school)) in actions
    assert ("page", f"oncall:{school}:threat") in actions


@pytest.mark.parametrize("moment", [EVENING, WEEKEND, HOLIDAY], ids=["evening", "weekend", "holiday"])
def test_bias_only_tip_out_of_hours_is_not_forwarded(moment: datetime) -> None:
    actions = route(BIAS, "SHS", moment)
    assert not any(kind == "forward" for kind, _ in actions)
    assert ("notify", staff_target("school-admin", "SHS")) in actions


def test_police_forward_names_its_evidence() -> None:
    pm = hooks.make_manager(["routing_rules"])
    moment = EVENING.replace(tzinfo=NY)
    ctx = RouteContext(school="SHS", now=moment, in_school_hours=False)
    [forward] = [a for a in hooks.route(pm, TipDraft("x", "unsure", "SHS", moment), THREAT_POLICE, ctx)
                 if a.kind == "forward"]
    assert "police.weapon_at_school" in forward.reason


def test_school_hours_differ_by_school() -> None:
    # 08:00 on a school day: the high school is in session, the elementary schools are not yet.
    early = datetime(2026, 11, 23, 8, 0, tzinfo=NY)
    assert in_school_hours(DISTRICT, "SHS", early)
    assert not in_school_hours(DISTRICT, "CES", early)
    assert ("forward", "dispatch") in route(THREAT_POLICE, "CES", early.replace(tzinfo=None))
    assert ("forward", "dispatch") not in route(THREAT, "CES", early.replace(tzinfo=None))
    assert ("forward", "dispatch") not in route(THREAT, "SHS", early.replace(tzinfo=None))


@pytest.mark.parametrize("moment", [SCHOOL_DAY, EVENING, WEEKEND, HOLIDAY])
def test_immediate_police_at_any_hour(moment: datetime) -> None:
    actions = route(THREAT_POLICE, "SHS", moment)
    assert ("forward", "dispatch") in actions
    if moment is SCHOOL_DAY:
        assert ("notify", "role:sro@SHS") in actions


@pytest.mark.parametrize("moment", [SCHOOL_DAY, EVENING])
def test_life_at_risk_gets_welfare_check(moment: datetime) -> None:
    actions = route(WELFARE, "BMS", moment)
    assert ("forward", "welfare") in actions
    assert ("forward", "dispatch") not in actions
    assert ("notify", "role:counselor@BMS") in actions


def test_no_school_uses_district_hours() -> None:
    assert ("forward", "dispatch") in route(THREAT_POLICE, None, EVENING)
    # Out of hours without evidence: no forward on a guess (the tip is marked for review).
    assert ("forward", "dispatch") not in route(THREAT, None, EVENING)
    # In hours with no school: still no forward on a guess; district-wide staff are told and paged.
    in_hours = route(THREAT, None, SCHOOL_DAY)
    assert ("forward", "dispatch") not in in_hours
    assert ("notify", "role:threat-team") in in_hours and ("page", "oncall:*:threat") in in_hours


def test_routing_decision_stored_with_tip(client: FlaskClient, db: Session) -> None:
    status, _ = submit(client, message="a kid said he is bringing a gun tomorrow to shoot people in the gym",
                       school="SHS", category="threat")
    assert status == 200
    tip = db.scalars(select(Tip)).one()
    assert tip.police and tip.priority == "urgent"
    assert "threat" in tip.workflow_keys
    targets = {(a["kind"], a["target"]) for a in tip.routing["actions"]}
    assert ("forward", "dispatch") in targets
    assert all(a["reason"] for a in tip.routing["actions"])
    assert keyring.POLICE in tip.routing["inboxes"] and "SHS:threat" in tip.routing["inboxes"]


# --- the merge: police needs evidence ----------------------------------------------------


def test_a_police_vote_without_evidence_is_review_not_police() -> None:
    guess = Vote(("threat",), "urgent", True, ("threat.intent",))
    merged = hooks.merge_votes([guess, None])
    assert not merged.police and merged.review and merged.priority == "high"
    proven = Vote(("threat",), "urgent", True, ("police.hit_list", "threat.hit_list"))
    merged = hooks.merge_votes([guess, proven])
    assert merged.police and not merged.review and merged.priority == "urgent"
    assert merged.evidence == ("police.hit_list",)
    assert merged.as_json()["review"] is False


def test_findings_reach_every_vote_through_the_hook() -> None:
    seen: list[frozenset[str]] = []

    class Finder:
        @hookimpl
        def tipline_findings(self, tip: TipDraft) -> list[str]:
            return ["extra.zorbel"] if "zorbel" in tip.text else []

    class Reader:
        @hookimpl
        def tipline_triage(self, tip: TipDraft, findings: frozenset[str]) -> Vote | None:
            seen.append(findings)
            return None

    pm = hooks.make_manager(load_entry_points=False)
    pm.register(Finder())
    pm.register(Reader())
    hooks.triage(pm, TipDraft("a zorbel", "unsure", None, datetime(2026, 1, 5, 10, 0, tzinfo=NY)))
    assert seen == [frozenset({"extra.zorbel"})]
