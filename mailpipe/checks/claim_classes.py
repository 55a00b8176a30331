"""What a medical/legal reviewer rejects in a sentence, by meaning: each claim class is a lexicon of cues over lemmas
(so "cured", "cures" and "curing" are one cue), number patterns, the scope a cue is said under (a negation: "there is
no cure", "it is not known whether it is safe") and what the sentence is about (the treatment or the clinic, not
migraine in general).

`claims_in(sentence, setting)` is pure and cached per distinct sentence and setting. Its recall and precision per class
are measured on a labelled corpus (`tests/claims/`) by `bench/claims.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from mailpipe.checks.reading import Sentence, Span, analyse


class ClaimClass(StrEnum):
    CURE = "cure"  # cure, permanence, an end to migraine
    SAFETY = "safety"  # safe, no or few side effects
    ONSET = "onset"  # how soon it works, how long relief lasts
    SCOPE = "scope"  # beyond the label: episodic, children, other headaches, acute use, cosmetic + migraine
    EFFICACY = "efficacy"  # guarantees, proof, numbers without the placebo comparison
    SUPERLATIVE = "superlative"  # best, #1, better than
    TESTIMONIAL = "testimonial"  # a quoted or named person's outcome, ratings, "patients love"
    URGENCY = "urgency"  # today only, limited time, only 3 spots left
    PRICE = "price"  # as low as, % off without the regular price, free without terms, a price with no unit
    DATES = "dates"  # offer dates that contradict the offer's valid_from / valid_until
    SEASON = "season"  # a season or holiday that is not the send month's


@dataclass(frozen=True)
class Setting:
    """What a sentence is read against: for a special, its month and offer dates."""

    month: dt.date | None = None  # the first day of the send month
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class Claim:
    kind: ClaimClass
    words: str  # the words that make it a claim
    why: str
    fix: str


_NUM = (
    r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|few|several|a couple of|"
    r"couple of|a handful of|a|an)"
)
_WORD = r"\S+"


def _cue(*phrases: str) -> re.Pattern[str]:
    """A lexicon as one pattern over lemmas joined by spaces: a space in a phrase also matches a hyphen between words
    ("risk free" matches "risk-free"), `{n}` a number, `{w}` any one word."""
    parts = [p.replace(" ", r" (?:- )?").replace("{n}", _NUM).replace("{w}", _WORD) for p in phrases]
    return re.compile(r"(?<![^ ])(?:" + "|".join(parts) + r")(?![^ ])")


# --- who or what a sentence is about ----------------------------------------------------------------------------
TREATMENT = _cue(
    "botox",
    "onabotulinumtoxina",
    "toxin",
    "neurotoxin",
    "neuromodulator",
    "injectable",
    "injection",
    "inject",
    "shot",
    "treatment",
    "procedure",
    "therapy",
    "we",
    "our",
    "clinic",
    "provider",
    "injector",
    "filler",
    "laser",
    "peel",
    "microneedling",
    "facial",
    "session",
    "aivi",
    "team",
    "alternative",
    "solution",
    "method",
    "approach",
    "way to (manage|treat|prevent|handle|control|fight)",
    "visit",
    "appointment",
    "consultation",
    "office",
    "practice",
    "spa",
)
# "it" and "this" stand for the treatment in a claim about it ("it is totally safe"), and for anything elsewhere
TREATMENT_OR_PRONOUN = re.compile(TREATMENT.pattern[: -len(")(?![^ ])")] + "|it|this|care)(?![^ ])")
BOTOX_OR_INJECTION = _cue(
    "botox", "onabotulinumtoxina", "toxin", "injection", "inject", "shot", "it", "this", "we", "our", "injectable"
)
CONDITION = _cue(
    "migraine",
    "headache",
    "pain",
    "attack",
    "suffering",
    "symptom",
    "aura",
    "wrinkle",
    "line",
    "ache",
    "painkiller",
    "pain reliever",
)
MEASURED = _cue(
    "placebo", "compare", "compared", "trial", "study", "studies", "week 24", "24 week", "not everyone", "measure", "vs"
)
# the label's comparison: a number or an onset is fair only beside the placebo figure
COMPARED = _cue("placebo", "compared with", "compared to", "versus", "vs", "as did", "than those")
MIGRAINE = _cue("migraine", "headache")
TRIGGERS = _cue("trigger", "caffeine", "alcohol", "food", "habit")  # "eliminate caffeine" ends no migraine
FOR_GOOD = _cue("for good", "forever", "completely")
PLAIN_BENEFIT = _cue("result", "relief", "work", "better", "fewer")
PRICE_TALK = _cue("save", "off", "discount", "price", "\\$\\S*")  # "50% off" is a price, not an efficacy number
RISK_CONTEXT = _cue(
    "side effect", "problem", "swallow", "breathe", "breathing", "weakness", "reaction", "spread", "symptom", "droop"
)


@dataclass(frozen=True)
class _Found:
    span: Span
    why: str
    fix: str


Detector = Callable[[Sentence, Setting], Iterator[_Found]]
DETECTORS: dict[ClaimClass, Detector] = {}


def detector(kind: ClaimClass) -> Callable[[Detector], Detector]:
    def register(function: Detector) -> Detector:
        DETECTORS[kind] = function
        return function

    return register


def _unnegated(sentence: Sentence, pattern: re.Pattern[str], surface: bool = False) -> Iterator[Span]:
    for span in sentence.find(pattern, surface):
        if not sentence.negated(span):
            yield span


# --- cure and permanence ----------------------------------------------------------------------------------------
CURE_WORDS = _cue(
    "cure",
    "curative",
    "permanent",
    "permanently",
    "forever",
    "for good(?! (?:result|news|reason|idea|health|night|sleep|day|habit|care|food|measure)(?!\\S))",
    "once and for all",
    "for life",
    "never again",
    "never ({w} )?(have|get|suffer|experience|feel|deal with|worry about) (another|a|any) (migraine|headache|attack)",
    "lifelong relief",
    "miracle",
    "magic",
    "(migraine|headache|pain|attack) free",
    "free (of|from) (migraine|headache|pain|attack)",
    "no more (migraine|headache|pain|attack|suffering|bad day|headache day|migraine day)",
    "(be|a) thing of the past",
    "(goodbye|bye|farewell|adios) ({w} ){0,2}(migraine|headache|pain|attack|suffering)",
    "heal (\\S+ ){0,5}(migraine|headache|pain|attack)",
    "(zero|no) (migraine|headache) (day|attack)",
    "(fix|treat|address|target|cure|correct|eliminate) ({w} ){0,2}root cause",
    "never (suffer|struggle|deal) (\\S+ ){0,2}(again|migraine|headache)",
    "no longer (suffer|struggle|live with)",
    "(break|end) the (migraine |headache |pain )?cycle",
    "(overcome|outgrow) (your )?(migraine|headache)",
    "(rid|free) of (your )?(migraine|headache|attack)",
    "lasting (cure|fix|solution|answer)",
    "permanent (fix|solution|relief|result|answer)",
    "remedy for (\\S+ )?(migraine|headache)",
    "cure all",
)
# a condition said to be over: "Migraines? Not anymore.", "leave migraine in the past", "kiss your headaches goodbye"
END_STATE = _cue(
    "not anymore",
    "no longer",
    "in the past",
    "behind you",
    "be history",
    "goodbye",
    "bye",
    "farewell",
    "so long",
    "vanish",
    "disappear",
    "melt away",
    "fade away",
    "gone",
    "never come back",
    "(a )?distant memory",
    "over for good",
    "(a )?memory",
    "(be )?done with",
    "(be|are|is) (over|finished|behind you)",
    "(at|keep ({w} ){0,2}at) bay",
    "used to have",
    "rearview mirror",
    "(leave|put|left) ({w} ){0,3}behind",
)
TERMINATION = _cue(
    "(migraine|headache) solution",
    "solution (to|for) (your )?(migraine|headache|chronic migraine)",
    "answer to (your )?(migraine|headache)",
    "(your|the) last (migraine|headache|attack)",
    "never ({w} ){0,3}another",
    "(end|ends|stop|eliminate|erase|banish|kill|turn off|switch off|shut down|beat) (it|them) (for good|forever|"
    "completely)?",
    "(turn|switch|shut) (off|down) (your )?(migraine|headache)",
    "(do|does) not have to be forever",
    "keep ({w} ){0,2}(migraine|headache|attack)s? away",
    "never ({w} ){0,5}again",
    "(first|a life|life|day|week|month|year|summer|winter|season) without (migraine|headache|pain|attack)",
    "ever ({w} ){0,2}again",
    "(should not|need not|do not have to|never have to) last (a lifetime|forever|for life)",
    "(long term|lasting|permanent|final|ultimate) (solution|answer|fix)",
)
CONDITIONAL = _cue("if", "when", "after", "once", "until", "unless", "before", "whether")
END_VERBS = _cue(
    "end",
    "eliminate",
    "eradicate",
    "banish",
    "wipe out",
    "get rid of",
    "fix",
    "reverse",
    "heal",
    "beat",
    "conquer",
    "defeat",
    "put an end",
    "stop",
    "erase",
    "solve",
    "kick",
)


@detector(ClaimClass.CURE)
def _cure(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    why = (
        "promises a cure or a permanent end; treatment helps prevent headaches in some people, for as long as it is "
        "given"
    )
    fix = "say what the label says: it helps prevent headaches in adults with chronic migraine; it is not a cure"
    for span in _unnegated(sentence, CURE_WORDS):
        yield _Found(span, why, fix)
    if sentence.has(CONDITION):
        for span in [*_unnegated(sentence, END_STATE), *_unnegated(sentence, TERMINATION)]:
            rhetorical = sentence.words[:2] in (["what", "if"], ["imagine"]) or sentence.words[:1] == ["imagine"]
            if rhetorical or not CONDITIONAL.search(sentence.clause(span)):  # "if a headache no longer responds…"
                yield _Found(span, why, fix)
    for span in _unnegated(sentence, END_VERBS):
        after = " ".join(sentence.lemmas[span.end : span.end + 4])
        if CONDITION.search(after) and not sentence.has(TRIGGERS):
            if sentence.lemmas[span.start] == "stop" and not sentence.has(FOR_GOOD):
                continue  # "stop an attack" is read by the scope class (acute use)
            yield _Found(span, why, fix)


# --- safety ----------------------------------------------------------------------------------------------------
SAFE_WORDS = _cue(
    "safe",
    "safely",
    "gentle",
    "painless",
    "non toxic",
    "all natural",
    "well tolerate",
    "tolerate well",
    "easily tolerate",
    "nothing to worry about",
    "no need to worry",
    "zero risk",
    "no risk",
    "no danger",
    "natural (way|approach|alternative|option|solution|treatment|remedy)",
    "as safe as",
    "(nothing|not|never) ({w} ){0,2}(risky|dangerous|harmful|unsafe|to fear)",
    "(do not|never) worry about ({w} ){0,2}(side effect|risk|safety|complication)",
    "(excellent|great|strong|proven|outstanding|impeccable|good|long|solid|clean) safety (record|profile|history|"
    "track record)",
)
# said of the medicine whatever the sentence's subject: "Extremely safe.", "Worried about safety? Don't be."
INTENSIFIED_SAFE = _cue(
    "(extremely|very|completely|totally|perfectly|incredibly|super|absolutely|entirely|100 %|really|so|remarkably|"
    "exceptionally|proven) safe",
    "(safety|side effect|risk)s? \\? (do not be|no need to worry|relax|not to worry)",
    "((practically|virtually|nearly|almost|totally|completely) )?(harmless|risk free|riskless|worry free|"
    "side effect free)",
    "tolerable",
    "(well|easily) tolerated",
    "(side effect|risk)s? (be |are |is )?(low|minimal|manageable|minor|mild)",
    "(proven|trusted|unmatched) safety",
    "(safe|safety) (and|&) (effective|proven|gentle|simple)",
    "none of the (\\S+ )?(risk|side effect|danger)",
)
RISK_NOUN = _cue(
    "side effect", "reaction", "complication", "adverse effect", "adverse event", "problem with it", "serious problem"
)
RARELY = _cue(
    "rarely",
    "seldom",
    "almost never",
    "hardly ever",
    "practically none",
    "virtually none",
    "practically never",
    "never (\\S+ )?(experience|have|get|see|report|suffer)",
    "nobody (\\S+ )?(experience|have|get)",
    "no one (\\S+ )?(experience|have|get)",
    "almost no one",
    "hardly anyone",
    "few people",
    "rare",
    "unusual",
    "uncommon",
    "almost never happen",
    "unheard of",
)
MINIMISED_RISK = _cue(
    "(without|no|zero|free of) (any )?(serious |real |major |significant )?(side effect|risk|complication|danger|"
    "downside|adverse effect|adverse event|pain)",
    "(side effect|risk|complication|reaction|adverse effect|adverse event|downside)s? (, (if any|if they happen|when "
    "they occur|if they occur) , )?(be |is |are |tend to be |"
    "usually |typically |generally |very |extremely |also )*(\\S+ )?(rare|mild|minor|minimal|few|negligible|tiny|"
    "uncommon|temporary|short live|short lived|brief|small|low|nonexistent|non existent|manageable|nothing)",
    "(rare|rarely|mild|minor|minimal|few|negligible|little|low|small|hardly any|almost no|virtually no|barely any|"
    "very few|tiny|limited) ((?!the |a |an |your |their |our )\\S+ )?(side effect|risk|complication|adverse effect|"
    "discomfort)",
    "(do|does|will|can) not (\\S+ )?(cause|have|carry|pose) (\\S+ )?(side effect|risk|complication|harm|danger)",
    "safer",
)


# a medicine with a boxed warning put among all others: "like any medicine, it can cause side effects"
ORDINARY_RISK = _cue(
    "(like|as with|just like|as for) (any|all|every|most|other) (other )?(medicine|medication|drug|treatment|"
    "prescription|procedure|injection)s?",
    "(any|every|all) (medicine|medication|drug|treatment)s? (have|has|carry|carries|can cause) (\\S+ )?"
    "(side effect|risk)",
)


def _ordinary_risk(sentence: Sentence) -> Iterator[_Found]:
    if sentence.has(RISK_NOUN):
        for span in sentence.find(ORDINARY_RISK):
            yield _Found(
                span,
                "treats a medicine with a boxed warning as an ordinary one",
                "say it can cause serious side effects that can be life threatening, and point to the Important "
                "Safety Information",
            )


@detector(ClaimClass.SAFETY)
def _safety(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    if sentence.is_question:
        return
    why = "reassures about the safety of a medicine with a boxed warning"
    fix = "point to the Important Safety Information: BOTOX® can cause serious side effects"
    safe = sentence.find(SAFE_WORDS)
    fragment = bool(safe) and safe[0].start == 0  # a headline with no subject: "Safe for almost anyone."
    if sentence.has(TREATMENT_OR_PRONOUN) or fragment:
        for span in _unnegated(sentence, SAFE_WORDS):
            if sentence.lemmas[max(0, span.start - 2) : span.start] in (["keep", "you"], ["keep", "patient"]) or (
                span.start and sentence.lemmas[span.start - 1] in ("stay", "feel", "be safe")
            ):
                continue  # "we keep you safe", "stay safe": about the reader, not the medicine
            yield _Found(span, why, fix)
    for span in _unnegated(sentence, INTENSIFIED_SAFE):
        yield _Found(span, why, fix)
    for span in sentence.find(RISK_NOUN):
        clause = sentence.clause(span)
        if RARELY.search(clause) and not re.search(r"\bnot (rare|uncommon|unusual)", clause):
            yield _Found(span, why, fix)
    yield from _ordinary_risk(sentence)
    for span in sentence.find(MINIMISED_RISK):
        if " not " not in f" {span.words} " or span.words.split()[0] in ("do", "does", "will", "can"):
            yield _Found(span, why, fix)


# --- onset and duration ----------------------------------------------------------------------------------------
BENEFIT = _cue(
    "result",
    "relief",
    "relieve",
    "work",
    "improvement",
    "improve",
    "difference",
    "benefit",
    "better",
    "change",
    "(?<!side\\s)(?<!toxin\\s)effect",
    "fewer",
    "feel",
    "notice",
    "see",
    "kick in",
    "reduce",
    "smooth",
    "glow",
    "transform",
    "ease",
    "drop",
    "prevent",
    "protection",
    "protect",
    "headache day",
    "migraine day",
    "enjoy",
)
FAST = _cue(
    "immediate",
    "immediately",
    "instant",
    "instantly",
    "instantaneous",
    "overnight",
    "right away",
    "straight away",
    "same day",
    "quick",
    "quickly",
    "fast",
    "rapid",
    "rapidly",
    "speedy",
    "swift",
    "swiftly",
    "in no time",
    "before you know it",
    "from (the|your) (very )?first (treatment|session|visit|injection|appointment|day)",
    "after (just |only )?(one|a single|the first|your first|1|a) (treatment|session|visit|injection|appointment|round)",
    "(single|one) (treatment|session|visit)",
    "by (next|the end of the) (week|month)",
    "by tomorrow",
    "by the weekend",
    "(within|in|after|as soon as|as early as|as quickly as|under|less than|"
    "inside) (just |only |as little as |under |less than |about |around |a )?({n} )?(minute|hour|day|week|month)",
    "({n} )?(minute|hour|day|week)s? later",
    "as (soon|early|quickly) as (the|your) (first|next)",
    "as (soon|early|quickly) as tomorrow",
    "same week",
    "(fast|quick|rapid) acting",
    "before you leave",
    "a matter of (day|hour|week)",
    "(just|mere|only) (\\S+ )?(day|hour)",
    "in a flash",
    "right after",
    "day one",
    "on the spot",
    "(the|that) (moment|minute|second|instant)",
    "this (weekend|week)",
    "tonight",
    "tomorrow",
    "(the )?(very )?next (morning|day|week)",
    "by (next )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    "(within|in|after) ({w} ){0,4}(minute|hour|day|week)",
    "(only|just) ({w} ){0,2}(day|week|hour|appointment|visit)s? away",
    "from (day|week) one",
    "(soon|shortly|right) after",
    "before long",
    "(in|within) (no time|moments|minutes)",
)
DURATION = _cue(
    "last ({w} )?(up to |for |about |around |as long as )?({n}|many|several|\\d+ to \\d+) (month|year)",
    "(month|year)s? of relief",
    "(long lasting|long last|long term|lasting|durable|enduring|sustained|year round|all year) (relief|result|effect|"
    "benefit|protection|freedom)",
    "relief (that )?last",
    "(full|whole) (\\S+ )?(month|year)",
    "freedom from (migraine|headache|pain)",
    "(month|year|week|season)s? of (relief|freedom|protection|comfort|fewer)",
    "for (up to |about |around |as long as )?(half a year|a (full )?year|six month|{n} month|month|year)",
)
RELIEF_OWNER = _cue(
    "relief",
    "result",
    "effect",
    "benefit",
    "it",
    "botox",
    "treatment",
    "injection",
    "protection",
    "improvement",
    "they",
    "free",
    "away",
    "bay",
)
_WEEKS = {"minute": 0, "hour": 0, "day": 0, "week": 1, "month": 4}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
}


def _weeks(words: str) -> float | None:
    """How many weeks a time phrase names ("within 3 weeks" -> 3), or None when it names no unit."""
    unit = next((u for u in _WEEKS if re.search(rf"\b{u}s?\b", words)), None)
    if unit is None:
        return None
    number = re.search(r"\d+(?:\.\d+)?|\b(" + "|".join(_NUMBER_WORDS) + r")\b", words)
    count = 1.0 if number is None else float(_NUMBER_WORDS.get(number.group(0), 0) or number.group(0))
    return count * _WEEKS[unit]


@detector(ClaimClass.ONSET)
def _onset(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    if sentence.is_question or sentence.has(COMPARED):
        return
    yield from _duration(sentence)
    if not sentence.has(BENEFIT):
        return
    for span in _unnegated(sentence, FAST):
        weeks = _weeks(span.words)
        if weeks is not None and (weeks >= 12 or ("month" in span.words and weeks >= 12)):
            continue
        if sentence.has(RISK_CONTEXT) and not sentence.has(PLAIN_BENEFIT):
            continue
        yield _Found(
            span,
            "promises how soon it works; benefit was measured at 24 weeks, after two treatments, and not everyone "
            "responds",
            "say that benefit was measured at 24 weeks, after two treatments, and that not everyone responds",
        )


def _duration(sentence: Sentence) -> Iterator[_Found]:
    for span in _unnegated(sentence, DURATION):
        before = sentence.window(span, 5, 0)
        if re.search(r"\b(side effect|problem|swallow|weakness|symptom|droop)", before):
            continue
        if sentence.lemmas[span.start] in ("last", "for") and not RELIEF_OWNER.search(before):
            continue  # "for the last few months", "a diary for a month": a time, not how long relief lasts
        yield _Found(
            span,
            "states how long relief lasts; the label gives a 12-week re-treatment interval, not a duration of relief",
            "say that treatment is given about every 12 weeks",
        )


# --- scope beyond the label ---------------------------------------------------------------------------------------
RECOMMENDS = _cue(
    "great",
    "good",
    "ideal",
    "perfect",
    "right for",
    "suitable",
    "suit",
    "candidate",
    "deserve",
    "recommend",
    "approve",
    "work",
    "relief",
    "prevent",
    "treat",
    "benefit",
)
EPISODIC = _cue(
    "episodic",
    "occasional",
    "infrequent",
    "once in a while",
    "every (now and|once in a) (then|while)",
    "now and then",
    "from time to time",
    "mild (migraine|headache)",
    "the odd (migraine|headache)",
    "(any|every|all) (kind of |type of |sort of |form of )?migraine",
    "whatever (kind|type) of migraine",
    "(fewer|less) than (15|fifteen)",
    "(less|short) of chronic",
    "non chronic",
    "not chronic",
    "(weekly|monthly|once a week|once a month) (migraine|headache|attack)",
    "every (few|couple of|other|two|three|four|2|3|4) (week|day)",
    "(all|every|any) ({w} )?(headache|migraine) (type|kind|sufferer)",
    "(headache|migraine) sufferer",
    "(anyone|everyone|anybody|everybody) (who get |who has |with )(a |the )?(headache|migraine)",
)
# how often: "a couple of times a month", "3 migraines a week", "twice a month"
FREQUENCY = _cue(
    "({n}|twice|once|one or two|two or three|\\d+) (\\S+ ){0,2}(time|day|headache|migraine|attack|episode)s? "
    "(a|per|each|every) (month|week)",
)
_COUNTS = {"twice": 2, "once": 1, "couple": 2, "few": 3, "several": 4, "handful": 5, "two or three": 3}


def _per_month(words: str) -> float:
    """How many times a month a frequency phrase says ("twice a week" -> 8.6); 15 and over is chronic migraine."""
    number = re.search(r"\d+(?:\.\d+)?", words)
    count = (
        float(number.group(0))
        if number
        else next(
            (v for k, v in {**_COUNTS, **_NUMBER_WORDS}.items() if re.search(rf"\b{k}\b", words)),
            1.0,
        )
    )
    return count * (30 / 7 if words.rstrip().endswith("week") else 1)


PAEDIATRIC = _cue(
    "teen",
    "teenager",
    "teenage",
    "adolescent",
    "child",
    "kid",
    "son",
    "daughter",
    "young people",
    "youngster",
    "student",
    "schooler",
    "school age",
    "under (18|eighteen)",
    "age ([1-9]|1[0-7]) (and|or) (up|older|over|above)",
    "([1-9]|1[0-7]) (and|or) (up|older|over)",
    "([1-9]|1[0-7]) \\+",
    "whole family",
    "all age",
    "any age",
    "every age",
    "boy",
    "girl",
    "tween",
    "pediatric",
    "paediatric",
    "minor",
    "little one",
)
OTHER_HEADACHE = _cue(
    "tension (type )?headache",
    "cluster headache",
    "sinus headache",
    "hangover",
    "(any|every|all|each) (kind of |type of |sort of |form of )?(headache|head pain)",
    "whatever (kind|type) of headache",
    "headache of (any|all|every) (kind|type|sort)",
    "everyday headache",
    "(neck|back|jaw|joint|nerve|shoulder|knee|body) pain",
    "chronic pain",
    "tmj",
    "teeth grinding",
    "bruxism",
    "fibromyalgia",
    "arthritis",
    "pain of any kind",
    "(treat|ease|relieve|help with|for) ({w} ){0,2}(anxiety|depression|insomnia|stress)",
    "(neck|shoulder|back|jaw|muscle|body) (\\S+ ){0,2}(tension|stiffness|spasm|tightness|ache|pain)",
    "(tension|stress|cluster|sinus|hangover|caffeine|rebound|exercise|allergy|dehydration|eye strain|everyday|"
    "ordinary|normal|common|regular|occasional|hormonal|weather) (related )?(headache|head pain|ache)",
    "tension",
    "(headache|pain)s? (cause|trigger|bring on|brought on) by (stress|tension|work|screen|posture|sinus|alcohol|"
    "hangover)",
)
ACUTE = _cue(
    "in (its|their) track",
    "during (an|a|the|your) (migraine |headache )?attack",
    "when (a|the|your) (migraine|headache|attack) (strike|hit|start|come|begin|flare)",
    "at the first sign",
    "as soon as (a|the|your) (migraine|headache|attack)",
    "on demand",
    "as need",
    "rescue",
    "abort",
    "mid attack",
    "acute (treatment|relief)",
    "stop (a|an|the|your) (migraine |headache )?attack",
    "treat (a|an|the|your) (migraine |headache )?attack",
    "(stop|end|break) (a|the|your) (migraine|headache)(?! day)",
    "relief (from|of|during) (an|a|the) attack",
    "(fast|quick|rapid) acting",
    "(migraine|headache|attack) (strike|hit|start|come on|begin|flare|arrive|kick in)",
    "(stop|end|relieve|kill|knock out|zap|ease) ({w} ){0,4}(the (second|minute|moment|instant)|as soon as)",
)
COSMETIC = _cue(
    "wrinkle",
    "(frown|forehead|fine|smile|laugh|expression) line",
    "crow 's foot",
    "crow foot",
    "smooth",
    "smoother",
    "youthful",
    "younger",
    "cosmetic",
    "beauty",
    "glow",
    "anti aging",
    "brow lift",
    "refresh",
    "two bird",
    "bonus",
    "look younger",
)
BRAND = _cue("botox", "onabotulinumtoxina")
SIDE_EFFECTS = _cue("side effect", "adverse", "reaction")
SEPARATE = _cue("separate", "different", "interchangeable", "distinct", "own label", "not the same")


@detector(ClaimClass.SCOPE)
def _scope(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    if sentence.is_question:
        return
    fix = "keep to the label: it helps prevent headaches in adults (18+) with chronic migraine"
    about = sentence.has(TREATMENT) or sentence.has(RECOMMENDS)
    groups = (
        (EPISODIC, "suggests it for episodic migraine; it is approved for chronic migraine only"),
        (PAEDIATRIC, "suggests it for young people; it is approved for adults only"),
        (OTHER_HEADACHE, "suggests it for other headaches or pain; it is approved for chronic migraine only"),
    )
    if about and not sentence.has(SIDE_EFFECTS):  # a side-effect list names pain that is not a use
        for pattern, why in groups:
            for span in _unnegated(sentence, pattern):
                yield _Found(span, why, fix)
        yield from _episodic_frequency(sentence, groups[0][1], fix)
    for span in _unnegated(sentence, ACUTE):
        if BOTOX_OR_INJECTION.search(sentence.clause(span)):
            yield _Found(span, "suggests it treats an attack; it is a preventive treatment, not for an attack", fix)
    yield from _cosmetic(sentence)


def _cosmetic(sentence: Sentence) -> Iterator[_Found]:
    """A cosmetic effect tied to migraine treatment, or BOTOX® named for its cosmetic use: the two products are
    labelled separately."""
    if sentence.has(SEPARATE):
        return
    if sentence.has(MIGRAINE):
        why, fix = (
            "ties a cosmetic effect to migraine treatment; the migraine and cosmetic products are labelled separately",
            "keep cosmetic results out of migraine copy",
        )
    elif sentence.has(BRAND):
        why, fix = (
            "ties BOTOX® to cosmetic use; the cosmetic product is a separately labelled one, not interchangeable",
            "name BOTOX® only for what this email is about",
        )
    else:
        return
    for span in _unnegated(sentence, COSMETIC):
        yield _Found(span, why, fix)
        break


def _episodic_frequency(sentence: Sentence, why: str, fix: str) -> Iterator[_Found]:
    """A frequency under chronic migraine's 15 days a month ("a couple of times a month", "3 migraines a week")."""
    for span in _unnegated(sentence, FREQUENCY):
        if _per_month(span.words) < 15 and not re.search(r"\b(fewer|less|more)\b", span.words):
            yield _Found(span, why, fix)


# --- efficacy: guarantees and numbers ----------------------------------------------------------------------------
GUARANTEE = _cue(
    "guarantee",
    "promise",
    "always work",
    "never fail",
    "work every time",
    "work for (everyone|everybody|anyone|all)",
    "(everyone|everybody|anyone|every patient) ({w} )?(respond|benefit|improve|get relief|see result|see a difference)",
    "100 %",
    "100 percent",
    "proven",
    "prove to",
    "clinically prove",
    "scientifically prove",
    "sure to",
    "certain to",
    "definitely",
    "result (you can )?count on",
    "sure thing",
    "without fail",
    "will ({w} ){0,2}(stop|end|prevent|reduce|cut|fix|relieve|eliminate|transform|change|improve|work|give you relief|"
    "get you|free you)",
    "(ensure|assure) ({w} ){0,2}(result|relief|success|improvement|fewer)",
    "prove (\\S+ )?(result|relief|effective|treatment|way|solution|to|method|therapy)",
    "in every case",
    "without exception",
    "each and every",
    "every (single )?time",
    "work wonder",
    "(will|be go to|be sure to|be certain to) ({w} ){0,3}(fewer|less|better|relief|result|improvement|difference|"
    "freedom|stop|end|prevent|cut|free)",
    "(work|help)s? ,? period",
    "(clinically|medically) (test|shown)",
    "result (be |are )?guarantee",
    "effective for (everyone|everybody|all|anyone)",
    "(highly|extremely|incredibly|super|remarkably|amazingly) effective",
)
NUMBER_CLAIM = _cue(
    "\\d+(?:\\.\\d+)? %(?! off)(?! discount)(?! saving)",
    "{n} percent(?! off)",
    "cut ({w} ){0,3}in half",
    "halve",
    "triple",
    "success rate",
    "response rate",
    "double (the|your|their|its)",
    "({n}|\\d+) (out of|in) ({n}|\\d+|a hundred)(?! (?:day|week|month|year|hour|minute|adult|american|people|person))",
    "\\d+(?:\\.\\d+)? (fewer|less) (headache |migraine )?(day|headache|migraine|attack)",
    "(far|way|much|many|a lot) fewer",
    "(dramatically|drastically|significantly|massively|hugely|greatly|substantially|radically|sharply)",
    "(by|in) (half|a third|two third|\\d+ %)",
    "(dramatic|drastic|significant|massive|huge|remarkable|major) (improvement|reduction|drop|relief|result|"
    "difference|change)",
)
PATIENT_SHARE = _cue(
    "({n}|\\d+) (out of|in) ({n}|\\d+) (of )?(our )?(patient|client|user|those treat)",
    "\\d+(?:\\.\\d+)? % of (our |treated |botox )?(patient|client|user|those treat)",
    "(most|nearly all|almost all|the majority of|the vast majority of|half of) (our |botox |treated )?(patient|client)",
)
# "most people", "half of patients": a result only when the sentence is about the treatment ("Most people with migraine
# have fewer than 15 headache days" is a fact about migraine)
SHARE_OF_PEOPLE = _cue(
    "(half|most|majority|nearly all|almost all|three quarter|the vast majority) (of )?(patient|people|client|user|"
    "woman|man|those|our patient|sufferer)",
)
EFFECT = _cue(
    "fewer",
    "reduce",
    "reduction",
    "cut",
    "drop",
    "improve",
    "improvement",
    "respond",
    "relief",
    "success",
    "work",
    "better",
    "benefit",
    "result",
    "less",
    "effective",
    "decrease",
    "lower",
    "see",
    "notice",
    "halve",
    "triple",
    "help",
)


@detector(ClaimClass.EFFICACY)
def _efficacy(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    if sentence.is_question:
        return
    for span in _unnegated(sentence, GUARANTEE):
        yield _Found(
            span,
            "promises a result; no treatment works for everyone",
            "describe what the trials found, and that not everyone responds",
        )
    if sentence.has(COMPARED):
        return
    for span in sentence.find(PATIENT_SHARE):  # "4 out of 5 patients…": a share of the clinic's patients is a result
        yield _Found(
            span,
            "states how many patients it works for without the comparison the label makes (against placebo)",
            "state the label's figures with the placebo figures, or leave numbers out",
        )
    if not sentence.has(EFFECT):
        return
    shares = sentence.find(SHARE_OF_PEOPLE) if sentence.has(TREATMENT_OR_PRONOUN) else []
    for span in [*sentence.find(NUMBER_CLAIM), *shares]:
        if sentence.has(PRICE_TALK):
            continue
        yield _Found(
            span,
            "states how well it works without the comparison the label makes (against placebo, at 24 weeks)",
            "state the label's figures with the placebo figures, or leave numbers out",
        )


# --- comparative and superlative -----------------------------------------------------------------------------------
# "the smartest choice", "the finest team": a superlative naming what is chosen (not "the latest label")
SUPERLATIVE_CHOICE = re.compile(
    r"(?<![^ ])the (?!(?:latest|earliest|nearest|closest|largest|longest|highest|lowest|best|most) )[a-z]+est "
    r"(choice|option|way|treatment|clinic|team|injector|name|place|care|decision|solution|provider|investment)s?"
    r"(?![^ ])"
)
STRONG_SUPERLATIVE = _cue(
    "(strong|stronger|better|more effective|more powerful|fast|faster|safe|safer|good) than (any|other|every|pill|"
    "medication|drug|daily|oral|traditional|the competition|the rest)",
    "finest",
    "most (trusted|advanced)",
    "# 1",
    "#1",
    "number one",
    "no . 1",
    "premier",
    "unmatched",
    "unbeatable",
    "unrivaled",
    "unrivalled",
    "unparalleled",
    "second to none",
    "world class",
    "gold standard",
    "state of the art",
    "cutting edge",
    "revolutionary",
    "breakthrough",
    "award winning",
    "outperform",
    "most (effective|advanced|trusted|popular|sought after|loved|requested|recommended)",
    "top rat(e|ed)",
    "can not be beat",
    "top (\\S+ ){0,2}(specialist|expert|doctor|injector|clinic|provider|team|choice|pick|practice|destination|name|"
    "neurologist|physician)",
    "the best(?! (?:way|time|fit|for|to|option for you|choice for you|thing you can do))",
    "(simply|truly|quite|by far) the best",
    "(nobody|no one|no other ({w} )?(clinic|provider|practice|team|injector|treatment)) ({w} ){0,4}(better|more|"
    "like|as well as)",
    "nothing ({w} ){0,2}(better|more effective|compare|come close)",
    "unlike (other|most|the other|many|some) ({w} )?(clinic|provider|practice|treatment|spa|med spa|injector|office)",
    "(voted|vote|named|ranked) (the )?",
    "top (tier|notch|flight|shelf)",
    "(no|nothing|none) (\\S+ )?better",
    "leading (name|provider|clinic|expert|practice|destination|choice|treatment|team)",
    "(only|sole) (clinic|provider|place|practice|injector)",
    "(exceptional|outstanding|superb|incomparable|unsurpassed)",
    "(highest|finest|greatest) (quality|standard|level|care)",
    "(best|top|leading|premier|#1|number one) rate",
    "better (result|relief|outcome)s? than",
)
LEADING = re.compile(r"(?<![^ ])leading(?! cause)(?![^ ])")
SUPERLATIVE_WORDS = _cue(
    "best(?! (?:for you|way|time|to|fit|option for you|choice for you|practice|interest))",
    "top (\\S+ )?(rate|rated|doctor|injector|clinic|provider|choice|pick|spot)",
    "leader",
    "most (effective|advanced|trusted|popular|experienced|skilled|qualified|"
    "comprehensive|innovative|powerful|reliable|successful|affordable|sought after|loved|request|requested|"
    "recommended|natural)",
    "favorite",
    "favourite",
    "elite",
    "finest",
    "greatest",
    "ultimate",
    "superior",
    "beat (\\S+ )?(pill|medication|drug|other|the rest|competition|any)",
    "the only (\\S+ )?(treatment|clinic|provider|option|place|one|solution|choice|injector|practice)",
    "can not be beat",
    "(top|leading|renowned|recognized) expert",
    "expert",
    "(better|more effective|more powerful|strong|fast|long lasting|more lasting|cheap|smart|quick|good|"
    "more) than(?! placebo)",
    "specialist",
)


@detector(ClaimClass.SUPERLATIVE)
def _superlative(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    if sentence.is_question:
        return
    spans = [*_unnegated(sentence, STRONG_SUPERLATIVE), *_unnegated(sentence, SUPERLATIVE_CHOICE, surface=True)]
    if sentence.has(TREATMENT_OR_PRONOUN):
        spans += [*_unnegated(sentence, SUPERLATIVE_WORDS), *_unnegated(sentence, LEADING, surface=True)]
    for span in spans:
        yield _Found(
            span,
            "is a comparative or superlative claim nobody has substantiated",
            "describe the treatment and the clinic plainly, without comparing",
        )


# --- testimonials and endorsements ---------------------------------------------------------------------------------
_QUOTED = re.compile(r"[\"“]([^\"”]{8,})[\"”]|(?<![a-z])'([^']{8,}?)'(?![a-z])")
# a named person's before and after: "Jenny used to miss work every week", "Mark went from 20 migraine days to 4"
_NAMED_STORY = re.compile(
    r"^(?!(?:BOTOX|Botox|Migraine|Our|The|This|Your|We|You|It|They|Dr)\b)[A-Z][a-z]+(?: [A-Z]\.)? (used to|went from|"
    r"struggled|suffered|no longer|finally|hasn't|has not|now (has|gets|enjoys|lives))\b"
    r"|\bwhat [A-Z][a-z]+ (told|tells|said|says|shared|thinks|wrote)\b"
    r"|\b[A-Z][a-z]+'s (story|journey|experience|results?|transformation)\b"
)
_FIRST_PERSON = re.compile(r"\b(i|my|me|i'm|i've|myself|mine)\b", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"\b(says|said|shares|shared|writes|wrote|explains|adds|raves|recalls|reports|tells us)\s+(?!Dr\b)[A-Z][a-z]+"
    r"|[—–]\s*[A-Z][a-z]+\b|\b[A-Z][a-z]+ [A-Z]\.,?\s*\d{2}\b|,\s*\d{2},\s*(of|from)\s+[A-Z]"
)
PRAISE = _cue(
    "(patient|client|customer|people|woman|man|mom|mum|everyone|everybody|reader|many|they)s? ({w} ){0,4}(love|rave|"
    "swear by|adore|thank|recommend|can not stop talk|call it|can not believe)",
    "success stor(y|ie)",
    "testimonial",
    "(5|five|4|four) star",
    "rating",
    "before (and|&) after",
    "real (result|patient|people|story|storie|transformation)",
    "(amazing|incredible|dramatic|stunning|total|complete) transformation",
    "(vote|voted) (best|top|#|number)",
    "word of mouth",
    "yelp",
    "happy (patient|client|customer)",
    "(patient|client)s? (\\S+ ){0,2}(favorite|favourite)",
    "(a|our) fan favorite",
    "(\\d\\S*|star|google|yelp|online|glowing|great|rave|patient|good|positive|hundreds of) review",
    "rate \\d\\S*",
    "patient stor(y|ie)",
    "patient whose",
    "hear from (our )?(patient|client|people)",
    "\\d\\S* star",
    "(satisfied|happy|delighted|thrilled|grateful|loyal) (\\S+ )?(patient|client|customer)",
    "review speak",
    "(our|the|these) review",
    "(patient|client|customer)s? ({w} ){0,2}(keep coming back|come back|keep return)",
    "(patient|client|customer) (story|stories|review|feedback|favorite|favourite)",
    "(trust|love|chosen|choose|prefer) by ({w} ){0,3}(patient|client|woman|people|customer|mom)",
    "(thousands|hundreds|dozens) of (happy |satisfied |loyal )?(patient|client|customer|people)",
    "(hear|read|see) what ({w} ){0,2}(say|said|think)",
    "what (our )?(patient|client|people|customer)s? (be )?(say|saying)",
)
# a patient speaking of their own outcome: "my migraines", "my life is back", "I haven't had a migraine since"
MY_OUTCOME = _cue(
    "my ({w} )?(migraine|headache|life|pain|attack|treatment|result|weekend|day)",
    "i ({w} )?(have|get|suffer|use to) ({w} ){0,4}(migraine|headache|attack)",
    "i (finally|wish|feel|can finally|have not had|never)",
)
REPORTS = _cue(
    "(patient|client|customer|people|many|woman|mom|everyone|they|someone|friend)s? ({w} ){0,3}(say|tell we|tell|"
    "report|share|write|agree|describe)",
)
OUTCOME = _cue(
    "better",
    "relief",
    "fewer",
    "life",
    "change",
    "help",
    "work",
    "result",
    "difference",
    "free",
    "wish",
    "back",
    "again",
    "transform",
    "amazing",
    "great",
    "love",
    "gone",
    "go",
    "miracle",
    "finally",
    "normal",
    "best",
    "good",
    "miss",
    "no more",
)


@detector(ClaimClass.TESTIMONIAL)
def _testimonial(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    why = "claims a benefit through what a patient says or rates (a disclaimer does not cure it)"
    fix = "remove it, or keep to what the label and the sources say"
    for match in _QUOTED.finditer(sentence.text):
        if _FIRST_PERSON.search(match.group(1) or match.group(2) or ""):
            yield _Found(Span(0, 0, match.group(0)), why, fix)
            return
    if _NAMED_STORY.search(sentence.text):
        yield _Found(Span(0, 0, sentence.text), why, fix)
        return
    attribution = _ATTRIBUTION.search(sentence.text)
    if attribution and sentence.has(OUTCOME):
        yield _Found(Span(0, 0, attribution.group(0)), why, fix)
        return
    if sentence.has(MY_OUTCOME):
        yield _Found(Span(0, 0, sentence.text), why, fix)
        return
    for span in _unnegated(sentence, PRAISE):
        yield _Found(span, why, fix)
    if not sentence.has(MEASURED) and sentence.has(OUTCOME):
        for span in _unnegated(sentence, REPORTS):
            yield _Found(span, why, fix)


# --- urgency ------------------------------------------------------------------------------------------------------
URGENCY_WORDS = _cue(
    "(today|tonight|this weekend|this week|weekend|24 hour|48 hour|{n} day|{n} hour) only",
    "only (today|tonight|this week|this weekend|for {n} (day|hour))",
    "end (today|tonight|tomorrow|soon|at midnight|this (week|weekend|friday|saturday|sunday|monday))",
    "expire (soon|today|tonight|tomorrow|at midnight)",
    "act (now|fast|quickly|today)",
    "hurry",
    "rush",
    "do not (wait|delay|miss|hesitate|let this)",
    "miss out",
    "last chance",
    "final (hour|day|chance|call)",
    "limited time",
    "for a limited",
    "while ({w} )?(supplies|supply|spot|stock|appointment|slot|they|it)s? last",
    "before (it|they|this|spot|slot)s? (be |are |is )?(go|sell|fill|run out)",
    "only {n} (spot|appointment|opening|slot|place|seat|space)s? (left|remain|available)",
    "({n}|few) (spot|appointment|opening|slot|space)s? (left|remain)",
    "(spot|appointment|slot|opening|calendar|space)s? (be |are )?"
    "(fill|filling|go|going|book|booking) (up )?(fast|quickly)",
    "sell out",
    "selling out",
    "first {n} (patient|caller|client|customer|people|booking|person)",
    "book (now|today) before",
    "now or never",
    "once in a lifetime",
    "go fast",
    "going fast",
    "countdown",
    "flash sale",
    "doorbuster",
    "clock be tick",
    "({n}|few) (day|hour)s? (left|remain)",
    "run out",
    "(price|offer|deal)s? (will )?go up",
    "before price",
    "(grab|claim|snag|lock in) (it|yours|your spot|this)",
    "right now",
    "do not delay",
    "end (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|this|at)",
    "for a limit",
    "limit time",
    "(will not|won't) be around",
    "not last long",
    "(end|expire|disappear|vanish)s? (monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|today|"
    "tomorrow|at \\d|soon|this)",
    "(deal|offer|price|sale|special|discount|spot|appointment|opening|slot|this|it|savings)s? ({w} ){0,2}(disappear|"
    "vanish|go away|will not last|not last|be go|be gone|will be go)",
    "(price|cost)s? (will )?(rise|increase|go up)",
    "before (your|the|a) (spot|slot|appointment|place|opening)s? (be |is )?(take|go|gone|fill|book)",
    "last call",
    "(in|within) the next \\d+ (hour|day)",
    "lock in (your |the |this )?(price|rate|spot|deal|savings)",
    "too late",
    "before it be too late",
    "limit(ed)? (spot|appointment|opening|space|slot)",
    "limit(ed)? availability",
    "(until|while) (\\S+ )?(spot|supply|supplies|stock|slot)s? (last|run out)",
    "deadline",
    "going quickly",
    "almost (gone|sold out|full|booked)",
    "(selling|booking|sell|book) (out|up) fast",
    "(spot|slot|appointment|opening|space)s? (be |are )?(limited|scarce|filling)",
    "(after that|then) ,? it be go",
    "(will not|never) (come around|be repeated|happen) again",
)


@detector(ClaimClass.URGENCY)
def _urgency(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    for span in _unnegated(sentence, URGENCY_WORDS):
        yield _Found(
            span,
            "pressures the reader to decide now (CA B&P 651, FTC); a medical decision needs time",
            "state the offer's dates plainly; let the reader decide after a consultation",
        )


# --- price terms --------------------------------------------------------------------------------------------------
VAGUE_PRICE = _cue(
    "start (at|from)",
    "starting (at|from)",
    "from (just |only )?\\$\\S*",
    "\\$\\S* (and up|\\+|or more|and above)",
    "low price",
    "lowest price",
    "up to \\d+ %",
    "up to \\$\\S*",
    "price from",
    "call for (price|pricing|a quote|quote)",
    "cheap",
    "cheapest",
    "bargain",
    "best price",
    "unbeatable price",
    "\\$\\S* ({w} ){0,3}(and up|and above|or more|and higher)",
    "as (low|little) as",
)
DISCOUNT = _cue(
    "\\d+ % off",
    "{n} percent off",
    "half (off|price)",
    "\\d+ % (discount|saving)",
    "save (up to )?(\\$\\S*|\\d+ %|{n} percent)",
    "\\$\\S* off",
    "bogo",
    "buy one get one",
    "2 for 1",
    "two for one",
    "discounted",
    "slash",
    "markdown",
    "mark down",
    "(\\d+ %|\\$\\S+) discount",
    "reduce price",
    "knock \\S+ off",
    "(?<!other\\s)(?<!any\\s)(?<!no\\s)discount (\\S+ )?(botox|treatment|price|rate|filler|facial|peel|injectable|"
    "session|unit|all)",
    "buy ({n}|a) ({w} ){0,3}get",
    "get ({n}|another|a second) ({w} )?(free|half off|for free|at half)",
    "huge saving",
    "big saving",
    "save (big|more|huge|a lot|hundreds|money|on|\\d)",
    "(huge|big|great|amazing|incredible|unbeatable) (deal|saving)",
    "(special|introductory|promotional|promo|exclusive|sale|reduced|discounted|limited) (price|pricing|rate)",
)
REGULAR_PRICE = _cue(
    "shelf price",
    "marked price",
    "ticket price",
    "regular",
    "regularly",
    "reg",
    "usually",
    "normally",
    "originally",
    "usual price",
    "list price",
    "was \\$\\S*",
    "full price",
    "instead of",
    "standard price",
)
FREE = _cue("free", "complimentary", "on the house", "at no (cost|charge)", "no charge", "gift", "giveaway", "bonus")
PRODUCT = _cue(
    "treatment",
    "session",
    "unit",
    "syringe",
    "filler",
    "botox",
    "facial",
    "peel",
    "vial",
    "area",
    "upgrade",
    "add on",
    "product",
    "sample",
    "skincare",
    "serum",
    "touch up",
    "injection",
    "laser",
    "microneedling",
    "dysport",
    "xeomin",
    "kit",
    "mask",
    "gift card",
    "card",
)
FREE_TERMS = _cue(
    "with (any |a |your |the |each )?purchase",
    "when you (buy|book|purchase)",
    "purchase of",
    "minimum",
    "condition",
    "limit one",
    "no purchase",
)
TOXIN = _cue(
    "botox",
    "dysport",
    "xeomin",
    "jeuveau",
    "daxxify",
    "toxin",
    "neurotoxin",
    "neuromodulator",
    "tox",
    "onabotulinumtoxina",
)
MONEY = re.compile(r"(?<![^ ])\$ ?\d[\d,]*(?:\.\d+)?(?![^ ])")
UNIT_STATED = _cue("unit", "per (area|syringe|session|treatment|vial|visit)", "each", "a session", "per", "/")


@detector(ClaimClass.PRICE)
def _price(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    for span in sentence.find(VAGUE_PRICE):
        yield _Found(span, "is not an exact price (CA B&P 651)", "state the exact price and what it is for")
    if not sentence.has(REGULAR_PRICE):
        for span in sentence.find(DISCOUNT):
            yield _Found(
                span,
                "is a discount without the regular price it is taken from (16 CFR 233.1)",
                "state the regular price beside the offer price, e.g. '$12 per unit (regularly $14)'",
            )
    for span in sentence.find(FREE):
        if span.start and sentence.lemmas[span.start - 1] == "-":
            continue  # "fragrance-free" describes, it offers nothing
        near = sentence.window(span, 3, 3, within_clause=True)
        if PRODUCT.search(near) and not sentence.has(FREE_TERMS) and not sentence.negated(span):
            yield _Found(
                span, "offers something free without its terms", "say what must be bought or booked, and by when"
            )
    if sentence.has(TOXIN) and not sentence.has(UNIT_STATED):
        for span in sentence.find(MONEY):
            yield _Found(
                span,
                "prices a toxin with no unit or unit count (units differ between products)",
                "say per unit, or for how many units, e.g. '$12 per unit'",
            )


# --- dates and seasons against the email's own dates ---------------------------------------------------------------
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = re.compile(
    rf"\b(?P<m1>{_MONTH_NAME})\.? (?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (?P<y1>\d{{4}}))?"
    rf"|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?(?P<m2>{_MONTH_NAME})\b(?:,? (?P<y2>\d{{4}}))?"
    r"|\b(?P<m3>\d{1,2})/(?P<d3>\d{1,2})(?:/(?P<y3>\d{2,4}))?\b",
)
_END_BEFORE = re.compile(
    r"(\b(until|till|til|through|thru|to|ends?|ending|expires?|expiring|by|before|and)|-)\s*(on\s+)?$"
)
_START_BEFORE = re.compile(r"\b(from|starting|starts?|begins?|beginning|after|between)\s*(on\s+)?$")
_DAY_RANGE = re.compile(r"\s*-\s*(\d{1,2})\b(?!/)")
_RANGE_BETWEEN = re.compile(r".*?\s(to|through|thru|until|till|and|-)\s*", re.DOTALL)
WHOLE_MONTH = _cue(
    "all month",
    "all of (january|february|march|april|may|june|july|august|september|october|november|december)",
    "the whole month",
    "the entire month",
    "(end|rest) of the month",
    "through the month",
    "all month long",
    "end of (january|february|march|april|may|june|july|august|september|october|november|december)",
)


MONTH_NAMES = _cue(*MONTHS[:4], *MONTHS[5:])  # not "may", which is mostly a verb


def _month_number(name: str) -> int:
    return next(i for i, month in enumerate(MONTHS, 1) if month.startswith(name.lower()[:3]))


def _dates(sentence: Sentence, year: int) -> Iterator[tuple[dt.date, str]]:
    """Each calendar date a sentence names, with its role: "start" ("from July 1", the first of a range), "end"
    ("until July 31", the last of a range, "July 1-31") or "" (a date on its own)."""
    text = sentence.text.lower().replace("–", "-")
    found: list[tuple[int, dt.date, str]] = []
    for match in _DATE.finditer(text):
        groups = match.groupdict()
        month = groups["m1"] or groups["m2"] or groups["m3"]
        day, stated_year = groups["d1"] or groups["d2"] or groups["d3"], groups["y1"] or groups["y2"] or groups["y3"]
        when = _date(month, day, stated_year, year)
        if when is None:
            continue
        before = text[max(0, match.start() - 20) : match.start()]
        role = "end" if _END_BEFORE.search(before) else "start" if _START_BEFORE.search(before) else ""
        found.append((match.start(), when, role))
        days = _DAY_RANGE.match(text, match.end())  # "July 1-31"
        if days and (last := _date(month, days.group(1), stated_year, year)):
            found[-1] = (match.start(), when, "start")
            found.append((days.start(), last, "end"))
    for index, (position, when, role) in enumerate(found):
        if not role and index + 1 < len(found) and _RANGE_BETWEEN.fullmatch(text[position : found[index + 1][0]]):
            role = "start"
        yield when, role


def _date(month: str, day: str, stated_year: str | None, year: int) -> dt.date | None:
    try:
        number = int(month) if month.isdigit() else _month_number(month)
        when_year = int(stated_year) + (2000 if len(stated_year) == 2 else 0) if stated_year else year
        return dt.date(when_year, number, int(day))
    except (ValueError, StopIteration):
        return None


@detector(ClaimClass.DATES)
def _offer_dates(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    start, end = setting.valid_from, setting.valid_until
    if start is None or end is None:
        return
    stated = f"the offers run {start:%B} {start.day} to {end:%B} {end.day}"
    fix = "state the offers' dates as valid_from and valid_until say them"
    for when, role in _dates(sentence, start.year):
        if not start <= when <= end or (role == "end" and when != end) or (role == "start" and when != start):
            yield _Found(Span(0, 0, f"{when:%B} {when.day}"), f"contradicts the offer's dates: {stated}", fix)
    month_end = (end.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if start.day != 1 or end != month_end:
        for span in sentence.find(WHOLE_MONTH):
            yield _Found(span, f"promises the whole month, but {stated}", fix)


# each season's months, and the month before it, when copy may look ahead to it
SEASONS = {
    "winter": {11, 12, 1, 2},
    "spring": {2, 3, 4, 5},
    "summer": {5, 6, 7, 8},
    "fall": {8, 9, 10, 11},
}
SEASON_CUES = {
    "winter": _cue(
        "winter", "wintertime", "snow", "snowy", "cold weather", "chilly", "frosty", "cozy season", "ski season"
    ),
    "spring": _cue("spring(?! (?:water|for|up|to))", "springtime", "bloom", "april shower", "spring clean"),
    "summer": _cue(
        "summer",
        "summertime",
        "beach",
        "pool(side)?",
        "bikini",
        "tan line",
        "barbecue",
        "bbq",
        "pool season",
        "sunburn",
        "heat wave",
        "hot weather",
        "the heat",
        "sunny day",
        "vacation season",
        "sundress",
        "swimsuit",
    ),
    "fall": _cue(
        "autumn",
        "(this|the|in|for|early|late) fall",
        "fall (special|offer|season|refresh|glow|skin|be here|favorite)",
        "(hello|goodbye|welcome|happy) ,? fall",
        "pumpkin",
        "sweater weather",
        "harvest",
        "cooler day",
        "leaf",
    ),
}
HOLIDAYS = {
    "Christmas": (_cue("christmas", "xmas"), {11, 12}),
    "Thanksgiving": (_cue("thanksgiving"), {10, 11}),
    "the New Year": (_cue("new year"), {12, 1}),
    "Valentine's Day": (_cue("valentine"), {1, 2}),
    "Mother's Day": (_cue("mother 's day", "mothers day"), {4, 5}),
    "Father's Day": (_cue("father 's day", "fathers day"), {5, 6}),
    "Halloween": (_cue("halloween"), {9, 10}),
    "Black Friday": (_cue("black friday", "cyber monday"), {11}),
    "the Fourth of July": (_cue("fourth of july", "4th of july", "independence day"), {6, 7}),
    "Memorial Day": (_cue("memorial day"), {5}),
    "Labor Day": (_cue("labor day"), {8, 9}),
    "Easter": (_cue("easter"), {3, 4}),
    "back to school": (_cue("back to school"), {7, 8, 9}),
    "the holidays": (_cue("holiday(?! weekend)", "festive", "stocking stuffer"), {11, 12}),
    "spring break": (_cue("spring break"), {2, 3, 4}),
}


@detector(ClaimClass.SEASON)
def _season(sentence: Sentence, setting: Setting) -> Iterator[_Found]:
    if setting.month is None:
        return
    month = setting.month.month
    fix = f"write for {setting.month:%B}: this copy was written for another time of year"
    for season, cue in SEASON_CUES.items():
        if month not in SEASONS[season]:
            for span in sentence.find(cue):
                yield _Found(span, f"speaks of {season} in a {setting.month:%B} email", fix)
    for name, (cue, months) in HOLIDAYS.items():
        if month not in months:
            for span in sentence.find(cue):
                yield _Found(span, f"speaks of {name} in a {setting.month:%B} email", fix)
    for span in sentence.find(MONTH_NAMES):
        named = MONTHS.index(span.words.split()[0]) + 1
        start, end = setting.valid_from, setting.valid_until
        in_offer = start is not None and end is not None and start.month <= named <= end.month
        if named != month and not in_offer:
            yield _Found(span, f"names {span.words.title()} in a {setting.month:%B} email", fix)


@lru_cache(maxsize=16384)
def claims_in(text: str, setting: Setting = Setting()) -> tuple[Claim, ...]:
    """Every claim a sentence makes, by class, once per class and cue."""
    sentence = analyse(text)
    if not sentence.words:
        return ()
    found: list[Claim] = []
    seen: set[tuple[ClaimClass, str]] = set()
    for kind, detect in DETECTORS.items():
        for hit in detect(sentence, setting):
            words = hit.span.words or sentence.text
            if (kind, words) not in seen:
                seen.add((kind, words))
                found.append(Claim(kind, words, hit.why, hit.fix))
    return tuple(found)
