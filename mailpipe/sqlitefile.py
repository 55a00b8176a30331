"""The local SQLite files (push state, the sandbox): opened with one clear line for every OS problem, and a file that
is not a readable database set aside and made anew rather than ending every run in a traceback."""
from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path
from typing import Callable

from mailpipe.errors import MailpipeError

_CORRUPT = ("file is not a database", "database disk image is malformed", "malformed database schema")


def is_corrupt(err: sqlite3.DatabaseError) -> bool:
    return any(text in str(err) for text in _CORRUPT)


def open_or_rebuild(path: Path, prepare: Callable[[Path], sqlite3.Connection], what: str) -> sqlite3.Connection:
    """`prepare(path)` connects and sets the file up. A corrupt file is renamed PATH.corrupt-TIMESTAMP (kept for a
    look, never deleted) and a new one prepared, with a warning; any other failure is one line naming the file."""
    try:
        try:
            return prepare(path)
        except sqlite3.DatabaseError as err:
            if not is_corrupt(err):
                raise
            aside = path.with_name(f"{path.name}.corrupt-{dt.datetime.now():%Y%m%d-%H%M%S}")
            path.rename(aside)
            for extra in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + extra).unlink(missing_ok=True)
            print(f"warning: {path} was not a readable database ({err}); set aside as {aside.name}, and {what} is rebuilt",
                  file=sys.stderr)
            return prepare(path)
    except (sqlite3.Error, OSError) as err:
        raise MailpipeError(f"cannot use {path}: {err}") from None
