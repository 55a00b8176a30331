"""`decide()` as the pure function it is: what Mailchimp holds, the local record, the campaign files, the emails and the
time in; the steps out. A case per guarantee the README makes, on both sides of each limit. No server: the end-to-end
tests (test_campaigns, test_push_e2e) remain the oracles for the whole run."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from conftest import REPO
from mailpipe.load.campaigns import Drip, Monthly
from mailpipe.plan.keys import DripKey, MonthlyKey
from mailpipe.project import Project
from mailpipe.push.decide import Create, Delete, Found, Notice, Schedule, TaggedLead, Update, World, WriteLog, decide
from mailpipe.push.record import LeadLog
from mailpipe.push.state import Pushed

UTC = dt.UTC
TODAY = dt.date(2024, 5, 6)  # a Monday; the drip sends at 09:30 in Agoura Hills (16:30 UTC)
MORNING = dt.datetime(2024, 5, 6, 13, tzinfo=UTC)  # 06:00 there: the daily run
EVENING = dt.datetime(2024, 5, 6, 20, tzinfo=UTC)  # 13:00 there: a second run, after today's send
MAY_SEND = dt.datetime(2024, 5, 7, 17, tzinfo=UTC)  # May's monthly email: first Tuesday, 10:00 there
FIRST = "what-causes-migraine"


@pytest.fixture(scope="module")
def shipped():
    project = Project(REPO)
    rendered = project.rendered()
    drips = [c for c in project.campaigns if isinstance(c, Drip)]
    monthlies = [c for c in project.campaigns if isinstance(c, Monthly)]
    audiences = {name: (a.list_id, a.tag) for name, a in rendered.site.audiences.items()}
    return rendered, drips, monthlies, audiences


def lead(start: dt.date, *assigned: DripKey, email: str = "lea@example.com", exited: bool = False) -> TaggedLead:
    log = LeadLog({"e1": start}, frozenset(assigned))
    return TaggedLead(email, log, log.render(), None, exited)


def step(number: int, day: dt.date = TODAY) -> DripKey:
    return DripKey("e1", number, day)


def world(*leads: TaggedLead, now: dt.datetime = MORNING, found=None, pushed=None) -> World:
    return World(
        now,
        found or {},
        pushed or {},
        {"e1": list(leads)},
        {"aivi-main": {"mp-a": 1, "mp-b": 2}},
        {"aivi-main": True},
        {},
    )


def drip_run(shipped, state: World, refusals=None, emails=None, content=None):
    rendered, drips, _, audiences = shipped
    emails = emails or {e.id: e for e in rendered.emails}
    return decide(state, drips, [], audiences, emails, refusals or {}, content or rendered.content, "mailpipe")


def monthly_run(shipped, state: World, refusals=None, content=None):
    rendered, _, monthlies, audiences = shipped
    emails = {e.id: e for e in rendered.emails}
    return decide(state, [], monthlies, audiences, emails, refusals or {}, content or rendered.content, "mailpipe")


def states(decision, email: str = "lea@example.com") -> dict[int, str]:
    return next(p.steps for p in decision.progress if p.email == email)


def of(decision, kind: type) -> list:
    return [s for s in decision.steps if isinstance(s, kind)]


def created(decision) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.plan.key.title, s.plan.recipients) for s in of(decision, Create)]


# -- the drip -------------------------------------------------------------------------------------------------
def test_a_step_due_today_is_assigned_to_todays_campaign_and_recorded_on_the_lead_first(shipped):
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1))))
    assert states(decision) == {1: "assigned"}
    assert created(decision) == [("mp-e1-s01-2024-05-06", ("lea@example.com",))]
    (write,) = of(decision, WriteLog)
    assert "|e1.1.20240506|" in write.value
    assert decision.steps.index(write) < decision.steps.index(of(decision, Create)[0])  # the record, then the campaign


def test_a_step_is_never_assigned_before_it_is_due(shipped):
    decision = drip_run(shipped, world(lead(TODAY)))  # step 1 is due tomorrow
    assert states(decision) == {} and created(decision) == [] and of(decision, WriteLog) == []


def test_a_sent_step_is_never_given_again(shipped):
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=2)), found=None))
    assert states(decision) == {1: "assigned"}  # (the control: without its record, step 1 is due)
    sent = {step(1, TODAY - dt.timedelta(days=1)): Found("c1", "sent", None)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=2), *sent), found=sent))
    assert states(decision) == {1: "sent"} and created(decision) == []


def test_at_most_one_step_per_lead_per_local_day(shipped):
    """After today's send, a run later the same day finds step 2 due as well: it waits for tomorrow."""
    sent_today = {step(1): Found("c1", "sent", None)}
    decision = drip_run(shipped, world(lead(dt.date(2024, 5, 1), *sent_today), now=EVENING, found=sent_today))
    assert states(decision) == {1: "sent"} and created(decision) == []


@pytest.mark.parametrize("start, outcome", [(dt.date(2024, 4, 28), "assigned"), (dt.date(2024, 4, 27), "skipped")])
def test_a_step_goes_out_at_most_max_late_days_late_else_it_is_skipped(shipped, start, outcome):
    """Step 1 is due a day after the start at 09:30; 7 days later to the minute is still in time, a day more is not."""
    assert states(drip_run(shipped, world(lead(start))))[1] == outcome


def test_skipped_steps_are_passed_and_the_first_one_in_time_is_given(shipped):
    assert states(drip_run(shipped, world(lead(dt.date(2024, 4, 20))))) == {
        1: "skipped",
        2: "skipped",
        3: "skipped",
        4: "assigned",
    }


def test_a_lead_with_an_exit_tag_gets_no_further_step(shipped):
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), exited=True)))
    assert states(decision) == {} and created(decision) == []


def test_the_next_step_waits_until_the_previous_one_has_gone_out(shipped):
    waiting = {step(1, TODAY - dt.timedelta(days=3)): Found("c1", "schedule", "same")}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=8), *waiting), found=waiting))
    assert states(decision) == {1: "pending"} and created(decision) == []


def test_a_campaign_a_person_paused_holds_its_leads_and_is_said(shipped):
    paused = {step(1, TODAY - dt.timedelta(days=3)): Found("c1", "paused", "same")}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=8), *paused), found=paused))
    assert states(decision) == {1: "held"} and created(decision) == []
    (held,) = of(decision, Notice)
    assert held.kind == "held" and held.attention and "1 lead(s) get no further step" in held.detail


def test_a_campaign_deleted_before_it_sent_is_given_again_and_said(shipped):
    yesterday = step(1, TODAY - dt.timedelta(days=1))
    pushed = {yesterday: Pushed(yesterday, "c1", FIRST, "hash", True)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=2), yesterday), pushed=pushed))
    assert states(decision) == {1: "assigned"} and created(decision)[0][0] == "mp-e1-s01-2024-05-06"
    assert [(n.key, n.kind) for n in of(decision, Notice)] == [(yesterday, "deleted")]


def test_a_refused_email_is_not_given_and_is_said_once(shipped):
    leads = [lead(TODAY - dt.timedelta(days=1), email=f"{n}@example.com") for n in range(3)]
    decision = drip_run(shipped, world(*leads), refusals={FIRST: "what-causes-migraine fails checks"})
    assert created(decision) == [] and [(n.key, n.kind) for n in of(decision, Notice)] == [(step(1), "refused")]


def test_a_draft_a_stopped_run_left_is_scheduled_unless_its_email_is_now_refused(shipped):
    draft = {step(1): Found("c1", "save", None)}
    ours = {step(1): Pushed(step(1), "", FIRST, None, False)}  # the record a run writes before it creates
    assignee = lead(TODAY - dt.timedelta(days=1), step(1))
    scheduled = drip_run(shipped, world(assignee, found=draft, pushed=ours))
    assert [s.campaign_id for s in of(scheduled, Schedule)] == ["c1"]
    refused = drip_run(shipped, world(assignee, found=draft, pushed=ours), refusals={FIRST: "not signed off"})
    assert of(refused, Schedule) == [] and [n.kind for n in of(refused, Notice)] == ["refused"]


def test_a_draft_with_mailpipes_recipients_but_no_record_of_making_it_is_never_adopted(shipped):
    """The state file lost, or a person unscheduled (or made) it: whose draft it is cannot be known, so it is held."""
    draft = {step(1): Found("c1", "save", None)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), found=draft))
    assert of(decision, Schedule) == [] and of(decision, Delete) == []
    (notice,) = of(decision, Notice)
    assert notice.kind == "held" and notice.attention and "no sign of making" in notice.detail


def test_a_draft_that_can_no_longer_go_out_in_time_is_deleted_not_scheduled(shipped):
    old = step(1, TODAY - dt.timedelta(days=9))
    draft = {old: Found("c1", "save", None)}
    ours = {old: Pushed(old, "c1", FIRST, None, False)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=10), old), found=draft, pushed=ours))
    assert [(d.key, d.campaign_id) for d in of(decision, Delete)] == [(old, "c1")] and of(decision, Schedule) == []


def test_a_scheduled_campaign_whose_email_changed_is_updated_unless_the_new_version_is_refused(shipped):
    scheduled = {step(1): Found("c1", "schedule", "an older version")}
    assignee = lead(TODAY - dt.timedelta(days=1), step(1))
    assert [u.campaign_id for u in of(drip_run(shipped, world(assignee, found=scheduled)), Update)] == ["c1"]
    refused = drip_run(shipped, world(assignee, found=scheduled), refusals={FIRST: "not signed off"})
    assert of(refused, Update) == []
    (notice,) = of(refused, Notice)
    assert notice.kind == "refused" and "the scheduled version stays" in notice.detail


def test_a_sent_campaign_is_never_touched_even_when_its_email_changed(shipped):
    sent = {step(1): Found("c1", "sent", "an older version")}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), found=sent))
    assert [s for s in decision.steps if not isinstance(s, WriteLog)] == []


# -- the monthly email ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "now, made",
    [
        (MAY_SEND - dt.timedelta(hours=36), True),  # made by the run before it goes out, with a fresh snapshot
        (MAY_SEND - dt.timedelta(hours=36, minutes=1), False),
        (MAY_SEND + dt.timedelta(days=7), True),  # at most a week late
        (MAY_SEND + dt.timedelta(days=7, minutes=1), False),
    ],
)
def test_the_monthly_email_is_made_from_36_hours_before_its_send_until_a_week_after(shipped, now, made):
    titles = [s.plan.key.title for s in of(monthly_run(shipped, world(now=now)), Create)]
    assert ("mp-m1-2024-05" in titles) == made


@pytest.mark.parametrize("valid_until, made", [(dt.date(2024, 5, 8), True), (dt.date(2024, 5, 7), False)])
def test_the_monthly_email_is_never_sent_after_its_offers_end(shipped, valid_until, made):
    rendered = shipped[0]
    may = next(s for s in rendered.content.specials if s.front.month == "2024-05")
    ended = dataclasses.replace(may, front=dataclasses.replace(may.front, valid_until=valid_until))
    content = dataclasses.replace(
        rendered.content, specials=tuple(ended if s is may else s for s in rendered.content.specials)
    )
    late = MAY_SEND + dt.timedelta(days=1)  # the run on May 8, a day late
    decision = monthly_run(shipped, world(now=late), content=content)
    assert ("mp-m1-2024-05" in [s.plan.key.title for s in of(decision, Create)]) == made
    if not made:
        assert [(n.key, n.kind) for n in of(decision, Notice)] == [(MonthlyKey("m1", "2024-05"), "refused")]
