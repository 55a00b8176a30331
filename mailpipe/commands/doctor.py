"""`mailpipe doctor`: going live without guesswork, each thing a first real push depends on, checked, with how to
fix it.

`project_checks` reads only the project (config, the plan of the next days, the rendered emails); `account_checks`
reads the Mailchimp account (GETs only). Both return plain `Check`s; the CLI prints them and exits 1 on any failure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.commands import OnTarget, ignore_target
from mailpipe.load.campaigns import Campaign
from mailpipe.load.config import SiteConfig, unconfirmed_values
from mailpipe.load.content import ContentSet
from mailpipe.project import Project
from mailpipe.push.mailchimp import Mailchimp, MailchimpError
from mailpipe.render import RenderedEmail
from mailpipe.review import ReviewState
from mailpipe.review.signing import Reviewer

if TYPE_CHECKING:
    from mailpipe.push.target import Target

HORIZON_DAYS = 60
FICTIONAL_PHONE = re.compile(r"\b555[-. ]?01\d\d\b")  # 555-0100 to 555-0199 are reserved for fiction
STREET = re.compile(r"\b\d+[A-Za-z]?\s+\w+|\bP\.?\s?O\.?\s+Box\b", re.IGNORECASE)


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    fix: str = ""


@dataclass(frozen=True)
class Diagnosis:
    checks: list[Check]

    @property
    def failed(self) -> int:
        return sum(not c.ok for c in self.checks)


def doctor(
    project: Project, today: dt.date | None = None, on_target: OnTarget = ignore_target, sandbox: bool = False
) -> Diagnosis:
    """The project's checks for the plan from `today` (default: today in the clinic's time zone), then the
    account's (read only)."""
    from mailpipe.push.target import connect

    rendered = project.load()
    start = today or project.today()
    checks = project_checks(project.root, rendered.site, rendered.content, project.campaigns, rendered.emails, start)
    checks += reviewer_checks(project.reviews.reviewers, rendered.site)
    checks.append(signed_off(project.campaigns, rendered.content, rendered.emails, project.sign_offs, start))
    with connect(project.root, rendered.site, dry_run=True, sandbox=sandbox) as target:
        on_target(target)
        checks += account_checks(target.mailchimp, rendered.site, _inside_drips(target, rendered.site, project))
        if not target.is_test and checks[-1].ok:
            checks.append(_probed(target))
    return Diagnosis(checks)


def reviewer_checks(reviewers: list[Reviewer], site: SiteConfig) -> list[Check]:
    """Who may sign off, each with the fingerprint of their key (as `ssh-keygen -l` shows it, for the reviewer to
    compare with theirs); a role nobody holds means the emails that need it can never go out."""
    from mailpipe.review.signing import REVIEWERS_FILE

    checks = [
        Check(True, f"reviewer {r.name} signs off {' and '.join(r.roles)} with key {r.key_fingerprint}")
        for r in reviewers
    ]
    needed = {role for roles in site.review.roles.values() for role in roles} | set(site.review.names_treatment)
    for role in sorted(needed - {role for r in reviewers for role in r.roles}):
        checks.append(
            Check(
                False,
                f"nobody in reviews/{REVIEWERS_FILE} signs off {role}: push to a real account refuses every email "
                "that needs it",
                f"add the reviewer's name, roles and public key (`ssh-keygen -t ed25519`, the .pub line) to "
                f"reviews/{REVIEWERS_FILE}",
            )
        )
    return checks


def _probed(target: Target) -> Check:
    """Whether this account passed the probe push waits for (read from the state: doctor writes nothing)."""
    state = target.open_state()
    try:
        account = target.mailchimp.account()
        passed = state.probe_passed(account.id)
    finally:
        state.close()
    return Check(
        passed is not None,
        f"the account passed `mailpipe doctor --probe` on {passed:%Y-%m-%d}"
        if passed
        else "the account has not passed `mailpipe doctor --probe` (push waits for it)",
        "run `mailpipe doctor --probe`: it adds a test contact and a draft campaign, reads them back, deletes them",
    )


def run_probe(project: Project, on_target: OnTarget = ignore_target, sandbox: bool = False) -> Diagnosis:
    """`doctor --probe` on the account the environment names (or the embedded sandbox, with `sandbox`)."""
    from mailpipe.push.target import connect

    with connect(project.root, project.load().site, sandbox=sandbox) as target:
        on_target(target)
        return probe_target(project, target)


def probe_target(project: Project, target: Target, now: dt.datetime | None = None) -> Diagnosis:
    """What the sandbox can only assume, tried on `target` (writes, undone); a pass is recorded in its state against
    the account id, for push."""
    from mailpipe.push.probe import probe

    now = now or target.now()
    results = probe(target.mailchimp, project.load().site, now)
    checks = [
        Check(r.ok, r.what, r.fix) if r.ok or r.required else Check(True, f"note: not so: {r.what}; {r.fix}")
        for r in results
    ]
    if all(c.ok for c in checks):
        state = target.open_state()
        try:
            state.record_probe(target.mailchimp.account().id, now)
        finally:
            state.close()
    return Diagnosis(checks)


def _inside_drips(target: Target, site: SiteConfig, project: Project) -> dict[str, int]:
    """Audience name -> how many leads the local record has inside its drips (read from a copy: doctor writes
    nothing): then its tag must exist."""
    from mailpipe.load.campaigns import Drip
    from mailpipe.push.read import leads_inside

    state = target.open_state()
    try:
        logs = {
            list_id: list(state.lead_logs(list_id).values()) for list_id in {a.list_id for a in site.audiences.values()}
        }
    finally:
        state.close()
    drips = [c for c in project.campaigns if isinstance(c, Drip)]
    return {
        name: sum(leads_inside(drip, logs[audience.list_id]) for drip in drips if drip.audience == name)
        for name, audience in site.audiences.items()
    }


def project_checks(
    root: Path,
    site: SiteConfig,
    content: ContentSet,
    campaigns: list[Campaign],
    emails: list[RenderedEmail],
    today: dt.date,
) -> list[Check]:
    from mailpipe.checks import error_rules, run_checks
    from mailpipe.plan import plan

    checks = []
    marked = unconfirmed_values(root)
    checks.append(
        Check(
            not marked,
            "no value in mailpipe.yaml is still marked CONFIRM"
            if not marked
            else f"{len(marked)} value(s) still marked CONFIRM: {'; '.join(marked)}",
            "check each value against the clinic's records, then delete its CONFIRM comment",
        )
    )
    phone = site.clinic.phone
    checks.append(
        Check(
            not FICTIONAL_PHONE.search(phone),
            f"the clinic's phone {phone}"
            + (" is a fictional 555-01xx number" if FICTIONAL_PHONE.search(phone) else " is not a fictional number"),
            "put the front desk's real number in clinic.phone",
        )
    )
    address = site.clinic.postal_address
    checks.append(
        Check(
            bool(STREET.search(address)),
            f"the postal address {address!r}"
            + (
                " has a street or PO box"
                if STREET.search(address)
                else " has no street or PO box (CAN-SPAM needs a valid postal address)"
            ),
            "write the full address in clinic.postal_address, as the audience has it in Mailchimp",
        )
    )
    sends = plan(campaigns, content, {e.id for e in emails}, today, HORIZON_DAYS)
    gaps = sorted({s.problem for s in sends if s.problem})
    checks.append(
        Check(
            not gaps,
            f"every send of the next {HORIZON_DAYS} days has its email" if not gaps else "; ".join(gaps),
            "write the missing month (`mailpipe new special YYYY-MM`)",
        )
    )
    due = {s.email_id for s in sends if not s.problem}
    by_id = {e.id: e for e in emails}
    examples = sorted(e for e in due if e in by_id and by_id[e].example)
    checks.append(
        Check(
            not examples,
            "no example content is due" if not examples else f"example content is due: {', '.join(examples)}",
            "write the real offers and remove `example: true`",
        )
    )
    awaiting: dict[str, list[str]] = {}
    for email_id in sorted(due):
        for name in by_id[email_id].unapproved_text if email_id in by_id else ():
            awaiting.setdefault(f"templates/{name}", []).append(email_id)
    checks.append(
        Check(
            not awaiting,
            "no email due shows text awaiting its approved wording"
            if not awaiting
            else "; ".join(
                f"{path} is still marked mailpipe:needs-approved-text and {len(ids)} due email(s) show it: "
                f"{', '.join(ids)}"
                for path, ids in awaiting.items()
            ),
            "put the manufacturer's approved text in, then delete the marker line (a real account refuses them)",
        )
    )
    failing = sorted(e for e in due if e in by_id and error_rules(run_checks(by_id[e], site)))
    checks.append(
        Check(
            not failing,
            f"the {len(due)} email(s) due in the next {HORIZON_DAYS} days pass `check`"
            if not failing
            else f"due emails fail `check`: {', '.join(failing)}",
            "see `mailpipe check ID`",
        )
    )
    return checks


def signed_off(
    campaigns: list[Campaign],
    content: ContentSet,
    emails: list[RenderedEmail],
    sign_offs: Mapping[str, ReviewState],
    today: dt.date,
) -> Check:
    """The emails due in the next days that a real account would refuse for want of a sign-off, each with what it
    needs and when it first goes out (what push says when it refuses one)."""
    from mailpipe.plan import plan

    sends = plan(campaigns, content, {e.id for e in emails}, today, HORIZON_DAYS)
    first: dict[str, dt.datetime] = {}
    for send in sends:
        if not send.problem:
            first[send.email_id] = min(send.local_time, first.get(send.email_id, send.local_time))
    unsigned = [
        f"{email_id} ({sign_offs[email_id].summary}; first goes out {when:%a %b} {when.day} {when:%H:%M})"
        for email_id, when in sorted(first.items(), key=lambda item: item[1])
        if email_id in sign_offs and not sign_offs[email_id].approved
    ]
    return Check(
        not unsigned,
        f"every email due in the next {HORIZON_DAYS} days is signed off"
        if not unsigned
        else f"{len(unsigned)} due email(s) a real account refuses: {'; '.join(unsigned)}",
        "sign them off (`mailpipe review`, or the preview's sign-off form) before they go out",
    )


def _tag_check(name: str, list_id: str, tag: str, tags: Iterable[str], inside: int) -> Check:
    """The audience's tag: present; missing before anyone entered its drips (import them); or gone while leads are
    inside (renamed or deleted in Mailchimp: every push says so)."""
    if tag in tags:
        return Check(True, f"{name}: members carry the tag {tag}")
    if inside:
        return Check(
            False,
            f"{name}: the tag {tag} is not in {list_id} (renamed or deleted?) while {inside} lead(s) are inside its "
            "drip",
            f"rename the tag back to {tag} in Mailchimp",
        )
    return Check(
        False,
        f"{name}: nobody in {list_id} has the tag {tag} yet",
        f"import the people: mailpipe leads import FILE.csv --audience {name}",
    )


def _unanswered(err: MailchimpError) -> Check:
    """Why the account did not answer, told apart: nothing reached it (the network, DNS, the URL), it refused the key,
    or it failed."""
    if err.status is None:
        return Check(
            False,
            f"Mailchimp cannot be reached from this machine: {err.detail}",
            "check the network and DNS (and MAILCHIMP_SERVER_URL, if set), run doctor again; the key was not tried",
        )
    if err.status in (401, 403):
        return Check(
            False,
            f"the key was refused: {err.status} {err.title}",
            "copy a current API key (Account → Extras → API keys) into MAILCHIMP_API_KEY",
        )
    return Check(
        False,
        f"Mailchimp answered with an error: {err}",
        "try again later; if it lasts, see status.mailchimp.com",
    )


def account_checks(mc: Mailchimp, site: SiteConfig, inside: dict[str, int] | None = None) -> list[Check]:
    try:
        mc.ping()
        account = mc.account()
    except MailchimpError as err:
        return [_unanswered(err)]
    checks = [Check(True, f"the key works: account {account.name!r} on the {account.plan} plan")]
    checks.append(
        Check(
            account.plan != "forever_free",
            "the plan can schedule campaigns"
            if account.plan != "forever_free"
            else "the Free plan cannot schedule campaigns",
            "upgrade to Essentials or higher",
        )
    )
    audiences = {a.id: a for a in mc.audiences()}
    available = ", ".join(f"{a.id} ({a.name}, {a.member_count} members)" for a in audiences.values()) or "none"
    for name, wanted in site.audiences.items():
        audience = audiences.get(wanted.list_id)
        if audience is None:
            checks.append(
                Check(
                    False,
                    f"{name}: no audience has the id {wanted.list_id!r}; the account has: {available}",
                    "put the id in audiences.{name}.list_id (Audience → Settings → Audience name and defaults → "
                    "Audience ID)",
                )
            )
            continue
        tags = mc.tags(audience.id)
        checks.append(
            Check(
                True,
                f"{name}: audience {audience.id} ({audience.name}), {audience.member_count} members, tags: "
                f"{', '.join(sorted(tags)) or 'none'}",
            )
        )
        if wanted.tag:
            checks.append(_tag_check(name, audience.id, wanted.tag, tags, (inside or {}).get(name, 0)))
    addresses = {
        " ".join(a.address) for a in audiences.values() if a.id in {w.list_id for w in site.audiences.values()}
    }
    for address in sorted(addresses):
        parts = [p for p in address.split(" ") if p]
        matches = all(p.lower().strip(",") in site.clinic.postal_address.lower() for p in parts)
        checks.append(
            Check(
                matches,
                f"the audience's contact address {address!r} (what every footer prints) matches mailpipe.yaml"
                if matches
                else f"the audience's contact address {address!r} (what every footer prints) differs from "
                f"mailpipe.yaml's {site.clinic.postal_address!r}",
                "make the two the same (Audience → Settings → Required email footer content)",
            )
        )
    domain = site.sender.reply_to.rpartition("@")[2].lower()
    verified = mc.verified_domains()
    checks.append(
        Check(
            verified.get(domain, False),
            f"the sending domain {domain} is verified and authenticated"
            if verified.get(domain)
            else f"the sending domain {domain} is "
            f"{'not yet verified and authenticated' if domain in verified else 'not added'}",
            "Website → Domains: add, verify and authenticate it (else Mailchimp blocks every campaign)",
        )
    )
    return checks
