"""Campaign tracking parameters on web links, leaving merge tags and other schemes alone."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_MERGE_TAG_LINK = re.compile(r"\*\|[A-Z0-9_:]+\|\*")


def is_safe_link(url: str) -> bool:
    """A link content may carry: http(s), mailto:, tel: or a whole merge tag. An allowlist, so `javascript:`, `data:`,
    `vbscript:` and every disguise of them (entities, tabs, upper case) fail, and so does a relative link."""
    return bool(_MERGE_TAG_LINK.fullmatch(url)) or url.lower().startswith(SAFE_SCHEMES)


def with_utm(url: str, params: dict[str, str], domains: tuple[str, ...]) -> str:
    """Add UTM parameters to an http(s) link to one of `domains` (or a subdomain); keep any the link already sets.

    Links to other sites (the manufacturer's prescribing information) are left alone: their analytics
    are not the clinic's. mailto:, tel: and Mailchimp merge-tag links (`*|UNSUB|*`, `*|ARCHIVE|*`) are
    returned unchanged, byte for byte, so Mailchimp still recognises them.
    """
    if "*|" in url or not url.lower().startswith(("http://", "https://")):
        return url
    parts = urlsplit(url)
    host = parts.hostname  # lower case, as urlsplit gives it
    if host is None or not any(host == domain or host.endswith("." + domain) for domain in domains):
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    query += [(key, value) for key, value in params.items() if key not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))
