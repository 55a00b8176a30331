"""Our MJML passes the official MJML's strict validation, and MRML's HTML says what the official HTML says."""

from __future__ import annotations

import lxml.html
import official_mjml
import pytest

from conftest import REPO
from mailpipe.project import Project

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(not official_mjml.available(), reason="node or the npm mjml (make node-mjml) is absent"),
]


@pytest.fixture(scope="module")
def compiled():
    emails = Project(REPO).rendered().emails
    return emails, official_mjml.compile_all([e.mjml for e in emails], validation_level="strict")["results"]


def essentials(html: str) -> tuple[list[str], list[str], list[str]]:
    """What a reader gets: visible words, link targets, image sources (markup and whitespace aside)."""
    document = lxml.html.document_fromstring(html)
    for hidden in document.xpath("//head | //*[contains(translate(@style, ' ', ''), 'display:none')]"):
        hidden.drop_tree()
    words = [word for text in document.itertext() for word in text.split()]
    links = [a.get("href") for a in document.iter("a")]
    images = [img.get("src") for img in document.iter("img")]
    return words, links, images


def test_official_mjml_in_strict_mode_accepts_every_email(compiled):
    emails, results = compiled
    for email, result in zip(emails, results, strict=True):
        assert result["errors"] == [], (email.id, result["errors"])
        assert result["html"], email.id


def test_strict_mode_really_rejects_bad_mjml():
    bad = "<mjml><mj-body><mj-column><mj-text colr='1'>x</mj-text></mj-column></mj-body></mjml>"
    result = official_mjml.compile_all([bad])["results"][0]
    assert result["html"] is None
    assert any("mj-column cannot be used inside mj-body" in e["message"] for e in result["errors"])


def test_mrml_html_has_the_same_text_links_and_images_as_official_mjml(compiled):
    emails, results = compiled
    for email, result in zip(emails, results, strict=True):
        ours, theirs = essentials(email.html), essentials(result["html"])
        assert ours[0] == theirs[0], f"{email.id}: visible text differs"
        assert ours[1] == theirs[1], f"{email.id}: links differ"
        assert ours[2] == theirs[2], f"{email.id}: image sources differ"
