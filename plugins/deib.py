"""DEIB workflow: the district's seven steps for a bias incident, and its triage vote.

A bias incident is discrimination or harassment by students or staff because of race, color,
ethnicity, national origin, religion, sex, gender identity or expression, sexual
orientation, disability, language, socioeconomic status or body type; hate symbols; or a
barrier that keeps a student out of a program. A mention of a group is not an incident:
the vote needs a slur, a hate symbol, an act against the group, or a barrier.
"""

from __future__ import annotations

from plugins.triage import HATE_SYMBOL, SLUR, Doc, Matcher, Near, doc_for, remembered, words
from tipline.hookspecs import hookimpl
from tipline.types import RecordField, Step, TipDraft, Vote, Workflow

KEY = "deib"

BIAS_TYPES = (
    "race", "color", "ethnicity", "national origin", "religion", "sex", "gender identity or expression",
    "sexual orientation", "disability", "language", "socioeconomic status", "body type", "other",
)
# The revised Code of Conduct is still before the Board; districts replace these lists with
# their own once it is adopted.
INFRACTIONS = (
    "Bias-based harassment", "Use of slurs or hate speech", "Display of hate symbols", "Vandalism",
    "Discrimination in access to a program", "Cyberbullying", "Other",
)
CONSEQUENCES = (
    "Restorative conversation", "Parent or guardian conference", "Loss of privileges", "Detention",
    "In-school suspension", "Out-of-school suspension", "Referral for expulsion", "Staff personnel action",
    "None",
)

WORKFLOW = Workflow(
    key=KEY,
    title="DEIB incident",
    description="A bias incident handled through the district's seven steps, rooted in restorative "
    "justice and education.",
    roles=("school-admin", "deib"),
    steps=(
        Step(
            "safety",
            "Prioritizing safety",
            "Focus first on the safety and well-being of the person affected; make sure they receive the "
            "support and care they need.",
            (RecordField("support_provided", "Support provided to the person affected", "text"),),
        ),
        Step(
            "facts",
            "Gathering facts",
            "Investigate thoroughly to understand what happened, so the response is accurate and fair.",
            (
                RecordField("bias_types", "Bias type(s)", "multi", BIAS_TYPES,
                            help="Recorded for the district's equity data."),
                RecordField("findings", "What happened", "text"),
            ),
        ),
        Step(
            "education",
            "Educational response",
            "Help the student responsible understand why their actions were harmful and how they can "
            "contribute positively to the community.",
            (RecordField("education_given", "Guidance given", "text"),),
        ),
        Step(
            "communication",
            "Communication with stakeholders",
            "Inform the relevant parties about the incident and the steps being taken.",
            (RecordField("informed", "Who was informed, and when", "text"),),
        ),
        Step(
            "consequences",
            "Consequences and accountability",
            "Apply consequences from the Code of Conduct for actions that go against the district's DEIB "
            "values.",
            (
                RecordField("infraction", "Code of Conduct infraction", "choice", INFRACTIONS),
                RecordField("consequence", "Consequence", "choice", CONSEQUENCES),
            ),
        ),
        Step(
            "restoration",
            "Restoration and healing",
            "Repair the relationship between the parties: bring those involved together to discuss the "
            "impact of their actions and restore trust.",
            (
                RecordField("restorative_conference", "Restorative conference held", "bool"),
                RecordField("conference_date", "Conference date", "date"),
                RecordField("restoration_notes", "Restoration notes", "text"),
            ),
        ),
        Step(
            "reflection",
            "Reflection and improvement",
            "Review the incident with the school-based team to draw lessons and refine the approach.",
            (RecordField("lessons", "Lessons and feedback", "text"),),
        ),
    ),
)

_PEOPLE = (r"(?:kids?|students?|girls?|boys?|people|players?|teachers?|famil(?:y|ies)|m[ae]n|wom[ae]n|guys?"
           r"|persons?|classmates?|friends?|child(?:ren)?|staff|communit(?:y|ies))")
# Group words by the bias type they record. Adjectives that are also colours ("black",
# "white", "brown") or everyday words ("poor") count only next to a person.
GROUPS = {
    "race": words(
        "black " + _PEOPLE, "white " + _PEOPLE, "brown (?:skin|" + _PEOPLE[3:], "african americans?",
        r"asians?", "chinese", "japanese", r"koreans?", r"filipin[oa]s?", "vietnamese", r"latin[oaxe]s?",
        r"hispanics?", r"puerto ricans?", "arabs?", "middle eastern", "native americans?", "indigenous",
        r"races?", r"racial(?:ly)?", r"skin colou?r", "skin tone", r"colou?r of (?:his|her|their) skin",
        r"ethnic(?:ity)?", r"afros?", r"braids", r"locs", r"dread ?locks?", r"cornrows", "natural hair",
        r"durags?", r"moren[oa]s?", r"priet[oa]s?", r"negr[oa]s?", "raza", r"por (?:su )?color",
        "etnia", r"colou?r de (?:su |mi |la )?piel", r"indi[oa]s?", r"(?:slant|slanted|chinky) eyes",
        r"pull(?:s|ed|ing)? (?:their|his|her) eyes", "ching chong",
    ),
    "national_origin": words(
        r"illegals?", r"ilegal(?:es)?", r"immigrants?", r"inmigrantes?", r"refugees?", r"mexican[oa]?s?",
        r"guatemal(?:an|tec)[oa]?s?", r"salvador(?:an|en)[oa]?s?", r"hondure?n[oa]?s?", r"dominican[oa]?s?",
        r"ice (?:will|is going to|is coming|comes?|(?:is )?taking)", "call(?:ing)? ice", "la migra",
        r"deport(?:ed|ing)?", r"go back to (?:your|his|her|their) (?:own )?country", "speak american",
        r"go back to (?:mexico|china|africa|where (?:you|he|she|they) came from)", "papeles",
        r"no deberian? estar aqui",
        r"(?:should not|does not belong|do not belong) (?:be )?(?:here|in this country)",
        r"regresa(?:te)? a tu pais", "vete a tu pais", r"terrorists?",
        r"from (?:another|a different) country",
    ),
    "language": words(
        r"speak(?:s|ing)? (?:spanish|english|arabic|chinese|another language)", "accents?",
        r"translat\w+", r"interpret(?:ers?|ing|ation)", r"traduc\w+", r"interpretes?",
        r"english learners?", "esl", r"(?:no|poor|broken|bad) english",
        r"habla(?:n|r)? (?:bien )?(?:espanol|ingles)", "idioma",
        r"(?:his|her|their|your|my) (?:english|spanish|accent) (?:is|was|is not|was not|isn t)",
        r"(?:su|tu|mi) (?:ingles|espanol|acento) (?:no )?(?:es|era|esta)", "learning english",
        r"aprendiendo ingles",
    ),
    "religion": words(
        r"muslims?", r"islam(?:ic)?", r"hijabs?", r"head ?scarf", "jewish", r"jews?", "judaism",
        r"yarmulkes?", r"kippahs?", r"sikhs?", r"turbans?", r"hindus?", r"christians?", r"catholics?",
        r"mormons?", r"atheists?", r"religio(?:n|ns|us)", r"mosques?", r"synagogues?", "ramadan",
        r"musulman\w*", r"judi[oa]s?", "religion", r"hiyabs?", r"turbantes?", r"kipas?", r"velo islamico",
        r"(?:her|his|su) (?:veil|velo|cross|crucifix|rosary|cruz|rosario)",
    ),
    "gender_identity": words(
        r"trans(?:gender)?", r"non ?binary", "they them", r"pronouns?", "gender identity", r"gender ?fluid",
    ),
    "sexual_orientation": words(
        r"gays?", r"lesbians?", r"bisexual", "queer", r"lgbt\w*", r"pride flags?", "homosexual",
    ),
    "disability": words(
        "blind", "deaf", "hard of hearing", r"wheel ?chairs?", "disabled", r"disabilit(?:y|ies)", "autistic",
        "autism", "adhd", r"special (?:ed|education|needs)", "sped", r"ieps?", "504", "down syndrome",
        "braille", "sign language", r"crutch(?:es)?", r"ramps?", r"elevators?", r"dyslexi\w*", r"stutter\w*",
        "discapacidad", "silla de ruedas", r"ciegos?", r"sord[oa]s?", "autista", r"tartamud\w+", r"dislexi\w+",
        r"(?:tic|tics|tourette\w*)", r"hearing aids?", r"aparatos? (?:para|de) (?:oir|sordera)", r"autis\w+",
    ),
    "socioeconomic": words(
        r"(?:is|are|being) poor", "poor " + _PEOPLE, "poverty", "free lunch", "free and reduced", "section 8",
        "food stamps", "trailer park", "homeless", r"cheap (?:clothes|shoes)", "thrift store",
        "can not afford", r"pobres?", r"no tienen? dinero", r"(?:almuerzo|lonche|comida) gratis",
        "muerto de hambre", "welfare", r"(?:could|can|did) not pay", r"fee waivers?", r"waivers?",
        r"no (?:podemos|pudimos|puede|pueden) pagar",
    ),
    "body_type": words(
        r"fat(?:ty|so)?", "obese", "overweight", r"whales?", r"pigs?", r"gord[oa]s?", r"gordit[oa]s?",
        r"(?:her|his|their) (?:weight|size)", r"moo(?:s|ed|ing)?", r"oink\w*",
        r"cerd[oa]s?", r"ballenas?", r"by (?:their |her |his )?(?:weight|size|bod(?:y|ies))",
    ),
}
# Acts against a group, by students or staff, including barriers ("never gets the handouts
# in braille", "won't let her play unless she takes it off").
ACT = words(
    r"call(?:s|ed|ing)?", r"mock(?:s|ed|ing)?", r"mak(?:e|es|ing) fun", "made fun", r"laugh(?:s|ed|ing)? at",
    r"teas(?:e|es|ed|ing)", r"jok(?:e|es|ed|ing) about", r"insult(?:s|ed|ing)?", r"harass\w*",
    r"bull(?:y|ies|ied|ying)", r"pick(?:s|ed|ing)? on", r"yell(?:s|ed|ing)?", r"scream(?:s|ed|ing)?",
    r"shout(?:s|ed|ing)?", r"t(?:old|ell|ells|elling) (?:him|her|them|\w+) to", r"comments?", r"remarks?",
    r"memes?", "wrote", "written", r"draw(?:s|n|ing)?", "drew", r"scratch(?:ed|es|ing)", r"spray ?paint\w*",
    r"paint(?:ed|ing)", r"carv(?:ed|ing)", "graffiti", r"vandali\w+", r"threw \w+ at", r"spit(?:s|ting)?",
    r"(?:knock|pull|rip|tear|tore|yank|grab)\w* (?:\w+ )?off", r"exclud(?:e|es|ed|ing)", "left out",
    r"(?:will|would|does|do|did) not let", "not allowed", r"refus(?:e|es|ed|ing)", "denied",
    r"can not (?:join|play|try out|sit|come|be|go|use|wear|keep up|participate|get)", r"never gets?",
    r"(?:does|do) not get", r"(?:does|do|did|will) not (?:provide|send|give|offer|have)",
    r"(?:keeps?|kept|keep on) (?:saying|calling|asking)",
    r"only (?:starts|picks|calls on|lets|plays|chooses|helps|gives|praises)", r"favou?r(?:s|ed|ing|ites)",
    r"treat(?:s|ed|ing)? (?:\w+ )?(?:differently|worse|unfairly)", r"unfair(?:ly)?",
    r"(?:teacher|coach|principal|staff|counselor|sub|director) (?:told|tells|sent|sends)",
    r"(?:put|puts|sent|kept|keeps|seated|made to sit) (?:\w+ ){0,2}"
    r"(?:in the back|away from|in another room|alone)",
    r"separat\w+",
    r"say(?:s|ing)? (?:that )?(?:she|he|they|all|the|those) (?:\w+ ){0,4}?(?:is|are) (?:a|an|all|just)\b",
    r"(?:has|have) to miss", "blocked", "broken",
    "out of order", r"no (?:ramp|elevator|interpreter|translator|braille|captions)", r"segregat\w+",
    r"imitat(?:e|es|ed|ing)", r"mimic\w*", r"copy(?:ing)? (?:how|the way)", r"stereotyp\w+", "you people",
    "those people", "like all of them", "your kind",
    r"(?:kids|people|students) like (?:him|her|you|them|us|me)", "go back", "stop speaking", "benched",
    r"kick(?:ed|ing|s)? (?:\w+ )?(?:off|out)", r"nicknam\w+",
    r"(?:monkey|ape|animal|chicken) (?:noises|sounds)", r"hates?",
    r"(?:teacher|coach|principal|director|maestr[oa]|profe\w*|staff) (?:said|says|dijo|dice)",
    r"(?:le|les) (?:dicen|gritan|llaman|pegan)", r"se (?:burlan|rien)", r"burla(?:s|ndo)?", r"insulta\w*",
    r"molesta\w*", r"no (?:le |les |la |lo )?deja(?:n|ba|ron)?", r"no pueden?", r"odia\w*",
    r"rank(?:s|ed|ing)?", r"rat(?:e|es|ed|ing) (?:\w+ )?(?:bodies|looks|girls|boys)",
    r"record(?:s|ed|ing)? (?:him|her|them)", r"film(?:s|ed|ing)? (?:him|her|them)", r"grab(?:an|aron|ando|o)",
    r"(?:rien|reian|rieron)", r"risas", r"(?:lo|la|los|las) imita\w*",
    # Steered away from a program: "told him not to sign up for honors", "que no se inscriba".
    r"(?:told|tells|telling|said|advised) (?:\w+ ){0,3}(?:not to|to not|he should not|she should not|they should not)"
    r" (?:\w+ )?(?:sign up|enroll|take|apply|join|try out)", r"no se (?:inscrib\w+|meta|apunte)",
    r"(?:no es|not) (?:suficiente|good enough)",
)
BIAS_WORD = words(
    r"racis(?:t|m|ts)", r"sexis(?:t|m)", r"homophob\w+", r"transphob\w+", r"antisemit\w+", r"islamophob\w+",
    r"xenophob\w+", r"bigot\w*", r"discriminat\w+", "biased", "hate speech", r"hate crimes?", r"prejudic\w+",
    r"microaggressions?", r"racista\w*", "racismo", r"discrimina\w*", r"homofob\w+", r"misogyn\w+",
    r"ableis\w+",
)
GENDER_ACT = words(r"misgender(?:ed|ing|s)?", r"deadnam(?:e|es|ed|ing)")
_GROUP_NOUN = words(
    r"girls?", "boys?", "women", "men", "blacks", "black people", "mexicans", "latinos", "asians", "muslims",
    "jews", "gays", "gay people", "immigrants", "trans people", r"poor (?:kids|people)", "fat people",
    r"disabled (?:kids|people)", r"(?:those|you|these) people", r"las (?:ninas|mujeres)",
    r"los ninos con \w+", "los negros", "los mexicanos",
)
# "girls are bad at math", "las ninas no sirven para las ciencias".
STEREOTYPE = Near(
    _GROUP_NOUN,
    words(r"are (?:all |so |just )?(?:bad|worse|stupid|dumb|lazy|dirty|criminals|terrorists|violent"
          r"|aggressive|weak|inferior|not smart|animals|monkeys|slaves|cheap|illegal|gross|disgusting)",
          r"can not (?:do|play|be|lead|understand|learn)",
          r"should(?: not)? (?:be|stay|go|play|have|take|join|try|do|study|lead|run|wear)",
          r"belong (?:in|at)", r"(?:are not|aint) (?:good|smart) (?:at|enough)", "bajan", "no pueden",
          r"son (?:malas|malos|tontas|tontos|flojos|flojas)", "no sirven para",
          r"no son (?:buen[oa]s|capaces) para"),
    2, ordered=True,
)
# Turned away for being a girl or a boy.
SEX_BARRIER = words(
    r"because (?:she|he|they) (?:is|are|was|were) (?:a |an )?(?:girl|boy|woman|female|male)",
    r"por ser (?:nina|mujer|nino|hombre)", r"(?:boys|girls) only", "no girls allowed",
    r"only (?:boys|girls) (?:can|are allowed)", "like a girl", "women belong", "make me a sandwich",
    "girls? can not", "las ninas no pueden",
)
# Treated differently for who they are: "because he's black", "por ser gay".
IDENTITY_BARRIER = words(
    r"because (?:she|he|they) (?:is|are|was|were) (?:a |an )?(?:black|gay|trans|muslim|jewish|mexican|asian"
    r"|disabled|poor|fat|deaf|blind|autistic|lesbian|immigrant|latin[oa]|brown|sikh|hindu)",
    r"por ser (?:negr[oa]|gay|trans|musulman|judi[oa]|mexican[oa]|indi[oa]|pobre|gord[oa])",
)
# Access that depends on money: a barrier to a program for socioeconomic status.
PAY_BARRIER = Near(
    words(r"only (?:lets?|allows?|takes?)", r"(?:if|unless) (?:they|you|she|he|we) (?:can )?(?:pay|afford)",
          r"(?:have|has) to pay"),
    words("can not afford", "afford", "pay", "money", r"fees?"), 12,
)

# An act and a group word within one sentence.
_GROUP_RULES = {f"group.{name}": Near(ACT, group, 12) for name, group in GROUPS.items()}
# Bias incidents are often told as absences ("never gets", "won't let"): no negation scopes.
_FIXED = Matcher({
    **_GROUP_RULES,
    "slur": SLUR,
    "hate_symbol": HATE_SYMBOL,
    "gender_act": GENDER_ACT,
    "stereotype": STEREOTYPE,
    "sex_barrier": SEX_BARRIER,
    "identity_barrier": IDENTITY_BARRIER,
    "pay_barrier": PAY_BARRIER,
}, negatable=False)
# "It wasn't racist" is a denial, not a report.
_AFFIRMED = Matcher({"bias_word": BIAS_WORD})
_MENTION = Matcher(GROUPS, negatable=False)

_SIGNALS = {
    "group.race": "deib.race", "group.national_origin": "deib.national_origin",
    "group.language": "deib.language",
    "group.religion": "deib.religion", "group.gender_identity": "deib.gender_identity",
    "group.sexual_orientation": "deib.sexual_orientation", "group.disability": "deib.disability",
    "group.socioeconomic": "deib.socioeconomic", "group.body_type": "deib.body_type", "slur": "deib.slur",
    "hate_symbol": "deib.hate_symbol", "gender_act": "deib.gender_identity", "stereotype": "deib.stereotype",
    "sex_barrier": "deib.sex", "identity_barrier": "deib.discrimination", "pay_barrier": "deib.socioeconomic",
    "bias_word": "deib.bias_language",
}
# Every signal name this plugin can emit.
SIGNALS = frozenset(_SIGNALS.values())


def _concepts(doc: Doc) -> set[str]:
    return _FIXED.hits(doc) | _AFFIRMED.hits(doc)


def concepts(doc: Doc) -> frozenset[str]:
    """What the rules found in a tip, worked out once per tip; the model reads it too."""
    return remembered(doc, KEY, _concepts)


def vote(tip: TipDraft) -> Vote | None:
    doc = doc_for(tip)
    found = set(concepts(doc))
    if not found and tip.category == "bias":
        # A reporter who picked "bias" and names a group: let the team look.
        found = {f"group.{name}" for name in _MENTION.hits(doc)}
    if not found:
        return None
    signals = tuple(sorted({_SIGNALS[c] for c in found}))
    return Vote(workflows=(KEY,), priority="normal", signals=signals)


@hookimpl
def tipline_workflows() -> list[Workflow]:
    return [WORKFLOW]


@hookimpl
def tipline_findings(tip: TipDraft) -> list[str]:
    return [f"{KEY}.{c}" for c in sorted(concepts(doc_for(tip)))]


@hookimpl
def tipline_triage(tip: TipDraft) -> Vote | None:
    return vote(tip)
