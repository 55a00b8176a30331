"""Decide what push does, as data: a pure function of what Mailchimp holds, the local record, the campaign
files, the emails and the time. Nothing here talks to Mailchimp; `apply` carries the decision out.

The rules (the README's "How the drip is built" says why):
- a lead's step k is *sent* when the campaign of its latest assignment to k has sent; *pending* while that
  campaign is scheduled or sending (or is a draft mailpipe has not scheduled yet); *held* while a person has
  paused, unscheduled or canceled it in Mailchimp: nothing more goes to that lead until they resolve it or the
  step's time (`max_late_days`) is over, when the step is skipped and the lead goes on;
- an assignment whose campaign is gone (deleted before sending, or never made by a crashed run) is void: the
  step was not sent, and is assigned again on a later day;
- a step is assigned only when the step before is sent or skipped, the lead has no exit tag, it is due
  (`delay_days` after the lead entered the drip), it can still go out within `max_late_days` (else it is
  skipped), and the lead has no other assignment on the same local day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from enum import StrEnum

from mailpipe.load.campaigns import Drip, Monthly
from mailpipe.load.content import ContentSet
from mailpipe.plan import delivery, last_send, local_date, local_to_utc, monthly_problems, monthly_send, months_between
from mailpipe.plan.keys import CampaignKey, DripKey, MonthlyKey
from mailpipe.push.record import Condition, LeadLog, conditions_for
from mailpipe.push.state import Pushed
from mailpipe.render import RenderedEmail

MONTHLY_LEAD = dt.timedelta(
    hours=36
)  # a monthly campaign is made by the daily run before it goes out (a fresh snapshot)
MONTHLY_LATE = dt.timedelta(days=7)  # a month missed by more than this is not sent late
ESCALATION = dt.timedelta(days=1)  # a held campaign: push exits 1 about it from this long before someone misses it
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
class WaitingRoom:
    """A drip's waiting room to make (or give its tag's new id): the saved segment of members tagged by hand."""

    list_id: str
    code: str
    tag_id: int


@dataclass(frozen=True)
class Twin:
    """A second campaign push made for one key (two checkouts pushing at once, each with its own state), unsent:
    deleted, so that nobody gets the email twice."""

    key: CampaignKey
    campaign_id: str
    scheduled: bool
    kept: str  # the campaign that stays


@dataclass(frozen=True)
class World:
    now: dt.datetime
    found: dict[CampaignKey, Found]
    pushed: dict[CampaignKey, Pushed]
    leads: dict[str, list[TaggedLead]]  # drip code -> the members with its tag
    tag_ids: dict[str, dict[str, int]]  # list id -> tag name -> id
    log_field: dict[str, bool]  # list id -> does the audience have the MPLOG merge field
    folders: dict[str, str]  # folder name -> id, of the folders that exist
    # drip code -> leads the local copy still has inside the drip, for a drip whose tag is not in Mailchimp
    untagged: dict[str, int] = field(default_factory=dict)
    # (list id, tag) -> members, of the monthly emails' tags
    tag_sizes: dict[tuple[str, str | None], int] = field(default_factory=dict)
    twins: list[Twin] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # lead records read and not believed, with why
    rooms: list[WaitingRoom] = field(default_factory=list)  # drips' waiting rooms to make (read/_tagged_by_hand)
    sent_to: dict[DripKey, set[str]] = field(default_factory=dict)  # a sent drip campaign -> who it reached


@dataclass
class Waiting:
    """People waiting on one thing (a campaign a person holds, an email refused): how many, and when the first of
    them misses it."""

    people: int = 0
    window: dt.datetime | None = None

    def add(self, deadline: dt.datetime) -> None:
        self.people += 1
        self.window = deadline if self.window is None else min(self.window, deadline)

    def urgent(self, now: dt.datetime) -> bool:
        """A person must act today: the window closes within ESCALATION (once it has closed, nobody can help it)."""
        return self.window is None or self.window - ESCALATION <= now < self.window

    def by(self, now: dt.datetime, timezone: str, act: str, miss: str, missed: str) -> str:
        """`; <act> by <time> or <miss>`, or once that time has passed, `; its time ended <time>: <missed>`."""
        if self.window is None:
            return ""
        local = self.window.astimezone(zoneinfo.ZoneInfo(timezone))
        when = f"{local:%a %b} {local.day} {local:%H:%M}"
        return f"; its time ended {when}: {missed}" if now >= self.window else f"; {act} by {when} or {miss}"


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
    """A draft mailpipe made and never scheduled that can no longer go out in time; or a twin (unscheduled first)."""

    key: CampaignKey
    campaign_id: str
    why: str
    twin: Twin | None = None


class Action(StrEnum):
    """What a line of push's report says happened to a campaign (or would, in a dry run)."""

    CREATED = "created"
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    DELETED = "deleted"  # by mailpipe (a stale draft of its own), or found deleted by a person
    WRITTEN = "written"  # lead records (MPLOG)
    FAILED = "failed"
    BLOCKED = "blocked"  # by Mailchimp's send checklist
    HELD = "held"  # a person paused, unscheduled or canceled it: left alone
    REFUSED = "refused"  # its email may not be sent (check errors, example content, no sign-off)
    PROBLEM = "problem"  # its month cannot be sent as things are (no special)
    WAITING = "waiting"  # for something nobody must do now (the tag has no members yet)
    KEPT = "kept"  # changed, but sending it again would be too late: the scheduled version stays
    UNREACHED = "not reached"  # a sent campaign's report lacks leads it was made for: they have not had the step
    IGNORED = "ignored"  # a lead's record that cannot be true (a hand edit): not believed, and written back
    WOULD_MAKE_FOLDER = "would make folder"
    WOULD_ADD_FIELD = "would add field"
    WOULD_ADD_SEGMENT = "would add segment"
    WOULD_WRITE = "would write"
    WOULD_CREATE = "would create"
    WOULD_SCHEDULE = "would schedule"
    WOULD_UPDATE = "would update"
    WOULD_DELETE = "would delete"


@dataclass(frozen=True)
class Notice:
    """Something push leaves alone and says; `attention` ones make the run exit non-zero."""

    key: CampaignKey | None
    kind: Action  # held, refused, problem, deleted, waiting or kept
    detail: str
    attention: bool


Step = MakeFolder | MakeLogField | WaitingRoom | WriteLog | Create | Schedule | Update | Delete | Notice


class StepState(StrEnum):
    """Where one step of one lead stands, as this decision leaves it."""

    SENT = "sent"  # the campaign of its latest assignment has sent
    PENDING = "pending"  # that campaign is scheduled or sending, or a draft of mailpipe's not scheduled yet
    HELD = "held"  # a person paused, unscheduled or canceled that campaign: nothing more goes to the lead in its time
    VOID = "void"  # that campaign is gone (deleted before sending, never made): the step was not sent
    SKIPPED = "skipped"  # it could no longer go out within max_late_days: never sent late
    ASSIGNED = "assigned"  # given to today's campaign of the step by this decision


@dataclass(frozen=True)
class LeadProgress:
    """Where a lead stands in a drip after this decision: step number -> its state."""

    email: str
    code: str
    steps: dict[int, StepState]


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
    records: dict[tuple[str, str], _Record] = {}
    for drip in drips:
        list_id, tag = audiences[drip.audience]
        if world.untagged.get(drip.code):
            decision.steps.append(_missing_tag(drip, tag, world.untagged[drip.code]))
        _decide_drip(decision, world, drip, list_id, emails, refusals, f"{folder_prefix}: {drip.name}", records)
    for (list_id, _), record in records.items():
        if record.log.render() != record.written:
            decision.steps.append(WriteLog(list_id, record.email, record.log.render()))
    for monthly in monthlies:
        list_id, tag = audiences[monthly.audience]
        _decide_monthly(
            decision, world, monthly, list_id, tag, emails, refusals, content, f"{folder_prefix}: {monthly.name}"
        )
    decision.steps += [Delete(t.key, t.campaign_id, twin_deleted(t), t) for t in world.twins]
    decision.steps += [Notice(None, Action.IGNORED, why, False) for why in world.ignored]
    _prepare(decision, world)
    return decision


def twin_deleted(twin: Twin) -> str:
    return (
        f"made twice (another push, from another checkout or machine, at the same time?): this copy is deleted and "
        f"{twin.kept} stays, so nobody gets it twice; let only one machine push"
    )


def _missing_tag(drip: Drip, tag: str | None, waiting: int) -> Notice:
    """A drip whose tag is gone from Mailchimp while leads are inside it: nobody can be given a step, and nothing else
    would say so (the run would look normal)."""
    return Notice(
        None,
        Action.PROBLEM,
        f"{drip.name}: the tag {tag!r} is not in Mailchimp (renamed or deleted?) and {waiting} lead"
        f"{'s' if waiting != 1 else ''} of this drip wait for their next step; rename the tag back to {tag!r} in "
        "Mailchimp (or tag them again)",
        True,
    )


def _prepare(decision: Decision, world: World) -> None:
    """Folders and the MPLOG field first, then every lead's record, then the campaigns that target them."""
    folders = {s.plan.folder for s in decision.steps if isinstance(s, Create)}
    first: list[Step] = [MakeFolder(name) for name in sorted(folders - set(world.folders))]
    lists = sorted({s.list_id for s in decision.steps if isinstance(s, WriteLog)})
    lists += sorted({room.list_id for room in world.rooms} - set(lists))
    first += [MakeLogField(list_id) for list_id in lists if not world.log_field.get(list_id)]
    first += world.rooms  # after the MPLOG field their conditions name
    decision.steps = first + sorted(decision.steps, key=lambda s: _ORDER[type(s)])


# what a decision holds, in the order it is carried out (after the folders, the MPLOG field and the waiting rooms)
_ORDER: dict[type, int] = {WriteLog: 0, Delete: 1, Schedule: 2, Update: 2, Create: 3, Notice: 4}


def _assignment(key: DripKey, world: World, today: dt.date) -> StepState:
    """sent, pending, held or void: what became of one assignment, from its campaign."""
    found, known = world.found.get(key), world.pushed.get(key)
    if found is None:
        # not in Mailchimp: a crashed run of today makes it now (it may have recorded only that it was about to);
        # one mailpipe made is gone (deleted), as is every one of an earlier day: the step was not sent
        made = known is not None and known.campaign_id
        return StepState.PENDING if key.day == today and not made else StepState.VOID
    if found.status == "sent":
        return StepState.SENT
    if found.status in WAITING:
        return StepState.PENDING
    if found.status == "save" and known is not None and not known.scheduled:
        return StepState.PENDING  # a draft mailpipe made and has not scheduled yet: scheduled below
    return StepState.HELD  # paused, unscheduled, canceled by a person, or a draft mailpipe never made: left alone


@dataclass
class _DripDay:
    """One drip on the day of this run: each lead's steps settled one by one, and what that means for the drip's
    campaigns (who each of today's goes to, the latest each may go out, who waits on a held one)."""

    world: World
    drip: Drip
    refusals: dict[str, str]
    today: dt.date
    send_at: dt.datetime  # when today's campaigns go out
    made_today: set[DripKey]  # today's campaigns already made (a run earlier today, or a stopped one)
    assignees: dict[DripKey, list[str]] = field(default_factory=dict)
    deadlines: dict[DripKey, dt.datetime] = field(default_factory=dict)  # the latest it may go out for all its leads
    holding: dict[DripKey, Waiting] = field(default_factory=dict)  # a held campaign -> the leads waiting on it
    refused_steps: dict[int, Waiting] = field(default_factory=dict)  # a step whose email is refused -> leads due it
    unreached: dict[DripKey, int] = field(default_factory=dict)  # a sent campaign -> leads it was made for, not sent

    @classmethod
    def of(cls, world: World, drip: Drip, refusals: dict[str, str]) -> _DripDay:
        """`today` is the local day this run's campaigns go out: the run's own, or the next for a run so late that
        they would fall in the quiet hours or after midnight (what counts for one email a day is the day it arrives)."""
        today, send_at = delivery(
            local_date(world.now, drip.timezone), drip.send_time, drip.timezone, drip.quiet_hours, world.now
        )
        made_today = {k for k in (*world.found, *world.pushed) if isinstance(k, DripKey) and k.day == today}
        return cls(world, drip, refusals, today, send_at, made_today)

    def lead(self, lead: TaggedLead, log: LeadLog) -> tuple[LeadLog, dict[int, StepState]]:
        """The lead's record after this run (`log`: as the drips before this one left it), and each step's state:
        steps are settled in order, and the first that is neither sent nor skipped is as far as the lead goes today."""
        if self.drip.code not in log.starts:
            log = log.with_start(self.drip.code, local_date(lead.entered or self.world.now, self.drip.timezone))
        states: dict[int, StepState] = {}
        for number in range(1, len(self.drip.steps) + 1):
            log, state = self._step(lead, log, number)
            if state is not None:
                states[number] = state
            if state not in (StepState.SENT, StepState.SKIPPED):
                break
        todays = (k for k in log.assigned if k.code == self.drip.code and k.day == self.today)
        for key in todays:
            if _assignment(key, self.world, self.today) == StepState.PENDING:
                self.assignees.setdefault(key, []).append(lead.email)
        return log, states

    def _step(self, lead: TaggedLead, log: LeadLog, number: int) -> tuple[LeadLog, StepState | None]:
        """One step: its earlier assignments settle it (sent, held, pending); else it is skipped when it can no longer
        go out in time, or assigned to today's campaign when due; None when nothing happens to it today."""
        step, code, start = self.drip.steps[number - 1], self.drip.code, log.starts[self.drip.code]
        due_day = start + dt.timedelta(days=step.delay_days)
        deadline = local_to_utc(due_day, self.drip.send_time, self.drip.timezone) + dt.timedelta(
            days=self.drip.max_late_days
        )
        log, settled = self._settle(lead.email, log, number, deadline)
        if settled is not None:
            return log, settled
        if self.send_at > deadline:
            return log, StepState.SKIPPED  # could not go out within max_late_days: never sent late
        if lead.exited or due_day > self.today or start > self.today:
            return log, None
        key = DripKey(code, number, self.today)
        if any(k.day == self.today for k in log.assigned) or key in self.made_today:
            return log, None  # one drip email a day, of any drip; and today's campaign of this step has its recipients
        if step.content in self.refusals:
            self.refused_steps.setdefault(number, Waiting()).add(deadline)
            return log, None
        return log.with_assigned(key), StepState.ASSIGNED

    def _settle(self, email: str, log: LeadLog, number: int, deadline: dt.datetime) -> tuple[LeadLog, StepState | None]:
        """What the step's assignments add up to: sent if one sent, else held if one is held, else pending if one
        will send; an assignment of a stopped run that is now too late to make is taken back (void)."""
        outcomes = {key: _assignment(key, self.world, self.today) for key in log.steps(self.drip.code, number)}
        for key, outcome in list(outcomes.items()):  # sent, but not to this lead (Mailchimp's report): not had
            reached = self.world.sent_to.get(key)
            if outcome == StepState.SENT and reached is not None and email.lower() not in reached:
                del outcomes[key]  # void: counts for nothing
                self.unreached[key] = self.unreached.get(key, 0) + 1
        for key, outcome in list(outcomes.items()):
            if outcome == StepState.PENDING and key not in self.world.found and self.send_at > deadline:
                del outcomes[key]  # void, and taken back
                log = log.without({key})
            elif outcome == StepState.PENDING:
                self._keep_deadline(key, deadline)
        settled = next((s for s in (StepState.SENT, StepState.HELD, StepState.PENDING) if s in outcomes.values()), None)
        if settled == StepState.HELD:
            for key in (k for k, outcome in outcomes.items() if outcome == StepState.HELD):
                self.holding.setdefault(key, Waiting()).add(deadline)
            if self.send_at > deadline:  # its time is over: the step is missed, and the lead goes on
                return log, StepState.SKIPPED
        return log, settled

    def _keep_deadline(self, key: DripKey, deadline: dt.datetime) -> None:
        self.deadlines[key] = min(deadline, self.deadlines.get(key, deadline))

    def plan(
        self,
        key: DripKey,
        list_id: str,
        folder: str,
        emails: dict[str, RenderedEmail],
        recipients: tuple[str, ...] = (),
    ) -> CampaignPlan:
        email = emails[self.drip.steps[key.step - 1].content]
        drip = self.drip
        wanted = local_to_utc(key.day, drip.send_time, drip.timezone)
        _, send_at = delivery(key.day, drip.send_time, drip.timezone, drip.quiet_hours, self.world.now)
        return CampaignPlan(key, email, list_id, folder, wanted, send_at, recipients, None)

    def latest(self, key: DripKey) -> dt.datetime:
        """The latest the campaign of `key` may go out: on its own day, outside the quiet hours, and within every
        lead's lateness limit."""
        own_day = last_send(key.day, self.drip.quiet_hours, self.drip.timezone)
        return min(own_day, self.deadlines.get(key, own_day))


@dataclass
class _Record:
    """One member's MPLOG through this decision: the drips of an audience share it, each starting where the one
    before left it, and it is written once."""

    email: str
    written: str
    log: LeadLog


def _decide_drip(
    decision: Decision,
    world: World,
    drip: Drip,
    list_id: str,
    emails: dict[str, RenderedEmail],
    refusals: dict[str, str],
    folder: str,
    records: dict[tuple[str, str], _Record],
) -> None:
    day = _DripDay.of(world, drip, refusals)
    for lead in world.leads.get(drip.code, []):
        record = records.setdefault((list_id, lead.email.lower()), _Record(lead.email, lead.written, lead.log))
        record.log, states = day.lead(lead, record.log)
        decision.progress.append(LeadProgress(lead.email, drip.code, states))
    _drip_campaigns(decision, day, list_id, folder, emails)


def _drip_campaigns(
    decision: Decision, day: _DripDay, list_id: str, folder: str, emails: dict[str, RenderedEmail]
) -> None:
    """Today's campaigns made for the leads assigned, a step refused said once, a deletion said while it is news, and
    every campaign of the drip in Mailchimp finished, updated or left alone."""
    world, code = day.world, day.drip.code
    for number, waiting in sorted(day.refused_steps.items()):
        content_id = day.drip.steps[number - 1].content
        detail = day.refusals[content_id] + waiting.by(
            world.now,
            day.drip.timezone,
            "act",
            f"the first of {waiting.people} lead(s) due step {number} misses it",
            f"the first of {waiting.people} lead(s) due step {number} missed it",
        )
        notice = Notice(DripKey(code, number, day.today), Action.REFUSED, detail, True)
        decision.steps.append(notice)
    for key, assigned in sorted(day.assignees.items()):
        if key not in world.found:
            decision.steps.append(Create(day.plan(key, list_id, folder, emails, tuple(sorted(assigned)))))
    for key in sorted(k for k in world.pushed if isinstance(k, DripKey) and k.code == code and k not in world.found):
        if key.day >= day.today - dt.timedelta(days=1):  # say so while it is news
            decision.steps.append(Notice(key, Action.DELETED, DELETED_DRIP, False))
    for key, count in sorted(day.unreached.items()):
        if key.day >= day.today - dt.timedelta(days=1):
            detail = (
                f"went out, but not to {count} lead(s) it was made for (Mailchimp's report; dropped from its segment "
                "before the send?): they get this step on a later day, if still within max_late_days"
            )
            decision.steps.append(Notice(key, Action.UNREACHED, detail, False))
    for key, found in sorted((k, f) for k, f in world.found.items() if isinstance(k, DripKey) and k.code == code):
        plan = day.plan(key, list_id, folder, emails)
        held = day.holding.get(key)
        _existing(decision, world, key, found, plan, day.latest(key), held, day.refusals, day.drip.timezone)


UNKNOWN_DRAFT = (
    "a draft with mailpipe's recipients that the local record has no sign of making (the state file was lost, or a "
    "person made or unscheduled it): mailpipe leaves it alone; schedule or delete it in Mailchimp"
)
DELETED_DRIP = (
    "deleted in Mailchimp before it was sent; its leads get this step on a later day (if still within max_late_days)"
)


def _existing(
    decision: Decision,
    world: World,
    key: CampaignKey,
    found: Found,
    plan: CampaignPlan,
    deadline: dt.datetime | None,
    waiting: Waiting | None,
    refusals: dict[str, str],
    timezone: str,
) -> None:
    """A campaign already in Mailchimp: finish a draft of ours, update a changed one, leave a person's choice alone.
    `deadline`: the latest it may go out (a drip step's lateness limit for its most overdue lead); `waiting`: who
    waits on it while a person holds it (a drip step's leads; a monthly email's patients), and until when."""
    known = world.pushed.get(key)
    too_late = deadline is not None and plan.send_at > deadline
    if found.status == "save" and not (known and known.scheduled):
        decision.steps.append(_draft(key, found, known, plan, too_late, refusals, waiting, world.now, timezone))
        return
    if found.status == "schedule":
        current = known.content_hash if known and known.content_hash else found.content_hash
        if current != plan.email.content_hash:
            if plan.email.id in refusals:
                sends = Waiting(window=plan.wanted)
                detail = f"changed, but {refusals[plan.email.id]}; the scheduled version stays" + sends.by(
                    world.now, timezone, "act", "the scheduled version goes out", "the scheduled version went out"
                )
                decision.steps.append(Notice(key, Action.REFUSED, detail, True))
            elif too_late:
                decision.steps.append(
                    Notice(
                        key,
                        Action.KEPT,
                        "changed, but scheduling it again now would send it too late; the scheduled version stays",
                        False,
                    )
                )
            else:
                decision.steps.append(Update(plan, found.campaign_id))
        return
    if found.status in ("sent", "sending"):
        return
    if waiting is not None:
        decision.steps.append(_held(key, found.status, waiting, world.now, timezone))


def _held(key: CampaignKey, status: str, waiting: Waiting, now: dt.datetime, timezone: str) -> Notice:
    """A campaign a person paused, unscheduled or canceled: left alone and said every run, loud the day before the
    first person waiting on it would miss it; after that the step is missed and a drip's leads go on."""
    action = "resumed" if status == "paused" else "scheduled again"
    if isinstance(key, DripKey):
        who = (
            f"{waiting.people} lead(s) get no further step until it is {action} or deleted in Mailchimp, or its "
            "time ends"
        )
        miss = f"the first of them misses step {key.step}"
        missed = (
            f"its leads missed step {key.step} and go on with the next ones (resuming it now would send it late: "
            "delete it)"
        )
    else:
        who = f"it is not sent until it is {action} or deleted in Mailchimp"
        miss, missed = f"its {waiting.people} member(s) miss {key.month}", f"{key.month} was missed"
    detail = f"{status} in Mailchimp by a person: mailpipe leaves it alone; {who}"
    detail += waiting.by(now, timezone, action.split()[0], miss, missed)
    return Notice(key, Action.HELD, detail, waiting.urgent(now))


def _draft(
    key: CampaignKey,
    found: Found,
    known: Pushed | None,
    plan: CampaignPlan,
    too_late: bool,
    refusals: dict[str, str],
    waiting: Waiting | None,
    now: dt.datetime,
    timezone: str,
) -> Step:
    """A draft mailpipe has not scheduled: one it recorded making (a stopped run's) is finished, or deleted when it
    is too late; one it has no record of making is never adopted."""
    if known is None:
        waiting = waiting or Waiting()
        detail = UNKNOWN_DRAFT + waiting.by(now, timezone, "act", "it is missed", "it was missed")
        return Notice(key, Action.HELD, detail, waiting.urgent(now))
    if too_late:
        return Delete(key, found.campaign_id, "a draft left by a stopped run, now too late to send")
    if plan.email.id in refusals:
        return Notice(key, Action.REFUSED, refusals[plan.email.id], True)
    return Schedule(plan, found.campaign_id)


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
        members = world.tag_sizes.get((list_id, tag), 0)  # 0 for the whole audience: its size is not read
        waiting = Waiting(members, _monthly_window(monthly, month, content))
        if found is not None and email is not None:
            plan = CampaignPlan(key, email, list_id, folder, send, _monthly_at(monthly, send, now), (), tag)
            if (
                found.status == "save"
                and world.pushed.get(key) is not None
                and not world.pushed[key].scheduled
                and _expired(content, month, today)
            ):
                decision.steps.append(
                    Delete(key, found.campaign_id, f"a draft left by a stopped run; the {month} offers have ended")
                )
            else:
                _existing(decision, world, key, found, plan, send + MONTHLY_LATE, waiting, refusals, monthly.timezone)
            continue
        if found is not None or send - now > MONTHLY_LEAD or now - send > MONTHLY_LATE:
            continue
        decision.steps += _new_month(
            key, monthly, send, email, list_id, tag, folder, emails, refusals, content, world, waiting
        )


def _new_month(
    key: MonthlyKey,
    monthly: Monthly,
    send: dt.datetime,
    email: RenderedEmail | None,
    list_id: str,
    tag: str | None,
    folder: str,
    emails: dict[str, RenderedEmail],
    refusals: dict[str, str],
    content: ContentSet,
    world: World,
    waiting: Waiting,
) -> list[Step]:
    """A month within its time with no campaign in Mailchimp: the campaign to make, or the one reason it is not made."""
    now, month = world.now, key.month
    miss, missed = f"its {waiting.people} member(s) miss it", "it was missed"
    problems = monthly_problems(monthly, month, content, set(emails))
    if problems:
        detail = "; ".join(p.message for p in problems) + waiting.by(now, monthly.timezone, "fix it", miss, missed)
        return [Notice(key, Action.PROBLEM, detail, True)]
    assert email is not None
    if _expired(content, month, local_date(now, monthly.timezone)):  # nobody can do anything about it now: not loud
        return [Notice(key, Action.REFUSED, f"the {month} offers have ended; not sent late", False)]
    if email.id in refusals:
        detail = refusals[email.id] + waiting.by(now, monthly.timezone, "act", miss, missed)
        return [Notice(key, Action.REFUSED, detail, True)]
    if tag and tag not in world.tag_ids.get(list_id, {}):
        return [Notice(key, Action.WAITING, f"nobody in the audience has the tag {tag!r} yet", False)]
    create = Create(CampaignPlan(key, email, list_id, folder, send, _monthly_at(monthly, send, now), (), tag))
    if key in world.pushed:
        return [Notice(key, Action.DELETED, "deleted in Mailchimp before it was sent; made again", False), create]
    return [create]


def _monthly_window(monthly: Monthly, month: str, content: ContentSet) -> dt.datetime:
    """The latest a monthly email may go out: a week after its time, and never after its offers end."""
    window = monthly_send(monthly, month) + MONTHLY_LATE
    special = next((s for s in content.specials if s.front.month == month), None)
    if special is not None:
        window = min(window, last_send(special.front.valid_until, monthly.quiet_hours, monthly.timezone))
    return window


def _monthly_at(monthly: Monthly, send: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When a monthly email goes out: at its time, or as soon as Mailchimp accepts, outside the quiet hours."""
    day = local_date(send, monthly.timezone)
    return delivery(day, monthly.rule.time, monthly.timezone, monthly.quiet_hours, now)[1]


def _expired(content: ContentSet, month: str, today: dt.date) -> bool:
    special = next((s for s in content.specials if s.front.month == month), None)
    return special is not None and special.front.valid_until < today
