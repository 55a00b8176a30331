"""Spam heuristics in the manner of SpamAssassin: shouting, exclamation marks, trigger phrases, hidden text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mailpipe.checks import ERROR, WARNING, Context, Issue, contrast, quote, rule

ACRONYMS = {"BOTOX", "FDA", "ISI", "AIVI", "USA", "HIPAA"}
TRIGGERS = re.compile(
    r"\b(act now|limited time|click here|buy now|100% free|risk free|no obligation|once in a lifetime|winner|"
    r"urgent|order now|cash bonus)\b|\${3,}",
    re.IGNORECASE,
)


@rule("SPAM-ALLCAPS-SUBJ", ERROR, "SpamAssassin SUBJ_ALL_CAPS: shouting subjects are filtered and look like spam.")
def allcaps_subject(ctx: Context) -> Iterator[Issue]:
    letters = [c for c in ctx.email.subject if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        yield Issue(f"the subject {quote(ctx.email.subject)} is all capitals", "write it in sentence case")
        return
    shouted = [w for w in re.findall(r"[A-Za-z]{4,}", ctx.email.subject) if w.isupper() and w not in ACRONYMS]
    if letters and (shouted or sum(c.isupper() for c in letters) / len(letters) > 0.3):
        yield Issue(
            f"the subject {quote(ctx.email.subject)} has words in capitals ({', '.join(shouted) or 'over 30%'})",
            "use capitals only for acronyms like BOTOX",
            WARNING,
        )


@rule("SPAM-EXCLAIM", WARNING, "Runs of '!' are a classic spam signal: at most one in the subject, three in the body.")
def exclamations(ctx: Context) -> Iterator[Issue]:
    subject = ctx.email.subject
    if subject.count("!") > 1 or "!!" in subject or "?!" in subject:
        yield Issue(f"the subject {quote(subject)} has {subject.count('!')} exclamation marks", "use at most one")
    if ctx.visible_text.count("!") > 3:
        yield Issue(f"the body has {ctx.visible_text.count('!')} exclamation marks", "use at most three")


@rule("SPAM-PHRASES", WARNING, "Trigger phrases ('act now', 'risk free', …) raise spam scores.")
def trigger_phrases(ctx: Context) -> Iterator[Issue]:
    for match in TRIGGERS.finditer(ctx.email.subject + " " + ctx.email.preheader + " " + ctx.visible_text):
        yield Issue(f"the phrase {quote(match.group(0))} is a spam trigger", "say it plainly")


PREVIEW_TEXT_TAG = "*|MC_PREVIEW_TEXT|*"  # where Mailchimp puts the campaign's preview text
_SNIPPET_PADDING = {
    0x034F: None,
    0x200C: None,
}  # the invisible run after a preheader that keeps body text out of the inbox snippet


@rule(
    "BULK-NO-HIDDEN",
    WARNING,
    "Hidden text (display:none, zero size) other than the preheader is a spam and phishing signal.",
)
def hidden_text(ctx: Context) -> Iterator[Issue]:
    preheaders = {" ".join(ctx.email.preheader.split()), PREVIEW_TEXT_TAG}
    for element, style in ctx.styled:
        own = " ".join((element.text or "").translate(_SNIPPET_PADDING).split())
        if style.invisible and own and own not in preheaders and element.tag not in ("style", "script"):
            yield Issue(f"hidden text {quote(own)}", "show it, or remove it")
            return


@rule(
    "SPAM-LOW-CONTRAST", ERROR, "SpamAssassin HTML_FONT_LOW_CONTRAST: text the colour of its background is hidden text."
)
def invisible_text(ctx: Context) -> Iterator[Issue]:
    for element, style in ctx.styled:
        if style.invisible or not (element.text or "").strip():
            continue
        ratio = contrast(style.color, style.background)
        if ratio is not None and ratio < 1.5:
            yield Issue(
                f"text {quote(element.text)} is {style.color} on {style.background}: practically invisible",
                "use a contrasting colour",
            )
            return
