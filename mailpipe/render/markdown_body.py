"""Markdown bodies to HTML for `mj-text`, with tracking parameters on every link and the brand's inline styles."""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from mailpipe.render.links import is_safe_link

MERGE_TAG = r"\*\|[^|\s]+\|\*"


class _KeepMergeTags(InlineProcessor):
    """`*|FNAME|*` is a Mailchimp merge tag, not emphasis: keep it byte for byte."""

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[AtomicString, int, int]:  # noqa: N802 (Markdown's API)
        return AtomicString(m.group(0)), m.start(0), m.end(0)


class UnsafeLink(ValueError):
    """A link or image in content with a scheme an email must not carry (javascript:, data:, vbscript:, …), or an
    image whose source is a mail or phone link (no mail client loads one)."""

    def __init__(self, url: str, image: bool = False):
        super().__init__(url)
        self.url = url
        self.image = image


class _TrackLinks(Treeprocessor):
    def __init__(self, md: markdown.Markdown, extension: _TrackLinksExtension):
        super().__init__(md)
        self.extension = extension

    def run(self, root: Element) -> None:
        for link in root.iter("a"):
            if not is_safe_link(link.get("href", "")):
                raise UnsafeLink(link.get("href", ""))
            link.set("href", self.extension.track(link.get("href", "")))
        for tag, style in self.extension.styles.items():
            for element in root.iter(tag):
                element.set("style", style)
        for image in root.iter("img"):
            if not is_safe_link(image.get("src", "")) or image.get("src", "").lower().startswith(("mailto:", "tel:")):
                raise UnsafeLink(image.get("src", ""), image=True)


class _TrackLinksExtension(Extension):
    def __init__(self, track: Callable[[str], str], styles: dict[str, str]):
        super().__init__()
        self.track = track
        self.styles = styles  # inline style per tag (h1, a…): clients that strip <style> keep the brand

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_TrackLinks(md, self), "mailpipe_track_links", 5)
        md.inlinePatterns.register(_KeepMergeTags(MERGE_TAG, md), "mailpipe_merge_tags", 200)


class MarkdownRenderer:
    """One configured Markdown parser, reused for every body (building one costs more than a body)."""

    def __init__(self, styles: dict[str, str] | None = None) -> None:
        self._links = _TrackLinksExtension(track=lambda url: url, styles=styles or {})
        # XHTML, so the MJML around it stays well-formed XML, which the plain text's quick XML parse reads (see
        # plaintext).
        self._md = markdown.Markdown(extensions=["sane_lists", self._links], output_format="xhtml")
        # Marketers write Markdown, not HTML: raw HTML in a body is shown as text.
        self._md.preprocessors.deregister("html_block")
        self._md.inlinePatterns.deregister("html")

    def to_html(self, text: str, track: Callable[[str], str]) -> str:
        self._links.track = track
        self._md.reset()
        return _NAMED_ENTITY.sub(_numeric_entity, self._md.convert(text))


_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}


def _numeric_entity(match: re.Match) -> str:
    """`&nbsp;` typed in Markdown -> `&#160;`: XML knows only its five named entities."""
    name = match.group(1)
    if name in _XML_ENTITIES or name not in html.entities.name2codepoint:
        return match.group(0)
    return f"&#{html.entities.name2codepoint[name]};"
