"""`mailpipe push`: converge the account (or a sandbox) to what is due now, behind every gate a send must pass.

The gates live here, so every caller (the command line, the demo) gets them: on a real account, push refuses to run
while mailpipe.yaml holds values marked CONFIRM, and refuses each due email that is example content or lacks a
sign-off it needs; anywhere, an email with check errors. Whether an account is real is the target's to say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailpipe.commands import OnTarget, ignore_target
from mailpipe.errors import MailpipeError
from mailpipe.project import Project
from mailpipe.push import PushResult
from mailpipe.push.state import State
from mailpipe.push.target import Target


@dataclass(frozen=True)
class Pushed:
    result: PushResult
    at: dt.datetime  # the time the run acted as of
    unsigned: list[tuple[str, str]]  # (email, what its sign-off lacks): due emails a test target took unsigned

    @property
    def needs_attention(self) -> bool:
        return self.result.needs_attention


def push(
    project: Project,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    on_target: OnTarget = ignore_target,
    sandbox: bool = False,
) -> Pushed:
    """Connect to the account the environment names (or the embedded sandbox, with `sandbox`), say which, and push
    there."""
    from mailpipe.push.target import connect

    rendered = project.load()
    with connect(project.root, rendered.site, dry_run=dry_run, sandbox=sandbox) as target:
        on_target(target)
        return push_to(project, target, now)


def push_to(project: Project, target: Target, now: dt.datetime | None = None) -> Pushed:
    """One run against `target` at `now` (default: the target's clock), with every gate."""
    from mailpipe.load.config import unconfirmed_values
    from mailpipe.push import push as run_push
    from mailpipe.push import refusals

    rendered = project.rendered()
    real_account = not target.is_test
    if real_account:
        marked = unconfirmed_values(project.root)
        if marked:
            raise MailpipeError(
                "not pushing to a real account while mailpipe.yaml has values marked CONFIRM "
                f"({'; '.join(marked)}); check them, delete the CONFIRM comments, and run `mailpipe doctor`"
            )
    # a real account gets only signed-off emails; a test target takes unsigned ones with a warning (`unsigned`), so
    # drafts can be tried end to end
    sign_offs = project.sign_offs
    refused = refusals(rendered.emails, project.findings, sign_offs, real_account)
    state = target.open_state()
    try:
        if real_account and not target.dry_run:
            _require_probe(target, state)
        at = now or target.now()
        result = run_push(
            target.mailchimp, state, rendered.site, project.campaigns, rendered.emails, rendered.content, refused, at
        )
    finally:
        state.close()
    unsigned = [(e, sign_offs[e].summary) for e in sorted(result.due_emails) if not sign_offs[e].approved]
    return Pushed(result, at, unsigned)


def _require_probe(target: Target, state: State) -> None:
    """A real account is written to only once `mailpipe doctor --probe` passed on it (from this state file)."""
    account = target.mailchimp.account()
    if state.probe_passed(account.id) is None:
        raise MailpipeError(
            f"not pushing to the Mailchimp account {account.name or account.id}: it has not passed `mailpipe doctor "
            "--probe`, which checks with a test contact and a draft campaign (both deleted after) what push relies "
            "on; run it once"
        )
