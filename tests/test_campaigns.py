"""Campaign files, the offline plan, push's rules, leads import and test emails, through the CLI."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import edit
from mailpipe.campaigns import load_campaigns
from mailpipe.mailchimp import Connection, Mailchimp, RetryPolicy
from mailpipe.project import Project, render_project
from mailpipe.push import Pusher
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.sandbox.store import Store
from mailpipe.schedule import local_to_utc, next_quarter_hour, nth_weekday, schedule_time
from mailpipe.state import State
from mailpipe.target import sandbox_list_body
from simulation import add_specials

UTC = dt.timezone.utc
DRIP = "campaigns/migraine-education.yaml"


# -- time rules --------------------------------------------------------------------------------
def test_local_send_times_become_utc_across_daylight_saving_changes():
    assert local_to_utc(dt.date(2024, 3, 9), "09:30", "America/Los_Angeles").isoformat() == "2024-03-09T17:30:00+00:00"
    assert local_to_utc(dt.date(2024, 3, 11), "09:30", "America/Los_Angeles").isoformat() == "2024-03-11T16:30:00+00:00"
    assert local_to_utc(dt.date(2024, 11, 4), "09:30", "America/Los_Angeles").isoformat() == "2024-11-04T17:30:00+00:00"


def test_schedule_times_are_utc_quarter_hours_at_least_fifteen_minutes_ahead():
    now = dt.datetime(2024, 5, 1, 16, 7, 12, tzinfo=UTC)
    assert next_quarter_hour(now).isoformat() == "2024-05-01T16:15:00+00:00"
    on_time = dt.datetime(2024, 5, 1, 16, 30, tzinfo=UTC)
    assert schedule_time(on_time, now) == on_time
    assert schedule_time(on_time, dt.datetime(2024, 5, 1, 16, 20, tzinfo=UTC)).isoformat() == "2024-05-01T16:45:00+00:00"
    assert schedule_time(on_time, dt.datetime(2024, 5, 2, 3, 0, tzinfo=UTC)).isoformat() == "2024-05-02T03:15:00+00:00"


def test_nth_weekday_of_a_month():
    assert nth_weekday(2024, 5, "tuesday", 1) == dt.date(2024, 5, 7)
    assert nth_weekday(2024, 10, "tuesday", 1) == dt.date(2024, 10, 1)
    assert nth_weekday(2024, 6, "friday", 2) == dt.date(2024, 6, 14)


# -- campaign files ----------------------------------------------------------------------------
def test_bad_campaign_files_are_reported_with_file_line_and_field(project, run_cli):
    edit(project / DRIP, "audience: new-consult", "audience: new-leads")
    edit(project / DRIP, "  - content: four-stages-of-migraine\n    delay_days: 4", "  - content: four-stages\n    delay_days: 1")
    edit(project / DRIP, 'send_time: "09:30"', 'send_time: "9.30am"')
    result = run_cli(project, "plan", "--from", "2024-05-01")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"{DRIP}:5: audience: unknown audience 'new-leads'; expected one of: existing-patient, new-consult" in result.stderr
    assert f"{DRIP}:6: send_time: '9.30am' does not have the expected form (a time like 09:30)" in result.stderr


def test_steps_must_name_real_articles_in_increasing_order(project):
    edit(project / DRIP, "  - content: four-stages-of-migraine\n    delay_days: 4", "  - content: four-stages\n    delay_days: 1")
    rendered = render_project(Project(project))
    with pytest.raises(Exception) as caught:
        load_campaigns(project / "campaigns", rendered.site, {e.id for e in rendered.emails})
    message = str(caught.value)
    assert f"{DRIP}:10: steps[2].content: no article has id 'four-stages'" in message
    assert f"{DRIP}:11: steps[2].delay_days: each step must come later than the one before (after day 1)" in message


# -- plan --------------------------------------------------------------------------------------
def test_plan_lists_what_goes_to_whom_when_in_local_and_utc_time(project, run_cli):
    result = run_cli(project, "plan", "--from", "2024-05-06", "--days", "2", "--json")
    assert result.exit_code == 0, result.output
    sends = json.loads(result.stdout)
    assert len(sends) == 2 * 7 + 1
    monthly = [s for s in sends if s["key"].startswith("monthly/")]
    assert monthly == [{"key": "monthly/monthly-specials/2024-05", "campaign": "Monthly specials", "audience": "existing-patient",
                        "segment": "every subscribed member of the audience", "email": "newsletter-2024-05",
                        "local_time": "2024-05-07T10:00:00-07:00", "utc_time": "2024-05-07T17:00:00+00:00"}]
    first = sends[0]
    assert first["local_time"] == "2024-05-06T09:30:00-07:00" and first["utc_time"] == "2024-05-06T16:30:00+00:00"
    table = run_cli(project, "plan", "--from", "2024-05-06", "--days", "2")
    assert "newsletter-2024-05" in table.stdout and "15 planned sends" in table.stdout


def test_a_month_without_its_special_is_an_error_in_plan_not_a_silent_skip(project, run_cli):
    result = run_cli(project, "plan", "--from", "2024-07-01", "--days", "10")
    assert result.exit_code == 1
    assert "campaigns/monthly-specials.yaml:1: content: no newsletter for 2024-07: write content/specials/2024-07.md (it is due on 2024-07-02)" in result.stderr


def test_a_special_that_expires_before_its_send_date_is_an_error(project, run_cli):
    edit(project / "content/specials/2024-05.md", "valid_until: 2024-05-31", "valid_until: 2024-05-06")
    result = run_cli(project, "plan", "--from", "2024-05-01", "--days", "10")
    assert result.exit_code == 1
    assert "the 2024-05 special ends 2024-05-06, before it is sent on 2024-05-07" in result.stderr


# -- push rules --------------------------------------------------------------------------------
@pytest.fixture
def world(project, tmp_path):
    """A sandbox with the clinic's audience, leads and patients, and a way to push at a given time."""
    rendered = render_project(Project(project))
    campaigns = load_campaigns(project / "campaigns", rendered.site, {e.id for e in rendered.emails})
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        sandbox.store.set_clock(dt.datetime(2024, 5, 1, 12, tzinfo=UTC))
        sandbox.store.create_list(sandbox_list_body(rendered.site), list_id="aivi-main")
        mailchimp = Mailchimp(Connection("k-us1", sandbox.url), RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01))
        for n, tag in enumerate(["new-consult", "new-consult", "existing-patient"]):
            email = f"p{n}@example.com"
            mailchimp.upsert_member("aivi-main", email, {"status_if_new": "subscribed", "timestamp_opt": "2024-04-30T18:00:00+00:00"})
            mailchimp.set_tags("aivi-main", email, active=[tag])

        def push(now: dt.datetime, emails=None, allow_examples=True, dry_run=False):
            state = State(tmp_path / "state.sqlite3", sandbox.url)
            try:
                return Pusher(mailchimp, state, rendered.site, campaigns, emails or rendered.emails, rendered.content,
                              allow_examples=allow_examples, dry_run=dry_run).run(now)
            finally:
                state.close()

        yield sandbox, push, rendered


def test_push_creates_fills_checks_and_schedules_then_a_rerun_does_nothing(world):
    sandbox, push, _ = world
    now = dt.datetime(2024, 5, 1, 13, tzinfo=UTC)  # 06:00 in Agoura Hills
    first = push(now)
    assert [(a.key, a.action) for a in first.actions if a.action != "rebuilt"] == [
        ("drip/migraine-education/what-causes-migraine/2024-05-01", "created"),
        ("drip/migraine-education/what-causes-migraine/2024-05-01", "scheduled")]
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    assert campaign["status"] == "schedule" and campaign["send_time"] == "2024-05-01T16:30:00+00:00"
    assert campaign["settings"]["subject_line"] == "What is really behind a migraine?"
    assert campaign["settings"]["preview_text"].startswith("Genes, brain chemistry")
    assert campaign["settings"]["from_name"] == "AIVI Aesthetics" and campaign["recipients"]["recipient_count"] == 2
    assert "*|UNSUB|*" in sandbox.store.get_content(campaign["id"])["plain_text"]
    again = push(now + dt.timedelta(hours=1))
    assert again.actions == [] and sandbox.store.list_campaigns({})["total_items"] == 1


def test_dry_run_changes_nothing(world):
    sandbox, push, _ = world
    result = push(dt.datetime(2024, 5, 1, 13, tzinfo=UTC), dry_run=True)
    assert [a.action for a in result.actions] == ["would create"]
    assert sandbox.store.list_campaigns({})["total_items"] == 0


def test_example_content_is_refused_by_a_real_account_and_accepted_by_the_sandbox(world):
    sandbox, push, _ = world
    monday = dt.datetime(2024, 5, 6, 13, tzinfo=UTC)
    refused = push(monday, allow_examples=False)
    assert any(a.action == "refused" and "example content" in a.detail for a in refused.actions)
    assert not any(c["settings"]["title"].startswith("monthly/") for c in sandbox.store.list_campaigns({})["campaigns"])
    accepted = push(monday, allow_examples=True)
    assert ("monthly/monthly-specials/2024-05", "scheduled") in [(a.key, a.action) for a in accepted.actions]


def test_a_scheduled_campaign_whose_content_changed_is_rescheduled_and_a_sent_one_never_touched(world):
    sandbox, push, rendered = world
    now = dt.datetime(2024, 5, 1, 13, tzinfo=UTC)
    push(now)
    changed = [e if e.id != "what-causes-migraine" else type(e)(**{**e.__dict__, "html": e.html.replace("Thank you", "Thanks"),
                                                                    "content_hash": "changed-1"}) for e in rendered.emails]
    result = push(now + dt.timedelta(hours=1), emails=changed)
    assert [a.action for a in result.actions] == ["rescheduled"]
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    assert campaign["status"] == "schedule" and "Thanks" in sandbox.store.get_content(campaign["id"])["html"]
    sandbox.store.advance(dt.datetime(2024, 5, 2, 12, tzinfo=UTC))
    again = [type(e)(**{**e.__dict__, "content_hash": "changed-2"}) if e.id == "what-causes-migraine" else e for e in changed]
    late = push(dt.datetime(2024, 5, 2, 13, tzinfo=UTC), emails=again)
    assert all(a.key != "drip/migraine-education/what-causes-migraine/2024-05-01" for a in late.actions)
    assert "Thanks" in sandbox.store.get_content(campaign["id"])["html"]


def test_a_lost_state_file_is_rebuilt_from_campaign_titles(world, tmp_path):
    sandbox, push, _ = world
    now = dt.datetime(2024, 5, 1, 13, tzinfo=UTC)
    push(now)
    (tmp_path / "state.sqlite3").unlink()
    result = push(now + dt.timedelta(minutes=5))
    assert [a.action for a in result.actions] == ["rebuilt"]
    assert sandbox.store.list_campaigns({})["total_items"] == 1


def test_a_late_run_schedules_as_soon_as_mailchimp_allows(world):
    sandbox, push, _ = world
    late = dt.datetime(2024, 5, 1, 20, 7, tzinfo=UTC)  # 13:07 local, after the 09:30 send time
    push(late)
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    assert campaign["send_time"] == "2024-05-01T20:30:00+00:00"


# -- leads import and test emails through the CLI (embedded sandbox) ----------------------------
def test_leads_import_reports_bad_rows_by_line_and_is_idempotent(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nok@example.com,Ok,2024-05-01T09:00,yes\nbad-email,Bad,,yes\n"
                   "no@example.com,No,,no\nlate@example.com,Late,someday,yes\n")
    first = run_cli(project, "leads", "import", str(csv), "--audience", "new-consult")
    assert first.exit_code == 1 and "1 people imported into new-consult" in first.stdout
    assert "leads.csv:3: email: 'bad-email' is not a valid email address; row skipped" in first.stderr
    assert "leads.csv:4: consent: no@example.com has not consented" in first.stderr
    assert "leads.csv:5: joined: 'someday' is not a date and time" in first.stderr
    store = Store(project / "var/sandbox.sqlite3")
    before = store.list_members("aivi-main", {})
    store.close()
    run_cli(project, "leads", "import", str(csv), "--audience", "new-consult")
    store = Store(project / "var/sandbox.sqlite3")
    after = store.list_members("aivi-main", {})
    store.close()
    assert after == before and after["total_items"] == 1
    member = after["members"][0]
    assert member["timestamp_opt"] == "2024-05-01T16:00:00+00:00" and [t["name"] for t in member["tags"]] == ["new-consult"]
    assert member["merge_fields"]["FNAME"] == "Ok"
    assert run_cli(project, "leads", "import", str(csv), "--audience", "nobody").exit_code == 1


def test_send_test_sends_a_mailchimp_test_email(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    result = run_cli(project, "send-test", "what-causes-migraine", "--to", "qa@aiviaesthetics.com", "--to", "dr@aiviaesthetics.com")
    assert result.exit_code == 0, result.output
    store = Store(project / "var/sandbox.sqlite3")
    assert [t["email"] for t in store.test_emails()] == ["dr@aiviaesthetics.com", "qa@aiviaesthetics.com"]
    store.close()
    unknown = run_cli(project, "send-test", "no-such-email", "--to", "qa@aiviaesthetics.com")
    assert unknown.exit_code == 1 and "no email has id 'no-such-email'" in unknown.stderr


def test_push_through_the_cli_against_the_embedded_sandbox(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    add_specials(project, [])
    store = Store(project / "var/sandbox.sqlite3")
    store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
    store.close()
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    assert run_cli(project, "leads", "import", str(csv), "--audience", "new-consult").exit_code == 0
    result = run_cli(project, "push")
    assert result.exit_code == 0, result.output
    assert "push to sandbox" in result.stdout and "drip/migraine-education/what-causes-migraine/2024-05-01" in result.stdout
    assert "scheduled" in result.stdout and "API calls" in result.stdout
    assert run_cli(project, "push").stdout.count("scheduled") == 0


def test_push_refuses_emails_that_fail_the_checks(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    edit(project / "content/articles/01-what-causes-migraine.md", "Thank you for", "A guaranteed cure. Thank you for")
    store = Store(project / "var/sandbox.sqlite3")
    store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
    store.close()
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    run_cli(project, "leads", "import", str(csv), "--audience", "new-consult")
    result = run_cli(project, "push")
    assert result.exit_code == 1
    assert "refused" in result.stdout and "what-causes-migraine fails checks: CLAIM-NO-CURE" in result.stdout
    store = Store(project / "var/sandbox.sqlite3")
    assert store.list_campaigns({})["total_items"] == 0
    store.close()
