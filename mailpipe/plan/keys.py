"""The campaigns the plan makes, by name: a drip's step on a local day, a monthly email of a month.

A key is what the plan, push's local state and the reports agree on; its title (`mp-e1-s03-2024-10-07`,
`mp-m1-2024-05`) is opaque and sortable. How push marks a campaign and a lead in Mailchimp so that it recognises them
later is push's own business (push/record.py).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class DripKey:
    """One drip campaign: step `step` (from 1) of drip `code`, sent on local day `day`."""

    code: str
    step: int
    day: dt.date

    @property
    def title(self) -> str:
        return f"mp-{self.code}-s{self.step:02d}-{self.day.isoformat()}"


@dataclass(frozen=True, order=True)
class MonthlyKey:
    """The monthly campaign of `code` for `month` (YYYY-MM)."""

    code: str
    month: str

    @property
    def title(self) -> str:
        return f"mp-{self.code}-{self.month}"


CampaignKey = DripKey | MonthlyKey

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
