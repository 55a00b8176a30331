"""Time rules for sending: local send times to UTC quarter hours, monthly rules, and the plan.

Time is always a parameter here: nothing reads the clock, so the plan and the drip guarantees
are tested by moving `now`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from mailpipe.errors import Problem
from mailpipe.load.campaigns import WEEKDAYS, Campaign, Drip, Monthly
from mailpipe.load.config import QuietHours
from mailpipe.load.content import ContentSet
from mailpipe.plan.keys import DripKey, MonthlyKey
from mailpipe.util.clock import local_date

UTC = dt.UTC
QUARTER = dt.timedelta(minutes=15)
SCHEDULE_MARGIN = dt.timedelta(minutes=15)  # Mailchimp wants a schedule time comfortably in the future


def local_to_utc(day: dt.date, hh_mm: str, timezone: str) -> dt.datetime:
    """The UTC instant of a local wall-clock time (right across daylight-saving changes)."""
    hour, minute = map(int, hh_mm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), zoneinfo.ZoneInfo(timezone)).astimezone(UTC)


def next_quarter_hour(moment: dt.datetime) -> dt.datetime:
    """The first quarter hour (:00, :15, :30, :45 UTC) at or after `moment`."""
    moment = moment.astimezone(UTC)
    floored = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floored if floored == moment else floored + QUARTER


def schedule_time(wanted: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When to schedule: the wanted quarter hour, or, when that is too close or past, the earliest one Mailchimp
    accepts."""
    return max(next_quarter_hour(wanted), next_quarter_hour(now + SCHEDULE_MARGIN))


def delivery(
    day: dt.date, hh_mm: str, timezone: str, quiet: QuietHours, now: dt.datetime
) -> tuple[dt.date, dt.datetime]:
    """When a send wanted on local `day` at `hh_mm` goes out: (its local day, the UTC quarter hour to schedule). That
    time, or when it has passed the earliest Mailchimp accepts; but never in the quiet hours and never on a later
    local day than the one it counts for: then it is the next possible day's send, at its own time."""
    day = max(day, local_date(now, timezone))  # a day gone by can only be sent today or later
    while True:
        at = schedule_time(local_to_utc(day, hh_mm, timezone), now)
        local = at.astimezone(zoneinfo.ZoneInfo(timezone))
        if local.date() == day and not quiet.hold(f"{local:%H:%M}"):
            return day, at
        day += dt.timedelta(days=1)


def last_send(day: dt.date, quiet: QuietHours, timezone: str) -> dt.datetime:
    """The latest a send of local `day` may go out: when the evening's quiet hours start (those that run past
    midnight; `delivery` never gives a time inside them), else the day's last minute."""
    return local_to_utc(day, quiet.start if quiet.start > quiet.end else "23:59", timezone)


def nth_weekday(year: int, month: int, weekday: str, nth: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (WEEKDAYS.index(weekday) - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (nth - 1))


def months_between(start: dt.date, end: dt.date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class PlannedSend:
    """One send of the calendar: what goes to whom, when (local and UTC)."""

    key: str  # the Mailchimp campaign title: an opaque code (mp-e1-s01-2024-05-06)
    campaign: str
    audience: str
    segment: str
    email_id: str
    local_time: dt.datetime
    utc_time: dt.datetime
    problem: str = ""  # this send cannot happen as things are: what to do, and by when

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "campaign": self.campaign,
            "audience": self.audience,
            "segment": self.segment,
            "email": self.email_id,
            "local_time": self.local_time.isoformat(),
            "utc_time": self.utc_time.isoformat(),
        } | ({"problem": self.problem} if self.problem else {})


def monthly_send(monthly: Monthly, month: str) -> dt.datetime:
    year, number = map(int, month.split("-"))
    return local_to_utc(
        nth_weekday(year, number, monthly.rule.weekday, monthly.rule.nth), monthly.rule.time, monthly.timezone
    )


def monthly_problems(monthly: Monthly, month: str, content: ContentSet, email_ids: set[str]) -> list[Problem]:
    """A month without its special, or a special that has expired by its send date, is an error."""
    send_day = local_date(monthly_send(monthly, month), monthly.timezone)
    special = next((s for s in content.specials if s.front.month == month), None)
    if special is None or monthly.content_id(month) not in email_ids:
        return [
            Problem(
                monthly.source,
                1,
                "content",
                f"no {monthly.content} for {month}: write content/specials/{month}.md "
                f"(`mailpipe new special {month}` starts it) by {send_day - dt.timedelta(days=7)}, a week before "
                f"it is due on {send_day}",
            )
        ]
    if special.front.valid_until < send_day:
        return [
            Problem(
                special.source,
                1,
                "valid_until",
                f"the {month} special ends {special.front.valid_until}, before it is "
                f"sent on {send_day} ({monthly.name})",
            )
        ]
    return []


def plan(
    campaigns: list[Campaign], content: ContentSet, email_ids: set[str], start: dt.date, days: int
) -> list[PlannedSend]:
    """The calendar of sends for `days` days from `start` (local dates), in time order. A monthly send that cannot
    happen (no special for its month, or one that has ended) is a row with its `problem`, so the rest still shows."""
    end = start + dt.timedelta(days=days - 1)
    sends: list[PlannedSend] = []
    for campaign in campaigns:
        zone = zoneinfo.ZoneInfo(campaign.timezone)
        if isinstance(campaign, Drip):
            for offset in range(days):
                day = start + dt.timedelta(days=offset)
                utc = local_to_utc(day, campaign.send_time, campaign.timezone)
                for number, step in enumerate(campaign.steps, start=1):
                    joined = day - dt.timedelta(days=step.delay_days)
                    sends.append(
                        PlannedSend(
                            DripKey(campaign.code, number, day).title,
                            campaign.name,
                            campaign.audience,
                            f"leads who entered the drip on {joined} ({campaign.timezone}), or earlier and are behind",
                            step.content,
                            utc.astimezone(zone),
                            utc,
                        )
                    )
        else:
            for month in months_between(start, end):
                utc = monthly_send(campaign, month)
                if not start <= local_date(utc, campaign.timezone) <= end:
                    continue
                problem = "; ".join(
                    f"{p.file.name}: {p.message}" for p in monthly_problems(campaign, month, content, email_ids)
                )
                sends.append(
                    PlannedSend(
                        MonthlyKey(campaign.code, month).title,
                        campaign.name,
                        campaign.audience,
                        "every subscribed member of the audience",
                        campaign.content_id(month),
                        utc.astimezone(zone),
                        utc,
                        problem,
                    )
                )
    return sorted(sends, key=lambda s: (s.utc_time, s.key))
