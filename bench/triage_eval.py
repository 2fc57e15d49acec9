"""Score the four workflow plugins' triage against labelled tips, and time it.

    python bench/triage_eval.py [--rules-only] [--no-misses] [path.jsonl ...]

Without paths it reads ../shared/triage/dev.jsonl (relative to the repo root) and
tests/data/triage_heldout.jsonl. Each file is scored on its own: threat recall, police
recall, the police rate on tips that should not go to police, per-workflow precision,
recall and F1 with their macro mean, and every miss (``--no-misses`` keeps a blind set's
text unread). Then tips per second on one core. ``--rules-only`` leaves out the model
(``plugins/learned.py``) to show what it adds.

The miss listing prints the development tips' text: these are made-up cases for tuning,
never real reports. Nothing else here prints tip text.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pluggy  # noqa: E402

from plugins import cyberbullying, deib, learned, threat, wellbeing  # noqa: E402
from tipline.plugins import make_manager, triage  # noqa: E402
from tipline.types import TipDraft, Triage  # noqa: E402

WORKFLOWS = ("threat", "deib", "cyberbullying", "wellbeing")
DEFAULT_FILES = (
    ROOT.parent / "shared" / "triage" / "dev.jsonl",
    ROOT / "tests" / "data" / "triage_heldout.jsonl",
)
SECONDS = 2.0


@dataclass(frozen=True)
class Case:
    id: str
    tip: TipDraft
    workflows: frozenset[str]
    police: bool


@dataclass
class Score:
    cases: int = 0
    threat_hit: int = 0
    threat_total: int = 0
    police_hit: int = 0
    police_total: int = 0
    police_false: int = 0
    not_police_total: int = 0
    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WORKFLOWS, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WORKFLOWS, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WORKFLOWS, 0))


def manager(rules_only: bool = False) -> pluggy.PluginManager:
    pm = make_manager(load_entry_points=False)
    for module in (threat, deib, cyberbullying, wellbeing) + (() if rules_only else (learned,)):
        pm.register(module)
    return pm


def load(path: Path) -> list[Case]:
    when = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        tip = TipDraft(text=row["text"], category=row.get("category", "unsure"), school=None,
                       submitted_at=when)
        cases.append(Case(row["id"], tip, frozenset(row["workflows"]), bool(row["police"])))
    return cases


def ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(cases: list[Case], results: list[Triage]) -> Score:
    s = Score(cases=len(cases))
    for case, got in zip(cases, results, strict=True):
        opened = set(got.workflows)
        if "threat" in case.workflows:
            s.threat_total += 1
            s.threat_hit += "threat" in opened
        if case.police:
            s.police_total += 1
            s.police_hit += got.police
        else:
            s.not_police_total += 1
            s.police_false += got.police
        for wf in WORKFLOWS:
            expected, found = wf in case.workflows, wf in opened
            s.tp[wf] += expected and found
            s.fp[wf] += found and not expected
            s.fn[wf] += expected and not found
    return s


def macro_f1(s: Score) -> float:
    return sum(f1(s.tp[wf], s.fp[wf], s.fn[wf])[2] for wf in WORKFLOWS) / len(WORKFLOWS)


def report(name: str, cases: list[Case], results: list[Triage], show_misses: bool = True) -> Score:
    s = score(cases, results)
    print(f"\n== {name}: {s.cases} tips")
    fp_rate = s.police_false / s.not_police_total if s.not_police_total else 0.0
    print(f"threat recall          {ratio(s.threat_hit, s.threat_total):.3f}  "
          f"({s.threat_hit}/{s.threat_total})")
    print(f"police recall          {ratio(s.police_hit, s.police_total):.3f}  "
          f"({s.police_hit}/{s.police_total})")
    print(f"police false-positive  {fp_rate:.3f}  ({s.police_false}/{s.not_police_total} police-false tips)")
    print(f"{'workflow':<15}{'precision':>10}{'recall':>10}{'F1':>8}")
    for wf in WORKFLOWS:
        p, r, f = f1(s.tp[wf], s.fp[wf], s.fn[wf])
        print(f"{wf:<15}{p:>10.3f}{r:>10.3f}{f:>8.3f}")
    print(f"macro-F1               {macro_f1(s):.3f}")
    misses = [(c, g) for c, g in zip(cases, results, strict=True)
              if set(g.workflows) != c.workflows or g.police != c.police]
    print(f"misses: {len(misses)}")
    for case, got in misses if show_misses else ():
        print(f"  {case.id}: expected {sorted(case.workflows)} police={case.police}; "
              f"got {list(got.workflows)} police={got.police}; signals {list(got.signals)}")
        print(f"      {case.tip.text}")
    return s


def speed(pm: pluggy.PluginManager, cases: list[Case]) -> float:
    """Tips per CPU second, so other load on the machine does not count against triage.

    Each call gets a fresh TipDraft, as the app does, so no analysis is reused between calls.
    """
    rows = [(c.tip.text, c.tip.category, c.tip.submitted_at) for c in cases]
    done, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < SECONDS:
        for text, category, when in rows:
            triage(pm, TipDraft(text, category, None, when))
        done += len(rows)
    return done / (time.process_time() - cpu)


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--rules-only", "--no-misses"}
    if unknown:
        print(f"unknown options {sorted(unknown)}; use --rules-only, --no-misses", file=sys.stderr)
        return 2
    paths = [Path(a) for a in argv if not a.startswith("--")] or list(DEFAULT_FILES)
    pm = manager(rules_only="--rules-only" in flags)
    everything: list[Case] = []
    for path in paths:
        cases = load(path)
        everything += cases
        report(str(path), cases, [triage(pm, c.tip) for c in cases], show_misses="--no-misses" not in flags)
    if everything:
        print(f"\nspeed: {speed(pm, everything):.0f} tips per CPU second on one core "
              f"({len(everything)} tips, repeated for ~{SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
