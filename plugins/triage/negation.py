"""Negation: "not going to hurt", "no quiere", "never said". A cue governs the rest of its
clause, and a reported clause after a speech verb ("never said he would...")."""

from __future__ import annotations

from collections.abc import Sequence

from plugins.triage.figurative import _FIG

Span = tuple[int, int]


_CUES = frozenset({"not", "never", "no", "nunca", "jamas", "tampoco", "ni"})
# "not joking", "no cap", "can't stop talking about": the negation strengthens what follows.
_NEUTRALISERS = frozenset({
    "joking", "kidding", "playing", "lying", "lie", "joke", "sure", "only", "stop", "quit", "afraid",
    "scared", "one", "body", "matter", "way", "doubt", "idea", "clue", "longer", "more", "worries", "broma",
    "bromeando", "miento", "jugando", "es", "estoy",
})
_FILLERS = frozenset({"even", "just", "really", "actually", "ever", "like", "literally", "a"})
_BOUNDARY = frozenset({
    ".", ",", ";", ":", "!", "?", "but", "however", "though", "although", "yet", "and", "because", "so",
    "until", "unless", "if", "when", "then", "while", "pero", "sino", "porque", "y", "cuando", "si", "aunque",
    "lol", _FIG,
})
_SUBJECTS = frozenset({"i", "he", "she", "they", "we", "you", "yo", "el", "ella", "ellos", "ellas"})
_REPORTING = frozenset({
    "said", "say", "says", "saying", "told", "tell", "tells", "think", "thought", "mean", "meant", "believe",
    "claim", "claimed", "threaten", "threatened", "dijo", "dice", "creo", "pienso", "quiso", "amenazo",
})
# "no se si..." is "I don't know whether", not a negation of what follows.
_NO_SE = frozenset({"si", "que", "como", "donde", "quien", "cuando", "nada", "what", "if"})
_SCOPE_MAX = 8
# A question asked about someone is not a report of what they did: "i asked him if he'd ever
# bring a knife", "asking if she has a bomb in her bag". Only a question about what someone
# would do or has, so "asked me if i wanted to see the gun he brought" still counts.
_ASKING = frozenset({"ask", "asks", "asked", "asking", "wonder", "wondered", "wondering", "pregunto",
                     "preguntaron", "preguntando"})
_WHETHER = frozenset({"if", "whether", "si"})
_HYPOTHETICAL = frozenset({"would", "will", "ever", "could", "might", "has", "had", "have", "is", "was",
                           "tiene", "trae", "va", "iba"})


def _neutralised(tokens: Sequence[str], cue: int) -> bool:
    k = cue + 1
    while k < len(tokens) and tokens[k] in _FILLERS:
        k += 1
    nxt = tokens[k] if k < len(tokens) else ""
    return nxt in _NEUTRALISERS or (
        tokens[cue] == "no" and nxt == "se" and k + 1 < len(tokens) and tokens[k + 1] in _NO_SE
    )


def _scope_end(tokens: Sequence[str], cue: int) -> int:
    """Index one past the last token ``cue`` governs."""
    reported = False
    j = cue + 1
    while j < len(tokens) and j - cue <= _SCOPE_MAX:
        tok = tokens[j]
        if tok in _BOUNDARY or (tok in _SUBJECTS and not reported and j > cue + 1):
            break
        reported = reported or tok in _REPORTING
        j += 1
    return j


def _question(tokens: Sequence[str], i: int) -> bool:
    """True when ``tokens[i]`` opens a yes-or-no question about what someone would do or has."""
    return (
        tokens[i] in _WHETHER
        and any(t in _ASKING for t in tokens[max(0, i - 3):i])
        and any(t in _HYPOTHETICAL for t in tokens[i + 1:i + 3])
    )


def _negations(tokens: Sequence[str], starts: Sequence[int]) -> tuple[tuple[Span, ...], tuple[int, ...]]:
    scopes: list[Span] = []
    cues: list[int] = []
    for i, tok in enumerate(tokens):
        if tok in _WHETHER and _question(tokens, i):
            end = _scope_end(tokens, i)
            if end > i + 1:
                scopes.append((starts[i + 1], starts[end - 1] + len(tokens[end - 1])))
            continue
        if tok not in _CUES or _neutralised(tokens, i):
            continue
        cues.append(starts[i])
        end = _scope_end(tokens, i)
        if end > i + 1:
            scopes.append((starts[i + 1], starts[end - 1] + len(tokens[end - 1])))
    return tuple(scopes), tuple(cues)
