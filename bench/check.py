"""Benchmark: per-email check time over the whole content set, as `check` does it: the findings of every rule
and the client scores, from one parse (goal: under 20 ms per email, so the preview can re-check on every save).

    .venv/bin/python bench/check.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mailpipe.checks.report import check_emails  # noqa: E402
from mailpipe.project import Project  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    rendered = Project(REPO).rendered()
    start = time.perf_counter()
    check_emails(rendered.emails[:1], rendered.site)
    print(f"first check (loads the caniemail data): {(time.perf_counter() - start) * 1000:.1f} ms")
    medians = []
    for email in rendered.emails:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            [report] = check_emails([email], rendered.site)
            times.append((time.perf_counter() - start) * 1000)
        medians.append(statistics.median(times))
        print(
            f"{email.id:36} {medians[-1]:7.2f} ms  ({len(report.findings)} findings, {len(report.client_scores)} "
            "client scores)"
        )
    print(
        f"median per email over {len(rendered.emails)} emails, {args.runs} runs each: "
        f"{statistics.median(medians):.2f} ms "
        f"(slowest {max(medians):.2f} ms)"
    )


if __name__ == "__main__":
    main()
