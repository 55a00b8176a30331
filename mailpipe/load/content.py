"""Load content files (Markdown with YAML front matter) into typed, validated items.

Every problem in every file is collected, so a marketer sees the whole list at once.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from mailpipe.errors import InputError, Problem
from mailpipe.load.yamlfile import (
    HttpsUrl,
    Month,
    NonEmpty,
    Slug,
    YamlDocument,
    field_name,
    parse_yaml,
    read_text,
    schema,
    validate,
)
from mailpipe.util.vocabulary import BOTOX_MENTION

ARTICLES_DIR = "articles"
SPECIALS_DIR = "specials"
_FRONT_MATTER_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)


@schema
class Image:
    url: HttpsUrl
    alt: NonEmpty


CTA_LABEL_MAX = 24  # characters of a button's label that fit one line of a 320 px phone (16 px bold)


def _fits_one_line(label: str) -> str:
    if len(label) > CTA_LABEL_MAX:
        raise ValueError(
            f"{label!r} is {len(label)} characters; a button label of more than {CTA_LABEL_MAX} wraps to two lines "
            "on a small phone: say it shorter"
        )
    return label


@schema
class CallToAction:
    label: Annotated[NonEmpty, AfterValidator(_fits_one_line)]
    url: HttpsUrl


def _not_a_flag(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"expected a price like 149.00, got {value!r}")
    return value


@schema
class Offer:
    name: NonEmpty
    description: NonEmpty
    price: Annotated[Decimal, BeforeValidator(_not_a_flag), Field(ge=0, le=100_000, decimal_places=2)] | None = None
    unit: NonEmpty | None = None
    discount: NonEmpty | None = None
    image: Image | None = None  # shown 548 px wide at most: give a file at least 1096 px wide, for retina screens


@schema
class ArticleFront:
    id: Slug
    title: NonEmpty
    subject: NonEmpty
    preheader: NonEmpty
    summary: NonEmpty
    cta: CallToAction
    hero: Image | None = None
    example: bool = False
    # Lines that only make sense inside the drip ("In our next email…"): printed by the drip's article email, never
    # by a newsletter that features the article (a patient who gets it never gets the next step).
    series_opening: NonEmpty | None = None
    series_next: NonEmpty | None = None
    # The consultation email: names the prescriber and their licence from mailpipe.yaml (clinic.prescriber).
    introduces_prescriber: bool = False


@schema
class SpecialFront:
    month: Month
    title: NonEmpty
    subject: NonEmpty
    preheader: NonEmpty
    offers: Annotated[list[Offer], Field(min_length=1)]
    valid_from: datetime.date
    valid_until: datetime.date
    terms: NonEmpty
    cta: CallToAction
    featured_article: Slug | None = None
    example: bool = False


@dataclass(frozen=True)
class Article:
    """An educational email of the drip; its Markdown body is the article."""

    front: ArticleFront
    body: str
    source: Path
    kind: str = field(default="article", init=False)

    @property
    def id(self) -> str:
        return self.front.id

    @property
    def mentions_botox(self) -> bool:
        return bool(
            BOTOX_MENTION.search(" ".join([self.front.title, self.front.subject, self.front.summary, self.body]))
        )


@dataclass(frozen=True)
class Special:
    """A month's specials for existing patients; the body is the introduction above the offers."""

    front: SpecialFront
    body: str
    source: Path
    kind: str = field(default="special", init=False)

    @property
    def id(self) -> str:
        return f"specials-{self.front.month}"

    @property
    def mentions_botox(self) -> bool:
        offers = " ".join(f"{o.name} {o.description}" for o in self.front.offers)
        return bool(
            BOTOX_MENTION.search(" ".join([self.front.title, self.front.subject, self.body, offers, self.front.terms]))
        )


ContentItem = Article | Special


@dataclass(frozen=True)
class ContentSet:
    articles: tuple[Article, ...]
    specials: tuple[Special, ...]

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)


@dataclass(frozen=True)
class _Parsed:
    stamp: tuple[int, int]  # the file's modification time (ns) and size when it was read
    item: ContentItem | None
    doc: YamlDocument | None
    problems: tuple[Problem, ...]


class ContentCache:
    """Content files as last parsed, reused while a file's modification time and size stay the same: the preview
    re-reads the file that was saved, not the whole folder. `forget` drops files a watcher saw change (a save within
    the file system's clock granularity, at the same size, would otherwise look unchanged)."""

    def __init__(self) -> None:
        self._files: dict[Path, _Parsed] = {}

    def forget(self, paths: set[Path]) -> None:
        for path in paths:
            self._files.pop(path, None)
            self._files.pop(path.resolve(), None)

    def load(self, file: Path, front_type: type, item_type: type) -> _Parsed:
        try:
            status = file.stat()
            stamp = (status.st_mtime_ns, status.st_size)
        except OSError:
            stamp = (-1, -1)
        known = self._files.get(file)
        if known is not None and known.stamp == stamp and stamp != (-1, -1):
            return known
        problems: list[Problem] = []
        docs: dict[Path, YamlDocument] = {}
        item = _load_item(file, front_type, item_type, problems, docs)
        parsed = _Parsed(stamp, item, docs.get(file), tuple(problems))
        self._files[file] = parsed
        return parsed


def load_content(content_dir: Path, cache: ContentCache | None = None) -> ContentSet:
    """Load every article and special under `content_dir`; raise InputError listing all problems."""
    problems: list[Problem] = []
    docs: dict[Path, YamlDocument] = {}
    files = cache if cache is not None else ContentCache()

    def read(folder: str, front_type: type, item_type: type) -> list:
        items = []
        for file in _regular_files(content_dir / folder):
            parsed = files.load(file, front_type, item_type)
            problems.extend(parsed.problems)
            if parsed.doc is not None:
                docs[file] = parsed.doc
            if isinstance(parsed.item, item_type):
                items.append(parsed.item)
        return items

    articles: list[Article] = read(ARTICLES_DIR, ArticleFront, Article)
    specials: list[Special] = read(SPECIALS_DIR, SpecialFront, Special)
    for special in specials:
        problems += _special_problems(special, docs[special.source])
    problems += _cross_problems(articles, specials, docs)
    if problems:
        raise InputError(problems)
    return ContentSet(tuple(articles), tuple(specials))


def _cross_problems(articles: list[Article], specials: list[Special], docs: dict[Path, YamlDocument]) -> list[Problem]:
    """What no single file shows: an article id used twice, a special featuring an article that does not exist."""
    problems = []
    seen: dict[str, Path] = {}
    for article in articles:
        if article.id in seen:
            message = f"id {article.id!r} is already used by {seen[article.id]}"
            problems.append(Problem(article.source, docs[article.source].line_of(("id",)), "id", message))
        seen.setdefault(article.id, article.source)
    for special in specials:
        wanted = special.front.featured_article
        if wanted and wanted not in seen:
            line = docs[special.source].line_of(("featured_article",))
            message = f"no article has id {wanted!r}; expected one of: {', '.join(sorted(seen))}"
            problems.append(Problem(special.source, line, "featured_article", message))
    return problems


def _regular_files(folder: Path) -> list[Path]:
    """The *.md files of a folder; a pipe, socket or device named like one (which would block a read) is skipped."""
    return sorted(p for p in folder.glob("*.md") if p.is_file())


def _load_item(
    file: Path, front_type: type, item_type: type, problems: list[Problem], docs: dict[Path, YamlDocument]
) -> ContentItem | None:
    try:
        text = read_text(file)
        _refuse_control_characters(text, file)
        front_text, body, first_line = _split_front_matter(text, file)
        doc = parse_yaml(front_text, file, first_line)
    except InputError as err:
        problems += err.problems
        return None
    docs[file] = doc
    front, found = validate(front_type, doc, "front matter")
    problems += found
    return item_type(front=front, body=body.strip(), source=file) if front else None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab and line ends


def _refuse_control_characters(text: str, file: Path) -> None:
    """A control character (a NUL from a binary paste, an ESC from a terminal) shows in no email and stops the MJML
    renderer with an error that names neither file nor line: said here, where both are known."""
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        raise InputError(
            [
                Problem(
                    file,
                    line,
                    "",
                    f"holds the control character U+{ord(found.group()):04X} at column {column} (a paste from "
                    "another program?); delete it",
                )
            ]
        )


def _split_front_matter(text: str, file: Path) -> tuple[str, str, int]:
    """Return (front matter YAML, Markdown body, line where the YAML text starts: the opening fence's)."""
    fences = list(_FRONT_MATTER_FENCE.finditer(text))
    if not fences or fences[0].start() != 0 or len(fences) < 2:
        raise InputError(
            [Problem(file, 1, "", "expected front matter: a first line '---', YAML fields, then a closing '---' line")]
        )
    return text[fences[0].end() : fences[1].start()], text[fences[1].end() :], 1


def _special_problems(special: Special, doc: YamlDocument) -> list[Problem]:
    front, file = special.front, special.source
    found = []
    if file.stem != front.month:
        found.append(
            Problem(
                file,
                doc.line_of(("month",)),
                "month",
                f"the file is named {file.name} but month is {front.month}; name it {front.month}.md",
            )
        )
    if front.valid_until < front.valid_from:
        found.append(
            Problem(
                file,
                doc.line_of(("valid_until",)),
                "valid_until",
                f"{front.valid_until} is before valid_from {front.valid_from}",
            )
        )
    for index, offer in enumerate(front.offers):
        if (offer.price is None) == (offer.discount is None):
            loc = ("offers", index)
            found.append(
                Problem(
                    file,
                    doc.line_of(loc),
                    field_name(loc),
                    "give exactly one of price (an exact amount like 159.00) or discount (like '20% off')",
                )
            )
    return found
