"""A lead's MPLOG: the compact encoding, its proven bound (load/campaigns.log_length, checked when the config is
loaded), records written by earlier versions read and kept as written, and five years of three drips through the
real decision staying within the bound."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from conftest import REPO
from mailpipe.load.campaigns import LOG_LIMIT, Drip, log_length
from mailpipe.plan import local_to_utc
from mailpipe.plan.keys import DripKey
from mailpipe.project import Project
from mailpipe.push.decide import Create, Found, TaggedLead, World, WriteLog, decide
from mailpipe.push.record import FIRST_DAY, LAST_DAY, LeadLog, conditions_for, key_of, log_entry
from mailpipe.push.state import Pushed

TZ = "America/Los_Angeles"


def test_every_day_mplog_can_hold_is_three_characters_and_reads_back():
    day, seen = FIRST_DAY, set()
    while day <= LAST_DAY:
        key = DripKey("e1", 20, day)
        entry = log_entry(key)
        assert len(entry) == len("e1.k.") + 3 and LeadLog.parse(f"|{entry}|").assigned == {key}
        seen.add(entry)
        day += dt.timedelta(days=1)
    assert len(seen) == (LAST_DAY - FIRST_DAY).days + 1
    assert LeadLog.parse("|e1.1.zzz|e1.1.s6l|") == LeadLog()  # past 2099: a hand edit, ignored
    assert LeadLog.parse("|e1.1.s6k|").assigned == {DripKey("e1", 1, LAST_DAY)}


def test_a_campaigns_recipients_name_the_entry_its_leads_carry():
    key = DripKey("e1", 2, dt.date(2024, 10, 7))
    ((_, _, _, value),) = conditions_for(key)
    assert value == f"|{log_entry(key)}|" == "|e1.2.6za|" and key_of(conditions_for(key)) == key


def test_a_record_an_earlier_version_wrote_is_read_and_its_entries_kept_as_written():
    """A campaign made then selects `|e1.1.20240501|`: rewriting that entry would take its lead out of it."""
    old = "|e1@20240430|e1.1.20240501|"
    log = LeadLog.parse(old)
    assert log.assigned == {DripKey("e1", 1, dt.date(2024, 5, 1))} and log.render() == old
    step2 = DripKey("e1", 2, dt.date(2024, 5, 4))
    assert log.with_assigned(step2).render() == f"|e1@20240430|e1.1.20240501|{log_entry(step2)}|"
    again = DripKey("e1", 1, dt.date(2024, 5, 2))  # step 1 given again (its campaign was deleted): replaced
    assert log.with_assigned(again).render() == f"|e1@20240430|{log_entry(again)}|"


def test_a_step_given_again_replaces_its_void_entry():
    first, second = DripKey("e1", 3, dt.date(2024, 5, 1)), DripKey("e1", 3, dt.date(2024, 5, 3))
    other = DripKey("e2", 3, dt.date(2024, 5, 1))
    log = LeadLog({"e1": dt.date(2024, 4, 20)}).with_assigned(first).with_assigned(other).with_assigned(second)
    assert log.assigned == {second, other}


@pytest.fixture(scope="module")
def three_drips():
    project = Project(REPO)
    rendered = project.rendered()
    shipped = next(c for c in project.campaigns if isinstance(c, Drip))
    drips = [dataclasses.replace(shipped, code=code, name=code) for code in ("e1", "e2", "e3")]
    return rendered, drips


@pytest.mark.parametrize("seed", [1, 2])
def test_five_years_of_three_drips_never_write_a_record_past_the_bound(three_drips, seed):
    """Leads join all through five years and go through three drips of one audience while a person deletes one
    campaign in six before it goes out (its leads are given the step again later): every MPLOG push writes stays
    within the bound the config checks, which is within Mailchimp's 255 characters."""
    rendered, drips = three_drips
    bound = log_length(drips)
    assert bound <= LOG_LIMIT
    rng = random.Random(seed)
    start = dt.date(2026, 1, 1)
    days = 5 * 365 + 1
    joins = {f"lead{n}@example.com": start + dt.timedelta(days=rng.randrange(days - 40)) for n in range(60)}
    logs: dict[str, str] = {}
    found: dict[DripKey, Found] = {}
    pushed: dict[DripKey, Pushed] = {}
    emails = {e.id: e for e in rendered.emails}
    audiences = {name: (a.list_id, a.tag) for name, a in rendered.site.audiences.items()}
    longest, writes, assigned_again = 0, 0, 0
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        now = local_to_utc(day, "06:00", TZ)
        for key, campaign in list(found.items()):  # yesterday's campaigns went out; push reads back 90 days
            if campaign.status == "schedule" and key.day < day:
                found[key] = Found(campaign.campaign_id, "sent", None)
            if (day - key.day).days > 90:
                del found[key]
        present = [email for email, joined in joins.items() if joined <= day and (day - joined).days < 60]
        leads = {}
        for drip in drips:
            leads[drip.code] = [
                TaggedLead(
                    email,
                    LeadLog.parse(logs.get(email, "")),
                    logs.get(email, ""),
                    local_to_utc(joins[email], "08:00", TZ),
                    False,
                )
                for email in present
            ]
        recent = {key: entry for key, entry in pushed.items() if (day - key.day).days <= 90}
        world = World(now, dict(found), recent, leads, {"aivi-main": {"mp-a": 1, "mp-b": 2}}, {"aivi-main": True}, {})
        decision = decide(world, drips, [], audiences, emails, {}, rendered.content, "mailpipe")
        for step in decision.steps:
            if isinstance(step, WriteLog):
                assert len(step.value) <= bound, (day, step.email, step.value)
                longest, writes = max(longest, len(step.value)), writes + 1
                logs[step.email] = step.value
            elif isinstance(step, Create):
                key = step.plan.key
                assigned_again += any(k.code == key.code and k.step == key.step for k in pushed)
                pushed[key] = Pushed(key, f"c{len(pushed)}", step.plan.email.id, step.plan.email.content_hash, True)
                if rng.random() < 1 / 6:
                    continue  # deleted in Mailchimp before it went out: void, given again on a later day
                found[key] = Found(pushed[key].campaign_id, "schedule", None)
    finished = [e for e in logs if len(LeadLog.parse(logs[e]).assigned) == 21]
    assert writes > 1000 and assigned_again > 10 and finished, (writes, assigned_again)
    assert longest <= bound <= LOG_LIMIT
