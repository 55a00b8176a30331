"""Tags and segments (a tag is a static segment), and segment conditions."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from mailpipe.sandbox.base import UTC, _paging, iso, stored
from mailpipe.sandbox.errors import invalid, not_found
from mailpipe.sandbox.members import Members
from mailpipe.util.vocabulary import subscriber_hash


class Segments(Members):
    """Tags (static segments) and saved segments."""

    def set_member_tags(self, list_id: str, member_hash: str, body: dict) -> None:
        self.get_member(list_id, member_hash)
        tags = body.get("tags")
        if not isinstance(tags, list) or not all(
            isinstance(t, dict) and t.get("name") and t.get("status") in ("active", "inactive") for t in tags
        ):
            raise invalid("tags must be a list of {name, status: active|inactive}.", "tags")
        with self.transaction() as db:
            for tag in tags:
                row = db.execute(
                    "SELECT id FROM segments WHERE list_id=? AND type='static' AND name=?", (list_id, tag["name"])
                ).fetchone()
                if row is None and tag["status"] == "inactive":
                    continue
                segment_id = row["id"] if row else self._insert_segment(db, list_id, tag["name"], "static", {})
                if tag["status"] == "active":
                    db.execute(
                        "INSERT OR IGNORE INTO segment_members VALUES (?,?,?)",
                        (segment_id, member_hash.lower(), iso(self.now())),
                    )
                else:
                    db.execute(
                        "DELETE FROM segment_members WHERE segment_id=? AND hash=?", (segment_id, member_hash.lower())
                    )

    def member_tags(self, list_id: str, member_hash: str) -> dict:
        """Every tag of one member with the time it was added (the member list shows at most 50, without dates)."""
        self.get_member(list_id, member_hash)
        tags = self._member_tags(list_id, member_hash.lower())
        return {
            "tags": [{"id": t["id"], "name": t["name"], "date_added": t["added_at"]} for t in tags],
            "total_items": len(tags),
        }

    def _insert_segment(self, db: sqlite3.Connection, list_id: str, name: str, kind: str, options: dict) -> int:
        now = iso(self.now())
        cursor = db.execute(
            "INSERT INTO segments (list_id, name, type, options, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (list_id, name, kind, json.dumps(options), now, now),
        )
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
                db.execute(
                    "INSERT OR IGNORE INTO segment_members VALUES (?,?,?)", (segment_id, member_hash, iso(self.now()))
                )
                added.append(email)
            else:
                errors.append({"email_addresses": [email], "error": "Email address is not a member of the list"})
        return added, errors

    def _segment_row(self, list_id: str, segment_id: int | str) -> sqlite3.Row:
        row = self._db.execute(
            "SELECT * FROM segments WHERE list_id=? AND id=?",
            (list_id, int(segment_id) if str(segment_id).isdigit() else -1),
        ).fetchone()
        if row is None:
            self._require_list(list_id)
            raise not_found(f"segment {segment_id} in list {list_id}")
        return row

    def get_segment(self, list_id: str, segment_id: int | str) -> dict:
        return self._segment_json(self._segment_row(list_id, segment_id))

    def _segment_json(self, row: sqlite3.Row, member_count: int | None = None) -> dict:
        if member_count is None:
            member_count = len(self.segment_hashes(row["list_id"], row["id"]))
        return {
            "id": row["id"],
            "name": row["name"],
            "member_count": member_count,
            "type": row["type"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "options": stored(row["options"]) if row["type"] == "saved" else {},
            "list_id": row["list_id"],
        }

    def list_segments(self, list_id: str, query: dict) -> dict:
        """One page cut in SQL; a tag's member count is one grouped count for the page."""
        self._require_list(list_id)
        where, args = "list_id=?", [list_id]
        if query.get("type"):
            where += " AND type=?"
            args.append(query["type"])
        count, offset = _paging(query)
        total = self._db.execute(f"SELECT COUNT(*) FROM segments WHERE {where}", args).fetchone()[0]
        rows = self._db.execute(
            f"SELECT * FROM segments WHERE {where} ORDER BY id LIMIT ? OFFSET ?", (*args, count, offset)
        ).fetchall()
        static = [r["id"] for r in rows if r["type"] == "static"]
        counts = (
            dict(
                self._db.execute(
                    "SELECT segment_id, COUNT(*) FROM segment_members WHERE segment_id IN "
                    f"({','.join('?' * len(static))}) "
                    "GROUP BY segment_id",
                    static,
                ).fetchall()
            )
            if static
            else {}
        )
        return {
            "segments": [
                self._segment_json(r, counts.get(r["id"], 0) if r["type"] == "static" else None) for r in rows
            ],
            "list_id": list_id,
            "total_items": total,
        }

    def tag_search(self, list_id: str, query: dict) -> dict:
        """GET /lists/{id}/tag-search?name=: the tags whose name starts with `name` (all of them without one)."""
        self._require_list(list_id)
        name = str(query.get("name") or "")
        rows = self._db.execute(
            "SELECT id, name FROM segments WHERE list_id=? AND type='static' AND substr(name, 1, ?)=? ORDER BY name",
            (list_id, len(name), name),
        ).fetchall()
        return {"tags": [{"id": r["id"], "name": r["name"]} for r in rows], "total_items": len(rows)}

    def update_segment(self, list_id: str, segment_id: str, body: dict) -> dict:
        row = self._segment_row(list_id, segment_id)
        taken = self._db.execute(
            "SELECT 1 FROM segments WHERE list_id=? AND type=? AND name=? AND id<>?",
            (list_id, row["type"], body.get("name"), row["id"]),
        ).fetchone()
        if body.get("name") and taken:
            raise invalid(f"A segment named {body['name']!r} already exists in this list.", "name")
        with self.transaction() as db:
            if body.get("name"):
                db.execute(
                    "UPDATE segments SET name=?, updated_at=? WHERE id=?", (body["name"], iso(self.now()), row["id"])
                )
            if "options" in body and row["type"] == "saved":
                db.execute(
                    "UPDATE segments SET options=? WHERE id=?",
                    (json.dumps(_segment_options(body["options"])), row["id"]),
                )
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
                if db.execute(
                    "DELETE FROM segment_members WHERE segment_id=? AND hash=?", (row["id"], subscriber_hash(email))
                ).rowcount:
                    removed.append(email)
        members = [self.get_member(list_id, subscriber_hash(e)) for e in added]
        return {
            "members_added": members,
            "members_removed": [{"email_address": e} for e in removed],
            "errors": errors,
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": len(errors),
        }

    def segment_members(self, list_id: str, segment_id: str, query: dict) -> dict:
        row = self._segment_row(list_id, segment_id)
        statuses = ["subscribed", "pending"] + [
            s
            for s in ("unsubscribed", "cleaned", "transactional")
            if str(query.get(f"include_{s}", "")).lower() == "true"
        ]
        count, offset = _paging(query)
        marks = ",".join("?" * len(statuses))
        if row["type"] == "static":  # a tag: joined and cut in SQL
            where = f"s.segment_id=? AND m.list_id=? AND m.status IN ({marks})"
            joined = "FROM segment_members s JOIN members m ON m.hash = s.hash"
            total = self._db.execute(
                f"SELECT COUNT(*) {joined} WHERE {where}", (row["id"], list_id, *statuses)
            ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT m.* {joined} WHERE {where} ORDER BY m.hash LIMIT ? OFFSET ?",
                (row["id"], list_id, *statuses, count, offset),
            ).fetchall()
            return {"members": self._members_json(rows), "total_items": total}
        status_of = {
            r["hash"]: r["status"]
            for r in self._db.execute("SELECT hash, status FROM members WHERE list_id=?", (list_id,))
        }
        hashes = sorted(h for h in self.segment_hashes(list_id, row["id"]) if status_of.get(h) in statuses)
        members = [self.get_member(list_id, h) for h in hashes[offset : offset + count]]
        return {"members": members, "total_items": len(hashes)}

    def segment_hashes(self, list_id: str, segment_id: int) -> set[str]:
        """Who a segment selects now (any status; sending filters the unsubscribed)."""
        row = self._segment_row(list_id, segment_id)
        if row["type"] == "static":
            return {
                r["hash"] for r in self._db.execute("SELECT hash FROM segment_members WHERE segment_id=?", (row["id"],))
            }
        return self._matching(list_id, stored(row["options"]))

    def _matching(self, list_id: str, options: dict) -> set[str]:
        members = self._db.execute("SELECT * FROM members WHERE list_id=?", (list_id,)).fetchall()
        tags: dict[int, set[str]] = {}
        for row in self._db.execute(
            "SELECT m.segment_id, m.hash FROM segment_members m JOIN segments s ON s.id=m.segment_id WHERE s.list_id=?",
            (list_id,),
        ):
            tags.setdefault(row["segment_id"], set()).add(row["hash"])
        combine = all if options.get("match", "all") == "all" else any
        return {
            m["hash"] for m in members if combine(_condition_holds(c, m, tags) for c in options.get("conditions", []))
        }


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
            raise invalid(
                f"condition_type {kind!r} is not supported by the sandbox; use one of "
                f"{', '.join(sorted(CONDITION_OPS))}.",
                "options.conditions.condition_type",
            )
        if condition.get("op") not in CONDITION_OPS[kind]:
            raise invalid(f"op {condition.get('op')!r} is not valid for {kind}.", "options.conditions.op")
        if kind == "Date":
            if condition.get("field") != "timestamp_opt":
                raise invalid(
                    "The sandbox evaluates Date conditions on timestamp_opt only.", "options.conditions.field"
                )
            if condition["op"] not in ("blank", "blank_not"):
                try:
                    dt.date.fromisoformat(str(condition.get("extra")))
                except ValueError:
                    raise invalid(
                        "A Date condition's extra must be a date like 2026-11-01.", "options.conditions.extra"
                    ) from None
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
    value = (
        member["email"]
        if kind == "EmailAddress"
        else str(stored(member["merge_fields"]).get(condition.get("field"), ""))
    )
    wanted = str(condition.get("value", ""))
    return {
        "is": value.lower() == wanted.lower(),
        "not": value.lower() != wanted.lower(),
        "contains": wanted.lower() in value.lower(),
        "notcontain": wanted.lower() not in value.lower(),
        "starts": value.lower().startswith(wanted.lower()),
        "ends": value.lower().endswith(wanted.lower()),
        "blank": value == "",
        "blank_not": value != "",
        "greater": value > wanted,
        "less": value < wanted,
    }[op]
