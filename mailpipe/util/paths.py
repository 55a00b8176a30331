"""Paths a config names, held inside the project: mailpipe creates, replaces and sets aside files there, and a path
that leads elsewhere (by a symbolic link on the way) would let it do that to someone else's file."""

from __future__ import annotations

from pathlib import Path

from mailpipe.errors import MailpipeError


def inside_project(root: Path, relative: str | Path, field: str) -> Path:
    """`root / relative`, once it is sure to stay inside `root` with every symbolic link followed; else one error
    naming the config field. (The config already refuses absolute paths and `..`.)"""
    path = root / relative
    try:
        resolved, home = path.resolve(), root.resolve()
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise MailpipeError(f"mailpipe.yaml: {field}: {relative} cannot be followed: {err}") from None
    if not resolved.is_relative_to(home):
        raise MailpipeError(
            f"mailpipe.yaml: {field}: {relative} leads outside the project (to {resolved}) through a symbolic link; "
            "point it at a path inside the project"
        )
    return path
