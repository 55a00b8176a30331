"""The labelled claims corpus (tests/claims/*.tsv) and every sentence of the shipped emails, read the way the
check reads them: shared by tests/test_claims_corpus.py and bench/claims.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from mailpipe.checks.claim_classes import Setting

CORPUS = Path(__file__).resolve().parent / "claims"
# a July 2024 special valid the whole month: what a sentence is read against when its row names no setting
DEFAULT_SETTING = Setting(dt.date(2024, 7, 1), dt.date(2024, 7, 1), dt.date(2024, 7, 31))


@dataclass(frozen=True)
class Example:
    sentence: str
    setting: Setting
    kind: str | None  # the class a reviewer rejects it for; None: fair
    source: str  # file:line, or the shipped email it comes from


def _setting(field: str) -> Setting:
    setting = DEFAULT_SETTING
    for part in field.split():
        name, _, value = part.partition("=")
        if name == "month":
            year, month = map(int, value.split("-"))
            first = dt.date(year, month, 1)
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            setting = Setting(first, first, last)
        elif name == "valid":
            start, end = (dt.date.fromisoformat(day) for day in value.split(".."))
            setting = Setting(dt.date(start.year, start.month, 1), start, end)
        else:
            raise ValueError(f"unknown setting {part!r}")
    return setting


def read(name: str, labelled: bool) -> list[Example]:
    examples = []
    path = CORPUS / name
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        kind = fields.pop(0) if labelled else None
        sentence = fields[0]
        setting = _setting(fields[1]) if len(fields) > 1 else DEFAULT_SETTING
        examples.append(Example(sentence, setting, kind, f"{name}:{number}"))
    return examples


def rejected() -> list[Example]:
    return read("rejected.tsv", labelled=True)


def fair() -> list[Example]:
    return read("fair.tsv", labelled=False)


def shipped(root: Path) -> list[Example]:
    """Every sentence a reader of the shipped emails sees, the safety information and footer included, each read
    against its own email's setting: all fair, or the shipped copy could not pass `check`."""
    from mailpipe.checks import Context
    from mailpipe.checks.claims import email_setting
    from mailpipe.checks.reading import sentences
    from mailpipe.project import Project

    project = Project(root)
    seen: set[tuple[str, Setting]] = set()
    examples = []
    for email in project.emails:
        context = Context(email, project.site)
        setting = email_setting(context)
        for block in (email.subject, email.preheader, *context.visible_blocks):
            for sentence in sentences(block):
                if (sentence, setting) not in seen:
                    seen.add((sentence, setting))
                    examples.append(Example(sentence, setting, None, email.id))
    return examples
