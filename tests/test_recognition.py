"""Push recognises its own campaigns without needing Mailchimp to echo a segment condition as it was written: by the
id in its record, by the title it gave, and only then by the recipients, in whichever form Mailchimp answers them.
Every case runs against the sandbox answering conditions as written and in Mailchimp's internal form (merge0, mergeN).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter

import pytest

from conftest import findings_of
from mailpipe.plan.keys import DripKey, MonthlyKey
from mailpipe.push import refusals
from mailpipe.push.leads import Lead
from mailpipe.push.mailchimp import Connection, Mailchimp, RemoteCampaign, RetryPolicy
from mailpipe.push.read import recognise
from mailpipe.push.record import Condition
from mailpipe.push.state import State
from mailpipe.sandbox.server import RunningSandbox
from simulation import monday_template, push_once, written_key

UTC = dt.UTC
MONDAY = dt.datetime(2024, 5, 6, 13, tzinfo=UTC)  # 06:00 in Agoura Hills
RETRY = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01)
FORMS = ("as-written", "internal")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A sandbox file with new leads (step 1 due Monday) and a patient (the May newsletter), ready for Monday."""
    leads = [Lead(n, f"a{n}@example.com", "A", "", dt.datetime(2024, 5, 5, 9, tzinfo=UTC)) for n in range(3)]
    return monday_template(tmp_path_factory.mktemp("recognition"), MONDAY, leads)


def _push(url, state_path, prepared, now):
    _, rendered, campaigns, _ = prepared
    return push_once(url, state_path, rendered, campaigns, now)


@pytest.mark.parametrize("form", FORMS)
def test_the_sandbox_answers_conditions_in_the_form_it_is_set_to(prepared, tmp_path, form, client):
    """What the push tests below run against: in the internal form a campaign's MPLOG condition comes back as
    `mergeN` (N the field's merge_id) and the address as `merge0`; as written, as push wrote them."""
    db = tmp_path / "pushed.sqlite3"  # the client fixture's own sandbox is sandbox.sqlite3
    shutil.copy(prepared[3], db)
    with RunningSandbox(db) as sandbox:
        sandbox.store.set_condition_form(form)
        sandbox.store.set_clock(MONDAY)
        _push(sandbox.url, tmp_path / "state.sqlite3", prepared, MONDAY)
        client.api_client.host = sandbox.url
        answered = client.campaigns.list(count=100)["campaigns"]
        fields = {c["field"] for a in answered for c in a["recipients"]["segment_opts"]["conditions"]}
        fields_of_list = client.lists.get_list_merge_fields("aivi-main")["merge_fields"]
        merge_id = next(f["merge_id"] for f in fields_of_list if f["tag"] == "MPLOG")
    if form == "internal":
        assert fields == {f"merge{merge_id}", "merge0", "static_segment"}
    else:
        assert fields == {"MPLOG", "EMAIL", "static_segment"}


def _rename_all(store) -> None:
    for campaign in store.list_campaigns({"count": 100})["campaigns"]:
        store.update_campaign(campaign["id"], {"settings": {"title": f"Renamed by hand {campaign['web_id']}"}})


CASES = [
    (form, change)
    for form in (*FORMS, "none")
    for change in ("nothing", "renamed", "state lost", "renamed and state lost")
    if not (form == "none" and change == "renamed and state lost")  # nothing is left to know it by
]


@pytest.mark.parametrize(("form", "change"), CASES)
def test_a_second_run_makes_nothing_again_and_nobody_gets_an_email_twice(prepared, tmp_path, form, change):
    """A campaign is known by its id in the record (renamed), by its title (the record lost), and by its recipients
    only when it was renamed and the record lost; an account answering no conditions at all (`none`) still gets no
    campaign twice while either the record or the title is there."""
    db, state_path = tmp_path / "sandbox.sqlite3", tmp_path / "state.sqlite3"
    shutil.copy(prepared[3], db)
    with RunningSandbox(db) as sandbox:
        store = sandbox.store
        store.set_condition_form(form)
        store.set_clock(MONDAY)
        first = _push(sandbox.url, state_path, prepared, MONDAY)
        made = {o.key for o in first.outcomes if o.action == "created"}
        assert {type(k) for k in made} == {DripKey, MonthlyKey}, first.outcomes
        if "renamed" in change:
            _rename_all(store)
        if "state lost" in change:
            for leftover in tmp_path.glob("state.sqlite3*"):
                leftover.unlink()
        later = MONDAY + dt.timedelta(hours=1)
        store.advance(later)
        again = _push(sandbox.url, state_path, prepared, later)
        assert not [o for o in again.outcomes if o.action == "created"], again.outcomes
        tomorrow = MONDAY + dt.timedelta(days=1)
        store.advance(tomorrow)
        _push(sandbox.url, state_path, prepared, tomorrow)
        store.advance(MONDAY + dt.timedelta(days=3))
        campaigns = store.list_campaigns({"count": 100})["campaigns"]
        keys = Counter(written_key(store, c) for c in campaigns)
        deliveries = Counter((d["email"], written_key(store, {"id": d["campaign_id"]})) for d in store.deliveries())
    assert keys and all(n == 1 for n in keys.values()), keys
    assert deliveries and all(n == 1 for n in deliveries.values()), deliveries


def test_the_record_of_a_campaign_id_beats_its_title_and_the_title_beats_its_recipients():
    step1 = DripKey("e1", 1, dt.date(2024, 5, 6))
    step2 = DripKey("e1", 2, dt.date(2024, 5, 6))
    conditions = (Condition("TextMerge", "MPLOG", "contains", "|e1.2.20240506|"),)
    remote = RemoteCampaign("c1", step1.title, "schedule", None, 1, conditions)
    assert recognise(remote, {"c1": MonthlyKey("m1", "2024-05")}) == MonthlyKey("m1", "2024-05")
    assert recognise(remote, {}) == step1
    assert recognise(RemoteCampaign("c1", "Renamed", "schedule", None, 1, conditions), {}) == step2
    assert recognise(RemoteCampaign("c1", "Renamed", "schedule", None, 1, ()), {}) is None


# -- two checkouts pushing at the same minute ---------------------------------------------------------
def _read_and_decide(url, state, prepared, now):
    """What one pusher decides from what it read: the first half of a run, to interleave two of them."""
    from mailpipe.push import read_and_decide

    _, rendered, campaigns, _ = prepared
    site = rendered.site
    mc = Mailchimp(Connection("k-us1", url), RETRY)
    refused = refusals(rendered.emails, findings_of(rendered.emails, site), {}, real_account=False)
    world, decision = read_and_decide(mc, state, site, campaigns, rendered.emails, rendered.content, refused, now)
    return mc, world, decision


@pytest.mark.parametrize("first", ["old machine", "new machine"])
def test_two_checkouts_that_read_before_either_made_anything_leave_one_campaign_each_and_send_nothing_twice(
    prepared, tmp_path, first
):
    """The worst interleaving, every morning for four days: both read Mailchimp, then one makes today's campaigns,
    then the other. Each looks again after making its own; both keep the same copy and the twin is deleted before
    it goes out. Nobody gets an email twice, and both say so (exit 1: a person should let only one machine push)."""
    from mailpipe.push.apply import apply

    db = tmp_path / "sandbox.sqlite3"
    shutil.copy(prepared[3], db)
    with RunningSandbox(db) as sandbox:
        store = sandbox.store
        states = [State(tmp_path / "old.sqlite3", sandbox.url), State(tmp_path / "new.sqlite3", sandbox.url)]
        said = []
        for day in range(4):
            morning = MONDAY + dt.timedelta(days=day)
            store.advance(morning)
            read = [_read_and_decide(sandbox.url, state, prepared, morning) for state in states]
            order = [0, 1] if first == "old machine" else [1, 0]
            for index in order:
                mc, world, decision = read[index]
                said += apply(decision, world, mc, states[index])
        store.advance(MONDAY + dt.timedelta(days=6))
        for state in states:
            state.close()
        sent = Counter(written_key(store, c) for c in store.list_campaigns({"count": 100})["campaigns"])
        deliveries = Counter((d["email"], written_key(store, {"id": d["campaign_id"]})) for d in store.deliveries())
    assert sent and all(n == 1 for n in sent.values()), sent
    assert len(deliveries) >= 6 and all(n == 1 for n in deliveries.values()), deliveries
    twins = [o for o in said if o.action == "deleted" and "made twice" in o.detail]
    assert len(twins) == len(sent) and all(o.attention for o in twins)  # every key was made twice, one copy deleted


def test_which_twin_stays_is_the_same_for_every_pusher_and_a_replica_by_hand_is_never_one():
    from mailpipe.push.read import twins

    step1 = DripKey("e1", 1, dt.date(2024, 5, 6))
    conditions = (Condition("TextMerge", "MPLOG", "contains", "|e1.1.20240506|"),)

    def made(campaign_id, status, at, title=step1.title):
        return RemoteCampaign(campaign_id, title, status, None, 1, conditions, f"2024-05-06T13:00:{at:02d}+00:00")

    first, second = made("b", "save", 1), made("a", "schedule", 2)
    for remotes in ([first, second], [second, first]):
        (twin,) = twins(remotes, {}, {"e1"})
        assert (twin.campaign_id, twin.kept, twin.scheduled) == ("a", "b", True)  # the first made stays
    (twin,) = twins([made("b", "save", 1), made("a", "sent", 2)], {}, {"e1"})
    assert (twin.campaign_id, twin.kept) == ("b", "a")  # one that went out always stays
    assert twins([made("b", "save", 1), made("a", "paused", 2)], {}, {"e1"}) == []  # a person's pause: left alone
    replica = made("c", "save", 3, title=f"{step1.title} (copy)")  # Mailchimp's Replicate: same recipients
    assert twins([made("b", "schedule", 1), replica], {}, {"e1"}) == []
    renamed = made("d", "schedule", 4, title="Renamed by hand")
    assert [t.campaign_id for t in twins([made("b", "schedule", 1), renamed], {"d": step1}, {"e1"})] == ["d"]
