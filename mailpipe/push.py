"""Converge Mailchimp (or the sandbox) to the campaigns for now: create, fill, check and schedule.

The drip is built from regular campaigns, one per (step, send day), each sent to a static segment
named by the campaign's stable key. A static segment is a tag in Mailchimp, so every lead's
progress is written on the lead: the tags `drip/<drip>/<article>/<day>` say which steps they were
given and on which day. Each run reads the audience once, and gives each lead the next step that
is due and not on them yet. That makes every step go out exactly once and in order, late (on the
next run) when runs were skipped, and makes a crashed run converge: a tag without its campaign is
finished by the next run, and a campaign is found by its title before it is created.
Why this design and what it costs is written down in the README.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Callable

from mailpipe.campaigns import Campaign, Drip, Monthly
from mailpipe.config import SiteConfig
from mailpipe.content import ContentSet
from mailpipe.errors import InputError
from mailpipe.mailchimp import Mailchimp
from mailpipe.render import RenderedEmail
from mailpipe.schedule import (UTC, drip_key, drip_step_of, local_date, local_to_utc, monthly_key, monthly_problems, monthly_send,
                               months_between, next_quarter_hour, schedule_time)
from mailpipe.state import PushedCampaign, State

MONTHLY_LEAD = dt.timedelta(hours=36)  # a monthly campaign is created by the daily run before it goes out
MONTHLY_LATE = dt.timedelta(days=7)  # a month missed by more than this is not sent late


@dataclass(frozen=True)
class Action:
    key: str
    action: str  # created, scheduled, updated, refused, blocked, would create, ...
    detail: str


@dataclass
class PushResult:
    actions: list[Action] = field(default_factory=list)
    api_calls: int = 0


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class Pusher:
    def __init__(self, mailchimp: Mailchimp, state: State, site: SiteConfig, campaigns: list[Campaign],
                 emails: list[RenderedEmail], content: ContentSet, *, allow_examples: bool, dry_run: bool = False,
                 refused: dict[str, str] | None = None):
        self.mc, self.state, self.site, self.campaigns, self.content = mailchimp, state, site, campaigns, content
        self.emails = {e.id: e for e in emails}
        self.allow_examples, self.dry_run = allow_examples, dry_run
        self.refused = dict(refused or {})  # email id -> why it may not be pushed (check errors)
        self._members: dict[str, list[dict]] = {}
        self._result = PushResult()

    # -- the run -------------------------------------------------------------------------------
    def run(self, now: dt.datetime, on_action: Callable[[Action], None] | None = None) -> PushResult:
        self._result, self._on_action, self._members = PushResult(), on_action, {}
        calls_before = self.mc.calls
        self.folder_id = self._folder()
        known = self._known()
        self._finish_pending(known, now)
        self._update_changed(known, now)
        for campaign in self.campaigns:
            if isinstance(campaign, Drip):
                self._push_drip(campaign, now, known)
            else:
                self._push_monthly(campaign, now, known)
        self._result.api_calls = self.mc.calls - calls_before
        return self._result

    def _act(self, key: str, action: str, detail: str) -> None:
        done = Action(key, action, detail)
        self._result.actions.append(done)
        if self._on_action:
            self._on_action(done)

    def _folder(self) -> str:
        folder_id = self.state.get_meta("folder_id")
        if folder_id is None and not self.dry_run:
            folder_id = self.mc.ensure_folder(self.site.mailchimp.folder)
            self.state.set_meta("folder_id", folder_id)
        return folder_id or ""

    # -- what Mailchimp already has ---------------------------------------------------------------
    def _known(self) -> dict[str, PushedCampaign]:
        """The state, rebuilt from the campaign titles when lost, with statuses refreshed from Mailchimp."""
        known = self.state.all()
        fields = ["campaigns.id", "campaigns.status", "campaigns.send_time", "campaigns.settings.title", "total_items"]
        if not known and self.folder_id:
            for campaign in self.mc.campaigns(folder_id=self.folder_id, fields=fields):
                rebuilt = self._rebuilt(campaign)
                if rebuilt:
                    self.state.record(rebuilt)
                    known[rebuilt.key] = rebuilt
            if known:
                self._act("(state)", "rebuilt", f"{len(known)} campaigns found in Mailchimp by their titles")
        active = {}
        if self.folder_id:
            for status in ("save", "schedule"):
                for campaign in self.mc.campaigns(folder_id=self.folder_id, status=status, fields=fields):
                    active[campaign["settings"]["title"]] = campaign
        for key, pushed in list(known.items()):
            live = active.get(key)
            status = live["status"] if live else "sent"  # gone from the active ones: sent (or removed by hand): never again
            if status != pushed.status:
                known[key] = replace(pushed, status=status, scheduled_utc=live.get("send_time") if live else pushed.scheduled_utc)
                self.state.record(known[key])
        return known

    def _rebuilt(self, campaign: dict) -> PushedCampaign | None:
        key = campaign["settings"].get("title", "")
        email_id, wanted = self._email_and_time(key)
        if email_id is None:
            return None
        return PushedCampaign(key, campaign["id"], email_id, None, campaign["status"], _iso(wanted), campaign.get("send_time"))

    def _email_and_time(self, key: str) -> tuple[str | None, dt.datetime | None]:
        """Which email and wanted send time a stable key stands for."""
        parts = key.split("/")
        for campaign in self.campaigns:
            step = drip_step_of(key, campaign) if isinstance(campaign, Drip) else None
            if step:
                return step[0], local_to_utc(step[1], campaign.send_time, campaign.timezone)
            if isinstance(campaign, Monthly) and len(parts) == 3 and parts[:2] == ["monthly", campaign.slug]:
                return campaign.content_id(parts[2]), monthly_send(campaign, parts[2])
        return None, None

    # -- campaigns already created -----------------------------------------------------------------
    def _finish_pending(self, known: dict[str, PushedCampaign], now: dt.datetime) -> None:
        """Campaigns a crashed or refused run left unscheduled are filled and scheduled now."""
        for key, pushed in sorted(known.items()):
            if pushed.status == "save":
                email = self.emails.get(pushed.email_id)
                if email is None or self._refusal(email):
                    self._act(key, "refused", self._refusal(email) if email else f"email {pushed.email_id} no longer exists")
                    continue
                if pushed.content_hash != email.content_hash:
                    known[key] = pushed = self._set_content(pushed, email)
                known[key] = self._schedule(pushed, now)

    def _update_changed(self, known: dict[str, PushedCampaign], now: dt.datetime) -> None:
        """A scheduled campaign whose email changed is unscheduled, updated and rescheduled; sent ones are never touched."""
        for key, pushed in sorted(known.items()):
            email = self.emails.get(pushed.email_id)
            if pushed.status != "schedule" or email is None or pushed.content_hash == email.content_hash:
                continue
            if pushed.content_hash is None and self._same_as_mailchimp(pushed, email):
                known[key] = replace(pushed, content_hash=email.content_hash)
                self.state.record(known[key])
                continue
            if self._refusal(email):
                self._act(key, "refused", f"changed, but {self._refusal(email)}; the scheduled version stays")
                continue
            if self.dry_run:
                self._act(key, "would update", "content changed: unschedule, update, reschedule")
                continue
            self.mc.unschedule(pushed.campaign_id)
            pushed = replace(pushed, status="save", scheduled_utc=None)
            self.state.record(pushed)
            self.mc.update_campaign(pushed.campaign_id, {"settings": self._settings(key, email)})
            known[key] = self._schedule(self._set_content(pushed, email), now, "rescheduled")

    def _same_as_mailchimp(self, pushed: PushedCampaign, email: RenderedEmail) -> bool:
        current = self.mc.get_content(pushed.campaign_id)
        return current.get("html") == email.html and current.get("plain_text") == email.text

    # -- the drip ------------------------------------------------------------------------------------
    def _push_drip(self, drip: Drip, now: dt.datetime, known: dict[str, PushedCampaign]) -> None:
        audience = self.site.audiences[drip.audience]
        leads = [m for m in self._audience(audience.list_id) if audience.tag is None or audience.tag in _tags(m)]
        prefix = f"drip/{drip.slug}/"
        for key in sorted({t for m in leads for t in _tags(m) if t.startswith(prefix)} - known.keys()):
            email_id, wanted = self._email_and_time(key)  # a segment whose run crashed before its campaign
            if email_id:
                segment = next((s for s in self.mc.segments(audience.list_id, "static") if s["name"] == key), None)
                if segment:
                    self._create(key, email_id, audience.list_id, {"saved_segment_id": segment["id"]}, wanted, now, known)
        today = local_date(now, drip.timezone)
        wanted = local_to_utc(today, drip.send_time, drip.timezone)
        sends_at = schedule_time(wanted, now)
        for index, step in enumerate(drip.steps):
            key = drip_key(drip, step.content, today)
            if key in known:
                continue
            previous = drip.steps[index - 1].content if index else None
            due = [m["email_address"] for m in leads if self._due(m, drip, step, previous, today, now, sends_at, known)]
            if not due:
                continue
            email = self.emails[step.content]
            if self._refusal(email):
                self._act(key, "refused", self._refusal(email))
                continue
            if self.dry_run:
                self._act(key, "would create", f"{len(due)} leads, {sends_at:%Y-%m-%d %H:%M} UTC")
                continue
            segment = self.mc.create_static_segment(audience.list_id, key, due)
            self._create(key, step.content, audience.list_id, {"saved_segment_id": segment["id"]}, wanted, now, known)

    def _due(self, member: dict, drip: Drip, step, previous: str | None, today: dt.date, now: dt.datetime,
             sends_at: dt.datetime, known: dict[str, PushedCampaign]) -> bool:
        """Joined before now, `delay_days` have passed, not given this step, and given the step before on an
        earlier day, in a campaign that goes out before this one would."""
        joined = _time(member["timestamp_opt"])
        if joined > now or local_date(joined, drip.timezone) + dt.timedelta(days=step.delay_days) > today:
            return False
        given = {step_of[0]: tag for tag in _tags(member) if (step_of := drip_step_of(tag, drip))}
        if step.content in given:
            return False
        if previous is None:
            return True
        earlier = known.get(given.get(previous, ""))
        if earlier is None:
            return False
        if earlier.status == "sent":  # went out before now, so before anything scheduled now
            return True
        return earlier.status == "schedule" and bool(earlier.scheduled_utc) and _time(earlier.scheduled_utc) < sends_at

    # -- the monthly email ------------------------------------------------------------------------
    def _push_monthly(self, monthly: Monthly, now: dt.datetime, known: dict[str, PushedCampaign]) -> None:
        audience = self.site.audiences[monthly.audience]
        today = local_date(now, monthly.timezone)
        for month in months_between(today - dt.timedelta(days=31), today + dt.timedelta(days=2)):
            key = monthly_key(monthly, month)
            send = monthly_send(monthly, month)
            if key in known or send - now > MONTHLY_LEAD or now - send > MONTHLY_LATE:
                continue
            problems = monthly_problems(monthly, month, self.content, set(self.emails))
            if problems:
                raise InputError(problems)
            special = next(s for s in self.content.specials if s.front.month == month)
            if special.front.valid_until < today:
                self._act(key, "refused", f"the {month} offers ended {special.front.valid_until}; not sent late")
                continue
            email = self.emails[monthly.content_id(month)]
            if self._refusal(email):
                self._act(key, "refused", self._refusal(email))
                continue
            segment_opts = {}
            if audience.tag:
                tag = next((s for s in self.mc.segments(audience.list_id, "static") if s["name"] == audience.tag), None)
                if tag is None:
                    self._act(key, "skipped", f"nobody in the audience has the tag {audience.tag!r} yet")
                    continue
                segment_opts = {"match": "all", "conditions": [
                    {"condition_type": "StaticSegment", "field": "static_segment", "op": "static_is", "value": tag["id"]}]}
            if self.dry_run:
                self._act(key, "would create", f"{email.id}, {schedule_time(send, now):%Y-%m-%d %H:%M} UTC")
                continue
            self._create(key, email.id, audience.list_id, segment_opts, send, now, known)

    # -- creating, filling and scheduling ---------------------------------------------------------
    def _refusal(self, email: RenderedEmail) -> str:
        if email.example and not self.allow_examples:
            return f"{email.id} is example content (example: true) and this is a real Mailchimp account"
        return self.refused.get(email.id, "")

    def _settings(self, key: str, email: RenderedEmail) -> dict:
        return {"subject_line": email.subject, "preview_text": email.preheader, "title": key, "from_name": email.from_name,
                "reply_to": email.reply_to, "folder_id": self.folder_id, "to_name": "*|FNAME|*", "auto_footer": False,
                "inline_css": False}

    def _create(self, key: str, email_id: str, list_id: str, segment_opts: dict, wanted: dt.datetime, now: dt.datetime,
                known: dict[str, PushedCampaign]) -> None:
        email = self.emails[email_id]
        recipients = {"list_id": list_id, **({"segment_opts": segment_opts} if segment_opts else {})}
        campaign = self.mc.create_campaign({"type": "regular", "recipients": recipients, "settings": self._settings(key, email),
                                            "tracking": {"opens": True, "html_clicks": True, "text_clicks": True}})
        pushed = PushedCampaign(key, campaign["id"], email_id, None, "save", _iso(wanted), None)
        self.state.record(pushed)
        self._act(key, "created", f"{email_id} to {campaign['recipients']['recipient_count']} members")
        known[key] = self._schedule(self._set_content(pushed, email), now)

    def _set_content(self, pushed: PushedCampaign, email: RenderedEmail) -> PushedCampaign:
        self.mc.set_content(pushed.campaign_id, email.html, email.text)
        pushed = replace(pushed, content_hash=email.content_hash)
        self.state.record(pushed)
        return pushed

    def _schedule(self, pushed: PushedCampaign, now: dt.datetime, verb: str = "scheduled") -> PushedCampaign:
        checklist = self.mc.checklist(pushed.campaign_id)
        if not checklist.get("is_ready"):
            problems = "; ".join(f"{i['heading']}: {i['details']}" for i in checklist.get("items", []) if i.get("type") == "error")
            self._act(pushed.key, "blocked", f"Mailchimp's send checklist: {problems}")
            return pushed
        when = schedule_time(_time(pushed.wanted_utc), now)
        self.mc.schedule(pushed.campaign_id, _iso(when))
        pushed = replace(pushed, status="schedule", scheduled_utc=_iso(when))
        self.state.record(pushed)
        late = "" if when <= next_quarter_hour(_time(pushed.wanted_utc)) else f" (late: wanted {_time(pushed.wanted_utc):%Y-%m-%d %H:%M} UTC)"
        self._act(pushed.key, verb, f"{when:%Y-%m-%d %H:%M} UTC{late}")
        return pushed

    def _audience(self, list_id: str) -> list[dict]:
        if list_id not in self._members:
            self._members[list_id] = list(self.mc.members(list_id, status="subscribed"))
        return self._members[list_id]


def _tags(member: dict) -> set[str]:
    return {t["name"] for t in member.get("tags", [])}
