"""Fill Mailchimp merge tags with a sample contact, the way Mailchimp would for one recipient."""

from __future__ import annotations

import html
import re

from mailpipe.load.config import SiteConfig

_CONDITIONAL = re.compile(r"\*\|IF:([A-Z0-9_]+)\|\*(.*?)(?:\*\|ELSE:\|\*(.*?))?\*\|END:IF\|\*", re.DOTALL)
_TAG = re.compile(r"\*\|([A-Z0-9_:]+)\|\*")


def fill(text: str, site: SiteConfig, as_html: bool, preview_text: str = "") -> str:
    """Replace merge tags with the config's sample contact, the clinic's footer values and the email's preview text
    (which push sets as the campaign's preview_text, so Mailchimp puts it where *|MC_PREVIEW_TEXT|* is)."""
    values = {
        **site.sample_contact,
        "UNSUB": "#unsubscribe",
        "UPDATE_PROFILE": "#update-preferences",
        "ARCHIVE": "#archive",
        "MC_PREVIEW_TEXT": preview_text,
        "LIST:ADDRESSLINE": f"{site.clinic.name}, {site.clinic.postal_address}",
        "LIST:COMPANY": site.clinic.name,
        "LIST:DESCRIPTION": f"You asked {site.clinic.name} to keep in touch.",
    }
    escape = html.escape if as_html else str
    values["HTML:LIST_ADDRESS_HTML"] = values["LIST:ADDRESSLINE"]
    text = _CONDITIONAL.sub(lambda m: m.group(2) if values.get(m.group(1)) else (m.group(3) or ""), text)
    return _TAG.sub(lambda m: escape(str(values[m.group(1)])) if m.group(1) in values else m.group(0), text)
