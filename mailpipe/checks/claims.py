"""What a medical/legal reviewer rejects (shared email-rules.md, section 9): claims beyond the BOTOX® label, migraine
facts stated loosely, stroke-like symptoms without the 911 line, copy that assumes the reader's condition, offer terms
that undercut an exact price, and drip-only sequence copy in an email that is not a drip step.

The rules read the email's own copy (`Context.copy_text`), not the shared safety-information and footer blocks, so
the layout's Important Safety Information neither triggers them nor satisfies them for the copy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

from mailpipe.checks import ERROR, WARNING, Context, Issue, quote, rule
from mailpipe.checks.claim_classes import Claim, ClaimClass, Setting, claims_in
from mailpipe.checks.reading import sentences
from mailpipe.load.content import SpecialFront
from mailpipe.util.vocabulary import BOTOX_MENTION

_I = re.IGNORECASE
_NUMBER = r"(\d+|one|two|three|four|five|six|several)"

BEYOND_LABEL = (
    (
        re.compile(
            r"\b(ease|eases|relieve|relieves|reduce|reduces|improve|improves|lessen|lessens|help with)\b[^.]{0,80}?"
            r"\b(nausea|vomiting|sensitivity to (light|sound|smell))",
            _I,
        ),
        "promises relief of migraine symptoms no trial measured (the measured benefit is fewer headache days)",
        "keep to fewer headache days, as the trials measured",
    ),
    (
        re.compile(
            r"\b(better sleep|sleep better|(brighter|better|improved) mood|more energy|vitality|life[- ]changing|"
            r"get (your|their) life back|transform\w* (your|their) li(fe|ves)|more than pain relief)\b",
            _I,
        ),
        "promises a benefit beyond the label (sleep, mood, energy, a changed life)",
        "remove it: only the labelled benefit may be promoted",
    ),
)
TAILORED_DOSE = (
    re.compile(
        r"\b(tailor(ed)?|customi[sz]ed?|personali[sz]ed?|individuali[sz]ed?)\b[^.]{0,60}?"
        r"\b(individual needs|your needs|to you\b|dose|dosing|units|injections)",
        _I,
    ),
    re.compile(
        r"\b(dose|dosing|units|injections)\b[^.]{0,40}?\b(tailored|customi[sz]ed|personali[sz]ed|adjusted)\b", _I
    ),
)
MECHANISM = re.compile(
    r"\b(blocks?|blocking|stops?|prevents?|interrupts?|works? by|acts? on)\b[^.]{0,60}?"
    r"\b(release|chemicals|pain signals?|nerve endings|neurotransmitters?)\b",
    _I,
)
HEDGE = re.compile(
    r"\b(is|are) thought to\b|\bbelieved to\b|\bmay\b|\bappears? to\b|\bnot (fully )?(known|understood)\b", _I
)
INDICATION_PARTS = {
    "adults with chronic migraine": re.compile(r"\badults with chronic migraine\b", _I),
    "15 or more headache days a month": re.compile(r"\b(15|fifteen) or more (headache )?days\b", _I),
    "headaches lasting 4 hours or more": re.compile(r"\b(4|four) (or more hours|hours or (more|longer))\b", _I),
}
EPISODES = re.compile(r"\b(8|eight) (of (those|these) )?(episodes|attacks|headaches)\b", _I)
STROKE_SIGNS = re.compile(
    r"\b(weakness|numbness)\b[^.]{0,60}?\bone side\b|\bone[- ]sided (weakness|numbness)\b|"
    r"\b(difficulty|trouble|problems?) (speaking|talking)\b|\b(losing|loss of|lose) (part of )?(your |their "
    r")?(vision|sight)\b|"
    r"\bvision loss\b",
    _I,
)
STROKE_LINE = re.compile(r"\bsudden(ly)?\b[^.]{0,160}?\b911\b", _I)
ASSUMED_CONDITION = re.compile(
    r"\byour (own )?(chronic |episodic )?(migraines?|headaches?|migraine \w+|headache \w+|attacks?|auras?|"
    r"symptoms|triggers|pain|diagnosis|(own )?pattern)\b|\bwhich (one )?describes you\b|\byou suffer\b",
    _I,
)
UNDERCUT = re.compile(
    r"\b(prices? (are )?subject to|subject to (change|availability|provider)|while "
    r"(supplies|appointments|stocks?|spots) lasts?|"
    r"call for (a )?(price|pricing|quote)|limited availability)\b",
    _I,
)
CONSULTATION = re.compile(r"\bconsultations?\b", _I)
CONSULTATION_FEE = re.compile(
    r"\bconsultations? (is |are )?(free|complimentary|included|at no (cost|charge))|\bno (charge|cost|fee) "
    r"for\b[^.]{0,20}"
    r"\bconsultation|\bconsultation fee\b|\$\s?\d[\d.,]* (for (the|a|each) |per )?consultation|\bconsultation "
    r"(costs?|is \$)",
    _I,
)
SERIES = re.compile(r"\b(series|package|bundle|\d+ (sessions|treatments))\b", _I)
USE_DEADLINE = re.compile(r"\b(used|redeemed|completed|use|redeem|complete)\b[^.]{0,60}?\b(by|within|before)\b", _I)
PER_SESSION = re.compile(r"\bper (session|treatment|visit|area)\b", _I)
MULTI_SESSION = re.compile(
    r"\b(microneedling|laser|peels?|hair removal|ipl|photofacial|radiofrequency|tattoo removal)\b", _I
)
SESSIONS_STATED = re.compile(rf"\b{_NUMBER}\b[^.]{{0,30}}?\b(sessions|treatments)\b", _I)
UNSUBSTANTIATED = re.compile(
    r"\b(collagen[- ]boosting|medical[- ]grade|clinically proven|pharmaceutical[- ]grade|dermatologist[- ]approved|"
    r"anti[- ]aging)\b",
    _I,
)
SEQUENCE = re.compile(
    r"\b(in (our|the) next (e-?mail|message)|next time:|over the next (few )?(weeks|days)|later in (this|the|our) "
    r"series|"
    r"next in (this|our) series)",
    _I,
)


def email_setting(ctx: Context) -> Setting:
    """What the claim classes read an email's sentences against: a special's month and offer dates."""
    front = ctx.email.source.item.front
    if not isinstance(front, SpecialFront):
        return Setting()
    year, month = (int(part) for part in front.month.split("-"))
    return Setting(dt.date(year, month, 1), front.valid_from, front.valid_until)


def reviewer_claims(ctx: Context) -> list[tuple[str, Claim]]:
    """Every claim of the subject, the preheader and the copy, sentence by sentence: one reading per email that the
    claim rules below share (and each distinct sentence read once per process)."""
    setting = email_setting(ctx)
    found: list[tuple[str, Claim]] = []
    for where, blocks in (
        ("subject", (ctx.email.subject,)),
        ("preheader", (ctx.email.preheader,)),
        ("copy", ctx.copy_blocks),
    ):
        for block in blocks:
            for sentence in sentences(block):
                found.extend((where, claim) for claim in claims_in(sentence, setting))
    return found


def _claims_of(kind: ClaimClass) -> Callable[[Context], Iterator[Issue]]:
    """A claim rule's check. Made when the module is imported, so its one line is not mutated (mutmut chooses a mutant
    only at a call); what it does is `_said_claims`."""
    return lambda ctx: _said_claims(kind, ctx)  # pragma: no mutate


def _said_claims(kind: ClaimClass, ctx: Context) -> Iterator[Issue]:
    """The email's claims of one class, each said once: the same words twice in the copy are one problem."""
    said = set()
    for where, claim in ctx.memo(reviewer_claims):
        message = f"{quote(claim.words)} in the {where} {claim.why}"
        if claim.kind == kind and message not in said:
            said.add(message)
            yield Issue(message, claim.fix)


for _rule_id, _kind, _why in (
    (
        "CLAIM-NO-CURE",
        ClaimClass.CURE,
        "Unsubstantiated health claims are false advertising (FTC Act; CA B&P 651): "
        "no cure, no permanent end to migraine.",
    ),
    (
        "CLAIM-SAFETY",
        ClaimClass.SAFETY,
        "A medicine with a boxed warning is not 'safe' or 'free of side effects' (FDA fair balance, FTC Act §5).",
    ),
    (
        "CLAIM-ONSET",
        ClaimClass.ONSET,
        "How soon it works and how long relief lasts only as the trials measured them "
        "(24 weeks, two treatments; re-treatment every 12 weeks).",
    ),
    (
        "BOTOX-INDICATION",
        ClaimClass.SCOPE,
        "BOTOX® is approved to prevent headaches in adults with chronic migraine "
        "only: not episodic migraine, children, other headaches, an attack, or a cosmetic bonus.",
    ),
    (
        "CLAIM-EFFICACY",
        ClaimClass.EFFICACY,
        "No guarantee, no proof, no numbers without the placebo comparison (FTC Act §12, CA B&P 651).",
    ),
    (
        "CLAIM-SUPERLATIVE",
        ClaimClass.SUPERLATIVE,
        "Comparatives and superlatives ('best', '#1', 'better than') need substantiation nobody has (CA B&P 651, FTC).",
    ),
    (
        "CLAIM-TESTIMONIAL",
        ClaimClass.TESTIMONIAL,
        "CA B&P 651, FTC endorsement guides: what a patient says, rates or "
        "loves is a benefit claim; 'individual results vary' does not cure it.",
    ),
    (
        "PROMO-URGENCY",
        ClaimClass.URGENCY,
        "CA B&P 651, FTC: no pressure to decide now ('today only', 'only 3 spots left') on a medical treatment.",
    ),
    (
        "PROMO-DATES",
        ClaimClass.DATES,
        "An offer's copy and terms state the dates its valid_from and valid_until give, and no others.",
    ),
    (
        "PROMO-SEASON",
        ClaimClass.SEASON,
        "Seasons, holidays and months in a special belong to its send month: copy "
        "carried over from another month misleads.",
    ),
):
    rule(_rule_id, ERROR, _why)(_claims_of(_kind))


@rule("PROMO-PRICE-TERMS", ERROR, "California B&P 651: price ads must be exact, with the offer's dates and terms.")
def price_terms(ctx: Context) -> Iterator[Issue]:
    yield from _claims_of(ClaimClass.PRICE)(ctx)
    special = ctx.email.source.item.front
    if not isinstance(special, SpecialFront):  # (dates in the wrong order are refused when the content is loaded)
        return
    if not re.search(r"\bvalid\b.*\bto\b", ctx.visible_text, re.IGNORECASE):
        yield Issue("the offers' dates are not stated", "keep 'Valid … to …' of the offers partial")
    if special.terms.strip()[:40] not in ctx.visible_text:
        yield Issue("the offers' terms are not shown", "keep the terms of the offers partial")


def _names_botox(ctx: Context) -> bool:
    return bool(BOTOX_MENTION.search(ctx.copy_text) or BOTOX_MENTION.search(ctx.email.subject))


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text)


@rule(
    "CLAIM-BEYOND-LABEL",
    ERROR,
    "FTC Act §5/§12, CA B&P 651, FDA fair balance: a prescription drug's benefits only as its label states them.",
)
def beyond_label(ctx: Context) -> Iterator[Issue]:
    text = ctx.inbox_and_copy
    for pattern, what, fix in BEYOND_LABEL:
        for match in pattern.finditer(text):
            yield Issue(f"{quote(match.group(0))} {what}", fix)
    if not _names_botox(ctx):
        return
    for pattern in TAILORED_DOSE:
        for match in pattern.finditer(text):
            yield Issue(
                f"{quote(match.group(0))} suggests a tailored dose; the labelled dose is fixed (155 units, 31 "
                "sites, 7 head and neck areas)",
                "say the dose is the same for everyone; the consultation decides whether it fits",
            )
    for sentence in _sentences(text):
        if MECHANISM.search(sentence) and not HEDGE.search(sentence):
            yield Issue(
                f"{quote(sentence, 80)} states how it works as fact; the mechanism is not fully understood",
                "say 'is thought to…'",
            )


@rule(
    "INDICATION-COMPLETE",
    ERROR,
    "Migraine facts as the label and the headache classification define them: BOTOX® is for adults with "
    "chronic migraine (15+ headache days a month, lasting 4+ hours); chronic migraine is counted in days.",
)
def indication_complete(ctx: Context) -> Iterator[Issue]:
    text = ctx.copy_text
    for match in EPISODES.finditer(text):
        yield Issue(
            f"{quote(match.group(0))}: chronic migraine is counted in days, not episodes",
            "say 'with migraine features on at least 8 of those days'",
        )
    if not (_names_botox(ctx) and re.search(r"\bmigraine", text, _I)):
        return
    missing = [part for part, pattern in INDICATION_PARTS.items() if not pattern.search(text)]
    if missing:
        yield Issue(
            f"the email promotes BOTOX® for migraine without saying who it is for: {', '.join(missing)}",
            "say it helps prevent headaches in adults with chronic migraine (15 or more headache days a month, "
            "each lasting 4 hours or more)",
        )


@rule(
    "SAFETY-STROKE-SIGNS",
    ERROR,
    "One-sided weakness, speech trouble or vision loss can be a stroke: describing them as aura needs "
    "'if sudden, new or different from your usual aura, call 911'.",
)
def stroke_signs(ctx: Context) -> Iterator[Issue]:
    text = ctx.copy_text
    sign = STROKE_SIGNS.search(text)
    if sign and not STROKE_LINE.search(text):
        yield Issue(
            f"{quote(sign.group(0))} is described without the emergency line",
            "add: if these come on suddenly, or are new or different from your usual aura, call 911",
        )


@rule(
    "PHI-ASSUMED-CONDITION",
    WARNING,
    "A lead has told us no diagnosis, and a patient's condition is not for an email: no second-person "
    "condition phrases ('your migraines').",
)
def assumed_condition(ctx: Context) -> Iterator[Issue]:
    for where, text in (("subject", ctx.email.subject), ("preheader", ctx.email.preheader), ("copy", ctx.copy_text)):
        for match in ASSUMED_CONDITION.finditer(text):
            yield Issue(
                f"{quote(match.group(0))} in the {where} assumes the reader has the condition",
                "write about migraine in general ('people with migraine', 'a headache diary')",
            )


@rule(
    "PROMO-TERMS-UNDERCUT",
    ERROR,
    "CA B&P 651, FTC: terms must not make an exact price non-binding, hide a fee or a deadline, or claim "
    "what is not substantiated.",
)
def terms_undercut(ctx: Context) -> Iterator[Issue]:
    if not ctx.is_promo:
        return
    text = ctx.inbox_and_copy
    for match in UNDERCUT.finditer(text):
        yield Issue(
            f"{quote(match.group(0))} makes the stated price non-binding",
            "remove it: the price and dates are the offer",
        )
    if CONSULTATION.search(text) and not CONSULTATION_FEE.search(text):
        yield Issue(
            "the offers need a consultation but do not say what it costs", "say the consultation is free, or its price"
        )
    for match in UNSUBSTANTIATED.finditer(text):
        yield Issue(
            f"{quote(match.group(0))} is an unsubstantiated claim",
            "describe what the treatment is, not a claimed effect",
        )
    special = ctx.email.source.item.front
    if not isinstance(special, SpecialFront):
        return
    for offer in special.offers:
        label = f"{offer.name} {offer.unit or ''}"
        if SERIES.search(label) and not USE_DEADLINE.search(f"{offer.description} {special.terms}"):
            yield Issue(
                f"{quote(offer.name)} is a series with no date by which it must be bought and used",
                "say by when the series must be used, e.g. 'sessions to be used within 6 months of purchase'",
            )
        if (
            PER_SESSION.search(offer.unit or "")
            and MULTI_SESSION.search(offer.name)
            and not SESSIONS_STATED.search(offer.description)
        ):
            yield Issue(
                f"{quote(offer.name)} is priced per session but usually needs several; the description does not "
                "say how many",
                "say how many sessions most people need, e.g. 'most people need 3 to 6 sessions'",
            )


@rule(
    "SEQUENCE-COPY",
    ERROR,
    "Only a drip step may speak of the next email: a patient who gets the newsletter never gets it.",
)
def sequence_copy(ctx: Context) -> Iterator[Issue]:
    if ctx.email.kind == "article":
        return
    for match in SEQUENCE.finditer(ctx.inbox_and_copy):
        yield Issue(
            f"{quote(match.group(0))} refers to a series this email is not part of",
            "put drip-only lines in the article's series_opening / series_next, which only the drip prints",
        )
