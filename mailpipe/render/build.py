"""Write rendered emails to disk: NAME.html, NAME.txt and manifest.json, touching only what changed."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
    """Write every email; files whose bytes would not change are left untouched."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {f"{e.id}.html": e.html for e in emails} | {f"{e.id}.txt": e.text for e in emails}
    manifest = {"emails": [manifest_entry(e) for e in emails]}
    files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    stale = _previous_files(out_dir) - files.keys()
    written = {name for name, text in files.items() if _write_if_changed(out_dir / name, text)}
    for name in stale:
        (out_dir / name).unlink(missing_ok=True)
    return BuildResult(out_dir, frozenset(written), frozenset(stale))


def _previous_files(out_dir: Path) -> set[str]:
    try:
        previous = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {name for entry in previous["emails"] for name in (entry["html"], entry["text"])}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _write_if_changed(path: Path, text: str) -> bool:
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True
