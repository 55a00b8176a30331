"""Benchmark: mailpipe's whole per-email pipeline against the official MJML compiling the same MJML.

mailpipe's figure covers everything per email: Jinja2, Markdown, MJML rule check, MRML compile,
plain text and UTM links. The official figures cover compiling the intermediate MJML only: in one
node process (a loop over mjml2html) and with the mjml CLI (one process per email, as a shell
script would run it). Goal: mailpipe's whole pipeline per email is faster (ratio > 1).

    .venv/bin/python bench/render.py [--runs N]     (make bench installs the npm mjml first)
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import official_mjml  # noqa: E402  (tests/official_mjml.py: the shared node runner)

from mailpipe.config import load_config  # noqa: E402
from mailpipe.content import load_content  # noqa: E402
from mailpipe.render import Renderer, email_sources  # noqa: E402


def median_ms(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200, help="renders of each email (default 200)")
    parser.add_argument("--cli-runs", type=int, default=3, help="CLI compiles of each email (default 3)")
    args = parser.parse_args()

    if not official_mjml.available():
        subprocess.run(["make", "-s", "node-mjml"], cwd=REPO, check=True)
    renderer = Renderer(load_config(REPO), REPO / "templates")
    sources = email_sources(load_content(REPO / "content"))
    emails = [renderer.render(source) for source in sources]  # warm-up; also the MJML the oracle gets

    ours = [median_ms(lambda s=source: renderer.render(s), args.runs) for source in sources]
    in_process = official_mjml.compile_all([e.mjml for e in emails], validation_level="soft", iterations=args.runs)["median_ms"]
    cli = []
    with tempfile.TemporaryDirectory() as folder:
        for email in emails:
            source = Path(folder) / f"{email.id}.mjml"
            source.write_text(email.mjml, encoding="utf-8")
            command = [str(official_mjml.NODE_MODULES / ".bin" / "mjml"), str(source), "-o", str(Path(folder) / f"{email.id}.html")]
            cli.append(median_ms(lambda c=command: subprocess.run(c, check=True, capture_output=True), args.cli_runs))

    print(f"{len(emails)} emails, {args.runs} runs each (CLI: {args.cli_runs}); median ms per email")
    print(f"{'email':36} {'mailpipe whole':>15} {'mjml in node':>13} {'mjml CLI':>10}")
    for email, a, b, c in zip(emails, ours, in_process, cli):
        print(f"{email.id:36} {a:15.3f} {b:13.3f} {c:10.1f}")
    ours_median, node_median, cli_median = statistics.median(ours), statistics.median(in_process), statistics.median(cli)
    print(f"{'median over emails':36} {ours_median:15.3f} {node_median:13.3f} {cli_median:10.1f}")
    print(f"ratio official in-process / mailpipe whole pipeline: {node_median / ours_median:.2f}x")
    print(f"ratio official CLI / mailpipe whole pipeline: {cli_median / ours_median:.1f}x")


if __name__ == "__main__":
    main()
