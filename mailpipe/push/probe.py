"""`mailpipe doctor --probe`: what the sandbox can only assume about a real account, tried on it once.

Push relies on things Mailchimp's documents do not settle: that a campaign keeps the title push gives it and its
segment on `MPLOG` selects exactly the members whose record holds the entry; that the batch-subscribe body `leads
import` sends makes a new member subscribed (not pending: that would email every imported lead an opt-in), with the
merge fields and the tag as written; and that a drip's waiting room (tagged, and `MPLOG` does not contain its start)
holds a contact tagged by hand with an empty `MPLOG` and not a lead with a start. The probe does each of these with
two reserved addresses and a reserved drip code on each audience push uses, reads them back, compares (`judge`,
pure), and deletes what it made. A real account is pushed to only once its probe passed (recorded in the local state
against the account id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mailpipe.load.campaigns import PROBE_CODE
from mailpipe.load.config import SiteConfig
from mailpipe.plan.keys import DripKey, key_of_title
from mailpipe.push.mailchimp import CampaignSettings, Mailchimp, MailchimpError, RemoteCampaign, RemoteMember
from mailpipe.push.record import LOG_FIELD, LOG_FIELD_NAME, LeadLog, conditions_for, key_of, waiting_room
from mailpipe.util.clock import local_date

PROBE_TAG = "mp-probe"
PROBE_NAME = "Probe"


@dataclass(frozen=True)
class ProbeCheck:
    ok: bool
    what: str
    fix: str = ""
    required: bool = True  # a failed one that is not required is said, and does not fail the probe


@dataclass(frozen=True)
class Sent:
    """What the probe wrote on one audience: the member's fields and tag, and the campaign's title and key."""

    list_id: str
    email: str
    fields: dict[str, str]
    key: DripKey
    by_hand: str  # a second reserved address, tagged with no MPLOG: a contact tagged by hand


def probe_address(site: SiteConfig) -> str:
    """The reserved address: the clinic's own domain, so that nothing could reach anyone else."""
    return f"mailpipe-probe@{site.sender.reply_to.rpartition('@')[2]}"


def probe(mc: Mailchimp, site: SiteConfig, now: dt.datetime) -> list[ProbeCheck]:
    """Every audience push uses, probed: its checks (the writes are undone whatever happens)."""
    checks: list[ProbeCheck] = []
    for list_id in sorted({a.list_id for a in site.audiences.values()}):
        key = DripKey(PROBE_CODE, 1, local_date(now, site.timezone))
        log = LeadLog({PROBE_CODE: key.day}, frozenset({key})).render()
        by_hand = probe_address(site).replace("@", "-tagged@")
        sent = Sent(list_id, probe_address(site), {"FNAME": PROBE_NAME, LOG_FIELD: log}, key, by_hand)
        try:
            with _made(mc, sent) as (member, campaign, room):
                checks += judge(sent, member, campaign, room)
        except MailchimpError as err:
            checks.append(ProbeCheck(False, f"audience {list_id}: the probe could not run: {err}", "try again"))
    return checks


@contextmanager
def _made(mc: Mailchimp, sent: Sent) -> Iterator[tuple[RemoteMember | None, RemoteCampaign, list[str]]]:
    """The member (subscribed with the body `leads import` sends, then tagged as it tags), a draft campaign to the
    drip segment, and who a waiting room of the probe's tag holds, read back; deleted afterwards, whatever happened in
    between."""
    list_id = sent.list_id
    if LOG_FIELD not in mc.merge_field_tags(list_id):
        mc.create_text_merge_field(list_id, LOG_FIELD, LOG_FIELD_NAME)
    tag_id = room_id = campaign = None
    try:
        refused = mc.batch_subscribe(list_id, [(sent.email, sent.fields, True), (sent.by_hand, {}, True)])
        if refused:
            raise MailchimpError("lists.batch_list_members", 400, "refused", "; ".join(refused.values()))
        tag_id = mc.ensure_tag(list_id, PROBE_TAG)
        mc.add_to_tag(list_id, tag_id, [sent.email, sent.by_hand])
        settings = CampaignSettings(sent.key.title, "mailpipe probe", "", PROBE_NAME, sent.email, True)
        campaign = mc.create_campaign(list_id, settings, conditions_for(sent.key), tracking=True)
        name, conditions = waiting_room(PROBE_CODE, tag_id)
        room_id = mc.ensure_saved_segment(list_id, name, conditions)
        room = [m.email for m in mc.saved_segment_members(list_id, room_id) or []]
        yield mc.member(list_id, sent.email), mc.get_campaign(campaign.id), room
    finally:
        if campaign is not None:
            mc.delete_campaign(campaign.id)
        for email in (sent.email, sent.by_hand):
            mc.archive_member(list_id, email)
        for segment_id in (room_id, tag_id):
            if segment_id is not None:
                mc.delete_tag(list_id, segment_id)


def judge(sent: Sent, member: RemoteMember | None, campaign: RemoteCampaign, room: list[str]) -> list[ProbeCheck]:
    """What was read back against what was written: the checks a real push depends on, and one it does not (the
    segment's conditions answered in a form push reads: without it, a campaign both renamed and unknown to a lost
    state file is not known)."""
    where = f"audience {sent.list_id}"
    checks = []
    status = member.status if member else "missing"
    checks.append(
        ProbeCheck(
            status == "subscribed",
            f"{where}: a new lead of `leads import` is {status}",
            "expected subscribed: Mailchimp did not take the batch's status; do not import leads until this passes "
            "(a pending lead is sent an opt-in email)",
        )
    )
    fields = {k: str((member.merge_fields if member else {}).get(k) or "") for k in sent.fields}
    checks.append(
        ProbeCheck(
            fields == sent.fields,
            f"{where}: merge fields read back as written ({', '.join(sorted(sent.fields))})",
            f"read back {fields}, wrote {sent.fields}",
        )
    )
    tagged = bool(member) and PROBE_TAG in (member.tags if member else ())
    checks.append(ProbeCheck(tagged, f"{where}: the tag given as `leads import` gives it is on the member", ""))
    checks.append(
        ProbeCheck(
            key_of_title(campaign.title) == sent.key,
            f"{where}: a campaign keeps the title push gives it ({sent.key.title})",
            f"read back {campaign.title!r}: push could not know its campaigns after losing its state file",
        )
    )
    checks.append(
        ProbeCheck(
            campaign.recipient_count == 1,
            f"{where}: a drip campaign's segment on {LOG_FIELD} selects exactly the lead whose record holds its entry "
            f"({campaign.recipient_count} recipient(s))",
            "expected 1: the drip's campaigns would not reach the leads push assigns",
        )
    )
    checks.append(
        ProbeCheck(
            [e.lower() for e in room] == [sent.by_hand.lower()],
            f"{where}: a drip's waiting room holds a contact tagged by hand and not a lead with a start",
            f"it holds {room or 'nobody'}: push would not find contacts tagged by hand in Mailchimp's UI",
        )
    )
    checks.append(
        ProbeCheck(
            key_of(campaign.conditions) == sent.key,
            f"{where}: the campaign's recipients are answered in a form push reads",
            "push still knows its campaigns by id and title; only one renamed while the state file is lost is not",
            required=False,
        )
    )
    return checks
