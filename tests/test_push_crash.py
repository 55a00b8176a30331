"""A push killed with SIGKILL right after each of its writes reached Mailchimp (every one, in turn, not by chance):
the next run converges with no duplicate campaign and no duplicate delivery."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import signal
from collections import Counter

import pytest

from mailpipe.push.leads import Lead
from mailpipe.sandbox.server import RunningSandbox
from simulation import monday_template, push_once, written_key

UTC = dt.UTC
MONDAY = dt.datetime(
    2024, 5, 6, 13, tzinfo=UTC
)  # 06:00 local: step 1 (on time, and 3 days late) and the May newsletter


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A sandbox file with leads due on time and late, and a patient, ready for Monday's push; copied for each kill."""
    leads = [Lead(n, f"a{n}@example.com", "A", "", dt.datetime(2024, 5, 5, 9, tzinfo=UTC)) for n in range(3)]
    leads += [Lead(n, f"b{n}@example.com", "B", "", dt.datetime(2024, 5, 2, 9, tzinfo=UTC)) for n in range(3)]
    return monday_template(tmp_path_factory.mktemp("crash"), MONDAY, leads)


def _run(url, state_path, rendered, campaigns, now=MONDAY):
    return push_once(url, state_path, rendered, campaigns, now)


def _writes_of_a_clean_run(prepared, tmp_path) -> list[str]:
    root, rendered, campaigns, template = prepared
    shutil.copy(template, tmp_path / "clean.sqlite3")
    writes: list[str] = []
    with RunningSandbox(
        tmp_path / "clean.sqlite3",
        recorder=lambda r, s, a: writes.append(f"{r['method']} {r['path']}") if r["method"] != "GET" else None,
    ) as sandbox:
        _run(sandbox.url, tmp_path / "clean-state.sqlite3", rendered, campaigns)
    return writes


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_push_killed_after_each_write_converges_without_duplicates(prepared, tmp_path):
    root, rendered, campaigns, template = prepared
    writes = _writes_of_a_clean_run(prepared, tmp_path)
    creates = [
        w for w in writes if w.startswith("POST") and w.endswith(("/campaigns", "/merge-fields", "/campaign-folders"))
    ]
    assert len(creates) >= 4 and len(writes) > len(creates)  # folders, campaigns, member records, content, schedules
    for kill_after in range(1, len(writes) + 1):
        db, state_path = tmp_path / f"k{kill_after}.sqlite3", tmp_path / f"k{kill_after}-state.sqlite3"
        shutil.copy(template, db)
        seen = {"writes": 0, "pid": None}

        def kill_after_nth_write(request, status, answer, seen=seen, kill_after=kill_after):
            if request["method"] != "GET" and seen["pid"]:
                seen["writes"] += 1
                if seen["writes"] == kill_after:  # the server acted; the client never hears the answer
                    os.kill(seen["pid"], signal.SIGKILL)
                    seen["pid"] = None

        with RunningSandbox(db, recorder=kill_after_nth_write) as sandbox:

            def child(state_path=state_path) -> None:
                _run(sandbox.url, state_path, rendered, campaigns)
                os._exit(0)

            process = multiprocessing.get_context("fork").Process(target=child)
            process.start()
            seen["pid"] = process.pid
            process.join(60)
            assert process.exitcode == -signal.SIGKILL, (
                f"the push was meant to die after write {kill_after}: {writes[kill_after - 1]}"
            )
            _run(sandbox.url, state_path, rendered, campaigns, MONDAY + dt.timedelta(minutes=20))
            settled = _run(sandbox.url, state_path, rendered, campaigns, MONDAY + dt.timedelta(minutes=40))
            assert not settled.decision.writes, f"killed after {writes[kill_after - 1]}: a third run still had work"
            sandbox.store.advance(MONDAY + dt.timedelta(days=1, hours=6))
            made = sandbox.store.list_campaigns({"count": 100})["campaigns"]
            keys = Counter(written_key(sandbox.store, c) for c in made)
            assert all(n == 1 for n in keys.values()), (
                f"killed after {writes[kill_after - 1]}: duplicate campaigns {keys}"
            )
            assert len(keys) == 2 and all(c["status"] == "sent" for c in made), (
                kill_after,
                [(c["settings"]["title"], c["status"]) for c in made],
            )
            deliveries = Counter((d["email"], d["campaign_id"]) for d in sandbox.store.deliveries())
            people = Counter(email for email, _ in deliveries)
            assert all(n == 1 for n in deliveries.values()) and all(n == 1 for n in people.values()), (
                kill_after,
                deliveries,
            )
            assert sorted(people) == sorted(
                [f"a{n}@example.com" for n in range(3)] + [f"b{n}@example.com" for n in range(3)] + ["p@example.com"]
            )
