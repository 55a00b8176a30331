"""`mailpipe doctor --probe`: what push relies on, tried on the account with a reserved contact and a draft campaign,
read back, compared and deleted; push to a real account waits for a pass. Run against the sandbox answering
conditions as written, in Mailchimp's internal form, and not at all; every request checked against Mailchimp's spec
(request bodies closed: no property the operation does not define)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import REPO, set_embedded_sandbox_clock
from mailpipe.errors import MailpipeError
from mailpipe.plan.keys import DripKey
from mailpipe.project import Project
from mailpipe.push.mailchimp import RemoteCampaign, RemoteMember
from mailpipe.push.probe import PROBE_TAG, Sent, judge, probe, probe_address
from mailpipe.push.record import LOG_FIELD, conditions_for
from mailpipe.push.target import provision

NOW = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def site():
    return Project(REPO).load().site


@pytest.mark.parametrize("form", ["as-written", "internal", "none"])
def test_the_probe_passes_on_the_sandbox_and_leaves_nothing_behind(sandbox, adapter, site, form):
    provision(sandbox.store, site)
    sandbox.store.set_condition_form(form)
    checks = probe(adapter, site, NOW)
    required = [c for c in checks if c.required]
    assert len(required) == 6 and all(c.ok for c in required), [c for c in checks if not c.ok]
    (answered,) = [c for c in checks if not c.required]
    assert answered.ok is (form != "none")  # said, and not required: push knows its campaigns by id and title
    assert sandbox.store.list_campaigns({})["total_items"] == 0
    member = sandbox.store.list_members("aivi-main", {"count": 100})["members"]
    by_hand = probe_address(site).replace("@", "-tagged@")
    assert sorted((m["email_address"], m["status"]) for m in member) == [
        (by_hand, "archived"),
        (probe_address(site), "archived"),
    ]
    names = {s["name"] for s in sandbox.store.list_segments("aivi-main", {})["segments"]}
    assert PROBE_TAG not in names and "mp-mpprobe-new" not in names  # the tag and the waiting room, deleted


def _real_account(project, sandbox):
    """A client that takes the sandbox for a real account, with the project's sign-off gate."""
    from mailpipe.push.mailchimp import Connection, Mailchimp
    from mailpipe.review import SignOffGate

    site = Project(project).site
    return Mailchimp(
        Connection("k-us1", sandbox.url), sign_offs=SignOffGate(project / "reviews", site), as_real_account=True
    )


def _sent() -> Sent:
    key = DripKey("mpprobe", 1, dt.date(2026, 12, 1))
    return Sent(
        "aivi-main",
        "mailpipe-probe@aiviaesthetics.com",
        {"FNAME": "Probe", LOG_FIELD: "|x|"},
        key,
        "mailpipe-probe-tagged@aiviaesthetics.com",
    )


def _read_back(room=("mailpipe-probe-tagged@aiviaesthetics.com",), **changes):
    sent = _sent()
    member = RemoteMember(sent.email, "subscribed", dict(sent.fields), (PROBE_TAG,))
    campaign = RemoteCampaign("c1", sent.key.title, "save", None, 1, conditions_for(sent.key))
    for name, value in changes.items():
        if hasattr(member, name):
            member = RemoteMember(**{**member.__dict__, name: value})
        else:
            campaign = RemoteCampaign(**{**campaign.__dict__, name: value})
    return member, campaign, list(room)


@pytest.mark.parametrize(
    ("change", "fails"),
    [
        ({}, None),
        ({"status": "pending"}, "a new lead of `leads import` is pending"),
        ({"merge_fields": {"FNAME": "Probe", LOG_FIELD: ""}}, "merge fields read back as written"),
        ({"tags": ()}, "the tag given as `leads import` gives it"),
        ({"title": "mp-mpprobe-s01-2026-12-01 (renamed)"}, "keeps the title push gives it"),
        ({"recipient_count": 0}, "selects exactly the lead"),
        ({"recipient_count": 2}, "selects exactly the lead"),
        ({"room": ()}, "waiting room holds a contact tagged by hand"),
        ({"room": ("mailpipe-probe-tagged@aiviaesthetics.com", "mailpipe-probe@aiviaesthetics.com")}, "waiting room"),
    ],
)
def test_the_probe_fails_on_each_thing_push_relies_on(change, fails):
    checks = judge(_sent(), *_read_back(**change))
    failed = [c.what for c in checks if not c.ok and c.required]
    assert failed == ([] if fails is None else [next(w for w in failed if fails in w)]), failed


def test_a_real_account_is_pushed_to_only_after_its_probe_passed(project, sandbox):
    """A real account (here the sandbox, taken for one) without a recorded pass is refused with how to get one;
    after `doctor --probe` passed against it, push goes ahead."""
    from mailpipe.commands.doctor import probe_target
    from mailpipe.commands.push import push_to
    from mailpipe.push.target import Target

    site = Project(project).load().site
    provision(sandbox.store, site)
    for line in (project / "mailpipe.yaml").read_text().splitlines():
        if "CONFIRM" in line and not line.lstrip().startswith("#"):
            (project / "mailpipe.yaml").write_text(
                (project / "mailpipe.yaml").read_text().replace(line, line.split("#")[0].rstrip())
            )
    target = Target(_real_account(project, sandbox), sandbox.url, project / "var/state.sqlite3")
    with pytest.raises(MailpipeError, match=r"has not passed `mailpipe doctor --probe`.*run it once"):
        push_to(Project(project), target, NOW)
    assert sandbox.store.list_campaigns({})["total_items"] == 0

    assert all(c.ok for c in probe_target(Project(project), target, NOW).checks)
    pushed = push_to(Project(project), target, NOW)
    assert pushed.result.outcomes  # it ran: the refusals of unsigned emails are the sign-off gate's, not the probe's


def test_doctor_probe_on_the_embedded_sandbox(project, run_cli, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    set_embedded_sandbox_clock(project, NOW)
    result = run_cli(project, "doctor", "--sandbox", "--probe")
    assert result.exit_code == 0, result.output
    assert "doctor --probe: the embedded sandbox" in result.stdout
    assert "aivi-main: a new lead of `leads import` is subscribed" in result.stdout


def test_doctor_says_whether_a_real_account_passed_its_probe(project, sandbox):
    from mailpipe.commands.doctor import _probed, probe_target
    from mailpipe.push.target import Target

    provision(sandbox.store, Project(project).load().site)
    target = Target(_real_account(project, sandbox), sandbox.url, project / "var/state.sqlite3")
    before = _probed(target)
    assert not before.ok and "has not passed `mailpipe doctor --probe`" in before.what
    probe_target(Project(project), target, NOW)
    after = _probed(target)
    assert after.ok and "passed `mailpipe doctor --probe` on 2026-12-01" in after.what


def test_the_probes_drip_code_is_no_campaign_files(project, run_cli):
    from conftest import edit

    edit(project / "campaigns/migraine-education.yaml", "code: e1", "code: mpprobe")
    result = run_cli(project, "plan", "--from", "2024-05-01")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "campaigns/migraine-education.yaml:10: code: 'mpprobe' is mailpipe's own; use another" in result.stderr
