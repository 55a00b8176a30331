"""Import leads (or patients) from a CSV file into an audience, with its tag.

Columns: email, first_name, last_name (optional), joined (when they became a lead; empty: now), consent; named as
people's spreadsheets name them (`COLUMNS`: case, spaces, hyphens and underscores aside, with Mailchimp's export names
and common CRM ones), dates as ISO or US spreadsheets write them (`parse_joined`). Empty rows are not rows.
A row without consent, or with an invalid email or time, is reported with its line and skipped; every other row gets an
outcome (added, updated: what, unchanged, failed: why). What Mailchimp holds is kept (names, drip starts, status), so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
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

YES = {"yes", "y", "true", "1", "x", "subscribed", "opted in"}
REQUIRED = ("email", "consent")
# Each column mailpipe reads, and the header names that mean it (compared by `column_key`): Mailchimp's own export
# (Email Address, First Name, Last Name, OPTIN_TIME, CONFIRM_TIME) and the usual CRM exports.
COLUMNS = {
    "email": ("email", "email address", "e mail", "e mail address", "emailaddress", "primary email"),
    "first_name": ("first name", "firstname", "first", "given name", "fname"),
    "last_name": ("last name", "lastname", "last", "surname", "family name", "lname"),
    "joined": (
        "joined",
        "join date",
        "date joined",
        "joined at",
        "created",
        "created at",
        "created date",
        "date created",
        "date added",
        "signup date",
        "sign up date",
        "lead created",
    ),
    "consent": ("consent", "email consent", "marketing consent", "opt in", "optin", "accepts marketing"),
}
# Mailchimp's export of subscribed members has no consent column: their recorded opt-in is the consent, and its time
# (Mailchimp writes it in UTC) the join time when no joined column says otherwise.
OPT_IN_TIMES = ("optin time", "confirm time")
US_FORMATS = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
)
BATCH = 500  # Mailchimp's most members per batch subscribe or tag batch


@dataclass(frozen=True)
class Lead:
    line: int
    email: str
    first_name: str
    last_name: str
    joined: dt.datetime | None


def column_key(name: str) -> str:
    """A header name as compared: case, surrounding spaces, and runs of spaces, hyphens and underscores aside."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower()).strip()


def parse_joined(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    """A join time as people write it: ISO (2024-06-30T14:05, 2024-06-30 14:05:00, with or without an offset) or a US
    spreadsheet's (6/30/2024 14:05, 6/30/2024 2:05 PM, 6/30/24), in `zone` unless it has an offset; None if neither."""
    moment: dt.datetime | None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = next((m for m in (_strptime(text, f) for f in US_FORMATS) if m), None)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _strptime(text: str, layout: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, layout)
    except ValueError:
        return None


def read_leads(file: Path, timezone: str) -> tuple[list[Lead], list[Problem]]:
    """The valid rows, and a problem for each row that must be skipped (an empty row is neither)."""
    text = read_text(file)
    reader = csv.DictReader(io.StringIO(text))
    columns = _check_header(reader, file)
    zone = zoneinfo.ZoneInfo(timezone)
    leads: list[Lead] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}  # address -> the line it was first on
    for line, row in _rows(reader, file):
        cells = {column_key(k): (v if isinstance(v, str) else "").strip() for k, v in row.items() if k}
        if not any(cells.values()):  # a spreadsheet's trailing ",,,," line
            continue
        lead = _lead(line, _read(cells, columns, zone), seen)
        if isinstance(lead, Lead):
            seen[lead.email.lower()] = line
            leads.append(lead)
        else:
            problems.append(Problem(file, line, *lead))
    return leads, problems


@dataclass(frozen=True)
class _Columns:
    """Which header column holds what: a key of COLUMNS (or an opt-in time) -> the column's key."""

    named: dict[str, str]
    opt_in: tuple[str, ...]  # Mailchimp's OPTIN_TIME / CONFIRM_TIME columns present, in that order


@dataclass(frozen=True)
class _RowValues:
    text: dict[str, str]  # email, first_name, last_name, consent, under mailpipe's names ('' for a column not there)
    joined: dt.datetime | None
    unreadable_joined: str  # a join time written that is no date ('' if none)
    damaged: str | None  # the column holding a NUL byte


def _read(cells: dict[str, str], columns: _Columns, zone: zoneinfo.ZoneInfo) -> _RowValues:
    """A row's values under mailpipe's own names, its join time read (Mailchimp's opt-in times are UTC)."""
    text = {name: cells[columns.named[name]] if name in columns.named else "" for name in COLUMNS}
    opted_in = next((cells[c] for c in columns.opt_in if cells[c]), "")
    if "consent" not in columns.named and opted_in:
        text["consent"] = "yes"
    written = text.pop("joined")
    joined = parse_joined(written, zone) if written else parse_joined(opted_in, dt.UTC)
    unreadable = (written or opted_in) if joined is None else ""
    names = {column: name for name, column in columns.named.items()}
    damaged = next((names.get(k, k) for k, v in cells.items() if "\x00" in v or "\x00" in k), None)
    return _RowValues(text, joined, unreadable, damaged)


def _check_header(reader: csv.DictReader, file: Path) -> _Columns:
    try:
        headers = [c for c in reader.fieldnames or []]
    except csv.Error as err:
        raise InputError([Problem(file, 1, "", f"is not a CSV file Mailchimp's import could read: {err}")]) from None
    keys = [column_key(c) for c in headers]
    meaning = {alias: name for name, aliases in COLUMNS.items() for alias in aliases} | {k: k for k in OPT_IN_TIMES}
    columns = [meaning.get(k) for k in keys]  # what each column means to mailpipe (None: one it does not read)
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
    opt_in = tuple(k for k in OPT_IN_TIMES if k in keys)
    missing = [c for c in REQUIRED if c not in columns and not (c == "consent" and opt_in)]
    if missing:
        expected = (
            "the header must name the columns email (or Email Address) and consent (yes for each person who agreed "
            "to email; a Mailchimp export's OPTIN_TIME or CONFIRM_TIME counts), and may name first_name, last_name "
            "and joined"
        )
        raise InputError([Problem(file, 1, ", ".join(missing), expected)])
    return _Columns({name: keys[columns.index(name)] for name in COLUMNS if name in columns}, opt_in)


def _lead(line: int, row: _RowValues, seen: dict[str, int]) -> Lead | tuple[str, str]:
    """The row's lead, or (field, why the row is skipped)."""
    values = row.text
    if row.damaged is not None:  # a binary paste: dropping the NUL would import another address than the one written
        return row.damaged.replace("\x00", ""), "holds a NUL byte (a binary paste?); row skipped"
    formula = next((k for k in ("first_name", "last_name") if values[k][:1] in FORMULA_STARTS), None)
    if formula:
        starts = ", ".join(FORMULA_STARTS)
        return formula, f"{values[formula][:30]!r} starts like a spreadsheet formula ({starts}); row skipped"
    if any(len(values[k]) > 100 for k in ("first_name", "last_name")):
        return "first_name", "a name longer than 100 characters; row skipped"
    email = values["email"]
    if email[:1] in FORMULA_STARTS:
        return "email", f"{email[:30]!r} starts like a spreadsheet formula; row skipped"
    if not EMAIL.match(email):
        return "email", f"{email!r} is not a valid email address; row skipped"
    if values["consent"].lower() not in YES:
        return "consent", f"{email} has not consented to email (consent must be yes); row skipped"
    if row.unreadable_joined:
        return (
            "joined",
            f"{row.unreadable_joined[:40]!r} is not a date and time like 2024-05-01T09:15 or 5/1/2024 9:15 AM; "
            "row skipped",
        )
    if email.lower() in seen:
        return "email", f"{email} is already on line {seen[email.lower()]}; this row skipped"
    return Lead(line, email, values["first_name"], values["last_name"], row.joined)


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
    start_now: bool,
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
