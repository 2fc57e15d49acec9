"""A linear model of the labelled tips: the words the rules have not been taught yet.

The rules in the workflow plugins explain themselves and rarely fire wrongly, but every
round of unseen tips brings wording they miss: a medicine's name, a euphemism for abuse, a
Spanish verb form, a weapon described without its name. This model reads the same
normalised text the rules read (slang expanded, figurative uses neutralised, negated words
marked) and scores each label with one logistic regression over words, word pairs and word
stems. ``tools/train_triage.py`` fits it with scikit-learn (regularisation and rare-feature
pruning chosen by cross-validation with folds by author), calibrates each score into a
probability on tips from authors held out of each fit, and picks there the probability at
which it may add a label the rules did not give, and the police bar.

Pure stdlib and a dictionary lookup per feature at run time (no numpy in web workers), so it
costs a small part of the rules' time. The weights file holds words from made-up training
tips, never a real report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from plugins.triage import (
    AMMO,
    BLADE,
    EXPLOSIVE,
    GUN,
    HATE_SYMBOL,
    ONLINE,
    PERSON,
    PLACE,
    SELF,
    SUICIDE,
    TIME,
    Doc,
    pattern,
)

LABELS = ("threat", "deib", "cyberbullying", "wellbeing", "police")
MODEL_PATH = Path(__file__).with_name("data") / "triage_model.json"
# Words this long are also counted by their first letters, so "amenazando" and "amenazo",
# or "threatend" and "threatened", share evidence.
_STEM_FROM = 6
_STEM = 5


# The rules' word classes, so evidence learned for one gun, time or place word carries to the
# others the rules know: a tip naming a "draco" and "3rd period" reads like one naming a rifle
# and a Friday. Same patterns as the plugins', so their matches are already memoised.
_CLASSES = tuple((name, pattern(source)) for name, source in (
    ("gun", GUN), ("blade", BLADE), ("ammo", AMMO), ("explosive", EXPLOSIVE), ("person", PERSON),
    ("time", TIME), ("place", PLACE), ("online", ONLINE), ("hate", HATE_SYMBOL), ("suicide", SUICIDE),
    ("self", SELF),
))
_WEAPONS = frozenset({"gun", "blade", "ammo", "explosive"})


def _classes(doc: Doc) -> set[str]:
    found = {name for name, rule in _CLASSES if any(not doc.negated(*span) for span in rule.find(doc))}
    if found & _WEAPONS:
        found.add("weapon")
        found.update("weapon&" + other for other in ("time", "place", "person") if other in found)
    if "suicide" in found and "time" in found:
        found.add("suicide&time")
    return {"k:" + name for name in found}


def features(doc: Doc, findings: Iterable[str] = ()) -> set[str]:
    """The binary features of one analysed tip. Negated words carry a ``~``; ``findings``
    are the rules' concept names for the tip, so the model can weigh partial evidence a rule
    needed more of (a weapon and a day, but no one named).

    The reporter's category is left out: it is only a hint, and a model that leaned on it
    would open the threat workflow for "shooting hoops" filed under threat.
    """
    feats = _classes(doc)
    feats.update("r:" + name for name in findings)
    scopes = doc.scopes
    prev = "^"
    for tok, start in zip(doc.text.split(" "), doc.starts, strict=False):
        if not tok:
            continue
        if scopes and any(s <= start < e for s, e in scopes):
            tok = "~" + tok
        feats.add(tok)
        feats.add(prev + " " + tok)
        if len(tok) >= _STEM_FROM:
            feats.add(tok[:_STEM] + "*")
        prev = tok
    return feats


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Model:
    """Per-label weights and bias (logits), the Platt scaling that turns each logit into a
    calibrated probability, the probability at which each workflow is voted, and the police
    bar: ``police_cut`` (no everyday message and at most 3% of police-false incident tips
    reached it out of fold) and the lower ``review_cut`` where a person must look."""

    weights: dict[str, tuple[float, ...]]
    bias: tuple[float, ...]
    scaling: tuple[tuple[float, float], ...]
    thresholds: tuple[float, ...]
    police_cut: float = 1.01
    review_cut: float = 1.01

    def scores(self, feats: Iterable[str]) -> list[float]:
        """Logits, one per label in ``LABELS`` order."""
        get = self.weights.get
        rows = [w for w in map(get, feats) if w is not None]
        if not rows:
            return list(self.bias)
        # Transposed, each label's column sums in C rather than a Python loop per feature.
        return [b + sum(column) for b, column in zip(self.bias, zip(*rows, strict=True), strict=True)]

    def probabilities(self, feats: Iterable[str]) -> list[float]:
        """Calibrated probabilities, one per label in ``LABELS`` order."""
        return [_sigmoid(a * z + b) for z, (a, b) in zip(self.scores(feats), self.scaling, strict=True)]


def from_json(data: dict[str, object]) -> Model:
    labels = data["labels"]
    if labels != list(LABELS):
        raise ValueError(f"model labels {labels!r} are not {list(LABELS)!r}")
    raw_weights = data["weights"]
    raw_bias = data["bias"]
    raw_scaling = data["scaling"]
    raw_thresholds = data["thresholds"]
    assert isinstance(raw_weights, dict) and isinstance(raw_bias, list) and isinstance(raw_thresholds, list)
    assert isinstance(raw_scaling, list)
    scale = float(data.get("scale", 1))  # type: ignore[arg-type]
    weights = {str(k): tuple(float(x) / scale for x in v) for k, v in raw_weights.items()}
    return Model(weights, tuple(float(x) for x in raw_bias),
                 tuple((float(a), float(b)) for a, b in raw_scaling),
                 tuple(float(x) for x in raw_thresholds),
                 float(data["police_cut"]), float(data["review_cut"]))  # type: ignore[arg-type]


@cache
def load(path: Path = MODEL_PATH) -> Model:
    """The shipped model, read once per process."""
    return from_json(json.loads(path.read_text(encoding="utf-8")))
