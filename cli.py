"""mailpipe's command line: a thin click layer over the `mailpipe` package."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from mailpipe.build import write_build
from mailpipe.errors import InputError, MailpipeError
from mailpipe.project import Project, render_project


def _fails_cleanly(command):
    """Report mailpipe's own errors as plain messages on stderr with exit code 1, no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as err:
            err_console = Console(stderr=True, highlight=False, soft_wrap=True)
            count = len(err.problems)
            err_console.print(f"[bold red]{count} problem{'s' if count != 1 else ''} found; nothing was written:[/]")
            for problem in err.problems:
                err_console.print(f"  {problem}", markup=False)
            sys.exit(1)
        except MailpipeError as err:
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {err}", markup=False)
            sys.exit(1)

    return wrapper


def _console() -> Console:
    """Rich output at the terminal's width, or a wide fixed width when piped (logs, cron mail)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


@click.group()
@click.option("--project", "-C", "root", default=".", show_default=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path), help="The mailpipe project folder.")
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """Render, check, plan and push AIVI Aesthetics' emails."""
    ctx.obj = Project(root)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: build/].")
@click.pass_obj
@_fails_cleanly
def build(project: Project, out_dir: Path | None) -> None:
    """Render every email to NAME.html, NAME.txt and manifest.json."""
    rendered = render_project(project)
    result = write_build(rendered.emails, out_dir or project.build_dir)
    table = Table(title=f"{len(rendered.emails)} emails in {result.out_dir}")
    table.add_column("email", no_wrap=True)
    table.add_column("kind")
    table.add_column("subject", no_wrap=True, overflow="ellipsis", max_width=60)
    table.add_column("HTML", justify="right", no_wrap=True)
    table.add_column("text", justify="right", no_wrap=True)
    table.add_column("files")
    for email in rendered.emails:
        table.add_row(email.id, email.kind, email.subject, f"{email.html_bytes / 1024:.1f} KB",
                      f"{email.text_bytes / 1024:.1f} KB", "written" if result.changed(email) else "unchanged")
    console = _console()
    console.print(table)
    if result.removed:
        console.print(f"removed stale files: {', '.join(sorted(result.removed))}")


if __name__ == "__main__":
    main()
