"""Push: read what Mailchimp holds, decide what is due as data, then apply it (or, in a dry run, only say it).

- `record`: the opaque records that say who was given what (a merge field on each lead, a condition on each campaign);
- `read`: Mailchimp and the local state, read with GETs only;
- `decide`: the pure decision;
- `apply`: the writes, each campaign on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from mailpipe.checks import Finding
from mailpipe.load.campaigns import Campaign, Drip, Monthly
from mailpipe.load.config import SiteConfig
from mailpipe.load.content import ContentSet
from mailpipe.push.apply import Outcome, apply
from mailpipe.push.decide import (
    Action,
    Create,
    Decision,
    Delete,
    MakeFolder,
    MakeLogField,
    Notice,
    Schedule,
    Step,
    Update,
    WaitingRoom,
    World,
    WriteLog,
    decide,
)
from mailpipe.push.mailchimp import Mailchimp
from mailpipe.push.read import read_world
from mailpipe.push.record import waiting_room
from mailpipe.push.state import State
from mailpipe.render import RenderedEmail
from mailpipe.review import ReviewState


@dataclass(frozen=True)
class PushResult:
    outcomes: list[Outcome]
    decision: Decision
    api_calls: int

    @property
    def due_emails(self) -> set[str]:
        """The emails this run schedules (or would): what a sign-off must cover."""
        return {s.plan.email.id for s in self.decision.steps if isinstance(s, (Create, Schedule, Update))}

    @property
    def needs_attention(self) -> bool:
        """Something was refused, blocked, held, failed or is missing: the run exits non-zero."""
        return any(o.attention for o in self.outcomes)


def refusals(
    emails: list[RenderedEmail],
    findings: Mapping[str, list[Finding]],
    sign_offs: Mapping[str, ReviewState],
    real_account: bool,
) -> dict[str, str]:
    """Emails push must not send, with why: check errors anywhere; on a real account also example content, text still
    awaiting its approved wording, and an email without every sign-off it needs for exactly this version. Whether the
    account is real is the target's to say (push's use case asks it); on a real account an email with no sign-off state
    given is refused like an unsigned one, so nothing left out turns the gate off."""
    from mailpipe.checks import error_rules

    refused = {}
    for email in emails:
        errors = error_rules(findings[email.id])
        sign_off = sign_offs.get(email.id)
        if errors:
            refused[email.id] = f"{email.id} fails checks: {', '.join(errors)} (see `mailpipe check {email.id}`)"
        elif email.example and real_account:
            refused[email.id] = f"{email.id} is example content (example: true) and this is a real Mailchimp account"
        elif email.unapproved_text and real_account:
            shown = ", ".join(f"templates/{name}" for name in email.unapproved_text)
            refused[email.id] = (
                f"{email.id} shows {shown}, still in the project's own wording (mailpipe:needs-approved-text): "
                "a reviewer puts the approved text in and deletes that line"
            )
        elif real_account and not (sign_off and sign_off.approved):
            summary = sign_off.summary if sign_off else "no sign-off recorded"
            refused[email.id] = f"{email.id} is not signed off: {summary} (see `mailpipe review status`)"
    return refused


def push(
    mc: Mailchimp,
    state: State,
    site: SiteConfig,
    campaigns: list[Campaign],
    emails: list[RenderedEmail],
    content: ContentSet,
    refused: dict[str, str],
    now: dt.datetime,
) -> PushResult:
    """One run. A dry run (a read-only client, said once where it was made) reads with GETs only and writes nothing,
    here or in the local state."""
    dry_run = mc.read_only
    if state.read_only != dry_run:
        raise ValueError("a dry run reads the state as a copy, and only a dry run does: the client and state disagree")
    calls = mc.calls

    def run() -> tuple[Decision, list[Outcome]]:
        world, decision = read_and_decide(mc, state, site, campaigns, emails, content, refused, now)
        return decision, (planned(decision) if dry_run else apply(decision, world, mc, state))

    if dry_run:
        decision, outcomes = run()
    else:
        with state.lock():
            decision, outcomes = run()
    return PushResult(outcomes, decision, mc.calls - calls)


def read_and_decide(
    mc: Mailchimp,
    state: State,
    site: SiteConfig,
    campaigns: list[Campaign],
    emails: list[RenderedEmail],
    content: ContentSet,
    refused: dict[str, str],
    now: dt.datetime,
) -> tuple[World, Decision]:
    """The first half of a run: what Mailchimp and the state hold, and what to do about it (nothing written)."""
    audiences = {name: (a.list_id, a.tag) for name, a in site.audiences.items()}
    world = read_world(mc, state, campaigns, audiences, now)
    decision = decide(
        world,
        [c for c in campaigns if isinstance(c, Drip)],
        [c for c in campaigns if isinstance(c, Monthly)],
        audiences,
        {e.id: e for e in emails},
        refused,
        content,
        site.mailchimp.folder,
    )
    return world, decision


def planned(decision: Decision) -> list[Outcome]:
    """What a dry run reports: the decision, said as the actions it would take."""
    outcomes = [_would(step) for step in decision.steps if not isinstance(step, WriteLog)]
    writes = sum(isinstance(s, WriteLog) for s in decision.steps)
    if writes:
        outcomes.insert(0, Outcome(None, Action.WOULD_WRITE, f"{writes} lead record(s) (MPLOG)"))
    return outcomes


def _would(step: Step) -> Outcome:
    if isinstance(step, MakeFolder):
        return Outcome(None, Action.WOULD_MAKE_FOLDER, step.name)
    if isinstance(step, MakeLogField):
        return Outcome(None, Action.WOULD_ADD_FIELD, f"the hidden merge field MPLOG to audience {step.list_id}")
    if isinstance(step, WaitingRoom):
        name = waiting_room(step.code, step.tag_id)[0]
        return Outcome(None, Action.WOULD_ADD_SEGMENT, f"the saved segment {name} (the drip's waiting room)")
    if isinstance(step, Create):
        return Outcome(step.plan.key, Action.WOULD_CREATE, step.plan.email.id, step.plan)
    if isinstance(step, Schedule):
        return Outcome(step.plan.key, Action.WOULD_SCHEDULE, f"the draft {step.campaign_id}", step.plan)
    if isinstance(step, Update):
        detail = "its email changed: unschedule, update, schedule again"
        return Outcome(step.plan.key, Action.WOULD_UPDATE, detail, step.plan)
    if isinstance(step, Delete):
        return Outcome(step.key, Action.WOULD_DELETE, step.why)
    assert isinstance(step, Notice), step
    return Outcome(step.key, step.kind, step.detail, attention=step.attention)
