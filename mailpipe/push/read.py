"""Read what push decides from: Mailchimp (only GETs) and the local record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from mailpipe.load.campaigns import Campaign, Drip
from mailpipe.plan.keys import CampaignKey, DripKey, key_of_title
from mailpipe.push.decide import Found, TaggedLead, Twin, WaitingRoom, World
from mailpipe.push.mailchimp import Mailchimp, RemoteCampaign, RemoteMember
from mailpipe.push.record import FIRST_DAY, LAST_DAY, LOG_FIELD, LeadLog, key_of
from mailpipe.push.state import Pushed, State
from mailpipe.render import content_digest
from mailpipe.util.clock import local_date
from mailpipe.util.vocabulary import parse_time

LOOK_BACK_MARGIN = dt.timedelta(days=45)  # campaigns are looked for this far beyond the longest drip


def look_back(campaigns: list[Campaign]) -> dt.timedelta:
    """How far back a campaign can matter: a drip's last step plus its lateness, or a month and a week."""
    spans = [dt.timedelta(days=c.steps[-1].delay_days + c.max_late_days) for c in campaigns if isinstance(c, Drip)]
    return max(spans, default=dt.timedelta(0)) + LOOK_BACK_MARGIN


def read_world(
    mc: Mailchimp,
    state: State,
    campaigns: list[Campaign],
    audiences: dict[str, tuple[str, str | None]],
    now: dt.datetime,
) -> World:
    """Reads that do not grow with history or with the audience: the tags push uses, by name; the campaigns made
    within the look-back; and only the members whose record changed within it. A lead who can still be due always is
    one: they joined or were imported then, and every start and step push gives them is a write of their MPLOG; a
    contact tagged by hand without any other change is found in the drip's waiting room (`_tagged_by_hand`)."""
    pushed = state.pushed()
    list_ids = sorted({audiences[c.audience][0] for c in campaigns})
    folders = mc.folders()
    tag_ids = {list_id: mc.tag_ids(list_id, _tags_used(campaigns, audiences, list_id)) for list_id in list_ids}
    log_field = {list_id: LOG_FIELD in mc.merge_field_tags(list_id) for list_id in list_ids}
    since = now - look_back(campaigns)
    found, twins = _found(mc, pushed, list_ids, {c.code for c in campaigns}, since)
    sent_to = _sent_to(mc, state, found)
    drips = [c for c in campaigns if isinstance(c, Drip)]
    changed = {
        list_id: list(mc.changed_members(list_id, since))
        for list_id in sorted({audiences[d.audience][0] for d in drips})
    }
    leads = {}
    untagged = {}
    ignored: list[str] = []
    rooms: list[WaitingRoom] = []
    for drip in drips:
        list_id, tag = audiences[drip.audience]
        leads[drip.code] = _drip_leads(
            mc, state, drip, list_id, tag, tag_ids[list_id], changed[list_id], now, ignored, rooms
        )
        if tag is not None and tag not in tag_ids[list_id]:
            untagged[drip.code] = leads_inside(drip, state.lead_logs(list_id).values())
    sizes: dict[tuple[str, str | None], int] = {}
    for monthly in (c for c in campaigns if not isinstance(c, Drip)):
        list_id, tag = audiences[monthly.audience]
        if tag is not None and tag in tag_ids[list_id]:  # who a held or refused monthly email would miss
            sizes[(list_id, tag)] = mc.tag_size(list_id, tag_ids[list_id][tag])
    return World(
        now, found, pushed, leads, tag_ids, log_field, folders, untagged, sizes, twins, ignored, rooms, sent_to
    )


def _sent_to(mc: Mailchimp, state: State, found: dict[CampaignKey, Found]) -> dict[DripKey, set[str]]:
    """Who each sent drip campaign went to (Mailchimp's report, read once and kept in the state; a dry run reads it
    and keeps nothing): a lead it was made for but that it did not reach (dropped from its segment before the send, on
    plans that resolve segments then) has not had the step."""
    sent = {}
    for key, entry in found.items():
        if isinstance(key, DripKey) and entry.status == "sent":
            known = state.sent_to(key)
            if known is None:
                known = mc.sent_to(entry.campaign_id)
                state.record_sent_to(key, known)  # a dry run's state is a copy in memory: kept for this run only
            sent[key] = known
    return sent


def leads_inside(drip: Drip, logs: Iterable[str]) -> int:
    """How many of these records have entered the drip and not yet been given its last step."""
    last = len(drip.steps)
    inside = 0
    for value in logs:
        log = LeadLog.parse(value)
        inside += drip.code in log.starts and not log.steps(drip.code, last)
    return inside


def _tags_used(campaigns: list[Campaign], audiences: dict[str, tuple[str, str | None]], list_id: str) -> set[str]:
    """The tags of an audience that push reads: the audiences' own, and the drips' exit tags."""
    wanted: set[str] = set()
    for campaign in campaigns:
        campaign_list, tag = audiences[campaign.audience]
        if campaign_list == list_id:
            wanted |= ({tag} if tag else set()) | set(campaign.exit_tags if isinstance(campaign, Drip) else ())
    return wanted


def _found(
    mc: Mailchimp, pushed: dict[CampaignKey, Pushed], list_ids: list[str], codes: set[str], since: dt.datetime
) -> tuple[dict[CampaignKey, Found], list[Twin]]:
    """mailpipe's campaigns among those made since `since` (`recognise`), and the twins among them; the content of a
    draft or a scheduled one is read only when the local record does not know it."""
    ours = campaign_ids(pushed)
    remotes = [remote for list_id in list_ids for remote in mc.recent_campaigns(list_id, since)]
    chosen: dict[CampaignKey, RemoteCampaign] = {}
    for remote in remotes:
        key = recognise(remote, ours)
        if key is not None and key.code in codes and (key not in chosen or _first(remote) < _first(chosen[key])):
            chosen[key] = remote
    found = {}
    for key, remote in chosen.items():
        known = pushed.get(key)
        unknown_copy = remote.status in ("schedule", "save") and not (known and known.content_hash)
        found[key] = Found(remote.id, remote.status, _remote_digest(mc, remote.id) if unknown_copy else None)
    return found, twins(remotes, ours, codes)


def campaign_ids(pushed: dict[CampaignKey, Pushed]) -> dict[str, CampaignKey]:
    """Campaign id -> key, of the campaigns the local record says push made."""
    return {entry.campaign_id: key for key, entry in pushed.items() if entry.campaign_id}


def twins(remotes: Iterable[RemoteCampaign], ours: dict[str, CampaignKey], codes: set[str]) -> list[Twin]:
    """Unsent campaigns push made a second time for one key, to delete: those it knows by the title it gave or the id
    in its record (never one known only by its recipients, which may be a person's replica). The one that stays is
    the one that sent or is sending, else the first made that will send; every pusher picks the same one."""
    made: dict[CampaignKey, list[RemoteCampaign]] = {}
    for remote in remotes:
        key = ours.get(remote.id) or key_of_title(remote.title)
        if key is not None and key.code in codes:
            made.setdefault(key, []).append(remote)
    found = []
    for key, group in sorted(made.items(), key=lambda item: item[0].title):
        kept, *others = sorted(group, key=_first)
        found += [Twin(key, r.id, r.status == "schedule", kept.id) for r in others if r.status in ("save", "schedule")]
    return found


_STAYS = {"sent": 0, "sending": 1, "schedule": 2, "save": 2}  # then paused, canceled: a person's


def _first(remote: RemoteCampaign) -> tuple[int, str, str]:
    """Which of two campaigns with one key counts (and stays): one that sent, is sending, else one that will send or
    is being made, the first made first."""
    return (_STAYS.get(remote.status, 3), remote.create_time, remote.id)


def recognise(remote: RemoteCampaign, ours: dict[str, CampaignKey]) -> CampaignKey | None:
    """The mailpipe campaign this is: by its id in the local record (whatever a person renamed or moved); else by the
    title push gave it, which Mailchimp keeps as written (a lost state file); else, renamed and not in the record, by
    its recipients, in whichever form Mailchimp answers them (the adapter names the fields)."""
    return ours.get(remote.id) or key_of_title(remote.title) or key_of(remote.conditions)


def _drip_leads(
    mc: Mailchimp,
    state: State,
    drip: Drip,
    list_id: str,
    tag: str | None,
    tag_ids: dict[str, int],
    changed: list[RemoteMember],
    now: dt.datetime,
    ignored: list[str],
    rooms: list[WaitingRoom],
) -> list[TaggedLead]:
    """The drip's leads that can be due: changed members with its tag, and those tagged by hand; none while nobody
    has the tag. A start in Mailchimp after tomorrow (a hand edit: no lead can have entered yet) is ignored and said
    in `ignored`; the lead's start is then taken from the tag, like a new lead's, and written back."""
    if tag is not None and tag not in tag_ids:
        return []
    mirror = state.lead_logs(list_id)
    members = [m for m in changed if m.status == "subscribed" and (tag is None or tag in m.tags)]
    if tag is not None:
        members += _tagged_by_hand(mc, state, list_id, tag_ids[tag], changed, drip.code, mirror, rooms)
    exits = set(drip.exit_tags)
    leads = []
    latest = local_date(now, drip.timezone) + dt.timedelta(days=1)
    for member in members:
        written, log = _lead_log(member, mirror)
        start = log.starts.get(drip.code)
        if f"|{drip.code}@" in written and drip.code not in LeadLog.parse(written).starts:
            ignored.append(
                f"{member.email}: its MPLOG start in {drip.name} is not a day between {FIRST_DAY} and {LAST_DAY} "
                "(edited by hand?): ignored, and written back"
            )
        signed_up = _local_day(member.signed_up, drip.timezone)
        local = LeadLog.parse(mirror.get(member.email.lower(), "")).starts.get(drip.code)
        if start is not None and local is None and signed_up is not None and start < signed_up:
            log = log.without_start(drip.code)
            ignored.append(
                f"{member.email}: its MPLOG says it entered {drip.name} on {start}, before it signed up ({signed_up}; "
                "edited by hand?): ignored; its start is taken from when it got the tag, and written back"
            )
        elif start is not None and start > latest:
            log = log.without_start(drip.code)
            ignored.append(
                f"{member.email}: its MPLOG says it entered {drip.name} on {start}, after tomorrow (edited by hand?): "
                "ignored; its start is taken from when it got the tag, and written back"
            )
        entered = mc.tag_added(list_id, member.email, tag) if tag and drip.code not in log.starts else None
        leads.append(TaggedLead(member.email, log, written, entered, not exits.isdisjoint(member.tags)))
    return leads


def _tagged_by_hand(
    mc: Mailchimp,
    state: State,
    list_id: str,
    tag_id: int,
    changed: list[RemoteMember],
    code: str,
    mirror: dict[str, str],
    rooms: list[WaitingRoom],
) -> list[RemoteMember]:
    """Members who got the drip's tag without their record changing (tagged by hand in Mailchimp's UI) and have not
    entered the drip: the drip's waiting room, a saved segment of tagged members with no start in their MPLOG (one
    call while it holds under 1,000, whatever else changed that day). Without a room made for this tag (the first
    run, a lost state file, the tag made anew, the room deleted by a person), the whole tag is read once and the
    room is to be made (`rooms`)."""
    room = state.waiting_room(list_id, code)
    waiting = mc.saved_segment_members(list_id, room[0]) if room and room[1] == tag_id else None
    if waiting is None:
        waiting = list(mc.tagged_members(list_id, tag_id))
        rooms.append(WaitingRoom(list_id, code, tag_id))
    seen = {m.email.lower() for m in changed}
    return [
        m
        for m in waiting
        if m.status == "subscribed" and m.email.lower() not in seen and code not in _lead_log(m, mirror)[1].starts
    ]


def _local_day(timestamp: str, timezone: str) -> dt.date | None:
    """The local day of a time Mailchimp gave (None when it gave none, or not one that reads)."""
    try:
        return local_date(parse_time(timestamp), timezone) if timestamp else None
    except ValueError:
        return None


def _lead_log(member: RemoteMember, mirror: dict[str, str]) -> tuple[str, LeadLog]:
    """What the member's MPLOG holds now, and their record: that with the local copy, whose starts win."""
    written = str(member.merge_fields.get(LOG_FIELD) or "")
    return written, LeadLog.parse(written).with_local(LeadLog.parse(mirror.get(member.email.lower(), "")))


def _remote_digest(mc: Mailchimp, campaign_id: str) -> str:
    copy = mc.campaign_copy(campaign_id)
    return content_digest(copy.subject, copy.preheader, copy.html, copy.text)
