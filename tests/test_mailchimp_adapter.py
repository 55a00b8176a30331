"""The adapter makes the official client safe: retries, one-line errors, idempotent creates, no key leaks."""

from __future__ import annotations

import datetime as dt
import threading
from typing import NamedTuple

import pytest

from conftest import SANDBOX_START, TEST_KEY, clinic_sandbox
from mailpipe.errors import MailpipeError
from mailpipe.plan.keys import DripKey
from mailpipe.push.mailchimp import CampaignSettings, Connection, Mailchimp, MailchimpError, RetryPolicy
from mailpipe.push.record import LOG_FIELD, LeadLog, conditions_for
from mailpipe.sandbox.server import FaultPlan, RunningSandbox


class Content(NamedTuple):
    """What the adapter uploads of a rendered email."""

    id: str
    html: str
    text: str


HTML = '<a href="*|UNSUB|*">Unsubscribe</a> *|HTML:LIST_ADDRESS_HTML|*'
FAST = RetryPolicy(attempts=12, base_delay=0.002, max_delay=0.02)


def settings(title: str, folder_id: str | None = None) -> CampaignSettings:
    return CampaignSettings(title, "S", "", "AIVI Aesthetics", "hello@aiviaesthetics.com", folder_id=folder_id)


def test_connection_comes_from_the_environment():
    assert Connection.from_environment({}) is None
    real = Connection.from_environment({"MAILCHIMP_API_KEY": "abc-us21"})
    assert real.base_url == "https://us21.api.mailchimp.com/3.0"
    local = Connection.from_environment(
        {"MAILCHIMP_API_KEY": "abc-us21", "MAILCHIMP_SERVER_URL": "http://127.0.0.1:8799/3.0/"}
    )
    assert local.base_url == "http://127.0.0.1:8799/3.0"
    assert "abc-us21" not in repr(local)
    with pytest.raises(MailpipeError, match="must end in the data centre") as caught:
        Connection.from_environment({"MAILCHIMP_API_KEY": "no-data-centre-secret"})
    assert "secret" not in str(caught.value)


def test_a_failure_is_one_clear_line_with_mailchimps_title_and_detail(adapter):
    with pytest.raises(MailchimpError) as caught:
        adapter.upsert_member("clinic", "not-an-email")
    message = str(caught.value)
    assert message.startswith("Mailchimp lists.set_list_member failed: 400 Invalid Resource: ")
    assert "looks fake or invalid" in message and "\n" not in message
    with pytest.raises(MailchimpError, match=r"campaigns.get failed: 404 Resource Not Found"):
        adapter.get_campaign("missing")


def test_a_refused_connection_is_retried_then_reported_without_the_key():
    dead = Mailchimp(
        Connection(TEST_KEY, "http://127.0.0.1:9/3.0", timeout=2),
        RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002),
    )
    with pytest.raises(MailchimpError) as caught:
        dead.ping()
    assert dead.calls == 3
    assert "ping failed: network error" in str(caught.value) and TEST_KEY not in str(caught.value)


def test_429_waits_at_least_as_long_as_retry_after(tmp_path):
    waits = []
    with RunningSandbox(
        tmp_path / "s.sqlite3", faults=FaultPlan(rate=1.0, kinds=("429",), seed=1, retry_after=3)
    ) as sandbox:
        adapter = Mailchimp(
            Connection(TEST_KEY, sandbox.url),
            RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01),
            sleep=waits.append,
        )
        with pytest.raises(MailchimpError, match="429 Too Many Requests"):
            adapter.ping()
    assert waits == [3.0, 3.0]


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=8.0)
    for attempt in range(1, 8):
        delays = [policy.delay(attempt, None) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= min(8.0, 2 ** (attempt - 1))
        assert len({round(d, 6) for d in delays}) > 150  # jittered, not a fixed sleep


def test_never_more_connections_than_the_cap(sandbox):
    adapter = Mailchimp(Connection(TEST_KEY, sandbox.url), FAST, max_connections=3)
    peak = []
    original = sandbox.store.lists

    def watched_lists():
        peak.append(sandbox.server.in_flight)
        threading.Event().wait(0.02)
        return original()

    sandbox.store.lists = watched_lists
    threads = [
        threading.Thread(target=lambda: adapter._call("lists", adapter._client.lists.get_all_lists)) for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sandbox.store.lists = original
    assert len(peak) == 12 and max(peak) <= 3


@pytest.mark.parametrize("fault", ["drop-after", "500-after"])
def test_a_create_that_took_effect_but_failed_is_found_not_repeated(tmp_path, fault):
    """A 5xx answered after the server acted is as ambiguous as a dropped answer: look before creating again."""
    with clinic_sandbox(tmp_path / "s.sqlite3", faults=FaultPlan(script=[fault])) as sandbox:
        adapter = Mailchimp(Connection(TEST_KEY, sandbox.url), FAST)
        created = adapter.create_campaign("clinic", settings("drip/y"))
        assert created.title == "drip/y" and sandbox.store.list_campaigns({})["total_items"] == 1
        assert adapter.calls == 2  # the create that failed, the look-up that found it


def test_a_create_whose_answer_was_lost_is_found_not_repeated(tmp_path):
    """The server created the campaign but the answer never arrived: the retry looks before it creates."""
    with clinic_sandbox(tmp_path / "s.sqlite3", faults=FaultPlan(script=["drop-after", "503"])) as sandbox:
        adapter = Mailchimp(Connection(TEST_KEY, sandbox.url), FAST)
        created = adapter.create_campaign("clinic", settings("drip/x"))
        assert created.title == "drip/x"
        assert sandbox.store.list_campaigns({})["total_items"] == 1
        assert adapter.calls == 3  # the lost create, a look-up that met a 503, the look-up that found it


@pytest.mark.slow
def test_two_hundred_calls_under_thirty_percent_faults_have_no_duplicated_effect(tmp_path):
    """A realistic mix of creates, upserts, lead records, content and schedules while 30% of requests fail,
    including answers lost after the server acted. Afterwards the sandbox holds each thing exactly once."""
    faults = FaultPlan(rate=0.3, seed=20261125)
    with clinic_sandbox(tmp_path / "s.sqlite3", faults=faults) as sandbox:
        store = sandbox.store
        adapter = Mailchimp(Connection(TEST_KEY, sandbox.url), FAST)
        calls = 0
        folder = adapter.ensure_folder("drip")
        assert adapter.ensure_folder("drip") == folder
        adapter.create_text_merge_field("clinic", LOG_FIELD, "mailpipe log")
        keys = [DripKey("e1", 1, dt.date(2026, 12, 1) + dt.timedelta(days=k)) for k in range(16)]
        for n in range(40):
            email = f"lead{n}@example.com"
            adapter.upsert_member("clinic", email)
            adapter.set_tags("clinic", email, active=["new-consult"])
            log = LeadLog(assigned=frozenset(key for k, key in enumerate(keys) if k <= n < k + 4))
            adapter.update_member_fields("clinic", email, {LOG_FIELD: log.render()})
            calls += 3
        for k, key in enumerate(keys):
            campaign = adapter.create_campaign(
                "clinic", settings(f"drip/new-consult/step-{k}", folder), conditions_for(key)
            )
            adapter.set_content(campaign.id, Content(f"step-{k}", HTML, "Unsubscribe: *|UNSUB|* *|LIST:ADDRESSLINE|*"))
            assert adapter.checklist(campaign.id).is_ready
            when = (SANDBOX_START + dt.timedelta(days=1, minutes=15 * k)).isoformat()
            adapter.schedule(campaign.id, when)
            adapter.schedule(campaign.id, when)  # a repeat is recognised as done, not an error
            calls += 6
        for k in range(8):
            adapter.unschedule(adapter.find_campaign(f"drip/new-consult/step-{k}").id)
            calls += 2
        assert calls >= 200
        assert adapter.calls > calls, "faults were injected, so some calls must have been retried"

        campaigns = store.list_campaigns({"count": 1000})["campaigns"]
        titles = [c["settings"]["title"] for c in campaigns]
        assert sorted(titles) == sorted(f"drip/new-consult/step-{k}" for k in range(16)), (
            "no campaign may be created twice"
        )
        assert [s["name"] for s in store.list_segments("clinic", {"count": 1000})["segments"]].count("new-consult") == 1
        statics = [s["name"] for s in store.list_segments("clinic", {"type": "static", "count": 1000})["segments"]]
        assert statics == ["new-consult"]
        assert [f["tag"] for f in store.merge_fields("clinic", {})["merge_fields"]].count(LOG_FIELD) == 1
        assert store.list_members("clinic", {"count": 1000})["total_items"] == 40
        assert len(store.folders({})["folders"]) == 1
        by_title = {c["settings"]["title"]: c for c in campaigns}
        for k in range(16):
            assert by_title[f"drip/new-consult/step-{k}"]["status"] == ("save" if k < 8 else "schedule")
            assert by_title[f"drip/new-consult/step-{k}"]["recipients"]["recipient_count"] == 4


def test_the_api_key_never_appears_in_any_output(tmp_path, capfd, caplog, run_cli, project, monkeypatch):
    """Grep everything a failing run prints, logs or raises for the key."""
    seen = []
    with clinic_sandbox(tmp_path / "s.sqlite3", faults=FaultPlan(rate=0.5, seed=9, retry_after=0)) as sandbox:
        adapter = Mailchimp(
            Connection(TEST_KEY, sandbox.url), RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002)
        )
        for call in (
            lambda: adapter.upsert_member("clinic", "bad"),
            lambda: adapter.get_campaign("nope"),
            adapter.ping,
            lambda: adapter.create_campaign("clinic", settings("t")),
        ):
            for _ in range(5):
                try:
                    seen.append(repr(call()))
                except MailchimpError as err:
                    seen += [str(err), repr(err), repr(err.__dict__)]
        seen += [repr(adapter), repr(Connection(TEST_KEY, sandbox.url)), repr(adapter.__dict__)]
    dead = Mailchimp(Connection(TEST_KEY, "http://127.0.0.1:9/3.0", timeout=1), RetryPolicy(attempts=1))
    with pytest.raises(MailchimpError) as caught:
        dead.ping()
    seen.append(str(caught.value))
    monkeypatch.setenv("MAILCHIMP_API_KEY", "secret-key-without-data-centre")
    monkeypatch.delenv("MAILCHIMP_SERVER_URL", raising=False)
    seen += [run_cli(project, "push", "--dry-run").output]
    with RunningSandbox(tmp_path / "echo.sqlite3", faults=FaultPlan(script=[None, "echo-key"])) as echoing:
        monkeypatch.setenv("MAILCHIMP_API_KEY", TEST_KEY)
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", echoing.url)
        pushed = run_cli(
            project, "push", "--now", "2024-05-01T13:00:00Z"
        )  # the server quotes the key back in an error: push must not print it
    assert pushed.exit_code == 1 and "The API key <api key> cannot do this" in pushed.stderr, pushed.output
    seen += [pushed.output]
    captured = capfd.readouterr()
    everything = "\n".join(seen + [captured.out, captured.err, caplog.text])
    assert len(seen) > 20
    assert TEST_KEY not in everything and TEST_KEY.split("-")[0] not in everything
    assert "secret-key-without-data-centre" not in everything


# -- reads that do not grow with the account ----------------------------------------------------------
def _member(adapter, email: str, *tags: str) -> None:
    adapter.upsert_member("clinic", email)
    if tags:
        adapter.set_tags("clinic", email, active=tags)


def test_a_tag_is_found_by_one_search_however_many_tags_there_are(adapter):
    _member(adapter, "many@example.com", *[f"mp-a{n}" for n in range(60)], "mp-a")
    calls = adapter.calls
    assert adapter.tag_ids("clinic", ["mp-a", "mp-missing"]) == {"mp-a": adapter.tags("clinic")["mp-a"]}
    assert adapter.calls - calls == 2 + 1  # one search per name (and the full listing the comparison read)


def test_changed_members_come_with_every_tag_even_past_fifty(adapter, sandbox):
    _member(adapter, "many@example.com", *[f"t{n:02d}" for n in range(55)])
    _member(adapter, "few@example.com", "mp-a")
    sandbox.store.set_clock(SANDBOX_START + dt.timedelta(days=2))
    _member(adapter, "later@example.com", "mp-b")
    since = SANDBOX_START - dt.timedelta(seconds=1)
    calls = adapter.calls
    members = {m.email: m for m in adapter.changed_members("clinic", since)}
    assert adapter.calls - calls == 1 + 1  # the page, and the tags of the one member the page shows only 50 of
    assert len(members["many@example.com"].tags) == 55 and members["few@example.com"].tags == ("mp-a",)
    recent = [m.email for m in adapter.changed_members("clinic", SANDBOX_START + dt.timedelta(days=1))]
    assert recent == ["later@example.com"]


def test_a_few_addresses_are_read_one_by_one_and_many_with_the_whole_audience(adapter, sandbox):
    rows = [
        (
            "clinic",
            f"{n:032x}",
            f"old{n}@example.com",
            "subscribed",
            "{}",
            "2025-01-01T00:00:00+00:00",
            "2025-01-01T00:00:00+00:00",
            "2025-01-01T00:00:00+00:00",
            f"u{n}",
        )
        for n in range(3_000)
    ]
    with sandbox.store.transaction() as db:
        db.executemany("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)", rows)
    _member(adapter, "Known@Example.com", "mp-a")
    calls = adapter.calls
    found = adapter.members_named("clinic", ["known@example.com", "new@example.com", "KNOWN@example.com"])
    assert set(found) == {"known@example.com"} and found["known@example.com"].tags == ("mp-a",)
    assert adapter.calls - calls == 1 + 2  # the audience's size, then each distinct address (3,001 members: 4 pages)
    calls = adapter.calls
    many = adapter.members_named("clinic", [f"x{n}@example.com" for n in range(5)])
    assert many == {} and adapter.calls - calls == 1 + 4  # five addresses cost more than the four pages of everyone
    assert adapter.members_named("clinic", []) == {}
