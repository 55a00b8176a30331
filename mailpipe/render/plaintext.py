"""The plain-text alternative, made from the same MJML as the HTML so both say the same thing.

The MJML is far smaller than the HTML MRML makes of it (no layout tables, no Outlook comments),
so turning it into text is quick enough to run on every save in the preview.

The layout is inscriptis's (its strict profile: paragraphs and headings apart by a blank line, list items
indented under their bullets). What emails are made of (paragraphs, headings, one level of lists, links
already spelled out, inline emphasis, line breaks) is laid out here by `_lay_out`, the same way in a tenth
of the time; anything else (tables, preformatted text, nested lists, styles that move blocks) goes to
inscriptis itself. tests/test_render.py holds the two to the same output.
"""

from __future__ import annotations

import html
import re
import textwrap

import lxml.html
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import etree

WIDTH = 78
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_images=False, display_links=False)
_NOT_TEXT = ("mj-head", "mj-image", "mj-divider", "mj-spacer", "mj-raw", "mj-social", "mj-carousel")
_LAYOUT = ("mjml", "mj-body", "mj-wrapper", "mj-section", "mj-group", "mj-column", "mj-hero")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_OTHER_WHITESPACE = re.compile(r"[^\S ]")  # tabs, no-break spaces...: textwrap splits and drops them its own ways
_LIST_ITEM = re.compile(r"^(\s*(?:[*+-]|\d+\.)\s+)")
_UNDERLINE = {"h1": "=", "h2": "-"}
# Mailchimp's address tag has an HTML form and a one-line form for text.
_TEXT_FORMS = {"*|HTML:LIST_ADDRESS_HTML|*": "*|LIST:ADDRESSLINE|*"}


def parse_for_text(mjml: str) -> etree._Element:
    """The MJML as a tree: read as XML (quick, and what mailpipe's templates write), or, where it is not
    well-formed (`&nbsp;`, `<br>`, which MJML allows), by lxml's forgiving HTML parser."""
    try:
        return etree.fromstring(mjml.encode("utf-8"), _XML)
    except etree.XMLSyntaxError:
        document = lxml.html.document_fromstring(mjml)
        root = document.find(".//mjml")
        return root if root is not None else document


def mjml_to_text(root: etree._Element) -> str:
    """Readable plain text of a parsed MJML email (the tree is consumed): links as 'label (url)',
    headings underlined, lines of at most 78 characters that never split a URL."""
    text = lay_out(text_tree(root))
    for html_form, text_form in _TEXT_FORMS.items():
        text = text.replace(html_form, text_form)
    text = "\n".join(_wrap(line.rstrip()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def text_tree(root: etree._Element) -> etree._Element:
    """The MJML made into the HTML its text is laid out from: what is not text removed, buttons as paragraphs with
    their link, links spelled out, headings underlined, layout tags unwrapped (the tree is consumed)."""
    for element in root.iter(*_NOT_TEXT):
        _remove(element)
    for element in root.xpath("//*[@style]"):
        if _HIDDEN.search(element.get("style", "")):
            _remove(element)
    for button in root.iter("mj-button"):
        button.tag = "p"
        link = etree.Element("a", href=button.get("href", ""))
        link.text = "".join(button.itertext())
        button[:] = [link]
        button.text = None
    for block in root.iter("mj-text"):
        block.tag = "div"
    etree.strip_tags(root, *_LAYOUT)
    for link in root.iter("a"):
        _spell_out(link)
    for heading in root.iter("h1", "h2"):
        underline = etree.SubElement(heading, "br")
        underline.tail = _UNDERLINE[heading.tag] * min(len("".join(heading.itertext()).strip()), WIDTH)
    body = etree.Element("div")
    body.append(root)
    return body


def lay_out(body: etree._Element) -> str:
    """The text inscriptis would lay out from `body` (see `_lay_out`)."""
    text = _lay_out(body)
    return Inscriptis(body, _CONFIG).get_text() if text is None else text


_BLOCKS = {
    "p": 1,
    "h1": 1,
    "h2": 1,
    "h3": 1,
    "h4": 1,
    "h5": 1,
    "h6": 1,
    "figure": 1,  # tag -> blank lines around it
    "div": 0,
    "li": 0,
    "ul": 0,
    "ol": 0,
    "address": 0,
    "article": 0,
    "aside": 0,
    "footer": 0,
    "header": 0,
    "hgroup": 0,
    "layer": 0,
    "main": 0,
    "nav": 0,
    "figcaption": 0,
    "blockquote": 0,
}
_HIDDEN_TAGS = {"head", "link", "meta", "script", "title", "style"}
_ELSEWHERE = {"table", "tr", "td", "th", "pre", "xmp", "listing", "plaintext", "q"}  # left to inscriptis
_MOVING_STYLES = ("white-space", "margin-top", "margin-bottom", "padding-left")
_SPACES = re.compile(r"\s+")
_LIST_PADDING = 4


class _Layout:
    """Lines as inscriptis's canvas makes them: a block's margins collapse with the previous block's, its first line
    carries the list padding and bullet, whitespace collapses across inline elements, and text is unescaped."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line = ""
        self.collapsible = True  # the line so far ends in whitespace (or is empty): more whitespace adds nothing
        self.margin = 1000  # blank lines since the last text (none are needed before the first)
        self.padding = 0
        self.bullets: list[tuple[int, str]] = []  # (padding, bullet) of the open blocks
        self.consumed = False  # the current line has had its prefix

    def _prefix(self) -> str:
        if self.consumed:
            return ""
        self.consumed = True
        return " " * (self.padding - len(bullet)) + bullet if (bullet := self._take_bullet()) else " " * self.padding

    def _take_bullet(self) -> str:
        for index in range(len(self.bullets) - 1, -1, -1):
            padding, bullet = self.bullets[index]
            if bullet:
                self.bullets[index] = (padding, "")
                return bullet
        return ""

    def write(self, text: str) -> None:
        normal = _SPACES.sub(" ", text)
        if self.collapsible and normal.startswith(" "):
            normal = normal[1:]
        if not normal:
            return
        self.collapsible = normal.endswith(" ")
        piece = normal if self.line else self._prefix() + normal
        self.line += html.unescape(piece) if "&" in piece else piece

    def _content(self) -> str:
        if self.collapsible and self.line.endswith(" "):
            self.line = self.line[:-1]
        return self.line

    def flush(self) -> bool:
        if not self._content():
            return False
        self.lines.append(self.line)
        self._new_line()
        self.margin = 0
        return True

    def _new_line(self) -> None:
        self.line, self.collapsible, self.consumed = "", True, False

    def _unconsumed_bullet(self) -> None:
        if self.consumed:
            return
        bullet = self._take_bullet()
        if bullet:
            self.lines.append(" " * (self.padding - self.bullets[-1][0] - len(bullet)) + bullet)
            self._new_line()
            self.margin = 0

    def open_block(self, margin_before: int, previous_margin_after: int, padding: int, bullet: str) -> None:
        if not self.flush() and bullet:
            self._unconsumed_bullet()
        self.padding += padding
        self.bullets.append((padding, bullet))
        self._margin(max(previous_margin_after, margin_before))

    def close_block(self, margin_after: int, bullet: str) -> None:
        if not self.flush() and bullet:
            self._unconsumed_bullet()
        if self.bullets:
            self.padding -= self.bullets.pop()[0]
        self._margin(margin_after)

    def _margin(self, wanted: int) -> None:
        if wanted > self.margin:
            self.lines.append("\n" * (wanted - self.margin - 1))
            self.margin = wanted

    def newline(self) -> None:
        if not self.flush():
            self.lines.append("")
            self._new_line()

    def text(self) -> str:
        self.flush()
        return "\n".join(self.lines)


def _display(style: str | None) -> str | None:
    """What an inline style does to the layout as inscriptis reads it: None (nothing), block, none, inline; or
    unknown for what only inscriptis lays out (preformatted whitespace, margins and paddings)."""
    display = None
    for directive in (style or "").lower().split(";"):
        name, _, value = directive.partition(":")
        name, value = name.strip(), value.strip()
        if name == "display":
            display = value if value in ("block", "none") else "inline"
        elif name in _MOVING_STYLES:
            return "unknown"
    return display


def _lay_out(body: etree._Element) -> str | None:
    """The text of an email made of what emails are made of, or None for anything else (inscriptis lays it out)."""
    walker = _Walker()
    return walker.layout.text() if walker.walk(body, None, False) else None


class _Walker:
    """One walk of an email's body into a layout; False from any step: not what emails are made of."""

    def __init__(self) -> None:
        self.layout = _Layout()
        self.counters: list[int | None] = []  # per open list: the next number, or None for bullets

    def walk(self, element: etree._Element, parent_margin: int | None, parent_hidden: bool) -> bool:
        """Lay out one element and its tail; `parent_margin` is the parent's bottom margin if it is a block."""
        tag = element.tag
        if not isinstance(tag, str):
            if tag is etree.Comment and element.tail:
                self.layout.write(element.tail)
            return True
        display = _display(element.get("style"))
        if self._elsewhere(element, tag) or display == "unknown":
            return False
        hidden = parent_hidden or tag in _HIDDEN_TAGS or display == "none"
        margin = _margin(tag, display, hidden)
        bullet = self._open(tag)
        if margin is not None:
            self.layout.open_block(margin, parent_margin or 0, _LIST_PADDING if tag in ("ul", "ol") else 0, bullet)
        if not self._inside(element, margin, hidden):
            return False
        if margin is not None:
            self.layout.close_block(margin, bullet)
        if element.tail and not parent_hidden:
            self.layout.write(element.tail)
        return True

    def _inside(self, element: etree._Element, margin: int | None, hidden: bool) -> bool:
        """The element's own text and its children; a list it opened is closed after them."""
        if element.text and not hidden:
            self.layout.write(element.text)
        if not all(self.walk(child, margin, hidden) for child in element):
            return False
        if element.tag in ("ul", "ol"):
            self.counters.pop()
        return True

    def _elsewhere(self, element: etree._Element, tag: str) -> bool:
        """Tables, preformatted text, numbered items, nested lists: inscriptis lays those out."""
        nested_list = tag in ("ul", "ol") and bool(self.counters)
        return tag in _ELSEWHERE or (tag == "li" and "value" in element.attrib) or nested_list

    def _open(self, tag: str) -> str:
        """A list opened, a list item's bullet or number (returned), or a line break."""
        if tag in ("ul", "ol"):
            self.counters.append(1 if tag == "ol" else None)
        elif tag == "li":
            number = self.counters[-1] if self.counters else None
            if number is not None:
                self.counters[-1] = number + 1
                return f"{number}. "
            return "* "
        elif tag == "br":
            self.layout.newline()
        return ""


def _margin(tag: str, display: str | None, hidden: bool) -> int | None:
    """The bottom margin of a block, in lines; None for what is not laid out as a block (inline, hidden)."""
    if hidden or display == "inline":
        return None
    return _BLOCKS.get(tag, 0 if display == "block" else None)


def _remove(element: etree._Element) -> None:
    """Remove an element but keep the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _spell_out(link: etree._Element) -> None:
    """`<a href=U>label</a>` -> `label (U)`; a link with no words (a logo) is dropped."""
    label, href = " ".join("".join(link.itertext()).split()), link.get("href", "")
    if not label:
        _remove(link)
        return
    link[:] = []
    link.text = label if label == href or href.startswith("tel:") else f"{label} ({href})"


def _wrap(line: str) -> str:
    """Wrap at spaces only: a URL or hyphenated word is never split."""
    if _OTHER_WHITESPACE.search(line):
        marker = _LIST_ITEM.match(line)
        indent = " " * len(marker.group(1)) if marker else ""
        return textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    if len(line) <= WIDTH:
        return line
    marker = _LIST_ITEM.match(line)
    return _fill(line, " " * len(marker.group(1)) if marker else "")


def _fill(line: str, indent: str) -> str:
    """`textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)` for a line
    whose only whitespace is spaces, by finding each break with str.rfind instead of textwrap's loop over every
    word: greedy, a word longer than the width on a line of its own, the paragraph's leading spaces kept."""
    lines: list[str] = []
    position, size = 0, len(line)
    while position < size:
        if lines:  # a later line starts at a word: the spaces it would begin with are dropped
            while position < size and line[position] == " ":
                position += 1
            if position == size:
                break
        width = WIDTH - len(indent) if lines else WIDTH
        end = position + width
        if end >= size:
            cut = size
        elif line[end] == " ":
            cut = end
        else:
            space = line.rfind(" ", position, end)
            if space == -1:  # one word wider than the line: whole, up to the next space
                cut = line.find(" ", position)
                cut = size if cut == -1 else cut
            else:
                cut = space + 1
        piece = line[position:cut].rstrip(" ")
        if piece:
            lines.append(indent + piece if lines else piece)
        position = cut
    return "\n".join(lines)
