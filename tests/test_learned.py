"""The model that adds labels the rules missed: the shipped weights, how its votes read, and
that it never takes away what a rule found."""

# ruff: noqa: S101 -- pytest reports through assert; the project's config ignores S101 too.

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from triage_support import ROOT, triage_manager

from plugins import _model, learned
from plugins._text import analyse
from tipline.plugins import make_manager, triage
from tipline.types import TipDraft

WHEN = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)


def tip(text: str, category: str = "unsure") -> TipDraft:
    return TipDraft(text=text, category=category, school=None, submitted_at=WHEN)


def toy(weights: dict[str, tuple[float, ...]], thresholds: tuple[float, ...] = (0.0,) * 5,
        margin: float = 99.0, cut: float = 99.0) -> _model.Model:
    return _model.Model(weights=weights, bias=(-1.0,) * 6, thresholds=thresholds, danger_margin=margin,
                        danger_cut=cut)


@pytest.fixture
def use_model(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(model: _model.Model) -> None:
        monkeypatch.setattr(learned, "load", lambda: model)
    return install


def test_shipped_model_loads_and_names_its_labels() -> None:
    model = _model.load()
    assert len(model.bias) == len(_model.HEADS) and len(model.thresholds) == len(_model.LABELS)
    assert len(model.weights) > 1000
    assert all(len(w) == len(_model.HEADS) for w in model.weights.values())
    raw = json.loads(_model.MODEL_PATH.read_text(encoding="utf-8"))
    assert raw["labels"] == list(_model.HEADS)
    # Trained on the project's labelled files only: the district's dev set stays a measure.
    assert raw["trained_on"] and not any("dev.jsonl" in name for name in raw["trained_on"])


def test_wrong_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        _model.from_json({"labels": ["threat"], "weights": {}, "bias": [0], "thresholds": [0], "danger": {}})


def test_features_mark_negation_and_stems() -> None:
    feats = _model.features(analyse("he did not bring the gun, he is threatening everyone"))
    assert "~bring" in feats and "bring" not in feats
    assert "threatening" in feats and "threa*" in feats
    assert "^ he" in feats


def test_model_vote_adds_workflow_with_model_signal(use_model) -> None:  # type: ignore[no-untyped-def]
    use_model(toy({"zorbel": (3.0, 0.0, 0.0, 0.0, 0.0, 0.0)}))
    vote = learned.tipline_triage(tip("the zorbel thing again"))
    assert vote is not None
    assert vote.workflows == ("threat",) and not vote.police
    assert vote.signals == ("model.threat",) and vote.priority == "high"
    assert learned.tipline_triage(tip("nothing here")) is None


@pytest.mark.parametrize(("weights", "workflow", "signal"), [
    ({"zorbel": (2.0, 0.0, 0.0, 0.5, 3.0, 0.0)}, "threat", "immediate.dispatch"),
    ({"zorbel": (0.5, 0.0, 0.0, 0.8, 3.0, 0.0)}, "wellbeing", "immediate.welfare"),
])
def test_model_police_says_which_kind(use_model, weights, workflow, signal) -> None:  # type: ignore[no-untyped-def]
    use_model(toy(weights, thresholds=(5.0, 5.0, 5.0, 5.0, 1.0)))
    vote = learned.tipline_triage(tip("zorbel"))
    assert vote is not None and vote.police and vote.priority == "urgent"
    assert workflow in vote.workflows and signal in vote.signals and "model.police" in vote.signals


def test_conditional_head_adds_police_only_for_a_threat_or_crisis(use_model) -> None:  # type: ignore[no-untyped-def]
    # The police head alone stays under its cut; the conditional head is past its own.
    use_model(toy({"zorbel": (3.0, 0.0, 0.0, 0.0, 0.0, 4.0), "quib": (-2.0, 0.0, 0.0, 0.0, 0.0, 4.0)},
                  thresholds=(1.0, 5.0, 5.0, 5.0, 5.0), margin=0.5, cut=2.0))
    vote = learned.tipline_triage(tip("zorbel"))
    assert vote is not None and vote.police and "immediate.dispatch" in vote.signals
    # Not a threat or a crisis by the model: the conditional head says nothing.
    assert learned.tipline_triage(tip("quib")) is None


def test_model_never_removes_what_a_rule_found(use_model) -> None:  # type: ignore[no-untyped-def]
    use_model(toy({}, thresholds=(99.0,) * 5))
    result = triage(triage_manager(), tip("he said he will bring his dad's gun to school tomorrow"))
    assert "threat" in result.workflows and result.police
    assert not any(s.startswith("model.") for s in result.signals)


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
