"""Reading a leads CSV and planning its import, as the pure functions they are: each row's outcome and each skipped
row's line, field and words, exactly (what a marketer reads to fix the file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailpipe.errors import InputError, Problem
from mailpipe.load.campaigns import Drip
from mailpipe.push.leads import Lead, Row, plan_import, read_leads
from mailpipe.push.mailchimp.models import RemoteMember

LA = "America/Los_Angeles"
PDT = dt.timezone(dt.timedelta(hours=-7))
NOW = dt.datetime(2024, 5, 1, 17, tzinfo=dt.UTC)  # 10:00 in Agoura Hills


def read(tmp_path: Path, text: str) -> tuple[list[Lead], list[tuple[int, str, str]]]:
    file = tmp_path / "leads.csv"
    file.write_text(text, encoding="utf-8")
    leads, problems = read_leads(file, LA)
    assert all(p.file == file for p in problems)
    return leads, [(p.line, p.field, p.message) for p in problems]


def header_error(tmp_path: Path, text: str) -> list[str]:
    file = tmp_path / "leads.csv"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_leads(file, LA)
    return [str(p).removeprefix(f"{file}:") for p in raised.value.problems]


# -- rows ------------------------------------------------------------------------------------------------------------
def test_each_kind_of_bad_row_is_skipped_with_its_line_field_and_words(tmp_path):
    leads, problems = read(
        tmp_path,
        "email,first_name,last_name,joined,consent\n"
        "ana@example.com,Ana,Ruiz,2024-04-20T09:00,yes\n"  # 2: good
        "=HYPERLINK(1)+HYPERLINK(2)@example.com,Bo,,,yes\n"  # 3
        "cy@example,Cy,,,yes\n"  # 4
        "dee@example.com,Dee,,,no\n"  # 5
        "eve@example.com,Eve,,,\n"  # 6
        "fay@example.com,Fay,,the day after the open house last spring I think,yes\n"  # 7
        "ANA@Example.com,Ana,,,yes\n"  # 8: ana again
        "gus@example.com,+Gus,,,yes\n"  # 9
        "hal@example.com,Hal,@SUM(A1:A9) and more text here too,,yes\n"  # 10
        ",,,,\n"  # 11: a spreadsheet's empty row: not a row
        "ivy@example.com,Ivy,Ode,4/21/2024 9:15 AM,Y\n",  # 12: good
    )
    assert [(lead.line, lead.email, lead.first_name, lead.last_name, lead.joined) for lead in leads] == [
        (2, "ana@example.com", "Ana", "Ruiz", dt.datetime(2024, 4, 20, 9, tzinfo=PDT)),
        (12, "ivy@example.com", "Ivy", "Ode", dt.datetime(2024, 4, 21, 9, 15, tzinfo=PDT)),
    ]
    assert problems == [
        (3, "email", "'=HYPERLINK(1)+HYPERLINK(2)@exa' starts like a spreadsheet formula; row skipped"),
        (4, "email", "'cy@example' is not a valid email address; row skipped"),
        (5, "consent", "dee@example.com has not consented to email (consent must be yes); row skipped"),
        (6, "consent", "eve@example.com has not consented to email (consent must be yes); row skipped"),
        (
            7,
            "joined",
            "'the day after the open house last spring' is not a date and time like 2024-05-01T09:15 or "
            "5/1/2024 9:15 AM; row skipped",
        ),
        (8, "email", "ANA@Example.com is already on line 2; this row skipped"),
        (9, "first_name", "'+Gus' starts like a spreadsheet formula (=, +, -, @, \t, \r); row skipped"),
        (
            10,
            "last_name",
            "'@SUM(A1:A9) and more text here' starts like a spreadsheet formula (=, +, -, @, \t, \r); row skipped",
        ),
    ]


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_name_of_100_characters_is_read_and_one_of_101_skips_the_row(tmp_path, field):
    names = {"first_name": "", "last_name": ""}
    rows = []
    for length in (100, 101):
        names[field] = "N" * length
        rows.append(f"p{length}@example.com,{names['first_name']},{names['last_name']},yes\n")
    leads, problems = read(tmp_path, "email,first_name,last_name,consent\n" + "".join(rows))
    assert [lead.email for lead in leads] == ["p100@example.com"]
    assert problems == [(3, "first_name", "a name longer than 100 characters; row skipped")]


@pytest.mark.parametrize("consent", ["yes", "YES", " Yes ", "y", "true", "TRUE", "1", "x", "Subscribed", "opted in"])
def test_consent_is_read_as_people_write_yes(tmp_path, consent):
    leads, problems = read(tmp_path, f"email,consent\nlea@example.com,{consent}\n")
    assert [lead.email for lead in leads] == ["lea@example.com"] and problems == []


@pytest.mark.parametrize("consent", ["no", "n", "0", "false", "unsubscribed", "yes please", "maybe"])
def test_anything_else_is_no_consent(tmp_path, consent):
    leads, problems = read(tmp_path, f"email,consent\nlea@example.com,{consent}\n")
    assert leads == [] and [p[1] for p in problems] == ["consent"]


def test_a_nul_byte_skips_its_row_naming_the_column_even_one_mailpipe_does_not_read(tmp_path):
    leads, problems = read(
        tmp_path,
        "Email Address,First Name,consent,Notes\nlea@exa\x00mple.com,Lea,yes,\nbo@example.com,B\x00o,yes,\n"
        "cy@example.com,Cy,yes,pasted \x00 here\ndee@example.com,Dee,yes,fine\n",
    )
    assert [lead.email for lead in leads] == ["dee@example.com"]
    assert problems == [
        (2, "email", "holds a NUL byte (a binary paste?); row skipped"),
        (3, "first_name", "holds a NUL byte (a binary paste?); row skipped"),
        (4, "notes", "holds a NUL byte (a binary paste?); row skipped"),
    ]


def test_a_nul_byte_in_the_header_skips_every_row_naming_the_column_without_it(tmp_path):
    leads, problems = read(tmp_path, "email,consent,No\x00tes\nlea@example.com,yes,\n")
    assert leads == [] and problems == [(2, "notes", "holds a NUL byte (a binary paste?); row skipped")]


def test_columns_not_in_the_file_are_read_as_empty(tmp_path):
    leads, problems = read(tmp_path, "email,consent\nlea@example.com,yes\n")
    assert leads == [Lead(2, "lea@example.com", "", "", None)] and problems == []


def test_a_row_is_numbered_by_the_line_it_starts_on_when_a_quoted_field_spans_lines(tmp_path):
    leads, problems = read(
        tmp_path,
        'email,first_name,consent\nana@example.com,"Ana\nMaria",yes\nbo@example,Bo,yes\n\ncy@example.com,Cy,yes\n',
    )
    assert [(lead.line, lead.first_name) for lead in leads] == [(3, "Ana\nMaria"), (6, "Cy")]
    assert problems == [(4, "email", "'bo@example' is not a valid email address; row skipped")]


def test_a_field_over_the_csv_modules_limit_ends_the_file_with_its_line(tmp_path):
    file = tmp_path / "leads.csv"
    file.write_text(f'email,consent\nana@example.com,yes\nbo@example.com,"{"x" * 200_000}"\n', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_leads(file, LA)
    assert raised.value.problems == [
        Problem(file, 3, "", "cannot be read as CSV here: field larger than field limit (131072)")
    ]


# -- the header ----------------------------------------------------------------------------------------------------
def test_a_header_the_csv_module_cannot_read_is_one_problem_on_line_1(tmp_path):
    file = tmp_path / "leads.csv"
    file.write_text(f'email,"{"x" * 200_000}",consent\nlea@example.com,,yes\n', encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_leads(file, LA)
    assert raised.value.problems == [
        Problem(file, 1, "", "is not a CSV file Mailchimp's import could read: field larger than field limit (131072)")
    ]


def test_a_column_mailpipe_does_not_read_may_be_there_twice_but_an_opt_in_time_may_not(tmp_path):
    leads, problems = read(tmp_path, "Notes,email,notes,consent,\nx,lea@example.com,y,yes,z\n")
    assert [lead.email for lead in leads] == ["lea@example.com"] and problems == []
    assert header_error(tmp_path, "Email Address,OPTIN_TIME,optin_time\n") == [
        "1: optin time: is named by columns 2 and 3 of the header: keep one"
    ]


def test_a_row_shorter_than_the_header_reads_its_missing_columns_as_empty(tmp_path):
    leads, problems = read(tmp_path, "email,consent,first_name,last_name\nlea@example.com,yes\n")
    assert leads == [Lead(2, "lea@example.com", "", "", None)] and problems == []


def test_a_header_without_email_or_consent_names_what_is_missing(tmp_path):
    expected = (
        "the header must name the columns email (or Email Address) and consent (yes for each person who agreed to "
        "email; a Mailchimp export's OPTIN_TIME or CONFIRM_TIME counts), and may name first_name, last_name and joined"
    )
    assert header_error(tmp_path, "mail,name\nlea@example.com,Lea\n") == [f"1: email, consent: {expected}"]
    assert header_error(tmp_path, "Email Address,First Name\nlea@example.com,Lea\n") == [f"1: consent: {expected}"]
    assert header_error(tmp_path, "consent\nyes\n") == [f"1: email: {expected}"]
    assert header_error(tmp_path, "") == [f"1: email, consent: {expected}"]


def test_two_columns_meaning_the_same_are_each_said_with_their_positions(tmp_path):
    assert header_error(tmp_path, "Email,First Name,E-mail,FNAME,consent,Opt In\n") == [
        "1: consent: is named by columns 5 and 6 of the header: keep one",
        "1: email: is named by columns 1 and 3 of the header: keep one",
        "1: first_name: is named by columns 2 and 4 of the header: keep one",
    ]


def test_columns_are_found_by_name_in_any_order_and_unknown_ones_are_ignored(tmp_path):
    leads, problems = read(
        tmp_path,
        "Notes,Surname,Marketing Consent,Given Name,Phone,Primary Email,Signup Date\n"
        "call back,Ruiz,yes,Ana,555,ana@example.com,4/20/2024 09:00\n",
    )
    assert problems == []
    assert [(lead.email, lead.first_name, lead.last_name, lead.joined) for lead in leads] == [
        ("ana@example.com", "Ana", "Ruiz", dt.datetime(2024, 4, 20, 9, tzinfo=PDT))
    ]


# -- Mailchimp's own export: the opt-in time is the consent, and (in UTC) the join time ------------------------------
MAILCHIMP_EXPORT = "Email Address,First Name,Last Name,OPTIN_TIME,CONFIRM_TIME\n"


def test_a_mailchimp_export_reads_its_opt_in_time_as_consent_and_join_time_in_utc(tmp_path):
    leads, problems = read(
        tmp_path,
        MAILCHIMP_EXPORT + "ana@example.com,Ana,Ruiz,2024-04-20 16:00:00,2024-04-20 16:05:00\n"
        "bo@example.com,Bo,,,2024-04-21 08:00:00\n"  # no opt-in time: the confirm time
        "cy@example.com,Cy,,,\n"  # neither: no consent recorded
        "dee@example.com,Dee,,4/31/2024,\n",  # an opt-in time that is no date
    )
    assert [(lead.email, lead.joined) for lead in leads] == [
        ("ana@example.com", dt.datetime(2024, 4, 20, 16, tzinfo=dt.UTC)),
        ("bo@example.com", dt.datetime(2024, 4, 21, 8, tzinfo=dt.UTC)),
    ]
    assert problems == [
        (4, "consent", "cy@example.com has not consented to email (consent must be yes); row skipped"),
        (
            5,
            "joined",
            "'4/31/2024' is not a date and time like 2024-05-01T09:15 or 5/1/2024 9:15 AM; row skipped",
        ),
    ]


def test_a_joined_column_is_read_before_the_opt_in_time_and_in_the_clinics_zone(tmp_path):
    leads, problems = read(
        tmp_path,
        "Email Address,joined,OPTIN_TIME\nana@example.com,2024-04-22 09:00,2024-04-20 16:00:00\n"
        "bo@example.com,,2024-04-20 16:00:00\n",
    )
    assert problems == []
    assert [(lead.email, lead.joined) for lead in leads] == [
        ("ana@example.com", dt.datetime(2024, 4, 22, 9, tzinfo=PDT)),
        ("bo@example.com", dt.datetime(2024, 4, 20, 16, tzinfo=dt.UTC)),
    ]


def test_a_consent_column_beside_an_opt_in_time_still_decides(tmp_path):
    leads, problems = read(
        tmp_path, "Email Address,consent,OPTIN_TIME\nana@example.com,no,2024-04-20 16:00:00\nbo@example.com,yes,\n"
    )
    assert [lead.email for lead in leads] == ["bo@example.com"] and [p[:2] for p in problems] == [(2, "consent")]


# -- planning the import: what Mailchimp holds is kept -----------------------------------------------------------
DRIP = Drip("edu", "e1", "Education", "new-consult", "09:00", LA, (), 7, (), Path("edu.yaml"))


def lead(email: str = "lea@example.com", first: str = "Lea", last: str = "", joined: dt.datetime | None = None):
    return Lead(2, email, first, last, joined)


def plan(leads, existing=(), tag: str | None = "mp-new", drips=(DRIP,), start_now=False):
    members = {m.email.lower(): m for m in existing}
    return [
        (p.lead.email, p.outcome, p.detail, p.fields, p.tag, p.signed_up)
        for p in plan_import(leads, members, tag, drips, NOW, start_now)
    ]


def test_a_new_lead_is_added_with_their_names_tag_and_drip_start_on_their_local_day():
    joined = dt.datetime(2024, 4, 20, 2, tzinfo=dt.UTC)  # still the 19th in Agoura Hills
    assert plan([lead(last="Ray", joined=joined)]) == [
        ("lea@example.com", Row.ADDED, "", {"FNAME": "Lea", "LNAME": "Ray", "MPLOG": "|e1@20240419|"}, True, joined)
    ]
    assert plan([lead(first="")], tag=None, drips=()) == [("lea@example.com", Row.ADDED, "", {}, False, NOW)]


def test_an_existing_member_keeps_their_names_start_and_tag_and_gets_only_what_is_missing():
    held = RemoteMember("Lea@Example.com", "subscribed", {"FNAME": "Leah", "LNAME": "", "MPLOG": "|e1@20240101|"}, ())
    assert plan([lead(last="Ray", joined=dt.datetime(2024, 4, 20, tzinfo=dt.UTC))], [held]) == [
        ("lea@example.com", Row.UPDATED, "last name, tag", {"LNAME": "Ray"}, True, None)
    ]
    tagged = RemoteMember("lea@example.com", "subscribed", {"FNAME": "Leah", "MPLOG": "|e1@20240101|"}, ("mp-new",))
    assert plan([lead()], [tagged]) == [("lea@example.com", Row.UNCHANGED, "", {}, False, None)]
    no_start = RemoteMember("lea@example.com", "subscribed", {"FNAME": "Lea", "LNAME": "Ray"}, ("mp-new",))
    assert plan([lead(first="", joined=dt.datetime(2024, 4, 20, 17, tzinfo=dt.UTC))], [no_start]) == [
        ("lea@example.com", Row.UPDATED, "drip start", {"MPLOG": "|e1@20240420|"}, False, None)
    ]
    assert plan([lead(last="Ray")], [no_start], drips=()) == [("lea@example.com", Row.UNCHANGED, "", {}, False, None)]


@pytest.mark.parametrize("status", ["unsubscribed", "cleaned", "pending"])
def test_a_member_not_subscribed_is_left_as_they_are(status):
    member = RemoteMember("lea@example.com", status, {}, ())
    assert plan([lead(last="Ray")], [member]) == [
        (
            "lea@example.com",
            Row.UNCHANGED,
            f"{status} in Mailchimp: left as it is, never re-subscribed",
            {},
            False,
            None,
        )
    ]


@pytest.mark.parametrize(
    ("joined", "skipped"),
    [
        (dt.datetime(1999, 12, 31, 23, 59, tzinfo=PDT), "joined 1999-12-31 is before 2000; row skipped"),
        (dt.datetime(2000, 1, 1, 0, 0, tzinfo=PDT), None),
        (NOW + dt.timedelta(days=1), None),  # a day ahead (a clock or zone off) is taken
        (
            NOW + dt.timedelta(days=1, minutes=1),
            "joined 2024-05-02 17:01 is in the future; row skipped",
        ),
    ],
)
def test_a_join_time_before_2000_or_more_than_a_day_ahead_is_skipped(joined, skipped):
    (row,) = plan([lead(joined=joined)])
    if skipped is None:
        assert row[1] == Row.ADDED and row[5] == joined
    else:
        assert row == ("lea@example.com", Row.SKIPPED, skipped, {}, False, None)


def test_start_now_starts_every_lead_today_whatever_they_joined():
    joined = dt.datetime(2024, 1, 5, 9, tzinfo=PDT)
    assert plan([lead(joined=joined)], start_now=True) == [
        ("lea@example.com", Row.ADDED, "", {"FNAME": "Lea", "MPLOG": "|e1@20240501|"}, True, NOW)
    ]
    assert plan([lead(joined=joined)])[0][3]["MPLOG"] == "|e1@20240105|"
