"""The rules a clinic's email must pass before it may be scheduled (see shared email-rules.md).

Each rule has a stable id, a severity, and a line of why; it looks at one rendered email through
a `Context` (the parsed HTML, the visible text, the plain text, the front matter) and reports
`Finding`s that name the email, the offending text or element, and how to fix it. A rule module
per family: compliance (CAN-SPAM, Mailchimp), rendering (size, structure, images, accessibility,
plain text), links, compatibility (caniemail), healthcare (Botox, HIPAA, specials), claims (what a medical/legal
reviewer rejects: claims beyond the label, assumed conditions, offer terms that undercut a price), spam.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import TypeVar, cast

import tinycss2
from cssselect import ExpressionError, SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from mailpipe.load.config import SiteConfig
from mailpipe.render import RenderedEmail


class Severity(StrEnum):
    """An error blocks push (and a sign-off); a warning is said and lets it go; a note is what nobody writing the
    email can act on (MJML's own CSS, a feature with a fallback), said only by `check --all`."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


ERROR, WARNING, NOTE = Severity.ERROR, Severity.WARNING, Severity.NOTE
GMAIL_CLIP = 102 * 1024
SHARED_BLOCKS = {"isi", "footer"}  # the css-class of the layout's safety-information and footer blocks
_T = TypeVar("_T")
_BLOCK_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "div", "br", "tr", "table"})
_BLOCK_BREAK = "\x1e"  # a control character the parsed HTML cannot hold (see _CONTROL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    email: str
    message: str  # what is wrong, quoting the offending text or element
    fix: str

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "email": self.email,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Issue:
    """What a rule function yields: the finding without the rule and email it belongs to."""

    message: str
    fix: str
    severity: Severity | None = None  # None: the rule's own severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    family: str
    why: str
    check: Callable[[Context], Iterable[Issue]]


RULES: dict[str, Rule] = {}


RuleCheck = Callable[["Context"], Iterable["Issue"]]


def rule(rule_id: str, severity: Severity, why: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a check function as a rule; its module is its family."""

    def register(function: RuleCheck) -> RuleCheck:
        RULES[rule_id] = Rule(rule_id, severity, function.__module__.rsplit(".", 1)[-1], why, function)
        return function

    return register


@dataclass(frozen=True)
class Style:
    """What an element inherits that the checks care about (from inline styles and attributes)."""

    color: str = "#000000"
    background: str = "#ffffff"
    font_px: float = 16.0
    bold: bool = False
    hidden: bool = False  # display:none, visibility:hidden, opacity:0 or collapsed: hides all inside

    @property
    def invisible(self) -> bool:
        """The element's own text cannot be seen (hidden, or font-size 0, which children may override)."""
        return self.hidden or self.font_px == 0


_PLAIN = Style()


class Context:
    """One email, parsed once, with the views the rules share."""

    def __init__(self, email: RenderedEmail, site: SiteConfig, online: bool = False):
        self.email, self.site, self.online = email, site, online
        self._memo: dict[Callable, object] = {}
        self.html = email.html
        self.text = email.text
        try:
            self.tree = _parse_html(_CONTROL.sub("", self.html) or "<html></html>")
        except (etree.ParserError, ValueError):
            self.tree = _parse_html("<html><body></body></html>")
            self.unparsable = True
        else:
            self.unparsable = False

    @property
    def is_promo(self) -> bool:
        return self.email.kind in ("special", "newsletter")

    @cached_property
    def body(self) -> etree._Element:
        return self.tree.find("body") if self.tree.find("body") is not None else self.tree

    @cached_property
    def styled(self) -> list[tuple[etree._Element, Style]]:
        """Every element of the body with the style it inherits, in document order."""
        return self._light_and_dark[0]

    @cached_property
    def dark_styled(self) -> list[tuple[etree._Element, Style]]:
        """The same in dark mode: what a client that honours the email's prefers-color-scheme CSS shows
        (empty when the email has no dark CSS)."""
        return self._light_and_dark[1]

    @cached_property
    def _light_and_dark(self) -> tuple[list[tuple[etree._Element, Style]], list[tuple[etree._Element, Style]]]:
        """Both from one walk of the body: each element's light style, and its dark style from the dark rules that
        match it (matched once per rule, not once per selector)."""
        overrides = _dark_overrides(self.tree, self.style_blocks)
        light: list[tuple[etree._Element, Style]] = []
        dark: list[tuple[etree._Element, Style]] = []
        stack = [(self.body, _PLAIN, _PLAIN)]
        while stack:
            element, inherited, inherited_dark = stack.pop()
            tag = element.tag
            if not isinstance(tag, str):
                continue
            inline, bgcolor = element.get("style"), element.get("bgcolor")
            style = _style_of(inherited, tag, inline, bgcolor, None)
            light.append((element, style))
            if overrides:
                own = overrides.get(element)
                dark_style = _style_of(inherited_dark, tag, inline, bgcolor, tuple(own.items()) if own else None)
                dark.append((element, dark_style))
            else:
                dark_style = style
            stack.extend((child, style, dark_style) for child in reversed(element))
        return light, dark

    @cached_property
    def _style_by_element(self) -> dict[etree._Element, Style]:
        return dict(self.styled)  # lxml elements hash by identity; `styled` keeps them alive

    @cached_property
    def visible_text(self) -> str:
        """Everything a recipient can read, in reading order, one space between words."""
        return " ".join(self.visible_blocks)

    @cached_property
    def visible_blocks(self) -> tuple[str, ...]:
        """The same, block by block (a paragraph, a heading, a table cell): a sentence never runs from a heading into
        the paragraph under it."""
        return self._reading_texts[0]

    @cached_property
    def copy_text(self) -> str:
        """The email's own copy: what a recipient reads outside the safety-information and footer blocks, which every
        email shares."""
        return " ".join(self.copy_blocks)

    @cached_property
    def inbox_and_copy(self) -> str:
        """The email's own words: the inbox's two lines (subject and preheader), then its copy."""
        return " ".join([self.email.subject, self.email.preheader, self.copy_text])

    @cached_property
    def copy_blocks(self) -> tuple[str, ...]:
        """The email's own copy, block by block (the claim rules read it sentence by sentence)."""
        return self._reading_texts[1]

    @cached_property
    def _reading_texts(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The visible text, and the part of it outside the SHARED_BLOCKS, block by block, from one walk of the body."""
        styles = self._style_by_element
        every: list[str] = []
        own: list[str] = []
        stack: list[tuple[etree._Element | str, bool]] = [(self.body, False)]  # (element or text, in a shared block)
        while stack:
            item, shared = stack.pop()
            if isinstance(item, str):
                every.append(item)
                if not shared or item == _BLOCK_BREAK:
                    own.append(item)
                continue
            if not isinstance(item.tag, str) or item.tag in ("style", "script"):
                continue
            style = styles.get(item, _PLAIN)
            if not style.hidden:
                stack.extend(_readable_parts(item, style, shared))
        return _blocks(every), _blocks(own)

    @cached_property
    def links(self) -> list[tuple[etree._Element, str, str]]:
        return [(a, a.get("href", ""), " ".join("".join(a.itertext()).split())) for a in self.body.iter("a")]

    @cached_property
    def images(self) -> list[etree._Element]:
        return list(self.body.iter("img"))

    @cached_property
    def style_blocks(self) -> str:
        return "\n".join(s.text or "" for s in self.tree.iter("style"))

    @cached_property
    def lowered(self) -> dict[str, str]:
        """The HTML and the plain text lower-cased once, for `search_anchored`."""
        return {"HTML": self.html.lower(), "plain text": self.text.lower()}

    def memo(self, compute: Callable[[Context], _T]) -> _T:
        """One result per email of a computation that several rules (and the client scores) share."""
        if compute not in self._memo:
            self._memo[compute] = compute(self)
        return cast(_T, self._memo[compute])


def _readable_parts(element: etree._Element, style: Style, shared: bool) -> list[tuple[etree._Element | str, bool]]:
    """What a visible element puts on the reading stack, last read first: a block break at its end, each child with
    the text after it, its own text, a break at its start."""
    shared = shared or not SHARED_BLOCKS.isdisjoint((element.get("class") or "").split())
    block = element.tag in _BLOCK_TAGS
    parts: list[tuple[etree._Element | str, bool]] = [(_BLOCK_BREAK, False)] if block else []
    for child in reversed(element):
        if child.tail and not style.invisible:
            parts.append((child.tail, shared))
        parts.append((child, shared))
    if element.text and not style.invisible:
        parts.append((element.text, shared))
    if block:
        parts.append((_BLOCK_BREAK, False))
    return parts


def _blocks(pieces: list[str]) -> tuple[str, ...]:
    """Text pieces with block breaks among them as the blocks' texts, one space between words."""
    return tuple(
        text
        for block in "".join(f" {piece} " for piece in pieces).split(_BLOCK_BREAK)
        if (text := " ".join(block.split()))
    )


def search_anchored(
    pattern: re.Pattern[str], text: str, anchors: tuple[str, ...], lowered: str | None = None
) -> re.Match[str] | None:
    """`pattern.search(text)`, run only when one of `anchors` (lower-case literals that every match contains) is in the
    lower-cased text: str's `in` scans an email in C, where a case-insensitive regex steps through it in Python's re
    many times slower, and nearly every email has none of them."""
    low = text.lower() if lowered is None else lowered
    if not any(anchor in low for anchor in anchors):
        return None
    return pattern.search(text)


_HTML_PARSER = etree.HTMLParser()  # lxml.html's own parser, without its element classes: no Python call per element


def _parse_html(html: str) -> etree._Element:
    tree = etree.fromstring(html, _HTML_PARSER)
    if tree is None:
        raise etree.ParserError("Document is empty")
    return tree


@lru_cache(maxsize=4096)
def declarations(style: str) -> dict[str, str]:
    """An inline style attribute's declarations, lower-cased names (parsed with tinycss2)."""
    found = {}
    for item in tinycss2.parse_blocks_contents(style, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            found[item.lower_name] = tinycss2.serialize(item.value).strip()
    return found


@lru_cache(maxsize=64)
def stylesheet_rules(stylesheet: str) -> tuple:
    """An email's <style> text parsed once (tinycss2): the emails of a project share their layout's stylesheet."""
    return tuple(tinycss2.parse_stylesheet(stylesheet, skip_comments=True, skip_whitespace=True))


@lru_cache(maxsize=64)
def _dark_rules(stylesheet: str) -> tuple[tuple[CSSSelector, dict[str, str]], ...]:
    """Each selector of the `@media (prefers-color-scheme: dark)` rules, compiled, with its declarations."""
    rules = []
    for block in stylesheet_rules(stylesheet):
        if block.type != "at-rule" or block.lower_at_keyword != "media" or block.content is None:
            continue
        if "prefers-color-scheme:dark" not in "".join(tinycss2.serialize(block.prelude).lower().split()):
            continue
        for rule in tinycss2.parse_rule_list(block.content, skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            values = {
                d.lower_name: tinycss2.serialize(d.value).strip()
                for d in tinycss2.parse_declaration_list(rule.content, True, True)
                if d.type == "declaration"
            }
            valid = []
            for selector in tinycss2.serialize(rule.prelude).split(","):
                try:
                    CSSSelector(selector.strip())
                except (SelectorError, ExpressionError):
                    continue
                valid.append(selector.strip())
            if valid:  # one XPath for the rule's whole selector list: one walk of the email instead of one per selector
                rules.append((CSSSelector(", ".join(valid)), values))
    return tuple(rules)


def _dark_overrides(tree: etree._Element, stylesheet: str) -> dict[etree._Element, dict[str, str]]:
    """The declarations the `@media (prefers-color-scheme: dark)` rules give each element they match."""
    overrides: dict[etree._Element, dict[str, str]] = {}
    for selector, values in _dark_rules(stylesheet):
        for element in selector(tree):
            overrides.setdefault(element, {}).update(values)
    return overrides


@lru_cache(maxsize=8192)
def _style_of(
    inherited: Style, tag: str, style: str | None, bgcolor: str | None, dark: tuple[tuple[str, str], ...] | None
) -> Style:
    """An element's style from what it inherits and its own attributes: a layout repeats the same few combinations."""
    overrides = dict(dark) if dark else None
    color, background, size, bold, hidden = (
        inherited.color,
        inherited.background,
        inherited.font_px,
        inherited.bold,
        inherited.hidden,
    )
    if bgcolor:
        background = bgcolor
    if tag in ("strong", "b", "h1", "h2", "h3", "th"):
        bold = True
    if tag in ("h1", "h2"):
        size = max(size, 20.0)
    if style or overrides:
        values = {**declarations(style or ""), **(overrides or {})}
        color = values.get("color", color)
        for name in ("background-color", "background"):
            if name in values and parse_colour(values[name].split()[0] if values[name] else ""):
                background = values[name].split()[0]
        if "font-size" in values:
            size = _px(values["font-size"], size)
        if values.get("font-weight", "") in ("bold", "700", "800", "900"):
            bold = True
        collapsed = values.get("max-height", "") in ("0", "0px") and values.get("overflow") == "hidden"
        if (
            values.get("display", "").startswith("none")
            or values.get("visibility") == "hidden"
            or collapsed
            or values.get("opacity", "") in ("0", "0.0")
        ):
            hidden = True
    return Style(color, background, size, bold, hidden)


def _px(value: str, default: float) -> float:
    match = re.match(r"^\s*([\d.]+)\s*(px|pt)?\s*$", value or "")
    if not match:
        return default
    number = float(match.group(1))
    return number * 4 / 3 if match.group(2) == "pt" else number


_NAMED = {
    "white": "#ffffff",
    "black": "#000000",
    "red": "#ff0000",
    "blue": "#0000ff",
    "gray": "#808080",
    "grey": "#808080",
    "green": "#008000",
    "yellow": "#ffff00",
    "silver": "#c0c0c0",
    "navy": "#000080",
    "purple": "#800080",
}


@lru_cache(maxsize=1024)
def parse_colour(value: str) -> tuple[float, float, float] | None:
    value = (value or "").strip().lower().rstrip(";").replace("!important", "").strip()
    value = _NAMED.get(value, value)
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    if re.fullmatch(r"#[0-9a-f]{6}", value):
        return int(value[1:3], 16) / 255, int(value[3:5], 16) / 255, int(value[5:7], 16) / 255
    match = re.fullmatch(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(,\s*[\d.]+\s*)?\)", value)
    if match:
        return int(match.group(1)) / 255, int(match.group(2)) / 255, int(match.group(3)) / 255
    return None


@lru_cache(maxsize=1024)
def contrast(foreground: str, background: str) -> float | None:
    """WCAG 2.x contrast ratio of two colours, or None if either cannot be read."""
    fg, bg = parse_colour(foreground), parse_colour(background)
    if fg is None or bg is None:
        return None

    def luminance(rgb: tuple[float, float, float]) -> float:
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"'{text[:limit]}…'" if len(text) > limit else f"'{text}'"


def describe(element: etree._Element) -> str:
    attributes = " ".join(f'{k}="{v[:40]}"' for k, v in element.attrib.items() if k in ("src", "href", "class", "alt"))
    return f"<{element.tag}{' ' + attributes if attributes else ''}>"


def run_checks(
    email: RenderedEmail, site: SiteConfig, online: bool = False, rules: Iterable[Rule] | None = None
) -> list[Finding]:
    """Every finding of every rule for one email."""
    return check_context(Context(email, site, online), rules)


def check_context(context: Context, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Every finding of every rule over an already parsed email; a rule that fails on odd input reports it, never
    crashes."""
    _load_rule_modules()
    email = context.email
    findings = []
    for current in rules or RULES.values():
        try:
            for problem in current.check(context):
                findings.append(
                    Finding(current.id, problem.severity or current.severity, email.id, problem.message, problem.fix)
                )
        except Exception as err:  # noqa: BLE001 (a checker bug must not hide the other rules' findings)
            # at the rule's own severity: a crashing error rule must block the email as if it had fired
            findings.append(
                Finding(
                    current.id,
                    current.severity,
                    email.id,
                    f"the rule could not run on this email ({type(err).__name__}: {err})",
                    "report this to the mailpipe developers",
                )
            )
    return findings


def error_rules(findings: Iterable[Finding]) -> list[str]:
    """The rules an email fails with an error, each once, sorted: what blocks push, a sign-off, a due email."""
    return sorted({f.rule for f in findings if f.is_error})


def all_rules() -> list[Rule]:
    _load_rule_modules()
    return list(RULES.values())


def _load_rule_modules() -> None:
    from mailpipe.checks import (  # noqa: F401 (registers the rules)
        claims,
        compat,
        compliance,
        healthcare,
        links,
        rendering,
        spam,
        wording,
    )
