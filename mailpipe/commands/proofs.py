"""`mailpipe send-test`: a Mailchimp test email of one rendered email, to the addresses given."""

from __future__ import annotations

from dataclasses import dataclass

from mailpipe.commands import OnTarget, ignore_target
from mailpipe.project import Project


@dataclass(frozen=True)
class Proof:
    title: str  # the draft campaign the test was sent from
    endpoint: str


def send_test(
    project: Project,
    email_id: str,
    to: tuple[str, ...],
    plain_text: bool = False,
    on_target: OnTarget = ignore_target,
    sandbox: bool = False,
) -> Proof:
    from mailpipe.push.proofs import audience_of
    from mailpipe.push.proofs import send_test as send
    from mailpipe.push.target import connect

    rendered = project.load()
    email = project.email(email_id)
    list_id = audience_of(email, project.campaigns, rendered.site)
    with connect(project.root, rendered.site, sandbox=sandbox) as target:
        on_target(target)
        title = send(target.mailchimp, email, list_id, list(to), plain_text)
    return Proof(title, target.endpoint)
