"""Score triage against labelled tips, with 95% intervals, per language, and time it.

    python bench/triage_eval.py [--rules-only] [--no-misses] [[everyday:|incident:]path.jsonl ...]

Without paths it reads ../shared/triage/dev.jsonl (relative to the repo root) and
tests/data/triage_heldout.jsonl. Any JSONL paths work. A file whose name contains
``everyday`` (or given as ``everyday:PATH``) holds everyday messages: scored for the threat
workflow opened, police raised (a count), review raised, and any workflow on junk ("test",
"hi", "?"); a row in it labelled threat, wellbeing or police is scored as an incident.
Other files hold incident tips: threat recall, police recall, police raised on tips that do
not need it, per-workflow precision, recall and F1 with their macro mean. Every
rate has a Wilson 95% interval; macro-F1 a bootstrap 95% interval (1,000 resamples, fixed
seed). Each file is scored whole and split by language (English, Spanish, mixed, by a count
of common words), then all files together. Every miss is listed (``--no-misses`` keeps a
blind set's text unread). Then tips per second on one core. ``--rules-only`` leaves out the
model (``plugins/learned.py``) to show what it adds.

The miss listing prints the development tips' text: these are made-up cases for tuning,
never real reports. Nothing else here prints tip text.
"""

from __future__ import annotations

import json
import math
import random
import re
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
    everyday: bool = False


_EN = frozenset({
    "the", "and", "is", "he", "she", "they", "to", "of", "in", "my", "his", "her", "it", "that", "was",
    "with", "for", "on", "at", "you", "i",
})
_ES = frozenset({
    "el", "la", "los", "las", "y", "es", "que", "de", "en", "mi", "su", "lo", "le", "se", "con", "por",
    "para", "un", "una", "esta", "dice",
})
_WORD = re.compile(r"[a-záéíóúñü]+")


def language(text: str) -> str:
    """English, Spanish or mixed, by how many common words of each a tip holds."""
    tokens = _WORD.findall(text.lower())
    en = sum(t in _EN for t in tokens)
    es = sum(t in _ES for t in tokens)
    if es >= 2 and en >= 2 and min(en, es) >= 0.25 * max(en, es):
        return "mixed"
    return "spanish" if es > en else "english"


def junk(text: str) -> bool:
    """A test message, a greeting, a stray key or emoji: fewer than three words with letters."""
    return sum(any(c.isalpha() for c in w) for w in text.split()) < 3


def wilson(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score 95% interval of ``hits`` out of ``total``."""
    if not total:
        return (0.0, 1.0)
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(hits: int, total: int) -> str:
    low, high = wilson(hits, total)
    value = hits / total if total else float("nan")
    return f"{value:.3f} [{low:.3f}, {high:.3f}]  ({hits}/{total})"


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


def load(path: Path, everyday: bool | None = None) -> list[Case]:
    when = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
    if everyday is None:
        everyday = "everyday" in path.name
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        tip = TipDraft(text=row["text"], category=row.get("category", "unsure"), school=None,
                       submitted_at=when)
        labels = frozenset(row.get("workflows", ()))
        police = bool(row.get("police", False))
        # A threat, a student at risk or a police case written into an everyday file is an
        # incident and is scored as one.
        ordinary = everyday and not (police or labels & {"threat", "wellbeing"})
        cases.append(Case(str(row.get("id", f"{path.stem}:{number}")), tip, labels, police, ordinary))
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


def bootstrap_macro_f1(cases: list[Case], results: list[Triage], rounds: int = 1000) -> tuple[float, float]:
    """A percentile 95% interval for macro-F1 by resampling tips (fixed seed)."""
    if not cases:
        return (0.0, 1.0)
    rng = random.Random(20261201)
    pairs = list(zip(cases, results, strict=True))
    values = []
    for _ in range(rounds):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        values.append(macro_f1(score([c for c, _ in sample], [r for _, r in sample])))
    values.sort()
    return values[int(0.025 * rounds)], values[int(0.975 * rounds) - 1]


def report_incidents(name: str, cases: list[Case], results: list[Triage]) -> Score:
    s = score(cases, results)
    print(f"\n== {name}: {s.cases} incident tips")
    if not cases:
        return s
    print(f"threat recall          {rate(s.threat_hit, s.threat_total)}")
    print(f"police recall          {rate(s.police_hit, s.police_total)}")
    print(f"police, not needed     {rate(s.police_false, s.not_police_total)}")
    print(f"review raised          {rate(sum(r.review for r in results), len(results))}")
    print(f"{'workflow':<15}{'precision':>10}{'recall':>10}{'F1':>8}")
    for wf in WORKFLOWS:
        p, r, f = f1(s.tp[wf], s.fp[wf], s.fn[wf])
        print(f"{wf:<15}{p:>10.3f}{r:>10.3f}{f:>8.3f}")
    low, high = bootstrap_macro_f1(cases, results)
    print(f"macro-F1               {macro_f1(s):.3f} [{low:.3f}, {high:.3f}]")
    return s


def report_everyday(name: str, cases: list[Case], results: list[Triage]) -> None:
    print(f"\n== {name}: {len(cases)} everyday messages")
    if not cases:
        return
    junk_results = [r for c, r in zip(cases, results, strict=True) if junk(c.tip.text)]
    print(f"threat opened          {rate(sum('threat' in r.workflows for r in results), len(results))}")
    print(f"police raised          {sum(r.police for r in results)} of {len(results)}  "
          f"{rate(sum(r.police for r in results), len(results))}")
    print(f"review raised          {rate(sum(r.review for r in results), len(results))}")
    print(f"junk, any workflow     {rate(sum(bool(r.workflows) for r in junk_results), len(junk_results))}")
    print(f"any workflow opened    {rate(sum(bool(r.workflows) for r in results), len(results))}")


def report(name: str, cases: list[Case], results: list[Triage], show_misses: bool = True) -> Score:
    """Everyday and incident tips apart, each whole and by language; then the misses."""
    pairs = list(zip(cases, results, strict=True))
    s = Score()
    for everyday in (False, True):
        part = [(c, r) for c, r in pairs if c.everyday == everyday]
        if not part:
            continue
        shown = report_everyday if everyday else report_incidents
        got = shown(name, [c for c, _ in part], [r for _, r in part])
        if not everyday:
            assert isinstance(got, Score)
            s = got
        for lang in ("english", "spanish", "mixed"):
            sub = [(c, r) for c, r in part if language(c.tip.text) == lang]
            if sub and len(sub) < len(part):
                shown(f"{name} [{lang}]", [c for c, _ in sub], [r for _, r in sub])
    misses = [(c, g) for c, g in pairs
              if set(g.workflows) != c.workflows or g.police != c.police or (c.everyday and g.review)]
    print(f"misses: {len(misses)}")
    for case, got in misses if show_misses else ():
        print(f"  {case.id}: expected {sorted(case.workflows)} police={case.police}; "
              f"got {list(got.workflows)} police={got.police} review={got.review}; signals {list(got.signals)}")
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
    paths = [a for a in argv if not a.startswith("--")] or [str(p) for p in DEFAULT_FILES]
    pm = manager(rules_only="--rules-only" in flags)
    everything: list[Case] = []
    results: list[Triage] = []
    for arg in paths:
        kind, _, rest = arg.partition(":")
        forced = {"everyday": True, "incident": False}.get(kind) if rest else None
        path = Path(rest if forced is not None else arg)
        cases = load(path, forced)
        got = [triage(pm, c.tip) for c in cases]
        everything += cases
        results += got
        report(str(path), cases, got, show_misses="--no-misses" not in flags)
    if len(paths) > 1:
        report("all files together", everything, results, show_misses=False)
    if everything:
        print(f"\nspeed: {speed(pm, everything):.0f} tips per CPU second on one core "
              f"({len(everything)} tips, repeated for ~{SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
