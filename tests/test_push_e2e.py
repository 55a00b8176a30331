"""Sixty simulated days with a marketer clicking around in Mailchimp between runs (seeded, several seeds), pushes
skipped, repeated, killed with kill -9 and dry-run at random moments, with and without 30% injected faults."""

from __future__ import annotations

import datetime as dt

import pytest

from simulation import Simulation, add_specials, check_guarantees

START = dt.date(2024, 10, 1)
DAYS = 60


@pytest.fixture
def sim_project(project):
    add_specials(project, ["2024-10", "2024-11", "2024-12"])
    return project


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "form", "timing"),
    [(1, "as-written", "create"), (2, "as-written", "send"), (3, "internal", "create"), (4, "internal", "send")],
)
def test_sixty_days_with_a_marketer_in_mailchimp(sim_project, seed, form, timing):
    """`form`: how the sandbox answers campaigns' conditions (`internal`: Mailchimp's merge0, mergeN); `timing`: when
    it resolves a campaign's segment (`send`: as on Free and Essentials plans)."""
    sim = Simulation(sim_project, START, DAYS, seed=seed, condition_form=form, segment_timing=timing)
    facts = sim.run()
    counts = check_guarantees(sim, facts)
    assert counts["delivered"] > 100 and sim.dry_runs > 5 and sim.pushes > 50
    done = {action for _, action, detail in sim.actions if detail}
    assert len(done & {"pause", "delete", "cancel", "unschedule", "rename", "move"}) >= 3, sim.actions
    assert {"rename-tag", "move-start", "tag-and-untag", "two-checkouts", "edit-article"} <= done, sim.actions
    assert sim.twice and sim.twins_deleted  # two checkouts made twins, and they were deleted before going out
    assert sim.kills >= 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", [30, 31])
def test_sixty_days_with_thirty_percent_injected_faults(sim_project, seed):
    sim = Simulation(sim_project, START, DAYS, seed=seed, fault_rate=0.3)
    facts = sim.run()
    counts = check_guarantees(sim, facts)
    assert counts["delivered"] > 100


@pytest.mark.slow
def test_sixty_quiet_days_deliver_every_step_on_time_across_daylight_saving(sim_project):
    """No marketer, no faults, no skipped days: every step arrives on its day at 09:30 local, PDT or PST."""
    sim = Simulation(sim_project, START, DAYS, seed=5, marketer_rate=0, skip_rate=0, kill_rate=0)
    facts = sim.run()
    check_guarantees(sim, facts)
    times = {d["delivered_at"][11:16] for d in facts["deliveries"] if not d["email"].startswith("patient")}
    assert times == {"16:30", "17:30"}  # 09:30 in Agoura Hills before and after Nov 3
    for patient in ("patient0@example.com", "patient3@example.com"):
        months = sorted(d["delivered_at"][:7] for d in facts["deliveries"] if d["email"] == patient)
        assert months == ["2024-10", "2024-11"], months
