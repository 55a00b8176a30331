"""Campaign tracking parameters on web links, leaving merge tags and other schemes alone."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


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
