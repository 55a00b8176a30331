"""`mailpipe new special`: starting content from what exists, the next month's special from the latest one.

The new file keeps the latest month's offers as a starting point, with every date, the validity and the month names
moved to the new month, features the first article no special has featured yet, and puts a TODO on each part a
marketer must rewrite, so `check` fails until they have.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import Path

from mailpipe.errors import MailpipeError
from mailpipe.load.content import SPECIALS_DIR, load_content
from mailpipe.project import Project

TODO_INTRO = "TODO: write this month's introduction."
TODO_OFFER = "TODO (confirm this offer, its price and its terms) "
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _month_parts(month: str) -> tuple[int, int, str, int]:
    match = _MONTH.match(month)
    if not match:
        raise MailpipeError(f"{month!r} is not a month like 2024-07")
    year, number = int(match.group(1)), int(match.group(2))
    return year, number, calendar.month_name[number], calendar.monthrange(year, number)[1]


@dataclass(frozen=True)
class NewSpecial:
    path: Path  # the file written
    source: Path  # the special it was made from
    errors: int  # what `check` finds in its emails until each TODO is edited


def new_special(project: Project, month: str) -> NewSpecial:
    """Write content/specials/MONTH.md and check the emails it makes; a file that breaks the project is removed."""
    from mailpipe.checks.report import check_emails

    target, source = write_special(project.content_dir, month)
    try:
        rendered = project.rendered()
    except MailpipeError:
        target.unlink()
        raise
    emails = [e for e in rendered.emails if e.source.item.source == target]
    errors = sum(r.errors for r in check_emails(emails, rendered.site))
    return NewSpecial(target, source, errors)


def write_special(content_dir: Path, month: str) -> tuple[Path, Path]:
    """Write content/specials/MONTH.md from the latest special before it; returns (new file, the file it came from)."""
    year, number, name, last = _month_parts(month)
    folder = content_dir / SPECIALS_DIR
    target = folder / f"{month}.md"
    if target.exists():
        raise MailpipeError(f"{target} already exists; edit it instead")
    earlier = sorted(p for p in folder.glob("*.md") if _MONTH.match(p.stem) and p.stem < month)
    if not earlier:
        raise MailpipeError(f"no special before {month} in {folder} to start from")
    source = earlier[-1]
    old_year, _, old_name, old_last = _month_parts(source.stem)
    text = source.read_text(encoding="utf-8")
    replacements = [
        (f"month: {source.stem}", f"month: {month}"),
        (f"valid_from: {source.stem}-01", f"valid_from: {month}-01"),
        (f"valid_until: {source.stem}-{old_last:02d}", f"valid_until: {month}-{last:02d}"),
        (f"{old_name} 1 to {old_name} {old_last}, {old_year}", f"{name} 1 to {name} {last}, {year}"),
        (f"{old_name} 1 to {old_name} {old_last}", f"{name} 1 to {name} {last}"),
        (f"{old_name} {old_year}", f"{name} {year}"),
    ]
    for old, new in replacements:
        text = text.replace(old, new)
    # a day of the old month: its last day is the new month's last ("bought by May 31" -> "June 30"), and no day
    # runs past the new month's end ("January 30" -> "February 29", not "February 30"); a year written after the day
    # moves with it ("December 31, 2024" -> "January 31, 2025")
    text = re.sub(
        rf"\b{old_name} (\d{{1,2}})\b(, {old_year}\b)?",
        lambda m: (
            f"{name} {last if int(m.group(1)) in (old_last, *range(last + 1, 32)) else int(m.group(1))}"
            + (f", {year}" if m.group(2) else "")
        ),
        text,
    )
    text = re.sub(rf"\b{old_name}\b", name, text)
    content = load_content(content_dir)
    featured = {sp.front.featured_article for sp in content.specials}
    # the next article patients have not been sent
    fresh = next((a.id for a in content.articles if a.id not in featured), None)
    if fresh:
        text = re.sub(r"^featured_article: .*$", f"featured_article: {fresh}", text, flags=re.MULTILINE)
    front, _, body = text.partition("\n---\n")
    front = re.sub(r"^(\s+description: )(?!TODO)", rf"\g<1>{TODO_OFFER}", front, flags=re.MULTILINE)
    target.write_text(f"{front}\n---\n{TODO_INTRO}\n{body.lstrip()}", encoding="utf-8")
    return target, source
