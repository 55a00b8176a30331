"""The local SQLite files (push state, the sandbox): opened with one clear line for every OS problem, and a file that
is not a readable database set aside and made anew rather than ending every run in a traceback.

A command that must write nothing (a dry run, a report, doctor) reads a copy in memory instead: SQLite creates files
even to read a database read-only (a WAL database's -shm and -wal), so such a command never opens the file itself.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mailpipe.errors import MailpipeError

_CORRUPT = ("file is not a database", "database disk image is malformed", "malformed database schema")
_COMPANIONS = ("-wal", "-shm", "-journal")


def apply_schema(db: sqlite3.Connection, schema: str) -> None:
    """Make the tables of `schema` that are missing; a table that exists with other columns (another program's, or a
    hand-edited one) is damage, as a malformed file is: it would fail mid-run on the first query that names one."""
    db.executescript(schema)
    reference = sqlite3.connect(":memory:")
    try:
        reference.executescript(schema)
        for (table,) in reference.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            wanted = [row[1] for row in reference.execute(f"PRAGMA table_info({table})")]
            found = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            if found != wanted:
                raise sqlite3.DatabaseError(
                    f"malformed database schema: table {table} has columns {', '.join(found)}; expected "
                    f"{', '.join(wanted)}"
                )
    finally:
        reference.close()


def is_corrupt(err: sqlite3.DatabaseError) -> bool:
    return any(text in str(err) for text in _CORRUPT)


_HEADER = b"SQLite format 3\x00"


def _aside_name(path: Path) -> str:
    return f"{path.name}.corrupt-{dt.datetime.now():%Y%m%d-%H%M%S}"  # when it happened, for people: not a decision


def _free_aside(path: Path) -> Path:
    """Where to set `path` aside: a name no earlier file took (two set aside in the same second keep both)."""
    aside = path.with_name(_aside_name(path))
    number = 1
    while aside.exists() or aside.is_symlink():
        number += 1
        aside = path.with_name(f"{_aside_name(path)}-{number}")
    return aside


def _a_database_once(path: Path) -> bool:
    """Whether the file begins as every SQLite database does: one mailpipe may have made, damaged since. Anything
    else (someone's notes, a folder) is not mailpipe's to rename."""
    try:
        with path.open("rb") as file:
            return path.is_file() and file.read(len(_HEADER)) == _HEADER
    except OSError:
        return False


def open_or_rebuild(path: Path, prepare: Callable[[Path], sqlite3.Connection], what: str) -> sqlite3.Connection:
    """`prepare(path)` connects and sets the file up. A corrupt file is renamed PATH.corrupt-TIMESTAMP (kept for a
    look, never deleted) and a new one prepared, with a warning; any other failure is one line naming the file."""
    try:
        try:
            return prepare(path)
        except sqlite3.DatabaseError as err:
            if not is_corrupt(err):
                raise
            if not _a_database_once(path):
                raise MailpipeError(
                    f"{path} is not a database mailpipe made ({err}); it is left as it is: move it away, or point "
                    "mailpipe.yaml's mailchimp paths elsewhere"
                ) from None
            aside = _free_aside(path)
            path.rename(aside)
            for extra in _COMPANIONS:
                path.with_name(path.name + extra).unlink(missing_ok=True)
            print(
                f"warning: {path} was not a readable database ({err}); set aside as {aside.name}, "
                f"and {what} is rebuilt",
                file=sys.stderr,
            )
            return prepare(path)
    except (sqlite3.Error, OSError) as err:
        raise MailpipeError(f"cannot use {path}: {err}") from None


def memory_copy(path: Path, schema: str, what: str) -> sqlite3.Connection:
    """The database at `path` as it is now, copied into memory with `schema` applied: the file is neither created,
    changed, renamed nor locked. A missing file reads as empty; so does a corrupt one, with a warning that says what a
    command that writes would do with it (`what`: what is then rebuilt)."""
    memory = _empty_memory()
    try:
        if path.exists():
            _copy_into(path, memory)
        apply_schema(memory, schema)  # a copy of a corrupt file fails here at the latest
    except sqlite3.DatabaseError as err:
        if not is_corrupt(err):
            raise MailpipeError(f"cannot read {path}: {err}") from None
        if not _a_database_once(path):
            raise MailpipeError(
                f"{path} is not a database mailpipe made ({err}); it is left as it is: move it away, or point "
                "mailpipe.yaml's mailchimp paths elsewhere"
            ) from None
        print(
            f"warning: {path} is not a readable database ({err}); read as empty and left where it is "
            f"(a command that writes sets it aside as {_aside_name(path)} and {what} is rebuilt)",
            file=sys.stderr,
        )
        memory.close()
        memory = _empty_memory()
        memory.executescript(schema)
    except OSError as err:
        raise MailpipeError(f"cannot read {path}: {err}") from None
    return memory


def _empty_memory() -> sqlite3.Connection:
    memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    memory.row_factory = sqlite3.Row
    return memory


def _copy_into(path: Path, memory: sqlite3.Connection, attempts: int = 3) -> None:
    """Copy the file and its write-ahead log (what another process committed lately) to a private folder, and from
    there into memory; a copy taken while another process wrote is taken again."""
    wal = path.with_name(path.name + "-wal")
    for attempt in range(attempts):
        before = _signature(path, wal)
        with tempfile.TemporaryDirectory(prefix="mailpipe-read-") as folder:
            copy = Path(folder) / path.name
            shutil.copyfile(path, copy)
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            if _signature(path, wal) != before and attempt + 1 < attempts:
                continue
            source = sqlite3.connect(copy)
            try:
                source.backup(memory)
            finally:
                source.close()
            return


def _signature(*paths: Path) -> list[tuple[int, int] | None]:
    """Size and modification time of each file: a copy is whole when they did not change while it was taken."""
    found: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            found.append(None)
            continue
        found.append((status.st_size, status.st_mtime_ns))
    return found
