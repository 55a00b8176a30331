"""The live preview's model: the project's emails, kept rendered and checked as files change.

A change re-reads only what it touched (a content file is parsed again only when it changed) and re-renders only
what it affects: a content file its own emails, a template or the config everything, a campaign file only the
grouping. The pages are served at once: an email is rendered when it is first asked for, and a background
thread renders and checks the rest for the index. A broken file does not kill anything: its error (file, line,
message) is kept for the pages to show, and the next good save clears it.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.checks import Context, Finding, run_checks
from mailpipe.errors import InputError, MailpipeError
from mailpipe.load.campaigns import Campaign, Drip, Monthly, load_campaigns, tracking_codes
from mailpipe.load.config import CONFIG_FILE, SiteConfig, load_config
from mailpipe.load.content import ContentCache, load_content
from mailpipe.project import Project
from mailpipe.render import EmailSource, RenderedEmail, Renderer, email_sources
from mailpipe.report import Report
from mailpipe.review import APPROVALS_FILE, Change, Reviews, ReviewState, recipient_view, word_diff

if TYPE_CHECKING:
    from mailpipe.push.target import Target


@dataclass(frozen=True)
class Group:
    title: str
    entries: list[tuple[str, str]]  # (label, email id)


# A reload that leaves at most this many emails to render (about a second's work) renders them before the pages
# reload; more (the start, or a template changed, in a large project) are left to the background thread and to the
# pages that ask for them.
RENDER_AT_ONCE = 50
PUBLISH_EVERY = 0.5  # seconds between the background thread's snapshots while it works through a large project


@dataclass
class Snapshot:
    """What the pages show: a version that changes on every reload, every email the content makes (`sources`), those
    rendered and checked so far, and any error."""

    version: int = 0
    site: SiteConfig | None = None
    sources: dict[str, EmailSource] = field(default_factory=dict)
    emails: dict[str, RenderedEmail] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sign_offs: dict[str, ReviewState] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        """Emails not rendered and checked yet."""
        return len(self.sources) - len(self.emails)


class PreviewModel:
    def __init__(self, project: Project, background: bool = True, sandbox: bool = False):
        self.project = project
        self.sandbox = sandbox  # the Reports tab reads the embedded sandbox (else the account the environment names)
        self.snapshot = Snapshot()
        self._lock = threading.Lock()
        self._reloading = threading.Lock()  # the watcher and a page request (new sign-offs) may both reload
        self._rendering = threading.Lock()  # one render at a time: the reload, a page, the background thread
        self._changed = threading.Condition(self._lock)
        self._site: SiteConfig | None = None
        self._files = ContentCache()
        self._renderer: Renderer | None = None
        self._campaigns: list[Campaign] = []
        self._generation = 0  # moves on every reload: a render begun before it is thrown away
        approvals = project.reviews_dir / APPROVALS_FILE
        self._approvals_stamp = approvals.stat().st_mtime_ns if approvals.exists() else None
        self._work = threading.Event()
        self.reload(None)
        if background:
            threading.Thread(target=self._render_the_rest, daemon=True, name="preview-render").start()

    def current(self) -> Snapshot:
        """The snapshot, first taking in sign-offs given since (`mailpipe review` in another terminal may have made
        reviews/ after the watcher started)."""
        approvals = self.project.reviews_dir / APPROVALS_FILE
        stamp = approvals.stat().st_mtime_ns if approvals.exists() else None
        if stamp != self._approvals_stamp:
            self._approvals_stamp = stamp
            self.reload({approvals})
        return self.snapshot

    def email(self, email_id: str) -> RenderedEmail | None:
        """An email of the current content, rendered and checked now if it was not yet; None if there is no such
        email."""
        snapshot = self.snapshot
        if email_id in snapshot.emails or email_id not in snapshot.sources:
            return snapshot.emails.get(email_id)
        self._render_into_snapshot([email_id])
        return self.snapshot.emails.get(email_id)

    def report(self) -> tuple[Report, str]:
        """The results report, read now from the account (or the embedded sandbox) with GETs only; and which one."""
        from mailpipe.commands.report import report_of

        site = self._site
        if site is None:
            raise MailpipeError("the config has a problem; fix it to see reports")
        targets: list[Target] = []
        made = report_of(self.project.root, site, self._campaigns, on_target=targets.append, sandbox=self.sandbox)
        return made, targets[0].description

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the version differs from `seen` (or timeout); returns the current version."""
        with self._changed:
            self._changed.wait_for(lambda: self.snapshot.version != seen, timeout=timeout)
            return self.snapshot.version

    def reload(self, changed: set[Path] | None) -> None:
        """Re-read and re-render what `changed` affects (None: everything) and publish a new snapshot."""
        with self._reloading:
            self._reload(changed)
        self._work.set()

    def _reload(self, changed: set[Path] | None) -> None:
        change = _Change.of(changed, self.project.root.resolve(), first=self._renderer is None)
        previous = self.snapshot
        draft = _Draft.of(previous)
        errors: list[str] = []
        try:
            self._read(change, draft)
        except InputError as err:
            errors = [str(p) for p in err.problems]
        except MailpipeError as err:
            errors = [str(err)]
        with self._changed:
            self._generation += 1
            kept = _Draft.of(previous) if errors else draft  # a broken file: the last good version stays shown
            self.snapshot = Snapshot(
                previous.version + 1,
                self._site or previous.site,
                kept.sources,
                kept.emails,
                kept.findings,
                _groups(self._campaigns, kept.sources),
                errors,
                kept.sign_offs,
            )
            self._changed.notify_all()

    def _read(self, change: _Change, draft: _Draft) -> None:
        """Re-read what the change touched into `draft`: the config and templates (then everything), the content, the
        campaigns (whose codes the links carry: an email whose code moved is rendered again), the sign-offs; the
        emails that changed are rendered now when there are few (up to RENDER_AT_ONCE)."""
        if change.everything:
            self._site = load_config(self.project.root)
        site = self._site
        assert site is not None  # read above on the first reload
        if change.content:
            self._files.forget(change.paths)
            draft.sources = {s.id: s for s in email_sources(load_content(self.project.content_dir, self._files))}
        stale: set[str] = set()
        if change.campaigns:
            ids = set(draft.sources)
            self._campaigns = load_campaigns(self.project.campaigns_dir, site, ids)
            codes = tracking_codes(self._campaigns, ids)
            before = {} if change.everything or self._renderer is None else self._renderer.tracking
            if before != codes:
                self._renderer = Renderer(site, self.project.templates_dir, codes)
                stale = {i for i in ids if before.get(i) != codes[i]}
        renderer = self._renderer
        assert renderer is not None  # made above on the first reload
        if change.content or stale:
            self._render_stale(change, draft, site, renderer, stale)
        reviews = Reviews(self.project.reviews_dir)
        keep = not change.reviews
        draft.sign_offs = {
            k: draft.sign_offs[k] if keep and k in draft.sign_offs else reviews.state(e, site)
            for k, e in draft.emails.items()
        }

    def _render_stale(
        self, change: _Change, draft: _Draft, site: SiteConfig, renderer: Renderer, stale: set[str]
    ) -> None:
        """Drop each email the change made stale (its content, or its campaign code, changed) and render and check
        them at once when there are few."""
        stale = stale | {i for i, s in draft.sources.items() if change.everything or draft.is_stale(i, s, change.paths)}
        draft.drop(set(draft.emails) - set(draft.sources) | stale)
        if len(stale) <= RENDER_AT_ONCE:
            with self._rendering:
                for email_id in sorted(stale):
                    draft.emails[email_id] = renderer.render(draft.sources[email_id])
                    draft.findings[email_id] = run_checks(draft.emails[email_id], site)

    def _render_into_snapshot(self, email_ids: list[str]) -> bool:
        """Render and check these emails of the current snapshot and publish them (the version stays: nothing the
        reader wrote changed). False when a reload came in between, and the work was thrown away."""
        with self._rendering:
            with self._lock:
                generation, snapshot, site, renderer = self._generation, self.snapshot, self._site, self._renderer
            if site is None or renderer is None:
                return False
            made: dict[str, tuple[RenderedEmail, list[Finding], ReviewState]] = {}
            reviews = Reviews(self.project.reviews_dir)
            for email_id in email_ids:
                if email_id in snapshot.sources and email_id not in snapshot.emails:
                    try:
                        email = renderer.render(snapshot.sources[email_id])
                    except MailpipeError as err:
                        with self._changed:
                            if generation == self._generation:
                                self.snapshot = dataclasses.replace(
                                    self.snapshot, errors=[*self.snapshot.errors, str(err)]
                                )
                        return False
                    made[email_id] = (email, run_checks(email, site), reviews.state(email, site))
            with self._changed:
                if generation != self._generation:
                    return False
                current = self.snapshot
                self.snapshot = dataclasses.replace(
                    current,
                    emails={**current.emails, **{k: v[0] for k, v in made.items()}},
                    findings={**current.findings, **{k: v[1] for k, v in made.items()}},
                    sign_offs={**current.sign_offs, **{k: v[2] for k, v in made.items()}},
                )
            return True

    def _render_the_rest(self) -> None:
        """Render and check, in the index's order, every email no page has asked for yet; publish a snapshot every
        PUBLISH_EVERY seconds, and a new version once all are done (an open index then shows every email's checks)."""
        while True:
            self._work.wait()
            self._work.clear()
            while True:
                snapshot = self.snapshot
                order = [email_id for group in snapshot.groups for _, email_id in group.entries]
                todo = [i for i in dict.fromkeys(order + sorted(snapshot.sources)) if i not in snapshot.emails]
                if not todo or snapshot.errors:
                    break
                batch, started = [], time.monotonic()
                while todo and time.monotonic() - started < PUBLISH_EVERY:
                    batch.append(todo.pop(0))
                    if not self._render_into_snapshot(batch[-1:]):
                        break
                if not todo and self.snapshot.pending == 0:
                    with self._changed:
                        if self.snapshot.version == snapshot.version:
                            self.snapshot = dataclasses.replace(self.snapshot, version=self.snapshot.version + 1)
                            self._changed.notify_all()


@dataclass(frozen=True)
class SinceApproval:
    """An email's latest approval (who, when), what a recipient sees changed since, word by word, and the check
    warnings the reviewer accepted with it."""

    who: str
    changes: list[Change]
    accepted: list[str]  # 'RULE: what'


def changes_since_approval(model: PreviewModel, email: RenderedEmail) -> SinceApproval | None:
    """None if never approved (or the approved view is gone)."""
    site = model.snapshot.site
    reviews = Reviews(model.project.reviews_dir)
    latest = reviews.latest(email.id)
    if site is None or latest is None:
        return None
    approved = reviews.approved_view(latest)
    if approved is None:
        return None
    changes = word_diff(approved, recipient_view(Context(email, site)))
    who = f"{latest.role} approval by {latest.reviewer} on {latest.date}"
    return SinceApproval(who, changes, reviews.accepted_warnings(latest))


@dataclass(frozen=True)
class _Change:
    """What a set of saved files touches: the config or a template touch everything, a content file its emails (and
    the grouping), a campaign file the grouping, reviews/ the sign-offs."""

    paths: set[Path]
    everything: bool
    content: bool
    campaigns: bool
    reviews: bool

    @classmethod
    def of(cls, changed: set[Path] | None, root: Path, first: bool) -> _Change:
        paths = {p.resolve() for p in changed or ()}
        everything = (
            changed is None or first or any(p.name == CONFIG_FILE or _under(p, root / "templates") for p in paths)
        )
        content = everything or any(_under(p, root / "content") for p in paths)
        campaigns = content or any(_under(p, root / "campaigns") for p in paths)
        return cls(paths, everything, content, campaigns, everything or any(_under(p, root / "reviews") for p in paths))


@dataclass
class _Draft:
    """The next snapshot's emails while a reload builds it: copies of the last snapshot's, changed in place."""

    sources: dict[str, EmailSource]
    emails: dict[str, RenderedEmail]
    findings: dict[str, list[Finding]]
    sign_offs: dict[str, ReviewState]

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Draft:
        return cls(dict(snapshot.sources), dict(snapshot.emails), dict(snapshot.findings), dict(snapshot.sign_offs))

    def is_stale(self, email_id: str, source: EmailSource, paths: set[Path]) -> bool:
        """Not rendered yet, made from other content, or from a file saved now (even unchanged in appearance)."""
        email = self.emails.get(email_id)
        return email is None or email.source != source or any(p.resolve() in paths for p in source.sources)

    def drop(self, email_ids: set[str]) -> None:
        for email_id in email_ids:
            self.emails.pop(email_id, None)
            self.findings.pop(email_id, None)
            self.sign_offs.pop(email_id, None)


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _groups(campaigns: list[Campaign], emails: dict[str, EmailSource]) -> list[Group]:
    """Drip steps in order with their delays, monthly emails by month, then anything no campaign sends."""
    groups, used = [], set()
    for campaign in campaigns:
        if isinstance(campaign, Drip):
            entries = [
                (f"Step {n} · day {step.delay_days}", step.content)
                for n, step in enumerate(campaign.steps, 1)
                if step.content in emails
            ]
        elif isinstance(campaign, Monthly):
            months = sorted(
                e.id[len(campaign.content) + 1 :]
                for e in emails.values()
                if re.fullmatch(rf"{campaign.content}-\d{{4}}-\d{{2}}", e.id)
            )
            entries = [(month, campaign.content_id(month)) for month in months]
        else:
            continue
        used |= {email_id for _, email_id in entries}
        groups.append(Group(f"{campaign.name} ({campaign.audience})", entries))
    rest = [(e.kind, e.id) for e in emails.values() if e.id not in used]
    if rest:
        groups.append(Group("Not in a campaign", rest))
    return groups
