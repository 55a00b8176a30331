"""The gate push applies before anything goes out, as the pure function it is: which emails it refuses, and the words
it says why in, on a real account and on a sandbox. One reason per email, the gravest first."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from conftest import REPO
from mailpipe.checks import Finding, Severity
from mailpipe.project import Project
from mailpipe.push import refusals
from mailpipe.review import Approval, ReviewState, RoleState, SignOff

FIRST = "what-causes-migraine"


@pytest.fixture(scope="module")
def email():
    return next(e for e in Project(REPO).rendered().emails if e.id == FIRST)


def error(rule: str) -> Finding:
    return Finding(rule, Severity.ERROR, FIRST, "what is wrong", "how to mend it")


def signed(role: str) -> RoleState:
    return RoleState(role, SignOff.APPROVED, Approval(FIRST, role, "f", dt.date(2024, 5, 1), "Dr. Reyes", "sig"))


APPROVED = ReviewState(FIRST, (signed("medical"),))
HALF = ReviewState(FIRST, (signed("medical"), RoleState("legal", SignOff.MISSING, None)))


@pytest.mark.parametrize(
    ("change", "findings", "sign_off", "real", "why"),
    [
        # check errors: on any account, each rule once and sorted, before anything else is looked at
        (
            {"example": True},
            [error("CLAIM-NO-CURE"), error("CAN-SPAM-UNSUB-TAG"), error("CLAIM-NO-CURE")],
            None,
            False,
            f"{FIRST} fails checks: CAN-SPAM-UNSUB-TAG, CLAIM-NO-CURE (see `mailpipe check {FIRST}`)",
        ),
        ({}, [dataclasses.replace(error("X"), severity=Severity.WARNING)], None, False, None),  # a warning lets it go
        # example content, and text awaiting its approved wording: only a real account refuses them
        (
            {"example": True},
            [],
            APPROVED,
            True,
            f"{FIRST} is example content (example: true) and this is a real Mailchimp account",
        ),
        ({"example": True}, [], None, False, None),
        (
            {"unapproved_text": ("isi.j2", "footer.j2")},
            [],
            APPROVED,
            True,
            f"{FIRST} shows templates/isi.j2, templates/footer.j2, still in the project's own wording "
            "(mailpipe:needs-approved-text): a reviewer puts the approved text in and deletes that line",
        ),
        ({"unapproved_text": ("isi.j2",)}, [], None, False, None),
        # sign-offs: a real account needs every role's, for this version; a sandbox needs none
        ({}, [], None, True, f"{FIRST} is not signed off: no sign-off recorded (see `mailpipe review status`)"),
        ({}, [], HALF, True, f"{FIRST} is not signed off: needs legal sign-off (see `mailpipe review status`)"),
        ({}, [], APPROVED, True, None),
        ({}, [], None, False, None),
    ],
)
def test_push_refuses_an_email_saying_exactly_why(email, change, findings, sign_off, real, why):
    email = dataclasses.replace(email, **change)
    sign_offs = {FIRST: sign_off} if sign_off else {}
    refused = refusals([email], {FIRST: findings}, sign_offs, real_account=real)
    assert refused == ({FIRST: why} if why else {})


def test_a_real_accounts_client_refuses_an_upload_showing_text_still_awaiting_its_approved_wording(email, tmp_path):
    from mailpipe.review import SignOffGate

    gate = SignOffGate(tmp_path / "reviews", Project(REPO).rendered().site)
    awaiting = dataclasses.replace(email, unapproved_text=("isi.j2", "footer.j2"))
    assert gate.refusal(awaiting) == (
        "it shows templates/isi.j2, templates/footer.j2, still marked mailpipe:needs-approved-text (the approved "
        "wording replaces it before go-live)"
    )
    assert gate.refusal(email) == "needs medical sign-off"
