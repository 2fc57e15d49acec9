"""A statistical second reader: labels the rules missed, from a model of labelled tips.

It never removes what a rule found; it adds a workflow or the police mark when the model in
``plugins._model`` is confident past a threshold chosen on tips from authors it was not fit
on. Its signals name the label it added (``model.threat``, ``model.police``), so the console
shows staff that a model, not a named rule, raised the tip. It contributes no workflow of its
own; drop it with ``TIPLINE_PLUGINS`` to triage by the rules alone.
"""

from __future__ import annotations

from plugins import cyberbullying, deib, threat, wellbeing
from plugins._model import LABELS, features, load
from plugins._text import Doc, doc_for
from tipline.hookspecs import hookimpl
from tipline.types import TipDraft, Vote

_HIGH = frozenset({"threat", "wellbeing"})
# Read the weights (half a second) when the app loads its plugins, not on a reporter's first tip.
load()
SIGNALS = frozenset({"model." + label for label in LABELS} | {"immediate.dispatch", "immediate.welfare"})


def findings(doc: Doc) -> set[str]:
    """Every workflow plugin's concept names for a tip, as ``workflow.concept``."""
    return {f"{m.KEY}.{c}" for m in (threat, deib, cyberbullying, wellbeing) for c in m.concepts(doc)}


@hookimpl(trylast=True)
def tipline_triage(tip: TipDraft) -> Vote | None:
    model = load()
    doc = doc_for(tip)
    seen = findings(doc)
    scores = model.scores(features(doc, seen))
    found = model.labels(scores)
    if "threat.sporting" in seen:
        # The rules recognised hunting or a sport and weighed it already; a rifle and a
        # Saturday in a deer-season post are not a plan, whatever the words' weights say.
        found -= {"threat", "police"}
    if not found:
        return None
    signals = {"model." + label for label in found}
    police = "police" in found
    workflows = found - {"police"}
    if police:
        # Police means a weapon or a plan, or a life at risk now: the likelier of the two
        # decides whether routing asks for dispatch or a welfare check.
        threat_score, wellbeing_score = scores[LABELS.index("threat")], scores[LABELS.index("wellbeing")]
        kind = "wellbeing" if wellbeing_score > threat_score else "threat"
        workflows.add(kind)
        signals.add("immediate.welfare" if kind == "wellbeing" else "immediate.dispatch")
    priority = "urgent" if police else "high" if workflows & _HIGH else "normal"
    return Vote(workflows=tuple(sorted(workflows)), priority=priority, police=police,
                signals=tuple(sorted(signals)))
