"""`mailpipe build`: every email rendered into the build folder (HTML, plain text, manifest), with its check counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailpipe.project import Project
from mailpipe.render import RenderedEmail


@dataclass(frozen=True)
class BuiltEmail:
    email: RenderedEmail
    written: bool  # False: the files were already as rendered, and were left alone
    errors: int
    warnings: int


@dataclass(frozen=True)
class Built:
    out_dir: Path
    emails: list[BuiltEmail]
    removed: list[str]  # stale files of emails that are gone, sorted

    @property
    def written(self) -> int:
        return sum(e.written for e in self.emails)

    @property
    def failing(self) -> list[str]:
        """The emails with check errors (they block push)."""
        return [e.email.id for e in self.emails if e.errors]

    @property
    def warned(self) -> int:
        """Emails with warnings and no error."""
        return sum(1 for e in self.emails if e.warnings and not e.errors)


def build(project: Project, out_dir: Path | None = None) -> Built:
    from mailpipe.render.build import write_build

    rendered = project.rendered()
    result = write_build(rendered.emails, out_dir or project.build_dir)
    emails = []
    for email in rendered.emails:
        findings = project.findings[email.id]
        errors = sum(f.is_error for f in findings)
        emails.append(BuiltEmail(email, result.changed(email), errors, len(findings) - errors))
    return Built(result.out_dir, emails, sorted(result.removed))
