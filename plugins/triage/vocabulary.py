"""Word classes more than one plugin needs, kept as regex sources so plugins can combine them.

Patterns are written against the normalised text (see ``normalise``): lower case, ASCII only,
contractions expanded, punctuation as separate tokens, one space between.
"""

from __future__ import annotations


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
    "glocks?", r"9 ?mm", "firearms?", "blick(?:y|ies)?", "dracos?", "choppas?", "toolies?",
    r"(?<!\bbra )(?<!\bbag )(?<!\bwatch )(?<!\bbackpack )strap",
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
# Slurs: a bias incident by themselves, a death threat beside "die" or a noose.
SLUR = words(
    r"she ?males?", r"hermafrodita", r"(?:call|calls|called|calling) (?:him|her|them) (?:an? )?(?:it|thing)\b",
    r"(?:call|calls|called|calling) (?:\w+ ){0,8}?(?:a |an )?(?:he ?she|it thing|(?:he she|shemale) and it)\b",
    r"n[i1*]gg(?:a|er|uh|ah|az)s?", r"n words?", r"f[a*]gg?(?:ot)?s?", "dykes?", r"tr[a*]nn(?:y|ies)",
    r"r[e*]t[a*]rd(?:s|ed)?", "r word", r"lesbos?", r"homos?",
    r"spics?", r"wetbacks?", r"beaners?", r"chinks?", r"gooks?",
    r"kikes?", r"towel ?heads?", r"rag ?heads?", r"coons?", r"porch monkeys?", r"sand n\w+",
    r"maricon(?:es)?", r"maricas?", r"jot[oa]s?", r"tortilleras?", r"mojad[oa]s?", r"sudacas?",
    r"retrasad[oa]s?", r"mongolit[oa]s?", r"(?:racial|homophobic|antisemitic|ethnic) slurs?", "slurs?",
)
# Told as handled, elsewhere or make-believe: a knife that the principal already dealt with,
# a school in another state on the news, "it's just a game", a story for English class.
# Evidence for police is about now and here. Past tense alone is not enough ("last week he
# said he'd bring a gun friday" still counts), nor is a game named (threats come through
# game chats).
RESOLVED = words(
    r"(?:already|was|got|been|were|being) (?:handled|dealt with|expelled|suspended|arrested|taken care of|debunked"
    r"|sorted)", r"(?:handled|dealt with) it", r"(?:is|was) (?:out of the hospital|ok now|okay now|fine now)",
    r"(?:on|in) the news", r"saw (?:on|it on) (?:the news|tiktok|tik tok|facebook|instagram)",
    r"(?:in|at) (?:another|the next|a different|a neighboring) (?:state|county|district|town|city)",
    r"(?:neighboring|nearby) (?:district|county)", r"a school in (?:\w+ )?(?:texas|ohio|florida|another|the next)",
    "debunked", r"turned out to be (?:a |an |just |his |her )?(?:\w+ )?(?:lighter|vape|toy|fake|joke|prank|nothing"
    r"|list|replica|airsoft|nerf|draft|rankings)", "this is not a new report", "not a new report",
    r"its (?:just )?a game", r"it (?:is|was) (?:just )?a game", r"(?:es|era) del juego",
    r"short story for (?:english|class)", r"story for (?:english|class)", "lyrics", r"went to court",
    r"not allowed near (?:her|him|them)", r"was a repost",
)
