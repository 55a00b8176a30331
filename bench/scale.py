"""Benchmark: mailpipe on projects of 10, 100 and 1,000 articles (14, 104 and 1,004 emails).

For each size, a copy of the project grown with `tests/simulation.add_articles`:
- `mailpipe build` (render, write, and the checks its summary counts) and `mailpipe check`, each a cold process: wall
  time, time per email, and the process's peak memory (its own ru_maxrss);
- the preview: the first page served after start (the emails render on demand and in the background), the time
  until every email is rendered and checked, and save -> the re-rendered email in the page's frame in Chromium.
Per-email times are compared with the smallest project's: a ratio near 1 is linear.

    .venv/bin/python bench/scale.py [SIZES...]    (default 10 100 1000)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from preview_reload import save_to_frame  # noqa: E402  (bench/preview_reload.py)

from conftest import copy_project  # noqa: E402
from mailpipe.preview import PreviewModel  # noqa: E402
from mailpipe.preview.server import RunningPreview  # noqa: E402
from mailpipe.project import Project  # noqa: E402
from simulation import add_articles  # noqa: E402

MAILPIPE = str(Path(sys.executable).parent / "mailpipe")
SPECIALS_EMAILS = 4  # the two months of specials and their newsletters


def timed_process(*args: str) -> tuple[float, float]:
    """(seconds, peak resident MB) of one cold process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # check exits 1 when an email has errors
        raise SystemExit(f"{' '.join(args)} failed")
    return seconds, usage.ru_maxrss / 1024


def preview_figures(root: Path, rounds: int) -> tuple[float, float, list[float]]:
    """(seconds to the first page, seconds until every email is checked, save -> frame in ms per round)."""
    started = time.perf_counter()
    model = PreviewModel(Project(root))
    with RunningPreview(model) as preview:
        urllib.request.urlopen(preview.url).read()
        first_page = time.perf_counter() - started
        while model.snapshot.pending:
            time.sleep(0.05)
        all_checked = time.perf_counter() - started
        return first_page, all_checked, save_to_frame(preview, root, rounds)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            root = copy_project(Path(folder) / f"project-{size}")
            add_articles(root, size)
            emails = size + SPECIALS_EMAILS
            build, build_mb = timed_process(MAILPIPE, "-C", str(root), "build")
            check, check_mb = timed_process(MAILPIPE, "-C", str(root), "check")
            first_page, all_checked, frames = preview_figures(root, rounds=10)
            rows.append(
                (size, emails, build, build_mb, check, check_mb, first_page, all_checked, statistics.median(frames))
            )
    print(
        f"{'articles':>8} {'emails':>6} | {'build s':>7} {'ms/email':>8} {'added':>6} {'MB':>5} | {'check s':>7} "
        f"{'ms/email':>8} "
        f"{'added':>6} {'MB':>5} | {'preview: first page s':>21} {'all checked s':>13} {'save->frame ms':>14}"
    )
    previous = None
    for size, emails, build, build_mb, check, check_mb, first_page, all_checked, frame in rows:
        added_build = added_check = float("nan")
        if previous:  # ms per email added since the smaller project: constant when the cost is linear
            added_build = (build - previous[2]) / (emails - previous[1]) * 1000
            added_check = (check - previous[4]) / (emails - previous[1]) * 1000
        print(
            f"{size:8} {emails:6} | {build:7.2f} {build / emails * 1000:8.1f} {added_build:6.1f} {build_mb:5.0f} | "
            f"{check:7.2f} {check / emails * 1000:8.1f} {added_check:6.1f} {check_mb:5.0f} | "
            f"{first_page:21.2f} {all_checked:13.1f} {frame:14.0f}"
        )
        previous = (size, emails, build, build_mb, check)
    print(
        "build renders, writes and checks every email in one process (its summary counts the findings); check "
        "renders and "
        "checks again. added: ms per email added since the smaller project (constant when linear); MB: peak "
        "resident memory"
    )


if __name__ == "__main__":
    main()
