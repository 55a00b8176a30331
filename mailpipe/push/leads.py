"""Import leads (or patients) from a CSV file into an audience, with its tag.

Columns: email, first_name, last_name (optional), joined (when they became a lead, ISO date and time; empty: now),
consent.
A row without consent, or with an invalid email or time, is reported with its line and skipped; every other row gets an
outcome (added, updated: what, unchanged, failed: why). What Mailchimp holds is kept (names, drip starts, status), so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mailpipe.errors import InputError, MailpipeError, Problem
from mailpipe.load.campaigns import Drip
from mailpipe.load.config import Audience
from mailpipe.load.yamlfile import read_text
from mailpipe.plan import local_date
from mailpipe.push.mailchimp import Mailchimp, RemoteMember
from mailpipe.push.record import FIRST_DAY, LOG_FIELD, LOG_FIELD_NAME, LeadLog
from mailpipe.util.vocabulary import EMAIL, FORMULA_STARTS

YES = {"yes", "y", "true", "1", "x"}
REQUIRED = ("email", "consent")
BATCH = 500  # Mailchimp's most members per batch subscribe or tag batch


@dataclass(frozen=True)
class Lead:
    line: int
    email: str
    first_name: str
    last_name: str
    joined: dt.datetime | None


def read_leads(file: Path, timezone: str) -> tuple[list[Lead], list[Problem]]:
    """The valid rows, and a problem for each row that must be skipped."""
    text = read_text(file)
    reader = csv.DictReader(io.StringIO(text))
    _check_header(reader, file)
    zone = zoneinfo.ZoneInfo(timezone)
    leads: list[Lead] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for line, row in _rows(reader, file):
        values = {k.strip().lower(): (v if isinstance(v, str) else "").strip() for k, v in row.items() if k}
        lead = _lead(line, values, zone, seen)
        if isinstance(lead, Lead):
            seen.add(lead.email.lower())
            leads.append(lead)
        else:
            problems.append(Problem(file, line, *lead))
    return leads, problems


def _check_header(reader: csv.DictReader, file: Path) -> None:
    try:
        columns = [c.strip().lower() for c in reader.fieldnames or []]
    except csv.Error as err:
        raise InputError([Problem(file, 1, "", f"is not a CSV file Mailchimp's import could read: {err}")]) from None
    doubled = sorted({c for c in columns if c and columns.count(c) > 1})
    if doubled:  # which of the two would count is a guess (a "no" under one consent column, a "yes" under the other)
        raise InputError(
            [
                Problem(
                    file,
                    1,
                    column,
                    "is named by columns "
                    + " and ".join(str(n + 1) for n, c in enumerate(columns) if c == column)
                    + " of the header: keep one",
                )
                for column in doubled
            ]
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        expected = (
            f"the header must name the columns {', '.join(REQUIRED)} (and may name first_name, last_name, joined)"
        )
        raise InputError([Problem(file, 1, ", ".join(missing), expected)])


def _lead(line: int, values: dict[str, str], zone: zoneinfo.ZoneInfo, seen: set[str]) -> Lead | tuple[str, str]:
    """The row's lead, or (field, why the row is skipped)."""
    damaged = next((k for k, v in values.items() if "\x00" in v or "\x00" in k), None)
    if damaged:  # a binary paste: dropping the NUL would import another address than the one written
        return damaged.replace("\x00", ""), "holds a NUL byte (a binary paste?); row skipped"
    formula = next((k for k in ("first_name", "last_name") if values.get(k, "")[:1] in FORMULA_STARTS), None)
    if formula:
        starts = ", ".join(FORMULA_STARTS)
        return formula, f"{values[formula][:30]!r} starts like a spreadsheet formula ({starts}); row skipped"
    if any(len(values.get(k, "")) > 100 for k in ("first_name", "last_name")):
        return "first_name", "a name longer than 100 characters; row skipped"
    email = values.get("email", "")
    if email[:1] in FORMULA_STARTS:
        return "email", f"{email[:30]!r} starts like a spreadsheet formula; row skipped"
    if not EMAIL.match(email):
        return "email", f"{email!r} is not a valid email address; row skipped"
    if values.get("consent", "").lower() not in YES:
        return "consent", f"{email} has not consented to email (consent must be yes); row skipped"
    joined = None
    if values.get("joined"):
        try:
            joined = dt.datetime.fromisoformat(values["joined"])
        except ValueError:
            return "joined", f"{values['joined']!r} is not a date and time like 2024-05-01T09:15; row skipped"
        joined = joined if joined.tzinfo else joined.replace(tzinfo=zone)
    if email.lower() in seen:
        return "email", f"{email} appears twice; this row skipped"
    return Lead(line, email, values.get("first_name", ""), values.get("last_name", ""), joined)


def _rows(reader: csv.DictReader, file: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each row; a row the csv module cannot read (a field over its size limit) ends the file with a
    clear problem instead of a traceback."""
    read = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # reported at the line where the unreadable row starts
            raise InputError([Problem(file, read + 1, "", f"cannot be read as CSV here: {err}")]) from None
        read = reader.line_num
        yield reader.line_num, row


class Row(StrEnum):
    """What became of a CSV row, in the order an import's summary counts them."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # not imported: the row itself is wrong (read_leads says why)
    FAILED = "failed"  # Mailchimp refused it

    @property
    def is_problem(self) -> bool:
        """A row someone must look at: the import exits non-zero."""
        return self in (Row.SKIPPED, Row.FAILED)


@dataclass(frozen=True)
class RowOutcome:
    """What an import did with one CSV row."""

    line: int
    email: str
    outcome: Row  # added, updated, unchanged, failed, or skipped for a `joined` out of range (other bad rows are
    # Problems of read_leads)
    detail: str = ""


@dataclass(frozen=True)
class _Plan:
    lead: Lead
    outcome: Row
    detail: str
    fields: dict[str, str]
    tag: bool  # the member needs the audience's tag
    signed_up: dt.datetime | None = None  # a new member's sign-up: when they entered (a start can be no earlier)


def plan_import(
    leads: Sequence[Lead],
    existing: dict[str, RemoteMember],
    tag: str | None,
    drips: Sequence[Drip],
    now: dt.datetime,
    start_now: bool = False,
) -> list[_Plan]:
    """What to write for each lead, keeping what Mailchimp has: a name is only filled where it is empty, a drip start
    only where there is none (so neither an empty nor a later `joined` replaces an earlier one), nobody is
    re-subscribed."""
    plans = []
    for lead in leads:
        outside = _joined_outside(lead, now)
        member = existing.get(lead.email.lower())
        if outside:
            plans.append(_Plan(lead, Row.SKIPPED, outside, {}, False))
        else:
            plans.append(_plan_lead(lead, member, tag, drips, _start_of(lead, now, start_now)))
    return plans


def _start_of(lead: Lead, now: dt.datetime, start_now: bool) -> dt.datetime:
    """When a lead enters the drips: now with --start-now, else their `joined` (now when empty)."""
    return now if start_now else (lead.joined or now)


def _plan_lead(
    lead: Lead, member: RemoteMember | None, tag: str | None, drips: Sequence[Drip], start: dt.datetime
) -> _Plan:
    current = member.merge_fields if member else {}
    fields: dict[str, str] = {}
    changed = []
    for tag_name, value, what in (("FNAME", lead.first_name, "first name"), ("LNAME", lead.last_name, "last name")):
        if value and not current.get(tag_name):
            fields[tag_name] = value
            changed.append(what)
    written = str(current.get(LOG_FIELD) or "")
    log = LeadLog.parse(written)
    for drip in drips:
        if drip.code not in log.starts:
            log = log.with_start(drip.code, local_date(start, drip.timezone))
    if drips and log.render() != written:
        fields[LOG_FIELD] = log.render()
        changed.append("drip start")
    needs_tag = bool(tag) and (member is None or tag not in member.tags)
    if member is None:
        return _Plan(lead, Row.ADDED, "", fields, needs_tag, start)
    if member.status != "subscribed":
        return _Plan(
            lead, Row.UNCHANGED, f"{member.status} in Mailchimp: left as it is, never re-subscribed", {}, False
        )
    if changed or needs_tag:
        return _Plan(lead, Row.UPDATED, ", ".join(changed + (["tag"] if needs_tag else [])), fields, needs_tag)
    return _Plan(lead, Row.UNCHANGED, "", {}, False)


def _joined_outside(lead: Lead, now: dt.datetime) -> str:
    """Why a lead's `joined` cannot be a drip start (empty if it can): before 2000, or more than a day ahead of now
    (a typo such as 9999-12-31 would hold the lead back forever, and a drip start is a date push computes with)."""
    if lead.joined is None:
        return ""
    if lead.joined.date() < FIRST_DAY:
        return f"joined {lead.joined:%Y-%m-%d} is before {FIRST_DAY:%Y}; row skipped"
    if lead.joined > now + dt.timedelta(days=1):
        return f"joined {lead.joined:%Y-%m-%d %H:%M} is in the future; row skipped"
    return ""


def import_leads(
    mailchimp: Mailchimp,
    audience: Audience,
    leads: list[Lead],
    now: dt.datetime,
    drips: Sequence[Drip] = (),
    start_now: bool = False,
    progress: Callable[[int, int], None] | None = None,
    entered_before: int = 0,
) -> list[RowOutcome]:
    """Upsert the leads with the audience's tag and their drip start (see plan_import), in batches of 500: Mailchimp's
    batch subscribe, then the tag's batch add. An address Mailchimp refuses fails alone; the rest go in.

    `entered_before`: how many people the local record saw enter these drips. Then the tag existed, and when it is
    gone (renamed or deleted in Mailchimp) nothing is imported: made again empty, it would hide those people."""
    if entered_before and audience.tag and drips and not mailchimp.tag_ids(audience.list_id, {audience.tag}):
        raise MailpipeError(
            f"the tag {audience.tag!r} is not in Mailchimp (renamed or deleted?) though {entered_before} "
            f"{'person' if entered_before == 1 else 'people'} entered its drip; nothing imported. Rename the tag "
            f"back to {audience.tag!r} in Mailchimp, then import again"
        )
    if drips and LOG_FIELD not in mailchimp.merge_field_tags(audience.list_id):
        mailchimp.create_text_merge_field(audience.list_id, LOG_FIELD, LOG_FIELD_NAME)
    existing = mailchimp.members_named(audience.list_id, [lead.email for lead in leads])
    plans = plan_import(leads, existing, audience.tag, drips, now, start_now)
    writes = [p for p in plans if p.outcome == Row.ADDED or (p.outcome == Row.UPDATED and p.fields)]
    tags = [p for p in plans if p.tag]
    total, done = len(writes) + len(tags), 0
    refused: dict[str, str] = {}
    for chunk in _chunks(writes):
        batch = [(p.lead.email, p.fields, p.outcome == Row.ADDED) for p in chunk]
        signed_up = {p.lead.email: p.signed_up for p in chunk if p.signed_up is not None}
        refused |= mailchimp.batch_subscribe(audience.list_id, batch, signed_up)
        done += len(chunk)
        if progress:
            progress(done, total)
    refused = {email.lower(): why for email, why in refused.items()}
    if tags:  # (planned only when the audience has a tag)
        tag_id = mailchimp.ensure_tag(audience.list_id, audience.tag or "")
        for chunk in _chunks(tags):  # an address refused above is not a member: Mailchimp ignores it here
            mailchimp.add_to_tag(audience.list_id, tag_id, [p.lead.email for p in chunk])
            done += len(chunk)
            if progress:
                progress(done, total)
    return [
        RowOutcome(p.lead.line, p.lead.email, Row.FAILED, refused[p.lead.email.lower()])
        if p.lead.email.lower() in refused
        else RowOutcome(p.lead.line, p.lead.email, p.outcome, p.detail)
        for p in plans
    ]


def _chunks(plans: list[_Plan], size: int = BATCH) -> Iterator[list[_Plan]]:
    for start in range(0, len(plans), size):
        yield plans[start : start + size]
