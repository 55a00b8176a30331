"""Inputs from the issue's attacker list, each one clear line (exit != 0, no traceback, nothing written) in time."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--from", "9999-12-25"),
        ("plan", "--from", "0001-01-01"),
        ("plan", "--from", "1999-12-31"),
        ("doctor", "--today", "9999-12-31"),
        ("push", "--dry-run", "--now", "9999-12-31T23:59:59Z"),
        ("push", "--dry-run", "--now", "0001-01-01T00:00:00Z"),
        ("push", "--dry-run", "--now", "2100-01-01T00:00:00Z"),
        ("report", "--month", "9999-12"),
        ("sandbox", "advance", "--to", "9999-12-31T23:59:59Z"),
    ],
)
def test_a_date_outside_2000_to_2099_is_one_line(project, run_cli, monkeypatch, args):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    started = time.monotonic()
    result = run_cli(project, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "expected a date from 2000 to 2099" in result.stderr
    assert time.monotonic() - started < 2 and not (project / "var").exists()


@pytest.mark.parametrize(
    ("day", "now"), [("2000-01-01", "2000-01-01T13:00:00Z"), ("2099-12-01", "2099-12-31T23:00:00Z")]
)
def test_the_first_and_last_years_are_accepted(project, run_cli, monkeypatch, wall_clock, day, now):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    wall_clock(dt.datetime.fromisoformat(now))  # a new sandbox's clock starts at the real time
    planned = run_cli(project, "plan", "--from", day, "--days", "3")
    assert "Traceback" not in planned.output and "expected a date from" not in planned.stderr
    pushed = run_cli(project, "push", "--dry-run", "--now", now)
    assert "Traceback" not in pushed.output and "expected a date from" not in pushed.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/3.0", "http://127.0.0.1:-1/3.0", "ftp://example.com/3.0"])
def test_a_server_url_with_no_valid_port_is_one_line(project, run_cli, monkeypatch, url):
    monkeypatch.setenv("MAILCHIMP_API_KEY", "0123456789abcdef-us1")
    monkeypatch.setenv("MAILCHIMP_SERVER_URL", url)
    result = run_cli(project, "audiences")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "MAILCHIMP_SERVER_URL must be a URL like https://us21.api.mailchimp.com/3.0" in result.stderr


def test_lint_mjml_of_a_device_is_one_line(project, run_cli):
    started = time.monotonic()
    result = run_cli(project, "lint-mjml", "/dev/zero")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "/dev/zero: expected an MJML file" in result.stderr and time.monotonic() - started < 2


def test_lint_mjml_of_an_include_that_is_a_fifo_does_not_hang(project, run_cli, tmp_path):
    os.mkfifo(tmp_path / "part.mjml")
    (tmp_path / "email.mjml").write_text('<mjml><mj-body><mj-include path="part.mjml" /></mj-body></mjml>\n')
    started = time.monotonic()
    result = run_cli(project, "lint-mjml", str(tmp_path / "email.mjml"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "part.mjml is not a regular file" in result.stdout + result.stderr and time.monotonic() - started < 2


def test_lint_mjml_of_an_include_fan_out_stops_at_its_budget(project, run_cli, tmp_path):
    """Ten includes on each of eight levels would be 10**8 files read; the check reads 200 and says so."""
    for level in range(8):
        parts = "".join(f'<mj-include path="level{level + 1}.mjml" />' for _ in range(10))
        (tmp_path / f"level{level}.mjml").write_text(f"<mj-section><mj-column>{parts}</mj-column></mj-section>\n")
    (tmp_path / "level8.mjml").write_text("<mj-text>hi</mj-text>\n")
    (tmp_path / "email.mjml").write_text('<mjml><mj-body><mj-include path="level0.mjml" /></mj-body></mjml>\n')
    started = time.monotonic()
    result = run_cli(project, "lint-mjml", str(tmp_path / "email.mjml"))
    assert "Traceback" not in result.output and time.monotonic() - started < 2
    assert result.exit_code == 1 and "more than 200 files included in all; not read" in result.stdout + result.stderr


@pytest.mark.slow  # about 6 s of dripping
def test_bodies_that_drip_hold_no_place_in_the_sandbox_and_are_cut_off(sandbox, monkeypatch):
    """Twelve clients each drip a byte every 0.3 s (within the idle timeout, so only a whole-body deadline stops them):
    the others' requests are answered meanwhile, none with 429, and each dripping one gets a 408 at the deadline."""
    import base64
    import socket
    import threading
    import urllib.request

    from mailpipe.sandbox import server

    monkeypatch.setattr(server, "BODY_DEADLINE", 1.5)
    port = int(sandbox.url.split(":")[2].split("/")[0])
    auth = "Basic " + base64.b64encode(b"u:k-us1").decode()
    answers: list[bytes] = []

    def drip() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                f"POST /3.0/campaign-folders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n".encode()
            )
            try:
                for _ in range(100):
                    conn.sendall(b" ")
                    time.sleep(0.3)
            except OSError:  # the sandbox answered and closed
                pass
            answers.append(conn.recv(200))

    drippers = [threading.Thread(target=drip) for _ in range(12)]
    for thread in drippers:
        thread.start()
    time.sleep(0.5)  # every dripper is connected and dripping
    statuses = []
    for _ in range(5):
        request = urllib.request.Request(sandbox.url + "/lists", headers={"Authorization": auth})
        with urllib.request.urlopen(request, timeout=5) as answer:
            statuses.append(answer.status)
    for thread in drippers:
        thread.join(timeout=10)
    assert statuses == [200] * 5
    assert len(answers) == 12 and all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[:2]

    with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:  # headers, then nothing at all
        silent.sendall(
            f"POST /3.0/campaign-folders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n"
            "Content-Length: 100\r\n\r\n".encode()
        )
        started = time.monotonic()
        assert silent.recv(200).startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3

    with socket.create_connection(("127.0.0.1", port), timeout=10) as steady:  # a kilobyte every 5 ms, 10 MB to go
        steady.sendall(
            f"POST /3.0/campaign-folders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n"
            f"Content-Length: {server.MAX_BODY}\r\n\r\n".encode()
        )
        started = time.monotonic()
        try:
            while time.monotonic() - started < 6:
                steady.sendall(b" " * 1000)
                time.sleep(0.005)
        except OSError:  # the sandbox answered and closed
            pass
        assert steady.recv(200).startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
