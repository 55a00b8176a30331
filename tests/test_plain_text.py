"""The plain text's own layout and wrapping give, byte for byte, what inscriptis and textwrap give (they stay the
oracles, and inscriptis the fallback): on the shipped emails, on the MJML corpus, and on seeded random input."""

from __future__ import annotations

import copy
import random
import textwrap
from pathlib import Path

import pytest
from inscriptis import Inscriptis
from lxml import etree

from conftest import REPO
from mailpipe.project import Project
from mailpipe.render import plaintext
from mailpipe.render.plaintext import WIDTH, _lay_out, _wrap, parse_for_text, text_tree

CORPUS = REPO / ".corpus" / "mjml"


def inscriptis_text(body: etree._Element) -> str:
    return Inscriptis(copy.deepcopy(body), plaintext._CONFIG).get_text()


def textwrap_fill(line: str) -> str:
    marker = plaintext._LIST_ITEM.match(line)
    indent = " " * len(marker.group(1)) if marker else ""
    return (
        textwrap.fill(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
        if line
        else line
    )


def test_the_shipped_emails_are_laid_out_as_inscriptis_lays_them_out():
    rendered = Project(REPO).rendered()
    for email in rendered.emails:
        body = text_tree(parse_for_text(email.mjml))
        ours = _lay_out(copy.deepcopy(body))
        assert ours is not None, f"{email.id} left to inscriptis"  # an email is what the fast layout is for
        assert ours == inscriptis_text(body), email.id
        for line in ours.splitlines():
            assert _wrap(line.rstrip()) == textwrap_fill(line.rstrip()), (email.id, line)


@pytest.mark.skipif(not any(CORPUS.rglob("*.mjml")), reason="no MJML corpus (python3 scripts/fetch-mjml-corpus.py)")
def test_public_mjml_templates_are_laid_out_as_inscriptis_lays_them_out():
    """Templates nobody here wrote (the corpus of tests/test_lint_mjml.py): tables, lists, social blocks, heroes."""
    laid_out = left = 0
    for path in sorted(CORPUS.rglob("*.mjml")):
        if path.name.startswith(".mutant-"):
            continue
        body = text_tree(parse_for_text(path.read_text(encoding="utf-8", errors="replace")))
        ours = _lay_out(copy.deepcopy(body))
        if ours is None:
            left += 1
            continue
        laid_out += 1
        assert ours == inscriptis_text(body), path.name
    assert laid_out >= 30, (laid_out, left)


TAGS = [
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "span",
    "a",
    "br",
    "b",
    "img",
    "blockquote",
    "figure",
    "header",
    "section",
    "title",
    "style",
    "head",
    "table",
    "td",
    "pre",
    "q",
]
STYLES = [
    "display:block",
    "display:none",
    "display:inline-block",
    "color:red",
    "DISPLAY: Block",
    "margin-top:2em",
    "white-space:pre",
]
WORDS = [
    "Migraine",
    "  lasts ",
    "4 hours",
    "\n",
    "&amp;",
    "é",
    " ",
    "\xa0",
    "and",
    "*|FNAME|*",
    "x&y",
    "&lt;b&gt;",
    "\t",
]


def _random_tree(rng: random.Random, depth: int) -> etree._Element:
    element = etree.Element(rng.choice(TAGS))
    if rng.random() < 0.3:
        element.set("style", rng.choice(STYLES))
    if rng.random() < 0.1:
        element.set("value", "3")
    if rng.random() < 0.7:
        element.text = "".join(rng.choice(WORDS) for _ in range(rng.randrange(4)))
    if depth < 4:
        for _ in range(rng.randrange(4)):
            child = _random_tree(rng, depth + 1) if rng.random() < 0.9 else etree.Comment("c")
            child.tail = "".join(rng.choice(WORDS) for _ in range(rng.randrange(3))) if rng.random() < 0.6 else None
            element.append(child)
    return element


def test_random_html_is_laid_out_as_inscriptis_lays_it_out_or_left_to_it():
    rng = random.Random(2026)
    laid_out = left = 0
    for _ in range(2000):
        body = etree.Element("div")
        body.append(_random_tree(rng, 0))
        ours = _lay_out(copy.deepcopy(body))
        if ours is None:
            left += 1
            continue
        laid_out += 1
        assert ours == inscriptis_text(body), etree.tostring(body)
    assert laid_out > 400 and left > 400  # both paths taken


def test_random_lines_wrap_as_textwrap_wraps_them():
    rng = random.Random(2026)
    pieces = [
        "a",
        "word",
        "migraine",
        " ",
        "  ",
        "   ",
        "https://www.aiviaesthetics.com/book?utm_source=mailchimp&utm_medium=email",
        "x" * 77,
        "y" * 78,
        "z" * 79,
        "\xa0",
        "é",
        "1.",
        "*",
        "-",
        "\t",
    ]
    for _ in range(6000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 40)))
        if rng.random() < 0.3:
            line = rng.choice([" 1. ", "  * ", "10. ", " "]) + line
        line = line.rstrip()
        assert _wrap(line) == textwrap_fill(line), repr(line)


def test_the_width_is_78_on_both_sides_of_the_limit():
    exact, over = "w" * 70 + " " + "v" * 7, "w" * 70 + " " + "v" * 8
    assert _wrap(exact) == exact and len(exact) == WIDTH
    assert _wrap(over) == "w" * 70 + "\n" + "v" * 8
    assert _wrap("  * " + "u " * 40).splitlines()[1].startswith("    u")  # a list item's lines under its text


def test_a_table_in_an_article_still_reads_as_text(tmp_path: Path):
    """Content the fast layout leaves alone goes to inscriptis: nothing is lost."""
    root = parse_for_text(
        "<mjml><mj-body><mj-section><mj-column><mj-text><table><tr><td>Dose</td><td>155 units</td></tr></table>"
        "</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    body = text_tree(root)
    assert _lay_out(copy.deepcopy(body)) is None
    assert "155 units" in plaintext.mjml_to_text(parse_for_text(etree.tostring(root, encoding="unicode")))


def test_a_list_in_a_list_is_left_to_inscriptis_which_bullets_each_depth_its_own_way():
    body = text_tree(
        parse_for_text(
            "<mjml><mj-body><mj-text><ul><li>Triggers<ul><li>sleep</li><li>stress</li></ul></li></ul>"
            "</mj-text></mj-body></mjml>"
        )
    )
    assert _lay_out(copy.deepcopy(body)) is None
    assert "+ sleep" in plaintext.lay_out(body)
