"""The sandbox's HTTP face: Mailchimp's URLs, auth, limits and error shapes, over the Store.

Also where faults are injected for tests: a seeded share of requests answered with 429 (with
Retry-After), 500, 503, a dropped connection, or a connection dropped *after* the request took
effect (the case that makes a naive retry create a campaign twice).
"""
from __future__ import annotations

import base64
import binascii
import json
import random
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

from mailpipe.sandbox.errors import ApiError, not_found
from mailpipe.sandbox.store import Store

MAX_CONNECTIONS = 10  # Mailchimp's limit of simultaneous connections per account
FAULT_KINDS = ("429", "500", "503", "drop", "drop-after")


@dataclass
class FaultPlan:
    """Answer `rate` of requests with a fault drawn from `kinds`, reproducibly from `seed`;
    the first requests get the faults of `script` (None: no fault), in order."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    retry_after: int = 1
    script: list[str | None] = field(default_factory=list)
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = (set(self.kinds) | set(self.script)) - set(FAULT_KINDS) - {None}
        if unknown or not 0 <= self.rate <= 1:
            raise ValueError(f"fault kinds must be among {FAULT_KINDS} and rate within 0..1")
        self._random = random.Random(self.seed)

    def draw(self) -> str | None:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            return self._random.choice(self.kinds) if self._random.random() < self.rate else None


ROUTES: list[tuple[str, re.Pattern, Callable[[Store, dict, dict, dict], tuple[int, object]]]] = []


def route(method: str, pattern: str):
    def register(function):
        ROUTES.append((method, re.compile("^/3.0" + pattern + "/?$"), function))
        return function
    return register


@route("GET", "/ping")
def _ping(store, params, query, body):
    return 200, {"health_status": "Everything's Chimpy!"}


@route("GET", "/lists")
def _lists(store, params, query, body):
    return 200, store.lists()


@route("POST", "/lists")
def _create_list(store, params, query, body):
    return 200, store.create_list(body)


@route("GET", r"/lists/(?P<list_id>[\w-]+)")
def _get_list(store, params, query, body):
    return 200, store.get_list(params["list_id"])


@route("GET", r"/lists/(?P<list_id>[\w-]+)/members")
def _members(store, params, query, body):
    return 200, store.list_members(params["list_id"], query)


@route("PUT", r"/lists/(?P<list_id>[\w-]+)/members/(?P<hash>\w+)")
def _upsert_member(store, params, query, body):
    return 200, store.upsert_member(params["list_id"], params["hash"], body)


@route("GET", r"/lists/(?P<list_id>[\w-]+)/members/(?P<hash>\w+)")
def _get_member(store, params, query, body):
    return 200, store.get_member(params["list_id"], params["hash"])


@route("PATCH", r"/lists/(?P<list_id>[\w-]+)/members/(?P<hash>\w+)")
def _patch_member(store, params, query, body):
    return 200, store.patch_member(params["list_id"], params["hash"], body)


@route("DELETE", r"/lists/(?P<list_id>[\w-]+)/members/(?P<hash>\w+)")
def _archive_member(store, params, query, body):
    store.archive_member(params["list_id"], params["hash"])
    return 204, None


@route("GET", r"/lists/(?P<list_id>[\w-]+)/members/(?P<hash>\w+)/tags")
def _member_tags(store, params, query, body):
    return 200, store.member_tags(params["list_id"], params["hash"])


@route("POST", r"/lists/(?P<list_id>[\w-]+)/members/(?P<hash>\w+)/tags")
def _set_member_tags(store, params, query, body):
    store.set_member_tags(params["list_id"], params["hash"], body)
    return 204, None


@route("GET", r"/lists/(?P<list_id>[\w-]+)/segments")
def _segments(store, params, query, body):
    return 200, store.list_segments(params["list_id"], query)


@route("POST", r"/lists/(?P<list_id>[\w-]+)/segments")
def _create_segment(store, params, query, body):
    return 200, store.create_segment(params["list_id"], body)


@route("GET", r"/lists/(?P<list_id>[\w-]+)/segments/(?P<segment_id>\w+)")
def _get_segment(store, params, query, body):
    return 200, store.get_segment(params["list_id"], params["segment_id"])


@route("PATCH", r"/lists/(?P<list_id>[\w-]+)/segments/(?P<segment_id>\w+)")
def _update_segment(store, params, query, body):
    return 200, store.update_segment(params["list_id"], params["segment_id"], body)


@route("DELETE", r"/lists/(?P<list_id>[\w-]+)/segments/(?P<segment_id>\w+)")
def _delete_segment(store, params, query, body):
    store.delete_segment(params["list_id"], params["segment_id"])
    return 204, None


@route("POST", r"/lists/(?P<list_id>[\w-]+)/segments/(?P<segment_id>\w+)")
def _batch_segment(store, params, query, body):
    return 200, store.batch_segment_members(params["list_id"], params["segment_id"], body)


@route("GET", r"/lists/(?P<list_id>[\w-]+)/segments/(?P<segment_id>\w+)/members")
def _segment_members(store, params, query, body):
    return 200, store.segment_members(params["list_id"], params["segment_id"], query)


@route("GET", "/campaign-folders")
def _folders(store, params, query, body):
    return 200, store.folders(query)


@route("POST", "/campaign-folders")
def _create_folder(store, params, query, body):
    return 200, store.create_folder(body)


@route("GET", "/campaigns")
def _campaigns(store, params, query, body):
    return 200, store.list_campaigns(query)


@route("POST", "/campaigns")
def _create_campaign(store, params, query, body):
    return 200, store.create_campaign(body)


@route("GET", r"/campaigns/(?P<id>[\w-]+)")
def _get_campaign(store, params, query, body):
    return 200, store.get_campaign(params["id"])


@route("PATCH", r"/campaigns/(?P<id>[\w-]+)")
def _update_campaign(store, params, query, body):
    return 200, store.update_campaign(params["id"], body)


@route("DELETE", r"/campaigns/(?P<id>[\w-]+)")
def _delete_campaign(store, params, query, body):
    store.delete_campaign(params["id"])
    return 204, None


@route("GET", r"/campaigns/(?P<id>[\w-]+)/content")
def _get_content(store, params, query, body):
    return 200, store.get_content(params["id"])


@route("PUT", r"/campaigns/(?P<id>[\w-]+)/content")
def _set_content(store, params, query, body):
    return 200, store.set_content(params["id"], body)


@route("GET", r"/campaigns/(?P<id>[\w-]+)/send-checklist")
def _checklist(store, params, query, body):
    return 200, store.checklist(params["id"])


@route("POST", r"/campaigns/(?P<id>[\w-]+)/actions/schedule")
def _schedule(store, params, query, body):
    store.schedule(params["id"], body)
    return 204, None


@route("POST", r"/campaigns/(?P<id>[\w-]+)/actions/unschedule")
def _unschedule(store, params, query, body):
    store.unschedule(params["id"])
    return 204, None


@route("POST", r"/campaigns/(?P<id>[\w-]+)/actions/send")
def _send(store, params, query, body):
    store.send_now(params["id"])
    return 204, None


@route("POST", r"/campaigns/(?P<id>[\w-]+)/actions/test")
def _test(store, params, query, body):
    store.send_test(params["id"], body)
    return 204, None


@route("GET", r"/reports/(?P<id>[\w-]+)")
def _report(store, params, query, body):
    return 200, store.report(params["id"])


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


class _Handler(BaseHTTPRequestHandler):
    server: "SandboxServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's name)
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
        sandbox = self.server
        with sandbox.connections_lock:
            sandbox.in_flight += 1
            too_many = sandbox.in_flight > MAX_CONNECTIONS
        try:
            if too_many:
                self._read_body()
                self._answer(429, ApiError(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.").body(),
                             {"Retry-After": "1"})
                return
            fault = sandbox.faults.draw() if sandbox.faults else None
            if fault == "drop":
                self.close_connection = True
                return
            if fault in ("429", "500", "503"):
                self._read_body()
                status = int(fault)
                title = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
                headers = {"Retry-After": str(sandbox.faults.retry_after)} if status == 429 else {}
                self._answer(status, ApiError(status, title, "Injected fault: try again later.").body(), headers)
                return
            status, answer, request = self._dispatch(method)
            if sandbox.recorder:
                sandbox.recorder(request, status, answer)
            if fault == "drop-after":  # the request took effect, but the client never hears so
                self.close_connection = True
                return
            self._answer(status, answer)
        finally:
            with sandbox.connections_lock:
                sandbox.in_flight -= 1

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> tuple[int, object, dict]:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = self._read_body()
        request = {"method": method, "path": url.path, "query": query, "body": raw, "headers": dict(self.headers)}
        try:
            if not _authorised(self.headers.get("Authorization", "")):
                raise ApiError(401, "API Key Missing", "Your request did not include an API key.")
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as err:
                raise ApiError(400, "JSON Parse Error", f"We encountered an unspecified JSON parsing error: {err}.") from None
            if body is None:  # the official client sends `null` for actions without a body
                body = {}
            if not isinstance(body, dict):
                raise ApiError(400, "JSON Parse Error", "The request body must be a JSON object.")
            handler, params = self._route(method, url.path)
            with self.server.store.serialized():
                status, answer = handler(self.server.store, params, query, body)
            if answer is not None and status == 200:
                answer = select_fields(answer, query.get("fields"), query.get("exclude_fields"))
            return status, answer, request
        except ApiError as err:
            return err.status, err.body(), request
        except Exception as err:  # a sandbox bug must still answer like Mailchimp, and keep serving
            return 500, ApiError(500, "Internal Server Error", f"The sandbox failed: {type(err).__name__}: {err}").body(), request

    @staticmethod
    def _route(method: str, path: str):
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


def _authorised(header: str) -> bool:
    """Basic auth with any user and any non-empty key, as a test account would accept."""
    if not header.startswith("Basic "):
        return False
    try:
        _, _, key = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return bool(key)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, store: Store, port: int = 0, faults: FaultPlan | None = None,
                 recorder: Callable[[dict, int, object], None] | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.store, self.faults, self.recorder = store, faults, recorder
        self.connections_lock = threading.Lock()
        self.in_flight = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/3.0"

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (killed, timed out) is normal here; anything else is still shown."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class RunningSandbox:
    """A sandbox serving from a background thread: `with RunningSandbox(path) as sandbox: sandbox.url`."""

    def __init__(self, db_path: Path, port: int = 0, faults: FaultPlan | None = None,
                 recorder: Callable[[dict, int, object], None] | None = None):
        self.store = Store(db_path)
        self.server = SandboxServer(self.store, port, faults, recorder)
        self._thread = threading.Thread(target=self.server.serve_forever, name="mailpipe-sandbox", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> "RunningSandbox":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        self.store.close()
