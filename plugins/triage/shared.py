"""Rules more than one workflow reads, built from the shared vocabulary: someone told to kill
themselves, and sextortion."""

from __future__ import annotations

from plugins.triage.rules import AnyOf, Near
from plugins.triage.vocabulary import words

# Someone else being told to kill themselves: the target is at risk, the sender is not.
_SHARE_VERB = (r"post(?:s|ed|ing)?", r"send(?:s|ing)?", r"leak(?:s|ed|ing)?", r"shar(?:e|es|ed|ing)",
               r"show(?:s|ed|ing)?", r"spread(?:s|ing)?", r"expos(?:e|es|ed|ing)")


_NOT_OWN_PLAN = "".join(f"(?<!\\b{w} )" for w in (
    "to", "going", "want", "wants", "wanted", "plan", "plans", "planning", "about", "is", "will", "would",
    "might", "could", "gonna", "trying", "tried", "threatened", "threatening",
))
TOLD_TO_DIE = AnyOf(
    Near(words(r"tell(?:s|ing)?", "told", r"say(?:s|ing)?", "said", r"send(?:s|ing)?", "sent",
               r"text(?:s|ed|ing)?", r"messag(?:e|es|ed|ing)", r"dm(?:s|ed|d)?", r"comment(?:s|ed|ing)?",
               r"post(?:s|ed|ing)?", "flood(?:s|ed|ing)?", "spam(?:s|med|ming)?"),
         # "telling him to go kill himself", never "said she is going to kill herself".
         words(*(_NOT_OWN_PLAN + lead + r"kill (?:himself|herself|yourself|themselves)"
                 for lead in ("to go ", "to ", "go ", "")), "to go die", "go die",
               r"no one would miss (?:you|him|her)", "nobody would miss (?:you|him|her)"),
         6, ordered=True),
    words("kill yourself", "matate", "muerete", r"que se (?:mate|muera)", "no one would miss you"),
)
_IMAGES = words(r"nudes?", r"pics?", r"photos?", r"pictures?", r"videos?", r"snaps?", r"fotos?", r"images?")
# "I'll post your photos unless...", "if you don't send more he'll send these to everyone".
SEXTORTION = AnyOf(
    Near(words(*_SHARE_VERB, r"upload(?:s|ed|ing)?", r"out (?:him|her)", r"make (?:\w+ ){1,3}public",
               r"tell (?:everyone|everybody|people|the whole school|his parents|her parents)"),
         words("unless", r"if (?:she|he|you|i|they) (?:do|does|did|will|would) not",
               r"if (?:she|he|you|i|they) (?:refuses?|stops?|blocks?|tells?|reports?|ignores?|leaves?|breaks? up)"),
         12, ordered=True),
    # Images held over someone for money or more: "unless i pay him in gift cards".
    Near(_IMAGES,
         words(r"unless (?:i|you|she|he|they|we) (?:\w+ )?(?:pay|pays|send|sends|give|gives|meet|meets|venmo)",
               r"si no (?:le |me |te )?pag\w+"),
         16),
    Near(Near(words(*_SHARE_VERB), _IMAGES, 4, ordered=True),
         words(r"gift ?cards?", "cash ?app", "venmo", "bitcoin", "robux", r"pay (?:him|her|them) \d+"), 16),
    Near(words(r"if (?:she|he|you|i|they) (?:do|does|did|will|would) not (?:send|give|pay|meet|do|come|go)"),
         words(*_SHARE_VERB), 10, ordered=True),
    words("sextort(?:ion|ing|ed)?", r"blackmail(?:s|ed|ing)? (?:her|him|me|my \w+) (?:with|over)"),
    # Blackmail or extortion over images: "being blackmailed by someone online with her pics".
    Near(words(r"blackmail\w*", r"extort\w*", r"chantaj\w+"),
         words(r"nudes?", r"pics?", r"photos?", r"pictures?", r"videos?", r"images?", r"snaps?", r"fotos?"), 8),
    # "he'll send her nudes to the whole school if she breaks up with him".
    Near(Near(words("will", "would", "going to", r"threaten(?:s|ed|ing)? to"), words(*_SHARE_VERB), 1,
              ordered=True),
         Near(words(r"nudes?", r"pics?", r"photos?", r"pictures?", r"videos?", r"snaps?", r"fotos?"),
              words("if", "unless", "si"), 8, ordered=True),
         4, ordered=True),
    Near(words(r"si no (?:le |me |te )?(?:manda|mandas|envia|envias|paga|pagas|sale|ve)"),
         words("publicar", "subir", "mandar", "compartir", "ensenar", "pasar"), 8, ordered=True),
)
