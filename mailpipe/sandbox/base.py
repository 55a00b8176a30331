"""The sandbox's SQLite file, its clock and what every resource shares (see store.py for the whole)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from mailpipe.errors import MailpipeError
from mailpipe.sandbox.errors import invalid
from mailpipe.util import clock
from mailpipe.util.sqlitefile import apply_schema, memory_copy, open_or_rebuild
from mailpipe.util.vocabulary import parse_time as iso_time

UTC = dt.UTC
MEMBER_STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}
CAMPAIGN_TYPES = {"regular", "plaintext", "absplit", "rss", "variate"}
UNSUB_TAG = "*|UNSUB|*"
ADDRESS_TAGS = ("*|HTML:LIST_ADDRESS_HTML|*", "*|LIST:ADDRESSLINE|*", "*|LIST_ADDRESS|*", "*|HTML:LIST_ADDRESS|*")
MAX_COUNT = 1000
MAX_BATCH = 500  # members in one batch subscribe or one tag batch
MAX_MEMBER_TAGS = 50  # the member list shows at most 50 tags per member
MAX_TEXT_MERGE = 255  # a text merge field holds at most 255 characters
DEFAULT_MERGE_FIELDS = (("FNAME", "First Name"), ("LNAME", "Last Name"))

_REBUILT = "the sandbox starts empty (a new account)"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (id TEXT PRIMARY KEY, name TEXT NOT NULL, contact TEXT NOT NULL,
    permission_reminder TEXT NOT NULL, campaign_defaults TEXT NOT NULL, date_created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (list_id TEXT NOT NULL, hash TEXT NOT NULL, email TEXT NOT NULL,
    status TEXT NOT NULL, merge_fields TEXT NOT NULL, timestamp_opt TEXT NOT NULL, timestamp_signup TEXT NOT NULL,
    last_changed TEXT NOT NULL, unique_email_id TEXT NOT NULL, PRIMARY KEY (list_id, hash));
CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY AUTOINCREMENT, list_id TEXT NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, options TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segment_members (segment_id INTEGER NOT NULL, hash TEXT NOT NULL, added_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, hash));
CREATE INDEX IF NOT EXISTS segment_members_by_member ON segment_members (hash);
CREATE INDEX IF NOT EXISTS members_by_opt ON members (list_id, timestamp_opt, hash);
CREATE INDEX IF NOT EXISTS members_by_change ON members (list_id, last_changed);
CREATE INDEX IF NOT EXISTS segments_by_list ON segments (list_id, type, name);
CREATE TABLE IF NOT EXISTS merge_fields (list_id TEXT NOT NULL, tag TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT
NULL,
    merge_id INTEGER NOT NULL, PRIMARY KEY (list_id, tag));
CREATE TABLE IF NOT EXISTS folders (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (id TEXT PRIMARY KEY, web_id INTEGER NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, create_time TEXT NOT NULL, send_time TEXT, recipients TEXT NOT NULL, settings TEXT NOT NULL,
    tracking TEXT NOT NULL, html TEXT, plain_text TEXT, snapshot TEXT NOT NULL, emails_sent INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS campaigns_by_create ON campaigns (create_time);
CREATE TABLE IF NOT EXISTS deliveries (campaign_id TEXT NOT NULL, list_id TEXT NOT NULL, hash TEXT NOT NULL,
    email TEXT NOT NULL, delivered_at TEXT NOT NULL, PRIMARY KEY (campaign_id, hash));
CREATE TABLE IF NOT EXISTS activity (campaign_id TEXT NOT NULL, hash TEXT NOT NULL, bounced INTEGER NOT NULL,
    opens INTEGER NOT NULL, clicks INTEGER NOT NULL, unsubscribed INTEGER NOT NULL, PRIMARY KEY (campaign_id, hash));
CREATE TABLE IF NOT EXISTS test_emails (campaign_id TEXT NOT NULL, email TEXT NOT NULL, send_type TEXT NOT NULL,
sent_at TEXT NOT NULL);
"""


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 time; one without an offset is taken as UTC, as Mailchimp does."""
    try:
        return iso_time(value)
    except ValueError:
        raise invalid(f"{field} must be an ISO 8601 date and time, like 2026-12-07T17:30:00+00:00.", field) from None


class DamagedSandbox(MailpipeError):
    """A row of the sandbox's file that is not what the sandbox wrote (edited by hand, or cut short)."""


def stored(text: str) -> Any:
    """A JSON field of a sandbox row; a damaged one is one line saying how to start afresh, not a traceback."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise DamagedSandbox(
            f"the sandbox file holds a damaged row ({str(text)[:40]!r} is not what the sandbox wrote); delete the "
            "file (var/sandbox.sqlite3, or mailchimp.sandbox_path) to start a new sandbox"
        ) from None


class StoreBase:
    """The SQLite file, its transactions and the sandbox's clock; each resource builds on this."""

    def __init__(self, path: Path):
        def prepare(file: Path) -> sqlite3.Connection:
            file.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(file, check_same_thread=False, isolation_level=None, timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            apply_schema(db, SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('instance', ?)", (uuid.uuid4().hex,))
            return db

        self._db = open_or_rebuild(path, prepare, _REBUILT)
        self._lock = threading.RLock()

    @classmethod
    def read_only_copy(cls, path: Path) -> Self:
        """The sandbox at `path` as it is now, in memory, for a command that must write nothing (a dry run, doctor, a
        report): what it writes (the audiences every run makes sure of) goes nowhere, and the file is left as it is."""
        store = cls.__new__(cls)
        store._db = memory_copy(path, SCHEMA, _REBUILT)
        store._db.execute("INSERT OR IGNORE INTO meta VALUES ('instance', ?)", (uuid.uuid4().hex,))
        store._lock = threading.RLock()
        return store

    @property
    def instance(self) -> str:
        """Identifies this sandbox's data: a new file is a new account as far as push state goes."""
        return self._db.execute("SELECT value FROM meta WHERE key='instance'").fetchone()["value"]

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def serialized(self) -> Iterator[None]:
        """One request at a time on the shared connection (the server's threads share it)."""
        with self._lock:
            yield

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- the clock ---------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        row = self._db.execute("SELECT value FROM meta WHERE key='clock'").fetchone()
        return (
            dt.datetime.fromisoformat(row["value"]) if row else clock.utc_now()
        )  # a clock never set follows the real one

    def stored_clock(self) -> dt.datetime | None:
        """The clock as set (`set_clock`, `advance`); None while it follows the real one."""
        row = self._db.execute("SELECT value FROM meta WHERE key='clock'").fetchone()
        return dt.datetime.fromisoformat(row["value"]) if row else None

    def set_clock(self, moment: dt.datetime) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (iso(moment),))


def _web_id(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:7], 16)


def _paging(query: dict) -> tuple[int, int]:
    try:
        count = int(query.get("count", 10))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise invalid("count and offset must be whole numbers.", "count") from None
    if count < 0 or offset < 0:
        raise invalid("count and offset cannot be negative.", "count")
    return min(count, MAX_COUNT), offset
