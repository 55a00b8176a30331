"""Local push state in SQLite: which campaign each stable key became, with what content.

Only this module touches the state database. Every change is one transaction. The state is a
cache of what Mailchimp holds: when the file is lost, push rebuilds it from the campaign titles.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from mailpipe.errors import MailpipeError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (
    key TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, email_id TEXT NOT NULL, content_hash TEXT,
    status TEXT NOT NULL, wanted_utc TEXT NOT NULL, scheduled_utc TEXT, updated_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class PushedCampaign:
    key: str
    campaign_id: str
    email_id: str
    content_hash: str | None  # None after a rebuild: compare with Mailchimp's copy before trusting it
    status: str  # save | schedule | sent
    wanted_utc: str
    scheduled_utc: str | None


class State:
    def __init__(self, path: Path, endpoint: str, forget_other: bool = False):
        """State of pushes to `endpoint`; a state of another endpoint is refused, or forgotten with
        `forget_other` (for a sandbox that was reset: Mailchimp, not this cache, is the truth)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        recorded = self._db.execute("SELECT value FROM meta WHERE key='endpoint'").fetchone()
        if recorded is not None and recorded["value"] != endpoint and forget_other:
            self._db.executescript("DELETE FROM campaigns; DELETE FROM meta;")
            recorded = None
        if recorded is None:
            self._db.execute("INSERT INTO meta VALUES ('endpoint', ?)", (endpoint,))
        elif recorded["value"] != endpoint:
            raise MailpipeError(f"the state file {path} records pushes to {recorded['value']}, not {endpoint}; "
                                "use the state file of that account (mailchimp.state_path in mailpipe.yaml)")

    def close(self) -> None:
        self._db.close()

    def is_empty(self) -> bool:
        return self._db.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0] == 0

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def all(self) -> dict[str, PushedCampaign]:
        rows = self._db.execute("SELECT key, campaign_id, email_id, content_hash, status, wanted_utc, scheduled_utc FROM campaigns")
        return {r["key"]: PushedCampaign(**dict(r)) for r in rows}

    def record(self, campaign: PushedCampaign) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO campaigns VALUES (?,?,?,?,?,?,?,?)", (
                campaign.key, campaign.campaign_id, campaign.email_id, campaign.content_hash, campaign.status,
                campaign.wanted_utc, campaign.scheduled_utc, dt.datetime.now(dt.timezone.utc).isoformat()))
