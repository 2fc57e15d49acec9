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

from plugins._model import MODEL_PATH
from plugins.triage import doc as triage_doc
from plugins.triage import normalise
from plugins.triage import rules as triage_rules
from tipline.plugins import triage, workflows
from tipline.types import POLICE_EVIDENCE, TipDraft, Triage

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
    """Regression floors since issue 9 (tests/data/README.md): each set on its own, a little
    under what the evidence-gated triage scores (threat recall 0.96-1.00, police recall
    0.88-0.96, police on 1-5% of police-false tips, macro-F1 0.92-0.96). 25-odd police tips a
    set make one tip 4 points, so the sets together carry the tighter floors, below."""
    cases = bench.load(path)
    assert len(cases) == 100
    s = bench.score(cases, [triage(pm, c.tip) for c in cases])
    assert s.threat_hit / s.threat_total >= 0.95, "threat recall"
    assert s.police_hit / s.police_total >= 0.88, "police recall"
    assert s.police_false / s.not_police_total <= 0.06, "police on tips that should not go to police"
    assert bench.macro_f1(s) >= 0.9, "macro-F1 over the four workflows"


def test_hold_out_sets_together_meet_the_floors(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    """The four sets together (400 tips): threat recall 0.973 (109/112), police recall 0.922
    (94/102), police on 3.0% (9/298) of police-false tips when the floors were set."""
    cases = [c for path in HOLDOUT_FILES for c in bench.load(path)]
    s = bench.score(cases, [triage(pm, c.tip) for c in cases])
    assert s.threat_hit / s.threat_total >= 0.97, "threat recall"
    assert s.police_hit / s.police_total >= 0.92, "police recall"
    assert s.police_false / s.not_police_total <= 0.035, "police on tips that should not go to police"
    assert bench.macro_f1(s) >= 0.93, "macro-F1 over the four workflows"


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
    assert normalise("He's gonna sh00t up the skool 2morrow 🔫") == (
        "he is going to shoot up the school tomorrow gun")
    assert normalise("Mañana, kms!!!") == "manana , kill myself !"
    assert normalise("killlll at 3:30pm in 4th period") == "kill at 3:30pm in 4th period"


def test_negation_scope() -> None:
    doc = triage_doc.analyse("he said he would never bring a gun, but he has a knife")
    gun, knife = doc.text.index("gun"), doc.text.index("knife")
    assert doc.negated(gun, gun + 3)
    assert not doc.negated(knife, knife + 5)


def test_analysis_does_not_outlive_the_tip(pm: pluggy.PluginManager) -> None:
    tip = TipDraft(text="he has a gun in his locker", category="other", school=None, submitted_at=WHEN)
    key = id(tip)
    triage(pm, tip)
    assert key in triage_doc._DOCS  # shared by the plugins while the tip lives
    del tip
    gc.collect()
    # Other tests' tips may come and go meanwhile; this one's analysis must be gone.
    assert key not in triage_doc._DOCS or "gun" not in triage_doc._DOCS[key].words


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
    ungated = [src[:60] for src, p in triage_rules._PATTERNS.items() if p._gate is None]
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


# --------------------------------------------------------------------------------------
# The regex pre-filter never skips a real match.


def corpus_texts() -> list[str]:
    data = Path(__file__).resolve().parent / "data"
    paths = sorted(data.rglob("*.jsonl")) + ([DEV] if DEV.exists() else [])
    texts = [json.loads(line)["text"] for p in paths for line in p.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return texts + EVIDENCE_CASES_TEXTS


EVIDENCE_CASES_TEXTS = [
    "a paper with 9 names on it and 'these ppl wont make it to june'",
    "'n***** die' on the dugout and a real noose in the shed",
    "lol we blew up his house with tnt in minecraft",
]


def test_prefilter_skips_only_patterns_that_cannot_match(pm: pluggy.PluginManager) -> None:
    """Exhaustive over every labelled tip: wherever the pre-filter says a pattern cannot match
    a tip (and so skips its scan), the regex itself finds nothing there."""
    assert len(triage_rules._PATTERNS) > 100
    skipped = 0
    for text in corpus_texts():
        doc = triage_doc.analyse(text)
        for source, compiled in triage_rules._PATTERNS.items():
            if not compiled.possible(doc):
                skipped += 1
                assert compiled._rx.search(doc.text) is None, (source[:80], text)
    assert skipped > 100_000  # the filter does skip most scans


def test_rule_findings_are_the_same_without_the_prefilter(pm: pluggy.PluginManager,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every concept the rules find with every pattern scanned is found with the pre-filter on."""
    from tipline.plugins import findings

    texts = corpus_texts()[::10]  # every tenth tip: scanning every pattern of every tip is slow
    gated = [findings(pm, TipDraft(t, "unsure", None, WHEN)) for t in texts]
    monkeypatch.setattr(triage_rules.Pattern, "possible", lambda self, doc: True)
    ungated = [findings(pm, TipDraft(t, "unsure", None, WHEN)) for t in texts]
    assert gated == ungated
    assert sum(bool(f) for f in gated) > len(texts) // 2


# --------------------------------------------------------------------------------------
# Police needs evidence; review; junk. The examples are the ones issue 9 quotes.


@pytest.mark.parametrize("text", ["test", "hello", "x", "?", "hi", "🙂🙂", "💩", "..", "asdfghjkl", "ok thanks"])
def test_junk_goes_to_the_general_inbox_at_low_priority(pm: pluggy.PluginManager, text: str) -> None:
    for category in ("threat", "unsure"):
        result = run(pm, text, category)
        assert result.workflows == () and result.priority == "low"
        assert not result.police and not result.review


@pytest.mark.parametrize("text", [
    "found a kid's lunchbox with a dinosaur on it at the bus stop",
    "lol we blew up his house with tnt in minecraft",
    "bringing my water pistol for field day friday",
    "coach posted the list of kids who made varsity outside the gym doors",
])
def test_everyday_messages_quoted_in_the_issue_stay_calm(pm: pluggy.PluginManager, text: str) -> None:
    result = run(pm, text, "threat")
    assert "threat" not in result.workflows and not result.police and not result.review


@pytest.mark.parametrize(("text", "evidence"), [
    ("a paper with 9 names on it and 'these ppl wont make it to june'", "police.hit_list"),
    ("'n***** die' on the dugout and a real noose in the shed", "police.identity_death_threat"),
    ("somebody drew a noose on the desk of the only black kid in our science class", "police.identity_death_threat"),
    ("theres a kid in the bathroom with a knife rn", "police.weapon_at_school"),
    ("a boy says he'll post her pics unless she sends more", "police.sextortion"),
    ("someone airdropped a nude pic of a freshman girl to the whole bus", "police.minor_images"),
    ("my friend has her mom's pills and says she will kms tonight", "police.danger_now"),
    ("he said he will bring a gun on monday and shoot the teachers", "police.weapon_at_school"),
])
def test_police_carries_its_evidence(pm: pluggy.PluginManager, text: str, evidence: str) -> None:
    result = run(pm, text)
    assert result.police and evidence in result.signals and not result.review
    assert evidence in result.evidence


def test_bias_without_a_threat_of_violence_opens_deib_only(pm: pluggy.PluginManager) -> None:
    result = run(pm, "someone drew a swastika on the bathroom stall on the 2nd floor")
    assert result.workflows == ("deib",) and not result.police and not result.review


def test_threat_short_of_evidence_is_marked_for_review(pm: pluggy.PluginManager) -> None:
    result = run(pm, "kevin told people he's going to fight sam after the game")
    assert result.workflows == ("threat",) and not result.police and result.review


def test_every_police_mark_names_evidence(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    for text in labelled_texts(bench):
        result = run(pm, text)
        assert not (result.police and result.review)
        if result.police:
            assert set(result.evidence) <= set(POLICE_EVIDENCE) and result.evidence


EVERYDAY_FILES = tuple(sorted((Path(__file__).resolve().parent / "data" / "corpus").glob("*everyday*.jsonl")))


def test_everyday_messages_floors(bench: ModuleType, pm: pluggy.PluginManager) -> None:
    """Everyday messages (trained on, so a regression floor, not a measure): never police,
    junk never opens a workflow, the threat workflow and review stay rare."""
    cases = [c for path in EVERYDAY_FILES for c in bench.load(path) if c.everyday]
    assert len(cases) >= 1000
    results = [triage(pm, c.tip) for c in cases]
    assert sum(r.police for r in results) == 0
    junk = [r for c, r in zip(cases, results, strict=True) if bench.junk(c.tip.text)]
    assert len(junk) >= 40 and not any(r.workflows or r.review for r in junk)
    assert sum("threat" in r.workflows for r in results) <= 0.01 * len(results)
    assert sum(r.review for r in results) <= 0.02 * len(results)


def test_wilson_interval() -> None:
    bench = triage_eval()
    low, high = bench.wilson(0, 100)
    assert low == 0.0 and 0.03 < high < 0.04
    low, high = bench.wilson(95, 100)
    assert 0.88 < low < 0.89 and 0.97 < high < 0.99
    assert bench.language("he said he will bring a gun") == "english"
    assert bench.language("dice que va a traer una pistola a la escuela") == "spanish"
    assert bench.language("my friend dice que se quiere morir and she has the pills in her bag") == "mixed"


@pytest.mark.parametrize("text", [
    "some kids called my son the n word at lunch and laughed",
    "a boy keeps telling my daughter to go back to mexico, here is the screenshot",
    "kids in gym keep calling the autistic boy slow and retarded",
    "someone drew a swastika on the bathroom stall",
    "the teacher keeps misgendering my child on purpose",
    "they said all muslims are terrorists in class and the teacher didnt stop it",
])
def test_bias_speech_without_violence_opens_deib_not_threat(pm: pluggy.PluginManager, text: str) -> None:
    result = run(pm, text, "bias")
    assert "deib" in result.workflows and "threat" not in result.workflows
    assert not result.police and not result.review
