"""The only code that talks to Mailchimp: typed operations (`client`) over a transport that retries, guards a dry
run and keeps the key out of every message (`transport`), with the data they take and return (`models`)."""

from mailpipe.push.mailchimp.client import PAGE, Mailchimp, NotSignedOff, SignOffGate
from mailpipe.push.mailchimp.models import (
    Account,
    Audience,
    CampaignCopy,
    CampaignReport,
    CampaignSettings,
    Checklist,
    RemoteCampaign,
    RemoteMember,
)
from mailpipe.push.mailchimp.transport import (
    MAX_CONNECTIONS,
    Connection,
    MailchimpError,
    ReadOnlyViolation,
    RetryPolicy,
    Send,
)

__all__ = [
    "MAX_CONNECTIONS",
    "PAGE",
    "Account",
    "Audience",
    "CampaignCopy",
    "CampaignReport",
    "CampaignSettings",
    "Checklist",
    "Connection",
    "Mailchimp",
    "MailchimpError",
    "NotSignedOff",
    "ReadOnlyViolation",
    "RemoteCampaign",
    "RemoteMember",
    "RetryPolicy",
    "Send",
    "SignOffGate",
]
