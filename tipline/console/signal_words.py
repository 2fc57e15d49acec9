"""Triage's signal names as short phrases for the tip list: what a busy team reads at a glance.

Names only the built-in plugins raise; any other name (a third-party plugin's) is shown as it
is. Phrases describe the kind of concern, never the tip's words.
"""

from __future__ import annotations

PHRASES: dict[str, str] = {
    "immediate.dispatch": "police now",
    "immediate.welfare": "welfare check now",
    "threat.weapon": "weapon mentioned",
    "threat.explosive": "explosive mentioned",
    "threat.intent": "intent to harm",
    "threat.mass_violence": "mass violence",
    "threat.hit_list": "hit list",
    "threat.preparation": "preparation under way",
    "threat.weapon_at_school": "weapon at school now",
    "threat.arson": "fire-setting",
    "threat.death_message": "death threat message",
    "threat.reported_threat": "threat reported",
    "threat.suicidal_ideation": "suicidal thoughts",
    "threat.warning": "warning to stay away",
    "threat.sextortion": "sextortion",
    "threat.hate_symbol": "hate symbol",
    "threat.time_or_place": "time or place given",
    "threat.target": "named target",
    "threat.online": "threat online",
    "threat.dated_weapon": "weapon with a date",
    "deib.race": "bias: race",
    "deib.national_origin": "bias: national origin",
    "deib.language": "bias: language",
    "deib.religion": "bias: religion",
    "deib.gender_identity": "bias: gender identity",
    "deib.sexual_orientation": "bias: sexual orientation",
    "deib.disability": "bias: disability",
    "deib.socioeconomic": "bias: socioeconomic status",
    "deib.body_type": "bias: body type",
    "deib.sex": "bias: sex",
    "deib.slur": "slur used",
    "deib.hate_symbol": "hate symbol",
    "deib.stereotype": "stereotyping",
    "deib.discrimination": "discrimination",
    "deib.bias_language": "biased language",
    "wellbeing.suicide_risk": "suicide risk",
    "wellbeing.self_harm": "self-harm",
    "wellbeing.abuse": "abuse disclosed",
    "wellbeing.crisis": "in crisis",
    "wellbeing.attempt_in_progress": "attempt in progress",
    "wellbeing.plan_tonight": "plan for tonight",
    "wellbeing.danger_now": "in danger now",
    "wellbeing.eating_disorder": "eating disorder",
    "wellbeing.neglect": "neglect",
    "wellbeing.told_to_self_harm": "told to self-harm",
    "wellbeing.grooming": "grooming",
    "cyberbullying.fake_account": "fake account",
    "cyberbullying.shared_private": "private content shared",
    "cyberbullying.harassment": "harassment",
    "cyberbullying.repeated_threats": "repeated threats",
    "cyberbullying.online_threats": "threats online",
    "cyberbullying.told_to_self_harm": "told to self-harm",
    "cyberbullying.sexual_images": "sexual images shared",
    "cyberbullying.sextortion": "sextortion",
    "cyberbullying.fight_video": "fight video",
    "cyberbullying.exclusion": "exclusion",
    "cyberbullying.bullying": "bullying",
    "cyberbullying.reported_bullying": "bullying reported",
    "model.threat": "model: threat",
    "model.deib": "model: bias",
    "model.cyberbullying": "model: cyberbullying",
    "model.wellbeing": "model: wellbeing",
    "model.police": "model: police",
}


def phrase(signal: str) -> str:
    """The short phrase for a signal name, or the name itself when it has none."""
    return PHRASES.get(signal, signal)


def phrases(signals: list[str]) -> list[str]:
    """Phrases in the tip's order, each once (two names can share one phrase)."""
    return list(dict.fromkeys(phrase(s) for s in signals))
