"""mailpipe's command line: options mapped to a use case (`mailpipe/commands/`), its result to a table, JSON or an
exit code. Nothing is decided here; mailpipe's own errors become one line on stderr and exit code 1."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mailpipe.errors import InputError, MailpipeError
from mailpipe.project import Project

if TYPE_CHECKING:  # rich and every stage are imported by the commands that use them: `--help` stays fast
    from collections.abc import Iterable

    from rich.console import Console
    from rich.table import Table

    from mailpipe.checks.report import EmailReport
    from mailpipe.commands.build import Built
    from mailpipe.commands.leads import Imported
    from mailpipe.commands.plan import Calendar as PlanCalendar
    from mailpipe.load.config import SiteConfig
    from mailpipe.plan import PlannedSend
    from mailpipe.push import PushResult
    from mailpipe.push.decide import CampaignPlan
    from mailpipe.push.target import Target
    from mailpipe.report import Report
    from mailpipe.review import ReviewState

# Up to this many emails, build and check print a row (or a table) per email; above it, a summary, unless --verbose.
SUMMARY_ABOVE = 20
# The commands that talk to Mailchimp act on the account MAILCHIMP_API_KEY names, or a sandbox served on this machine
# (MAILCHIMP_SERVER_URL alone); the embedded sandbox only when asked: never a quiet run that reaches nobody.
SANDBOX_FLAG = click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="Act on the embedded sandbox (mailchimp.sandbox_path): nothing reaches anyone. Without it, the account of "
    "MAILCHIMP_API_KEY, or the served sandbox at MAILCHIMP_SERVER_URL.",
)
ROLES = click.Choice(["medical", "legal"])


class _FailsCleanly(click.Group):
    """One error boundary for every command and subcommand: mailpipe's own errors are plain messages on stderr,
    exit code 1 (2 when the command was not told which account to act on), no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
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
            sys.exit(getattr(err, "exit_code", 1))


# The years a date or time given on the command line may fall in: a plan, push or report far outside them is a typo,
# and the calendar arithmetic after it (a year ahead, a day back) would run off the ends of Python's dates.
YEARS = (2000, 2099)


def _in_years(
    day: dt.date, value: str, kind: click.ParamType, param: click.Parameter | None, ctx: click.Context | None
) -> None:
    if not YEARS[0] <= day.year <= YEARS[1]:
        kind.fail(f"{value!r}: expected a date from {YEARS[0]} to {YEARS[1]}", param, ctx)


class _LocalDate(click.ParamType):
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2024-05-01", param, ctx)
        _in_years(day, value, self, param, ctx)
        return day


class _UtcTime(click.ParamType):
    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        from mailpipe.util.vocabulary import parse_time

        if isinstance(value, dt.datetime):
            return value
        try:
            moment = parse_time(value)
        except (ValueError, OverflowError):
            self.fail(f"{value!r} is not a date and time like 2026-12-07T17:30:00+00:00", param, ctx)
        _in_years(moment.date(), value, self, param, ctx)
        return moment


class _Month(click.ParamType):
    """YYYY-MM, as its first and last day."""

    name = "month"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[dt.date, dt.date]:
        import calendar

        try:
            year, number = map(int, value.split("-"))
            first = dt.date(year, number, 1)
        except ValueError:
            self.fail(f"{value!r} is not a month like 2024-05", param, ctx)
        _in_years(first, value, self, param, ctx)
        return first, dt.date(year, number, calendar.monthrange(year, number)[1])


LOCAL_DATE, UTC_TIME, MONTH = _LocalDate(), _UtcTime(), _Month()


def _console(stderr: bool = False) -> Console:
    """Rich output at the terminal's width, or a wide fixed width when piped (logs, cron mail)."""
    from rich.console import Console

    if stderr:
        return Console(stderr=True, highlight=False, soft_wrap=True)
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _table(title: str, columns: tuple[str, ...] = (), **options: Any) -> Table:
    import rich.table

    table = rich.table.Table(title=title, **options)
    for column in columns:
        table.add_column(column)
    return table


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _fail() -> NoReturn:
    """Exit 1 once the output has said why (a cron job mails it)."""
    sys.exit(1)


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


# -- build and check -----------------------------------------------------------------------------------------
@main.command()
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: build/]."
)
@click.option("--verbose", "-v", is_flag=True, help=f"A row per email even for more than {SUMMARY_ABOVE} emails.")
@click.pass_obj
def build(project: Project, out_dir: Path | None, verbose: bool) -> None:
    """Render every email to NAME.html, NAME.txt and manifest.json."""
    from mailpipe.commands.build import build as run_build

    built = run_build(project, out_dir)
    if len(built.emails) > SUMMARY_ABOVE and not verbose:
        _print_build_summary(built)
    else:
        _print_build_table(built)
    if built.removed:
        _console().print(f"removed stale files: {', '.join(built.removed)}")


def _print_build_summary(built: Built) -> None:
    console, count = _console(), len(built.emails)
    console.print(
        f"{count} emails in {built.out_dir}: {built.written} written, {count - built.written} unchanged; "
        f"{len(built.failing)} with errors, {built.warned} with warnings only (`mailpipe check` says which; "
        "--verbose for every email)",
        markup=False,
    )
    if built.failing:
        console.print(f"with errors: {', '.join(built.failing)}", markup=False)


def _print_build_table(built: Built) -> None:
    table = _table(f"{len(built.emails)} emails in {built.out_dir}")
    table.add_column("email", no_wrap=True)
    table.add_column("kind")
    table.add_column("subject", no_wrap=True, overflow="ellipsis", max_width=60)
    for column in ("HTML", "text"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("files")
    for column in ("errors", "warnings"):
        table.add_column(column, justify="right")
    for row in built.emails:
        email = row.email
        table.add_row(
            email.id,
            email.kind,
            email.subject,
            f"{email.html_bytes / 1024:.1f} KB",
            f"{email.text_bytes / 1024:.1f} KB",
            "written" if row.written else "unchanged",
            f"[red]{row.errors}[/]" if row.errors else "0",
            str(row.warnings),
        )
    _console().print(table)


@main.command()
@click.argument("content_ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="A stable machine-readable report.")
@click.option("--online", is_flag=True, help="Also request every link and image once.")
@click.option("--list-rules", is_flag=True, help="List every rule with its id, severity and why.")
@click.option(
    "--verbose", "-v", is_flag=True, help=f"Every finding of every email even for more than {SUMMARY_ABOVE} emails."
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also the notes: what nobody writing the emails can act on (MJML's own CSS, features with a fallback).",
)
@click.pass_obj
def check(
    project: Project,
    content_ids: tuple[str, ...],
    as_json: bool,
    online: bool,
    list_rules: bool,
    verbose: bool,
    show_all: bool,
) -> None:
    """Render and check emails against the rules they must pass before they may be scheduled (exit 1 on errors)."""
    import json

    from mailpipe.checks.report import report_json
    from mailpipe.commands.check import check as run_check

    if list_rules:
        return _print_rules()
    reports = run_check(project, content_ids, online, notes=show_all)
    if as_json:
        click.echo(json.dumps(report_json(reports), indent=2, sort_keys=True))
    else:
        _print_check(reports, summary=len(reports) > SUMMARY_ABOVE and not verbose)
    if any(r.errors for r in reports):
        _fail()


def _print_rules() -> None:
    from mailpipe.commands.check import rules

    table = _table("rules")
    for column in ("id", "severity", "family", "why"):
        table.add_column(column, no_wrap=column != "why")
    for current in rules():
        table.add_row(current.id, current.severity, current.family, current.why)
    _console().print(table)


def _print_check(reports: list[EmailReport], summary: bool) -> None:
    """Per email, what its author can fix; a finding several emails share (their layout's) once, with their count."""
    from mailpipe.commands.check import shared_findings

    console = _console()
    if summary:
        _print_check_summary(reports)
    shared = shared_findings(reports)
    for report in [] if summary else reports:
        own = [f for f in report.findings if (f.rule, f.severity, f.message) not in shared]
        title = f"{report.id}: {report.errors} errors, {report.warnings} warnings"
        if not own:
            console.print(title + (" (all shared, below)" if report.findings else ""), markup=False)
            continue
        console.print(_findings_table(title, ((f.severity, f.rule, f.message, f.fix) for f in own)))
    if shared and not summary:
        rows = ((f.severity, f.rule, f"{f.message} (in {n} emails)", f.fix) for f, n in shared.values())
        console.print(_findings_table(f"shared by several emails (their layout or a partial): {len(shared)}", rows))
    errors, warnings = sum(r.errors for r in reports), sum(r.warnings for r in reports)
    notes = sum(r.notes for r in reports)
    console.print(
        f"{len(reports)} emails checked: {errors} errors, {warnings} warnings" + (f", {notes} notes" if notes else "")
    )


def _findings_table(title: str, rows: Iterable[tuple[str, str, str, str]]) -> Table:
    table = _table(title, title_justify="left")
    for column in ("severity", "rule", "what", "fix"):
        table.add_column(column, no_wrap=column in ("severity", "rule"))
    for severity, rule_id, message, fix in rows:
        table.add_row(f"[{_SEVERITY_COLOUR[severity]}]{severity}[/]", rule_id, message, fix)
    return table


def _print_check_summary(reports: list[EmailReport]) -> None:
    """A large project's check: each rule that fired, in how many emails, and the emails with errors (they block
    push)."""
    from mailpipe.checks import error_rules
    from mailpipe.commands.check import rules_fired

    console = _console()
    table = _table(f"{len(reports)} emails: {sum(1 for r in reports if r.findings)} with findings")
    for column in ("severity", "rule", "emails", "findings"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("emails", "findings") else "left")
    for fired in rules_fired(reports):
        severity = f"[{_SEVERITY_COLOUR[fired.severity]}]{fired.severity}[/]"
        table.add_row(severity, fired.rule, str(fired.emails), str(fired.findings))
    console.print(table)
    for report in (r for r in reports if r.errors):
        rules = ", ".join(error_rules(report.findings))
        console.print(f"{report.id}: {_plural(report.errors, 'error')} ({rules})", markup=False)
    console.print("`mailpipe check EMAIL…` or --verbose shows every finding with its fix", markup=False)


_SEVERITY_COLOUR = {"error": "red", "warning": "yellow", "note": "dim"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


@main.command("lint-mjml")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="A machine-readable report: {files: [{path, problems}]}.")
def lint_mjml(files: tuple[Path, ...], as_json: bool) -> None:
    """Check MJML files against MJML's rules, as `mjml --validate` would (exit 1 on any problem).

    Each <mj-include> is read relative to the file that includes it; a problem in an included file is
    reported in that file."""
    import json

    from mailpipe.commands.check import lint_mjml as lint

    results = lint(files)
    count = sum(1 for found in results.values() for p in found if not p.note)
    notes = sum(1 for found in results.values() for p in found if p.note)
    if as_json:
        listing = [{"path": name, "problems": [p.as_json() for p in found]} for name, found in results.items()]
        click.echo(json.dumps({"files": listing}, indent=2))
    else:
        for name, found in results.items():
            for problem in found:
                label = f"note: {problem.kind}" if problem.note else problem.kind
                click.echo(f"{name}:{problem.line}: {label}: {problem.message}")
        summary = f"{_plural(len(results), 'file')} checked: {_plural(count, 'problem')}"
        click.echo(summary + (f", {_plural(notes, 'note')} (official MJML accepts them)" if notes else ""))
    if count:
        _fail()


# -- campaigns: plan, push, test emails, leads -----------------------------------------------------------------
@main.command()
@click.option("--from", "start", type=LOCAL_DATE, help="First day (local date) [default: today].")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 400), help="How many days.")
@click.option("--json", "as_json", is_flag=True, help="Print every send slot as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="Name the people each email goes to (and every drip slot).")
@click.option(
    "--sandbox", "use_sandbox", is_flag=True, help="Count people from the embedded sandbox's pushes, not the account's."
)
@click.pass_obj
def plan(project: Project, start: dt.date | None, days: int, as_json: bool, verbose: bool, use_sandbox: bool) -> None:
    """The calendar of what will be sent when, to how many (offline: asks Mailchimp nothing; people as the last push
    recorded them)."""
    import json

    from mailpipe.commands.plan import plan as make_plan

    calendar = make_plan(project, start, days, use_sandbox)
    sign_offs = calendar.sign_offs
    if as_json:
        due = {row.send.key: row.people for row in calendar.rows if row.people is not None}
        sends = [
            {**s.as_json(), "review": sign_offs[s.email_id].summary if s.email_id in sign_offs else None}
            | ({"people": list(due.get(s.key, ()))} if calendar.recorded and not s.problem else {})
            for s in calendar.sends
        ]
        click.echo(json.dumps(sends, indent=2))
    elif verbose and not calendar.recorded:
        _print_plan(calendar.sends, sign_offs)
    else:
        _print_glance(calendar, verbose, project.site)
    for gap in calendar.gaps:
        click.echo(f"missing: {gap.problem}", err=True)
    if calendar.gaps:
        _fail()


def _print_glance(calendar: PlanCalendar, verbose: bool, site: SiteConfig) -> None:
    """One row per email and day with its number of people; the monthly sends in bold; a missing month in red."""
    table = _table(f"{len(calendar.rows)} sends")
    for column in ("local time", "UTC", "campaign", "email", "people", "sign-off"):
        table.add_column(column, no_wrap=column not in ("people", "sign-off", "email"))
    for row in calendar.rows:
        send = row.send
        when = (f"{send.local_time:%a %Y-%m-%d %H:%M %Z}", f"{send.utc_time:%Y-%m-%d %H:%M}")
        if send.problem:
            table.add_row(
                *when, f"[bold red]{send.campaign}[/]", f"[red]{send.email_id}[/]", "", f"[red]{send.problem}[/]"
            )
            continue
        state = calendar.sign_offs.get(send.email_id)
        signed = (f"[green]{state.summary}[/]" if state.approved else f"[red]{state.summary}[/]") if state else ""
        if row.monthly:
            tag = site.audiences[send.audience].tag
            table.add_row(
                *when, f"[bold]{send.campaign}[/]", f"[bold]{send.email_id}[/]", f"everyone tagged {tag}", signed
            )
        elif row.people is None:
            table.add_row(*when, send.campaign, f"{row.steps}, to the leads each is due for", "not known yet", "")
        else:
            names = f"\n{', '.join(row.people)}" if verbose else ""
            table.add_row(*when, send.campaign, send.email_id, f"{len(row.people)}{names}", signed)
    _console().print(table)
    if not calendar.recorded:
        click.echo(
            "people are counted from the lead records the last push wrote, and no push has run on this target yet; "
            "--verbose lists every drip slot"
        )


def _print_plan(sends: list[PlannedSend], sign_offs: dict[str, ReviewState]) -> None:
    table = _table(f"{len(sends)} planned sends")
    for column in ("local time", "UTC", "audience", "email", "who", "sign-off"):
        table.add_column(column, no_wrap=column not in ("who", "sign-off"))
    for send in sends:
        when = (f"{send.local_time:%a %Y-%m-%d %H:%M %Z}", f"{send.utc_time:%Y-%m-%d %H:%M}", send.audience)
        if send.problem:
            table.add_row(*when, f"[red]{send.email_id}[/]", f"[red]{send.problem}[/]", "")
            continue
        state = sign_offs.get(send.email_id)
        summary = state.summary if state else ""
        table.add_row(
            *when,
            send.email_id,
            send.segment,
            f"[green]{summary}[/]" if state and state.approved else f"[red]{summary}[/]",
        )
    _console().print(table)


@main.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; send Mailchimp nothing but GETs, write nothing.")
@click.option(
    "--now",
    type=UTC_TIME,
    help="Act as if it were this time (UTC unless an offset is given) [default: now; the embedded sandbox's clock].",
)
@click.option("--verbose", "-v", is_flag=True, help="Also list who each campaign goes to.")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="For cron: print nothing unless a person must act; then only those lines, on stderr (exit 1).",
)
@SANDBOX_FLAG
@click.pass_obj
def push(
    project: Project, dry_run: bool, now: dt.datetime | None, verbose: bool, quiet: bool, use_sandbox: bool
) -> None:
    """Converge Mailchimp (or a sandbox: --sandbox, or MAILCHIMP_SERVER_URL alone) to the campaigns due now."""
    from mailpipe.commands.push import push as run_push

    def announce(target: Target) -> None:
        if not quiet:
            click.echo(f"{'dry run against' if dry_run else 'push to'} {target.description}")

    pushed = run_push(project, dry_run, now, on_target=announce, sandbox=use_sandbox)
    result = pushed.result
    title = (
        f"{'dry run' if dry_run else 'push'} at {pushed.at:%Y-%m-%d %H:%M} UTC: {len(result.outcomes)} lines, "
        f"{result.api_calls} API calls"
    )
    if not quiet:
        _print_outcomes(result, title, project.site.timezone, verbose)
    for email_id, summary in [] if quiet else pushed.unsigned:  # a test target's: nobody must act on it
        click.echo(
            f"warning: {email_id} went to a test target unsigned ({summary}); a real account refuses it", err=True
        )
    if pushed.needs_attention:
        for outcome in (o for o in result.outcomes if o.attention):
            click.echo(f"{outcome.key.title if outcome.key else 'push'}: {outcome.action}: {outcome.detail}", err=True)
        click.echo(
            "these need a person; the other campaigns would go ahead"
            if dry_run
            else "these need a person; the other campaigns went ahead",
            err=True,
        )
        _fail()


def _print_outcomes(result: PushResult, title: str, timezone: str, verbose: bool) -> None:
    """Push's report: each campaign with its time (local and UTC), subject and how many people (who, with
    --verbose)."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(timezone)
    table = _table(title)
    for column in ("campaign", "action", "local time", "UTC", "subject", "people", "detail"):
        table.add_column(column, no_wrap=column not in ("detail", "subject"))
    for outcome in result.outcomes:
        plan = outcome.plan
        action = f"[red]{outcome.action}[/]" if outcome.attention else outcome.action
        campaign = outcome.key.title if outcome.key else ""
        if plan is None:
            table.add_row(campaign, action, "", "", "", "", outcome.detail)
            continue
        who = f"\n{', '.join(plan.recipients)}" if verbose and plan.recipients else ""
        table.add_row(
            campaign,
            action,
            f"{plan.send_at.astimezone(zone):%a %Y-%m-%d %H:%M %Z}",
            f"{plan.send_at:%Y-%m-%d %H:%M}",
            plan.email.subject,
            _people(plan),
            outcome.detail + who,
        )
    _console().print(table)


def _program() -> str:
    """How to run mailpipe again from here, as this run was started (`.venv/bin/mailpipe` under make), with the
    project when it is not the current folder."""
    started = Path(sys.argv[0])
    program = _as_typed(started) if started.name == "mailpipe" else "mailpipe"
    root = click.get_current_context().find_root().obj.root
    if Path(root).resolve() != Path.cwd().resolve():
        program += f" --project {_as_typed(Path(root))}"
    return program


def _as_typed(path: Path) -> str:
    """A path as a person types it here: relative to the current folder when inside it."""
    import shlex

    resolved = path.resolve()
    try:
        return shlex.quote(str(resolved.relative_to(Path.cwd().resolve())))
    except ValueError:
        return shlex.quote(str(resolved))


def _people(plan: CampaignPlan) -> str:
    """How many a campaign goes to: its leads, or its tag, or everyone."""
    if plan.recipients:
        return str(len(plan.recipients))
    return f"tag {plan.tag}" if plan.tag else "everyone"


@main.command("send-test")
@click.argument("content_id")
@click.option("--to", "to", multiple=True, required=True, help="A test recipient (repeat for more).")
@click.option("--plain-text", is_flag=True, help="Send the plain-text version.")
@SANDBOX_FLAG
@click.pass_obj
def send_test(project: Project, content_id: str, to: tuple[str, ...], plain_text: bool, use_sandbox: bool) -> None:
    """Send a Mailchimp test email of one rendered email."""
    from mailpipe.commands.proofs import send_test as send

    def announce(target: Target) -> None:
        click.echo(f"send-test through {target.description}")

    proof = send(project, content_id, to, plain_text, on_target=announce, sandbox=use_sandbox)
    click.echo(f"sent a test of {content_id} to {', '.join(to)} (campaign {proof.title!r} in {proof.endpoint})")


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
@SANDBOX_FLAG
@click.pass_obj
def leads_import(
    project: Project, file: Path, audience: str, start_now: bool, as_json: bool, use_sandbox: bool
) -> None:
    """Upsert the people of a CSV (email, first_name, last_name, joined, consent) with the audience's tag.

    Each person enters the audience's drips at their `joined` time (empty: now); someone whose drip would be over
    by now gets none of it, unless --start-now. Names and drip starts Mailchimp already has are kept. Every row gets
    an outcome; the import exits 1 when any row was skipped or failed."""
    import json

    from mailpipe.commands.leads import import_people

    def announce(target: Target) -> None:
        click.echo(f"import into {target.description}", err=as_json)

    with _ProgressBar() as bar:
        imported = import_people(
            project, file, audience, start_now, on_target=announce, progress=bar.update, sandbox=use_sandbox
        )
    if as_json:
        rows = [{"line": r.line, "email": r.email, "outcome": r.outcome, "detail": r.detail} for r in imported.rows]
        click.echo(json.dumps(rows, indent=2))
    else:
        _print_import(imported)
    if imported.has_problems:
        _fail()


class _ProgressBar:
    """A progress bar on stderr for an import of a thousand writes or more; nothing for a smaller one."""

    SHOWN_FROM = 1000

    def __enter__(self) -> _ProgressBar:
        from rich.progress import Progress

        self._progress = Progress(console=_console(stderr=True), transient=True)
        self._task: Any = None
        return self

    def update(self, done: int, total: int) -> None:
        if total < self.SHOWN_FROM:
            return
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("importing", total=total)
        self._progress.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


def _print_import(imported: Imported) -> None:
    from mailpipe.push.leads import Row

    name = imported.file.name
    counts = ", ".join(f"{n} {kind}" for kind, n in imported.count().items())
    table = _table(f"{name} into {imported.audience}: {counts}")
    for column in ("line", "email", "outcome", "detail"):
        table.add_column(column, no_wrap=column != "detail")
    rows = imported.rows
    shown = rows if len(rows) <= 50 else [r for r in rows if r.outcome.is_problem]
    colours = {
        Row.ADDED: "green",
        Row.UPDATED: "green",
        Row.UNCHANGED: "default",
        Row.SKIPPED: "red",
        Row.FAILED: "red",
    }
    for row in shown:
        table.add_row(f"{name}:{row.line}", row.email, f"[{colours[row.outcome]}]{row.outcome}[/]", row.detail)
    _console().print(table)
    if len(shown) < len(rows):
        click.echo(f"({len(rows) - len(shown)} added, updated or unchanged rows not listed; --json lists every row)")


@main.command()
@click.pass_obj
def demo(project: Project) -> None:
    """The main job, end to end on a fresh sandbox: plan, then a daily push over the demo weeks, then who got what."""
    from mailpipe.commands import demo as demos

    calendar = demos.calendar(project)
    settings = calendar.settings
    click.echo(
        f"plan: {len(calendar.sends)} drip send slots and {calendar.monthly} monthly sends over {settings.days} days "
        f"from {settings.start}"
    )
    console = _console()

    def report(day: dt.date, outcomes: list) -> None:
        for outcome in outcomes:
            if outcome.key is not None and outcome.action != "created":
                line = f"{day}  {outcome.action:<11} {outcome.key.title}  {outcome.detail}"
                console.print(line, markup=False, highlight=False)

    result = demos.run_demo(project, report)
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
    demo_db = _as_typed(project.root / demos.DEMO_DIR / "sandbox.sqlite3")
    click.echo("explore the demo's sandbox (it stays until the next `make run`):")
    click.echo(f"  {_program()} sandbox deliveries --db {demo_db}")
    click.echo(f"  {_program()} report --db {demo_db}")


# -- medical/legal sign-off -----------------------------------------------------------------------------------
@main.group()
def review() -> None:
    """Medical/legal sign-off: who approved which version of each email (reviews/ in the project)."""


@review.command("status")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def review_status(project: Project, as_json: bool) -> None:
    """Each email's sign-offs: approved, changed since approval, or missing; and templates awaiting approved text."""
    import json

    from mailpipe.commands.review import status

    current = status(project)
    if as_json:
        emails = [_sign_off_json(s) for s in current.sign_offs.values()]
        click.echo(json.dumps({"emails": emails, "needs_approved_text": current.needs_approved_text}, indent=2))
        return
    states = current.sign_offs
    table = _table(f"sign-offs: {sum(s.approved for s in states.values())} of {len(states)} emails approved")
    for column in ("email", "kind", "medical", "legal"):
        table.add_column(column, no_wrap=True)
    marks = {
        "approved": "[green]✓ {who}[/]",
        "changed": "[red]✗ changed since {who}[/]",
        "missing": "[red]✗ needed[/]",
        "invalid": "[red]✗ does not verify[/]",
    }
    for email_id, state in states.items():
        cells = {
            r.role: marks[r.state].format(who=f"{r.approval.reviewer}, {r.approval.date}" if r.approval else "")
            for r in state.roles
        }
        table.add_row(email_id, current.kinds[email_id], cells.get("medical", "–"), cells.get("legal", "–"))
    console = _console()
    console.print(table)
    for state in states.values():
        for r in state.roles:
            if r.why:
                console.print(f"✗ {state.email}: its {r.role} sign-off does not count: {r.why}", markup=False)
    for path in current.needs_approved_text:
        console.print(
            f"[red]✗[/] {path}: the project's own wording; replace it with the manufacturer's current approved text, "
            "then delete its mailpipe:needs-approved-text line"
        )


def _sign_off_json(state: ReviewState) -> dict:
    roles = [
        {
            "role": r.role,
            "state": r.state,
            "reviewer": r.approval.reviewer if r.approval else None,
            "date": r.approval.date.isoformat() if r.approval else None,
            **({"why": r.why} if r.why else {}),
        }
        for r in state.roles
    ]
    return {"email": state.email, "approved": state.approved, "roles": roles}


@review.command("approve")
@click.argument("email_ids", nargs=-1, required=True)
@click.option("--role", required=True, type=ROLES, help="The sign-off given.")
@click.option(
    "--key",
    "key_path",
    required=True,
    envvar="MAILPIPE_REVIEW_KEY",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your private key (ssh-keygen -t ed25519), whose public half is yours in reviews/reviewers.yaml "
    "[env: MAILPIPE_REVIEW_KEY].",
)
@click.pass_obj
def review_approve(project: Project, email_ids: tuple[str, ...], role: str, key_path: Path) -> None:
    """Approve emails as they are now, signed with your key (refused for an email with check errors)."""
    from mailpipe.commands.review import approve, reviewer_key

    key = reviewer_key(project, key_path, lambda: click.prompt(f"passphrase for {key_path}", hide_input=True))
    for done in approve(project, email_ids, role, key):
        approval = done.approval
        for warning in done.warnings:
            click.echo(f"{done.email}: warning {warning}")
        if done.new:
            accepted = f", with {_plural(len(done.warnings), 'warning')} accepted" if done.warnings else ""
            click.echo(
                f"{done.email}: {role} approval signed by {approval.reviewer} on {approval.date} (fingerprint "
                f"{approval.fingerprint[:20]}){accepted}"
            )
        else:
            click.echo(
                f"{done.email}: this version already has its {role} approval ({approval.reviewer}, {approval.date}); "
                "nothing changed"
            )


@review.command("revoke")
@click.argument("email_id")
@click.option("--role", required=True, type=ROLES, help="The sign-off withdrawn.")
@click.pass_obj
def review_revoke(project: Project, email_id: str, role: str) -> None:
    """Withdraw a sign-off: push to a real account refuses the email until it is approved again."""
    from mailpipe.commands.review import revoke

    approval = revoke(project, email_id, role)
    click.echo(f"{email_id}: {role} approval by {approval.reviewer} ({approval.date}) revoked")


@review.command("diff")
@click.argument("email_id")
@click.option("--role", type=ROLES, help="Compare with this role's approval [default: the latest].")
@click.pass_obj
def review_diff(project: Project, email_id: str, role: str | None) -> None:
    """What a recipient sees now against what was approved, word by word ([-removed-] {+added+})."""
    from mailpipe.commands.review import diff

    found = diff(project, email_id, role)
    approval = found.approval
    since = f"the {approval.role} approval by {approval.reviewer} on {approval.date}"
    console = _console()
    if not found.changes:
        console.print(f"{email_id}: unchanged since {since}", markup=False)
        return
    console.print(f"{email_id}: changes since {since}", markup=False)
    styles = {"same": "{}", "removed": "[red strike][-{}-][/]", "added": "[green]{{+{}+}}[/]"}
    console.print(" ".join(styles[c.kind].format(_escape(c.words)) for c in found.changes))


# -- authoring ------------------------------------------------------------------------------------------------
@main.group()
def new() -> None:
    """Start new content from what exists."""


@new.command("special")
@click.argument("month")
@click.pass_obj
def new_special(project: Project, month: str) -> None:
    """Write content/specials/MONTH.md from the latest special: dates, validity and month names moved, the offers kept
    as a starting point and marked TODO, so `check` fails until each is edited."""
    from mailpipe.commands.new_special import new_special as write

    made = write(project, month)
    click.echo(
        f"wrote {made.path.relative_to(project.root)} from {made.source.name}: dates and validity moved to {month}, "
        "offers kept."
    )
    click.echo(
        f"Edit every TODO (the introduction and each offer) and the subject if needed; `mailpipe check` shows "
        f"{made.errors} error(s) until then."
    )


# -- going live -----------------------------------------------------------------------------------------------
@main.command()
@click.option("--today", type=LOCAL_DATE, help="Check the plan from this local date [default: today].")
@click.option(
    "--probe",
    is_flag=True,
    help="Instead, try on the account what push relies on: a test contact and a draft campaign, read back and "
    "deleted (writes; push to a real account waits for a pass).",
)
@SANDBOX_FLAG
@click.pass_obj
def doctor(project: Project, today: dt.date | None, probe: bool, use_sandbox: bool) -> None:
    """The go-live checklist: each line ✓ or ✗ with how to fix it (exit 1 on any ✗)."""
    from mailpipe.commands.doctor import doctor as diagnose
    from mailpipe.commands.doctor import run_probe

    def announce(target: Target) -> None:
        click.echo(f"doctor{' --probe' if probe else ''}: {target.description}")

    diagnosis = (
        run_probe(project, on_target=announce, sandbox=use_sandbox)
        if probe
        else diagnose(project, today, on_target=announce, sandbox=use_sandbox)
    )
    console = _console()
    for check in diagnosis.checks:
        console.print(("[green]✓[/] " if check.ok else "[red]✗[/] ") + _escape(check.what), soft_wrap=True)
        if not check.ok:
            console.print(f"    fix: {_escape(check.fix)}", soft_wrap=True)
    total, failed = len(diagnosis.checks), diagnosis.failed
    console.print(
        f"{total - failed} of {total} ready"
        + (f"; {failed} to fix before going live" if failed else ": ready to go live")
    )
    if failed:
        _fail()


@main.command()
@SANDBOX_FLAG
@click.pass_obj
def audiences(project: Project, use_sandbox: bool) -> None:
    """The account's audiences: id, name, members and tags (the id goes in mailpipe.yaml)."""
    from mailpipe.commands.report import audiences as list_audiences

    def announce(target: Target) -> None:
        click.echo(f"audiences of {target.description}")

    table = _table("audiences", ("id", "name", "members", "tags", "contact address"))
    for found in list_audiences(project, on_target=announce, sandbox=use_sandbox):
        audience = found.audience
        table.add_row(
            audience.id, audience.name, str(audience.member_count), ", ".join(found.tags), ", ".join(audience.address)
        )
    _console().print(table)


# -- results --------------------------------------------------------------------------------------------------
REPORT_COLUMNS = (
    "", "email", "campaigns", "sent", "delivered", "bounced", "clicked", "click %", "opened", "open %", "unsub.",
    "unsub. %",
)  # fmt: skip


def _print_report(report: Report) -> None:
    from mailpipe.report import PRIVACY_NOTE

    console = _console()
    for section in report.sections:
        table = _table(f"{section.name} ({section.kind})", title_justify="left")
        for column in REPORT_COLUMNS:
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
            # leads each step was sent to
            steps = " → ".join(f"step {n}: {count}" for n, count in enumerate(funnel.reached, 1))
            console.print(
                f"  funnel: {funnel.entered} leads entered → {steps}; left by unsubscribing: {funnel.unsubscribed}, "
                f"by an exit tag: {funnel.exited}",
                markup=False,
            )
    console.print(PRIVACY_NOTE, markup=False)


@main.command()
@click.option("--drip", "only_drip", help="Only this drip (its name or code).")
@click.option("--month", type=MONTH, help="Only campaigns sent in this month (YYYY-MM, local time).")
@click.option("--from", "start", type=LOCAL_DATE, help="First day (local date) of sends counted.")
@click.option("--to", "end", type=LOCAL_DATE, help="Last day (local date) of sends counted.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="As CSV (one line per drip step and month).")
@SANDBOX_FLAG
@click.option(
    "--db",
    "sandbox_db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The embedded sandbox in this file, e.g. the demo's var/demo/sandbox.sqlite3 (implies --sandbox).",
)
@click.pass_obj
def report(
    project: Project,
    only_drip: str | None,
    month: tuple[dt.date, dt.date] | None,
    start: dt.date | None,
    end: dt.date | None,
    as_json: bool,
    as_csv: bool,
    use_sandbox: bool,
    sandbox_db: Path | None,
) -> None:
    """Results per drip step (all its campaigns added up) and per monthly email, and the drip's funnel, from Mailchimp's
    reports."""
    import json

    from mailpipe.commands.report import report as make_report

    def announce(target: Target) -> None:
        if not (as_json or as_csv):
            click.echo(f"report from {target.description}")

    first, last = month or (start, end)
    made = make_report(project, only_drip, first, last, on_target=announce, sandbox=use_sandbox, sandbox_db=sandbox_db)
    if as_json:
        click.echo(json.dumps(made.as_json(), indent=2, sort_keys=True))
    elif as_csv:
        click.echo(made.as_csv(), nl=False)
    else:
        _print_report(made)


# -- the preview and the sandbox ------------------------------------------------------------------------------
@main.command()
@click.option(
    "--port",
    default=8800,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free one).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option(
    "--sandbox",
    "use_sandbox",
    is_flag=True,
    help="The Reports tab reads the embedded sandbox (else the account of MAILCHIMP_API_KEY or MAILCHIMP_SERVER_URL).",
)
@click.pass_obj
def preview(project: Project, port: int, no_browser: bool, use_sandbox: bool) -> None:
    """Preview every email in a browser, live while you edit (127.0.0.1 only)."""
    import contextlib
    import threading
    import webbrowser

    from mailpipe.preview import PreviewModel
    from mailpipe.preview.server import RunningPreview

    with RunningPreview(PreviewModel(project, sandbox=use_sandbox), port) as running:
        click.echo(f"preview at {running.url} (Ctrl-C stops it)")
        if not no_browser:
            webbrowser.open(running.url)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


SANDBOX_DB = click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file [default: var/sandbox.sqlite3]."
)


@main.group()
def sandbox() -> None:
    """The embedded Mailchimp-compatible sandbox (what --sandbox acts on): served, its clock moved, deliveries read."""

    """The embedded Mailchimp-compatible sandbox (what --sandbox acts on): served, its clock moved, deliveries read."""


@sandbox.command()
@click.option(
    "--port",
    default=8799,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Loopback port to listen on (0: any free one).",
)
@SANDBOX_DB
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
@click.option(
    "--clock", type=UTC_TIME, help="Start a new sandbox's clock at this time (UTC unless an offset is given)."
)
@click.pass_obj
def serve(
    project: Project, port: int, db: Path | None, fault_rate: float, fault_seed: int, clock: dt.datetime | None
) -> None:
    """Serve the sandbox on 127.0.0.1 until interrupted, with the audiences of mailpipe.yaml."""
    import contextlib

    from mailpipe.commands.sandbox import serve as ready
    from mailpipe.sandbox.server import FaultPlan

    faults = FaultPlan(rate=fault_rate, seed=fault_seed) if fault_rate else None
    server = ready(project, port, db, faults, clock)
    click.echo(f"sandbox listening on {server.url}; Ctrl-C stops it")
    click.echo("point mailpipe's commands at it (paste into another shell):")
    click.echo(f"  export MAILCHIMP_SERVER_URL={server.url}")
    click.echo("  unset MAILCHIMP_API_KEY")
    moment = server.store.stored_clock()
    click.echo(
        f"its clock: {moment.isoformat()} (commands pointed at it act at this time; `sandbox advance` moves it)"
        if moment
        else "its clock follows the real time (--clock sets one)"
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()


@sandbox.command()
@click.option(
    "--to",
    "to",
    required=True,
    type=UTC_TIME,
    help="Date and time to move the clock to (UTC unless an offset is given).",
)
@SANDBOX_DB
@click.pass_obj
def advance(project: Project, to: dt.datetime, db: Path | None) -> None:
    """Move the sandbox clock forward, sending every scheduled campaign whose time has come."""
    from mailpipe.commands.sandbox import advance as move

    sent = move(project, to, db)
    for send in sent:
        click.echo(f"{send['send_time']}  sent campaign {send['campaign_id']} to {send['emails_sent']} members")
    click.echo(f"clock at {to.astimezone(dt.UTC).isoformat()}; {len(sent)} campaign(s) sent")


@sandbox.command()
@click.option("--email", help="Only this member's deliveries.")
@SANDBOX_DB
@click.option("--json", "as_json", is_flag=True, help="As JSON, for scripts that count duplicates.")
@click.pass_obj
def deliveries(project: Project, email: str | None, db: Path | None, as_json: bool) -> None:
    """Who received which campaign (title, subject) when, as a real audience would have."""
    import json

    from mailpipe.commands.sandbox import deliveries as read

    rows = read(project, email, db)
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
