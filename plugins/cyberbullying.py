"""Cyberbullying workflow: targeted harassment or humiliation through phones, apps, games or
group chats, and its triage vote.

Fake accounts, shared private images or messages, pile-ons, exclusion campaigns and doxxing
open it. The district's bullying reports come through the same workflow, so bullying named
as such opens it too. Sexual images of a minor being shared, and sextortion, go to police
dispatch at once ("immediate.dispatch").
"""

from __future__ import annotations

from plugins.triage import (
    ONLINE,
    PERSON,
    SEXTORTION,
    TOLD_TO_DIE,
    AnyOf,
    Doc,
    Matcher,
    Near,
    doc_for,
    remembered,
    words,
)
from tipline.hookspecs import hookimpl
from tipline.types import RecordField, Step, TipDraft, Vote, Workflow

KEY = "cyberbullying"

PLATFORMS = (
    "Instagram", "Snapchat", "TikTok", "Discord", "WhatsApp", "Text messages", "Group chat", "Online game",
    "School account (email, Google Classroom)", "Other",
)
DISCIPLINE = (
    "Conference with student and parents", "Loss of device or network privileges", "Detention",
    "In-school suspension", "Out-of-school suspension", "Referral for expulsion", "None",
)
POLICE_REASONS = ("Sextortion", "Sexual images of a minor", "Threat of violence", "Other crime")

WORKFLOW = Workflow(
    key=KEY,
    title="Cyberbullying",
    description="Harassment or humiliation through phones, apps, games or group chats: investigate, keep "
    "the evidence, act, and follow up with the student targeted.",
    roles=("school-admin", "counselor"),
    steps=(
        Step(
            "investigate",
            "Investigation of the reported incident",
            "Find out who is involved, on which platforms, and whether it continues at school.",
            (
                RecordField("platforms", "Platforms", "multi", PLATFORMS),
                RecordField("findings", "Findings", "text"),
            ),
        ),
        Step(
            "evidence",
            "Preserve evidence",
            "Keep screenshots with dates and account names before posts are deleted. Ask students not to "
            "share or forward the material; never copy sexual images of a minor.",
            (
                RecordField("evidence_kept", "Evidence preserved", "bool"),
                RecordField("evidence_description", "What was kept, and where", "text"),
                RecordField("platform_report", "Reported to the platform", "bool"),
            ),
        ),
        Step(
            "discipline",
            "Disciplinary action",
            "Apply the Code of Conduct to the students involved in the cyberbullying.",
            (RecordField("action", "Disciplinary action", "choice", DISCIPLINE),),
        ),
        Step(
            "law_enforcement",
            "Cooperation with law enforcement when necessary",
            "Sextortion, threats of violence and sexual images of a minor go to the police.",
            (
                RecordField("police_referred", "Referred to police", "bool"),
                RecordField("police_reason", "Reason", "choice", POLICE_REASONS),
            ),
        ),
        Step(
            "education",
            "Education in digital citizenship",
            "Education to prevent cyberbullying and promote digital citizenship, for the students involved "
            "or their class.",
            (RecordField("education", "Education delivered", "text"),),
        ),
        Step(
            "follow_up",
            "Follow-up with the target",
            "Check that the harassment has stopped and that the student targeted feels safe and supported.",
            (
                RecordField("follow_up_on", "Follow-up on", "date"),
                RecordField("follow_up_notes", "How the student is doing", "text"),
            ),
        ),
    ),
)

FAKE_ACCOUNT = words(
    r"fake (?:accounts?|profiles?|pages?|instagrams?|tiktoks?|snap\w*|finstas?|numbers?|emails?)",
    r"burner (?:accounts?|pages?)", r"anonymous (?:accounts?|pages?|profiles?)", r"impersonat\w+",
    r"pretend(?:s|ed|ing)? to be (?:him|her|me|them|my|his|\w+)", r"cuentas? falsas?",
    r"perfil(?:es)? falsos?",
    r"hack(?:s|ed|ing)? (?:into )?(?:his|her|my|their|\w+) (?:\w+ )?(?:accounts?|snap\w*|instagram|phone"
    r"|email|tiktok|fortnite|discord|chromebook|google)",
    r"logged (?:in|into|onto) (?:another|someone|his|her|my|their)",
    r"st(?:ole|eal|eals|ealing) (?:his|her|their|my)(?: \w+)? (?:login|password|account)",
    r"(?:using|used|uses) (?:his|her|their|my) (?:account|password|login)", r"in (?:his|her|their|my) name",
    r"(?:made|making|makes|created|creating|started|starting) (?:an? |another |new )?(?:anonymous )?"
    r"(?:accounts?|pages?|profiles?|finstas?|instagram pages?|tiktok accounts?)"
    r" (?:about|of|to|pretending|for|rating|called|just to|posting)",
)
_SHARE = words(
    r"shar(?:e|es|ed|ing)", r"post(?:s|ed|ing)", r"leak(?:s|ed|ing)?", "sent", r"send(?:s|ing)",
    r"spread(?:s|ing)?", r"forward(?:s|ed|ing)?", r"airdrop(?:s|ped|ping)?", r"screenshot(?:s|ted|ting)?",
    r"expos(?:e|es|ed|ing)", r"upload(?:s|ed|ing)?", r"subi(?:o|eron|endo)", r"compart(?:io|ieron|iendo)",
    r"publica(?:ron|ndo)?", "publico", r"mand(?:o|aron|ando)", r"pas(?:o|aron|ando)",
)
_PRIVATE = words(
    r"private(?! (?:stor(?:y|ies)|accounts?|acc|instagram|finsta|snap))", "personal",
    "secret", r"nudes?", "naked", r"without (?:\w+ )?permission",
    r"without (?:his|her|their) consent", "addresses", "home address", r"phone numbers?", "embarrassing",
    r"humiliat\w+", r"sin (?:su )?permiso", r"privad[oa]s?", r"intim[oa]s?", r"desnud[oa]s?", "llorando",
    "crying", "falling", r"edit(?:ed|ing)", r"photoshop\w*", r"deepfakes?", "changing", r"undress\w*",
    r"in (?:his|her|their) underwear", r"in the (?:locker room|shower|bathroom)",
    r"to (?:humiliate|embarrass|mock|make fun)", "para burlarse",
)
HARASS = words(
    "mean", "hateful", r"humiliat\w+", r"embarrass\w*", r"mock(?:s|ed|ing)?", r"mak(?:e|es|ing) fun",
    "made fun", r"laugh(?:ing)? emojis?", r"clowns?", r"roast(?:s|ed|ing)? (?!each other)",
    r"rat(?:e|es|ed|ing) (?:\w+ )?(?:bodies|looks)", r"rating", "ranking", r"ugl(?:y|iest)", "fat",
    r"losers?", r"(?:everyone|everybody) hates", r"(?:nobody|no one) likes", r"rumou?rs?", "lies",
    r"trash talk\w*", r"talk(?:ing)? trash", r"hate (?:page|account)s?", "burn book", r"harass\w*",
    r"bull(?:y|ies|ied|ying)", r"cyberbull\w*", r"spam(?:s|med|ming)?", r"flood(?:s|ed|ing)?", "pile on",
    r"dogpil\w+", r"exclud\w+", "left out", "on purpose", r"kick(?:ed|ing)? (?:him|her|them) out",
    r"insult\w*", r"sluts?", r"whores?", r"hoes?", r"thots?", r"bitch\w*", r"polls?", "hot or not",
    "smash or pass", r"fe[oa]s?", r"gord[oa]s?", r"estupid[oa]s?", r"burla\w*", r"insulta\w*", r"acos\w+",
    r"molest\w*", r"que se vaya", r"todos (?:te|la|lo) odian", r"nadie (?:te|la|lo) quiere", r"doxx\w*",
    r"snitch\w*", r"stalk\w*", r"go die", "worthless", "disgusting", r"tagg(?:ed|ing)",
    r"without (?:her|him|them) just to", "kill yourself", "no one would miss",
    r"rate (?:her|him|them|us|me)", r"1 ?10", r"should (?:die|kill)",
    r"call(?:s|ed|ing)? (?:him|her|them|me|my \w+|(?:the|that|this) (?:\w+ ){1,3}?(?:kid|boy|girl|guy|student))"
    r" (?:a|an|names)\b", r"monkeys?", r"apes?", r"imitat\w+", r"mimic\w*", r"copy(?:ing)? (?:how|the way)",
    r"(?:moo|oink)(?:s|ed|ing)?",
    r"n[i1*]gg\w*", r"f[a*]gg?(?:ot)?s?", r"r[e*]t[a*]rd\w*", "dykes?", r"tr[a*]nn(?:y|ies)",
)
_REPEAT = words(
    r"keeps?", "kept", "constantly", "every day", "all the time", "over and over", "nonstop",
    r"different (?:numbers|accounts)", "todos los dias", r"sigue(?:n)?",
)
_MENACE = words(
    r"regret (?:it|this)", r"watch (?:your|her|his) back", r"catch (?:her|him|you)",
    r"(?:beat|hurt|kill|fight|jump|get) (?:her|him|you)", r"threat\w*", "i know where you live",
    "you are dead",
)
# Someone photographed without clothes: "with no shirt", "sin ropa".
_UNDRESSED = ("shirtless", r"with no (?:shirt|top|clothes|bra)", r"no (?:shirt|top|clothes|bra) on",
              r"without (?:a |her |his |any )?(?:shirt|top|clothes)", r"sin (?:ropa|camisa|blusa)",
              r"encuerad[oa]s?")
SEXUAL_IMAGES = Near(
    words(r"nudes?", "naked", "explicit", "sexual",
          r"inappropriate (?:pics?|photos?|pictures?|videos?|images?)",
          r"(?:dick|porn\w*|nsfw|sexual|explicit) (?:pics?|photos?|pictures?|images?|videos?|snaps?)",
          r"(?:asking|asked|asks|pressur\w+|begging) (?:\w+ ){0,2}(?:for|to send) (?:nudes|pics|naked)",
          "intimate", "nsfw", r"desnud[oa]s?", r"intim[oa]s?", "topless", r"sexts?", "changing", *_UNDRESSED,
          r"undress\w*", r"in (?:his|her|their) underwear", "upskirt", r"in the shower"),
    words(r"shar(?:e|es|ed|ing)", r"post(?:s|ed|ing)?", r"sen(?:d|ds|t|ding)", r"spread(?:s|ing)?",
          r"forward(?:s|ed|ing)?", r"airdrop(?:s|ped|ping)?", "going around", r"leak(?:s|ed|ing)?",
          r"circulat\w+", "pasando", r"compart\w+", r"mand(?:o|aron|ando)", r"subi(?:o|eron)",
          r"pass(?:ed|ing) around", r"show(?:s|ed|ing)", r"ask(?:s|ed|ing)", r"pressur\w+",
          r"pas(?:o|aron|ando)", "got", r"receiv(?:e|es|ed|ing)", r"(?:has|have|had) (?:it|them|the (?:pic|video))",
          r"(?:everyone|everybody|the whole \w+) (?:has|saw|seen)", r"recibi(?:o|eron)", r"(?:lo|la|las|los) tienen"),
    14,
)
# An image of someone undressed is a sexual image whatever is said about how it moves.
_NUDE_IMAGE = Near(
    words(r"pics?", r"photos?", r"pictures?", r"snaps?", r"videos?", r"images?", r"fotos?", r"selfies?",
          r"screenshots?"),
    words(r"nudes?", "naked", "topless", r"desnud[oa]s?", r"in (?:his|her|their) underwear", "upskirt",
          *_UNDRESSED),
    6,
)
FIGHT_VIDEO = Near(
    words(r"post(?:s|ed|ing)?", r"shar(?:e|es|ed|ing)", r"upload(?:s|ed|ing)?", r"spread(?:s|ing)?",
          r"subi(?:o|eron)", r"film(?:s|ed|ing)?", r"record(?:s|ed|ing)?"),
    words(r"beat (?:\w+ )?up", "getting jumped", "got jumped", r"fight videos?", r"punch(?:ed|ing)",
          r"(?:a|the|una|la|de una|de la) (?:\w+ )?(?:fight|pelea|golpiza)"), 10,
)
EXCLUSION = words(
    r"if (?:he|she|they) sits? (?:at|with) (?:their|our|us|them)",
    r"(?:will|would|do|does) not let (?:\w+ ){0,2}sit", r"(?:make|made|makes) (?:\w+ ){0,2}sit alone",
    r"(?:nobody|no one) (?:will |can |is allowed to )?sits? with",
    r"left out of (?:every|all|the) (?:\w+ )?(?:games?|chats?)",
    r"kick(?:s|ed|ing)? (?:\w+ ){1,2}out of (?:the |our |their |a |his |her )?(?:\w+ )?"
    r"(?:group ?chats?|groupchats?|chats?|servers?|groups?|discord)",
    r"(?:sacaron|corrieron) (?:a \w+ )?del (?:grupo|chat)",
    # A chat or page named against one student: "called 'we hate kenzie'", "'no maya allowed'".
    r"(?:group ?chats?|groupchats?|chats?|pages?|accounts?|groups?|servers?|one) (?:called|named|titled)"
    r" (?:\w+ ){0,3}?(?:hate|hates|haters|no \w+ allowed|sucks|ugly|fat|anti \w+|odiamos|odio)",
    r"(?:group ?chat|chat|server) without (?:him|her)",
)
# The same hurt again and again, in person: the district's bullying cases.
REPEATED_HURT = Near(
    _REPEAT,
    words(r"trip(?:s|ped|ping)? (?:him|her|them|my)", r"push(?:es|ed|ing)? (?:him|her|them|my)",
          r"shov(?:e|es|ed|ing) (?:him|her|them|my)", r"spit(?:s|ting)? on",
          r"steal(?:s|ing)? (?:his|her|their)",
          r"tak(?:e|es|ing) (?:his|her|their) (?:lunch|money|stuff|phone)",
          r"throw(?:s|ing)? (?:stuff|things) at",
          r"call(?:s|ing)? (?:him|her|them|my \w+) (?:names|ugly|fat|stupid|a loser)"),
    8,
)
# Threats or extortion aimed at one student through an app.
ONLINE_THREATS = Near(
    ONLINE,
    words(r"threaten\w* (?:him|her|me|them|my)", r"(?:lo|la|me|les?) amenaza\w*", r"extort\w*",
          r"blackmail\w*", r"chantaj\w+"),
    10,
)
# "the girls who bullied her" describes someone; "she is being bullied" reports it.
BULLYING = (r"(?<!\bwho )(?<!\bthat )\b(?:bull(?:y|ies|ied|ying)|cyberbull\w+|picks? on|picking on"
            r"|(?:le|les) hacen bullying|acos(?:o|an|ando)|molest(?:an|ando))\b")

_FIXED = Matcher({
    "fake_account": FAKE_ACCOUNT,
    "shared_private": Near(_SHARE, _PRIVATE, 10),
    "harassment": Near(ONLINE, HARASS, 12),
    "repeated_threats": Near(_REPEAT, Near(ONLINE, _MENACE, 10), 10),
    "online_threats": ONLINE_THREATS,
    "told_to_die": TOLD_TO_DIE,
    "sexual_images": AnyOf(SEXUAL_IMAGES, _NUDE_IMAGE),
    "sextortion": SEXTORTION,
    "fight_video": FIGHT_VIDEO,
    "exclusion": EXCLUSION,
    "bullying": AnyOf(BULLYING, REPEATED_HURT),
}, negatable=False)

# Someone online and a person named: bullying only if the reporter says so.
_HINTED = Matcher({"online_target": Near(ONLINE, PERSON, 6)}, negatable=False)

_SIGNALS = {
    "fake_account": "cyberbullying.fake_account", "shared_private": "cyberbullying.shared_private",
    "harassment": "cyberbullying.harassment", "repeated_threats": "cyberbullying.repeated_threats",
    "online_threats": "cyberbullying.online_threats", "told_to_die": "cyberbullying.told_to_self_harm",
    "sexual_images": "cyberbullying.sexual_images",
    "sextortion": "cyberbullying.sextortion", "fight_video": "cyberbullying.fight_video",
    "exclusion": "cyberbullying.exclusion", "bullying": "cyberbullying.bullying",
    "online_target": "cyberbullying.reported_bullying",
}
# Every signal name this plugin can emit.
SIGNALS = frozenset(_SIGNALS.values()) | {"immediate.dispatch", "police.minor_images", "police.sextortion"}


def _concepts(doc: Doc) -> set[str]:
    return _FIXED.hits(doc)


def concepts(doc: Doc) -> frozenset[str]:
    """What the rules found in a tip, worked out once per tip; the model reads it too."""
    return remembered(doc, KEY, _concepts)


def vote(tip: TipDraft) -> Vote | None:
    doc = doc_for(tip)
    found = set(concepts(doc))
    if not found and tip.category == "bullying":
        found = _HINTED.hits(doc)
    if not found:
        return None
    proof = {name for concept, name in (("sexual_images", "police.minor_images"), ("sextortion", "police.sextortion"))
             if concept in found}
    police = bool(proof)
    signals = {_SIGNALS[c] for c in found} | proof
    if police:
        signals.add("immediate.dispatch")
    return Vote(workflows=(KEY,), priority="urgent" if police else "normal", police=police,
                signals=tuple(sorted(signals)))


@hookimpl
def tipline_workflows() -> list[Workflow]:
    return [WORKFLOW]


@hookimpl
def tipline_findings(tip: TipDraft) -> list[str]:
    return [f"{KEY}.{c}" for c in sorted(concepts(doc_for(tip)))]


@hookimpl
def tipline_triage(tip: TipDraft) -> Vote | None:
    return vote(tip)
