"""`leads import` keeps what Mailchimp has, gives every row an outcome, and lets no bad row stop the rest."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import REPO
from mailpipe.project import Project
from mailpipe.push.target import provision
from mailpipe.sandbox.errors import ApiError
from mailpipe.sandbox.store import Store
from mailpipe.util.vocabulary import subscriber_hash

UTC = dt.UTC


@pytest.fixture
def sandbox_project(project, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    store = Store(project / "var/sandbox.sqlite3")
    store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
    store.close()
    return project


def members(project) -> dict[str, dict]:
    store = Store(project / "var/sandbox.sqlite3")
    try:
        return {m["email_address"]: m for m in store.list_members("aivi-main", {"count": "1000"})["members"]}
    finally:
        store.close()


def outcomes(result) -> dict[str, tuple[str, str]]:
    return {row["email"] or f"line {row['line']}": (row["outcome"], row["detail"]) for row in json.loads(result.stdout)}


def test_existing_members_keep_their_names_and_join_date(sandbox_project, run_cli):
    project = sandbox_project
    first = project / "first.csv"
    first.write_text(
        "email,first_name,last_name,joined,consent\nana@example.com,Ana,Ruiz,2024-04-20T09:00,yes\nben@example.com,,,"
        "2024-04-21T09:00,yes\n"
    )
    assert run_cli(project, "leads", "import", "--sandbox", str(first), "--audience", "new-consult").exit_code == 0
    again = project / "again.csv"  # names blank or different, a later join, and no join at all
    again.write_text(
        "email,first_name,last_name,joined,consent\nana@example.com,,,2024-04-29T09:00,yes\nben@example.com,Benjamin,Ode,,yes\n"
    )
    result = run_cli(project, "leads", "import", "--sandbox", str(again), "--audience", "new-consult", "--json")
    assert result.exit_code == 0, result.output
    assert outcomes(result) == {
        "ana@example.com": ("unchanged", ""),
        "ben@example.com": ("updated", "first name, last name"),
    }
    found = members(project)
    assert (
        found["ana@example.com"]["merge_fields"]["FNAME"] == "Ana"
        and found["ana@example.com"]["merge_fields"]["LNAME"] == "Ruiz"
    )
    assert found["ana@example.com"]["merge_fields"]["MPLOG"] == "|e1@20240420|"  # the earlier join stays
    assert found["ben@example.com"]["merge_fields"]["FNAME"] == "Benjamin"  # an empty name is filled
    assert found["ben@example.com"]["merge_fields"]["MPLOG"] == "|e1@20240421|"


def test_a_bad_row_among_a_thousand_does_not_stop_the_rest_and_re_importing_changes_nothing(sandbox_project, run_cli):
    project = sandbox_project
    rows = [f"p{i:04d}@example.com,P{i},,2024-04-30T09:00,yes" for i in range(1000)]
    rows[500] = "looks-fake@nowhere.invalid,Fake,,2024-04-30T09:00,yes"  # Mailchimp refuses it
    rows[700] = "no-consent@example.com,No,,,no"
    csv = project / "big.csv"
    csv.write_text("email,first_name,last_name,joined,consent\n" + "\n".join(rows) + "\n")
    result = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult", "--json")
    assert result.exit_code == 1
    found = outcomes(result)
    assert found["looks-fake@nowhere.invalid"][0] == "failed" and "looks fake" in found["looks-fake@nowhere.invalid"][1]
    assert found["line 702"][0] == "skipped" and "consent" in found["line 702"][1]
    assert sum(1 for outcome, _ in found.values() if outcome == "added") == 998
    stored = members(project)
    assert len(stored) == 998 and all(m["tags"] and m["tags"][0]["name"] == "mp-a" for m in stored.values())
    before = json.dumps(stored, sort_keys=True)
    again = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult", "--json")
    assert {o for o, _ in outcomes(again).values()} == {"unchanged", "failed", "skipped"}
    assert json.dumps(members(project), sort_keys=True) == before


def test_an_address_mailchimp_refuses_is_reported_failed_however_its_letters_are_cased(sandbox_project, run_cli):
    """Mailchimp names a refused address in its answer; a row typed Mixed-Case is matched to it all the same, so it is
    never reported as added."""
    project = sandbox_project
    csv = project / "leads.csv"
    csv.write_text("email,first_name,consent\nOk.Person@Example.com,Ok,yes\nLooks-Fake@Nowhere.INVALID,Fake,yes\n")
    result = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult", "--json")
    assert result.exit_code == 1
    found = outcomes(result)
    assert found["Ok.Person@Example.com"] == ("added", "")
    assert found["Looks-Fake@Nowhere.INVALID"][0] == "failed" and "looks fake" in found["Looks-Fake@Nowhere.INVALID"][1]
    assert sorted(members(project)) == ["Ok.Person@Example.com"]  # Mailchimp keeps the address as written


def test_the_outcome_table_and_exit_code(sandbox_project, run_cli):
    project = sandbox_project
    csv = project / "leads.csv"
    csv.write_text("email,first_name,consent\nok@example.com,Ok,yes\nbad,Bad,yes\n")
    result = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    assert result.exit_code == 1
    assert "1 added, 0 updated, 0 unchanged, 1 skipped, 0 failed" in result.stdout
    assert "leads.csv:2" in result.stdout and "leads.csv:3" in result.stdout and "added" in result.stdout
    fine = project / "fine.csv"
    fine.write_text("email,first_name,consent\nok@example.com,Ok,yes\n")
    assert run_cli(project, "leads", "import", "--sandbox", str(fine), "--audience", "new-consult").exit_code == 0


def test_an_unsubscribed_member_is_never_re_subscribed(sandbox_project, run_cli):
    project = sandbox_project
    csv = project / "leads.csv"
    csv.write_text("email,first_name,consent\ngone@example.com,Gone,yes\n")
    run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult")
    store = Store(project / "var/sandbox.sqlite3")
    store.patch_member("aivi-main", subscriber_hash("gone@example.com"), {"status": "unsubscribed"})
    store.close()
    result = run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult", "--json")
    assert outcomes(result)["gone@example.com"] == (
        "unchanged",
        "unsubscribed in Mailchimp: left as it is, never re-subscribed",
    )
    assert members(project)["gone@example.com"]["status"] == "unsubscribed"


def test_1001_leads_go_to_mailchimp_in_batches_of_500_500_and_1_and_the_sandbox_refuses_501(tmp_path):
    """Mailchimp's batch subscribe takes at most 500 members: the import splits at exactly that (and so does the tag's
    batch add), and the sandbox refuses a batch of 501 as Mailchimp does."""
    from conftest import Exchanges
    from mailpipe.push.leads import Lead, import_leads
    from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy
    from mailpipe.sandbox.server import RunningSandbox

    site = Project(REPO).rendered().site
    recorded = Exchanges()
    with RunningSandbox(tmp_path / "sandbox.sqlite3", recorder=recorded.record) as sandbox:
        sandbox.store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
        provision(sandbox.store, site)
        client = Mailchimp(Connection("k-us1", sandbox.url), RetryPolicy(attempts=1, base_delay=0, max_delay=0))
        leads = [Lead(n + 2, f"x{n}@example.com", "X", "", None) for n in range(1001)]
        rows = import_leads(client, site.audiences["existing-patient"], leads, dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
        assert [r.outcome for r in rows].count("added") == 1001
        with pytest.raises(ApiError):
            sandbox.store.batch_subscribe(
                "aivi-main",
                {"members": [{"email_address": f"y{i}@example.com", "status": "subscribed"} for i in range(501)]},
            )
    posted = [json.loads(r["body"]) for r, status, _ in recorded if r["method"] == "POST" and status == 200]
    assert [len(body["members"]) for body in posted if "members" in body] == [500, 500, 1]
    assert [len(body["members_to_add"]) for body in posted if "members_to_add" in body] == [500, 500, 1]


def test_the_batch_gives_a_status_to_new_members_only_and_sends_only_fields_the_spec_defines(tmp_path, mailchimp_spec):
    """Batch subscribe's members define `status`, not `status_if_new`: a new lead is subscribed, an existing one is
    updated without a status (never re-subscribed). The contract test closes request bodies to undefined fields."""
    from conftest import REPO, Exchanges, validate_against_spec
    from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy
    from mailpipe.sandbox.server import RunningSandbox

    recorded = Exchanges()
    with RunningSandbox(tmp_path / "sandbox.sqlite3", recorder=recorded.record) as sandbox:
        sandbox.store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
        provision(sandbox.store, Project(REPO).rendered().site)
        client = Mailchimp(Connection("k-us1", sandbox.url), RetryPolicy(attempts=1, base_delay=0, max_delay=0))
        client.batch_subscribe("aivi-main", [("old@example.com", {"FNAME": "Old"}, True)])
        client.batch_subscribe("aivi-main", [("new@example.com", {}, True), ("old@example.com", {"LNAME": "O"}, False)])
        found = {m["email_address"]: m for m in sandbox.store.list_members("aivi-main", {})["members"]}
    batches = [json.loads(r["body"]) for r, _, _ in recorded if r["method"] == "POST" and r["path"].endswith("main")]
    assert batches[-1]["members"] == [
        {"email_address": "new@example.com", "merge_fields": {}, "status": "subscribed"},
        {"email_address": "old@example.com", "merge_fields": {"LNAME": "O"}},
    ]
    assert (
        found["new@example.com"]["status"] == "subscribed" and found["old@example.com"]["merge_fields"]["LNAME"] == "O"
    )
    if mailchimp_spec is not None:
        assert validate_against_spec(mailchimp_spec, recorded) > 0
        undefined = Exchanges()
        request = dict(
            recorded[-1][0],
            body=json.dumps({"members": [{"email_address": "x@y.co", "status_if_new": "subscribed"}]}).encode(),
        )
        undefined.record(request, 200, recorded[-1][2])
        with pytest.raises(AssertionError, match="status_if_new"):
            validate_against_spec(mailchimp_spec, undefined)


def test_a_name_that_differs_from_the_one_mailchimp_holds_is_kept_as_mailchimp_has_it(sandbox_project, run_cli):
    """Mailchimp's copy may have been corrected by hand (or by the person): a spreadsheet's other spelling does not
    overwrite it; only an empty name is filled."""
    project = sandbox_project
    first = project / "first.csv"
    first.write_text("email,first_name,last_name,consent\nana@example.com,Ana,Ruiz,yes\n")
    assert run_cli(project, "leads", "import", "--sandbox", str(first), "--audience", "new-consult").exit_code == 0
    other = project / "other.csv"
    other.write_text("email,first_name,last_name,consent\nana@example.com,Anna,Ruiz-Lopez,yes\n")
    result = run_cli(project, "leads", "import", "--sandbox", str(other), "--audience", "new-consult", "--json")
    assert outcomes(result) == {"ana@example.com": ("unchanged", "")}
    fields = members(project)["ana@example.com"]["merge_fields"]
    assert (fields["FNAME"], fields["LNAME"]) == ("Ana", "Ruiz")


@pytest.mark.parametrize(("start_now", "recorded"), [(False, "|e1@20240105|"), (True, "|e1@20240501|")])
def test_start_now_starts_old_leads_today_and_without_it_they_keep_their_join_day(
    sandbox_project, run_cli, start_now, recorded
):
    """The sandbox's today is May 1, 2024; the lead joined January 5."""
    project = sandbox_project
    old = project / "old.csv"
    old.write_text("email,joined,consent\ncal@example.com,2024-01-05T10:00,yes\n")
    flags = ["--start-now"] if start_now else []
    result = run_cli(project, "leads", "import", "--sandbox", str(old), "--audience", "new-consult", *flags)
    assert result.exit_code == 0, result.output
    assert members(project)["cal@example.com"]["merge_fields"]["MPLOG"] == recorded


def _sandbox_client(sandbox):
    from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy

    sandbox.store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=UTC))
    provision(sandbox.store, Project(REPO).rendered().site)
    return Mailchimp(Connection("k-us1", sandbox.url), RetryPolicy(attempts=1, base_delay=0, max_delay=0))


def test_an_import_counts_its_progress_write_by_write_and_reports_a_refusal_in_any_batch(tmp_path):
    """501 new leads (one address Mailchimp refuses in each batch of the subscribe) and a member already there who only
    needs the tag: progress counts the 501 writes and the 502 tagged, batch by batch; the tag alone is no write."""
    from mailpipe.push.leads import Lead, Row, import_leads
    from mailpipe.sandbox.server import RunningSandbox

    site = Project(REPO).rendered().site
    leads = [Lead(n + 2, f"x{n}@example.com", "", "", None) for n in range(501)]
    leads[0] = Lead(2, "first-fake@nowhere.invalid", "", "", None)
    leads[500] = Lead(502, "last-fake@nowhere.invalid", "", "", None)
    leads.append(Lead(503, "already@example.com", "", "", None))
    progress: list[tuple[int, int]] = []
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        client = _sandbox_client(sandbox)
        client.batch_subscribe("aivi-main", [("already@example.com", {}, True)])
        rows = import_leads(
            client,
            site.audiences["existing-patient"],
            leads,
            dt.datetime(2024, 5, 1, 13, tzinfo=UTC),
            progress=lambda done, total: progress.append((done, total)),
        )
    assert progress == [(500, 1003), (501, 1003), (1001, 1003), (1003, 1003)]
    by_email = {r.email: (r.outcome, r.detail) for r in rows}
    assert by_email["already@example.com"] == (Row.UPDATED, "tag")
    assert [e for e, (outcome, _) in by_email.items() if outcome == Row.FAILED] == [
        "first-fake@nowhere.invalid",
        "last-fake@nowhere.invalid",
    ]
    assert sum(outcome == Row.ADDED for outcome, _ in by_email.values()) == 499


@pytest.mark.parametrize(
    ("entered", "tag_there", "refused"),
    [
        (0, False, None),  # nobody entered yet: the tag is made
        (1, True, None),
        (2, False, "though 2 people entered its drip; nothing imported. Rename the tag back to 'mp-a' in Mailchimp"),
        (1, False, "though 1 person entered its drip; nothing imported. Rename the tag back to 'mp-a' in Mailchimp"),
    ],
)
def test_an_import_into_a_drip_whose_tag_is_gone_after_people_entered_it_imports_nobody(
    tmp_path, entered, tag_there, refused
):
    from mailpipe.errors import MailpipeError
    from mailpipe.load.campaigns import Drip
    from mailpipe.push.leads import Lead, Row, import_leads
    from mailpipe.sandbox.server import RunningSandbox

    site = Project(REPO).rendered().site
    drips = [c for c in Project(REPO).campaigns if isinstance(c, Drip)]
    lead = [Lead(2, "new@example.com", "Nat", "", None)]
    now = dt.datetime(2024, 5, 1, 13, tzinfo=UTC)
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        client = _sandbox_client(sandbox)
        if tag_there:
            client.ensure_tag("aivi-main", "mp-a")
        if refused is None:
            rows = import_leads(client, site.audiences["new-consult"], lead, now, drips, entered_before=entered)
            assert [(r.email, r.outcome) for r in rows] == [("new@example.com", Row.ADDED)]
            assert client.tag_ids("aivi-main", {"mp-a"})
            return
        with pytest.raises(MailpipeError) as raised:
            import_leads(client, site.audiences["new-consult"], lead, now, drips, entered_before=entered)
        assert (
            str(raised.value)
            == f"the tag 'mp-a' is not in Mailchimp (renamed or deleted?) {refused}, then import again"
        )
        assert sandbox.store.list_members("aivi-main", {})["total_items"] == 0
