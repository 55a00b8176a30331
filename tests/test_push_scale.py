"""Push reads what can be due, not the account: its API calls do not grow with the audience or with history."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from conftest import TEST_KEY, copy_project, findings_of
from mailpipe.load.campaigns import Drip, load_campaigns
from mailpipe.plan import local_to_utc
from mailpipe.project import Project
from mailpipe.push import push, refusals
from mailpipe.push.leads import Lead, import_leads
from mailpipe.push.mailchimp import Connection, Mailchimp
from mailpipe.push.record import LOG_FIELD
from mailpipe.push.state import State
from mailpipe.push.target import provision
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.util.vocabulary import subscriber_hash

TZ = "America/Los_Angeles"
START = dt.date(2026, 3, 2)
DAYS = 8  # long enough for steps 1 to 3 of the drip


def _pad(store, count: int, list_id: str, lead_tag_id: int, patient_tag_id: int) -> None:
    """Members of earlier years, last changed long ago: leads who finished the drip (a full MPLOG), subscribers with
    no tag, and patients."""
    old = "2024-01-15T12:00:00+00:00"
    rows, tags = [], []
    for n in range(count):
        email, lead = f"past{n:05d}@example.com", n % 5 == 0
        log = "|e1@20240110|e1.1.20240110|e1.2.20240117|e1.3.20240124|e1.4.20240131|" if lead else ""
        rows.append(
            (list_id, subscriber_hash(email), email, "subscribed", json.dumps({LOG_FIELD: log}), old, old, old, f"p{n}")
        )
        if n % 5 != 1:
            tags.append((lead_tag_id if lead else patient_tag_id, subscriber_hash(email), old))
    with store.transaction() as db:
        db.executemany("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO segment_members VALUES (?,?,?)", tags)


def _daily_pushes(
    tmp_path: Path,
    padding: int,
    tag_by_hand: dict[int, str] | None = None,
    unsubscribe: dict[int, str] | None = None,
    untag_by_hand: dict[int, str] | None = None,
) -> list[tuple[int, list[tuple[str, str]], set[str]]]:
    """A daily push for DAYS days with two new leads a day, on an audience `padding` members larger: per day the calls,
    the outcomes and who that day's new campaigns go to. `tag_by_hand`: day -> a member given the lead tag by hand;
    `unsubscribe`: day -> a lead who unsubscribes before that day's push; `untag_by_hand`: day -> a member whose lead
    tag is taken off by hand."""
    run = f"{padding}-{len(tag_by_hand or {})}-{len(unsubscribe or {})}-{len(untag_by_hand or {})}"
    root = copy_project(tmp_path / f"project-{run}")
    rendered = Project(root).rendered()
    site = rendered.site
    campaigns = load_campaigns(root / "campaigns", site, {e.id for e in rendered.emails})
    drips = [c for c in campaigns if isinstance(c, Drip)]
    refused = refusals(rendered.emails, findings_of(rendered.emails, site), {}, real_account=False)
    days = []
    with RunningSandbox(tmp_path / f"sandbox-{run}.sqlite3") as sandbox:
        store = sandbox.store
        store.set_clock(local_to_utc(START, "05:00", TZ))
        provision(store, site)
        mailchimp = Mailchimp(Connection(TEST_KEY, sandbox.url))
        list_id = site.audiences["new-consult"].list_id
        import_leads(
            mailchimp, site.audiences["existing-patient"], [Lead(0, "patient@example.com", "P", "", None)], store.now()
        )
        import_leads(
            mailchimp, site.audiences["new-consult"], [Lead(0, "first@example.com", "L", "", None)], store.now(), drips
        )
        tag_ids = mailchimp.tag_ids(list_id, ["mp-a", "mp-b"])
        _pad(store, padding, list_id, tag_ids["mp-a"], tag_ids["mp-b"])
        state = State(tmp_path / f"state-{run}.sqlite3", sandbox.url)
        for offset in range(DAYS):
            now = local_to_utc(START + dt.timedelta(days=offset), "06:00", TZ)
            store.advance(now)
            leads = [Lead(0, f"day{offset}-{n}@example.com", "L", "", now - dt.timedelta(hours=3)) for n in range(2)]
            import_leads(mailchimp, site.audiences["new-consult"], leads, now, drips)
            if offset in (unsubscribe or {}):
                store.upsert_member(
                    list_id,
                    subscriber_hash((unsubscribe or {})[offset]),
                    {"email_address": (unsubscribe or {})[offset], "status": "unsubscribed"},
                )
            if offset in (untag_by_hand or {}):
                store.set_member_tags(
                    list_id,
                    subscriber_hash((untag_by_hand or {})[offset]),
                    {"tags": [{"name": "mp-a", "status": "inactive"}]},
                )
            if offset in (tag_by_hand or {}):
                store.set_member_tags(
                    list_id,
                    subscriber_hash((tag_by_hand or {})[offset]),
                    {"tags": [{"name": "mp-a", "status": "active"}]},
                )
            result = push(mailchimp, state, site, campaigns, rendered.emails, rendered.content, refused, now)
            recipients = {r for o in result.outcomes if o.action == "created" and o.plan for r in o.plan.recipients}
            said = sorted((o.action, re.sub(r"its \d+ member", "its N member", o.detail)) for o in result.outcomes)
            days.append((result.api_calls, said, recipients))  # the same, but for how many patients a month has
        state.close()
    return days


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """DAYS days on an audience of 3,000 more members, nobody touching anything: what the other runs differ from."""
    return _daily_pushes(tmp_path_factory.mktemp("plain"), 3_000)


def test_push_makes_the_same_calls_to_the_same_effect_whatever_the_audience_size(tmp_path, plain):
    """Each first run reads its lead tag once (no waiting room yet: one page, the larger one's 600 old leads too) and
    makes the drip's waiting room; from then on both make the same calls, every day, to the same effect."""
    small, large = _daily_pushes(tmp_path, 0), plain
    assert large[0][0] == small[0][0]
    assert [calls for calls, _, _ in small[1:]] == [calls for calls, _, _ in large[1:]]
    assert [outcomes for _, outcomes, _ in small] == [outcomes for _, outcomes, _ in large]
    assert sum(1 for _, outcomes, _ in small for action, _ in outcomes if action == "created") >= DAYS  # the drip ran


def test_a_contact_tagged_by_hand_enters_the_drip_though_their_record_did_not_change(tmp_path, plain):
    """Tagging in Mailchimp's UI changes no member record: it is found in the drip's waiting room (a saved segment of
    tagged members with no start, read every run in one call), never by reading the whole tag."""
    days = _daily_pushes(tmp_path, 3_000, tag_by_hand={5: "past00001@example.com"})  # an old subscriber with no tag
    assert days[5][0] == plain[5][0] + 2  # when they were tagged, their MPLOG
    assert "past00001@example.com" in days[6][2] and not any(
        "past00001@example.com" in d[2] for d in plain
    )  # step 1, a day on
    assert [d[0] for d in days[:5]] == [d[0] for d in plain[:5]]


def test_a_contact_tagged_by_hand_the_day_another_is_untagged_is_found_the_same_run(tmp_path, plain):
    """The tag's size is unchanged that day (one in, one out): the waiting room still holds the new one."""
    days = _daily_pushes(
        tmp_path, 3_000, tag_by_hand={5: "past00001@example.com"}, untag_by_hand={5: "past00000@example.com"}
    )
    assert days[5][0] == plain[5][0] + 2  # when they were tagged, their MPLOG: the same as with nobody untagged
    assert "past00001@example.com" in days[6][2]


def test_a_lead_who_unsubscribes_gets_nothing_more_without_a_reading_of_the_whole_tag(tmp_path, plain):
    days = _daily_pushes(tmp_path, 3_000, unsubscribe={6: "day2-0@example.com"})
    assert [d[0] for d in days[:6]] == [d[0] for d in plain[:6]]
    # their record changed: read as changed, no page of the tag; and no step 2 for them, so one MPLOG write fewer
    assert days[6][0] == plain[6][0] - 1
    assert not any("day2-0@example.com" in d[2] for d in days[6:]) and any(
        "day2-0@example.com" in d[2] for d in plain[6:]
    )


def test_a_dry_run_reads_the_whole_tag_when_it_must_and_records_nothing(tmp_path):
    root = copy_project(tmp_path / "project")
    rendered = Project(root).rendered()
    site = rendered.site
    campaigns = load_campaigns(root / "campaigns", site, {e.id for e in rendered.emails})
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        sandbox.store.set_clock(local_to_utc(START, "05:00", TZ))
        provision(sandbox.store, site)
        mailchimp = Mailchimp(Connection(TEST_KEY, sandbox.url))
        import_leads(
            mailchimp,
            site.audiences["existing-patient"],
            [Lead(0, "patient@example.com", "P", "", None)],
            sandbox.store.now(),
        )
        import_leads(
            mailchimp,
            site.audiences["new-consult"],
            [Lead(0, "lead@example.com", "L", "", None)],
            sandbox.store.now(),
            [c for c in campaigns if isinstance(c, Drip)],
        )
        tag_ids = mailchimp.tag_ids("aivi-main", ["mp-a", "mp-b"])
        _pad(sandbox.store, 50, "aivi-main", tag_ids["mp-a"], tag_ids["mp-b"])
        State(tmp_path / "state.sqlite3", sandbox.url).close()
        before = (tmp_path / "state.sqlite3").read_bytes()
        dry = State(tmp_path / "state.sqlite3", sandbox.url, read_only=True)
        now = local_to_utc(START, "06:00", TZ)
        reader = Mailchimp(Connection("k-us1", sandbox.url), read_only=True)  # a dry run: said once, by its client
        result = push(
            reader,
            dry,
            site,
            campaigns,
            rendered.emails,
            rendered.content,
            refusals(rendered.emails, findings_of(rendered.emails, site), {}, real_account=False),
            now,
        )
        dry.close()
        assert any(p.email == "lead@example.com" for p in result.decision.progress)  # read, as a real run would
        assert (tmp_path / "state.sqlite3").read_bytes() == before
        assert State(tmp_path / "state.sqlite3", sandbox.url).waiting_room("aivi-main", "e1") is None
        assert ("would add segment", "the saved segment mp-e1-new (the drip's waiting room)") in [
            (o.action, o.detail) for o in result.outcomes
        ]


@pytest.mark.parametrize("client_read_only", [True, False])
def test_push_refuses_a_client_and_state_that_disagree_about_the_dry_run(tmp_path, client_read_only):
    """Only a dry run reads the state as a copy: a read-only client with a writable state (or the reverse) is a wiring
    mistake, stopped before a request is made or the state is touched."""
    root = copy_project(tmp_path / "project")
    rendered = Project(root).rendered()
    url = "http://127.0.0.1:9"  # nothing listens: a request would fail differently
    State(tmp_path / "state.sqlite3", url).close()
    before = (tmp_path / "state.sqlite3").read_bytes()
    state = State(tmp_path / "state.sqlite3", url, read_only=not client_read_only)
    client = Mailchimp(Connection("k-us1", url), read_only=client_read_only)
    with pytest.raises(ValueError) as raised:
        push(
            client,
            state,
            rendered.site,
            [],
            rendered.emails,
            rendered.content,
            {},
            dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        )
    state.close()
    assert str(raised.value) == (
        "a dry run reads the state as a copy, and only a dry run does: the client and state disagree"
    )
    assert client.calls == 0 and (tmp_path / "state.sqlite3").read_bytes() == before
