"""Benchmark: the offline plan for a whole year, a simulated year of daily pushes at 30 leads a week, and that year's
account grown to 10k and 50k members for one more day's push.

The year: leads arrive at 30 a week (imported each morning, as the day's new leads would be), 200 patients get
the monthly email, and push runs every morning at 06:00 against the sandbox. What it prints carries over to a
real Mailchimp account: API calls per daily run (median and max, and at the end of the year, to see that they do
not grow with history), campaigns made, and the tags, segments and merge fields mailpipe leaves in the audience.
Seconds against the in-process sandbox are secondary.

At scale: the year's sandbox file is copied and its audience filled to 10k and 50k members (patients with the
patient tag, and leads of past years who finished the drip, written straight into the sandbox's SQLite file), then
the next morning's leads are imported and push runs once against the sandbox serving from its own process. Push's
API calls, its CPU time (this process only: the server's work is not counted) and its peak Python memory
(tracemalloc, a second run on a second copy) are printed per size; they must not grow with the audience.

    .venv/bin/python bench/plan_push.py [DAYS]    (default 365)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import copy_project  # noqa: E402
from mailpipe.load.campaigns import Drip, load_campaigns  # noqa: E402
from mailpipe.plan import local_to_utc, plan  # noqa: E402
from mailpipe.project import Project  # noqa: E402
from mailpipe.push import push, refusals  # noqa: E402
from mailpipe.push.leads import Lead, import_leads  # noqa: E402
from mailpipe.push.mailchimp import Connection, Mailchimp  # noqa: E402
from mailpipe.push.record import LOG_FIELD  # noqa: E402
from mailpipe.push.state import State  # noqa: E402
from mailpipe.push.target import provision  # noqa: E402
from mailpipe.report import build_report, read_results  # noqa: E402
from mailpipe.sandbox.server import RunningSandbox  # noqa: E402
from mailpipe.util.vocabulary import subscriber_hash  # noqa: E402
from simulation import add_specials  # noqa: E402

TZ = "America/Los_Angeles"
START = dt.date(2025, 1, 1)
DAYS = int(sys.argv[1]) if len(sys.argv) > 1 else 365
LEADS_PER_WEEK = 30
SIZES = (10_000, 50_000)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = copy_project(Path(folder) / "project")
        add_specials(root, [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"])
        project = Project(root)
        rendered = project.rendered()
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
        refused = refusals(rendered.emails, project.findings, {}, real_account=False)
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
                arrivals = [
                    Lead(0, f"lead{number + n:05d}@example.com", "L", "", now - dt.timedelta(hours=rng.uniform(0, 24)))
                    for n in range(_poisson(rng, LEADS_PER_WEEK / 7))
                ]
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
            year_state = Path(folder) / "state.sqlite3"
            year_db = Path(folder) / "year.sqlite3"
            sandbox.store._db.execute("VACUUM INTO ?", (str(year_db),))
        tail = calls[-30:]
        print(f"{DAYS} days at {LEADS_PER_WEEK} leads a week ({number} leads, 200 patients, one push a day):")
        print(f"  campaigns created: {made} ({made / DAYS * 30.4:.0f} a month), {len(deliveries)} deliveries")
        print(
            f"  tags and segments in the audience at the end: {len(segments)} "
            f"({', '.join(sorted(s['name'] for s in segments))}); "
            f"merge fields: {', '.join(f['tag'] for f in fields)}"
        )
        print(
            f"  API calls per daily run: median {statistics.median(calls):.0f}, max {max(calls)}; "
            f"in the last 30 days median {statistics.median(tail):.0f}, max {max(tail)}"
        )
        print(
            "  seconds per daily run against the in-process sandbox (secondary): median "
            f"{statistics.median(seconds):.2f}, "
            f"max {max(seconds):.2f}"
        )
        rows = sum(len(section.rows) for section in made_report.sections)
        print(
            f"  `mailpipe report` over the whole run: {len(results.reports)} campaign reports into {rows} rows, "
            f"{report_calls} API calls, {report_seconds:.1f} s"
        )
        print(
            f"the next morning's push, the year's account grown to {' and '.join(f'{n:,}' for n in SIZES)} members "
            "(sandbox in its own process):"
        )
        day = START + dt.timedelta(days=DAYS)
        for size in SIZES:
            measured = [
                _next_day(
                    root,
                    year_db,
                    year_state,
                    Path(folder) / f"{size}-{run}",
                    size,
                    day,
                    rendered,
                    campaigns,
                    refused,
                    memory=run == 1,
                )
                for run in (0, 1)
            ]
            (first_calls, calls_made), cpu, members = measured[0][:3]
            print(
                f"  {members:,} members: {calls_made} API calls, push CPU {cpu:.2f} s, peak push memory "
                f"{measured[1][3] / 2**20:.1f} MB "
                f"(the morning before, the first run after the fill: {first_calls} calls)"
            )


def _next_day(
    root: Path,
    year_db: Path,
    year_state: Path,
    work: Path,
    size: int,
    day: dt.date,
    rendered,
    campaigns,
    refused,
    memory: bool,
) -> tuple[tuple[int, int], float, int, int]:
    """Two mornings' pushes on a copy of the year's account filled to `size` members; the second is measured:
    ((API calls of the first, of the second), CPU seconds, members, peak bytes)."""
    work.mkdir(parents=True)
    db = work / "sandbox.sqlite3"
    shutil.copy(year_db, db)
    shutil.copy(year_state, work / "state.sqlite3")
    members = _fill(db, size, day)
    mailpipe = str(Path(sys.executable).parent / "mailpipe")
    subprocess.run(
        [
            mailpipe,
            "-C",
            str(root),
            "sandbox",
            "advance",
            "--db",
            str(db),
            "--to",
            local_to_utc(day, "06:00", TZ).isoformat(),
        ],
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [mailpipe, "-C", str(root), "sandbox", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = (server.stdout.readline() if server.stdout else "").split(" on ", 1)[1].split(" ", 1)[0]
        mailchimp = Mailchimp(Connection("bench-us1", url))
        site, drips = rendered.site, [c for c in campaigns if isinstance(c, Drip)]
        state = State(work / "state.sqlite3", url, forget_other=True)  # the same account, served on another port
        calls = []
        for morning in (day, day + dt.timedelta(days=1)):
            now = local_to_utc(morning, "06:00", TZ)
            if morning != day:
                subprocess.run(
                    [mailpipe, "-C", str(root), "sandbox", "advance", "--db", str(db), "--to", now.isoformat()],
                    check=True,
                    capture_output=True,
                )
            arrivals = [
                Lead(0, f"morning{morning:%m%d}-{n}@example.com", "L", "", now - dt.timedelta(hours=n + 1))
                for n in range(6)
            ]
            import_leads(mailchimp, site.audiences["new-consult"], arrivals, now, drips)
            before = mailchimp.calls
            measured = morning != day
            if measured and memory:
                tracemalloc.start()
            cpu = time.process_time()
            result = push(mailchimp, state, site, campaigns, rendered.emails, rendered.content, refused, now)
            cpu = time.process_time() - cpu
            peak = tracemalloc.get_traced_memory()[1] if measured and memory else 0
            tracemalloc.stop()
            calls.append(mailchimp.calls - before)
            assert not any(o.action == "failed" for o in result.outcomes), result.outcomes
        state.close()
        started = time.perf_counter()
        read = sum(1 for _ in Mailchimp(Connection("bench-us1", url)).all_members("aivi-main"))
        print(
            f"    (the whole audience read through the API, {read:,} members in pages of 1,000: "
            f"{time.perf_counter() - started:.1f} s)"
        )
        return (calls[0], calls[1]), cpu, members, peak
    finally:
        server.terminate()
        server.wait()


def _fill(db: Path, size: int, day: dt.date) -> int:
    """Fill the audience to `size` members: nine in ten patients (mp-b), the rest leads of earlier years who finished
    the drip long ago (mp-a, a complete MPLOG); all joined and last changed before the look-back."""
    connection = sqlite3.connect(db)
    with connection:
        existing = connection.execute("SELECT COUNT(*) FROM members WHERE list_id='aivi-main'").fetchone()[0]
        tags = dict(
            connection.execute("SELECT name, id FROM segments WHERE list_id='aivi-main' AND type='static'").fetchall()
        )
        old = (dt.datetime.combine(day, dt.time(12), dt.UTC) - dt.timedelta(days=400)).isoformat()
        rows, memberships = [], []
        for n in range(size - existing):
            email = f"past{n:06d}@example.com"
            member_hash, lead = subscriber_hash(email), n % 10 == 0
            started = day - dt.timedelta(days=400 + n % 300)
            log = (
                f"|e1@{started:%Y%m%d}|"
                + "|".join(f"e1.{s}.{started + dt.timedelta(days=7 * s):%Y%m%d}" for s in range(1, 5))
                + "|"
            )
            rows.append(
                (
                    "aivi-main",
                    member_hash,
                    email,
                    "subscribed",
                    json.dumps({"FNAME": "P", "LNAME": "", LOG_FIELD: log if lead else ""}),
                    old,
                    old,
                    old,
                    uuid.uuid4().hex[:10],
                )
            )
            memberships.append((tags["mp-a" if lead else "mp-b"], member_hash, old))
        connection.executemany("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)", rows)
        connection.executemany("INSERT OR IGNORE INTO segment_members VALUES (?,?,?)", memberships)
    total = connection.execute("SELECT COUNT(*) FROM members WHERE list_id='aivi-main'").fetchone()[0]
    connection.close()
    return total


def _poisson(rng: random.Random, mean: float) -> int:
    """Arrivals in a day: Knuth's method, enough for a mean of a few."""
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


if __name__ == "__main__":
    main()
