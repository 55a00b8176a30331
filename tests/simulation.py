"""A simulated clinic: leads joining over weeks, a daily push like cron's, the sandbox clock moving on.

Used by the end-to-end tests: it drives the real push through the real client against the sandbox.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from mailpipe.campaigns import Drip, load_campaigns
from mailpipe.leads import Lead, import_leads
from mailpipe.mailchimp import Connection, Mailchimp, MailchimpError, RetryPolicy
from mailpipe.project import Project, render_project
from mailpipe.push import Pusher
from mailpipe.sandbox.server import FaultPlan, RunningSandbox
from mailpipe.schedule import local_to_utc
from mailpipe.state import State
from mailpipe.target import sandbox_list_body

REPO = Path(__file__).resolve().parent.parent
TZ = "America/Los_Angeles"
KEY = "simulation-key-us9"


def add_specials(root: Path, months: list[str]) -> None:
    """Write a month's specials (from the May 2024 example) for each month the simulation crosses."""
    template = (root / "content/specials/2024-05.md").read_text()
    for month in months:
        year, number = map(int, month.split("-"))
        last = (dt.date(year + number // 12, number % 12 + 1, 1) - dt.timedelta(days=1)).day
        text = (template.replace("month: 2024-05", f"month: {month}").replace("valid_from: 2024-05-01", f"valid_from: {month}-01")
                .replace("valid_until: 2024-05-31", f"valid_until: {month}-{last:02d}").replace("Specials May 2024", f"Specials {month}"))
        (root / f"content/specials/{month}.md").write_text(text)


def make_leads(start: dt.date, days: int, seed: int) -> list[Lead]:
    """Leads on many days at random local times, some at 23:59, some around the daylight-saving change."""
    rng = random.Random(seed)
    zone = __import__("zoneinfo").ZoneInfo(TZ)
    leads = []
    for n in range(40):
        day = start + dt.timedelta(days=rng.randrange(0, days - 30))
        hour, minute = (23, 59) if n % 5 == 0 else (rng.randrange(0, 24), rng.randrange(0, 60))
        joined = dt.datetime.combine(day, dt.time(hour, minute), zone)
        leads.append(Lead(n + 2, f"lead{n:02d}@example.com", f"Lead{n}", "", joined))
    for n, when in enumerate(["2024-11-02T23:59", "2024-11-03T01:30", "2024-11-03T09:31", "2024-11-03T23:59"]):
        leads.append(Lead(100 + n, f"dst{n}@example.com", "Dst", "", dt.datetime.fromisoformat(when).replace(tzinfo=zone)))
    return leads


PATIENTS = [Lead(2 + n, f"patient{n}@example.com", f"P{n}", "", dt.datetime(2023, 6, 1, 12, tzinfo=dt.timezone.utc)) for n in range(5)]


@dataclass
class Simulation:
    root: Path
    start: dt.date
    days: int
    skip_days: set[int] = field(default_factory=set)
    kill_day: int | None = None
    lose_state_day: int | None = None
    unsubscribe: dict[str, int] = field(default_factory=dict)  # email -> day it unsubscribes
    fault_rate: float = 0.0
    seed: int = 7
    failed_runs: list[int] = field(default_factory=list)
    killed_after_requests: int = 0

    def run(self) -> tuple[list[dict], dict]:
        """Simulate; return the sandbox's deliveries and the facts the assertions need."""
        rendered = render_project(Project(self.root))
        site = rendered.site
        campaigns = load_campaigns(self.root / "campaigns", site, {e.id for e in rendered.emails})
        leads = make_leads(self.start, self.days, self.seed)
        # Retry-After 0: honoured like any other, without making the test wait a second per 429
        faults = FaultPlan(rate=self.fault_rate, seed=self.seed, retry_after=0) if self.fault_rate else None
        self._requests = 0
        self._kill: subprocess.Popen | None = None
        with RunningSandbox(self.root / "var/sim-sandbox.sqlite3", faults=faults, recorder=self._count) as sandbox:
            store = sandbox.store
            store.set_clock(local_to_utc(self.start, "05:00", TZ))
            for list_id in {a.list_id for a in site.audiences.values()}:
                store.create_list(sandbox_list_body(site), list_id=list_id)
            mailchimp = Mailchimp(Connection(KEY, sandbox.url), RetryPolicy(attempts=10, base_delay=0.001, max_delay=0.01))
            state_path = self.root / site.mailchimp.state_path
            imported: set[str] = set()
            unsubscribed_at: dict[str, dt.datetime] = {}
            for day_number in range(self.days):
                day = self.start + dt.timedelta(days=day_number)
                now = local_to_utc(day, "06:00", TZ)
                store.advance(now)
                for audience, people in (("existing-patient", PATIENTS), ("new-consult", leads)):
                    joined = [p for p in people if p.email not in imported and p.joined <= now]
                    self._quietly(lambda: import_leads(mailchimp, site.audiences[audience], joined, now))
                    imported |= {p.email for p in joined}
                for email, on_day in self.unsubscribe.items():
                    if on_day == day_number:
                        self._quietly(lambda: mailchimp.upsert_member("aivi-main", email, {"status": "unsubscribed", "status_if_new": "unsubscribed"}))
                        unsubscribed_at[email] = now
                if day_number == self.lose_state_day:
                    for leftover in state_path.parent.glob(state_path.name + "*"):
                        leftover.unlink()
                if day_number in self.skip_days:
                    continue
                if day_number == self.kill_day:
                    self._killed_push(sandbox.url, now)
                    continue
                state = State(state_path, sandbox.url)
                try:
                    Pusher(mailchimp, state, site, campaigns, rendered.emails, rendered.content, allow_examples=True).run(now)
                except MailchimpError:
                    self.failed_runs.append(day_number)  # like a cron run that died: the next run converges
                finally:
                    state.close()
            end = local_to_utc(self.start + dt.timedelta(days=self.days), "06:00", TZ)
            store.advance(end)
            deliveries = store.deliveries()
            campaigns_made = store.list_campaigns({"count": 1000})["campaigns"]
        drip = next(c for c in campaigns if isinstance(c, Drip))
        return deliveries, {"leads": leads, "drip": drip, "end": end, "unsubscribed_at": unsubscribed_at,
                            "campaigns": campaigns_made, "last_push_day": max(d for d in range(self.days) if d not in self.skip_days)}

    def _quietly(self, action) -> None:
        """Imports retry like push does; a lead import that still failed is done again the next day."""
        for _ in range(5):
            try:
                action()
                return
            except MailchimpError:
                continue
        raise AssertionError("an import failed five times in a row")

    def _count(self, request: dict, status: int, answer: object) -> None:
        self._requests += 1
        if self._kill is not None and self._requests >= self._kill_at:
            self._kill.send_signal(signal.SIGKILL)
            self._kill = None

    def _killed_push(self, url: str, now: dt.datetime) -> None:
        """Run the real CLI push as a process and kill -9 it after it has made a few requests."""
        env = {**os.environ, "MAILCHIMP_API_KEY": KEY, "MAILCHIMP_SERVER_URL": url}
        self._kill_at = self._requests + 9  # mid-run: after the audience is read and a campaign is being made
        process = subprocess.Popen([sys.executable, str(REPO / "cli.py"), "--project", str(self.root), "push", "--now", now.isoformat()],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._kill = process
        process.communicate(timeout=120)
        self.killed_after_requests = self._requests
        assert process.returncode == -signal.SIGKILL, "the push was meant to be killed mid-run"
        threading.Event().wait(0.05)
