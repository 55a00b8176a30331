"""Members: upserts that never re-subscribe, archive, the member list."""

from __future__ import annotations

import json
import sqlite3
import uuid

from mailpipe.sandbox.base import (
    MAX_BATCH,
    MAX_MEMBER_TAGS,
    MAX_TEXT_MERGE,
    MEMBER_STATUSES,
    _paging,
    _web_id,
    iso,
    parse_time,
    stored,
)
from mailpipe.sandbox.errors import ApiError, invalid, not_found
from mailpipe.sandbox.lists import Lists
from mailpipe.util.vocabulary import EMAIL, subscriber_hash


class Members(Lists):
    """Members of an audience."""

    def upsert_member(self, list_id: str, member_hash: str, body: dict) -> dict:
        """PUT: create the member (status_if_new) or update it (status only if given)."""
        self._require_list(list_id)
        email = body.get("email_address")
        if not isinstance(email, str) or not EMAIL.match(email.strip()):
            raise invalid(f"{email!r} looks fake or invalid, please enter a real email address.", "email_address")
        if subscriber_hash(email) != member_hash.lower():
            raise invalid(
                "The subscriber hash in the URL is not the MD5 of the lower-cased email address.", "email_address"
            )
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM members WHERE list_id=? AND hash=?", (list_id, member_hash.lower())
            ).fetchone()
            now = iso(self.now())
            if row is None:
                status = body.get("status_if_new") or body.get("status")
                if status not in MEMBER_STATUSES - {"archived"}:
                    raise invalid(
                        "status_if_new must be one of subscribed, unsubscribed, cleaned, pending, transactional.",
                        "status_if_new",
                    )
                opt = iso(parse_time(body["timestamp_opt"], "timestamp_opt")) if body.get("timestamp_opt") else now
                db.execute(
                    "INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        list_id,
                        member_hash.lower(),
                        email.strip(),
                        status,
                        json.dumps(_merge_fields(body, {}, self._merge_tags(db, list_id))),
                        opt,
                        iso(parse_time(body["timestamp_signup"], "timestamp_signup"))
                        if body.get("timestamp_signup")
                        else opt,
                        now,
                        uuid.uuid4().hex[:10],
                    ),
                )
            else:
                self._update_member(db, row, body, now)
        return self.get_member(list_id, member_hash)

    def batch_subscribe(self, list_id: str, body: dict) -> dict:
        """POST /lists/{list_id}: up to 500 members at once; each address is judged on its own (Mailchimp's batch
        subscribe)."""
        self._require_list(list_id)
        members = body.get("members")
        if not isinstance(members, list) or not 1 <= len(members) <= MAX_BATCH:
            raise invalid(f"members must be a list of 1 to {MAX_BATCH} members.", "members")
        update = bool(body.get("update_existing"))
        created: list[dict] = []
        updated: list[dict] = []
        errors: list[dict] = []
        for entry in members:
            email = entry.get("email_address") if isinstance(entry, dict) else None
            if (
                not isinstance(email, str)
                or not EMAIL.match(email.strip())
                or email.strip().lower().endswith(".invalid")
            ):
                errors.append(
                    {
                        "email_address": email,
                        "error": f"{email} looks fake or invalid, please enter a real email address.",
                        "error_code": "ERROR_FAKE_EMAIL",
                    }
                )
                continue
            member_hash = subscriber_hash(email)
            exists = self._db.execute(
                "SELECT 1 FROM members WHERE list_id=? AND hash=?", (list_id, member_hash)
            ).fetchone()
            if exists and not update:
                errors.append(
                    {
                        "email_address": email,
                        "error": f"{email} is already a list member.",
                        "error_code": "ERROR_CONTACT_EXISTS",
                    }
                )
                continue
            if not exists and not entry.get("status"):  # a batch's members have `status` (no `status_if_new`)
                errors.append(
                    {
                        "email_address": email,
                        "error": "a new member needs a status (subscribed, pending, …)",
                        "error_code": "ERROR_GENERIC",
                    }
                )
                continue
            try:
                kept = {k: v for k, v in entry.items() if k != "status_if_new" and (k != "status" or not exists)}
                member = self.upsert_member(list_id, member_hash, kept)
            except ApiError as err:
                errors.append({"email_address": email, "error": err.detail, "error_code": "ERROR_GENERIC"})
                continue
            (updated if exists else created).append(member)
        return {
            "new_members": created,
            "updated_members": updated,
            "errors": errors,
            "total_created": len(created),
            "total_updated": len(updated),
            "error_count": len(errors),
        }

    def patch_member(self, list_id: str, member_hash: str, body: dict) -> dict:
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM members WHERE list_id=? AND hash=?", (list_id, member_hash.lower())
            ).fetchone()
            if row is None:
                raise not_found(f"member {member_hash} in list {list_id}")
            self._update_member(db, row, body, iso(self.now()))
        return self.get_member(list_id, member_hash)

    def _update_member(self, db: sqlite3.Connection, row: sqlite3.Row, body: dict, now: str) -> None:
        status = body.get("status", row["status"])
        if status not in MEMBER_STATUSES:
            raise invalid(f"status {status!r} is not one of {', '.join(sorted(MEMBER_STATUSES))}.", "status")
        opt = (
            iso(parse_time(body["timestamp_opt"], "timestamp_opt"))
            if body.get("timestamp_opt")
            else row["timestamp_opt"]
        )
        merge_fields = json.dumps(
            _merge_fields(body, stored(row["merge_fields"]), self._merge_tags(db, row["list_id"]))
        )
        if (status, merge_fields, opt) == (row["status"], row["merge_fields"], row["timestamp_opt"]):
            return  # nothing changed, so neither does last_changed
        db.execute(
            "UPDATE members SET status=?, merge_fields=?, timestamp_opt=?, last_changed=? WHERE list_id=? AND hash=?",
            (status, merge_fields, opt, now, row["list_id"], row["hash"]),
        )

    def archive_member(self, list_id: str, member_hash: str) -> None:
        with self.transaction() as db:
            found = db.execute(
                "UPDATE members SET status='archived', last_changed=? WHERE list_id=? AND hash=?",
                (iso(self.now()), list_id, member_hash.lower()),
            ).rowcount
            if not found:
                raise not_found(f"member {member_hash} in list {list_id}")

    def get_member(self, list_id: str, member_hash: str) -> dict:
        row = self._db.execute(
            "SELECT * FROM members WHERE list_id=? AND hash=?", (list_id, member_hash.lower())
        ).fetchone()
        if row is None:
            self._require_list(list_id)
            raise not_found(f"member {member_hash} in list {list_id}")
        return self._member_json(row)

    def _member_json(self, row: sqlite3.Row, tags: list[sqlite3.Row] | None = None) -> dict:
        tags = self._member_tags(row["list_id"], row["hash"]) if tags is None else tags
        return {
            "id": row["hash"],
            "email_address": row["email"],
            "unique_email_id": row["unique_email_id"],
            "web_id": _web_id(row["hash"]),
            "email_type": "html",
            "status": row["status"],
            "merge_fields": stored(row["merge_fields"]),
            "interests": {},
            "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
            "ip_signup": "",
            "timestamp_signup": row["timestamp_signup"],
            "ip_opt": "",
            "timestamp_opt": row["timestamp_opt"],
            "member_rating": 2,
            "last_changed": row["last_changed"],
            "language": "",
            "vip": False,
            "email_client": "",
            "source": "API - Generic",
            "tags_count": len(tags),
            "tags": [{"id": t["id"], "name": t["name"]} for t in tags[:MAX_MEMBER_TAGS]],
            "list_id": row["list_id"],
        }

    def _member_tags(self, list_id: str, member_hash: str) -> list[sqlite3.Row]:
        return self._tags_of(list_id, [member_hash]).get(member_hash, [])

    def _tags_of(self, list_id: str, hashes: list[str]) -> dict[str, list[sqlite3.Row]]:
        """Each member's tags (id, name, added_at), newest first, in one query per 500 members (SQLite's parameter
        limit)."""
        tags: dict[str, list[sqlite3.Row]] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            for tag in self._db.execute(
                "SELECT m.hash, s.id, s.name, m.added_at FROM segment_members m JOIN segments s ON s.id = m.segment_id "
                f"WHERE s.list_id=? AND s.type='static' AND m.hash IN ({','.join('?' * len(chunk))}) "
                "ORDER BY m.added_at DESC, s.name",
                (list_id, *chunk),
            ):
                tags.setdefault(tag["hash"], []).append(tag)
        return tags

    def _members_json(self, rows: list[sqlite3.Row]) -> list[dict]:
        """A page of members with their tags, read in one query for the page (not one per member)."""
        tags = {
            list_id: self._tags_of(list_id, [r["hash"] for r in rows if r["list_id"] == list_id])
            for list_id in {r["list_id"] for r in rows}
        }
        return [self._member_json(r, tags[r["list_id"]].get(r["hash"], [])) for r in rows]

    def list_members(self, list_id: str, query: dict) -> dict:
        """One page, filtered, counted and cut in SQL on indexed columns: linear in the page, not the audience."""
        self._require_list(list_id)
        where, args = "list_id=?", [list_id]
        if query.get("status"):
            where += " AND status=?"
            args.append(query["status"])
        for param, column, op in (
            ("since_timestamp_opt", "timestamp_opt", ">"),
            ("before_timestamp_opt", "timestamp_opt", "<"),
            ("since_last_changed", "last_changed", ">"),
            ("before_last_changed", "last_changed", "<"),
        ):
            if query.get(param):
                where += f" AND {column} {op} ?"
                args.append(iso(parse_time(query[param], param)))
        count, offset = _paging(query)
        total = self._db.execute(f"SELECT COUNT(*) FROM members WHERE {where}", args).fetchone()[0]
        rows = self._db.execute(
            f"SELECT * FROM members WHERE {where} ORDER BY timestamp_opt, hash LIMIT ? OFFSET ?", (*args, count, offset)
        ).fetchall()
        return {"members": self._members_json(rows), "list_id": list_id, "total_items": total}


def _merge_fields(body: dict, current: dict, known: set[str]) -> dict:
    """Mailchimp refuses merge tags the audience does not have, and text longer than 255 characters."""
    fields = body.get("merge_fields", {})
    if not isinstance(fields, dict):
        raise invalid("merge_fields must be an object of merge tag: value.", "merge_fields")
    unknown = sorted(str(k) for k in fields if str(k) not in known)
    if unknown:
        raise invalid(
            f"Your merge fields were invalid: {', '.join(unknown)} is not a merge field of this audience.",
            "merge_fields",
        )
    for tag, value in fields.items():
        if isinstance(value, str) and len(value) > MAX_TEXT_MERGE:
            raise invalid(
                f"Your merge fields were invalid: {tag} is longer than {MAX_TEXT_MERGE} characters.", "merge_fields"
            )
    return {**current, **{str(k): v for k, v in fields.items()}}
