"""`mailpipe report`: results per drip step and per monthly email, and the drip's funnel, read from the account;
`mailpipe audiences`: the account's audiences. Both read only (GETs; the embedded sandbox as a copy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from mailpipe.commands import OnTarget, ignore_target
from mailpipe.errors import MailpipeError
from mailpipe.load.campaigns import Campaign
from mailpipe.load.config import SiteConfig
from mailpipe.project import Project
from mailpipe.push.mailchimp import Audience
from mailpipe.report import Report


def report(
    project: Project,
    only_drip: str | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
    on_target: OnTarget = ignore_target,
    sandbox: bool = False,
    sandbox_db: Path | None = None,
) -> Report:
    """Campaigns sent from `first` to `last` (local dates, inclusive); `only_drip`: one campaign's name or code;
    `sandbox_db`: the embedded sandbox in that file (the demo's, var/demo/sandbox.sqlite3)."""
    site = project.load().site
    return report_of(project.root, site, project.campaigns, only_drip, first, last, on_target, sandbox, sandbox_db)


def report_of(
    root: Path,
    site: SiteConfig,
    campaigns: list[Campaign],
    only_drip: str | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
    on_target: OnTarget = ignore_target,
    sandbox: bool = False,
    sandbox_db: Path | None = None,
) -> Report:
    """The report of a project already loaded (the preview keeps its own, file by file)."""
    from mailpipe.push.target import connect
    from mailpipe.report import build_report, read_results

    if only_drip and only_drip not in {c.name for c in campaigns} | {c.code for c in campaigns}:
        expected = ", ".join(sorted(c.name for c in campaigns))
        raise MailpipeError(f"no campaign is named {only_drip!r}; expected one of: {expected}")
    with connect(root, site, dry_run=True, sandbox=sandbox or sandbox_db is not None, sandbox_db=sandbox_db) as target:
        on_target(target)
        results = read_results(target.mailchimp, {a.list_id for a in site.audiences.values()})
    list_of = {name: a.list_id for name, a in site.audiences.items()}
    return build_report(results, campaigns, list_of, site.timezone, first, last, only_drip)


@dataclass(frozen=True)
class AudienceTags:
    audience: Audience
    tags: list[str]  # sorted


def audiences(project: Project, on_target: OnTarget = ignore_target, sandbox: bool = False) -> list[AudienceTags]:
    """Every audience of the account with its tags (its id is what mailpipe.yaml names)."""
    from mailpipe.push.target import connect

    with connect(project.root, project.site, dry_run=True, sandbox=sandbox) as target:
        on_target(target)
        return [AudienceTags(a, sorted(target.mailchimp.tags(a.id))) for a in target.mailchimp.audiences()]
