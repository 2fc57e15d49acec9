"""Shared text analysis for the workflow plugins.

Tips arrive as students and parents type them on phones: lower case, slang, typos, emojis,
English and Spanish mixed. Every plugin reads the same normalised form of a tip, so slang,
figurative language and negation are handled here once instead of drifting apart in four
copies. Pure stdlib; every pattern is compiled at import.

Pipeline: ``normalise`` (emoji, accents, contractions, leet, stretched letters, slang) ->
figurative guards (benign uses replaced by a neutral token) -> negation scopes -> ``Doc``.
Plugins then run named ``Matcher`` rules over the ``Doc``.

Nothing here logs or returns tip text; a tip's ``Doc`` lives only as long as the tip object.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tipline.types import TipDraft

Span = tuple[int, int]

# --------------------------------------------------------------------------------------
# Regex building blocks. Patterns are written against the normalised text: lower case,
# ASCII only, contractions expanded, punctuation as separate tokens, one space between.


def words(*alternatives: str) -> str:
    """A non-capturing alternation bounded by word edges on both sides."""
    return r"\b(?:" + "|".join(alternatives) + r")\b"


def gap(most: int) -> str:
    """Up to ``most`` words between two parts, never crossing a sentence end."""
    return r"(?:\s+[^\s.!?;]+){0," + str(most) + r"}?\s+"


def near(first: str, second: str, most: int = 4) -> str:
    """A regex: ``first`` followed within ``most`` words by ``second``.

    For tight windows; wider ones are cheaper as a ``Near`` rule.
    """
    return "(?:(?:" + first + ")" + gap(most) + "(?:" + second + "))"


# --------------------------------------------------------------------------------------
# Vocabulary more than one plugin needs, kept as regex sources so plugins can combine them.

SELF = words("myself", "himself", "herself", "themselves", "themself", "yourself", "ourselves")
PERSON = words(
    "him", "her", "them", "you", "us", "me", "everyone", "everybody", "people", "kids?", "students?",
    "teachers?", "staff", "principal", "classmates?", "girls?", "boys?", "guys?", "someone", "somebody",
    "anyone", "the sro", r"\d+(?:st|nd|rd|th) graders?",
    r"(?:my|his|her|their|our|your|a|an|the|that|this|some|one|two|three) (?:\w+ )?(?:son|daughter|kid|child"
    r"|friend|brother|sister|cousin|teacher|girl|boy|student|guy|dude|coach|grader|freshm[ae]n|sophomore"
    r"|junior|senior|person|man|woman|sro|officer|cop|guard|principal|counselor|nurse|sub|substitute"
    r"|bus driver|librarian|ex|girlfriend|boyfriend)s?",
    r"(?:mr|mrs|ms|miss|coach|senor|senora|profe|maestra?o?) \w+", "todos", "maestr[oa]s?", "profes?",
    "alumn[oa]s?", r"mi (?:hij[oa]|herman[oa]|amig[oa])",
)
TIME = words(
    "today", "tonight", "tomorrow", "this (?:morning|afternoon|week|weekend)", "next (?:week|weekend)",
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?", "after (?:school|the game|practice|class|the dance)",
    "before school", "at (?:lunch|recess|dismissal|the game|the dance|the assembly|the pep rally)",
    "during (?:lunch|recess|class|the assembly|the game|the pep rally|school)",
    r"(?:1st|2nd|3rd|4th|5th|6th|7th|8th|first|second|third|fourth|fifth|sixth|seventh|last) period",
    "passing period", r"(?:at|during|before|after) (?:the )?(?:dance|prom|graduation|homecoming|rally|pep rally"
    r"|assembly|game|practice|lunch|recess|dismissal|pickup)", "end of the day", "this (?:friday|monday)",
    "la proxima semana", r"en la (?:tarde|manana)", r"(?:en|durante) (?:el|la) (?:asamblea|partido|baile)",
    "right now", "now", "soon", r"\d{1,2}(?::\d\d)? ?(?:am|pm)", "noon", "midnight", "hoy", "esta noche",
    "manana", "ahorita", "ahora", "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    "el fin de semana", "este fin",
    r"despues de (?:clases?|la escuela)", "a la salida", "en el (?:recreo|almuerzo)", "esta semana",
    # Dates: "on 5/12" (the slash is a space by now), "on the 12th", "may 12".
    r"on (?:the )?\d{1,2}(?: \d{1,2}|st|nd|rd|th)?",
    # A bare date, "12/5": not a score or a rating ("from 1 10").
    r"(?<!\bfrom )(?<!\brate )(?<!\brating )(?<!\bscored )\d{1,2} \d{1,2}"
    r"(?! ?(?:am|pm|min|mins|minutes|hours|years|yo|views)\b)",
    r"(?:jan|feb|march|april|may|june|july|aug|sept|oct|nov|dec)\w* \d{1,2}(?:st|nd|rd|th)?",
)
PLACE = words(
    "school", "campus", "class(?:room)?s?", "homeroom", "cafeteria", "lunch ?room", "library", "gym",
    "auditorium", "hall(?:way)?s?", "bathrooms?", "restrooms?", "locker ?rooms?", "lockers?", "parking lot",
    "bus(?:es)?", "field", "stadium", "front office", "playground", "courtyard", "stairwell", "stalls?",
    "escuela", "colegio", "prepa", "secundaria", "salon", "clase", "biblioteca", "gimnasio", "pasillo",
    "banos?", "patio", "autobus", "camion", r"portables?", "bus stop", "quad", "commons", "student lot",
    "casilleros?", "estacionamiento",
)
GUN = words(
    "guns?", "handguns?", "pistols?", "revolvers?", "rifles?", "shotguns?", r"ar ?15s?", r"ak ?47s?", "ak",
    "glocks?", r"9 ?mm", "firearms?", "blick(?:y|ies)?", "dracos?", "choppas?", "toolies?", "strap",
    r"(?:his|her|my|a|the|brothers?|dads?|uncles?|cousins?) (?:\w+ )?piece",
    r"(?:his|her|my|an|the|brothers?|dads?|uncles?|cousins?) ar", "pistolas?", "armas?",
    "escopetas?", "fuscas?", "cuetes?", "uzis?", r"tec ?9s?", r"mac ?1[01]s?", "deagles?", r"bb guns?",
    r"pellet guns?",
    # Slang for a gun, north and south of the border: "el cuerno de chivo", "got a glizzy".
    r"cuernos? de chivo", "cuernito", r"fierros?", r"glizz(?:y|ies)", r"switch(?:y|ies)",
)
BLADE = words(
    "knife", "knives", "blades?", "switchblades?", "pocket ?knife", "machetes?", "box ?cutters?", "daggers?",
    "swords?", "katanas?", "brass knuckles", "tasers?", "cuchillos?", "navajas?", "cuchillas?", "shanks?",
    "shivs?", "nunchucks?", "fileros?", "punal(?:es)?",
)
AMMO = words(
    "bullets?", "ammo", "ammunition", r"(?:loaded|loading|extended|full) (?:mags?|magazines?|clips?)",
    "rounds of", r"\d+ rounds", "hundreds of rounds", r"box(?:es)? of rounds", "shotgun shells", "shells", "balas?",
    r"municion(?:es)?", "cartuchos?", "casquillos?", "tiros",
)
EXPLOSIVE = words(
    "bombs?", r"pipe ?bombs?", "explosives?", "ied", "grenades?", "dynamite", "tnt", "molotovs?", "bombas?",
    "explosivos?", "granadas?", "napalm", "thermite", r"pressure cookers?", "c4", r"detonators?",
)
WEAPON = "(?:" + "|".join((GUN, BLADE, AMMO, EXPLOSIVE)) + ")"
ONLINE = words(
    "online", "internet", "post(?:s|ed|ing)?", "story", "stories", "snap(?:chat)?s?", "instagram", "tiktok",
    "tik tok", "discord", "twitter", "facebook", "youtube", "reddit", "whatsapp", "group ?chats?", "chats?",
    "dm(?:s|ed|d)?", "messag(?:e|es|ed|ing)", "text(?:s|ed|ing)?", "comments?", "accounts?", "profiles?",
    "page", "finsta", "memes?", "videos?", "photos?", "pics?", "pictures?", "screenshots?",
    "airdrop(?:ped|ping)?", "google classroom", "emails?", "phones?", "numbers", "roblox", "fortnite",
    "minecraft", "xbox", "online games?", "streams?", "app", "redes(?: sociales)?", "mensajes?", "publico",
    "publicaron", "subio", "subieron", "fotos?", "grupo", "cuenta", "perfil",
)
HATE_SYMBOL = words(
    r"swastikas?", "nazis?", "heil hitler", "sieg heil", "kkk", "white power", "white pride", "nooses?",
    "confederate flags?", r"14 ?88", "hate symbols?", r"antisemitic (?:symbols?|graffiti|drawings?)",
    "esvasticas?", "cruz gamada",
)
SUICIDE = (
    r"(?:\b(?:kill(?:ing)?|hang(?:ing)?|shoot(?:ing)?) (?:myself|himself|herself|themselves|themself)\b|"
    + words(
        "suicid(?:e|al|ar|arse|arme|io|o)",
        r"end(?:ing)? (?:it all|it|my life|his life|her life|their life|everything)",
        r"(?:want|wants|wanted|wanting) to (?:die|disappear|be dead|not exist|be gone|go to sleep forever)",
        "better off dead", r"better off without (?:me|him|her|them)", "no reason to live",
        "nothing to live for", r"take (?:my|his|her|their) (?:own )?life",
        r"(?:a burden|burden) (?:to|on) (?:everyone|everybody|people)",
        r"(?:goodbye|suicide) (?:note|letter)s?", r"said goodbye to (?:everyone|everybody|all)",
        r"gave away (?:his|her|their|all)(?: \w+)? (?:stuff|things)",
        r"jump(?:ing)? off (?:the|a) (?:bridge|roof|building|overpass|cliff|parking garage)",
        r"(?:walk|step|jump|run|lay|lie|stand)(?:s|ing)? (?:out )?(?:in front of|into|onto|under) (?:a |the |an )?"
        r"(?:oncoming )?(?:train|bus|truck|car|cars|traffic|semi)",
        r"walk(?:s|ing)? into (?:the |a )?(?:ocean|lake|river|sea|water)", r"drown (?:myself|himself|herself)",
        r"(?:aventar|tirar|poner)(?:se|me)? (?:enfrente|frente|delante) (?:de|del) (?:un |el |la )?"
        r"(?:tren|camion|carro|coche|trafico)",
        r"wish(?:es)? (?:i|he|she|they) (?:was|were) (?:dead|never born)", "overdos(?:e|ing)",
        r"slit (?:my|his|her|their) wrists?", r"(?:be happier|happier) if (?:i|he|she) (?:was|were)"
        r" (?:gone|dead|not here)", r"if (?:i|he|she) (?:was|were) gone",
        r"better off if (?:i|he|she) (?:was|were) (?:gone|dead)",
        r"(?:take|taking|takes|swallow\w*|tomar(?:se)?|tomarme) (?:all|todas|toda|a bunch of|the whole|every)"
        r"(?: of)? (?:the |las |his |her |my |sus |mis )?(?:pills|pastillas|bottle|frasco|meds|medicinas)",
        "no point (?:in )?(?:living|anymore|to anything)",
        # Asking about the means: "how many pills it takes to die".
        r"how (?:many|much) (?:\w+ ){0,3}(?:to|it takes to|would it take to|does it take to|until you)"
        r" (?:die|kill (?:yourself|myself|himself|herself)|overdose|od)",
        r"(?:how|easiest way|best way|painless way|painless ways) to (?:kill (?:myself|yourself)|die|overdose)",
        r"cuant[oa]s (?:\w+ ){0,2}(?:para|se necesitan para) morir",
        r"(?:nobody|no one) would (?:care|notice|miss (?:me|her|him)) if (?:i|she|he)"
        r" (?:disappeared|died|was gone"
        r"|were gone|was dead|killed)",
        r"giving (?:away )?(?:his|her|their|my|all) (?:\w+ )?(?:stuff|things)",
        # Spanish.
        r"(?:se|me|te) quiere(?:s)? (?:matar|morir)", r"quier(?:e|o|en) desaparecer", "desaparecer para siempre",
        r"wish(?:es)? (?:she|he|i|they) could (?:just )?disappear", r"quier(?:e|o|en)? morir(?:se|me)?", "matarse",
        "suicidarse", r"quitar(?:se|me)? la vida", r"acabar con (?:todo|su vida|mi vida)", "colgarse",
        r"tirarse (?:del|de un|de la) (?:puente|edificio|techo)", "carta de despedida",
        "se despidio de todos",
        r"(?:aventar|tirar|lanzar|avientar)(?:se|me)? (?:del|de un|de una|de la|desde el|desde la)"
        r" (?:puente|edificio|techo|azotea|ventana)",
        r"se (?:quiere|va a) (?:aventar|tirar|lanzar|colgar|matar)",
        r"(?:se|me) va(?:s)? a (?:tomar|colgar|tirar|cortar) (?:\w+ )?(?:todas|las|del|de|la)",
    ) + ")"
)
# Suicidal statements that carry their own negation: matched without negation scopes.
SUICIDE_NEGATIVE = words(
    r"(?:not|never) (?:want|wanting|wanna) to (?:live|be alive|be here|exist|wake up)",
    r"not be (?:here|around|alive) (?:tomorrow|anymore|much longer)",
    r"(?:will|would) not be (?:here|around)",
    r"(?:do|does|can) not see the point(?: anymore| in (?:living|anything))?",
    r"can not (?:do (?:this|it)|go on|take (?:it|this)) anymore",
    r"wish(?:es)? (?:i|he|she|they) (?:was|were|had) never (?:been )?born",
    r"(?:ya no|no) (?:quiere|quiero|quieres) (?:vivir|estar aqui|seguir|despertar)",
    r"no (?:quiere|quiero) estar viv[oa]", r"no (?:aguanta|aguanto|aguantas)(?: \w+)? mas",
    r"(?:ya no|no) (?:puede|puedo) mas",
)
# Someone else being told to kill themselves: the target is at risk, the sender is not.
TOLD_TO_DIE: Rule
SEXTORTION: Rule
_SHARE_VERB = (r"post(?:s|ed|ing)?", r"send(?:s|ing)?", r"leak(?:s|ed|ing)?", r"shar(?:e|es|ed|ing)",
               r"show(?:s|ed|ing)?", r"spread(?:s|ing)?", r"expos(?:e|es|ed|ing)")

# --------------------------------------------------------------------------------------
# Normalisation.

_EMOJI = {
    "🔫": "gun", "🔪": "knife", "🗡": "knife", "⚔": "knife", "💣": "bomb", "🧨": "explosive",
    "💥": "boom", "🩸": "blood", "😵": "dead", "💀": "skull", "☠": "skull", "⚰": "coffin",
    "🪦": "grave", "💊": "pills", "🪢": "rope", "😂": "lol", "🤣": "lol", "😹": "lol", "😆": "lol",
    "😭": "crying", "😢": "crying", "🤡": "clown", "🔥": "fire_emoji", "🏫": "school", "😡": "angry",
    "🤬": "angry", "👊": "punch", "🥊": "punch", "🖕": "middle_finger", "🐒": "monkey", "🐵": "monkey",
    "🦍": "ape", "🍉": "watermelon", "🤮": "vomit", "🎯": "target", "⏰": "clock",
}
_CHARS = {ord(k): f" {v} " for k, v in _EMOJI.items()}
_CHARS.update({ord(k): v for k, v in {
    "’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "«": '"', "»": '"', "–": " ", "—": " . ",
    "…": " . ", "-": " ", "/": " ", "_": " ", "&": " and ", "+": " ",
}.items()})

# Teen shorthand and typos, and contractions typed without the apostrophe.
_SLANG: dict[str, str] = {
    "gonna": "going to", "gunna": "going to", "gona": "going to", "finna": "going to", "gon": "going to",
    "fixinto": "going to", "wanna": "want to", "wana": "want to", "gotta": "got to", "tryna": "trying to",
    "boutta": "about to", "bouta": "about to", "ima": "i am going to", "imma": "i am going to",
    "u": "you", "ur": "your", "r": "are", "ppl": "people", "pple": "people", "sum1": "someone",
    "some1": "someone", "sm1": "someone", "every1": "everyone", "evry1": "everyone", "any1": "anyone",
    "no1": "no one", "b4": "before", "bc": "because", "bcuz": "because", "becuz": "because", "cuz": "because",
    "coz": "because", "cus": "because", "bcs": "because", "tho": "though", "thru": "through", "pls": "please",
    "plz": "please", "tmrw": "tomorrow", "tmr": "tomorrow", "tmrrw": "tomorrow", "tmmrw": "tomorrow",
    "tomoro": "tomorrow", "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow",
    "tomorro": "tomorrow", "2morrow": "tomorrow", "2moro": "tomorrow", "2mrw": "tomorrow", "tmw": "tomorrow",
    "tonite": "tonight", "tonights": "tonight is", "yall": "y all",
    "2nite": "tonight", "2night": "tonight", "tn": "tonight", "2day": "today",
    "tday": "today", "rn": "right now", "skool": "school", "skul": "school", "scool": "school",
    "shcool": "school", "skl": "school", "schol": "school", "scholl": "school", "teh": "the", "wit": "with",
    "w": "with", "wo": "without", "msg": "message", "msgs": "messages", "txt": "text", "txts": "texts",
    "txted": "texted", "vid": "video", "vids": "videos", "ig": "instagram", "insta": "instagram",
    "sc": "snapchat", "gc": "group chat", "yt": "youtube", "fb": "facebook", "tt": "tiktok",
    "kms": "kill myself", "kys": "kill yourself", "unalive": "kill", "unalived": "killed",
    "unaliving": "killing", "sewerslide": "suicide", "sh": "self harm", "deadass": "seriously",
    "fr": "for real", "frfr": "for real", "ong": "for real", "ngl": "honestly", "srsly": "seriously",
    "jk": "just kidding", "jp": "just playing", "af": "very", "sus": "suspicious", "rly": "really",
    "h8": "hate", "h8s": "hates", "h8ers": "haters", "gr8": "great", "l8r": "later", "sk8": "skate",
    "w8": "wait", "lmao": "lol", "lmfao": "lol", "lolol": "lol", "haha": "lol", "hahaha": "lol", "xd": "lol",
    "jaja": "lol", "jajaja": "lol", "jajajaja": "lol", "hehe": "lol", "ded": "dead",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "wont": "will not", "cant": "can not",
    "cannot": "can not", "isnt": "is not", "wasnt": "was not", "arent": "are not", "werent": "were not",
    "aint": "is not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "shouldnt": "should not", "wouldnt": "would not", "couldnt": "could not", "im": "i am", "ive": "i have",
    "youre": "you are", "theyre": "they are", "hes": "he is", "shes": "she is", "thats": "that is",
    "theres": "there is", "whats": "what is", "theyll": "they will", "youll": "you will", "itll": "it will",
    "acc": "account", "accs": "accounts", "acct": "account", "accts": "accounts", "sis": "sister",
    "bro": "brother", "pix": "pics",
    # Spanish shorthand.
    "q": "que", "k": "que", "ke": "que", "xq": "porque", "pq": "porque", "porq": "porque", "xk": "porque",
    "tb": "tambien", "tmb": "tambien", "tmbn": "tambien", "bn": "bien", "dsp": "despues", "kiere": "quiere",
    "kieres": "quieres", "eskuela": "escuela",
}
# Dropped g's ("makin", "sayin") for the verbs the plugins look for.
_SLANG.update({
    f"{stem}in": f"{stem}ing" for stem in (
        "mak", "say", "talk", "post", "bring", "go", "try", "do", "com", "send", "text", "fight", "shoot",
        "kill", "hitt", "mess", "jok", "play", "ly", "tripp", "cutt", "hurt", "laugh", "call", "threaten",
        "sell", "bully", "harass", "spread", "shar", "leak", "plann", "bragg", "carry", "hid", "steal",
        "push",
        "pick", "throw", "punch", "kick", "slapp", "follow", "stalk", "yell", "scream", "mock", "roast",
        "hat",
        "snitch", "touch", "jump", "smok", "vap", "cry", "leav", "start",
    )
})
_PHRASES = {
    "no cap": "for real", "on god": "for real", "b c": "because", "w o": "without", "sewer slide": "suicide",
    "self delete": "kill myself", "self terminate": "kill myself", "delete myself": "kill myself",
    "uninstall myself": "kill myself", "un alive": "kill",
    # Kept whole so the "attack" inside never reads as violence, and wellbeing still sees it.
    "panic attacks": "panic_attacks", "panic attack": "panic_attack", "anxiety attacks": "anxiety_attacks",
    "anxiety attack": "anxiety_attack",
}
_PHRASE_RX = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in _PHRASES) + r")\b")

# Only words that start with a letter are decoded, so "4th", "3:30pm" and "20min" survive;
# these weapon and file names start with a letter but are not leet.
_NOT_LEET = re.compile(r"^(?:ar\d+|ak\d+|m\d+|mp\d|g\d+|ps\d)$")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "l"})
_LEET_DIGIT = re.compile(r"[013457]")
# Symbols typed inside a word to dodge filters: "k!ll", "g@y", "$hoot".
_INNER_LEET = re.compile(r"(?<![a-z0-9])\$?[a-z0-9]+(?:[@$!|][a-z0-9]+)+")
_RUN3 = re.compile(r"([a-z])\1{2,}")
# Words worth recovering from stretched spellings ("killlll", "dieeee", "plsss").
_LEXICON = frozenset([
    "kill", "die", "dead", "gun", "shoot", "bomb", "knife", "hate", "ugly", "fat", "hurt", "stab", "fight",
    "help", "please", "so", "no", "yes", "school", "tonight", "tomorrow", "now", "stop", "scared", "sad",
    "cut", "pills", "soon", "gay", "slut", "hoe", "bitch", "loser", "weird", "creep", "sorry", "serious",
    "seriously", "real", "really", "dumb", "stupid", "omg", "lol",
])

# "wants to unalive" with no one after it is about the speaker's own life.
_UNALIVE = re.compile(r"\b(?:unalive|un alive|self delete)\b(?! (?:him|her|them|you|everyone|everybody|people|us|the"
                      r"|a|an|that|this|my|his|their|some|all|every|those|these|ur|u)\b)")
_IMA = re.compile(r"\bi'?m+a\b")
_NT = re.compile(r"\b(\w+)n't\b")
_NT_SPECIAL = {"wo": "will", "ca": "can", "ai": "is", "sha": "shall"}
_CONTRACTION = re.compile(r"\b(\w+)'(ll|re|ve|m|d|s)\b")
_CONTRACTED = {"ll": "will", "re": "are", "ve": "have", "m": "am", "d": "would"}
# "'s" is "is" after these; elsewhere a possessive, dropped ("kid's backpack" -> "kid backpack").
_IS_WORDS = frozenset(["he", "she", "it", "that", "there", "what", "who", "where", "here", "everyone",
                       "someone", "somebody", "nobody", "this"])
_JUNK = re.compile(r"[^a-z0-9*.,;:?!\s]")
# Punctuation becomes its own token; "3:30" and "9.5" keep theirs.
_PUNCT = re.compile(r"[,;!?]+|(?<!\d)[.:]+|[.:]+(?!\d)")


def _squeeze(token: str) -> str:
    two = _RUN3.sub(r"\1\1", token)
    if two in _LEXICON or two in _SLANG:
        return two
    one = _RUN3.sub(r"\1", token)
    return one if one in _LEXICON or one in _SLANG else two


def _word(token: str) -> str:
    if token in _SLANG:
        return _SLANG[token]
    if _LEET_DIGIT.search(token) and token[0].isalpha() and not _NOT_LEET.match(token):
        token = token.translate(_LEET)
    if _RUN3.search(token):
        token = _squeeze(token)
    return _SLANG.get(token, token)


def _not(match: re.Match[str]) -> str:
    head = match.group(1)
    return f"{_NT_SPECIAL.get(head, head)} not"


def _contraction(match: re.Match[str]) -> str:
    head, tail = match.group(1), match.group(2)
    if tail == "s":
        return f"{head} is" if head in _IS_WORDS else head
    return f"{head} {_CONTRACTED[tail]}"


def normalise(text: str) -> str:
    """Lower-case ASCII with emoji, contractions, leet, stretched letters and slang resolved."""
    s = text.translate(_CHARS).lower()
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    s = _IMA.sub("i am going to", s)
    s = _NT.sub(_not, s)
    s = _CONTRACTION.sub(_contraction, s)
    s = _INNER_LEET.sub(lambda m: m.group(0).translate(_LEET), s)
    s = _JUNK.sub(" ", s.replace("'", " ").replace('"', " "))
    s = _PUNCT.sub(lambda m: f" {m.group(0)[0]} ", s)
    s = _UNALIVE.sub("kill myself", s)
    s = " ".join(_word(t) for t in s.split())
    return _PHRASE_RX.sub(lambda m: _PHRASES[m.group(0)], s)


# --------------------------------------------------------------------------------------
# Figurative and benign uses, replaced by a neutral token before any plugin matches, so
# "this test is killing me" never reaches a threat or wellbeing pattern.

_FIG = "_fig_"
_SCHOOLWORK = (
    r"(?:test|tests|exam|exams|quiz|quizzes|homework|hw|project|projects|essay|essays|class|classes|math|chem"
    r"|chemistry|bio|biology|physics|history|english|practice|workout|finals?|midterms?|this|that|it|traffic"
    r"|heat|wait|line|schedule|stress|cramps|shoes|feet|back|work|week|day|school|teacher|coach|lecture)"
)
_SPORT = (
    r"(?:game|games|match|championship|finals?|playoffs?|tournament|tourney|meet|scrimmage|debate"
    r"|competition|court|field|rematch|semis|semifinals?|race|round|season|fortnite|2k|madden|fifa"
    r"|valorant|smash|chess|trivia|quiz bowl|battle of the bands|spelling bee|homecoming|tryouts|regionals"
    r"|states|sectionals|nationals)"
)
_BEAT = (r"(?:murder|murdered|murdering|kill|killed|killing|destroy|destroyed|destroying|smash|smashed"
         r"|crush|crushed|crushing|smoke|smoked|smoking|bury|wreck|wrecked|slaughter|slaughtered|annihilate"
         r"|demolish|obliterate|massacre|dominate|beat|cook|cooked|eat|ate|whoop)")
_KILL = "kill kills killed killing murder murdered murdering ending"
_STUDY_TOPIC = (
    r"(?:school shootings?|shootings?|mass shootings?|columbine|bombings?|the holocaust|holocaust|racism"
    r"|slavery|segregation|(?:the )?civil rights(?: movement)?|suicide(?: prevention)?|bullying"
    r"|cyberbullying|world war \w+|wwii|ww2|nazis?|hitler|the kkk|discrimination|genocide|terrorism|9 11"
    r"|drugs|vaping|self harm)"
)
# (trigger words, pattern): a guard runs only when one of its words is in the tip, which
# keeps analysis cheap since most tips trigger none.
_GUARD_TABLE: tuple[tuple[str, str], ...] = (
    # Schoolwork, weather or parents "killing" someone.
    (_KILL,
     _SCHOOLWORK + r"(?: \w+)? (?:is|are|was|were|will|would|going to|about to)? ?"
     r"(?:literally |actually |so )?"
     r"(?:killing|kill|killed|murdering|murder|going to kill|ending) (?:me|us)\b"),
    ("kill murder",
     r"\b(?:mom|dad|mother|father|parents|mama|papa|mum)(?: \w+){0,2} (?:will|would|is going to|are going to)"
     r" (?:literally )?(?:kill|murder) me\b"),
    # Killing over trivia: "she'll kill me if I eat her fries". Never "if I tell".
    ("kill murder",
     r"\b(?:kill|murder) (?:me|you|him|her|us|them|my \w+|his \w+|her \w+) if (?:i|you|he|she|we|they)"
     r" (?:\w+ ){0,2}?(?:spoil\w*|eat\w*|ate|touch\w*|use\w*|take\w*|took|steal\w*|stole"
     r"|borrow\w*|wear\w*|wore|forget\w*|forgot|lose|lost|miss\w*|skip\w*|finish\w*|beat|drop\w*|break|broke"
     r"|scratch\w*|mess\w* up (?:my|his|her) (?:hair|shoes|car))\b"),
    # Sports and games: "murder them in the championship", "we'll destroy westfield at homecoming".
    (_KILL + " destroy destroyed destroying crush crushed crushing smash smashed smoke smoked smoking bury"
     " wreck wrecked"
     " slaughter slaughtered annihilate demolish obliterate massacre dominate beat cook cooked eat ate whoop",
     r"\b" + _BEAT + r" (?:them|em|those guys|the other team|\w+ high|everyone|everybody|you guys|y all)"
     r" (?:\w+ )?(?:in|at|on|during|this|next|on the|in the|at the) (?:the )?(?:\w+ )?" + _SPORT
     + r"|\b(?:we|we are|we will|were|our \w+|the team|us) (?:are |will |would )?(?:going to |about to )?"
     r"(?:absolutely |totally )?" + _BEAT + r"\b(?: \w+){1,3} (?:at|in|on|during|this|next)\b(?: \w+){0,3}? "
     + _SPORT + r"|\b" + _BEAT + r" (?:the other (?:team|side|squad)|(?:our|their) rivals?|the opponents?)\b"),
    # A coach or team talking up a rally or a game: "the coach said we're gonna kill em at the pep rally".
    (_KILL + " destroy crush smash wreck bury",
     r"\b(?:we|we are|we will|our team|the team) (?:are |will )?(?:going to |about to )?(?:absolutely |totally )?"
     r"(?:kill|destroy|crush|smash|wreck|bury|murder) (?:em|them|it|those guys|the \w+)"
     r" (?:at|in|during) (?:the )?(?:pep rally|rally|football game|basketball game|big game)\b"),
    # A threat to the reporter over a trifle, marked as a joke in the same sentence: "she'd stab
    # me if i told her crush lol, obviously joking". Never a joke marker alone ("tmrw lol").
    ("kill stab shoot murder punch slap end",
     r"\b(?:kill|stab|shoot|murder|punch|slap|end) (?:me|you|us) if (?:i|you|we) [^.!?;]{0,60}?"
     r"(?:just kidding|just playing|\b(?:obviously|clearly|only|totally|was|were|just) (?:joking|kidding"
     r"|playing)\b)"),
    ("shoot shot shooting kill killed killing kills snipe sniped sniping",
     r"\b(?:shoot|shot|shooting|kill|killed|killing|kills|snipe|sniped|sniping)\b(?: \S+){0,6}"
     r" (?:in|on|playing)"
     r" (?:fortnite|cod|call of duty|valorant|roblox|minecraft|gta|apex|overwatch|halo|among us|the game"
     r"|video games?|2k|paintball|laser tag|airsoft)"),
    ("kill killed killing kills slay slayed slays slaying slain ate crushed crushing nailed destroyed",
     r"\b(?:kill|killed|killing|kills|slay|slayed|slays|slaying|slain|ate|crushed|crushing|nailed)"
     r" (?:it|that \w+|the (?:test|exam|solo|performance|show|concert|game|audition|presentation|stage))\b"
     r"|\b(?:slay|slayed|slays|slaying|killed|killing|crushed|crushing|destroyed) (?:at|in) (?:the )?"
     r"(?:concert|show|performance|recital|game|talent show|audition|competition)"
     r"|\b(?:absolutely|totally|literally) (?:slayed|killed it|ate)\b"),
    # Shooting that is not shooting.
    ("shoot shooting shot shoots photo video senior yearbook flu give gave giving oh long",
     r"\b(?:shoot|shooting|shot|shoots) (?:hoops|baskets|free throws|threes|3s|the ball|around|a video|videos"
     r"|photos|pictures|pics|film|a film|a movie|a scene|a tiktok|content|my shot|your shot|his shot|her shot"
     r"|for the stars|me a (?:text|message|dm|email)|the breeze|pool)\b"
     r"|\b(?:photo|video|senior|yearbook) shoots?\b|\bshooting (?:guard|star|stars)\b|\bflu shots?\b"
     r"|\b(?:give|gave|giving) it a shot\b|\bshot (?:put|clock)\b|\boh shoot\b|\blong shot\b"),
    # Dying, dead and killer in the everyday sense.
    ("die died dying dead deceased deadline deadlines kill killer killers painkiller painkillers overkill"
     " murder",
     r"\b(?:i would|would|to) die for\b|\bdying to (?:see|go|get|try|know|meet|watch|hear)\b"
     r"|\b(?:died|dying|dead|die) (?:of|from|laughing|lol|skull|crying)\b"
     r"(?: (?:laughing|laughter|embarrassment|lol))?"
     r"|\b(?:i am|literally|lowkey) (?:literally )?(?:dying|dead|deceased)(?: (?:lol|skull|crying))+"
     r"|\b(?:dead|died|dying) (?:tired|serious|silent|last|end|week|battery|phone)\b"
     r"|\b(?:phone|battery|chromebook|laptop|ipad|plant|fish|car) (?:is |was |just )?(?:dead|died|dying)\b"
     r"|\bdeadlines?\b|\bkill (?:time|the lights|two birds)\b|\bkiller (?:workout|app|whale|queen|game)\b"
     r"|\b(?:pain|bug|weed) ?killers?\b|\boverkill\b|\bmurder (?:mystery|mysteries|podcast|documentary)\b"
     r"|\b(?:i|we|almost|nearly) (?:almost |nearly )?died\b(?: (?:lol|skull|crying|laughing))*"),
    # Bombs and fire that are not.
    ("bomb bombed bombing bombs photobomb photobombed fire fired blow blowing blown blows blew",
     r"\bbomb(?:ed|ing)? (?:the|that|my|this|a|his|her) (?:test|quiz|exam|interview|presentation|audition"
     r"|final)\b|\b(?:photo|bath|f|da|the) bombs?\b|\bphotobomb\w*\b|\bthe bomb dot com\b"
     r"|\bfire (?:drill|alarm drill)s?\b|\bfired up\b|\bthat is fire\b|\bon fire\b(?= lol| fire_emoji)"
     r"|\bblow(?:ing|n|s)? up (?:my|his|her|the) (?:phone|notifications|dms|chat|group chat)\b"
     r"|\bblew up (?:on|online)\b|\bblow(?:ing)? up balloons\b"),
    # Weapons that are not weapons.
    ("gun guns bullet knife knives weapon weapons sword swords rifle rifles",
     r"\b(?:nerf|glue|water|squirt|finger|staple|heat|spray|toy|fake|prop|plastic|cardboard|cap"
     r"|paintball|foam) (?:guns?|knife|knives|swords?|weapons?|rifles?)\b"
     r"|\b(?:gun|knife|sword|weapon) props?\b"
     r"|\bgun show\b|\bjump(?:ed)? the gun\b|\bstick(?:ing)? to (?:my|your|his|her) guns\b|\btop gun\b"
     r"|\bbullet (?:points?|journal)\b|\b(?:dodged|bite) the bullet\b|\bbutter knife\b|\bsecret weapon\b"),
    # Attacks and fights that are not.
    ("attack attacks fight fights fighting hit crush hang hanging cut cutting haircut haircuts cuts nazi",
     r"\b(?:panic|heart|asthma|anxiety) attacks?\b|\battack on titan\b"
     r"|\b(?:food|pillow|snowball|water balloon|nerf|tickle|dance|rap) fights?\b|\bfight song\b"
     r"|\bfight(?:ing)? (?:for|against) (?:\w+ )?(?:rights|justice|equality|cancer|the title|a spot)\b"
     r"|\bhit (?:me|us) up\b|\bhit the (?:books|gym|road)\b|\b(?:have|had|has) a crush\b|\bhang(?:ing)? out\b"
     r"|\bhang in there\b|\bcut(?:ting)? (?:class|in line|the line)\b|\bhair ?cuts?\b|\bpaper cuts?\b"
     r"|\bgrammar nazi\b"),
    # Violence or bias as a subject of study, a drill or the news, with any topics listed
    # alongside ("the civil rights movement and racism").
    ("shooting shootings columbine bombing bombings holocaust racism slavery segregation civil suicide"
     " bullying cyberbullying world wwii ww2 nazi nazis hitler kkk discrimination genocide terrorism 9 drugs"
     " vaping self",
     r"\b(?:documentar(?:y|ies)|movie|film|book|novel|lesson|unit|article|news|report|essay|project"
     r"|presentation|lecture|assembly|podcast|show|video|debate|training|simulation|vigil|memorial"
     r"|anniversary|awareness|prevention|history|discuss(?:ed|ing|ion)?|learn(?:ed|ing)?|stud(?:y|ied|ying)"
     r"|read(?:ing)?|watch(?:ed|ing)|talk(?:ed|ing)? about|wrote about|writing about)\b(?: [^\s.!?;]+){0,6}?"
     r" (?:about |on |of )?(?:the )?" + _STUDY_TOPIC + r"(?:(?: ,| and| or)+ (?:the )?" + _STUDY_TOPIC
     + r")*\b"),
    # Reassurance: "nobody is going to get hurt".
    ("nobody no nadie",
     r"\b(?:nobody|no one|nadie) (?:is going to|will|would|got|gets|was|is|se)(?: \w+)? (?:get |be )?"
     r"(?:hurt|harmed|killed|shot|injured|lastimad[oa]|herid[oa]|lastimo)\b"),
    ("drill drills training",
     r"\b(?:lockdown|intruder|active shooter|evacuation|shelter in place|fire|alice) (?:drills?|training)\b"),
)
_GUARDS: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = tuple(
    (frozenset(triggers.split()), re.compile(pattern)) for triggers, pattern in _GUARD_TABLE
)


def _unfigure(text: str) -> str:
    tokens = set(text.split(" "))
    for triggers, pattern in _GUARDS:
        if not triggers.isdisjoint(tokens):
            text = pattern.sub(_FIG, text)
    return text


# --------------------------------------------------------------------------------------
# Negation: "not going to hurt", "no quiere", "never said". A cue governs the rest of its
# clause, and a reported clause after a speech verb ("never said he would...").

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


# --------------------------------------------------------------------------------------
# The analysed tip.

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


# --------------------------------------------------------------------------------------
# Gates: which words a pattern's matches can start at, read off its source once.

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


# --------------------------------------------------------------------------------------
# Rules.


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


# --------------------------------------------------------------------------------------
# Shared rules built from the vocabulary above (they need the rule classes).

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
