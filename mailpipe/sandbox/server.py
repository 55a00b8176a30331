"""The sandbox's HTTP face: Mailchimp's URLs, auth, limits and error shapes, over the Store.

Also where faults are injected for tests: a seeded share of requests answered with 429 (with
Retry-After), 500, 503, a dropped connection, a connection dropped or a 500 answered *after* the request
took effect (the cases that make a naive retry create a campaign twice), or an error that quotes the API key
back (as a careless proxy might), to show that mailpipe never prints it.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from mailpipe.sandbox.errors import ApiError, not_found
from mailpipe.sandbox.store import Store
from mailpipe.util.loopback import LoopbackHandler, LoopbackServer
from mailpipe.util.vocabulary import SANDBOX_CLOCK

MAX_CONNECTIONS = 10  # Mailchimp's limit of simultaneous connections per account
MAX_BODY = 10_000_000  # bytes in one request body
BODY_DEADLINE = 10.0  # seconds for a whole request body to arrive (10 MB on loopback takes milliseconds)
RANDOM_FAULTS = ("429", "500", "503", "drop", "drop-after", "500-after")  # what a flaky network and server do
FAULT_KINDS = RANDOM_FAULTS + ("echo-key",)


@dataclass
class FaultPlan:
    """Answer `rate` of requests with a fault drawn from `kinds`, reproducibly from `seed`;
    the first requests get the faults of `script` (None: no fault), in order. `only` (method, path -> bool) limits
    the faults to the requests it accepts, so a test can fail one kind of write and no other."""

    rate: float = 0.0
    kinds: tuple[str, ...] = RANDOM_FAULTS
    seed: int = 0
    retry_after: int = 1
    script: list[str | None] = field(default_factory=list)
    only: Callable[[str, str], bool] | None = None
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = (set(self.kinds) | set(self.script)) - set(FAULT_KINDS) - {None}
        if unknown or not 0 <= self.rate <= 1:
            raise ValueError(f"fault kinds must be among {FAULT_KINDS} and rate within 0..1")
        self._random = random.Random(self.seed)

    def draw(self, method: str, path: str) -> str | None:
        if self.only is not None and not self.only(method, path):
            return None
        with self._lock:
            if self.script:
                return self.script.pop(0)
            return self._random.choice(self.kinds) if self._random.random() < self.rate else None


_ID = {"list": r"[\w-]+", "member": r"\w+", "segment": r"\w+", "campaign": r"[\w-]+", "folder": r"\w+"}
ROUTES: list[tuple[str, re.Pattern, Callable[[Store, dict, dict, dict], object]]] = []


def route(method: str, template: str, handler: Callable[[Store, dict, dict, dict], object]) -> None:
    """`/lists/{list}/members/{member}` -> a pattern with named groups; a handler returning None answers 204."""
    pattern = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{_ID[m.group(1)]})", template)
    ROUTES.append((method, re.compile(f"^/3.0{pattern}/?$"), handler))


MEMBER, SEGMENT = "/lists/{list}/members/{member}", "/lists/{list}/segments/{segment}"
route("GET", "/ping", lambda s, p, q, b: {"health_status": "Everything's Chimpy!"})
route("GET", "", lambda s, p, q, b: s.account())
route("GET", "/verified-domains", lambda s, p, q, b: s.verified_domains())
route("GET", "/lists", lambda s, p, q, b: s.lists())
route("POST", "/lists", lambda s, p, q, b: s.create_list(b))
route("GET", "/lists/{list}", lambda s, p, q, b: s.get_list(p["list"]))
route("POST", "/lists/{list}", lambda s, p, q, b: s.batch_subscribe(p["list"], b))
route("GET", "/lists/{list}/members", lambda s, p, q, b: s.list_members(p["list"], q))
route("PUT", MEMBER, lambda s, p, q, b: s.upsert_member(p["list"], p["member"], b))
route("GET", MEMBER, lambda s, p, q, b: s.get_member(p["list"], p["member"]))
route("PATCH", MEMBER, lambda s, p, q, b: s.patch_member(p["list"], p["member"], b))
route("DELETE", MEMBER, lambda s, p, q, b: s.archive_member(p["list"], p["member"]))
route("GET", MEMBER + "/tags", lambda s, p, q, b: s.member_tags(p["list"], p["member"]))
route("POST", MEMBER + "/tags", lambda s, p, q, b: s.set_member_tags(p["list"], p["member"], b))
route("GET", "/lists/{list}/merge-fields", lambda s, p, q, b: s.merge_fields(p["list"], q))
route("POST", "/lists/{list}/merge-fields", lambda s, p, q, b: s.create_merge_field(p["list"], b))
route("GET", "/lists/{list}/tag-search", lambda s, p, q, b: s.tag_search(p["list"], q))
route("GET", "/lists/{list}/segments", lambda s, p, q, b: s.list_segments(p["list"], q))
route("POST", "/lists/{list}/segments", lambda s, p, q, b: s.create_segment(p["list"], b))
route("GET", SEGMENT, lambda s, p, q, b: s.get_segment(p["list"], p["segment"]))
route("PATCH", SEGMENT, lambda s, p, q, b: s.update_segment(p["list"], p["segment"], b))
route("DELETE", SEGMENT, lambda s, p, q, b: s.delete_segment(p["list"], p["segment"]))
route("POST", SEGMENT, lambda s, p, q, b: s.batch_segment_members(p["list"], p["segment"], b))
route("GET", SEGMENT + "/members", lambda s, p, q, b: s.segment_members(p["list"], p["segment"], q))
route("GET", "/campaign-folders", lambda s, p, q, b: s.folders(q))
route("POST", "/campaign-folders", lambda s, p, q, b: s.create_folder(b))
route("PATCH", "/campaign-folders/{folder}", lambda s, p, q, b: s.rename_folder(p["folder"], b))
route("GET", "/campaigns", lambda s, p, q, b: s.list_campaigns(q))
route("POST", "/campaigns", lambda s, p, q, b: s.create_campaign(b))
route("GET", "/campaigns/{campaign}", lambda s, p, q, b: s.get_campaign(p["campaign"]))
route("PATCH", "/campaigns/{campaign}", lambda s, p, q, b: s.update_campaign(p["campaign"], b))
route("DELETE", "/campaigns/{campaign}", lambda s, p, q, b: s.delete_campaign(p["campaign"]))
route("GET", "/campaigns/{campaign}/content", lambda s, p, q, b: s.get_content(p["campaign"]))
route("PUT", "/campaigns/{campaign}/content", lambda s, p, q, b: s.set_content(p["campaign"], b))
route("GET", "/campaigns/{campaign}/send-checklist", lambda s, p, q, b: s.checklist(p["campaign"]))
route("POST", "/campaigns/{campaign}/actions/schedule", lambda s, p, q, b: s.schedule(p["campaign"], b))
route("POST", "/campaigns/{campaign}/actions/unschedule", lambda s, p, q, b: s.unschedule(p["campaign"]))
route("POST", "/campaigns/{campaign}/actions/send", lambda s, p, q, b: s.send_now(p["campaign"]))
route("POST", "/campaigns/{campaign}/actions/pause", lambda s, p, q, b: s.pause(p["campaign"]))
route("POST", "/campaigns/{campaign}/actions/resume", lambda s, p, q, b: s.resume(p["campaign"]))
route("POST", "/campaigns/{campaign}/actions/cancel-send", lambda s, p, q, b: s.cancel_send(p["campaign"]))
route("POST", "/campaigns/{campaign}/actions/test", lambda s, p, q, b: s.send_test(p["campaign"], b))
route("GET", "/reports", lambda s, p, q, b: s.reports(q))
route("GET", "/reports/{campaign}", lambda s, p, q, b: s.report(p["campaign"]))
route("GET", "/reports/{campaign}/sent-to", lambda s, p, q, b: s.sent_to(p["campaign"], q))


def select_fields(document: object, fields: str | None, exclude: str | None) -> object:
    """Mailchimp's `fields` / `exclude_fields`: comma-separated dot paths, applied through lists."""
    if fields:
        document = _keep(document, [f.strip().split(".") for f in fields.split(",") if f.strip()])
    if exclude:
        for path in [f.strip().split(".") for f in exclude.split(",") if f.strip()]:
            _drop(document, path)
    return document


def _keep(document: object, paths: list[list[str]]) -> object:
    if isinstance(document, list):
        return [_keep(item, paths) for item in document]
    if not isinstance(document, dict) or not paths or any(not p for p in paths):
        return document
    kept = {}
    for key in dict.fromkeys(p[0] for p in paths):
        if key in document:
            kept[key] = _keep(document[key], [p[1:] for p in paths if p[0] == key])
    return kept


def _drop(document: object, path: list[str]) -> None:
    if isinstance(document, list):
        for item in document:
            _drop(item, path)
    elif isinstance(document, dict) and path and path[0] in document:
        if len(path) == 1:
            del document[path[0]]
        else:
            _drop(document[path[0]], path[1:])


class _Handler(LoopbackHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's names)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        self._body: bytes | None = None
        refused = self.foreign()
        if refused:
            self.close_connection = True
            self._answer(403, ApiError(403, "Forbidden", f"The sandbox refuses {refused}.").body())
            return
        try:  # read whole before the request counts as a connection at work: a body that drips holds no one's place
            self._read_body()
        except ApiError as err:
            self._answer(err.status, err.body())
            return
        sandbox = self.server
        with sandbox.connections_lock:
            sandbox.in_flight += 1
            too_many = sandbox.in_flight > MAX_CONNECTIONS
        try:
            if too_many:
                self._read_body()
                self._answer(
                    429,
                    ApiError(
                        429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections."
                    ).body(),
                    {"Retry-After": "1"},
                )
                return
            faults = sandbox.faults
            fault = faults.draw(method, urlsplit(self.path).path) if faults else None
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "echo-key":
                self._read_body()
                key = _key(self.headers.get("Authorization", ""))
                self._answer(400, ApiError(400, "Invalid Resource", f"The API key {key} cannot do this.").body())
                return
            if fault in ("429", "500", "503"):
                self._read_body()
                status = int(fault)
                title = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
                headers = {"Retry-After": str(faults.retry_after)} if status == 429 and faults else {}
                self._answer(status, ApiError(status, title, "Injected fault: try again later.").body(), headers)
                return
            status, answer, request = self._dispatch(method)
            if sandbox.recorder:
                sandbox.recorder(request, status, answer)
            if fault == "drop-after":  # the request took effect, but the client never hears so
                self.close_connection = True
                return
            if fault == "500-after":  # the request took effect, and the server says it failed
                self._answer(
                    500, ApiError(500, "Internal Server Error", "Injected fault after the change was made.").body()
                )
                return
            self._answer(status, answer)
        finally:
            with sandbox.connections_lock:
                sandbox.in_flight -= 1

    def _read_body(self) -> bytes:
        """The request body (read once); a Content-Length that is not a size up to MAX_BODY is Mailchimp's 400
        (BadRequest), and a body that has not all arrived within BODY_DEADLINE seconds (one dripped a byte at a time,
        each within the idle timeout) a 408."""
        if self._body is not None:
            return self._body
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isdigit() or int(text) > MAX_BODY:
            self.close_connection = True  # what follows on the connection can no longer be framed
            raise ApiError(
                400, "Bad Request", f"Content-Length must be a size of at most {MAX_BODY} bytes, got {text[:20]!r}."
            )
        left, chunks = int(text), []
        deadline = time.monotonic() + BODY_DEADLINE
        try:
            while left:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.connection.settimeout(remaining)
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:  # the client stopped sending before the end
                    raise TimeoutError
                chunks.append(chunk)
                left -= len(chunk)
        except TimeoutError:
            self.close_connection = True
            raise ApiError(
                408, "Request Timeout", f"The request body did not arrive within {BODY_DEADLINE:g} seconds."
            ) from None
        finally:
            self.connection.settimeout(self.timeout)
        self._body = b"".join(chunks)
        return self._body

    def _dispatch(self, method: str) -> tuple[int, object, dict]:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        request = {"method": method, "path": url.path, "query": query, "body": b"", "headers": dict(self.headers)}
        try:
            raw = request["body"] = self._read_body()
            if not _authorised(self.headers.get("Authorization", "")):
                raise ApiError(401, "API Key Missing", "Your request did not include an API key.")
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as err:
                raise ApiError(
                    400, "JSON Parse Error", f"We encountered an unspecified JSON parsing error: {err}."
                ) from None
            if body is None:  # the official client sends `null` for actions without a body
                body = {}
            if not isinstance(body, dict):
                raise ApiError(400, "JSON Parse Error", "The request body must be a JSON object.")
            handler, params = self._route(method, url.path)
            with self.server.store.serialized():
                answer = handler(self.server.store, params, query, body)
            status = 204 if answer is None else 200
            if answer is not None and status == 200:
                answer = select_fields(answer, query.get("fields"), query.get("exclude_fields"))
            return status, answer, request
        except ApiError as err:
            return err.status, err.body(), request
        except (
            TypeError,
            AttributeError,
            KeyError,
            ValueError,
            OverflowError,  # a number SQLite cannot hold (an id of 10**25)
            sqlite3.ProgrammingError,  # a value SQLite cannot bind (an object where a folder name goes)
        ) as err:  # a field of the wrong type or size: Mailchimp's schema check
            return (
                400,
                ApiError(
                    400,
                    "Invalid Resource",
                    f"The resource submitted could not be validated: {type(err).__name__}: {err}",
                ).body(),
                request,
            )
        except Exception as err:  # a sandbox bug must still answer like Mailchimp, and keep serving
            return (
                500,
                ApiError(500, "Internal Server Error", f"The sandbox failed: {type(err).__name__}: {err}").body(),
                request,
            )

    @staticmethod
    def _route(method: str, path: str) -> tuple[Callable[[Store, dict, dict, dict], object], dict[str, str]]:
        allowed = False
        for route_method, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler, match.groupdict()
                allowed = True
        if allowed:
            raise ApiError(405, "Method Not Allowed", f"The requested method {method} is not allowed for {path}.")
        raise not_found(f"path {path}")

    def _answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        moment = self.server.store.stored_clock()
        if moment is not None:  # lent to the commands pointed at this sandbox (Mailchimp sends no such header)
            self.send_header(SANDBOX_CLOCK, moment.isoformat())
        if status == 204 or body is None:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(body).encode("utf-8")
        kind = "application/json; charset=utf-8" if status < 400 else "application/problem+json; charset=utf-8"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _key(header: str) -> str:
    """The key of a Basic auth header ('' when there is none)."""
    if not header.startswith("Basic "):
        return ""
    try:
        return base64.b64decode(header[6:]).decode("utf-8").partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _authorised(header: str) -> bool:
    """Basic auth with any user and any non-empty key, as a test account would accept, except a key that starts with
    `revoked` (how tests play a key someone revoked)."""
    key = _key(header)
    return bool(key) and not key.startswith("revoked")


class SandboxServer(LoopbackServer):
    def __init__(
        self,
        store: Store,
        port: int = 0,
        faults: FaultPlan | None = None,
        recorder: Callable[[dict, int, object], None] | None = None,
    ):
        super().__init__(port, _Handler)
        self.store, self.faults, self.recorder = store, faults, recorder
        self.connections_lock = threading.Lock()
        self.in_flight = 0

    @property
    def url(self) -> str:
        return f"{self.origin}/3.0"


class RunningSandbox:
    """A sandbox serving from a background thread: `with RunningSandbox(path) as sandbox: sandbox.url`."""

    def __init__(
        self,
        db: Path | Store,
        port: int = 0,
        faults: FaultPlan | None = None,
        recorder: Callable[[dict, int, object], None] | None = None,
    ):
        """`db`: the sandbox's file, or a store opened already (such as a read-only copy)."""
        self.store = db if isinstance(db, Store) else Store(db)
        self.server = SandboxServer(self.store, port, faults, recorder)
        self._thread = threading.Thread(target=self.server.serve_forever, name="mailpipe-sandbox", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> RunningSandbox:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        self.store.close()
