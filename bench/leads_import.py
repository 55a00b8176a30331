"""`leads import` of 10,000 rows into the sandbox: API calls and seconds, a first import and a re-import (which
reads the audience and writes nothing). Run: python bench/leads_import.py [ROWS]"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailpipe.load.campaigns import Drip, load_campaigns  # noqa: E402
from mailpipe.project import Project  # noqa: E402
from mailpipe.push.leads import import_leads, read_leads  # noqa: E402
from mailpipe.push.mailchimp import Connection, Mailchimp  # noqa: E402
from mailpipe.push.target import SANDBOX_KEY, provision  # noqa: E402
from mailpipe.sandbox.server import RunningSandbox  # noqa: E402


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rendered = Project(ROOT).rendered()
    site = rendered.site
    drips = [
        c
        for c in load_campaigns(ROOT / "campaigns", site, {e.id for e in rendered.emails})
        if isinstance(c, Drip) and c.audience == "new-consult"
    ]
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "leads.csv"
        csv.write_text(
            "email,first_name,last_name,joined,consent\n"
            + "".join(f"lead{i:05d}@example.com,Lead{i},Person,2024-04-30T09:00,yes\n" for i in range(rows))
        )
        started = time.perf_counter()
        leads, problems = read_leads(csv, site.timezone)
        read_seconds = time.perf_counter() - started
        with RunningSandbox(Path(folder) / "sandbox.sqlite3") as sandbox:
            sandbox.store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=dt.UTC))
            provision(sandbox.store, site)
            for run in ("first import", "re-import"):
                mc = Mailchimp(Connection(SANDBOX_KEY, sandbox.url))
                started = time.perf_counter()
                outcomes = import_leads(mc, site.audiences["new-consult"], leads, sandbox.store.now(), drips)
                seconds = time.perf_counter() - started
                kinds = {
                    k: sum(1 for o in outcomes if o.outcome == k) for k in ("added", "updated", "unchanged", "failed")
                }
                print(
                    f"{run}: {rows} rows, {mc.calls} API calls, {seconds:.1f} s ({seconds / rows * 1000:.2f} ms a "
                    f"row); {kinds}"
                )
    print(f"reading the CSV: {read_seconds:.2f} s; {len(problems)} rows skipped")


if __name__ == "__main__":
    main()
