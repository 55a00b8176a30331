"""What push reads (GETs only) from an account set up member by member: who can be due in a drip and why, the tags,
the campaigns within the look-back, and what is said about records that cannot be true."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import REPO
from mailpipe.load.campaigns import Drip, DripStep, Monthly
from mailpipe.load.config import load_config
from mailpipe.plan.keys import DripKey
from mailpipe.project import Project
from mailpipe.push.decide import Found, WaitingRoom
from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy
from mailpipe.push.read import look_back, read_world
from mailpipe.push.record import LOG_FIELD, LOG_FIELD_NAME
from mailpipe.push.state import Pushed, State
from mailpipe.push.target import provision
from mailpipe.render import content_digest
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.util.vocabulary import subscriber_hash

LA = "America/Los_Angeles"
NOW = dt.datetime(2024, 5, 6, 13, tzinfo=dt.UTC)  # Monday 06:00 in Agoura Hills
DRIP = Drip(
    "edu", "e1", "Education", "new-consult", "09:30", LA, (DripStep("a", 1), DripStep("b", 4)), 7, ("booked",), Path()
)
AUDIENCES = {"new-consult": ("aivi-main", "mp-a"), "existing-patient": ("aivi-main", "mp-b")}


@pytest.fixture(scope="module")
def monthly():
    return next(c for c in Project(REPO).campaigns if isinstance(c, Monthly))


def test_the_look_back_is_the_longest_drip_and_its_lateness_plus_45_days(monthly):
    assert look_back([DRIP]) == dt.timedelta(days=4 + 7 + 45)
    longer = Drip("x", "e2", "X", "new-consult", "09:30", LA, (DripStep("a", 30),), 0, (), Path())
    assert look_back([DRIP, longer, monthly]) == dt.timedelta(days=30 + 45)
    assert look_back([monthly]) == dt.timedelta(days=45)


@pytest.fixture
def account(tmp_path):
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        store = sandbox.store
        store.set_clock(NOW - dt.timedelta(days=90))
        provision(store, load_config(REPO))
        client = Mailchimp(Connection("k-us1", sandbox.url), RetryPolicy(attempts=1, base_delay=0, max_delay=0))
        client.create_text_merge_field("aivi-main", LOG_FIELD, LOG_FIELD_NAME)
        client.batch_subscribe("aivi-main", [("hand@example.com", {}, True), ("old@example.com", {}, True)])
        store.batch_subscribe(
            "aivi-main", {"members": [{"email_address": "unconfirmed@example.com", "status": "pending"}]}
        )
        store.set_clock(NOW - dt.timedelta(days=1))
        yield sandbox, client


def join(client, email: str, record: str = "", tags: tuple[str, ...] = ("mp-a",)) -> None:
    client.batch_subscribe("aivi-main", [(email, {LOG_FIELD: record} if record else {}, True)])
    for tag in tags:
        client.add_to_tag("aivi-main", client.ensure_tag("aivi-main", tag), [email])


def _state(tmp_path, sandbox) -> State:
    return State(tmp_path / "state.sqlite3", sandbox.url)


def _campaign(key: DripKey) -> dict:
    """What POST /campaigns is given for a campaign of `key`, as push makes it (its title, a sender that can send)."""
    return {
        "type": "regular",
        "recipients": {"list_id": "aivi-main"},
        "settings": {"title": key.title, "subject_line": "S", "from_name": "A", "reply_to": "hello@aiviaesthetics.com"},
    }


def test_the_leads_that_can_be_due_are_the_changed_and_the_tagged_by_hand_with_what_cannot_be_true_said(
    account, tmp_path, monthly
):
    sandbox, client = account
    join(client, "ana@example.com", "|e1@20240505|")
    join(client, "bo@example.com", "|e1@20240505|", ("mp-a", "booked"))
    join(client, "cy@example.com", "|e1@20240505|")
    sandbox.store.patch_member("aivi-main", subscriber_hash("cy@example.com"), {"status": "unsubscribed"})
    join(client, "dee@example.com", "|e1@20240505|", ())  # no tag: not the drip's
    join(client, "eve@example.com", "|e1@20240508|")  # a start after tomorrow: a hand edit
    join(client, "gus@example.com", "|e1@20240507|")  # tomorrow (a lead imported for tomorrow): believed
    join(client, "fay@example.com", "|e1@20240101|")  # a start before she signed up
    join(client, "pat@example.com", tags=("mp-b",))
    sandbox.store.set_clock(NOW)
    tag_id = client.tag_ids("aivi-main", {"mp-a"})["mp-a"]
    client.add_to_tag("aivi-main", tag_id, ["hand@example.com", "unconfirmed@example.com"])  # by hand: no change
    state = _state(tmp_path, sandbox)

    world = read_world(client, state, [DRIP, monthly], AUDIENCES, NOW)

    leads = {lead.email: lead for lead in world.leads["e1"]}
    assert sorted(leads) == [
        "ana@example.com",
        "bo@example.com",
        "eve@example.com",
        "fay@example.com",
        "gus@example.com",
        "hand@example.com",
    ]
    assert [e for e, lead in leads.items() if lead.exited] == ["bo@example.com"]
    assert leads["ana@example.com"].log.starts == {"e1": dt.date(2024, 5, 5)}
    assert leads["gus@example.com"].log.starts == {"e1": dt.date(2024, 5, 7)}
    assert leads["ana@example.com"].entered is None  # a start already: when the tag came is not read
    tagged_at = dt.datetime(2024, 5, 6, 13, tzinfo=dt.UTC)
    for started_by_tag in ("eve@example.com", "fay@example.com"):
        assert leads[started_by_tag].log.starts == {} and leads[started_by_tag].entered == NOW - dt.timedelta(days=1)
    assert leads["hand@example.com"].entered == tagged_at and leads["hand@example.com"].written == ""
    assert world.ignored == [
        "eve@example.com: its MPLOG says it entered Education on 2024-05-08, after tomorrow (edited by hand?): "
        "ignored; its start is taken from when it got the tag, and written back",
        "fay@example.com: its MPLOG says it entered Education on 2024-01-01, before it signed up (2024-05-05; "
        "edited by hand?): ignored; its start is taken from when it got the tag, and written back",
    ]
    assert world.tag_ids == {"aivi-main": client.tag_ids("aivi-main", {"mp-a", "mp-b", "booked"})}
    assert world.log_field == {"aivi-main": True}
    assert world.rooms == [WaitingRoom("aivi-main", "e1", tag_id)]
    assert world.tag_sizes == {("aivi-main", "mp-b"): 1}
    assert world.untagged == {}


def test_a_drip_whose_tag_is_gone_has_no_leads_and_counts_those_the_local_copy_has_inside(account, tmp_path, monthly):
    sandbox, client = account
    join(client, "ana@example.com", "|e1@20240505|", ())
    state = _state(tmp_path, sandbox)
    state.record_lead_logs("aivi-main", {"ana@example.com": "|e1@20240505|", "bo@example.com": "|e1@20240101|"})
    world = read_world(client, state, [DRIP, monthly], AUDIENCES, NOW)
    assert world.leads == {"e1": []} and world.untagged == {"e1": 2} and world.rooms == []
    assert world.tag_sizes == {}  # the monthly email's tag is not there either: nobody to count


@pytest.mark.parametrize(
    ("age", "found"),
    [(dt.timedelta(days=56, minutes=-1), True), (dt.timedelta(days=56, minutes=1), False)],  # the look-back: 56 days
)
def test_campaigns_are_looked_for_as_far_back_as_the_look_back(account, tmp_path, age, found):
    sandbox, client = account
    key = DripKey("e1", 1, dt.date(2024, 3, 1))
    sandbox.store.set_clock(NOW - age)
    made = sandbox.store.create_campaign(
        {"type": "regular", "recipients": {"list_id": "aivi-main"}, "settings": {"title": key.title}}
    )
    other = sandbox.store.create_campaign(
        {"type": "regular", "recipients": {"list_id": "aivi-main"}, "settings": {"title": "mp-x9-s01-2024-03-01"}}
    )
    sandbox.store.set_content(made["id"], {"html": "<p>Hello</p>", "plain_text": "Hello"})
    sandbox.store.set_clock(NOW)
    state = _state(tmp_path, sandbox)
    world = read_world(client, state, [DRIP], AUDIENCES, NOW)
    assert other["id"] not in {f.campaign_id for f in world.found.values()}  # another drip's: not ours to read
    unknown = content_digest("", "", "<p>Hello</p>", "Hello")  # a draft the record has no copy of: its copy is read
    assert world.found == ({key: Found(made["id"], "save", unknown)} if found else {})
    state.record(Pushed(key, made["id"], "what-causes-migraine", "known", False))
    known = read_world(client, state, [DRIP], AUDIENCES, NOW)
    assert known.found == ({key: Found(made["id"], "save", None)} if found else {})


@pytest.mark.parametrize("dry_run", [False, True])
def test_who_a_sent_step_reached_is_read_once_and_kept_except_in_a_dry_run(account, tmp_path, dry_run):
    sandbox, client = account
    join(client, "lea@example.com", "|e1@20240505|")
    key = DripKey("e1", 1, dt.date(2024, 5, 6))
    made = sandbox.store.create_campaign(_campaign(key))
    sandbox.store.set_content(made["id"], {"html": "*|UNSUB|* *|LIST:ADDRESSLINE|*"})
    sandbox.store.schedule(made["id"], {"schedule_time": "2024-05-06T16:30:00+00:00"})
    sandbox.store.advance(dt.datetime(2024, 5, 6, 17, tzinfo=dt.UTC))
    reached = {d["email"] for d in sandbox.store.deliveries()}
    State(tmp_path / "state.sqlite3", sandbox.url).close()
    state = State(tmp_path / "state.sqlite3", sandbox.url, read_only=dry_run)
    later = dt.datetime(2024, 5, 6, 17, tzinfo=dt.UTC)
    calls = client.calls
    world = read_world(client, state, [DRIP], AUDIENCES, later)
    first = client.calls - calls
    assert "lea@example.com" in reached and world.sent_to == {key: reached}
    assert State(tmp_path / "state.sqlite3", sandbox.url).sent_to(key) == (None if dry_run else reached)
    calls = client.calls
    assert read_world(client, state, [DRIP], AUDIENCES, later).sent_to == {key: reached}
    assert client.calls - calls == first - 1  # the report is not read again (one page here), even in a dry run


@pytest.mark.parametrize("room_of", ["this tag", "a tag made anew", "no room"])
def test_people_tagged_by_hand_are_read_from_the_drips_waiting_room_while_it_is_the_tags(account, tmp_path, room_of):
    """The room (a saved segment: the tag, no start in MPLOG) is read instead of the whole tag; a room recorded for
    another tag id (the tag deleted and made again) or none at all means the whole tag is read and a room is made."""
    from mailpipe.push.record import waiting_room

    sandbox, client = account
    tag_id = client.ensure_tag("aivi-main", "mp-a")
    join(client, "ana@example.com", "|e1@20240505|")
    join(client, "nat@example.com")  # just imported, no start yet: changed and in the room, read once
    sandbox.store.set_clock(NOW)
    client.add_to_tag("aivi-main", tag_id, ["hand@example.com"])
    state = _state(tmp_path, sandbox)
    if room_of != "no room":
        recorded_for = tag_id if room_of == "this tag" else tag_id + 1000
        segment = client.ensure_saved_segment("aivi-main", *waiting_room("e1", recorded_for))
        state.record_waiting_room("aivi-main", "e1", segment, recorded_for)
    world = read_world(client, state, [DRIP], AUDIENCES, NOW)
    assert sorted(lead.email for lead in world.leads["e1"]) == [
        "ana@example.com",
        "hand@example.com",
        "nat@example.com",
    ]
    assert world.rooms == ([] if room_of == "this tag" else [WaitingRoom("aivi-main", "e1", tag_id)])


def test_the_local_copy_of_a_record_fills_what_mailchimp_has_not_been_written_yet(account, tmp_path):
    """A run stopped between writing the local copy and the member: the copy's start counts, for an address Mailchimp
    spells in capitals too."""
    sandbox, client = account
    join(client, "Ana.Ruiz@Example.com")
    state = _state(tmp_path, sandbox)
    state.record_lead_logs("aivi-main", {"ana.ruiz@example.com": "|e1@20240503|"})
    (lead,) = read_world(client, state, [DRIP], AUDIENCES, NOW).leads["e1"]
    assert (lead.email, lead.written, lead.log.starts, lead.entered) == (
        "Ana.Ruiz@Example.com",
        "",
        {"e1": dt.date(2024, 5, 3)},
        None,
    )


def test_a_key_made_twice_is_found_as_the_first_made_and_the_other_is_a_twin(account, tmp_path):
    sandbox, client = account
    key = DripKey("e1", 1, dt.date(2024, 5, 6))
    made = []
    for minute in (1, 2, 3):
        sandbox.store.set_clock(NOW - dt.timedelta(minutes=10 - minute))
        made.append(sandbox.store.create_campaign(_campaign(key))["id"])
        sandbox.store.set_content(made[-1], {"html": "*|UNSUB|* *|LIST:ADDRESSLINE|*", "plain_text": "T"})
    sandbox.store.schedule(made[1], {"schedule_time": "2024-05-06T16:30:00+00:00"})
    sandbox.store.set_clock(NOW)
    world = read_world(client, _state(tmp_path, sandbox), [DRIP], AUDIENCES, NOW)
    copy = content_digest("S", "", "*|UNSUB|* *|LIST:ADDRESSLINE|*", "T")
    assert world.found == {key: Found(made[0], "save", copy)}  # the first made; its copy read (no record of it)
    assert [(t.campaign_id, t.scheduled, t.kept) for t in world.twins] == [
        (made[1], True, made[0]),
        (made[2], False, made[0]),
    ]


def test_a_scheduled_campaign_the_record_has_no_copy_of_has_its_copy_read(account, tmp_path):
    sandbox, client = account
    key = DripKey("e1", 1, dt.date(2024, 5, 6))
    made = sandbox.store.create_campaign(_campaign(key))["id"]
    sandbox.store.set_content(made, {"html": "*|UNSUB|* *|LIST:ADDRESSLINE|*", "plain_text": "T"})
    sandbox.store.schedule(made, {"schedule_time": "2024-05-06T16:30:00+00:00"})
    world = read_world(client, _state(tmp_path, sandbox), [DRIP], AUDIENCES, NOW)
    assert world.found == {key: Found(made, "schedule", content_digest("S", "", "*|UNSUB|* *|LIST:ADDRESSLINE|*", "T"))}


def test_a_start_before_signing_up_is_believed_when_mailpipe_wrote_it_and_an_unreadable_one_is_said(account, tmp_path):
    sandbox, client = account
    join(client, "Fay@Example.com", "|e1@20240101|")  # imported with an old join date: mailpipe's own record
    join(client, "hal@example.com", "|e1@19990101|")  # no day mailpipe writes
    state = _state(tmp_path, sandbox)
    state.record_lead_logs("aivi-main", {"fay@example.com": "|e1@20240101|"})
    world = read_world(client, state, [DRIP], AUDIENCES, NOW)
    starts = {lead.email: lead.log.starts for lead in world.leads["e1"]}
    assert starts == {"Fay@Example.com": {"e1": dt.date(2024, 1, 1)}, "hal@example.com": {}}
    assert world.ignored == [
        "hal@example.com: its MPLOG start in Education is not a day between 2000-01-01 and 2099-12-31 (edited by "
        "hand?): ignored, and written back"
    ]


def test_a_drip_to_a_whole_audience_reads_only_its_exit_tags(account, tmp_path):
    sandbox, client = account
    booked = client.ensure_tag("aivi-main", "booked")
    world = read_world(client, _state(tmp_path, sandbox), [DRIP], {"new-consult": ("aivi-main", None)}, NOW)
    assert world.tag_ids == {"aivi-main": {"booked": booked}} and world.rooms == []
