"""`mailpipe check`: the rules every email must pass; and `mailpipe lint-mjml`, the MJML checker on any file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailpipe.checks import Finding, Rule, Severity
from mailpipe.checks.report import EmailReport
from mailpipe.errors import MailpipeError
from mailpipe.project import Project
from mailpipe.render.mjml_check import MjmlProblem


def check(
    project: Project, email_ids: tuple[str, ...] = (), online: bool = False, notes: bool = False
) -> list[EmailReport]:
    """Each email's findings and client scores (all emails, or those named; an unknown name is an error); the notes
    (what nobody can act on) only when asked for."""
    from mailpipe.checks.report import check_emails

    rendered = project.rendered()
    known = {e.id for e in rendered.emails}
    unknown = [c for c in email_ids if c not in known]
    if unknown:
        raise MailpipeError(f"no email has id {', '.join(unknown)}; expected one of: {', '.join(sorted(known))}")
    chosen = [e for e in rendered.emails if not email_ids or e.id in email_ids]
    return check_emails(chosen, rendered.site, online, notes)


def shared_findings(reports: list[EmailReport]) -> dict[tuple[str, Severity, str], tuple[Finding, int]]:
    """The findings that two or more emails share word for word (their layout's, or a partial's): one problem, said
    once with the number of emails it is in."""
    seen: dict[tuple[str, Severity, str], tuple[Finding, int]] = {}
    for report in reports:
        for finding in {(f.rule, f.severity, f.message): f for f in report.findings}.values():
            key = (finding.rule, finding.severity, finding.message)
            seen[key] = (finding, seen[key][1] + 1 if key in seen else 1)
    return {key: value for key, value in seen.items() if value[1] > 1}


@dataclass(frozen=True)
class RuleFired:
    severity: Severity
    rule: str
    emails: int  # how many emails it fired in
    findings: int  # how many times in all


def rules_fired(reports: list[EmailReport]) -> list[RuleFired]:
    """Each rule that fired, at each severity, errors first: a large project's summary."""
    emails: dict[tuple[Severity, str], set[str]] = {}
    findings: dict[tuple[Severity, str], int] = {}
    for report in reports:
        for finding in report.findings:
            key = (finding.severity, finding.rule)
            emails.setdefault(key, set()).add(report.id)
            findings[key] = findings.get(key, 0) + 1
    order = sorted(emails, key=lambda key: (key[0] != Severity.ERROR, key[1]))
    return [
        RuleFired(severity, rule, len(emails[severity, rule]), findings[severity, rule]) for severity, rule in order
    ]


def rules() -> list[Rule]:
    """Every rule, by family and id."""
    from mailpipe.checks import all_rules

    return sorted(all_rules(), key=lambda r: (r.family, r.id))


def lint_mjml(files: tuple[Path, ...]) -> dict[str, list[MjmlProblem]]:
    """Each file checked (its mj-include read relative to it) -> its problems, and each included file's, each once
    (two files may include the same part)."""
    from mailpipe.render.mjml_check import check_file

    results: dict[str, dict[MjmlProblem, None]] = {}
    for file in files:
        for name, problems in check_file(file).items():
            results.setdefault(name, {}).update(dict.fromkeys(problems))
    return {name: list(found) for name, found in results.items()}
