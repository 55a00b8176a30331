"""Reading a file someone else may have put in place: only a regular file (a FIFO would block the read forever, a
device never end), and no more than a limit (read up to it, not trusted from a size taken before)."""

from __future__ import annotations

from pathlib import Path


class NotARegularFile(Exception):
    """A folder, a FIFO or a device where a file was expected."""


class TooLarge(Exception):
    """More bytes than the reader's limit."""


class NotUtf8(Exception):
    def __init__(self, line: int, byte: int):
        super().__init__(f"byte 0x{byte:02x} at line {line}")
        self.line, self.byte = line, byte


def read_regular_file(path: Path, limit: int) -> bytes:
    """The file's bytes; NotARegularFile, TooLarge, or the OSError of the read (each caller says it its own way)."""
    if not path.is_file():
        raise NotARegularFile(path)
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(path)
    return data


def decode_utf8(data: bytes) -> str:
    """The bytes as UTF-8 text; NotUtf8 names the first bad byte and its line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotUtf8(data[: err.start].count(b"\n") + 1, data[err.start]) from None
