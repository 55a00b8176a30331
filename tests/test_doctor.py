"""`mailpipe doctor`: every ✗ produced by a sandbox or config set up to fail it, and all ✓ on a correct setup."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import edit, make_ready, set_embedded_sandbox_clock
from mailpipe.project import Project
from mailpipe.push.target import provision, sandbox_list_body
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.util.vocabulary import subscriber_hash

TODAY = "2024-04-20"  # the next 60 days hold the May and June newsletters
NOW = dt.datetime(2024, 4, 20, 16, tzinfo=dt.UTC)  # that day, 09:00 in Agoura Hills


@pytest.fixture
def account(project, tmp_path, monkeypatch):
    """A Mailchimp-compatible account on 127.0.0.1, set up as the clinic's would be, with a lead and a patient."""
    make_ready(project)
    site = Project(project).rendered().site
    with RunningSandbox(tmp_path / "account.sqlite3") as sandbox:
        sandbox.store.set_clock(NOW)
        provision(sandbox.store, site)
        for list_id, tag, email in (
            ("aivi-main", "mp-a", "lead@example.com"),
            ("aivi-main", "mp-b", "patient@example.com"),
        ):
            sandbox.store.upsert_member(
                list_id, subscriber_hash(email), {"email_address": email, "status_if_new": "subscribed"}
            )
            sandbox.store.create_segment(list_id, {"name": tag, "static_segment": [email]})
        monkeypatch.setenv("MAILCHIMP_API_KEY", "good-us1")
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", sandbox.url)
        yield sandbox, site


def doctor(run_cli, project):
    return run_cli(project, "doctor", "--today", TODAY)


def test_all_checks_pass_on_a_correct_setup(project, run_cli, account):
    result = doctor(run_cli, project)
    assert result.exit_code == 0, result.output
    assert "✗" not in result.stdout and "17 of 17 ready: ready to go live" in result.stdout
    from mailpipe.review.signing import load_reviewers

    (dana,) = load_reviewers(project / "reviews")
    assert f"✓ reviewer Dana Lee, MD signs off medical and legal with key {dana.key_fingerprint}" in result.stdout


def test_a_due_email_whose_sign_off_an_edit_voided_is_a_cross_naming_it_and_when_it_goes_out(project, run_cli, account):
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "A migraine is much more than",
    )
    result = doctor(run_cli, project)
    assert result.exit_code == 1
    assert (
        "✗ 1 due email(s) a real account refuses: what-causes-migraine (changed since its medical approval"
        in result.stdout
    )
    assert "first goes out Sat Apr 20 09:30)" in result.stdout


@pytest.mark.parametrize(
    "break_it, expected",
    [
        (
            lambda sandbox, site, monkeypatch: monkeypatch.setenv("MAILCHIMP_API_KEY", "revoked-us1"),
            "✗ the key was refused: 401",
        ),
        (
            lambda sandbox, site, monkeypatch: sandbox.store.set_plan("forever_free"),
            "✗ the Free plan cannot schedule campaigns",
        ),
        (
            lambda sandbox, site, monkeypatch: sandbox.store.set_domain("aiviaesthetics.com", False),
            "✗ the sending domain aiviaesthetics.com is not yet verified and authenticated",
        ),
        (
            lambda sandbox, site, monkeypatch: sandbox.store.delete_segment(
                "aivi-main",
                str(
                    next(
                        s["id"] for s in sandbox.store.list_segments("aivi-main", {})["segments"] if s["name"] == "mp-b"
                    )
                ),
            ),
            "✗ existing-patient: nobody in aivi-main has the tag mp-b yet",
        ),
    ],
)
def test_each_account_problem_is_a_cross_with_its_fix(project, run_cli, account, monkeypatch, break_it, expected):
    sandbox, site = account
    break_it(sandbox, site, monkeypatch)
    result = doctor(run_cli, project)
    assert (
        result.exit_code == 1
        and expected in result.stdout
        and "fix:" in result.stdout
        and "Traceback" not in result.output
    )


def test_an_unknown_audience_id_and_a_different_contact_address(project, run_cli, account):
    sandbox, site = account
    edit(project / "mailpipe.yaml", "list_id: aivi-main\n    tag: mp-b", "list_id: patients-list\n    tag: mp-b")
    result = doctor(run_cli, project)
    assert (
        "✗ existing-patient: no audience has the id 'patients-list'; the account has: aivi-main (AIVI Aesthetics, "
        "2 members)" in result.stdout
    )
    body = sandbox_list_body(site)
    body["contact"]["address1"] = "1 Other Street"
    sandbox.store.create_list(body, list_id="patients-list")
    result = doctor(run_cli, project)
    assert (
        "differs from mailpipe.yaml's '29500 Heathercliff Rd, Agoura Hills, CA 91301'" in result.stdout
        and result.exit_code == 1
    )


@pytest.mark.parametrize(
    "path, old, new, expected",
    [
        (
            "mailpipe.yaml",
            'phone: "(818) 555-2368"',
            'phone: "(818) 555-2368"   # CONFIRM: ask the front desk',
            "1 value(s) still marked CONFIRM",
        ),
        ("mailpipe.yaml", 'phone: "(818) 555-2368"', 'phone: "(818) 555-0142"', "is a fictional 555-01xx number"),
        (
            "mailpipe.yaml",
            '"29500 Heathercliff Rd, Agoura Hills, CA 91301"',
            '"Agoura Hills, CA 91301"',
            "has no street or PO box",
        ),
        (
            "content/specials/2024-06.md",
            "example: false",
            "example: true",
            "example content is due: newsletter-2024-06",
        ),
        (
            "content/articles/01-what-causes-migraine.md",
            "A migraine is more than",
            "A guaranteed cure. A migraine is more than",
            "due emails fail `check`: what-causes-migraine",
        ),
    ],
)
def test_each_project_problem_is_a_cross(project, run_cli, account, path, old, new, expected):
    edit(project / path, old, new)
    result = doctor(run_cli, project)
    assert result.exit_code == 1 and "✗ " in result.stdout and expected in result.stdout


def test_a_missing_month_in_the_next_60_days_is_a_cross(project, run_cli, account):
    result = run_cli(project, "doctor", "--today", "2024-05-20")
    assert result.exit_code == 1 and "no newsletter for 2024-07: write content/specials/2024-07.md" in result.stdout


def test_the_shipped_project_is_not_ready_and_push_to_a_real_account_refuses_confirm_values(
    project, run_cli, monkeypatch
):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, NOW)
    result = run_cli(project, "doctor", "--sandbox", "--today", TODAY)
    assert result.exit_code == 1 and "still marked CONFIRM" in result.stdout
    for role in ("legal", "medical"):  # no reviewers ship
        assert f"✗ nobody in reviews/reviewers.yaml signs off {role}: push to a real account refuses" in result.stdout
    monkeypatch.setenv("MAILCHIMP_API_KEY", "0123456789abcdef0123456789abcdef-us7")
    monkeypatch.setenv("MAILCHIMP_SERVER_URL", "https://us7.api.mailchimp.com/3.0")
    refused = run_cli(project, "push")
    assert (
        refused.exit_code == 1
        and "not pushing to a real account while mailpipe.yaml has values marked CONFIRM" in refused.stderr
    )


def test_audiences_lists_ids_members_and_tags(project, run_cli, account):
    result = run_cli(project, "audiences")
    assert result.exit_code == 0 and "aivi-main" in result.stdout and "mp-a, mp-b" in result.stdout


def test_a_drip_tag_gone_while_leads_are_inside_is_a_cross_saying_to_rename_it_back(project, run_cli, account):
    """Not 'nobody has the tag yet, import the people': importing would make it again, empty, and hide them."""
    from mailpipe.push.mailchimp import Connection
    from mailpipe.push.state import State

    sandbox, site = account
    endpoint = Connection("good-us1", sandbox.url).where
    state = State(project / "var/state.sqlite3", endpoint)
    state.record_lead_logs("aivi-main", {"lead@example.com": "|e1@20240430|e1.1.20240501|"})
    state.close()
    tag = next(s for s in sandbox.store.list_segments("aivi-main", {})["segments"] if s["name"] == "mp-a")
    sandbox.store.update_segment("aivi-main", str(tag["id"]), {"name": "leads (old)"})
    result = doctor(run_cli, project)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "✗ new-consult: the tag mp-a is not in aivi-main (renamed or deleted?) while 1 lead(s)" in result.stdout
    assert "fix: rename the tag back to mp-a in Mailchimp" in result.stdout
