"""Campaign tracking parameters on web links, leaving merge tags and other schemes alone."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_MERGE_TAG_LINK = re.compile(r"\*\|[A-Z0-9_:]+\|\*")
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]+")


def is_safe_link(url: str) -> bool:
    """A link content may carry: http(s), mailto:, tel: or a whole merge tag. Read as a browser reads it (entities
    decoded, tabs, newlines and control characters dropped), so `jav&#x61;script:` or `java\tscript:` is caught."""
    if _MERGE_TAG_LINK.fullmatch(url):
        return True
    seen = _IGNORED_BY_BROWSERS.sub("", html.unescape(url)).lower()
    return seen.startswith(SAFE_SCHEMES)


def with_utm(url: str, params: dict[str, str]) -> str:
    """Add UTM parameters to an http(s) link; keep any the link already sets.

    mailto:, tel: and Mailchimp merge-tag links (`*|UNSUB|*`, `*|ARCHIVE|*`) are returned unchanged,
    byte for byte, so Mailchimp still recognises them.
    """
    if "*|" in url or not url.lower().startswith(("http://", "https://")):
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    query += [(key, value) for key, value in params.items() if key not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))
