"""Audiences (lists) and their merge fields."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid

from mailpipe.sandbox.base import DEFAULT_MERGE_FIELDS, MAX_COUNT, StoreBase, _paging, _web_id, iso, stored
from mailpipe.sandbox.errors import invalid, not_found


class Lists(StoreBase):
    """Audiences and their merge fields."""

    def create_list(self, body: dict, list_id: str | None = None) -> dict:
        for field in ("name", "contact", "permission_reminder", "campaign_defaults"):
            if field not in body:
                raise invalid(f"The field {field} is required.", field)
        contact = body["contact"]
        if not isinstance(contact, dict) or not all(
            contact.get(k) for k in ("company", "address1", "city", "state", "zip", "country")
        ):
            raise invalid(
                "contact needs company, address1, city, state, zip and country: the postal address of every "
                "email's footer.",
                "contact",
            )
        with self.transaction() as db:
            list_id = list_id or uuid.uuid4().hex[:10]
            db.execute(
                "INSERT OR REPLACE INTO lists VALUES (?,?,?,?,?,?)",
                (
                    list_id,
                    body["name"],
                    json.dumps(contact),
                    body["permission_reminder"],
                    json.dumps(body["campaign_defaults"]),
                    iso(self.now()),
                ),
            )
            for number, (tag, name) in enumerate(DEFAULT_MERGE_FIELDS, start=1):
                db.execute(
                    "INSERT OR IGNORE INTO merge_fields VALUES (?,?,?,?,?)", (list_id, tag, name, "text", number)
                )
        return self.get_list(list_id)

    def get_list(self, list_id: str) -> dict:
        row = self._db.execute("SELECT * FROM lists WHERE id=?", (list_id,)).fetchone()
        if not row:
            raise not_found(f"list {list_id}")
        counts = self._db.execute(
            "SELECT status, COUNT(*) n FROM members WHERE list_id=? GROUP BY status", (list_id,)
        ).fetchall()
        by_status = {r["status"]: r["n"] for r in counts}
        return {
            "id": row["id"],
            "web_id": _web_id(row["id"]),
            "name": row["name"],
            "contact": stored(row["contact"]),
            "permission_reminder": row["permission_reminder"],
            "campaign_defaults": stored(row["campaign_defaults"]),
            "date_created": row["date_created"],
            "list_rating": 0,
            "email_type_option": False,
            "use_archive_bar": False,
            "visibility": "prv",
            "double_optin": False,
            "has_welcome": False,
            "marketing_permissions": False,
            "stats": {
                "member_count": by_status.get("subscribed", 0),
                "unsubscribe_count": by_status.get("unsubscribed", 0),
                "cleaned_count": by_status.get("cleaned", 0),
            },
        }

    def lists(self) -> dict:
        ids = [r["id"] for r in self._db.execute("SELECT id FROM lists ORDER BY date_created, id")]
        return {"lists": [self.get_list(i) for i in ids], "total_items": len(ids)}

    # -- the account: what `mailpipe doctor` asks before going live -----------------------------------
    def account(self) -> dict:
        """GET /: the account; `pricing_plan_type` says whether it may schedule (the Free plan may not)."""
        plan = self._meta("pricing_plan_type") or "monthly"
        return {
            "account_id": "sandbox",
            "login_id": "sandbox",
            "account_name": "AIVI Aesthetics (sandbox)",
            "email": "",
            "pricing_plan_type": plan,
            "role": "owner",
            "total_subscribers": self._db.execute(
                "SELECT COUNT(*) n FROM members WHERE status='subscribed'"
            ).fetchone()["n"],
        }

    def verified_domains(self) -> dict:
        """GET /verified-domains."""
        domains = stored(self._meta("verified_domains") or "{}")
        return {
            "domains": [
                {"domain": d, "verified": v, "authenticated": v, "verification_email": ""}
                for d, v in sorted(domains.items())
            ],
            "total_items": len(domains),
        }

    def set_domain(self, domain: str, verified: bool) -> None:
        """A sending domain as the account has it (verified and authenticated, or added but not yet)."""
        with self.transaction() as db:
            domains = stored(self._meta("verified_domains") or "{}") | {domain.lower(): verified}
            db.execute("INSERT OR REPLACE INTO meta VALUES ('verified_domains', ?)", (json.dumps(domains),))

    def set_plan(self, plan: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('pricing_plan_type', ?)", (plan,))

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    def _require_list(self, list_id: str) -> None:
        if not self._db.execute("SELECT 1 FROM lists WHERE id=?", (list_id,)).fetchone():
            raise not_found(f"list {list_id}")

    # -- merge fields --------------------------------------------------------------------------
    def _merge_tags(self, db: sqlite3.Connection, list_id: str) -> set[str]:
        return {r["tag"] for r in db.execute("SELECT tag FROM merge_fields WHERE list_id=?", (list_id,))}

    def merge_fields(self, list_id: str, query: dict) -> dict:
        self._require_list(list_id)
        rows = self._db.execute("SELECT * FROM merge_fields WHERE list_id=? ORDER BY merge_id", (list_id,)).fetchall()
        count, offset = _paging(query)
        fields = [
            {
                "merge_id": r["merge_id"],
                "tag": r["tag"],
                "name": r["name"],
                "type": r["type"],
                "required": False,
                "default_value": "",
                "public": False,
                "display_order": r["merge_id"],
                "list_id": list_id,
            }
            for r in rows
        ]
        return {"merge_fields": fields[offset : offset + count], "list_id": list_id, "total_items": len(fields)}

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
            number = db.execute(
                "SELECT COALESCE(MAX(merge_id), 0) + 1 FROM merge_fields WHERE list_id=?", (list_id,)
            ).fetchone()[0]
            db.execute("INSERT INTO merge_fields VALUES (?,?,?,?,?)", (list_id, tag, name, kind, number))
        return next(f for f in self.merge_fields(list_id, {"count": MAX_COUNT})["merge_fields"] if f["tag"] == tag)
