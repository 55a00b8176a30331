"""Attacks and accidents: each malicious or broken input ends in a clear error or a safe outcome, and nothing is
half-written. (Bad content, config and campaign fields in general are in test_content_errors.py.)"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import sqlite3
import stat
import threading
import time
import tomllib

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_ENV, REPO, assert_clean_failure, edit
from mailpipe.load.content import load_content
from mailpipe.preview import PreviewModel
from mailpipe.preview.server import RunningPreview
from mailpipe.project import Project
from mailpipe.push.leads import read_leads
from mailpipe.push.target import provision
from mailpipe.sandbox.server import RunningSandbox

ARTICLE = "content/articles/01-what-causes-migraine.md"
BODY_LINE = "A migraine is more than a strong headache."


def raw_request(port: int, request: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    return answer


# -- script in emails and the preview ---------------------------------------------------------------
@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "jav&#x61;script:alert(1)",
        "java&#09;script:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "//evil.example/x",
    ],
)
def test_a_script_link_in_content_is_refused_with_file_and_line_and_nothing_is_built(project, run_cli, link):
    edit(project / ARTICLE, BODY_LINE, f"A migraine is [more]({link}) than a strong headache.")
    result = run_cli(project, "build")
    assert_clean_failure(result, f"01-what-causes-migraine.md:17: body: the link {link!r} is not allowed in an email")
    assert not (project / "build").exists()


@pytest.mark.parametrize(
    "link", ["https://www.aiviaesthetics.com/x", "mailto:hello@aiviaesthetics.com", "tel:+18185550142", "*|ARCHIVE|*"]
)
def test_safe_links_in_content_are_kept(project, run_cli, link):
    edit(project / ARTICLE, BODY_LINE, f"A migraine is [more]({link}) than a strong headache.")
    assert run_cli(project, "build").exit_code == 0


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        ("mailto:hello@aiviaesthetics.com", False),  # a safe link is no image: a mail client would not load it
        ("TEL:+18185550142", False),
        ("javascript:alert(1)", False),
        ("https://www.aiviaesthetics.com/images/clinic.jpg", True),
    ],
)
def test_an_image_source_must_be_a_web_address(project, run_cli, source, allowed):
    edit(project / ARTICLE, BODY_LINE, f"A migraine is more than a strong headache.\n\n![The clinic]({source})")
    result = run_cli(project, "build")
    if allowed:
        assert result.exit_code == 0, result.output
    else:
        assert_clean_failure(
            result,
            f"01-what-causes-migraine.md:19: body: the image {source!r} is not allowed in an email; an image needs an "
            "http(s) address",
        )


def test_a_script_link_never_reaches_a_built_email_and_a_script_in_an_email_cannot_run_in_the_preview(
    project, run_cli, browser
):
    edit(
        project / ARTICLE,
        BODY_LINE,
        "A migraine is [more](javascript:parent.document.title='pwned') than a strong headache.",
    )
    assert run_cli(project, "build").exit_code == 1 and not (project / "build").exists()
    edit(project / ARTICLE, "[more](javascript:parent.document.title='pwned')", "more")
    # a template is trusted, but if one ever carried script, the preview still must not run it
    edit(
        project / "templates/partials/footer.mjml.j2",
        ">Unsubscribe</a>",
        '>Unsubscribe</a> <a id="js" href="javascript:parent.document.title=\'pwned\'">x</a>'
        '<img src="https://invalid.example/x.png" alt="" onerror="parent.document.title=\'pwned\'" />',
    )
    with RunningPreview(PreviewModel(Project(project))) as running:
        page = browser.new_page()
        try:
            page.goto(f"{running.url}email/what-causes-migraine?view=desktop")
            frame = page.frame_locator("#frame-desktop")
            frame.locator("#js").click()
            page.wait_for_timeout(300)
            assert page.title() != "pwned"
            assert page.locator("#frame-desktop").get_attribute("sandbox") == "allow-same-origin"
            for path in ("/", "/email/what-causes-migraine", "/render/what-causes-migraine.html"):
                policy = page.request.get(running.url.rstrip("/") + path).headers["content-security-policy"]
                assert "script-src 'self'" in policy or "sandbox allow-same-origin" in policy
        finally:
            page.close()


def test_a_foreign_host_is_refused_by_the_preview_and_the_sandbox_in_chromium(project, browser, tmp_path):
    """DNS rebinding, as Chromium would do it: rebind.test resolves to 127.0.0.1."""
    rebinding = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        env=CHROMIUM_ENV,
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP rebind.test 127.0.0.1"],
    )
    try:
        with (
            RunningPreview(PreviewModel(Project(project))) as preview,
            RunningSandbox(tmp_path / "s.sqlite3") as sandbox,
        ):
            page = rebinding.new_page()
            preview_port = preview.server.server_address[1]
            sandbox_port = sandbox.server.server_address[1]
            answer = page.goto(f"http://rebind.test:{preview_port}/")
            assert answer is not None and answer.status == 403 and "AIVI" not in page.content()
            assert page.goto(f"http://127.0.0.1:{preview_port}/").status == 200  # the real name still works
            # the attacker's page, now same-origin with the sandbox through the rebound name, tries to write
            assert page.goto(f"http://rebind.test:{sandbox_port}/3.0/ping").status == 403
            written = page.evaluate("""async () => {
                const answer = await fetch("/3.0/lists", {method: "POST", body: JSON.stringify({name: "x"}),
                    headers: {"Authorization": "Basic " + btoa("x:k-us1")}});
                return answer.status; }""")
            assert written == 403
            assert sandbox.store.lists()["total_items"] == 0
    finally:
        rebinding.close()


def test_servers_refuse_foreign_hosts_and_cross_site_writes(project, tmp_path):
    with RunningPreview(PreviewModel(Project(project))) as preview, RunningSandbox(tmp_path / "s.sqlite3") as sandbox:
        port = preview.server.server_address[1]
        assert raw_request(
            port, f"GET / HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n".encode()
        ).startswith(b"HTTP/1.1 403")
        assert raw_request(
            port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        ).startswith(b"HTTP/1.1 200")
        escaped = raw_request(port, b"GET / HTTP/1.1\r\nHost: <script>x</script>\r\nConnection: close\r\n\r\n")
        assert escaped.startswith(b"HTTP/1.1 403") and b"<script>" not in escaped
        sport = sandbox.server.server_address[1]
        body = b'{"name": "x"}'
        for extra in (
            f"Host: evil.example:{sport}\r\n",
            f"Host: 127.0.0.1:{sport}\r\nOrigin: https://evil.example\r\n",
            f"Host: 127.0.0.1:{sport}\r\nSec-Fetch-Site: cross-site\r\n",
        ):
            answer = raw_request(
                sport,
                (
                    f"POST /3.0/lists HTTP/1.1\r\n{extra}Authorization: Basic eDprLXVzMQ==\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                ).encode()
                + body,
            )
            assert answer.startswith(b"HTTP/1.1 403"), extra
        assert sandbox.store.lists()["total_items"] == 0


# -- servers: bad requests, bad options, stalled clients -------------------------------------------
def test_sandbox_answers_bad_requests_with_mailchimps_400(tmp_path):
    with RunningSandbox(tmp_path / "s.sqlite3") as sandbox:
        port = sandbox.server.server_address[1]
        head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Basic eDprLXVzMQ==\r\nConnection: close\r\n"
        answer = raw_request(port, f"POST /3.0/lists HTTP/1.1\r\n{head}Content-Length: abc\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length must be a size" in answer
        body = json.dumps({"name": 5, "contact": "nowhere", "permission_reminder": [], "campaign_defaults": 3}).encode()
        answer = raw_request(
            port, f"POST /3.0/lists HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        assert answer.startswith(b"HTTP/1.1 400") and b"Invalid Resource" in answer
        body = json.dumps(
            {"type": "regular", "settings": "x", "recipients": 5}
        ).encode()  # objects given as other types
        answer = raw_request(
            port, f"POST /3.0/campaigns HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        assert answer.startswith(b"HTTP/1.1 400") and b"could not be validated" in answer


def test_preview_events_with_a_bad_version_is_a_400(project):
    with RunningPreview(PreviewModel(Project(project))) as preview:
        port = preview.server.server_address[1]
        answer = raw_request(
            port, f"GET /events?since=abc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        assert answer.startswith(b"HTTP/1.1 400")


def test_stalled_connections_do_not_lock_others_out_of_the_sandbox(tmp_path, monkeypatch):
    from mailpipe.util.loopback import IDLE_TIMEOUT, LoopbackHandler

    assert (
        LoopbackHandler.timeout == IDLE_TIMEOUT and 0 < IDLE_TIMEOUT <= 30
    )  # the real servers time out (shortened below)
    monkeypatch.setattr("mailpipe.util.loopback.LoopbackHandler.timeout", 0.5)
    with RunningSandbox(tmp_path / "s.sqlite3") as sandbox:
        port = sandbox.server.server_address[1]
        stalled = []
        for _ in range(12):  # headers sent, body promised, never sent: each holds a slot until it times out
            raw = socket.create_connection(("127.0.0.1", port))
            raw.sendall(
                f"POST /3.0/lists HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic eDprLXVzMQ==\r\n"
                "Content-Length: 100\r\n\r\n".encode()
            )
            stalled.append(raw)
        time.sleep(1.5)
        answer = raw_request(
            port,
            f"GET /3.0/ping HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic eDprLXVzMQ==\r\n"
            "Connection: close\r\n\r\n".encode(),
        )
        assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
        for raw in stalled:
            raw.close()


def test_a_port_in_use_and_out_of_range_options_are_clear_errors(project, run_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_clean_failure(
            run_cli(project, "preview", "--port", str(port), "--no-browser"),
            f"port {port} on 127.0.0.1 is already in use",
        )
        assert_clean_failure(
            run_cli(project, "sandbox", "serve", "--port", str(port)), f"port {port} on 127.0.0.1 is already in use"
        )
    for args in (
        ("sandbox", "serve", "--fault-rate", "2"),
        ("sandbox", "serve", "--port", "70000"),
        ("preview", "--port", "70000"),
    ):
        result = run_cli(project, *args)
        assert result.exit_code == 2 and "Traceback" not in result.output and "Invalid value" in result.stderr, args


def test_a_fifo_named_like_an_article_is_skipped(project):
    os.mkfifo(project / "content/articles/99-pipe.md")
    loaded = []
    reader = threading.Thread(target=lambda: loaded.append(load_content(project / "content")), daemon=True)
    reader.start()
    reader.join(timeout=20)  # opening the pipe would block for ever
    assert loaded and len(loaded[0].articles) == 7


# -- files: YAML bombs, line ends, types, corrupt or unwritable state -------------------------------
BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, "
    "*b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, "
    "*e, *e, *e, *e, *e]\n"
)


@pytest.mark.parametrize(
    "front, expected",
    [
        (BOMB, "is not valid YAML: anchors (&name) and aliases (*name) are not supported"),
        ("a: &a [*a]\n", "anchors (&name) and aliases (*name) are not supported"),
        ("a: &a x\nb: y\n", "anchors (&name) and aliases (*name) are not supported"),  # an anchor never aliased, too
        ("a: " + "[" * 21 + "]" * 21 + "\n", "nested more than 20 levels deep"),  # ours, one past the limit
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 20 levels deep"),
        ("id: what-causes-migraine\nid: other\n", "id: appears twice (also at line 2); keep one"),
    ],
)
def test_yaml_bombs_and_duplicate_keys_are_refused_quickly(project, run_cli, front, expected):
    path = project / ARTICLE
    text = path.read_text()
    path.write_text("---\n" + front + "---\n" + text.split("---\n", 2)[2])
    started = time.monotonic()
    result = run_cli(project, "build")
    assert time.monotonic() - started < 10
    assert_clean_failure(result, expected)


def test_windows_line_ends_and_a_byte_order_mark_are_read_as_plain_text(project, run_cli):
    for path in (project / "content").rglob("*.md"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert run_cli(project, "build").exit_code == 0
    csv = project / "excel.csv"
    csv.write_bytes(b"\xef\xbb\xbfemail,first_name,consent\r\nlea@example.com,Lea,yes\r\n")
    leads, problems = read_leads(csv, "America/Los_Angeles")
    assert [lead.email for lead in leads] == ["lea@example.com"] and problems == []


@pytest.mark.parametrize(
    "path, old, new, expected",
    [
        (
            "campaigns/migraine-education.yaml",
            "delay_days: 1\n",
            "delay_days: true\n",
            "steps[1].delay_days: expected a whole number, got True",
        ),
        (
            "campaigns/migraine-education.yaml",
            "delay_days: 1\n",
            "delay_days: 1.5\n",
            "steps[1].delay_days: expected a whole number, got 1.5",
        ),
        ("campaigns/monthly-specials.yaml", "nth: 1", "nth: yes", "schedule.nth: expected a whole number, got True"),
        ("content/specials/2024-05.md", "price: 149.00", "price: 1.0e+400", "offers[1].price"),
        ("content/specials/2024-05.md", "price: 149.00", "price: .inf", "offers[1].price"),
        (
            "content/specials/2024-05.md",
            "price: 149.00",
            "price: .nan",
            "offers[1].price: expected a number like 149.00, got nan",
        ),
        ("content/specials/2024-05.md", "price: 149.00", "price: 1e400", "offers[1].price"),
        (
            "content/specials/2024-05.md",
            "price: 149.00",
            "price: true",
            "offers[1].price: expected a price like 149.00, got True",
        ),
        ("content/specials/2024-05.md", "price: 149.00", "price: 100000.01", "offers[1].price"),
    ],
)
def test_numbers_that_would_coerce_silently_are_errors(project, run_cli, path, old, new, expected):
    edit(project / path, old, new)
    assert_clean_failure(run_cli(project, "build" if path.startswith("content") else "plan"), expected)


def test_the_largest_price_allowed_builds(project, run_cli):
    edit(project / "content/specials/2024-05.md", "price: 149.00", "price: 100000.00")
    assert run_cli(project, "build").exit_code == 0


def test_a_huge_field_or_file_is_refused(project, run_cli):
    edit(project / ARTICLE, "title: What is really behind a migraine?", "title: " + "x" * 5001)
    assert_clean_failure(run_cli(project, "build"), "title: is 5001 characters long; at most 5000 are allowed")
    edit(project / ARTICLE, "title: " + "x" * 5001, "title: " + "x" * 5000)
    result = run_cli(project, "build")
    assert result.exit_code == 0, result.output  # 5,000 characters is allowed: the limit's other side
    (project / ARTICLE).write_text((project / ARTICLE).read_text() + "word " * 250_000)
    assert_clean_failure(run_cli(project, "build"), "is larger than 1 MB")


def test_a_copied_campaign_file_with_a_new_code_is_an_error_naming_both(project, run_cli):
    source = project / "campaigns/migraine-education.yaml"
    (project / "campaigns/migraine-education copy.yaml").write_text(source.read_text().replace("code: e1", "code: e2"))
    assert_clean_failure(
        run_cli(project, "plan"),
        "migraine-education.yaml",
        "migraine-education copy.yaml",
        "everyone would get it twice",
    )


@pytest.mark.parametrize(
    "csv_text, expected",
    [
        ("email,first_name,consent\nlea@example.com," + "x" * 140_000 + ",yes\n", "cannot be read as CSV here"),
    ],
)
def test_a_csv_field_over_the_limit_is_a_clear_error(project, run_cli, csv_text, expected, monkeypatch):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    csv = project / "big.csv"
    csv.write_text(csv_text)
    assert_clean_failure(
        run_cli(project, "leads", "import", str(csv), "--audience", "new-consult"),
        "big.csv:2: cannot be read as CSV here",
    )


def test_csv_rows_with_nul_bytes_or_formulas_are_skipped(project):
    """A NUL inside an address is not dropped (that would import another address than the one written): the row is
    skipped, as a name that starts like a spreadsheet formula is."""
    csv = project / "leads.csv"
    csv.write_bytes(
        b"email,first_name,last_name,consent\nle\x00a@example.com,Lea,Ray,yes\n"
        b"bob@example.com,=cmd|' /C calc'!A0,Ray,yes\n"
        b"cy@example.com,Cy,@SUM(1+1),yes\ndee@example.com,Dee,-,yes\n"
        b"eve@example.com,E\x00ve,Ray,yes\nfay@example.com,Fay,Ray,yes\n"
    )
    leads, problems = read_leads(csv, "America/Los_Angeles")
    assert [(lead.email, lead.first_name) for lead in leads] == [("fay@example.com", "Fay")]
    assert [(p.line, p.field) for p in problems] == [
        (2, "email"),
        (3, "first_name"),
        (4, "last_name"),
        (5, "last_name"),
        (6, "first_name"),
    ]
    assert [p.line for p in problems if "NUL byte" in p.message] == [2, 6]
    assert all("spreadsheet formula" in p.message for p in problems if p.line in (3, 4, 5))


def test_build_files_follow_the_umask_and_a_full_or_read_only_folder_is_one_clear_line(project, run_cli):
    old = os.umask(0o022)
    try:
        assert run_cli(project, "build").exit_code == 0
    finally:
        os.umask(old)
    built = sorted((project / "build").iterdir())
    assert built and all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in built)
    manifest = json.loads((project / "build/manifest.json").read_text())
    assert {p.name for p in built} == {"manifest.json"} | {
        e[part] for e in manifest["emails"] for part in ("html", "text")
    }
    edit(project / ARTICLE, BODY_LINE, "A migraine is much more than a strong headache.")
    before = {p.name: p.read_bytes() for p in built}
    (project / "build").chmod(0o555)
    try:
        if os.geteuid() != 0:  # root writes anyway; the disk-full case below covers root
            assert_clean_failure(run_cli(project, "build"), "cannot write")
    finally:
        (project / "build").chmod(0o755)
    assert {p.name: p.read_bytes() for p in sorted((project / "build").iterdir())} == before


def test_a_full_disk_leaves_the_previous_build_whole_and_no_temporary_file(project, run_cli, monkeypatch):
    assert run_cli(project, "build").exit_code == 0
    before = {p.name: p.read_bytes() for p in (project / "build").iterdir()}
    edit(project / ARTICLE, BODY_LINE, "A migraine is much more than a strong headache.")
    edit(
        project / "content/articles/02-four-stages-of-migraine.md",
        "A migraine often unfolds",
        "A migraine usually unfolds",
    )
    import mailpipe.render.build as build_module

    real_write = build_module._write_temporary
    written = []

    def full_disk(path, data):
        if written:
            raise OSError(28, "No space left on device")
        written.append(path)
        return real_write(path, data)

    monkeypatch.setattr(build_module, "_write_temporary", full_disk)
    assert_clean_failure(run_cli(project, "build"), "cannot write", "No space left on device")
    assert {p.name: p.read_bytes() for p in (project / "build").iterdir()} == before


def project_files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


DAMAGED_DATABASE = b"SQLite format 3\x00" + b"\x00garbage" * 100  # a database's first bytes, then damage


def test_a_corrupt_state_or_sandbox_database_is_left_by_a_dry_run_and_set_aside_by_a_push(
    project, run_cli, monkeypatch, wall_clock
):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    wall_clock(dt.datetime(2024, 5, 1, 13, tzinfo=dt.UTC))  # the new sandbox's clock follows the real one
    (project / "var").mkdir(exist_ok=True)
    (project / "var/sandbox.sqlite3").write_bytes(DAMAGED_DATABASE)
    (project / "var/state-sandbox.sqlite3").write_bytes(DAMAGED_DATABASE)
    before = project_files(project)
    dry = run_cli(project, "push", "--sandbox", "--dry-run", "--now", "2024-05-01T13:00:00Z")
    assert dry.exit_code == 0 and "Traceback" not in dry.output, dry.output
    for name in ("sandbox.sqlite3", "state-sandbox.sqlite3"):  # each said, with what a push would do to it
        assert (
            f"var/{name} is not a readable database" in dry.stderr and f"sets it aside as {name}.corrupt-" in dry.stderr
        )
    assert project_files(project) == before  # left where it is, as it is, and nothing beside it
    result = run_cli(project, "push", "--sandbox", "--now", "2024-05-01T13:00:00Z")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "was not a readable database" in result.stderr
    assert list((project / "var").glob("sandbox.sqlite3.corrupt-*")) and list(
        (project / "var").glob("state-sandbox.sqlite3.corrupt-*")
    )
    sqlite3.connect(project / "var/sandbox.sqlite3").execute("select 1")


READ_ONLY_COMMANDS = [
    ("push", "--dry-run", "--now", "2024-05-01T13:00:00Z"),
    ("doctor", "--today", "2024-05-01"),
    ("report",),
    ("audiences",),
    ("sandbox", "deliveries"),
]


@pytest.mark.parametrize("setup", ["fresh", "corrupt", "pushed"])
def test_commands_that_only_read_leave_every_file_of_the_project_as_it_was(
    project, run_cli, monkeypatch, wall_clock, setup
):
    """A dry run, doctor, report, audiences and the sandbox's deliveries create, change and rename nothing: not on a
    fresh checkout, not beside corrupt files, not in a project that has pushed (a WAL database read read-only gets -shm
    and -wal files from SQLite itself)."""
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    wall_clock(dt.datetime(2024, 5, 1, 13, tzinfo=dt.UTC))  # a fresh sandbox's clock follows the real one
    if setup == "corrupt":
        (project / "var").mkdir()
        for name in ("sandbox.sqlite3", "state-sandbox.sqlite3"):
            (project / "var" / name).write_bytes(DAMAGED_DATABASE)
    elif setup == "pushed":
        csv = project / "leads.csv"
        csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
        assert run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult").exit_code == 0
        assert run_cli(project, "push", "--sandbox", "--now", "2024-05-01T13:00:00Z").exit_code == 0
    before = project_files(project)
    for args in READ_ONLY_COMMANDS:
        result = run_cli(project, *args)
        assert "Traceback" not in result.output, (args, result.output)
        assert project_files(project) == before, args


def test_half_open_connections_to_the_preview_are_closed_after_the_idle_timeout(project, monkeypatch):
    monkeypatch.setattr("mailpipe.util.loopback.LoopbackHandler.timeout", 0.5)
    with RunningPreview(PreviewModel(Project(project))) as preview:
        port = preview.server.server_address[1]
        before = threading.active_count()
        half_open = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        for raw in half_open:
            raw.sendall(b"GET / HTTP/1.1\r\n")  # never finished
        time.sleep(0.3)
        assert threading.active_count() >= before + 30  # each holds a thread...
        time.sleep(1.5)
        assert threading.active_count() <= before + 2  # ...until it times out
        answer = raw_request(port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 200")
        for raw in half_open:
            raw.close()


def test_credentials_in_the_server_url_are_never_printed_or_stored(project, run_cli, monkeypatch, tmp_path):
    with RunningSandbox(tmp_path / "s.sqlite3") as sandbox:
        sandbox.store.set_clock(dt.datetime(2024, 5, 1, 13, tzinfo=dt.UTC))
        port = sandbox.server.server_address[1]
        monkeypatch.setenv("MAILCHIMP_API_KEY", "k-us1")
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", f"http://staging-user:s3cr3t-pass@127.0.0.1:{port}")
        provision(sandbox.store, Project(project).rendered().site)
        result = run_cli(project, "push", "--now", "2024-05-01T13:00:00+00:00")
        assert result.exit_code in (0, 1) and "Traceback" not in result.output
        assert f"127.0.0.1:{port}" in result.stdout
        assert "s3cr3t" not in result.output + result.stderr and "staging-user" not in result.output + result.stderr
        stored = b"".join(p.read_bytes() for p in (project / "var").glob("state*"))
        assert stored and b"s3cr3t" not in stored and b"staging-user" not in stored


def test_every_installed_dependency_is_pinned_and_nothing_unused_is_declared():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    wanted = [*declared["dependencies"], *declared["optional-dependencies"]["test"]]
    names = {
        requirement.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower().replace("_", "-")
        for requirement in wanted
    }
    assert names <= pinned, names - pinned
    assert "tenacity" not in names


def test_an_unwritable_build_or_state_folder_is_one_clear_line(project, run_cli, monkeypatch):
    """A folder that cannot be written (here: a file where the folder should be, which stops root too)."""
    (project / "build").write_text("not a folder")
    assert_clean_failure(run_cli(project, "build"), "cannot write", "build")
    (project / "build").unlink()
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    (project / "var").write_text("not a folder")
    assert_clean_failure(run_cli(project, "push", "--sandbox"), "cannot use", "var/sandbox.sqlite3")


def test_nesting_at_the_limit_is_read(project, run_cli):
    """Twenty levels (the mapping and 19 lists) are YAML mailpipe reads; the field is then judged, not the nesting."""
    path = project / ARTICLE
    text = path.read_text()
    path.write_text(
        "---\n"
        + "extra: "
        + "[" * 19
        + "]" * 19
        + "\n"
        + text.split("---\n", 2)[1]
        + "---\n"
        + text.split("---\n", 2)[2]
    )
    result = run_cli(project, "build")
    assert result.exit_code == 1 and "nested more than" not in result.stderr and "extra" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("header", "doubled", "columns"),
    [
        ("email,first_name,consent,Consent", "consent", "3 and 4"),
        ("email,first_name,consent,Email", "email", "1 and 4"),
    ],
)
def test_a_csv_header_naming_a_column_twice_is_refused_naming_both(
    project, run_cli, monkeypatch, header, doubled, columns
):
    """Which of two `consent` columns counts would be a guess (a "no" under one, a "yes" under the other)."""
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    csv = project / "twice.csv"
    csv.write_text(f"{header}\nlea@example.com,Lea,no,yes\n")
    assert_clean_failure(
        run_cli(project, "leads", "import", str(csv), "--audience", "new-consult"),
        f"twice.csv:1: {doubled}: is named by columns {columns} of the header: keep one",
    )
    csv.write_text("email,first_name,consent,last_name\nlea@example.com,Lea,yes,Ray\n")
    assert read_leads(csv, "America/Los_Angeles")[0][0].email == "lea@example.com"


def test_an_address_that_starts_like_a_formula_is_refused(project):
    csv = project / "leads.csv"
    csv.write_text("email,consent\n=1+1@example.com,yes\n+lea@example.com,yes\nlea@example.com,yes\n")
    leads, problems = read_leads(csv, "America/Los_Angeles")
    assert [lead.email for lead in leads] == ["lea@example.com"]
    assert [(p.line, p.field) for p in problems] == [(2, "email"), (3, "email")]
    assert all("spreadsheet formula" in p.message for p in problems)


@pytest.mark.parametrize(
    ("refusal", "said"),
    [
        (
            OSError(errno.EADDRINUSE, "Address already in use"),
            "port 8765 on 127.0.0.1 is already in use; choose another with --port",
        ),
        (OSError(errno.EACCES, "Permission denied"), "cannot listen on 127.0.0.1:8765: Permission denied"),
        (OSError("no such address here"), "cannot listen on 127.0.0.1:8765: no such address here"),
    ],
)
def test_a_port_the_system_refuses_is_one_exact_line(monkeypatch, refusal, said):
    """What the system says when the server cannot listen (a port in use, one a user may not take, anything else)."""
    import socketserver
    from http.server import BaseHTTPRequestHandler

    from mailpipe.errors import MailpipeError
    from mailpipe.util.loopback import LoopbackServer

    def refuse(self):
        raise refusal

    monkeypatch.setattr(socketserver.TCPServer, "server_bind", refuse)
    with pytest.raises(MailpipeError) as raised:
        LoopbackServer(8765, BaseHTTPRequestHandler)
    assert str(raised.value) == said
