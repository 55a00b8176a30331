"""The check report of a set of emails: findings and client scores per email, the same for every caller."""

from __future__ import annotations

from dataclasses import dataclass

from mailpipe.checks import ERROR, NOTE, WARNING, Context, Finding, check_context
from mailpipe.checks.compat import client_scores
from mailpipe.load.config import SiteConfig
from mailpipe.render import RenderedEmail


@dataclass(frozen=True)
class EmailReport:
    id: str
    subject: str
    findings: list[Finding]  # errors first, then by rule
    client_scores: dict

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)

    @property
    def notes(self) -> int:
        return sum(1 for f in self.findings if f.severity == NOTE)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "subject": self.subject,
            "errors": self.errors,
            "warnings": self.warnings,
            "notes": self.notes,
            "client_scores": self.client_scores,
            "findings": [f.as_json() for f in self.findings],
        }


_ORDER = {ERROR: 0, WARNING: 1, NOTE: 2}


def check_emails(
    emails: list[RenderedEmail], site: SiteConfig, online: bool = False, notes: bool = False
) -> list[EmailReport]:
    """Each email parsed once, for both its findings and its client scores; notes (what nobody can act on) only when
    asked for."""
    reports = []
    for email in emails:
        context = Context(email, site, online)
        found = [f for f in check_context(context) if notes or f.severity != NOTE]
        findings = sorted(found, key=lambda f: (_ORDER[f.severity], f.rule, f.message))
        reports.append(EmailReport(email.id, email.subject, findings, client_scores(context)))
    return reports


def report_json(reports: list[EmailReport]) -> dict:
    """`check --json`: stable, machine-readable."""
    return {
        "errors": sum(r.errors for r in reports),
        "warnings": sum(r.warnings for r in reports),
        "notes": sum(r.notes for r in reports),
        "emails": [r.as_json() for r in reports],
    }
