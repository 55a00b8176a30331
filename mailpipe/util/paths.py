"""Paths a config names, held inside the project: mailpipe creates, replaces and sets aside files there, and a path
that leads elsewhere (by a symbolic link on the way) would let it do that to someone else's file."""

from __future__ import annotations

from pathlib import Path

from mailpipe.errors import MailpipeError


def is_inside(root: Path, path: Path, what: str) -> bool:
    """Whether `path`, every symbolic link followed, is in `root`; a path that cannot be followed (a symlink loop) is
    one error naming `what`."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError) as err:  # a symlink loop: RuntimeError before Python 3.13, OSError since
        raise MailpipeError(f"{what}: {path} cannot be followed: {err}") from None


def inside_project(root: Path, relative: str | Path, field: str) -> Path:
    """`root / relative`, once it is sure to stay inside `root` with every symbolic link followed; else one error
    naming the config field. (The config already refuses absolute paths and `..`.)"""
    path = root / relative
    if not is_inside(root, path, f"mailpipe.yaml: {field}"):
        raise MailpipeError(
            f"mailpipe.yaml: {field}: {relative} leads outside the project (to {path.resolve()}) through a symbolic "
            "link; point it at a path inside the project"
        )
    return path
