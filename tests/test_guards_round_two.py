"""Guards that one-line breaks used to slip past (issue 28's audit), each held by a test that fails when that line
breaks: a merge tag cannot carry a script link, and a look-alike Host header is not this machine."""

from __future__ import annotations

import pytest
import requests

from conftest import edit, rendered_email
from mailpipe.project import Project
from mailpipe.sandbox.server import RunningSandbox

LOOK_ALIKES = ["localhost.attacker.example", "127.0.0.1.attacker.example", "localhost.evil", "127.0.0.10"]


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)//*|ARCHIVE|*",
        "*|ARCHIVE|*javascript:alert(1)",
        "data:text/html,<b>x</b>*|UNSUB|*",
    ],
)
def test_a_merge_tag_inside_a_script_link_does_not_make_it_safe(project, run_cli, link):
    edit(
        project / "content/articles/01-what-causes-migraine.md", "A migraine is more than", f"[more]({link}) A migraine"
    )
    result = run_cli(project, "build")
    assert result.exit_code == 1 and "is not allowed in an email" in result.stderr
    assert not (project / "build" / "what-causes-migraine.html").exists()


def test_a_whole_merge_tag_link_is_still_kept(project, run_cli):
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "[web](*|ARCHIVE|*) A migraine",
    )
    email = rendered_email(project, "what-causes-migraine")
    assert 'href="*|ARCHIVE|*"' in email.html


@pytest.mark.parametrize("host", LOOK_ALIKES)
def test_the_sandbox_refuses_a_host_that_only_begins_like_this_machine(tmp_path, host):
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        port = sandbox.url.split(":")[2].split("/")[0]
        ours = requests.get(f"{sandbox.url}/ping", auth=("any", "key"), timeout=5)
        foreign = requests.get(
            f"{sandbox.url}/ping", auth=("any", "key"), headers={"Host": f"{host}:{port}"}, timeout=5
        )
    assert ours.status_code == 200
    assert foreign.status_code == 403, host


@pytest.mark.parametrize("host", LOOK_ALIKES)
def test_the_preview_refuses_a_host_that_only_begins_like_this_machine(project, host):
    from mailpipe.preview import PreviewModel
    from mailpipe.preview.server import RunningPreview

    with RunningPreview(PreviewModel(Project(project), background=False), 0) as running:
        port = running.url.split(":")[2].split("/")[0]
        ours = requests.get(running.url, timeout=10)
        foreign = requests.get(running.url, headers={"Host": f"{host}:{port}"}, timeout=10)
    assert ours.status_code == 200
    assert foreign.status_code == 403, host


def test_a_clinic_links_own_utm_parameters_are_kept_and_only_the_missing_ones_added(project):
    """The clinic's own tagging of a link to its own site (print QR campaigns, an A/B content tag) is not overwritten;
    a partner's site gets none of ours."""
    from urllib.parse import parse_qs, urlsplit

    edit(
        project / "content/articles/04-prevention-tips.md",
        "Here are seven",
        "See [the diary](https://www.aiviaesthetics.com/diary?utm_source=print&utm_content=hero). Here are seven",
    )
    email = rendered_email(project, "migraine-prevention-tips")
    href = next(h for h in email.html.split('href="')[1:] if h.startswith("https://www.aiviaesthetics.com/diary"))
    query = parse_qs(urlsplit(href.split('"')[0].replace("&amp;", "&")).query)
    assert query == {
        "utm_source": ["print"],  # the clinic's own, kept
        "utm_content": ["hero"],
        "utm_medium": ["email"],  # the missing ones, added
        "utm_campaign": ["mp-e1-s04"],
    }


def test_a_client_hanging_up_is_not_an_error_and_anything_else_is_shown_with_its_traceback(capsys):
    """The sandbox and the preview are watched in a terminal: a client that hung up is normal and prints nothing;
    any other error while serving prints socketserver's report, with the client and the traceback."""
    from http.server import BaseHTTPRequestHandler

    from mailpipe.util.loopback import LoopbackServer

    server = LoopbackServer(0, BaseHTTPRequestHandler)
    said = {}
    try:
        errors = {"reset": ConnectionResetError(), "timeout": TimeoutError(), "bug": ValueError("boom")}
        for name, error in errors.items():
            try:
                raise error
            except Exception:
                server.handle_error(None, ("127.0.0.1", 50000))
            said[name] = capsys.readouterr().err
    finally:
        server.server_close()
    assert said["reset"] == "" and said["timeout"] == ""
    assert "from ('127.0.0.1', 50000)" in said["bug"] and "ValueError: boom" in said["bug"]


@pytest.mark.parametrize("host", ["LocalHost", "LOCALHOST", "127.0.0.1", "[::1]"])
def test_the_sandbox_takes_its_own_names_in_any_case(tmp_path, host):
    """A host name is read without regard to case (RFC 3986 §3.2.2): `LocalHost` is this machine, not a foreign host."""
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        port = sandbox.url.split(":")[2].split("/")[0]
        answer = requests.get(f"{sandbox.url}/ping", auth=("any", "key"), headers={"Host": f"{host}:{port}"}, timeout=5)
    assert answer.status_code == 200, host


def _refusal(port: int, headers: str) -> tuple[int, str]:
    """The status of a GET /3.0/ping sent with these raw headers, and the sandbox's reason when it refuses."""
    import json
    import socket

    request = f"GET /3.0/ping HTTP/1.1\r\n{headers}Authorization: Basic eDprLXVzMQ==\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(request.encode("latin-1"))
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body)["detail"] if status == 403 else ""


def test_the_sandbox_says_exactly_why_it_refuses_a_request_and_reads_origins_as_browsers_write_them(tmp_path):
    """Origin and Sec-Fetch-Site as a browser sends them (any case, a trailing slash, spaces) name this server or
    another site; what is refused is said, cut to 60 characters."""
    with RunningSandbox(tmp_path / "sandbox.sqlite3") as sandbox:
        port = sandbox.server.server_address[1]
        here = f"Host: 127.0.0.1:{port}\r\n"
        cases = {
            "": "the Host header '' is not this server (127.0.0.1:{port})",
            f"Host: {'a' * 70}:{port}\r\n": f"the Host header '{'a' * 60}' is not this server (127.0.0.1:{{port}})",
            f"Host:  LOCALHOST:{port} \r\n": None,
            here + f"Origin: http://127.0.0.1:{port}/\r\n": None,
            here + f"Origin: HTTP://LocalHost:{port}\r\n": None,
            here + f"Origin:  http://[::1]:{port} \r\n": None,
            here + "Origin: https://evil.example/\r\n": "a request from another site (https://evil.example)",
            here + f"Origin: https://{'e' * 70}.example\r\n": f"a request from another site (https://{'e' * 52})",
            here + f"Origin: http://localhost:{port}.evil.example\r\n": (
                f"a request from another site (http://localhost:{port}.evil.example)"
            ),
            here + "Sec-Fetch-Site: Cross-Site\r\n": "a request from another site",
            here + "Sec-Fetch-Site: same-origin\r\n": None,
            here + "Sec-Fetch-Site: none\r\n": None,
        }
        for headers, refused in cases.items():
            expected = (200, "") if refused is None else (403, f"The sandbox refuses {refused.format(port=port)}.")
            assert _refusal(port, headers) == expected, headers
