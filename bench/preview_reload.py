"""Benchmark: time from saving an article to the open preview page showing it (goal: under 150 ms at 11 emails).

Drives Debian's Chromium through Playwright against the live preview of a copy of the project;
each round changes the article's subject on disk and waits until the email itself, in the desktop frame, has
re-rendered with it (the email's <title> is its subject), not merely the inbox line above it.

    .venv/bin/python bench/preview_reload.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, copy_project  # noqa: E402
from mailpipe.preview import PreviewModel  # noqa: E402
from mailpipe.preview.server import RunningPreview  # noqa: E402
from mailpipe.project import Project  # noqa: E402

ARTICLE = "content/articles/01-what-causes-migraine.md"
SUBJECT = "subject: What is really behind a migraine?"


def save_to_frame(preview: RunningPreview, root: Path, rounds: int) -> list[float]:
    """Milliseconds from each save of the first article to its re-rendered email in the page's desktop frame."""
    article = root / ARTICLE
    original = article.read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True)  # Playwright polls with eval, which the preview's CSP forbids
        page.goto(preview.url + "email/what-causes-migraine")
        times = []
        for n in range(rounds):
            subject = f"Migraine, round {n}"
            start = time.perf_counter()
            article.write_text(original.replace(SUBJECT, f"subject: {subject}"))
            page.wait_for_function(
                f"document.querySelector('#frame-desktop')?.contentDocument?.title === {subject!r}",
                polling="raf",
                timeout=10_000,
            )
            times.append((time.perf_counter() - start) * 1000)
        browser.close()
    article.write_text(original)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = copy_project(Path(folder) / "project")
        with RunningPreview(PreviewModel(Project(root))) as preview:
            times = save_to_frame(preview, root, args.rounds)
    print(
        f"save -> page shows it, {args.rounds} rounds: median {statistics.median(times):.0f} ms, "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms"
    )


if __name__ == "__main__":
    main()
