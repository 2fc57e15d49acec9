"""Threat workflow: the district's threat assessment (CSTAG) and its triage vote.

The vote opens the workflow for an intent or plan to harm people or property, a weapon at
school, a planned fight, a hit list, a bomb or shooting threat, or sextortion. It marks
the tip for immediate police ("immediate.dispatch") when a weapon or explosive comes with a
time, place or target, when there are preparatory steps, when a weapon is at school now,
or for sextortion: the district's own rules for when dispatch is told whatever the hour.
"""

from __future__ import annotations

from plugins.triage import (
    AMMO,
    BLADE,
    EXPLOSIVE,
    GUN,
    HATE_SYMBOL,
    ONLINE,
    PERSON,
    PLACE,
    RESOLVED,
    SELF,
    SEXTORTION,
    SLUR,
    SUICIDE,
    SUICIDE_NEGATIVE,
    TIME,
    WEAPON,
    AnyOf,
    Doc,
    Matcher,
    Near,
    doc_for,
    near,
    remembered,
    words,
)
from tipline.hookspecs import hookimpl
from tipline.types import RecordField, Step, TipDraft, Vote, Workflow

KEY = "threat"

CLASSIFICATIONS = ("transient", "serious substantive", "very serious substantive")
CREDIBILITY_FACTORS = (
    "Specificity of the threat", "Wording and details", "Capability of the suspected individual",
    "Historical context", "Current school events or tensions", "Evidence of preparatory steps",
    "Overall rationality of the threat", "Any other relevant evidence",
)
ACTIONS = (
    "Immediate notification of law enforcement", "Securing affected areas", "Reviewing surveillance footage",
    "Interviewing potential witnesses", "Monitoring social media", "Increasing police presence on campus",
    "Action against identified suspects",
)
COMMUNICATIONS = (
    "Targeted message to the affected school community", "Broader message to the entire district",
    "Update as new information became available", "No communication needed",
)
OUTCOMES = ("credible threat", "false threat", "swatting / hoax", "could not be verified")

WORKFLOW = Workflow(
    key=KEY,
    title="Threat assessment (CSTAG)",
    description="Comprehensive School Threat Assessment Guidelines: evaluate the threat, decide whether it "
    "is transient or substantive, respond, and keep the student and school safe.",
    roles=("school-admin", "threat-team", "sro"),
    steps=(
        Step(
            "evaluate",
            "Evaluate the threat",
            "Record the exact words, message or gesture. Interview the student who made the threat, the "
            "person threatened and any witnesses. Do not share or forward the threatening message.",
            (
                RecordField("exact_words", "Exact words or message", "text"),
                RecordField("interviews", "Interviews held (who, when)", "text"),
            ),
        ),
        Step(
            "classify",
            "Transient or substantive threat?",
            "A transient threat is an expression of anger or a joke that is easily resolved; a substantive "
            "threat shows intent to harm. Weigh the credibility factors with the police.",
            (
                RecordField("classification", "Classification", "choice", CLASSIFICATIONS),
                RecordField("credibility", "Credibility factors present", "multi", CREDIBILITY_FACTORS),
            ),
        ),
        Step(
            "respond",
            "Respond to a serious substantive threat",
            "Take the protective actions the threat calls for and notify the intended victims and parents.",
            (RecordField("actions", "Actions taken", "multi", ACTIONS),),
        ),
        Step(
            "safety_evaluation",
            "Safety evaluation for a very serious substantive threat",
            "Screen the student for mental health needs, involve law enforcement, and decide on a safe "
            "return to school.",
            (
                RecordField("police_involved", "Law enforcement involved", "bool"),
                RecordField("evaluation", "Safety evaluation findings", "text"),
            ),
        ),
        Step(
            "safety_plan",
            "Implement and monitor a safety plan",
            "Write the plan, name who monitors it, and review it until the concern is resolved.",
            (
                RecordField("plan", "Safety plan", "text"), RecordField("review_date", "Next review", "date"),
            ),
        ),
        Step(
            "communicate",
            "Communicate with the school community",
            "Balance safety with calm: inform those directly affected, avoid needless alarm in other "
            "schools, and send updates as new information becomes available.",
            (RecordField("communications", "Communications sent", "multi", COMMUNICATIONS),),
        ),
        Step(
            "outcome",
            "Outcome",
            "Treat every threat as real until it is verified or dismissed. For a false threat or "
            "swatting, work with the police to trace its source.",
            (
                RecordField("outcome", "False threat / swatting outcome", "choice", OUTCOMES),
                RecordField("source_identified", "Source of a false threat identified", "bool"),
            ),
        ),
    ),
)

# --------------------------------------------------------------------------------------
# Vocabulary.

# Spanish reflexives ("se quiere matar", "me voy a matar") are about the speaker's own life.
_NOT_REFLEXIVE = r"(?<!\bse )(?<!\bme )"
INTENT = _NOT_REFLEXIVE + words(
    "will", "would", "going to", "about to", r"wants? to", "wanted to", r"plans? to", "planning to",
    "planned to", r"threaten(?:s|ed|ing)? to", "promised to", "swore to", r"tr(?:y|ies|ying) to",
    r"intends? to", "ready to", "should", "let us", "lets", "va a", "van a", "voy a", "vamos a", "vas a",
    "iba a", "iban a", r"quier(?:e|en|o)", "piensa", "planea", "amenazo con",
    # Purpose clauses: "so he can handle business at school", "la va a esperar para golpearla".
    r"so (?:he|she|they|i|we|you) (?:can|could)", "in order to", "para",
)
_NOT_SELF = r"(?! " + SELF[2:] + r")"
# "the shooting range", "shooting club": a sport, not harm.
_NOT_SPORT = r"(?! (?:range|ranges|club|team|sports?|lessons|competitions?|practice|match)\b)"
# Verbs of harm that are a threat without naming anyone ("he's going to shoot").
HARM = words(
    r"kill(?:s|ing)?", r"murder(?:s|ing)?", r"shoot(?:s|ing)?(?: up)?", r"stab(?:s|bing)?", "slit",
    r"attack(?:s|ing)?", r"beat(?:s|ing)? (?:\w+ )?up", r"beat (?:his|her|their|your|the) (?:ass|butt|face)",
    r"fight(?:s|ing)?", r"punch(?:es|ing)?", r"smash(?:es|ing)?", r"bash(?:es|ing)?", r"chok(?:e|es|ing)",
    r"strangl(?:e|es|ing)", r"rap(?:e|es|ing)", r"blow(?:s|ing)? up", r"burn(?:s|ing)? (?:down|up)",
    "massacre", "torture", "kidnap", "terrorize", r"hunt (?:\w+ )?down", r"make (?:\w+ )?(?:pay|regret)",
    "square up", "throw hands", r"catch (?:these|them|the) hands", "whoop", r"mess (?:\w+ )?up",
    r"f(?:uck|uk|ck|k)\w* (?:\w+ )?up", r"break (?:his|her|their|your) (?:face|legs?|neck|jaw|nose|arms?)",
    r"(?:destroy|wreck) the (?:school|building)", r"handle (?:it|business)", r"matar(?:lo|la|los|las|te)?",
    r"disparar(?:le|les)?", r"balear(?:lo|la|los|las)?", "balacear", r"apunalar(?:lo|la)?",
    r"acuchillar(?:lo|la)?", r"lastimar(?:lo|la|los|te)?", "herir", r"golpear(?:lo|la|los|te)?",
    r"pegar(?:le|les)", r"dar(?:le|les)? una (?:golpiza|paliza|madriza)", r"partir(?:le)? la (?:cara|madre)",
    r"agarrar(?:lo|la|los)? a golpes", r"romper(?:le)? la cara", "pelear", "atacar", "quemar", "incendiar",
    # Property: "trash her classroom", "egg his car", "slash the tires".
    r"trash (?:\S+ ){0,3}?(?:classroom|room|car|truck|house|locker|office|desk|stuff|things)",
    r"egg (?:\S+ ){0,3}?(?:car|truck|house)", r"key (?:\S+ ){0,3}?(?:car|truck)", r"slash (?:\S+ ){0,3}?tires",
    r"vandaliz\w+", r"(?:rayar|romper|ponchar)(?:le)? (?:el|la|las|los|su|sus) (?:\w+ )?(?:carro|coche|llantas|salon"
    r"|ventanas)",
    r"hacer(?:le|les)? dano", r"arreglar(?:lo|la|los|las|te)", "arreglar a",
) + _NOT_SELF + _NOT_SPORT
_RIVALS = words(r"(?:the|that|this) (?:other )?(?:school|team|kids?|side|squad)")
# Verbs that are a threat only with a person as object: "hurt her", not "it's going to hurt".
HARM_OBJ = Near(
    words(r"hurt(?:s|ing)?", r"harm(?:s|ing)?", "hit", "cut", "jump", "destroy", "slide on", "pull up on",
          "run up on"),
    AnyOf(PERSON, _RIVALS), 1, ordered=True,
)
# Everyday verbs that threaten only a pronoun: "get him", "catch her", never "get my son".
HARM_PRONOUN = Near(
    words("get", "end", "pop", "smoke", "catch", r"take (?:\w+ )?out", "handle", "deal with"),
    AnyOf(words("him", "her", "them", "you", "everyone", "everybody", "y all",
                r"(?:the|that|this) (?:new |other )?(?:kid|boy|girl|guy|snitch|freshman)"), _RIVALS),
    0, ordered=True,
)
# Staff threatened with the same verbs: "come to the board meeting and handle the principal".
HARM_STAFF = Near(
    words("get", "end", "pop", "smoke", r"take (?:\w+ )?out", "handle"),
    words(r"(?:the|that|this|his|her|my|your) (?:\w+ )?(?:principal|teacher|coach|sub|substitute|counselor"
          r"|secretary|sro|officer|bus driver|superintendent|dean)"),
    0, ordered=True,
)
# A named student: "jump maya in the bathroom", "hurt jake after school". A name cannot be
# listed, so the verb must be followed by one word and then a time or a place.
_NAMED = (r"(?!(?:the|a|an|it|in|on|off|into|over|up|out|at|around|rope|ship|start|back|down|through"
          r"|high|class|school|line|home|myself|himself|herself|themselves)\b)[a-z]+")
HARM_NAMED = Near(
    words(r"(?:hurt|jump|hit|stab|shoot|punch|beat up|fight|attack|get|pop|smoke|end|cut)") + " " + _NAMED,
    AnyOf(TIME, PLACE), 3, ordered=True,
)
# Harm that implies a gun, a blade or an explosive by itself.
ARMED_HARM = words(
    r"shoot(?:s|ing)?", r"stab(?:s|bing)?", r"blow(?:s|ing)? up", "pop",
    r"(?:get|be|getting) (?:shot|stabbed)",
    r"disparar(?:le|les)?", r"balear(?:lo|la|los|las)?", "balacear", r"apunalar(?:lo|la)?",
    r"acuchillar(?:lo|la)?",
) + _NOT_SELF + _NOT_SPORT
# Blunt weapons are ordinary objects: they count only with a plan to hurt someone.
BLUNT = words(r"baseball bats?", r"bats?", r"crowbars?", r"hammers?", r"metal pipes?",
r"locks? in (?:a )?socks?",
              r"bates?", r"palos?", r"tubos?",
              # Fireworks hurt people only when someone means them to.
              r"fireworks?", r"firecrackers?", r"m ?80s?", r"cohetes?", r"petardos?")
_TO = r"\bto\b"
# "bring bats to the game to handle the other school": a purpose after bringing or coming.
PURPOSE = Near(
    words(r"bring(?:s|ing)?", "brought", r"com(?:e|es|ing)", "came", "show up", r"meet(?:ing)?",
          r"throw(?:s|ing)?", r"us(?:e|es|ing)", r"set(?:ting)? off", r"light(?:ing)?", "going to", "will",
          r"plan(?:s|ning)? to"),
    AnyOf(*(Near(_TO, verb, 0, ordered=True) for verb in (HARM, HARM_OBJ, HARM_PRONOUN))),
    8, ordered=True,
)
THREAT_PHRASE = words(
    r"you are (?:dead|next|done)", r"your (?:dead|next)", r"(?:you|he|she|they) (?:will|would) regret",
    r"regret (?:it|this)", r"watch (?:your|his|her) back", "i know where you live", "sleep with one eye open",
    r"pay for (?:this|it|what)", r"next (?:one|time) (?:is|will be|is going to be) worse",
    r"(?:everyone|everybody|all of you|you all|y all|they all|you will all) (?:will|are going to|is going to)"
    r" (?:die|see|pay|regret)", r"you will (?:all )?see what happens",
    r"(?:school|they|them|everyone|everybody|people|you|all|teachers?|kids) (?:all )?deserves?"
    r" (?:it|to die|what is coming)", r"something (?:big|bad) (?:is going to|will) happen",
    "bloodbath", r"(?:is|are) going to be a (?:\w+ )?fight", r"there will be a (?:\w+ )?fight",
    r"finish what (?:he|she|they|i|we) started",
    # Choosing victims: "knows exactly who he'd get first".
    r"who (?:he|she|they|i|we) (?:would|will|is going to|are going to|wants? to|plans? to) (?:get|shoot|kill|hurt"
    r"|stab|go after|take out|start with)", r"(?:it|this) is not over",
    r"get what (?:is|they are) coming", r"(?:watch|see|wait and see) what happens",
    r"(?:will|is going to|are going to) find out", "find out the hard way",
    r"(?:you|they|he|she|everyone) will see", "just wait",
    r"(?:will|would|going to|about to) pull up(?! (?:to|for|at the|with snacks)\b)",
    r"practic(?:e|ing) for school",
    # Someone about to be hurt: "everyone at lincoln is getting shot tmrw".
    r"(?:is|are|will be|going to be|going to get|will get|gets|get|getting) (?:shot|stabbed|killed|blown up"
    r"|murdered|shot up|jumped|beat up|hurt)(?! (?:last|yesterday))", "se van a arrepentir",
    r"(?:me|te|se|nos) las (?:va|vas|van|voy|vamos) a pagar", r"(?:sabe|se|sabemos|saben|sabes) donde (?:vive|vives"
    r"|viven|vivo|estudia)", r"knows? where (?:you|she|he|they|i|we) (?:lives?|sleeps?)",
    r"(?:that|the) (?:lockdown )?drill (?:will not|can not|is not going to) (?:save|help)", r"estas muert[oa]",
    r"te vas a morir",
    r"todos van a (?:ver|pagar|morir)", r"(?:te|los|las) voy a matar", r"ya (?:vas|van) a ver",
)
# Words that are a threat only beside a weapon: a gun photo captioned "see you monday".
OMINOUS = words(
    r"see (?:you|y all|everyone|everybody|them|all of you) (?:\w+ )?(?:tomorrow|monday|tuesday|wednesday"
    r"|thursday|friday|soon|at school|at lunch|there|next week)",
    r"(?:it is|its) (?:almost |nearly )?(?:time|the day)", r"(?:tomorrow|today|friday|monday) is the day",
    r"counting down", r"(?:you|they|everyone) (?:will|are going to) see", "soon", "not for long",
    r"last day", "ready", r"(?:nos|los|te) vemos", "ya casi", "pronto", r"(?:come|coming|be) back",
    r"(?:regresar|volver)(?:a)?",
    r"(?:bye bye|goodbye|good bye|bye|rip|adios|farewell) (?:\w+ ){0,2}(?:high|school|middle|elementary|academy|hs"
    r"|escuela|prepa|secundaria)", r"(?:last|ultimo) day (?:of|at|for) (?:\w+ )?(?:high|school|escuela)",
)
# A fight with a time set is a planned fight; "there was a fight yesterday" is not.
_NOT_PAST = r"(?<!\bwas )(?<!\bwere )(?<!\bhad )(?<!\bin )(?<!\binto )"
PLANNED_FIGHT = AnyOf(
    Near(_NOT_PAST + words(r"a (?:\w+ )?fight", "fights", "the fight", r"una (?:\w+ )?pelea", "1v1"),
         AnyOf(TIME, words("planned", "set up", "always", "every")), 6),
    # Slang for a fight that is set: "it's going down saturday", "the beef gets settled at the park".
    Near(words(r"(?:it is|its|it will be|it|shit is|everything is) going down", r"(?:a|un|got|has|have|hay|some|the)"
               r" beef (?:between|with|going on|over|on)", "beef between",
               r"se van a (?:pelear|agarrar|dar|madrear)", r"va a haber (?:una )?(?:pelea|bronca|madriza)",
               r"(?:going to|will|about to) (?:square up|scrap|run (?:it|the fade)|throw hands)", r"(?:meet|meeting)"
               r" up to fight", r"(?:se|nos) (?:van|vamos) a (?:partir|romper) la madre"),
         AnyOf(TIME, PLACE), 12),
)
BRANDISH = AnyOf(
    near(words(r"pull(?:s|ed|ing)"), WEAPON + " on", 2),
    Near(WEAPON, words(r"(?:wav|point|swing|flash|aim)(?:s|ed|ing|in)? (?:it|them|that|the \w+) at",
                       r"(?:wav|point|swing|aim)(?:s|ed|ing|in)? at (?:people|kids|us|him|her|me|them|students)",
                       r"(?:le|les|nos|me) apunt\w+"), 8, ordered=True),
)
# Unconditional warnings that spell out a negation ("don't come to school tomorrow").
WARNING = words(
    r"(?:do not|not to|should not|better not) (?:come|go) to school", r"stay (?:home|away from school)",
    r"no (?:vengan|vayas|vayan) a la escuela", r"no (?:vengan|vayas|vayan) (?:manana|el \w+)",
)
MASS = words(
    r"(?:you will all|you all will|all of you will|everyone will|everybody will|everyone is going to) die",
    r"(?:everyone|everybody|all of you|you all)(?: [a-z0-9]+){0,4} (?:dies|will die|is going to die"
    r"|are going to die|is dead|are dead)",
    r"shoot(?:ing)? up", "shot up", r"school shootings?", r"mass shootings?", "columbine", "active shooter",
    r"(?:kill|shoot|blow up|bomb) (?:everyone|everybody|all of (?:you|them|us)"
    r"|the (?:whole )?(?:school|building))", r"blow (?:the )?(?:school|building) up", "bomb threats?",
    "tiroteo", "balacera", "masacre", "matar a todos",
)
# A shooting or bombing planned or foretold: "planning a shooting at graduation".
MASS_PLAN = words(
    r"(?:plan|plans|planning|planned|plotting|organizing) (?:a|an|the|another) (?:\w+ )?(?:shooting|bombing|attack"
    r"|massacre)",
    r"(?:will|going to|is going to|gonna) be (?:a|an|another) (?:\w+ )?(?:shooting|bombing|attack|massacre)",
)
HIT_LIST = AnyOf(
    words(r"hit ?lists?", r"kill ?lists?", r"death ?lists?", "death note", "lista negra"),
    Near(words(r"lists?", "names", r"listas?", "nombres"),
         words(r"(?:want|wants|wanted|going|plans?|planning|would like|wishes) to"
               r" (?:hurt|kill|shoot|get|attack|stab)",
               r"deserves?", r"(?:hurt|kill|shoot|get|attack|stab|matar|lastimar)", "quiere"),
         6, ordered=True),
    # A list of names the reporter finds ominous: "my name is on it", titled "first".
    Near(words(r"lists? of (?:names|people|kids|students|teachers)", r"names? (?:in|on) (?:a|his|her|the) (?:\w+ )?"
               r"(?:list|notebook|phone|notes)", r"(?:a|his|her) list", r"lista (?:de|con) (?:los |las )?"
               r"(?:nombres|personas|alumnos|gente|estudiantes|companeros)", r"(?:una|su) lista"),
         words(r"(?:my|his|her|their|our) names? (?:is|are|was|were) on", r"(?:i am|he is|she is|we are) on it",
               "titled", "first", "next", "called", "named", r"(?:will|going to|should|are going to) pay",
               "who will", r"se las (?:va|van) a pagar", r"crossed (?:off|out)", "targets", "deserve", "esta en",
               "estan en", r"(?:hates?|can not stand|does not like)", r"(?:le|les) caen? mal", r"odia\w*",
               r"(?:people|kids|students|everyone) (?:he|she|they) (?:hates?|does not like)"),
         12),
    # Names written beside drawings or talk of killing.
    Near(words(r"(?:wrote|writes|writing|written) (?:\w+ ){0,2}names?",
               r"names? (?:written|next to|under|on)"),
         words("shot", "getting shot", "killed", r"guns?", "shooting", r"kill\w*", "bloody", "die"), 10),
)
# Getting a weapon: preparatory only when the tip also carries a threat.
PREP_ACQUIRE = Near(
    words(r"get(?:ting)?", "got", r"grab(?:bing)?", "took", r"steal(?:ing)?", "stole", r"buy(?:ing)?",
    "bought",
          r"borrow(?:ing)?", r"order(?:ed|ing)?", "access to", r"(?:his|her) hands on", r"tak(?:e|es|ing)",
          r"stock(?:s|ed|ing)? up on", r"sav(?:e|es|ed|ing) up for",
          r"practic(?:e|es|ed|ing)",
          r"load(?:ed|ing)?", r"(?:at the|shooting) range", "conseguir", "consiguio", "comprar", "compro",
          "robar", "robo"),
    WEAPON, 5, ordered=True,
)
# Practising with a weapon: "at the range every weekend".
RANGE = words(r"(?:at the|at a|shooting|gun|firing|rifle) ranges?", r"target practice",
              r"practic(?:e|es|ed|ing) (?:his|her|their) (?:aim|shooting)")
# Steps that only make sense as preparation: mapping exits, building a bomb, showing ammunition.
PREP_PLAN = AnyOf(
    Near(words(r"map(?:s|ping|ped)?", r"draw(?:s|ing|n)?", "drew", r"sketch\w*", r"ask(?:s|ed|ing)?",
               r"stud(?:y|ies|ying)", r"count(?:s|ing|ed)?", r"memoriz\w*", "timing", "writing down"),
         words(r"exits?", r"doors?", r"entrances?", r"cameras?", r"floor ?plans?", "layout",
         r"security guards?",
               r"blueprints?", r"when the (?:cops|police|officers?) (?:come|leave|are)"),
         6, ordered=True),
    # Bomb ingredients being put together: "making something with fertilizer and a pipe".
    Near(words(r"mak(?:e|es|ing)", "made", r"build(?:s|ing)?", "built", r"mix(?:es|ed|ing)?"),
         words("fertilizer", "gunpowder", "black powder", "ammonium nitrate", r"pipes? (?:and|with) (?:caps|nails)",
               "fuse", "nails and", "polvora", "fertilizante"), 6),
    Near(words(r"mak(?:e|es|ing)", "made", r"build(?:s|ing)?", "built", "how to make", "instructions for",
               r"research(?:es|ed|ing)?", r"look(?:s|ed|ing)? up", r"search(?:es|ed|ing)?", r"googl\w+",
               r"(?:hacer|fabricar|construir)(?:se)?", r"como hacer", r"busca(?:ba|ndo)?"),
         EXPLOSIVE, 4, ordered=True),
    Near(words(r"show(?:s|ed|ing)?", "has", "had", r"carr(?:y|ies|ying)", "brought", r"keeps?", "kept",
               r"hid(?:ing|es)?", "tiene", "trae", "trajo"),
         AMMO, 5, ordered=True),
    words("manifesto", "counting down to", r"research(?:es|ed|ing)? (?:school )?shootings"),
)
# Scouting how a lockdown would go: how fast police come, which doors lock, where the SRO is.
# Curiosity in a report or a drill asks the same, so it counts only beside a weapon or a threat.
SCOUTING = Near(
    words(r"ask(?:s|ed|ing)?", r"look(?:s|ed|ing)? up", r"googl\w+", r"search(?:es|ed|ing)?",
          r"wr(?:ote|iting|ites) (?:it )?down", r"wants? to know", r"pregunt\w+", r"investig\w+"),
    words(r"how (?:long|fast) (?:it takes )?(?:the )?(?:cops|police|officers|sro|swat)",
          r"(?:police|cop) response times?", r"door alarms?", r"(?:which|what) (?:doors|rooms|classrooms)"
          r" (?:lock|do not lock|can not lock|stay|are (?:unlocked|propped|open))",
          r"(?:where|when) the (?:sro|officer|security guard|guard) (?:is|goes|takes|eats)",
          r"cuanto (?:tarda|tardan) (?:la policia|los policias|la chota)"),
    10, ordered=True)
# Gear for a fight with police, not a hobby: "ordered a plate carrier and magazines".
ARMOR = words(r"plate carriers?", "body armor", r"tactical vests?", r"bullet ?proof vests?", r"chalecos? antibalas")
_POSSESS = words(
    "has", "had", "have", "got", r"carr(?:y|ies|ying)", "brought", r"hid(?:ing|es)?", r"keeps?", "kept",
    r"show(?:s|ed|ing)", r"pull(?:s|ed|ing)(?: out)?", r"flash(?:es|ed|ing)", r"wav(?:es|ed|ing)",
    r"point(?:s|ed|ing)", "saw", "seen", "see", "there is", "there was", "with", "tiene", "trae", "trajo",
    "traia", "vi", "vio", "vimos", "vieron", "saco", "hay", "con", "anda con", "andaba con",
)
_LOCATION = AnyOf(PLACE, words(
    r"backpacks?", r"bags?", r"pockets?", "waistband", "hoodie", "jacket", r"cars?", "on him", "on her",
    "on campus", "right now", "now", "mochila", "bolsa", "bolsillo", "hoy", "today", "at lunch", "at recess",
    r"in (?:\w+ )?period", "in class", "during class", r"en (?:el )?(?:recreo|almuerzo)",
))
PRESENT = AnyOf(
    Near(Near(_POSSESS, WEAPON, 5, ordered=True), _LOCATION, 10),
    near(EXPLOSIVE, words("in", "at", "under", "inside", "en") + r"(?: the| el| la)? " + PLACE[2:], 0),
)
# A weapon shown to people through an app or in a message: threatening beside a time or place.
SHOWN_ONLINE = Near(
    words(r"post(?:s|ed|ing)?", r"dm(?:s|ed|d)?", "sent", r"send(?:s|ing)?", r"captions?", "captioned",
          r"stor(?:y|ies)", r"snap(?:chat)?s?", r"pics?", r"photos?", r"pictures?", r"videos?", r"selfies?",
          r"fotos?", r"subi(?:o|eron)", r"mand(?:o|aron)", "publico", r"airdrop(?:s|ped|ping)?",
          r"(?:written|wrote|writing) on"),
    WEAPON, 6,
)
# Hunting, a range trip with a parent, a gun safety class: a weapon with no one to hurt.
SPORTING = words(r"hunt(?:ing|er)?", r"deer(?: \w+)?", "opening day",
                 r"(?:duck|turkey|elk|dove) season", r"(?:gun|hunter|firearm) safety", "skeet",
                 r"trap shooting", r"cazar", r"caceria", r"camping", r"scouts?", r"fishing", r"whittl\w+",
                 r"(?:is|was) (?:it|that|this) (?:allowed|ok|okay|against the rules)", r"(?:are|is) (?:we|they|kids)"
                 r" allowed", r"(?:can|may|could) (?:he|she|my \w+|i|we|they) bring", r"(?:se puede|puede) traer",
                 r"campamento", r"(?:se puede|puedo|podemos|puede) (?:mandar|llevar|traer)", r"esta prohibid[oa]",
                 r"field day", r"costume", r"disfraz\w*")
BRING = Near(
    words(r"bring(?:s|ing)?", "bringin", "brought", "carry", r"sneak(?:s|ing)?(?: in)?", "traer", "llevar", "meter"),
    WEAPON, 5, ordered=True,
)
# A device left where people are: "a backpack that is ticking", "wires sticking out".
# What a home-made bomb looks like to someone who sees it: a weapon once any threat comes with it.
DEVICE_PARTS = words(r"pipes? (?:and|with) (?:\w+ )?wires?", r"wires? (?:and|with|on|taped to) (?:a |some )?pipes?",
                     r"(?:wires|pipe) (?:and|with) (?:a )?timer", r"timer (?:and|with) wires",
                     r"tubos? (?:y|con) cables", r"cables (?:y|con) (?:un )?tubos?")
DEVICE = words("ticking", r"wires? (?:sticking|coming|hanging) out",
               r"suspicious (?:package|backpack|bag|device|box)", r"paquete sospechoso", r"mochila sospechosa")
# A bomb given a time to go off: "bomb goes off 1:15 wednesday".
BOMB_SET = Near(EXPLOSIVE, words(r"go(?:es)? off", "going off", r"(?:will|is going to|going to) (?:explode|blow)",
                                 r"explod(?:e|es)", r"detonat\w+", "explotar", "explota"), 4)
# A time something is set for, not "today" or "now" that any report carries.
SET_TIME = words(
    "tonight", "tomorrow", r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?", r"\d{1,2}(?::\d\d)? ?(?:am|pm)",
    r"\d{1,2}:\d\d", r"on (?:the )?\d{1,2}(?: \d{1,2}|st|nd|rd|th)?", "noon", "midnight",
    r"(?:jan|feb|march|april|may|june|july|aug|sept|oct|nov|dec)\w* \d{1,2}(?:st|nd|rd|th)?", "esta noche", "manana",
    "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    r"(?:at|during) (?:the )?(?:pep rally|assembly|dance|prom|graduation|game|lunch|dismissal)",
)
# A weapon and a day written or posted to people: "wont save u on the 14th 🔫🔫".
DATED = Near(
    words("wrote", "written", r"writ(?:es|ing)", r"says?", "saying", r"post(?:s|ed)?", r"comments?", "commented",
          r"captions?", "captioned", r"messages?", r"text(?:s|ed)?", r"dm(?:s|ed)?", r"notes?", "graffiti",
          r"stor(?:y|ies)", "dijo", "escribio", "decia", "publico"),
    Near(WEAPON + "(?! threats?)", SET_TIME, 6), 16, ordered=True,
)
# "nothing will save you": a menace that carries its own negation.
MENACE = words(r"(?:will not|can not|is not going to|are not going to|nothing (?:will|can|is going to)"
               r"|no one (?:will|can)|nobody (?:will|can)) save (?:you|y all|them|anyone|everyone|any of you"
               r"|(?:this|the|your) school)",
               r"(?:nadie|nada) (?:te|los|les|la|lo) va a salvar")
# Practising to shoot with an event in mind: "at the range 'for the pep rally'".
RANGE_EVENT = Near(
    RANGE,
    words(r"for (?:the )?(?:pep rally|rally|assembly|dance|graduation|prom|homecoming|school|last day|big day"
          r"|game|(?:mon|tues|wednes|thurs|fri)day)", r"para (?:la |el )?(?:escuela|asamblea|baile|graduacion)"),
    12,
)
ARSON = words(
    r"(?:school|building|gym|place|house|classroom|it) (?:would|will|is going to) go up(?: in flames| fast)?",
    r"burn(?:s|ing)? (?:down )?(?:the )?(?:\w+ )?(?:school|building|gym|place|house)",
    r"burn(?:s|ing)? down (?:the|a|his|her|their|our|that) \w+",
    r"(?:school|building|gym|escuela) (?:will|is going to|going to|va a|is about to)"
    r" (?:burn|quemar\w*|explode|blow up)", r"(?:set|light) (?:the )?(?:\w+ )?on fire", "set fire to",
    r"quemar (?:la|el) (?:escuela|colegio|salon|edificio)", "incendiar", "prender fuego",
)
ARSON_MEANS = words(
    r"gas ?cans?", "gasoline", "lighter fluid", r"lighters?", r"molotovs?", "gasolina", r"encendedor(?:es)?",
    "cerillos", "fosforos",
)
# "die" written at someone; not "wants to die", nor "should die" (a taunt, not a plan).
_DIE = (r"(?<!\bto )(?<!\bgo )(?<!\bshould )(?<!\bwould )(?<!\bwill )(?<!\bi )(?<!\bmay )(?<!\brather )"
        r"\bdie\b(?! for)|\bdeath to\b|\byou are dead\b|(?<!\bnobody )(?<!\bone )(?<!\bwho )\bdies\b")
DEATH_MESSAGE = Near(
    words("wrote", "written", r"writ(?:es|ing)", r"paint(?:ed|ing)?", r"scratch(?:ed|ing)", r"carv(?:ed|ing)",
          "drew", "drawn", r"notes?", r"messages?", r"text(?:s|ed)?", r"dm(?:s|ed)?", r"captions?",
          "captioned",
          r"post(?:s|ed)?", "sent", "saying", "says"),
    _DIE, 8, ordered=True,
)
# A noose drawn by someone's name is a death threat whatever words come with it.
VIOLENT_SYMBOL = Near(
    words(r"nooses?", "hangman", r"crosshairs?", r"targets? (?:on|over) (?:his|her|their)"),
    AnyOf(PERSON, words(r"names?", r"lockers?", r"desks?", r"cars?", r"photos?", r"pics?")), 10,
)
THREAT_WORD = words(r"threat(?:s|en|ens|ened|ening)?", r"amenaz\w+") + r"(?! to (?:tell|report|snitch|call))"
SCARED = words(r"(?:scared|afraid) (?:to (?:go|come) to school|of him|of her|for my life)", "unsafe",
               "not safe", "me da miedo", "tengo miedo")
PAST_VIOLENCE = words("got jumped", r"jumped (?:him|her|a|the)", r"beat (?:\w+ )?up", "fought", "punched",
                      "attacked", "assaulted", "golpearon", "pelea")

# A parent or student asking whether something may come to school: a question, not a weapon there.
PERMISSION = words(r"(?:can|may|could) (?:i|we|he|she|they|my \w+) (?:bring|send|take|pack)",
                   r"(?:puedo|podemos|se puede|puede) (?:mandar|llevar|traer|mandarlo|llevarlo)",
                   r"(?:esta|es) prohibid[oa]", r"(?:is|are) (?:it|that|they|those) allowed",
                   r"allowed to (?:bring|have)")
# A list of names with a line that foretells harm to them: "a paper with 9 names and 'these
# ppl wont make it to june'". Written with its own negation, so matched without scopes.
NAMES_FORETOLD = Near(
    words(r"lists?", r"\d+ names", "names", r"listas?", "nombres"),
    words(r"(?:will not|are not going to|is not going to|not going to|do not|does not)"
          r" (?:make it|be (?:here|around|alive))",
          r"(?:will|are going to) be (?:gone|dead|next|sorry)", r"(?:dead|gone) by", r"(?:are|is) next",
          r"last (?:day|week|month)", r"no (?:van a|llegan a) (?:llegar|durar|vivir)"),
    14,
)
# A death threat aimed at people for who they are: "die" beside a slur or a hate symbol, or
# a noose with a slur, or a real noose left hanging.
_DIE_WORD = words("die", "dies", "death to", "muerte a", "mueran", r"gas (?:the|them|all)", "lynch", "hang")
IDENTITY_DEATH = AnyOf(
    Near(AnyOf(SLUR, HATE_SYMBOL), _DIE_WORD, 6),
    Near(words(r"nooses?", "soga", "horca"), SLUR, 14),
    words(r"(?:real|actual|rope) nooses?", r"nooses? (?:hanging|hung|tied)",
          r"(?:hung|hanging|tied|left) (?:up )?(?:a |an )?(?:real )?noose"),
)

_AFFIRMED = Matcher({
    "weapon": AnyOf(GUN, BLADE, AMMO),
    "explosive": AnyOf(EXPLOSIVE, DEVICE_PARTS),
    "bomb_set": BOMB_SET,
    "range_event": RANGE_EVENT,
    "blunt": BLUNT,
    "harm": AnyOf(Near(INTENT, HARM, 3, ordered=True), Near(INTENT, HARM_OBJ, 3, ordered=True),
                  Near(INTENT, HARM_PRONOUN, 3, ordered=True), Near(INTENT, HARM_NAMED, 3, ordered=True),
                  Near(INTENT, HARM_STAFF, 8, ordered=True),
                  THREAT_PHRASE, PLANNED_FIGHT, PURPOSE, BRANDISH),
    "armed_harm": AnyOf(Near(INTENT, ARMED_HARM, 3, ordered=True), BRANDISH),
    "mass": AnyOf(MASS, MASS_PLAN),
    "mass_intent": AnyOf(Near(INTENT + "|" + words("said", "says", "saying", "posted", r"threaten\w*", "wrote",
                                                   "written", r"notes?"), MASS, 6), MASS_PLAN),
    "hit_list": HIT_LIST,
    "prep_acquire": PREP_ACQUIRE,
    "prep_plan": PREP_PLAN,
    "present": PRESENT,
    "bring": BRING,
    "arson": ARSON,
    "arson_means": ARSON_MEANS,
    "death_message": AnyOf(DEATH_MESSAGE, VIOLENT_SYMBOL),
    "threat_word": THREAT_WORD,
    "suicidal": SUICIDE,
    "past_violence": PAST_VIOLENCE,
    "ominous": OMINOUS,
    "range": RANGE,
    "device": DEVICE,
    "shown_online": SHOWN_ONLINE,
    "armor": ARMOR,
    "scouting": SCOUTING,
})
# Patterns that spell out their own negation, and facts a nearby negation does not undo.
_FIXED = Matcher({
    "warning": WARNING,
    "sextortion": SEXTORTION,
    "dated": DATED,
    "menace": MENACE,
    "hate": HATE_SYMBOL,
    "suicidal_negative": SUICIDE_NEGATIVE,
    "scared": SCARED,
    "time_or_place": AnyOf(TIME, PLACE),
    "target": PERSON,
    "online": ONLINE,
    "sporting": SPORTING,
    "hit_list": NAMES_FORETOLD,
    "permission": PERMISSION,
    "resolved": RESOLVED,
    "identity_death": IDENTITY_DEATH,
}, negatable=False)

# The signal name each concept reports: names only, never text.
_SIGNALS = {
    "weapon": "threat.weapon", "explosive": "threat.explosive", "blunt": "threat.weapon",
    "harm": "threat.intent", "armed_harm": "threat.weapon", "mass": "threat.mass_violence",
    "mass_intent": "threat.mass_violence", "hit_list": "threat.hit_list",
    "prep_acquire": "threat.preparation",
    "prep_plan": "threat.preparation", "present": "threat.weapon_at_school", "bring": "threat.weapon",
    "arson": "threat.arson", "arson_means": "threat.preparation", "death_message": "threat.death_message",
    "threat_word": "threat.reported_threat", "suicidal": "threat.suicidal_ideation",
    "warning": "threat.warning",
    "sextortion": "threat.sextortion", "hate": "threat.hate_symbol", "time_or_place": "threat.time_or_place",
    "target": "threat.target", "online": "threat.online", "armed_threat": "threat.intent",
    "range": "threat.preparation", "device": "threat.explosive", "shown_online": "threat.online",
    "bomb_set": "threat.explosive", "menace": "threat.intent", "dated": "threat.dated_weapon",
    "range_event": "threat.preparation", "armor": "threat.preparation",
    "scouting": "threat.preparation", "identity_death": "threat.death_message",
}
# Every signal name this plugin can emit.
SIGNALS = frozenset(_SIGNALS.values()) | {
    "immediate.dispatch", "police.weapon_with_target", "police.identity_death_threat", "police.harm_then_suicide",
    "police.weapon_at_school", "police.hit_list", "police.sextortion", "police.preparation",
}
# Any of these opens the workflow on its own.
_OPENS = frozenset({
    "harm", "armed_harm", "mass", "hit_list", "present", "bring", "arson", "death_message", "threat_word",
    "warning", "sextortion", "prep_plan", "prep_threat", "armed_threat", "device", "weapon_shown", "bomb_set",
    "dated", "range_event", "menace", "identity_death",
})
# These open it only when the reporter also picked "threat".
_WEAK = frozenset({"weapon", "explosive", "past_violence", "scared", "prep_acquire", "scouting"})
# What turns getting a weapon into a preparatory step.
_THREAT_CONTEXT = frozenset({"harm", "menace", "mass", "hit_list", "threat_word", "warning", "death_message"})
# Each of these alone is a reason for immediate police under the district's rules.
_DISPATCH_ALONE = frozenset({
    "present", "bring", "hit_list", "sextortion", "armed_harm", "prep_plan", "prep_threat", "mass_intent",
    "armed_threat", "device", "weapon_shown", "bomb_set", "dated", "range_event",
})
_ARMED = frozenset({"weapon", "explosive", "armed_harm", "bring", "blunt"})


def _concepts(doc: Doc) -> set[str]:
    found = _AFFIRMED.hits(doc) | _FIXED.hits(doc)
    if "suicidal_negative" in found:
        found.add("suicidal")
    # A weapon beside someone's own wish to die, with no one else named: the wellbeing
    # workflow's welfare case, not a threat to others.
    own_life = "suicidal" in found and not found & (_THREAT_CONTEXT | {"dated", "bomb_set", "present", "bring"})
    if "sporting" in found or own_life:
        found -= {"dated", "range_event"}
    if "sporting" not in found and not own_life:
        if "range" in found:
            # Practising to shoot is getting a weapon ready.
            found |= {"prep_acquire", "weapon"}
        if "ominous" in found and found & _ARMED:
            # "see you monday" under a photo of a rifle.
            found.add("armed_threat")
        if "shown_online" in found and "time_or_place" in found:
            found.add("weapon_shown")
    elif "sporting" in found and not found & _THREAT_CONTEXT:
        # A knife for the camping trip, a rifle for deer season: asked about, not brought to hurt.
        found.discard("bring")
    if "permission" in found and not found & (_THREAT_CONTEXT | {"armed_harm"}):
        # "can my son bring his swiss army knife on the camping trip?": a question, nothing there yet.
        found -= {"bring", "present"}
    if "armor" in found and found & (_ARMED | _THREAT_CONTEXT | {"time_or_place"}):
        # Body armor beside a weapon, a threat or a school: getting ready, like getting a gun.
        found.add("prep_acquire")
    if "scouting" in found and found & (_ARMED | _THREAT_CONTEXT | {"ominous", "prep_acquire"}):
        found.add("prep_plan")
    if "prep_acquire" in found and found & _THREAT_CONTEXT:
        found.add("prep_threat")
    # "sporting" and "ominous" only shape the others here, but the model reads them too.
    return found


def _opens(found: set[str], category: str) -> bool:
    return bool(found & _OPENS) or (bool(found & _WEAK) and category == KEY)


# The district's police evidence, by concept: each names what put the tip over the bar.
_EVIDENCE_ALONE = {
    "present": "police.weapon_at_school", "bring": "police.weapon_at_school",
    "hit_list": "police.hit_list", "sextortion": "police.sextortion",
    "prep_plan": "police.preparation", "prep_threat": "police.preparation", "range_event": "police.preparation",
    "armed_harm": "police.weapon_with_target", "mass_intent": "police.weapon_with_target",
    "armed_threat": "police.weapon_with_target", "device": "police.weapon_with_target",
    "weapon_shown": "police.weapon_with_target", "bomb_set": "police.weapon_with_target",
    "dated": "police.weapon_with_target", "identity_death": "police.identity_death_threat",
}


def evidence(found: set[str]) -> set[str]:
    """The police evidence signals the rules' concepts make: empty when the tip is short of it.
    (``vote`` also finds none in a tip that tells of something over, elsewhere or in a game:
    "last spring a kid brought a knife and it was handled", "a school in ohio had a bomb
    threat", "in fortnite". The workflow still opens and a person reviews it.)"""
    names = {_EVIDENCE_ALONE[c] for c in found if c in _EVIDENCE_ALONE}
    if found & _ARMED and found & {"harm", "warning", "death_message", "menace"}:
        names.add("police.weapon_with_target")
    if "arson" in found and found & {"arson_means", "time_or_place"}:
        names.add("police.weapon_with_target")
    if "death_message" in found and "hate" in found:
        # d049's swastika and "die" on a student's car.
        names.add("police.identity_death_threat")
    if "harm" in found and "suicidal" in found:
        # Someone who wants to die and names whom they would hurt first.
        names.add("police.harm_then_suicide")
    return names


_CONTEXT_ONLY = frozenset({"sporting", "ominous", "permission", "resolved"})


def concepts(doc: Doc) -> frozenset[str]:
    """What the rules found in a tip, worked out once per tip; the model reads it too."""
    return remembered(doc, KEY, _concepts)


def vote(tip: TipDraft) -> Vote | None:
    seen = concepts(doc_for(tip))
    found = set(seen - _CONTEXT_ONLY)
    if not _opens(found, tip.category):
        return None
    proof = set() if "resolved" in seen else evidence(found)
    police = bool(proof)
    signals = {_SIGNALS[c] for c in found if c in _SIGNALS} | proof
    if police:
        signals.add("immediate.dispatch")
    # A threat short of the evidence is not police: a person must look at it now instead.
    return Vote(workflows=(KEY,), priority="urgent" if police else "high", police=police,
                signals=tuple(sorted(signals)), review=not police)


@hookimpl
def tipline_workflows() -> list[Workflow]:
    return [WORKFLOW]


@hookimpl
def tipline_findings(tip: TipDraft) -> list[str]:
    return [f"{KEY}.{c}" for c in sorted(concepts(doc_for(tip)))]


@hookimpl
def tipline_triage(tip: TipDraft) -> Vote | None:
    return vote(tip)
