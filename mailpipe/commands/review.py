"""`mailpipe review`: the medical/legal sign-off of each email, pinned to what a recipient sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.errors import MailpipeError
from mailpipe.project import Project
from mailpipe.review import Approval, Change, ReviewState
from mailpipe.util.paths import is_inside

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class Status:
    sign_offs: dict[str, ReviewState]  # in the project's order of emails
    kinds: dict[str, str]  # email -> article, special or newsletter
    needs_approved_text: list[str]  # templates still in the project's own wording (paths in the project)


def status(project: Project) -> Status:
    from mailpipe.review import templates_needing_approved_text

    emails = project.emails
    pending = [str(p.relative_to(project.root)) for p in templates_needing_approved_text(project.templates_dir)]
    return Status(project.sign_offs, {e.id: e.kind for e in emails}, pending)


@dataclass(frozen=True)
class Approved:
    email: str
    role: str
    approval: Approval
    new: bool  # False: this very version already had the sign-off; nothing changed
    warnings: tuple[str, ...]  # the check warnings the reviewer signs off with ('RULE: what'), recorded with it


def reviewer_key(project: Project, path: Path, ask_passphrase: Callable[[], str]) -> Ed25519PrivateKey:
    """The reviewer's private key; one kept inside the project is refused (it would be committed with the sign-offs it
    makes, and anyone could sign with it)."""
    from mailpipe.review.signing import NeedsPassphrase, load_private_key

    if is_inside(project.root, path, "--key"):
        raise MailpipeError(
            f"--key: {path} is inside the project, where it would be committed and anyone could sign with it; keep "
            "your private key in ~/.ssh and only its .pub line in reviews/reviewers.yaml"
        )
    try:
        return load_private_key(path)
    except NeedsPassphrase:
        return load_private_key(path, ask_passphrase())


def approve(project: Project, email_ids: tuple[str, ...], role: str, key: Ed25519PrivateKey) -> list[Approved]:
    """Sign off each email as it is now, with its warnings and the reviewer's signature; refused (nothing recorded)
    while any of them has check errors."""
    from mailpipe.checks import Severity, error_rules

    site = project.rendered().site
    emails = [project.email(email_id) for email_id in email_ids]
    failing = {e.id: error_rules(project.findings[e.id]) for e in emails}
    failing = {k: v for k, v in failing.items() if v}
    if failing:
        raise MailpipeError(
            "not approved, check errors first: "
            + "; ".join(f"{k} ({', '.join(v)})" for k, v in failing.items())
            + " (see `mailpipe check`)"
        )
    today = project.today()
    done = []
    for email in emails:
        warnings = tuple(f"{f.rule}: {f.message}" for f in project.findings[email.id] if f.severity == Severity.WARNING)
        approval = project.reviews.approve(email, site, role, key, today, warnings)
        existing = project.reviews.approvals[(email.id, role)]
        done.append(Approved(email.id, role, approval or existing, approval is not None, warnings))
    return done


def revoke(project: Project, email_id: str, role: str) -> Approval:
    """Withdraw a sign-off: a push to a real account refuses the email until it is approved again."""
    return project.reviews.revoke(email_id, role)


@dataclass(frozen=True)
class Diff:
    approval: Approval  # the approval compared with
    changes: list[Change]  # empty: unchanged since


def diff(project: Project, email_id: str, role: str | None = None) -> Diff:
    """What a recipient sees now against what `role` (default: the latest sign-off) approved, word by word."""
    from mailpipe.checks import Context
    from mailpipe.review import recipient_view, word_diff

    email = project.email(email_id)
    approval = project.reviews.latest(email_id, role)
    if approval is None:
        raise MailpipeError(f"{email_id} has no {role + ' ' if role else ''}approval to compare with")
    approved = project.reviews.approved_view(approval)
    if approved is None:
        raise MailpipeError(
            f"the view approved by {approval.reviewer} is missing from {project.reviews_dir}/approved; restore it "
            "from git"
        )
    now = recipient_view(Context(email, project.rendered().site))
    return Diff(approval, [] if approved == now else word_diff(approved, now))
