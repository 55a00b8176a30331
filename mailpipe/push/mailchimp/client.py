"""The Mailchimp operations mailpipe needs, typed, through the official `mailchimp-marketing` client.

The client has no retries, raises errors whose `str()` is empty, returns empty-bodied answers as raw
`requests.Response` objects, and hard-codes its host: every request it makes goes through the `Transport` instead
(retries, the read-only guard, one-line errors without the key). Each operation takes and returns plain typed data and
builds its own request body, so Mailchimp's JSON stays in this folder; creates are idempotent (a create whose answer
was lost is looked for before it is tried again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import mailchimp_marketing
import requests
from mailchimp_marketing.api_client import ApiClientError

from mailpipe.errors import MailpipeError
from mailpipe.push.mailchimp.models import (
    INTERNAL_FIELD,
    Account,
    Audience,
    CampaignCopy,
    CampaignReport,
    CampaignSettings,
    Checklist,
    RemoteCampaign,
    RemoteMember,
    named_fields,
    remote_campaign,
    segment_opts,
)
from mailpipe.push.mailchimp.transport import (
    AlreadyMade,
    Connection,
    MailchimpError,
    RetryPolicy,
    Send,
    Transport,
    send_http,
)
from mailpipe.push.record import Condition
from mailpipe.util.vocabulary import SANDBOX_CLOCK, parse_time, subscriber_hash

if TYPE_CHECKING:
    from mailpipe.render import RenderedEmail


class SignOffGate(Protocol):
    def refusal(self, email: RenderedEmail) -> str | None:
        """None when the email, exactly as it is, may go to a real account; else why not."""


class NotSignedOff(MailpipeError):
    """Content a real account must not get: the adapter's own gate, behind push's refusals."""


PAGE = 1000  # Mailchimp's largest page
# what push reads of a member in a listing: with tags_count, to know when the listing's 50 tags are not all
_MEMBER_FIELDS = [
    "members.email_address",
    "members.status",
    "members.merge_fields",
    "members.tags",
    "members.tags_count",
    "members.timestamp_signup",
    "total_items",
]


class Mailchimp:
    """The Mailchimp operations mailpipe needs, each retried and idempotent where it matters."""

    def __init__(
        self,
        connection: Connection,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen: one shared default is safe)
        max_connections: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        read_only: bool = False,
        send: Send = send_http,
        sign_offs: SignOffGate | None = None,
        as_real_account: bool = False,
    ):
        """`sign_offs` answers, for each email, whether it may go to a real account; a client for a real account
        (anything but a server on this machine, or one `as_real_account` takes for it) cannot be made without one, and
        checks it before it uploads any email's content: no caller can leave the gate out."""
        self.real_account = as_real_account or not connection.is_local
        self._local = connection.is_local
        self._base_url = connection.base_url
        if self.real_account and sign_offs is None:
            raise ValueError("a client for a real account checks every email's sign-off itself: give it `sign_offs`")
        self._sign_offs = sign_offs
        self._test_content: set[str] = set()  # campaigns filled by set_test_content: never scheduled
        self._transport = Transport(connection, retry, max_connections, read_only, sleep, send)
        self._client = mailchimp_marketing.Client(
            {"api_key": connection.api_key, "server": "us1", "timeout": connection.timeout}
        )
        self._client.api_client.host = connection.base_url  # the client hard-codes its host; see docs
        self._client.api_client.server = ""  # no 'server' substitution into a local host name
        self._client.api_client.request = self._transport.request

    def __repr__(self) -> str:
        return "Mailchimp(<connection hidden>)"

    @property
    def calls(self) -> int:
        """HTTP requests made, for benchmarks and tests."""
        return self._transport.calls

    @property
    def read_only(self) -> bool:
        """A dry run's client: any request but GET is refused before it is sent."""
        return self._transport.read_only

    def _call(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One operation: parsed JSON, or None for an answer without a body."""
        with self._transport.call(name):
            return self._through_client(name, function, *args, **kwargs)

    def _create(self, name: str, create: Callable[[], Any], find: Callable[[], Any]) -> Any:
        """A create, tried again after a failure only once `find` (which looks for what an unanswered attempt may
        have made) found nothing."""
        with self._transport.call(name, find):
            try:
                return self._through_client(name, create)
            except AlreadyMade as made:
                return made.found

    def _through_client(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            result = function(*args, **kwargs)
        except ApiClientError as err:  # what the transport raised, wrapped by the client
            if isinstance(err.text, (MailpipeError, AlreadyMade)):
                raise err.text from None
            raise MailchimpError(name, err.status_code, "error", self._transport.redact(str(err.text))) from None
        return None if isinstance(result, requests.Response) else result

    def _pages(self, name: str, function: Callable[..., dict], key: str, **query: Any) -> Iterator[dict]:
        offset = 0
        while True:
            page = self._call(name, function, count=PAGE, offset=offset, **query) or {}  # an empty {} comes back raw
            yield from page.get(key, [])
            offset += PAGE
            if offset >= page.get("total_items", 0):
                return

    # -- account and audiences -----------------------------------------------------------------
    def account(self) -> Account:
        answer = self._call("root.get_root", self._client.root.get_root) or {}
        return Account(
            str(answer.get("account_name") or ""),
            str(answer.get("pricing_plan_type") or ""),
            str(answer.get("account_id") or ""),
        )

    def audiences(self) -> list[Audience]:
        found = []
        for entry in self._pages("lists.get_all_lists", self._client.lists.get_all_lists, "lists"):
            contact = entry.get("contact") or {}
            found.append(
                Audience(
                    entry["id"],
                    entry.get("name", ""),
                    int((entry.get("stats") or {}).get("member_count") or 0),
                    tuple(str(contact[k]) for k in ("address1", "address2", "city", "state", "zip") if contact.get(k)),
                )
            )
        return found

    def verified_domains(self) -> dict[str, bool]:
        """Sending domain -> verified and authenticated."""
        answer = (
            self._call(
                "verifiedDomains.get_verified_domains_all", self._client.verifiedDomains.get_verified_domains_all
            )
            or {}
        )
        return {
            str(d.get("domain", "")).lower(): bool(d.get("verified")) and bool(d.get("authenticated"))
            for d in answer.get("domains") or []
        }

    def ping(self) -> None:
        """The account answers (the key works, the network is there)."""
        self._call("ping", self._client.ping.get)

    def server_clock(self) -> datetime | None:
        """A sandbox served on this machine lends its clock (the SANDBOX_CLOCK header of its answers), so commands
        pointed at it act at its time as they do at the embedded one's; Mailchimp, and a sandbox whose clock follows
        the real one, say nothing."""
        if not self._local:
            return None
        with self._transport.call("ping"):
            answer = self._transport.request("GET", f"{self._base_url}/ping")
        stated = answer.headers.get(SANDBOX_CLOCK)
        return parse_time(stated) if stated else None

    def upsert_member(self, list_id: str, email: str) -> RemoteMember:
        """The member, subscribed if new (an existing one keeps their status). A PUT by subscriber hash: creating twice
        is impossible, so retries are always safe."""
        member = self._call(
            "lists.set_list_member",
            self._client.lists.set_list_member,
            list_id,
            subscriber_hash(email),
            {"email_address": email, "status_if_new": "subscribed"},
        )
        return RemoteMember(member["email_address"], member.get("status", ""), member.get("merge_fields") or {})

    def set_tags(self, list_id: str, email: str, active: Sequence[str] = (), inactive: Sequence[str] = ()) -> None:
        tags = [{"name": n, "status": "active"} for n in active] + [{"name": n, "status": "inactive"} for n in inactive]
        self._call(
            "lists.update_list_member_tags",
            self._client.lists.update_list_member_tags,
            list_id,
            subscriber_hash(email),
            {"tags": tags, "is_syncing": True},
        )

    def batch_subscribe(
        self,
        list_id: str,
        members: Sequence[tuple[str, dict[str, str], bool]],
        signed_up: Mapping[str, datetime] | None = None,
    ) -> dict[str, str]:
        """Up to 500 (email, merge fields, new) at once: a new one subscribed, an existing one updated in only the
        fields given and never given a status (nobody re-subscribed; the batch's members define `status`, not
        `status_if_new`). `signed_up`: a new member's sign-up time, sent as `timestamp_signup`. Returns the addresses
        Mailchimp refused, with why. (Upserts: a retry repeats nothing.)"""
        signups = signed_up or {}
        body = {
            "members": [
                {
                    "email_address": email,
                    "merge_fields": fields,
                    **({"status": "subscribed"} if new else {}),
                    **({"timestamp_signup": signups[email].isoformat()} if new and email in signups else {}),
                }
                for email, fields, new in members
            ],
            "update_existing": True,
        }
        answer = self._call("lists.batch_list_members", self._client.lists.batch_list_members, list_id, body) or {}
        return {
            str(e.get("email_address")): str(e.get("error") or e.get("error_code") or "refused")
            for e in answer.get("errors") or []
        }

    def ensure_tag(self, list_id: str, tag: str) -> int:
        """The id of a tag (a static segment), made empty if the audience has none yet."""
        existing = self.tag_ids(list_id, [tag]).get(tag)
        if existing is None:
            made = self._create(
                "lists.create_segment",
                lambda: self._client.lists.create_segment(list_id, {"name": tag, "static_segment": []}),
                lambda: {"id": found} if (found := self.tag_ids(list_id, [tag]).get(tag)) else None,
            )
            existing = int(made["id"])
        return existing

    def add_to_tag(self, list_id: str, tag_id: int, emails: Sequence[str]) -> None:
        """Give up to 500 members a tag."""
        self._call(
            "lists.batch_segment_members",
            self._client.lists.batch_segment_members,
            {"members_to_add": list(emails)},
            list_id,
            str(tag_id),
        )

    def ensure_saved_segment(self, list_id: str, name: str, conditions: tuple[Condition, ...]) -> int:
        """A saved segment of that name with these conditions, made anew: one of that name (a lost state file, a tag
        made anew) is deleted first, not changed (the spec's PATCH body types a segment's conditions as arrays of
        arrays, which is not what Mailchimp takes)."""
        options = segment_opts(conditions)
        for existing in (s for s in self._segments(list_id, "saved") if s.get("name") == name):
            self.delete_tag(list_id, int(existing["id"]))
        made = self._create(
            "lists.create_segment",
            lambda: self._client.lists.create_segment(list_id, {"name": name, "options": options}),
            lambda: next((s for s in self._segments(list_id, "saved") if s.get("name") == name), None),
        )
        return int(made["id"])

    def saved_segment_members(self, list_id: str, segment_id: int) -> list[RemoteMember] | None:
        """Who a saved segment selects now, with their tags; None when it is gone (a person deleted it)."""
        try:
            return list(self.tagged_members(list_id, segment_id))
        except MailchimpError as err:
            if err.status == 404:
                return None
            raise

    def archive_member(self, list_id: str, email: str) -> None:
        """DELETE a member (Mailchimp archives them); one already gone is fine."""
        try:
            self._call(
                "lists.delete_list_member", self._client.lists.delete_list_member, list_id, subscriber_hash(email)
            )
        except MailchimpError as err:
            if err.status != 404:
                raise

    def delete_tag(self, list_id: str, tag_id: int) -> None:
        """Delete a tag or a saved segment; one already gone is fine."""
        try:
            self._call("lists.delete_segment", self._client.lists.delete_segment, list_id, str(tag_id))
        except MailchimpError as err:
            if err.status != 404:
                raise

    def update_member_fields(self, list_id: str, email: str, merge_fields: dict[str, str]) -> None:
        """PATCH only these merge fields of an existing member (nothing else about them changes)."""
        self._call(
            "lists.update_list_member",
            self._client.lists.update_list_member,
            list_id,
            subscriber_hash(email),
            {"merge_fields": merge_fields},
        )

    def merge_field_tags(self, list_id: str) -> set[str]:
        return set(self._merge_fields(list_id))

    def _merge_fields(self, list_id: str) -> dict[str, int]:
        """The audience's merge fields: tag -> merge_id (what Mailchimp's own answers may name a field by)."""
        return {
            f["tag"]: int(f.get("merge_id") or 0)
            for f in self._pages(
                "lists.get_list_merge_fields", self._client.lists.get_list_merge_fields, "merge_fields", list_id=list_id
            )
        }

    def create_text_merge_field(self, list_id: str, tag: str, name: str) -> None:
        """A hidden text field; a lost answer is checked by looking, not by creating again."""
        self._create(
            "lists.add_list_merge_field",
            lambda: self._client.lists.add_list_merge_field(
                list_id, {"tag": tag, "name": name, "type": "text", "public": False}
            ),
            lambda: tag in self.merge_field_tags(list_id) or None,
        )

    def changed_members(self, list_id: str, since: datetime) -> Iterator[RemoteMember]:
        """Members whose record changed after `since` (joined, imported, or their merge fields written), with their
        tags: what push reads instead of the whole audience. A member with more tags than the list shows gets them
        all."""
        for member in self._pages(
            "lists.get_list_members_info",
            self._client.lists.get_list_members_info,
            "members",
            list_id=list_id,
            since_last_changed=since.isoformat(),
            fields=_MEMBER_FIELDS,
        ):
            yield self._member_with_every_tag(list_id, member)

    def tag_size(self, list_id: str, tag_id: int) -> int:
        """How many members (subscribed or pending) carry a tag: one call, however many they are."""
        answer = (
            self._call(
                "lists.get_segment_members_list",
                self._client.lists.get_segment_members_list,
                list_id,
                str(tag_id),
                count=1,
                fields=["total_items"],
            )
            or {}
        )
        return int(answer.get("total_items") or 0)

    def tagged_members(self, list_id: str, tag_id: int) -> Iterator[RemoteMember]:
        """Members (subscribed or pending) with one tag, read from the tag itself, each with their tags."""
        for member in self._pages(
            "lists.get_segment_members_list",
            self._client.lists.get_segment_members_list,
            "members",
            list_id=list_id,
            segment_id=str(tag_id),
            fields=_MEMBER_FIELDS,
        ):
            yield self._member_with_every_tag(list_id, member)

    def all_members(self, list_id: str) -> Iterator[RemoteMember]:
        """Every member whatever their status, with their tags (the member list shows up to 50 per member)."""
        fields = ["members.email_address", "members.status", "members.merge_fields", "members.tags", "total_items"]
        for member in self._pages(
            "lists.get_list_members_info",
            self._client.lists.get_list_members_info,
            "members",
            list_id=list_id,
            fields=fields,
        ):
            yield RemoteMember(
                member["email_address"],
                member.get("status", ""),
                member.get("merge_fields") or {},
                tuple(t.get("name", "") for t in member.get("tags") or []),
            )

    def members_named(self, list_id: str, emails: Sequence[str]) -> dict[str, RemoteMember]:
        """These addresses' members (lower-cased address -> member), read one by one when that takes fewer calls than
        the whole audience: a day's few leads cost a few calls however large the audience."""
        wanted = set(dict.fromkeys(e.lower() for e in emails))
        if not wanted:
            return {}
        answer = (
            self._call(
                "lists.get_list_members_info",
                self._client.lists.get_list_members_info,
                list_id,
                count=1,
                fields=["total_items"],
            )
            or {}
        )
        if len(wanted) > int(answer.get("total_items") or 0) // PAGE + 1:
            return {m.email.lower(): m for m in self.all_members(list_id) if m.email.lower() in wanted}
        found = {}
        for email in sorted(wanted):
            member = self.member(list_id, email)
            if member is not None:
                found[email] = member
        return found

    def member(self, list_id: str, email: str) -> RemoteMember | None:
        """One member with all their tags, or None if the address is not in the audience."""
        try:
            answer = (
                self._call(
                    "lists.get_list_member",
                    self._client.lists.get_list_member,
                    list_id,
                    subscriber_hash(email),
                    fields=["email_address", "status", "merge_fields", "tags", "tags_count"],
                )
                or {}
            )
        except MailchimpError as err:
            if err.status == 404:
                return None
            raise
        return self._member_with_every_tag(list_id, answer)

    def _member_with_every_tag(self, list_id: str, member: dict) -> RemoteMember:
        """A member as a listing gave it, with all their tags: a listing shows at most 50, so past that they are
        read."""
        tags = tuple(t.get("name", "") for t in member.get("tags") or [])
        if int(member.get("tags_count") or 0) > len(tags):
            answer = (
                self._call(
                    "lists.get_list_member_tags",
                    self._client.lists.get_list_member_tags,
                    list_id,
                    subscriber_hash(member["email_address"]),
                    count=PAGE,
                )
                or {}
            )
            tags = tuple(str(t.get("name", "")) for t in answer.get("tags") or [])
        return RemoteMember(
            member["email_address"],
            member.get("status", ""),
            member.get("merge_fields") or {},
            tags,
            str(member.get("timestamp_signup") or ""),
        )

    def tag_added(self, list_id: str, email: str, tag: str) -> datetime | None:
        """When a member got a tag (the member list shows no dates)."""
        answer = (
            self._call(
                "lists.get_list_member_tags", self._client.lists.get_list_member_tags, list_id, subscriber_hash(email)
            )
            or {}
        )
        for entry in answer.get("tags", []):
            if entry.get("name") == tag and entry.get("date_added"):
                return parse_time(entry["date_added"])
        return None

    def tag_ids(self, list_id: str, names: Iterable[str]) -> dict[str, int]:
        """The ids of these tags, those that exist: one tag search each, however many tags and segments the audience
        has."""
        found = {}
        for name in sorted(set(names)):
            answer = (
                self._call("lists.tag_search", lambda tag: self._client.lists.tag_search(list_id, name=tag), name) or {}
            )
            for tag in answer.get("tags") or []:
                if tag.get("name") == name:
                    found[name] = int(tag["id"])
        return found

    def tags(self, list_id: str) -> dict[str, int]:
        """Every tag, name -> id (a tag is a static segment): for the doctor's listing."""
        return {s["name"]: int(s["id"]) for s in self._segments(list_id, "static")}

    def _segments(self, list_id: str, kind: str | None = None) -> list[dict]:
        query = {"type": kind} if kind else {}
        return list(
            self._pages("lists.list_segments", self._client.lists.list_segments, "segments", list_id=list_id, **query)
        )

    # -- campaigns -----------------------------------------------------------------------------
    def folders(self) -> dict[str, str]:
        """Campaign folder name -> id."""
        return {
            f["name"]: f["id"]
            for f in self._pages("campaignFolders.list", self._client.campaignFolders.list, "folders")
        }

    def ensure_folder(self, name: str) -> str:
        existing = self.folders().get(name)
        if existing:
            return existing

        def find() -> dict | None:
            found = self.folders().get(name)
            return {"id": found} if found else None

        folder = self._create(
            "campaignFolders.create", lambda: self._client.campaignFolders.create({"name": name}), find
        )
        return folder["id"]

    def _campaigns(self, **filters: Any) -> Iterator[dict]:
        return self._pages("campaigns.list", self._client.campaigns.list, "campaigns", **filters)

    def recent_campaigns(self, list_id: str, since: datetime) -> list[RemoteCampaign]:
        """Every campaign to this audience created since `since`, typed, with its segment conditions."""
        fields = [
            "campaigns.id",
            "campaigns.status",
            "campaigns.send_time",
            "campaigns.create_time",
            "campaigns.settings.title",
            "campaigns.recipients.recipient_count",
            "campaigns.recipients.segment_opts",
            "total_items",
        ]
        campaigns = [
            remote_campaign(c)
            for c in self._campaigns(list_id=list_id, since_create_time=since.isoformat(), fields=fields)
        ]
        if any(INTERNAL_FIELD.match(c.field) for campaign in campaigns for c in campaign.conditions):
            tags = self._field_names(list_id)
            campaigns = [named_fields(campaign, tags) for campaign in campaigns]
        return campaigns

    def sent_to(self, campaign_id: str) -> set[str]:
        """Who a sent campaign went to, as Mailchimp recorded it (GET /reports/{id}/sent-to), lower-cased."""
        return {
            str(entry.get("email_address", "")).lower()
            for entry in self._pages(
                "reports.get_campaign_recipients",
                self._client.reports.get_campaign_recipients,
                "sent_to",
                campaign_id=campaign_id,
                fields=["sent_to.email_address", "total_items"],
            )
        }

    def campaign_reports(self) -> Iterator[CampaignReport]:
        """The report of every sent campaign, a page of them per call (GET /reports)."""
        for answer in self._pages(
            "reports.get_all_campaign_reports", self._client.reports.get_all_campaign_reports, "reports"
        ):
            bounces = answer.get("bounces") or {}
            yield CampaignReport(
                str(answer.get("id", "")),
                answer.get("campaign_title", ""),
                answer.get("send_time") or "",
                int(answer.get("emails_sent") or 0),
                sum(int(bounces.get(k) or 0) for k in ("hard_bounces", "soft_bounces", "syntax_errors")),
                int((answer.get("opens") or {}).get("unique_opens") or 0),
                int((answer.get("clicks") or {}).get("unique_subscriber_clicks") or 0),
                int(answer.get("unsubscribed") or 0),
            )

    def create_campaign(
        self,
        list_id: str,
        settings: CampaignSettings,
        conditions: tuple[Condition, ...] | None = None,
        tracking: bool = False,
        find: Callable[[], RemoteCampaign | None] | None = None,
    ) -> RemoteCampaign:
        """A regular campaign to the audience (only to the members `conditions` select, when given); `tracking`: opens
        and clicks counted. After an answer that may have been lost, `find` (default: by its title, in its audience)
        looks for it first, so a lost answer never makes a second one."""
        recipients: dict[str, Any] = {"list_id": list_id}
        if conditions is not None:
            recipients["segment_opts"] = segment_opts(conditions)
        body: dict[str, Any] = {"type": "regular", "recipients": recipients, "settings": settings.as_json()}
        if tracking:
            body["tracking"] = {"opens": True, "html_clicks": True, "text_clicks": True}

        def by_title() -> RemoteCampaign | None:
            return self.find_campaign(settings.title, list_id=list_id)

        created = self._create("campaigns.create", lambda: self._client.campaigns.create(body), find or by_title)
        return created if isinstance(created, RemoteCampaign) else remote_campaign(created)

    def delete_campaign(self, campaign_id: str) -> None:
        """Delete; a 404 (a repeat after an answer that was lost) means it is already gone."""
        try:
            self._call("campaigns.remove", self._client.campaigns.remove, campaign_id)
        except MailchimpError as err:
            if err.status != 404:
                raise

    def find_campaign(self, title: str, **filters: Any) -> RemoteCampaign | None:
        return next(
            (remote_campaign(c) for c in self._campaigns(**filters) if c["settings"].get("title") == title), None
        )

    def get_campaign(self, campaign_id: str) -> RemoteCampaign:
        answer = self._call("campaigns.get", self._client.campaigns.get, campaign_id)
        campaign = remote_campaign(answer)
        if any(INTERNAL_FIELD.match(c.field) for c in campaign.conditions):
            campaign = named_fields(campaign, self._field_names(str((answer.get("recipients") or {}).get("list_id"))))
        return campaign

    def _field_names(self, list_id: str) -> dict[int, str]:
        """merge_id -> merge tag (0: the address), to read conditions Mailchimp answers with internal names."""
        return {0: "EMAIL", **{merge_id: tag for tag, merge_id in self._merge_fields(list_id).items()}}

    def update_campaign(self, campaign_id: str, settings: CampaignSettings) -> None:
        """Replace the campaign's settings (a draft's: Mailchimp refuses to change a scheduled one)."""
        self._call("campaigns.update", self._client.campaigns.update, campaign_id, {"settings": settings.as_json()})

    def set_content(self, campaign_id: str, email: RenderedEmail) -> None:
        """The email's HTML and plain text, after (on a real account) its sign-off gate cleared it."""
        if self._sign_offs is not None and self.real_account:
            refusal = self._sign_offs.refusal(email)
            if refusal is not None:
                raise NotSignedOff(f"not uploading {email.id} to a real Mailchimp account: {refusal}")
        self._upload(campaign_id, email)

    def set_test_content(self, campaign_id: str, email: RenderedEmail) -> None:
        """Content for test emails only (a proof a reviewer reads before signing off): the campaign is marked, and
        this client refuses to schedule it."""
        self._test_content.add(campaign_id)
        self._upload(campaign_id, email)

    def _upload(self, campaign_id: str, email: RenderedEmail) -> None:
        self._call(
            "campaigns.set_content",
            self._client.campaigns.set_content,
            campaign_id,
            {"html": email.html, "plain_text": email.text},
        )

    def campaign_copy(self, campaign_id: str) -> CampaignCopy:
        settings = (
            self._call(
                "campaigns.get",
                self._client.campaigns.get,
                campaign_id,
                fields=["settings.subject_line", "settings.preview_text"],
            )
            or {}
        ).get("settings", {})
        content = self._call("campaigns.get_content", self._client.campaigns.get_content, campaign_id) or {}
        return CampaignCopy(
            settings.get("subject_line", ""),
            settings.get("preview_text", ""),
            content.get("html", ""),
            content.get("plain_text", ""),
        )

    def checklist(self, campaign_id: str) -> Checklist:
        answer = (
            self._call("campaigns.get_send_checklist", self._client.campaigns.get_send_checklist, campaign_id) or {}
        )
        return Checklist(
            bool(answer.get("is_ready")),
            [f"{i.get('heading')}: {i.get('details')}" for i in answer.get("items", []) if i.get("type") == "error"],
        )

    def schedule(self, campaign_id: str, utc_time: str) -> None:
        """Schedule at a UTC quarter hour; a repeat after a lost answer is recognised, not an error."""
        if campaign_id in self._test_content:
            raise NotSignedOff(f"campaign {campaign_id} holds test-email content, which is never scheduled")
        try:
            self._call(
                "campaigns.schedule",
                self._client.campaigns.schedule,
                campaign_id,
                {"schedule_time": utc_time, "timewarp": False},
            )
        except MailchimpError as err:
            current = self.get_campaign(campaign_id) if err.status == 400 else None
            if not (current and current.status == "schedule" and _same_time(current.send_time, utc_time)):
                raise

    def unschedule(self, campaign_id: str) -> None:
        try:
            self._call("campaigns.unschedule", self._client.campaigns.unschedule, campaign_id)
        except MailchimpError as err:
            if not (err.status == 400 and self.get_campaign(campaign_id).status == "save"):
                raise

    def send_test(self, campaign_id: str, emails: list[str], send_type: str = "html") -> None:
        self._call(
            "campaigns.send_test_email",
            self._client.campaigns.send_test_email,
            campaign_id,
            {"test_emails": emails, "send_type": send_type},
        )


def _same_time(a: str | None, b: str) -> bool:
    try:
        return a is not None and parse_time(a) == parse_time(b)
    except ValueError:
        return False
