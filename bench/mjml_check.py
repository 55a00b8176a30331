"""Benchmark: the MJML checker, warm, in process.

- Per shipped email: the check the renderer runs on the MJML the templates wrote.
- Per corpus file (.corpus/mjml, `make mjml-corpus`): `lint-mjml`'s check_file, includes resolved.

    .venv/bin/python bench/mjml_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from timing import median_ms  # noqa: E402  (bench/timing.py)

import mailpipe.render as render  # noqa: E402
from mailpipe.load.config import load_config  # noqa: E402
from mailpipe.load.content import load_content  # noqa: E402
from mailpipe.render.mjml_check import check_file, check_source  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    marked: list[str] = []
    original = render.check_source
    render.check_source = lambda mjml: (marked.append(mjml), original(mjml))[1]  # type: ignore[assignment]
    renderer = render.Renderer(load_config(REPO), REPO / "templates")
    for source in render.email_sources(load_content(REPO / "content")):
        renderer.render(source)
    render.check_source = original  # type: ignore[assignment]
    quick = [median_ms(lambda m=m: check_source(m), args.runs) for m in marked]
    print(
        f"{len(marked)} shipped emails: the renderer's MJML check, median {statistics.median(quick):.3f} ms per email"
    )
    files = sorted((REPO / ".corpus" / "mjml").rglob("*.mjml"))
    if files:
        per_file = [median_ms(lambda f=f: check_file(f), max(args.runs // 10, 5)) for f in files]
        print(
            f"{len(files)} corpus files, lint-mjml median ms per file {statistics.median(per_file):.3f} (max "
            f"{max(per_file):.3f})"
        )


if __name__ == "__main__":
    main()
