"""Decide what push does, as data: a pure function of what Mailchimp holds, the local record, the campaign
files, the emails and the time. Nothing here talks to Mailchimp; `apply` carries the decision out.

The rules (the README's "How the drip is built" says why):
- a lead's step k is *sent* when the campaign of its latest assignment to k has sent; *pending* while that
  campaign is scheduled or sending (or is a draft mailpipe has not scheduled yet); *held* while a person has
  paused, unscheduled or canceled it in Mailchimp: nothing more goes to that lead until they resolve it;
- an assignment whose campaign is gone (deleted before sending, or never made by a crashed run) is void: the
  step was not sent, and is assigned again on a later day;
- a step is assigned only when the step before is sent or skipped, the lead has no exit tag, it is due
  (`delay_days` after the lead entered the drip), it can still go out within `max_late_days` (else it is
  skipped), and the lead has no other assignment on the same local day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mailpipe.load.campaigns import Drip, Monthly
from mailpipe.load.content import ContentSet
from mailpipe.plan import local_date, local_to_utc, monthly_problems, monthly_send, months_between, schedule_time
from mailpipe.plan.keys import CampaignKey, DripKey, MonthlyKey
from mailpipe.push.record import Condition, LeadLog, conditions_for
from mailpipe.push.state import Pushed
from mailpipe.render import RenderedEmail

MONTHLY_LEAD = dt.timedelta(
    hours=36
)  # a monthly campaign is made by the daily run before it goes out (a fresh snapshot)
MONTHLY_LATE = dt.timedelta(days=7)  # a month missed by more than this is not sent late
WAITING = ("schedule", "sending")  # statuses that will send by themselves


# -- what push reads ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaggedLead:
    """A member with a drip's tag, as push reads them."""

    email: str
    log: LeadLog  # the member's MPLOG and the local copy, together
    written: str  # what the member's MPLOG holds now
    entered: dt.datetime | None  # when they got the drip's tag; read only for leads with no start yet
    exited: bool  # has one of the drip's exit tags


@dataclass(frozen=True)
class Found:
    """A mailpipe campaign found in Mailchimp by its recipients (whatever its title or folder now)."""

    campaign_id: str
    status: str
    content_hash: str | None  # of Mailchimp's copy, read only when the local record has none


@dataclass(frozen=True)
class World:
    now: dt.datetime
    found: dict[CampaignKey, Found]
    pushed: dict[CampaignKey, Pushed]
    leads: dict[str, list[TaggedLead]]  # drip code -> the members with its tag
    tag_ids: dict[str, dict[str, int]]  # list id -> tag name -> id
    log_field: dict[str, bool]  # list id -> does the audience have the MPLOG merge field
    folders: dict[str, str]  # folder name -> id, of the folders that exist


# -- what push does ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CampaignPlan:
    key: CampaignKey
    email: RenderedEmail
    list_id: str
    folder: str
    wanted: dt.datetime  # the campaign's own time
    send_at: dt.datetime  # the UTC quarter hour it is scheduled for
    recipients: tuple[str, ...]  # a drip step's leads; empty for a monthly email (its tag)
    tag: str | None  # the tag a monthly email goes to

    def conditions(self, tag_ids: dict[str, int]) -> tuple[Condition, ...]:
        """Its recipients, which are also its identity."""
        return conditions_for(self.key, tag_ids.get(self.tag) if self.tag else None)


@dataclass(frozen=True)
class MakeFolder:
    name: str


@dataclass(frozen=True)
class MakeLogField:
    list_id: str


@dataclass(frozen=True)
class WriteLog:
    list_id: str
    email: str
    value: str


@dataclass(frozen=True)
class Create:
    plan: CampaignPlan


@dataclass(frozen=True)
class Schedule:
    """A draft mailpipe made and never scheduled (a run stopped in between): fill and schedule it."""

    plan: CampaignPlan
    campaign_id: str


@dataclass(frozen=True)
class Update:
    """A scheduled campaign whose email changed: unschedule, update, schedule again."""

    plan: CampaignPlan
    campaign_id: str


@dataclass(frozen=True)
class Delete:
    """A draft mailpipe made and never scheduled that can no longer go out in time."""

    key: CampaignKey
    campaign_id: str
    why: str


@dataclass(frozen=True)
class Notice:
    """Something push leaves alone and says; `attention` ones make the run exit non-zero."""

    key: CampaignKey | None
    kind: str  # held, refused, problem, skipped, deleted, waiting
    detail: str
    attention: bool


Step = MakeFolder | MakeLogField | WriteLog | Create | Schedule | Update | Delete | Notice


@dataclass(frozen=True)
class LeadProgress:
    """Where a lead stands in a drip after this decision: step number -> sent, pending, held, skipped, assigned."""

    email: str
    code: str
    steps: dict[int, str]


@dataclass
class Decision:
    steps: list[Step] = field(default_factory=list)
    progress: list[LeadProgress] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return any(not isinstance(s, Notice) for s in self.steps)


# -- the decision ----------------------------------------------------------------------------------
def decide(
    world: World,
    drips: list[Drip],
    monthlies: list[Monthly],
    audiences: dict[str, tuple[str, str | None]],
    emails: dict[str, RenderedEmail],
    refusals: dict[str, str],
    content: ContentSet,
    folder_prefix: str,
) -> Decision:
    """Everything this run should do. `audiences`: logical name -> (list id, tag); `refusals`: email id -> why it
    may not be sent (check errors, example content on a real account)."""
    decision = Decision()
    for drip in drips:
        list_id, _ = audiences[drip.audience]
        _decide_drip(decision, world, drip, list_id, emails, refusals, f"{folder_prefix}: {drip.name}")
    for monthly in monthlies:
        list_id, tag = audiences[monthly.audience]
        _decide_monthly(
            decision, world, monthly, list_id, tag, emails, refusals, content, f"{folder_prefix}: {monthly.name}"
        )
    _prepare(decision, world)
    return decision


def _prepare(decision: Decision, world: World) -> None:
    """Folders and the MPLOG field first, then every lead's record, then the campaigns that target them."""
    folders = {s.plan.folder for s in decision.steps if isinstance(s, Create)}
    first: list[Step] = [MakeFolder(name) for name in sorted(folders - set(world.folders))]
    lists = sorted({s.list_id for s in decision.steps if isinstance(s, WriteLog)})
    first += [MakeLogField(list_id) for list_id in lists if not world.log_field.get(list_id)]
    order = {MakeFolder: 0, MakeLogField: 1, WriteLog: 2, Delete: 3, Schedule: 4, Update: 4, Create: 5, Notice: 6}
    decision.steps = first + sorted(decision.steps, key=lambda s: order[type(s)])


def _assignment(key: DripKey, world: World, today: dt.date) -> str:
    """sent, pending, held or void: what became of one assignment, from its campaign."""
    found, known = world.found.get(key), world.pushed.get(key)
    if found is None:
        # not in Mailchimp: a crashed run of today makes it now; one mailpipe made is gone (deleted), as is
        # every one of an earlier day: the step was not sent
        return "pending" if key.day == today and known is None else "void"
    if found.status == "sent":
        return "sent"
    if found.status in WAITING:
        return "pending"
    if found.status == "save" and not (known and known.scheduled):
        return "pending"  # a draft mailpipe has not scheduled yet: scheduled below
    return "held"  # paused, unscheduled, canceled... by a person: left alone


def _decide_drip(
    decision: Decision,
    world: World,
    drip: Drip,
    list_id: str,
    emails: dict[str, RenderedEmail],
    refusals: dict[str, str],
    folder: str,
) -> None:
    now, code = world.now, drip.code
    today = local_date(now, drip.timezone)
    wanted = local_to_utc(today, drip.send_time, drip.timezone)
    send_at = schedule_time(wanted, now)
    late = dt.timedelta(days=drip.max_late_days)
    made_today = {
        k for k in (*world.found, *world.pushed) if isinstance(k, DripKey) and k.code == code and k.day == today
    }
    holding: dict[DripKey, int] = {}  # a held campaign -> how many leads wait on it
    deadlines: dict[DripKey, dt.datetime] = {}  # a campaign -> the latest it may go out for every lead it has
    refused_steps: set[int] = set()
    assignees: dict[DripKey, list[str]] = {}
    for lead in world.leads.get(code, []):
        log = lead.log
        if code not in log.starts:
            log = log.with_start(code, local_date(lead.entered or now, drip.timezone))
        start = log.starts[code]
        steps: dict[int, str] = {}
        for number, step in enumerate(drip.steps, start=1):
            due_day = start + dt.timedelta(days=step.delay_days)
            deadline = local_to_utc(due_day, drip.send_time, drip.timezone) + late
            outcomes = {key: _assignment(key, world, today) for key in log.steps(code, number)}
            for key, outcome in list(outcomes.items()):
                if outcome == "pending" and key not in world.found and send_at > deadline:
                    outcomes[key] = "void"  # a stopped run's assignment, now too late to make: taken back
                    log = log.without({key})
                elif outcome == "pending":
                    deadlines[key] = min(deadline, deadlines.get(key, deadline))
            settled = next((o for o in ("sent", "held", "pending") if o in outcomes.values()), None)
            if settled:
                steps[number] = settled
                if settled == "held":
                    for key, outcome in outcomes.items():
                        if outcome == "held":
                            holding[key] = holding.get(key, 0) + 1
                if settled == "sent":
                    continue
                break
            if send_at - local_to_utc(due_day, drip.send_time, drip.timezone) > late:
                steps[number] = "skipped"  # could not go out within max_late_days: never sent late
                continue
            if lead.exited or due_day > today or start > today:
                break
            key = DripKey(code, number, today)
            if any(k.code == code and k.day == today for k in log.assigned) or key in made_today:
                break  # one step a day; and today's campaign of this step already took its recipients
            if step.content in refusals:
                refused_steps.add(number)
                break
            log = log.with_assigned(key)
            deadlines[key] = min(deadline, deadlines.get(key, deadline))
            steps[number] = "assigned"
            break
        for key in log.assigned:
            if key.code == code and key.day == today and _assignment(key, world, today) == "pending":
                assignees.setdefault(key, []).append(lead.email)
        value = log.render()
        if value != lead.written:
            decision.steps.append(WriteLog(list_id, lead.email, value))
        decision.progress.append(LeadProgress(lead.email, code, steps))

    def plan(key: DripKey, recipients: tuple[str, ...] = ()) -> CampaignPlan:
        email = emails[drip.steps[key.step - 1].content]
        step_wanted = local_to_utc(key.day, drip.send_time, drip.timezone)
        return CampaignPlan(key, email, list_id, folder, step_wanted, schedule_time(step_wanted, now), recipients, None)

    for number in sorted(refused_steps):
        content_id = drip.steps[number - 1].content
        decision.steps.append(Notice(DripKey(code, number, today), "refused", refusals[content_id], True))
    for key, recipients in sorted(assignees.items()):
        if key not in world.found:
            decision.steps.append(Create(plan(key, tuple(sorted(recipients)))))
    for key in sorted(k for k in world.pushed if isinstance(k, DripKey) and k.code == code and k not in world.found):
        if key.day >= today - dt.timedelta(days=1):  # say so while it is news
            decision.steps.append(
                Notice(
                    key,
                    "deleted",
                    "deleted in Mailchimp before it was sent; its leads get this step "
                    "on a later day (if still within max_late_days)",
                    False,
                )
            )
    for key, found in sorted((k, f) for k, f in world.found.items() if isinstance(k, DripKey) and k.code == code):
        _existing(decision, world, key, found, plan(key), deadlines.get(key), holding.get(key, 0), refusals)


def _existing(
    decision: Decision,
    world: World,
    key: CampaignKey,
    found: Found,
    plan: CampaignPlan,
    deadline: dt.datetime | None,
    holding: int,
    refusals: dict[str, str],
) -> None:
    """A campaign already in Mailchimp: finish a draft of ours, update a changed one, leave a person's choice alone.
    `deadline`: the latest it may go out (a drip step's lateness limit for its most overdue lead)."""
    known = world.pushed.get(key)
    too_late = deadline is not None and plan.send_at > deadline
    if found.status == "save" and not (known and known.scheduled):
        if too_late:
            decision.steps.append(Delete(key, found.campaign_id, "a draft left by a stopped run, now too late to send"))
        elif plan.email.id in refusals:
            decision.steps.append(Notice(key, "refused", refusals[plan.email.id], True))
        else:
            decision.steps.append(Schedule(plan, found.campaign_id))
        return
    if found.status == "schedule":
        current = known.content_hash if known and known.content_hash else found.content_hash
        if current != plan.email.content_hash:
            if plan.email.id in refusals:
                decision.steps.append(
                    Notice(key, "refused", f"changed, but {refusals[plan.email.id]}; the scheduled version stays", True)
                )
            elif too_late:
                decision.steps.append(
                    Notice(
                        key,
                        "kept",
                        "changed, but scheduling it again now would send it too late; the scheduled version stays",
                        False,
                    )
                )
            else:
                decision.steps.append(Update(plan, found.campaign_id))
        return
    if found.status in ("sent", "sending"):
        return
    if holding or isinstance(key, MonthlyKey):
        who = f"{holding} lead(s) get no further step until it is" if holding else "it is not sent until it is"
        action = "resumed" if found.status == "paused" else "scheduled again"
        decision.steps.append(
            Notice(
                key,
                "held",
                f"{found.status} in Mailchimp by a person: mailpipe leaves it alone; {who} "
                f"{action} or deleted in Mailchimp",
                True,
            )
        )


def _decide_monthly(
    decision: Decision,
    world: World,
    monthly: Monthly,
    list_id: str,
    tag: str | None,
    emails: dict[str, RenderedEmail],
    refusals: dict[str, str],
    content: ContentSet,
    folder: str,
) -> None:
    now = world.now
    today = local_date(now, monthly.timezone)
    for month in months_between(today - dt.timedelta(days=40), today + dt.timedelta(days=2)):
        key = MonthlyKey(monthly.code, month)
        send = monthly_send(monthly, month)
        found = world.found.get(key)
        email = emails.get(monthly.content_id(month))
        if found is not None and email is not None:
            plan = CampaignPlan(key, email, list_id, folder, send, schedule_time(send, now), (), tag)
            if (
                found.status == "save"
                and not (world.pushed.get(key) and world.pushed[key].scheduled)
                and _expired(content, month, today)
            ):
                decision.steps.append(
                    Delete(key, found.campaign_id, f"a draft left by a stopped run; the {month} offers have ended")
                )
            else:
                _existing(decision, world, key, found, plan, send + MONTHLY_LATE, 0, refusals)
            continue
        if found is not None or send - now > MONTHLY_LEAD or now - send > MONTHLY_LATE:
            continue
        problems = monthly_problems(monthly, month, content, set(emails))
        if problems:
            decision.steps.append(Notice(key, "problem", "; ".join(p.message for p in problems), True))
            continue
        assert email is not None
        if _expired(content, month, today):
            decision.steps.append(Notice(key, "refused", f"the {month} offers have ended; not sent late", True))
            continue
        if email.id in refusals:
            decision.steps.append(Notice(key, "refused", refusals[email.id], True))
            continue
        if tag and tag not in world.tag_ids.get(list_id, {}):
            decision.steps.append(Notice(key, "waiting", f"nobody in the audience has the tag {tag!r} yet", False))
            continue
        if key in world.pushed:
            decision.steps.append(Notice(key, "deleted", "deleted in Mailchimp before it was sent; made again", True))
        decision.steps.append(
            Create(CampaignPlan(key, email, list_id, folder, send, schedule_time(send, now), (), tag))
        )


def _expired(content: ContentSet, month: str, today: dt.date) -> bool:
    special = next((s for s in content.specials if s.front.month == month), None)
    return special is not None and special.front.valid_until < today
