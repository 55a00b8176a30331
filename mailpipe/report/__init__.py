"""Results the marketer asks for: each drip step (over all its daily campaigns) and each monthly email, and the drip's
funnel, from Mailchimp's own reports.

Mailchimp reports one campaign at a time, and a drip step is spread over one campaign a day; so the counts of every
campaign of a step are added up first, then the rates are computed as Mailchimp computes them: unique opens, unique
clicks and unsubscribes over delivered (sent minus bounces). Clicks come first: Apple Mail Privacy Protection opens
every email it downloads, so open rates run high.

`read_results` reads Mailchimp (GETs only); `build_report` is pure.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from dataclasses import asdict, dataclass, field

from mailpipe.load.campaigns import Campaign, Drip, Monthly
from mailpipe.plan.keys import DripKey, MonthlyKey, key_of_title
from mailpipe.push.mailchimp import CampaignReport, Mailchimp, RemoteMember
from mailpipe.push.record import LOG_FIELD, LeadLog
from mailpipe.util.vocabulary import spreadsheet_cell

PRIVACY_NOTE = (
    "Clicks first: Apple Mail Privacy Protection opens every email it downloads, so open rates run high; "
    "unique clicks are the reliable signal."
)


@dataclass(frozen=True)
class Results:
    """What Mailchimp holds that the report needs: each sent campaign's report, and each audience's members."""

    reports: tuple[CampaignReport, ...]
    members: dict[str, tuple[RemoteMember, ...]]  # list id -> members


@dataclass(frozen=True)
class Row:
    """One drip step or one monthly email, its campaigns' counts added up."""

    label: str
    email: str
    campaigns: int = 0
    recipients: int = 0
    bounces: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0
    unsubscribes: int = 0

    @property
    def delivered(self) -> int:
        return self.recipients - self.bounces

    def rate(self, count: int) -> float:
        return round(count / self.delivered, 4) if self.delivered else 0.0

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "email": self.email,
            "campaigns": self.campaigns,
            "recipients": self.recipients,
            "delivered": self.delivered,
            "bounces": self.bounces,
            "unique_clicks": self.unique_clicks,
            "click_rate": self.rate(self.unique_clicks),
            "unique_opens": self.unique_opens,
            "open_rate": self.rate(self.unique_opens),
            "unsubscribes": self.unsubscribes,
            "unsubscribe_rate": self.rate(self.unsubscribes),
        }

    def plus(self, report: CampaignReport) -> Row:
        return Row(
            self.label,
            self.email,
            self.campaigns + 1,
            self.recipients + report.emails_sent,
            self.bounces + report.bounces,
            self.unique_opens + report.unique_opens,
            self.unique_clicks + report.unique_clicks,
            self.unsubscribes + report.unsubscribed,
        )


@dataclass(frozen=True)
class Funnel:
    """How many leads entered the drip, reached each step, and left it by unsubscribing or by an exit tag."""

    entered: int
    reached: tuple[int, ...]  # per step: leads it was sent to
    unsubscribed: int
    exited: int


@dataclass(frozen=True)
class Section:
    name: str
    code: str
    kind: str  # drip | monthly
    rows: tuple[Row, ...]
    funnel: Funnel | None = None


@dataclass(frozen=True)
class Report:
    start: dt.date | None
    end: dt.date | None
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "note": PRIVACY_NOTE,
            "sections": [
                {
                    "name": s.name,
                    "code": s.code,
                    "kind": s.kind,
                    "rows": [r.as_json() for r in s.rows],
                    "funnel": asdict(s.funnel) | {"reached": list(s.funnel.reached)} if s.funnel else None,
                }
                for s in self.sections
            ],
        }

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        columns = [
            "label",
            "email",
            "campaigns",
            "recipients",
            "delivered",
            "bounces",
            "unique_clicks",
            "click_rate",
            "unique_opens",
            "open_rate",
            "unsubscribes",
            "unsubscribe_rate",
        ]
        writer.writerow(["campaign", *columns])
        for section in self.sections:
            for row in section.rows:
                values = row.as_json()
                writer.writerow([spreadsheet_cell(v) for v in (section.name, *(values[c] for c in columns))])
        return out.getvalue()


def read_results(mc: Mailchimp, list_ids: set[str]) -> Results:
    """Every sent mailpipe campaign's report, and the members of the audiences (for the funnel). GETs only."""
    reports = tuple(r for r in mc.campaign_reports() if key_of_title(r.title) is not None)
    return Results(reports, {list_id: tuple(mc.all_members(list_id)) for list_id in sorted(list_ids)})


def build_report(
    results: Results,
    campaigns: list[Campaign],
    list_of: dict[str, str],
    timezone: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    only: str | None = None,
) -> Report:
    """The report over campaigns sent from `start` to `end` (local dates, inclusive); `only`: one campaign's name or
    code."""
    zone = zoneinfo.ZoneInfo(timezone)
    chosen = [r for r in results.reports if _sent_within(r, zone, start, end)]
    sections = []
    for campaign in campaigns:
        if only and only not in (campaign.name, campaign.code):
            continue
        if isinstance(campaign, Drip):
            members = results.members.get(list_of.get(campaign.audience, ""), ())
            sections.append(_drip_section(campaign, chosen, members))
        elif isinstance(campaign, Monthly):
            sections.append(_monthly_section(campaign, chosen))
    return Report(start, end, tuple(sections))


def _sent_within(report: CampaignReport, zone: zoneinfo.ZoneInfo, start: dt.date | None, end: dt.date | None) -> bool:
    try:
        day = dt.datetime.fromisoformat(report.send_time).astimezone(zone).date()
    except ValueError:
        return False
    return (start is None or day >= start) and (end is None or day <= end)


def _drip_section(drip: Drip, reports: list[CampaignReport], members: tuple[RemoteMember, ...]) -> Section:
    """A row per step, each its daily campaigns added up; and the drip's funnel."""
    rows = [Row(f"Step {n} (day {step.delay_days})", step.content) for n, step in enumerate(drip.steps, 1)]
    for report in reports:
        key = key_of_title(report.title)
        if isinstance(key, DripKey) and key.code == drip.code and 1 <= key.step <= len(rows):
            rows[key.step - 1] = rows[key.step - 1].plus(report)
    return Section(drip.name, drip.code, "drip", tuple(rows), _funnel(drip, rows, members))


def _monthly_section(monthly: Monthly, reports: list[CampaignReport]) -> Section:
    """A row per month sent."""
    months: dict[str, Row] = {}
    for report in reports:
        key = key_of_title(report.title)
        if isinstance(key, MonthlyKey) and key.code == monthly.code:
            months[key.month] = months.get(key.month, Row(key.month, monthly.content_id(key.month))).plus(report)
    return Section(monthly.name, monthly.code, "monthly", tuple(months[m] for m in sorted(months)))


def _funnel(drip: Drip, rows: list[Row], members: tuple[RemoteMember, ...]) -> Funnel:
    """Leads are the members whose record says they entered this drip; a step reached them when it was sent to them."""
    entered = [m for m in members if drip.code in LeadLog.parse(str(m.merge_fields.get(LOG_FIELD) or "")).starts]
    return Funnel(
        len(entered),
        tuple(r.recipients for r in rows),
        sum(1 for m in entered if m.status == "unsubscribed"),
        sum(1 for m in entered if m.status != "unsubscribed" and set(m.tags) & set(drip.exit_tags)),
    )
