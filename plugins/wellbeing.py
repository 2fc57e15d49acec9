"""Wellbeing workflow: self-harm, suicide risk, eating disorders, abuse or neglect, a student
in crisis, and its triage vote.

The vote asks for a police welfare check ("immediate.welfare") when a life is at risk now:
an attempt in progress, a plan for tonight with the means at hand, or abuse a child has
disclosed. Everything else goes to the counselor with the school administration.
"""

from __future__ import annotations

from plugins.triage import (
    RESOLVED,
    SUICIDE,
    SUICIDE_NEGATIVE,
    TOLD_TO_DIE,
    AnyOf,
    Doc,
    Matcher,
    Near,
    doc_for,
    overlaps,
    remembered,
    words,
)
from tipline.hookspecs import hookimpl
from tipline.types import RecordField, Reminder, Step, TipDraft, Vote, Workflow

KEY = "wellbeing"

CONCERNS = (
    "self-harm", "suicide risk", "eating disorder", "physical abuse", "sexual abuse", "neglect",
    "substance use", "crisis", "other",
)
RISK_LEVELS = ("low", "moderate", "high", "imminent")

WORKFLOW = Workflow(
    key=KEY,
    title="Student wellbeing",
    description="Self-harm, suicide risk, abuse or neglect, or a student in crisis: a counselor responds, "
    "police make a welfare check when a life is at risk now, and the mandated report is made.",
    roles=("school-admin", "counselor"),
    reminders=tuple(
        Reminder("Mandated report: suspected abuse or neglect must be reported to child protective services "
                 "by you, the staff member who learned of it, within the time the law sets. Telling a "
                 "colleague or the police does not make the report for you.", signal)
        for signal in ("wellbeing.abuse", "wellbeing.neglect")
    ),
    steps=(
        Step(
            "counselor_response",
            "Counselor response",
            "See the student the same day. Assess risk with the district's screening and involve the "
            "school psychologist and the family unless that would put the student at risk.",
            (
                RecordField("concerns", "Concerns", "multi", CONCERNS),
                RecordField("risk_level", "Risk level", "choice", RISK_LEVELS),
                RecordField("seen_on", "Student seen on", "date"),
            ),
        ),
        Step(
            "welfare_check",
            "Welfare check through police when a life is at risk now",
            "If the student may be in danger now (an attempt in progress, a plan for tonight with the "
            "means, or abuse at home), call 911 or ask police for a welfare check at once.",
            (
                RecordField("welfare_check_requested", "Welfare check requested", "bool"),
                RecordField("welfare_check_notes", "Who was called and when", "text"),
            ),
        ),
        Step(
            "mandated_report",
            "Mandated report to child protective services",
            "If you suspect abuse or neglect, you must report it to child protective services yourself. "
            "It is your own duty as a mandated reporter: telling a colleague, your principal or this "
            "system does not make the report for you.",
            (
                RecordField("report_required", "Abuse or neglect suspected", "bool"),
                RecordField("report_made_on", "Report made to child protective services on", "date"),
                RecordField("report_reference", "Report reference number", "text"),
            ),
        ),
        Step(
            "follow_up",
            "Follow-up",
            "Agree a support plan with the student and family, connect them with partners in mental "
            "health, and check in until the concern is resolved.",
            (
                RecordField("support_plan", "Support plan", "text"),
                RecordField("next_check_in", "Next check-in", "date"),
            ),
        ),
    ),
)

SELF_HARM = words(
    r"(?:cut|cuts|cutting|burn|burns|burning|hurt|hurts|hurting|harm|harms|harming|scratch\w*|hit|hitting"
    r"|starv\w+) (?:myself|himself|herself|themselves|themself)", r"self ?harm\w*",
    r"(?:has been|started|keeps|is|been|was|still) cutting", r"cut(?:ting)? again", r"relaps(?:e|ed)",
    r"until (?:they|it|she|he|i) bleeds?", r"hasta (?:que )?sangr\w+",
    r"(?:se|me) (?:esta |estaba |sigue )?(?:rasgun\w+|rasca\w*|aranya\w+|arana\w+)",
    r"(?:cuts|scars|marks|cortes|cicatrices) (?:on|in|en) (?:her|his|my|their|los|sus)"
    r" (?:arms?|wrists?|legs?|thighs?|brazos|munecas)",
    r"cuts? (?:her|his|my|their) (?:arms?|wrists?|legs?|thighs?)",
    r"(?:se|me) (?:esta |estaba |sigue )?(?:cort\w+|lastim\w+|quem\w+|hace dano)",
    "cortandose", "lastimandose", "cortarse", r"autolesi\w+",
)
EATING = words(
    r"(?:has not|have not|is not|are not|not|never|stopped|refuses to|barely|will not|does not|do not"
    r"|did not) (?:been )?eat(?:ing|s)?", r"(?:has not|have not|not) eaten",
    r"(?:only|barely) eats? (?:like |about |maybe |just |around )?(?:an? |one |half (?:an? )?)?\w+ a day",
    r"(?:can not|could not|does not|do not) (?:sleep (?:or|and) )?eat\b", r"faint(?:s|ed|ing)",
    r"hates? (?:her|his|my|their) (?:body|weight)", r"(?:counting|counts) calories",
    r"skip(?:s|ping)? (?:lunch|meals|breakfast|dinner)",
    r"(?:starv\w+|throw(?:s|ing)? up|vomit\w*|purg\w+) (?:after|herself|himself|myself)", r"purg(?:e|es|ing)",
    r"throw(?:s|ing)? up (?:her |his |my |their )?(?:lunch|food|meals?|dinner|breakfast)",
    r"(?:to|so (?:she|he|i|they) can) lose weight", r"anorexi\w+", r"bulimi\w+", r"eating disorders?",
    "skinnier", r"(?:no|deja de|dejo de) comer", "no come",
    r"(?:no ha|no han) comido", r"vomita\w* (?:\w+ ){0,4}despues de (?:cada |la |el )?(?:comer|comida|almuerzo)",
    r"throw(?:s|ing)? up (?:\w+ ){0,4}after (?:every|each|she eats|he eats|eating|lunch|meals?|dinner)",
)
_CARER = words(
    r"(?:step ?|)(?:dad|father|mom|mother|parents?)", "uncle", "aunt", r"grand(?:pa|ma|father|mother)",
    r"(?:mom|mother)s? boyfriend", "babysitter", "coach", "teacher", "papa", "mama", "padre", "madre",
    "padrastro", "madrastra", "tio", "tia", "abuelo", "abuela", r"novio de (?:su|mi) mama",
)
# English verbs of abuse need a person after them: "hits her", not "hit the gym" or
# "kicked him off the team".
_ABUSE_ACT = (
    r"(?<!\bnot )(?<!\bnever )(?<!\bno )(?<!\bstopped )"
    + words(r"hits?", "hitting", r"beats?", "beating", r"punch(?:es|ed)?", r"slaps?", "slapped", r"kicks?",
          "kicked", r"chok(?:es|ed)", r"burns?", r"touch(?:es|ed)", r"molest\w*", r"abus\w+", r"rap(?:es|ed)",
          r"throws? things at", r"hurts?", "hurting", r"cuts?", r"lock(?:s|ed)? (?:her|him|me) in")
    + r" (?:her|him|me|them|us|my|his|their)\b(?! (?:off|out|up)\b)|"
    + words(r"pega(?:ba|n)?", r"golpea(?:ba|n)?", r"toca(?:ba)?", r"abusa(?:ba)?", r"maltrata(?:ba)?")
)
_INJURY = words(
    r"bruises?", "bruised", r"welts?", r"black eyes?", "burn marks", "cigarette burns", "burns", "moretones",
    "golpes", "marcas", "quemaduras",
)
ABUSE = AnyOf(
    Near(_CARER, _ABUSE_ACT, 8, ordered=True),
    Near(_INJURY, _CARER, 12),
    words(r"sexual(?:ly)? abus\w+", r"molest(?:ed|ing|s)", r"(?:physical(?:ly)?|child) abus\w+",
          r"bruises? (?:from|because of) (?:her|his|their)", r"(?<!not )(?:scared|afraid) to go home",
          r"miedo (?:de )?ir a (?:su )?casa",
          r"touch(?:es|ed|ing) (?:her|him|me) (?:inappropriately|down there|where)",
          r"private (?:parts|area|areas)", r"privates", r"partes intimas",
          r"makes? (?:her|him|me|them) do (?:stuff|things)", r"does (?:stuff|things) to (?:her|him|me)",
          r"abus(?:o|aron|a) (?:sexual|de)", "maltrato", "moretones",
          # What a young child says instead: "secret games", "bad touches".
          r"(?:secret|special) games?", r"bad touch\w*", r"juegos? secretos?", r"(?:me|la|lo|le) toca (?:ahi|sus|mis)"),
    Near(_CARER, words(r"(?:our|a|their|his|her|little) secrets?",
                       r"comes? in(?:to)? (?:her|his|my) (?:bed)?room at night",
                       r"(?:gets|got) in(?:to)? (?:her|his|my) bed",
                       r"nuestro secreto", r"touch(?:es|ed|ing)? (?:her|him|me|them)"), 14),
)
NEGLECT = words(
    "comes to school hungry", "dirty clothes",
    r"locks? (?:her|him|them|me) out of the house",
    r"sleep(?:s|ing)? (?:at|in) (?:the|a) (?:park|street|car)",
    "sleeping outside", r"eat(?:s|ing)? (?:out of|from) the (?:trash|garbage)", r"come de la basura",
    r"(?:parents|mom|dad|papas|padres) (?:are |is )?(?:never|nunca) (?:home|estan|esta|en casa)",
    r"(?:do|does|did) not feed (?:her|him|them|me)", r"(?:do|does|did|will) not let (?:her|him|them|me) eat",
    "can not go home", r"no (?:le|les|me) dan (?:de )?comer",
    r"leaves? (?:her|him|them|me) alone for days", r"no food (?:at home|in the house)", "no hay comida",
    r"(?:lo|la|los) dejan solos? (?:por dias|todo el dia)", r"neglect\w*", r"kicked (?:him|her|me) out",
    r"kicked out of (?:the house|home)", r"sleeping in (?:his|her|their|a) car", "homeless",
    r"nobody (?:feeds|takes care of) (?:her|him)", r"(?:has|have) nowhere to (?:go|sleep|live)",
    r"no (?:tiene|tienen|tengo|hay) (?:nada )?(?:que|de|para) comer", r"(?:llega|viene|va) (?:a \w+ )?sin comer",
    r"duerme(?:n)? en (?:el|un|su) (?:carro|coche|auto|parque|calle|camion)", "en la calle",
    r"(?:la misma|misma) ropa (?:toda la semana|todos los dias|cada dia)",
    r"same (?:dirty )?clothes (?:every day|all week|for days|everyday)",
    r"(?:comes|came|shows up) (?:to school )?(?:hungry|starving|with no (?:lunch|food|coat|jacket))",
    r"(?:alone|sola?) (?:at|a las) (?:\d|6|5|seis|cinco)",
)
CRISIS = words(
    r"(?:came|comes|showed up|was|is|got) (?:to school |to class |in class |at school )?(?:drunk|high|wasted"
    r"|stoned|faded)", r"(?:can not|could not) (?:even )?(?:stand up|walk straight|wake up|stay awake)",
    r"drunk (?:at|in) (?:school|class)", r"overdos\w+", r"(?<!almost )(?<!nearly )passed out",
    r"panic_attacks?", r"anxiety_attacks?",
    r"mental breakdowns?", r"breakdowns?",
    r"crying (?:every day|all the time|in the bathroom|nonstop|constantly)",
    r"depress(?:ed|ion)", "hopeless", r"hates? (?:my|his|her|their) life", "ran away", "runaway",
    r"borrach[oa]", r"drogad[oa]", r"deprimid[oa]", r"ataques? de panico", "ansiedad",
    r"se escapo de (?:su )?casa",
)
# Drugs and someone made ill by them: a student in crisis, not just a discipline matter.
INTOXICATED = Near(
    words("edibles", "weed", "xanax", "pills", "molly", "lean", r"percs?", "alcohol", "vodka", "drunk",
          "getting high", "was high", "drugs", "dabs", "carts"),
    words(r"(?:got|gets|getting|is|was) (?:really |very |so )?sick", "passed out", r"throw(?:ing|s)? up",
          "hospital", "ambulance", r"overdos\w+", r"can not wake (?:him|her) up", "unconscious", "seizure"),
    12,
)
# An adult in private contact with a child who asks for secrecy: grooming, a child at risk
# now. Both halves are needed: "don't tell anyone about the surprise party" is not grooming.
_ADULT = _CARER + "|" + words("adult", r"older (?:guy|man|boy)", r"(?:\d\d|twenty|thirty) year old")
GROOMING_SECRET = Near(
    _ADULT,
    words(r"(?:not to|do not|never|dont) tell (?:anyone|anybody|her parents|his parents|your parents|her mom"
          r"|his mom)", r"(?:our|a) secret", r"keep (?:it|this) (?:a )?secret", "no le digas a nadie"),
    14,
)
GROOMING_CONTACT = Near(
    _ADULT,
    words(r"snap(?:chat)?s? (?:her|him|me)", r"sends? (?:her|him|me) (?:snap\w*|texts?|dms?|messages?|pics?)",
          r"text(?:s|ed|ing)? (?:her|him|me)", r"dm(?:s|ed)? (?:her|him|me)", "late at night", r"alone with",
          r"gifts?", "pretty", "sexy", r"touch\w*", r"kiss\w*", r"(?:le|me) manda mensajes"),
    14,
)
# Worries that open the workflow only when the reporter picked "crisis".
WORRY = words(
    "sad", "lonely", "stressed", "anxious", r"not (?:ok|okay)", "struggling", r"worried about (?:her|him|my)",
    "crying", "triste", r"sol[oa]", r"preocupad[oa]",
)
_NOW = words(
    "tonight", "today", "right now", "now", "this afternoon", "after school today", "in an hour",
    "esta noche",
    "hoy", "ahorita", "ahora",
)
# Medicines and drugs by class or by the endings their names share: any of them taken in bulk,
# or held with a plan, is the means.
DRUG = words(
    r"pills?", r"meds?", r"medications?", r"medicines?", r"prescriptions?", "tylenol", "advil", r"ibuprofen",
    r"aspirin", r"benadryl", r"xanax", r"insulin(?: pens?)?", r"painkillers?", r"sleeping pills", r"antidepressants?",
    r"acetaminophen", r"nyquil", r"melatonin", r"adderall", r"oxy\w*", r"percocets?", r"percs?", r"fentanyl",
    r"lithium", r"tramadol", r"zoloft", r"prozac", r"lexapro", r"seroquel", r"vicodin", r"heroin", r"rat poison",
    r"bleach", r"(?:ami|nor)triptyline", "fluoxetine", "sertraline", r"(?:es)?citalopram", "bupropion", "trazodone",
    "quetiapine", "olanzapine", "risperidone", r"(?:dia|loraz|clonaz)epam", "alprazolam", r"(?:oxy|hydro)codone",
    "methadone", "gabapentin", "propranolol", "metformin", "ambien", "valium", "klonopin", "ativan", "wellbutrin",
    "celexa", "paxil", "effexor", "abilify", "naproxen", "aleve", "motrin", "excedrin", "codeine", "morphine",
    "dramamine", r"antihistamines?", r"opioids?", r"narcotics?", r"(?:blood pressure|heart|diabetes|anxiety|seizure)"
    " (?:meds|medicine|medication|pills)",
    r"pastillas?", r"medicinas?", r"medicamentos?", r"pildoras?", r"insulina",
)
_MEANS = AnyOf(DRUG, words(
    "bottle of", r"guns?", "rope", "bridge", "roof", r"train ?tracks?", "tracks", "train",
    "knife", r"razors?", r"blades?", r"jump(?:ing)? off", "overdose", "building", r"belts?", "garage",
    "puente", "cuerda", "pistola", "navaja", r"vias del tren", "tren",
))
# Goodbye with the means to hand is a suicide message, whatever words come with it.
GOODBYE = Near(words("goodbye", "bye forever", "farewell", "despedida", "adios", r"se despid\w+",
                     "sorry for everything"), _MEANS, 20)
# "doing it tonight" beside the means: a plan set for a time, whatever the means are.
PLAN_WITH_MEANS = Near(
    words(r"(?:doing|do|going to do|about to do) it (?:tonight|today|now|right now|when|after|before|once|this)",
          r"(?:lo va|lo voy) a hacer (?:hoy|esta noche|cuando|ahorita)", r"hacerlo (?:hoy|esta noche|ahorita)"),
    _MEANS, 20,
)
# A note written beside the means and a time: "tonight is the night, she has her dad's gun and
# a note written". The writer's own note, never "a note in my locker".
NOTE_WITH_MEANS = Near(
    words(r"(?:wrote|written|writing|left|leaving|has|had|have) (?:a |her |his |their )?(?:last )?(?:note|letter)",
          r"(?:a|her|his) (?:note|letter) (?:written|ready)", r"escribi(?:o|endo) una carta"),
    _MEANS, 14,
)
# About to jump from a height: "on the roof saying she's going to jump".
JUMP = Near(
    words(r"(?:going to|about to|wants? to|threaten(?:s|ed|ing)? to|will|would|trying to) jump(?! (?:him|her|them"
          r"|a|an|the|my|his|some|rope|in|into|on|over|him)\b)", r"se va a (?:aventar|tirar|lanzar)"),
    words("roof", "bridge", "ledge", "overpass", "window", "balcony", "parking garage", "cliff", "rooftop",
          "techo", "azotea", "puente"),
    10,
)
# On the edge of a drop: a life at risk whatever is said.
HIGH_EDGE = words(
    r"(?:standing|sitting|is|are|was) on (?:the )?(?:edge|ledge|railing|side) of (?:the |a )?(?:\w+ )?(?:roof|bridge"
    r"|overpass|building|parking garage|cliff|rooftop)",
    r"(?:standing|sitting|lying|laying) on (?:the |a )?(?:train |railroad )?tracks",
    r"(?:parad[oa]|sentad[oa]) en (?:la )?orilla del (?:puente|techo|edificio)",
)
# Where someone at risk is now, or that no one can reach them: danger now, not a concern alone.
DANGER_NOW = words(
    r"(?:is|are) (?:on|at|standing on|sitting on|up on) (?:the |a )?(?:\w+ )?(?:roof|bridge|ledge|edge|train tracks"
    r"|tracks|overpass|top of)",
    r"(?:will not|is not|not|does not|did not)"
    r" (?:answer|answering|pick up|picking up|respond|responding|reply)",
    r"no (?:contesta|responde)",
)
# Spelled-out negations that are the emergency: "won't wake up", "no respira".
UNRESPONSIVE = words(
    r"(?:will not|can not|could not) (?:wake up|waking up|wake (?:him|her|them) up)"
    r"(?! (?:well|for|in time|on time|early|until|till|in the mornings?|lol)\b)",
    r"(?:is not|stopped|is barely|are not) breathing(?! (?:well|right|good|through)\b)",
    r"(?:is not|will not|not) respond(?:ing)? to (?:us|anything|anyone|his name|her name|shaking)",
    r"no (?:despierta|respira|reacciona)",
)
IN_PROGRESS = words(
    r"(?:took|taken|swallowed|ate|drank) (?!(?:her|his|my|their) (?:daily |usual |normal )?"
    r"(?:meds|medications?|medicine|pills)\b)(?:\w+ ){0,6}(?:pills?|tylenol|advil|meds|medications?|bottle"
    r"|antidepressants?|prescriptions?|xanax|insulin|ibuprofen|aspirin|benadryl|sleeping pills|painkillers)",
    r"(?:took|swallowed) (?:all|every one) of (?:my|her|his|their)",
    r"(?:cut|cuts|slit) (?:\w+ )?(?:too|really|so) deep",
    r"(?:is|are) (?:cutting|bleeding|overdosing) (?:\w+ )?right now", "overdosed",
    r"slit (?:her|his|their) wrists",
    r"se tomo (?:\w+ ){0,4}(?:pastillas|medicinas|el frasco|antidepresivos)",
    r"(?:is|are) (?:trying to kill|killing) (?:herself|himself)", "texting me goodbye",
    r"(?:will not|can not|does not|would not|did not) stop bleeding", r"bleeding (?:a lot|so much|badly|out)",
    r"(?:cut|cuts|slit) (?:herself|himself|themselves|her|his) (?:\w+ )?(?:really |so |too )?deep",
    r"no (?:para|deja) de sangrar",
    r"sent (?:me )?(?:a )?goodbye",
    # The body failing now: an overdose or alcohol poisoning, whatever was taken.
    r"(?:is|was|went|are) (?:unconscious|unresponsive|turning (?:blue|gray|grey|purple|pale))",
    r"(?:lips|face|skin) (?:are |is |went |turning |look |looks )?(?:blue|purple|gray|grey)",
    r"(?:labios|cara) (?:\w+ )?(?:morados?|azul(?:es)?)", r"inconsciente",
    # Cutting where someone is now, or blood on the floor: not a habit described, an injury now.
    r"(?:is|are) (?:cutting|bleeding)(?: herself| himself| themselves)? (?:in|inside|at) (?:the|a|her|his) ",
    r"se esta (?:cortando|desangrando) (?:ahorita|ahora|right now|en el)",
    r"blood (?:all )?(?:over|on) the (?:floor|sink|bathroom)",
    r"sangre (?:por todo el|en el) (?:piso|suelo|bano)",
)

# An ordinary dose for an ordinary ache: "took 2 advil for her headache".
ORDINARY_DOSE = words(
    r"for (?:his|her|my|their|a|the) (?:\w+ )?(?:headache|migraine|cramps|fever|cold|flu|allergies|back|pain"
    r"|toothache|period|cough)", "as prescribed", r"like (?:the|his|her|my) doctor (?:said|told)",
)
# Any medicine taken in bulk: "took like 20 of her mom's amitriptyline".
TOOK_DRUG = Near(
    words("took", "taken", "swallowed", "downed", "ate", "drank", r"se tom(?:o|aron)"),
    Near(words("all", "a bunch", "a lot", "a handful", "handful", "too many", "the whole", "every", r"\d\d+",
               "bunch", "lots", "tons", "todas", "un monton", "muchas", "un frasco", "a bottle", "bottle"), DRUG, 5,
         ordered=True),
    2, ordered=True,
)

_AFFIRMED = Matcher({
    "suicide": AnyOf(SUICIDE, GOODBYE, NOTE_WITH_MEANS, JUMP, HIGH_EDGE, PLAN_WITH_MEANS),
    "plan_means": PLAN_WITH_MEANS,
    "ordinary_dose": ORDINARY_DOSE,
    "self_harm": SELF_HARM,
    "crisis": AnyOf(CRISIS, INTOXICATED),
    "worry": WORRY,
    "in_progress": AnyOf(IN_PROGRESS, TOOK_DRUG),
    "now": _NOW,
    "means": _MEANS,
})
# Told as over or elsewhere ("is out of the hospital", "on the news"): not danger now.
_RESOLVED = Matcher({"resolved": RESOLVED}, negatable=False)
# Spelled-out negations are the symptom here ("hasn't eaten", "no food at home").
_FIXED = Matcher({
    "eating": EATING,
    "abuse": ABUSE,
    "neglect": NEGLECT,
    "told_to_die": TOLD_TO_DIE,
    "suicide_negative": SUICIDE_NEGATIVE,
    "danger_now": DANGER_NOW,
    "in_progress": UNRESPONSIVE,
    "grooming_secret": GROOMING_SECRET,
    "grooming_contact": GROOMING_CONTACT,
}, negatable=False)

_SIGNALS = {
    "suicide": "wellbeing.suicide_risk", "self_harm": "wellbeing.self_harm", "abuse": "wellbeing.abuse",
    "crisis": "wellbeing.crisis", "in_progress": "wellbeing.attempt_in_progress",
    "plan_now": "wellbeing.plan_tonight", "danger_now": "wellbeing.danger_now",
    "eating": "wellbeing.eating_disorder", "neglect": "wellbeing.neglect",
    "told_to_die": "wellbeing.told_to_self_harm", "grooming": "wellbeing.grooming",
}
# Every signal name this plugin can emit.
SIGNALS = frozenset(_SIGNALS.values()) | {"immediate.welfare", "police.danger_now"}
_OPENS = frozenset({
    "suicide", "self_harm", "abuse", "crisis", "in_progress", "eating", "neglect", "told_to_die", "grooming",
})
_HIGH = frozenset({"suicide", "self_harm", "abuse", "in_progress", "told_to_die", "grooming"})


def _concepts(doc: Doc) -> set[str]:
    found = _AFFIRMED.hits(doc) | _FIXED.hits(doc)
    if "ordinary_dose" in found and "suicide" not in found:
        found.discard("in_progress")
    own_words = "suicide_negative" in found
    if "suicide" in found and "told_to_die" in found and not own_words:
        # "telling him to go kill himself" is about the sender: suicide counts only if it
        # also appears outside what was said to the target.
        told = _FIXED.spans(doc, "told_to_die")
        if all(overlaps(s, told) for s in _AFFIRMED.spans(doc, "suicide")):
            found.discard("suicide")
    if own_words:
        found.add("suicide")
    # Tips are a sentence or two: a plan and "tonight" anywhere in one are one plan.
    if ("suicide" in found and "now" in found) or "plan_means" in found:
        found.add("plan_now")
    if {"grooming_secret", "grooming_contact"} <= found:
        found.add("grooming")
    return found - {"suicide_negative", "now", "plan_means", "ordinary_dose", "grooming_secret", "grooming_contact"}


def _welfare(found: set[str]) -> bool:
    """A life at risk now: an attempt, a plan for today with the means, or abuse disclosed."""
    return bool(
        "in_progress" in found
        or ("suicide" in found and "danger_now" in found)
        or ("plan_now" in found and "means" in found)
        or bool(found & {"abuse", "grooming"})
    )


def concepts(doc: Doc) -> frozenset[str]:
    """What the rules found in a tip, worked out once per tip; the model reads it too."""
    return remembered(doc, KEY, _concepts)


def vote(tip: TipDraft) -> Vote | None:
    found = set(concepts(doc_for(tip)))
    opens = bool(found & _OPENS) or ("worry" in found and tip.category == "crisis")
    if not opens:
        return None
    police = _welfare(found) and not _RESOLVED.hits(doc_for(tip))
    signals = {_SIGNALS[c] for c in found if c in _SIGNALS}
    if police:
        signals |= {"immediate.welfare", "police.danger_now"}
    priority = "urgent" if police else "high" if found & _HIGH else "normal"
    return Vote(workflows=(KEY,), priority=priority, police=police, signals=tuple(sorted(signals)))


@hookimpl
def tipline_workflows() -> list[Workflow]:
    return [WORKFLOW]


@hookimpl
def tipline_findings(tip: TipDraft) -> list[str]:
    return [f"{KEY}.{c}" for c in sorted(concepts(doc_for(tip)))]


@hookimpl
def tipline_triage(tip: TipDraft) -> Vote | None:
    return vote(tip)
