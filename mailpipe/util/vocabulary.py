"""Patterns and definitions several stages share, in one place: what an email address, a Mailchimp merge tag,
a Botox mention and an ISO time are, and Mailchimp's member id. (The sandbox uses them too: the same rules.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# The header a sandbox served on this machine sets on every answer once its clock is set: commands pointed at it take
# "now" from it, as they do from the embedded sandbox's.
SANDBOX_CLOCK = "X-Sandbox-Clock"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: a cell a spreadsheet would run


def spreadsheet_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet shows and never runs: text that starts like a formula gets OWASP's leading
    apostrophe (a campaign named =HYPERLINK(…) in Mailchimp stays text)."""
    return f"'{value}" if isinstance(value, str) and value[:1] in FORMULA_STARTS else value


MERGE_TAG = re.compile(r"\*\|([^|*]*)\|\*")  # *|FNAME|*, with the tag's name as group 1
MERGE_TAGS = frozenset(
    {
        "FNAME",
        "LNAME",
        "EMAIL",
        "UNSUB",
        "UPDATE_PROFILE",
        "LIST:ADDRESSLINE",
        "HTML:LIST_ADDRESS_HTML",
        "LIST:DESCRIPTION",
        "LIST:COMPANY",
        "CURRENT_YEAR",
        "REWARDS",
        "ARCHIVE",
        "MC_PREVIEW_TEXT",
        "IF:FNAME",
        "ELSE:",
        "END:IF",
    }
)  # the ones mailpipe's emails may use: none carries health information
BOTOX_MENTION = re.compile(r"botox|onabotulinumtoxin", re.IGNORECASE)


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 date and time ('Z' allowed); one without an offset is UTC, as Mailchimp takes it. ValueError if not
    one."""
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased email address."""
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()
