"""Typed errors the library raises; only cli.py turns them into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file, said so a marketer can find and fix it."""

    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class MailpipeError(Exception):
    """Base of every error mailpipe reports to a user."""


class NoTarget(MailpipeError):
    """A command that talks to Mailchimp was not told which account (or sandbox): a usage error, exit 2."""

    exit_code = 2


class InputError(MailpipeError):
    """Content, config or campaign files that failed validation; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.file), p.line, p.field))
        super().__init__("\n".join(str(p) for p in self.problems))


class RenderError(MailpipeError):
    """A template or the MJML it produced is broken; the message names template and line."""
