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
from mailpipe.push.decide import (
    CampaignPlan,
    Create,
    Delete,
    Found,
    LeadProgress,
    MakeFolder,
    Notice,
    Schedule,
    TaggedLead,
    Update,
    World,
    WriteLog,
    decide,
)
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
    assert "|e1.1.6v0|" in write.value  # step 1, on day 6v0 (base 36) after 2000-01-01: May 6, 2024
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
    # said as the refusal, about this campaign, and loud: a person must sign it off before the lead misses the step
    assert of(refused, Schedule) == [] and of(refused, Notice) == [Notice(step(1), "refused", "not signed off", True)]


def test_a_draft_with_mailpipes_recipients_but_no_record_of_making_it_is_never_adopted(shipped):
    """The state file lost, or a person unscheduled (or made) it: whose draft it is cannot be known, so it is held."""
    draft = {step(1): Found("c1", "save", None)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), found=draft))
    assert of(decision, Schedule) == [] and of(decision, Delete) == []
    (notice,) = of(decision, Notice)
    assert notice.kind == "held" and "no sign of making" in notice.detail
    assert "act by Mon May 13 09:30 or it is missed" in notice.detail and not notice.attention  # said, not loud yet
    day_before = MORNING + dt.timedelta(days=6, hours=3, minutes=30)  # May 12 09:30: a day before its leads miss it
    (notice,) = of(
        drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), found=draft, now=day_before)), Notice
    )
    assert notice.attention
    (notice,) = of(
        drip_run(
            shipped,
            world(lead(TODAY - dt.timedelta(days=1), step(1)), found=draft, now=day_before - dt.timedelta(minutes=15)),
        ),
        Notice,
    )
    assert not notice.attention
    ended = MORNING + dt.timedelta(days=7, hours=3, minutes=30)  # May 13 09:30 local: the window has just closed
    assignee = lead(TODAY - dt.timedelta(days=1), step(1))
    (notice,) = of(drip_run(shipped, world(assignee, found=draft, now=ended)), Notice)
    assert notice.detail.endswith("; its time ended Mon May 13 09:30: it was missed"), notice.detail


def test_a_draft_that_can_no_longer_go_out_in_time_is_deleted_not_scheduled(shipped):
    old = step(1, TODAY - dt.timedelta(days=9))
    draft = {old: Found("c1", "save", None)}
    ours = {old: Pushed(old, "c1", FIRST, None, False)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=10), old), found=draft, pushed=ours))
    assert of(decision, Delete) == [Delete(old, "c1", "a draft left by a stopped run, now too late to send")]
    assert of(decision, Schedule) == []


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


# -- one drip email a day, by the day it arrives; nothing in the quiet hours ------------------------
def local(day: dt.date, hh_mm: str) -> dt.datetime:
    from mailpipe.plan import local_to_utc

    return local_to_utc(day, hh_mm, "America/Los_Angeles")


@pytest.mark.parametrize(
    ("run", "day", "sent"),
    [
        ("05:00", TODAY, "09:30"),  # before its time: at its time
        ("12:00", TODAY, "12:15"),  # late: the earliest Mailchimp takes (15 minutes ahead)
        ("20:30", TODAY, "20:45"),  # the last quarter hour before the quiet hours
        ("20:31", TODAY + dt.timedelta(days=1), "09:30"),  # 21:00 is quiet: tomorrow, at its own time
        ("23:40", TODAY + dt.timedelta(days=1), "09:30"),  # never at midnight
    ],
)
def test_a_run_sends_on_the_day_the_email_arrives_and_never_in_the_quiet_hours(run, day, sent):
    from mailpipe.load.config import QuietHours
    from mailpipe.plan import delivery

    got_day, at = delivery(TODAY, "09:30", "America/Los_Angeles", QuietHours(), local(TODAY, run))
    assert (got_day, at) == (day, local(day, sent))


def test_without_quiet_hours_a_late_run_still_never_sends_after_midnight():
    from mailpipe.load.config import QuietHours
    from mailpipe.plan import delivery

    none = QuietHours("00:00", "00:00")
    assert delivery(TODAY, "09:30", "America/Los_Angeles", none, local(TODAY, "23:20"))[1] == local(TODAY, "23:45")
    tomorrow = TODAY + dt.timedelta(days=1)
    assert delivery(TODAY, "09:30", "America/Los_Angeles", none, local(TODAY, "23:40"))[1] == local(tomorrow, "09:30")


@pytest.mark.parametrize(("time", "quiet"), [("20:59", False), ("21:00", True), ("06:59", True), ("07:00", False)])
def test_quiet_hours_run_from_their_start_up_to_their_end(time, quiet):
    from mailpipe.load.config import QuietHours

    assert QuietHours().hold(time) is quiet
    assert QuietHours("13:00", "14:00").hold(time) is False


def test_a_late_evening_run_gives_the_step_to_tomorrow_and_the_morning_run_adds_none(shipped):
    """The outage case: step 1 two days late, step 2 due tomorrow. A run at 23:40 schedules step 1 for tomorrow 09:30
    (it counts for tomorrow); tomorrow's 06:00 run gives step 2 to nobody, as step 1 arrives that day."""
    entered = TODAY - dt.timedelta(days=3)  # step 1 was due 2 days ago, step 2 (day 4) is due tomorrow
    tomorrow = TODAY + dt.timedelta(days=1)
    late = drip_run(shipped, world(lead(entered), now=local(TODAY, "23:40")))
    assert created(late) == [(step(1, tomorrow).title, ("lea@example.com",))]
    assert of(late, Create)[0].plan.send_at == local(tomorrow, "09:30")
    morning = world(
        lead(entered, step(1, tomorrow)),
        now=local(tomorrow, "06:00"),
        found={step(1, tomorrow): Found("c1", "schedule", None)},
        pushed={step(1, tomorrow): Pushed(step(1, tomorrow), "c1", FIRST, None, True)},
    )
    assert created(drip_run(shipped, morning)) == []


def test_a_stopped_runs_draft_that_can_no_longer_go_out_on_its_day_is_deleted_not_sent_at_night(shipped):
    pushed = {step(1): Pushed(step(1), "c1", FIRST, None, False)}
    found = {step(1): Found("c1", "save", None)}
    entered = TODAY - dt.timedelta(days=1)
    evening = drip_run(shipped, world(lead(entered, step(1)), now=local(TODAY, "20:00"), found=found, pushed=pushed))
    assert [s.campaign_id for s in of(evening, Schedule)] == ["c1"]
    assert of(evening, Schedule)[0].plan.send_at == local(TODAY, "20:15")
    night = drip_run(shipped, world(lead(entered, step(1)), now=local(TODAY, "20:40"), found=found, pushed=pushed))
    assert [s.campaign_id for s in of(night, Delete)] == ["c1"] and not of(night, Schedule)


def test_two_drips_of_one_audience_share_a_lead_record_and_give_one_email_a_day_between_them(shipped):
    rendered, drips, _, audiences = shipped
    later = (dataclasses.replace(drips[0].steps[4], delay_days=1), dataclasses.replace(drips[0].steps[5], delay_days=5))
    second = dataclasses.replace(drips[0], code="e2", name="Second", steps=later)  # step 1 due the day e1's is
    entered = TODAY - dt.timedelta(days=1)
    log = LeadLog({"e1": entered, "e2": entered})
    member = TaggedLead("lea@example.com", log, log.render(), None, False)
    state = dataclasses.replace(world(member), leads={"e1": [member], "e2": [member]})
    emails = {e.id: e for e in rendered.emails}
    first_day = decide(state, [drips[0], second], [], audiences, emails, {}, rendered.content, "mailpipe")
    assert created(first_day) == [(step(1).title, ("lea@example.com",))]
    (write,) = of(first_day, WriteLog)
    assert LeadLog.parse(write.value).assigned == {step(1)} and set(LeadLog.parse(write.value).starts) == {"e1", "e2"}
    tomorrow = TODAY + dt.timedelta(days=1)
    sent = {step(1): Found("c1", "sent", None)}
    after = LeadLog.parse(write.value)
    member = TaggedLead("lea@example.com", after, write.value, None, False)
    state = dataclasses.replace(
        world(member, now=MORNING + dt.timedelta(days=1), found=sent), leads={"e1": [member], "e2": [member]}
    )
    next_day = decide(state, [drips[0], second], [], audiences, emails, {}, rendered.content, "mailpipe")
    assert created(next_day) == [(DripKey("e2", 1, tomorrow).title, ("lea@example.com",))]


def test_a_twin_found_when_reading_is_deleted_and_loud(shipped):
    from mailpipe.push.decide import Twin

    twin = Twin(step(1), "c2", True, "c1")
    state = dataclasses.replace(
        world(lead(TODAY - dt.timedelta(days=1), step(1)), found={step(1): Found("c1", "schedule", None)}),
        twins=[twin],
    )
    deletes = of(drip_run(shipped, state), Delete)
    assert [(d.campaign_id, d.twin) for d in deletes] == [("c2", twin)] and "c1 stays" in deletes[0].why


@pytest.mark.parametrize(("status", "verb"), [("paused", "resumed"), ("canceled", "scheduled again")])
def test_a_monthly_email_a_person_holds_is_left_alone_and_said_with_who_misses_it(shipped, status, verb):
    """Said every run with what a person can do and until when (the email may go out up to a week late); after
    that, said as missed. Neither is loud until a day before (nobody can help it once missed)."""
    may = MonthlyKey("m1", "2024-05")
    held = {may: Found("c9", status, "same")}
    before = of(monthly_run(shipped, world(now=MAY_SEND - dt.timedelta(hours=2), found=held)), Notice)
    said = (
        f"{status} in Mailchimp by a person: mailpipe leaves it alone; it is not sent until it is {verb} or deleted in "
        f"Mailchimp; {verb.split()[0]} by Tue May 14 10:00 or its 0 member(s) miss 2024-05"
    )
    assert before == [Notice(may, "held", said, False)]
    last_minute = of(monthly_run(shipped, world(now=MAY_SEND + dt.timedelta(days=7, minutes=-1), found=held)), Notice)
    assert last_minute == [Notice(may, "held", said, True)]  # a day before its time ends it is loud
    after = of(monthly_run(shipped, world(now=MAY_SEND + dt.timedelta(days=7), found=held)), Notice)
    missed = said.split("; ")[:2] + ["its time ended Tue May 14 10:00: 2024-05 was missed"]
    assert after == [Notice(may, "held", "; ".join(missed), False)]


@pytest.mark.parametrize(("waiting", "leads"), [(1, "1 lead"), (2, "2 leads")])
def test_a_drip_whose_tag_is_gone_is_loud_and_says_how_to_mend_it(shipped, waiting, leads):
    state = dataclasses.replace(world(), untagged={"e1": waiting})
    (notice,) = of(drip_run(shipped, state), Notice)
    assert notice == Notice(
        None,
        "problem",
        f"Migraine education series: the tag 'mp-a' is not in Mailchimp (renamed or deleted?) and {leads} of this "
        "drip wait for their next step; rename the tag back to 'mp-a' in Mailchimp (or tag them again)",
        True,
    )


def test_a_dry_run_says_each_step_it_would_take_as_what_it_would_do(shipped):
    """What `push --dry-run` prints is the decision said step by step: each kind with its own words, its campaign and
    its plan; the lead records counted once, first; a notice as it is, loudness included."""
    from mailpipe.push import Outcome, planned
    from mailpipe.push.decide import Decision, MakeFolder, MakeLogField, WaitingRoom

    (create,) = of(drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1)))), Create)
    plan = create.plan
    stale = step(1, TODAY - dt.timedelta(days=9))
    notice = Notice(step(2), "refused", "not signed off", True)
    steps = [
        MakeFolder("mailpipe: Migraine education series"),
        MakeLogField("aivi-main"),
        WaitingRoom("aivi-main", "e1", 7),
        WriteLog("aivi-main", "a@example.com", "|e1@20240505|"),
        WriteLog("aivi-main", "b@example.com", "|e1@20240505|"),
        create,
        Schedule(plan, "c1"),
        Update(plan, "c2"),
        Delete(stale, "c3", "a draft left by a stopped run, now too late to send"),
        notice,
    ]
    assert planned(Decision(steps)) == [
        Outcome(None, "would write", "2 lead record(s) (MPLOG)"),
        Outcome(None, "would make folder", "mailpipe: Migraine education series"),
        Outcome(None, "would add field", "the hidden merge field MPLOG to audience aivi-main"),
        Outcome(None, "would add segment", "the saved segment mp-e1-new (the drip's waiting room)"),
        Outcome(plan.key, "would create", FIRST, plan),
        Outcome(plan.key, "would schedule", "the draft c1", plan),
        Outcome(plan.key, "would update", "its email changed: unschedule, update, schedule again", plan),
        Outcome(stale, "would delete", "a draft left by a stopped run, now too late to send"),
        Outcome(step(2), "refused", "not signed off", attention=True),
    ]


def test_a_held_campaign_counts_every_lead_waiting_on_it_and_the_first_deadline(shipped):
    """Two leads given step 1 in a campaign a person paused: both counted, and the time to act is the earlier of
    their last days (max_late_days after each one's step was due), whichever lead comes first."""
    key = step(1, TODAY - dt.timedelta(days=3))
    paused = {key: Found("c1", "paused", "same")}
    for order in ((8, 5), (5, 8)):  # days since each lead entered
        leads = [lead(TODAY - dt.timedelta(days=d), key, email=f"{d}@example.com") for d in order]
        (held,) = of(drip_run(shipped, world(*leads, found=paused)), Notice)
        assert held.detail == (
            "paused in Mailchimp by a person: mailpipe leaves it alone; 2 lead(s) get no further step until it is "
            "resumed or deleted in Mailchimp, or its time ends; resumed by Mon May 6 09:30 or the first of them "
            "misses step 1"
        ), held.detail
        assert held.attention


def test_leads_inside_a_drip_are_those_that_entered_it_and_were_not_given_its_last_step(shipped):
    """What the missing-tag notice and the import's refusal count: a lead given step 7 of 7 has left the drip; one
    given step 6, or none yet, is inside; one of another drip, or none, is not."""
    from mailpipe.push.read import leads_inside

    _, drips, _, _ = shipped
    (drip,) = drips
    last = len(drip.steps)
    assert last == 7
    entered = LeadLog({"e1": TODAY}, frozenset())
    logs = [
        entered.render(),
        LeadLog({"e1": TODAY}, frozenset({step(last - 1)})).render(),
        LeadLog({"e1": TODAY}, frozenset({step(last)})).render(),
        LeadLog({"e2": TODAY}, frozenset()).render(),
        "",
    ]
    assert leads_inside(drip, logs) == 2
    assert leads_inside(drip, logs[2:]) == 0


# -- the monthly email, each step it can take, exactly ------------------------------------------------------
MAY = MonthlyKey("m1", "2024-05")
SPECIALS = "mailpipe: Monthly specials"


def patients(now: dt.datetime, tagged: bool = True, **changes) -> World:
    """The world of a monthly run: 3 patients carry the monthly email's tag `mp-b` (or nobody has it yet)."""
    tags = {"aivi-main": {"mp-a": 1, "mp-b": 2} if tagged else {"mp-a": 1}}
    return dataclasses.replace(world(now=now), tag_ids=tags, tag_sizes={("aivi-main", "mp-b"): 3}, **changes)


def may_plan(shipped, send_at: dt.datetime = MAY_SEND) -> CampaignPlan:
    may_email = next(e for e in shipped[0].emails if e.id == "newsletter-2024-05")
    return CampaignPlan(MAY, may_email, "aivi-main", SPECIALS, MAY_SEND, send_at, (), "mp-b")


def with_may_valid_until(shipped, valid_until: dt.date):
    content = shipped[0].content
    may = next(s for s in content.specials if s.front.month == "2024-05")
    ended = dataclasses.replace(may, front=dataclasses.replace(may.front, valid_until=valid_until))
    return dataclasses.replace(content, specials=tuple(ended if s is may else s for s in content.specials))


@pytest.mark.parametrize(
    ("now", "send_at"),
    [
        (MAY_SEND - dt.timedelta(hours=36), MAY_SEND),  # made ahead, for its own time
        # a day late (Wed 15:07 there): as soon as Mailchimp takes it, on the next quarter hour but one
        (MAY_SEND + dt.timedelta(days=1, hours=5, minutes=7), dt.datetime(2024, 5, 8, 22, 30, tzinfo=UTC)),
    ],
)
def test_the_monthly_email_is_made_for_its_tag_in_its_folder_at_its_time_or_as_soon_as_it_can_go(shipped, now, send_at):
    assert monthly_run(shipped, patients(now)).steps == [MakeFolder(SPECIALS), Create(may_plan(shipped, send_at))]


def test_a_monthly_email_deleted_in_mailchimp_before_it_sent_is_made_again_and_said(shipped):
    pushed = {MAY: Pushed(MAY, "c1", "newsletter-2024-05", "hash", True)}
    decision = monthly_run(shipped, patients(MAY_SEND - dt.timedelta(hours=2), pushed=pushed))
    assert decision.steps == [
        MakeFolder(SPECIALS),
        Create(may_plan(shipped)),
        Notice(MAY, "deleted", "deleted in Mailchimp before it was sent; made again", False),
    ]


def test_a_monthly_email_whose_tag_nobody_has_yet_waits_quietly(shipped):
    decision = monthly_run(shipped, patients(MAY_SEND - dt.timedelta(hours=2), tagged=False))
    assert decision.steps == [Notice(MAY, "waiting", "nobody in the audience has the tag 'mp-b' yet", False)]


def test_a_refused_monthly_email_is_loud_with_when_its_patients_miss_it(shipped):
    refused = {"newsletter-2024-05": "not signed off"}
    decision = monthly_run(shipped, patients(MAY_SEND - dt.timedelta(hours=30)), refusals=refused)
    detail = "not signed off; act by Tue May 14 10:00 or its 3 member(s) miss it"
    assert decision.steps == [Notice(MAY, "refused", detail, True)]


def test_a_month_with_no_special_is_a_loud_problem_with_how_to_mend_it_and_by_when(shipped):
    july = dt.datetime(2024, 7, 1, 13, tzinfo=UTC)  # Mon 06:00 there; July's goes out Tue Jul 2 10:00
    assert monthly_run(shipped, patients(july)).steps == [
        Notice(
            MonthlyKey("m1", "2024-07"),
            "problem",
            "no newsletter for 2024-07: write content/specials/2024-07.md (`mailpipe new special 2024-07` starts it) "
            "by 2024-06-25, a week before it is due on 2024-07-02; fix it by Tue Jul 9 10:00 or its 3 member(s) miss "
            "it",
            True,
        )
    ]


def test_a_monthly_email_whose_offers_ended_is_said_not_sent_and_not_loud(shipped):
    content = with_may_valid_until(shipped, dt.date(2024, 5, 7))
    decision = monthly_run(shipped, patients(MAY_SEND + dt.timedelta(days=1)), content=content)
    assert decision.steps == [Notice(MAY, "refused", "the 2024-05 offers have ended; not sent late", False)]


@pytest.mark.parametrize(("valid_until", "scheduled"), [(dt.date(2024, 5, 8), True), (dt.date(2024, 5, 7), False)])
def test_a_stopped_runs_monthly_draft_is_scheduled_while_its_offers_last_else_deleted(shipped, valid_until, scheduled):
    draft = {MAY: Found("c1", "save", None)}
    ours = {MAY: Pushed(MAY, "c1", "newsletter-2024-05", None, False)}
    late = MAY_SEND + dt.timedelta(days=1)  # Wed May 8, 10:00 there
    content = with_may_valid_until(shipped, valid_until)
    decision = monthly_run(shipped, patients(late, found=draft, pushed=ours), content=content)
    if scheduled:
        expected = Schedule(may_plan(shipped, dt.datetime(2024, 5, 8, 17, 15, tzinfo=UTC)), "c1")
    else:
        expected = Delete(MAY, "c1", "a draft left by a stopped run; the 2024-05 offers have ended")
    assert decision.steps == [expected]


def test_a_scheduled_monthly_email_that_changed_is_updated_within_its_week(shipped):
    scheduled = {MAY: Found("c1", "schedule", "an older version")}
    ours = {MAY: Pushed(MAY, "c1", "newsletter-2024-05", "an older version", True)}
    decision = monthly_run(shipped, patients(MAY_SEND - dt.timedelta(hours=2), found=scheduled, pushed=ours))
    assert decision.steps == [Update(may_plan(shipped), "c1")]


@pytest.mark.parametrize(("day", "said"), [(dt.date(2024, 8, 9), True), (dt.date(2024, 8, 10), False)])
def test_a_held_monthly_email_is_said_until_its_month_is_forty_days_behind(shipped, day, said):
    """June's email, paused by a person and never sent, is said (as missed) every run while the run looks back over
    it: 40 days from the day of the run, so up to August 9, when June 30 is 40 days back."""
    june = MonthlyKey("m1", "2024-06")
    paused = {june: Found("c6", "paused", "same")}
    run = dt.datetime.combine(day, dt.time(13), UTC)  # 06:00 there
    notices = of(monthly_run(shipped, patients(run, found=paused)), Notice)
    assert [n.key for n in notices if n.key == june] == ([june] if said else [])


# -- the drip, each step it can take, exactly ----------------------------------------------------------------
EDUCATION = "mailpipe: Migraine education series"
AT_0930 = dt.datetime(2024, 5, 6, 16, 30, tzinfo=UTC)  # today's drip campaigns go out at 09:30 there


def first_plan(shipped, *recipients: str, key: DripKey | None = None) -> CampaignPlan:
    key = key or step(1)
    email = next(e for e in shipped[0].emails if e.id == FIRST)
    wanted = dt.datetime.combine(key.day, dt.time(16, 30), UTC)
    return CampaignPlan(key, email, "aivi-main", EDUCATION, wanted, max(wanted, AT_0930), recipients, None)


def test_a_lead_due_a_step_gets_the_folder_their_record_and_todays_campaign_in_that_order(shipped):
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1))))
    assert decision.steps == [
        MakeFolder(EDUCATION),
        WriteLog("aivi-main", "lea@example.com", "|e1@20240505|e1.1.6v0|"),
        Create(first_plan(shipped, "lea@example.com")),
    ]
    assert decision.progress == [LeadProgress("lea@example.com", "e1", {1: "assigned"})]


@pytest.mark.parametrize(
    ("entered", "start"),
    [
        (dt.datetime(2024, 5, 5, 3, tzinfo=UTC), "20240504"),  # 20:00 on May 4 there: their own day, not UTC's
        (None, "20240506"),  # tagged before push could see when: they start today
    ],
)
def test_a_new_lead_starts_the_drip_on_the_local_day_they_were_tagged(shipped, entered, start):
    new = TaggedLead("lea@example.com", LeadLog({}, frozenset()), "", entered, False)
    (write,) = of(drip_run(shipped, world(new)), WriteLog)
    assert write.value.startswith(f"|e1@{start}|")


def test_a_refused_step_is_said_once_with_how_many_leads_wait_and_the_first_ones_deadline(shipped):
    leads = [lead(TODAY - dt.timedelta(days=d), email=f"{d}@example.com") for d in (1, 3)]
    decision = drip_run(shipped, world(*leads), refusals={FIRST: "not signed off"})
    detail = "not signed off; act by Sat May 11 09:30 or the first of 2 lead(s) due step 1 misses it"
    assert of(decision, Notice) == [Notice(step(1), "refused", detail, True)] and of(decision, Create) == []


@pytest.mark.parametrize(
    ("now", "said"),
    [
        (MORNING, "; act by Mon May 6 09:30 or the scheduled version goes out"),
        (EVENING, "; its time ended Mon May 6 09:30: the scheduled version went out"),
    ],
)
def test_a_changed_scheduled_campaign_whose_new_version_is_refused_keeps_the_old_and_says_until_when(
    shipped, now, said
):
    scheduled = {step(1): Found("c1", "schedule", "an older version")}
    state = world(lead(TODAY - dt.timedelta(days=1), step(1)), found=scheduled, now=now)
    decision = drip_run(shipped, state, refusals={FIRST: "not signed off"})
    detail = "changed, but not signed off; the scheduled version stays" + said
    assert of(decision, Notice) == [Notice(step(1), "refused", detail, True)]


@pytest.mark.parametrize(("days_ago", "said"), [(1, True), (2, False)])
def test_a_drip_campaign_deleted_before_it_sent_is_said_the_day_after_and_no_longer(shipped, days_ago, said):
    gone = step(1, TODAY - dt.timedelta(days=days_ago))
    pushed = {gone: Pushed(gone, "c1", FIRST, "hash", True)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=days_ago + 1), gone), pushed=pushed))
    notice = Notice(
        gone,
        "deleted",
        "deleted in Mailchimp before it was sent; its leads get this step on a later day (if still within "
        "max_late_days)",
        False,
    )
    assert of(decision, Notice) == ([notice] if said else [])


@pytest.mark.parametrize(("days_ago", "said"), [(1, True), (2, False)])
def test_leads_a_sent_campaign_did_not_reach_are_counted_and_said_the_day_after_and_no_longer(shipped, days_ago, said):
    """Mailchimp's report of who a sent campaign reached, read case-blind: two leads it missed are counted (said
    once, about the campaign), and one it reached whose address Mailchimp spells in other letters is not."""
    sent = step(1, TODAY - dt.timedelta(days=days_ago))
    leads = [
        lead(TODAY - dt.timedelta(days=days_ago + 1), sent, email=email)
        for email in ("a@example.com", "b@example.com", "Cleo@Example.com")
    ]
    state = dataclasses.replace(
        world(*leads, found={sent: Found("c1", "sent", "same")}), sent_to={sent: {"cleo@example.com"}}
    )
    decision = drip_run(shipped, state)
    notice = Notice(
        sent,
        "not reached",
        "went out, but not to 2 lead(s) it was made for (Mailchimp's report; dropped from its segment before the "
        "send?): they get this step on a later day, if still within max_late_days",
        False,
    )
    assert of(decision, Notice) == ([notice] if said else [])
    assert [states(decision, email)[1] for email in ("a@example.com", "Cleo@Example.com")] == ["assigned", "sent"]


def test_steps_are_carried_out_folders_fields_and_rooms_first_then_records_deletions_campaigns_and_notices(shipped):
    """Whatever order the decision found them in: a campaign's folder, the MPLOG field its leads' records need and the
    waiting room that names that field exist before anything uses them; records are written before the campaigns
    that target them; a deletion comes before what is made; notices last. A folder or field that exists is not made."""
    from mailpipe.push.decide import Decision, MakeLogField, WaitingRoom, _prepare

    plan = first_plan(shipped, "lea@example.com")
    elsewhere = dataclasses.replace(plan, folder="mailpipe: Another")
    notice, write = Notice(None, "ignored", "a record that cannot be true", False), WriteLog("l2", "a@example.com", "|")
    delete = Delete(step(1, TODAY - dt.timedelta(days=9)), "c3", "a draft left by a stopped run, now too late to send")
    decision = Decision(
        [notice, Create(plan), Create(elsewhere), Update(plan, "c2"), Schedule(plan, "c1"), delete, write]
    )
    rooms = [WaitingRoom("l3", "e1", 7), WaitingRoom("l2", "e2", 8), WaitingRoom("l1", "e3", 9)]
    state = dataclasses.replace(
        world(), folders={"mailpipe: Another": "f1"}, log_field={"l1": True, "l2": False}, rooms=rooms
    )
    _prepare(decision, state)
    assert decision.steps == [
        MakeFolder(EDUCATION),
        MakeLogField("l2"),  # the records' list first, then the rooms' lists; l1 has the field
        MakeLogField("l3"),
        *rooms,
        write,
        delete,
        Update(plan, "c2"),
        Schedule(plan, "c1"),
        Create(plan),
        Create(elsewhere),
        notice,
    ]


def test_a_held_drip_campaign_whose_time_ended_says_its_leads_missed_the_step_and_go_on(shipped):
    held = step(1, TODAY - dt.timedelta(days=9))
    paused = {held: Found("c1", "paused", "same")}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=10), held), found=paused))
    assert of(decision, Notice) == [
        Notice(
            held,
            "held",
            "paused in Mailchimp by a person: mailpipe leaves it alone; 1 lead(s) get no further step until it is "
            "resumed or deleted in Mailchimp, or its time ends; its time ended Sat May 4 09:30: its leads missed step "
            "1 and go on with the next ones (resuming it now would send it late: delete it)",
            False,
        )
    ]
    assert states(decision) == {1: "skipped", 2: "assigned"}


@pytest.mark.parametrize(("entered_days_ago", "updated"), [(8, True), (9, False)])
def test_a_changed_scheduled_campaign_is_updated_only_while_it_can_still_reach_its_leads_in_time(
    shipped, entered_days_ago, updated
):
    """The lead's step 1 was due the day after they entered; its time ends max_late_days (7) later at 09:30. Entered 8
    days ago, that is today's 09:30, when the campaign goes out: still in time. A day earlier, it is too late."""
    scheduled = {step(1): Found("c1", "schedule", "an older version")}
    state = world(lead(TODAY - dt.timedelta(days=entered_days_ago), step(1)), found=scheduled)
    decision = drip_run(shipped, state)
    kept = Notice(
        step(1),
        "kept",
        "changed, but scheduling it again now would send it too late; the scheduled version stays",
        False,
    )
    expected = [Update(first_plan(shipped), "c1")] if updated else [kept]
    assert [s for s in decision.steps if isinstance(s, (Update, Notice))] == expected


def test_a_lead_given_every_step_has_finished_the_drip_and_gets_nothing_more(shipped):
    given = [DripKey("e1", n, TODAY - dt.timedelta(days=40 - n)) for n in range(1, 8)]
    sent = {key: Found(f"c{key.step}", "sent", "same") for key in given}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=60), *given), found=sent))
    assert decision.steps == [] and states(decision) == dict.fromkeys(range(1, 8), "sent")


@pytest.mark.parametrize("status", ["sent", "sending"])
def test_a_monthly_email_that_went_out_or_is_going_out_is_never_touched(shipped, status):
    gone = {MAY: Found("c1", status, "an older version")}
    ours = {MAY: Pushed(MAY, "c1", "newsletter-2024-05", "an older version", True)}
    assert monthly_run(shipped, patients(MAY_SEND - dt.timedelta(hours=2), found=gone, pushed=ours)).steps == []


def test_a_run_that_looks_back_at_last_months_email_still_makes_this_months(shipped):
    """June 3 (Mon 06:00 there): May's email, sent, is in the run's window as June's is made."""
    june = MonthlyKey("m1", "2024-06")
    sent = {MAY: Found("c1", "sent", "same")}
    decision = monthly_run(shipped, patients(dt.datetime(2024, 6, 3, 13, tzinfo=UTC), found=sent))
    assert [s.plan.key for s in of(decision, Create)] == [june]


def test_a_draft_mailpipe_has_no_record_of_making_and_nobody_waits_on_is_held_and_loud(shipped):
    decision = drip_run(shipped, world(found={step(1): Found("c1", "save", None)}))
    assert decision.steps == [
        Notice(
            step(1),
            "held",
            "a draft with mailpipe's recipients that the local record has no sign of making (the state file was lost, "
            "or a person made or unscheduled it): mailpipe leaves it alone; schedule or delete it in Mailchimp",
            True,
        )
    ]


def test_twins_are_deleted_and_records_not_believed_are_said_each_exactly(shipped):
    from mailpipe.push.decide import Twin

    twin = Twin(step(1), "c2", True, "c1")
    state = dataclasses.replace(world(), twins=[twin], ignored=["lea@example.com: a record that cannot be true"])
    assert drip_run(shipped, state).steps == [
        Delete(
            step(1),
            "c2",
            "made twice (another push, from another checkout or machine, at the same time?): this copy is deleted and "
            "c1 stays, so nobody gets it twice; let only one machine push",
            twin,
        ),
        Notice(None, "ignored", "lea@example.com: a record that cannot be true", False),
    ]


@pytest.mark.parametrize(("scheduled", "state"), [(False, "pending"), (True, "held")])
def test_a_draft_is_a_pending_step_while_mailpipe_has_not_scheduled_it_and_held_once_a_person_unscheduled_it(
    shipped, scheduled, state
):
    draft = {step(1): Found("c1", "save", None)}
    ours = {step(1): Pushed(step(1), "c1", FIRST, None, scheduled)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), found=draft, pushed=ours))
    assert states(decision) == {1: state}


def test_todays_campaign_a_person_deleted_is_not_made_again_today(shipped):
    """Made by an earlier run today and deleted in Mailchimp before it sent: its lead's step is void, and the lead
    gets it on a later day; today's campaign of that step is not made a second time."""
    made = {step(1): Pushed(step(1), "c1", FIRST, "hash", True)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), pushed=made))
    assert of(decision, Create) == [] and states(decision) == {}


@pytest.mark.parametrize(("entered_days_ago", "created"), [(8, True), (9, False)])
def test_a_stopped_run_about_to_make_todays_campaign_is_finished_while_in_time_else_the_step_is_skipped(
    shipped, entered_days_ago, created
):
    """The run recorded that it was about to make today's campaign of step 1 (no campaign id yet) and stopped. The
    next run makes it, if its lead can still get the step in time (their deadline is today's 09:30 when they entered
    8 days ago); a day later than that, the assignment is taken back from their record, the step is skipped and the
    lead goes on with step 2."""
    about = {step(1): Pushed(step(1), "", FIRST, None, False)}
    state = world(lead(TODAY - dt.timedelta(days=entered_days_ago), step(1)), pushed=about)
    decision = drip_run(shipped, state)
    assert [s.plan.key for s in of(decision, Create)] == ([step(1)] if created else [step(2)])
    if not created:  # step 1 taken back and skipped; the lead goes on with step 2, due long enough ago
        (write,) = of(decision, WriteLog)
        assert LeadLog.parse(write.value).assigned == {step(2)}
        assert states(decision) == {1: "skipped", 2: "assigned"}


def test_a_stopped_runs_record_of_yesterdays_campaign_it_never_made_is_void_and_the_step_given_today(shipped):
    yesterday = step(1, TODAY - dt.timedelta(days=1))
    about = {yesterday: Pushed(yesterday, "", FIRST, None, False)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=2), yesterday), pushed=about))
    assert created(decision) == [(step(1).title, ("lea@example.com",))]


def test_a_lead_due_a_step_whose_campaign_was_made_earlier_today_waits_for_tomorrows(shipped):
    """One campaign per step and day, and it has its recipients: a lead tagged after it was made gets it tomorrow."""
    made = {step(1): Found("c1", "schedule", "same")}
    ours = {step(1): Pushed(step(1), "c1", FIRST, "same", True)}
    first, late = lead(TODAY - dt.timedelta(days=1), step(1)), lead(TODAY - dt.timedelta(days=1), email="b@example.com")
    decision = drip_run(shipped, world(first, late, found=made, pushed=ours))
    assert states(decision, "b@example.com") == {} and created(decision) == []


def test_a_step_due_the_day_a_lead_enters_is_given_that_day(shipped):
    rendered, drips, _, audiences = shipped
    (drip,) = drips
    same_day = dataclasses.replace(drip, steps=(dataclasses.replace(drip.steps[0], delay_days=0), *drip.steps[1:]))
    emails = {e.id: e for e in rendered.emails}
    decision = decide(world(lead(TODAY)), [same_day], [], audiences, emails, {}, rendered.content, "mailpipe")
    assert states(decision) == {1: "assigned"}


def test_a_changed_campaign_is_kept_when_its_most_overdue_lead_would_get_it_too_late_whoever_comes_first(shipped):
    scheduled = {step(1): Found("c1", "schedule", "an older version")}
    for order in ((9, 8), (8, 9)):  # days since each lead entered: 9 makes today's 09:30 too late for them
        leads = [lead(TODAY - dt.timedelta(days=d), step(1), email=f"{d}@example.com") for d in order]
        decision = drip_run(shipped, world(*leads, found=scheduled))
        assert of(decision, Update) == [] and [n.kind for n in of(decision, Notice)] == ["kept"]


def test_a_scheduled_campaign_is_compared_by_the_version_mailpipe_pushed_when_it_knows_it(shipped):
    """Mailpipe's record of what it pushed is the version; Mailchimp's own copy (hashed only when there is no record)
    is not read, so a campaign pushed at this version is left alone."""
    email = next(e for e in shipped[0].emails if e.id == FIRST)
    scheduled = {step(1): Found("c1", "schedule", None)}
    ours = {step(1): Pushed(step(1), "c1", FIRST, email.content_hash, True)}
    decision = drip_run(shipped, world(lead(TODAY - dt.timedelta(days=1), step(1)), found=scheduled, pushed=ours))
    assert [s for s in decision.steps if not isinstance(s, WriteLog)] == []


def test_a_drip_nobody_is_tagged_for_decides_nothing(shipped):
    assert drip_run(shipped, dataclasses.replace(world(), leads={})).steps == []


def test_a_refused_or_problem_monthly_email_at_the_end_of_its_week_is_said_missed(shipped):
    end = MAY_SEND + dt.timedelta(days=7)
    refused = monthly_run(shipped, patients(end), refusals={"newsletter-2024-05": "not signed off"})
    assert refused.steps == [
        Notice(MAY, "refused", "not signed off; its time ended Tue May 14 10:00: it was missed", True)
    ]
    (problem,) = monthly_run(shipped, patients(dt.datetime(2024, 7, 9, 17, tzinfo=UTC))).steps
    assert problem.detail.endswith(
        "a week before it is due on 2024-07-02; its time ended Tue Jul 9 10:00: it was missed"
    )


def test_a_refused_monthly_email_must_be_mended_before_its_offers_end_if_they_end_within_its_week(shipped):
    content = with_may_valid_until(shipped, dt.date(2024, 5, 10))
    refused = {"newsletter-2024-05": "not signed off"}
    decision = monthly_run(shipped, patients(MAY_SEND - dt.timedelta(hours=30)), refusals=refused, content=content)
    assert decision.steps == [
        Notice(MAY, "refused", "not signed off; act by Fri May 10 21:00 or its 3 member(s) miss it", True)
    ]


def test_a_monthly_email_to_an_audience_with_no_tags_at_all_waits_for_its_tag(shipped):
    state = dataclasses.replace(patients(MAY_SEND - dt.timedelta(hours=2)), tag_ids={})
    assert [n.kind for n in monthly_run(shipped, state).steps] == ["waiting"]


def test_a_scheduled_monthly_email_changed_after_its_week_is_kept_not_sent_late(shipped):
    scheduled = {MAY: Found("c1", "schedule", "an older version")}
    ours = {MAY: Pushed(MAY, "c1", "newsletter-2024-05", "an older version", True)}
    late = MAY_SEND + dt.timedelta(days=7, hours=1)
    decision = monthly_run(shipped, patients(late, found=scheduled, pushed=ours))
    assert [n.kind for n in decision.steps] == ["kept"]


def test_each_drip_finishes_only_its_own_campaigns_beside_another_drip_and_the_monthly_email(shipped):
    """A second drip (its steps in another order) with its campaign of today, unchanged, and the monthly email in
    Mailchimp: the first drip neither takes the other's campaign for one of its own (and updates it to its own step's
    email) nor trips over the monthly one."""
    rendered, drips, _, audiences = shipped
    (drip,) = drips
    second = dataclasses.replace(drip, code="e2", name="Second series", steps=tuple(reversed(drip.steps)))
    emails = {e.id: e for e in rendered.emails}
    others = {DripKey("e2", 1, TODAY): Found("c2", "schedule", None), MAY: Found("c9", "schedule", None)}
    unchanged = {DripKey("e2", 1, TODAY): emails[second.steps[0].content].content_hash, MAY: "sent as it is"}
    ours = {key: Pushed(key, f.campaign_id, "x", unchanged[key], True) for key, f in others.items()}
    state = world(lead(TODAY - dt.timedelta(days=1)), found=others, pushed=ours)
    decision = decide(state, [drip, second], [], audiences, emails, {}, rendered.content, "mailpipe")
    assert of(decision, Update) == [] and created(decision) == [(step(1).title, ("lea@example.com",))]
