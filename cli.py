"""mailpipe's command line: a thin click layer over the `mailpipe` package."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailpipe.errors import InputError, MailpipeError
from mailpipe.project import Project, render_project

if TYPE_CHECKING:  # rich and every stage are imported by the commands that use them: `--help` stays fast
    from rich.console import Console
    from rich.table import Table


class _FailsCleanly(click.Group):
    """One error boundary for every command and subcommand: mailpipe's own errors are plain messages on stderr,
    exit code 1, no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as err:
            err_console = _console(stderr=True)
            count = len(err.problems)
            err_console.print(f"[bold red]{count} problem{'s' if count != 1 else ''} found; nothing was written:[/]")
            for problem in err.problems:
                err_console.print(f"  {problem}", markup=False)
            sys.exit(1)
        except MailpipeError as err:
            _console(stderr=True).print(f"error: {err}", markup=False)
            sys.exit(1)


def _console(stderr: bool = False) -> Console:
    """Rich output at the terminal's width, or a wide fixed width when piped (logs, cron mail)."""
    from rich.console import Console

    if stderr:
        return Console(stderr=True, highlight=False, soft_wrap=True)
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _table(title: str, **options) -> Table:
    import rich.table

    return rich.table.Table(title=title, **options)


@click.group(cls=_FailsCleanly)
@click.option(
    "--project",
    "-C",
    "root",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The mailpipe project folder.",
)
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """Render, check, plan and push AIVI Aesthetics' emails."""
    ctx.obj = Project(root)


# Up to this many emails, build and check print a row (or a table) per email; above it, a summary, unless --verbose.
SUMMARY_ABOVE = 20


@main.command()
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: build/]."
)
@click.option("--verbose", "-v", is_flag=True, help=f"A row per email even for more than {SUMMARY_ABOVE} emails.")
@click.pass_obj
def build(project: Project, out_dir: Path | None, verbose: bool) -> None:
    """Render every email to NAME.html, NAME.txt and manifest.json."""
    from mailpipe.checks import ERROR, run_checks
    from mailpipe.render.build import write_build

    rendered = render_project(project)
    result = write_build(rendered.emails, out_dir or project.build_dir)
    findings = {e.id: run_checks(e, rendered.site) for e in rendered.emails}
    errors = {e.id: sum(1 for f in findings[e.id] if f.severity == ERROR) for e in rendered.emails}
    console = _console()
    if len(rendered.emails) > SUMMARY_ABOVE and not verbose:
        written = sum(1 for e in rendered.emails if result.changed(e))
        failing = [e.id for e in rendered.emails if errors[e.id]]
        warned = sum(1 for e in rendered.emails if findings[e.id] and not errors[e.id])
        console.print(
            f"{len(rendered.emails)} emails in {result.out_dir}: {written} written, "
            f"{len(rendered.emails) - written} unchanged; "
            f"{len(failing)} with errors, {warned} with warnings only (`mailpipe check` says which; --verbose for "
            "every email)",
            markup=False,
        )
        if failing:
            console.print(f"with errors: {', '.join(failing)}", markup=False)
    else:
        table = _table(f"{len(rendered.emails)} emails in {result.out_dir}")
        table.add_column("email", no_wrap=True)
        table.add_column("kind")
        table.add_column("subject", no_wrap=True, overflow="ellipsis", max_width=60)
        table.add_column("HTML", justify="right", no_wrap=True)
        table.add_column("text", justify="right", no_wrap=True)
        table.add_column("files")
        table.add_column("errors", justify="right")
        table.add_column("warnings", justify="right")
        for email in rendered.emails:
            table.add_row(
                email.id,
                email.kind,
                email.subject,
                f"{email.html_bytes / 1024:.1f} KB",
                f"{email.text_bytes / 1024:.1f} KB",
                "written" if result.changed(email) else "unchanged",
                f"[red]{errors[email.id]}[/]" if errors[email.id] else "0",
                str(len(findings[email.id]) - errors[email.id]),
            )
        console.print(table)
    if result.removed:
        console.print(f"removed stale files: {', '.join(sorted(result.removed))}")


# -- campaigns: plan, push, test emails, leads -----------------------------------------------------
def _campaigns(project: Project, rendered):
    from mailpipe.load.campaigns import load_campaigns

    return load_campaigns(project.campaigns_dir, rendered.site, {e.id for e in rendered.emails})


def _local_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-05-01") from None


@main.command()
@click.option("--from", "start", help="First day (local date) [default: today].")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 400), help="How many days.")
@click.option("--json", "as_json", is_flag=True, help="Print the calendar as JSON.")
@click.pass_obj
def plan(project: Project, start: str | None, days: int, as_json: bool) -> None:
    """The calendar of what will be sent when, to whom (offline: asks Mailchimp nothing)."""
    import json

    from mailpipe.plan import plan as make_plan
    from mailpipe.review import Reviews, review_states
    from mailpipe.util import clock

    rendered = render_project(project)
    campaigns = _campaigns(project, rendered)
    first = _local_date(start) or clock.local_today(rendered.site.timezone)
    sends = make_plan(campaigns, rendered.content, {e.id for e in rendered.emails}, first, days)
    sign_offs = review_states(rendered.emails, rendered.site, Reviews(project.reviews_dir))
    gaps = [s for s in sends if s.problem]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {**s.as_json(), "review": sign_offs[s.email_id].summary if s.email_id in sign_offs else None}
                    for s in sends
                ],
                indent=2,
            )
        )
    else:
        _print_plan(sends, sign_offs)
    if gaps:
        for gap in gaps:
            click.echo(f"missing: {gap.problem}", err=True)
        sys.exit(1)


def _print_plan(sends, sign_offs) -> None:
    table = _table(f"{len(sends)} planned sends")
    for column in ("local time", "UTC", "audience", "email", "who", "sign-off"):
        table.add_column(column, no_wrap=column not in ("who", "sign-off"))
    for send in sends:
        state = sign_offs.get(send.email_id)
        if send.problem:
            table.add_row(
                f"{send.local_time:%a %Y-%m-%d %H:%M %Z}",
                f"{send.utc_time:%Y-%m-%d %H:%M}",
                send.audience,
                f"[red]{send.email_id}[/]",
                f"[red]{send.problem}[/]",
                "",
            )
            continue
        table.add_row(
            f"{send.local_time:%a %Y-%m-%d %H:%M %Z}",
            f"{send.utc_time:%Y-%m-%d %H:%M}",
            send.audience,
            send.email_id,
            send.segment,
            f"[green]{state.summary}[/]" if state and state.approved else f"[red]{state.summary if state else ''}[/]",
        )
    _console().print(table)


def _print_outcomes(result, title: str, site, verbose: bool) -> None:
    """Push's report: each campaign with its time (local and UTC), subject and how many people (who, with --verbose)."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(site.timezone)
    table = _table(title)
    for column in ("campaign", "action", "local time", "UTC", "subject", "people", "detail"):
        table.add_column(column, no_wrap=column not in ("detail", "subject"))
    for outcome in result.outcomes:
        plan = outcome.plan
        people = ""
        if plan is not None:
            people = str(len(plan.recipients)) if plan.recipients else f"tag {plan.tag}" if plan.tag else "everyone"
        detail = outcome.detail + (
            f"\n{', '.join(plan.recipients)}" if verbose and plan is not None and plan.recipients else ""
        )
        action = f"[red]{outcome.action}[/]" if outcome.attention else outcome.action
        table.add_row(
            outcome.key.title if outcome.key else "",
            action,
            f"{plan.send_at.astimezone(zone):%a %Y-%m-%d %H:%M %Z}" if plan else "",
            f"{plan.send_at:%Y-%m-%d %H:%M}" if plan else "",
            plan.email.subject if plan else "",
            people,
            detail,
        )
    _console().print(table)


@main.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; send Mailchimp nothing but GETs, write nothing.")
@click.option(
    "--now",
    "now_text",
    help="Act as if it were this time (UTC unless an offset is given) [default: now; the embedded sandbox's clock].",
)
@click.option("--verbose", "-v", is_flag=True, help="Also list who each campaign goes to.")
@click.pass_obj
def push(project: Project, dry_run: bool, now_text: str | None, verbose: bool) -> None:
    """Converge Mailchimp (or the sandbox, when MAILCHIMP_API_KEY is not set) to the campaigns due now."""
    from mailpipe.push import push as run_push
    from mailpipe.push import refusals
    from mailpipe.push.target import connect
    from mailpipe.review import Reviews, review_states

    rendered = render_project(project)
    campaigns = _campaigns(project, rendered)
    sign_offs = review_states(rendered.emails, rendered.site, Reviews(project.reviews_dir))
    with connect(project.root, rendered.site, read_only=dry_run) as target:
        click.echo(f"{'dry run against' if dry_run else 'push to'} {target.description}")
        if not target.is_test:
            from mailpipe.doctor import confirm_placeholders

            marked = confirm_placeholders(project.root)
            if marked:
                raise MailpipeError(
                    "not pushing to a real account while mailpipe.yaml has values marked CONFIRM "
                    f"({'; '.join(marked)}); "
                    "check them, delete the CONFIRM comments, and run `mailpipe doctor`"
                )
        # a real account gets only signed-off emails; a test target warns (below), so drafts can be tried end to end
        refused = refusals(
            rendered.emails,
            rendered.site,
            allow_examples=target.is_test,
            sign_offs=None if target.is_test else sign_offs,
        )
        state = target.open_state(read_only=dry_run)
        try:
            now = _utc_time(now_text) if now_text else target.now()
            result = run_push(
                target.mailchimp,
                state,
                rendered.site,
                campaigns,
                rendered.emails,
                rendered.content,
                refused,
                now,
                dry_run,
            )
        finally:
            state.close()
    _print_outcomes(
        result,
        f"{'dry run' if dry_run else 'push'} at {now:%Y-%m-%d %H:%M} UTC: {len(result.outcomes)} lines, "
        f"{result.api_calls} API calls",
        rendered.site,
        verbose,
    )
    unsigned = sorted(e for e in result.due_emails if not sign_offs[e].approved)
    for email_id in unsigned:
        click.echo(
            f"warning: {email_id} went to a test target unsigned ({sign_offs[email_id].summary}); "
            "a real account refuses it",
            err=True,
        )
    if result.needs_attention:
        click.echo("some campaigns need attention (in red above); the others went ahead", err=True)
        sys.exit(1)


@main.command()
@click.argument("content_ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="A stable machine-readable report.")
@click.option("--online", is_flag=True, help="Also request every link and image once.")
@click.option("--list-rules", is_flag=True, help="List every rule with its id, severity and why.")
@click.option(
    "--verbose", "-v", is_flag=True, help=f"Every finding of every email even for more than {SUMMARY_ABOVE} emails."
)
@click.pass_obj
def check(
    project: Project, content_ids: tuple[str, ...], as_json: bool, online: bool, list_rules: bool, verbose: bool
) -> None:
    """Render and check emails against the rules they must pass before they may be scheduled (exit 1 on errors)."""
    import json

    from mailpipe.checks import ERROR, all_rules
    from mailpipe.checks.report import check_emails, report_json

    if list_rules:
        table = _table("rules")
        for column in ("id", "severity", "family", "why"):
            table.add_column(column, no_wrap=column != "why")
        for current in sorted(all_rules(), key=lambda r: (r.family, r.id)):
            table.add_row(current.id, current.severity, current.family, current.why)
        _console().print(table)
        return
    rendered = render_project(project)
    known = {e.id for e in rendered.emails}
    unknown = [c for c in content_ids if c not in known]
    if unknown:
        raise MailpipeError(f"no email has id {', '.join(unknown)}; expected one of: {', '.join(sorted(known))}")
    emails = [e for e in rendered.emails if not content_ids or e.id in content_ids]
    reports = check_emails(emails, rendered.site, online)
    errors = sum(r.errors for r in reports)
    if as_json:
        click.echo(json.dumps(report_json(reports), indent=2, sort_keys=True))
    elif len(reports) > SUMMARY_ABOVE and not verbose:
        _print_check_summary(reports)
    else:
        console = _console()
        for report in reports:
            table = _table(f"{report.id}: {report.errors} errors, {report.warnings} warnings", title_justify="left")
            for column in ("severity", "rule", "what", "fix"):
                table.add_column(column, no_wrap=column in ("severity", "rule"))
            for finding in report.findings:
                colour = "red" if finding.severity == ERROR else "yellow"
                table.add_row(f"[{colour}]{finding.severity}[/]", finding.rule, finding.message, finding.fix)
            console.print(table)
    if not as_json:
        _console().print(f"{len(reports)} emails checked: {errors} errors, {sum(r.warnings for r in reports)} warnings")
    if errors:
        sys.exit(1)


def _print_check_summary(reports) -> None:
    """A large project's check: each rule that fired, in how many emails, and the emails with errors (they block
    push)."""
    from mailpipe.checks import ERROR

    emails: dict[tuple[str, str], set[str]] = {}  # (severity, rule) -> the emails it fired in
    findings: dict[tuple[str, str], int] = {}  # (severity, rule) -> how many times
    for report in reports:
        for finding in report.findings:
            key = (finding.severity, finding.rule)
            emails.setdefault(key, set()).add(report.id)
            findings[key] = findings.get(key, 0) + 1
    console = _console()
    table = _table(f"{len(reports)} emails: {sum(1 for r in reports if r.findings)} with findings")
    for column in ("severity", "rule", "emails", "findings"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("emails", "findings") else "left")
    for severity, rule_id in sorted(emails, key=lambda key: (key[0] != ERROR, key[1])):
        colour = "red" if severity == ERROR else "yellow"
        table.add_row(
            f"[{colour}]{severity}[/]", rule_id, str(len(emails[severity, rule_id])), str(findings[severity, rule_id])
        )
    console.print(table)
    for report in (r for r in reports if r.errors):
        rules = sorted({f.rule for f in report.findings if f.severity == ERROR})
        console.print(
            f"{report.id}: {report.errors} error{'s' if report.errors != 1 else ''} ({', '.join(rules)})", markup=False
        )
    console.print("`mailpipe check EMAIL…` or --verbose shows every finding with its fix", markup=False)


@main.command("lint-mjml")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="A machine-readable report: {files: [{path, problems}]}.")
def lint_mjml(files: tuple[Path, ...], as_json: bool) -> None:
    """Check MJML files against MJML's rules, as `mjml --validate` would (exit 1 on any problem).

    Each <mj-include> is read relative to the file that includes it; a problem in an included file is
    reported in that file."""
    import json

    from mailpipe.render.mjml_check import check_file

    results: dict[str, dict] = {}  # file -> its problems, each once (two files may include the same part)
    for file in files:
        for name, problems in check_file(file).items():
            results.setdefault(name, {}).update(dict.fromkeys(problems))
    count = sum(len(found) for found in results.values())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "files": [
                        {"path": name, "problems": [p.as_json() for p in found]} for name, found in results.items()
                    ]
                },
                indent=2,
            )
        )
    else:
        for name, found in results.items():
            for problem in found:
                click.echo(f"{name}:{problem.line}: {problem.kind}: {problem.message}")
        click.echo(
            f"{len(results)} file{'s' if len(results) != 1 else ''} checked: {count} problem{'s' if count != 1 else ''}"
        )
    if count:
        sys.exit(1)


# -- medical/legal sign-off -------------------------------------------------------------------------
@main.group()
def review() -> None:
    """Medical/legal sign-off: who approved which version of each email (reviews/ in the project)."""


def _email(rendered, email_id: str):
    email = next((e for e in rendered.emails if e.id == email_id), None)
    if email is None:
        raise MailpipeError(
            f"no email has id {email_id!r}; expected one of: {', '.join(e.id for e in rendered.emails)}"
        )
    return email


@review.command("status")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def review_status(project: Project, as_json: bool) -> None:
    """Each email's sign-offs: approved, changed since approval, or missing; and templates awaiting approved text."""
    import json

    from mailpipe.review import Reviews, review_states, templates_needing_approved_text

    rendered = render_project(project)
    states = review_states(rendered.emails, rendered.site, Reviews(project.reviews_dir))
    pending = [str(p.relative_to(project.root)) for p in templates_needing_approved_text(project.templates_dir)]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "emails": [
                        {
                            "email": s.email,
                            "approved": s.approved,
                            "roles": [
                                {
                                    "role": r.role,
                                    "state": r.state,
                                    "reviewer": r.approval.reviewer if r.approval else None,
                                    "date": r.approval.date.isoformat() if r.approval else None,
                                }
                                for r in s.roles
                            ],
                        }
                        for s in states.values()
                    ],
                    "needs_approved_text": pending,
                },
                indent=2,
            )
        )
        return
    table = _table(f"sign-offs: {sum(s.approved for s in states.values())} of {len(states)} emails approved")
    for column in ("email", "kind", "medical", "legal"):
        table.add_column(column, no_wrap=True)
    marks = {"approved": "[green]✓ {who}[/]", "changed": "[red]✗ changed since {who}[/]", "missing": "[red]✗ needed[/]"}
    for email in rendered.emails:
        cells = {
            r.role: marks[r.state].format(who=f"{r.approval.reviewer}, {r.approval.date}" if r.approval else "")
            for r in states[email.id].roles
        }
        table.add_row(email.id, email.kind, cells.get("medical", "–"), cells.get("legal", "–"))
    console = _console()
    console.print(table)
    for path in pending:
        console.print(
            f"[red]✗[/] {path}: the project's own wording; replace it with the manufacturer's current approved text, "
            "then delete its mailpipe:needs-approved-text line"
        )


@review.command("approve")
@click.argument("email_ids", nargs=-1, required=True)
@click.option("--role", required=True, type=click.Choice(["medical", "legal"]), help="The sign-off given.")
@click.option("--reviewer", required=True, help='Name and credentials, e.g. "Dana Lee, MD".')
@click.pass_obj
def review_approve(project: Project, email_ids: tuple[str, ...], role: str, reviewer: str) -> None:
    """Approve emails as they are now (refused for an email with check errors)."""
    from mailpipe.checks import ERROR, run_checks
    from mailpipe.review import Reviews
    from mailpipe.util import clock

    rendered = render_project(project)
    emails = [_email(rendered, email_id) for email_id in email_ids]
    failing = {e.id: sorted({f.rule for f in run_checks(e, rendered.site) if f.severity == ERROR}) for e in emails}
    failing = {k: v for k, v in failing.items() if v}
    if failing:
        raise MailpipeError(
            "not approved, check errors first: "
            + "; ".join(f"{k} ({', '.join(v)})" for k, v in failing.items())
            + " (see `mailpipe check`)"
        )
    reviews = Reviews(project.reviews_dir)
    today = clock.local_today(rendered.site.timezone)
    for email in emails:
        approval = reviews.approve(email, rendered.site, role, reviewer, today)
        if approval is None:
            existing = reviews.approvals[(email.id, role)]
            click.echo(
                f"{email.id}: this version already has its {role} approval ({existing.reviewer}, {existing.date}); "
                "nothing changed"
            )
        else:
            click.echo(
                f"{email.id}: {role} approval by {approval.reviewer} on {approval.date} (fingerprint "
                f"{approval.fingerprint})"
            )


@review.command("revoke")
@click.argument("email_id")
@click.option("--role", required=True, type=click.Choice(["medical", "legal"]), help="The sign-off withdrawn.")
@click.pass_obj
def review_revoke(project: Project, email_id: str, role: str) -> None:
    """Withdraw a sign-off: push to a real account refuses the email until it is approved again."""
    from mailpipe.review import Reviews

    approval = Reviews(project.reviews_dir).revoke(email_id, role)
    click.echo(f"{email_id}: {role} approval by {approval.reviewer} ({approval.date}) revoked")


@review.command("diff")
@click.argument("email_id")
@click.option(
    "--role", type=click.Choice(["medical", "legal"]), help="Compare with this role's approval [default: the latest]."
)
@click.pass_obj
def review_diff(project: Project, email_id: str, role: str | None) -> None:
    """What a recipient sees now against what was approved, word by word ([-removed-] {+added+})."""
    from mailpipe.checks import Context
    from mailpipe.review import Reviews, recipient_view, word_diff

    rendered = render_project(project)
    email = _email(rendered, email_id)
    reviews = Reviews(project.reviews_dir)
    approval = reviews.latest(email_id, role)
    if approval is None:
        raise MailpipeError(f"{email_id} has no {role + ' ' if role else ''}approval to compare with")
    approved = reviews.approved_view(approval)
    if approved is None:
        raise MailpipeError(
            f"the view approved by {approval.reviewer} is missing from {project.reviews_dir}/approved; restore it "
            "from git"
        )
    now = recipient_view(Context(email, rendered.site))
    console = _console()
    if approved == now:
        console.print(
            f"{email_id}: unchanged since the {approval.role} approval by {approval.reviewer} on {approval.date}",
            markup=False,
        )
        return
    console.print(
        f"{email_id}: changes since the {approval.role} approval by {approval.reviewer} on {approval.date}",
        markup=False,
    )
    styles = {"same": "{}", "removed": "[red strike][-{}-][/]", "added": "[green]{{+{}+}}[/]"}
    console.print(" ".join(styles[c.kind].format(escape_markup(c.words)) for c in word_diff(approved, now)))


@main.command("send-test")
@click.argument("content_id")
@click.option("--to", "to", multiple=True, required=True, help="A test recipient (repeat for more).")
@click.option("--plain-text", is_flag=True, help="Send the plain-text version.")
@click.pass_obj
def send_test(project: Project, content_id: str, to: tuple[str, ...], plain_text: bool) -> None:
    """Send a Mailchimp test email of one rendered email."""
    from mailpipe.push.proofs import audience_of
    from mailpipe.push.proofs import send_test as send_test_email
    from mailpipe.push.target import connect

    rendered = render_project(project)
    email = _email(rendered, content_id)
    list_id = audience_of(email, _campaigns(project, rendered), rendered.site)
    with connect(project.root, rendered.site) as target:
        click.echo(f"send-test through {target.description}")
        title = send_test_email(target.mailchimp, email, list_id, list(to), plain_text)
    click.echo(f"sent a test of {content_id} to {', '.join(to)} (campaign {title!r} in {target.endpoint})")


@main.group()
def leads() -> None:
    """Leads and patients in the audiences."""


@leads.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audience", required=True, help="A logical audience from mailpipe.yaml, e.g. new-consult.")
@click.option(
    "--start-now",
    is_flag=True,
    help="Start the audience's drips today for people not yet in them, whatever their joined date.",
)
@click.option("--json", "as_json", is_flag=True, help="Every row's outcome as JSON.")
@click.pass_obj
def leads_import(project: Project, file: Path, audience: str, start_now: bool, as_json: bool) -> None:
    """Upsert the people of a CSV (email, first_name, last_name, joined, consent) with the audience's tag.

    Each person enters the audience's drips at their `joined` time (empty: now); someone whose drip would be over
    by now gets none of it, unless --start-now. Names and drip starts Mailchimp already has are kept. Every row gets
    an outcome; the import exits 1 when any row was skipped or failed."""
    import json

    from rich.progress import Progress

    from mailpipe.load.campaigns import Drip
    from mailpipe.push.leads import import_leads, read_leads
    from mailpipe.push.target import connect

    rendered = render_project(project)
    site = rendered.site
    if audience not in site.audiences:
        raise MailpipeError(f"unknown audience {audience!r}; expected one of: {', '.join(sorted(site.audiences))}")
    drips = [c for c in _campaigns(project, rendered) if isinstance(c, Drip) and c.audience == audience]
    people, problems = read_leads(file, site.timezone)
    with connect(project.root, site) as target:
        click.echo(f"import into {target.description}", err=as_json)
        with Progress(console=_console(stderr=True), transient=True, disable=len(people) < 1000) as bar:
            task = bar.add_task(f"importing {len(people)} people", total=None)
            outcomes = import_leads(
                target.mailchimp,
                site.audiences[audience],
                people,
                target.now(),
                drips,
                start_now,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    rows = sorted(
        [(o.line, o.email, o.outcome, o.detail) for o in outcomes]
        + [(p.line, "", "skipped", f"{p.field}: {p.message}") for p in problems]
    )
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"line": line, "email": email, "outcome": outcome, "detail": detail}
                    for line, email, outcome, detail in rows
                ],
                indent=2,
            )
        )
    else:
        counts = {
            kind: sum(1 for row in rows if row[2] == kind)
            for kind in ("added", "updated", "unchanged", "skipped", "failed")
        }
        table = _table(f"{file.name} into {audience}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        for column in ("line", "email", "outcome", "detail"):
            table.add_column(column, no_wrap=column != "detail")
        shown = rows if len(rows) <= 50 else [r for r in rows if r[2] in ("skipped", "failed")]
        for line, email, outcome, detail in shown:
            colour = (
                "red" if outcome in ("skipped", "failed") else "green" if outcome in ("added", "updated") else "default"
            )
            table.add_row(f"{file.name}:{line}", email, f"[{colour}]{outcome}[/]", detail)
        _console().print(table)
        if len(shown) < len(rows):
            click.echo(
                f"({len(rows) - len(shown)} added, updated or unchanged rows not listed; --json lists every row)"
            )
    if any(row[2] in ("skipped", "failed") for row in rows):
        sys.exit(1)


@main.command()
@click.pass_obj
def demo(project: Project) -> None:
    """The main job, end to end on a fresh sandbox: plan, then a daily push over the demo weeks, then who got what."""
    from mailpipe.demo import run_demo
    from mailpipe.load.campaigns import Drip
    from mailpipe.plan import plan as make_plan

    rendered = render_project(project)
    site = rendered.site
    if site.demo is None:
        raise MailpipeError("mailpipe.yaml has no demo section (start, days, leads_csv, patients_csv)")
    campaigns = _campaigns(project, rendered)
    sends = make_plan(campaigns, rendered.content, {e.id for e in rendered.emails}, site.demo.start, site.demo.days)
    if any(s.problem for s in sends):
        raise MailpipeError("the demo weeks cannot be sent: " + "; ".join(s.problem for s in sends if s.problem))
    monthly = [s for s in sends if s.campaign in {c.name for c in campaigns if not isinstance(c, Drip)}]
    click.echo(
        f"plan: {len(sends)} drip send slots and {len(monthly)} monthly sends over {site.demo.days} days from "
        f"{site.demo.start}"
    )
    console = _console()

    def report(day: dt.date, outcomes) -> None:
        for outcome in outcomes:
            if outcome.key is not None and outcome.action not in ("created",):
                console.print(
                    f"{day}  {outcome.action:<11} {outcome.key.title}  {outcome.detail}", markup=False, highlight=False
                )

    result = run_demo(project, rendered, campaigns, report)
    for row in result.skipped_rows:
        console.print(f"skipped: {row}", markup=False)
    people = result.received_by_person()
    table = _table(
        f"who received what, {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d} "
        f"({len(result.deliveries)} deliveries, {result.api_calls} API calls)"
    )
    table.add_column("member", no_wrap=True)
    table.add_column("emails received (UTC day, email)")
    for email in sorted(people):
        table.add_row(email, ", ".join(people[email]))
    console.print(table)
    if result.report is not None:
        _print_report(result.report)


# -- authoring --------------------------------------------------------------------------------------
@main.group()
def new() -> None:
    """Start new content from what exists."""


@new.command("special")
@click.argument("month")
@click.pass_obj
def new_special(project: Project, month: str) -> None:
    """Write content/specials/MONTH.md from the latest special: dates, validity and month names moved, the offers kept
    as a starting point and marked TODO, so `check` fails until each is edited."""
    from mailpipe.author import new_special as write_special
    from mailpipe.checks import ERROR
    from mailpipe.checks.report import check_emails

    target, source = write_special(project.content_dir, month)
    try:
        rendered = render_project(project)
    except MailpipeError:
        target.unlink()
        raise
    emails = [e for e in rendered.emails if e.source.item.source == target]
    errors = sum(1 for r in check_emails(emails, rendered.site) for f in r.findings if f.severity == ERROR)
    click.echo(
        f"wrote {target.relative_to(project.root)} from {source.name}: dates and validity moved to {month}, offers "
        "kept."
    )
    click.echo(
        f"Edit every TODO (the introduction and each offer) and the subject if needed; `mailpipe check` shows {errors} "
        "error(s) until then."
    )


# -- going live -------------------------------------------------------------------------------------
@main.command()
@click.option("--today", help="Check the plan from this local date [default: today].")
@click.pass_obj
def doctor(project: Project, today: str | None) -> None:
    """The go-live checklist: each line ✓ or ✗ with how to fix it (exit 1 on any ✗)."""
    from mailpipe.doctor import account_checks, project_checks
    from mailpipe.push.target import connect
    from mailpipe.util import clock

    rendered = render_project(project)
    site = rendered.site
    start = _local_date(today) or clock.local_today(site.timezone)
    checks = project_checks(project.root, site, rendered.content, _campaigns(project, rendered), rendered.emails, start)
    with connect(project.root, site, read_only=True) as target:
        click.echo(f"doctor: {target.description}")
        checks += account_checks(target.mailchimp, site)
    console = _console()
    for check in checks:
        console.print(("[green]✓[/] " if check.ok else "[red]✗[/] ") + escape_markup(check.what), soft_wrap=True)
        if not check.ok:
            console.print(f"    fix: {escape_markup(check.fix)}", soft_wrap=True)
    failed = sum(not c.ok for c in checks)
    console.print(
        f"{len(checks) - failed} of {len(checks)} ready"
        + (f"; {failed} to fix before going live" if failed else ": ready to go live")
    )
    if failed:
        sys.exit(1)


@main.command()
@click.pass_obj
def audiences(project: Project) -> None:
    """The account's audiences: id, name, members and tags (the id goes in mailpipe.yaml)."""
    from mailpipe.load.config import load_config
    from mailpipe.push.target import connect

    site = load_config(project.root)
    with connect(project.root, site, read_only=True) as target:
        click.echo(f"audiences of {target.description}")
        table = _table("audiences")
        for column in ("id", "name", "members", "tags", "contact address"):
            table.add_column(column)
        for audience in target.mailchimp.audiences():
            table.add_row(
                audience.id,
                audience.name,
                str(audience.member_count),
                ", ".join(sorted(target.mailchimp.tags(audience.id))),
                ", ".join(audience.address),
            )
    _console().print(table)


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# -- results ----------------------------------------------------------------------------------------
def _print_report(report) -> None:
    from mailpipe.report import PRIVACY_NOTE

    console = _console()
    for section in report.sections:
        table = _table(f"{section.name} ({section.kind})", title_justify="left")
        for column in (
            "",
            "email",
            "campaigns",
            "sent",
            "delivered",
            "bounced",
            "clicked",
            "click %",
            "opened",
            "open %",
            "unsub.",
            "unsub. %",
        ):
            table.add_column(column, justify="left" if column in ("", "email") else "right", no_wrap=True)
        for row in section.rows:
            values = row.as_json()
            table.add_row(
                row.label,
                row.email,
                str(row.campaigns),
                str(row.recipients),
                str(row.delivered),
                str(row.bounces),
                str(row.unique_clicks),
                f"{values['click_rate']:.1%}",
                str(row.unique_opens),
                f"{values['open_rate']:.1%}",
                str(row.unsubscribes),
                f"{values['unsubscribe_rate']:.1%}",
            )
        console.print(table)
        if section.funnel:
            funnel = section.funnel
            steps = " → ".join(
                f"step {n}: {count}" for n, count in enumerate(funnel.reached, 1)
            )  # leads each step was sent to
            console.print(
                f"  funnel: {funnel.entered} leads entered → {steps}; left by unsubscribing: {funnel.unsubscribed}, "
                f"by an exit tag: {funnel.exited}",
                markup=False,
            )
    console.print(PRIVACY_NOTE, markup=False)


@main.command()
@click.option("--drip", "only_drip", help="Only this drip (its name or code).")
@click.option("--month", help="Only campaigns sent in this month (YYYY-MM, local time).")
@click.option("--from", "start", help="First day (local date) of sends counted.")
@click.option("--to", "end", help="Last day (local date) of sends counted.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="As CSV (one line per drip step and month).")
@click.pass_obj
def report(
    project: Project,
    only_drip: str | None,
    month: str | None,
    start: str | None,
    end: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Results per drip step (all its campaigns added up) and per monthly email, and the drip's funnel, from Mailchimp's
    reports."""
    import calendar
    import json

    from mailpipe.push.target import connect
    from mailpipe.report import build_report, read_results

    rendered = render_project(project)
    site = rendered.site
    first, last = _local_date(start), _local_date(end)
    if month:
        try:
            year, number = map(int, month.split("-"))
            first, last = dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])
        except ValueError:
            raise click.BadParameter(f"{month!r} is not a month like 2024-05", param_hint="--month") from None
    campaigns = _campaigns(project, rendered)
    if only_drip and only_drip not in {c.name for c in campaigns} | {c.code for c in campaigns}:
        raise MailpipeError(
            f"no campaign is named {only_drip!r}; expected one of: {', '.join(sorted(c.name for c in campaigns))}"
        )
    with connect(project.root, site, read_only=True) as target:
        if not (as_json or as_csv):
            click.echo(f"report from {target.description}")
        results = read_results(target.mailchimp, {a.list_id for a in site.audiences.values()})
    made = build_report(
        results,
        campaigns,
        {name: a.list_id for name, a in site.audiences.items()},
        site.timezone,
        first,
        last,
        only_drip,
    )
    if as_json:
        click.echo(json.dumps(made.as_json(), indent=2, sort_keys=True))
    elif as_csv:
        click.echo(made.as_csv(), nl=False)
    else:
        _print_report(made)


@main.command()
@click.option(
    "--port",
    default=8800,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free one).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.pass_obj
def preview(project: Project, port: int, no_browser: bool) -> None:
    """Preview every email in a browser, live while you edit (127.0.0.1 only)."""
    import contextlib
    import threading
    import webbrowser

    from mailpipe.preview import PreviewModel
    from mailpipe.preview.server import RunningPreview

    with RunningPreview(PreviewModel(project), port) as running:
        click.echo(f"preview at {running.url} (Ctrl-C stops it)")
        if not no_browser:
            webbrowser.open(running.url)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


# -- the sandbox ---------------------------------------------------------------------------------
DEFAULT_SANDBOX = Path("var") / "sandbox.sqlite3"


def _utc_time(value: str) -> dt.datetime:
    from mailpipe.util.vocabulary import parse_time

    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date and time like 2026-12-07T17:30:00+00:00") from None


@main.group()
def sandbox() -> None:
    """The embedded Mailchimp-compatible sandbox (used whenever MAILCHIMP_API_KEY is unset)."""


def _sandbox_db(project: Project, db: Path | None) -> Path:
    """--db, else mailchimp.sandbox_path of mailpipe.yaml, else var/sandbox.sqlite3."""
    if db:
        return db
    from mailpipe.load.config import load_config

    try:
        return project.root / load_config(project.root).mailchimp.sandbox_path
    except InputError:
        return project.root / DEFAULT_SANDBOX


@sandbox.command()
@click.option(
    "--port",
    default=8799,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Loopback port to listen on (0: any free one).",
)
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help=f"SQLite file [default: {DEFAULT_SANDBOX}]."
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of requests answered with an injected fault (0..1).",
)
@click.option(
    "--fault-seed", default=0, show_default=True, type=int, help="Seed that makes injected faults reproducible."
)
@click.option("--clock", "clock", help="Start a new sandbox's clock at this time (UTC unless an offset is given).")
@click.pass_obj
def serve(project: Project, port: int, db: Path | None, fault_rate: float, fault_seed: int, clock: str | None) -> None:
    """Serve the sandbox on 127.0.0.1 until interrupted, with the audiences of mailpipe.yaml."""
    from mailpipe.load.config import load_config
    from mailpipe.push.target import provision
    from mailpipe.sandbox.server import FaultPlan, SandboxServer
    from mailpipe.sandbox.store import Store

    faults = FaultPlan(rate=fault_rate, seed=fault_seed) if fault_rate else None
    site = load_config(project.root)
    store = Store(_sandbox_db(project, db))
    server = SandboxServer(store, port, faults)  # the port first: a port in use changes nothing
    if clock:
        store.set_clock(_utc_time(clock))
    provision(store, site)
    click.echo(f"sandbox listening on {server.url} (set MAILCHIMP_SERVER_URL to it); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@sandbox.command()
@click.option("--to", "to", required=True, help="Date and time to move the clock to (UTC unless an offset is given).")
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help=f"SQLite file [default: {DEFAULT_SANDBOX}]."
)
@click.pass_obj
def advance(project: Project, to: str, db: Path | None) -> None:
    """Move the sandbox clock forward, sending every scheduled campaign whose time has come."""
    from mailpipe.sandbox.errors import ApiError
    from mailpipe.sandbox.store import Store

    store = Store(_sandbox_db(project, db))
    try:
        sent = store.advance(_utc_time(to))
    except ApiError as err:
        raise MailpipeError(err.detail) from None
    finally:
        store.close()
    for send in sent:
        click.echo(f"{send['send_time']}  sent campaign {send['campaign_id']} to {send['emails_sent']} members")
    click.echo(f"clock at {_utc_time(to).astimezone(dt.UTC).isoformat()}; {len(sent)} campaign(s) sent")


@sandbox.command()
@click.option("--email", help="Only this member's deliveries.")
@click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help=f"SQLite file [default: {DEFAULT_SANDBOX}]."
)
@click.option("--json", "as_json", is_flag=True, help="As JSON, for scripts that count duplicates.")
@click.pass_obj
def deliveries(project: Project, email: str | None, db: Path | None, as_json: bool) -> None:
    """Who received which campaign (title, subject) when, as a real audience would have."""
    import json

    from mailpipe.sandbox.store import Store

    store = Store.read_only_copy(_sandbox_db(project, db))
    rows = store.deliveries(email)
    store.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = _table(f"{len(rows)} deliveries")
    for column in ("delivered (UTC)", "email", "campaign", "subject"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(row["delivered_at"], row["email"], row["title"], row["subject"])
    _console().print(table)


if __name__ == "__main__":
    main()
