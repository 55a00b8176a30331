"""Medical/legal sign-off ("MLR review"): who approved which version of what a recipient sees.

An approval pins a fingerprint of the recipient's view of an email (subject, preheader, visible text, link targets,
images), not of its HTML: a template's whitespace or attribute order does not void it, one changed word does.
Decisions live in `reviews/approvals.tsv`, one sorted line per (email, role), so git shows one line per decision;
the view each approval saw is kept beside it (`reviews/approved/<email>/<fingerprint>.txt`) so `review diff` can
show, word by word, what changed since.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mailpipe.checks import Context
from mailpipe.errors import MailpipeError
from mailpipe.load.config import ReviewSettings, SiteConfig
from mailpipe.render import RenderedEmail

ROLES = ("medical", "legal")
APPROVALS_FILE = "approvals.tsv"
HEADER = (
    "# mailpipe review sign-offs: one line per approval, written by `mailpipe review approve/revoke` (do not edit "
    "by hand).\n"
    "# email\trole\tfingerprint\tdate\treviewer\n"
)
NEEDS_APPROVED_TEXT = "mailpipe:needs-approved-text"  # a template marked so holds wording a reviewer must replace
TREATMENT = re.compile(
    r"\b(botox|onabotulinumtoxin\w*|botulinum|injections?|medications?|medicines?|prescriptions?|treatments?|"
    r"peels?|facials?|microneedling|laser|fillers?)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")


def recipient_view(context: Context) -> str:
    """What a recipient sees of an email (parsed once, as the checks parse it), as text a reviewer can read: the thing
    an approval signs."""
    email = context.email
    lines = [f"Subject: {email.subject}", f"Preheader: {email.preheader}", "", "Links:"]
    lines += [f"  {href}" for _, href, _ in context.links]
    lines += ["", "Images:"] + [f"  {img.get('src', '')} (alt: {img.get('alt', '')})" for img in context.images]
    lines += ["", "Text:"] + _SENTENCE_END.split(context.visible_text)
    return "\n".join(lines) + "\n"


def fingerprint(view: str) -> str:
    return hashlib.sha256(view.encode()).hexdigest()[:20]


def names_treatment(context: Context) -> bool:
    return context.email.mentions_botox or bool(TREATMENT.search(context.email.subject + " " + context.copy_text))


def required_roles(context: Context) -> tuple[str, ...]:
    settings: ReviewSettings = context.site.review
    wanted = set(settings.roles.get(context.email.kind, []))  # type: ignore[call-overload]
    if names_treatment(context):
        wanted |= set(settings.names_treatment)
    return tuple(role for role in ROLES if role in wanted)


@dataclass(frozen=True)
class Approval:
    email: str
    role: str
    fingerprint: str
    date: dt.date
    reviewer: str

    def line(self) -> str:
        return f"{self.email}\t{self.role}\t{self.fingerprint}\t{self.date.isoformat()}\t{self.reviewer}\n"


class SignOff(StrEnum):
    """Where one role's sign-off of an email stands."""

    APPROVED = "approved"
    CHANGED = "changed"  # approved, then the email changed
    MISSING = "missing"


@dataclass(frozen=True)
class RoleState:
    role: str
    state: SignOff
    approval: Approval | None


@dataclass(frozen=True)
class ReviewState:
    email: str
    roles: tuple[RoleState, ...]

    @property
    def approved(self) -> bool:
        return all(r.state == SignOff.APPROVED for r in self.roles)

    @property
    def summary(self) -> str:
        if not self.roles:
            return "no sign-off needed"
        if self.approved:
            return (
                "approved ("
                + "; ".join(f"{r.role}: {r.approval.reviewer}, {r.approval.date}" for r in self.roles if r.approval)
                + ")"
            )
        changed = [r.role for r in self.roles if r.state == SignOff.CHANGED]
        missing = [r.role for r in self.roles if r.state == SignOff.MISSING]
        parts = ([f"changed since its {' and '.join(changed)} approval"] if changed else []) + (
            [f"needs {' and '.join(missing)} sign-off"] if missing else []
        )
        return "; ".join(parts)


class Reviews:
    """The sign-offs of a project: `reviews/approvals.tsv` and the views they approved."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.file = folder / APPROVALS_FILE
        self.approvals: dict[tuple[str, str], Approval] = {}
        if self.file.exists():
            self._read()

    def _read(self) -> None:
        for number, line in enumerate(self.file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            try:
                email, role, print_, day, reviewer = fields
                approval = Approval(email, role, print_, dt.date.fromisoformat(day), reviewer)
            except ValueError:
                raise MailpipeError(
                    f"{self.file}:{number}: expected email, role, fingerprint, date and reviewer separated by tabs; "
                    "restore the file from git"
                ) from None
            if role not in ROLES:
                raise MailpipeError(f"{self.file}:{number}: role: expected one of {', '.join(ROLES)}, got {role!r}")
            self.approvals[(email, role)] = approval

    def state(self, email: RenderedEmail, site: SiteConfig) -> ReviewState:
        context = Context(email, site)
        current = fingerprint(recipient_view(context))
        roles = []
        for role in required_roles(context):
            approval = self.approvals.get((email.id, role))
            state = (
                SignOff.MISSING
                if approval is None
                else SignOff.APPROVED
                if approval.fingerprint == current
                else SignOff.CHANGED
            )
            roles.append(RoleState(role, state, approval))
        return ReviewState(email.id, tuple(roles))

    def latest(self, email_id: str, role: str | None = None) -> Approval | None:
        """The most recent approval of an email (of one role, if given): what `diff` compares with."""
        found = [a for (e, r), a in self.approvals.items() if e == email_id and role in (None, r)]
        return max(found, key=lambda a: a.date) if found else None

    def approved_view(self, approval: Approval) -> str | None:
        path = self._view_path(approval.email, approval.fingerprint)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def approve(
        self,
        email: RenderedEmail,
        site: SiteConfig,
        role: str,
        reviewer: str,
        day: dt.date,
        warnings: tuple[str, ...] = (),
    ) -> Approval | None:
        """Record an approval of the email as it is now, with the check warnings the reviewer was shown; None when this
        exact version is already approved for `role`."""
        reviewer = " ".join(reviewer.split())
        if not reviewer or len(reviewer) > 120:
            raise MailpipeError("--reviewer: expected the reviewer's name and credentials (1 to 120 characters)")
        context = Context(email, site)
        needed = required_roles(context)
        if role not in needed:
            raise MailpipeError(
                f"{email.id} does not need a {role} sign-off (it needs: {', '.join(needed) or 'none'}; "
                "see review: in mailpipe.yaml)"
            )
        view = recipient_view(context)
        approval = Approval(email.id, role, fingerprint(view), day, reviewer)
        existing = self.approvals.get((email.id, role))
        if existing is not None and existing.fingerprint == approval.fingerprint:
            return None
        _write(self._view_path(email.id, approval.fingerprint), view)
        if warnings:  # (none: no file)
            _write(self._warnings_path(email.id, approval.fingerprint), "".join(f"{w}\n" for w in warnings))
        self.approvals[(email.id, role)] = approval
        self._save()
        return approval

    def revoke(self, email_id: str, role: str) -> Approval:
        approval = self.approvals.pop((email_id, role), None)
        if approval is None:
            raise MailpipeError(f"{email_id} has no {role} approval to revoke")
        self._save()
        return approval

    def _view_path(self, email_id: str, print_: str) -> Path:
        return self.folder / "approved" / email_id / f"{print_}.txt"

    def _warnings_path(self, email_id: str, print_: str) -> Path:
        return self.folder / "approved" / email_id / f"{print_}.warnings"

    def accepted_warnings(self, approval: Approval) -> list[str]:
        """The check warnings the reviewer saw when approving (one per line: 'RULE: what')."""
        path = self._warnings_path(approval.email, approval.fingerprint)
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def _save(self) -> None:
        _write(self.file, HEADER + "".join(a.line() for _, a in sorted(self.approvals.items())))
        kept = {
            path
            for a in self.approvals.values()
            for path in (self._view_path(a.email, a.fingerprint), self._warnings_path(a.email, a.fingerprint))
        }
        for old in (self.folder / "approved").glob("*/*.*"):
            if old not in kept:
                old.unlink()
                if not any(old.parent.iterdir()):
                    old.parent.rmdir()


def _write(path: Path, text: str) -> None:
    """Write whole or not at all: a crash leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def review_states(emails: Iterable[RenderedEmail], site: SiteConfig, reviews: Reviews) -> dict[str, ReviewState]:
    return {email.id: reviews.state(email, site) for email in emails}


@dataclass(frozen=True)
class Change:
    """One run of the word diff: kept words (shown as context), or words removed and added."""

    kind: str  # same | removed | added
    words: str


def word_diff(old: str, new: str, context: int = 6) -> list[Change]:
    """What changed, word by word, with `context` kept words around each change ("…" marks what is left out)."""
    before, after = old.split(), new.split()
    changes: list[Change] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag == "equal":
            kept = before[i1:i2]
            first, last = i1 == 0, i2 == len(before)
            if len(kept) > 2 * context or (first and len(kept) > context) or (last and len(kept) > context):
                head = [] if first else kept[:context]
                tail = [] if last else kept[-context:]
                changes.append(Change("same", " ".join(head + ["…"] + tail)))
            else:
                changes.append(Change("same", " ".join(kept)))
            continue
        if i2 > i1:
            changes.append(Change("removed", " ".join(before[i1:i2])))
        if j2 > j1:
            changes.append(Change("added", " ".join(after[j1:j2])))
    return changes


def templates_needing_approved_text(templates_dir: Path) -> list[Path]:
    """Templates that hold project wording a reviewer must replace with approved text (the ISI partial, until then)."""
    return sorted(
        p for p in templates_dir.rglob("*.j2") if p.is_file() and NEEDS_APPROVED_TEXT in p.read_text(encoding="utf-8")
    )
