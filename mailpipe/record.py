"""What mailpipe writes into Mailchimp to know who was given what, without trusting tags, titles or folders.

Two opaque records, read on every run:
- on each lead, the text merge field MPLOG, e.g. `|e1@20241003|e1.1.20241004|e1.2.20241007|`: the local day
  the lead entered drip `e1`, and each step assigned to the campaign of a local day;
- on each campaign, its recipients: a drip campaign goes to "MPLOG contains |e1.2.20241007|", a monthly one to
  its tag and "email address does not contain mailpipe:m1.2024-05". That condition is the campaign's identity,
  so a campaign renamed or moved to another folder is still recognised.
Codes (`e1`, `m1`) come from the campaign files; neither record names a condition or a treatment.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

LOG_FIELD = "MPLOG"  # merge tag of the per-lead record (Mailchimp allows 10 characters)
LOG_FIELD_NAME = "mailpipe log"
LOG_LIMIT = 255  # characters a text merge field holds
_ENTRY = re.compile(r"^(?P<code>[a-z][a-z0-9]{0,7})(?:@(?P<start>\d{8})|\.(?P<step>\d{1,2})\.(?P<day>\d{8}))$")
_MONTHLY_MARK = re.compile(r"^mailpipe:(?P<code>[a-z][a-z0-9]{0,7})\.(?P<month>\d{4}-\d{2})$")


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


@dataclass(frozen=True, order=True)
class DripKey:
    """One drip campaign: step `step` (from 1) of drip `code`, sent on local day `day`."""

    code: str
    step: int
    day: dt.date

    @property
    def entry(self) -> str:
        return f"{self.code}.{self.step}.{self.day:%Y%m%d}"

    @property
    def title(self) -> str:
        return f"mp-{self.code}-s{self.step:02d}-{self.day.isoformat()}"

    def segment_opts(self) -> dict:
        return {
            "match": "all",
            "conditions": [
                {"condition_type": "TextMerge", "field": LOG_FIELD, "op": "contains", "value": f"|{self.entry}|"}
            ],
        }


@dataclass(frozen=True, order=True)
class MonthlyKey:
    """The monthly campaign of `code` for `month` (YYYY-MM)."""

    code: str
    month: str

    @property
    def title(self) -> str:
        return f"mp-{self.code}-{self.month}"

    @property
    def mark(self) -> str:
        return f"mailpipe:{self.code}.{self.month}"

    def segment_opts(self, tag_id: int | None) -> dict:
        conditions: list[dict[str, object]] = [
            {"condition_type": "EmailAddress", "field": "EMAIL", "op": "notcontain", "value": self.mark}
        ]
        if tag_id is not None:
            conditions.insert(
                0, {"condition_type": "StaticSegment", "field": "static_segment", "op": "static_is", "value": tag_id}
            )
        return {"match": "all", "conditions": conditions}


CampaignKey = DripKey | MonthlyKey


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
        entries += [key.entry for key in sorted(self.assigned)]
        return "|" + "|".join(entries) + "|" if entries else ""

    def union(self, other: LeadLog) -> LeadLog:
        """Both records together: the earlier start of each drip, every assignment either holds."""
        starts = dict(self.starts)
        for code, day in other.starts.items():
            starts[code] = min(day, starts.get(code, day))
        return LeadLog(starts, self.assigned | other.assigned)

    def with_start(self, code: str, day: dt.date) -> LeadLog:
        return LeadLog({**self.starts, code: day}, self.assigned)

    def with_assigned(self, key: DripKey) -> LeadLog:
        return LeadLog(self.starts, self.assigned | {key})

    def without(self, keys: set[DripKey]) -> LeadLog:
        return LeadLog(self.starts, self.assigned - keys)

    def steps(self, code: str, step: int) -> list[DripKey]:
        return sorted(k for k in self.assigned if k.code == code and k.step == step)


_TITLE = re.compile(
    r"^mp-(?P<code>[a-z][a-z0-9]{0,7})-(?:s(?P<step>\d{2})-(?P<day>\d{4}-\d{2}-\d{2})|(?P<month>\d{4}-\d{2}))$"
)


def key_of_title(title: str) -> CampaignKey | None:
    """The key a title mailpipe gave stands for (titles name keys in the local state; Mailchimp's copy may be
    renamed)."""
    match = _TITLE.match(title)
    if not match:
        return None
    if match["month"]:
        return MonthlyKey(match["code"], match["month"])
    return DripKey(match["code"], int(match["step"]), dt.date.fromisoformat(match["day"]))
