"""`mailpipe sandbox`: the embedded Mailchimp-compatible sandbox served, its clock moved, its deliveries read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mailpipe.errors import InputError, MailpipeError
from mailpipe.project import Project
from mailpipe.sandbox.server import FaultPlan, SandboxServer
from mailpipe.util.paths import inside_project

DEFAULT_SANDBOX = Path("var") / "sandbox.sqlite3"


def sandbox_path(project: Project, db: Path | None = None) -> Path:
    """`db`, else mailchimp.sandbox_path of mailpipe.yaml, else var/sandbox.sqlite3."""
    if db:
        return db
    try:
        return inside_project(project.root, project.site.mailchimp.sandbox_path, "mailchimp.sandbox_path")
    except InputError:
        return project.root / DEFAULT_SANDBOX


def serve(
    project: Project,
    port: int,
    db: Path | None = None,
    faults: FaultPlan | None = None,
    clock: dt.datetime | None = None,
) -> SandboxServer:
    """The sandbox bound to its port (a port in use changes nothing), its clock set and the audiences of
    mailpipe.yaml made: ready to serve_forever."""
    from mailpipe.push.target import provision
    from mailpipe.sandbox.store import Store

    site = project.site
    store = Store(sandbox_path(project, db))
    server = SandboxServer(store, port, faults)
    if clock:
        store.set_clock(clock)
    provision(store, site)
    return server


def advance(project: Project, to: dt.datetime, db: Path | None = None) -> list[dict]:
    """Move the clock forward, sending every scheduled campaign whose time has come; the campaigns sent."""
    from mailpipe.sandbox.errors import ApiError
    from mailpipe.sandbox.store import Store

    store = Store(sandbox_path(project, db))
    try:
        return store.advance(to)
    except ApiError as err:
        raise MailpipeError(err.detail) from None
    finally:
        store.close()


def deliveries(project: Project, email: str | None = None, db: Path | None = None) -> list[dict]:
    """Who received which campaign when (read from a copy: the file is left as it is)."""
    from mailpipe.sandbox.store import Store

    store = Store.read_only_copy(sandbox_path(project, db))
    try:
        return store.deliveries(email)
    finally:
        store.close()
