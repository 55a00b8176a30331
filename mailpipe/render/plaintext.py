"""The plain-text alternative, made from the same MJML as the HTML so both say the same thing.

The MJML is far smaller than the HTML MRML makes of it (no layout tables, no Outlook comments),
so turning it into text is quick enough to run on every save in the preview.
"""
from __future__ import annotations

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
    text = Inscriptis(body, _CONFIG).get_text()
    for html_form, text_form in _TEXT_FORMS.items():
        text = text.replace(html_form, text_form)
    text = "\n".join(_wrap(line.rstrip()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


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
    marker = _LIST_ITEM.match(line)
    indent = " " * len(marker.group(1)) if marker else ""
    return textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False) if line else line
