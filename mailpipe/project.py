"""A mailpipe project folder and the first stages run over it: config, content, render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.errors import InputError

if TYPE_CHECKING:  # the stages load when a command renders, not when the CLI starts
    from mailpipe.load.config import SiteConfig
    from mailpipe.load.content import ContentSet
    from mailpipe.render import RenderedEmail


@dataclass(frozen=True)
class Project:
    root: Path

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


@dataclass(frozen=True)
class Rendered:
    site: SiteConfig
    content: ContentSet
    emails: list[RenderedEmail]


def render_project(project: Project) -> Rendered:
    """Load config and content (reporting the problems of both at once), then render every email."""
    from mailpipe.load.config import load_config
    from mailpipe.load.content import load_content
    from mailpipe.render import Renderer

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
    return Rendered(site, content, Renderer(site, project.templates_dir).render_all(content))
