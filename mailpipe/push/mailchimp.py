"""The only module that talks to Mailchimp: the official `mailchimp-marketing` client, made safe.

The client has no retries, raises errors whose `str()` is empty, returns empty-bodied errors and
204s as raw `requests.Response` objects, and hard-codes its host. This adapter retries 429, 5xx,
resets and timeouts with exponential backoff and jitter (honouring Retry-After), caps concurrent
connections below Mailchimp's 10, turns every failure into one line (the call, Mailchimp's title
and detail), never lets the API key into any message, and makes creates idempotent: a create
whose answer was lost is looked up by its stable name before it is tried again.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import mailchimp_marketing
import requests
from mailchimp_marketing.api_client import ApiClientError

from mailpipe.errors import MailpipeError
from mailpipe.push.record import Condition
from mailpipe.util.vocabulary import parse_time, subscriber_hash

PAGE = 1000  # Mailchimp's largest page
MAX_CONNECTIONS = 10  # Mailchimp's limit of simultaneous connections


class MailchimpError(MailpipeError):
    """A Mailchimp call that failed for good, said in one line."""

    def __init__(self, call: str, status: int | None, title: str, detail: str):
        self.call, self.status, self.title, self.detail = call, status, title, detail
        where = f"{status} {title}" if status else title
        super().__init__(f"Mailchimp {call} failed: {where}: {detail}")


class _Hidden:
    """Holds the API key so that no repr, log or traceback of the adapter can show it."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


class _Transient(Exception):
    """A failure worth retrying; `ambiguous` when the server may have acted before it failed."""

    def __init__(self, error: MailchimpError, retry_after: float | None, ambiguous: bool):
        super().__init__(str(error))
        self.error, self.retry_after, self.ambiguous = error, retry_after, ambiguous


@dataclass(frozen=True)
class Connection:
    """Where and how to reach Mailchimp; built from the environment, never printed with its key."""

    api_key: str
    base_url: str
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"Connection(base_url={self.base_url!r}, api_key=<hidden>)"

    @property
    def where(self) -> str:
        """The base URL without any user:password in it, fit to print."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        return urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Connection | None:
        """MAILCHIMP_API_KEY (ends in -usNN, the data centre) and optional MAILCHIMP_SERVER_URL.

        None only when the key variable is not set at all: a key set but empty (a cron line whose key file is
        missing) or malformed is an error, never a quiet fall-back to the sandbox."""
        environ = os.environ if environ is None else environ
        if "MAILCHIMP_API_KEY" not in environ:
            return None
        key = environ["MAILCHIMP_API_KEY"].strip()
        if not key:
            raise MailpipeError(
                "MAILCHIMP_API_KEY is set but empty; set it to the account's API key, or unset it to use the sandbox"
            )
        if any(c.isspace() or not c.isprintable() for c in key):
            raise MailpipeError(
                "MAILCHIMP_API_KEY holds spaces or control characters; it must be the key alone (not shown)"
            )
        url = environ.get("MAILCHIMP_SERVER_URL", "").strip()
        if not url:
            data_centre = key.rpartition("-")[2]
            if "-" not in key or not data_centre.startswith("us") or not data_centre[2:].isdigit():
                raise MailpipeError(
                    "MAILCHIMP_API_KEY must end in the data centre, like -us21 (the key itself is not shown)"
                )
            url = f"https://{data_centre}.api.mailchimp.com/3.0"
        elif urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise MailpipeError("MAILCHIMP_SERVER_URL must be a URL like https://us21.api.mailchimp.com/3.0")
        return cls(key, url.rstrip("/"))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, never shorter than the server's Retry-After."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return max(backoff, retry_after or 0.0)


@dataclass(frozen=True)
class RemoteCampaign:
    """A campaign as push needs it: Mailchimp's JSON stays in this module."""

    id: str
    title: str
    status: str  # save, paused, schedule, sending, sent, canceled, canceling, archived
    send_time: str | None
    recipient_count: int
    conditions: tuple[tuple[str, str, str, str], ...]  # (condition_type, field, op, value) of its segment


@dataclass(frozen=True)
class CampaignCopy:
    """What a campaign's recipients would get, as Mailchimp holds it."""

    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class Checklist:
    """Mailchimp's send checklist: ready, or the errors that block sending."""

    is_ready: bool
    errors: list[str]


@dataclass(frozen=True)
class RemoteMember:
    email: str
    status: str
    merge_fields: dict[str, Any]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    name: str
    plan: str  # Mailchimp's pricing_plan_type: forever_free, monthly, pay_as_you_go


@dataclass(frozen=True)
class Audience:
    """An audience (list) as the go-live checks read it: its contact address is what *|LIST:ADDRESSLINE|* prints."""

    id: str
    name: str
    member_count: int
    address: tuple[str, ...]  # address1, address2, city, state, zip (the non-empty ones)


@dataclass(frozen=True)
class CampaignReport:
    """Mailchimp's report of one sent campaign (GET /reports/{id}), the counts a marketer's report adds up."""

    id: str
    title: str
    send_time: str
    emails_sent: int
    bounces: int  # hard + soft + syntax errors
    unique_opens: int
    unique_clicks: int  # unique subscribers who clicked
    unsubscribed: int


class ReadOnlyViolation(MailpipeError):
    """A write attempted by a client that promised to only read (a dry run)."""


class Mailchimp:
    """The Mailchimp operations mailpipe needs, each retried and idempotent where it matters."""

    def __init__(
        self,
        connection: Connection,
        retry: RetryPolicy = RetryPolicy(),
        max_connections: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        read_only: bool = False,
    ):
        if not 1 <= max_connections <= MAX_CONNECTIONS:
            raise ValueError(f"max_connections must be 1..{MAX_CONNECTIONS}")
        self._client = mailchimp_marketing.Client(
            {"api_key": connection.api_key, "server": "us1", "timeout": connection.timeout}
        )
        self._client.api_client.host = connection.base_url  # the client hard-codes its host; see docs
        self._client.api_client.server = ""  # no 'server' substitution into a local host name
        self._last_response = threading.local()
        self._keep_headers(self._client.api_client)
        self._secret = _Hidden(connection.api_key)
        self._retry, self._sleep = retry, sleep
        self._slots = threading.BoundedSemaphore(max_connections)
        self.calls = 0  # HTTP requests made, for benchmarks and tests
        self._count_lock = threading.Lock()
        self.read_only = read_only  # a dry run: any request but GET raises before it is sent

    def __repr__(self) -> str:
        return "Mailchimp(<connection hidden>)"

    def _keep_headers(self, api_client: Any) -> None:
        """The client drops response headers when it raises; keep them, for Retry-After. It also sends the
        JSON body `null` on POSTs that take none (unschedule, pause): send no body there, as the spec says."""
        send = api_client.request

        def request(
            method: str, url: str, query_params: Any = None, headers: Any = None, body: Any = None
        ) -> requests.Response:
            if self.read_only and method != "GET":
                raise ReadOnlyViolation(f"a dry run must not write, yet it tried {method} {urlsplit(url).path}")
            self._last_response.headers = {}
            if body is None and method in ("POST", "PUT", "PATCH"):
                auth = ("user", api_client.api_key)
                response = requests.request(
                    method, url, params=query_params, headers=headers, auth=auth, timeout=api_client.timeout
                )
            else:
                response = send(method, url, query_params, headers=headers, body=body)
            self._last_response.headers = response.headers
            return response

        api_client.request = request

    # -- the retrying core ---------------------------------------------------------------------
    def _call(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One API call with retries; returns parsed JSON, or None for 204."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(name, function, *args, **kwargs)
            except _Transient as failure:
                if attempt >= self._retry.attempts:
                    raise failure.error from None
                self._sleep(self._retry.delay(attempt, failure.retry_after))

    def _once(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._slots:
            with self._count_lock:
                self.calls += 1
            try:
                result = function(*args, **kwargs)
            except ApiClientError as err:
                if isinstance(err.text, ReadOnlyViolation):
                    raise err.text from None
                headers = getattr(self._last_response, "headers", {}) if err.status_code else {}
                raise self._failure(name, err.status_code, err.text, headers.get("Retry-After")) from None
            except requests.RequestException as err:  # raised by requests itself, outside the client
                raise self._failure(name, None, err, None) from None
        if isinstance(result, requests.Response):  # 204s, and errors with empty bodies, come back raw
            if result.status_code >= 400:
                raise self._failure(name, result.status_code, result.text, result.headers.get("Retry-After"))
            return None
        return result

    def _failure(self, name: str, status: int | None, text: Any, retry_after: str | None) -> Exception:
        if status is None:  # the client wraps network errors: .text is the exception object
            # Only a connection that was never made is sure not to have reached the server.
            never_arrived = isinstance(text, requests.ConnectTimeout) or "refused" in str(text).lower()
            error = MailchimpError(name, None, "network error", self._redact(f"{type(text).__name__}: {text}"))
            return _Transient(error, None, ambiguous=not never_arrived)
        title, detail = _problem(text)
        error = MailchimpError(name, status, title, self._redact(detail))
        if status == 429 or status >= 500:
            return _Transient(error, _seconds(retry_after), ambiguous=status >= 500)
        return error

    def _redact(self, text: str) -> str:
        return text.replace(self._secret.value, "<api key>") if self._secret.value else text

    def _create_once(self, name: str, create: Callable[[], Any], find: Callable[[], Any]) -> Any:
        """A create that is retried only after making sure an earlier, unanswered attempt did not succeed."""
        attempt, ambiguous = 0, False
        while True:
            attempt += 1
            if ambiguous:
                existing = find()  # its own calls retry; a look-up changes nothing, so that is safe
                if existing:
                    return existing
            try:
                return self._once(name, create)
            except _Transient as failure:
                if attempt >= self._retry.attempts:
                    raise failure.error from None
                ambiguous = ambiguous or failure.ambiguous
                self._sleep(self._retry.delay(attempt, failure.retry_after))

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
        return Account(str(answer.get("account_name") or ""), str(answer.get("pricing_plan_type") or ""))

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

    def ping(self) -> dict:
        return self._call("ping", self._client.ping.get)

    def upsert_member(self, list_id: str, email: str, body: dict) -> RemoteMember:
        """PUT by subscriber hash: creating twice is impossible, so retries are always safe."""
        member = self._call(
            "lists.set_list_member",
            self._client.lists.set_list_member,
            list_id,
            subscriber_hash(email),
            {"email_address": email, **body},
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

    def batch_subscribe(self, list_id: str, members: Sequence[tuple[str, dict[str, str]]]) -> dict[str, str]:
        """Up to 500 (email, merge fields) at once: new ones subscribed, existing ones updated in only the fields given,
        nobody re-subscribed. Returns the addresses Mailchimp refused, with why. (Upserts: a retry repeats nothing.)"""
        body = {
            "members": [
                {"email_address": email, "status_if_new": "subscribed", "merge_fields": fields}
                for email, fields in members
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
            made = self._create_once(
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
        return {
            f["tag"]
            for f in self._pages(
                "lists.get_list_merge_fields", self._client.lists.get_list_merge_fields, "merge_fields", list_id=list_id
            )
        }

    def create_text_merge_field(self, list_id: str, tag: str, name: str) -> None:
        """A hidden text field; a lost answer is checked by looking, not by creating again."""
        self._create_once(
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
        fields = [
            "members.email_address",
            "members.status",
            "members.merge_fields",
            "members.tags",
            "members.tags_count",
            "total_items",
        ]
        for member in self._pages(
            "lists.get_list_members_info",
            self._client.lists.get_list_members_info,
            "members",
            list_id=list_id,
            since_last_changed=since.isoformat(),
            fields=fields,
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
        fields = [
            "members.email_address",
            "members.status",
            "members.merge_fields",
            "members.tags",
            "members.tags_count",
            "total_items",
        ]
        for member in self._pages(
            "lists.get_segment_members_list",
            self._client.lists.get_segment_members_list,
            "members",
            list_id=list_id,
            segment_id=str(tag_id),
            fields=fields,
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
        return RemoteMember(member["email_address"], member.get("status", ""), member.get("merge_fields") or {}, tags)

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
        return {s["name"]: int(s["id"]) for s in self.segments(list_id, "static")}

    def segments(self, list_id: str, kind: str | None = None) -> list[dict]:
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

        folder = self._create_once(
            "campaignFolders.create", lambda: self._client.campaignFolders.create({"name": name}), find
        )
        return folder["id"]

    def campaigns(self, **filters: Any) -> Iterator[dict]:
        return self._pages("campaigns.list", self._client.campaigns.list, "campaigns", **filters)

    def recent_campaigns(self, list_id: str, since: datetime) -> list[RemoteCampaign]:
        """Every campaign to this audience created since `since`, typed, with its segment conditions."""
        fields = [
            "campaigns.id",
            "campaigns.status",
            "campaigns.send_time",
            "campaigns.settings.title",
            "campaigns.recipients.recipient_count",
            "campaigns.recipients.segment_opts",
            "total_items",
        ]
        return [
            _remote_campaign(c)
            for c in self.campaigns(list_id=list_id, since_create_time=since.isoformat(), fields=fields)
        ]

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

    def create_campaign(self, body: dict, find: Callable[[], RemoteCampaign | None] | None = None) -> RemoteCampaign:
        """Create a campaign; after an answer that may have been lost, `find` (default: by its title, in its
        audience) looks for it first, so a lost answer never makes a second one."""
        title, list_id = body["settings"]["title"], body.get("recipients", {}).get("list_id")

        def by_title() -> RemoteCampaign | None:
            return self.find_campaign(title, **({"list_id": list_id} if list_id else {}))

        created = self._create_once("campaigns.create", lambda: self._client.campaigns.create(body), find or by_title)
        return created if isinstance(created, RemoteCampaign) else _remote_campaign(created)

    def delete_campaign(self, campaign_id: str) -> None:
        """Delete; a 404 (a repeat after an answer that was lost) means it is already gone."""
        try:
            self._call("campaigns.remove", self._client.campaigns.remove, campaign_id)
        except MailchimpError as err:
            if err.status != 404:
                raise

    def find_campaign(self, title: str, **filters: Any) -> RemoteCampaign | None:
        return next(
            (_remote_campaign(c) for c in self.campaigns(**filters) if c["settings"].get("title") == title), None
        )

    def get_campaign(self, campaign_id: str) -> dict:
        return self._call("campaigns.get", self._client.campaigns.get, campaign_id)

    def update_campaign(self, campaign_id: str, body: dict) -> dict:
        return self._call("campaigns.update", self._client.campaigns.update, campaign_id, body)

    def set_content(self, campaign_id: str, html: str, plain_text: str) -> None:
        self._call(
            "campaigns.set_content",
            self._client.campaigns.set_content,
            campaign_id,
            {"html": html, "plain_text": plain_text},
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
        content = self.get_content(campaign_id) or {}
        return CampaignCopy(
            settings.get("subject_line", ""),
            settings.get("preview_text", ""),
            content.get("html", ""),
            content.get("plain_text", ""),
        )

    def get_content(self, campaign_id: str) -> dict:
        return self._call("campaigns.get_content", self._client.campaigns.get_content, campaign_id)

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
        try:
            self._call(
                "campaigns.schedule",
                self._client.campaigns.schedule,
                campaign_id,
                {"schedule_time": utc_time, "timewarp": False},
            )
        except MailchimpError as err:
            current = self.get_campaign(campaign_id) if err.status == 400 else None
            if not (current and current["status"] == "schedule" and _same_time(current["send_time"], utc_time)):
                raise

    def unschedule(self, campaign_id: str) -> None:
        try:
            self._call("campaigns.unschedule", self._client.campaigns.unschedule, campaign_id)
        except MailchimpError as err:
            if not (err.status == 400 and self.get_campaign(campaign_id)["status"] == "save"):
                raise

    def send_test(self, campaign_id: str, emails: list[str], send_type: str = "html") -> None:
        self._call(
            "campaigns.send_test_email",
            self._client.campaigns.send_test_email,
            campaign_id,
            {"test_emails": emails, "send_type": send_type},
        )


def segment_opts(conditions: Sequence[Condition]) -> dict:
    """A campaign's recipients as Mailchimp's segment_opts: every condition must hold; a tag's id is a number."""
    return {
        "match": "all",
        "conditions": [
            {
                "condition_type": c.kind,
                "field": c.field,
                "op": c.op,
                "value": int(c.value) if c.kind == "StaticSegment" else c.value,
            }
            for c in conditions
        ],
    }


def _remote_campaign(campaign: dict) -> RemoteCampaign:
    recipients = campaign.get("recipients") or {}
    conditions = ((recipients.get("segment_opts") or {}).get("conditions")) or []
    return RemoteCampaign(
        campaign["id"],
        (campaign.get("settings") or {}).get("title", ""),
        campaign.get("status", ""),
        campaign.get("send_time") or None,
        int(recipients.get("recipient_count") or 0),
        tuple(
            (str(c.get("condition_type", "")), str(c.get("field", "")), str(c.get("op", "")), str(c.get("value", "")))
            for c in conditions
            if isinstance(c, dict)
        ),
    )


def _problem(text: Any) -> tuple[str, str]:
    """Mailchimp's problem document (title, detail, field errors) from an error body; raw text if not JSON."""
    if not isinstance(text, (str, bytes)) or not text:
        return "error", "(no detail in the answer)"
    try:
        body = json.loads(text)
    except ValueError:
        return "error", str(text)[:300]
    if not isinstance(body, dict):
        return "error", str(text)[:300]
    detail = str(body.get("detail", "")).strip()
    fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [] if isinstance(e, dict))
    return str(body.get("title", "error")), f"{detail} ({fields})" if fields and fields not in detail else detail


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _same_time(a: str, b: str) -> bool:
    try:
        return parse_time(a) == parse_time(b)
    except ValueError:
        return False
