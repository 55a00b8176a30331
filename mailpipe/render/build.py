"""Write rendered emails to disk: NAME.html, NAME.txt and manifest.json, touching only what changed."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mailpipe.errors import MailpipeError
from mailpipe.render import RenderedEmail

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    written: frozenset[str]  # file names whose content changed
    removed: frozenset[str]

    def changed(self, email: RenderedEmail) -> bool:
        return f"{email.id}.html" in self.written or f"{email.id}.txt" in self.written


def manifest_entry(email: RenderedEmail) -> dict:
    return {
        "id": email.id,
        "kind": email.kind,
        "subject": email.subject,
        "preheader": email.preheader,
        "html": f"{email.id}.html",
        "text": f"{email.id}.txt",
        "html_bytes": email.html_bytes,
        "text_bytes": email.text_bytes,
        "content_hash": email.content_hash,
        "example": email.example,
    }


def write_build(emails: list[RenderedEmail], out_dir: Path) -> BuildResult:
    """Write every email; files whose bytes would not change are left untouched.

    All or nothing: every changed file is first written beside its target as a temporary file, and only when all
    of them are (and the manifest last) are they moved into place; a failure (a full disk, a read-only folder)
    removes the temporaries, leaves the previous build as it was, and is one line naming the folder."""
    files = {f"{e.id}.html": e.html for e in emails} | {f"{e.id}.txt": e.text for e in emails}
    manifest = {"emails": [manifest_entry(e) for e in emails]}
    files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    mode = 0o666 & ~_umask()
    temporaries: dict[str, Path] = {}
    changed: set[str] = set()
    stale = _previous_files(out_dir) - files.keys()  # checked before anything is written
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            data = text.encode("utf-8")
            if not _unchanged(out_dir / name, data):
                temporaries[name] = _write_temporary(out_dir / name, data)
                os.chmod(temporaries[name], mode)
                changed.add(name)
        for name in sorted(temporaries, key=lambda n: n == MANIFEST):  # the manifest last: it names a complete build
            os.replace(temporaries.pop(name), out_dir / name)
        for name in stale:
            (out_dir / name).unlink(missing_ok=True)
    except OSError as err:
        for leftover in temporaries.values():
            leftover.unlink(missing_ok=True)
        raise MailpipeError(
            f"cannot write {out_dir}: {err.strerror or err}; the previous build was left as it was"
        ) from None
    return BuildResult(out_dir, frozenset(changed), frozenset(stale))


_BUILT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\.(html|txt)$")  # the only names a build writes (an email id, .html/.txt)


def _previous_files(out_dir: Path) -> set[str]:
    """The files the last build wrote, by its manifest: what a build may delete when they are stale. A name the build
    could not have written (another folder, `..`, an absolute path, another kind of file) is refused, never deleted:
    the manifest is a file anyone can edit."""
    try:
        previous = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        names = {name for entry in previous["emails"] for name in (entry["html"], entry["text"])}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    foreign = sorted(str(name) for name in names if not (isinstance(name, str) and _BUILT.match(name)))
    if foreign:
        raise MailpipeError(
            f"{out_dir / MANIFEST} names files a build does not write ({', '.join(map(repr, foreign))}): nothing was "
            "deleted or written; delete that manifest (the next build writes it anew)"
        )
    return names


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _unchanged(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _write_temporary(path: Path, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
