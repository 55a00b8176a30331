"""Mailchimp test emails of one rendered email: what a reviewer or the front desk receives before a send."""

from __future__ import annotations

from mailpipe.load.campaigns import Campaign, Drip
from mailpipe.load.config import SiteConfig
from mailpipe.push.mailchimp import CampaignSettings, Mailchimp
from mailpipe.render import RenderedEmail


def audience_of(email: RenderedEmail, campaigns: list[Campaign], site: SiteConfig) -> str:
    """The list id of the audience that receives this email (a drip's step, or a monthly email); for an email no
    campaign sends, the only audience, or else the first in mailpipe.yaml."""
    for campaign in campaigns:
        sends_it = (
            any(step.content == email.id for step in campaign.steps)
            if isinstance(campaign, Drip)
            else email.id.startswith(f"{campaign.content}-")
        )
        if sends_it:
            return site.audiences[campaign.audience].list_id
    return next(iter(site.audiences.values())).list_id


def send_test(mc: Mailchimp, email: RenderedEmail, list_id: str, to: list[str], plain_text: bool = False) -> str:
    """Fill the draft `test/<email id>` (made once, reused) with the email and send it to `to`; returns its title.
    The draft is never scheduled: only the addresses given receive it."""
    title = f"test/{email.id}"
    settings = CampaignSettings(title, f"[TEST] {email.subject}", email.preheader, email.from_name, email.reply_to)
    campaign = mc.find_campaign(title) or mc.create_campaign(list_id, settings)
    mc.update_campaign(campaign.id, settings)
    mc.set_test_content(campaign.id, email)
    mc.send_test(campaign.id, to, "plaintext" if plain_text else "html")
    return title
