"""The demo `make run` does: daily runs against a fresh sandbox over a few weeks, from config.

It starts the sandbox clock at `demo.start`, and each simulated day imports the sample people who
have joined by then, runs the same push a cron job would, and moves the clock on, so the sandbox
sends what is due. The result is the same on any day the demo runs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mailpipe.campaigns import Campaign
from mailpipe.leads import import_leads, read_leads
from mailpipe.mailchimp import Connection, Mailchimp
from mailpipe.project import Project, Rendered
from mailpipe.push import Action, Pusher
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.schedule import local_to_utc
from mailpipe.state import State
from mailpipe.target import SANDBOX_KEY, sandbox_list_body

DEMO_DIR = Path("var") / "demo"


@dataclass
class DemoResult:
    start: dt.datetime
    end: dt.datetime
    actions: list[tuple[dt.date, Action]] = field(default_factory=list)
    deliveries: list[dict] = field(default_factory=list)
    skipped_rows: list[str] = field(default_factory=list)
    api_calls: int = 0


def run_demo(project: Project, rendered: Rendered, campaigns: list[Campaign], refused: dict[str, str],
             on_day: Callable[[dt.date, list[Action]], None] | None = None) -> DemoResult:
    site, demo = rendered.site, rendered.site.demo
    folder = project.root / DEMO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.sqlite3*"):
        stale.unlink()
    leads, lead_problems = read_leads(project.root / demo.leads_csv, site.timezone)
    patients, patient_problems = read_leads(project.root / demo.patients_csv, site.timezone)
    start = local_to_utc(demo.start, demo.run_time, site.timezone)
    result = DemoResult(start, local_to_utc(demo.start + dt.timedelta(days=demo.days), demo.run_time, site.timezone),
                        skipped_rows=[str(p) for p in lead_problems + patient_problems])
    with RunningSandbox(folder / "sandbox.sqlite3") as sandbox:
        sandbox.store.set_clock(start)
        for list_id in sorted({a.list_id for a in site.audiences.values()}):
            sandbox.store.create_list(sandbox_list_body(site), list_id=list_id)
        mailchimp = Mailchimp(Connection(SANDBOX_KEY, sandbox.url))
        state = State(folder / "state.sqlite3", f"sandbox {sandbox.store.instance}")
        pusher = Pusher(mailchimp, state, site, campaigns, rendered.emails, rendered.content, allow_examples=True, refused=refused)
        imported: set[str] = set()
        for offset in range(demo.days):
            day = demo.start + dt.timedelta(days=offset)
            now = local_to_utc(day, demo.run_time, site.timezone)
            sandbox.store.advance(now)
            for audience, people in (("existing-patient", patients), ("new-consult", leads)):
                joined = [p for p in people if p.email not in imported and (p.joined is None or p.joined <= now)]
                import_leads(mailchimp, site.audiences[audience], joined, now)
                imported |= {p.email for p in joined}
            actions = pusher.run(now).actions
            result.actions += [(day, a) for a in actions]
            if on_day:
                on_day(day, actions)
        sandbox.store.advance(result.end)
        result.deliveries = sandbox.store.deliveries()
        result.api_calls = mailchimp.calls
        state.close()
    return result
