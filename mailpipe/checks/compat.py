"""Email-client compatibility from the caniemail data, scored the way Mailpit's HTML check does.

Features are found in the HTML (elements, inline CSS properties, <style> at-rules and
pseudo-classes, image formats); each is looked up per client family and platform at its latest
tested version. Unlike Mailpit, 'unknown' counts as neither supported nor unsupported, and only the
latest version of each client counts (not every historical one).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources

import tinycss2
from lxml import etree

from mailpipe.checks import ERROR, NOTE, WARNING, Context, Issue, declarations, rule, stylesheet_rules

# The clients whose lack of support is worth a warning: most of the clinic's readers use them.
KEY_CLIENTS = (("gmail", None), ("outlook", "windows"), ("apple-mail", "ios"))
FORBIDDEN = {
    "script": "<script>",
    "form": "<form>",
    "iframe": "<iframe>",
    "video": "<video>",
    "object": "<object>",
    "embed": "<embed>",
}
HTML_FEATURES = {
    "html-svg": "svg",
    "html-form": "form",
    "html-video": "video",
    "html-audio": "audio",
    "html-object": "object",
    "html-image-maps": "map",
    "html-picture": "picture",
    "html-dialog": "dialog",
    "html-marquee": "marquee",
    "html-progress": "progress",
    "html-meter": "meter",
    "html-base": "base",
    "html-link": "link",
    "html-textarea": "textarea",
    "html-select": "select",
    "html-semantics": "article|aside|details|figcaption|figure|footer|header|main|mark|nav|section|summary|time",
}
IMAGE_FEATURES = {
    "image-webp": r"\.webp(\?|$)",
    "image-svg": r"\.svg(\?|$)",
    "image-avif": r"\.avif(\?|$)",
    "image-base64": r"^data:image/",
    "image-bmp": r"\.bmp(\?|$)",
    "image-tiff": r"\.tiff?(\?|$)",
    "image-heif": r"\.hei[fc](\?|$)",
    "image-ico": r"\.ico(\?|$)",
}
AT_RULES = {
    "media": "css-at-media",
    "font-face": "css-at-font-face",
    "import": "css-at-import",
    "keyframes": "css-at-keyframes",
    "supports": "css-at-supports",
}


@lru_cache(maxsize=1)
def caniemail() -> dict:
    return json.loads(resources.files("mailpipe.checks").joinpath("data/caniemail.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _features() -> dict[str, dict]:
    return {feature["slug"]: feature for feature in caniemail()["data"]}


def _version_key(version: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version)]


@cache
def support(slug: str) -> dict[tuple[str, str], str]:
    """(family, platform) -> 'y' | 'n' | 'a' | 'u' at the latest tested version."""
    stats = _features()[slug]["stats"]
    result = {}
    for family, platforms in stats.items():
        for platform, versions in platforms.items():
            latest = max(versions, key=_version_key)
            result[(family, platform)] = versions[latest].strip()[:1]
    return result


def client_name(family: str, platform: str) -> str:
    names = caniemail()["nicenames"]
    return f"{names['family'].get(family, family)} ({names['platform'].get(platform, platform)})"


@lru_cache(maxsize=512)
def _gaps(slug: str) -> tuple[tuple[str, ...], int]:
    """The key clients that lack a feature, and how many other clients do."""
    table = support(slug)
    key_gaps = tuple(
        client_name(f, p)
        for (f, p), v in sorted(table.items())
        if v == "n" and any(f == family and (platform is None or p == platform) for family, platform in KEY_CLIENTS)
    )
    return key_gaps, sum(1 for v in table.values() if v == "n") - len(key_gaps)


_TAG_FEATURE = {tag: slug for slug, tags in HTML_FEATURES.items() for tag in tags.split("|")}


def _declaration_slugs(name: str, value: str) -> tuple[str, ...]:
    """The caniemail slugs one inline declaration uses (`mso-` and vendor properties: none)."""
    if name == "display" and value.split() and value.split()[0] in ("flex", "grid", "none"):
        return (f"css-display-{value.split()[0]}",)
    return () if name.startswith(("mso-", "-")) else (f"css-{name}",)


def detected_features(ctx: Context) -> dict[str, int]:
    """caniemail feature slug -> how many times the email uses it, in the order first met (counted from the uses the
    rule reads: one walk of the email for both)."""
    return dict(Counter(use.slug for use in feature_uses(ctx)))


def _link_and_image_features(ctx: Context) -> Counter[str]:
    found: Counter[str] = Counter()
    anchors = sum(1 for _, href, _ in ctx.links if href.startswith("#"))
    if anchors:
        found["html-anchor-links"] += anchors
    if ctx.tree.find(".//style") is not None:
        found["html-style"] += 1
    for image in ctx.images:
        found.update(slug for slug, pattern in IMAGE_FEATURES.items() if re.search(pattern, image.get("src", ""), re.I))
    return found


_PSEUDO_CLASS = re.compile(r":(hover|focus|active|visited|checked|has|not|target|first-child|last-child|nth-child)\b")


def _stylesheet_features(ctx: Context) -> Counter[str]:
    """The at-rules of the email's <style> blocks, and the pseudo-classes its selectors use."""
    found: Counter[str] = Counter()
    for node in stylesheet_rules(ctx.style_blocks):
        if node.type == "at-rule" and node.lower_at_keyword in AT_RULES:
            found[AT_RULES[node.lower_at_keyword]] += 1
            if "prefers-color-scheme" in tinycss2.serialize(node.prelude):
                found["css-at-media-prefers-color-scheme"] += 1
    found.update(f"css-pseudo-class-{pseudo}" for pseudo in dict.fromkeys(_PSEUDO_CLASS.findall(ctx.style_blocks)))
    return found


def client_scores(ctx: Context) -> dict[str, float]:
    """Per client family: the share (%) of the email's features its platforms support (unknowns aside)."""
    return dict(_scores(frozenset(detected_features(ctx))))


@lru_cache(maxsize=256)
def _scores(slugs: frozenset[str]) -> tuple[tuple[str, float], ...]:
    """The scores of a set of features: the emails of one layout use the same set, so it is added up once."""
    per_family: dict[str, list[int]] = {}
    for slug in sorted(slugs):
        for (family, _), value in support(slug).items():
            if value in ("y", "a", "n"):
                per_family.setdefault(family, []).append(1 if value == "y" else 0)
    return tuple((family, round(100 * sum(marks) / len(marks), 1)) for family, marks in sorted(per_family.items()))


class Origin(StrEnum):
    """Who can act on a feature's use: only the author's own CSS without a fallback is worth a warning."""

    AUTHOR = "author"
    MJML = "MJML's own output"  # the same declaration MJML writes for its components: no template can change it
    FALLBACK = "has a fallback"  # every key client that lacks it is covered by another declaration or by mso-hide
    ENHANCEMENT = "an enhancement"  # only inside <style> at-rules or pseudo-classes: clients without it keep the base


@dataclass(frozen=True)
class Use:
    """One use of a caniemail feature, and the clients a fallback covers for it."""

    slug: str
    origin: Origin
    covered: frozenset[tuple[str, str]] = frozenset()


# A hidden element (the preheader) is hidden in a client that supports any one of these.
HIDING = {"display": "none", "max-height": "0", "max-width": "0", "overflow": "hidden", "opacity": "0"}
OUTLOOK_DESKTOP = frozenset({("outlook", "windows")})  # the client `mso-hide:all` speaks to
_BARE_MJML = (
    "<mjml><mj-head><mj-title>t</mj-title><mj-preview>p</mj-preview></mj-head><mj-body><mj-wrapper><mj-section>"
    '<mj-column><mj-text>t</mj-text><mj-button href="https://example.com">b</mj-button>'
    '<mj-image src="https://example.com/a.png" alt="a"/><mj-divider/><mj-spacer/><mj-table><tr><td>t</td></tr>'
    '</mj-table><mj-social><mj-social-element name="facebook" href="https://example.com">f</mj-social-element>'
    '</mj-social></mj-column></mj-section></mj-wrapper><mj-hero background-url="https://example.com/a.png">'
    "<mj-text>h</mj-text></mj-hero></mj-body></mjml>"
)


@lru_cache(maxsize=1)
def mjml_declarations() -> frozenset[tuple[str, str]]:
    """Every inline declaration MJML itself writes for its components (rendered once from a bare document with each
    component at its defaults): in an email, these are MJML's, not the author's."""
    import mjml

    html = mjml.mjml2html(_BARE_MJML)
    found: set[tuple[str, str]] = set()
    for style in re.findall(r'style="([^"]*)"', html):
        found.update((name, _normal(value)) for name, value in declarations(style).items())
    return frozenset(found)


def _normal(value: str) -> str:
    return re.sub(r"(?<![\d.])0(px|em|rem|%)", "0", " ".join(value.lower().split()))


def feature_uses(ctx: Context) -> list[Use]:
    """Each use of a feature the email makes, with who can act on it (once per email: the rule reads it)."""
    return ctx.memo(_feature_uses)


def _feature_uses(ctx: Context) -> list[Use]:
    """One walk of the email: each inline style's uses (under an `mso-hide:all` ancestor, Outlook never shows them)
    and each HTML element that is a feature; then links, images and the <style> blocks."""
    uses: list[Use] = []
    elements: Counter[str] = Counter()
    stack: list[tuple[etree._Element, bool]] = [(ctx.tree, False)]
    while stack:
        element, outlook_hidden = stack.pop()
        if not isinstance(element.tag, str):
            continue
        if element.tag in _TAG_FEATURE:
            elements[_TAG_FEATURE[element.tag]] += 1
        style = element.get("style")
        if style:
            outlook_hidden = outlook_hidden or "mso-hide:all" in style.replace(" ", "")
            uses.extend(_inline_uses(style, outlook_hidden))
        stack.extend((child, outlook_hidden) for child in reversed(element))
    for slug in HTML_FEATURES:
        uses.extend([Use(slug, Origin.AUTHOR)] * elements.get(slug, 0))
    for slug, count in _link_and_image_features(ctx).items():
        uses.extend([Use(slug, Origin.MJML if slug == "html-style" else Origin.AUTHOR)] * count)
    for slug, count in _stylesheet_features(ctx).items():
        uses.extend([Use(slug, Origin.AUTHOR if slug == "css-at-import" else Origin.ENHANCEMENT)] * count)
    known = _features()
    return [use for use in uses if use.slug in known]


@lru_cache(maxsize=4096)
def _inline_uses(style: str, outlook_hidden: bool) -> tuple[Use, ...]:
    """The uses of one inline style (a layout repeats the same few: each is worked out once per process)."""
    values = declarations(style)
    own = mjml_declarations()
    hiding = [name for name, value in values.items() if HIDING.get(name) == _normal(value)]
    uses = []
    for name, value in values.items():
        for slug in _declaration_slugs(name, value):
            covered = set(OUTLOOK_DESKTOP if outlook_hidden else ())
            if name in hiding:
                covered |= _supported_by_any(tuple(f"css-{other}" for other in hiding if other != name))
            # a hiding property is judged by its fallbacks: a lone display:none is never MJML's to answer for
            if (name, _normal(value)) in own and name not in HIDING:
                origin = Origin.MJML
            elif _gap_clients(slug) <= covered:
                origin = Origin.FALLBACK
            else:
                origin = Origin.AUTHOR
            uses.append(Use(slug, origin, frozenset(covered)))
    return tuple(uses)


@lru_cache(maxsize=256)
def _supported_by_any(slugs: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """The clients that support at least one of these features."""
    known = _features()
    return frozenset(client for slug in slugs if slug in known for client, v in support(slug).items() if v == "y")


@lru_cache(maxsize=512)
def _gap_clients(slug: str) -> frozenset[tuple[str, str]]:
    """The key clients that lack a feature."""
    if slug not in _features():
        return frozenset()
    return frozenset(
        (f, p)
        for (f, p), v in support(slug).items()
        if v == "n" and any(f == family and (platform is None or p == platform) for family, platform in KEY_CLIENTS)
    )


@rule(
    "HTML-COMPAT-SCORE",
    WARNING,
    "caniemail: features that Gmail, Outlook (Windows) or Apple Mail (iOS) lack break the email for many readers.",
)
def compatibility(ctx: Context) -> Iterator[Issue]:
    for tag, name in FORBIDDEN.items():
        if ctx.tree.find(f".//{tag}") is not None:
            yield Issue(f"the email contains {name}, which email clients strip or block", f"remove the {name}", ERROR)
    for link in ctx.tree.iter("link"):
        if "stylesheet" in (link.get("rel") or ""):
            yield Issue(
                f"an external stylesheet {link.get('href', '')!r} is linked", "put styles in the templates", ERROR
            )
    by_slug: dict[str, list[Use]] = {}
    for use in feature_uses(ctx):
        by_slug.setdefault(use.slug, []).append(use)
    for slug, uses in sorted(by_slug.items()):
        key_gaps, others = _gaps(slug)
        if not key_gaps:
            continue
        title = _features()[slug]["title"]
        unsupported = f"{title} ({slug}, used {len(uses)}×) is unsupported in {', '.join(key_gaps)}" + (
            f" and {others} other client{'s' if others != 1 else ''}" if others > 0 else ""
        )
        if any(use.origin == Origin.AUTHOR for use in uses):
            yield Issue(unsupported, "check the email in those clients, or use a fallback that they support")
        else:
            origins = ", ".join(sorted({use.origin.value for use in uses}))
            yield Issue(f"{unsupported}: {origins}, nothing to act on", "nothing to do", NOTE)
