"""Medical/legal sign-off ("MLR review"): who approved which version of what a recipient sees.

An approval pins a fingerprint of the recipient's view of an email (sender, subject, preheader, visible text, link
targets, images), not of its HTML: a template's whitespace or attribute order does not void it, one changed word does.
Decisions live in `reviews/approvals.tsv`, one sorted line per (email, role), so git shows one line per decision, each
signed with the reviewer's own key (`signing`): a line written by anyone else does not verify. The view each approval
saw is kept beside it (`reviews/approved/<email>/<fingerprint>.txt`) so `review diff` can show, word by word, what
changed since, and an approval counts only while that view is there and is the one its fingerprint names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from mailpipe.checks import Context
from mailpipe.errors import MailpipeError
from mailpipe.load.config import ReviewSettings, SiteConfig
from mailpipe.render import NEEDS_APPROVED_TEXT, RenderedEmail
from mailpipe.util.files import NotARegularFile, NotUtf8, TooLarge, decode_utf8, read_regular_file

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROLES = ("medical", "legal")
APPROVALS_FILE = "approvals.tsv"
HEADER = (
    "# mailpipe review sign-offs: one line per approval, written by `mailpipe review approve/revoke` (do not edit "
    "by hand: each line is signed with its reviewer's key).\n"
    "# email\trole\tfingerprint\tdate\treviewer\tsignature\n"
)
MAX_APPROVALS_FILE = 5_000_000
_EMAIL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
TREATMENT = re.compile(
    r"\b(botox|onabotulinumtoxin\w*|botulinum|injections?|medications?|medicines?|prescriptions?|treatments?|"
    r"peels?|facials?|microneedling|laser|fillers?)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")


def recipient_view(context: Context) -> str:
    """What a recipient sees of an email (parsed once, as the checks parse it), as text a reviewer can read: the thing
    an approval signs."""
    email, sender = context.email, context.site.sender
    lines = [
        f"From: {sender.from_name} <{sender.reply_to}>",
        f"Subject: {email.subject}",
        f"Preheader: {email.preheader}",
        "",
        "Links:",
    ]
    lines += [f"  {href}" for _, href, _ in context.links]
    lines += ["", "Images:"] + [f"  {img.get('src', '')} (alt: {img.get('alt', '')})" for img in context.images]
    lines += ["", "Text:"] + _SENTENCE_END.split(context.visible_text)
    return "\n".join(lines) + "\n"


def fingerprint(view: str) -> str:
    return hashlib.sha256(view.encode()).hexdigest()


def names_treatment(context: Context) -> bool:
    """Whether the email names a drug or treatment anywhere a recipient reads it: the inbox's two lines or the copy."""
    return context.email.mentions_botox or bool(TREATMENT.search(context.inbox_and_copy))


def required_roles(context: Context) -> tuple[str, ...]:
    settings: ReviewSettings = context.site.review
    wanted = set(settings.roles[context.email.kind])  # type: ignore[index]  # every kind has roles: config validates it
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
    signature: str  # the reviewer's, over `signed_text()`

    def signed_text(self) -> bytes:
        """What the reviewer signs: every field of the line but the signature."""
        return (
            f"mailpipe sign-off\nemail: {self.email}\nrole: {self.role}\nfingerprint: {self.fingerprint}\n"
            f"date: {self.date.isoformat()}\nreviewer: {self.reviewer}\n"
        ).encode()

    def line(self) -> str:
        return (
            f"{self.email}\t{self.role}\t{self.fingerprint}\t{self.date.isoformat()}\t{self.reviewer}\t"
            f"{self.signature}\n"
        )


class SignOff(StrEnum):
    """Where one role's sign-off of an email stands."""

    APPROVED = "approved"
    CHANGED = "changed"  # approved, then the email changed
    MISSING = "missing"
    INVALID = "invalid"  # a line that does not verify: not signed by a reviewer of the role, or its view is gone


@dataclass(frozen=True)
class RoleState:
    role: str
    state: SignOff
    approval: Approval | None
    why: str = ""  # INVALID: what is wrong with the line


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
        invalid = [f"its {r.role} sign-off does not count: {r.why}" for r in self.roles if r.state == SignOff.INVALID]
        parts = (
            invalid
            + ([f"changed since its {' and '.join(changed)} approval"] if changed else [])
            + ([f"needs {' and '.join(missing)} sign-off"] if missing else [])
        )
        return "; ".join(parts)


class Reviews:
    """The sign-offs of a project: `reviews/approvals.tsv`, the views they approved and the reviewers' keys."""

    def __init__(self, folder: Path):
        from mailpipe.review.signing import load_reviewers

        self.folder = folder
        self.file = folder / APPROVALS_FILE
        self.reviewers = load_reviewers(folder)
        self.approvals: dict[tuple[str, str], Approval] = {}
        if self.file.exists() or self.file.is_symlink():
            self._read()

    def _read(self) -> None:
        for number, line in enumerate(_read_text(self.file, MAX_APPROVALS_FILE).splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            try:
                email, role, print_, day, reviewer, signature = fields
                approval = Approval(email, role, print_, dt.date.fromisoformat(day), reviewer, signature)
            except ValueError:
                raise MailpipeError(
                    f"{self.file}:{number}: expected email, role, fingerprint, date, reviewer and signature separated "
                    "by tabs; restore the file from git"
                ) from None
            if role not in ROLES:
                raise MailpipeError(f"{self.file}:{number}: role: expected one of {', '.join(ROLES)}, got {role!r}")
            if not _EMAIL_ID.fullmatch(email) or not _FINGERPRINT.fullmatch(print_):
                field, value = ("email", email) if not _EMAIL_ID.fullmatch(email) else ("fingerprint", print_)
                raise MailpipeError(
                    f"{self.file}:{number}: {field}: {value[:80]!r} is not one mailpipe writes; restore the file "
                    "from git"
                )
            self.approvals[(email, role)] = approval

    def state(self, email: RenderedEmail, site: SiteConfig) -> ReviewState:
        context = Context(email, site)
        current = fingerprint(recipient_view(context))
        roles = []
        for role in required_roles(context):
            approval = self.approvals.get((email.id, role))
            if approval is None:
                roles.append(RoleState(role, SignOff.MISSING, None))
                continue
            why = self.invalid(approval)
            if why:
                roles.append(RoleState(role, SignOff.INVALID, approval, why))
            else:
                roles.append(
                    RoleState(role, SignOff.APPROVED if approval.fingerprint == current else SignOff.CHANGED, approval)
                )
        return ReviewState(email.id, tuple(roles))

    def invalid(self, approval: Approval) -> str:
        """Why an approval line does not count ('' when it does): it must be signed, over every field, by the key of
        the reviewer it names, who holds its role in reviews/reviewers.yaml, and the view it approved must be there
        and be the one its fingerprint names."""
        from mailpipe.review.signing import REVIEWERS_FILE, verify

        reviewer = next((r for r in self.reviewers if r.name == approval.reviewer), None)
        if reviewer is None:
            return f"{approval.reviewer!r} is not a reviewer in reviews/{REVIEWERS_FILE}"
        if approval.role not in reviewer.roles:
            return f"{reviewer.name} does not sign off {approval.role} in reviews/{REVIEWERS_FILE}"
        verified = verify(approval.signature, approval.signed_text(), reviewer)
        if not verified.ok:
            return verified.why
        view = self.approved_view(approval)
        if view is None:
            return f"the view it approved is missing from {self.folder}/approved (restore it from git)"
        if fingerprint(view) != approval.fingerprint:
            return f"the view it approved in {self.folder}/approved was changed since"
        return ""

    def latest(self, email_id: str, role: str | None = None) -> Approval | None:
        """The most recent approval of an email (of one role, if given): what `diff` compares with."""
        found = [a for (e, r), a in self.approvals.items() if e == email_id and role in (None, r)]
        return max(found, key=lambda a: a.date) if found else None

    def approved_view(self, approval: Approval) -> str | None:
        path = self._view_path(approval.email, approval.fingerprint)
        if not path.is_file():
            return None
        return _read_text(path, MAX_APPROVALS_FILE)

    def approve(
        self,
        email: RenderedEmail,
        site: SiteConfig,
        role: str,
        key: Ed25519PrivateKey,
        day: dt.date,
        warnings: tuple[str, ...] = (),
    ) -> Approval | None:
        """Record an approval of the email as it is now, signed with the reviewer's key, with the check warnings the
        reviewer was shown; None when this exact version already has a good approval for `role`."""
        from mailpipe.review.signing import REVIEWERS_FILE, key_fingerprint, public_blob, sign

        reviewer = next((r for r in self.reviewers if public_blob(r.public_key) == public_blob(key.public_key())), None)
        if reviewer is None:
            raise MailpipeError(
                f"the key {key_fingerprint(key.public_key())} is not in reviews/{REVIEWERS_FILE}; a reviewer's public "
                "key is added there (and reviewed in git) before they sign off"
            )
        if role not in reviewer.roles:
            raise MailpipeError(
                f"{reviewer.name} signs off {', '.join(reviewer.roles)}, not {role} (reviews/{REVIEWERS_FILE})"
            )
        context = Context(email, site)
        needed = required_roles(context)
        if role not in needed:
            raise MailpipeError(
                f"{email.id} does not need a {role} sign-off (it needs: {', '.join(needed) or 'none'}; "
                "see review: in mailpipe.yaml)"
            )
        view = recipient_view(context)
        unsigned = Approval(email.id, role, fingerprint(view), day, reviewer.name, "")
        existing = self.approvals.get((email.id, role))
        if existing is not None and existing.fingerprint == unsigned.fingerprint and not self.invalid(existing):
            return None
        approval = dataclasses.replace(unsigned, signature=sign(key, unsigned.signed_text()))
        try:
            _write(self._view_path(email.id, approval.fingerprint), view)
            if warnings:  # (none: no file)
                _write(self._warnings_path(email.id, approval.fingerprint), "".join(f"{w}\n" for w in warnings))
            self.approvals[(email.id, role)] = approval
            self._save()
        except OSError as err:
            raise MailpipeError(f"{self.folder}: cannot record the sign-off: {err.strerror} ({err.filename})") from None
        return approval

    def revoke(self, email_id: str, role: str) -> Approval:
        approval = self.approvals.pop((email_id, role), None)
        if approval is None:
            raise MailpipeError(f"{email_id} has no {role} approval to revoke")
        try:
            self._save()
        except OSError as err:
            raise MailpipeError(f"{self.folder}: cannot record the change: {err.strerror} ({err.filename})") from None
        return approval

    def _view_path(self, email_id: str, print_: str) -> Path:
        return self.folder / "approved" / email_id / f"{print_}.txt"

    def _warnings_path(self, email_id: str, print_: str) -> Path:
        return self.folder / "approved" / email_id / f"{print_}.warnings"

    def accepted_warnings(self, approval: Approval) -> list[str]:
        """The check warnings the reviewer saw when approving (one per line: 'RULE: what')."""
        path = self._warnings_path(approval.email, approval.fingerprint)
        return _read_text(path, MAX_APPROVALS_FILE).splitlines() if path.is_file() else []

    def _save(self) -> None:
        _write(self.file, HEADER + "".join(a.line() for _, a in sorted(self.approvals.items())))
        kept = {
            path
            for a in self.approvals.values()
            for path in (self._view_path(a.email, a.fingerprint), self._warnings_path(a.email, a.fingerprint))
        }
        for old in (self.folder / "approved").glob("*/*.*"):
            if old not in kept and old.is_file() and old.suffix in (".txt", ".warnings"):
                old.unlink()
                if not any(old.parent.iterdir()):
                    old.parent.rmdir()


def _read_text(path: Path, limit: int) -> str:
    """A file of the reviews folder as text, or one clear error: not a regular file (a FIFO would hang the read), too
    large, or not UTF-8."""
    try:
        return decode_utf8(read_regular_file(path, limit))
    except NotARegularFile:
        raise MailpipeError(f"{path}: expected a file mailpipe wrote; restore it from git") from None
    except TooLarge:
        raise MailpipeError(f"{path}: larger than {limit:,} bytes; restore it from git") from None
    except OSError as err:
        raise MailpipeError(f"{path}: cannot read it: {err.strerror}") from None
    except NotUtf8 as err:
        raise MailpipeError(f"{path}:{err.line}: not UTF-8 text (byte 0x{err.byte:02x}); restore it from git") from None


def _write(path: Path, text: str) -> None:
    """Write whole or not at all: a crash leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class SignOffGate:
    """What a real account's client asks before it uploads an email: verified sign-offs of exactly this version, read
    from the reviews folder when first asked (a command that uploads nothing never reads it)."""

    def __init__(self, folder: Path, site: SiteConfig):
        self.folder = folder
        self.site = site
        self._reviews: Reviews | None = None

    def refusal(self, email: RenderedEmail) -> str | None:
        if self._reviews is None:
            self._reviews = Reviews(self.folder)
        if email.unapproved_text:
            return (
                f"it shows {', '.join('templates/' + name for name in email.unapproved_text)}, still marked "
                f"{NEEDS_APPROVED_TEXT} (the approved wording replaces it before go-live)"
            )
        state = self._reviews.state(email, self.site)
        if not state.roles:
            return "no sign-off is required of it, and a real account takes only signed-off emails"
        return None if state.approved else state.summary


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
