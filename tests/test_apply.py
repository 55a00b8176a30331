"""Carrying out deletions: a stale draft and a twin (a campaign made twice by two pushers at once), against the
sandbox through the real client, and what the local record keeps afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import REPO
from mailpipe.load.config import load_config
from mailpipe.plan.keys import DripKey
from mailpipe.push.apply import apply
from mailpipe.push.decide import Action, Decision, Delete, Twin, World
from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy
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


def run(sandbox, state: State, *steps: Delete):
    client = Mailchimp(Connection("k-us1", sandbox.url), RetryPolicy(attempts=1, base_delay=0, max_delay=0))
    world = World(NOW, {}, state.pushed(), {}, {}, {}, {})
    return [(o.key, o.action, o.attention) for o in apply(Decision(list(steps)), world, client, state)]


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
