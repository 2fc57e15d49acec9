"""What the triage tests share: the four workflow plugins on a manager, and the scoring that
bench/triage_eval.py prints, loaded from there so tests and bench measure the same thing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pluggy

from plugins import cyberbullying, deib, learned, threat, wellbeing
from tipline.plugins import make_manager

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "triage" / "dev.jsonl"
HELDOUT = ROOT / "tests" / "data" / "triage_heldout.jsonl"
# A second held-out set, written after the rules were tuned on fresh batches, in the same style.
HELDOUT2 = ROOT / "tests" / "data" / "triage_heldout2.jsonl"
# Blind sets written by an author who never saw the rules, kept as a regression set once the
# rules were tuned on them.
BLIND = ROOT / "tests" / "data" / "triage_blind.jsonl"
HELDOUT_FILES = (HELDOUT, HELDOUT2, BLIND)
# Written by four authors who never saw the rules or the model, each pair scored before it
# was tuned against, and kept out of the model's training.
HOLDOUT_FILES = tuple(sorted((ROOT / "tests" / "data" / "holdout").glob("*.jsonl")))
WORKFLOW_PLUGINS = (threat, deib, cyberbullying, wellbeing)
# The product triages with the rules and the model that reads what they miss.
TRIAGE_PLUGINS = (*WORKFLOW_PLUGINS, learned)


def triage_manager() -> pluggy.PluginManager:
    """A manager with the triage plugins, registered by hand: the package need not be
    installed for its entry points."""
    pm = make_manager(load_entry_points=False)
    for module in TRIAGE_PLUGINS:
        pm.register(module)
    return pm


def rules_manager() -> pluggy.PluginManager:
    """The four workflow plugins without the model: what the rules alone decide."""
    pm = make_manager(load_entry_points=False)
    for module in WORKFLOW_PLUGINS:
        pm.register(module)
    return pm


def triage_eval() -> ModuleType:
    """bench/triage_eval.py, for its case loading and scoring."""
    spec = importlib.util.spec_from_file_location("triage_eval", ROOT / "bench" / "triage_eval.py")
    if spec is None or spec.loader is None:
        raise ImportError("bench/triage_eval.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
