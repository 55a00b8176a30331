"""Bad content gets one clear message per problem: file, line, field, what was expected; exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_clean_failure, edit

ARTICLE = "content/articles/01-what-causes-migraine.md"
SPECIAL = "content/specials/2024-05.md"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "subject: What is really",
            "subjct: What is really",
            [
                f"{ARTICLE}:4: subjct: unknown field (did you mean 'subject'?)",
                f"{ARTICLE}:1: subject: is required but missing",
            ],
        ),
        (
            "preheader: Genes, brain chemistry and everyday triggers, explained in a one-minute read.\n",
            "",
            [f"{ARTICLE}:1: preheader: is required but missing"],
        ),
        (
            "id: what-causes-migraine",
            "id: What Causes Migraine",
            [
                f"{ARTICLE}:2: id: 'What Causes Migraine' does not have the expected form (lower-case words joined "
                "by '-'"
            ],
        ),
        (
            "  url: https://www.aiviaesthetics.com/book-consultation",
            "  url: http://www.aiviaesthetics.com/book-consultation",
            [
                f"{ARTICLE}:9: cta.url: 'http://www.aiviaesthetics.com/book-consultation' does not have the "
                "expected form (a web address starting with https://)"
            ],
        ),
        (
            "cta:\n  label: Talk to our team\n  url: https://www.aiviaesthetics.com/book-consultation",
            "cta: Book now",
            [f"{ARTICLE}:7: cta: expected nested key: value lines, got 'Book now'"],
        ),
        (
            "title: What is really behind a migraine?",
            "title: [What is, really",
            [f"{ARTICLE}:4: is not valid YAML: expected ',' or ']', but got ':' (in the list that starts at line 3)"],
        ),
    ],
    ids=["unknown-key", "missing-field", "bad-slug", "http-link", "mistyped-field", "malformed-yaml"],
)
def test_bad_article_front_matter_is_reported_with_file_line_and_field(project, run_cli, old, new, expected):
    edit(project / ARTICLE, old, new)
    assert_clean_failure(run_cli(project, "build"), *expected)
    assert not (project / "build").exists(), "nothing may be written when content is bad"


def test_a_bad_date_names_its_line_and_the_expected_form(project, run_cli):
    edit(project / SPECIAL, "valid_until: 2024-05-31", "valid_until: 2024-05-32")
    assert_clean_failure(
        run_cli(project, "build"), f"{SPECIAL}:20: valid_until: expected a date like 2024-05-31, got '2024-05-32'"
    )


def test_a_special_ending_before_it_starts_is_refused(project, run_cli):
    edit(project / SPECIAL, "valid_until: 2024-05-31", "valid_until: 2024-04-30")
    assert_clean_failure(
        run_cli(project, "build"), f"{SPECIAL}:20: valid_until: 2024-04-30 is before valid_from 2024-05-01"
    )


def test_an_offer_needs_exactly_one_of_price_or_discount(project, run_cli):
    edit(project / SPECIAL, "    discount: 15% off the shelf price\n", "")
    assert_clean_failure(run_cli(project, "build"), f"{SPECIAL}:16: offers[3]: give exactly one of price")


def test_non_utf8_text_is_reported_at_its_line(project, run_cli):
    path = project / ARTICLE
    path.write_bytes(path.read_bytes().replace(b"Thank you for reaching out", b"Thank you \xe9 for reaching out"))
    assert_clean_failure(run_cli(project, "build"), f"{ARTICLE}:11: is not UTF-8 text (byte 0xe9 at line 11)")


def test_a_file_without_front_matter_is_reported(project, run_cli):
    (project / "content/articles/99-draft.md").write_text("Just some notes, no front matter.\n", encoding="utf-8")
    assert_clean_failure(run_cli(project, "build"), "content/articles/99-draft.md:1: expected front matter")


def test_every_problem_in_every_file_is_listed_not_just_the_first(project, run_cli):
    edit(project / ARTICLE, "subject: What is really", "subjct: What is really")
    edit(project / SPECIAL, "valid_from: 2024-05-01", "valid_from: May first")
    edit(project / "mailpipe.yaml", 'primary: "#5b3a6e"', "primary: purple")
    result = run_cli(project, "build")
    assert_clean_failure(
        result,
        "4 problems found; nothing was written",
        f"{ARTICLE}:4: subjct",
        f"{ARTICLE}:1: subject",
        f"{SPECIAL}:19: valid_from",
        "mailpipe.yaml:17: brand.primary: 'purple' does not have the expected form (a colour like #5b3a6e)",
    )


def test_duplicate_article_ids_are_refused(project, run_cli):
    edit(
        project / "content/articles/02-four-stages-of-migraine.md",
        "id: four-stages-of-migraine",
        "id: what-causes-migraine",
    )
    assert_clean_failure(
        run_cli(project, "build"), "02-four-stages-of-migraine.md:2: id: id 'what-causes-migraine' is already used by"
    )


def test_an_unknown_time_zone_in_the_config_is_refused(project, run_cli):
    edit(project / "mailpipe.yaml", "timezone: America/Los_Angeles", "timezone: Pacific")
    assert_clean_failure(run_cli(project, "build"), "mailpipe.yaml:28: timezone: unknown time zone 'Pacific'")


def test_the_installed_command_fails_cleanly_as_a_real_process(project):
    edit(project / ARTICLE, "subject: What is really", "subjct: What is really")
    installed = Path(sys.executable).parent / "mailpipe"  # the console script `make` installs
    assert installed.exists(), f"{installed} is missing: `make test` installs the package"
    done = subprocess.run(
        [str(installed), "--project", str(project), "build"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{ARTICLE}:4: subjct: unknown field (did you mean 'subject'?)" in done.stderr


def test_every_command_fails_cleanly_on_a_broken_config(project, run_cli):
    """One error boundary for all commands, the sandbox's included."""
    edit(project / "mailpipe.yaml", "timezone: America/Los_Angeles", "timezone: Pacific")
    for args in (
        ("sandbox", "serve", "--port", "0"),
        ("push", "--dry-run"),
        ("plan",),
        ("leads", "import", str(project / "mailpipe.yaml"), "--audience", "new-consult"),
    ):
        assert_clean_failure(run_cli(project, *args), "mailpipe.yaml:28: timezone: unknown time zone 'Pacific'")


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x0b", "\x1b", "\x1f"])
def test_a_control_character_in_an_article_is_reported_at_its_line_and_column(project, run_cli, character):
    """MRML stops on it with an error that names neither file nor line (the issue's NUL byte)."""
    path = project / ARTICLE
    path.write_text(path.read_text().replace("Thank you for reaching out", f"Thank you{character} for reaching out"))
    assert_clean_failure(
        run_cli(project, "check"), f"{ARTICLE}:11: holds the control character U+{ord(character):04X} at column 12"
    )


def test_tabs_and_windows_line_ends_are_not_control_characters_to_refuse(project, run_cli):
    path = project / ARTICLE
    path.write_bytes(path.read_bytes().replace(b"Thank you for", b"Thank you\tfor").replace(b"\n", b"\r\n"))
    result = run_cli(project, "check", "what-causes-migraine")
    assert "control character" not in result.output + result.stderr and "Traceback" not in result.output
