"""Fit the triage model in ``plugins/data/triage_model.json`` on labelled tips.

    pip install -e '.[train]'
    python tools/train_triage.py [--check] [labelled.jsonl ...]

Without paths it reads every ``tests/data/**/*.jsonl`` file except ``tests/data/holdout/``
(and never the district's ``dev.jsonl``): those stay measures. Each file is one author's
work, so every choice is made on out-of-fold scores with folds by author (scikit-learn's
``GroupKFold`` over files): the penalty (L2, or L1 that zeroes weights), its strength ``C``
and the minimum number of tips a feature must appear in (rarer ones are pruned), by mean
log-loss (the sparsest setting within 2% of the best); Platt scaling of each label's logit
into a calibrated probability; the probability at which the model may add a workflow the
rules missed; and the police bar, the lowest probability that no everyday message reached and
at most ``POLICE_FP`` of the police-false incident tips did. Files named ``*everyday*`` are
everyday messages (schedules, lost and found, venting, junk), scored apart from incident tips.

The run time is pure Python over the exported weights (only features with a weight); this
script alone needs scikit-learn (the ``train`` extra). Deterministic: the same files give the
same weights. The model records a fingerprint of its training files and of the code that
makes its features and rule outputs; ``--check`` (stdlib only) fails when that fingerprint no
longer matches, so a changed corpus, rule or feature cannot ship with a stale model.

Prints only figures, never tip text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from plugins import cyberbullying, deib, threat, wellbeing  # noqa: E402
from plugins._model import LABELS, MODEL_PATH, features  # noqa: E402
from plugins.triage import doc_for  # noqa: E402
from tipline.plugins import findings, make_manager, triage  # noqa: E402
from tipline.types import TipDraft  # noqa: E402

FOLDS = 5
# L1 was tried on this corpus and lost (out-of-fold log-loss 0.141 against 0.119): L2 only.
PENALTIES = ("l2",)
C_GRID = (0.3, 1.0, 3.0, 10.0)
MIN_DF_GRID = (3, 5)
# Pruning rarer features costs little: the highest ``min_df`` within this share of the best
# out-of-fold log-loss wins, for a smaller weights file that leans less on one author's words.
LOSS_TOLERANCE = 0.02
# The model may raise police on at most this share of the incident tips that should not reach
# police, out of fold; and on no everyday message at all.
POLICE_FP = 0.03
# A person is woken for review: at most this share of everyday messages may reach it.
REVIEW_EVERYDAY = 0.01
# The threat workflow may open on at most this share of everyday messages (rules and model).
THREAT_EVERYDAY = 0.01
# Weights under a cut are dropped from the file; the cut is the largest of these whose
# out-of-fold log-loss (fold models pruned the same way) stays within LOSS_TOLERANCE.
WEIGHT_CUTS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
# Weights are stored as integers in hundredths: the file is read by people in diffs too.
SCALE = 100
# Recall matters more than precision for the labels a missed tip can cost a life.
BETA = {"threat": 2.0, "wellbeing": 1.5, "deib": 1.0, "cyberbullying": 1.0}
WHEN = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Example:
    group: str
    everyday: bool  # from an everyday file and labelled neither threat, wellbeing nor police
    feats: tuple[str, ...]
    truth: tuple[bool, ...]
    rules: tuple[bool, ...]


def default_files() -> list[Path]:
    """Every labelled file under tests/data except the hold-out sets, kept to measure."""
    data = ROOT / "tests" / "data"
    return sorted(p for p in data.rglob("*.jsonl") if "holdout" not in p.relative_to(data).parts)


def load(paths: list[Path]) -> list[Example]:
    pm = make_manager(load_entry_points=False)
    for module in (threat, deib, cyberbullying, wellbeing):
        pm.register(module)
    examples = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            tip = TipDraft(row["text"], row.get("category", "unsure"), None, WHEN)
            got = triage(pm, tip)
            truth = tuple(label in row["workflows"] for label in LABELS[:-1]) + (bool(row["police"]),)
            rules = tuple(label in got.workflows for label in LABELS[:-1]) + (got.police,)
            feats = tuple(sorted(features(doc_for(tip), findings(pm, tip))))
            # A self-harm disclosure in an everyday file is an incident, not an everyday message.
            everyday = "everyday" in path.stem and not (truth[0] or truth[3] or truth[4])
            examples.append(Example(path.stem, everyday, feats, truth, rules))
    return examples


def _sk() -> Any:
    try:
        import numpy
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold
    except ImportError as exc:  # pragma: no cover - told, not crashed
        raise SystemExit("training needs scikit-learn: pip install -e '.[train]'") from exc
    return numpy, CountVectorizer, LogisticRegression, GroupKFold


def _vectoriser(min_df: int) -> Any:
    _, count_vectorizer, _, _ = _sk()
    return count_vectorizer(analyzer=lambda feats: feats, binary=True, min_df=min_df, lowercase=False)


def _fit(c: float, x: Any, y: Any, penalty: str = "l2") -> Any:
    _, _, logistic, _ = _sk()
    # scikit-learn 1.8 names the penalty by ``l1_ratio``: 1 is L1 (zeroes weights), 0 is L2.
    return logistic(C=c, l1_ratio=1.0 if penalty == "l1" else 0.0, solver="liblinear", max_iter=1000).fit(x, y)


def out_of_fold(examples: list[Example], penalty: str, c: float, min_df: int,
                cut: float = 0.0) -> list[list[float]]:
    """Logits per label for each tip from a model fit without its author's file; with
    ``cut``, from that model with every weight smaller than ``cut`` dropped."""
    numpy, _, _, group_k_fold = _sk()
    groups = [ex.group for ex in examples]
    y = numpy.array([ex.truth for ex in examples], dtype=int)
    docs = [ex.feats for ex in examples]
    logits = numpy.zeros((len(examples), len(LABELS)))
    for train, test in group_k_fold(n_splits=FOLDS).split(docs, groups=groups):
        vec = _vectoriser(min_df)
        x_train = vec.fit_transform([docs[i] for i in train])
        x_test = vec.transform([docs[i] for i in test])
        for k in range(len(LABELS)):
            fitted = _fit(c, x_train, y[train, k], penalty)
            if cut:
                coef = numpy.where(numpy.abs(fitted.coef_[0]) >= cut, numpy.round(fitted.coef_[0] * SCALE) / SCALE, 0.0)
                logits[test, k] = x_test @ coef + fitted.intercept_[0]
            else:
                logits[test, k] = fitted.decision_function(x_test)
    return [list(map(float, row)) for row in logits]


def log_loss(examples: list[Example], logits: list[list[float]]) -> float:
    total = 0.0
    for ex, row in zip(examples, logits, strict=True):
        for t, z in zip(ex.truth, row, strict=True):
            p = min(1 - 1e-9, max(1e-9, 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))))
            total -= math.log(p if t else 1 - p)
    return total / (len(examples) * len(LABELS))


def platt(examples: list[Example], logits: list[list[float]], k: int) -> tuple[float, float]:
    """Slope and intercept that turn label ``k``'s out-of-fold logit into a probability."""
    numpy, _, logistic, _ = _sk()
    x = numpy.array([[row[k]] for row in logits])
    y = numpy.array([ex.truth[k] for ex in examples], dtype=int)
    fitted = logistic(C=1e6, solver="lbfgs").fit(x, y)
    return float(fitted.coef_[0][0]), float(fitted.intercept_[0])


def _prob(z: float, scaling: tuple[float, float]) -> float:
    a, b = scaling
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, a * z + b))))


def f_beta(tp: int, fp: int, fn: int, beta: float) -> float:
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else 0.0


def pick_threshold(examples: list[Example], probs: list[list[float]], k: int) -> tuple[float, dict[str, float]]:
    """The probability that maximises F-beta of "rule or model" on incident tips, with the
    threat workflow held to ``THREAT_EVERYDAY`` of the everyday messages."""
    label = LABELS[k]
    incidents = [(ex, p[k]) for ex, p in zip(examples, probs, strict=True) if not ex.everyday]
    # Everyday messages that do not need the label: the ones it must not open on.
    everyday = [(ex, p[k]) for ex, p in zip(examples, probs, strict=True) if ex.everyday and not ex.truth[k]]

    def counts(cut: float) -> tuple[int, int, int]:
        tp = fp = fn = 0
        for ex, p in incidents:
            said = ex.rules[k] or p >= cut
            tp += said and ex.truth[k]
            fp += said and not ex.truth[k]
            fn += ex.truth[k] and not said
        return tp, fp, fn

    best = (-1.0, 1.01)
    for cut in [x / 100 for x in range(5, 100)] + [1.01]:
        if label == "threat" and everyday:
            opened = sum(ex.rules[k] or p >= cut for ex, p in everyday)
            if opened > THREAT_EVERYDAY * len(everyday):
                continue
        value = f_beta(*counts(cut), BETA[label])
        if value > best[0]:
            best = (value, cut)
    cut = best[1]
    tp, fp, fn = counts(cut)
    rule_tp, _, rule_fn = counts(2.0)
    return cut, {
        "rules_recall": round(rule_tp / max(1, rule_tp + rule_fn), 3),
        "recall": round(tp / max(1, tp + fn), 3),
        "precision": round(tp / max(1, tp + fp), 3),
        "everyday_opened": round(sum(ex.rules[k] or p >= cut for ex, p in everyday) / max(1, len(everyday)), 3),
    }


def pick_police(examples: list[Example], probs: list[list[float]]) -> tuple[float, float, dict[str, float]]:
    """The police bar: above every everyday message's probability and above all but
    ``POLICE_FP`` of the police-false incident tips'; and the review bar under it."""
    k = LABELS.index("police")
    everyday = sorted((p[k] for ex, p in zip(examples, probs, strict=True) if ex.everyday and not ex.truth[k]),
                      reverse=True)
    negatives = sorted((p[k] for ex, p in zip(examples, probs, strict=True) if not ex.everyday and not ex.truth[k]),
                       reverse=True)
    allowed = int(POLICE_FP * len(negatives))
    cut = max(everyday[0] if everyday else 0.0, negatives[allowed] if allowed < len(negatives) else 0.0)
    cut = min(1.01, round(cut + 0.005, 3))
    review = everyday[int(REVIEW_EVERYDAY * len(everyday))] if everyday else cut
    review = min(cut, round(max(0.2, review + 0.005), 3))
    incidents = [(ex, p[k]) for ex, p in zip(examples, probs, strict=True) if not ex.everyday]
    positives = [ex for ex, _ in incidents if ex.truth[k]]
    said = [(ex, ex.rules[k] or p >= cut) for ex, p in incidents]
    return cut, review, {
        "rules_recall": round(sum(ex.rules[k] for ex in positives) / max(1, len(positives)), 3),
        "recall": round(sum(s for ex, s in said if ex.truth[k]) / max(1, len(positives)), 3),
        "false_positive_rate": round(sum(s for ex, s in said if not ex.truth[k]) / max(1, len(negatives)), 3),
        "model_false_positive_rate": round(sum(p >= cut for p in negatives) / max(1, len(negatives)), 3),
        "everyday_police": sum(p >= cut for p in everyday),
        "everyday_review": round(sum(p >= review for p in everyday) / max(1, len(everyday)), 3),
    }


# The code whose change alters features, rule outputs or fitting.
SOURCES = ("tools/train_triage.py", "plugins/_model.py", "plugins/triage", "plugins/threat.py",
           "plugins/deib.py", "plugins/cyberbullying.py", "plugins/wellbeing.py", "tipline/plugins.py")


def fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    code: list[Path] = []
    for source in SOURCES:
        path = ROOT / source
        code += sorted(path.glob("*.py")) if path.is_dir() else [path]
    for path in [*code, *sorted(paths)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def build(paths: list[Path]) -> dict[str, object]:
    numpy, _, _, _ = _sk()
    examples = load(paths)
    print(f"{len(examples)} tips from {len(paths)} files", file=sys.stderr)
    search = {}
    for penalty in PENALTIES:
        for c in C_GRID:
            for min_df in MIN_DF_GRID:
                logits = out_of_fold(examples, penalty, c, min_df)
                search[(penalty, c, min_df)] = (log_loss(examples, logits), logits)
                print(f"{penalty} C={c:<5} min_df={min_df}: out-of-fold log-loss "
                      f"{search[(penalty, c, min_df)][0]:.4f}", file=sys.stderr)
    best = min(loss for loss, _ in search.values())
    # The sparsest within tolerance: L1 before L2, then more pruning, then the lower loss.
    penalty, c, min_df = max((key for key in search if search[key][0] <= best * (1 + LOSS_TOLERANCE)),
                             key=lambda key: (key[0] == "l1", key[2], -search[key][0]))
    floor, oof = search[(penalty, c, min_df)]
    weight_cut = 0.0
    for cut in WEIGHT_CUTS:
        logits = out_of_fold(examples, penalty, c, min_df, cut)
        loss = log_loss(examples, logits)
        print(f"weights under {cut} dropped: out-of-fold log-loss {loss:.4f}", file=sys.stderr)
        if loss > floor * (1 + LOSS_TOLERANCE):
            break
        weight_cut, oof = cut, logits
    scaling = [platt(examples, oof, k) for k in range(len(LABELS))]
    probs = [[_prob(z, scaling[k]) for k, z in enumerate(row)] for row in oof]
    thresholds, report = [], {}
    for k, label in enumerate(LABELS[:-1]):
        cut, figures = pick_threshold(examples, probs, k)
        thresholds.append(cut)
        report[label] = figures
    police_cut, review_cut, report["police"] = pick_police(examples, probs)
    vec = _vectoriser(min_df)
    x = vec.fit_transform([ex.feats for ex in examples])
    y = numpy.array([ex.truth for ex in examples], dtype=int)
    fits = [_fit(c, x, y[:, k], penalty) for k in range(len(LABELS))]
    names = vec.get_feature_names_out()
    coef = numpy.vstack([f.coef_[0] for f in fits]).T
    cut = max(weight_cut, 0.5 / SCALE)
    kept = {str(name): [round(float(w) * SCALE) if abs(w) >= cut else 0 for w in row]
            for name, row in zip(names, coef, strict=True) if float(numpy.abs(row).max()) >= cut}
    return {
        "labels": list(LABELS),
        "fingerprint": fingerprint(paths),
        "trained_on": {p.relative_to(ROOT).as_posix(): sum(ex.group == p.stem for ex in examples) for p in paths},
        "chosen": {"penalty": penalty, "C": c, "min_df": min_df, "weight_cut": weight_cut,
                   "features_before_pruning": len({f for ex in examples for f in ex.feats}),
                   "features": len(kept)},
        "out_of_fold": report,
        "scale": SCALE,
        "bias": [round(float(f.intercept_[0]), 4) for f in fits],
        "scaling": [[round(a, 4), round(b, 4)] for a, b in scaling],
        "thresholds": thresholds,
        "police_cut": police_cut,
        "review_cut": review_cut,
        "weights": dict(sorted(kept.items())),
    }


def dump(model: dict[str, object]) -> str:
    """JSON with one feature per line, so a refit reads as a diff of the weights it moved."""
    weights = model["weights"]
    assert isinstance(weights, dict)
    head = json.dumps({k: v for k, v in model.items() if k != "weights"}, indent=1, ensure_ascii=True)
    rows = ",\n".join(f"{json.dumps(f, ensure_ascii=True)}: {json.dumps(w)}" for f, w in weights.items())
    return head[:-2] + ',\n "weights": {\n' + rows + "\n }\n}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the shipped model is stale, without refitting")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or default_files()
    if args.check:
        shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8")).get("fingerprint")
        if shipped != fingerprint(paths):
            print(f"{MODEL_PATH.relative_to(ROOT)} is stale: its training files or the code behind its "
                  "features changed; run python tools/train_triage.py", file=sys.stderr)
            return 1
        print(f"{MODEL_PATH.relative_to(ROOT)} matches its training files and code")
        return 0
    model = build(paths)
    text = dump(model)
    thresholds = model["thresholds"]
    assert isinstance(thresholds, list)
    for label, figures in dict(model["out_of_fold"]).items():  # type: ignore[call-overload]
        cut = thresholds[LABELS.index(label)] if label != "police" else model["police_cut"]
        print(f"{label:<14} threshold {cut:>6}  {figures}")
    print(f"chosen: {model['chosen']}; review cut {model['review_cut']}")
    MODEL_PATH.parent.mkdir(exist_ok=True)
    MODEL_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
