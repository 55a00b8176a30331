"""Benchmark: the offline plan for a whole year, and a simulated year of daily pushes at 30 leads a week.

The year: leads arrive at 30 a week (imported each morning, as the day's new leads would be), 200 patients get
the monthly email, and push runs every morning at 06:00 against the sandbox. What it prints carries over to a
real Mailchimp account: API calls per daily run (median and max, and at the end of the year, to see that they do
not grow with history), campaigns made, and the tags, segments and merge fields mailpipe leaves in the audience.
Seconds against the in-process sandbox are secondary.

    .venv/bin/python bench/plan_push.py [DAYS]    (default 365; the sandbox's member listing is slow at scale)
"""
from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import copy_project  # noqa: E402
from mailpipe.load.campaigns import Drip, load_campaigns  # noqa: E402
from mailpipe.plan import local_to_utc, plan  # noqa: E402
from mailpipe.project import Project, render_project  # noqa: E402
from mailpipe.push import push, refusals  # noqa: E402
from mailpipe.push.leads import Lead, import_leads  # noqa: E402
from mailpipe.push.mailchimp import Connection, Mailchimp  # noqa: E402
from mailpipe.push.state import State  # noqa: E402
from mailpipe.push.target import provision  # noqa: E402
from mailpipe.report import build_report, read_results  # noqa: E402
from mailpipe.sandbox.server import RunningSandbox  # noqa: E402
from simulation import add_specials  # noqa: E402

TZ = "America/Los_Angeles"
START = dt.date(2025, 1, 1)
DAYS = int(sys.argv[1]) if len(sys.argv) > 1 else 365
LEADS_PER_WEEK = 30


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = copy_project(Path(folder) / "project")
        add_specials(root, [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"])
        rendered = render_project(Project(root))
        ids = {e.id for e in rendered.emails}
        campaigns = load_campaigns(root / "campaigns", rendered.site, ids)

        times = []
        for _ in range(5):
            start = time.perf_counter()
            sends = plan(campaigns, rendered.content, ids, START, 365)
            times.append(time.perf_counter() - start)
        print(f"plan for a year: {len(sends)} send slots, median {statistics.median(times) * 1000:.1f} ms over 5 runs")

        rng = random.Random(1)
        site, drips = rendered.site, [c for c in campaigns if isinstance(c, Drip)]
        refused = refusals(rendered.emails, site, allow_examples=True)
        with RunningSandbox(Path(folder) / "sandbox.sqlite3") as sandbox:
            sandbox.store.set_clock(local_to_utc(START, "05:00", TZ))
            sandbox.store.set_engagement_seed("bench")  # recipients open, click and unsubscribe: the report has numbers
            provision(sandbox.store, site)
            mailchimp = Mailchimp(Connection("bench-us1", sandbox.url))
            patients = [Lead(n, f"patient{n:04d}@example.com", "P", "", None) for n in range(200)]
            import_leads(mailchimp, site.audiences["existing-patient"], patients, sandbox.store.now())
            state = State(Path(folder) / "state.sqlite3", sandbox.url)
            calls, seconds, made, number = [], [], 0, 0
            for offset in range(DAYS):
                day = START + dt.timedelta(days=offset)
                now = local_to_utc(day, "06:00", TZ)
                sandbox.store.advance(now)
                arrivals = [Lead(0, f"lead{number + n:05d}@example.com", "L", "", now - dt.timedelta(hours=rng.uniform(0, 24)))
                            for n in range(_poisson(rng, LEADS_PER_WEEK / 7))]
                number += len(arrivals)
                import_leads(mailchimp, site.audiences["new-consult"], arrivals, now, drips)
                began = time.perf_counter()
                result = push(mailchimp, state, site, campaigns, rendered.emails, rendered.content, refused, now)
                seconds.append(time.perf_counter() - began)
                calls.append(result.api_calls)
                made += sum(1 for o in result.outcomes if o.action == "created")
            sandbox.store.advance(local_to_utc(START + dt.timedelta(days=DAYS), "06:00", TZ))
            segments = sandbox.store.list_segments("aivi-main", {"count": 1000})["segments"]
            fields = sandbox.store.merge_fields("aivi-main", {"count": 1000})["merge_fields"]
            deliveries = sandbox.store.deliveries()
            reader = Mailchimp(Connection("bench-us1", sandbox.url))
            began = time.perf_counter()
            results = read_results(reader, {a.list_id for a in site.audiences.values()})
            made_report = build_report(results, campaigns, {n: a.list_id for n, a in site.audiences.items()}, TZ)
            report_seconds, report_calls = time.perf_counter() - began, reader.calls
            state.close()
        tail = calls[-30:]
        print(f"{DAYS} days at {LEADS_PER_WEEK} leads a week ({number} leads, 200 patients, one push a day):")
        print(f"  campaigns created: {made} ({made / DAYS * 30.4:.0f} a month), {len(deliveries)} deliveries")
        print(f"  tags and segments in the audience at the end: {len(segments)} ({', '.join(sorted(s['name'] for s in segments))}); "
              f"merge fields: {', '.join(f['tag'] for f in fields)}")
        print(f"  API calls per daily run: median {statistics.median(calls):.0f}, max {max(calls)}; "
              f"in the last 30 days median {statistics.median(tail):.0f}, max {max(tail)}")
        print(f"  seconds per daily run against the in-process sandbox (secondary): median {statistics.median(seconds):.2f}, "
              f"max {max(seconds):.2f}")
        rows = sum(len(section.rows) for section in made_report.sections)
        print(f"  `mailpipe report` over the whole run: {len(results.reports)} campaign reports into {rows} rows, "
              f"{report_calls} API calls, {report_seconds:.1f} s")


def _poisson(rng: random.Random, mean: float) -> int:
    """Arrivals in a day: Knuth's method, enough for a mean of a few."""
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


if __name__ == "__main__":
    main()
