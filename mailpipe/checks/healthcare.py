"""Healthcare: Botox naming, indication and safety information, medical claims, HIPAA, specials."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mailpipe.checks import ERROR, GMAIL_CLIP, WARNING, Context, Issue, quote, rule, search_anchored
from mailpipe.util.vocabulary import BOTOX_MENTION, MERGE_TAG, MERGE_TAGS

FULL_NAME = re.compile(r"BOTOX®?\s*\(onabotulinumtoxinA\)")
PHI_PHRASES = re.compile(
    r"\b(your (diagnosis|condition|last (treatment|injection|visit)|appointment on|migraine consult|results|"
    r"treatment plan|prescription)|since your (botox|treatment|injection))\b",
    re.IGNORECASE,
)
PHI_ANCHORS = (
    "your diagnosis",
    "your condition",
    "your last ",
    "your appointment on",
    "your migraine consult",
    "your results",
    "your treatment plan",
    "your prescription",
    "since your ",
)  # every PHI_PHRASES match holds one
# Each element of the BOTOX® label's chronic-migraine consumer ISI (boxed warning, contraindications, warnings,
# adverse reactions, the indication and its limit, and the required MedWatch and Prescribing Information lines), and a
# phrase that shows the block covers it.
ISI_TOPICS = {
    "that serious side effects can be life threatening (the boxed warning)": "life threatening",
    "swallowing, speaking or breathing problems": "swallowing, speaking or breathing",
    "that the effects can be severe and result in loss of life": "loss of life",
    "the highest risk with swallowing or breathing problems before treatment": (
        "already have swallowing or breathing problems"
    ),
    "that swallowing problems can last for several months": "several months",
    "spread of toxin effects": "spread of toxin",
    "not driving or operating machinery": "operate machinery",
    "the allergy contraindication": "allergic to any of its ingredients",
    "the injection-site infection contraindication": "infection at the planned injection site",
    "that dosing units are not interchangeable": "not the same as, or comparable to",
    "serious and immediate allergic reactions": "allergic reactions",
    "nerve-muscle disorders (ALS, myasthenia gravis, Lambert-Eaton)": "Lambert-Eaton",
    "cardiovascular events (irregular heartbeat, heart attack)": "heart attack",
    "serious adverse reactions with unapproved use": "for uses that are not approved",
    "the medical conditions to tell the doctor about": "all medical conditions",
    "the medicines to tell the doctor about": "all medicines",
    "the common side effects (drooping eyelids, muscle weakness, worsening migraine)": "worsening of migraine",
    "the indication (adults with chronic migraine)": "adults with chronic migraine",
    "that safety and effectiveness in episodic migraine are not known": "episodic migraine",
    "the FDA MedWatch line": "fda.gov/medwatch",
    "the FDA's phone line": "1-800-FDA-1088",
    "the Prescribing Information link": "Prescribing Information",
}
ISI_ANCHOR = 'id="important-safety-information"'  # the block's heading (copy may point to it by name)


def _botox_mentions(text: str) -> list[re.Match]:
    return list(BOTOX_MENTION.finditer(text))


@rule(
    "BOTOX-NAME", ERROR, "FDA: the brand name needs its established name at first mention: BOTOX® (onabotulinumtoxinA)."
)
def botox_name(ctx: Context) -> Iterator[Issue]:
    mentions = _botox_mentions(ctx.visible_text)
    if not mentions:
        return
    first = ctx.visible_text[mentions[0].start() : mentions[0].start() + 40]
    if not FULL_NAME.match(first):
        yield Issue(
            f"Botox is first named as {quote(first, 30)}",
            "write BOTOX® (onabotulinumtoxinA) the first time it is named",
        )
    if _botox_mentions(ctx.email.subject) and not FULL_NAME.search(ctx.email.subject):
        yield Issue(
            f"the subject {quote(ctx.email.subject)} names BOTOX® without its established name",
            "write BOTOX® (onabotulinumtoxinA) in the subject too",
        )
    for other in re.findall(r"\b(dysport|xeomin|jeuveau|daxxify)\b", ctx.visible_text, re.IGNORECASE):
        yield Issue(
            f"{other} is named beside BOTOX®: units are not interchangeable",
            "do not compare toxins by units or price",
            WARNING,
        )


@rule(
    "BOTOX-ISI",
    ERROR,
    "Fair balance: an email that names Botox carries the Important Safety Information, as live text, above the clip.",
)
def safety_information(ctx: Context) -> Iterator[Issue]:
    if not _botox_mentions(ctx.visible_text + ctx.email.subject):
        return
    own = set(ctx.copy_blocks)
    block = " ".join(b for b in ctx.visible_blocks if b not in own).lower()  # copy that names a topic does not count
    position = ctx.html.find(ISI_ANCHOR)
    if position < 0 or "important safety information" not in block:
        yield Issue(
            "the email names Botox but has no Important Safety Information block",
            "the layout adds it when Botox is named",
        )
        return
    if len(ctx.html[:position].encode()) > GMAIL_CLIP:
        yield Issue("the Important Safety Information starts after Gmail's 102 KB clipping point", "shorten the email")
    for topic, marker in ISI_TOPICS.items():
        if marker.lower() not in block:
            yield Issue(f"the safety information lacks {topic}", "use the safety-information partial unchanged")
    if "Important Safety Information" not in ctx.text:
        yield Issue(
            "the plain text lacks the Important Safety Information", "carry the safety block into the text part"
        )


@rule("HIPAA-NO-PHI", ERROR, "Mailchimp signs no BAA: no merge field or copy may reveal a person's health information.")
def no_phi(ctx: Context) -> Iterator[Issue]:
    for where, text in (
        ("subject", ctx.email.subject),
        ("preheader", ctx.email.preheader),
        ("HTML", ctx.html),
        ("plain text", ctx.text),
    ):
        for tag in MERGE_TAG.findall(text):
            if tag not in MERGE_TAGS:
                yield Issue(
                    f"the merge tag *|{tag}|* in the {where} could carry health information",
                    "use only name, email and footer tags",
                )
        match = search_anchored(PHI_PHRASES, text, PHI_ANCHORS, ctx.lowered.get(where))
        if match:
            yield Issue(
                f"{quote(match.group(0))} in the {where} speaks of the reader's own health",
                "keep the copy general to the whole list",
            )


@rule("PROMO-PROVIDER", WARNING, "Patients should know treatments are by licensed providers after a consultation.")
def licensed_provider(ctx: Context) -> Iterator[Issue]:
    if ctx.is_promo and "licensed provider" not in ctx.visible_text.lower():
        yield Issue("the specials do not say treatments are performed by licensed providers", "say so in the terms")


@rule("MEDICAL-DISCLAIMER", WARNING, "Education is not medical advice; say so, and where to go in an emergency.")
def disclaimer(ctx: Context) -> Iterator[Issue]:
    text = ctx.visible_text.lower()
    if "not medical advice" not in text or "911" not in text:
        yield Issue("the 'not medical advice… call 911' line is missing", "keep the footer partial's disclaimer")
