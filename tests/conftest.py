"""Shared fixtures: a throw-away copy of the project, and the CLI driven through click's CliRunner."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

REPO = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("mailpipe.yaml", "content", "templates", "campaigns")


def copy_project(root: Path) -> Path:
    """Copy the real project's config, content, templates and campaigns into `root` (made here)."""
    root.mkdir(parents=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        elif source.exists():
            shutil.copy(source, root / part)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project that a test may break."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def run_cli():
    """Invoke `cli.py ARGS…` in-process; returns click's Result (exit_code, stdout, stderr)."""

    def invoke(root: Path, *args: str):
        return CliRunner().invoke(cli.main, ["--project", str(root), *args], catch_exceptions=False)

    return invoke


def assert_clean_failure(result, *expected: str) -> None:
    """A CLI run that failed as mailpipe promises: exit 1, no traceback, each expected text on stderr."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, f"{text!r} not in:\n{result.stderr}"


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of a file's text; fails loudly if it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian's chromium): browser tests skipped")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


# -- the sandbox, the official client and the adapter ------------------------------------------
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402

SHARED_SPEC = REPO.parent / "shared" / "mailchimp" / "mailchimp-marketing-campaigns.openapi3.json"
SANDBOX_START = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.timezone.utc)
TEST_KEY = "0123456789abcdef0123456789abcdef-us7"
CLINIC_LIST = {
    "name": "AIVI Aesthetics", "permission_reminder": "You asked AIVI Aesthetics to keep in touch.",
    "contact": {"company": "AIVI Aesthetics", "address1": "1 Example Way", "city": "Agoura Hills", "state": "CA",
                "zip": "91301", "country": "US"},
    "campaign_defaults": {"from_name": "AIVI Aesthetics", "from_email": "hello@aiviaesthetics.com", "subject": "", "language": "en"},
}


@pytest.fixture(scope="session")
def mailchimp_spec():
    """The shared, trimmed Mailchimp OpenAPI spec (read from ../shared, never copied), or None."""
    if not SHARED_SPEC.exists():
        return None
    from openapi_core import OpenAPI

    return OpenAPI.from_file_path(str(SHARED_SPEC))


class Exchanges(list):
    """Every request the sandbox answered, to check against Mailchimp's spec after a test."""

    def record(self, request: dict, status: int, answer: object) -> None:
        self.append((request, status, answer))


def pytest_report_header(config) -> str:
    """Said once, at the top of every run: whether answers are checked against Mailchimp's spec."""
    if SHARED_SPEC.exists():
        return f"Mailchimp spec: {SHARED_SPEC} (every sandbox exchange is validated against it)"
    return f"Mailchimp spec: MISSING at {SHARED_SPEC}: requests and answers are NOT validated against Mailchimp's spec"


def validate_against_spec(spec, exchanges: Exchanges) -> int:
    """Validate each recorded request and answer with openapi-core; returns how many were validated in full
    (paths the trimmed spec leaves out, and bodies whose schemas it dropped, are not counted)."""
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
    from openapi_core.testing import MockRequest, MockResponse

    checked = 0
    for request, status, answer in exchanges:
        mock = MockRequest("https://server.api.mailchimp.com", request["method"].lower(), request["path"],
                           headers={"Authorization": request["headers"].get("Authorization", "")},
                           args=request["query"], content_type="application/json", data=request["body"] or None)
        body = b"" if answer is None else json.dumps(answer).encode()
        # Mailchimp answers errors as application/problem+json; the spec files them under application/json.
        response = MockResponse(body, status_code=status, content_type="application/json")
        try:
            if status < 400:
                spec.validate_request(mock)
            spec.validate_response(mock, response)
        except (PathNotFound, OperationNotFound):
            continue
        except Exception as err:  # the trimmed spec's segment conditions point at schemas it dropped
            if "could not be resolved" not in repr(err.__cause__ or err):
                raise AssertionError(f"{request['method']} {request['path']} -> {status}: {err.__cause__ or err}") from err
            continue
        checked += 1
    return checked


@contextlib.contextmanager
def clinic_sandbox(path: Path, **options):
    """A running sandbox with its clock at SANDBOX_START and one audience, `clinic`."""
    from mailpipe.sandbox.server import RunningSandbox

    with RunningSandbox(path, **options) as running:
        running.store.set_clock(SANDBOX_START)
        running.store.create_list(CLINIC_LIST, list_id="clinic")
        yield running


@pytest.fixture
def sandbox(tmp_path, mailchimp_spec):
    """A sandbox on a free loopback port with its clock at SANDBOX_START and one audience, `clinic`.

    Every request and answer of the test is validated against Mailchimp's spec afterwards."""
    exchanges = Exchanges()
    with clinic_sandbox(tmp_path / "sandbox.sqlite3", recorder=exchanges.record) as running:
        running.exchanges = exchanges
        yield running
    if mailchimp_spec is not None and exchanges:
        assert validate_against_spec(mailchimp_spec, exchanges) > 0, "no exchange of this test could be validated"


@pytest.fixture
def client(sandbox):
    """The official mailchimp-marketing client, pointed at the sandbox the documented way."""
    import mailchimp_marketing

    official = mailchimp_marketing.Client({"api_key": TEST_KEY, "server": "us7", "timeout": 10})
    official.api_client.host = sandbox.url
    return official


@pytest.fixture
def adapter(sandbox):
    from mailpipe.push.mailchimp import Connection, Mailchimp, RetryPolicy

    return Mailchimp(Connection(TEST_KEY, sandbox.url, timeout=10), RetryPolicy(attempts=8, base_delay=0.005, max_delay=0.05))
