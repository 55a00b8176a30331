"""What a medical/legal reviewer and an email designer ask of the wording before they sign (issue 26): the dose as
the label recommends it, the size of the benefit with placebo's beside it, a pointer to the safety information,
preheaders that are true, triggers that are triggers, offers whose fee and sessions are stated once and exactly, no
drug among price offers, no health topic in the links' tracking, and US spelling.

Like the claim rules, these read the email's own copy (`Context.copy_blocks`), not the shared safety and footer
blocks, so the layout neither triggers them nor satisfies them for the copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from breame.spelling import british_spelling_exists, get_american_spelling

from mailpipe.checks import ERROR, WARNING, Context, Issue, quote, rule
from mailpipe.checks.claims import CONSULTATION_FEE, PER_SESSION
from mailpipe.checks.reading import sentences
from mailpipe.load.content import SpecialFront
from mailpipe.util.vocabulary import BOTOX_MENTION

_I = re.IGNORECASE
_NUMBER = r"(\d+(\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten)"

# --- the dose -------------------------------------------------------------------------------------------------------
DOSE_FOR_EVERYONE = re.compile(
    r"\bsame (\w+ ){0,2}dose\b[^.]{0,60}?\b(everyone|every (patient|person)|all (patients|people))\b|"
    r"\b(everyone|every (patient|person)|all (patients|people))\b[^.]{0,40}?\bsame (\w+ ){0,2}dose\b|"
    r"\blabell?ed dose\b|\bdose (is|stays) (fixed|the same)\b",
    _I,
)
DOSE_UNITS = re.compile(r"\b155\s*units?\b", _I)
RECOMMENDED = re.compile(r"\brecommended\b", _I)

# --- the size of the benefit ------------------------------------------------------------------------------------------
PLACEBO = re.compile(r"\bplacebo\b", _I)
HEADACHE_DAYS = re.compile(r"\bheadache days?\b", _I)
FIGURE = re.compile(rf"\b{_NUMBER}\b", _I)
CLAUSE_BREAK = re.compile(r"[,;:]|\bcompared (?:with|to)\b|\bversus\b|\bvs\.?|\bwhile\b|\bwhereas\b", _I)

# --- preheaders -------------------------------------------------------------------------------------------------------
READ_TIME = re.compile(rf"\b(?P<n>{_NUMBER}|a)[- ]minutes?(?: long)? read\b|\bread in (?P<m>{_NUMBER}) minutes?\b", _I)
_WORD_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
WORDS_PER_MINUTE = 230  # an adult's silent reading speed of non-fiction (Brysbaert 2019: 238)
INTRODUCTION = re.compile(
    r"\b(meet|get to know|introduc\w+)\b[^.]{0,30}?\b(team|provider|doctor|nurse|physician|prescriber|us)\b", _I
)

# --- triggers and conditions --------------------------------------------------------------------------------------
TRIGGER = re.compile(r"\btrigger", _I)
# conditions that travel with migraine (comorbidities): a reader who has one is told it sets attacks off
CONDITIONS = re.compile(
    r"\b(anxiety|depression|bipolar|obesity|insomnia|sleep apnea|epilepsy|asthma|fibromyalgia|"
    r"irritable bowel|ibs|hypertension|high blood pressure|pcos|endometriosis|ptsd|adhd)\b",
    _I,
)
NOT_A_TRIGGER = re.compile(r"\b(not (a |the )?triggers?|different|travel together|conditions?)\b", _I)
OVERUSE = re.compile(
    r"\b(overus\w+|over-us\w+)\b[^.]{0,30}?\b(medication|medicine|pain ?killers?|pain relievers?|drugs?)\b|"
    r"\b(medication|medicine|pain ?killer|pain reliever)s? (overuse|over-use)\b|"
    r"\btoo (much|many|often)\b[^.]{0,30}?\b(medication|medicine|pain ?killers?|pain relievers?)\b|"
    r"\b(medications?|medicines?|pain ?killers?|pain relievers?)\b[^.]{0,30}?\btoo (much|many|often)\b",
    _I,
)
MOH = re.compile(r"\b(medication|medicine)[- ]overuse headaches?\b|\brebound headaches?\b", _I)

# --- offers -------------------------------------------------------------------------------------------------------
# a consultation's cost as the offers' terms state it (claims' CONSULTATION_FEE), or "a free consultation"
CONSULTATION_PRICE = re.compile(CONSULTATION_FEE.pattern + r"|\bfree consultations?\b", _I)
SEVERAL_SESSIONS = re.compile(rf"\b{_NUMBER}\b[^.]{{0,20}}?\b(sessions|treatments)\b", _I)
SESSIONS_COVERED = re.compile(
    r"\b(covers?|applies|apply|is for|at this price)\b[^.]{0,50}?\b(sessions?|treatments?|visits?)\b[^.]{0,40}?"
    r"\b(by|before|through|until|within|in)\b|"
    r"\b(sessions?|treatments?|visits?)\b[^.]{0,30}?\b(performed|booked|done|completed|taken|used)\b[^.]{0,20}?"
    r"\b(by|before|through|until|within)\b",
    _I,
)
EACH_AT_PRICE = re.compile(r"\b(each|every one|all) at (this|that|the same) price\b", _I)
DATE = re.compile(
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|"
    r"nov(ember)?|dec(ember)?)\.? \d{1,2}\b|\b\d{1,2}/\d{1,2}(/\d{2,4})?\b",
    _I,
)
NOT_ON_OFFER = re.compile(r"\bnot (part of|included in|covered by|among)\b[^.]{0,40}\boffers?\b", _I)

# --- links -----------------------------------------------------------------------------------------------------------
OPAQUE_CAMPAIGN = re.compile(r"mp-([a-z][a-z0-9]{0,7}-(s\d{2}|\d{4}-\d{2})|unscheduled)")

_WORD = re.compile(r"[A-Za-z]+")


def _copy_sentences(ctx: Context) -> Iterator[str]:
    for block in ctx.copy_blocks:
        yield from sentences(block)


def _promotes_botox(ctx: Context) -> bool:
    return bool(BOTOX_MENTION.search(ctx.copy_text)) and bool(re.search(r"\bmigraine", ctx.copy_text, _I))


@rule(
    "BOTOX-DOSE",
    ERROR,
    "The label recommends 155 Units; it does not say everyone gets the same dose: say 'the recommended dose is…'.",
)
def dose(ctx: Context) -> Iterator[Issue]:
    if not BOTOX_MENTION.search(ctx.copy_text + " " + ctx.email.subject):
        return
    for sentence in _copy_sentences(ctx):
        match = DOSE_FOR_EVERYONE.search(sentence)
        if match:
            yield Issue(
                f"{quote(match.group(0))} says the dose is fixed for everyone; the label recommends a dose",
                "say 'the recommended dose is 155 Units'",
            )
        elif DOSE_UNITS.search(sentence) and not RECOMMENDED.search(sentence):
            yield Issue(
                f"{quote(sentence, 80)} gives the dose without saying it is the recommended one",
                "say 'the recommended dose is 155 Units'",
            )


def _both_arms(sentence: str) -> bool:
    """Headache days with a figure for the treated arm and one for placebo: the placebo clause has a number, and
    another clause has one too ("8 to 9 fewer headache days, compared with 6 to 7 fewer with placebo")."""
    if not HEADACHE_DAYS.search(sentence):
        return False
    clauses = CLAUSE_BREAK.split(sentence)
    placebo = [c for c in clauses if PLACEBO.search(c)]
    others = [c for c in clauses if not PLACEBO.search(c)]
    return any(FIGURE.search(c) for c in placebo) and any(FIGURE.search(c) for c in others)


@rule(
    "BOTOX-BENEFIT-SIZE",
    ERROR,
    "FDA fair balance, FTC: an email promoting BOTOX® for chronic migraine says how large the measured benefit was, "
    "with placebo's beside it (fewer headache days a month at week 24), so readers do not expect more.",
)
def benefit_size(ctx: Context) -> Iterator[Issue]:
    if not _promotes_botox(ctx):
        return
    for sentence in _copy_sentences(ctx):
        if _both_arms(sentence):
            return
    yield Issue(
        "the email promotes BOTOX® for chronic migraine without the size of the measured benefit",
        "say it as the label does: after two treatments, on average 8 to 9 fewer headache days a month with BOTOX, "
        "compared with 6 to 7 fewer with placebo, at week 24",
    )


@rule(
    "BOTOX-ISI-POINTER",
    ERROR,
    "Fair balance: copy that names BOTOX® points the reader to its Important Safety Information, beside the benefit.",
)
def isi_pointer(ctx: Context) -> Iterator[Issue]:
    if BOTOX_MENTION.search(ctx.copy_text) and "important safety information" not in ctx.copy_text.lower():
        yield Issue(
            "the copy names BOTOX® but never points to the Important Safety Information",
            "add, beside the benefit: 'it can cause serious side effects: read the Important Safety Information below'",
        )


def reading_minutes(words: int) -> int:
    """How long copy of `words` words takes to read, in whole minutes (at least one)."""
    return max(1, round(words / WORDS_PER_MINUTE))


def _claimed_minutes(match: re.Match[str]) -> int:
    said = (match.group("n") or match.group("m")).lower()
    return _WORD_NUMBERS.get(said) or int(float(said))


@rule(
    "PREHEADER-TRUE",
    ERROR,
    "The inbox promise is part of the email: a reading time it takes, and a person it introduces, by name.",
)
def preheader_true(ctx: Context) -> Iterator[Issue]:
    words = len(ctx.copy_text.split())
    minutes = reading_minutes(words)
    for where, text in (("subject", ctx.email.subject), ("preheader", ctx.email.preheader)):
        for match in READ_TIME.finditer(text):
            claimed = _claimed_minutes(match)
            if claimed != minutes:
                yield Issue(
                    f"{quote(match.group(0))} in the {where}: the copy is {words} words, about {minutes} minute(s) "
                    f"at {WORDS_PER_MINUTE} words a minute",
                    f"say '{minutes}-minute read', or drop the reading time",
                )
        introduced = INTRODUCTION.search(text)
        if introduced and ctx.site.clinic.prescriber.name not in ctx.copy_text:
            yield Issue(
                f"{quote(introduced.group(0))} in the {where}, and nobody is introduced",
                "introduce the prescriber (front matter `introduces_prescriber: true`), or change the promise",
            )


@rule(
    "TRIGGER-CONDITION",
    ERROR,
    "Anxiety and depression travel with migraine; calling a condition a trigger tells a reader who has it that "
    "it sets attacks off.",
)
def trigger_condition(ctx: Context) -> Iterator[Issue]:
    said = set()
    for listing in ctx.body.iter("ul", "ol"):
        lead = listing.getprevious()
        lead_text = " ".join("".join(lead.itertext()).split()) if lead is not None else ""
        if not TRIGGER.search(lead_text):
            continue
        for item in listing.iter("li"):
            text = " ".join("".join(item.itertext()).split())
            for match in CONDITIONS.finditer(text):
                said.add(match.group(0).lower())
    for sentence in _copy_sentences(ctx):
        if TRIGGER.search(sentence) and not NOT_A_TRIGGER.search(sentence):
            said.update(match.group(0).lower() for match in CONDITIONS.finditer(sentence))
    for condition in sorted(said):
        yield Issue(
            f"{quote(condition)} is listed as a trigger; it is a condition that often comes with migraine",
            "take it out of the triggers; say it travels together with migraine",
        )


@rule(
    "MOH-EXPLAINED",
    ERROR,
    "'Overusing medication' unexplained reads as 'take less': say it can cause medication-overuse headache, and to "
    "talk to a provider.",
)
def moh_explained(ctx: Context) -> Iterator[Issue]:
    match = OVERUSE.search(ctx.copy_text)
    if match and not MOH.search(ctx.copy_text):
        yield Issue(
            f"{quote(match.group(0))} without a word on medication-overuse headache",
            "add a sentence: taking pain medicine on too many days can itself cause more headaches "
            "(medication-overuse headache); talk to a provider",
        )


@rule(
    "PROMO-OFFER-TERMS",
    ERROR,
    "CA B&P 651: an offer says exactly which sessions its price covers, the consultation's fee is the clinic's one "
    "confirmed value (mailpipe.yaml), and dates are printed once.",
)
def offer_terms(ctx: Context) -> Iterator[Issue]:
    special = ctx.email.source.item.front
    if not isinstance(special, SpecialFront):
        return
    written = " ".join([special.terms, ctx.email.source.item.body, *(o.description for o in special.offers)])
    match = CONSULTATION_PRICE.search(written)
    if match:
        yield Issue(
            f"{quote(match.group(0))} states the consultation's fee in the month's content",
            "delete it: the offers print clinic.consultation from mailpipe.yaml, a value confirmed once",
        )
    for offer in special.offers:
        several = SEVERAL_SESSIONS.search(offer.description)
        if PER_SESSION.search(offer.unit or "") and several and not SESSIONS_COVERED.search(offer.description):
            yield Issue(
                f"{quote(offer.name)}: {quote(several.group(0))} at a per-session price, without which sessions the "
                "price covers",
                f"say e.g. 'this price covers sessions performed by {special.valid_until:%B} "
                f"{special.valid_until.day}, {special.valid_until.year}'",
            )
        each = EACH_AT_PRICE.search(offer.description)
        if each:
            yield Issue(
                f"{quote(offer.name)}: {quote(each.group(0))} promises the price for sessions after the offer ends",
                "say which sessions the price covers (those performed by the last day of the offer)",
            )
    date = DATE.search(special.terms)
    if date:
        yield Issue(
            f"the terms give a date ({quote(date.group(0))}); the offers already print 'Valid … to …'",
            "take the dates out of the terms: they come from valid_from and valid_until",
            WARNING,
        )


@rule(
    "NEWSLETTER-DRUG-OFFERS",
    ERROR,
    "A newsletter that features a prescription drug beside price offers says the drug is not part of them "
    "(otherwise: 'is Botox on special?').",
)
def drug_beside_offers(ctx: Context) -> Iterator[Issue]:
    featured = ctx.email.source.featured
    special = ctx.email.source.item.front
    if not (featured and featured.mentions_botox and isinstance(special, SpecialFront) and special.offers):
        return
    for sentence in _copy_sentences(ctx):
        if BOTOX_MENTION.search(sentence) and NOT_ON_OFFER.search(sentence):
            return
    yield Issue(
        f"the newsletter features {featured.id!r}, which names BOTOX®, beside price offers, and never says BOTOX® is "
        "not part of them",
        "keep the newsletter template's line: 'Prescription treatments, including BOTOX®… are not part of the offers'",
    )


@rule(
    "LINK-UTM-TOPIC",
    ERROR,
    "HIPAA/FTC Health Breach: a link's utm_campaign tells the site's analytics (and any ad pixel there) what the "
    "email was about; it carries push's opaque code, never the email's topic.",
)
def utm_topic(ctx: Context) -> Iterator[Issue]:
    seen = set()
    for _, href, _ in ctx.links:
        for key, value in parse_qsl(urlsplit(href).query):
            if key == "utm_campaign" and not OPAQUE_CAMPAIGN.fullmatch(value) and value not in seen:
                seen.add(value)
                yield Issue(
                    f"a link carries utm_campaign={quote(value)}, which can name the email's topic",
                    "let the renderer set it (the campaign's opaque code, like mp-e1-s05); remove it from the link",
                )


@rule("SPELLING-US", WARNING, "The clinic writes US English: one spelling throughout, as its patients expect.")
def us_spelling(ctx: Context) -> Iterator[Issue]:
    names = {word.lower() for word in _WORD.findall(f"{ctx.site.clinic.name} {ctx.site.sender.from_name}")}
    found: dict[str, str] = {}
    for where, text in (("subject", ctx.email.subject), ("preheader", ctx.email.preheader), ("copy", ctx.copy_text)):
        for word in _WORD.findall(text):
            low = word.lower()
            if low not in found and low not in names and british_spelling_exists(low):
                found[low] = where
    for word, where in found.items():
        yield Issue(f"{quote(word)} in the {where} is British spelling", f"write {get_american_spelling(word)!r}")


TODO = re.compile(r"\bTODO\b")
_FRONT_KEY = re.compile(r"^(?P<indent>\s*)(?:- )?(?P<key>[a-z_]+):")
_OFFER_NAME = re.compile(r"^\s*- name:\s*(?P<name>.+?)\s*$")


def unfinished_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line of a content file that still holds a TODO, with where it is: the offer it belongs to (by its name),
    the front matter field, or the body."""
    lines = text.splitlines()
    fences = [n for n, line in enumerate(lines) if line.strip() == "---"][:2]
    body_from = fences[1] if len(fences) == 2 else -1
    offer, field = "", ""
    for number, line in enumerate(lines, 1):
        if number - 1 <= body_from:
            named = _OFFER_NAME.match(line)
            key = _FRONT_KEY.match(line)
            if named:
                offer = named["name"].strip("'\"")
            elif key and not key["indent"]:
                offer, field = "", key["key"]
            if TODO.search(line):
                yield number, f"offer {offer!r}" if offer else f"{field or 'front matter'}"
        elif TODO.search(line):
            yield number, "the introduction (body)"


@rule(
    "CONTENT-UNFINISHED",
    ERROR,
    "Copy `new special` marked TODO (an offer, its price and terms to confirm; an introduction to write) is not "
    "finished: it cannot go out.",
)
def unfinished(ctx: Context) -> Iterator[Issue]:
    found = False
    for source in ctx.email.source.sources:
        text = source.read_text(encoding="utf-8", errors="replace")
        for number, where in unfinished_lines(text):
            found = True
            yield Issue(
                f"content/{source.parent.name}/{source.name}:{number}: {where} is still marked TODO",
                "confirm or rewrite it, then delete the TODO",
            )
    if not found and TODO.search(ctx.visible_text):
        yield Issue("a TODO shows in the email (from a template?)", "finish that text in the template")
