"""The local record of pushes, in SQLite: which campaign each key became, with what content, and a copy of
every lead's record (MPLOG) as mailpipe last wrote it.

Only this module touches the state database; every change is one transaction. It is a second copy, not the
truth: push reads Mailchimp on every run, and a lost, stale or restored state only loses what it alone knew
(which campaigns mailpipe itself scheduled, so that one unscheduled in Mailchimp is left alone).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mailpipe.errors import MailpipeError
from mailpipe.plan.keys import CampaignKey, key_of_title
from mailpipe.util.sqlitefile import apply_schema, memory_copy, open_or_rebuild

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pushed (
    title TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, email_id TEXT NOT NULL, content_hash TEXT,
    scheduled INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lead_logs (list_id TEXT NOT NULL, email TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (list_id, email));
CREATE TABLE IF NOT EXISTS sent_to (title TEXT NOT NULL, email TEXT NOT NULL, PRIMARY KEY (title, email));
CREATE TABLE IF NOT EXISTS sent_read (title TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS waiting_rooms (list_id TEXT NOT NULL, code TEXT NOT NULL, segment_id INTEGER NOT NULL,
    tag_id INTEGER NOT NULL, PRIMARY KEY (list_id, code));
"""


@dataclass(frozen=True)
class Pushed:
    """A campaign mailpipe created: `scheduled` once mailpipe scheduled it (so a draft in Mailchimp was unscheduled
    there)."""

    key: CampaignKey
    campaign_id: str
    email_id: str
    content_hash: str | None
    scheduled: bool


class PushLocked(MailpipeError):
    """Another push to the same account is running."""


def recorded_lead_logs(path: Path) -> dict[str, dict[str, str]] | None:
    """Each audience's lead records as the last push wrote them (list id -> email -> record), read from a copy in
    memory; None when no push has made the file yet. For `plan`, which asks Mailchimp nothing."""
    if not path.is_file():
        return None
    db = memory_copy(path, SCHEMA, "the push state (Mailchimp holds the truth)")
    try:
        found: dict[str, dict[str, str]] = {}
        for row in db.execute("SELECT list_id, email, value FROM lead_logs"):
            found.setdefault(row["list_id"], {})[row["email"]] = row["value"]
        return found
    finally:
        db.close()


class State:
    def __init__(self, path: Path, endpoint: str, forget_other: bool = False, read_only: bool = False):
        """State of pushes to `endpoint`; a state of another endpoint is refused, or forgotten with
        `forget_other` (for a sandbox that was reset: Mailchimp, not this cache, is the truth).
        `read_only` (a dry run) reads a copy in memory: the file is never created, changed or set aside."""
        self.path, self.read_only = path, read_only
        if read_only:
            self._db = memory_copy(path, SCHEMA, "the push state (Mailchimp holds the truth)")
        else:

            def prepare(file: Path) -> sqlite3.Connection:
                file.parent.mkdir(parents=True, exist_ok=True)
                return self._connect(str(file))

            self._db = open_or_rebuild(path, prepare, "the push state (Mailchimp holds the truth)")
        self._check_endpoint(endpoint, forget_other)

    @staticmethod
    def _connect(file: str) -> sqlite3.Connection:
        db = sqlite3.connect(file, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        apply_schema(db, SCHEMA)
        db.execute("SELECT count(*) FROM meta").fetchone()  # a file that is not a database fails here, not mid-push
        return db

    def _check_endpoint(self, endpoint: str, forget_other: bool) -> None:
        recorded = self._db.execute("SELECT value FROM meta WHERE key='endpoint'").fetchone()
        if recorded is not None and recorded["value"] != endpoint and forget_other:
            self._db.executescript("DELETE FROM pushed; DELETE FROM lead_logs; DELETE FROM meta;")
            recorded = None
        if recorded is None:
            self._db.execute("INSERT INTO meta VALUES ('endpoint', ?)", (endpoint,))
        elif recorded["value"] != endpoint:
            raise MailpipeError(
                f"the state file {self.path} records pushes to {recorded['value']}, not {endpoint}; "
                "use the state file of that account (mailchimp.state_path in mailpipe.yaml)"
            )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One push at a time per state file (so per account): a second one is told, not queued."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        if (lock_path.exists() or lock_path.is_symlink()) and not lock_path.is_file():
            raise MailpipeError(f"{lock_path} is not the lock file mailpipe makes; remove it and run again")
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 (closed below, after the push it guards)
        except OSError as err:
            raise MailpipeError(f"cannot take the lock {lock_path}: {err.strerror}") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise PushLocked(
                    f"another push to this account is running ({holder}); it was left alone, try again when it ends"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
            handle.flush()
            yield

    def pushed(self) -> dict[CampaignKey, Pushed]:
        found = {}
        for row in self._db.execute("SELECT title, campaign_id, email_id, content_hash, scheduled FROM pushed"):
            key = key_of_title(row["title"])
            if key is not None:
                found[key] = Pushed(
                    key, row["campaign_id"], row["email_id"], row["content_hash"], bool(row["scheduled"])
                )
        return found

    def record(self, pushed: Pushed) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO pushed VALUES (?,?,?,?,?,?)",
                (
                    pushed.key.title,
                    pushed.campaign_id,
                    pushed.email_id,
                    pushed.content_hash,
                    int(pushed.scheduled),
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )

    def forget(self, key: CampaignKey) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM pushed WHERE title=?", (key.title,))

    def lead_logs(self, list_id: str) -> dict[str, str]:
        return {
            r["email"]: r["value"]
            for r in self._db.execute("SELECT email, value FROM lead_logs WHERE list_id=?", (list_id,))
        }

    def sent_to(self, key: CampaignKey) -> set[str] | None:
        """Who a sent campaign went to, as read once from Mailchimp's report; None until then."""
        if self._db.execute("SELECT 1 FROM sent_read WHERE title=?", (key.title,)).fetchone() is None:
            return None
        return {r["email"] for r in self._db.execute("SELECT email FROM sent_to WHERE title=?", (key.title,))}

    def record_sent_to(self, key: CampaignKey, emails: set[str]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO sent_to VALUES (?,?)", [(key.title, e) for e in emails])
            self._db.execute("INSERT OR IGNORE INTO sent_read VALUES (?)", (key.title,))

    def waiting_room(self, list_id: str, code: str) -> tuple[int, int] | None:
        """The saved segment push made for a drip's waiting room, and the tag id it was made for."""
        row = self._db.execute(
            "SELECT segment_id, tag_id FROM waiting_rooms WHERE list_id=? AND code=?", (list_id, code)
        ).fetchone()
        return (row["segment_id"], row["tag_id"]) if row else None

    def record_waiting_room(self, list_id: str, code: str, segment_id: int, tag_id: int) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO waiting_rooms VALUES (?,?,?,?)", (list_id, code, segment_id, tag_id)
            )

    def record_probe(self, account_id: str, when: dt.datetime) -> None:
        """`mailpipe doctor --probe` passed on this account (push to a real account waits for it)."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"probe:{account_id}", when.isoformat()))

    def probe_passed(self, account_id: str) -> dt.datetime | None:
        """When this account last passed the probe, if it has."""
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (f"probe:{account_id}",)).fetchone()
        return dt.datetime.fromisoformat(row["value"]) if row else None

    def record_lead_logs(self, list_id: str, values: dict[str, str]) -> None:
        """Written before the members are, so a crash in between is finished from here."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO lead_logs VALUES (?,?,?)",
                [(list_id, email.lower(), value) for email, value in values.items()],
            )
