"""Import leads (or patients) from a CSV file into an audience, with its tag.

Columns: email, first_name, last_name (optional), joined (when they became a lead, ISO date and time; empty: now), consent.
A row without consent, or with an invalid email or time, is reported with its line and skipped.
Upserts are keyed by the email's hash, so importing the same file twice changes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mailpipe.errors import InputError, Problem
from mailpipe.load.campaigns import Drip
from mailpipe.load.config import Audience
from mailpipe.load.yamlfile import read_text
from mailpipe.plan import local_date
from mailpipe.push.mailchimp import Mailchimp
from mailpipe.record import LOG_FIELD, LOG_FIELD_NAME, LeadLog
from mailpipe.vocabulary import EMAIL

YES = {"yes", "y", "true", "1", "x"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: a cell a spreadsheet would run
REQUIRED = ("email", "consent")


@dataclass(frozen=True)
class Lead:
    line: int
    email: str
    first_name: str
    last_name: str
    joined: dt.datetime | None


def read_leads(file: Path, timezone: str) -> tuple[list[Lead], list[Problem]]:
    """The valid rows, and a problem for each row that must be skipped."""
    text = read_text(file).replace("\x00", "")  # NUL bytes (a binary paste) are dropped, never stored
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = [c.strip().lower() for c in reader.fieldnames or []]
    except csv.Error as err:
        raise InputError([Problem(file, 1, "", f"is not a CSV file Mailchimp's import could read: {err}")]) from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError([Problem(file, 1, ", ".join(missing), f"the header must name the columns {', '.join(REQUIRED)} "
                                  "(and may name first_name, last_name, joined)")])
    zone = zoneinfo.ZoneInfo(timezone)
    leads, problems, seen = [], [], set()
    for line, row in _rows(reader, file):
        values = {k.strip().lower(): (v if isinstance(v, str) else "").strip() for k, v in row.items() if k}
        formula = next((k for k in ("first_name", "last_name") if values.get(k, "")[:1] in FORMULA_STARTS), None)
        if formula:
            problems.append(Problem(file, line, formula, f"{values[formula][:30]!r} starts like a spreadsheet formula "
                                    f"({', '.join(FORMULA_STARTS)}); row skipped"))
            continue
        if any(len(values.get(k, "")) > 100 for k in ("first_name", "last_name")):
            problems.append(Problem(file, line, "first_name", "a name longer than 100 characters; row skipped"))
            continue
        email = values.get("email", "")
        if not EMAIL.match(email):
            problems.append(Problem(file, line, "email", f"{email!r} is not a valid email address; row skipped"))
            continue
        if values.get("consent", "").lower() not in YES:
            problems.append(Problem(file, line, "consent", f"{email} has not consented to email (consent must be yes); row skipped"))
            continue
        joined = None
        if values.get("joined"):
            try:
                joined = dt.datetime.fromisoformat(values["joined"])
            except ValueError:
                problems.append(Problem(file, line, "joined", f"{values['joined']!r} is not a date and time like 2024-05-01T09:15; row skipped"))
                continue
            joined = joined if joined.tzinfo else joined.replace(tzinfo=zone)
        if email.lower() in seen:
            problems.append(Problem(file, line, "email", f"{email} appears twice; this row skipped"))
            continue
        seen.add(email.lower())
        leads.append(Lead(line, email, values.get("first_name", ""), values.get("last_name", ""), joined))
    return leads, problems


def _rows(reader: csv.DictReader, file: Path):
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


def import_leads(mailchimp: Mailchimp, audience: Audience, leads: list[Lead], now: dt.datetime, drips: Sequence[Drip] = (),
                 start_now: bool = False) -> int:
    """Upsert each lead (new ones subscribed, never re-subscribing anyone, never blanking a name) with the audience's
    tag, and record when they entered each drip of the audience: their `joined` time (now when empty), or now for
    everyone with `start_now`. A lead already in a drip keeps their start. A lead whose drip would be over by now
    gets nothing from it: each step past its lateness limit is skipped. Returns how many were imported."""
    if drips and LOG_FIELD not in mailchimp.merge_field_tags(audience.list_id):
        mailchimp.create_text_merge_field(audience.list_id, LOG_FIELD, LOG_FIELD_NAME)
    for lead in leads:
        names = {k: v for k, v in (("FNAME", lead.first_name), ("LNAME", lead.last_name)) if v}
        member = mailchimp.upsert_member(audience.list_id, lead.email, {"status_if_new": "subscribed", "merge_fields": names})
        written = str(member.merge_fields.get(LOG_FIELD) or "")
        log = LeadLog.parse(written)
        for drip in drips:
            if drip.code not in log.starts:
                log = log.with_start(drip.code, local_date(now if start_now else (lead.joined or now), drip.timezone))
        if drips and log.render() != written:
            mailchimp.update_member_fields(audience.list_id, lead.email, {LOG_FIELD: log.render()})
        if audience.tag:
            mailchimp.set_tags(audience.list_id, lead.email, active=[audience.tag])
    return len(leads)
