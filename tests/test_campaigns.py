"""Campaign files, the offline plan, push's rules, leads import and test emails, through the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from conftest import REPO, Exchanges, add_reviewer, edit, findings_of, set_embedded_sandbox_clock, validate_against_spec
from mailpipe.load.campaigns import Drip, load_campaigns
from mailpipe.plan import local_to_utc, next_quarter_hour, nth_weekday, schedule_time
from mailpipe.project import Project
from mailpipe.push import push, refusals
from mailpipe.push.leads import Lead, import_leads
from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy
from mailpipe.push.state import PushLocked, State
from mailpipe.push.target import provision
from mailpipe.review import Reviews, SignOffGate, review_states
from mailpipe.review.signing import load_private_key
from mailpipe.sandbox.server import FaultPlan, RunningSandbox
from mailpipe.sandbox.store import Store
from mailpipe.util.vocabulary import subscriber_hash
from simulation import add_articles, add_specials

UTC = dt.UTC
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
    assert (
        schedule_time(on_time, dt.datetime(2024, 5, 1, 16, 20, tzinfo=UTC)).isoformat() == "2024-05-01T16:45:00+00:00"
    )
    assert schedule_time(on_time, dt.datetime(2024, 5, 2, 3, 0, tzinfo=UTC)).isoformat() == "2024-05-02T03:15:00+00:00"


def test_nth_weekday_of_a_month():
    assert nth_weekday(2024, 5, "tuesday", 1) == dt.date(2024, 5, 7)
    assert nth_weekday(2024, 10, "tuesday", 1) == dt.date(2024, 10, 1)
    assert nth_weekday(2024, 6, "friday", 2) == dt.date(2024, 6, 14)


# -- campaign files ----------------------------------------------------------------------------
def test_bad_campaign_files_are_reported_with_file_line_and_field(project, run_cli):
    edit(project / DRIP, "audience: new-consult", "audience: new-leads")
    edit(
        project / DRIP,
        "  - content: four-stages-of-migraine\n    delay_days: 4",
        "  - content: four-stages\n    delay_days: 1",
    )
    edit(project / DRIP, 'send_time: "09:30"', 'send_time: "9.30am"')
    result = run_cli(project, "plan", "--from", "2024-05-01")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert (
        f"{DRIP}:11: audience: unknown audience 'new-leads'; expected one of: existing-patient, new-consult"
        in result.stderr
    )
    assert f"{DRIP}:12: send_time: '9.30am' does not have the expected form (a time like 09:30)" in result.stderr


def test_steps_must_name_real_articles_in_increasing_order(project):
    edit(
        project / DRIP,
        "  - content: four-stages-of-migraine\n    delay_days: 4",
        "  - content: four-stages\n    delay_days: 1",
    )
    with pytest.raises(Exception) as caught:
        Project(project).rendered()  # the campaigns are read before the emails render: their links carry its code
    message = str(caught.value)
    assert f"{DRIP}:17: steps[2].content: no article has id 'four-stages'" in message
    assert f"{DRIP}:18: steps[2].delay_days: each step must come later than the one before (after day 1)" in message


# -- plan --------------------------------------------------------------------------------------
def test_plan_lists_what_goes_to_whom_when_in_local_and_utc_time(project, run_cli):
    result = run_cli(project, "plan", "--from", "2024-05-06", "--days", "2", "--json")
    assert result.exit_code == 0, result.output
    sends = json.loads(result.stdout)
    assert len(sends) == 2 * 7 + 1
    monthly = [s for s in sends if s["key"].startswith("mp-m1-")]
    assert monthly == [
        {
            "key": "mp-m1-2024-05",
            "campaign": "Monthly specials",
            "audience": "existing-patient",
            "segment": "every subscribed member of the audience",
            "email": "newsletter-2024-05",
            "local_time": "2024-05-07T10:00:00-07:00",
            "utc_time": "2024-05-07T17:00:00+00:00",
            "review": "needs medical and legal sign-off",
        }
    ]
    first = sends[0]
    assert first["local_time"] == "2024-05-06T09:30:00-07:00" and first["utc_time"] == "2024-05-06T16:30:00+00:00"
    table = run_cli(project, "plan", "--from", "2024-05-06", "--days", "2")
    assert "newsletter-2024-05" in table.stdout and "3 sends" in table.stdout  # a row per drip day, and the monthly
    every_slot = run_cli(project, "plan", "--from", "2024-05-06", "--days", "2", "--verbose")
    assert "15 planned sends" in every_slot.stdout


def test_a_month_without_its_special_is_an_error_in_plan_not_a_silent_skip(project, run_cli):
    result = run_cli(project, "plan", "--from", "2024-07-01", "--days", "10")
    assert result.exit_code == 1
    assert "monthly-specials.yaml: no newsletter for 2024-07: write content/specials/2024-07.md" in result.stderr


def test_a_special_that_expires_before_its_send_date_is_an_error(project, run_cli):
    edit(project / "content/specials/2024-05.md", "valid_until: 2024-05-31", "valid_until: 2024-05-06")
    result = run_cli(project, "plan", "--from", "2024-05-01", "--days", "10")
    assert result.exit_code == 1
    assert "the 2024-05 special ends 2024-05-06, before it is sent on 2024-05-07" in result.stderr


# -- push rules --------------------------------------------------------------------------------
@pytest.fixture
def world(project, tmp_path, mailchimp_spec):
    """A sandbox with the clinic's audience, two leads (entered Apr 30) and a patient, and a way to push at a time.
    Push's own requests, and the sandbox's answers, are validated against Mailchimp's spec afterwards."""
    rendered = Project(project).rendered()
    campaigns = load_campaigns(project / "campaigns", rendered.site, {e.id for e in rendered.emails})
    drips = [c for c in campaigns if c.code == "e1"]
    recorded = Exchanges()
    with RunningSandbox(tmp_path / "sandbox.sqlite3", recorder=recorded.record) as sandbox:
        sandbox.store.set_clock(dt.datetime(2024, 5, 1, 12, tzinfo=UTC))
        provision(sandbox.store, rendered.site)
        mailchimp = Mailchimp(
            Connection("k-us1", sandbox.url), RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)
        )
        leads = [
            Lead(2, "p0@example.com", "P", "", dt.datetime(2024, 4, 30, 11, tzinfo=UTC)),
            Lead(3, "p1@example.com", "Q", "", dt.datetime(2024, 4, 30, 11, tzinfo=UTC)),
        ]
        import_leads(
            mailchimp, rendered.site.audiences["new-consult"], leads, dt.datetime(2024, 5, 1, 12, tzinfo=UTC), drips
        )
        import_leads(
            mailchimp,
            rendered.site.audiences["existing-patient"],
            [Lead(4, "p2@example.com", "R", "", None)],
            dt.datetime(2024, 5, 1, 12, tzinfo=UTC),
        )

        def run(now: dt.datetime, emails=None, real_account=False, dry_run=False, content=None, sign_offs=None):
            """A push at `now`; `real_account`: as to a real account (examples refused, sign-offs needed: `sign_offs`,
            else those of the project's reviews/)."""
            emails = emails or rendered.emails
            state = State(tmp_path / "state.sqlite3", sandbox.url, read_only=dry_run)
            client = Mailchimp(
                Connection("k-us1", sandbox.url),
                RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01),
                read_only=dry_run,
                sign_offs=SignOffGate(project / "reviews", rendered.site),
                as_real_account=real_account,
            )
            try:
                return push(
                    client,
                    state,
                    rendered.site,
                    campaigns,
                    emails,
                    content or rendered.content,
                    refusals(
                        emails,
                        findings_of(emails, rendered.site),
                        sign_offs or review_states(emails, rendered.site, Reviews(project / "reviews")),
                        real_account,
                    ),
                    now,
                )
            finally:
                state.close()

        sandbox.recorded = recorded
        yield sandbox, run, rendered
    if mailchimp_spec is not None and recorded:
        assert validate_against_spec(mailchimp_spec, recorded) > 0


def actions(result) -> list[tuple[str, str]]:
    return [(o.key.title if o.key else "", o.action) for o in result.outcomes if o.action != "written"]


MORNING = dt.datetime(2024, 5, 1, 13, tzinfo=UTC)  # 06:00 in Agoura Hills
FIRST = "mp-e1-s01-2024-05-01"


def test_push_creates_fills_checks_and_schedules_then_a_rerun_does_nothing(world):
    sandbox, run, _ = world
    first = run(MORNING)
    assert actions(first) == [(FIRST, "created"), (FIRST, "scheduled")]
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    assert campaign["status"] == "schedule" and campaign["send_time"] == "2024-05-01T16:30:00+00:00"
    assert (
        campaign["settings"]["title"] == FIRST
        and campaign["settings"]["subject_line"] == "What is really behind a migraine?"
    )
    assert campaign["settings"]["preview_text"].startswith("Genes, brain chemistry")
    assert campaign["settings"]["from_name"] == "AIVI Aesthetics" and campaign["recipients"]["recipient_count"] == 2
    assert "*|UNSUB|*" in sandbox.store.get_content(campaign["id"])["plain_text"]
    again = run(MORNING + dt.timedelta(hours=1))
    assert actions(again) == [] and sandbox.store.list_campaigns({})["total_items"] == 1


def test_nothing_mailpipe_writes_on_a_person_names_a_condition_or_treatment(world):
    sandbox, run, _ = world
    run(MORNING)
    sandbox.store.advance(dt.datetime(2024, 5, 7, 12, tzinfo=UTC))
    run(dt.datetime(2024, 5, 7, 13, tzinfo=UTC))
    words = ("migraine", "botox", "patient", "consult", "headache", "treat")
    for member in sandbox.store.list_members("aivi-main", {"count": 100})["members"]:
        written = [t["name"] for t in member["tags"]] + [f"{k}={v}" for k, v in member["merge_fields"].items()]
        assert not [w for w in written if any(word in w.lower() for word in words)], written
    for campaign in sandbox.store.list_campaigns({"count": 100})["campaigns"]:
        assert not any(word in campaign["settings"]["title"].lower() for word in words), campaign["settings"]["title"]
    segments = sandbox.store.list_segments("aivi-main", {"count": 100})["segments"]
    # the audience's own tags, and one opaque saved segment per drip (its waiting room): none per campaign
    assert sorted(s["name"] for s in segments) == ["mp-a", "mp-b", "mp-e1-new"]


def test_dry_run_sends_only_gets_in_every_situation(world, tmp_path):
    sandbox, run, _ = world

    def dry(now: dt.datetime):
        sandbox.recorded.clear()
        result = run(now, dry_run=True)
        writes = [(r["method"], r["path"]) for r, _, _ in sandbox.recorded if r["method"] != "GET"]
        assert writes == [] and len(sandbox.recorded) > 3, writes  # counted at the server
        return result

    first = dry(MORNING)  # no folder, no state file, nothing pushed yet
    assert ("", "would make folder") in actions(first) and (FIRST, "would create") in actions(first)
    assert not (tmp_path / "state.sqlite3").exists()
    run(MORNING)
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    sandbox.store.unschedule(campaign["id"])  # a draft nobody can tell apart: a lost state and a renamed folder
    (tmp_path / "state.sqlite3").unlink()
    for folder in sandbox.store.folders({})["folders"]:
        sandbox.store.rename_folder(folder["id"], {"name": "renamed"})
    sandbox.store.advance(dt.datetime(2024, 5, 4, 12, tzinfo=UTC))
    later = dry(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    # never adopted; step 2 waits until step 1 has gone out (and the waiting room, lost with the state, would be found)
    assert actions(later) == [("", "would add segment"), (FIRST, "held")]
    assert sandbox.store.get_campaign(campaign["id"])["status"] == "save" and not (tmp_path / "state.sqlite3").exists()
    made = run(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    assert (FIRST, "held") in actions(made) and sandbox.store.get_campaign(campaign["id"])["status"] == "save"


def test_example_content_is_refused_by_a_real_account_and_accepted_by_the_sandbox(world):
    sandbox, run, _ = world
    monday = dt.datetime(2024, 5, 6, 13, tzinfo=UTC)
    refused = run(monday, real_account=True)
    assert (
        any(o.action == "refused" and "example content" in o.detail for o in refused.outcomes)
        and refused.needs_attention
    )
    assert not any(c["settings"]["title"].startswith("mp-m1") for c in sandbox.store.list_campaigns({})["campaigns"])
    accepted = run(monday)
    assert ("mp-m1-2024-05", "scheduled") in actions(accepted)


def test_a_real_account_gets_only_signed_off_emails_and_a_changed_word_voids_the_sign_off(world, project, tmp_path):
    sandbox, run, rendered = world
    key = load_private_key(add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical"]))
    reviews = Reviews(project / "reviews")
    first = next(e for e in rendered.emails if e.id == "what-causes-migraine")
    unsigned = run(MORNING, real_account=True, sign_offs=review_states(rendered.emails, rendered.site, reviews))
    assert any(
        o.action == "refused" and "not signed off: needs medical sign-off" in o.detail for o in unsigned.outcomes
    )
    assert (FIRST, "scheduled") not in actions(unsigned) and not sandbox.store.list_campaigns({})["campaigns"]
    reviews.approve(first, rendered.site, "medical", key, dt.date(2024, 4, 29))
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "A migraine is much more than",
    )
    changed = Project(project).rendered().emails
    refused = run(MORNING, emails=changed, real_account=True, sign_offs=review_states(changed, rendered.site, reviews))
    assert any(o.action == "refused" and "changed since its medical approval" in o.detail for o in refused.outcomes)
    signed = run(MORNING, real_account=True, sign_offs=review_states(rendered.emails, rendered.site, reviews))
    assert (FIRST, "scheduled") in actions(signed) and not signed.needs_attention


def test_a_scheduled_campaign_whose_email_changed_is_rescheduled_and_a_sent_one_never_touched(world, project):
    sandbox, run, rendered = world
    run(MORNING)
    edit(project / "content/articles/01-what-causes-migraine.md", "Thank you for", "Thanks for")
    changed = Project(project).rendered().emails
    result = run(MORNING + dt.timedelta(hours=1), emails=changed)
    assert actions(result) == [(FIRST, "rescheduled")]
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    assert campaign["status"] == "schedule" and "Thanks for" in sandbox.store.get_content(campaign["id"])["html"]
    sandbox.store.advance(dt.datetime(2024, 5, 2, 12, tzinfo=UTC))
    late = run(dt.datetime(2024, 5, 2, 13, tzinfo=UTC))  # the original text again: the sent campaign stays as sent
    assert all(o.key is None or o.key.title != FIRST for o in late.outcomes)
    assert "Thanks for" in sandbox.store.get_content(campaign["id"])["html"]


def test_an_update_stopped_after_the_unschedule_is_finished_by_the_next_run(world, project):
    """Mailchimp unscheduled the campaign, then every try of the settings' update failed: the campaign is a draft.
    Push recorded it as its own unscheduled draft before unscheduling, so the next run fills and schedules the new
    version, rather than taking the draft for a person's choice and never sending it."""
    sandbox, run, _ = world
    run(MORNING)
    edit(project / "content/articles/01-what-causes-migraine.md", "Thank you for", "Thanks for")
    changed = Project(project).rendered().emails
    sandbox.server.faults = FaultPlan(rate=1.0, kinds=("500",), only=lambda method, path: method == "PATCH")
    stopped = run(MORNING + dt.timedelta(hours=1), emails=changed)
    assert actions(stopped) == [(FIRST, "failed")] and stopped.needs_attention
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    assert campaign["status"] == "save"
    sandbox.server.faults = None
    finished = run(MORNING + dt.timedelta(hours=1, minutes=5), emails=changed)
    assert actions(finished) == [(FIRST, "scheduled")] and not finished.needs_attention
    campaign = sandbox.store.get_campaign(campaign["id"])
    assert campaign["status"] == "schedule" and "Thanks for" in sandbox.store.get_content(campaign["id"])["html"]


def test_a_lead_whose_record_could_not_be_written_gets_the_step_on_the_next_day(world):
    """Every try of one lead's MPLOG write failed: push says the lead gets nothing today, and takes the lead out of its
    local copy again, so the next day's run gives them the step as a lead who never had it (Mailchimp's report of who
    a sent campaign reached would also catch a lost lead, but only after the fact and as a problem)."""
    sandbox, run, _ = world
    refused = subscriber_hash("p1@example.com")
    sandbox.server.faults = FaultPlan(
        rate=1.0, kinds=("500",), only=lambda method, path: method == "PATCH" and path.endswith(refused)
    )
    first = run(MORNING)
    failed = [o.detail for o in first.outcomes if o.action == "failed"]
    assert len(failed) == 1 and "lead record not written, so this lead gets nothing today: p1@example.com" in failed[0]
    sandbox.server.faults = None
    next_morning = MORNING + dt.timedelta(days=1)
    sandbox.store.advance(next_morning)
    # exactly this: the lead is not taken for one yesterday's campaign was made for and did not reach
    assert actions(run(next_morning)) == [("mp-e1-s01-2024-05-02", "created"), ("mp-e1-s01-2024-05-02", "scheduled")]
    sandbox.store.advance(next_morning + dt.timedelta(days=1))
    step_one = {(d["email"], d["title"]) for d in sandbox.store.deliveries() if d["title"].startswith("mp-e1-s01-")}
    assert step_one == {("p0@example.com", FIRST), ("p1@example.com", "mp-e1-s01-2024-05-02")}


def test_a_campaign_mailchimps_send_checklist_blocks_is_said_and_scheduled_once_it_is_ready(world):
    """The sender's domain not verified in Mailchimp (its checklist says so; scheduling would be refused): push says
    what the checklist says, loudly, and schedules nothing; once the domain is verified, the next run schedules it."""
    sandbox, run, rendered = world
    domain = rendered.site.sender.reply_to.rpartition("@")[2]
    sandbox.store.set_domain(domain, verified=False)
    blocked = run(MORNING)
    assert actions(blocked) == [(FIRST, "created"), (FIRST, "blocked")] and blocked.needs_attention
    said = next(o.detail for o in blocked.outcomes if o.action == "blocked")
    assert said == (
        f"Mailchimp's send checklist: Sending domain: Verify and authenticate {domain} before you send from it."
    )
    assert sandbox.store.list_campaigns({})["campaigns"][0]["status"] == "save"
    sandbox.store.set_domain(domain, verified=True)
    ready = run(MORNING + dt.timedelta(minutes=5))
    assert actions(ready) == [(FIRST, "scheduled")] and not ready.needs_attention


def test_a_stopped_runs_draft_too_late_to_send_is_deleted_in_mailchimp_and_forgotten(world, tmp_path):
    """The run made step 1's campaign, then could not fill it (every try failed): a draft of mailpipe's. Once the
    step can no longer go out in time (max_late_days 7), the next run deletes it, says why, and forgets it."""
    sandbox, run, _ = world
    sandbox.server.faults = FaultPlan(
        rate=1.0, kinds=("500",), only=lambda method, path: method == "PUT" and path.endswith("/content")
    )
    stopped = run(MORNING)
    assert actions(stopped) == [(FIRST, "failed")]
    (draft,) = sandbox.store.list_campaigns({})["campaigns"]
    assert draft["status"] == "save"
    sandbox.server.faults = None
    too_late = dt.datetime(2024, 5, 8, 17, tzinfo=UTC)  # past May 8 09:30, the last morning step 1 may go out
    sandbox.store.advance(too_late)
    later = run(too_late)
    deleted = [o for o in later.outcomes if o.action == "deleted"]
    assert [(o.key.title, o.detail, o.attention) for o in deleted] == [
        (FIRST, "a draft left by a stopped run, now too late to send", False)
    ]
    assert draft["id"] not in {c["id"] for c in sandbox.store.list_campaigns({})["campaigns"]}
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    try:
        assert all(p.campaign_id != draft["id"] for p in state.pushed().values())
    finally:
        state.close()


def test_a_lost_state_file_changes_nothing(world, tmp_path):
    sandbox, run, _ = world
    run(MORNING)
    (tmp_path / "state.sqlite3").unlink()
    assert actions(run(MORNING + dt.timedelta(minutes=5))) == []
    assert sandbox.store.list_campaigns({})["total_items"] == 1


def test_a_late_run_schedules_as_soon_as_mailchimp_allows(world):
    sandbox, run, _ = world
    run(dt.datetime(2024, 5, 1, 20, 7, tzinfo=UTC))  # 13:07 local, after the 09:30 send time
    assert sandbox.store.list_campaigns({})["campaigns"][0]["send_time"] == "2024-05-01T20:30:00+00:00"


def test_at_most_one_step_per_lead_per_local_day_however_many_runs(world):
    sandbox, run, _ = world
    sandbox.store.advance(dt.datetime(2024, 5, 7, 12, tzinfo=UTC))  # runs missed since May 1: steps 1 and 2 are due
    for hour in (13, 17, 19, 22):  # 06:00, 10:00, 12:00, 15:00 local; the 09:30 send happens in between
        run(dt.datetime(2024, 5, 7, hour, tzinfo=UTC))
        sandbox.store.advance(dt.datetime(2024, 5, 7, hour, 50, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == ["mp-e1-s01-2024-05-07"]
    run(dt.datetime(2024, 5, 8, 13, tzinfo=UTC))
    sandbox.store.advance(dt.datetime(2024, 5, 8, 17, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == [
        "mp-e1-s01-2024-05-07",
        "mp-e1-s02-2024-05-08",
    ]


def test_a_step_is_never_sent_later_than_max_late_days_but_skipped(world):
    sandbox, run, _ = world
    # entered Apr 30: step 1 due May 1, step 2 May 4, step 3 May 8, step 4 May 12 (09:30 local); late limit 7 days
    sandbox.store.advance(dt.datetime(2024, 5, 8, 16, tzinfo=UTC))  # May 8, 09:00 local: step 1 is exactly 7 days late
    on_edge = run(dt.datetime(2024, 5, 8, 16, tzinfo=UTC))
    assert ("mp-e1-s01-2024-05-08", "scheduled") in actions(on_edge)
    sandbox.store.advance(dt.datetime(2024, 5, 13, 16, tzinfo=UTC))
    skipping = run(
        dt.datetime(2024, 5, 13, 16, tzinfo=UTC)
    )  # step 2 is 9 days late now: skipped; step 3 is 5 days late
    progress = {p.email: p.steps for p in skipping.decision.progress}
    assert progress["p0@example.com"] == {1: "sent", 2: "skipped", 3: "assigned"}
    assert ("mp-e1-s03-2024-05-13", "scheduled") in actions(skipping)


def test_exit_tags_stop_the_drip(world):
    sandbox, run, _ = world
    run(MORNING)
    sandbox.store.set_member_tags(
        "aivi-main", subscriber_hash("p1@example.com"), {"tags": [{"name": "mp-b", "status": "active"}]}
    )
    sandbox.store.advance(dt.datetime(2024, 5, 4, 12, tzinfo=UTC))
    run(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    sandbox.store.advance(dt.datetime(2024, 5, 4, 18, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")][-1] == "mp-e1-s02-2024-05-04"
    assert [d["title"] for d in sandbox.store.deliveries("p1@example.com")] == [FIRST]


@pytest.mark.parametrize("status", ["paused", "save", "canceled"])
def test_a_campaign_a_person_paused_unscheduled_or_canceled_is_left_alone_and_holds_its_leads_in_its_time(
    world, status
):
    sandbox, run, _ = world
    run(MORNING)
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    {"paused": sandbox.store.pause, "save": sandbox.store.unschedule, "canceled": sandbox.store.cancel_send}[status](
        campaign["id"]
    )
    sandbox.store.advance(dt.datetime(2024, 5, 4, 12, tzinfo=UTC))
    # step 1 was due May 1 09:30; its leads miss it after May 8 09:30 (max_late_days 7): a person's own choice is
    # said every run, and loud (exit 1) only from a day before that
    action = "resume" if status == "paused" else "scheduled"
    for moment, loud in (
        (dt.datetime(2024, 5, 7, 16, 15, tzinfo=UTC), False),
        (dt.datetime(2024, 5, 7, 16, 30, tzinfo=UTC), True),
    ):
        result = run(moment)
        (held,) = [o for o in result.outcomes if o.key and o.key.title == FIRST]
        assert held.action == "held" and result.needs_attention is loud, moment
        assert "by Wed May 8 09:30 or the first of them misses step 1" in held.detail and action in held.detail
    # past that, the step is missed: said (not loud: nobody can help it now), and its leads go on with step 2
    later = run(dt.datetime(2024, 5, 9, 13, tzinfo=UTC))
    (held,) = [o for o in later.outcomes if o.key and o.key.title == FIRST]
    assert not later.needs_attention
    assert "its time ended Wed May 8 09:30: its leads missed step 1 and go on with the next ones" in held.detail
    assert ("mp-e1-s02-2024-05-09", "scheduled") in actions(later)
    assert sandbox.store.get_campaign(campaign["id"])["status"] == status  # neither rescheduled nor counted as sent
    sandbox.store.advance(dt.datetime(2024, 5, 9, 17, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == ["mp-e1-s02-2024-05-09"]


def test_a_campaign_deleted_before_sending_is_given_again_on_a_later_day(world):
    sandbox, run, _ = world
    run(MORNING)
    sandbox.store.delete_campaign(sandbox.store.list_campaigns({})["campaigns"][0]["id"])
    same_day = run(MORNING + dt.timedelta(hours=1))
    assert actions(same_day) == [(FIRST, "deleted")]  # said, and not made again the same day
    sandbox.store.advance(dt.datetime(2024, 5, 2, 12, tzinfo=UTC))
    next_day = run(dt.datetime(2024, 5, 2, 13, tzinfo=UTC))
    assert ("mp-e1-s01-2024-05-02", "scheduled") in actions(next_day)
    sandbox.store.advance(dt.datetime(2024, 5, 3, 12, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == ["mp-e1-s01-2024-05-02"]


def test_renamed_moved_campaigns_and_a_renamed_folder_are_still_recognised(world, tmp_path):
    sandbox, run, _ = world
    run(MORNING)
    campaign = sandbox.store.list_campaigns({})["campaigns"][0]
    sandbox.store.update_campaign(campaign["id"], {"settings": {"title": "May intro (renamed)", "folder_id": ""}})
    for folder in sandbox.store.folders({})["folders"]:
        sandbox.store.rename_folder(folder["id"], {"name": "old stuff"})
    (tmp_path / "state.sqlite3").unlink()
    assert actions(run(MORNING + dt.timedelta(hours=1))) == []
    sandbox.store.advance(dt.datetime(2024, 5, 4, 12, tzinfo=UTC))
    run(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    sandbox.store.advance(dt.datetime(2024, 5, 4, 18, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == [
        "May intro (renamed)",
        "mp-e1-s02-2024-05-04",
    ]


def test_deleted_tags_and_a_lost_state_never_resend(world, tmp_path):
    sandbox, run, _ = world
    run(MORNING)
    sandbox.store.advance(dt.datetime(2024, 5, 2, 12, tzinfo=UTC))
    tag = next(s for s in sandbox.store.list_segments("aivi-main", {})["segments"] if s["name"] == "mp-a")
    sandbox.store.delete_segment("aivi-main", tag["id"])
    (tmp_path / "state.sqlite3").unlink()
    assert actions(run(dt.datetime(2024, 5, 2, 13, tzinfo=UTC))) == []  # nobody is in the drip while the tag is gone
    for email in ("p0@example.com", "p1@example.com"):
        sandbox.store.set_member_tags(
            "aivi-main", subscriber_hash(email), {"tags": [{"name": "mp-a", "status": "active"}]}
        )
    sandbox.store.advance(dt.datetime(2024, 5, 4, 12, tzinfo=UTC))
    run(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    sandbox.store.advance(dt.datetime(2024, 5, 4, 18, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == [FIRST, "mp-e1-s02-2024-05-04"]


def test_one_campaigns_problem_stops_only_that_campaign(world, project):
    sandbox, run, rendered = world
    sandbox.store.advance(dt.datetime(2024, 6, 29, 18, tzinfo=UTC))
    sandbox.store.upsert_member(
        "aivi-main",
        subscriber_hash("new@example.com"),
        {"email_address": "new@example.com", "status_if_new": "subscribed"},
    )
    sandbox.store.set_member_tags(
        "aivi-main", subscriber_hash("new@example.com"), {"tags": [{"name": "mp-a", "status": "active"}]}
    )
    tuesday = dt.datetime(2024, 7, 1, 13, tzinfo=UTC)  # the July email (July 2) is due and has no special
    sandbox.store.advance(tuesday)
    result = run(tuesday)
    problem = next(o for o in result.outcomes if o.action == "problem")
    assert problem.key.title == "mp-m1-2024-07" and "write content/specials/2024-07.md" in problem.detail
    assert result.needs_attention and any(o.action == "scheduled" for o in result.outcomes)  # the drip went on


def test_a_second_push_at_the_same_time_is_refused_with_a_clear_message(world, tmp_path):
    sandbox, run, _ = world
    state = State(tmp_path / "state.sqlite3", sandbox.url)
    with state.lock(), pytest.raises(PushLocked, match="another push to this account is running"):
        run(MORNING)
    state.close()
    assert actions(run(MORNING))  # free again


def test_body_less_posts_send_no_body(world, project):
    sandbox, run, _ = world
    run(MORNING)
    edit(project / "content/articles/01-what-causes-migraine.md", "Thank you for", "Thanks for")
    run(MORNING + dt.timedelta(hours=1), emails=Project(project).rendered().emails)
    unschedule = [r for r, _, _ in sandbox.recorded if r["path"].endswith("/actions/unschedule")]
    assert unschedule and all(r["body"] == b"" for r in unschedule)


# -- leads import and test emails through the CLI (embedded sandbox) ----------------------------
def test_leads_import_reports_bad_rows_by_line_and_is_idempotent(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text(
        "email,first_name,joined,consent\nok@example.com,Ok,2024-05-01T09:00,yes\nbad-email,Bad,,yes\n"
        "no@example.com,No,,no\nlate@example.com,Late,someday,yes\n"
    )
    first = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    assert first.exit_code == 1 and "1 added, 0 updated, 0 unchanged, 3 skipped, 0 failed" in first.stdout
    assert (
        "leads.csv:3" in first.stdout and "email: 'bad-email' is not a valid email address; row skipped" in first.stdout
    )
    assert (
        "consent: no@example.com has not consented" in first.stdout
        and "joined: 'someday' is not a date and time" in first.stdout
    )
    store = Store(project / "var/sandbox.sqlite3")
    before = store.list_members("aivi-main", {})
    store.close()
    run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    store = Store(project / "var/sandbox.sqlite3")
    after = store.list_members("aivi-main", {})
    store.close()
    assert after == before and after["total_items"] == 1
    member = after["members"][0]
    assert member["merge_fields"]["MPLOG"] == "|e1@20240501|" and [t["name"] for t in member["tags"]] == ["mp-a"]
    assert member["merge_fields"]["FNAME"] == "Ok"
    assert run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "nobody").exit_code == 1


def test_send_test_sends_a_mailchimp_test_email(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    result = run_cli(
        project,
        "send-test",
        "--sandbox",
        "what-causes-migraine",
        "--to",
        "qa@aiviaesthetics.com",
        "--to",
        "dr@aiviaesthetics.com",
    )
    assert result.exit_code == 0, result.output
    store = Store(project / "var/sandbox.sqlite3")
    assert [t["email"] for t in store.test_emails()] == ["dr@aiviaesthetics.com", "qa@aiviaesthetics.com"]
    store.close()
    unknown = run_cli(project, "send-test", "--sandbox", "no-such-email", "--to", "qa@aiviaesthetics.com")
    assert unknown.exit_code == 1 and "no email has id 'no-such-email'" in unknown.stderr


def test_push_through_the_cli_against_the_embedded_sandbox(project, run_cli, monkeypatch, wall_clock, reviewer_key):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    wall_clock(MORNING)  # the day the reviewer approves
    add_specials(project, [])
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    assert run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult").exit_code == 0
    result = run_cli(project, "push", "--sandbox")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("push to the embedded sandbox") and "mp-e1-s01-2024-05-01" in result.stdout
    assert "scheduled" in result.stdout and "API calls" in result.stdout
    assert "warning: what-causes-migraine went to a test target unsigned (needs medical sign-off)" in result.stderr
    store = Store(project / "var/sandbox.sqlite3")  # the drip's campaign is in the folder mailpipe.yaml names
    folders = [(f["name"], f["count"]) for f in store.folders({})["folders"]]
    assert folders == [("mailpipe: Migraine education series", 1)]
    store.close()
    assert (
        run_cli(
            project, "review", "approve", "what-causes-migraine", "--role", "medical", "--key", str(reviewer_key)
        ).exit_code
        == 0
    )
    again = run_cli(project, "push", "--sandbox")
    assert again.stdout.count("scheduled") == 0 and "warning" not in again.stderr


def test_push_refuses_emails_that_fail_the_checks(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    edit(project / "content/articles/01-what-causes-migraine.md", "Thank you for", "A guaranteed cure. Thank you for")
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    result = run_cli(project, "push", "--sandbox")
    assert result.exit_code == 1
    assert (
        "refused" in result.stdout
        and "what-causes-migraine fails checks: CLAIM-EFFICACY, CLAIM-NO-CURE" in result.stdout
    )
    store = Store(project / "var/sandbox.sqlite3")
    assert store.list_campaigns({})["total_items"] == 0
    store.close()


# -- which account: the key decides, and every command says ------------------------------------
@pytest.mark.parametrize(
    "key, message",
    [
        ("", "MAILCHIMP_API_KEY is set but empty"),
        ("   ", "MAILCHIMP_API_KEY is set but empty"),
        ("abc123", "must end in the data centre, like -us21"),
        ("abc 123-us1", "spaces or control characters"),
    ],
)
def test_an_empty_or_malformed_key_is_an_error_never_the_sandbox(project, run_cli, monkeypatch, key, message):
    monkeypatch.setenv("MAILCHIMP_API_KEY", key)
    monkeypatch.delenv("MAILCHIMP_SERVER_URL", raising=False)
    result = run_cli(project, "push", "--dry-run")
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not (project / "var").exists()  # neither the sandbox nor any state was made


def test_push_import_and_send_test_say_first_which_account_they_talk_to(project, run_cli, monkeypatch, tmp_path):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    for args in (
        ("push", "--sandbox", "--dry-run"),
        ("leads", "import", "--sandbox", str(csv), "--audience", "new-consult"),
        ("send-test", "--sandbox", "what-causes-migraine", "--to", "qa@aiviaesthetics.com"),
    ):
        first = run_cli(project, *args).stdout.splitlines()[0]
        assert "the embedded sandbox" in first and "nothing reaches anyone" in first, (args, first)
    with RunningSandbox(tmp_path / "served.sqlite3") as served:
        served.store.set_clock(MORNING)
        provision(served.store, Project(project).rendered().site)
        host = served.url.replace("http://", "http://marketer:s3cret@")
        monkeypatch.setenv("MAILCHIMP_API_KEY", "0123456789abcdef-us7")
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", host)
        result = run_cli(project, "push", "--dry-run", "--now", "2024-05-01T13:00:00Z")
    assert (
        result.stdout.splitlines()[0]
        == f"dry run against a Mailchimp-compatible server on this machine at {served.url} (MAILCHIMP_API_KEY)"
    )
    assert "s3cret" not in result.stdout + result.stderr and "0123456789abcdef" not in result.stdout + result.stderr


def test_a_step_a_quarter_hour_past_max_late_days_is_skipped(world):
    sandbox, run, _ = world
    past = dt.datetime(
        2024, 5, 8, 16, 31, tzinfo=UTC
    )  # May 8, 09:31 local: step 1 would go out at 09:45+, over 7 days late
    sandbox.store.advance(past)
    result = run(past)
    assert {p.email: p.steps for p in result.decision.progress}["p0@example.com"] == {1: "skipped", 2: "assigned"}
    assert [o.key.title for o in result.outcomes if o.action == "scheduled" and o.key.title.startswith("mp-e1")] == [
        "mp-e1-s02-2024-05-08"
    ]


@pytest.mark.parametrize("hours_late, made", [(7 * 24 - 1, True), (7 * 24 + 1, False)])
def test_a_monthly_email_goes_out_at_most_a_week_late(world, hours_late, made):
    sandbox, run, _ = world
    now = dt.datetime(2024, 5, 7, 17, tzinfo=UTC) + dt.timedelta(
        hours=hours_late
    )  # May's email was due May 7, 10:00 local
    sandbox.store.advance(now)
    result = run(now)
    assert (("mp-m1-2024-05", "scheduled") in actions(result)) == made


def test_offers_that_have_ended_are_not_sent_late(world, project):
    sandbox, run, _ = world
    edit(project / "content/specials/2024-05.md", "valid_until: 2024-05-31", "valid_until: 2024-05-08")
    content = Project(project).rendered()
    now = dt.datetime(2024, 5, 9, 13, tzinfo=UTC)  # two days late, within the week, but the offers ended yesterday
    sandbox.store.advance(now)
    result = run(now, emails=content.emails, content=content.content)
    assert ("mp-m1-2024-05", "refused") in actions(result)
    assert not result.needs_attention  # said; but nobody can do anything about it now
    assert not any(c["settings"]["title"].startswith("mp-m1") for c in sandbox.store.list_campaigns({})["campaigns"])


def test_a_test_email_uses_the_audience_that_receives_the_email(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    edit(
        project / "mailpipe.yaml",
        "  existing-patient:\n    list_id: aivi-main",
        "  existing-patient:\n    list_id: aivi-patients",
    )
    for email_id in ("newsletter-2024-05", "what-causes-migraine"):
        assert run_cli(project, "send-test", "--sandbox", email_id, "--to", "qa@aiviaesthetics.com").exit_code == 0
    store = Store(project / "var/sandbox.sqlite3")
    lists = {c["settings"]["title"]: c["recipients"]["list_id"] for c in store.list_campaigns({})["campaigns"]}
    store.close()
    assert lists == {"test/newsletter-2024-05": "aivi-patients", "test/what-causes-migraine": "aivi-main"}


def test_the_next_step_waits_until_the_previous_one_has_gone_out(world):
    sandbox, run, _ = world
    sandbox.store.advance(dt.datetime(2024, 5, 7, 12, tzinfo=UTC))
    run(dt.datetime(2024, 5, 7, 13, tzinfo=UTC))  # step 1 scheduled for 09:30; step 2 is due too
    # the next morning, with step 1 still waiting in Mailchimp (here: its send has not happened yet)
    result = run(dt.datetime(2024, 5, 8, 13, tzinfo=UTC))
    assert {p.email: p.steps for p in result.decision.progress}["p0@example.com"] == {1: "pending"}
    assert not any(o.action == "created" for o in result.outcomes)


def test_the_sandbox_commands_use_the_sandbox_path_of_the_config(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    edit(project / "mailpipe.yaml", "sandbox_path: var/sandbox.sqlite3", "sandbox_path: var/elsewhere.sqlite3")
    set_embedded_sandbox_clock(project, MORNING, "var/elsewhere.sqlite3")
    assert (
        run_cli(project, "send-test", "--sandbox", "what-causes-migraine", "--to", "qa@aiviaesthetics.com").exit_code
        == 0
    )
    advanced = run_cli(project, "sandbox", "advance", "--to", "2030-01-01T00:00:00Z")
    assert advanced.exit_code == 0 and (project / "var/elsewhere.sqlite3").exists()
    assert not (project / "var/sandbox.sqlite3").exists()
    assert json.loads(run_cli(project, "sandbox", "deliveries", "--json").stdout) == []


def _hand_edit_log(sandbox, email: str, value: str) -> None:
    """What a person does in Mailchimp's UI: the member's MPLOG field set to `value`."""
    sandbox.store.patch_member("aivi-main", subscriber_hash(email), {"merge_fields": {"MPLOG": value}})


def _log_of(sandbox, email: str) -> str:
    return sandbox.store.get_member("aivi-main", subscriber_hash(email))["merge_fields"]["MPLOG"]


def test_a_hand_edit_that_moves_a_drip_start_earlier_is_ignored_and_written_back(world):
    """The leads entered on Apr 30: step 2 is due May 4. A person moves p0's start to Apr 26 (step 2 would be due Apr
    30, still within the week a late step may go): the local copy of what push wrote wins, nothing goes out early."""
    sandbox, run, _ = world
    run(MORNING)
    sandbox.store.advance(dt.datetime(2024, 5, 1, 17, tzinfo=UTC))
    assert _log_of(sandbox, "p0@example.com") == "|e1@20240430|e1.1.6uv|"
    _hand_edit_log(sandbox, "p0@example.com", "|e1@20240426|e1.1.6uv|")
    for day in (2, 3):
        run(dt.datetime(2024, 5, day, 13, tzinfo=UTC))
        sandbox.store.advance(dt.datetime(2024, 5, day, 17, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == ["mp-e1-s01-2024-05-01"]
    run(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    sandbox.store.advance(dt.datetime(2024, 5, 4, 17, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")][-1] == "mp-e1-s02-2024-05-04"
    assert _log_of(sandbox, "p0@example.com").startswith("|e1@20240430|")  # the start written back


@pytest.mark.parametrize("value", ["|e1@99991231|", "|e1@19991231|e1.1.99991231|", "|e1@00010101|"])
def test_a_record_with_a_day_out_of_range_is_ignored_and_stops_nobody_else(world, value):
    """A day outside 2000..2099 is a hand edit push did not write: ignored like any other (no OverflowError for every
    lead), and the other leads get their steps."""
    sandbox, run, _ = world
    _hand_edit_log(sandbox, "p0@example.com", value)
    result = run(MORNING)
    sandbox.store.advance(dt.datetime(2024, 5, 1, 17, tzinfo=UTC))
    assert (FIRST, "scheduled") in actions(result)
    assert [o.detail for o in result.outcomes if o.action == "ignored"] == [
        "p0@example.com: its MPLOG start in Migraine education series is not a day between 2000-01-01 and "
        "2099-12-31 (edited by hand?): ignored, and written back"
    ]
    assert [d["title"] for d in sandbox.store.deliveries("p1@example.com")] == [FIRST]


@pytest.mark.parametrize("timing", ["send", "create"])
def test_a_lead_a_sent_campaign_did_not_reach_gets_the_step_later(world, timing):
    """On Free and Essentials plans a segment is resolved when the campaign goes out: p0's MPLOG cleared by hand
    between the 06:00 run and the 09:30 send drops them from it. Mailchimp's report of who it went to says so, and p0
    gets step 1 the next day (on a plan that snapshots the segment when the campaign is made, they got it)."""
    sandbox, run, _ = world
    sandbox.store.set_segment_timing(timing)
    run(MORNING)
    _hand_edit_log(sandbox, "p0@example.com", "")
    sandbox.store.advance(dt.datetime(2024, 5, 1, 17, tzinfo=UTC))
    next_day = run(dt.datetime(2024, 5, 2, 13, tzinfo=UTC))
    sandbox.store.advance(dt.datetime(2024, 5, 2, 17, tzinfo=UTC))
    titles = [d["title"] for d in sandbox.store.deliveries("p0@example.com")]
    said = [o.detail for o in next_day.outcomes if o.action == "not reached"]
    if timing == "send":
        assert titles == ["mp-e1-s01-2024-05-02"] and len(said) == 1 and "not to 1 lead(s)" in said[0]
        assert not next_day.needs_attention
    else:
        assert titles == [FIRST] and not said
    assert [d["title"] for d in sandbox.store.deliveries("p1@example.com")] == [FIRST]


@pytest.mark.parametrize(("start", "believed"), [("20240430", True), ("20240429", False)])
def test_a_start_before_the_lead_signed_up_is_not_believed_even_without_the_state(world, start, believed):
    """`leads import` sends each new lead's sign-up (their `joined`, Apr 30): with no local copy to go by (a lost
    state file), a start moved by hand to before it cannot be true. Not believed, said, and the start is taken from
    when they got the tag; a start on the sign-up day is believed."""
    sandbox, run, _ = world
    _hand_edit_log(sandbox, "p0@example.com", f"|e1@{start}|")
    result = run(MORNING)
    said = [o.detail for o in result.outcomes if o.action == "ignored"]
    recipients = next(o.plan.recipients for o in result.outcomes if o.action == "created")
    if believed:
        assert not said and "p0@example.com" in recipients
    else:
        assert said == [
            "p0@example.com: its MPLOG says it entered Migraine education series on 2024-04-29, before it signed up "
            "(2024-04-30; edited by hand?): ignored; its start is taken from when it got the tag, and written back"
        ]
        assert "p0@example.com" not in recipients and _log_of(sandbox, "p0@example.com") == "|e1@20240501|"


@pytest.mark.parametrize(("start", "believed"), [("20240502", True), ("20240503", False)])
def test_a_start_in_mailchimp_after_tomorrow_is_not_believed_said_and_written_back(world, start, believed):
    """It is May 1: a start on May 2 could be a lead who joins tomorrow; one on May 3 cannot be true. Not believed,
    said, and the lead's start is taken from when they got the tag (the import, this morning) and written back."""
    sandbox, run, _ = world
    _hand_edit_log(sandbox, "p0@example.com", f"|e1@{start}|")
    result = run(MORNING)
    said = [o.detail for o in result.outcomes if o.action == "ignored"]
    recipients = next(o.plan.recipients for o in result.outcomes if o.action == "created")
    if believed:
        assert not said and "p0@example.com" not in recipients
        assert _log_of(sandbox, "p0@example.com") == "|e1@20240502|"
    else:
        assert said == [
            "p0@example.com: its MPLOG says it entered Migraine education series on 2024-05-03, after tomorrow (edited "
            "by hand?): ignored; its start is taken from when it got the tag, and written back"
        ]
        assert "p0@example.com" not in recipients and not result.needs_attention
        assert _log_of(sandbox, "p0@example.com") == "|e1@20240501|"  # tagged by the import, this morning


@pytest.mark.parametrize(
    ("joined", "imported"),
    [
        ("1999-12-31T23:59", False),
        ("2000-01-01T00:00", True),
        ("2024-05-02T05:59", True),  # the sandbox clock is 2024-05-01 06:00 local: a day ahead is allowed
        ("2024-05-02T06:01", False),
        ("9999-12-31T23:59", False),
    ],
)
def test_leads_import_refuses_a_joined_before_2000_or_more_than_a_day_ahead(
    project, run_cli, monkeypatch, joined, imported
):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text(f"email,first_name,joined,consent\nlead@example.com,Lea,{joined},yes\n")
    result = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    if imported:
        assert result.exit_code == 0 and "1 added" in result.stdout
    else:
        assert result.exit_code == 1 and "0 added" in result.stdout and "row skipped" in result.stdout
        assert ("before 2000" if joined < "2000" else "in the future") in result.stdout


def _drip_tag(sandbox) -> dict:
    return next(s for s in sandbox.store.list_segments("aivi-main", {})["segments"] if s["name"] == "mp-a")


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_a_drip_tag_renamed_or_deleted_while_leads_are_inside_is_a_problem_every_run_until_it_is_back(world, how):
    sandbox, run, _ = world
    run(MORNING)
    sandbox.store.advance(dt.datetime(2024, 5, 2, 12, tzinfo=UTC))
    tag = _drip_tag(sandbox)
    if how == "renamed":
        sandbox.store.update_segment("aivi-main", str(tag["id"]), {"name": "mp-a (old)"})
    else:
        sandbox.store.delete_segment("aivi-main", str(tag["id"]))
    stopped = run(dt.datetime(2024, 5, 2, 13, tzinfo=UTC))
    [problem] = [o for o in stopped.outcomes if o.action == "problem"]
    assert stopped.needs_attention and "the tag 'mp-a' is not in Mailchimp" in problem.detail
    assert "2 leads of this drip wait" in problem.detail
    if how == "renamed":
        sandbox.store.update_segment("aivi-main", str(tag["id"]), {"name": "mp-a"})
    else:
        for email in ("p0@example.com", "p1@example.com"):
            sandbox.store.set_member_tags(
                "aivi-main", subscriber_hash(email), {"tags": [{"name": "mp-a", "status": "active"}]}
            )
    sandbox.store.advance(dt.datetime(2024, 5, 4, 12, tzinfo=UTC))
    back = run(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))
    assert not [o for o in back.outcomes if o.action == "problem"]
    sandbox.store.advance(dt.datetime(2024, 5, 4, 18, tzinfo=UTC))
    assert [d["title"] for d in sandbox.store.deliveries("p0@example.com")] == [FIRST, "mp-e1-s02-2024-05-04"]


def test_leads_import_does_not_make_a_drip_tag_again_that_people_entered(project, run_cli, monkeypatch):
    """Made again empty, a renamed tag would hide the people in the old one while every run looked normal."""
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    assert run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult").exit_code == 0
    assert run_cli(project, "push", "--sandbox").exit_code == 0  # the local record now knows Lea entered the drip
    store = Store(project / "var/sandbox.sqlite3")
    tag = next(s for s in store.list_segments("aivi-main", {})["segments"] if s["name"] == "mp-a")
    store.update_segment("aivi-main", str(tag["id"]), {"name": "Lea's group"})
    store.close()
    csv.write_text("email,first_name,joined,consent\nnew@example.com,Nat,2024-05-01T05:00,yes\n")
    refused = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "the tag 'mp-a' is not in Mailchimp (renamed or deleted?) though 1 person entered" in refused.stderr
    store = Store(project / "var/sandbox.sqlite3")
    names = [s["name"] for s in store.list_segments("aivi-main", {})["segments"]]
    members = [m["email_address"] for m in store.list_members("aivi-main", {})["members"]]
    store.close()
    assert "mp-a" not in names and members == ["lead@example.com"]


def test_a_quiet_push_says_nothing_when_all_is_well_and_only_what_needs_a_person_on_stderr(
    project, run_cli, monkeypatch
):
    """What a daily cron mails: nothing on a good morning; on a bad one, each line a person must act on (exit 1)."""
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, MORNING)
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    good = run_cli(project, "push", "--sandbox", "--quiet")
    assert (good.exit_code, good.stdout, good.stderr) == (0, "", "")
    edit(
        project / "content/articles/02-four-stages-of-migraine.md",
        "One or two days",
        "A guaranteed cure. One or two days",
    )
    store = Store(project / "var/sandbox.sqlite3")
    store.advance(dt.datetime(2024, 5, 4, 13, tzinfo=UTC))  # step 1 goes out on May 1; step 2 is due May 4
    store.close()
    bad = run_cli(project, "push", "--sandbox", "--quiet")
    assert bad.exit_code == 1 and bad.stdout == ""
    lines = bad.stderr.splitlines()
    assert lines[0].startswith("mp-e1-s02-2024-05-04: refused: four-stages-of-migraine fails checks: ") and lines[
        -1
    ] == ("these need a person; the other campaigns went ahead")


def test_the_mplog_length_the_config_checks_is_the_length_push_writes():
    from mailpipe.load.campaigns import log_length
    from mailpipe.plan.keys import DripKey
    from mailpipe.push.record import LeadLog

    rendered = Project(REPO).rendered()
    campaigns = load_campaigns(REPO / "campaigns", rendered.site, {e.id for e in rendered.emails})
    drips = [c for c in campaigns if isinstance(c, Drip)]
    for steps in (7, 9, 10, 16):
        drip = dataclasses.replace(drips[0], steps=tuple(drips[0].steps[i % 7] for i in range(steps)))
        day = dt.date(2031, 12, 31)
        full = LeadLog({drip.code: day}, frozenset(DripKey(drip.code, n, day) for n in range(1, steps + 1)))
        assert len(full.render()) == log_length([drip])


@pytest.mark.parametrize(("codes", "fits"), [(("e1", "e2", "e3"), True), (("eaaa", "ebbb", "eccc"), False)])
def test_drips_whose_mplog_cannot_fit_are_a_config_error(project, run_cli, codes, fits):
    """Three drips of 7 steps in one audience share each lead's MPLOG (255 characters): with 2-letter codes they need
    226, with 4-letter codes 274."""

    def article_ids() -> set[str]:
        return {
            p.read_text().split("\nid: ", 1)[1].split("\n", 1)[0] for p in (project / "content/articles").glob("*.md")
        }

    before = article_ids()
    add_articles(project, len(before) + 14)  # grows the project to that many articles
    extra = sorted(article_ids() - before)
    assert len(extra) == 14
    edit(project / DRIP, "code: e1", f"code: {codes[0]}")
    text = (project / DRIP).read_text()
    head = text[: text.index("steps:")]
    for number, code in enumerate(codes[1:]):
        listed = "".join(
            f"  - content: {article}\n    delay_days: {n}\n"
            for n, article in enumerate(extra[7 * number : 7 * number + 7], 1)
        )
        (project / f"campaigns/drip-{code}.yaml").write_text(
            head.replace(f"code: {codes[0]}", f"code: {code}") + "steps:\n" + listed
        )
    result = run_cli(project, "plan", "--from", "2024-05-01")
    if fits:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 1 and "Traceback" not in result.stderr
        assert "steps: the drips of audience aivi-main (ebbb, eccc, eaaa) need up to 274 characters" in (result.stderr)


@pytest.mark.parametrize(
    ("file", "old", "new", "refused"),
    [
        (DRIP, 'send_time: "09:30"', 'send_time: "20:59"', False),
        (DRIP, 'send_time: "09:30"', 'send_time: "21:00"', True),
        (DRIP, 'send_time: "09:30"', 'send_time: "07:00"', False),
        (DRIP, 'send_time: "09:30"', 'send_time: "06:59"', True),
        ("campaigns/monthly-specials.yaml", 'time: "10:00"', 'time: "22:30"', True),
    ],
)
def test_a_campaign_time_inside_the_quiet_hours_is_a_config_error(project, run_cli, file, old, new, refused):
    """No email goes out from 21:00 to 07:00 (mailpipe.yaml's quiet_hours): a campaign's own time there never could."""
    edit(project / file, old, new)
    result = run_cli(project, "plan", "--from", "2024-05-01")
    if not refused:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    time = new.split('"')[1]
    field = "send_time" if file == DRIP else "schedule.time"
    assert f"{file}:" in result.stderr and f": {field}: {time} is in the quiet hours of mailpipe.yaml" in result.stderr


def test_quiet_hours_are_the_clinics_to_set(project, run_cli):
    edit(project / DRIP, 'send_time: "09:30"', 'send_time: "21:30"')
    assert run_cli(project, "plan", "--from", "2024-05-01").exit_code == 1
    edit(project / "mailpipe.yaml", 'quiet_hours:\n  start: "21:00"', 'quiet_hours:\n  start: "22:00"')
    assert run_cli(project, "plan", "--from", "2024-05-01").exit_code == 0
