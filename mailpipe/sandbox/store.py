"""The sandbox's state in SQLite, and Mailchimp's rules over it.

Every method is one transaction. Bad requests raise ApiError with the status, title and detail
Mailchimp would answer with; the server turns them into problem+json responses.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from mailpipe.sandbox.errors import ApiError, invalid, not_found
from mailpipe.vocabulary import EMAIL, subscriber_hash
from mailpipe.vocabulary import parse_time as iso_time

UTC = dt.timezone.utc
MEMBER_STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}
CAMPAIGN_TYPES = {"regular", "plaintext", "absplit", "rss", "variate"}
UNSUB_TAG = "*|UNSUB|*"
ADDRESS_TAGS = ("*|HTML:LIST_ADDRESS_HTML|*", "*|LIST:ADDRESSLINE|*", "*|LIST_ADDRESS|*", "*|HTML:LIST_ADDRESS|*")
MAX_COUNT = 1000
MAX_MEMBER_TAGS = 50  # the member list shows at most 50 tags per member
MAX_TEXT_MERGE = 255  # a text merge field holds at most 255 characters
DEFAULT_MERGE_FIELDS = (("FNAME", "First Name"), ("LNAME", "Last Name"))

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
CREATE TABLE IF NOT EXISTS merge_fields (list_id TEXT NOT NULL, tag TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    merge_id INTEGER NOT NULL, PRIMARY KEY (list_id, tag));
CREATE TABLE IF NOT EXISTS folders (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (id TEXT PRIMARY KEY, web_id INTEGER NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, create_time TEXT NOT NULL, send_time TEXT, recipients TEXT NOT NULL, settings TEXT NOT NULL,
    tracking TEXT NOT NULL, html TEXT, plain_text TEXT, snapshot TEXT NOT NULL, emails_sent INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS deliveries (campaign_id TEXT NOT NULL, list_id TEXT NOT NULL, hash TEXT NOT NULL,
    email TEXT NOT NULL, delivered_at TEXT NOT NULL, PRIMARY KEY (campaign_id, hash));
CREATE TABLE IF NOT EXISTS test_emails (campaign_id TEXT NOT NULL, email TEXT NOT NULL, send_type TEXT NOT NULL, sent_at TEXT NOT NULL);
"""


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 time; one without an offset is taken as UTC, as Mailchimp does."""
    try:
        return iso_time(value)
    except ValueError:
        raise invalid(f"{field} must be an ISO 8601 date and time, like 2026-12-07T17:30:00+00:00.", field) from None


class Store:
    """Mailchimp's data and rules, persisted in one SQLite file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('instance', ?)", (uuid.uuid4().hex,))
        self._lock = threading.RLock()

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
        return dt.datetime.fromisoformat(row["value"]) if row else dt.datetime.now(UTC).replace(microsecond=0)

    def set_clock(self, moment: dt.datetime) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (iso(moment),))

    def advance(self, to: dt.datetime) -> list[dict]:
        """Move the clock to `to`, sending every scheduled campaign whose time has come, in order."""
        sent = []
        with self.transaction() as db:
            if to < self.now():
                raise invalid(f"the sandbox clock is at {iso(self.now())}; it only moves forward")
            due = db.execute("SELECT id, send_time FROM campaigns WHERE status='schedule' AND send_time <= ? ORDER BY send_time, id",
                             (iso(to),)).fetchall()
            for row in due:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (row["send_time"],))
                sent.append(self._deliver(db, row["id"], row["send_time"]))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (iso(to),))
        return sent

    def _deliver(self, db: sqlite3.Connection, campaign_id: str, when: str) -> dict:
        """Send to the members the campaign's segment held when it was created who are still subscribed."""
        campaign = db.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
        list_id = json.loads(campaign["recipients"])["list_id"]
        snapshot = json.loads(campaign["snapshot"])
        count = 0
        for member_hash in snapshot:
            member = db.execute("SELECT email, status FROM members WHERE list_id=? AND hash=?", (list_id, member_hash)).fetchone()
            if member and member["status"] == "subscribed":
                db.execute("INSERT OR IGNORE INTO deliveries VALUES (?,?,?,?,?)", (campaign_id, list_id, member_hash, member["email"], when))
                count += 1
        db.execute("UPDATE campaigns SET status='sent', emails_sent=? WHERE id=?", (count, campaign_id))
        return {"campaign_id": campaign_id, "send_time": when, "emails_sent": count}

    def deliveries(self, email: str | None = None) -> list[dict]:
        query = ("SELECT d.delivered_at, d.email, d.campaign_id, c.settings, d.list_id FROM deliveries d "
                 "JOIN campaigns c ON c.id = d.campaign_id")
        args: tuple = ()
        if email:
            query += " WHERE d.hash = ?"
            args = (subscriber_hash(email),)
        rows = self._db.execute(query + " ORDER BY d.delivered_at, d.email, d.campaign_id", args).fetchall()
        return [{"delivered_at": r["delivered_at"], "email": r["email"], "campaign_id": r["campaign_id"], "list_id": r["list_id"],
                 "title": json.loads(r["settings"]).get("title", ""), "subject": json.loads(r["settings"]).get("subject_line", "")}
                for r in rows]

    # -- lists ---------------------------------------------------------------------------------
    def create_list(self, body: dict, list_id: str | None = None) -> dict:
        for field in ("name", "contact", "permission_reminder", "campaign_defaults"):
            if field not in body:
                raise invalid(f"The field {field} is required.", field)
        contact = body["contact"]
        if not isinstance(contact, dict) or not all(contact.get(k) for k in ("company", "address1", "city", "state", "zip", "country")):
            raise invalid("contact needs company, address1, city, state, zip and country: the postal address of every email's footer.", "contact")
        with self.transaction() as db:
            list_id = list_id or uuid.uuid4().hex[:10]
            db.execute("INSERT OR REPLACE INTO lists VALUES (?,?,?,?,?,?)", (
                list_id, body["name"], json.dumps(contact), body["permission_reminder"],
                json.dumps(body["campaign_defaults"]), iso(self.now())))
            for number, (tag, name) in enumerate(DEFAULT_MERGE_FIELDS, start=1):
                db.execute("INSERT OR IGNORE INTO merge_fields VALUES (?,?,?,?,?)", (list_id, tag, name, "text", number))
        return self.get_list(list_id)

    def get_list(self, list_id: str) -> dict:
        row = self._db.execute("SELECT * FROM lists WHERE id=?", (list_id,)).fetchone()
        if not row:
            raise not_found(f"list {list_id}")
        counts = self._db.execute("SELECT status, COUNT(*) n FROM members WHERE list_id=? GROUP BY status", (list_id,)).fetchall()
        by_status = {r["status"]: r["n"] for r in counts}
        return {"id": row["id"], "web_id": _web_id(row["id"]), "name": row["name"], "contact": json.loads(row["contact"]),
                "permission_reminder": row["permission_reminder"], "campaign_defaults": json.loads(row["campaign_defaults"]),
                "date_created": row["date_created"], "list_rating": 0, "email_type_option": False, "use_archive_bar": False,
                "visibility": "prv", "double_optin": False, "has_welcome": False, "marketing_permissions": False,
                "stats": {"member_count": by_status.get("subscribed", 0), "unsubscribe_count": by_status.get("unsubscribed", 0),
                          "cleaned_count": by_status.get("cleaned", 0)}}

    def lists(self) -> dict:
        ids = [r["id"] for r in self._db.execute("SELECT id FROM lists ORDER BY date_created, id")]
        return {"lists": [self.get_list(i) for i in ids], "total_items": len(ids)}

    def _require_list(self, list_id: str) -> None:
        if not self._db.execute("SELECT 1 FROM lists WHERE id=?", (list_id,)).fetchone():
            raise not_found(f"list {list_id}")

    # -- members -------------------------------------------------------------------------------
    def upsert_member(self, list_id: str, member_hash: str, body: dict) -> dict:
        """PUT: create the member (status_if_new) or update it (status only if given)."""
        self._require_list(list_id)
        email = body.get("email_address")
        if not isinstance(email, str) or not EMAIL.match(email.strip()):
            raise invalid(f"{email!r} looks fake or invalid, please enter a real email address.", "email_address")
        if subscriber_hash(email) != member_hash.lower():
            raise invalid("The subscriber hash in the URL is not the MD5 of the lower-cased email address.", "email_address")
        with self.transaction() as db:
            row = db.execute("SELECT * FROM members WHERE list_id=? AND hash=?", (list_id, member_hash.lower())).fetchone()
            now = iso(self.now())
            if row is None:
                status = body.get("status_if_new") or body.get("status")
                if status not in MEMBER_STATUSES - {"archived"}:
                    raise invalid("status_if_new must be one of subscribed, unsubscribed, cleaned, pending, transactional.", "status_if_new")
                opt = iso(parse_time(body["timestamp_opt"], "timestamp_opt")) if body.get("timestamp_opt") else now
                db.execute("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)", (
                    list_id, member_hash.lower(), email.strip(), status, json.dumps(_merge_fields(body, {}, self._merge_tags(db, list_id))), opt,
                    iso(parse_time(body["timestamp_signup"], "timestamp_signup")) if body.get("timestamp_signup") else opt,
                    now, uuid.uuid4().hex[:10]))
            else:
                self._update_member(db, row, body, now)
        return self.get_member(list_id, member_hash)

    def patch_member(self, list_id: str, member_hash: str, body: dict) -> dict:
        with self.transaction() as db:
            row = db.execute("SELECT * FROM members WHERE list_id=? AND hash=?", (list_id, member_hash.lower())).fetchone()
            if row is None:
                raise not_found(f"member {member_hash} in list {list_id}")
            self._update_member(db, row, body, iso(self.now()))
        return self.get_member(list_id, member_hash)

    def _update_member(self, db: sqlite3.Connection, row: sqlite3.Row, body: dict, now: str) -> None:
        status = body.get("status", row["status"])
        if status not in MEMBER_STATUSES:
            raise invalid(f"status {status!r} is not one of {', '.join(sorted(MEMBER_STATUSES))}.", "status")
        opt = iso(parse_time(body["timestamp_opt"], "timestamp_opt")) if body.get("timestamp_opt") else row["timestamp_opt"]
        merge_fields = json.dumps(_merge_fields(body, json.loads(row["merge_fields"]), self._merge_tags(db, row["list_id"])))
        if (status, merge_fields, opt) == (row["status"], row["merge_fields"], row["timestamp_opt"]):
            return  # nothing changed, so neither does last_changed
        db.execute("UPDATE members SET status=?, merge_fields=?, timestamp_opt=?, last_changed=? WHERE list_id=? AND hash=?",
                   (status, merge_fields, opt, now, row["list_id"], row["hash"]))

    def archive_member(self, list_id: str, member_hash: str) -> None:
        with self.transaction() as db:
            found = db.execute("UPDATE members SET status='archived', last_changed=? WHERE list_id=? AND hash=?",
                               (iso(self.now()), list_id, member_hash.lower())).rowcount
            if not found:
                raise not_found(f"member {member_hash} in list {list_id}")

    def get_member(self, list_id: str, member_hash: str) -> dict:
        row = self._db.execute("SELECT * FROM members WHERE list_id=? AND hash=?", (list_id, member_hash.lower())).fetchone()
        if row is None:
            self._require_list(list_id)
            raise not_found(f"member {member_hash} in list {list_id}")
        return self._member_json(row)

    def _member_json(self, row: sqlite3.Row) -> dict:
        tags = self._member_tags(row["list_id"], row["hash"])
        return {"id": row["hash"], "email_address": row["email"], "unique_email_id": row["unique_email_id"],
                "web_id": _web_id(row["hash"]), "email_type": "html", "status": row["status"],
                "merge_fields": json.loads(row["merge_fields"]), "interests": {},
                "stats": {"avg_open_rate": 0, "avg_click_rate": 0}, "ip_signup": "", "timestamp_signup": row["timestamp_signup"],
                "ip_opt": "", "timestamp_opt": row["timestamp_opt"], "member_rating": 2, "last_changed": row["last_changed"],
                "language": "", "vip": False, "email_client": "", "source": "API - Generic",
                "tags_count": len(tags), "tags": [{"id": t["id"], "name": t["name"]} for t in tags[:MAX_MEMBER_TAGS]],
                "list_id": row["list_id"]}

    def _member_tags(self, list_id: str, member_hash: str) -> list[sqlite3.Row]:
        return self._db.execute("SELECT s.id, s.name, m.added_at FROM segments s JOIN segment_members m ON m.segment_id = s.id "
                                "WHERE s.list_id=? AND s.type='static' AND m.hash=? ORDER BY m.added_at DESC, s.name",
                                (list_id, member_hash)).fetchall()

    def list_members(self, list_id: str, query: dict) -> dict:
        self._require_list(list_id)
        sql, args = "SELECT * FROM members WHERE list_id=?", [list_id]
        if query.get("status"):
            sql += " AND status=?"
            args.append(query["status"])
        for param, op in (("since_timestamp_opt", ">"), ("before_timestamp_opt", "<")):
            if query.get(param):
                sql += f" AND timestamp_opt {op} ?"
                args.append(iso(parse_time(query[param], param)))
        rows = self._db.execute(sql + " ORDER BY timestamp_opt, hash", args).fetchall()
        count, offset = _paging(query)
        return {"members": [self._member_json(r) for r in rows[offset:offset + count]], "list_id": list_id, "total_items": len(rows)}

    # -- tags and segments ---------------------------------------------------------------------
    def set_member_tags(self, list_id: str, member_hash: str, body: dict) -> None:
        self.get_member(list_id, member_hash)
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, dict) and t.get("name") and t.get("status") in ("active", "inactive") for t in tags):
            raise invalid("tags must be a list of {name, status: active|inactive}.", "tags")
        with self.transaction() as db:
            for tag in tags:
                row = db.execute("SELECT id FROM segments WHERE list_id=? AND type='static' AND name=?", (list_id, tag["name"])).fetchone()
                if row is None and tag["status"] == "inactive":
                    continue
                segment_id = row["id"] if row else self._insert_segment(db, list_id, tag["name"], "static", {})
                if tag["status"] == "active":
                    db.execute("INSERT OR IGNORE INTO segment_members VALUES (?,?,?)", (segment_id, member_hash.lower(), iso(self.now())))
                else:
                    db.execute("DELETE FROM segment_members WHERE segment_id=? AND hash=?", (segment_id, member_hash.lower()))

    def member_tags(self, list_id: str, member_hash: str) -> dict:
        """Every tag of one member with the time it was added (the member list shows at most 50, without dates)."""
        self.get_member(list_id, member_hash)
        tags = self._member_tags(list_id, member_hash.lower())
        return {"tags": [{"id": t["id"], "name": t["name"], "date_added": t["added_at"]} for t in tags], "total_items": len(tags)}

    # -- merge fields --------------------------------------------------------------------------
    def _merge_tags(self, db: sqlite3.Connection, list_id: str) -> set[str]:
        return {r["tag"] for r in db.execute("SELECT tag FROM merge_fields WHERE list_id=?", (list_id,))}

    def merge_fields(self, list_id: str, query: dict) -> dict:
        self._require_list(list_id)
        rows = self._db.execute("SELECT * FROM merge_fields WHERE list_id=? ORDER BY merge_id", (list_id,)).fetchall()
        count, offset = _paging(query)
        fields = [{"merge_id": r["merge_id"], "tag": r["tag"], "name": r["name"], "type": r["type"], "required": False,
                   "default_value": "", "public": False, "display_order": r["merge_id"], "list_id": list_id} for r in rows]
        return {"merge_fields": fields[offset:offset + count], "list_id": list_id, "total_items": len(fields)}

    def create_merge_field(self, list_id: str, body: dict) -> dict:
        self._require_list(list_id)
        tag, name, kind = body.get("tag"), body.get("name"), body.get("type")
        if not isinstance(name, str) or not name.strip():
            raise invalid("The field name is required.", "name")
        if kind not in ("text", "number", "date"):
            raise invalid("type must be text, number or date (the sandbox keeps to these).", "type")
        if not isinstance(tag, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,9}", tag):
            raise invalid("tag must be 1-10 upper-case letters, digits or _ (like MMERGE3).", "tag")
        with self.transaction() as db:
            if tag in self._merge_tags(db, list_id):
                raise invalid(f"A merge field with the tag {tag} already exists.", "tag")
            number = db.execute("SELECT COALESCE(MAX(merge_id), 0) + 1 FROM merge_fields WHERE list_id=?", (list_id,)).fetchone()[0]
            db.execute("INSERT INTO merge_fields VALUES (?,?,?,?,?)", (list_id, tag, name, kind, number))
        return next(f for f in self.merge_fields(list_id, {"count": MAX_COUNT})["merge_fields"] if f["tag"] == tag)

    def _insert_segment(self, db: sqlite3.Connection, list_id: str, name: str, kind: str, options: dict) -> int:
        now = iso(self.now())
        cursor = db.execute("INSERT INTO segments (list_id, name, type, options, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                            (list_id, name, kind, json.dumps(options), now, now))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def create_segment(self, list_id: str, body: dict) -> dict:
        self._require_list(list_id)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("The field name is required.", "name")
        if ("static_segment" in body) == ("options" in body):
            raise invalid("Give either static_segment (a list of emails) or options (match and conditions).", "options")
        with self.transaction() as db:
            if "static_segment" in body:
                emails = body["static_segment"]
                if not isinstance(emails, list):
                    raise invalid("static_segment must be a list of email addresses.", "static_segment")
                segment_id = self._insert_segment(db, list_id, name, "static", {})
                self._add_to_segment(db, list_id, segment_id, emails)
            else:
                options = _segment_options(body["options"])
                segment_id = self._insert_segment(db, list_id, name, "saved", options)
        return self.get_segment(list_id, segment_id)

    def _add_to_segment(self, db: sqlite3.Connection, list_id: str, segment_id: int, emails: list) -> tuple[list, list]:
        """Emails not in the list are ignored, as Mailchimp does; returns (added, errors)."""
        added, errors = [], []
        for email in emails:
            member_hash = subscriber_hash(str(email))
            if db.execute("SELECT 1 FROM members WHERE list_id=? AND hash=?", (list_id, member_hash)).fetchone():
                db.execute("INSERT OR IGNORE INTO segment_members VALUES (?,?,?)", (segment_id, member_hash, iso(self.now())))
                added.append(email)
            else:
                errors.append({"email_addresses": [email], "error": "Email address is not a member of the list"})
        return added, errors

    def _segment_row(self, list_id: str, segment_id: int | str) -> sqlite3.Row:
        row = self._db.execute("SELECT * FROM segments WHERE list_id=? AND id=?", (list_id, int(segment_id) if str(segment_id).isdigit() else -1)).fetchone()
        if row is None:
            self._require_list(list_id)
            raise not_found(f"segment {segment_id} in list {list_id}")
        return row

    def get_segment(self, list_id: str, segment_id: int | str) -> dict:
        row = self._segment_row(list_id, segment_id)
        return {"id": row["id"], "name": row["name"], "member_count": len(self.segment_hashes(list_id, row["id"])),
                "type": row["type"], "created_at": row["created_at"], "updated_at": row["updated_at"],
                "options": json.loads(row["options"]) if row["type"] == "saved" else {}, "list_id": list_id}

    def list_segments(self, list_id: str, query: dict) -> dict:
        self._require_list(list_id)
        sql, args = "SELECT id FROM segments WHERE list_id=?", [list_id]
        if query.get("type"):
            sql += " AND type=?"
            args.append(query["type"])
        ids = [r["id"] for r in self._db.execute(sql + " ORDER BY id", args)]
        count, offset = _paging(query)
        return {"segments": [self.get_segment(list_id, i) for i in ids[offset:offset + count]], "list_id": list_id, "total_items": len(ids)}

    def update_segment(self, list_id: str, segment_id: str, body: dict) -> dict:
        row = self._segment_row(list_id, segment_id)
        with self.transaction() as db:
            if body.get("name"):
                db.execute("UPDATE segments SET name=?, updated_at=? WHERE id=?", (body["name"], iso(self.now()), row["id"]))
            if "options" in body and row["type"] == "saved":
                db.execute("UPDATE segments SET options=? WHERE id=?", (json.dumps(_segment_options(body["options"])), row["id"]))
            if "static_segment" in body and row["type"] == "static":
                db.execute("DELETE FROM segment_members WHERE segment_id=?", (row["id"],))
                self._add_to_segment(db, list_id, row["id"], body["static_segment"])
        return self.get_segment(list_id, segment_id)

    def delete_segment(self, list_id: str, segment_id: str) -> None:
        row = self._segment_row(list_id, segment_id)
        with self.transaction() as db:
            db.execute("DELETE FROM segment_members WHERE segment_id=?", (row["id"],))
            db.execute("DELETE FROM segments WHERE id=?", (row["id"],))

    def batch_segment_members(self, list_id: str, segment_id: str, body: dict) -> dict:
        row = self._segment_row(list_id, segment_id)
        if row["type"] != "static":
            raise invalid("Members can only be added to or removed from static segments.", "segment_id")
        with self.transaction() as db:
            added, errors = self._add_to_segment(db, list_id, row["id"], body.get("members_to_add", []))
            removed = []
            for email in body.get("members_to_remove", []):
                if db.execute("DELETE FROM segment_members WHERE segment_id=? AND hash=?", (row["id"], subscriber_hash(email))).rowcount:
                    removed.append(email)
        members = [self.get_member(list_id, subscriber_hash(e)) for e in added]
        return {"members_added": members, "members_removed": [{"email_address": e} for e in removed], "errors": errors,
                "total_added": len(added), "total_removed": len(removed), "error_count": len(errors)}

    def segment_members(self, list_id: str, segment_id: str, query: dict) -> dict:
        row = self._segment_row(list_id, segment_id)
        statuses = {"subscribed", "pending"} | {s for s in ("unsubscribed", "cleaned", "transactional")
                                               if str(query.get(f"include_{s}", "")).lower() == "true"}
        rows = self._db.execute("SELECT hash, status FROM members WHERE list_id=?", (list_id,)).fetchall()
        status_of = {r["hash"]: r["status"] for r in rows}
        hashes = sorted(h for h in self.segment_hashes(list_id, row["id"]) if status_of.get(h) in statuses)
        count, offset = _paging(query)
        members = [self.get_member(list_id, h) for h in hashes[offset:offset + count]]
        return {"members": members, "total_items": len(hashes)}

    def segment_hashes(self, list_id: str, segment_id: int) -> set[str]:
        """Who a segment selects now (any status; sending filters the unsubscribed)."""
        row = self._segment_row(list_id, segment_id)
        if row["type"] == "static":
            return {r["hash"] for r in self._db.execute("SELECT hash FROM segment_members WHERE segment_id=?", (row["id"],))}
        return self._matching(list_id, json.loads(row["options"]))

    def _matching(self, list_id: str, options: dict) -> set[str]:
        members = self._db.execute("SELECT * FROM members WHERE list_id=?", (list_id,)).fetchall()
        tags: dict[int, set[str]] = {}
        for row in self._db.execute("SELECT m.segment_id, m.hash FROM segment_members m JOIN segments s ON s.id=m.segment_id WHERE s.list_id=?", (list_id,)):
            tags.setdefault(row["segment_id"], set()).add(row["hash"])
        combine = all if options.get("match", "all") == "all" else any
        return {m["hash"] for m in members if combine(_condition_holds(c, m, tags) for c in options.get("conditions", []))}

    # -- campaign folders ----------------------------------------------------------------------
    def create_folder(self, body: dict) -> dict:
        if not body.get("name"):
            raise invalid("The field name is required.", "name")
        with self.transaction() as db:
            folder_id = uuid.uuid4().hex[:10]
            db.execute("INSERT INTO folders VALUES (?,?)", (folder_id, body["name"]))
        return {"id": folder_id, "name": body["name"], "count": 0}

    def rename_folder(self, folder_id: str, body: dict) -> dict:
        if not body.get("name"):
            raise invalid("The field name is required.", "name")
        with self.transaction() as db:
            if not db.execute("UPDATE folders SET name=? WHERE id=?", (body["name"], folder_id)).rowcount:
                raise not_found(f"campaign folder {folder_id}")
        return {"id": folder_id, "name": body["name"], "count": 0}

    def folders(self, query: dict) -> dict:
        rows = self._db.execute("SELECT f.id, f.name, (SELECT COUNT(*) FROM campaigns c WHERE json_extract(c.settings, '$.folder_id') = f.id) n "
                                "FROM folders f ORDER BY f.name").fetchall()
        count, offset = _paging(query)
        return {"folders": [{"id": r["id"], "name": r["name"], "count": r["n"]} for r in rows[offset:offset + count]], "total_items": len(rows)}

    # -- campaigns -----------------------------------------------------------------------------
    def create_campaign(self, body: dict) -> dict:
        kind = body.get("type")
        if kind not in CAMPAIGN_TYPES:
            raise invalid(f"type must be one of {', '.join(sorted(CAMPAIGN_TYPES))}.", "type")
        recipients = body.get("recipients") or {}
        settings = dict(body.get("settings") or {})
        if settings.get("folder_id") and not self._db.execute("SELECT 1 FROM folders WHERE id=?", (settings["folder_id"],)).fetchone():
            raise invalid(f"folder_id {settings['folder_id']!r} does not exist.", "settings.folder_id")
        snapshot = self._snapshot(recipients)
        with self.transaction() as db:
            campaign_id = uuid.uuid4().hex[:10]
            web_id = db.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0] + 1
            db.execute("INSERT INTO campaigns (id, web_id, type, status, create_time, send_time, recipients, settings, tracking, snapshot) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (campaign_id, web_id, kind, "save", iso(self.now()), None, json.dumps(recipients), json.dumps(settings),
                        json.dumps(body.get("tracking") or {"opens": True, "html_clicks": True, "text_clicks": False}), json.dumps(snapshot)))
        return self.get_campaign(campaign_id)

    def _snapshot(self, recipients: dict) -> list[str]:
        """Who the campaign will go to, fixed now (Mailchimp Standard plans snapshot segments at creation)."""
        list_id = recipients.get("list_id")
        if not list_id:
            return []
        self._require_list(list_id)
        options = recipients.get("segment_opts") or {}
        if options.get("saved_segment_id"):
            return sorted(self.segment_hashes(list_id, options["saved_segment_id"]))
        if options.get("conditions"):
            return sorted(self._matching(list_id, _segment_options(options)))
        return sorted(r["hash"] for r in self._db.execute("SELECT hash FROM members WHERE list_id=?", (list_id,)))

    def _campaign_row(self, campaign_id: str) -> sqlite3.Row:
        row = self._db.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
        if row is None:
            raise not_found(f"campaign {campaign_id}")
        return row

    def get_campaign(self, campaign_id: str) -> dict:
        row = self._campaign_row(campaign_id)
        recipients = json.loads(row["recipients"])
        snapshot = json.loads(row["snapshot"])
        list_name = ""
        if recipients.get("list_id"):
            found = self._db.execute("SELECT name FROM lists WHERE id=?", (recipients["list_id"],)).fetchone()
            list_name = found["name"] if found else ""
        campaign = {"id": row["id"], "web_id": row["web_id"], "type": row["type"], "create_time": row["create_time"],
                "archive_url": f"http://sandbox.invalid/archive/{row['id']}", "long_archive_url": f"http://sandbox.invalid/archive/{row['id']}",
                "status": row["status"], "emails_sent": row["emails_sent"],
                "content_type": "html", "needs_block_refresh": False, "resendable": False,
                "recipients": {"list_id": recipients.get("list_id", ""), "list_is_active": True, "list_name": list_name,
                               "segment_text": "", "recipient_count": len(snapshot), "segment_opts": recipients.get("segment_opts") or {}},
                "settings": json.loads(row["settings"]), "tracking": json.loads(row["tracking"]),
                "delivery_status": {"enabled": row["status"] in ("sending", "sent")}}
        if row["send_time"]:  # absent until scheduled or sent
            campaign["send_time"] = row["send_time"]
        return campaign

    def list_campaigns(self, query: dict) -> dict:
        sql, args = "SELECT id FROM campaigns WHERE 1=1", []
        for param, column in (("status", "status"), ("type", "type")):
            if query.get(param):
                sql += f" AND {column}=?"
                args.append(query[param])
        if query.get("list_id"):
            sql += " AND json_extract(recipients, '$.list_id')=?"
            args.append(query["list_id"])
        if query.get("folder_id"):
            sql += " AND json_extract(settings, '$.folder_id')=?"
            args.append(query["folder_id"])
        for param, clause in (("since_create_time", "create_time >= ?"), ("before_create_time", "create_time < ?"),
                              ("since_send_time", "send_time >= ?"), ("before_send_time", "send_time < ?")):
            if query.get(param):
                sql += f" AND {clause}"
                args.append(iso(parse_time(query[param], param)))
        field = {"create_time": "create_time", "send_time": "send_time"}.get(query.get("sort_field", ""), "create_time")
        direction = "DESC" if str(query.get("sort_dir", "")).upper() == "DESC" else "ASC"
        ids = [r["id"] for r in self._db.execute(f"{sql} ORDER BY {field} {direction}, web_id {direction}", args)]
        count, offset = _paging(query)
        return {"campaigns": [self.get_campaign(i) for i in ids[offset:offset + count]], "total_items": len(ids)}

    def _require_unsent(self, row: sqlite3.Row, action: str) -> None:
        if row["status"] in ("sending", "sent"):
            raise ApiError(400, "Bad Request", f"This campaign has already been sent and cannot be {action}.")

    def update_campaign(self, campaign_id: str, body: dict) -> dict:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "changed")
        with self.transaction() as db:
            if "settings" in body:
                settings = {**json.loads(row["settings"]), **(body["settings"] or {})}
                db.execute("UPDATE campaigns SET settings=? WHERE id=?", (json.dumps(settings), campaign_id))
            if "recipients" in body:
                recipients = body["recipients"] or {}
                db.execute("UPDATE campaigns SET recipients=?, snapshot=? WHERE id=?",
                           (json.dumps(recipients), json.dumps(self._snapshot(recipients)), campaign_id))
            if "tracking" in body:
                db.execute("UPDATE campaigns SET tracking=? WHERE id=?", (json.dumps(body["tracking"]), campaign_id))
        return self.get_campaign(campaign_id)

    def delete_campaign(self, campaign_id: str) -> None:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "deleted")
        with self.transaction() as db:
            db.execute("DELETE FROM campaigns WHERE id=?", (campaign_id,))

    def set_content(self, campaign_id: str, body: dict) -> dict:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "changed")
        if not isinstance(body.get("html"), str) and not isinstance(body.get("plain_text"), str):
            raise invalid("Give the campaign's html (and plain_text).", "html")
        with self.transaction() as db:
            db.execute("UPDATE campaigns SET html=?, plain_text=? WHERE id=?", (body.get("html"), body.get("plain_text"), campaign_id))
        return self.get_content(campaign_id)

    def get_content(self, campaign_id: str) -> dict:
        row = self._campaign_row(campaign_id)
        return {"plain_text": row["plain_text"] or "", "html": row["html"] or "", "archive_html": row["html"] or ""}

    def checklist(self, campaign_id: str) -> dict:
        row = self._campaign_row(campaign_id)
        settings, recipients = json.loads(row["settings"]), json.loads(row["recipients"])
        html = row["html"] or ""
        checks = [
            (bool(recipients.get("list_id")), "Audience", "Choose the audience this campaign goes to."),
            (bool(settings.get("subject_line")), "Subject line", "The campaign needs a subject line."),
            (bool(settings.get("from_name")), "From name", "The campaign needs a from name."),
            (bool(settings.get("reply_to")), "Reply-to address", "The campaign needs a reply-to email address."),
            (bool(html), "Content", "The campaign has no content yet."),
            (UNSUB_TAG in html, "Unsubscribe link", "Custom HTML must contain the *|UNSUB|* merge tag."),
            (any(tag in html for tag in ADDRESS_TAGS), "Mailing address",
             "Custom HTML must contain the audience's address merge tag, such as *|HTML:LIST_ADDRESS_HTML|*."),
        ]
        items = [{"type": "success" if ok else "error", "id": number, "heading": heading, "details": "Looks good." if ok else details}
                 for number, (ok, heading, details) in enumerate(checks, start=1)]
        return {"is_ready": all(ok for ok, _, _ in checks), "items": items}

    def schedule(self, campaign_id: str, body: dict) -> None:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "scheduled")
        if row["status"] == "schedule":
            raise ApiError(400, "Bad Request", "This campaign is already scheduled; unschedule it first.")
        if "schedule_time" not in body:
            raise invalid("The field schedule_time is required.", "schedule_time")
        when = parse_time(body["schedule_time"], "schedule_time")
        if when.utcoffset() != dt.timedelta(0):
            raise invalid("schedule_time must be given in UTC.", "schedule_time")
        if when.minute % 15 or when.second or when.microsecond:
            raise invalid("Campaigns may only be scheduled to send on the quarter-hour (:00, :15, :30, :45).", "schedule_time")
        if when <= self.now():
            raise invalid(f"schedule_time must be in the future (it is now {iso(self.now())}).", "schedule_time")
        checklist = self.checklist(campaign_id)
        if not checklist["is_ready"]:
            problems = "; ".join(i["details"] for i in checklist["items"] if i["type"] == "error")
            raise ApiError(400, "Bad Request", f"This campaign is not ready to send: {problems}")
        with self.transaction() as db:
            db.execute("UPDATE campaigns SET status='schedule', send_time=? WHERE id=?", (iso(when), campaign_id))

    def unschedule(self, campaign_id: str) -> None:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "unscheduled")
        if row["status"] != "schedule":
            raise ApiError(400, "Bad Request", "This campaign is not scheduled.")
        with self.transaction() as db:
            db.execute("UPDATE campaigns SET status='save', send_time=NULL WHERE id=?", (campaign_id,))

    def pause(self, campaign_id: str) -> None:
        """What a marketer's Pause does to a scheduled campaign: it stays, and does not send until resumed."""
        self._move(campaign_id, {"schedule"}, "paused", "Only a scheduled campaign can be paused.")

    def resume(self, campaign_id: str) -> None:
        self._move(campaign_id, {"paused"}, "schedule", "Only a paused campaign can be resumed.")

    def cancel_send(self, campaign_id: str) -> None:
        """A canceled campaign never sends (Mailchimp cancels one that is scheduled or sending)."""
        self._move(campaign_id, {"schedule", "sending", "paused"}, "canceled", "This campaign is not scheduled or sending.")

    def _move(self, campaign_id: str, allowed: set[str], status: str, refusal: str) -> None:
        row = self._campaign_row(campaign_id)
        if row["status"] not in allowed:
            raise ApiError(400, "Bad Request", refusal)
        with self.transaction() as db:
            db.execute("UPDATE campaigns SET status=? WHERE id=?", (status, campaign_id))

    def send_now(self, campaign_id: str) -> None:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "sent again")
        if not self.checklist(campaign_id)["is_ready"]:
            raise ApiError(400, "Bad Request", "This campaign is not ready to send; see its send checklist.")
        with self.transaction() as db:
            self._deliver(db, campaign_id, iso(self.now()))
            db.execute("UPDATE campaigns SET send_time=? WHERE id=?", (iso(self.now()), campaign_id))

    def send_test(self, campaign_id: str, body: dict) -> None:
        row = self._campaign_row(campaign_id)
        emails, send_type = body.get("test_emails"), body.get("send_type")
        if not isinstance(emails, list) or not emails:
            raise invalid("test_emails must list at least one address.", "test_emails")
        for email in emails:
            if not isinstance(email, str) or not EMAIL.match(email):
                raise invalid(f"{email!r} is not a valid email address.", "test_emails")
        if send_type not in ("html", "plaintext"):
            raise invalid("send_type must be html or plaintext.", "send_type")
        if not row["html"]:
            raise ApiError(400, "Bad Request", "The campaign has no content to test.")
        with self.transaction() as db:
            for email in emails:
                db.execute("INSERT INTO test_emails VALUES (?,?,?,?)", (campaign_id, email, send_type, iso(self.now())))

    def test_emails(self) -> list[dict]:
        return [dict(r) for r in self._db.execute("SELECT * FROM test_emails ORDER BY sent_at, email")]

    def report(self, campaign_id: str) -> dict:
        campaign = self.get_campaign(campaign_id)
        return {"id": campaign_id, "campaign_title": campaign["settings"].get("title", ""), "type": campaign["type"],
                "list_id": campaign["recipients"]["list_id"], "list_name": campaign["recipients"]["list_name"],
                "subject_line": campaign["settings"].get("subject_line", ""), "emails_sent": campaign["emails_sent"],
                "send_time": campaign.get("send_time", ""), "unsubscribed": 0, "abuse_reports": 0}


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


def _merge_fields(body: dict, current: dict, known: set[str]) -> dict:
    """Mailchimp refuses merge tags the audience does not have, and text longer than 255 characters."""
    fields = body.get("merge_fields", {})
    if not isinstance(fields, dict):
        raise invalid("merge_fields must be an object of merge tag: value.", "merge_fields")
    unknown = sorted(str(k) for k in fields if str(k) not in known)
    if unknown:
        raise invalid(f"Your merge fields were invalid: {', '.join(unknown)} is not a merge field of this audience.", "merge_fields")
    for tag, value in fields.items():
        if isinstance(value, str) and len(value) > MAX_TEXT_MERGE:
            raise invalid(f"Your merge fields were invalid: {tag} is longer than {MAX_TEXT_MERGE} characters.", "merge_fields")
    return {**current, **{str(k): v for k, v in fields.items()}}


CONDITION_OPS = {
    "Date": {"greater", "less", "is", "not", "blank", "blank_not"},
    "StaticSegment": {"static_is", "static_not"},
    "TextMerge": {"is", "not", "contains", "notcontain", "starts", "ends", "blank", "blank_not", "greater", "less"},
    "EmailAddress": {"is", "not", "contains", "notcontain", "starts", "ends", "greater", "less"},
}


def _segment_options(options: Any) -> dict:
    if not isinstance(options, dict) or options.get("match", "all") not in ("all", "any"):
        raise invalid("options needs match (all or any) and conditions.", "options.match")
    conditions = options.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise invalid("options.conditions must be a non-empty list.", "options.conditions")
    for condition in conditions:
        kind = condition.get("condition_type") if isinstance(condition, dict) else None
        if kind not in CONDITION_OPS:
            raise invalid(f"condition_type {kind!r} is not supported by the sandbox; use one of {', '.join(sorted(CONDITION_OPS))}.",
                          "options.conditions.condition_type")
        if condition.get("op") not in CONDITION_OPS[kind]:
            raise invalid(f"op {condition.get('op')!r} is not valid for {kind}.", "options.conditions.op")
        if kind == "Date":
            if condition.get("field") != "timestamp_opt":
                raise invalid("The sandbox evaluates Date conditions on timestamp_opt only.", "options.conditions.field")
            if condition["op"] not in ("blank", "blank_not"):
                try:
                    dt.date.fromisoformat(str(condition.get("extra")))
                except ValueError:
                    raise invalid("A Date condition's extra must be a date like 2026-11-01.", "options.conditions.extra") from None
    return {"match": options.get("match", "all"), "conditions": conditions}


def _condition_holds(condition: dict, member: sqlite3.Row, tags: dict[int, set[str]]) -> bool:
    """One segment condition. Dates are compared as UTC calendar days, a day at a time, as Mailchimp does."""
    kind, op = condition["condition_type"], condition["op"]
    if kind == "StaticSegment":
        inside = member["hash"] in tags.get(int(condition["value"]), set())
        return inside if op == "static_is" else not inside
    if kind == "Date":
        day = dt.datetime.fromisoformat(member["timestamp_opt"]).astimezone(UTC).date().isoformat()
        if op in ("blank", "blank_not"):
            return op == "blank_not"
        extra = str(condition["extra"])
        return {"greater": day > extra, "less": day < extra, "is": day == extra, "not": day != extra}[op]
    value = member["email"] if kind == "EmailAddress" else str(json.loads(member["merge_fields"]).get(condition.get("field"), ""))
    wanted = str(condition.get("value", ""))
    return {"is": value.lower() == wanted.lower(), "not": value.lower() != wanted.lower(), "contains": wanted.lower() in value.lower(),
            "notcontain": wanted.lower() not in value.lower(), "starts": value.lower().startswith(wanted.lower()),
            "ends": value.lower().endswith(wanted.lower()), "blank": value == "", "blank_not": value != "",
            "greater": value > wanted, "less": value < wanted}[op]
