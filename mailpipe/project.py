"""A mailpipe project folder and the first stages run over it: config, content, render."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailpipe.config import SiteConfig, load_config
from mailpipe.content import ContentSet, load_content
from mailpipe.errors import InputError
from mailpipe.render import RenderedEmail, Renderer


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


@dataclass(frozen=True)
class Rendered:
    site: SiteConfig
    content: ContentSet
    emails: list[RenderedEmail]


def render_project(project: Project) -> Rendered:
    """Load config and content (reporting the problems of both at once), then render every email."""
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
