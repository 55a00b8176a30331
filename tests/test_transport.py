"""The adapter's transport without a server (a mock transport, as httpx's): what is retried, what is looked for before
it is tried again, what a dry run refuses, and what a failure says. The real client builds every request."""

from __future__ import annotations

import json

import pytest
import requests

from mailpipe.push.mailchimp import (
    CampaignSettings,
    Connection,
    Mailchimp,
    MailchimpError,
    ReadOnlyViolation,
    RetryPolicy,
)

KEY = "0123456789abcdef0123456789abcdef-us7"
CAMPAIGN = {"id": "c1", "status": "save", "settings": {"title": "drip/x"}, "recipients": {"recipient_count": 2}}


def answer(status: int, body: object = None, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b"" if body is None else json.dumps(body).encode()
    response.headers.update({"Content-Type": "application/json", **headers} if body is not None else headers)
    return response


class Script:
    """A stand-in for the network: each request is recorded and gets the next scripted answer (or exception)."""

    def __init__(self, *answers: requests.Response | Exception):
        self.answers, self.sent = list(answers), []

    def __call__(self, method, url, query, headers, body, auth, timeout) -> requests.Response:
        self.sent.append((method, url.rsplit("/3.0", 1)[-1], json.loads(body) if body else None))
        next_answer = self.answers.pop(0)
        if isinstance(next_answer, Exception):
            raise next_answer
        return next_answer


class NothingSignedOff:
    """The sign-off gate of a project whose emails nobody approved."""

    def refusal(self, email) -> str:
        return "needs medical sign-off"


def client(script: Script, read_only: bool = False, waits: list | None = None) -> Mailchimp:
    """A client for the real account's address, whose requests `script` answers."""
    return Mailchimp(
        Connection(KEY, "https://us7.api.mailchimp.com/3.0"),
        RetryPolicy(attempts=4, base_delay=0.5, max_delay=2.0),
        sleep=(waits if waits is not None else []).append,
        read_only=read_only,
        send=script,
        sign_offs=NothingSignedOff(),
    )


def settings(title: str) -> CampaignSettings:
    return CampaignSettings(title, "S", "P", "AIVI Aesthetics", "hello@aiviaesthetics.com")


def test_a_server_error_is_retried_after_a_backoff_and_then_succeeds():
    waits: list[float] = []
    script = Script(answer(503, {"title": "Service Unavailable"}), answer(200, {"health_status": "ok"}))
    mc = client(script, waits=waits)
    mc.ping()
    assert [m for m, _, _ in script.sent] == ["GET", "GET"] and mc.calls == 2
    assert len(waits) == 1 and 0 <= waits[0] <= 0.5  # first backoff: at most base_delay


def test_429_waits_at_least_retry_after_and_gives_up_after_the_attempts():
    waits: list[float] = []
    busy = [
        answer(429, {"title": "Too Many Requests", "detail": "slow down"}, **{"Retry-After": "3"}) for _ in range(4)
    ]
    mc = client(Script(*busy), waits=waits)
    with pytest.raises(MailchimpError, match="ping failed: 429 Too Many Requests: slow down"):
        mc.ping()
    assert mc.calls == 4 and len(waits) == 3 and all(w >= 3 for w in waits)


def test_a_client_error_is_not_retried_and_is_one_line():
    problem = {"title": "Invalid Resource", "detail": "Please provide a valid email.", "errors": [
        {"field": "email_address", "message": "looks fake"}]}  # fmt: skip
    mc = client(Script(answer(400, problem)))
    with pytest.raises(MailchimpError) as caught:
        mc.upsert_member("clinic", "bad")
    assert str(caught.value) == (
        "Mailchimp lists.set_list_member failed: 400 Invalid Resource: Please provide a valid email. "
        "(email_address: looks fake)"
    )
    assert mc.calls == 1


def test_a_create_whose_answer_was_lost_is_looked_for_before_it_is_tried_again():
    """The connection broke after the request went out: the campaign may exist. Look (by its title, in its audience)
    before a second create; found, so no second POST."""
    script = Script(
        requests.ConnectionError("Connection reset by peer"),
        answer(200, {"campaigns": [CAMPAIGN], "total_items": 1}),
    )
    made = client(script).create_campaign("clinic", settings("drip/x"))
    assert made.id == "c1"
    assert [(m, p) for m, p, _ in script.sent] == [("POST", "/campaigns"), ("GET", "/campaigns")]


def test_a_create_is_tried_again_when_the_look_finds_nothing_and_when_it_never_reached_the_server():
    nothing = answer(200, {"campaigns": [], "total_items": 0})
    lost = Script(answer(502, {"title": "Bad Gateway"}), nothing, answer(200, CAMPAIGN))
    assert client(lost).create_campaign("clinic", settings("drip/x")).id == "c1"
    assert [m for m, _, _ in lost.sent] == ["POST", "GET", "POST"]
    refused = Script(requests.ConnectionError("[Errno 111] Connection refused"), answer(200, CAMPAIGN))
    assert client(refused).create_campaign("clinic", settings("drip/x")).id == "c1"
    assert [m for m, _, _ in refused.sent] == ["POST", "POST"]  # a refused connection reached nothing: no look


def test_the_create_body_is_built_by_the_adapter_from_typed_settings():
    script = Script(answer(200, CAMPAIGN))
    client(script).create_campaign("clinic", settings("drip/x"))
    assert script.sent[0][2] == {
        "type": "regular",
        "recipients": {"list_id": "clinic"},
        "settings": {
            "subject_line": "S",
            "preview_text": "P",
            "title": "drip/x",
            "from_name": "AIVI Aesthetics",
            "reply_to": "hello@aiviaesthetics.com",
        },
    }


def test_a_dry_runs_client_sends_nothing_but_gets():
    script = Script(answer(200, {"health_status": "ok"}))
    mc = client(script, read_only=True)
    mc.ping()
    with pytest.raises(ReadOnlyViolation, match="a dry run must not write, yet it tried POST /3.0/campaigns"):
        mc.create_campaign("clinic", settings("drip/x"))
    assert [m for m, _, _ in script.sent] == ["GET"]


def test_a_body_less_action_sends_no_body():
    script = Script(answer(204))
    client(script).unschedule("c1")
    assert script.sent == [("POST", "/campaigns/c1/actions/unschedule", None)]


def test_an_answer_that_quotes_the_key_is_said_without_it():
    echo = answer(401, {"title": "API Key Invalid", "detail": f"Your API key {KEY} may be invalid"})
    with pytest.raises(MailchimpError) as caught:
        client(Script(echo)).ping()
    assert KEY not in str(caught.value) and "<api key>" in str(caught.value)


def test_a_server_that_echoes_the_request_headers_gets_the_key_said_in_no_form():
    """A proxy or server that echoes the Authorization header sends back `Basic base64(user:key)`: that, the key
    URL-encoded, and its secret part alone are all said as <api key>. A real server on 127.0.0.1, the real client."""
    import base64
    import threading
    import urllib.parse
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            body = json.dumps(
                {
                    "title": "Bad Request",
                    "status": 400,
                    "detail": f"you sent {dict(self.headers)} to {self.path}; key {urllib.parse.quote(KEY, safe='')}; "
                    f"secret {KEY.split('-')[0]}",
                }
            ).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mc = Mailchimp(Connection(KEY, f"http://127.0.0.1:{server.server_address[1]}/3.0"), RetryPolicy(attempts=1))
        with pytest.raises(MailchimpError) as caught:
            mc.ping()
    finally:
        server.shutdown()
        server.server_close()
    said = str(caught.value)
    header = base64.b64encode(f"user:{KEY}".encode()).decode()
    assert "Basic <api key>" in said and said.count("<api key>") >= 3, said
    for form in (KEY, KEY.split("-")[0], header, urllib.parse.quote(KEY, safe="")):
        assert form not in said
    assert header[4:-4] not in said  # not even the middle of the header


@pytest.mark.parametrize("prefix", ["", "a", "ab", "anystring:", "x:"])
def test_the_key_base64_encoded_after_any_prefix_is_said_without_it(prefix):
    import base64

    encoded = base64.b64encode(f"{prefix}{KEY}".encode()).decode()
    echo = answer(400, {"title": "Bad Request", "detail": f"echo {encoded}"})
    with pytest.raises(MailchimpError) as caught:
        client(Script(echo)).ping()
    said = str(caught.value)
    assert "<api key>" in said and not any(encoded[i : i + 12] in said for i in range(4, len(encoded) - 16)), said
