"""Rule classes: regex patterns (memoised per tip, gated by the pre-filter), words near
each other, alternatives, and named matchers that honour negation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from plugins.triage.doc import Doc
from plugins.triage.negation import Span
from plugins.triage.prefilter import _gate


class Rule:
    """Something that finds spans in a ``Doc``."""

    __slots__ = ()

    def find(self, doc: Doc) -> list[Span]:
        raise NotImplementedError

    def possible(self, doc: Doc) -> bool:
        """False when the rule cannot match ``doc``, known without scanning it."""
        return True


class Pattern(Rule):
    """A compiled regex whose matches are memoised on the ``Doc``, skipped outright for a
    tip holding none of the words its matches can start at."""

    __slots__ = ("_rx", "_gate")

    def __init__(self, source: str) -> None:
        self._rx = re.compile(source)
        self._gate = _gate(source)

    def possible(self, doc: Doc) -> bool:
        return self._gate is None or self._gate.open_for(doc)

    def find(self, doc: Doc) -> list[Span]:
        found = doc.memo.get(id(self))
        if found is None:
            found = [m.span() for m in self._rx.finditer(doc.text)] if self.possible(doc) else []
            doc.memo[id(self)] = found
        return found


_PATTERNS: dict[str, Pattern] = {}


def pattern(source: str) -> Pattern:
    """The one ``Pattern`` for ``source``, so every plugin using it shares the memo."""
    found = _PATTERNS.get(source)
    if found is None:
        found = _PATTERNS[source] = Pattern(source)
    return found


def _rule(spec: Rule | str) -> Rule:
    return spec if isinstance(spec, Rule) else pattern(spec)


class Near(Rule):
    """``first`` and ``second`` in one sentence with at most ``most`` words between them,
    in either order unless ``ordered``.

    Cheaper than one regex with a gap: each part is a word list scanned once, and most tips
    lack one of the two.
    """

    __slots__ = ("_first", "_second", "_most", "_ordered")

    def __init__(self, first: Rule | str, second: Rule | str, most: int = 8, *,
    ordered: bool = False) -> None:
        self._first, self._second = _rule(first), _rule(second)
        self._most, self._ordered = most, ordered

    def possible(self, doc: Doc) -> bool:
        return self._first.possible(doc) and self._second.possible(doc)

    def find(self, doc: Doc) -> list[Span]:
        if not self.possible(doc):
            return []
        firsts = self._first.find(doc)
        seconds = self._second.find(doc) if firsts else []
        return [
            (min(a[0], b[0]), max(a[1], b[1]))
            for a in firsts
            for b in seconds
            if (not self._ordered or b[0] >= a[1]) and doc.close(a, b, self._most)
        ]


class AnyOf(Rule):
    """Every span any of ``rules`` finds."""

    __slots__ = ("_rules",)

    def __init__(self, *rules: Rule | str) -> None:
        self._rules = tuple(_rule(r) for r in rules)

    def possible(self, doc: Doc) -> bool:
        return any(r.possible(doc) for r in self._rules)

    def find(self, doc: Doc) -> list[Span]:
        return [span for r in self._rules for span in r.find(doc)]


class Matcher:
    """Named rules run against a ``Doc``.

    With ``negatable`` a match under a negation scope does not count. Rules that spell out
    their own negation ("doesn't want to live", "won't let her") go in a matcher built with
    ``negatable=False``.
    """

    __slots__ = ("_rules", "_negatable")

    def __init__(self, rules: Mapping[str, Rule | str], *, negatable: bool = True) -> None:
        self._rules = tuple((name, _rule(spec)) for name, spec in rules.items())
        self._negatable = negatable

    def hits(self, doc: Doc) -> set[str]:
        """Names of the rules with at least one match that counts."""
        return {name for name, rule in self._rules if self._counting(rule, doc)}

    def spans(self, doc: Doc, name: str) -> list[Span]:
        """The counting matches of the rule called ``name``."""
        return next((self._counting(rule, doc) for n, rule in self._rules if n == name), [])

    def _counting(self, rule: Rule, doc: Doc) -> list[Span]:
        found = rule.find(doc)
        return [s for s in found if not doc.negated(*s)] if self._negatable else found


def remembered(doc: Doc, key: str, find: Callable[[Doc], set[str]]) -> frozenset[str]:
    """``find(doc)``, computed once per ``Doc`` and kept under ``key``."""
    found = doc.findings.get(key)
    if found is None:
        found = doc.findings[key] = frozenset(find(doc))
    return found


def overlaps(span: Span, others: Iterable[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in others)
