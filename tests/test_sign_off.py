"""Sign-offs nobody can forge by editing the repository: each approval signed with its reviewer's Ed25519 key, checked
against reviews/reviewers.yaml and the recorded view, and a gate on a real account that no caller can leave out."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import add_reviewer, edit, make_ready
from mailpipe.checks import Context
from mailpipe.project import Project
from mailpipe.push.mailchimp import Connection, Mailchimp
from mailpipe.push.target import provision
from mailpipe.review import Approval, Reviews, fingerprint, recipient_view
from mailpipe.review.signing import NAMESPACE, Reviewer, key_fingerprint, load_private_key, sign, verify
from mailpipe.sandbox.server import RunningSandbox

FIRST, SPECIAL = "what-causes-migraine", "specials-2024-05"
NOW = dt.datetime(2024, 4, 20, 16, tzinfo=dt.UTC)  # Saturday 09:00 in Agoura Hills
DUE = "2024-04-20T16:00:00Z"  # the lead imported below is due step 1 (FIRST) then


def approvals(project: Path) -> Path:
    return project / "reviews" / "approvals.tsv"


def line_of(project: Path, email_id: str, role: str) -> str:
    return next(
        line for line in approvals(project).read_text().splitlines() if line.startswith(f"{email_id}\t{role}\t")
    )


def replace_line(project: Path, old: str, new: str) -> None:
    approvals(project).write_text(approvals(project).read_text().replace(old + "\n", new + "\n"))


def current_view(project: Path, email_id: str) -> str:
    rendered = Project(project).rendered()
    return recipient_view(Context(next(e for e in rendered.emails if e.id == email_id), rendered.site))


def forge(project: Path, email_id: str, role: str, signature: str, reviewer: str = "Dana Lee, MD") -> None:
    """What someone who can edit the repository, without the reviewer's key, writes: the view of the email as it is
    now kept where an approval keeps it, and its line (with `signature`) in place of the real one."""
    view = current_view(project, email_id)
    print_ = fingerprint(view)
    (project / "reviews" / "approved" / email_id).mkdir(parents=True, exist_ok=True)
    (project / "reviews" / "approved" / email_id / f"{print_}.txt").write_text(view)
    forged = Approval(email_id, role, print_, dt.date(2024, 4, 19), reviewer, signature).line().rstrip("\n")
    replace_line(project, line_of(project, email_id, role), forged)


def status_of(run_cli, project: Path, email_id: str) -> dict:
    result = run_cli(project, "review", "status", "--json")
    assert result.exit_code == 0, result.output
    return next(e for e in json.loads(result.stdout)["emails"] if e["email"] == email_id)


# -- every way to forge a line, judged as `review status` and push judge it ------------------------------------------


def _no_signature(project, keys):
    forge(project, FIRST, "medical", "")


def _made_up_signature(project, keys):
    forge(project, FIRST, "medical", base64.b64encode(os.urandom(300)).decode())


def _signed_with_another_key(project, keys):
    """Mallory signs with her own key (not in reviewers.yaml) over exactly the fields of the line."""
    view = current_view(project, FIRST)
    line = Approval(FIRST, "medical", fingerprint(view), dt.date(2024, 4, 19), "Dana Lee, MD", "")
    forge(project, FIRST, "medical", sign(Ed25519PrivateKey.generate(), line.signed_text()))


def _signature_copied_from_another_line(project, keys):
    forge(project, FIRST, "medical", line_of(project, "four-stages-of-migraine", "medical").split("\t")[5])


def _old_signature_over_new_content(project, keys):
    """The article is changed and the line's fingerprint (a public hash) moved to the new version."""
    signature = line_of(project, FIRST, "medical").split("\t")[5]
    edit(project / "content/articles/01-what-causes-migraine.md", "A migraine is more than", "A migraine is just")
    forge(project, FIRST, "medical", signature)


def _date_changed(project, keys):
    line = line_of(project, FIRST, "medical")
    replace_line(project, line, line.replace("\t2024-04-19\t", "\t2024-04-22\t"))


def _reviewer_renamed(project, keys):
    line = line_of(project, FIRST, "medical")
    replace_line(project, line, line.replace("\tDana Lee, MD\t", "\tDana Lee, MD, PhD\t"))


def _legal_line_made_medical(project, keys):
    legal = line_of(project, SPECIAL, "legal")
    replace_line(project, line_of(project, SPECIAL, "medical"), legal.replace("\tlegal\t", "\tmedical\t"))


def _approved_view_deleted(project, keys):
    (project / "reviews" / "approved" / FIRST / f"{line_of(project, FIRST, 'medical').split(chr(9))[2]}.txt").unlink()


def _approved_view_edited(project, keys):
    view = project / "reviews" / "approved" / FIRST / f"{line_of(project, FIRST, 'medical').split(chr(9))[2]}.txt"
    view.write_text(view.read_text().replace("migraine", "headache", 1))


def _signed_by_a_reviewer_without_the_role(project, keys):
    """Sam, a legal reviewer, signs a medical line with his own key."""
    sam = load_private_key(add_reviewer(project, keys, "Sam Roe, JD", ["legal"]))
    view = current_view(project, FIRST)
    line = Approval(FIRST, "medical", fingerprint(view), dt.date(2024, 4, 19), "Sam Roe, JD", "")
    forge(project, FIRST, "medical", sign(sam, line.signed_text()), reviewer="Sam Roe, JD")


FORGERIES = {
    "no signature": (_no_signature, FIRST, "the signature is not one"),
    "made-up signature": (_made_up_signature, FIRST, "the signature is not one"),
    "signed with a key not in reviewers.yaml": (_signed_with_another_key, FIRST, "not made with Dana Lee, MD's key"),
    "signature copied from another line": (_signature_copied_from_another_line, FIRST, "does not match"),
    "fingerprint moved to changed content": (_old_signature_over_new_content, FIRST, "does not match"),
    "date changed": (_date_changed, FIRST, "does not match"),
    "reviewer renamed": (_reviewer_renamed, FIRST, "'Dana Lee, MD, PhD' is not a reviewer"),
    "legal line turned medical": (_legal_line_made_medical, SPECIAL, "does not match"),
    "approved view deleted": (_approved_view_deleted, FIRST, "the view it approved is missing"),
    "approved view edited": (_approved_view_edited, FIRST, "was changed since"),
    "signed by a reviewer without the role": (
        _signed_by_a_reviewer_without_the_role,
        FIRST,
        "Sam Roe, JD does not sign off medical",
    ),
}


@pytest.mark.parametrize("how", FORGERIES)
def test_a_line_not_signed_by_its_reviewer_does_not_count(project, run_cli, tmp_path, how):
    """Every line starts signed by Dana Lee; each forgery leaves the email unapproved, saying why."""
    make_ready(project)
    assert status_of(run_cli, project, FIRST)["approved"] and status_of(run_cli, project, SPECIAL)["approved"]
    tamper, email_id, why = FORGERIES[how]
    tamper(project, tmp_path / "keys")
    state = status_of(run_cli, project, email_id)
    assert not state["approved"]
    assert any(r["state"] == "invalid" and why in r["why"] for r in state["roles"]), state


def test_status_names_the_sign_off_that_does_not_count(project, run_cli):
    make_ready(project)
    forge(project, FIRST, "medical", "")
    result = run_cli(project, "review", "status")
    assert result.exit_code == 0 and "✗ does not verify" in result.stdout
    assert f"✗ {FIRST}: its medical sign-off does not count: the signature is not one" in result.stdout


# -- end to end: a real account (a server on this machine taken for one) -------------------------------------------


@pytest.fixture
def real_account(project, tmp_path, monkeypatch, wall_clock, run_cli):
    """The project ready for go-live (every email signed by Dana Lee), an account that passed the probe, and a lead
    imported who is due the first article at DUE."""
    key = make_ready(project)
    wall_clock(NOW)
    site = Project(project).rendered().site
    with RunningSandbox(tmp_path / "account.sqlite3") as sandbox:
        sandbox.store.set_clock(NOW)
        provision(sandbox.store, site)
        monkeypatch.setenv("MAILCHIMP_API_KEY", "good-us1")
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", sandbox.url)
        monkeypatch.setenv("MAILPIPE_AS_REAL_ACCOUNT", "1")
        csv = tmp_path / "leads.csv"
        csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-19T10:00,yes\n")
        assert run_cli(project, "leads", "import", str(csv), "--audience", "new-consult").exit_code == 0
        assert run_cli(project, "doctor", "--probe").exit_code == 0
        yield sandbox, key


def campaigns_with_content(sandbox) -> list[tuple[str, str]]:
    found = []
    for campaign in sandbox.store.list_campaigns({})["campaigns"]:
        html = sandbox.store.get_content(campaign["id"]).get("html") or ""
        if html:
            found.append((campaign["settings"]["title"], campaign["status"]))
    return found


def test_a_hand_written_sign_off_does_not_send_to_a_real_account_and_the_reviewers_does(project, run_cli, real_account):
    """The issue's forgery through the CLI: the fingerprint computed, the view kept, the line appended with the
    reviewer's name. Push refuses the email and uploads nothing; once the reviewer signs it, it goes out."""
    sandbox, key = real_account
    assert run_cli(project, "review", "revoke", FIRST, "--role", "medical").exit_code == 0
    view = current_view(project, FIRST)
    (project / "reviews" / "approved" / FIRST).mkdir(parents=True, exist_ok=True)
    (project / "reviews" / "approved" / FIRST / f"{fingerprint(view)}.txt").write_text(view)
    with approvals(project).open("a") as file:
        file.write(f"{FIRST}\tmedical\t{fingerprint(view)}\t2024-04-01\tDana Lee, MD\t\n")

    forged = run_cli(project, "push", "--now", DUE)
    assert forged.exit_code == 1 and "Traceback" not in forged.output
    assert f"{FIRST} is not signed off: its medical sign-off does not count" in forged.stderr
    assert campaigns_with_content(sandbox) == []

    approved = run_cli(project, "review", "approve", FIRST, "--role", "medical", "--key", str(key))
    assert approved.exit_code == 0, approved.output
    signed = run_cli(project, "push", "--now", DUE)
    assert signed.exit_code == 0, signed.output
    assert campaigns_with_content(sandbox) == [("mp-e1-s01-2024-04-20", "schedule")]


def test_an_email_needing_two_sign_offs_with_one_of_them_does_not_go_to_a_real_account(project, run_cli, real_account):
    """The May newsletter needs medical and legal sign-off: with its medical approval alone it is refused (and nothing
    uploaded), naming the one missing; with both, it is scheduled."""
    sandbox, key = real_account
    newsletter, may = "newsletter-2024-05", "2024-05-07T16:00:00Z"  # first Tuesday, 09:00 local: due at 10:00
    patients = project.parent / "patients.csv"
    patients.write_text("email,first_name,joined,consent\npat@example.com,Pat,2024-01-10T10:00,yes\n")
    assert run_cli(project, "leads", "import", str(patients), "--audience", "existing-patient").exit_code == 0
    assert run_cli(project, "review", "revoke", newsletter, "--role", "legal").exit_code == 0
    roles = {r["role"]: r["state"] for r in status_of(run_cli, project, newsletter)["roles"]}
    assert roles == {"medical": "approved", "legal": "missing"}
    refused = run_cli(project, "push", "--now", may)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert f"{newsletter} is not signed off: needs legal sign-off" in refused.stderr
    assert not [c for c in campaigns_with_content(sandbox) if c[0] == "mp-m1-2024-05"]
    assert run_cli(project, "review", "approve", newsletter, "--role", "legal", "--key", str(key)).exit_code == 0
    signed = run_cli(project, "push", "--now", may)
    assert ("mp-m1-2024-05", "schedule") in campaigns_with_content(sandbox), signed.output


def test_no_caller_can_leave_the_gate_out(project, run_cli, real_account, monkeypatch):
    """Push's own refusals gone (as if a caller passed no sign-offs): the client of a real account still checks each
    email itself and uploads nothing unsigned."""
    sandbox, _ = real_account
    assert run_cli(project, "review", "revoke", FIRST, "--role", "medical").exit_code == 0
    monkeypatch.setattr("mailpipe.push.refusals", lambda *args, **kwargs: {})
    result = run_cli(project, "push", "--now", DUE)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"not uploading {FIRST} to a real Mailchimp account: needs medical sign-off" in result.stderr
    assert campaigns_with_content(sandbox) == []


def test_a_client_for_a_real_account_cannot_be_made_without_the_gate():
    with pytest.raises(ValueError, match="checks every email's sign-off itself"):
        Mailchimp(Connection("0123456789abcdef-us7", "https://us7.api.mailchimp.com/3.0"))
    assert not Mailchimp(Connection("k-us1", "http://127.0.0.1:9/3.0")).real_account  # a server on this machine


def test_the_sender_name_is_part_of_what_is_signed_off(project, run_cli):
    make_ready(project)
    edit(project / "mailpipe.yaml", "from_name: AIVI Aesthetics", 'from_name: "Dr. Lee\'s Botox Cure"')
    state = status_of(run_cli, project, FIRST)
    assert not state["approved"] and state["roles"][0]["state"] == "changed"


# -- keys ---------------------------------------------------------------------------------------------------------


def test_a_passphrase_protected_key_signs_after_the_passphrase_and_a_wrong_one_is_one_line(
    project, run_cli, tmp_path, wall_clock, monkeypatch
):
    wall_clock(NOW)
    key = add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical"], passphrase=b"correct horse")
    monkeypatch.delenv("MAILPIPE_REVIEW_KEY", raising=False)
    from mailpipe.review.signing import NeedsPassphrase

    with pytest.raises(NeedsPassphrase) as asked:  # what makes `approve` ask for the passphrase
        load_private_key(key)
    assert str(asked.value) == f"{key}: the key is protected by a passphrase"
    args = ("review", "approve", FIRST, "--role", "medical", "--key", str(key))
    from click.testing import CliRunner

    from mailpipe.cli import main

    wrong = CliRunner().invoke(main, ["--project", str(project), *args], input="battery staple\n")
    assert wrong.exit_code == 1 and "not an OpenSSH private key, or the passphrase is wrong" in wrong.stderr
    assert not approvals(project).exists()
    right = CliRunner().invoke(main, ["--project", str(project), *args], input="correct horse\n")
    assert right.exit_code == 0, right.output
    assert Reviews(project / "reviews").state(Project(project).email(FIRST), Project(project).site).approved


def test_a_key_inside_the_project_or_not_in_reviewers_is_refused(project, run_cli, tmp_path, wall_clock):
    wall_clock(NOW)
    key = add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical"])
    inside = project / "dana.key"
    shutil.copy(key, inside)
    refused = run_cli(project, "review", "approve", FIRST, "--role", "medical", "--key", str(inside))
    assert refused.exit_code == 1 and "is inside the project, where it would be committed" in refused.stderr
    stranger = tmp_path / "stranger"
    stranger.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    unknown = run_cli(project, "review", "approve", FIRST, "--role", "medical", "--key", str(stranger))
    assert unknown.exit_code == 1 and "is not in reviews/reviewers.yaml" in unknown.stderr
    legal_only = add_reviewer(project, tmp_path / "keys", "Sam Roe, JD", ["legal"])
    wrong_role = run_cli(project, "review", "approve", FIRST, "--role", "medical", "--key", str(legal_only))
    assert wrong_role.exit_code == 1 and "Sam Roe, JD signs off legal, not medical" in wrong_role.stderr
    assert not approvals(project).exists()


@pytest.mark.parametrize(
    ("entry", "field", "expected"),
    [
        ({"key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7"}, "key", "expected a public key line"),
        ({"key": "not a key"}, "key", "expected a public key line"),
        ({"name": "Dana\x1b[2J Lee"}, "name", "(found U+001B)"),
        ({"name": "Dana\u200b Lee,\u00a0MD"}, "name", "(found U+200B, U+00A0)"),
        ({"name": "Dana  Lee, MD"}, "name", "(found extra spaces)"),
        ({"roles": []}, "roles", "at least 1"),
        ({"roles": ["marketing"]}, "roles", "medical"),
    ],
)
def test_a_bad_reviewers_file_is_one_line_naming_the_field(project, run_cli, tmp_path, entry, field, expected):
    import yaml

    add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical"])
    file = project / "reviews" / "reviewers.yaml"
    reviewers = yaml.safe_load(file.read_text())
    reviewers["reviewers"][0].update(entry)
    file.write_text(yaml.safe_dump(reviewers, allow_unicode=True))
    result = run_cli(project, "review", "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "reviewers.yaml:" in result.stderr and f"reviewers[1].{field}" in result.stderr and expected in result.stderr


def test_the_same_key_twice_in_reviewers_is_an_error(project, run_cli, tmp_path):
    import yaml

    add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical"])
    file = project / "reviews" / "reviewers.yaml"
    reviewers = yaml.safe_load(file.read_text())
    reviewers["reviewers"].append({**reviewers["reviewers"][0], "name": "Mallory", "roles": ["legal"]})
    file.write_text(yaml.safe_dump(reviewers))
    result = run_cli(project, "review", "status")
    assert (
        result.exit_code == 1
        and "reviewers.yaml:7: reviewers[2].key: the same key as 'Dana Lee, MD' above" in result.stderr
    )


def test_the_same_name_twice_in_reviewers_is_an_error(project, run_cli, tmp_path):
    """Two keys under one name would let a sign-off be credited to the wrong person: the second is refused."""
    add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["medical"])
    add_reviewer(project, tmp_path / "keys", "Dana Lee, MD", ["legal"])
    lines = (project / "reviews" / "reviewers.yaml").read_text().splitlines()
    second = [number for number, line in enumerate(lines, 1) if line.startswith("- name: Dana Lee, MD")][1]
    result = run_cli(project, "review", "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    said = f"reviewers.yaml:{second}: reviewers[2].name: the same name as 'Dana Lee, MD' above"
    assert result.stderr.strip().endswith(said)


@pytest.mark.parametrize("text", ["- Dana Lee, MD\n", "just a line\n"])
def test_a_reviewers_file_that_is_not_key_value_lines_says_so(project, run_cli, text):
    (project / "reviews").mkdir(exist_ok=True)
    (project / "reviews" / "reviewers.yaml").write_text(text)
    result = run_cli(project, "review", "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().endswith("reviewers.yaml:1: expected the reviewers file as 'key: value' lines")


# -- the official tool agrees ---------------------------------------------------------------------------------------

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")


@needs_ssh_keygen
def test_ssh_keygen_verifies_our_signatures_and_we_verify_its(tmp_path):
    """Both ways with OpenSSH's own implementation of the format (`ssh-keygen -Y sign/verify`, as git uses it), and
    the key fingerprint `doctor` shows is the one `ssh-keygen -l` shows."""
    keys = tmp_path / "keys"
    private_path = add_reviewer(tmp_path / "project", keys, "Dana Lee, MD", ["medical"])
    os.chmod(private_path, 0o600)
    key = load_private_key(private_path)
    public_line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    reviewer = Reviewer(name="Dana Lee, MD", roles=["medical"], key=public_line.decode())
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'dana namespaces="{NAMESPACE.decode()}" {public_line.decode()}\n')
    message = Approval(FIRST, "medical", "ab" * 32, dt.date(2024, 4, 19), "Dana Lee, MD", "").signed_text()
    (tmp_path / "message").write_bytes(message)

    ours = tmp_path / "ours.sig"
    from mailpipe.review.signing import armoured

    ours.write_text(armoured(sign(key, message)))

    def ssh_verify(signature: Path, data: bytes) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                "ssh-keygen",
                "-Y",
                "verify",
                "-f",
                str(allowed),
                "-I",
                "dana",
                "-n",
                NAMESPACE.decode(),
                "-s",
                str(signature),
            ],
            input=data,
            capture_output=True,
            check=False,
        )

    assert ssh_verify(ours, message).returncode == 0
    assert ssh_verify(ours, message.replace(b"medical", b"legal")).returncode != 0  # and it does check

    subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "sign",
            "-q",
            "-f",
            str(private_path),
            "-n",
            NAMESPACE.decode(),
            str(tmp_path / "message"),
        ],
        check=True,
        capture_output=True,
    )
    theirs = "".join((tmp_path / "message.sig").read_text().splitlines()[1:-1])
    assert verify(theirs, message, reviewer).ok
    assert not verify(theirs, message + b"x", reviewer).ok

    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(private_path)], capture_output=True, text=True, check=True)
    assert listed.stdout.split()[1] == key_fingerprint(key.public_key())


def _reviewer_and_approval() -> tuple[Ed25519PrivateKey, Reviewer, bytes]:
    """A new key, its reviewer (Dana Lee, medical) and the text of one of her approvals, to sign and verify."""
    key = Ed25519PrivateKey.generate()
    public_line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    reviewer = Reviewer(name="Dana Lee, MD", roles=["medical"], key=public_line.decode())
    message = Approval(FIRST, "medical", "ab" * 32, dt.date(2024, 4, 19), "Dana Lee, MD", "").signed_text()
    return key, reviewer, message


def test_a_signature_with_a_character_base64_does_not_have_is_not_one():
    """base64 decoding that skips what it cannot read would accept a signature with text slipped in: it is refused,
    while one split over lines and spaces (as an editor may wrap it) still verifies."""
    key, reviewer, message = _reviewer_and_approval()
    signature = sign(key, message)
    assert verify(signature, message, reviewer).ok
    assert verify(signature[:40] + " \n " + signature[40:], message, reviewer).ok
    for slipped in ("!", "é", "*"):
        damaged = verify(signature[:40] + slipped + signature[40:], message, reviewer)
        assert damaged.ok is False
        assert damaged.why == "the signature is not one (damaged, or not written by `mailpipe review approve`)"


def _sshsig(
    key, message: bytes, namespace=NAMESPACE, hash_name=b"sha512", kind=b"ssh-ed25519", magic=b"SSHSIG", wrapped=None
):
    """An SSHSIG blob written here from OpenSSH's PROTOCOL.sshsig (not with mailpipe's signer), each part settable."""
    import hashlib
    import struct

    def string(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.new(hash_name.decode(), message).digest()
    signed = b"SSHSIG" + string(namespace) + string(b"") + string(hash_name) + string(digest)
    raw = key.sign(signed)
    blob = (
        magic
        + struct.pack(">I", 1)
        + string(string(b"ssh-ed25519") + string(public))
        + string(namespace)
        + string(b"")
        + string(hash_name)
        + string(string(kind) + string(raw) if wrapped is None else wrapped)
    )
    return base64.b64encode(blob).decode()


@pytest.mark.parametrize(
    ("parts", "why"),
    [
        ({}, ""),
        ({"hash_name": b"sha256"}, ""),  # what ssh-keygen may choose
        ({"namespace": b"git"}, "the signature was made for something other than a mailpipe sign-off"),
        ({"namespace": b"git", "hash_name": b"sha256"}, "the signature was made for something other"),
        ({"kind": b"ssh-rsa"}, "the signature is not an ssh-ed25519 one"),
        ({"magic": b"SSHSIX"}, "the signature is not one (damaged, or not written by `mailpipe review approve`)"),
        ({"wrapped": b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x40short"}, "the signature is damaged"),
    ],
)
def test_a_signature_counts_only_as_an_ed25519_sshsig_made_for_a_sign_off(parts, why):
    """The same key's signature made for git (its namespace), or of another kind, is no sign-off; sha256 is as good
    as sha512 (ssh-keygen's choice)."""
    key, reviewer, message = _reviewer_and_approval()
    verified = verify(_sshsig(key, message, **parts), message, reviewer)
    assert verified.ok is (why == "") and verified.why.startswith(why), verified


def test_a_signature_another_key_made_is_not_the_reviewers():
    _, reviewer, message = _reviewer_and_approval()
    verified = verify(_sshsig(Ed25519PrivateKey.generate(), message), message, reviewer)
    assert verified.ok is False
    assert verified.why == f"the signature was not made with {reviewer.name}'s key in reviews/reviewers.yaml", verified


def test_a_signature_over_another_line_does_not_match_what_it_claims_to_sign():
    key, reviewer, message = _reviewer_and_approval()
    verified = verify(_sshsig(key, message), message.replace(b"medical", b"legal"), reviewer)
    assert verified.ok is False
    assert verified.why == "the signature does not match what it claims to sign (the line was changed)"


def test_a_signature_is_written_as_protocol_sshsig_lays_it_out_with_an_empty_reserved_field():
    """Read back here field by field from OpenSSH's PROTOCOL.sshsig, not with mailpipe's reader."""
    import struct

    key, _, message = _reviewer_and_approval()
    blob = base64.b64decode(sign(key, message))
    assert blob[:6] == b"SSHSIG" and struct.unpack(">I", blob[6:10]) == (1,)
    fields, rest = [], blob[10:]
    while rest:
        (size,) = struct.unpack(">I", rest[:4])
        fields.append(rest[4 : 4 + size])
        rest = rest[4 + size :]
    _public, namespace, reserved, hash_name, _wrapped = fields
    assert (namespace, reserved, hash_name) == (NAMESPACE, b"", b"sha512")


def _write_ecdsa_key(path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda path: path.mkdir(), "{path}: expected an OpenSSH private key file (ssh-keygen -t ed25519)"),
        (
            lambda path: path.write_text("not a key\n"),
            "{path}: not an OpenSSH private key, or the passphrase is wrong (make a key with ssh-keygen -t ed25519)",
        ),
        (_write_ecdsa_key, "{path}: expected an ed25519 key (ssh-keygen -t ed25519)"),
        (  # a regular file whose every read fails with EIO
            lambda path: path.symlink_to("/proc/self/mem"),
            "{path}: cannot read the key: Input/output error",
        ),
    ],
)
def test_a_private_key_file_that_is_not_a_reviewers_key_is_one_clear_error(tmp_path, make, said):
    from mailpipe.errors import MailpipeError

    path = tmp_path / "key"
    make(path)
    with pytest.raises(MailpipeError) as refused:
        load_private_key(path)
    assert str(refused.value) == said.format(path=path)
