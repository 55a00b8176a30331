"""Every command explains itself (`--help`) and is in the README's command table with each of its options, so
neither can fall behind the other."""

from __future__ import annotations

import re

import click

from conftest import REPO
from mailpipe.cli import main


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            assert (command.help or "").strip(), f"{' '.join(path + (name,))} has no help"
            found += leaf_commands(command, path + (name,))
        else:
            found.append((" ".join(path + (name,)), command))
    return found


def readme_rows() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Commands") :]
    return [line for line in table.splitlines() if line.startswith("| `mailpipe ")]


def test_every_command_has_help_and_every_option_says_what_it_does():
    commands = leaf_commands(main)
    assert len(commands) >= 20
    for path, command in commands:
        assert (command.help or "").strip(), f"mailpipe {path} has no help"
        for option in command.params:
            if isinstance(option, click.Option):
                assert (option.help or "").strip(), f"mailpipe {path} {option.opts[0]} has no help"


def test_every_command_and_its_options_are_in_the_readmes_command_table():
    rows = readme_rows()
    missing = []
    for path, command in leaf_commands(main):
        row = next((r for r in rows if re.search(rf"`(mailpipe )?{re.escape(path)}( |`)", r)), None)
        if row is None:
            missing.append(f"mailpipe {path}")
            continue
        missing += [f"mailpipe {path} {o.opts[-1]}" for o in command.params if isinstance(o, click.Option)
                    if not any(flag in row for flag in o.opts)]  # fmt: skip
    assert missing == []
