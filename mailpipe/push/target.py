"""Which Mailchimp a command talks to, always the one the user named: the real account (MAILCHIMP_API_KEY), a sandbox
served on this machine (MAILCHIMP_SERVER_URL alone), or the embedded sandbox (`--sandbox`).

For the embedded sandbox mailpipe starts it in-process on a free loopback port and talks to it over HTTP exactly as it
talks to Mailchimp; the sandbox's audiences are made from mailpipe.yaml.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.errors import NoTarget
from mailpipe.load.config import SiteConfig
from mailpipe.push.mailchimp import Connection, Mailchimp
from mailpipe.push.mailchimp.transport import LOCAL_SERVER_KEY
from mailpipe.push.state import State
from mailpipe.util import clock
from mailpipe.util.paths import inside_project

if TYPE_CHECKING:
    from mailpipe.sandbox.store import Store

SANDBOX_KEY = LOCAL_SERVER_KEY  # the sandbox accepts any key
NO_TARGET = (
    "which Mailchimp? set MAILCHIMP_API_KEY to the account's API key, or add --sandbox to use the embedded sandbox "
    "(nothing reaches anyone), or set MAILCHIMP_SERVER_URL to a sandbox served on this machine (mailpipe sandbox serve)"
)
# Set to 1, a server on this machine is taken for a real account, with every gate a real one has (a rehearsal; tests).
# It can only add gates: nothing makes a real account a test one.
AS_REAL_ACCOUNT = "MAILPIPE_AS_REAL_ACCOUNT"


@dataclass
class Target:
    mailchimp: Mailchimp
    endpoint: str
    state_path: Path
    sandbox_store: Store | None = None  # the embedded sandbox's store (its clock), when that is the target
    description: str = ""  # which account or sandbox, for the first line of every command that talks to it

    @property
    def is_test(self) -> bool:
        """The embedded sandbox, or a server on this machine: example content is allowed, sign-offs are not needed.
        The client's to say, which checks every email's sign-off itself when it is not."""
        return not self.mailchimp.real_account

    @property
    def dry_run(self) -> bool:
        """A run that only reads: the client sends nothing but GETs, and the state is read, never written."""
        return self.mailchimp.read_only

    def open_state(self) -> State:
        """The local record of pushes to this target (read as a copy in a dry run)."""
        return State(
            self.state_path, self.endpoint, forget_other=self.sandbox_store is not None, read_only=self.dry_run
        )

    def now(self) -> dt.datetime:
        """The sandbox's clock: the embedded one's, or the one a sandbox served on this machine lends; else the real
        time."""
        if self.sandbox_store is not None:
            return self.sandbox_store.now()
        return self.mailchimp.server_clock() or clock.utc_now()


def sandbox_list_body(site: SiteConfig) -> dict:
    """An audience as the clinic's real one would be set up: its postal address feeds *|LIST:ADDRESSLINE|*."""
    return {
        "name": site.clinic.name,
        "permission_reminder": f"You asked {site.clinic.name} to keep in touch.",
        "contact": {
            "company": site.clinic.name,
            "address1": site.clinic.postal_address,
            "city": "Agoura Hills",
            "state": "CA",
            "zip": "91301",
            "country": "US",
            "phone": site.clinic.phone,
        },
        "campaign_defaults": {
            "from_name": site.sender.from_name,
            "from_email": site.sender.reply_to,
            "subject": "",
            "language": "en",
        },
    }


def provision(store: Store, site: SiteConfig) -> None:
    """Make the audiences of mailpipe.yaml in a sandbox that lacks them."""
    existing = {entry["id"] for entry in store.lists()["lists"]}
    for list_id in sorted({a.list_id for a in site.audiences.values()} - existing):
        store.create_list(sandbox_list_body(site), list_id=list_id)
    if not store.verified_domains()["total_items"]:  # an account set up to send: the sender's domain verified
        store.set_domain(site.sender.reply_to.rpartition("@")[2], verified=True)


def embedded_sandbox_state(root: Path, site: SiteConfig) -> Path:
    """The local record of pushes to the embedded sandbox, beside the real account's (never mixed with it)."""
    state_path = inside_project(root, site.mailchimp.state_path, "mailchimp.state_path")
    return inside_project(
        root, state_path.with_name(f"{state_path.stem}-sandbox{state_path.suffix}"), "mailchimp.state_path"
    )


@contextlib.contextmanager
def connect(
    root: Path,
    site: SiteConfig,
    *,
    dry_run: bool = False,
    sandbox: bool = False,
    environ: Mapping[str, str] | None = None,
    sandbox_db: Path | None = None,
) -> Iterator[Target]:
    """Yield the target for this run, always one the user named: the embedded sandbox when asked (`sandbox`,
    `--sandbox`), else the account of MAILCHIMP_API_KEY, or a sandbox served on this machine at MAILCHIMP_SERVER_URL;
    neither is NoTarget (exit 2), never a quiet fall-back that reaches nobody. The embedded sandbox stops when the
    block ends. `dry_run` (said once, here): the client refuses to send anything but GETs, the state is read as a
    copy, and the embedded sandbox is a copy in memory (its file is neither created nor changed)."""
    read_only = dry_run
    environ = os.environ if environ is None else environ
    connection = None if sandbox else Connection.from_environment(environ)
    if connection is None and not sandbox:
        raise NoTarget(NO_TARGET)
    state_path = inside_project(root, site.mailchimp.state_path, "mailchimp.state_path")
    if connection is not None:
        from mailpipe.review import SignOffGate

        client = Mailchimp(
            connection,
            read_only=read_only,
            sign_offs=SignOffGate(root / "reviews", site),
            as_real_account=environ.get(AS_REAL_ACCOUNT) == "1",
        )
        if client.real_account:
            described = f"the Mailchimp account at {connection.where} (MAILCHIMP_API_KEY)"
        elif "MAILCHIMP_API_KEY" in environ:
            described = f"a Mailchimp-compatible server on this machine at {connection.where} (MAILCHIMP_API_KEY)"
        else:
            described = f"the sandbox served at {connection.where} (MAILCHIMP_SERVER_URL: nothing reaches anyone)"
        yield Target(client, connection.where, state_path, description=described)
        return
    from mailpipe.sandbox.server import RunningSandbox
    from mailpipe.sandbox.store import Store

    sandbox_path = sandbox_db or inside_project(root, site.mailchimp.sandbox_path, "mailchimp.sandbox_path")
    sandbox_state = embedded_sandbox_state(root, site)
    with RunningSandbox(Store.read_only_copy(sandbox_path) if read_only else sandbox_path) as running:
        provision(running.store, site)
        yield Target(
            Mailchimp(Connection(SANDBOX_KEY, running.url), read_only=read_only),
            f"sandbox {running.store.instance}",
            sandbox_state,
            running.store,
            f"the embedded sandbox {sandbox_path} (--sandbox: nothing reaches anyone)",
        )
