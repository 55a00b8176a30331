"""The sandbox's state in SQLite, and Mailchimp's rules over it: one facade over a module per resource
(base → lists → members → segments → campaigns, each building on the one before).

Every method is one transaction. Bad requests raise ApiError with the status, title and detail
Mailchimp would answer with; the server turns them into problem+json responses.
"""

from __future__ import annotations

from mailpipe.sandbox.campaigns import Campaigns


class Store(Campaigns):
    """Mailchimp's data and rules, persisted in one SQLite file."""
