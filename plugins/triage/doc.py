"""The analysed tip, and the cache that shares it between plugins while the tip lives.

Nothing here logs or returns tip text; a tip's ``Doc`` lives only as long as the tip object.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from dataclasses import dataclass, field

from plugins.triage.figurative import _unfigure
from plugins.triage.negation import Span, _negations
from plugins.triage.normalise import normalise
from tipline.types import TipDraft

_SENTENCE_END = frozenset({".", "!", "?", ";"})
_PREFIX = 4


@dataclass(frozen=True, slots=True)
class Doc:
    """A tip's text normalised for matching.

    ``scopes`` are the character ranges negation cues govern and ``cues`` the offsets of the
    cue words. ``starts`` and ``sentences`` give each token's offset and sentence number,
    for word distances. ``words`` and ``prefixes`` (up to four letters) let a pattern skip a
    tip holding none of the words it can start at. ``memo`` keeps match offsets, so plugins
    sharing vocabulary scan for it once; ``findings`` keeps each plugin's concept names, so
    the model reads what the rules saw without running them again.
    """

    text: str
    scopes: tuple[Span, ...] = ()
    cues: tuple[int, ...] = ()
    starts: tuple[int, ...] = ()
    sentences: tuple[int, ...] = ()
    words: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    memo: dict[int, list[Span]] = field(default_factory=dict, compare=False, repr=False)
    findings: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def negated(self, start: int, end: int) -> bool:
        """True when a match at ``start:end`` sits under a negation cue or contains one."""
        return any(s <= start < e for s, e in self.scopes) or any(start < c < end for c in self.cues)

    def close(self, a: Span, b: Span, most: int) -> bool:
        """True when spans ``a`` and ``b`` share a sentence with at most ``most`` words between."""
        first, second = (a, b) if a[0] <= b[0] else (b, a)
        if second[0] < first[1]:
            return True
        i = bisect_right(self.starts, first[1] - 1) - 1
        j = bisect_right(self.starts, second[0]) - 1
        return j - i - 1 <= most and self.sentences[i] == self.sentences[j]


def analyse(text: str) -> Doc:
    """Normalise ``text``, neutralise figurative uses, and find negation scopes."""
    guarded = _unfigure(normalise(text))
    tokens = guarded.split(" ")
    starts: list[int] = []
    sentences: list[int] = []
    pos = number = 0
    for tok in tokens:
        starts.append(pos)
        sentences.append(number)
        pos += len(tok) + 1
        number += tok in _SENTENCE_END
    scopes, cues = _negations(tokens, starts)
    prefixes = frozenset(t[:k] for t in tokens for k in range(1, _PREFIX + 1))
    return Doc(guarded, scopes, cues, tuple(starts), tuple(sentences), frozenset(tokens), prefixes)


_DOCS: dict[int, Doc] = {}


def doc_for(tip: TipDraft) -> Doc:
    """The analysed text of ``tip``, shared by the plugins that triage it.

    Kept per tip object (by identity, not value) and dropped when that object is collected,
    so no copy of what a reporter wrote outlives the tip itself.
    """
    key = id(tip)
    doc = _DOCS.get(key)
    if doc is None:
        doc = analyse(tip.text)
        try:
            weakref.finalize(tip, _DOCS.pop, key, None)
        except TypeError:  # a tip that cannot be weakly referenced is analysed per plugin instead
            return doc
        _DOCS[key] = doc
    return doc
