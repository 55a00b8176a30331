"""What push writes into Mailchimp to know who was given what, without trusting tags, titles or folders.

Two opaque records, read on every run:
- on each lead, the text merge field MPLOG, e.g. `|e1@20241003|e1.1.20241004|e1.2.20241007|`: the local day
  the lead entered drip `e1`, and each step assigned to the campaign of a local day;
- on each campaign, its recipients: a drip campaign goes to "MPLOG contains |e1.2.20241007|", a monthly one to
  its tag and "email address does not contain mailpipe:m1.2024-05". That condition is the campaign's identity,
  so a campaign renamed or moved to another folder is still recognised.
Codes (`e1`, `m1`) come from the campaign files; neither record names a condition or a treatment. The conditions are
typed here; the adapter (push/mailchimp) writes and reads them as Mailchimp's JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from mailpipe.plan.keys import CampaignKey, DripKey, MonthlyKey

LOG_FIELD = "MPLOG"  # merge tag of the per-lead record (Mailchimp allows 10 characters)
LOG_FIELD_NAME = "mailpipe log"
_ENTRY = re.compile(r"^(?P<code>[a-z][a-z0-9]{0,7})(?:@(?P<start>\d{8})|\.(?P<step>\d{1,2})\.(?P<day>\d{8}))$")
_MONTHLY_MARK = re.compile(r"^mailpipe:(?P<code>[a-z][a-z0-9]{0,7})\.(?P<month>\d{4}-\d{2})$")


class Condition(NamedTuple):
    """One condition of a campaign's segment, as Mailchimp holds it (condition_type, field, op, value)."""

    kind: str
    field: str
    op: str
    value: str


def log_entry(key: DripKey) -> str:
    """How a lead's MPLOG says that it was given `key`."""
    return f"{key.code}.{key.step}.{key.day:%Y%m%d}"


def monthly_mark(key: MonthlyKey) -> str:
    """The text no address contains: the condition that names a monthly campaign."""
    return f"mailpipe:{key.code}.{key.month}"


def conditions_for(key: CampaignKey, tag_id: int | None = None) -> tuple[Condition, ...]:
    """The recipients of a campaign, which are also its identity: a drip step's leads by their MPLOG; a monthly
    email's tag (`tag_id`), and the mark no address contains."""
    if isinstance(key, DripKey):
        return (Condition("TextMerge", LOG_FIELD, "contains", f"|{log_entry(key)}|"),)
    mark = Condition("EmailAddress", "EMAIL", "notcontain", monthly_mark(key))
    if tag_id is None:
        return (mark,)
    return (Condition("StaticSegment", "static_segment", "static_is", str(tag_id)), mark)


def key_of(conditions: Iterable[tuple[str, str, str, str]]) -> CampaignKey | None:
    """The mailpipe campaign a campaign's segment conditions (type, field, op, value) identify, if any."""
    for kind, field_name, op, value in conditions:
        if kind == "TextMerge" and field_name == LOG_FIELD and op == "contains":
            match = _ENTRY.match(value.strip("|"))
            if match and match["step"]:
                return DripKey(match["code"], int(match["step"]), _day(match["day"]))
        if kind == "EmailAddress" and op == "notcontain":
            match = _MONTHLY_MARK.match(value)
            if match:
                return MonthlyKey(match["code"], match["month"])
    return None


# The days a record may hold: anything outside is a hand edit or a typo, ignored like any entry mailpipe did not
# write (and far enough from the ends of Python's calendar that a step's day is always computable).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def _day(text: str) -> dt.date:
    day = dt.datetime.strptime(text, "%Y%m%d").date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside {FIRST_DAY}..{LAST_DAY}")
    return day


@dataclass(frozen=True)
class LeadLog:
    """A lead's record: the day they entered each drip, and every step assigned to them (by campaign key)."""

    starts: dict[str, dt.date] = field(default_factory=dict)
    assigned: frozenset[DripKey] = frozenset()

    @classmethod
    def parse(cls, value: str) -> LeadLog:
        """Entries mailpipe did not write (a marketer's edit) are ignored, never guessed at."""
        starts: dict[str, dt.date] = {}
        assigned = set()
        for entry in (value or "").split("|"):
            match = _ENTRY.match(entry.strip())
            if not match:
                continue
            try:
                if match["start"]:
                    day = _day(match["start"])
                    starts[match["code"]] = min(day, starts.get(match["code"], day))
                else:
                    assigned.add(DripKey(match["code"], int(match["step"]), _day(match["day"])))
            except ValueError:
                continue
        return cls(starts, frozenset(assigned))

    def render(self) -> str:
        entries = [f"{code}@{day:%Y%m%d}" for code, day in sorted(self.starts.items())]
        entries += [log_entry(key) for key in sorted(self.assigned)]
        return "|" + "|".join(entries) + "|" if entries else ""

    def with_local(self, local: LeadLog) -> LeadLog:
        """Mailchimp's record (self) with the local copy of what push last wrote: the local start of a drip wins (a
        hand edit in Mailchimp cannot move a start, least of all earlier: steps would go out early), Mailchimp's
        start counts where the local copy has none (a lost state file), and every assignment either holds."""
        return LeadLog({**self.starts, **local.starts}, self.assigned | local.assigned)

    def with_start(self, code: str, day: dt.date) -> LeadLog:
        return LeadLog({**self.starts, code: day}, self.assigned)

    def with_assigned(self, key: DripKey) -> LeadLog:
        return LeadLog(self.starts, self.assigned | {key})

    def without(self, keys: set[DripKey]) -> LeadLog:
        return LeadLog(self.starts, self.assigned - keys)

    def steps(self, code: str, step: int) -> list[DripKey]:
        return sorted(k for k in self.assigned if k.code == code and k.step == step)
