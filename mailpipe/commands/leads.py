"""`mailpipe leads import`: the people of a CSV into an audience, with its tag and their drip start; every row gets an
outcome with its line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.commands import OnTarget, ignore_target
from mailpipe.errors import MailpipeError
from mailpipe.project import Project
from mailpipe.push.leads import Row

if TYPE_CHECKING:
    from mailpipe.load.campaigns import Drip
    from mailpipe.push.target import Target


def _entered_before(target: Target, list_id: str, drips: list[Drip]) -> int:
    """How many people the local record has seen enter these drips (then their tag must exist in Mailchimp)."""
    from mailpipe.push.record import LeadLog

    state = target.open_state()
    try:
        codes = {drip.code for drip in drips}
        return sum(1 for value in state.lead_logs(list_id).values() if codes & set(LeadLog.parse(value).starts))
    finally:
        state.close()


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
    sandbox: bool = False,
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
    with connect(project.root, site, sandbox=sandbox) as target:
        on_target(target)
        entered = _entered_before(target, site.audiences[audience].list_id, drips)
        outcomes = import_leads(
            target.mailchimp,
            site.audiences[audience],
            people,
            target.now(),
            drips,
            start_now,
            progress=progress,
            entered_before=entered,
        )
    rows = [ImportRow(o.line, o.email, o.outcome, o.detail) for o in outcomes]
    rows += [ImportRow(p.line, "", Row.SKIPPED, f"{p.field}: {p.message}") for p in problems]
    return Imported(file, audience, sorted(rows, key=lambda r: (r.line, r.email, r.outcome, r.detail)))
