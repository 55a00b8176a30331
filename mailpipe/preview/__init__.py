"""The live preview's model: the project's emails, kept rendered and checked as files change.

A change re-renders only what it affects: a content file its own emails, a template or the config
everything, a campaign file only the grouping. A broken file does not kill anything: its error
(file, line, message) is kept for the pages to show, and the next good save clears it.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from mailpipe.checks import Context, Finding, run_checks
from mailpipe.errors import InputError, MailpipeError
from mailpipe.load.campaigns import Campaign, Drip, Monthly, load_campaigns
from mailpipe.load.config import CONFIG_FILE, SiteConfig, load_config
from mailpipe.load.content import ContentSet, load_content
from mailpipe.project import Project
from mailpipe.render import RenderedEmail, Renderer, email_sources
from mailpipe.report import Report
from mailpipe.review import APPROVALS_FILE, Change, Reviews, ReviewState, recipient_view, word_diff


@dataclass(frozen=True)
class Group:
    title: str
    entries: list[tuple[str, str]]  # (label, email id)


@dataclass
class Snapshot:
    """What the pages show: a version that changes on every reload, the emails, and any error."""

    version: int = 0
    site: SiteConfig | None = None
    emails: dict[str, RenderedEmail] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sign_offs: dict[str, ReviewState] = field(default_factory=dict)


class PreviewModel:
    def __init__(self, project: Project):
        self.project = project
        self.snapshot = Snapshot()
        self._lock = threading.Lock()
        self._reloading = threading.Lock()  # the watcher and a page request (new sign-offs) may both reload
        self._changed = threading.Condition(self._lock)
        self._site: SiteConfig | None = None
        self._content: ContentSet | None = None
        self._renderer: Renderer | None = None
        self._campaigns: list[Campaign] = []
        approvals = project.reviews_dir / APPROVALS_FILE
        self._approvals_stamp = approvals.stat().st_mtime_ns if approvals.exists() else None
        self.reload(None)

    def current(self) -> Snapshot:
        """The snapshot, first taking in sign-offs given since (`mailpipe review` in another terminal may have made
        reviews/ after the watcher started)."""
        approvals = self.project.reviews_dir / APPROVALS_FILE
        stamp = approvals.stat().st_mtime_ns if approvals.exists() else None
        if stamp != self._approvals_stamp:
            self._approvals_stamp = stamp
            self.reload({approvals})
        return self.snapshot

    def report(self) -> tuple[Report, str]:
        """The results report, read now from the account (or the embedded sandbox) with GETs only; and which one."""
        from mailpipe.push.target import connect
        from mailpipe.report import build_report, read_results

        site = self._site
        if site is None:
            raise MailpipeError("the config has a problem; fix it to see reports")
        with connect(self.project.root, site, read_only=True) as target:
            results = read_results(target.mailchimp, {a.list_id for a in site.audiences.values()})
            source = target.description
        return build_report(results, self._campaigns, {name: a.list_id for name, a in site.audiences.items()}, site.timezone), source

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the version differs from `seen` (or timeout); returns the current version."""
        with self._changed:
            self._changed.wait_for(lambda: self.snapshot.version != seen, timeout=timeout)
            return self.snapshot.version

    def reload(self, changed: set[Path] | None) -> None:
        """Re-render what `changed` affects (None: everything) and publish a new snapshot."""
        with self._reloading:
            self._reload(changed)

    def _reload(self, changed: set[Path] | None) -> None:
        root = self.project.root.resolve()
        paths = {p.resolve() for p in changed or ()}
        everything = changed is None or self._renderer is None or any(p.name == CONFIG_FILE or _under(p, root / "templates") for p in paths)
        content_changed = everything or any(_under(p, root / "content") for p in paths)
        campaigns_changed = everything or content_changed or any(_under(p, root / "campaigns") for p in paths)
        reviews_changed = everything or any(_under(p, root / "reviews") for p in paths)
        errors: list[str] = []
        emails = dict(self.snapshot.emails)
        findings = dict(self.snapshot.findings)
        sign_offs = dict(self.snapshot.sign_offs)
        try:
            if everything:
                self._site = load_config(self.project.root)
                self._renderer = Renderer(self._site, self.project.templates_dir)
            site, renderer = self._site, self._renderer
            assert site is not None and renderer is not None  # made above whenever they were missing
            if content_changed:
                self._content = load_content(self.project.content_dir)
                sources = email_sources(self._content)
                wanted = {s.id for s in sources}
                emails = {k: v for k, v in emails.items() if k in wanted}
                for source in sources:
                    old = emails.get(source.id)
                    if everything or old is None or any(p.resolve() in paths for p in source.sources) or old.source != source:
                        emails[source.id] = renderer.render(source)
                        findings[source.id] = run_checks(emails[source.id], site)
                        sign_offs.pop(source.id, None)
                emails = {s.id: emails[s.id] for s in sources}
            reviews = Reviews(self.project.reviews_dir)
            sign_offs = {k: sign_offs[k] if k in sign_offs and not reviews_changed else reviews.state(e, site) for k, e in emails.items()}
            if campaigns_changed:
                self._campaigns = load_campaigns(self.project.campaigns_dir, site, set(emails))
        except InputError as err:
            errors = [str(p) for p in err.problems]
        except MailpipeError as err:
            errors = [str(err)]
        with self._changed:
            previous = self.snapshot
            self.snapshot = Snapshot(previous.version + 1, self._site or previous.site, emails if not errors else previous.emails,
                                     findings if not errors else previous.findings,
                                     _groups(self._campaigns, emails if not errors else previous.emails), errors,
                                     sign_offs if not errors else previous.sign_offs)
            self._changed.notify_all()


def changes_since_approval(model: PreviewModel, email: RenderedEmail) -> tuple[str, list[Change]] | None:
    """The latest approval of an email (who, when) and what changed since, word by word; None if never approved."""
    site = model.snapshot.site
    reviews = Reviews(model.project.reviews_dir)
    latest = reviews.latest(email.id)
    if site is None or latest is None:
        return None
    approved = reviews.approved_view(latest)
    if approved is None:
        return None
    return f"{latest.role} approval by {latest.reviewer} on {latest.date}", word_diff(approved, recipient_view(Context(email, site)))


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _groups(campaigns: list[Campaign], emails: dict[str, RenderedEmail]) -> list[Group]:
    """Drip steps in order with their delays, monthly emails by month, then anything no campaign sends."""
    groups, used = [], set()
    for campaign in campaigns:
        if isinstance(campaign, Drip):
            entries = [(f"Step {n} · day {step.delay_days}", step.content) for n, step in enumerate(campaign.steps, 1) if step.content in emails]
        elif isinstance(campaign, Monthly):
            months = sorted(e.id[len(campaign.content) + 1:] for e in emails.values() if re.fullmatch(rf"{campaign.content}-\d{{4}}-\d{{2}}", e.id))
            entries = [(month, campaign.content_id(month)) for month in months]
        else:
            continue
        used |= {email_id for _, email_id in entries}
        groups.append(Group(f"{campaign.name} ({campaign.audience})", entries))
    rest = [(e.kind, e.id) for e in emails.values() if e.id not in used]
    if rest:
        groups.append(Group("Not in a campaign", rest))
    return groups
