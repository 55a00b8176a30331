"""The one way a request reaches Mailchimp, under the official client (httpx's Client/Transport seam): the
read-only guard of a dry run, at most a few connections at once, every request counted, 429, 5xx, resets and
timeouts retried with exponential backoff and jitter (never sooner than Retry-After), a create whose answer may have
been lost looked for before it is tried again, and every failure one line that never holds the API key.

The official client calls `Transport.request` for each HTTP request; what it sends through is `send` (HTTP by
`requests`, or a stand-in in tests: a mock transport, as httpx's, answers without a server).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from mailpipe.errors import MailpipeError, NoTarget

MAX_CONNECTIONS = 10  # Mailchimp's limit of simultaneous connections

# (method, url, query, headers, body bytes or None, (user, key), timeout) -> the answer
Send = Callable[[str, str, Any, Mapping[str, str], bytes | None, tuple[str, str], float], requests.Response]


def send_http(
    method: str,
    url: str,
    query: Any,
    headers: Mapping[str, str],
    body: bytes | None,
    auth: tuple[str, str],
    timeout: float,
) -> requests.Response:
    return requests.request(method, url, params=query, headers=dict(headers), data=body, auth=auth, timeout=timeout)


class MailchimpError(MailpipeError):
    """A Mailchimp call that failed for good, said in one line."""

    def __init__(self, call: str, status: int | None, title: str, detail: str):
        self.call, self.status, self.title, self.detail = call, status, title, detail
        where = f"{status} {title}" if status else title
        super().__init__(f"Mailchimp {call} failed: {where}: {detail}")


class ReadOnlyViolation(MailpipeError):
    """A write attempted by a client that promised to only read (a dry run)."""


class AlreadyMade(Exception):  # noqa: N818 (not an error: the answer to a create, found by looking)
    """A create whose earlier attempt had taken effect after all: what looking for it found."""

    def __init__(self, found: object):
        super().__init__("found")
        self.found = found


LOCAL_SERVER_KEY = "sandbox-us0"  # a server on this machine (the sandbox) accepts any key
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


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
        """MAILCHIMP_API_KEY (ends in -usNN, the data centre) and optional MAILCHIMP_SERVER_URL; or
        MAILCHIMP_SERVER_URL alone when it is a server on this machine (a served sandbox takes any key).

        None only when neither variable is set: a key set but empty (a cron line whose key file is missing) or
        malformed is an error, and so is a server elsewhere without a key."""
        environ = os.environ if environ is None else environ
        if "MAILCHIMP_API_KEY" not in environ:
            return cls._local_server(environ.get("MAILCHIMP_SERVER_URL", "").strip())
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
        elif not _a_server_url(url):
            raise MailpipeError("MAILCHIMP_SERVER_URL must be a URL like https://us21.api.mailchimp.com/3.0")
        return cls(key, url.rstrip("/"))

    @classmethod
    def _local_server(cls, url: str) -> Connection | None:
        """MAILCHIMP_SERVER_URL without a key: a sandbox served on this machine, or (not set) None."""
        if not url:
            return None
        if not _a_server_url(url):
            raise MailpipeError("MAILCHIMP_SERVER_URL must be a URL like http://127.0.0.1:8799/3.0")
        if urlsplit(url).hostname not in LOCAL_HOSTS:
            raise NoTarget(
                "MAILCHIMP_SERVER_URL names a server that is not on this machine: set MAILCHIMP_API_KEY to its key too"
            )
        return cls(LOCAL_SERVER_KEY, url.rstrip("/"))

    @property
    def is_local(self) -> bool:
        """A server on this machine (a served sandbox, a test's), not Mailchimp."""
        return urlsplit(self.base_url).hostname in LOCAL_HOSTS


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, never shorter than the server's Retry-After."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return max(backoff, retry_after or 0.0)


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
class _Call:
    """The operation a request belongs to: its name (for messages) and, for a create, how to look for what an
    unanswered attempt may have made."""

    name: str
    find: Callable[[], object | None] | None = None


_CURRENT: ContextVar[_Call | None] = ContextVar("mailchimp_call", default=None)


class Transport:
    def __init__(
        self,
        connection: Connection,
        retry: RetryPolicy,
        max_connections: int,
        read_only: bool,
        sleep: Callable[[float], None] = time.sleep,
        send: Send = send_http,
    ):
        if not 1 <= max_connections <= MAX_CONNECTIONS:
            raise ValueError(f"max_connections must be 1..{MAX_CONNECTIONS}")
        self._secret = _Hidden(connection.api_key)
        self._timeout, self._retry, self._sleep, self._send = connection.timeout, retry, sleep, send
        self._slots = threading.BoundedSemaphore(max_connections)
        self._count_lock = threading.Lock()
        self.calls = 0  # HTTP requests made, for benchmarks and tests
        self.read_only = read_only  # a dry run: any request but GET is refused before it is sent

    def __repr__(self) -> str:
        return "Transport(<connection hidden>)"

    @contextlib.contextmanager
    def call(self, name: str, find: Callable[[], object | None] | None = None) -> Iterator[None]:
        """The requests made inside belong to operation `name`; `find`: it creates, and this looks for what an
        attempt whose answer was lost may have made."""
        token = _CURRENT.set(_Call(name, find))
        try:
            yield
        finally:
            _CURRENT.reset(token)

    def request(
        self, method: str, url: str, query_params: Any = None, headers: Any = None, body: Any = None
    ) -> requests.Response:
        """One request of the official client, retried while it may still succeed; raises MailchimpError when it
        failed for good, AlreadyMade when a create had taken effect after all."""
        call = _CURRENT.get() or _Call("request")
        if self.read_only and method != "GET":
            raise ReadOnlyViolation(f"a dry run must not write, yet it tried {method} {urlsplit(url).path}")
        data = json.dumps(body).encode() if body is not None and method in ("POST", "PUT", "PATCH") else None
        attempt, ambiguous = 0, False
        while True:
            attempt += 1
            if ambiguous and call.find is not None:
                self._look(call.find)
            try:
                return self._once(call.name, method, url, query_params, headers or {}, data)
            except _Transient as failure:
                if attempt >= self._retry.attempts:
                    raise failure.error from None
                ambiguous = ambiguous or failure.ambiguous
                self._sleep(self._retry.delay(attempt, failure.retry_after))

    def _look(self, find: Callable[[], object | None]) -> None:
        """Before a create is tried again: what an earlier attempt may have made (its own calls retry)."""
        with self.call("look-up"):
            found = find()
        if found:
            raise AlreadyMade(found)

    def _once(
        self, name: str, method: str, url: str, query: Any, headers: Mapping[str, str], data: bytes | None
    ) -> requests.Response:
        with self._slots:
            with self._count_lock:
                self.calls += 1
            try:
                response = self._send(method, url, query, headers, data, ("user", self._secret.value), self._timeout)
            except requests.RequestException as err:
                raise self._network_failure(name, err) from None
        if response.status_code >= 400:
            raise self._failure(name, response.status_code, response.text, response.headers.get("Retry-After"))
        return response

    def _network_failure(self, name: str, err: requests.RequestException) -> _Transient:
        # Only a connection that was never made is sure not to have reached the server.
        never_arrived = isinstance(err, requests.ConnectTimeout) or "refused" in str(err).lower()
        error = MailchimpError(name, None, "network error", self.redact(f"{type(err).__name__}: {err}"))
        return _Transient(error, None, ambiguous=not never_arrived)

    def _failure(self, name: str, status: int, text: str, retry_after: str | None) -> Exception:
        title, detail = _problem(text)
        error = MailchimpError(name, status, title, self.redact(detail))
        if status == 429 or status >= 500:
            return _Transient(error, _seconds(retry_after), ambiguous=status >= 500)
        return error

    def redact(self, text: str) -> str:
        """The text without the key in any form it travels or is echoed in."""
        for form in secret_forms(self._secret.value):
            text = text.replace(form, "<api key>")
        return text


def secret_forms(key: str) -> list[str]:
    """Every form of the key a server or proxy could echo, longest first: raw; its secret part alone (the key without
    its `-usNN` data centre, as a split would show it); URL-encoded; and base64 at each of the three alignments it can
    take inside a longer base64 text (as in `Authorization: Basic base64(user:key)`), each cut to the characters
    that depend on the key alone."""
    if not key:
        return []
    secret = key.rsplit("-", 1)[0] if "-" in key else key
    forms = {key, secret, urllib.parse.quote(key, safe=""), urllib.parse.quote_plus(key)}
    forms.add(base64.b64encode(f"user:{key}".encode()).decode())  # the Authorization header the client sends, whole
    for part in (key, secret):
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + part.encode()).decode()
            start = (offset * 4 + 2) // 3  # characters that mix in bytes before the key
            end = len(encoded) - (0 if (offset + len(part)) % 3 == 0 else 4)  # the last group mixes in padding
            if end - start >= 8:
                forms.add(encoded[start:end])
    return sorted((f for f in forms if len(f) >= 8), key=len, reverse=True)


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


def _a_server_url(url: str) -> bool:
    """http(s), a host, and a port (if any) that is one (urllib raises on 99999 only when asked for it)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (read for the ValueError it raises)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
