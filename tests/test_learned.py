"""The model that adds labels the rules missed: the shipped weights, how its votes read, and
that it never takes away what a rule found."""

# ruff: noqa: S101 -- pytest reports through assert; the project's config ignores S101 too.

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from triage_support import ROOT, triage_manager

from plugins import _model, learned
from plugins.triage import analyse
from tipline.plugins import make_manager, triage
from tipline.types import TipDraft, Vote

WHEN = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)


def tip(text: str, category: str = "unsure") -> TipDraft:
    return TipDraft(text=text, category=category, school=None, submitted_at=WHEN)


def toy(weights: dict[str, tuple[float, ...]], thresholds: tuple[float, ...] = (0.5,) * 4,
        police_cut: float = 0.9, review_cut: float = 0.6) -> _model.Model:
    return _model.Model(weights=weights, bias=(-5.0,) * 5, scaling=((1.0, 0.0),) * 5, thresholds=thresholds,
                        police_cut=police_cut, review_cut=review_cut)


@pytest.fixture
def use_model(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(model: _model.Model) -> None:
        monkeypatch.setattr(learned, "load", lambda: model)
    return install


def vote(text: str) -> Vote | None:
    return learned.tipline_triage(tip(text), frozenset())


def test_shipped_model_loads_and_names_its_labels() -> None:
    model = _model.load()
    assert len(model.bias) == len(_model.LABELS) and len(model.thresholds) == len(_model.LABELS) - 1
    assert len(model.scaling) == len(_model.LABELS)
    assert all(len(w) == len(_model.LABELS) for w in model.weights.values())
    raw = json.loads(_model.MODEL_PATH.read_text(encoding="utf-8"))
    assert raw["labels"] == list(_model.LABELS)
    # Trained on the project's labelled files only: the district's dev set stays a measure.
    assert raw["trained_on"] and not any("dev.jsonl" in name for name in raw["trained_on"])
    # Pruned and regularised: a quarter of the 40,835 features and a sixth of the 2 MB it had.
    assert 1000 < len(model.weights) < 12_000
    assert _model.MODEL_PATH.stat().st_size < 400_000
    # The police bar sits above the review bar, and both are probabilities.
    assert 0.0 < model.review_cut <= model.police_cut <= 1.0


def test_probabilities_are_calibrated_logits() -> None:
    model = toy({"zorbel": (5.0, 0.0, 0.0, 0.0, 0.0)})
    probs = model.probabilities({"zorbel"})
    assert probs[0] == pytest.approx(0.5) and probs[1] == pytest.approx(1 / (1 + math.exp(5)))


def test_wrong_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        _model.from_json({"labels": ["threat"], "weights": {}, "bias": [0], "scaling": [], "thresholds": [0],
                          "police_cut": 1, "review_cut": 1})


def test_features_mark_negation_and_stems() -> None:
    feats = _model.features(analyse("he did not bring the gun, he is threatening everyone"))
    assert "~bring" in feats and "bring" not in feats
    assert "threatening" in feats and "threa*" in feats
    assert "^ he" in feats


def test_model_threat_vote_names_the_model_and_asks_for_review(use_model) -> None:  # type: ignore[no-untyped-def]
    use_model(toy({"zorbel": (8.0, 0.0, 0.0, 0.0, 0.0)}))
    got = vote("the zorbel thing again today")
    assert got is not None
    assert got.workflows == ("threat",) and not got.police and got.review
    assert got.signals == ("model.threat",) and got.priority == "high"
    assert vote("nothing here at all") is None


@pytest.mark.parametrize(("weights", "workflow", "signal"), [
    ({"zorbel": (7.0, 0.0, 0.0, 5.5, 10.0)}, "threat", "immediate.dispatch"),
    ({"zorbel": (5.5, 0.0, 0.0, 7.0, 10.0)}, "wellbeing", "immediate.welfare"),
])
def test_model_police_names_its_probability_as_evidence(use_model, weights, workflow, signal) -> None:  # type: ignore[no-untyped-def]
    use_model(toy(weights, thresholds=(0.99,) * 4))
    got = vote("zorbel zorbel zorbel")
    assert got is not None and got.police and got.priority == "urgent" and not got.review
    assert workflow in got.workflows and signal in got.signals
    assert {"model.police", "police.model_probability"} <= set(got.signals)


def test_model_police_short_of_the_bar_is_review_not_police(use_model) -> None:  # type: ignore[no-untyped-def]
    # Probability 0.73: past the review bar (0.6), short of the police bar (0.9).
    use_model(toy({"zorbel": (0.0, 0.0, 0.0, 0.0, 6.0)}, thresholds=(0.99,) * 4))
    got = vote("zorbel zorbel zorbel")
    assert got is not None and not got.police and got.review and got.workflows == ()
    result = triage(triage_manager(), tip("zorbel zorbel zorbel"))
    assert result.review and not result.police


def test_junk_gets_no_model_vote(use_model) -> None:  # type: ignore[no-untyped-def]
    use_model(toy({}, thresholds=(0.0,) * 4, police_cut=0.0, review_cut=0.0))
    for text in ("test", "hello", "x", "?", "🙂🙂"):
        assert vote(text) is None
    assert vote("this is a longer message") is not None


def test_model_never_removes_what_a_rule_found(use_model) -> None:  # type: ignore[no-untyped-def]
    use_model(toy({}, thresholds=(1.01,) * 4, police_cut=1.01, review_cut=1.01))
    result = triage(triage_manager(), tip("he said he will bring his dad's gun to school tomorrow"))
    assert "threat" in result.workflows and result.police
    assert not any(s.startswith("model.") for s in result.signals)


def test_learned_imports_no_other_plugin() -> None:
    """The model reads the rules' findings through the hook, never by importing them."""
    tree = ast.parse((ROOT / "plugins" / "learned.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {m for m in imported if m.startswith("plugins")} <= {"plugins._model", "plugins.triage"}
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and node.module == "plugins" for alias in node.names}
    assert names == set()


def test_rules_only_when_plugins_restricted() -> None:
    pm = make_manager(["threat", "deib", "cyberbullying", "wellbeing"])
    assert "learned" not in {name for name, _ in pm.list_name_plugin()}
    assert "learned" in {name for name, _ in make_manager().list_name_plugin()}


def test_shipped_model_is_what_the_corpus_trains() -> None:
    """A changed corpus, rule, feature or setting cannot ship with stale weights."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "train_triage.py"), "--check"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert "matches" in done.stdout
