"""60 simulated days on the sandbox: every lead gets every due step exactly once, in order, never early.

The daily push is skipped on 3 days, killed (kill -9) mid-run once, and its state file is lost once;
leads join at 23:59 and across the November daylight-saving change; one lead unsubscribes.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from mailpipe.schedule import local_to_utc
from simulation import TZ, Simulation, add_specials

START = dt.date(2024, 10, 1)
DAYS = 60
UNSUBSCRIBER = "lead03@example.com"


def check_guarantees(deliveries: list[dict], facts: dict, sim: Simulation) -> None:
    drip, leads, end = facts["drip"], facts["leads"], facts["end"]
    order = [step.content for step in drip.steps]
    got: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for delivery in deliveries:
        got[delivery["email"]].append((delivery["delivered_at"], delivery["title"]))

    # nothing else was sent: leads get drip steps, patients get the monthly email, nobody else anything
    lead_emails = {lead.email for lead in leads}
    assert set(got) <= lead_emails | {f"patient{n}@example.com" for n in range(5)}
    last_push = START + dt.timedelta(days=facts["last_push_day"])
    for lead in leads:
        received = sorted(got.get(lead.email, []))
        titles = [title for _, title in received]
        assert all(t.startswith(f"drip/{drip.slug}/") for t in titles), (lead.email, titles)
        steps = [t.split("/")[2] for t in titles]
        assert len(steps) == len(set(steps)), f"{lead.email} got a step twice: {steps}"
        assert steps == order[:len(steps)], f"{lead.email} got steps out of order: {steps}"
        times = [when for when, _ in received]
        assert times == sorted(set(times)), f"{lead.email}: two steps at the same time"
        joined_day = lead.joined.astimezone(__import__("zoneinfo").ZoneInfo(TZ)).date()
        for when, title in received:
            step = next(s for s in drip.steps if s.content == title.split("/")[2])
            due = local_to_utc(joined_day + dt.timedelta(days=step.delay_days), drip.send_time, drip.timezone)
            assert dt.datetime.fromisoformat(when) >= due, f"{lead.email} got {step.content} early: {when} < {due}"
        if lead.email in facts["unsubscribed_at"]:
            assert all(dt.datetime.fromisoformat(w) < facts["unsubscribed_at"][lead.email] for w in times)
            continue
        # late, not never: every step due well before the last daily run was delivered
        for step in drip.steps:
            due_day = joined_day + dt.timedelta(days=step.delay_days)
            if due_day <= last_push - dt.timedelta(days=len(sim.skip_days) + len(sim.failed_runs) + 2):
                assert step.content in steps, f"{lead.email} never got {step.content} (due {due_day})"

    for n in range(5):
        months = sorted(title for _, title in got[f"patient{n}@example.com"])
        assert months == ["monthly/monthly-specials/2024-10", "monthly/monthly-specials/2024-11"], months

    titles = [c["settings"]["title"] for c in facts["campaigns"]]
    assert len(titles) == len(set(titles)), "a campaign was created twice"


@pytest.fixture
def sim_project(project):
    add_specials(project, ["2024-10", "2024-11", "2024-12"])
    return project


def test_sixty_days_of_daily_runs_with_skips_a_kill_and_a_lost_state(sim_project):
    sim = Simulation(sim_project, START, DAYS, skip_days={9, 10, 40}, kill_day=20, lose_state_day=26,
                     unsubscribe={UNSUBSCRIBER: 12})
    deliveries, facts = sim.run()
    assert sim.killed_after_requests > 0
    assert len(deliveries) > 200
    check_guarantees(deliveries, facts, sim)
    dst = sorted(d["delivered_at"] for d in deliveries if d["email"] == "dst2@example.com")
    # joined 09:31 on Sunday Nov 3 (the day clocks fall back): step 1 on Nov 4 at 09:30 PST, which is 17:30 UTC
    assert dst[0] == "2024-11-04T17:30:00+00:00"
    before = sorted(d["delivered_at"] for d in deliveries if d["email"] == "dst0@example.com")
    assert before[0] == "2024-11-03T17:30:00+00:00"  # joined 23:59 Nov 2 (PDT): step 1 at 09:30 PST on Nov 3


def test_sixty_days_with_thirty_percent_injected_faults(sim_project):
    sim = Simulation(sim_project, START, DAYS, skip_days={5, 6, 40}, kill_day=15, unsubscribe={UNSUBSCRIBER: 12},
                     fault_rate=0.3, seed=30)
    deliveries, facts = sim.run()
    assert len(deliveries) > 200
    check_guarantees(deliveries, facts, sim)
