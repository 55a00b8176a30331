"""Benchmark: the offline plan for a whole year, and the push of one busy day against the sandbox.

The busy day: 1,400 leads who joined over the 40 days before it, in steady state (the daily push
ran on each of those days, so every step of the drip is due for someone), and 500 patients, on the
first Tuesday of the month, when the monthly email goes out too.

    .venv/bin/python bench/plan_push.py
"""
from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from mailpipe.campaigns import load_campaigns  # noqa: E402
from mailpipe.leads import Lead, import_leads  # noqa: E402
from mailpipe.mailchimp import Connection, Mailchimp  # noqa: E402
from mailpipe.project import Project, render_project  # noqa: E402
from mailpipe.push import Pusher  # noqa: E402
from mailpipe.sandbox.server import RunningSandbox  # noqa: E402
from mailpipe.schedule import local_to_utc, plan  # noqa: E402
from mailpipe.state import State  # noqa: E402
from mailpipe.target import sandbox_list_body  # noqa: E402
from conftest import copy_project  # noqa: E402
from simulation import add_specials  # noqa: E402

UTC = dt.timezone.utc


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = copy_project(Path(folder) / "project")
        months = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"]
        add_specials(root, months)
        rendered = render_project(Project(root))
        ids = {e.id for e in rendered.emails}
        campaigns = load_campaigns(root / "campaigns", rendered.site, ids)

        times = []
        for _ in range(5):
            start = time.perf_counter()
            sends = plan(campaigns, rendered.content, ids, dt.date(2025, 1, 1), 365)
            times.append(time.perf_counter() - start)
        print(f"plan for a year: {len(sends)} sends, median {statistics.median(times) * 1000:.1f} ms over 5 runs")

        busy_day = dt.date(2025, 6, 3)  # the first Tuesday of June 2025
        now = local_to_utc(busy_day, "06:00", "America/Los_Angeles")
        first_day = busy_day - dt.timedelta(days=40)
        with RunningSandbox(Path(folder) / "sandbox.sqlite3") as sandbox:
            sandbox.store.set_clock(local_to_utc(first_day, "05:00", "America/Los_Angeles"))
            sandbox.store.create_list(sandbox_list_body(rendered.site), list_id="aivi-main")
            mailchimp = Mailchimp(Connection("bench-us1", sandbox.url))
            audiences = rendered.site.audiences
            leads = [Lead(n, f"lead{n:04d}@example.com", "L", "", now - dt.timedelta(days=1 + n % 40, minutes=n)) for n in range(1400)]
            patients = [Lead(n, f"patient{n:04d}@example.com", "P", "", now - dt.timedelta(days=400)) for n in range(500)]
            import_leads(mailchimp, audiences["existing-patient"], patients, now)
            state = State(Path(folder) / "state.sqlite3", sandbox.url)
            pusher = Pusher(mailchimp, state, rendered.site, campaigns, rendered.emails, rendered.content, allow_examples=True)
            imported: set[str] = set()
            for offset in range(41):  # the daily runs up to and including the busy day
                day_now = local_to_utc(first_day + dt.timedelta(days=offset), "06:00", "America/Los_Angeles")
                sandbox.store.advance(day_now)
                joined = [lead for lead in leads if lead.email not in imported and lead.joined <= day_now]
                import_leads(mailchimp, audiences["new-consult"], joined, day_now)
                imported |= {lead.email for lead in joined}
                if offset < 40:
                    pusher.run(day_now)
            start = time.perf_counter()
            result = pusher.run(now)
            elapsed = time.perf_counter() - start
            created = [a for a in result.actions if a.action == "created"]
            titles = {a.key for a in created}
            recipients = sum(c["recipients"]["recipient_count"] for c in sandbox.store.list_campaigns({"count": 1000, "status": "schedule"})["campaigns"]
                             if c["settings"]["title"] in titles)
            print(f"push of one busy day: {len(created)} campaigns to {recipients} recipients, "
                  f"{result.api_calls} API calls, {elapsed:.2f} s wall time against the sandbox")
            state.close()


if __name__ == "__main__":
    main()
