"""Fit the triage model in ``plugins/data/triage_model.json`` on labelled tips.

    python tools/train_triage.py [--check] [labelled.jsonl ...]

Without paths it reads every ``tests/data/**/*.jsonl`` file except ``tests/data/holdout/``
(and never the district's ``dev.jsonl``): those stay measures. Each file is one author's work, so thresholds are
picked on out-of-fold scores where each file is scored by a model fit without it: the score
at which the model may add a label is one that held up on an author it had not read. The
thresholds for ``police`` are those that add police to at most ``POLICE_ADDED_FP`` of the tips
that should not reach police, beyond what the rules already raise.

Deterministic: the same files give the same weights. The model records a fingerprint of its
training files and of the code that makes its features and rule outputs; ``--check`` fails
when that fingerprint no longer matches, so a changed corpus, rule or feature cannot ship
with a stale model (retraining takes about half a minute).

Prints only figures, never tip text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from plugins import cyberbullying, deib, learned, threat, wellbeing  # noqa: E402
from plugins._model import HEADS, LABELS, MODEL_PATH, Model, features  # noqa: E402
from plugins._text import analyse  # noqa: E402
from tipline.plugins import make_manager, triage  # noqa: E402
from tipline.types import TipDraft  # noqa: E402

EPOCHS = 25
RATE = 0.3
L2 = 1e-5
MIN_COUNT = 1
SETTLED = 0.01
FOLDS = 5
# The model may raise police on at most this share of the tips that should not reach police,
# beyond what the rules already raise there.
POLICE_ADDED_FP = 0.02
# Recall matters more than precision for the labels a missed tip can cost a life.
BETA = {"threat": 2.0, "wellbeing": 1.5, "deib": 1.0, "cyberbullying": 1.0}
SEED = 20261123
WHEN = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Example:
    group: str
    feats: frozenset[str]
    truth: tuple[bool | None, ...]
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
            doc = analyse(row["text"])
            tip = TipDraft(row["text"], row.get("category", "unsure"), None, WHEN)
            got = triage(pm, tip)
            labels = tuple(label in row["workflows"] for label in LABELS[:-1]) + (bool(row["police"]),)
            danger = labels[0] or labels[3]
            truth = (*labels, labels[4] if danger else None)
            rules = tuple(label in got.workflows for label in LABELS[:-1]) + (got.police,)
            examples.append(Example(path.stem, frozenset(features(doc, learned.findings(doc))),
                                    truth, rules))
    return examples


def fit(examples: list[Example]) -> tuple[dict[str, list[float]], list[float]]:
    """Logistic regression per label by AdaGrad with L2, in a fixed order."""
    counts: dict[str, int] = {}
    for ex in examples:
        for f in ex.feats:
            counts[f] = counts.get(f, 0) + 1
    vocab = {f for f, n in counts.items() if n >= MIN_COUNT}
    n = len(HEADS)
    weights: dict[str, list[float]] = {f: [0.0] * n for f in sorted(vocab)}
    squares: dict[str, list[float]] = {f: [1e-8] * n for f in vocab}
    bias, bias_sq = [0.0] * n, [1e-8] * n
    rows = [(sorted(ex.feats & vocab), ex.truth) for ex in examples]
    order = list(range(len(rows)))
    rng = random.Random(SEED)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            feats, truth = rows[i]
            ws = [weights[f] for f in feats]
            sqs = [squares[f] for f in feats]
            for k in range(n):
                t = truth[k]
                if t is None:
                    continue  # the conditional head learns only from threats and crises
                z = bias[k] + sum(w[k] for w in ws)
                g = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - t
                if -SETTLED < g < SETTLED:
                    continue  # already right: most examples after the first epochs
                bias_sq[k] += g * g
                bias[k] -= RATE * g / math.sqrt(bias_sq[k])
                for w, sq in zip(ws, sqs, strict=True):
                    grad = g + L2 * w[k]
                    sq[k] += grad * grad
                    w[k] -= RATE * grad / math.sqrt(sq[k])
    return weights, bias


def out_of_fold(examples: list[Example]) -> list[list[float]]:
    """Each author's tips scored by a model fit without that author (authors dealt into
    ``FOLDS`` folds by size, so each fit leaves out a share of the corpus)."""
    sizes: dict[str, int] = {}
    for ex in examples:
        sizes[ex.group] = sizes.get(ex.group, 0) + 1
    loads = [0] * FOLDS
    fold_of: dict[str, int] = {}
    for group in sorted(sizes, key=lambda g: (-sizes[g], g)):
        fold = loads.index(min(loads))
        fold_of[group] = fold
        loads[fold] += sizes[group]
    scores: list[list[float]] = [[] for _ in examples]
    for fold in range(FOLDS):
        weights, bias = fit([ex for ex in examples if fold_of[ex.group] != fold])
        model = Model({f: tuple(w) for f, w in weights.items()}, tuple(bias), ())
        for i, ex in enumerate(examples):
            if fold_of[ex.group] == fold:
                # Sorted, so the sums (and the thresholds read off them) do not vary with
                # the order a set happens to iterate in.
                scores[i] = model.scores(sorted(ex.feats))
    return scores


def f_beta(tp: int, fp: int, fn: int, beta: float) -> float:
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) if tp else 0.0


def _counts(examples: list[Example], scores: list[list[float]], k: int, cut: float) -> tuple[int, int, int]:
    """True positives, false positives and misses of "rule or model past ``cut``" for head ``k``."""
    tp = fp = fn = 0
    for ex, s in zip(examples, scores, strict=True):
        said = ex.rules[k] or s[k] >= cut
        tp += said and bool(ex.truth[k])
        fp += said and not ex.truth[k]
        fn += bool(ex.truth[k]) and not said
    return tp, fp, fn


def pick_threshold(examples: list[Example], scores: list[list[float]], k: int) -> tuple[float, dict[str, float]]:
    """The cut that maximises F-beta of "rule or model" on out-of-fold scores (a workflow)."""
    label = LABELS[k]
    candidates = sorted({round(s[k], 2) for s in scores} | {99.0})
    best: tuple[float, float] = (-1.0, 99.0)
    for cut in candidates:
        value = f_beta(*_counts(examples, scores, k, cut), BETA[label])
        if value > best[0] or (value == best[0] and cut > best[1]):
            best = (value, cut)
    cut = best[1]
    tp, fp, fn = _counts(examples, scores, k, cut)
    rule_tp, _, rule_fn = _counts(examples, scores, k, float("inf"))
    return cut, {
        "rules_recall": round(rule_tp / max(1, rule_tp + rule_fn), 3),
        "recall": round(tp / max(1, tp + fn), 3),
        "precision": round(tp / max(1, tp + fp), 3),
        "false_positive_rate": round(fp / max(1, sum(not ex.truth[k] for ex in examples)), 3),
    }


def pick_police(examples: list[Example], scores: list[list[float]],
                thresholds: list[float]) -> tuple[float, float, float, dict[str, float]]:
    """Police cut, danger margin and conditional cut with the best recall while adding police
    to at most ``POLICE_ADDED_FP`` of the tips that should not reach police."""
    negatives = sum(not ex.truth[4] for ex in examples)
    positives = len(examples) - negatives
    rows = [(ex.rules[4], s[4], max(s[0] - thresholds[0], s[3] - thresholds[3]), s[5], bool(ex.truth[4]))
            for ex, s in zip(examples, scores, strict=True)]
    allowed = sum(rule and not truth for rule, *_, truth in rows) + POLICE_ADDED_FP * negatives
    half = [x / 2 for x in range(-4, 16)]
    best: tuple[int, int, float, float, float] = (-1, 0, 99.0, 99.0, 99.0)
    for cut in [*half[4:], 99.0]:
        for margin in half[:13]:
            for cond in [*half, 99.0]:
                tp = fp = 0
                for rule, police, danger, conditional, truth in rows:
                    if rule or police >= cut or (danger >= margin and conditional >= cond):
                        tp += truth
                        fp += not truth
                if fp <= allowed and (tp, -fp) > best[:2]:
                    best = (tp, -fp, cut, margin, cond)
    tp, minus_fp, cut, margin, cond = best
    rule_tp = sum(rule and truth for rule, _, _, _, truth in rows)
    return cut, margin, cond, {
        "rules_recall": round(rule_tp / max(1, positives), 3),
        "recall": round(tp / max(1, positives), 3),
        "precision": round(tp / max(1, tp - minus_fp), 3),
        "false_positive_rate": round(-minus_fp / max(1, negatives), 3),
    }


# The code whose change alters features, rule outputs or fitting.
SOURCES = ("tools/train_triage.py", "plugins/_model.py", "plugins/_text.py", "plugins/threat.py",
           "plugins/deib.py", "plugins/cyberbullying.py", "plugins/wellbeing.py", "plugins/learned.py")


def fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in [*(ROOT / s for s in SOURCES), *sorted(paths)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def build(paths: list[Path]) -> dict[str, object]:
    examples = load(paths)
    oof = out_of_fold(examples)
    thresholds, report = [], {}
    for k, label in enumerate(LABELS[:-1]):
        cut, figures = pick_threshold(examples, oof, k)
        thresholds.append(cut)
        report[label] = figures
    police_cut, margin, cond, report["police"] = pick_police(examples, oof, thresholds)
    thresholds.append(police_cut)
    weights, bias = fit(examples)
    kept = {f: [round(x, 4) for x in w] for f, w in weights.items() if max(abs(x) for x in w) >= 0.005}
    return {
        "labels": list(HEADS),
        "fingerprint": fingerprint(paths),
        "trained_on": {p.relative_to(ROOT).as_posix(): sum(ex.group == p.stem for ex in examples) for p in paths},
        "out_of_fold": report,
        "bias": [round(x, 4) for x in bias],
        "thresholds": thresholds,
        "danger": {"margin": margin, "cut": cond},
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    for label, figures in model["out_of_fold"].items():  # type: ignore[attr-defined]
        print(f"{label:<14} threshold {model['thresholds'][LABELS.index(label)]:>6}  {figures}")  # type: ignore[index]
    print(f"danger head: {model['danger']}; features kept: {len(model['weights'])}")  # type: ignore[arg-type]
    MODEL_PATH.parent.mkdir(exist_ok=True)
    MODEL_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
