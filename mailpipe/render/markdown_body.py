"""Markdown bodies to HTML for `mj-text`, with tracking parameters on every link."""
from __future__ import annotations

from typing import Callable
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

MERGE_TAG = r"\*\|[^|\s]+\|\*"


class _KeepMergeTags(InlineProcessor):
    """`*|FNAME|*` is a Mailchimp merge tag, not emphasis: keep it byte for byte."""

    def handleMatch(self, m, data):  # noqa: N802 (Markdown's API)
        return AtomicString(m.group(0)), m.start(0), m.end(0)


class _TrackLinks(Treeprocessor):
    def __init__(self, md: markdown.Markdown, track: Callable[[str], str]):
        super().__init__(md)
        self.track = track

    def run(self, root: Element) -> None:
        for link in root.iter("a"):
            link.set("href", self.track(link.get("href", "")))


class _TrackLinksExtension(Extension):
    def __init__(self, track: Callable[[str], str]):
        super().__init__()
        self.track = track

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_TrackLinks(md, self.track), "mailpipe_track_links", 5)
        md.inlinePatterns.register(_KeepMergeTags(MERGE_TAG, md), "mailpipe_merge_tags", 200)


def markdown_to_html(text: str, track: Callable[[str], str]) -> str:
    """Render a content body; raw HTML in it is escaped, since marketers write Markdown, not HTML."""
    md = markdown.Markdown(extensions=["sane_lists", _TrackLinksExtension(track)], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md.convert(text)
