"""Shared fixtures: a throw-away copy of the project, and the CLI driven through click's CliRunner."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailpipe.cli import main as cli_main

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


def rendered_email(root: Path, email_id: str):
    """The project at `root` rendered as it is now, and its email `email_id`."""
    from mailpipe.project import Project

    return next(e for e in Project(root).rendered().emails if e.id == email_id)


class WallClockRead(AssertionError):
    """A test let mailpipe read the real date: it would pass on some days and fail on others."""


@pytest.fixture(autouse=True)
def no_wall_clock(monkeypatch):
    """No test may depend on the day it runs: mailpipe's one reading of the wall clock fails the test unless the test
    set the time itself (`--now`, `--today`, a sandbox clock, or the `wall_clock` fixture)."""
    from mailpipe.util import clock

    def refuse():
        raise WallClockRead(
            "this test made mailpipe read the real time; give it --now/--today/--from, a sandbox clock, "
            "or use the wall_clock fixture"
        )

    monkeypatch.setattr(clock, "utc_now", refuse)


@pytest.fixture
def wall_clock(monkeypatch):
    """`wall_clock(moment)`: the real time, as mailpipe reads it, is `moment` from here on (an aware datetime)."""
    from mailpipe.util import clock

    def set_to(moment):
        assert moment.tzinfo is not None
        monkeypatch.setattr(clock, "utc_now", lambda: moment.astimezone(dt.UTC))

    return set_to


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project that a test may break."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def run_cli():
    """Invoke `cli.py ARGS…` in-process; returns click's Result (exit_code, stdout, stderr)."""

    def invoke(root: Path, *args: str):
        return CliRunner().invoke(cli_main, ["--project", str(root), *args], catch_exceptions=False)

    return invoke


def findings_of(emails, site) -> dict:
    """Each email's check findings, as push's refusals take them."""
    from mailpipe.checks import run_checks

    return {e.id: run_checks(e, site) for e in emails}


def set_embedded_sandbox_clock(root: Path, moment: dt.datetime, path: str = "var/sandbox.sqlite3") -> None:
    """Start the embedded sandbox of the project at `root` (its file at `path`) with its clock at `moment`."""
    from mailpipe.sandbox.store import Store

    store = Store(root / path)
    store.set_clock(moment)
    store.close()


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
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Chromium shows the emails; it is not what a run on another day tests (`make test-days` fakes the date of mailpipe's
# Python processes with libfaketime), and it crashes with libfaketime loaded: it is started without LD_PRELOAD.
CHROMIUM_ENV = {name: value for name, value in os.environ.items() if name != "LD_PRELOAD"}


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian's chromium): browser tests skipped")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=CHROMIUM_ENV, headless=True
        )
        yield launched
        launched.close()


# -- the sandbox, the official client and the adapter ------------------------------------------
import contextlib  # noqa: E402
import json  # noqa: E402

SHARED_SPEC = REPO.parent / "shared" / "mailchimp" / "mailchimp-marketing-campaigns.openapi3.json"
SANDBOX_START = dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
TEST_KEY = "0123456789abcdef0123456789abcdef-us7"
CLINIC_LIST = {
    "name": "AIVI Aesthetics",
    "permission_reminder": "You asked AIVI Aesthetics to keep in touch.",
    "contact": {
        "company": "AIVI Aesthetics",
        "address1": "1 Example Way",
        "city": "Agoura Hills",
        "state": "CA",
        "zip": "91301",
        "country": "US",
    },
    "campaign_defaults": {
        "from_name": "AIVI Aesthetics",
        "from_email": "hello@aiviaesthetics.com",
        "subject": "",
        "language": "en",
    },
}


@pytest.fixture(scope="session")
def mailchimp_spec():
    """The shared, trimmed Mailchimp OpenAPI spec (read from ../shared, never copied), or None."""
    if not SHARED_SPEC.exists():
        return None
    from openapi_core import Config, OpenAPI

    # the spec itself is not validated again each run (3-4 s): it is Mailchimp's, read as shipped
    spec = json.loads(SHARED_SPEC.read_text(encoding="utf-8"))
    return OpenAPI.from_dict(closed_request_bodies(spec), config=Config(spec_validator_cls=None))


def closed_request_bodies(spec: dict) -> dict:
    """The spec with every request body's objects closed to properties it does not define: its schemas allow extra
    properties, so a field no operation defines (`status_if_new` in a batch subscribe) would pass unseen. Request
    bodies get their own copies (answers keep Mailchimp's open schemas: Mailchimp adds fields)."""
    for operations in spec["paths"].values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body:
                operation["requestBody"] = _closed(spec, body)
    return spec


def _closed(spec: dict, node: object, depth: int = 0) -> object:
    """A schema with its $refs inlined and each object with properties closed to others."""
    if depth > 40 or not isinstance(node, (dict, list)):
        return node
    if isinstance(node, list):
        return [_closed(spec, item, depth + 1) for item in node]
    if "$ref" in node:
        target: object = spec
        for part in node["$ref"].split("/")[1:]:
            target = target[part]  # type: ignore[index]
        return _closed(spec, target, depth + 1)
    copy = {key: _closed(spec, value, depth + 1) for key, value in node.items()}
    if copy.get("type") == "object" and "properties" in copy:
        copy.setdefault("additionalProperties", False)
    return copy


class Exchanges(list):
    """Every request the sandbox answered, to check against Mailchimp's spec after a test."""

    def record(self, request: dict, status: int, answer: object) -> None:
        self.append((request, status, answer))


@pytest.fixture
def figure(record_property):
    """`figure(text)`: a measured figure, said at the end of the run (pytest-xdist shows nothing a worker prints)."""
    return lambda text: record_property("figure", text)


def pytest_terminal_summary(terminalreporter) -> None:
    said = [
        value
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", ())
        if name == "figure"
    ]
    if said:
        terminalreporter.section("figures")
        for line in said:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items) -> None:
    """A test that takes the browser fixture is a browser test, marked or not (the fast tier leaves it out).

    Under `make mutation`, the quickest tests run first: a mutant stops at its first failing test, so most of them then
    cost a second, not the minute their slowest test takes."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    mutmut_stats = Path("mutmut-stats.json")
    if os.environ.get("MUTANT_UNDER_TEST") and mutmut_stats.is_file():
        seconds = json.loads(mutmut_stats.read_text())["duration_by_test"]
        setup = json.loads(MUTMUT_SETUP.read_text()) if MUTMUT_SETUP.is_file() else {}
        # its own time and the longest fixture setup in its file (a module fixture is paid by whichever runs first)
        module_setup = {}
        for nodeid, taken in setup.items():
            module = nodeid.split("::")[0]
            module_setup[module] = max(taken, module_setup.get(module, 0.0))
        items.sort(key=lambda item: seconds.get(item.nodeid, 0.0) + module_setup.get(item.nodeid.split("::")[0], 0.0))


# mutmut's clean run (MUTANT_UNDER_TEST set and empty) records each test's fixture setup time, which its own figures
# leave out, so that a test behind a slow fixture (a whole demo run) is not taken for a quick one
MUTMUT_SETUP = Path("mutmut-setup-seconds.json")
_SETUP_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") == "" and report.when == "setup":
        _SETUP_SECONDS[report.nodeid] = report.duration


def pytest_sessionfinish(session) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") == "" and _SETUP_SECONDS:
        known = json.loads(MUTMUT_SETUP.read_text()) if MUTMUT_SETUP.is_file() else {}
        MUTMUT_SETUP.write_text(json.dumps(known | _SETUP_SECONDS))


def pytest_report_header(config) -> str:
    """Said once, at the top of every run: whether answers are checked against Mailchimp's spec."""
    if SHARED_SPEC.exists():
        return f"Mailchimp spec: {SHARED_SPEC} (every sandbox exchange is validated against it)"
    return f"Mailchimp spec: MISSING at {SHARED_SPEC}: requests and answers are NOT validated against Mailchimp's spec"


_VERDICTS: dict[
    str, bool
] = {}  # a request, or an answer to one, judged once per session: the same has the same verdict


def validate_against_spec(spec, exchanges: Exchanges) -> int:
    """Validate each recorded request and answer with openapi-core; returns how many were validated in full
    (paths the trimmed spec leaves out, and bodies whose schemas it dropped, are not counted)."""
    checked = 0
    for request, status, answer in exchanges:
        asked = [
            request["method"],
            request["path"],
            request["query"],
            request["headers"].get("Authorization", ""),
            (request["body"] or b"").decode("utf-8", "replace"),
        ]
        valid = status >= 400 or _judged(spec, ["request", asked], request, status, answer)
        checked += valid and _judged(spec, ["response", asked[:2], status, answer], request, status, answer)
    return checked


def _judged(spec, what: list, request: dict, status: int, answer: object) -> bool:
    key = json.dumps(what, sort_keys=True, default=str)
    if key not in _VERDICTS:
        _VERDICTS[key] = _validate(spec, what[0], request, status, answer)
    return _VERDICTS[key]


def _validate(spec, part: str, request: dict, status: int, answer: object) -> bool:
    """True when the spec validated the request (or the answer) in full; AssertionError where it breaks the spec."""
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
    from openapi_core.testing import MockRequest, MockResponse

    mock = MockRequest(
        "https://server.api.mailchimp.com",
        request["method"].lower(),
        request["path"],
        headers={"Authorization": request["headers"].get("Authorization", "")},
        args=request["query"],
        content_type="application/json",
        data=request["body"] or None,
    )
    body = b"" if answer is None else json.dumps(answer).encode()
    # Mailchimp answers errors as application/problem+json; the spec files them under application/json.
    response = MockResponse(body, status_code=status, content_type="application/json")
    try:
        if part == "request":
            spec.validate_request(mock)
        else:
            spec.validate_response(mock, response)
    except (PathNotFound, OperationNotFound):
        return False
    except Exception as err:  # the trimmed spec's segment conditions point at schemas it dropped
        if "could not be resolved" not in repr(err.__cause__ or err):
            raise AssertionError(f"{request['method']} {request['path']} -> {status}: {err.__cause__ or err}") from err
        return False
    return True


@contextlib.contextmanager
def clinic_sandbox(path: Path, **options):
    """A running sandbox with its clock at SANDBOX_START, one audience, `clinic`, and the clinic's domain verified
    (an account set up to send)."""
    from mailpipe.sandbox.server import RunningSandbox

    with RunningSandbox(path, **options) as running:
        running.store.set_clock(SANDBOX_START)
        running.store.create_list(CLINIC_LIST, list_id="clinic")
        running.store.set_domain("aiviaesthetics.com", verified=True)
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

    return Mailchimp(
        Connection(TEST_KEY, sandbox.url, timeout=10), RetryPolicy(attempts=8, base_delay=0.005, max_delay=0.05)
    )


def add_reviewer(project: Path, keys: Path, name: str, roles: list[str], passphrase: bytes | None = None) -> Path:
    """A reviewer with a fresh Ed25519 key: its public half added to the project's reviews/reviewers.yaml, its private
    half written (OpenSSH format, as `ssh-keygen -t ed25519` writes it) under `keys`, outside the project. Returns the
    private key's path."""
    import yaml
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    private = keys / f"{len(list(keys.glob('*')))}-{name.split(',')[0].replace(' ', '-').lower()}"
    keys.mkdir(parents=True, exist_ok=True)
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption))
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    file = project / "reviews" / "reviewers.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    listed = yaml.safe_load(file.read_text())["reviewers"] if file.exists() else []
    listed.append({"name": name, "roles": roles, "key": f"{public.decode()} {private.name}"})
    file.write_text(yaml.safe_dump({"reviewers": listed}, sort_keys=False, allow_unicode=True))
    return private


@pytest.fixture
def reviewer_key(project: Path, tmp_path: Path, monkeypatch) -> Path:
    """Dana Lee, MD, who signs off both roles, is a reviewer of `project`; her key is what `review approve` uses."""
    private = add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical", "legal"])
    monkeypatch.setenv("MAILPIPE_REVIEW_KEY", str(private))
    return private


def make_ready(project):
    """The project as a clinic would have it at go-live: checked values, real offers, the approved safety text in,
    every email signed off by Dana Lee (whose private key is returned)."""
    config = project / "mailpipe.yaml"
    edit(
        config,
        'postal_address: "Agoura Hills, CA 91301"   # CONFIRM: the full street address Mailchimp\'s audience uses',
        'postal_address: "29500 Heathercliff Rd, Agoura Hills, CA 91301"',
    )
    edit(
        config,
        'phone: "(818) 555-0142"                      # CONFIRM: the front-desk number',
        'phone: "(818) 555-2368"',
    )
    edit(project / "templates/partials/safety-information.mjml.j2", "mailpipe:needs-approved-text ", "")
    text = config.read_text(encoding="utf-8")
    for field in ("name: Alex Morgan", "credential: MD", "fee: 0", "conditions: for existing patients"):
        line = next(line for line in text.splitlines() if line.strip().startswith(field))
        text = text.replace(line, line.split("#")[0].rstrip())
    config.write_text(text, encoding="utf-8")
    for month in ("2024-05", "2024-06"):
        edit(
            project / f"content/specials/{month}.md",
            "example: true          # example offers: a push to a real Mailchimp account refuses this file",
            "example: false",
        )
    return sign_everything(project)


def sign_everything(project):
    """Every email signed off by each role it needs (as the reviewers would before go-live)."""
    from mailpipe.review import Reviews
    from mailpipe.review.signing import load_private_key

    private = add_reviewer(project, project.parent / "keys", "Dana Lee, MD", ["medical", "legal"])
    key = load_private_key(private)
    from mailpipe.project import Project

    rendered = Project(project).rendered()
    reviews = Reviews(project / "reviews")
    for email in rendered.emails:
        for role in reviews.state(email, rendered.site).roles:
            reviews.approve(email, rendered.site, role.role, key, dt.date(2024, 4, 19))
    return private
