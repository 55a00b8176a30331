"""A marketer's month through the CLI, as they type it (issue 27): the target always named, a served sandbox that
lends its clock, the demo that can be explored, spreadsheets as people export them, a doctor that sees every go-live
blocker, a plan that reads at a glance, and words that fit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re

import pytest

from conftest import CliRunner, cli_main, set_embedded_sandbox_clock
from mailpipe.project import Project
from mailpipe.push.target import provision
from mailpipe.sandbox.server import RunningSandbox, SandboxServer

SANDBOX_TIME = dt.datetime(2024, 5, 6, 13, tzinfo=dt.UTC)  # Monday 06:00 in Agoura Hills
CSV_ONE_LEAD = "email,first_name,joined,consent\nlea@example.com,Lea,,yes\n"
TALKERS = [
    ("push",),
    ("push", "--dry-run"),
    ("leads", "import", "LEADS", "--audience", "new-consult"),
    ("send-test", "what-causes-migraine", "--to", "qa@aiviaesthetics.com"),
    ("report",),
    ("audiences",),
    ("doctor", "--today", "2024-05-06"),
    ("doctor", "--probe"),
]


@pytest.fixture
def no_account(monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    monkeypatch.delenv("MAILCHIMP_SERVER_URL", raising=False)


@contextlib.contextmanager
def served_sandbox(project, tmp_path, monkeypatch):
    """A sandbox served on this machine as `mailpipe sandbox serve` makes it (the project's audiences, its clock at
    SANDBOX_TIME), with MAILCHIMP_SERVER_URL pointing at it."""
    with RunningSandbox(tmp_path / "served.sqlite3") as served:
        served.store.set_clock(SANDBOX_TIME)
        provision(served.store, Project(project).rendered().site)
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", served.url)
        yield served


def typed(args: tuple[str, ...], leads) -> list[str]:
    return [str(leads) if a == "LEADS" else a for a in args]


# -- the target is always explicit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", TALKERS, ids=" ".join)
def test_without_a_key_a_command_that_talks_to_mailchimp_exits_2_with_one_line(project, run_cli, no_account, args):
    leads = project / "leads.csv"
    leads.write_text(CSV_ONE_LEAD)
    result = run_cli(project, *typed(args, leads))
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "set MAILCHIMP_API_KEY" in lines[0] and "--sandbox" in lines[0] and "MAILCHIMP_SERVER_URL" in lines[0]
    assert not (project / "var" / "sandbox.sqlite3").exists()  # nothing started quietly


@pytest.mark.parametrize("args", TALKERS, ids=" ".join)
def test_with_sandbox_the_first_line_names_the_embedded_sandbox(project, run_cli, no_account, args):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    leads = project / "leads.csv"
    leads.write_text(CSV_ONE_LEAD)
    result = run_cli(project, *typed(args, leads), "--sandbox")
    first = (result.stdout or result.stderr).splitlines()[0]
    assert "the embedded sandbox" in first and "nothing reaches anyone" in first, (args, first)


def test_a_server_url_alone_is_a_sandbox_on_this_machine_and_elsewhere_needs_a_key(
    project, run_cli, no_account, monkeypatch, tmp_path
):
    with served_sandbox(project, tmp_path, monkeypatch) as served:
        result = run_cli(project, "push", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"dry run against the sandbox served at {served.url} (MAILCHIMP_SERVER_URL: nothing reaches anyone)"
    )
    monkeypatch.setenv("MAILCHIMP_SERVER_URL", "https://us7.api.mailchimp.com/3.0")
    elsewhere = run_cli(project, "push")
    assert elsewhere.exit_code == 2 and "not on this machine: set MAILCHIMP_API_KEY" in elsewhere.stderr


# -- a served sandbox lends its clock ---------------------------------------------------------------------------------
def test_push_and_import_pointed_at_a_served_sandbox_act_at_its_clock(
    project, run_cli, no_account, monkeypatch, tmp_path
):
    """The real clock is off limits in tests (reading it fails them): the served sandbox's May 6 must be used."""
    leads = tmp_path / "leads.csv"
    leads.write_text(CSV_ONE_LEAD)  # an empty joined: the lead joins "now"
    with served_sandbox(project, tmp_path, monkeypatch) as served:
        imported = run_cli(project, "leads", "import", str(leads), "--audience", "new-consult", "--json")
        served.store.set_clock(SANDBOX_TIME + dt.timedelta(days=1))  # `sandbox advance`: the next morning
        pushed = run_cli(project, "push")
        probe = run_cli(project, "doctor", "--probe")
    assert imported.exit_code == 0, imported.output
    assert pushed.exit_code == 0, pushed.output
    assert "push at 2024-05-07 13:00 UTC" in pushed.stdout
    assert "mp-e1-s01-2024-05-07" in pushed.stdout  # joined May 6 (the sandbox's today): step 1 the next day
    assert probe.exit_code == 0, probe.output


def test_a_dry_run_against_a_served_sandbox_sends_it_nothing_but_reads(
    project, run_cli, no_account, monkeypatch, tmp_path
):
    """The served sandbox is another process's: a dry run's copy of the state absorbs nothing there, so the client
    itself must refuse every write. A lead is due, so a real run would make a campaign."""
    leads = tmp_path / "leads.csv"
    leads.write_text(CSV_ONE_LEAD)
    with served_sandbox(project, tmp_path, monkeypatch) as served:
        assert run_cli(project, "leads", "import", str(leads), "--audience", "new-consult").exit_code == 0
        served.store.set_clock(SANDBOX_TIME + dt.timedelta(days=1))
        methods: list[str] = []
        served.server.recorder = lambda request, status, answer: methods.append(request["method"])
        dry = run_cli(project, "push", "--dry-run")
        made = served.store.list_campaigns({})["total_items"]
    assert dry.exit_code == 0, dry.output
    assert "mp-e1-s01-2024-05-07" in dry.stdout  # it would make step 1's campaign
    assert methods and set(methods) == {"GET"} and made == 0


def test_a_sandbox_whose_clock_follows_the_real_one_says_nothing_of_it(tmp_path):
    import requests

    with RunningSandbox(tmp_path / "served.sqlite3") as served:
        silent = requests.get(f"{served.url}/ping", auth=("any", "key"), timeout=5)
        served.store.set_clock(SANDBOX_TIME)
        told = requests.get(f"{served.url}/ping", auth=("any", "key"), timeout=5)
    assert "X-Sandbox-Clock" not in silent.headers
    assert told.headers["X-Sandbox-Clock"] == "2024-05-06T13:00:00+00:00"


def test_sandbox_serve_prints_the_lines_to_paste_and_its_clock(project, monkeypatch):
    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(SandboxServer, "serve_forever", interrupted)
    result = CliRunner().invoke(
        cli_main, ["--project", str(project), "sandbox", "serve", "--port", "0", "--clock", "2024-05-06T13:00Z"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    url = lines[0].split()[3].rstrip(";")
    assert url.startswith("http://127.0.0.1:") and url.endswith("/3.0")
    assert f"  export MAILCHIMP_SERVER_URL={url}" in lines and "  unset MAILCHIMP_API_KEY" in lines
    assert any(line.startswith("its clock: 2024-05-06T13:00:00+00:00") for line in lines)


def test_the_served_sandboxs_clock_is_what_the_embedded_one_would_use(
    project, run_cli, no_account, monkeypatch, tmp_path
):
    """The same project, the same clock, once embedded (--sandbox) and once served: the same plan of campaigns."""
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    with served_sandbox(project, tmp_path, monkeypatch):
        on_served = run_cli(project, "push", "--dry-run")
    monkeypatch.delenv("MAILCHIMP_SERVER_URL")
    on_embedded = run_cli(project, "push", "--sandbox", "--dry-run")
    assert on_served.exit_code == on_embedded.exit_code == 0
    title = "dry run at 2024-05-06 13:00 UTC"
    assert title in on_served.stdout and title in on_embedded.stdout


def test_plan_json_is_unchanged_by_the_target(project, run_cli, no_account):
    """`plan` asks Mailchimp nothing: it needs no key and no --sandbox."""
    result = run_cli(project, "plan", "--from", "2024-05-06", "--days", "1", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)


# -- spreadsheets as people export them ------------------------------------------------------------------------------
MAILCHIMP_EXPORT = (
    "Email Address,First Name,Last Name,Address,Phone Number,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,"
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n"
    'ana@example.com,Ana,Lopez,,,2,"2024-05-05 16:03:22",,,,,,,,,,,"2024-05-05 16:03:22",1,a1,,\n'
    'ben@example.com,Ben,,,,2,,,"2024-05-06 03:00:00",,,,,,,,,"2024-05-06 03:00:00",2,b2,,\n'
    "cy@example.com,Cy,,,,2,,,,,,,,,,,,,3,c3,,\n"
)


def import_json(run_cli, project, csv_path, *extra):
    result = run_cli(
        project, "leads", "import", str(csv_path), "--audience", "new-consult", "--json", "--sandbox", *extra
    )
    return result, {row["email"] or row["line"]: row for row in json.loads(result.stdout)}


def test_a_mailchimp_export_imports_with_its_opt_in_as_consent_and_join_time(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    export = project / "members_export.csv"
    export.write_text(MAILCHIMP_EXPORT)
    result, rows = import_json(run_cli, project, export)
    assert {e: r["outcome"] for e, r in rows.items()} == {
        "ana@example.com": "added",
        "ben@example.com": "added",
        4: "skipped",  # no opt-in recorded: no consent
    }
    assert "has not consented" in rows[4]["detail"] and result.exit_code == 1
    pushed = run_cli(project, "push", "--sandbox", "--verbose")
    # Ana opted in Sun May 5 09:03 (16:03 UTC), Ben Sun May 5 20:00 (03:00 UTC on the 6th: read as a local time it
    # would be the 6th): step 1 goes out to both the next morning, Mon May 6 09:30
    assert "mp-e1-s01-2024-05-06" in pushed.stdout
    assert "ana@example.com, ben@example.com" in pushed.stdout.replace("\n", " ").replace("│", "")


def test_an_excel_csv_with_bom_crlf_us_dates_and_a_trailing_empty_row_imports_every_row(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    excel = project / "leads.csv"
    excel.write_bytes(
        "\ufeffE-mail,First Name,Last Name,Date Added,Consent\r\n"
        "dee@example.com,Dee,Park,5/5/2024 14:05,Yes\r\n"
        "eli@example.com,Eli,,5/4/24,yes\r\n"
        "fay@example.com,Fay,,5/5/2024 9:15 AM,YES\r\n"
        ",,,,\r\n"
        "\r\n".encode()
    )
    result, rows = import_json(run_cli, project, excel)
    assert result.exit_code == 0, result.output
    assert {e: r["outcome"] for e, r in rows.items()} == {
        "dee@example.com": "added",
        "eli@example.com": "added",
        "fay@example.com": "added",
    }


def test_a_duplicate_row_names_the_line_it_duplicates(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    twice = project / "leads.csv"
    twice.write_text("Email,Consent\ngus@example.com,yes\nhal@example.com,yes\nGus@Example.com,yes\n")
    result, rows = import_json(run_cli, project, twice)
    assert result.exit_code == 1
    assert rows[4]["outcome"] == "skipped" and rows[4]["detail"] == (
        "email: Gus@Example.com is already on line 2; this row skipped"
    )


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("6/30/2024 14:05", "2024-06-30T14:05:00-07:00"),
        ("6/30/2024 2:05 PM", "2024-06-30T14:05:00-07:00"),
        ("6/30/24", "2024-06-30T00:00:00-07:00"),
        ("12/1/2024 08:00", "2024-12-01T08:00:00-08:00"),  # winter: PST
        ("2024-06-30 14:05:00", "2024-06-30T14:05:00-07:00"),
        ("2024-06-30T14:05-04:00", "2024-06-30T14:05:00-04:00"),  # its own offset kept
        ("13/30/2024", None),  # a day-first date is not read as a US one
        ("6/31/2024", None),
        ("30.6.2024", None),
        ("yesterday", None),
    ],
)
def test_join_times_are_read_as_iso_or_us_spreadsheets_write_them_in_the_clinics_time_zone(written, read):
    import zoneinfo

    from mailpipe.push.leads import parse_joined

    moment = parse_joined(written, zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert (moment.isoformat() if moment else None) == read


@pytest.mark.parametrize(
    "header",
    ["Email Address", "email_address", "  EMAIL  ADDRESS ", "E-Mail", "e-mail address", "Primary Email", "email"],
)
def test_an_email_column_is_found_by_any_usual_name(project, run_cli, no_account, header):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    named = project / "leads.csv"
    named.write_text(f"{header},Consent\nivy@example.com,yes\n")
    result, rows = import_json(run_cli, project, named)
    assert result.exit_code == 0 and rows["ivy@example.com"]["outcome"] == "added", result.output


def test_a_file_with_two_email_columns_or_no_consent_is_refused_at_its_header(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    both = project / "leads.csv"
    both.write_text("Email,Email Address,Consent\nivy@example.com,ivy@example.com,yes\n")
    result = run_cli(project, "leads", "import", str(both), "--audience", "new-consult", "--sandbox")
    assert result.exit_code == 1 and "leads.csv:1: email: is named by columns 1 and 2 of the header" in result.stderr
    both.write_text("Email Address,First Name,Last Name\nivy@example.com,Ivy,Ng\n")
    result = run_cli(project, "leads", "import", str(both), "--audience", "new-consult", "--sandbox")
    assert result.exit_code == 1 and "leads.csv:1: consent: the header must name" in result.stderr
    assert "OPTIN_TIME" in result.stderr


# -- doctor tells the network from the key ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:9/3.0", "✗ Mailchimp cannot be reached from this machine: "),  # nothing listens there
        ("https://mailchimp.invalid/3.0", "✗ Mailchimp cannot be reached from this machine: "),  # no such name (DNS)
    ],
)
def test_doctor_says_mailchimp_cannot_be_reached_rather_than_blaming_the_key(project, run_cli, monkeypatch, url, said):
    monkeypatch.setenv("MAILCHIMP_API_KEY", "0123456789abcdef0123456789abcdef-us7")
    monkeypatch.setenv("MAILCHIMP_SERVER_URL", url)
    monkeypatch.setattr("mailpipe.push.mailchimp.transport.time.sleep", lambda seconds: None)  # retries, not waits
    result = run_cli(project, "doctor", "--today", "2024-05-06")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert said in result.stdout and "the key was not tried" in result.stdout
    assert "key was refused" not in result.stdout


def test_doctor_says_the_key_was_refused_when_the_account_answers_401(
    project, run_cli, no_account, tmp_path, monkeypatch
):
    with served_sandbox(project, tmp_path, monkeypatch):
        monkeypatch.setenv("MAILCHIMP_API_KEY", "revoked-us1")
        result = run_cli(project, "doctor", "--today", "2024-05-06")
    assert "✗ the key was refused: 401" in result.stdout and "cannot be reached" not in result.stdout


def table_rows(output: str) -> list[str]:
    """The rows of a printed table (a wrapped row's further lines start with an empty first cell)."""
    return [line for line in output.splitlines() if re.match(r"│ (Mon|Tue|Wed|Thu|Fri|Sat|Sun) ", line)]


# -- plan reads at a glance ------------------------------------------------------------------------------------------
def test_plan_shows_one_row_per_email_and_day_with_its_people_and_the_monthly_send(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    leads = project / "leads.csv"
    leads.write_text(
        "email,first_name,joined,consent\n"
        "ana@example.com,Ana,2024-05-05T10:00,yes\n"
        "ben@example.com,Ben,2024-05-05T11:00,yes\n"
        "cy@example.com,Cy,2024-05-02T10:00,yes\n"
    )
    assert run_cli(project, "leads", "import", str(leads), "--audience", "new-consult", "--sandbox").exit_code == 0
    assert run_cli(project, "push", "--sandbox").exit_code == 0  # records who entered the drip when
    glance = run_cli(project, "plan", "--sandbox", "--from", "2024-05-06", "--days", "14", "--json")
    slots = json.loads(glance.stdout)
    assert len(slots) == 14 * 7 + 1  # every slot is still in the JSON, each with its people
    due = [(s["key"], s["people"]) for s in slots if s.get("people")]
    assert due[:3] == [
        ("mp-e1-s01-2024-05-06", ["ana@example.com", "ben@example.com"]),
        ("mp-e1-s02-2024-05-06", ["cy@example.com"]),
        ("mp-e1-s02-2024-05-09", ["ana@example.com", "ben@example.com"]),
    ]
    table = run_cli(project, "plan", "--sandbox", "--from", "2024-05-06", "--days", "14")
    assert table.exit_code == 0
    rows = table_rows(table.stdout)
    # Ana and Ben (joined May 5) get steps 1-4 on May 6, 9, 13 and 17, in one row each; Cy (May 2) steps 2-5 on May 6,
    # 10, 14 and 18; and the May newsletter on Tue May 7: 9 rows, not 14 x 7 slots
    assert len(rows) == 9
    assert any("newsletter-2024-05" in r and "everyone tagged mp-b" in r for r in rows)
    named = run_cli(project, "plan", "--sandbox", "--from", "2024-05-06", "--days", "1", "--verbose")
    assert "ana@example.com" in named.stdout and "ben@example.com" in named.stdout and "cy@example.com" in named.stdout
    assert "ana@example.com" not in table.stdout  # without --verbose: how many, not who


def test_plan_without_a_push_yet_shows_a_row_per_drip_day_and_a_missing_month_as_a_row(project, run_cli, no_account):
    result = run_cli(project, "plan", "--from", "2024-07-01", "--days", "10")
    assert result.exit_code == 1
    rows = table_rows(result.stdout)
    assert len(rows) == 10 + 1
    assert sum("steps 1–7, to the leads each" in r for r in rows) == 10
    assert any("newsletter-2024-07" in r for r in rows)
    assert "no push has run on this target yet" in result.stdout
    assert "write content/specials/2024-07.md" in result.stderr


# -- words that fit --------------------------------------------------------------------------------------------------
def test_a_dry_run_says_would_never_went(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, dt.datetime(2024, 7, 1, 13, tzinfo=dt.UTC))  # July has no special
    result = run_cli(project, "push", "--sandbox", "--dry-run")
    assert result.exit_code == 1
    assert "the other campaigns would go ahead" in result.stderr and "went ahead" not in result.output


def test_new_specials_todo_markers_have_their_own_rule_with_file_line_and_offer(project, run_cli):
    assert run_cli(project, "new", "special", "2024-07").exit_code == 0
    found = json.loads(run_cli(project, "check", "specials-2024-07", "--json").stdout)["emails"][0]["findings"]
    unfinished = [f["message"] for f in found if f["rule"] == "CONTENT-UNFINISHED"]
    assert unfinished == [
        "content/specials/2024-07.md:11: offer 'Microneedling' is still marked TODO",
        "content/specials/2024-07.md:15: offer 'Laser hair removal, small area' is still marked TODO",
        "content/specials/2024-07.md:26: the introduction (body) is still marked TODO",
    ]
    assert not [f for f in found if f["rule"] == "MC-MERGE-SYNTAX"]


# -- doctor sees every go-live blocker ---------------------------------------------------------------------------------
def test_doctor_crosses_each_due_email_a_real_push_would_refuse(project, run_cli, no_account):
    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    result = run_cli(project, "doctor", "--sandbox", "--today", "2024-05-06")
    assert result.exit_code == 1
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if line.startswith("✗")}
    unsigned = next(line for line in result.stdout.splitlines() if "a real account refuses:" in line)
    assert unsigned.startswith(
        "✗ 9 due email(s) a real account refuses: what-causes-migraine (needs medical sign-off"
    )  # 7 steps, 2 months
    assert "newsletter-2024-05 (needs medical and legal sign-off; first goes out Tue May 7 10:00)" in unsigned
    assert any("still marked CONFIRM" in line for line in lines.values())
    assert any("mailpipe:needs-approved-text" in line for line in lines.values())
    assert any("example content is due: newsletter-2024-05" in line for line in lines.values())


def test_the_previews_reports_tab_reads_the_target_it_is_told(project, no_account):
    from mailpipe.errors import NoTarget
    from mailpipe.preview import PreviewModel

    set_embedded_sandbox_clock(project, SANDBOX_TIME)
    report, source = PreviewModel(Project(project), background=False, sandbox=True).report()
    assert source.startswith("the embedded sandbox") and report is not None
    with pytest.raises(NoTarget, match="set MAILCHIMP_API_KEY"):
        PreviewModel(Project(project), background=False).report()
