"""What push writes into Mailchimp to know who was given what, without trusting tags, titles or folders.

Two opaque records, read on every run:
- on each lead, the text merge field MPLOG, e.g. `|e1@20241003|e1.1.6z7|e1.2.6za|`: the local day the lead
  entered drip `e1`, and each step assigned to the campaign of a local day (step and day in base 36, the day counted
  from 2000-01-01: 6za is 2024-10-07), at most one per step;
- on each campaign, its recipients: a drip campaign goes to "MPLOG contains |e1.2.6za|", a monthly one to
  its tag and "email address does not contain mailpipe:m1.2024-05". That condition is the campaign's identity,
  so a campaign renamed or moved to another folder is still recognised.
Codes (`e1`, `m1`) come from the campaign files; neither record names a condition or a treatment. The conditions are
typed here; the adapter (push/mailchimp) writes and reads them as Mailchimp's JSON.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from mailpipe.plan.keys import CampaignKey, DripKey, MonthlyKey

LOG_FIELD = "MPLOG"  # merge tag of the per-lead record (Mailchimp allows 10 characters)
LOG_FIELD_NAME = "mailpipe log"
_ENTRY = re.compile(
    r"^(?P<code>[a-z][a-z0-9]{0,7})(?:@(?P<start>\d{8})|\.(?P<step>[0-9a-z])\.(?P<day>[0-9a-z]{3})"
    r"|\.(?P<old_step>\d{1,2})\.(?P<old_day>\d{8}))$"
)  # a start; a step assigned; a step assigned as versions before the compact form wrote it (still read, kept as is)
_MONTHLY_MARK = re.compile(r"^mailpipe:(?P<code>[a-z][a-z0-9]{0,7})\.(?P<month>\d{4}-\d{2})$")


class Condition(NamedTuple):
    """One condition of a campaign's segment, as Mailchimp holds it (condition_type, field, op, value)."""

    kind: str
    field: str
    op: str
    value: str


def log_entry(key: DripKey) -> str:
    """How a lead's MPLOG says that it was given `key`: `code.S.DDD`, the step and the day in base 36."""
    return f"{key.code}.{_base36(key.step, 1)}.{_base36((key.day - FIRST_DAY).days, 3)}"


def _base36(number: int, width: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits.rjust(width, "0")


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


def waiting_room(code: str, tag_id: int) -> tuple[str, tuple[Condition, ...]]:
    """The saved segment of a drip's waiting room, by name and conditions: members with its tag whose MPLOG has no
    start in it (tagged by hand in Mailchimp's UI, and not yet seen by push). Opaque like the rest."""
    return f"mp-{code}-new", (
        Condition("StaticSegment", "static_segment", "static_is", str(tag_id)),
        Condition("TextMerge", LOG_FIELD, "notcontain", f"|{code}@"),
    )


def key_of(conditions: Iterable[tuple[str, str, str, str]]) -> CampaignKey | None:
    """The mailpipe campaign a campaign's segment conditions (type, field, op, value) identify, if any."""
    for kind, field_name, op, value in conditions:
        if kind == "TextMerge" and field_name == LOG_FIELD and op == "contains":
            match = _ENTRY.match(value.strip("|"))
            with contextlib.suppress(ValueError):
                if match and not match["start"]:
                    return _assignment(match)
        if kind == "EmailAddress" and op == "notcontain":
            match = _MONTHLY_MARK.match(value)
            if match:
                return MonthlyKey(match["code"], match["month"])
    return None


# The days a record may hold: anything outside is a hand edit or a typo, ignored like any entry mailpipe did not
# write (and far enough from the ends of Python's calendar that a step's day is always computable).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def _day(text: str) -> dt.date:
    """A day as MPLOG writes it: YYYYMMDD, or three base-36 digits counting from FIRST_DAY."""
    day = dt.datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else FIRST_DAY + dt.timedelta(int(text, 36))
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside {FIRST_DAY}..{LAST_DAY}")
    return day


def _assignment(match: re.Match[str]) -> DripKey:
    if match["step"]:
        return DripKey(match["code"], int(match["step"], 36), _day(match["day"]))
    return DripKey(match["code"], int(match["old_step"]), _day(match["old_day"]))


@dataclass(frozen=True)
class LeadLog:
    """A lead's record: the day they entered each drip, and every step assigned to them (by campaign key)."""

    starts: dict[str, dt.date] = field(default_factory=dict)
    assigned: frozenset[DripKey] = frozenset()
    # an assignment as an older version wrote it: kept as written while it is kept (a campaign made then selects it)
    written_as: dict[DripKey, str] = field(default_factory=dict, compare=False)

    @classmethod
    def parse(cls, value: str) -> LeadLog:
        """Entries mailpipe did not write (a marketer's edit) are ignored, never guessed at."""
        starts: dict[str, dt.date] = {}
        assigned = set()
        written_as = {}
        for entry in value.split("|"):
            match = _ENTRY.match(entry.strip())
            if not match:
                continue
            try:
                if match["start"]:
                    day = _day(match["start"])
                    starts[match["code"]] = min(day, starts.get(match["code"], day))
                    continue
                key = _assignment(match)
            except ValueError:
                continue
            assigned.add(key)
            if match["old_step"]:
                written_as[key] = entry.strip()
        return cls(starts, frozenset(assigned), written_as)

    def render(self) -> str:
        entries = [f"{code}@{day:%Y%m%d}" for code, day in sorted(self.starts.items())]
        entries += [self.written_as.get(key) or log_entry(key) for key in sorted(self.assigned)]
        return "|" + "|".join(entries) + "|" if entries else ""

    def _with(self, starts: dict[str, dt.date], assigned: frozenset[DripKey]) -> LeadLog:
        return LeadLog(starts, assigned, {k: v for k, v in self.written_as.items() if k in assigned})

    def with_local(self, local: LeadLog) -> LeadLog:
        """Mailchimp's record (self) with the local copy of what push last wrote: the local start of a drip wins (a
        hand edit in Mailchimp cannot move a start, least of all earlier: steps would go out early), Mailchimp's
        start counts where the local copy has none (a lost state file), and every assignment either holds."""
        merged = LeadLog({**self.starts, **local.starts}, self.assigned | local.assigned)
        return LeadLog(merged.starts, merged.assigned, {**local.written_as, **self.written_as})

    def with_start(self, code: str, day: dt.date) -> LeadLog:
        return self._with({**self.starts, code: day}, self.assigned)

    def without_start(self, code: str) -> LeadLog:
        return self._with({c: d for c, d in self.starts.items() if c != code}, self.assigned)

    def with_assigned(self, key: DripKey) -> LeadLog:
        """`key` given, in place of the step's earlier assignments (all void by then: a step is given again only when
        none of its campaigns can still send), so a lead's record holds one entry per step at most."""
        return self._with(self.starts, frozenset(self.assigned - set(self.steps(key.code, key.step))) | {key})

    def without(self, keys: set[DripKey]) -> LeadLog:
        return self._with(self.starts, self.assigned - keys)

    def steps(self, code: str, step: int) -> list[DripKey]:
        return sorted(k for k in self.assigned if k.code == code and k.step == step)
