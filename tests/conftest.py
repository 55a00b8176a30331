"""Shared fixtures: a throw-away copy of the project, and the CLI driven through click's CliRunner."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

REPO = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("mailpipe.yaml", "content", "templates", "campaigns")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the real project (config, content, templates, campaigns) that a test may break."""
    root = tmp_path / "project"
    root.mkdir()
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        elif source.exists():
            shutil.copy(source, root / part)
    return root


@pytest.fixture
def run_cli():
    """Invoke `cli.py ARGS…` in-process; returns click's Result (exit_code, stdout, stderr)."""

    def invoke(root: Path, *args: str):
        return CliRunner().invoke(cli.main, ["--project", str(root), *args], catch_exceptions=False)

    return invoke


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
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()
