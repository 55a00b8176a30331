"""How the email renders and reads: size, subject and preheader, structure, images, accessibility, plain text."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from mailpipe.checks import ERROR, GMAIL_CLIP, WARNING, Context, Issue, contrast, describe, quote, rule
from mailpipe.load.content import SpecialFront

TRACKING_ALLOWANCE = 5 * 1024  # Mailchimp rewrites links for click tracking


@rule(
    "RENDER-GMAIL-CLIP",
    ERROR,
    "Gmail clips HTML over ~102 KB, hiding the footer (and the unsubscribe link) behind 'View entire message'.",
)
def gmail_clip(ctx: Context) -> Iterator[Issue]:
    size = len(ctx.html.encode("utf-8")) + TRACKING_ALLOWANCE
    if size > GMAIL_CLIP:
        yield Issue(
            f"the HTML is {size / 1024:.0f} KB with tracking links, over Gmail's 102 KB clipping point",
            "shorten the email or split it",
        )
    elif size >= 90 * 1024:
        yield Issue(
            f"the HTML is {size / 1024:.0f} KB with tracking links, close to Gmail's 102 KB clipping point",
            "keep it under 90 KB",
            WARNING,
        )


@rule(
    "SUBJ-LEN",
    ERROR,
    "Mailchimp limits subjects to 150 characters; inboxes show about 60 (house rule: 60 characters, 9 words).",
)
def subject_length(ctx: Context) -> Iterator[Issue]:
    subject = ctx.email.subject.strip()
    if not subject or len(subject) > 150:
        yield Issue(f"the subject is {len(subject)} characters", "write a subject of 1 to 150 characters")
    elif len(subject) > 60 or len(subject.split()) > 9:
        yield Issue(
            f"the subject {quote(subject)} is {len(subject)} characters, {len(subject.split())} words; inboxes cut it",
            "aim for at most 60 characters and 9 words",
            WARNING,
        )


@rule(
    "PREHEADER",
    WARNING,
    "The preheader is the inbox's second line: 40-90 characters (ideal 40-70), not a copy of the subject.",
)
def preheader(ctx: Context) -> Iterator[Issue]:
    text = ctx.email.preheader.strip()
    if not text:
        yield Issue("there is no preheader", "write one of 40-90 characters")
    elif not 40 <= len(text) <= 90:
        yield Issue(f"the preheader is {len(text)} characters", "make it 40-90 characters")
    elif text.lower() == ctx.email.subject.strip().lower():
        yield Issue("the preheader repeats the subject", "say something the subject does not")


@rule("A11Y-LANG", ERROR, "Screen readers pick their voice from <html lang>.")
def language(ctx: Context) -> Iterator[Issue]:
    if not ctx.tree.get("lang"):
        yield Issue("<html> has no lang attribute", 'keep <mjml lang="en"> in the layout')


@rule("HTML-VALID", WARNING, "Clients need a doctype, a UTF-8 charset, a <title> and a viewport to render predictably.")
def document_basics(ctx: Context) -> Iterator[Issue]:
    if ctx.unparsable:
        yield Issue("the HTML could not be parsed at all", "re-render the email", ERROR)
        return
    if not ctx.html.lstrip()[:15].lower().startswith("<!doctype html"):
        yield Issue("the HTML does not start with <!doctype html>", "render through the MJML layout")
    metas = [m.get("content", "") + m.get("charset", "") for m in ctx.tree.iter("meta")]
    if not any("utf-8" in m.lower() for m in metas):
        yield Issue("no UTF-8 charset meta", "render through the MJML layout")
    if not any(m.get("name") == "viewport" for m in ctx.tree.iter("meta")):
        yield Issue("no viewport meta", "render through the MJML layout")
    title = ctx.tree.find(".//title")
    if title is None or not (title.text or "").strip():
        yield Issue("no <title>", "keep <mj-title> in the layout")


@rule("A11Y-TABLE-ROLE", ERROR, "Layout tables without role=presentation are read out cell by cell by screen readers.")
def table_roles(ctx: Context) -> Iterator[Issue]:
    for table in ctx.body.iter("table"):
        is_data = table.find(".//th") is not None
        if not is_data and table.get("role") != "presentation":
            yield Issue(
                f'a layout table {describe(table)} has no role="presentation"',
                'add role="presentation" (MJML does for its own)',
            )


@rule("A11Y-HEADINGS", WARNING, "One <h1> and no skipped levels let screen-reader users navigate by headings.")
def headings(ctx: Context) -> Iterator[Issue]:
    levels = [int(el.tag[1]) for el in ctx.body.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    if levels.count(1) != 1:
        yield Issue(f"the email has {levels.count(1)} <h1> headings", "have exactly one <h1>, the title")
    for before, after in itertools.pairwise(levels):
        if after > before + 1:
            yield Issue(f"a heading jumps from h{before} to h{after}", "do not skip heading levels (## under #)")
            break


@rule(
    "IMG-SRC-HTTPS",
    ERROR,
    "Images must load over https from an absolute URL; SVG, WebP and AVIF are missing in many clients.",
)
def image_sources(ctx: Context) -> Iterator[Issue]:
    for image in ctx.images:
        src = image.get("src", "")
        if src.startswith("data:"):
            yield Issue(f"an image is embedded as data: ({src[:30]}…)", "host the image and link it over https")
        elif not src.startswith("https://"):
            yield Issue(f"the image {quote(src)} is not an absolute https:// URL", "use https:// image URLs")
        elif re.search(r"\.(svg|webp|avif)(\?|$)", src, re.IGNORECASE):
            yield Issue(
                f"the image {quote(src)} is in a format many email clients cannot show", "use PNG, JPG or GIF", WARNING
            )


@rule(
    "IMG-ALT",
    ERROR,
    "Every image needs alt text (empty for decoration) for screen readers and for clients that block images.",
)
def image_alt(ctx: Context) -> Iterator[Issue]:
    for image in ctx.images:
        alt, src = image.get("alt"), image.get("src", "")
        if alt is None:
            yield Issue(f"the image {quote(src)} has no alt attribute", 'add alt text (alt="" if purely decorative)')
        elif alt and (len(alt) > 125 or alt == src.rsplit("/", 1)[-1]):
            yield Issue(
                f"the image {quote(src)} has alt text {quote(alt)}",
                "describe the image in under 125 characters",
                WARNING,
            )


@rule("IMG-DIMS", WARNING, "Outlook ignores CSS widths: an image without a width attribute can blow up the layout.")
def image_dimensions(ctx: Context) -> Iterator[Issue]:
    for image in ctx.images:
        width = image.get("width", "")
        if not width:
            yield Issue(f"the image {quote(image.get('src', ''))} has no width attribute", "set width (mj-image does)")
        elif width.isdigit() and int(width) > 640:
            yield Issue(
                f"the image {quote(image.get('src', ''))} is {width}px wide", "keep images at most 600-640px wide"
            )


@rule(
    "IMG-TEXT-RATIO",
    ERROR,
    "Image-only emails are spam-filtered and unreadable with images off; offers and safety text must be live text.",
)
def text_to_images(ctx: Context) -> Iterator[Issue]:
    text = ctx.visible_text
    if ctx.images and len(text) < 100:
        yield Issue(
            f"the email is mostly images ({len(ctx.images)} images, {len(text)} characters of text)",
            "write the message as text",
        )
    elif ctx.images and len(text) < 500:
        yield Issue(
            f"only {len(text)} characters of text beside {len(ctx.images)} images",
            "add text (at least ~500 characters)",
            WARNING,
        )


@rule(
    "DARK-MODE", WARNING, "Declaring color-scheme lets dark-mode clients adapt the email instead of inverting it badly."
)
def dark_mode(ctx: Context) -> Iterator[Issue]:
    names = {m.get("name") for m in ctx.tree.iter("meta")}
    if "color-scheme" not in names:
        yield Issue('no <meta name="color-scheme">', "keep the color-scheme metas of the layout")


@rule("A11Y-CONTRAST", ERROR, "WCAG 1.4.3: text needs 4.5:1 contrast against its background (3:1 when large).")
def text_contrast(ctx: Context) -> Iterator[Issue]:
    """In the light palette (inline styles) and in the dark one (the layout's prefers-color-scheme CSS)."""
    for palette, styled in (("", ctx.styled), ("in dark mode, ", ctx.dark_styled)):
        reported = set()
        for element, style in styled:
            if style.invisible or not (element.text or "").strip() or element.tag in ("style", "script"):
                continue
            ratio = contrast(style.color, style.background)
            if ratio is None or (style.color, style.background) in reported:
                continue
            large = style.font_px >= 24 or (style.bold and style.font_px >= 18.66)
            minimum = 3.0 if large else 4.5
            if ratio < minimum:
                reported.add((style.color, style.background))
                severity = ERROR if ratio < 3.0 else WARNING
                yield Issue(
                    f"{palette}text {quote(element.text)} is {style.color} on {style.background}, contrast "
                    f"{ratio:.1f}:1",
                    f"raise the contrast to at least {minimum}:1" + (" (mailpipe.yaml brand.dark)" if palette else ""),
                    severity,
                )


@rule("A11Y-FONT-SIZE", WARNING, "House rule: body text at least 14px, footer and safety text at least 12px.")
def font_size(ctx: Context) -> Iterator[Issue]:
    for element, style in ctx.styled:
        if not style.invisible and (element.text or "").strip() and style.font_px < 12:
            yield Issue(f"text {quote(element.text)} is {style.font_px:.0f}px", "use at least 12px")
            return


@rule(
    "PLAIN-TEXT",
    ERROR,
    "The plain-text part is what some readers and filters see: same offer, safety information, address, opt-out.",
)
def plain_text(ctx: Context) -> Iterator[Issue]:
    text = ctx.text
    if len(text.strip()) < 200:
        yield Issue("the plain-text version is empty or nearly so", "render the plain text from the same MJML")
        return
    if re.search(r"</?(p|div|table|td|span|a|br|img)\b", text, re.IGNORECASE):
        yield Issue("the plain text contains HTML tags", "convert the HTML to text, do not paste it")
    if ctx.email.mentions_botox and "Important Safety Information" not in text:
        yield Issue(
            "the plain text lacks the Important Safety Information", "carry the safety block into the text part"
        )
    front = ctx.email.source.item.front
    if isinstance(front, SpecialFront):
        for offer in front.offers:
            price = f"${offer.price:.2f}" if offer.price is not None else offer.discount or ""
            if price not in text:
                yield Issue(
                    f"the plain text lacks the offer {offer.name!r} at {price}", "carry every offer into the text part"
                )
