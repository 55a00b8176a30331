"""Benchmark: mailpipe against the official MJML, like with like.

- Warm, in process: mailpipe's whole per-email pipeline (Jinja2, Markdown, MJML rule check, MRML compile,
  plain text, UTM links), alone and with every check of the email (what `build` does for each email), against
  official MJML's `mjml2html` of the same intermediate MJML alone, in one node process. Goal: ratio > 1 with
  the checks.
- Cold, process against process: `mailpipe build` of every email (start-up, load, render, write, and the
  checks its table shows) against one `mjml` CLI process compiling the same MJML files; and each tool's bare
  start-up (`mailpipe --help`, `mjml --version`).

    .venv/bin/python bench/render.py [--runs N]     (make bench installs the npm mjml first)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import official_mjml  # noqa: E402  (tests/official_mjml.py: the shared node runner)
from timing import median_ms  # noqa: E402  (bench/timing.py)

from mailpipe.checks.report import check_emails  # noqa: E402
from mailpipe.load.config import load_config  # noqa: E402
from mailpipe.load.content import load_content  # noqa: E402
from mailpipe.render import Renderer, email_sources  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200, help="renders of each email (default 200)")
    parser.add_argument("--cli-runs", type=int, default=5, help="runs of each cold process (default 5)")
    args = parser.parse_args()

    if not official_mjml.available():
        subprocess.run(["make", "-s", "node-mjml"], cwd=REPO, check=True)
    site = load_config(REPO)
    renderer = Renderer(site, REPO / "templates")
    sources = email_sources(load_content(REPO / "content"))
    emails = [renderer.render(source) for source in sources]  # warm-up; also the MJML the oracle gets
    check_emails(emails, site)

    ours = [median_ms(lambda s=source: renderer.render(s), args.runs) for source in sources]
    checked = [median_ms(lambda s=source: check_emails([renderer.render(s)], site), args.runs) for source in sources]
    in_process = official_mjml.compile_all([e.mjml for e in emails], validation_level="soft", iterations=args.runs)[
        "median_ms"
    ]
    with tempfile.TemporaryDirectory() as folder:
        sources_dir, out_dir = Path(folder) / "mjml", Path(folder) / "html"
        sources_dir.mkdir()
        out_dir.mkdir()
        files = []
        for email in emails:
            files.append(str(sources_dir / f"{email.id}.mjml"))
            Path(files[-1]).write_text(email.mjml, encoding="utf-8")
        mjml = str(official_mjml.NODE_MODULES / ".bin" / "mjml")
        mailpipe = str(Path(sys.executable).parent / "mailpipe")
        cold_mjml = median_ms(
            lambda: subprocess.run([mjml, *files, "-o", str(out_dir)], check=True, capture_output=True), args.cli_runs
        )
        cold_mailpipe = median_ms(
            lambda: subprocess.run(
                [mailpipe, "--project", str(REPO), "build", "--out", str(Path(folder) / "build")],
                check=True,
                capture_output=True,
            ),
            args.cli_runs,
        )
        start_mjml = median_ms(
            lambda: subprocess.run([mjml, "--version"], check=True, capture_output=True), args.cli_runs
        )
        start_mailpipe = median_ms(
            lambda: subprocess.run([mailpipe, "--help"], check=True, capture_output=True), args.cli_runs
        )

    print(f"{len(emails)} emails; warm: {args.runs} runs each, median ms per email")
    print(f"{'email':36} {'mailpipe render':>15} {'render + checks':>15} {'mjml in node':>13}")
    for email, a, c, b in zip(emails, ours, checked, in_process, strict=True):
        print(f"{email.id:36} {a:15.3f} {c:15.3f} {b:13.3f}")
    ours_median, checked_median, node_median = (
        statistics.median(ours),
        statistics.median(checked),
        statistics.median(in_process),
    )
    print(f"{'median over emails':36} {ours_median:15.3f} {checked_median:15.3f} {node_median:13.3f}")
    print(
        f"warm, in process: official mjml2html / mailpipe render = {node_median / ours_median:.2f}x; "
        f"official mjml2html / mailpipe render + checks = {node_median / checked_median:.2f}x"
    )
    print(
        f"cold, one process for all {len(emails)} emails ({args.cli_runs} runs, median): mailpipe build "
        f"{cold_mailpipe:.0f} ms, "
        f"mjml CLI {cold_mjml:.0f} ms; mjml / mailpipe = {cold_mjml / cold_mailpipe:.2f}x"
    )
    print(f"start-up alone: mailpipe --help {start_mailpipe:.0f} ms, mjml --version {start_mjml:.0f} ms")


if __name__ == "__main__":
    main()
