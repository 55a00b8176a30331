"""What mailpipe reads from and writes to Mailchimp, typed: the adapter turns Mailchimp's JSON into these and these
into its JSON, so nothing outside mailpipe/push/mailchimp/ sees a request or an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from mailpipe.push.record import Condition

INTERNAL_FIELD = re.compile(r"^merge(\d+)$")  # a field as Mailchimp may answer it: merge0 (the address), mergeN


@dataclass(frozen=True)
class RemoteCampaign:
    """A campaign as push needs it."""

    id: str
    title: str
    status: str  # save, paused, schedule, sending, sent, canceled, canceling, archived
    send_time: str | None
    recipient_count: int
    conditions: tuple[Condition, ...]  # of its segment
    create_time: str = ""  # ISO 8601, as Mailchimp gives it


@dataclass(frozen=True)
class CampaignSettings:
    """A campaign's settings as mailpipe writes them. `personal`: push's own campaigns, addressed to the recipient's
    first name, with Mailchimp's own footer and CSS inlining off (the email carries its footer and inline styles)."""

    title: str
    subject: str
    preview_text: str
    from_name: str
    reply_to: str
    personal: bool = False
    folder_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "subject_line": self.subject,
            "preview_text": self.preview_text,
            "title": self.title,
            "from_name": self.from_name,
            "reply_to": self.reply_to,
        }
        if self.personal:
            settings |= {"to_name": "*|FNAME|*", "auto_footer": False, "inline_css": False}
        if self.folder_id:
            settings["folder_id"] = self.folder_id
        return settings


@dataclass(frozen=True)
class CampaignCopy:
    """What a campaign's recipients would get, as Mailchimp holds it."""

    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class Checklist:
    """Mailchimp's send checklist: ready, or the errors that block sending."""

    is_ready: bool
    errors: list[str]


@dataclass(frozen=True)
class RemoteMember:
    email: str
    status: str
    merge_fields: dict[str, Any]
    tags: tuple[str, ...] = ()
    signed_up: str = ""  # timestamp_signup, as Mailchimp gives it (empty when it has none)


@dataclass(frozen=True)
class Account:
    name: str
    plan: str  # Mailchimp's pricing_plan_type: forever_free, monthly, pay_as_you_go
    id: str = ""  # account_id: what a passed probe is recorded against


@dataclass(frozen=True)
class Audience:
    """An audience (list) as the go-live checks read it: its contact address is what *|LIST:ADDRESSLINE|* prints."""

    id: str
    name: str
    member_count: int
    address: tuple[str, ...]  # address1, address2, city, state, zip (the non-empty ones)


@dataclass(frozen=True)
class CampaignReport:
    """Mailchimp's report of one sent campaign (GET /reports/{id}), the counts a marketer's report adds up."""

    id: str
    title: str
    send_time: str
    emails_sent: int
    bounces: int  # hard + soft + syntax errors
    unique_opens: int
    unique_clicks: int  # unique subscribers who clicked
    unsubscribed: int


def segment_opts(conditions: tuple[Condition, ...]) -> dict[str, Any]:
    """A campaign's recipients as Mailchimp's segment_opts: every condition must hold; a tag's id is a number."""
    return {
        "match": "all",
        "conditions": [
            {
                "condition_type": c.kind,
                "field": c.field,
                "op": c.op,
                "value": int(c.value) if c.kind == "StaticSegment" else c.value,
            }
            for c in conditions
        ],
    }


def remote_campaign(campaign: dict) -> RemoteCampaign:
    recipients = campaign.get("recipients") or {}
    conditions = ((recipients.get("segment_opts") or {}).get("conditions")) or []
    return RemoteCampaign(
        campaign["id"],
        (campaign.get("settings") or {}).get("title", ""),
        campaign.get("status", ""),
        campaign.get("send_time") or None,
        int(recipients.get("recipient_count") or 0),
        tuple(
            Condition(
                str(c.get("condition_type", "")), str(c.get("field", "")), str(c.get("op", "")), str(c.get("value", ""))
            )
            for c in conditions
            if isinstance(c, dict)
        ),
        str(campaign.get("create_time") or ""),
    )


def named_fields(campaign: RemoteCampaign, tags: dict[int, str]) -> RemoteCampaign:
    """The campaign with each condition's field as mailpipe writes it (a merge tag, EMAIL), where Mailchimp answered
    with its internal name (`merge0`, `mergeN`, N the field's merge_id)."""
    conditions = []
    for condition in campaign.conditions:
        internal = INTERNAL_FIELD.match(condition.field)
        named = tags.get(int(internal[1]), condition.field) if internal else condition.field
        conditions.append(condition._replace(field=named))
    return replace(campaign, conditions=tuple(conditions))
