"""The plain-text alternative, made from the rendered HTML so both always say the same thing."""
from __future__ import annotations

import re

import textwrap

import html2text
import lxml.html

_LIST_ITEM = re.compile(r"^(\s*(?:[*+-]|\d+\.)\s+)")
WIDTH = 78
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)
# Mailchimp's address tag has an HTML form and a one-line form for text.
_TEXT_FORMS = {"*|HTML:LIST_ADDRESS_HTML|*": "*|LIST:ADDRESSLINE|*"}


def html_to_text(html: str) -> str:
    """Readable plain text: hidden preheader dropped, links as 'label (url)', lines of at most 78 characters."""
    tree = lxml.html.document_fromstring(html)
    for element in tree.xpath("//head | //*[@style]"):
        if element.tag == "head" or _HIDDEN.search(element.get("style", "")):
            element.drop_tree()
    for link in tree.xpath("//a[@href]"):
        label, href = link.text_content().strip(), link.get("href")
        if not label:
            link.drop_tree()
            continue
        for child in list(link):
            link.remove(child)
        link.text = label if label == href or href.startswith("tel:") else f"{label} ({href})"
        link.tag = "span"
    converter = html2text.HTML2Text()
    converter.body_width = 0  # wrapped below, never inside a URL
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.unicode_snob = True
    text = converter.handle(lxml.html.tostring(tree, encoding="unicode"))
    for html_form, text_form in _TEXT_FORMS.items():
        text = text.replace(html_form, text_form)
    text = "\n".join(_wrap(line.rstrip()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _wrap(line: str) -> str:
    """Wrap at spaces only: a URL or hyphenated word is never split."""
    marker = _LIST_ITEM.match(line)
    indent = " " * len(marker.group(1)) if marker else ""
    return textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False) if line else line
