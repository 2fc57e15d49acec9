"""A statistical second reader: labels the rules missed, from a model of labelled tips.

It never removes what a rule found; it adds a workflow when the model in ``plugins._model``
gives a calibrated probability past that label's threshold, chosen on tips from authors the
model was not fit on. It reads the rules' concept names through the ``findings`` the core
gathers from every plugin's ``tipline_findings`` hook, so it imports no other plugin and
weighs what a third-party workflow plugin finds too.

Police from the model needs its probability past ``police_cut``, a bar no everyday message
reached out of fold; the vote names it as ``police.model_probability``. Between
``review_cut`` and that bar, and for a threat it opens without police, it asks for review.
Its signals name what it added (``model.threat``...), so staff see that a model, not a named
rule, raised the tip. Junk ("test", "hi", "?", emoji only) gets no vote at all. It contributes
no workflow of its own; drop it with ``TIPLINE_PLUGINS`` to triage by the rules alone.
"""

from __future__ import annotations

from plugins._model import LABELS, features, load
from plugins.triage import Doc, doc_for
from tipline.hookspecs import hookimpl
from tipline.types import TipDraft, Vote

_HIGH = frozenset({"threat", "wellbeing"})
_WORKFLOWS = LABELS[:-1]
# Fewer words than this, and no rule found anything: a test message, a greeting, a stray key.
_JUNK_WORDS = 3
# Read the weights when the app loads its plugins, not on a reporter's first tip.
load()
SIGNALS = frozenset({"model." + label for label in LABELS}
                    | {"immediate.dispatch", "immediate.welfare", "police.model_probability"})


def junk(doc: Doc) -> bool:
    """True for a message with too few words to report anything."""
    return sum(any(c.isalpha() for c in tok) for tok in doc.text.split(" ")) < _JUNK_WORDS


@hookimpl(trylast=True)
def tipline_triage(tip: TipDraft, findings: frozenset[str]) -> Vote | None:
    doc = doc_for(tip)
    if not findings and junk(doc):
        return None
    model = load()
    probs = model.probabilities(features(doc, findings))
    found = {label for label, p, cut in zip(_WORKFLOWS, probs, model.thresholds, strict=False) if p >= cut}
    police_p = probs[LABELS.index("police")]
    if "threat.sporting" in findings:
        # The rules recognised hunting or a sport and weighed it already; a rifle and a
        # Saturday in a deer-season post are not a plan, whatever the words' weights say.
        found.discard("threat")
        police_p = 0.0
    police = police_p >= model.police_cut
    review = not police and (police_p >= model.review_cut or "threat" in found)
    if not found and not police and not review:
        return None
    signals = {"model." + label for label in found}
    workflows = set(found)
    if police:
        # Police means a weapon or a plan, or a life at risk now: the likelier of the two
        # decides whether routing asks for dispatch or a welfare check.
        kind = "wellbeing" if probs[LABELS.index("wellbeing")] > probs[LABELS.index("threat")] else "threat"
        workflows.add(kind)
        signals |= {"model.police", "police.model_probability",
                    "immediate.welfare" if kind == "wellbeing" else "immediate.dispatch"}
    priority = "urgent" if police else "high" if workflows & _HIGH or review else "normal"
    return Vote(workflows=tuple(sorted(workflows)), priority=priority, police=police,
                signals=tuple(sorted(signals)), review=review)
