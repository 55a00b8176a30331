"""The sandbox answers the real mailchimp-marketing client like Mailchimp: endpoints, rules, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import threading

import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from conftest import SANDBOX_START, TEST_KEY, validate_against_spec

LIST = "clinic"
HTML = '<p>Hi</p><a href="*|UNSUB|*">Unsubscribe</a> *|HTML:LIST_ADDRESS_HTML|*'


def md5(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()


def problem(call) -> dict:
    """Run a client call that must fail; return Mailchimp's error document (the client leaves it as text)."""
    with pytest.raises(ApiClientError) as caught:
        call()
    body = json.loads(caught.value.text)
    assert set(body) >= {"type", "title", "status", "detail", "instance"}
    assert body["status"] == caught.value.status_code
    return body


def add(client, email: str, joined: str = "2026-11-20T17:00:00+00:00", **extra) -> dict:
    return client.lists.set_list_member(
        LIST, md5(email), {"email_address": email, "status_if_new": "subscribed", "timestamp_opt": joined, **extra}
    )


def ready_campaign(client, **recipients) -> dict:
    campaign = client.campaigns.create(
        {
            "type": "regular",
            "recipients": {"list_id": LIST, **recipients},
            "settings": {
                "subject_line": "Hello",
                "title": "t-1",
                "from_name": "AIVI Aesthetics",
                "reply_to": "hello@aiviaesthetics.com",
            },
        }
    )
    client.campaigns.set_content(campaign["id"], {"html": HTML, "plain_text": "Hi *|UNSUB|* *|LIST:ADDRESSLINE|*"})
    return campaign


def at(hours: float) -> str:
    return (SANDBOX_START + dt.timedelta(hours=hours)).isoformat()


# -- ping, lists, members --------------------------------------------------------------------------
def test_ping_and_lists(client):
    assert client.ping.get() == {"health_status": "Everything's Chimpy!"}
    lists = client.lists.get_all_lists()
    assert [entry["id"] for entry in lists["lists"]] == [LIST] and lists["total_items"] == 1
    assert client.lists.get_list(LIST)["contact"]["city"] == "Agoura Hills"


def test_member_upsert_is_keyed_by_the_md5_of_the_lower_cased_email(client):
    created = add(client, "Ana.Lopez@Example.com", merge_fields={"FNAME": "Ana"})
    assert created["id"] == md5("ana.lopez@example.com") and created["status"] == "subscribed"
    assert created["timestamp_opt"] == "2026-11-20T17:00:00+00:00"
    again = client.lists.set_list_member(
        LIST,
        md5("ana.lopez@example.com"),
        {"email_address": "ana.lopez@example.com", "status_if_new": "subscribed", "merge_fields": {"LNAME": "L"}},
    )
    assert again["merge_fields"] == {"FNAME": "Ana", "LNAME": "L"}
    assert client.lists.get_list_members_info(LIST)["total_items"] == 1


def test_upsert_never_resubscribes_someone_who_unsubscribed(client):
    add(client, "gone@example.com")
    client.lists.update_list_member(LIST, md5("gone@example.com"), {"status": "unsubscribed"})
    again = add(client, "gone@example.com")
    assert again["status"] == "unsubscribed"


def test_member_listing_filters_by_opt_in_time_and_pages(client):
    for day in range(1, 6):
        add(client, f"lead{day}@example.com", joined=f"2026-11-0{day}T12:00:00+00:00")
    add(client, "out@example.com", joined="2026-11-03T13:00:00+00:00", status_if_new="unsubscribed")
    page = client.lists.get_list_members_info(
        LIST,
        since_timestamp_opt="2026-11-02T00:00:00+00:00",
        before_timestamp_opt="2026-11-04T00:00:00+00:00",
        status="subscribed",
    )
    assert [m["email_address"] for m in page["members"]] == ["lead2@example.com", "lead3@example.com"]
    first = client.lists.get_list_members_info(LIST, count=2, offset=0)
    rest = client.lists.get_list_members_info(LIST, count=2, offset=4)
    assert first["total_items"] == 6 and len(first["members"]) == 2 and len(rest["members"]) == 2


def test_bad_member_input_is_answered_like_mailchimp(client):
    assert problem(lambda: add(client, "not-an-email"))["errors"][0]["field"] == "email_address"
    assert (
        problem(
            lambda: client.lists.set_list_member(
                "nolist", md5("a@b.co"), {"email_address": "a@b.co", "status_if_new": "subscribed"}
            )
        )["status"]
        == 404
    )
    assert (
        problem(lambda: client.lists.get_list_member(LIST, md5("nobody@example.com")))["title"] == "Resource Not Found"
    )
    mismatch = problem(
        lambda: client.lists.set_list_member(
            LIST, md5("x@example.com"), {"email_address": "y@example.com", "status_if_new": "subscribed"}
        )
    )
    assert mismatch["status"] == 400


def test_tags_are_static_segments_created_on_first_use(client):
    add(client, "t@example.com")
    response = client.lists.update_list_member_tags(
        LIST, md5("t@example.com"), {"tags": [{"name": "new-consult", "status": "active"}]}
    )
    assert response.status_code == 204  # the client hands 204s back raw
    tags = client.lists.get_list_member_tags(LIST, md5("t@example.com"))
    assert [t["name"] for t in tags["tags"]] == ["new-consult"]
    client.lists.update_list_member_tags(
        LIST, md5("t@example.com"), {"tags": [{"name": "new-consult", "status": "inactive"}]}
    )
    assert client.lists.get_list_member_tags(LIST, md5("t@example.com"))["total_items"] == 0
    assert [s["name"] for s in client.lists.list_segments(LIST, type="static")["segments"]] == ["new-consult"]


# -- segments ---------------------------------------------------------------------------------------
def test_static_segments_hold_exactly_their_members(client):
    for name in ("a", "b", "c"):
        add(client, f"{name}@example.com")
    segment = client.lists.create_segment(
        LIST, {"name": "cohort", "static_segment": ["a@example.com", "b@example.com", "z@example.com"]}
    )
    assert segment["type"] == "static" and segment["member_count"] == 2
    result = client.lists.batch_segment_members(
        {"members_to_add": ["c@example.com"], "members_to_remove": ["a@example.com"]}, LIST, str(segment["id"])
    )
    assert result["total_added"] == 1 and result["total_removed"] == 1
    members = client.lists.get_segment_members_list(LIST, str(segment["id"]))
    assert sorted(m["email_address"] for m in members["members"]) == ["b@example.com", "c@example.com"]
    client.lists.update_segment(LIST, str(segment["id"]), {"name": "cohort-2"})
    assert client.lists.get_segment(LIST, str(segment["id"]))["name"] == "cohort-2"
    assert client.lists.delete_segment(LIST, str(segment["id"])).status_code == 204
    assert problem(lambda: client.lists.get_segment(LIST, str(segment["id"])))["status"] == 404


def test_segment_conditions_on_date_added_tags_and_merge_fields(client):
    unknown = problem(lambda: add(client, "early@example.com", merge_fields={"SOURCE": "web"}))
    assert unknown["status"] == 400 and "SOURCE is not a merge field" in unknown["detail"]
    client.lists.add_list_merge_field(LIST, {"tag": "SOURCE", "name": "Source", "type": "text"})
    add(client, "early@example.com", joined="2026-11-01T10:00:00+00:00", merge_fields={"SOURCE": "web"})
    add(client, "mid@example.com", joined="2026-11-05T10:00:00+00:00", merge_fields={"SOURCE": "phone"})
    add(client, "late@example.com", joined="2026-11-09T10:00:00+00:00", merge_fields={"SOURCE": "web"})
    client.lists.update_list_member_tags(LIST, md5("late@example.com"), {"tags": [{"name": "vip", "status": "active"}]})
    tag_id = client.lists.list_segments(LIST, type="static")["segments"][0]["id"]

    def members_of(conditions, match="all"):
        segment = client.lists.create_segment(
            LIST, {"name": "q", "options": {"match": match, "conditions": conditions}}
        )
        return sorted(
            m["email_address"] for m in client.lists.get_segment_members_list(LIST, str(segment["id"]))["members"]
        )

    window = [
        {"condition_type": "Date", "field": "timestamp_opt", "op": "greater", "value": "date", "extra": "2026-11-01"},
        {"condition_type": "Date", "field": "timestamp_opt", "op": "less", "value": "date", "extra": "2026-11-09"},
    ]
    assert members_of(window) == ["mid@example.com"]
    assert members_of(
        [{"condition_type": "StaticSegment", "field": "static_segment", "op": "static_is", "value": tag_id}]
    ) == ["late@example.com"]
    outside = [{"condition_type": "StaticSegment", "field": "static_segment", "op": "static_not", "value": tag_id}]
    assert members_of(outside) == ["early@example.com", "mid@example.com"]
    assert members_of([{"condition_type": "TextMerge", "field": "SOURCE", "op": "is", "value": "web"}]) == [
        "early@example.com",
        "late@example.com",
    ]
    either = [{"condition_type": "TextMerge", "field": "SOURCE", "op": "is", "value": "phone"}, window[0]]
    assert members_of(either, match="any") == ["late@example.com", "mid@example.com"]
    aim = {"match": "all", "conditions": [{"condition_type": "Aim", "op": "open"}]}
    bad = problem(lambda: client.lists.create_segment(LIST, {"name": "x", "options": aim}))
    assert bad["status"] == 400


# -- campaigns --------------------------------------------------------------------------------------
def test_campaign_create_read_list_update_delete(client):
    folder = client.campaignFolders.create({"name": "drip"})
    created = client.campaigns.create(
        {
            "type": "regular",
            "recipients": {"list_id": LIST},
            "settings": {"subject_line": "S", "title": "drip/a", "folder_id": folder["id"]},
        }
    )
    assert created["status"] == "save" and created["settings"]["title"] == "drip/a"
    assert client.campaigns.get(created["id"])["id"] == created["id"]
    client.campaigns.create({"type": "regular", "settings": {"title": "other"}})
    listed = client.campaigns.list(
        folder_id=folder["id"], fields=["campaigns.id", "campaigns.settings.title", "total_items"]
    )
    assert listed == {"campaigns": [{"id": created["id"], "settings": {"title": "drip/a"}}], "total_items": 1}
    assert client.campaignFolders.list()["folders"][0]["count"] == 1
    updated = client.campaigns.update(
        created["id"], {"settings": {"subject_line": "New", "from_name": "AIVI", "reply_to": "a@aiviaesthetics.com"}}
    )
    assert updated["settings"]["subject_line"] == "New" and updated["settings"]["title"] == "drip/a"
    assert client.campaigns.remove(created["id"]).status_code == 204
    assert problem(lambda: client.campaigns.get(created["id"]))["status"] == 404
    assert problem(lambda: client.campaigns.create({"type": "bogus"}))["errors"][0]["field"] == "type"


def test_content_and_the_send_checklist_demand_unsubscribe_and_address_tags(client):
    campaign = client.campaigns.create(
        {
            "type": "regular",
            "recipients": {"list_id": LIST},
            "settings": {"subject_line": "S", "title": "t", "from_name": "AIVI", "reply_to": "a@aiviaesthetics.com"},
        }
    )
    client.campaigns.set_content(campaign["id"], {"html": "<p>No footer</p>", "plain_text": "x"})
    checklist = client.campaigns.get_send_checklist(campaign["id"])
    assert checklist["is_ready"] is False
    assert {i["heading"] for i in checklist["items"] if i["type"] == "error"} == {"Unsubscribe link", "Mailing address"}
    refused = problem(lambda: client.campaigns.schedule(campaign["id"], {"schedule_time": at(24)}))
    assert "*|UNSUB|*" in refused["detail"]
    client.campaigns.set_content(campaign["id"], {"html": HTML, "plain_text": "x"})
    assert client.campaigns.get_send_checklist(campaign["id"])["is_ready"] is True
    assert client.campaigns.get_content(campaign["id"])["html"] == HTML


@pytest.mark.parametrize(
    "when, complaint",
    [
        ("2026-12-02T17:10:00+00:00", "quarter-hour"),
        ("2026-12-02T17:15:30+00:00", "quarter-hour"),
        ("2026-12-02T09:15:00-08:00", "UTC"),
        ("2026-12-01T15:45:00+00:00", "future"),
        ("next tuesday", "ISO 8601"),
    ],
)
def test_schedule_time_must_be_utc_future_and_on_a_quarter_hour(client, when, complaint):
    campaign = ready_campaign(client)
    body = problem(lambda: client.campaigns.schedule(campaign["id"], {"schedule_time": when}))
    assert body["status"] == 400 and complaint in body["detail"]


def test_schedule_unschedule_and_a_sent_campaign_is_frozen(client, sandbox):
    add(client, "p@example.com")
    campaign = ready_campaign(client)
    assert client.campaigns.schedule(campaign["id"], {"schedule_time": at(1)}).status_code == 204
    assert client.campaigns.get(campaign["id"])["status"] == "schedule"
    assert (
        "already scheduled"
        in problem(lambda: client.campaigns.schedule(campaign["id"], {"schedule_time": at(2)}))["detail"]
    )
    client.campaigns.unschedule(campaign["id"])
    assert client.campaigns.get(campaign["id"])["status"] == "save"
    client.campaigns.schedule(campaign["id"], {"schedule_time": at(1)})
    sandbox.store.advance(SANDBOX_START + dt.timedelta(hours=2))
    sent = client.campaigns.get(campaign["id"])
    assert sent["status"] == "sent" and sent["emails_sent"] == 1
    for change in (
        lambda: client.campaigns.update(
            campaign["id"], {"settings": {"subject_line": "x", "from_name": "A", "reply_to": "a@b.co"}}
        ),
        lambda: client.campaigns.set_content(campaign["id"], {"html": HTML}),
        lambda: client.campaigns.unschedule(campaign["id"]),
        lambda: client.campaigns.schedule(campaign["id"], {"schedule_time": at(3)}),
        lambda: client.campaigns.remove(campaign["id"]),
    ):
        assert "already been sent" in problem(change)["detail"]
    assert client.reports.get_campaign_report(campaign["id"])["emails_sent"] == 1


def test_send_now_and_test_emails(client, sandbox):
    add(client, "now@example.com")
    campaign = ready_campaign(client)
    assert (
        client.campaigns.send_test_email(
            campaign["id"], {"test_emails": ["qa@aiviaesthetics.com"], "send_type": "html"}
        ).status_code
        == 204
    )
    assert [t["email"] for t in sandbox.store.test_emails()] == ["qa@aiviaesthetics.com"]
    assert (
        problem(
            lambda: client.campaigns.send_test_email(campaign["id"], {"test_emails": ["nope"], "send_type": "html"})
        )["status"]
        == 400
    )
    client.campaigns.send(campaign["id"])
    assert [d["email"] for d in sandbox.store.deliveries()] == ["now@example.com"]


def test_recipients_are_fixed_when_the_campaign_is_created_and_unsubscribes_still_count(client, sandbox):
    add(client, "before@example.com", joined="2026-11-10T10:00:00+00:00")
    add(client, "leaves@example.com", joined="2026-11-10T11:00:00+00:00")
    conditions = [
        {"condition_type": "Date", "field": "timestamp_opt", "op": "greater", "value": "date", "extra": "2026-11-01"}
    ]
    campaign = ready_campaign(client, segment_opts={"match": "all", "conditions": conditions})
    assert campaign["recipients"]["recipient_count"] == 2
    add(client, "after@example.com", joined="2026-11-11T10:00:00+00:00")  # matches, but joined the segment too late
    client.lists.update_list_member(LIST, md5("leaves@example.com"), {"status": "unsubscribed"})
    client.campaigns.schedule(campaign["id"], {"schedule_time": at(1)})
    sandbox.store.advance(SANDBOX_START + dt.timedelta(days=1))
    assert [d["email"] for d in sandbox.store.deliveries()] == ["before@example.com"]


def test_archived_members_get_nothing(client, sandbox):
    add(client, "stay@example.com")
    add(client, "archived@example.com")
    campaign = ready_campaign(client)
    requests.delete(
        f"{sandbox.url}/lists/{LIST}/members/{md5('archived@example.com')}", auth=("user", TEST_KEY), timeout=5
    )
    client.campaigns.schedule(campaign["id"], {"schedule_time": at(0.25)})
    sandbox.store.advance(SANDBOX_START + dt.timedelta(hours=1))
    assert [d["email"] for d in sandbox.store.deliveries()] == ["stay@example.com"]


def test_the_clock_sends_scheduled_campaigns_in_order_and_only_when_due(client, sandbox):
    add(client, "r@example.com")
    first, second = ready_campaign(client), ready_campaign(client)
    client.campaigns.schedule(second["id"], {"schedule_time": at(5)})
    client.campaigns.schedule(first["id"], {"schedule_time": at(2)})
    assert [s["campaign_id"] for s in sandbox.store.advance(SANDBOX_START + dt.timedelta(hours=3))] == [first["id"]]
    assert [s["campaign_id"] for s in sandbox.store.advance(SANDBOX_START + dt.timedelta(hours=6))] == [second["id"]]
    assert [d["delivered_at"] for d in sandbox.store.deliveries("r@example.com")] == [at(2), at(5)]


# -- HTTP-level rules ------------------------------------------------------------------------------
def test_requests_without_an_api_key_are_refused(sandbox):
    answer = requests.get(f"{sandbox.url}/ping", timeout=5)
    assert answer.status_code == 401 and answer.json()["title"] == "API Key Missing"
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_malformed_json_unknown_paths_and_methods_never_crash_the_server(sandbox):
    auth = ("user", TEST_KEY)
    bad_json = requests.post(f"{sandbox.url}/campaigns", data=b"{not json", auth=auth, timeout=5)
    assert bad_json.status_code == 400 and bad_json.json()["title"] == "JSON Parse Error"
    not_object = requests.post(f"{sandbox.url}/campaigns", data=b"[1, 2]", auth=auth, timeout=5)
    assert not_object.status_code == 400
    assert requests.get(f"{sandbox.url}/nowhere", auth=auth, timeout=5).status_code == 404
    assert requests.put(f"{sandbox.url}/campaigns", json={}, auth=auth, timeout=5).status_code == 405
    assert requests.get(f"{sandbox.url}/lists/nolist/members", auth=auth, timeout=5).status_code == 404
    assert requests.get(f"{sandbox.url}/lists/{LIST}/members?count=many", auth=auth, timeout=5).status_code == 400
    garbage = socket.create_connection(sandbox.server.server_address, timeout=5)
    garbage.sendall(b"\x00\xff garbage \r\n\r\n")
    garbage.recv(1024)
    garbage.close()
    assert requests.get(f"{sandbox.url}/ping", auth=auth, timeout=5).status_code == 200


def test_more_than_ten_simultaneous_connections_get_429(sandbox):
    """Hold 10 connections mid-request; the 11th is turned away like Mailchimp does."""
    release = threading.Event()
    held = []
    original = sandbox.store.get_list

    def slow_get_list(list_id):
        release.wait(5)
        return original(list_id)

    sandbox.store.get_list = slow_get_list  # the sandbox's own store, slowed so that requests overlap
    try:
        threads = [
            threading.Thread(
                target=lambda: held.append(
                    requests.get(f"{sandbox.url}/lists/{LIST}", auth=("u", TEST_KEY), timeout=10)
                )
            )
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for _ in range(100):
            if sandbox.server.in_flight >= 10:
                break
            threading.Event().wait(0.02)
        eleventh = requests.get(f"{sandbox.url}/ping", auth=("u", TEST_KEY), timeout=5)
        assert eleventh.status_code == 429 and eleventh.headers["Retry-After"] == "1"
        assert eleventh.json()["title"] == "Too Many Requests"
    finally:
        release.set()
        for thread in threads:
            thread.join()
        sandbox.store.get_list = original
    assert [r.status_code for r in held] == [200] * 10


def test_every_answer_matches_mailchimps_spec(client, sandbox, mailchimp_spec):
    if mailchimp_spec is None:
        pytest.skip("../shared/mailchimp spec is absent")
    add(client, "spec@example.com", merge_fields={"FNAME": "S"})
    client.lists.update_list_member_tags(LIST, md5("spec@example.com"), {"tags": [{"name": "t", "status": "active"}]})
    segment = client.lists.create_segment(LIST, {"name": "s", "static_segment": ["spec@example.com"]})
    client.lists.get_segment_members_list(LIST, str(segment["id"]))
    campaign = ready_campaign(client, segment_opts={"saved_segment_id": segment["id"]})
    client.campaigns.get_send_checklist(campaign["id"])
    client.campaigns.list(count=5)
    client.campaigns.schedule(campaign["id"], {"schedule_time": at(1)})
    problem(lambda: client.campaigns.get("missing"))
    assert validate_against_spec(mailchimp_spec, sandbox.exchanges) >= 10


# -- listings paged in SQL ----------------------------------------------------------------------------
def _fill(sandbox, count: int, changed: str = "2026-01-01T00:00:00+00:00") -> None:
    """`count` members written straight into the sandbox's file (an audience the API would take minutes to make)."""
    rows = [
        (
            LIST,
            md5(f"m{n:05d}@example.com"),
            f"m{n:05d}@example.com",
            "subscribed",
            "{}",
            f"2025-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
            "2025-01-01T00:00:00+00:00",
            changed,
            f"u{n}",
        )
        for n in range(count)
    ]
    with sandbox.store.transaction() as db:
        db.executemany("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)", rows)


def test_a_large_audience_is_read_page_by_page_each_member_once(client, sandbox):
    _fill(sandbox, 2_345)
    add(client, "tagged@example.com")
    client.lists.update_list_member_tags(
        LIST, md5("tagged@example.com"), {"tags": [{"name": "mp-a", "status": "active"}]}
    )
    seen, offset = [], 0
    while True:
        page = client.lists.get_list_members_info(LIST, count=1000, offset=offset)
        seen += page["members"]
        offset += 1000
        if offset >= page["total_items"]:
            break
    assert page["total_items"] == 2_346 and len(seen) == 2_346 and len({m["email_address"] for m in seen}) == 2_346
    assert [m["tags"] for m in seen if m["email_address"] == "tagged@example.com"][0][0]["name"] == "mp-a"
    assert all(m["tags"] == [] and m["tags_count"] == 0 for m in seen if m["email_address"] != "tagged@example.com")
    assert client.lists.get_list_members_info(LIST, count=1000, offset=2_346)["members"] == []


def test_the_member_list_filters_on_last_changed_both_sides(client, sandbox):
    _fill(sandbox, 5, changed="2026-11-20T10:00:00+00:00")
    add(client, "new@example.com")  # changed at the sandbox's clock
    now = sandbox.store.now()
    changed = client.lists.get_list_members_info(LIST, since_last_changed="2026-11-20T10:00:00+00:00")
    assert [m["email_address"] for m in changed["members"]] == ["new@example.com"]  # after, not at
    just_before = client.lists.get_list_members_info(LIST, since_last_changed="2026-11-20T09:59:59+00:00")
    assert just_before["total_items"] == 6
    older = client.lists.get_list_members_info(LIST, before_last_changed=now.isoformat())
    assert older["total_items"] == 5


def test_tag_search_finds_tags_by_the_start_of_their_name(client):
    add(client, "t@example.com")
    client.lists.update_list_member_tags(
        LIST, md5("t@example.com"), {"tags": [{"name": n, "status": "active"} for n in ("mp-a", "mp-ab", "xmp-a")]}
    )
    client.lists.create_segment(
        LIST,
        {
            "name": "mp-saved",
            "options": {
                "match": "all",
                "conditions": [
                    {
                        "condition_type": "Date",
                        "field": "timestamp_opt",
                        "op": "greater",
                        "value": "date",
                        "extra": "2026-11-01",
                    }
                ],
            },
        },
    )
    assert [t["name"] for t in client.lists.tag_search(LIST, name="mp-a")["tags"]] == ["mp-a", "mp-ab"]
    assert client.lists.tag_search(LIST, name="nothing")["tags"] == []
    assert len(client.lists.tag_search(LIST)["tags"]) == 3  # every tag, never a saved segment


def test_a_tags_members_are_paged_in_sql_with_their_status(client, sandbox):
    _fill(sandbox, 1_500)
    tag = client.lists.create_segment(LIST, {"name": "big", "static_segment": []})
    with sandbox.store.transaction() as db:
        db.executemany(
            "INSERT INTO segment_members VALUES (?,?,?)",
            [(tag["id"], md5(f"m{n:05d}@example.com"), "2026-01-01T00:00:00+00:00") for n in range(0, 1_500, 2)],
        )
        db.execute("UPDATE members SET status='unsubscribed' WHERE email='m00000@example.com'")
    first = client.lists.get_segment_members_list(LIST, str(tag["id"]), count=500, offset=0)
    last = client.lists.get_segment_members_list(LIST, str(tag["id"]), count=500, offset=500)
    assert first["total_items"] == 749 and len(first["members"]) == 500 and len(last["members"]) == 249
    every = client.lists.get_segment_members_list(LIST, str(tag["id"]), count=1000, include_unsubscribed="true")
    assert every["total_items"] == 750
    listed = client.lists.list_segments(LIST, type="static")["segments"]
    assert [(s["name"], s["member_count"]) for s in listed] == [("big", 750)]


def test_a_tag_cannot_be_renamed_to_a_name_another_tag_has(client):
    """As in Mailchimp, tag names are unique in an audience: a renamed tag cannot take back a name a new one took."""
    old = client.lists.create_segment("clinic", {"name": "mp-a", "static_segment": []})
    client.lists.update_segment("clinic", str(old["id"]), {"name": "mp-a (old)"})
    client.lists.create_segment("clinic", {"name": "mp-a", "static_segment": []})
    body = problem(lambda: client.lists.update_segment("clinic", str(old["id"]), {"name": "mp-a"}))
    assert body["status"] == 400 and "already exists" in body["detail"]
    assert client.lists.update_segment("clinic", str(old["id"]), {"name": "mp-a older"})["name"] == "mp-a older"
