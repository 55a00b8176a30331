"""Medical/legal sign-off: approvals pin what a recipient sees, survive template whitespace, and are one line each."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.request

import pytest

from conftest import edit, rendered_email
from mailpipe.checks import Context
from mailpipe.errors import MailpipeError
from mailpipe.preview import PreviewModel
from mailpipe.preview.server import RunningPreview
from mailpipe.project import Project
from mailpipe.review import Reviews, recipient_view, required_roles, review_states, word_diff

FIRST, BOTOX, SPECIAL = "what-causes-migraine", "how-botox-helps-prevent-migraine", "specials-2024-05"
REVIEWER = "Dana Lee, MD"


@pytest.fixture(autouse=True)
def review_day(wall_clock, reviewer_key):
    """Sign-offs are given on Monday 2024-04-22 (at 23:30 UTC, already the 22nd in Agoura Hills, not the 23rd), with
    Dana Lee's key."""
    wall_clock(dt.datetime(2024, 4, 22, 23, 30, tzinfo=dt.UTC))


def states(project):
    rendered = Project(project).rendered()
    return review_states(rendered.emails, rendered.site, Reviews(project / "reviews"))


def approve(run_cli, project, *args):
    return run_cli(project, "review", "approve", *args)


def test_approve_records_one_line_and_the_approved_view_and_re_approval_changes_nothing(project, run_cli):
    assert approve(run_cli, project, FIRST, "--role", "medical").exit_code == 0
    approvals = project / "reviews" / "approvals.tsv"
    lines = [line for line in approvals.read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 1 and lines[0].startswith(f"{FIRST}\tmedical\t") and lines[0].split("\t")[4] == REVIEWER
    assert lines[0].split("\t")[3] == "2024-04-22"  # the reviewer's local date
    print_ = lines[0].split("\t")[2]
    assert (
        (project / "reviews" / "approved" / FIRST / f"{print_}.txt").read_text().startswith("From: AIVI Aesthetics <")
    )
    assert states(project)[FIRST].approved
    before = approvals.read_bytes()
    again = approve(run_cli, project, FIRST, "--role", "medical")
    assert again.exit_code == 0 and "already has its medical approval" in again.output
    assert approvals.read_bytes() == before


def test_a_new_version_approved_is_one_changed_line_and_a_revoke_one_removed_line(project, run_cli):
    approve(run_cli, project, FIRST, "four-stages-of-migraine", "--role", "medical")
    approvals = project / "reviews" / "approvals.tsv"
    before = set(approvals.read_text().splitlines())
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "A migraine is much more than",
    )
    approve(run_cli, project, FIRST, "four-stages-of-migraine", "--role", "medical")
    after = set(approvals.read_text().splitlines())
    assert len(before - after) == 1 and len(after - before) == 1 and (after - before).pop().startswith(FIRST)
    assert len(list((project / "reviews" / "approved" / FIRST).iterdir())) == 1  # the superseded view is gone
    revoked = run_cli(project, "review", "revoke", FIRST, "--role", "medical")
    assert revoked.exit_code == 0 and after - set(approvals.read_text().splitlines()) == after - before
    assert not (project / "reviews" / "approved" / FIRST).exists()
    assert not states(project)[FIRST].approved and states(project)["four-stages-of-migraine"].approved


def test_one_changed_word_voids_the_approval_and_diff_shows_that_word(project, run_cli):
    approve(run_cli, project, BOTOX, "--role", "medical")
    edit(
        project / "content/articles/05-how-botox-helps.md",
        "Treatment is given about every 12 weeks",
        "Treatment is given roughly every 12 weeks",
    )
    state = states(project)[BOTOX]
    assert (
        not state.approved
        and state.roles[0].state == "changed"
        and "changed since its medical approval" in state.summary
    )
    shown = run_cli(project, "review", "diff", BOTOX)
    assert shown.exit_code == 0
    assert "[-about-]" in shown.output and "{+roughly+}" in shown.output and "Treatment is given" in shown.output
    assert "Important Safety Information" not in shown.output  # context only around the change
    status = json.loads(run_cli(project, "review", "status", "--json").output)
    entry = next(e for e in status["emails"] if e["email"] == BOTOX)
    assert entry["roles"] == [
        {"role": "medical", "state": "changed", "reviewer": REVIEWER, "date": entry["roles"][0]["date"]}
    ]


@pytest.mark.parametrize(
    "old, new",
    [
        ("{{ article.title }}</h1>", "\n            {{ article.title }}\n          </h1>"),
        ('<mj-text padding-top="0">Hi', '<mj-text padding-top="0">\n          Hi'),
    ],
)
def test_whitespace_in_a_template_keeps_the_approval(project, run_cli, old, new):
    approve(run_cli, project, FIRST, "--role", "medical")
    before = rendered_email(project, FIRST)
    path = project / "templates" / ("article.mjml.j2" if "article" in old else "partials/greeting.mjml.j2")
    edit(path, old, new)
    after = rendered_email(project, FIRST)
    assert after.html != before.html  # the HTML did change
    assert states(project)[FIRST].approved


def test_a_changed_link_target_or_image_voids_the_approval(project, run_cli):
    approve(run_cli, project, FIRST, "--role", "medical")
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "url: https://www.aiviaesthetics.com/book-consultation",
        "url: https://www.aiviaesthetics.com/book",
    )
    assert not states(project)[FIRST].approved


def test_an_email_with_check_errors_cannot_be_approved(project, run_cli):
    edit(
        project / "content/articles/05-how-botox-helps.md",
        "BOTOX can cause serious side effects",
        "BOTOX is generally well tolerated but can cause serious side effects",
    )
    refused = approve(run_cli, project, BOTOX, "--role", "medical")
    assert refused.exit_code == 1 and "check errors first" in refused.stderr and "CLAIM-SAFETY" in refused.stderr
    assert "Traceback" not in refused.output and not (project / "reviews" / "approvals.tsv").exists()


def test_roles_follow_the_config_and_a_role_not_needed_is_refused(project, run_cli):
    rendered = Project(project).rendered()
    by_id = {e.id: e for e in rendered.emails}
    assert required_roles(Context(by_id[FIRST], rendered.site)) == ("medical",)
    assert required_roles(Context(by_id[SPECIAL], rendered.site)) == (
        "medical",
        "legal",
    )  # it names treatments (peels, a facial)
    refused = approve(run_cli, project, FIRST, "--role", "legal")
    assert refused.exit_code == 1 and "does not need a legal sign-off" in refused.stderr
    with open(project / "mailpipe.yaml", "a") as config:
        config.write(
            "review:\n  roles:\n    article: [legal]\n    special: [legal]\n    newsletter: [legal]\n"
            "  names_treatment: [medical]\n"
        )
    rendered = Project(project).rendered()
    by_id = {e.id: e for e in rendered.emails}
    assert required_roles(Context(by_id[FIRST], rendered.site)) == ("legal",)  # no drug or treatment named
    assert required_roles(Context(by_id[BOTOX], rendered.site)) == ("medical", "legal")  # names BOTOX®


@pytest.mark.parametrize(
    ("subject", "preheader", "copy", "roles"),
    [
        ("Questions about injections", "What to ask at your visit", "<p>Bring your diary.</p>", ("medical", "legal")),
        ("What to ask", "Fillers, and what to expect", "<p>Bring your diary.</p>", ("medical", "legal")),
        ("What to ask", "What to expect", "<p>Peels take an hour.</p>", ("medical", "legal")),
        ("What to ask", "What to expect", "<p>Bring your diary.</p>", ("legal",)),
        ("What to ask", "What to expect", "<p>Treatmentless days.</p>", ("legal",)),
    ],
)
def test_a_treatment_named_at_the_edge_of_the_subject_the_preheader_or_the_copy_needs_a_medical_sign_off(
    project, subject, preheader, copy, roles
):
    """A special needs legal; naming a treatment anywhere a recipient reads (its first or last word included) adds
    medical, and a word that only begins like one does not."""
    rendered = Project(project).rendered()
    special = next(e for e in rendered.emails if e.id == SPECIAL)
    edited = dataclasses.replace(special, subject=subject, preheader=preheader, html=copy, mentions_botox=False)
    assert required_roles(Context(edited, rendered.site)) == roles


@pytest.mark.parametrize(
    ("roles", "unreviewed"),
    [
        ("{}", "article, special, newsletter"),
        ("\n    article: []\n    special: [legal]\n    newsletter: [legal]", "article"),
        ("\n    article: [medical]\n    special: [legal]", "newsletter"),
    ],
)
def test_a_config_that_leaves_a_kind_of_email_unreviewed_is_an_error(project, run_cli, roles, unreviewed):
    """`review: {roles: {}}` would make every email "approved" with nobody's sign-off."""
    with open(project / "mailpipe.yaml", "a") as config:
        config.write(f"review:\n  roles: {roles}\n")
    result = run_cli(project, "review", "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"review.roles: expected at least one role (medical or legal) for each kind of email; none for: {unreviewed}"
        in result.stderr
    )


PRINT = "ab" * 32  # a fingerprint as mailpipe writes it: 64 hex digits


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            "what-causes-migraine medical abc",
            "approvals.tsv:2: expected email, role, fingerprint, date, reviewer and signature separated by tabs; "
            "restore the file from git",
        ),
        (
            f"what-causes-migraine\tmedical\t{PRINT}\t19 April\tDana Lee, MD\tc2ln",
            "approvals.tsv:2: expected email, role, fingerprint, date, reviewer and signature separated by tabs; "
            "restore the file from git",
        ),
        (
            f"what-causes-migraine\tmarketing\t{PRINT}\t2024-04-19\tDana Lee, MD\tc2ln",
            "approvals.tsv:2: role: expected one of medical, legal, got 'marketing'",
        ),
        (
            f"../../etc/passwd\tmedical\t{PRINT}\t2024-04-19\tDana Lee, MD\tc2ln",
            "approvals.tsv:2: email: '../../etc/passwd' is not one mailpipe writes; restore the file from git",
        ),
        (
            f"what-causes-migraine\tmedical\t{'x' * 90}\t2024-04-19\tDana Lee, MD\tc2ln",
            f"approvals.tsv:2: fingerprint: {'x' * 80!r} is not one mailpipe writes; restore the file from git",
        ),
    ],
)
def test_a_hand_broken_approvals_line_is_one_error_naming_its_line_and_field(project, run_cli, line, said):
    (project / "reviews").mkdir(exist_ok=True)
    (project / "reviews" / "approvals.tsv").write_text(f"# a comment line\n{line}\n")
    result = run_cli(project, "review", "status")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().endswith(said), result.stderr


def test_status_lists_the_safety_information_as_awaiting_the_approved_text(project, run_cli):
    status = json.loads(run_cli(project, "review", "status", "--json").output)
    assert status["needs_approved_text"] == ["templates/partials/safety-information.mjml.j2"]
    edit(
        project / "templates/partials/safety-information.mjml.j2",
        "mailpipe:needs-approved-text",
        "approved text in place:",
    )
    assert json.loads(run_cli(project, "review", "status", "--json").output)["needs_approved_text"] == []


def test_the_recipient_view_is_what_a_recipient_sees(project):
    rendered = Project(project).rendered()
    view = recipient_view(Context(next(e for e in rendered.emails if e.id == BOTOX), rendered.site))
    assert "Subject: BOTOX® (onabotulinumtoxinA) and chronic migraine" in view
    assert "https://www.rxabbvie.com/pdf/botox_pi.pdf" in view and "aivi-logo-email.png (alt: AIVI Aesthetics)" in view
    assert "Important Safety Information" in view and "<" not in view.split("Text:")[1]
    lines = view.split("\n")  # the layout an approval signs: a change to it voids every approval
    assert lines[:5] == [
        "From: AIVI Aesthetics <hello@aiviaesthetics.com>",
        "Subject: BOTOX® (onabotulinumtoxinA) and chronic migraine",
        f"Preheader: {next(e for e in rendered.emails if e.id == BOTOX).preheader}",
        "",
        "Links:",
    ]
    assert lines[5].startswith("  https://") and [line for line in lines if line and not line.startswith(" ")][3:6] == [
        "Links:",
        "Images:",
        "Text:",
    ]
    assert lines[lines.index("Images:") - 1] == "" and lines[lines.index("Text:") - 1] == ""
    assert view.endswith("Update your preferences\n") and lines[-1] == ""  # every line ends, the footer's last too


def test_word_diff_marks_only_what_changed():
    changes = word_diff(
        "one two three four five six seven eight nine ten",
        "one two three four FIVE six seven eight nine ten",
        context=2,
    )
    assert [(c.kind, c.words) for c in changes] == [
        ("same", "… three four"),
        ("removed", "five"),
        ("added", "FIVE"),
        ("same", "six seven …"),
    ]
    between = word_diff(
        "a 1 2 3 4 5 b", "A 1 2 3 4 5 B", context=2
    )  # 5 kept words between two changes: 2 either side of "…"
    assert [c.words for c in between] == ["a", "A", "1 2 … 4 5", "b", "B"]
    close = word_diff("a 1 2 3 4 b", "A 1 2 3 4 B", context=2)  # 4 kept words: all shown
    assert [c.words for c in close] == ["a", "A", "1 2 3 4", "b", "B"]
    # before the first change and after the last, `context` words are shown whole and one more is cut to "…"
    edges = word_diff("1 2 x 3 4", "1 2 y 3 4", context=2)
    assert [(c.kind, c.words) for c in edges] == [("same", "1 2"), ("removed", "x"), ("added", "y"), ("same", "3 4")]
    longer = word_diff("0 1 2 x 3 4 5", "0 1 2 y 3 4 5", context=2)
    assert [c.words for c in longer] == ["… 1 2", "x", "y", "3 4 …"]
    # a word only added, or only removed, is said once, as that
    assert [(c.kind, c.words) for c in word_diff("a b", "a new b", context=2)] == [
        ("same", "a"),
        ("added", "new"),
        ("same", "b"),
    ]
    assert [(c.kind, c.words) for c in word_diff("a old b", "a b", context=2)] == [
        ("same", "a"),
        ("removed", "old"),
        ("same", "b"),
    ]


def test_plan_shows_each_emails_sign_off(project, run_cli):
    approve(run_cli, project, FIRST, "--role", "medical")
    sends = json.loads(run_cli(project, "plan", "--from", "2024-05-01", "--days", "10", "--json").output)
    review = {s["email"]: s["review"] for s in sends}
    assert (
        review[FIRST].startswith(f"approved (medical: {REVIEWER}")
        and review["four-stages-of-migraine"] == "needs medical sign-off"
    )
    assert "needs medical and legal sign-off" in review["newsletter-2024-05"]


def test_the_preview_shows_sign_offs_and_the_diff_since_approval(project, run_cli):
    with RunningPreview(PreviewModel(Project(project))) as running:
        approve(run_cli, project, BOTOX, "--role", "medical")  # given while the preview runs
        index = urllib.request.urlopen(running.url).read().decode()
        assert f"approved (medical: {REVIEWER}" in index and "needs medical sign-off" in index
        edit(
            project / "content/articles/05-how-botox-helps.md",
            "Treatment is given about every 12 weeks",
            "Treatment is given roughly every 12 weeks",
        )
        running.model.reload({project / "content/articles/05-how-botox-helps.md"})
        page = urllib.request.urlopen(f"{running.url}email/{BOTOX}").read().decode()
        assert (
            "changed since its medical approval" in page and "<del>about</del>" in page and "<ins>roughly</ins>" in page
        )


def test_approve_lists_every_warning_records_it_with_the_sign_off_and_the_preview_marks_a_new_one(project, run_cli):
    article = project / "content/articles/01-what-causes-migraine.md"
    edit(
        article, "Thank you for", "Your migraines deserve attention. Thank you for"
    )  # PHI-ASSUMED-CONDITION: a warning
    approved = approve(run_cli, project, FIRST, "--role", "medical")
    assert approved.exit_code == 0
    assert f"{FIRST}: warning PHI-ASSUMED-CONDITION: 'Your migraines'" in approved.stdout
    assert "with 1 warning accepted" in approved.stdout
    [recorded] = (project / "reviews" / "approved" / FIRST).glob("*.warnings")
    assert recorded.read_text().startswith("PHI-ASSUMED-CONDITION: 'Your migraines'")
    edit(article, "Your migraines deserve attention.", "Your migraines deserve attention, and your headaches too.")
    with RunningPreview(PreviewModel(Project(project))) as running:
        page = urllib.request.urlopen(f"{running.url}email/{FIRST}").read().decode()
    section = page[page.index('id="sign-off-warnings"') : page.index("</ul>", page.index('id="sign-off-warnings"'))]
    accepted, added = (line for line in section.split("<li") if "PHI-ASSUMED-CONDITION" in line)
    assert "&#39;Your migraines&#39;" in accepted and "new" not in accepted
    assert "your headaches" in added and '<strong class="bad">new</strong>' in added


@pytest.mark.parametrize("oddity", ["folder", "fifo", "latin-1", "traversal"])
def test_an_odd_reviews_folder_is_one_line_in_time(project, run_cli, oddity):
    """approvals.tsv a folder or a FIFO (a read would hang), a latin-1 byte in it, or a fingerprint that climbs out of
    reviews/ (which `review diff` would have read): one line naming the file, within 2 s."""
    import os
    import time

    approvals = project / "reviews" / "approvals.tsv"
    approvals.parent.mkdir(exist_ok=True)
    if oddity == "folder":
        approvals.mkdir()
    elif oddity == "fifo":
        os.mkfifo(approvals)
    elif oddity == "latin-1":
        approvals.write_bytes(f"{FIRST}\tmedical\t{'a' * 64}\t2024-04-19\tRen\xe9e Roe\tsig\n".encode("latin-1"))
    else:
        approvals.write_text(f"{FIRST}\tmedical\t../../../../../victim/secret\t2024-04-19\tDana Lee, MD\tsig\n")
    started = time.monotonic()
    for args in (("review", "status"), ("review", "diff", FIRST), ("plan", "--from", "2024-05-01")):
        result = run_cli(project, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, (args, result.output)
        assert "approvals.tsv" in result.stderr
    assert time.monotonic() - started < 6
    expected = {
        "folder": "expected a file mailpipe wrote",
        "fifo": "expected a file mailpipe wrote",
        "latin-1": "approvals.tsv:1: not UTF-8 text (byte 0xe9)",
        "traversal": "approvals.tsv:1: fingerprint: '../../../../../victim/secret' is not one mailpipe writes",
    }[oddity]
    assert expected in run_cli(project, "review", "status").stderr


def test_diff_compares_with_the_emails_own_latest_approval_of_the_role_asked(project, run_cli, wall_clock):
    """Signed on Apr 22, then the May special's medical sign-off renewed on Apr 25: `review diff` of the special
    compares with that one (whatever order reviews/ lists them in), of its legal role with Apr 22's, and no email
    with another email's."""
    assert approve(run_cli, project, FIRST, SPECIAL, "--role", "medical").exit_code == 0
    assert approve(run_cli, project, SPECIAL, "--role", "legal").exit_code == 0
    wall_clock(dt.datetime(2024, 4, 25, 17, tzinfo=dt.UTC))
    assert run_cli(project, "review", "revoke", SPECIAL, "--role", "medical").exit_code == 0
    assert approve(run_cli, project, SPECIAL, "--role", "medical").exit_code == 0
    reviews = Reviews(project / "reviews")
    found = {
        "special": reviews.latest(SPECIAL),
        "special legal": reviews.latest(SPECIAL, "legal"),
        "first": reviews.latest(FIRST),
    }
    assert {what: (a.email, a.role, a.date) for what, a in found.items() if a} == {
        "special": (SPECIAL, "medical", dt.date(2024, 4, 25)),
        "special legal": (SPECIAL, "legal", dt.date(2024, 4, 22)),
        "first": (FIRST, "medical", dt.date(2024, 4, 22)),
    }
    assert reviews.latest(FIRST, "legal") is None and reviews.latest("no-such-email") is None
    with pytest.raises(MailpipeError, match=f"^{FIRST} has no legal approval to revoke$"):
        reviews.revoke(FIRST, "legal")


def test_word_diff_shows_six_words_either_side_by_default_and_whole_runs_of_changed_words():
    words = [f"w{n}" for n in range(1, 15)]  # 14 kept words between two changes: more than 2 x 6, so cut
    old, new = " ".join(["a", *words, "b"]), " ".join(["A", *words, "B"])
    assert [(c.kind, c.words) for c in word_diff(old, new)] == [
        ("removed", "a"),
        ("added", "A"),
        ("same", "w1 w2 w3 w4 w5 w6 … w9 w10 w11 w12 w13 w14"),
        ("removed", "b"),
        ("added", "B"),
    ]
    twelve = " ".join(words[:12])  # 12 kept words: all shown
    assert word_diff(f"a {twelve} b", f"A {twelve} B")[2].words == twelve
    assert [(c.kind, c.words) for c in word_diff("keep one two three end", "keep four five end")] == [
        ("same", "keep"),
        ("removed", "one two three"),
        ("added", "four five"),
        ("same", "end"),
    ]


def test_word_diff_of_a_long_email_finds_the_one_changed_word_among_common_ones():
    """A real email has hundreds of words, many of them "the" and "and": every word is compared (no heuristic that
    takes a frequent word for noise and reports a run of unchanged text as changed)."""
    sentence = "the clinic and the team and the plan for the visit and the care"
    old = " ".join([sentence] * 20)
    new = " ".join([sentence] * 10 + [sentence.replace("clinic", "team")] + [sentence] * 9)
    assert [(c.kind, c.words) for c in word_diff(old, new) if c.kind != "same"] == [
        ("removed", "clinic"),
        ("added", "team"),
    ]


def test_a_revoke_that_cannot_be_written_says_which_folder_and_why_and_keeps_the_approval(project, run_cli):
    approve(run_cli, project, FIRST, "--role", "medical")
    reviews = Reviews(project / "reviews")
    approvals = project / "reviews" / "approvals.tsv"
    kept = approvals.read_bytes()
    (project / "reviews" / ".approvals.tsv.tmp").mkdir()  # where the new file is written first: in the way
    with pytest.raises(MailpipeError) as refused:
        reviews.revoke(FIRST, "medical")
    temporary = project / "reviews" / ".approvals.tsv.tmp"
    assert str(refused.value) == f"{project / 'reviews'}: cannot record the change: Is a directory ({temporary})"
    assert approvals.read_bytes() == kept


def test_approve_refuses_a_key_nobody_listed_and_a_role_the_email_does_not_need_saying_exactly_why(
    project, reviewer_key
):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from mailpipe.review.signing import key_fingerprint, load_private_key

    rendered = Project(project).rendered()
    article = next(e for e in rendered.emails if e.id == FIRST)
    reviews, day = Reviews(project / "reviews"), dt.date(2024, 4, 22)
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(MailpipeError) as unknown:
        reviews.approve(article, rendered.site, "medical", stranger, day)
    assert str(unknown.value) == (
        f"the key {key_fingerprint(stranger.public_key())} is not in reviews/reviewers.yaml; a reviewer's public key "
        "is added there (and reviewed in git) before they sign off"
    )
    with pytest.raises(MailpipeError) as unneeded:
        reviews.approve(article, rendered.site, "legal", load_private_key(reviewer_key), day)
    assert str(unneeded.value) == (
        f"{FIRST} does not need a legal sign-off (it needs: medical; see review: in mailpipe.yaml)"
    )


def test_a_new_approval_removes_the_warnings_the_reviewer_was_shown_for_the_version_it_replaces(project, reviewer_key):
    from mailpipe.review.signing import load_private_key

    key, day = load_private_key(reviewer_key), dt.date(2024, 4, 22)
    first = rendered_email(project, FIRST)
    reviews = Reviews(project / "reviews")
    old = reviews.approve(
        first, Project(project).rendered().site, "medical", key, day, warnings=("one warning", "another")
    )
    assert old is not None
    shown = project / "reviews" / "approved" / FIRST / f"{old.fingerprint}.warnings"
    assert shown.read_text(encoding="utf-8") == "one warning\nanother\n"
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "A migraine is much more than",
    )
    new = reviews.approve(rendered_email(project, FIRST), Project(project).rendered().site, "medical", key, day)
    assert new is not None and new.fingerprint != old.fingerprint
    assert sorted(p.name for p in shown.parent.iterdir()) == [f"{new.fingerprint}.txt"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\n" * 5_000_000, None),  # at the limit: read (blank lines, no approvals)
        (b"\n" * 5_000_001, "larger than 5,000,000 bytes; restore it from git"),
        (None, "cannot read it: Input/output error"),  # a file the system cannot read
    ],
)
def test_an_approvals_file_too_large_or_unreadable_is_one_exact_line(project, content, said):
    approvals = project / "reviews" / "approvals.tsv"
    approvals.parent.mkdir(exist_ok=True)
    if content is None:
        approvals.symlink_to("/proc/self/mem")  # a regular file whose every read fails with EIO
    else:
        approvals.write_bytes(content)
    if said is None:
        assert Reviews(project / "reviews").approvals == {}
        return
    with pytest.raises(MailpipeError) as refused:
        Reviews(project / "reviews")
    assert str(refused.value) == f"{approvals}: {said}"


def test_an_approval_that_cannot_be_written_says_where_and_why_and_no_approval_is_recorded(project, reviewer_key):
    from mailpipe.review.signing import load_private_key

    reviews = Reviews(project / "reviews")
    temporary = project / "reviews" / ".approvals.tsv.tmp"
    temporary.mkdir(parents=True)  # where the new file is written first: in the way
    with pytest.raises(MailpipeError) as refused:
        reviews.approve(
            rendered_email(project, FIRST),
            Project(project).rendered().site,
            "medical",
            load_private_key(reviewer_key),
            dt.date(2024, 4, 22),
        )
    assert str(refused.value) == f"{project / 'reviews'}: cannot record the sign-off: Is a directory ({temporary})"
    assert not (project / "reviews" / "approvals.tsv").exists() and Reviews(project / "reviews").approvals == {}


def test_status_names_who_gave_a_sign_off_that_does_not_verify_and_why(project, run_cli):
    """A line edited after signing (here its date) is shown with its reviewer and date as the line has them, so the
    reviewer can be asked; it counts as no sign-off."""
    approve(run_cli, project, FIRST, "--role", "medical")
    approvals = project / "reviews" / "approvals.tsv"
    approvals.write_text(approvals.read_text().replace("\t2024-04-22\t", "\t2024-04-21\t"))
    status = json.loads(run_cli(project, "review", "status", "--json").output)
    entry = next(e for e in status["emails"] if e["email"] == FIRST)
    assert entry["roles"] == [
        {
            "role": "medical",
            "state": "invalid",
            "reviewer": REVIEWER,
            "date": "2024-04-21",
            "why": "the signature does not match what it claims to sign (the line was changed)",
        }
    ]


def test_the_recipient_view_shows_an_image_without_a_source_or_alt_as_empty(project):
    rendered = Project(project).rendered()
    email = next(e for e in rendered.emails if e.id == FIRST)
    bare = dataclasses.replace(email, html='<p>Hi.</p><img src="https://x.example/a.png"><img alt="logo">')
    view = recipient_view(Context(bare, rendered.site))
    images = view.split("Images:\n")[1].split("\n\n")[0].split("\n")
    assert images == ["  https://x.example/a.png (alt: )", "   (alt: logo)"]
