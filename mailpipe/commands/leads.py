"""`mailpipe leads import`: the people of a CSV into an audience, with its tag and their drip start; every row gets an
outcome with its line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mailpipe.commands import OnTarget, ignore_target
from mailpipe.errors import MailpipeError
from mailpipe.project import Project
from mailpipe.push.leads import Row


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str
    outcome: Row
    detail: str


@dataclass(frozen=True)
class Imported:
    file: Path
    audience: str
    rows: list[ImportRow]  # by line

    def count(self) -> dict[Row, int]:
        """How many rows had each outcome, every outcome named (in Row's order)."""
        return {kind: sum(1 for row in self.rows if row.outcome == kind) for kind in Row}

    @property
    def has_problems(self) -> bool:
        """A row was skipped or refused: someone must look at it."""
        return any(row.outcome.is_problem for row in self.rows)


def import_people(
    project: Project,
    file: Path,
    audience: str,
    start_now: bool = False,
    on_target: OnTarget = ignore_target,
    progress: Callable[[int, int], None] | None = None,
) -> Imported:
    """Each person enters the audience's drips at their `joined` time (empty: now), or today with `start_now`."""
    from mailpipe.load.campaigns import Drip
    from mailpipe.push.leads import import_leads, read_leads
    from mailpipe.push.target import connect

    site = project.load().site
    if audience not in site.audiences:
        raise MailpipeError(f"unknown audience {audience!r}; expected one of: {', '.join(sorted(site.audiences))}")
    drips = [c for c in project.campaigns if isinstance(c, Drip) and c.audience == audience]
    people, problems = read_leads(file, site.timezone)
    with connect(project.root, site) as target:
        on_target(target)
        outcomes = import_leads(
            target.mailchimp, site.audiences[audience], people, target.now(), drips, start_now, progress=progress
        )
    rows = [ImportRow(o.line, o.email, o.outcome, o.detail) for o in outcomes]
    rows += [ImportRow(p.line, "", Row.SKIPPED, f"{p.field}: {p.message}") for p in problems]
    return Imported(file, audience, sorted(rows, key=lambda r: (r.line, r.email, r.outcome, r.detail)))
