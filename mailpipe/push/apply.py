"""Carry out a Decision against Mailchimp, recording each step in the local state as it lands.

Each campaign is its own unit: a failure there (Mailchimp said no, the network gave out) is reported and the
other campaigns go on. Every lead's record is written before the campaign that targets it is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailpipe.plan.keys import CampaignKey
from mailpipe.push.decide import (
    Action,
    CampaignPlan,
    Create,
    Decision,
    Delete,
    MakeFolder,
    MakeLogField,
    Notice,
    Schedule,
    Update,
    WaitingRoom,
    World,
    WriteLog,
    twin_deleted,
)
from mailpipe.push.mailchimp import CampaignSettings, Mailchimp, MailchimpError, RemoteCampaign
from mailpipe.push.read import campaign_ids, recognise, twins
from mailpipe.push.record import LOG_FIELD, LOG_FIELD_NAME, waiting_room
from mailpipe.push.state import Pushed, State

UTC = dt.UTC


@dataclass(frozen=True)
class Outcome:
    """One line of push's report."""

    key: CampaignKey | None
    action: Action
    detail: str
    plan: CampaignPlan | None = None
    attention: bool = False


def apply(decision: Decision, world: World, mc: Mailchimp, state: State) -> list[Outcome]:
    """Folders and the MPLOG field, then every lead's record, then the campaigns (the order `decide` gives)."""
    outcomes: list[Outcome] = []
    folders = dict(world.folders)
    failed_lists: set[str] = set()  # audiences whose MPLOG field could not be made: nothing is assigned there
    setup = [s for s in decision.steps if isinstance(s, (MakeFolder, MakeLogField, WaitingRoom))]
    writes = [s for s in decision.steps if isinstance(s, WriteLog)]
    for step in setup + [None] + [s for s in decision.steps if s not in setup and not isinstance(s, WriteLog)]:
        if step is None:
            outcomes += _write_logs(writes, mc, state, failed_lists)
            continue
        if isinstance(step, Notice):
            outcomes.append(Outcome(step.key, step.kind, step.detail, attention=step.attention))
            continue
        plan = step.plan if isinstance(step, (Create, Schedule, Update)) else None
        try:
            outcomes += _run(step, folders, failed_lists, world, mc, state)
        except MailchimpError as err:
            outcomes.append(
                Outcome(plan.key if plan else getattr(step, "key", None), Action.FAILED, str(err), plan, True)
            )
            if isinstance(step, MakeLogField):
                failed_lists.add(step.list_id)
    made = [o.plan for o in outcomes if o.action == Action.CREATED and o.plan is not None]
    return outcomes + _twins_of(made, world, mc, state)


def _run(
    step: MakeFolder | MakeLogField | WaitingRoom | Delete | Create | Schedule | Update,
    folders: dict[str, str],
    failed_lists: set[str],
    world: World,
    mc: Mailchimp,
    state: State,
) -> list[Outcome]:
    if isinstance(step, MakeFolder):
        folders[step.name] = mc.ensure_folder(step.name)
        return []
    if isinstance(step, MakeLogField):
        mc.create_text_merge_field(step.list_id, LOG_FIELD, LOG_FIELD_NAME)
        return []
    if isinstance(step, WaitingRoom):
        if step.list_id not in failed_lists:  # its conditions name the MPLOG field
            name, conditions = waiting_room(step.code, step.tag_id)
            segment_id = mc.ensure_saved_segment(step.list_id, name, conditions)
            state.record_waiting_room(step.list_id, step.code, segment_id, step.tag_id)
        return []
    if isinstance(step, Delete):
        return _delete(step, mc, state)
    if isinstance(step, Create):
        if step.plan.list_id in failed_lists or step.plan.folder not in folders:
            return [
                Outcome(
                    step.plan.key, Action.FAILED, "not made: what it needs could not be made first", step.plan, True
                )
            ]
        return _create(step.plan, folders[step.plan.folder], world, mc, state)
    if isinstance(step, Schedule):
        return _fill_and_schedule(step.plan, step.campaign_id, mc, state, Action.SCHEDULED)
    state.record(
        Pushed(step.plan.key, step.campaign_id, step.plan.email.id, None, False)
    )  # a stop now leaves a draft of ours
    mc.unschedule(step.campaign_id)
    mc.update_campaign(step.campaign_id, _settings(step.plan, None))
    return _fill_and_schedule(step.plan, step.campaign_id, mc, state, Action.RESCHEDULED)


def _delete(step: Delete, mc: Mailchimp, state: State) -> list[Outcome]:
    """A stale draft of ours, and the record of it; or a twin, unscheduled first (the other pusher may have deleted it
    already), and the record only if it was this one's."""
    twin = step.twin
    if twin is not None and twin.scheduled:
        try:
            mc.unschedule(step.campaign_id)
        except MailchimpError as err:
            if err.status != 404:
                raise
    mc.delete_campaign(step.campaign_id)
    known = state.pushed().get(step.key)
    if twin is None or (known is not None and known.campaign_id == step.campaign_id):
        state.forget(step.key)
    return [Outcome(step.key, Action.DELETED, step.why, attention=twin is not None)]


def _twins_of(made: list[CampaignPlan], world: World, mc: Mailchimp, state: State) -> list[Outcome]:
    """Campaigns made this run, looked for once more: a second pusher (another checkout, another machine) that read
    Mailchimp before either made them made them too, and each pusher deletes the same copies before they go out."""
    ours = campaign_ids(state.pushed())
    since = world.now - dt.timedelta(days=2)
    remotes = [r for list_id in sorted({p.list_id for p in made}) for r in mc.recent_campaigns(list_id, since)]
    keys = {p.key for p in made}
    outcomes = []
    for twin in (t for t in twins(remotes, ours, {k.code for k in keys}) if t.key in keys):
        try:
            outcomes += _delete(Delete(twin.key, twin.campaign_id, twin_deleted(twin), twin), mc, state)
        except MailchimpError as err:
            outcomes.append(Outcome(twin.key, Action.FAILED, f"{twin_deleted(twin)}: {err}", attention=True))
    return outcomes


def _write_logs(writes: list[WriteLog], mc: Mailchimp, state: State, failed_lists: set[str]) -> list[Outcome]:
    """The local copy first (so a stop in between is finished by the next run), then each member. A member that
    could not be written is taken out of the local copy again, so no campaign counts them."""
    outcomes: list[Outcome] = []
    by_list: dict[str, list[WriteLog]] = {}
    for write in writes:
        by_list.setdefault(write.list_id, []).append(write)
    for list_id, entries in by_list.items():
        if list_id in failed_lists:
            continue
        previous = state.lead_logs(list_id)
        state.record_lead_logs(list_id, {w.email: w.value for w in entries})
        failures = []
        for write in entries:
            try:
                mc.update_member_fields(list_id, write.email, {LOG_FIELD: write.value})
            except MailchimpError as err:
                state.record_lead_logs(list_id, {write.email: previous.get(write.email.lower(), "")})
                failures.append(f"{write.email}: {err}")
        outcomes.append(Outcome(None, Action.WRITTEN, f"{len(entries) - len(failures)} lead record(s) in {list_id}"))
        for failure in failures:
            outcomes.append(
                Outcome(
                    None,
                    Action.FAILED,
                    f"lead record not written, so this lead gets nothing today: {failure}",
                    attention=True,
                )
            )
    return outcomes


def _settings(plan: CampaignPlan, folder_id: str | None) -> CampaignSettings:
    email = plan.email
    return CampaignSettings(
        plan.key.title, email.subject, email.preheader, email.from_name, email.reply_to, True, folder_id
    )


def _create(plan: CampaignPlan, folder_id: str, world: World, mc: Mailchimp, state: State) -> list[Outcome]:
    def find() -> RemoteCampaign | None:  # a create whose answer was lost is looked for as the next run would
        since = world.now - dt.timedelta(days=2)
        return next((c for c in mc.recent_campaigns(plan.list_id, since) if recognise(c, {}) == plan.key), None)

    conditions = plan.conditions(world.tag_ids[plan.list_id])  # read_world reads the tags of every audience pushed to
    # recorded first: a run stopped between Mailchimp's create and the record below finds a draft it knows it made
    state.record(Pushed(plan.key, "", plan.email.id, None, False))
    campaign = mc.create_campaign(plan.list_id, _settings(plan, folder_id), conditions, tracking=True, find=find)
    state.record(Pushed(plan.key, campaign.id, plan.email.id, None, False))
    created = Outcome(plan.key, Action.CREATED, f"{plan.email.id} to {campaign.recipient_count} member(s)", plan)
    return [created, *_fill_and_schedule(plan, campaign.id, mc, state, Action.SCHEDULED)]


def _fill_and_schedule(
    plan: CampaignPlan, campaign_id: str, mc: Mailchimp, state: State, verb: Action
) -> list[Outcome]:
    mc.set_content(campaign_id, plan.email)
    state.record(Pushed(plan.key, campaign_id, plan.email.id, plan.email.content_hash, False))
    checklist = mc.checklist(campaign_id)
    if not checklist.is_ready:
        return [
            Outcome(plan.key, Action.BLOCKED, f"Mailchimp's send checklist: {'; '.join(checklist.errors)}", plan, True)
        ]
    mc.schedule(campaign_id, plan.send_at.astimezone(UTC).isoformat())
    state.record(Pushed(plan.key, campaign_id, plan.email.id, plan.email.content_hash, True))
    late = (
        ""
        if plan.send_at - plan.wanted < dt.timedelta(minutes=15)
        else f" (late: wanted {plan.wanted:%Y-%m-%d %H:%M} UTC)"
    )
    return [Outcome(plan.key, verb, f"{plan.send_at:%Y-%m-%d %H:%M} UTC{late}", plan)]
