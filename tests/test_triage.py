"""Triage by the four workflow plugins: floors on the labelled tips, figurative and negated
language, signal names, police marks, and the workflow definitions."""

# ruff: noqa: S101 -- pytest reports through assert; the project's config ignores S101 too.

from __future__ import annotations

import gc
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pluggy
import pytest
from triage_support import DEV, HELDOUT_FILES, HOLDOUT_FILES, TRIAGE_PLUGINS, rules_manager, triage_eval, triage_manager

from plugins import _text
from plugins._model import MODEL_PATH
from tipline.plugins import triage, workflows
from tipline.types import TipDraft, Triage

WHEN = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
DEFINED_SIGNALS = frozenset().union(*(m.SIGNALS for m in TRIAGE_PLUGINS))


@pytest.fixture(scope="module")
def pm() -> pluggy.PluginManager:
    return triage_manager()


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return triage_eval()


def run(pm: pluggy.PluginManager, text: str, category: str = "unsure") -> Triage:
    return triage(pm, TipDraft(text=text, category=category, school=None, submitted_at=WHEN))


# --------------------------------------------------------------------------------------
# Floors on labelled tips.


def floors(bench: ModuleType, pm: pluggy.PluginManager, path: Path) -> None:
    cases = bench.load(path)
    results = [triage(pm, c.tip) for c in cases]
    s = bench.score(cases, results)
    assert s.threat_total and s.police_total and s.not_police_total
    assert s.threat_hit / s.threat_total >= 0.95, "threat recall"
    assert s.police_hit / s.police_total >= 0.95, "police recall"
    assert s.police_false / s.not_police_total <= 0.05, "police on tips that should not go to police"
    assert bench.macro_f1(s) >= 0.85, "macro-F1 over the four workflows"


@pytest.mark.skipif(not DEV.exists(), reason="the shared development set is not next to this checkout")
def test_development_set_floors(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    floors(bench, pm, DEV)


@pytest.mark.parametrize("path", HELDOUT_FILES, ids=lambda p: p.name)
def test_held_out_set_floors(bench: ModuleType, pm: pluggy.PluginManager, path: Path) -> None:
    assert len(bench.load(path)) >= 40
    floors(bench, pm, path)


@pytest.mark.parametrize("path", HOLDOUT_FILES, ids=lambda p: p.name)
def test_hold_out_set_floors(bench: ModuleType, pm: pluggy.PluginManager, path: Path) -> None:
    """Each unseen set on its own, with floors a little under its first scores (threat
    recall 0.93-1.00, police recall 0.92-0.96, macro-F1 0.91-0.94): a change that loses
    ground on unseen wording fails here. 25-odd police tips a set make one tip 4 points,
    so the issue's own targets are held on the sets together, below."""
    cases = bench.load(path)
    assert len(cases) == 100
    s = bench.score(cases, [triage(pm, c.tip) for c in cases])
    assert s.threat_hit / s.threat_total >= 0.9, "threat recall"
    assert s.police_hit / s.police_total >= 0.9, "police recall"
    assert s.police_false / s.not_police_total <= 0.08, "police on tips that should not go to police"
    assert bench.macro_f1(s) >= 0.9, "macro-F1 over the four workflows"


def test_hold_out_sets_together_meet_the_targets(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    """The issue's targets on the 400 unseen tips: threat and police recall 0.95, police on at
    most 5% of police-false tips, macro-F1 0.85."""
    cases = [c for path in HOLDOUT_FILES for c in bench.load(path)]
    s = bench.score(cases, [triage(pm, c.tip) for c in cases])
    assert s.threat_hit / s.threat_total >= 0.95, "threat recall"
    assert s.police_hit / s.police_total >= 0.95, "police recall"
    assert s.police_false / s.not_police_total <= 0.05, "police on tips that should not go to police"
    assert bench.macro_f1(s) >= 0.85, "macro-F1 over the four workflows"


def test_hold_out_sets_are_not_trained_on() -> None:
    assert len(HOLDOUT_FILES) == 4
    trained = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["trained_on"]
    assert not any("holdout" in name for name in trained)


# --------------------------------------------------------------------------------------
# Figurative language and negation.


@pytest.mark.parametrize("text", [
    "this test is killing me lol",
    "our team is going to murder them in the championship",
    "we're gonna destroy westfield at homecoming",
    "shooting hoops after school with my cousin",
    "the drama club absolutely slayed at the show",
    "i'd die for a better cafeteria menu",
    "we watched a documentary about school shootings in health class",
    "in history we discussed racism and the civil rights movement",
    "ngl i'm dead 💀💀 the sub fell asleep",
    "my mom is going to kill me if i forget my lunch again",
    "the fire drill went fine, nobody got hurt",
    "the school play uses a fake gun prop",
])
def test_figurative_language_opens_nothing(pm: pluggy.PluginManager, text: str) -> None:
    result = run(pm, text, category="threat")
    assert result.workflows == () and not result.police


def test_never_bringing_a_gun_is_not_a_threat(pm: pluggy.PluginManager) -> None:
    negated = run(pm, "he said he would never bring a gun to school")
    assert "threat" not in negated.workflows and not negated.police
    meant = run(pm, "he said he would bring a gun to school tomorrow")
    assert "threat" in meant.workflows and meant.police


def test_negation_ends_with_its_clause(pm: pluggy.PluginManager) -> None:
    result = run(pm, "he said he'd never bring a gun but today he showed me bullets in his backpack")
    assert "threat" in result.workflows and result.police


@pytest.mark.parametrize(("text", "workflow"), [
    ("i'm not kidding, he's gonna shoot up the school on friday", "threat"),
    ("she doesn't want to be alive anymore", "wellbeing"),
    ("mi amiga ya no quiere vivir", "wellbeing"),
    ("the blind student never gets the handouts in braille", "deib"),
])
def test_negations_that_are_the_report_still_count(
    pm: pluggy.PluginManager, text: str, workflow: str,
) -> None:
    assert workflow in run(pm, text).workflows


def test_told_to_kill_himself_puts_the_target_at_risk_not_a_threat(pm: pluggy.PluginManager) -> None:
    result = run(pm, "kids keep texting my son to go kill himself")
    assert set(result.workflows) == {"cyberbullying", "wellbeing"}
    assert "wellbeing.suicide_risk" not in result.signals


def test_category_is_only_a_hint(pm: pluggy.PluginManager) -> None:
    for category in ("threat", "bullying", "bias", "crisis", "other", "unsure"):
        assert run(pm, "the stairwell light has been out for weeks", category).workflows == ()
    # Where the text is borderline, the reporter's pick tips the rules (the model, which
    # leans to opening a threat for a weapon, ignores the pick).
    rules = rules_manager()
    assert run(rules, "a kid had a knife at the park last summer", "threat").workflows == ("threat",)
    assert run(rules, "a kid had a knife at the park last summer", "other").workflows == ()


# --------------------------------------------------------------------------------------
# Signals, police marks and priorities.


def labelled_texts(bench: ModuleType) -> list[str]:
    paths = [p for p in (DEV, *HELDOUT_FILES) if p.exists()]
    return [c.tip.text for p in paths for c in bench.load(p)]


def test_signals_are_defined_names_never_text(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", s) for s in DEFINED_SIGNALS)
    seen: set[str] = set()
    for text in labelled_texts(bench) + ["zqxv said zqxv will bring a gun tmrw to zqxv's class 🔫"]:
        signals = set(run(pm, text).signals)
        assert signals <= DEFINED_SIGNALS, f"undefined signals {signals - DEFINED_SIGNALS}"
        assert not any("zqxv" in s for s in signals)
        seen |= signals
    assert {"threat.weapon", "threat.hit_list", "wellbeing.suicide_risk", "deib.slur"} <= seen


def test_police_votes_name_dispatch_or_welfare(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    marked = 0
    for text in labelled_texts(bench):
        result = run(pm, text)
        if result.police:
            marked += 1
            assert {"immediate.dispatch", "immediate.welfare"} & set(result.signals)
            assert result.priority == "urgent"
        elif "threat" in result.workflows:
            assert result.priority == "high"
    assert marked >= 10


@pytest.mark.parametrize(("text", "signal"), [
    ("theres a kid in the bathroom with a knife rn", "immediate.dispatch"),
    ("a boy says he'll post her pics unless she sends more", "immediate.dispatch"),
    ("someone airdropped a nude pic of a freshman girl to the whole bus", "immediate.dispatch"),
    ("my friend has her mom's pills and says she will kms tonight", "immediate.welfare"),
    ("my friend told me her stepdad hits her", "immediate.welfare"),
])
def test_immediate_police(pm: pluggy.PluginManager, text: str, signal: str) -> None:
    result = run(pm, text)
    assert result.police and signal in result.signals


@pytest.mark.parametrize(("text", "signal"), [
    # Word classes rather than sentences: any medicine in bulk, any plan set beside the means.
    ("she swallowed a whole bottle of her mom's blood pressure meds", "immediate.welfare"),
    ("he sent me a pic of a bottle of pills and said he's doing it when his parents leave", "immediate.welfare"),
    ("my little sister says her babysitter plays secret games with her", "immediate.welfare"),
    ("someone texted the group chat a pic of an ar15 with the caption friday 10am", "immediate.dispatch"),
    ("a guy on discord says he'll send my pics to everyone unless i pay him in gift cards", "immediate.dispatch"),
])
def test_immediate_police_by_word_class(pm: pluggy.PluginManager, text: str, signal: str) -> None:
    result = run(pm, text)
    assert result.police and signal in result.signals


@pytest.mark.parametrize("text", [
    "she took her meds this morning and felt better",
    "he took like 3 advil for his headache",
    "grandma says it hurts when she walks",
    "my brother has a beef sandwich at lunch every day",
    "he posted a pic of his deer rifle saying opening day is saturday",
    "the coach said we're gonna kill em at the pep rally lol",
    "Emily posted on her private story that she loves the new coach",
])
def test_everyday_words_near_the_new_classes_stay_calm(pm: pluggy.PluginManager, text: str) -> None:
    assert not run(pm, text).police


def test_threat_without_weapon_is_not_for_police(pm: pluggy.PluginManager) -> None:
    result = run(pm, "kevin told people he's going to fight sam after the game")
    assert result.workflows == ("threat",) and not result.police and result.priority == "high"


def test_spanish_and_slang(pm: pluggy.PluginManager) -> None:
    assert run(pm, "dijeron q van a traer una pistola el viernes").police
    assert run(pm, "sum1 keeps makin fake accts of my sis on tiktok").workflows == ("cyberbullying",)
    assert run(pm, "le gritan 'ilegal' a mi sobrino en el recreo").workflows == ("deib",)
    assert run(pm, "he said he'll sh00t up the skool 2morrow 🔫").police


# --------------------------------------------------------------------------------------
# Text analysis.


def test_normalise_resolves_slang_leet_emoji_and_accents() -> None:
    assert _text.normalise("He's gonna sh00t up the skool 2morrow 🔫") == (
        "he is going to shoot up the school tomorrow gun")
    assert _text.normalise("Mañana, kms!!!") == "manana , kill myself !"
    assert _text.normalise("killlll at 3:30pm in 4th period") == "kill at 3:30pm in 4th period"


def test_negation_scope() -> None:
    doc = _text.analyse("he said he would never bring a gun, but he has a knife")
    gun, knife = doc.text.index("gun"), doc.text.index("knife")
    assert doc.negated(gun, gun + 3)
    assert not doc.negated(knife, knife + 5)


def test_analysis_does_not_outlive_the_tip(pm: pluggy.PluginManager) -> None:
    tip = TipDraft(text="he has a gun in his locker", category="other", school=None, submitted_at=WHEN)
    key = id(tip)
    triage(pm, tip)
    assert key in _text._DOCS  # shared by the plugins while the tip lives
    del tip
    gc.collect()
    # Other tests' tips may come and go meanwhile; this one's analysis must be gone.
    assert key not in _text._DOCS or "gun" not in _text._DOCS[key].words


# --------------------------------------------------------------------------------------
# Workflow definitions.

ROLES = {
    "threat": ("school-admin", "threat-team", "sro"),
    "deib": ("school-admin", "deib"),
    "cyberbullying": ("school-admin", "counselor"),
    "wellbeing": ("school-admin", "counselor"),
}


def records(pm: pluggy.PluginManager, key: str) -> dict[str, tuple[str, tuple[str, ...], str]]:
    wf = workflows(pm)[key]
    return {r.key: (r.kind, r.options, r.help) for step in wf.steps for r in step.records}


def test_every_workflow_has_steps_that_keep_records(pm: pluggy.PluginManager) -> None:
    defined = workflows(pm)
    assert set(defined) == set(ROLES)
    for key, wf in defined.items():
        assert wf.roles == ROLES[key]
        assert len(wf.steps) >= 4 and wf.title
        assert len({s.key for s in wf.steps}) == len(wf.steps)
        for step in wf.steps:
            assert step.title and step.guidance and step.records, f"{key}.{step.key}"
            for field in step.records:
                assert field.kind in ("choice", "multi", "text", "bool", "date")
                assert bool(field.options) == (field.kind in ("choice", "multi")), f"{key}.{field.key}"


def test_threat_workflow_keeps_the_cstag_records(pm: pluggy.PluginManager) -> None:
    kept = records(pm, "threat")
    assert kept["classification"][:2] == (
        "choice", ("transient", "serious substantive", "very serious substantive"))
    assert kept["credibility"][0] == "multi" and len(kept["credibility"][1]) == 8
    assert any("preparatory" in o for o in kept["credibility"][1])
    assert kept["actions"][0] == "multi" and any("law enforcement" in o for o in kept["actions"][1])
    assert kept["communications"][0] == "multi"
    assert {"false threat", "swatting / hoax"} <= set(kept["outcome"][1])


def test_deib_workflow_keeps_the_seven_steps(pm: pluggy.PluginManager) -> None:
    wf = workflows(pm)["deib"]
    assert [s.title for s in wf.steps] == [
        "Prioritizing safety", "Gathering facts", "Educational response", "Communication with stakeholders",
        "Consequences and accountability", "Restoration and healing", "Reflection and improvement",
    ]
    kept = records(pm, "deib")
    assert kept["bias_types"][0] == "multi"
    assert {"race", "religion", "disability", "language", "body type"} <= set(kept["bias_types"][1])
    assert kept["infraction"][0] == "choice" and kept["infraction"][1]
    assert kept["consequence"][0] == "choice" and kept["consequence"][1]
    assert kept["restorative_conference"][0] == "bool"


def test_wellbeing_reminds_staff_the_mandated_report_is_theirs(pm: pluggy.PluginManager) -> None:
    wf = workflows(pm)["wellbeing"]
    step = next(s for s in wf.steps if s.key == "mandated_report")
    assert "child protective services" in step.title.lower()
    assert "yourself" in step.guidance and "own duty" in step.guidance
    assert any(s.key == "welfare_check" for s in wf.steps)


def test_cyberbullying_workflow_covers_evidence_and_police(pm: pluggy.PluginManager) -> None:
    kept = records(pm, "cyberbullying")
    assert {"evidence_kept", "police_referred", "follow_up_on", "platforms"} <= set(kept)
    assert "Sextortion" in kept["police_reason"][1]


def test_every_pattern_is_gated() -> None:
    # A pattern whose first word cannot be read off its source scans every tip; keeping
    # them all gated is what keeps triage in the thousands of tips a second.
    ungated = [src[:60] for src, p in _text._PATTERNS.items() if p._gate is None]
    assert ungated == []


@pytest.mark.parametrize("text", [
    "at a party rn and he drank a ton and wont wake up",
    "she is not breathing, her lips are blue",
    "mi amigo tomo algo en el baño y no respira",
    "a girl is cutting herself in the band room bathroom and there's blood all over the floor",
    "se esta cortando ahorita en el baño de niñas",
])
def test_a_body_failing_now_gets_a_welfare_check(text: str) -> None:
    result = run(rules_manager(), text)
    assert "wellbeing" in result.workflows and result.police
    assert "immediate.welfare" in result.signals


@pytest.mark.parametrize("text", [
    "my brother will not wake up for school lol",
    "my dad is not breathing well with his cold",
    "she has panic attacks and says she can't breathe before tests",
    "mi amiga se está cortando otra vez, dice que está bien",
    "his mom doesn't wake up in the mornings so he gets himself to school",
])
def test_everyday_sleep_and_breath_stay_off_the_police_line(text: str) -> None:
    assert not run(rules_manager(), text).police


@pytest.mark.parametrize("text", [
    "he keeps asking which doors stay propped and when the sro takes lunch and says everyone will pay",
    "he has a gun at home and keeps asking how long it takes the police to come",
    "en el grupo alguien mando foto de un cuerno de chivo y escribio 'el lunes en la cafeteria'",
])
def test_scouting_or_gun_slang_beside_a_threat_is_preparation(text: str) -> None:
    result = run(rules_manager(), text)
    assert "threat" in result.workflows and result.police


@pytest.mark.parametrize("text", [
    "my son asked how long it takes police to come when you call 911, for his civics report",
    "she googled evacuation routes for the fire drill project",
    "he bought body armor for airsoft",
])
def test_curiosity_about_police_or_gear_alone_is_not_a_plan(text: str) -> None:
    assert not run(rules_manager(), text).police
