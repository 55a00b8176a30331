"""Campaign folders, campaigns, their content, checklist, schedule and sending, and deliveries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import uuid

from mailpipe.sandbox.base import ADDRESS_TAGS, CAMPAIGN_TYPES, UNSUB_TAG, _paging, iso, parse_time, stored
from mailpipe.sandbox.errors import ApiError, invalid, not_found
from mailpipe.sandbox.segments import Segments, _segment_options
from mailpipe.util.vocabulary import EMAIL, subscriber_hash


def engagement(seed: str, title: str, email: str) -> tuple[int, int, int, int]:
    """How a recipient reacts to a campaign, the same for the same seed, title and address: (bounced, opens, clicks,
    unsubscribed). About 2% bounce, 45% open (1 to 3 times), a quarter of openers click, 1.5% unsubscribe."""
    draw = hashlib.sha256(f"{seed}|{title}|{email.lower()}".encode()).digest()
    if draw[0] < 5:
        return 1, 0, 0, 0
    opens = 1 + draw[4] % 3 if draw[1] < 115 else 0
    clicks = 1 + draw[5] % 2 if opens and draw[2] < 64 else 0
    return 0, opens, clicks, int(draw[3] < 4)


CONDITION_FORMS = ("as-written", "internal", "none")


class Campaigns(Segments):
    """Campaigns, folders, sending and deliveries."""

    def advance(self, to: dt.datetime) -> list[dict]:
        """Move the clock to `to`, sending every scheduled campaign whose time has come, in order."""
        sent = []
        with self.transaction() as db:
            if to < self.now():
                raise invalid(f"the sandbox clock is at {iso(self.now())}; it only moves forward")
            due = db.execute(
                "SELECT id, send_time FROM campaigns WHERE status='schedule' AND send_time <= ? ORDER BY send_time, id",
                (iso(to),),
            ).fetchall()
            for row in due:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (row["send_time"],))
                sent.append(self._deliver(db, row["id"], row["send_time"]))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (iso(to),))
        return sent

    def _deliver(self, db: sqlite3.Connection, campaign_id: str, when: str) -> dict:
        """Send to the members the campaign's segment held when it was created who are still subscribed."""
        campaign = db.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
        list_id = stored(campaign["recipients"])["list_id"]
        snapshot = stored(campaign["snapshot"])
        if self.segment_timing() == "send":  # Free and Essentials: the segment as it is now
            snapshot = self._snapshot(stored(campaign["recipients"]))
        count = 0
        for member_hash in snapshot:
            member = db.execute(
                "SELECT email, status FROM members WHERE list_id=? AND hash=?", (list_id, member_hash)
            ).fetchone()
            if member and member["status"] == "subscribed":
                db.execute(
                    "INSERT OR IGNORE INTO deliveries VALUES (?,?,?,?,?)",
                    (campaign_id, list_id, member_hash, member["email"], when),
                )
                count += 1
                seed = self.engagement_seed(db)
                if seed is not None:  # recipients react only in a sandbox given a seed (the demo, report tests)
                    reaction = engagement(seed, stored(campaign["settings"]).get("title", ""), member["email"])
                    db.execute(
                        "INSERT OR REPLACE INTO activity VALUES (?,?,?,?,?,?)", (campaign_id, member_hash, *reaction)
                    )
                    if reaction[3]:  # clicked *|UNSUB|*: Mailchimp unsubscribes at once
                        db.execute(
                            "UPDATE members SET status='unsubscribed', last_changed=? WHERE list_id=? AND hash=?",
                            (when, list_id, member_hash),
                        )
        db.execute("UPDATE campaigns SET status='sent', emails_sent=? WHERE id=?", (count, campaign_id))
        return {"campaign_id": campaign_id, "send_time": when, "emails_sent": count}

    def deliveries(self, email: str | None = None) -> list[dict]:
        query = (
            "SELECT d.delivered_at, d.email, d.campaign_id, c.settings, d.list_id FROM deliveries d "
            "JOIN campaigns c ON c.id = d.campaign_id"
        )
        args: tuple = ()
        if email:
            query += " WHERE d.hash = ?"
            args = (subscriber_hash(email),)
        rows = self._db.execute(query + " ORDER BY d.delivered_at, d.email, d.campaign_id", args).fetchall()
        return [
            {
                "delivered_at": r["delivered_at"],
                "email": r["email"],
                "campaign_id": r["campaign_id"],
                "list_id": r["list_id"],
                "title": stored(r["settings"]).get("title", ""),
                "subject": stored(r["settings"]).get("subject_line", ""),
            }
            for r in rows
        ]

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
        rows = self._db.execute(
            "SELECT f.id, f.name, (SELECT COUNT(*) FROM campaigns c WHERE json_extract(c.settings, '$.folder_id') "
            "= f.id) n "
            "FROM folders f ORDER BY f.name"
        ).fetchall()
        count, offset = _paging(query)
        return {
            "folders": [{"id": r["id"], "name": r["name"], "count": r["n"]} for r in rows[offset : offset + count]],
            "total_items": len(rows),
        }

    # -- campaigns -----------------------------------------------------------------------------
    def create_campaign(self, body: dict) -> dict:
        kind = body.get("type")
        if kind not in CAMPAIGN_TYPES:
            raise invalid(f"type must be one of {', '.join(sorted(CAMPAIGN_TYPES))}.", "type")
        recipients = body.get("recipients") or {}
        settings = _text_settings(body.get("settings") or {})
        if (
            settings.get("folder_id")
            and not self._db.execute("SELECT 1 FROM folders WHERE id=?", (settings["folder_id"],)).fetchone()
        ):
            raise invalid(f"folder_id {settings['folder_id']!r} does not exist.", "settings.folder_id")
        snapshot = self._snapshot(recipients)
        with self.transaction() as db:
            campaign_id = uuid.uuid4().hex[:10]
            web_id = db.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0] + 1
            db.execute(
                "INSERT INTO campaigns (id, web_id, type, status, create_time, send_time, recipients, settings, "
                "tracking, snapshot) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    campaign_id,
                    web_id,
                    kind,
                    "save",
                    iso(self.now()),
                    None,
                    json.dumps(recipients),
                    json.dumps(settings),
                    json.dumps(body.get("tracking") or {"opens": True, "html_clicks": True, "text_clicks": False}),
                    json.dumps(snapshot),
                ),
            )
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
        recipients = stored(row["recipients"])
        snapshot = stored(row["snapshot"])
        list_name = ""
        if recipients.get("list_id"):
            found = self._db.execute("SELECT name FROM lists WHERE id=?", (recipients["list_id"],)).fetchone()
            list_name = found["name"] if found else ""
        campaign = {
            "id": row["id"],
            "web_id": row["web_id"],
            "type": row["type"],
            "create_time": row["create_time"],
            "archive_url": f"http://sandbox.invalid/archive/{row['id']}",
            "long_archive_url": f"http://sandbox.invalid/archive/{row['id']}",
            "status": row["status"],
            "emails_sent": row["emails_sent"],
            "content_type": "html",
            "needs_block_refresh": False,
            "resendable": False,
            "recipients": {
                "list_id": recipients.get("list_id", ""),
                "list_is_active": True,
                "list_name": list_name,
                "segment_text": "",
                "recipient_count": len(snapshot),
                "segment_opts": self._answered_segment(recipients.get("list_id", ""), recipients.get("segment_opts")),
            },
            "settings": stored(row["settings"]),
            "tracking": stored(row["tracking"]),
            "delivery_status": {"enabled": row["status"] in ("sending", "sent")},
        }
        if row["send_time"]:  # absent until scheduled or sent
            campaign["send_time"] = row["send_time"]
        return campaign

    def _answered_segment(self, list_id: str, options: dict | None) -> dict:
        """A campaign's segment as the sandbox answers it: as it was written; or (the `internal` condition form) with
        the field names Mailchimp's spec shows in its answers: `merge0` for the address, `mergeN` for merge field N; or
        (`none`) not at all, the worst an account could answer."""
        options, form = options or {}, self.condition_form()
        if form == "none":
            return {}
        if form != "internal" or not options.get("conditions"):
            return options
        ids = {
            r["tag"]: r["merge_id"]
            for r in self._db.execute("SELECT tag, merge_id FROM merge_fields WHERE list_id=?", (list_id,))
        }
        ids["EMAIL"] = 0
        conditions = [
            {**c, "field": f"merge{ids[c['field']]}"} if isinstance(c, dict) and c.get("field") in ids else c
            for c in options["conditions"]
        ]
        return {**options, "conditions": conditions}

    def condition_form(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key='condition_form'").fetchone()
        return row["value"] if row else "as-written"

    def set_condition_form(self, form: str) -> None:
        """How campaigns' segment conditions are answered: `as-written`, `internal` (Mailchimp's own field names) or
        `none`, so that push is tested against each."""
        if form not in CONDITION_FORMS:
            raise ValueError(f"condition form {form!r}: expected one of {', '.join(CONDITION_FORMS)}")
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('condition_form', ?)", (form,))

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
        for param, clause in (
            ("since_create_time", "create_time >= ?"),
            ("before_create_time", "create_time < ?"),
            ("since_send_time", "send_time >= ?"),
            ("before_send_time", "send_time < ?"),
        ):
            if query.get(param):
                sql += f" AND {clause}"
                args.append(iso(parse_time(query[param], param)))
        field = {"create_time": "create_time", "send_time": "send_time"}.get(query.get("sort_field", ""), "create_time")
        direction = "DESC" if str(query.get("sort_dir", "")).upper() == "DESC" else "ASC"
        count, offset = _paging(query)
        total = self._db.execute(sql.replace("SELECT id", "SELECT COUNT(*)", 1), args).fetchone()[0]
        ids = [
            r["id"]
            for r in self._db.execute(
                f"{sql} ORDER BY {field} {direction}, web_id {direction} LIMIT ? OFFSET ?", (*args, count, offset)
            )
        ]
        return {"campaigns": [self.get_campaign(i) for i in ids], "total_items": total}

    def _require_unsent(self, row: sqlite3.Row, action: str) -> None:
        if row["status"] in ("sending", "sent"):
            raise ApiError(400, "Bad Request", f"This campaign has already been sent and cannot be {action}.")

    def update_campaign(self, campaign_id: str, body: dict) -> dict:
        row = self._campaign_row(campaign_id)
        self._require_unsent(row, "changed")
        with self.transaction() as db:
            if "settings" in body:
                settings = {**stored(row["settings"]), **_text_settings(body["settings"] or {})}
                db.execute("UPDATE campaigns SET settings=? WHERE id=?", (json.dumps(settings), campaign_id))
            if "recipients" in body:
                recipients = body["recipients"] or {}
                db.execute(
                    "UPDATE campaigns SET recipients=?, snapshot=? WHERE id=?",
                    (json.dumps(recipients), json.dumps(self._snapshot(recipients)), campaign_id),
                )
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
            db.execute(
                "UPDATE campaigns SET html=?, plain_text=? WHERE id=?",
                (body.get("html"), body.get("plain_text"), campaign_id),
            )
        return self.get_content(campaign_id)

    def get_content(self, campaign_id: str) -> dict:
        row = self._campaign_row(campaign_id)
        return {"plain_text": row["plain_text"] or "", "html": row["html"] or "", "archive_html": row["html"] or ""}

    def checklist(self, campaign_id: str) -> dict:
        row = self._campaign_row(campaign_id)
        settings, recipients = stored(row["settings"]), stored(row["recipients"])
        html = row["html"] or ""
        sender_domain = str(settings.get("reply_to") or "").rpartition("@")[2].lower()
        verified = {d["domain"] for d in self.verified_domains()["domains"] if d["verified"]}
        checks = [
            (bool(recipients.get("list_id")), "Audience", "Choose the audience this campaign goes to."),
            (bool(settings.get("subject_line")), "Subject line", "The campaign needs a subject line."),
            (bool(settings.get("from_name")), "From name", "The campaign needs a from name."),
            (bool(settings.get("reply_to")), "Reply-to address", "The campaign needs a reply-to email address."),
            (
                not sender_domain or sender_domain in verified,
                "Sending domain",
                f"Verify and authenticate {sender_domain} before you send from it.",
            ),
            (bool(html), "Content", "The campaign has no content yet."),
            (UNSUB_TAG in html, "Unsubscribe link", "Custom HTML must contain the *|UNSUB|* merge tag."),
            (
                any(tag in html for tag in ADDRESS_TAGS),
                "Mailing address",
                "Custom HTML must contain the audience's address merge tag, such as *|HTML:LIST_ADDRESS_HTML|*.",
            ),
        ]
        items = [
            {
                "type": "success" if ok else "error",
                "id": number,
                "heading": heading,
                "details": "Looks good." if ok else details,
            }
            for number, (ok, heading, details) in enumerate(checks, start=1)
        ]
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
            raise invalid(
                "Campaigns may only be scheduled to send on the quarter-hour (:00, :15, :30, :45).", "schedule_time"
            )
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
        self._move(
            campaign_id, {"schedule", "sending", "paused"}, "canceled", "This campaign is not scheduled or sending."
        )

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

    def engagement_seed(self, db: sqlite3.Connection) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key='engagement_seed'").fetchone()
        return row["value"] if row else None

    def set_engagement_seed(self, seed: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('engagement_seed', ?)", (seed,))

    def reports(self, query: dict) -> dict:
        """GET /reports: the reports of sent campaigns, newest first, paged."""
        ids = [
            r["id"]
            for r in self._db.execute(
                "SELECT id FROM campaigns WHERE status='sent' ORDER BY send_time DESC, web_id DESC"
            )
        ]
        count, offset = _paging(query)
        return {"reports": [self.report(i) for i in ids[offset : offset + count]], "total_items": len(ids)}

    def sent_to(self, campaign_id: str, query: dict) -> dict:
        """GET /reports/{campaign_id}/sent-to: who the campaign was sent to, paged."""
        self._campaign_row(campaign_id)
        rows = self._db.execute(
            "SELECT email FROM deliveries WHERE campaign_id=? ORDER BY email", (campaign_id,)
        ).fetchall()
        count, offset = _paging(query)
        return {
            "sent_to": [
                {"email_address": r["email"], "status": "sent", "campaign_id": campaign_id}
                for r in rows[offset : offset + count]
            ],
            "campaign_id": campaign_id,
            "total_items": len(rows),
        }

    def segment_timing(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key='segment_timing'").fetchone()
        return row["value"] if row else "create"

    def set_segment_timing(self, timing: str) -> None:
        """When a campaign's segment is resolved: `create` (Mailchimp's Standard plans: a snapshot when it is made)
        or `send` (Free and Essentials: when it goes out)."""
        if timing not in ("create", "send"):
            raise ValueError(f"segment timing {timing!r}: expected create or send")
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('segment_timing', ?)", (timing,))

    def report(self, campaign_id: str) -> dict:
        """GET /reports/{campaign_id}, with Mailchimp's rates: unique opens and clicks over delivered (sent minus
        bounces)."""
        campaign = self.get_campaign(campaign_id)
        totals = self._db.execute(
            "SELECT coalesce(sum(bounced),0) AS bounced, coalesce(sum(opens),0) AS opens, "
            "coalesce(sum(opens > 0),0) AS unique_opens, coalesce(sum(clicks),0) AS clicks, "
            "coalesce(sum(clicks > 0),0) AS unique_clicks, coalesce(sum(unsubscribed),0) AS unsubscribed "
            "FROM activity WHERE campaign_id=?",
            (campaign_id,),
        ).fetchone()
        delivered = campaign["emails_sent"] - totals["bounced"]
        return {
            "id": campaign_id,
            "campaign_title": campaign["settings"].get("title", ""),
            "type": campaign["type"],
            "list_id": campaign["recipients"]["list_id"],
            "list_name": campaign["recipients"]["list_name"],
            "subject_line": campaign["settings"].get("subject_line", ""),
            "emails_sent": campaign["emails_sent"],
            "send_time": campaign.get("send_time", ""),
            "unsubscribed": totals["unsubscribed"],
            "abuse_reports": 0,
            "bounces": {"hard_bounces": totals["bounced"], "soft_bounces": 0, "syntax_errors": 0},
            "opens": {
                "opens_total": totals["opens"],
                "unique_opens": totals["unique_opens"],
                "open_rate": totals["unique_opens"] / delivered if delivered else 0,
            },
            "clicks": {
                "clicks_total": totals["clicks"],
                "unique_clicks": totals["unique_clicks"],
                "unique_subscriber_clicks": totals["unique_clicks"],
                "click_rate": totals["unique_clicks"] / delivered if delivered else 0,
            },
        }


TEXT_SETTINGS = ("subject_line", "preview_text", "title", "from_name", "reply_to", "folder_id")


def _text_settings(settings: object) -> dict:
    """Campaign settings whose text fields are text, as Mailchimp's schema wants (a title that is an object is its
    400)."""
    if not isinstance(settings, dict):
        raise invalid("The resource submitted could not be validated: settings must be an object.", "settings")
    for field in TEXT_SETTINGS:
        if field in settings and not isinstance(settings[field], str):
            raise invalid(
                f"The resource submitted could not be validated: settings.{field} must be a string.",
                f"settings.{field}",
            )
    return dict(settings)
