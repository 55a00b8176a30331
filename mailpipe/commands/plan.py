"""`mailpipe plan`: the calendar of the next days, offline, each send with its email's sign-off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailpipe.plan import PlannedSend
from mailpipe.project import Project
from mailpipe.review import ReviewState


@dataclass(frozen=True)
class Calendar:
    sends: list[PlannedSend]
    sign_offs: dict[str, ReviewState]

    @property
    def gaps(self) -> list[PlannedSend]:
        """Sends that cannot happen (a month without its special): the run exits non-zero."""
        return [s for s in self.sends if s.problem]


def plan(project: Project, start: dt.date | None = None, days: int = 14) -> Calendar:
    """`days` days from `start` (default: today in the clinic's time zone)."""
    from mailpipe.plan import plan as make_plan

    rendered = project.rendered()
    campaigns = project.campaigns
    first = start or project.today()
    sends = make_plan(campaigns, rendered.content, {e.id for e in rendered.emails}, first, days)
    return Calendar(sends, project.sign_offs)
