"""Reviewers' signatures: who may sign off, with which key, and the check that a sign-off was made with it.

A sign-off is signed with the reviewer's own Ed25519 key, in OpenSSH's signature format (SSHSIG, PROTOCOL.sshsig) as
git's SSH signing makes it, so `ssh-keygen -Y verify` checks it too. The public keys are in `reviews/reviewers.yaml`,
each with the reviewer's name and roles; the private key stays with the reviewer, and without it nobody who can edit
the repository can write a sign-off that verifies.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AfterValidator, Field

from mailpipe.errors import InputError, MailpipeError, Problem
from mailpipe.load.config import Role
from mailpipe.load.yamlfile import NonEmpty, field_name, parse_yaml, read_text, schema, validate
from mailpipe.util.files import NotARegularFile, TooLarge, read_regular_file

REVIEWERS_FILE = "reviewers.yaml"
NAMESPACE = b"mailpipe-sign-off"  # a signature made for a sign-off is no good as anything else (a git commit's)
_MAGIC = b"SSHSIG"
_HASH = b"sha512"
_KEY_TYPE = b"ssh-ed25519"
MAX_KEY_FILE = 20_000  # an OpenSSH private key file is a few hundred bytes


def _printable_name(name: str) -> str:
    """A reviewer's name as every screen shows it the same: no control, format (zero-width) or separator characters
    other than single spaces."""
    odd = [c for c in name if unicodedata.category(c)[0] in "CZ" and c != " "]
    if odd or name != " ".join(name.split()):
        raise ValueError(
            f"{name!r}: expected the name as it is shown, in printable characters with single spaces (found "
            f"{', '.join(f'U+{ord(c):04X}' for c in odd) or 'extra spaces'})"
        )
    return name


def _public_key(text: str) -> str:
    public_key_from_text(text)
    return text


@schema
class Reviewer:
    name: Annotated[NonEmpty, Field(max_length=120), AfterValidator(_printable_name)]
    roles: Annotated[list[Role], Field(min_length=1)]
    key: Annotated[NonEmpty, Field(max_length=2000), AfterValidator(_public_key)]

    @property
    def public_key(self) -> Ed25519PublicKey:
        return public_key_from_text(self.key)

    @property
    def key_fingerprint(self) -> str:
        """As `ssh-keygen -l` shows it, so a reviewer can compare with their own key."""
        return key_fingerprint(self.public_key)


@schema
class ReviewersFile:
    reviewers: list[Reviewer]


def load_reviewers(folder: Path) -> list[Reviewer]:
    """The reviewers of `reviews/reviewers.yaml` (none when there is no such file): each name once, each key once."""
    file = folder / REVIEWERS_FILE
    if not (file.exists() or file.is_symlink()):
        return []
    doc = parse_yaml(read_text(file), file)
    found, problems = validate(ReviewersFile, doc, "the reviewers file")
    if problems:
        raise InputError(problems)
    reviewers: list[Reviewer] = found.reviewers
    for index, reviewer in enumerate(reviewers):
        for earlier in reviewers[:index]:
            same = (
                "name"
                if earlier.name == reviewer.name
                else "key"
                if earlier.key_fingerprint == reviewer.key_fingerprint
                else ""
            )
            if same:
                loc = ("reviewers", index, same)
                problem = Problem(file, doc.line_of(loc), field_name(loc), f"the same {same} as {earlier.name!r} above")
                raise InputError([problem])
    return reviewers


@functools.lru_cache(maxsize=256)
def public_key_from_text(text: str) -> Ed25519PublicKey:
    """An `ssh-ed25519 AAAA… comment` line (a reviewer's `~/.ssh/id_ed25519.pub`)."""
    try:
        key = serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode())
    except (ValueError, UnsupportedAlgorithm, binascii.Error):
        raise ValueError(
            "expected a public key line as `ssh-keygen -t ed25519` writes it: ssh-ed25519 AAAA… name"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("expected an ssh-ed25519 key (make one with `ssh-keygen -t ed25519`)")
    return key


def key_fingerprint(key: Ed25519PublicKey) -> str:
    digest = hashlib.sha256(public_blob(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def load_private_key(path: Path, passphrase: str | None = None) -> Ed25519PrivateKey:
    """A reviewer's private key file (`ssh-keygen -t ed25519`); a passphrase-protected one needs `passphrase`."""
    try:
        data = read_regular_file(path, MAX_KEY_FILE)
    except (NotARegularFile, TooLarge):
        raise MailpipeError(f"{path}: expected an OpenSSH private key file (ssh-keygen -t ed25519)") from None
    except OSError as err:
        raise MailpipeError(f"{path}: cannot read the key: {err.strerror}") from None
    try:
        key = serialization.load_ssh_private_key(data, passphrase.encode() if passphrase is not None else None)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a key that has none
        raise NeedsPassphrase(f"{path}: the key is protected by a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise MailpipeError(
            f"{path}: not an OpenSSH private key, or the passphrase is wrong (make a key with ssh-keygen -t ed25519)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise MailpipeError(f"{path}: expected an ed25519 key (ssh-keygen -t ed25519)")
    return key


class NeedsPassphrase(MailpipeError):
    """The key file is encrypted: ask for its passphrase, then load it again."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def public_blob(key: Ed25519PublicKey) -> bytes:
    """The key in SSH's wire form: what a signature names and a fingerprint hashes."""
    return _string(_KEY_TYPE) + _string(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def _signed_data(message: bytes, hash_name: bytes = _HASH) -> bytes:
    """What the key signs: the namespace and the message's hash (sha512 when we sign; ssh-keygen may use sha256)."""
    digest = hashlib.new(hash_name.decode(), message).digest()
    return _MAGIC + _string(NAMESPACE) + _string(b"") + _string(hash_name) + _string(digest)


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """An SSHSIG signature of `message`, as one line of base64 (the armour of `ssh-keygen -Y sign` without its header,
    footer and line breaks)."""
    signature = key.sign(_signed_data(message))
    blob = (
        _MAGIC
        + struct.pack(">I", 1)
        + _string(public_blob(key.public_key()))
        + _string(NAMESPACE)
        + _string(b"")
        + _string(_HASH)
        + _string(_string(_KEY_TYPE) + _string(signature))
    )
    return base64.b64encode(blob).decode()


def armoured(signature: str) -> str:
    """The signature as `ssh-keygen -Y sign` writes it to a file."""
    lines = [signature[i : i + 70] for i in range(0, len(signature), 70)]
    return "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"


@dataclass(frozen=True)
class Verified:
    """Whether a signature is good, and when not, why (for the reviewer's screen)."""

    ok: bool
    why: str = ""


def verify(signature: str, message: bytes, reviewer: Reviewer) -> Verified:
    """Whether `signature` over `message` was made with `reviewer`'s key, in mailpipe's namespace."""
    try:
        blob = base64.b64decode("".join(signature.split()), validate=True)
        fields = _read_fields(blob)
    except (binascii.Error, ValueError, struct.error):
        return Verified(False, "the signature is not one (damaged, or not written by `mailpipe review approve`)")
    public, namespace, _reserved, hash_name, wrapped = fields
    if namespace != NAMESPACE or hash_name not in (b"sha512", b"sha256"):
        return Verified(False, "the signature was made for something other than a mailpipe sign-off")
    if public != public_blob(reviewer.public_key):
        return Verified(False, f"the signature was not made with {reviewer.name}'s key in reviews/{REVIEWERS_FILE}")
    try:
        kind, raw = _read_strings(wrapped, 2)
    except (ValueError, struct.error):
        return Verified(False, "the signature is damaged")
    if kind != _KEY_TYPE:
        return Verified(False, "the signature is not an ssh-ed25519 one")
    try:
        reviewer.public_key.verify(raw, _signed_data(message, hash_name))
    except InvalidSignature:
        return Verified(False, "the signature does not match what it claims to sign (the line was changed)")
    return Verified(True)


def _read_fields(blob: bytes) -> list[bytes]:
    """The five fields of an SSHSIG blob. Its message, like `_read_strings`', never reaches anyone (`no mutate`)."""
    if not blob.startswith(_MAGIC) or blob[6:10] != struct.pack(">I", 1):
        raise ValueError("not an SSHSIG version 1 blob")  # pragma: no mutate
    return _read_strings(blob[10:], 5)


def _read_strings(data: bytes, count: int) -> list[bytes]:
    """SSH strings, exactly `count` of them and nothing after. Equivalent mutants are marked (`no mutate`): the
    messages never reach anyone (`verify` says "the signature is not one"), and a field running past the end is also
    refused by the last check, whatever the first makes of it."""
    fields, at = [], 0
    for _ in range(count):
        (length,) = struct.unpack_from(">I", data, at)  # pragma: no mutate (">i" misreads 2**31+: refused all the same)
        at += 4
        if at + length > len(data):  # pragma: no mutate (the last check refuses the same blob)
            raise ValueError("a field runs past the end")  # pragma: no mutate
        fields.append(data[at : at + length])
        at += length
    if at != len(data):
        raise ValueError("bytes after the last field")  # pragma: no mutate
    return fields
