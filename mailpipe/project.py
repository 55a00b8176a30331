"""A mailpipe project folder, and the first stages run over it once: config, content, render, campaigns, sign-offs.

Every command starts from one `Project` (pelican's `run()`, click's `ctx.obj`): what it loads is loaded once, the
first time a command asks for it, and problems in the config and the content are reported together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.errors import InputError, MailpipeError

if TYPE_CHECKING:  # the stages load when a command renders, not when the CLI starts
    from mailpipe.checks import Finding
    from mailpipe.load.campaigns import Campaign
    from mailpipe.load.config import SiteConfig
    from mailpipe.load.content import ContentSet
    from mailpipe.render import RenderedEmail
    from mailpipe.review import Reviews, ReviewState


@dataclass(frozen=True)
class Rendered:
    site: SiteConfig
    content: ContentSet
    campaigns: list[Campaign]  # loaded before rendering: an email's links carry its campaign's opaque code
    emails: list[RenderedEmail]


class Project:
    """The folder's parts by path, and what the stages make of them, each made once."""

    def __init__(self, root: Path):
        self.root = root
        self._site: SiteConfig | None = None
        self._rendered: Rendered | None = None

    def __repr__(self) -> str:
        return f"Project({self.root!r})"

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def campaigns_dir(self) -> Path:
        return self.root / "campaigns"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def reviews_dir(self) -> Path:
        return self.root / "reviews"

    @property
    def site(self) -> SiteConfig:
        """mailpipe.yaml (read alone by the commands that need no content: the sandbox's, audiences)."""
        if self._rendered is not None:
            return self._rendered.site
        if self._site is None:
            from mailpipe.load.config import load_config

            self._site = load_config(self.root)
        return self._site

    def rendered(self) -> Rendered:
        """Config and content (the problems of both reported at once), and every email rendered."""
        if self._rendered is None:
            self._rendered = _render(self)
        return self._rendered

    def load(self) -> Rendered:
        """Everything a command reads from the folder (config, content, emails, campaigns, sign-offs), so that a
        problem in any of them is reported before the command contacts or writes anything."""
        rendered = self.rendered()
        self.sign_offs  # noqa: B018 (read now, so a problem in it stops the command before it acts)
        return rendered

    @property
    def emails(self) -> list[RenderedEmail]:
        return self.rendered().emails

    def email(self, email_id: str) -> RenderedEmail:
        """One rendered email by its id; an unknown id is an error that lists the known ones."""
        found = next((e for e in self.emails if e.id == email_id), None)
        if found is None:
            known = ", ".join(e.id for e in self.emails)
            raise MailpipeError(f"no email has id {email_id!r}; expected one of: {known}")
        return found

    @property
    def campaigns(self) -> list[Campaign]:
        return self.rendered().campaigns

    @cached_property
    def findings(self) -> dict[str, list[Finding]]:
        """Each email's check findings (offline), checked once."""
        from mailpipe.checks import run_checks

        rendered = self.rendered()
        return {e.id: run_checks(e, rendered.site) for e in rendered.emails}

    @cached_property
    def reviews(self) -> Reviews:
        from mailpipe.review import Reviews

        return Reviews(self.reviews_dir)

    @cached_property
    def sign_offs(self) -> dict[str, ReviewState]:
        """Each email's sign-off state, against what a recipient of it sees now."""
        from mailpipe.review import review_states

        rendered = self.rendered()
        return review_states(rendered.emails, rendered.site, self.reviews)

    def today(self) -> dt.date:
        """Today in the clinic's time zone, from the wall clock (a command told a date does not ask)."""
        from mailpipe.util import clock

        return clock.local_today(self.site.timezone)


def _render(project: Project) -> Rendered:
    from mailpipe.load.campaigns import load_campaigns, tracking_codes
    from mailpipe.load.config import load_config
    from mailpipe.load.content import load_content
    from mailpipe.render import Renderer, email_sources

    problems = []
    site = content = None
    try:
        site = load_config(project.root)
    except InputError as err:
        problems += err.problems
    try:
        content = load_content(project.content_dir)
    except InputError as err:
        problems += err.problems
    if problems or site is None or content is None:
        raise InputError(problems)
    email_ids = {source.id for source in email_sources(content)}
    campaigns = load_campaigns(project.campaigns_dir, site, email_ids)
    renderer = Renderer(site, project.templates_dir, tracking_codes(campaigns, email_ids))
    return Rendered(site, content, campaigns, renderer.render_all(content))
