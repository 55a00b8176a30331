"""`mailpipe demo`, what `make run` does: daily runs against a fresh sandbox over a few weeks, from config.

It starts the sandbox clock at `demo.start`, and each simulated day imports the sample people who
have joined by then, runs the same push a cron job would (push's use case, with every gate), and moves the clock on,
so the sandbox sends what is due. The result is the same on any day the demo runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mailpipe.commands.push import push_to
from mailpipe.errors import MailpipeError
from mailpipe.load.campaigns import Campaign, Drip
from mailpipe.load.config import Demo
from mailpipe.plan import PlannedSend, local_to_utc, plan
from mailpipe.plan.keys import DripKey, key_of_title
from mailpipe.project import Project
from mailpipe.push.apply import Outcome
from mailpipe.push.leads import import_leads, read_leads
from mailpipe.push.mailchimp import Connection, Mailchimp
from mailpipe.push.target import SANDBOX_KEY, Target, provision
from mailpipe.report import Report, build_report, read_results
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.util.paths import inside_project

DEMO_DIR = Path("var") / "demo"
DEMO_SEED = "demo"


@dataclass(frozen=True)
class Delivery:
    """One email one person received, as the sandbox saw it."""

    delivered_at: dt.datetime
    email: str
    title: str
    email_id: str


@dataclass
class DemoResult:
    start: dt.datetime
    end: dt.datetime
    deliveries: list[Delivery] = field(default_factory=list)
    skipped_rows: list[str] = field(default_factory=list)
    api_calls: int = 0
    pushes: int = 0
    report: Report | None = None

    def received_by_person(self) -> dict[str, list[str]]:
        """Each person's emails, as 'UTC day email id', in the order they arrived."""
        people: dict[str, list[str]] = {}
        for delivery in self.deliveries:
            people.setdefault(delivery.email, []).append(f"{delivery.delivered_at:%Y-%m-%d} {delivery.email_id}")
        return people


def email_of(title: str, campaigns: list[Campaign]) -> str:
    """Which email a mailpipe campaign title stands for (titles are opaque codes in Mailchimp)."""
    key = key_of_title(title)
    for campaign in campaigns:
        if key is not None and key.code == campaign.code:
            if isinstance(key, DripKey) and isinstance(campaign, Drip):
                return campaign.steps[key.step - 1].content if key.step <= len(campaign.steps) else title
            if not isinstance(key, DripKey) and not isinstance(campaign, Drip):
                return campaign.content_id(key.month)
    return title


@dataclass(frozen=True)
class DemoCalendar:
    settings: Demo
    sends: list[PlannedSend]
    monthly: int  # of the sends, the monthly ones


def calendar(project: Project) -> DemoCalendar:
    """The plan of the demo weeks of mailpipe.yaml: an error if it has none, or if a send of those weeks has no
    email."""
    rendered = project.load()
    demo, campaigns = rendered.site.demo, project.campaigns
    if demo is None:
        raise MailpipeError("mailpipe.yaml has no demo section (start, days, leads_csv, patients_csv)")
    sends = plan(campaigns, rendered.content, {e.id for e in rendered.emails}, demo.start, demo.days)
    if any(s.problem for s in sends):
        raise MailpipeError("the demo weeks cannot be sent: " + "; ".join(s.problem for s in sends if s.problem))
    monthly = {c.name for c in campaigns if not isinstance(c, Drip)}
    return DemoCalendar(demo, sends, sum(1 for s in sends if s.campaign in monthly))


def run_demo(project: Project, on_day: Callable[[dt.date, list[Outcome]], None] | None = None) -> DemoResult:
    """The demo weeks, day by day (see `calendar`)."""
    demo = calendar(project).settings
    rendered = project.rendered()
    site, campaigns = rendered.site, project.campaigns
    folder = project.root / DEMO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.sqlite3*"):
        stale.unlink()
    leads_csv = inside_project(project.root, demo.leads_csv, "demo.leads_csv")
    patients_csv = inside_project(project.root, demo.patients_csv, "demo.patients_csv")
    leads, lead_problems = read_leads(leads_csv, site.timezone)
    patients, patient_problems = read_leads(patients_csv, site.timezone)
    start = local_to_utc(demo.start, demo.run_time, site.timezone)
    result = DemoResult(
        start,
        local_to_utc(demo.start + dt.timedelta(days=demo.days), demo.run_time, site.timezone),
        skipped_rows=[str(p) for p in lead_problems + patient_problems],
    )
    with RunningSandbox(folder / "sandbox.sqlite3") as sandbox:
        sandbox.store.set_clock(start)
        sandbox.store.set_engagement_seed(DEMO_SEED)  # recipients open, click and unsubscribe, the same on every run
        provision(sandbox.store, site)
        mailchimp = Mailchimp(Connection(SANDBOX_KEY, sandbox.url))
        target = Target(
            mailchimp, f"sandbox {sandbox.store.instance}", folder / "state.sqlite3", sandbox.store, "the demo"
        )
        imported: set[str] = set()
        for offset in range(demo.days):
            day = demo.start + dt.timedelta(days=offset)
            now = local_to_utc(day, demo.run_time, site.timezone)
            sandbox.store.advance(now)
            for audience, people in (("existing-patient", patients), ("new-consult", leads)):
                joined = [p for p in people if p.email not in imported and (p.joined is None or p.joined <= now)]
                drips = [c for c in campaigns if isinstance(c, Drip) and c.audience == audience]
                import_leads(mailchimp, site.audiences[audience], joined, now, drips)
                imported |= {p.email for p in joined}
            outcomes = push_to(project, target, now).result.outcomes
            result.pushes += 1
            if on_day:
                on_day(day, outcomes)
        sandbox.store.advance(result.end)
        result.deliveries = [
            Delivery(
                dt.datetime.fromisoformat(d["delivered_at"]), d["email"], d["title"], email_of(d["title"], campaigns)
            )
            for d in sandbox.store.deliveries()
        ]
        result.api_calls = mailchimp.calls
        result.report = build_report(
            read_results(mailchimp, {a.list_id for a in site.audiences.values()}),
            campaigns,
            {name: a.list_id for name, a in site.audiences.items()},
            site.timezone,
        )
    return result
