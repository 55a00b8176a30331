"""CAN-SPAM and Mailchimp: unsubscribe, postal address, sender, ad notice, merge tags."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from mailpipe.checks import ERROR, GMAIL_CLIP, WARNING, Context, Issue, contrast, quote, rule, search_anchored
from mailpipe.util.vocabulary import MERGE_TAG, MERGE_TAGS

ADDRESS_HTML = ("*|HTML:LIST_ADDRESS_HTML|*", "*|LIST:ADDRESSLINE|*")
# (a TODO is CONTENT-UNFINISHED's, which names its file, line and offer)
PLACEHOLDERS = re.compile(r"\{\{|\}\}|\[\[|\]\]|\blorem ipsum\b|\bTBD\b", re.IGNORECASE)
PLACEHOLDER_ANCHORS = ("{{", "}}", "[[", "]]", "lorem ipsum", "tbd")


def _outside_comments(html: str) -> str:
    return re.sub(r"<!--.*?-->", "", html, flags=re.DOTALL)


@rule("CAN-SPAM-UNSUB-TAG", ERROR, "CAN-SPAM needs a working opt-out; Mailchimp only recognises its own *|UNSUB|* tag.")
def unsubscribe_tag(ctx: Context) -> Iterator[Issue]:
    html = ctx.html
    if "<!--" in _outside_comments(html):
        yield Issue(
            "an HTML comment is opened but never closed, which hides everything after it (and *|UNSUB|*)",
            "close the comment with -->",
        )
    if 'href="*|UNSUB|*"' not in _outside_comments(html):
        yield Issue(
            'the HTML has no link to href="*|UNSUB|*" outside comments',
            "keep the footer partial, which links *|UNSUB|*",
        )
    if "*|UNSUB|*" not in ctx.text:
        yield Issue("the plain text has no *|UNSUB|*", "the plain text must carry the unsubscribe tag too")


@rule(
    "CAN-SPAM-UNSUB-VISIBLE", ERROR, "The opt-out must be clear and conspicuous (CAN-SPAM; Gmail's 2024 sender rules)."
)
def unsubscribe_visible(ctx: Context) -> Iterator[Issue]:
    for element, style in ctx.styled:
        if element.tag == "a" and element.get("href") == "*|UNSUB|*":
            label = " ".join("".join(element.itertext()).split())
            position = ctx.html.find('href="*|UNSUB|*"')
            if not re.search(r"unsubscribe|opt out", label, re.IGNORECASE):
                yield Issue(f"the unsubscribe link reads {quote(label)}", "say 'Unsubscribe' in the link text")
            if style.invisible:
                yield Issue("the unsubscribe link is hidden", "do not hide the footer")
            if style.font_px < 10:
                yield Issue(
                    f"the unsubscribe link is {style.font_px:.0f}px (house rule: at least 10px)",
                    "use a larger footer font",
                )
            ratio = contrast(style.color, style.background)
            if ratio is not None and ratio < 4.5:
                yield Issue(f"the unsubscribe link's contrast is {ratio:.1f}:1", "make it at least 4.5:1")
            if len(ctx.html[:position].encode()) > GMAIL_CLIP:
                yield Issue("the unsubscribe link is after Gmail's 102 KB clipping point", "shorten the email")
            return


@rule("CAN-SPAM-ADDRESS", ERROR, "CAN-SPAM requires the sender's valid postal address in every commercial email.")
def postal_address(ctx: Context) -> Iterator[Issue]:
    if not any(tag in ctx.html for tag in ADDRESS_HTML):
        yield Issue(
            "the HTML has no postal address merge tag",
            "keep *|HTML:LIST_ADDRESS_HTML|* (the footer partial) in the footer",
        )
    if "*|LIST:ADDRESSLINE|*" not in ctx.text and "*|HTML:LIST_ADDRESS_HTML|*" not in ctx.text:
        yield Issue("the plain text has no *|LIST:ADDRESSLINE|*", "the plain text must carry the postal address too")


@rule(
    "CAN-SPAM-SENDER-ID",
    ERROR,
    "Header information must identify the sender; the From domain must be the clinic's (DMARC).",
)
def sender(ctx: Context) -> Iterator[Issue]:
    clinic = ctx.site.clinic.name
    if clinic.lower() not in ctx.email.from_name.lower():
        yield Issue(
            f"the from name {quote(ctx.email.from_name)} does not name {clinic}",
            f"use a from name with {clinic!r} in it",
        )
    domain = ctx.email.reply_to.rpartition("@")[2].lower()
    site = (urlsplit(ctx.site.clinic.website).hostname or "").lower().removeprefix("www.")
    if domain != site:
        yield Issue(
            f"the reply-to {ctx.email.reply_to} is not at the clinic's domain {site}", f"use an address @{site}"
        )


@rule(
    "CAN-SPAM-AD-IDENT",
    ERROR,
    "CAN-SPAM: a promotional email (a special, a newsletter, a drip email promoting a treatment) "
    "must say it is an advertisement.",
)
def advertisement(ctx: Context) -> Iterator[Issue]:
    says_so = re.search(r"\badvertisement\b", ctx.visible_text, re.IGNORECASE)
    if ctx.is_promo and not says_so:
        yield Issue(
            "this promotional email does not say it is an advertisement", "keep 'Advertisement from …' in the footer"
        )
    elif ctx.email.mentions_botox and not says_so:
        yield Issue(
            "this email promotes a prescription treatment (it names BOTOX®) but does not say it is an advertisement",
            "keep the footer partial, which adds the notice to every email that names a treatment",
        )
    elif not ctx.is_promo and not says_so and re.search(r"\$\s?\d", ctx.visible_text):
        yield Issue(
            "this education email quotes a price but has no advertisement notice",
            "add the notice, or move the offer to a special",
            WARNING,
        )


@rule(
    "CAN-SPAM-SUBJECT-TRUTHFUL",
    ERROR,
    "CAN-SPAM forbids deceptive subject lines: no fake replies, every offer must be in the body.",
)
def truthful_subject(ctx: Context) -> Iterator[Issue]:
    if re.match(r"^\s*(re|fwd?)\s*:", ctx.email.subject, re.IGNORECASE):
        yield Issue(f"the subject {quote(ctx.email.subject)} pretends to be a reply or forward", "remove 'RE:' / 'FW:'")
    for claim in re.findall(r"\$\s?\d[\d,.]*|\d+\s?%", ctx.email.subject + " " + ctx.email.preheader):
        if claim.replace(" ", "") not in ctx.visible_text.replace(" ", ""):
            yield Issue(
                f"the subject or preheader promises {claim} but the body never says it",
                "make the body carry the same offer",
            )


@rule("MC-UPDATE-PROFILE", WARNING, "Mailchimp recommends a link to update preferences (*|UPDATE_PROFILE|*).")
def update_profile(ctx: Context) -> Iterator[Issue]:
    if "*|UPDATE_PROFILE|*" not in ctx.html:
        yield Issue("there is no *|UPDATE_PROFILE|* link", "keep the 'Update your preferences' link of the footer")


@rule(
    "MC-PERMISSION-REMINDER",
    WARNING,
    "A permission reminder tells people why they get the email, which lowers spam complaints.",
)
def permission_reminder(ctx: Context) -> Iterator[Issue]:
    if "*|LIST:DESCRIPTION|*" not in ctx.html and not re.search(
        r"receiving this (e-?mail|message) because", ctx.visible_text, re.IGNORECASE
    ):
        yield Issue("there is no 'You are receiving this email because…' line", "keep the footer's permission reminder")


@rule(
    "MC-MERGE-SYNTAX",
    ERROR,
    "A mistyped or unknown merge tag is sent literally; *|FNAME|* needs a fallback for contacts without a name.",
)
def merge_tags(ctx: Context) -> Iterator[Issue]:
    for text, where in ((ctx.html, "HTML"), (ctx.text, "plain text"), (ctx.email.subject, "subject")):
        for tag in MERGE_TAG.findall(text):
            if tag not in MERGE_TAGS:
                yield Issue(
                    f"unknown merge tag *|{tag}|* in the {where}", f"use one of: {', '.join(sorted(MERGE_TAGS))}"
                )
        leftover = MERGE_TAG.sub("", text)
        for broken in re.finditer(r"\*\||\|\*", leftover):
            piece = leftover[max(0, broken.start() - 12) : broken.end() + 12]
            yield Issue(f"a broken merge tag near {quote(piece)} in the {where}", "write merge tags as *|NAME|*")
            break
        bare = text.replace("*|IF:FNAME|**|FNAME|*", "")
        if "*|FNAME|*" in bare:
            yield Issue(
                f"*|FNAME|* without a fallback in the {where}", "write *|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*"
            )
        placeholder = search_anchored(PLACEHOLDERS, text, PLACEHOLDER_ANCHORS, ctx.lowered.get(where))
        placeholder = placeholder and PLACEHOLDERS.search(_outside_comments(text))
        if placeholder:
            yield Issue(f"a leftover placeholder {quote(placeholder.group(0))} in the {where}", "finish the copy")


@rule(
    "MERGE-IF-BALANCE",
    ERROR,
    "Mailchimp conditional blocks must nest: an unclosed *|IF:…|* hides the rest of the email from some "
    "contacts, a stray *|END:IF|* is sent literally.",
)
def merge_if_balance(ctx: Context) -> Iterator[Issue]:
    for text, where in (
        (ctx.html, "HTML"),
        (ctx.text, "plain text"),
        (ctx.email.subject, "subject"),
        (ctx.email.preheader, "preheader"),
    ):
        depth = 0
        for tag in MERGE_TAG.findall(text):
            name = tag.upper()
            if name.startswith(("IF:", "IFNOT:", "INTERESTED:")):
                depth += 1
            elif name.startswith(("ELSE:", "ELSEIF:")) and depth == 0:
                yield Issue(
                    f"*|{tag}|* outside an *|IF:…|* block in the {where}", "remove it, or open the block with *|IF:…|*"
                )
            elif name == "END:IF":
                if depth == 0:
                    yield Issue(f"a stray *|END:IF|* in the {where}", "remove it, or open the block with *|IF:…|*")
                else:
                    depth -= 1
        if depth:
            yield Issue(f"{depth} *|IF:…|* block(s) never closed in the {where}", "close each with *|END:IF|*")
