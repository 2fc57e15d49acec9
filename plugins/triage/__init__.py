"""Shared text analysis for the workflow plugins, one concern per module.

Tips arrive as students and parents type them on phones: lower case, slang, typos, emojis,
English and Spanish mixed. Every plugin reads the same normalised form of a tip, so slang,
figurative language and negation are handled once instead of drifting apart in four copies.
Pure stdlib; every pattern is compiled at import.

Pipeline: ``normalise`` (emoji, accents, contractions, leet, stretched letters, slang) ->
``figurative`` guards (benign uses replaced by a neutral token) -> ``negation`` scopes ->
``doc.Doc`` (cached per tip object). Plugins then run named ``rules.Matcher`` rules over the
``Doc``; ``prefilter`` lets a rule skip a tip holding none of the words its matches can start
at. ``vocabulary`` and ``shared`` hold the word classes and rules more than one plugin reads.

This package is a library the plugins import, not a plugin: it registers no hooks.
"""

from plugins.triage.doc import Doc, analyse, doc_for
from plugins.triage.normalise import normalise
from plugins.triage.rules import AnyOf, Matcher, Near, Pattern, Rule, overlaps, pattern, remembered
from plugins.triage.shared import SEXTORTION, TOLD_TO_DIE
from plugins.triage.vocabulary import (
    AMMO,
    BLADE,
    EXPLOSIVE,
    GUN,
    HATE_SYMBOL,
    ONLINE,
    PERSON,
    PLACE,
    RESOLVED,
    SELF,
    SLUR,
    SUICIDE,
    SUICIDE_NEGATIVE,
    TIME,
    WEAPON,
    gap,
    near,
    words,
)

__all__ = [
    "AMMO", "BLADE", "EXPLOSIVE", "GUN", "HATE_SYMBOL", "ONLINE", "PERSON", "PLACE", "RESOLVED", "SELF", "SEXTORTION",
    "SLUR",
    "SUICIDE", "SUICIDE_NEGATIVE", "TIME", "TOLD_TO_DIE", "WEAPON", "AnyOf", "Doc", "Matcher", "Near", "Pattern",
    "Rule", "analyse", "doc_for", "gap", "near", "normalise", "overlaps", "pattern", "remembered", "words",
]
