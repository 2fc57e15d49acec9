"""The regex pre-filter: which words a pattern's matches can start at, read off its source
once, so a rule is skipped outright for a tip holding none of them."""

from __future__ import annotations

from dataclasses import dataclass

from plugins.triage.doc import _PREFIX, Doc

_DIGITS = frozenset("0123456789")
_EXPANSIONS = 64
# Words in nearly every tip: a gate on them would open for everything.
_COMMON = frozenset({
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "will", "would", "going", "to", "you", "he",
    "she", "they", "i", "we", "it", "his", "her", "their", "my", "your", "of", "in", "on", "at", "for", "and",
    "or", "not", "do", "does", "did", "has", "have", "had", "get", "gets", "got", "getting", "that", "this",
    "there", "what", "who", "all", "so", "if", "with", "can", "me", "him", "them", "us", "el", "la", "los",
    "las", "de", "que", "en", "y", "lo", "le", "se", "su", "mi", "un", "una", "no", "es", "por", "para",
    "con", "va", "van",
})


@dataclass(frozen=True, slots=True)
class _Gate:
    words: frozenset[str]
    prefixes: frozenset[str]

    def __or__(self, other: _Gate) -> _Gate:
        return _Gate(self.words | other.words, self.prefixes | other.prefixes)

    def open_for(self, doc: Doc) -> bool:
        return not (self.words.isdisjoint(doc.words) and self.prefixes.isdisjoint(doc.prefixes))


_CLOSED = _Gate(frozenset(), frozenset())


def _close(src: str, start: int) -> int:
    """Index of the parenthesis closing the group opened at ``start``."""
    depth, i = 0, start
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 1
        elif c == "[":
            i = src.index("]", i + 1)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced pattern")


def _split_top(src: str) -> list[str]:
    """The top-level alternatives of a regex source."""
    parts: list[str] = []
    depth = last = i = 0
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 1
        elif c == "[":
            i = src.index("]", i + 1)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(src[last:i])
            last = i + 1
        i += 1
    parts.append(src[last:])
    return parts


def _gate(src: str, bounded: bool = False) -> _Gate | None:
    """The words any match of ``src`` must start at.

    ``None`` when that cannot be read off the source (an optional start, a class, no word
    boundary): such a pattern always runs.
    """
    gate = _CLOSED
    for alt in _split_top(src):
        found = _alternative_gate(alt, bounded)
        if found is None:
            return None
        gate = gate | found
    return gate


def _alternative_gate(alt: str, bounded: bool) -> _Gate | None:
    i = 0
    while True:  # zero-width prefixes: word boundaries and look-arounds
        if alt.startswith("\\b", i):
            bounded, i = True, i + 2
        elif alt.startswith(("(?<", "(?=", "(?!"), i):
            i = _close(alt, i) + 1
        else:
            break
    rest = alt[i:]
    if rest.startswith("(?:"):
        end = _close(rest, 0)
        after = rest[end + 1:]
        if after[:1] not in ("?", "*") and not after.startswith("{0"):
            branches = _split_top(rest[3:end])
            gates = [g for g in (_alternative_gate(a + after, bounded) for a in branches) if g is not None]
            if len(gates) == len(branches):
                gate = _CLOSED
                for g in gates:
                    gate = gate | g
                return gate
    if not bounded:
        return None
    if rest.startswith("\\d"):
        return _Gate(frozenset(), _DIGITS)
    spellings, prefix = _required_words(rest)
    if spellings:
        return _Gate(frozenset(spellings), frozenset())
    return _Gate(frozenset(), frozenset({prefix[:_PREFIX]})) if prefix else None


def _first_words(src: str) -> tuple[set[str], str, int]:
    """Every spelling of the first word of ``src`` when it is letters with optional letters
    or groups ("kill(?:s|ing)?"), and the index of the space after it (-1 when nothing
    follows); otherwise no spellings and the word's literal prefix."""
    stems, i = [""], 0
    while i < len(src) and len(stems) <= _EXPANSIONS:
        c = src[i]
        if c == " " and src[i + 1:i + 2] not in ("?", "*", "+", "{"):
            return set(stems), "", i
        if src.startswith("\\b", i) or c in "|)":
            return set(stems), "", -1
        if c.isalnum():
            optional = src[i + 1:i + 2] == "?"
            stems = stems + [t + c for t in stems] if optional else [t + c for t in stems]
            i += 2 if optional else 1
        elif src.startswith("(?:", i):
            end = _close(src, i)
            options = _split_top(src[i + 3:end])
            if not all(o.isalnum() or o == "" for o in options):
                break
            optional = src[end + 1:end + 2] == "?"
            stems = [t + o for t in stems for o in options] + (stems if optional else [])
            i = end + (2 if optional else 1)
        else:
            break
    else:
        if i >= len(src):
            return set(stems), "", -1
    return set(), min(stems, key=len), -1


def _required_words(src: str) -> tuple[set[str], str]:
    """Spellings of a word every match of ``src`` contains: its first word, or the next one
    when the first is too common to tell tips apart ("a fight", "is getting shot")."""
    spellings, prefix, end = _first_words(src)
    for _ in range(2):
        if not spellings or not spellings <= _COMMON or end < 0:
            break
        following, _, after = _first_words(src[end + 1:])
        if not following:
            break
        spellings, end = following, (end + 1 + after if after >= 0 else -1)
    return spellings, prefix
