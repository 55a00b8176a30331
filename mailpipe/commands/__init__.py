"""The use cases, one module each, as the command line offers them: `build`, `check` (and `lint-mjml`), `plan`,
`push`, `send-test` (proofs), `leads import`, `report` and `audiences`, `doctor`, `review`, `new special`, `demo`, and
the sandbox's own. Each takes a `Project` and typed arguments and returns a typed result; the gates a send must pass
live here, so the CLI, the preview and the demo get the same ones. Nothing here prints: `mailpipe/cli.py` turns the
results into tables, JSON and exit codes.
"""

from __future__ import annotations

from collections.abc import Callable

from mailpipe.push.target import Target

OnTarget = Callable[[Target], None]  # told which account or sandbox a command talks to, before it does


def ignore_target(target: Target) -> None:
    """The default `on_target`: nobody is told."""
