"""Carrying out deletions: a stale draft and a twin (a campaign made twice by two pushers at once), against the
sandbox through the real client, and what the local record keeps afterwards."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pytest

from conftest import REPO
from mailpipe.load.config import load_config
from mailpipe.plan.keys import DripKey
from mailpipe.project import Project
from mailpipe.push.apply import apply
from mailpipe.push.decide import (
    Action,
    CampaignPlan,
    Create,
    Decision,
    Delete,
    MakeFolder,
    MakeLogField,
    Notice,
    Schedule,
    Twin,
    Update,
    WaitingRoom,
    World,
    WriteLog,
)
from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy
from mailpipe.push.record import LeadLog
from mailpipe.push.state import Pushed, State
from mailpipe.push.target import provision
from mailpipe.sandbox.server import RunningSandbox

NOW = dt.datetime(2024, 5, 1, 13, tzinfo=dt.UTC)
KEY = DripKey("e1", 1, dt.date(2024, 5, 2))


@pytest.fixture
def sandbox(tmp_path):
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as running:
        running.store.set_clock(NOW)
        provision(running.store, load_config(REPO))
        yield running


def campaign(sandbox, scheduled: bool = False) -> str:
    """A campaign of the drip's key, as push makes it (title, content), scheduled or a draft."""
    store = sandbox.store
    made = store.create_campaign(
        {
            "type": "regular",
            "recipients": {"list_id": "aivi-main"},
            "settings": {
                "subject_line": "S",
                "title": KEY.title,
                "from_name": "AIVI",
                "reply_to": "hello@aiviaesthetics.com",
            },
        }
    )
    if scheduled:
        store.set_content(made["id"], {"html": "*|UNSUB|* *|LIST:ADDRESSLINE|*"})
        store.schedule(made["id"], {"schedule_time": "2024-05-02T16:00:00+00:00"})
    return made["id"]


def client_of(url: str, attempts: int = 1) -> Mailchimp:
    """The real client on the sandbox at `url`, retrying `attempts` times at once (no waiting in a test)."""
    return Mailchimp(Connection("k-us1", url), RetryPolicy(attempts=attempts, base_delay=0, max_delay=0))


def world_of(pushed=None, folders=None) -> World:
    """What push read before deciding: the clinic's audience, no campaigns of its own, `pushed` as the record has it."""
    return World(NOW, {}, dict(pushed or {}), {}, {"aivi-main": {}}, {}, dict(folders or {}))


def run(sandbox, state: State, *steps: Delete):
    outcomes = apply(Decision(list(steps)), world_of(state.pushed()), client_of(sandbox.url), state)
    return [(o.key, o.action, o.attention) for o in outcomes]


def twin(campaign_id: str, kept: str, scheduled: bool = True) -> Delete:
    made_twice = Twin(KEY, campaign_id, scheduled, kept)
    return Delete(KEY, campaign_id, "made twice", made_twice)


def test_a_twin_is_unscheduled_and_deleted_and_the_record_of_the_one_that_stays_is_kept(sandbox, tmp_path):
    kept, second = campaign(sandbox), campaign(sandbox, scheduled=True)
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    state.record(Pushed(KEY, kept, "what-causes-migraine", "h", True))
    assert run(sandbox, state, twin(second, kept)) == [(KEY, Action.DELETED, True)]
    assert [c["id"] for c in sandbox.store.list_campaigns({})["campaigns"]] == [kept]
    assert state.pushed()[KEY].campaign_id == kept


def test_a_twin_this_checkout_made_is_forgotten_with_it(sandbox, tmp_path):
    kept, second = campaign(sandbox), campaign(sandbox, scheduled=True)
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    state.record(Pushed(KEY, second, "what-causes-migraine", "h", True))
    assert run(sandbox, state, twin(second, kept)) == [(KEY, Action.DELETED, True)]
    assert KEY not in state.pushed()


def test_a_twin_the_other_pusher_deleted_first_is_taken_as_deleted(sandbox, tmp_path):
    kept, second = campaign(sandbox), campaign(sandbox, scheduled=True)
    sandbox.store.unschedule(second)
    sandbox.store.delete_campaign(second)  # the other pusher got there first: the unschedule answers 404
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    assert run(sandbox, state, twin(second, kept)) == [(KEY, Action.DELETED, True)]


def test_a_twin_that_cannot_be_unscheduled_is_a_failure_and_stays(sandbox, tmp_path):
    kept, second = campaign(sandbox), campaign(sandbox, scheduled=True)
    sandbox.store.advance(dt.datetime(2024, 5, 2, 16, 30, tzinfo=dt.UTC))  # it went out meanwhile
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    state.record(Pushed(KEY, second, "what-causes-migraine", "h", True))
    assert run(sandbox, state, twin(second, kept)) == [(KEY, Action.FAILED, True)]
    assert state.pushed()[KEY].campaign_id == second


def test_a_stale_draft_is_deleted_and_its_key_forgotten_whatever_the_record_said(sandbox, tmp_path):
    draft = campaign(sandbox)
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    state.record(Pushed(KEY, "another-id", "what-causes-migraine", None, False))
    assert run(sandbox, state, Delete(KEY, draft, "too late")) == [(KEY, Action.DELETED, False)]
    assert sandbox.store.list_campaigns({})["total_items"] == 0 and KEY not in state.pushed()


# -- making, filling and scheduling a drip step ----------------------------------------------------------------------
FOLDER = "mailpipe: Migraine education series"
SEND = dt.datetime(2024, 5, 2, 16, tzinfo=dt.UTC)  # 09:00 in Agoura Hills
RECORD = LeadLog({"e1": dt.date(2024, 5, 1)}, frozenset({KEY})).render()


@pytest.fixture(scope="module")
def emails():
    return {e.id: e for e in Project(REPO).rendered().emails}


def step_plan(emails, wanted=SEND, email="what-causes-migraine", list_id="aivi-main") -> CampaignPlan:
    return CampaignPlan(KEY, emails[email], list_id, FOLDER, wanted, SEND, ("lea@example.com",), None)


def lines(outcomes):
    return [(o.key, o.action, o.detail, o.attention) for o in outcomes]


def applied(sandbox, state, steps, folders=None):
    return lines(apply(Decision(list(steps)), world_of(state.pushed(), folders), client_of(sandbox.url), state))


def subscribe(sandbox, *addresses):
    client_of(sandbox.url).batch_subscribe("aivi-main", [(a, {}, True) for a in addresses])


@pytest.fixture
def clinic_time_zone(monkeypatch):
    """The machine's own clock set to the clinic's zone, as on the front desk's computer."""
    import time

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_step_is_made_in_its_folder_for_the_leads_whose_record_names_it_and_scheduled(
    sandbox, tmp_path, emails, clinic_time_zone
):
    subscribe(sandbox, "lea@example.com", "other@example.com")
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    steps = [MakeFolder(FOLDER), MakeLogField("aivi-main"), WriteLog("aivi-main", "lea@example.com", RECORD)]
    plan = step_plan(emails)
    client = client_of(sandbox.url)
    world = world_of()
    outcomes = apply(Decision([*steps, Create(plan)]), world, client, state)
    assert lines(outcomes) == [
        (None, Action.WRITTEN, "1 lead record(s) in aivi-main", False),
        (KEY, Action.CREATED, "what-causes-migraine to 1 member(s)", False),
        (KEY, Action.SCHEDULED, "2024-05-02 16:00 UTC", False),  # sent to Mailchimp in UTC, whatever the machine's zone
    ]
    assert [o.plan for o in outcomes] == [None, plan, plan]  # the report shows each campaign's time and subject
    (made,) = sandbox.store.list_campaigns({})["campaigns"]
    (folder,) = sandbox.store.folders({})["folders"]
    assert (made["settings"]["title"], made["settings"]["folder_id"], made["status"]) == (
        KEY.title,
        folder["id"],
        "schedule",
    )
    email = emails["what-causes-migraine"]
    assert {k: made["settings"].get(k) for k in ("subject_line", "preview_text", "from_name", "reply_to")} == {
        "subject_line": email.subject,
        "preview_text": email.preheader,
        "from_name": email.from_name,
        "reply_to": email.reply_to,
    }
    # addressed to the lead, with the email's own footer and inline styles; every click counted
    assert (made["settings"]["to_name"], made["settings"]["auto_footer"], made["settings"]["inline_css"]) == (
        "*|FNAME|*",
        False,
        False,
    )
    assert made["tracking"] == {"opens": True, "html_clicks": True, "text_clicks": True}
    assert state.pushed()[KEY] == Pushed(
        KEY, made["id"], "what-causes-migraine", emails["what-causes-migraine"].content_hash, True
    )
    assert state.lead_logs("aivi-main") == {"lea@example.com": RECORD}


@pytest.mark.parametrize(("minutes", "late"), [(14, ""), (15, " (late: wanted 2024-05-02 15:45 UTC)")])
def test_a_step_sent_15_minutes_or_more_after_its_time_says_it_is_late(sandbox, tmp_path, emails, minutes, late):
    subscribe(sandbox, "lea@example.com")
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    plan = step_plan(emails, wanted=SEND - dt.timedelta(minutes=minutes))
    outcomes = applied(sandbox, state, [MakeFolder(FOLDER), Create(plan)])
    assert outcomes[-1] == (KEY, Action.SCHEDULED, f"2024-05-02 16:00 UTC{late}", False)


def test_a_lead_record_mailchimp_refuses_is_taken_back_from_the_local_copy(sandbox, tmp_path):
    subscribe(sandbox, "lea@example.com")
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    state.record_lead_logs("aivi-main", {"ghost@example.com": "|e1@20240401|"})
    writes = [
        WriteLog("aivi-main", "lea@example.com", RECORD),
        WriteLog("aivi-main", "ghost@example.com", RECORD),
        WriteLog("aivi-main", "never@example.com", RECORD),  # not in the local copy before
    ]
    outcomes = applied(sandbox, state, [MakeLogField("aivi-main"), *writes])
    assert outcomes[0] == (None, Action.WRITTEN, "1 lead record(s) in aivi-main", False)
    assert [(o[1], o[3]) for o in outcomes[1:]] == [(Action.FAILED, True), (Action.FAILED, True)]
    for failed, email in zip(outcomes[1:], ("ghost@example.com", "never@example.com"), strict=True):
        assert failed[2].startswith(f"lead record not written, so this lead gets nothing today: {email}: ")
    assert state.lead_logs("aivi-main") == {
        "lea@example.com": RECORD,
        "ghost@example.com": "|e1@20240401|",
        "never@example.com": "",
    }


def test_records_of_an_audience_without_the_mplog_field_are_skipped_and_the_next_audiences_written(sandbox, tmp_path):
    subscribe(sandbox, "lea@example.com")
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    steps = [
        MakeLogField("no-such-list"),
        MakeLogField("aivi-main"),
        WriteLog("no-such-list", "lea@example.com", RECORD),
        WriteLog("aivi-main", "lea@example.com", RECORD),
    ]
    assert [o[1:3] for o in applied(sandbox, state, steps)][1:] == [(Action.WRITTEN, "1 lead record(s) in aivi-main")]
    assert state.lead_logs("aivi-main") == {"lea@example.com": RECORD} and state.lead_logs("no-such-list") == {}


def test_an_audience_whose_mplog_field_cannot_be_made_gets_no_record_room_or_campaign(sandbox, tmp_path, emails):
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    steps = [
        MakeFolder(FOLDER),
        MakeLogField("no-such-list"),
        WaitingRoom("no-such-list", "e1", 7),
        WriteLog("no-such-list", "lea@example.com", RECORD),
        Create(step_plan(emails, list_id="no-such-list")),
    ]
    outcomes = applied(sandbox, state, steps)
    assert [(o[1], o[3]) for o in outcomes] == [(Action.FAILED, True), (Action.FAILED, True)]
    assert outcomes[1] == (KEY, Action.FAILED, "not made: what it needs could not be made first", True)
    assert state.waiting_room("no-such-list", "e1") is None and state.lead_logs("no-such-list") == {}
    assert state.pushed() == {} and sandbox.store.list_campaigns({})["total_items"] == 0


def test_a_campaign_whose_folder_was_not_made_is_not_made(sandbox, tmp_path, emails):
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    plan = step_plan(emails)
    client = client_of(sandbox.url)
    (outcome,) = apply(Decision([Create(plan)]), world_of(), client, state)
    assert lines([outcome]) == [(KEY, Action.FAILED, "not made: what it needs could not be made first", True)]
    assert outcome.plan == plan
    assert sandbox.store.list_campaigns({})["total_items"] == 0


def test_a_campaign_mailchimps_checklist_refuses_is_made_filled_and_left_unscheduled(sandbox, tmp_path, emails):
    subscribe(sandbox, "lea@example.com")
    sandbox.store.set_domain("aiviaesthetics.com", verified=False)
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    plan = step_plan(emails)
    second = DripKey("e1", 2, dt.date(2024, 5, 2))  # another step, its email without a from name: two items refused
    nameless = dataclasses.replace(plan, key=second, email=dataclasses.replace(plan.email, from_name=""))
    client = client_of(sandbox.url)
    world = world_of()
    blocked = apply(Decision([MakeFolder(FOLDER), Create(plan), Create(nameless)]), world, client, state)
    domain = "Sending domain: Verify and authenticate aiviaesthetics.com before you send from it."
    assert [line for line in lines(blocked) if line[1] == Action.BLOCKED] == [
        (KEY, Action.BLOCKED, f"Mailchimp's send checklist: {domain}", True),
        (
            second,
            Action.BLOCKED,
            f"Mailchimp's send checklist: From name: The campaign needs a from name.; {domain}",
            True,
        ),
    ]
    assert [o.plan for o in blocked if o.action == Action.BLOCKED] == [plan, nameless]
    made = {c["settings"]["title"]: c for c in sandbox.store.list_campaigns({})["campaigns"]}
    assert {title: c["status"] for title, c in made.items()} == {KEY.title: "save", second.title: "save"}
    email = emails["what-causes-migraine"]
    assert state.pushed()[KEY] == Pushed(KEY, made[KEY.title]["id"], email.id, email.content_hash, False)


def test_an_update_unschedules_changes_and_schedules_again_recording_each_stage(sandbox, tmp_path, emails):
    subscribe(sandbox, "lea@example.com")
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    applied(sandbox, state, [MakeFolder(FOLDER), Create(step_plan(emails))])
    campaign_id = state.pushed()[KEY].campaign_id
    changed = step_plan(emails, email="four-stages-of-migraine")
    assert applied(sandbox, state, [Update(changed, campaign_id)]) == [
        (KEY, Action.RESCHEDULED, "2024-05-02 16:00 UTC", False)
    ]
    made = sandbox.store.get_campaign(campaign_id)
    assert (made["status"], made["settings"]["subject_line"]) == ("schedule", emails["four-stages-of-migraine"].subject)
    new = emails["four-stages-of-migraine"]
    assert state.pushed()[KEY] == Pushed(KEY, campaign_id, new.id, new.content_hash, True)


@contextlib.contextmanager
def faulty_sandbox(tmp_path, fault: str, method: str, path_end: str, times: int = 1, recorder=None):
    """The sandbox, provisioned with Lea subscribed, answering `fault` to the next `times` `method` requests whose path
    ends with `path_end` (and calling `recorder` after each request it carries out); yields the fault plan (its script
    is what is left) and the running sandbox."""
    from mailpipe.sandbox.server import FaultPlan

    plan = FaultPlan(script=[fault] * times, only=lambda m, p: m == method and p.endswith(path_end))
    with RunningSandbox(tmp_path / "sandbox.sqlite3", faults=plan, recorder=recorder) as running:
        running.store.set_clock(NOW)
        provision(running.store, load_config(REPO))
        subscribe(running, "lea@example.com")
        yield plan, running


def test_a_create_whose_answer_was_lost_is_found_not_made_again(tmp_path, emails):
    """Mailchimp made the campaign but the answer never came: the retry first looks for the campaign of this key among
    those made lately (by its title or, renamed already, its recipients), and uses it."""
    with faulty_sandbox(tmp_path, "drop-after", "POST", "/campaigns") as (lost, running):
        client = client_of(running.url, attempts=3)
        state = State(tmp_path / "state.sqlite3", running.url)
        world = world_of()
        steps = [MakeFolder(FOLDER), Create(step_plan(emails))]
        outcomes = lines(apply(Decision(steps), world, client, state))
        (made,) = running.store.list_campaigns({})["campaigns"]
    assert [o[1] for o in outcomes] == [Action.CREATED, Action.SCHEDULED] and not lost.script
    assert state.pushed()[KEY].campaign_id == made["id"]


def test_a_create_whose_answer_was_lost_after_a_person_renamed_it_is_found_by_its_recipients(tmp_path, emails):
    """Mailchimp made the campaign, someone renamed it in Mailchimp's UI at once, and the answer never came: the retry
    recognises it by its recipients, as the next run would, and makes no second one."""

    def rename_what_was_made(request, status, answer):
        if request["method"] == "POST" and request["path"].endswith("/campaigns"):
            running.store.update_campaign(answer["id"], {"settings": {"title": "May drip (renamed by the front desk)"}})

    lost_after_rename = faulty_sandbox(tmp_path, "drop-after", "POST", "/campaigns", recorder=rename_what_was_made)
    with lost_after_rename as (lost, running):
        state = State(tmp_path / "state.sqlite3", running.url)
        steps = [MakeFolder(FOLDER), Create(step_plan(emails))]
        outcomes = lines(apply(Decision(steps), world_of(), client_of(running.url, attempts=3), state))
        (made,) = running.store.list_campaigns({})["campaigns"]
    assert [o[1] for o in outcomes] == [Action.CREATED, Action.SCHEDULED] and not lost.script
    assert made["settings"]["title"] == "May drip (renamed by the front desk)"
    assert state.pushed()[KEY].campaign_id == made["id"]


def test_a_waiting_room_is_made_and_recorded_a_draft_scheduled_and_a_notice_said_in_the_decisions_order(
    sandbox, tmp_path, emails
):
    subscribe(sandbox, "lea@example.com")
    client = client_of(sandbox.url)
    tag_id = client.ensure_tag("aivi-main", "mp-a")
    draft = campaign(sandbox)
    other = campaign(sandbox)  # another campaign of the key: twins are looked for only after this run makes one
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    held = Notice(DripKey("e1", 2, dt.date(2024, 5, 2)), Action.HELD, "paused by a person", True)
    steps = [
        MakeLogField("aivi-main"),
        WaitingRoom("aivi-main", "e1", tag_id),
        held,
        Schedule(step_plan(emails), draft),
        Notice(None, Action.WAITING, "nobody has the tag yet", False),
    ]
    assert applied(sandbox, state, steps) == [
        (held.key, Action.HELD, "paused by a person", True),
        (KEY, Action.SCHEDULED, "2024-05-02 16:00 UTC", False),
        (None, Action.WAITING, "nobody has the tag yet", False),
    ]
    (room,) = [s for s in sandbox.store.list_segments("aivi-main", {})["segments"] if s["name"] == "mp-e1-new"]
    assert state.waiting_room("aivi-main", "e1") == (room["id"], tag_id)
    assert sandbox.store.get_campaign(draft)["status"] == "schedule"
    assert sandbox.store.get_campaign(other)["status"] == "save"
    email = emails["what-causes-migraine"]
    assert state.pushed()[KEY] == Pushed(KEY, draft, email.id, email.content_hash, True)


def test_a_create_that_never_reached_mailchimp_is_made_once_on_the_retry(tmp_path, emails):
    with faulty_sandbox(tmp_path, "drop", "POST", "/campaigns") as (plan, running):
        state = State(tmp_path / "state.sqlite3", running.url)
        client = client_of(running.url, attempts=3)
        world = world_of()
        outcomes = lines(apply(Decision([MakeFolder(FOLDER), Create(step_plan(emails))]), world, client, state))
        assert running.store.list_campaigns({})["total_items"] == 1 and not plan.script
    assert [o[1] for o in outcomes] == [Action.CREATED, Action.SCHEDULED]


def test_a_create_mailchimp_refuses_leaves_a_record_that_no_campaign_was_made(tmp_path, emails):
    """Recorded before the create, so that a run stopped in between knows it may have made a draft: no id, no copy,
    not scheduled."""
    with faulty_sandbox(tmp_path, "500", "POST", "/campaigns") as (_, running):
        state = State(tmp_path / "state.sqlite3", running.url)
        client = client_of(running.url)
        world = world_of()
        plan = step_plan(emails)
        refused = apply(Decision([MakeFolder(FOLDER), Create(plan)]), world, client, state)
        outcomes = lines(refused)
    said = "Mailchimp campaigns.create failed: 500 Internal Server Error: Injected fault: try again later."
    assert outcomes == [(KEY, Action.FAILED, said, True)] and refused[0].plan == plan
    assert state.pushed()[KEY] == Pushed(KEY, "", "what-causes-migraine", None, False)


@pytest.mark.parametrize("deletion_fails", [False, True])
def test_a_campaign_another_pusher_made_first_leaves_this_runs_copy_deleted_or_said(tmp_path, emails, deletion_fails):
    with faulty_sandbox(tmp_path, "500", "DELETE", "", times=5 if deletion_fails else 0) as (plan, running):
        running.store.set_clock(NOW - dt.timedelta(minutes=1))
        first = campaign(running)  # the other checkout's, a minute earlier
        running.store.set_clock(NOW)
        state = State(tmp_path / "state.sqlite3", running.url)
        client = client_of(running.url)
        world = world_of()
        outcomes = lines(apply(Decision([MakeFolder(FOLDER), Create(step_plan(emails))]), world, client, state))
        left = [c["id"] for c in running.store.list_campaigns({})["campaigns"]]
    ours = state.pushed().get(KEY)
    said = (
        f"made twice (another push, from another checkout or machine, at the same time?): this copy is deleted and "
        f"{first} stays, so nobody gets it twice; let only one machine push"
    )
    assert [o[:2] for o in outcomes[:2]] == [(KEY, Action.CREATED), (KEY, Action.SCHEDULED)]
    if deletion_fails:
        (failed,) = outcomes[2:]
        assert failed[:2] == (KEY, Action.FAILED) and failed[2].startswith(f"{said}: ") and failed[3] is True
        assert len(left) == 2 and ours is not None and ours.campaign_id in left and ours.campaign_id != first
    else:
        assert outcomes[2:] == [(KEY, Action.DELETED, said, True)]
        assert left == [first] and ours is None


def test_an_update_stopped_after_the_unschedule_leaves_a_draft_the_record_says_is_not_scheduled(tmp_path, emails):
    """Unscheduled, then the update fails: the record says "ours, not scheduled", so the next run fills and schedules
    the draft again rather than taking it for a person's unscheduling."""
    with faulty_sandbox(tmp_path, "500", "PATCH", "", times=5) as (_, running):
        state = State(tmp_path / "state.sqlite3", running.url)
        client = client_of(running.url)
        world = world_of()
        apply(Decision([MakeFolder(FOLDER), Create(step_plan(emails))]), world, client, state)
        campaign_id = state.pushed()[KEY].campaign_id
        changed = step_plan(emails, email="four-stages-of-migraine")
        outcomes = lines(apply(Decision([Update(changed, campaign_id)]), world, client, state))
        status = running.store.get_campaign(campaign_id)["status"]
    assert [o[:2] for o in outcomes] == [(KEY, Action.FAILED)] and status == "save"
    assert state.pushed()[KEY] == Pushed(KEY, campaign_id, "four-stages-of-migraine", None, False)
