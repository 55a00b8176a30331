"""Fetch real-world MJML that nobody here wrote, for the tests of mailpipe's MJML checker.

Each archive comes from a package registry at a pinned version, is checked against its SHA-256 and
only its .mjml files and licence are kept, under .corpus/mjml/<package>/ (git-ignored):

- mjml 0.12.0 (PyPI; MIT, (c) Mailjet SAS and Felix Schwarz): the test templates of the Python port
  of MJML, most of them the official MJML's own test cases.
- mjml-starter-kit 1.0.3 (npm; ISC) and mjml-utils 2.2.1 (npm; MIT): public templates as people
  wrote them, including MJML 3 habits that the official MJML 5 rejects.

    python3 scripts/fetch-mjml-corpus.py        (make test runs it; a second run does nothing)
"""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / ".corpus" / "mjml"
PACKAGES = {
    "mjml-python-0.12.0": (
        "https://files.pythonhosted.org/packages/0d/e3/ab5a6fedd48eb2122030e9b4eb6fa560696eba6ec7a652dc92bdca22459d/mjml-0.12.0.tar.gz",
        "614397e624b115d78f9064d0f8aabceda3b522785eca8c2818ee03ffa8fdbf37",
    ),
    "mjml-starter-kit-1.0.3": (
        "https://registry.npmjs.org/mjml-starter-kit/-/mjml-starter-kit-1.0.3.tgz",
        "613269ad2292e0171e61197edc53d423cca79e12424aac4f3398de9edb9a5e44",
    ),
    "mjml-utils-2.2.1": (
        "https://registry.npmjs.org/mjml-utils/-/mjml-utils-2.2.1.tgz",
        "83673fc5a8b2c2f9c5c773adde8f8864cb991ac8bb05031fc044ff4270850875",
    ),
}


def fetch(name: str, url: str, sha256: str) -> None:
    target = CORPUS / name
    if (target / ".complete").is_file():
        return
    with urllib.request.urlopen(url, timeout=60) as answer:
        data = answer.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        sys.exit(f"{url}: the download does not match its pinned SHA-256; not using it")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            inner = Path(*Path(member.name).parts[1:])  # drop the archive's top folder
            if not member.isfile() or not (inner.suffix == ".mjml" or inner.name.upper().startswith("LICENSE")):
                continue
            if ".." in inner.parts:
                continue
            file = archive.extractfile(member)
            if file is not None:
                (target / inner).parent.mkdir(parents=True, exist_ok=True)
                (target / inner).write_bytes(file.read())
    (target / ".complete").write_text(url + "\n")


def main() -> None:
    for name, (url, sha256) in PACKAGES.items():
        fetch(name, url, sha256)
    print(f"{sum(1 for _ in CORPUS.rglob('*.mjml'))} MJML files in {CORPUS}")


if __name__ == "__main__":
    main()
