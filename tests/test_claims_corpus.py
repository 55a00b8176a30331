"""The claim classes read like a reviewer: measured on the labelled corpus (tests/claims/) and every sentence of the
shipped emails, on the hostile examples a careless marketer wrote, and at each limit of their scopes."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import claims_corpus
import pytest

from conftest import REPO, edit
from mailpipe.checks.claim_classes import ClaimClass, Setting, claims_in
from mailpipe.checks.reading import analyse, sentences

JULY = claims_corpus.DEFAULT_SETTING


def kinds(text: str, setting: Setting = JULY) -> set[str]:
    return {claim.kind.value for claim in claims_in(text, setting)}


def test_every_class_catches_at_least_95_percent_of_what_a_reviewer_rejects_for_it():
    rejected = claims_corpus.rejected()
    assert len(rejected) >= 300 and {e.kind for e in rejected} == {kind.value for kind in ClaimClass}
    total, caught = Counter(), Counter()
    for example in rejected:
        total[example.kind] += 1
        caught[example.kind] += example.kind in kinds(example.sentence, example.setting)
    recall = {kind: caught[kind] / total[kind] for kind in total}
    assert min(recall.values()) >= 0.95, recall
    assert sum(caught.values()) / len(rejected) >= 0.98


def test_no_fair_sentence_gets_a_finding_the_label_the_shipped_copy_and_the_near_misses():
    fair = claims_corpus.fair() + claims_corpus.shipped(REPO)
    assert len(fair) >= 300
    flagged = [(e.source, e.sentence, kinds(e.sentence, e.setting)) for e in fair if kinds(e.sentence, e.setting)]
    assert flagged == []


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("completely safe", "safety"),
        ("Totally safe.", "safety"),
        ("Results in 1 week.", "onset"),
        ("Many notice relief after just a few days.", "onset"),
        ("You will feel better by next week.", "onset"),
        ("It's great for occasional migraines.", "scope"),
        ("Your teenager's headaches deserve treatment too.", "scope"),
        ("Say goodbye to migraine for good.", "cure"),
        ("Side effects are rare and mild.", "safety"),
        (
            "'I went from 20 migraine days a month to 2… I finally have my life back!' says Jessica R., 38, of "
            "Westlake Village.",
            "testimonial",
        ),
        ("50% off your first treatment, today only.", "urgency"),
        ("50% off your first treatment, today only.", "price"),
        ("Botox $10.00", "price"),
        ("America's favorite injectable.", "superlative"),
    ],
)
def test_the_reworded_claims_of_the_issue_are_each_caught_by_their_class(sentence, kind):
    assert kind in kinds(sentence)


def test_ages_12_and_up_is_not_a_price():
    assert kinds("Skincare for ages 12 and up.") == set()
    assert "price" in kinds("Facials $99 and up.")


@pytest.mark.parametrize(
    ("fair", "claim"),
    [
        ("It is not known whether BOTOX is safe and effective for episodic migraine.", "BOTOX is safe and effective."),
        ("There is no cure for migraine.", "BOTOX is a cure for migraine."),
        ("BOTOX is not for tension headaches.", "BOTOX is for tension headaches."),
        ("No treatment works for everyone.", "This treatment works for everyone."),
        ("Is BOTOX safe for me?", "BOTOX is safe for me."),
        ("There is no rush.", "Rush in today."),
    ],
)
def test_a_negation_or_a_plain_question_makes_fair_what_the_same_words_claim_without_it(fair, claim):
    assert kinds(fair) == set() and kinds(claim)


def test_a_negation_reaches_six_words_unless_it_governs_the_clause():
    assert kinds("It does not in any real sense look safe.") == set()  # "not" six words before "safe"
    assert "safety" in kinds("It does not in any real sense ever look safe.")  # seven: out of its reach
    assert "safety" in kinds("We do not say that after one or two or three visits it is totally safe.")
    assert kinds("It is not known whether, for people with fewer than 15 headache days, BOTOX is safe.") == set()


def test_a_clause_boundary_ends_the_scope_of_a_negation_and_the_subject_of_an_acute_cue():
    assert "safety" in kinds("There is no downtime, but it is totally safe.")
    assert kinds("Keep your rescue medicine for attacks; BOTOX does not replace it.") == set()
    assert "scope" in kinds("Use your BOTOX shot as rescue when an attack starts.")


@pytest.mark.parametrize(
    ("per_month", "episodic"),
    [
        ("14 headache days a month", True),
        ("15 headache days a month", False),
        ("3 migraines a week", True),
        ("4 migraines a week", False),
    ],
)
def test_a_frequency_under_15_days_a_month_is_episodic_and_15_or_more_is_not(per_month, episodic):
    assert ("scope" in kinds(f"BOTOX can help if you have {per_month}.")) is episodic


@pytest.mark.parametrize(
    ("when", "claim"),
    [("within 11 weeks", True), ("within 12 weeks", False), ("after 2 months", True), ("after 3 months", False)],
)
def test_an_onset_under_12_weeks_is_a_claim_and_12_weeks_or_more_is_not(when, claim):
    assert ("onset" in kinds(f"You will notice fewer headaches {when}.")) is claim


def test_offer_dates_must_be_the_offers_own_on_both_sides():
    half = Setting(dt.date(2024, 7, 1), dt.date(2024, 7, 1), dt.date(2024, 7, 15))
    assert kinds("Offers valid July 1 to July 15, 2024.", half) == set()
    assert "dates" in kinds("Offers valid July 1 to July 16, 2024.", half)
    assert "dates" in kinds("Offers valid July 1 to July 14, 2024.", half)  # inside the dates, but not their end
    assert "dates" in kinds("Offers valid July 2 to July 15, 2024.", half)
    assert "dates" in kinds("Offers valid June 30 to July 15, 2024.", half)
    assert "dates" in kinds("Offers valid all month.", half)
    assert kinds("Offers valid all month.", JULY) == set()


@pytest.mark.parametrize(("month", "fits"), [(4, False), (5, True), (8, True), (9, False)])
def test_summer_copy_fits_summer_and_the_month_before_it_only(month, fits):
    setting = Setting(dt.date(2024, month, 1), dt.date(2024, month, 1), dt.date(2024, month, 28))
    assert ("season" in kinds("Summer-ready offers for patients.", setting)) is not fits


def test_sentences_split_after_sentences_not_after_abbreviations_and_keep_a_short_headline_question():
    assert sentences("Dr. Lee sees you. It takes e.g. 20 minutes! Why? Because.") == [
        "Dr. Lee sees you.",
        "It takes e.g. 20 minutes!",
        "Why? Because.",
    ]
    assert sentences("Is it safe? Ask us.") == ["Is it safe?", "Ask us."]


def test_words_are_read_by_their_lemma_and_as_written():
    sentence = analyse("Patients were cured, and teens can't wait.")
    assert sentence.lemmas[:4] == ["patient", "be", "cure", ","]
    assert "can not" in sentence.plain


def special_from(project, source: str, month: str, *replacements: tuple[str, str]) -> None:
    """content/specials/MONTH.md written from SOURCE's special with each (old, new) replaced, each of them there."""
    text = (project / "content" / "specials" / f"{source}.md").read_text(encoding="utf-8")
    for old, new in (("month: " + source, "month: " + month), *replacements):
        assert old in text, old
        text = text.replace(old, new)
    (project / "content" / "specials" / f"{month}.md").write_text(text, encoding="utf-8")


def test_a_special_with_the_issues_july_copy_fails_check_and_cannot_be_approved(project, run_cli, reviewer_key):
    special_from(
        project,
        "2024-06",
        "2024-07",
        ("valid_from: 2024-06-01", "valid_from: 2024-07-01"),
        ("valid_until: 2024-06-30", "valid_until: 2024-07-31"),
        ("For existing patients.", "For existing patients. Valid July 1 to July 31. Today only."),
        ("Summer-ready offers for patients, valid June 1 to June 30.", "50% off your first treatment, today only."),
        ("  - name: Microneedling\n    price: 299.00\n    unit: per session\n", "  - name: Botox\n    price: 10.00\n"),
        ("Summer is here.", "America's favorite injectable."),
        ("Your June specials", "Your July specials"),
    )
    checked = json.loads(run_cli(project, "check", "--json").stdout)
    july = next(e for e in checked["emails"] if e["id"] == "specials-2024-07")
    fired = {f["rule"] for f in july["findings"] if f["severity"] == "error"}
    assert {"PROMO-URGENCY", "PROMO-PRICE-TERMS", "CLAIM-SUPERLATIVE"} <= fired, fired
    refused = run_cli(project, "review", "approve", "specials-2024-07", "--role", "legal", "--key", str(reviewer_key))
    assert refused.exit_code != 0 and "not approved" in refused.output + refused.stderr


def test_terms_left_at_the_old_end_date_and_summer_copy_in_january_fail_check(project, run_cli):
    june = project / "content" / "specials" / "2024-06.md"
    edit(june, "valid_until: 2024-06-30", "valid_until: 2024-06-15")
    special_from(
        project,
        "2024-05",
        "2025-01",
        ("valid_from: 2024-05-01", "valid_from: 2025-01-01"),
        ("valid_until: 2024-05-31", "valid_until: 2025-01-31"),
        ("May 1 to May 31", "January 1 to January 31"),
        ("bought by May 31", "bought by January 31"),
        ("Your May specials", "Your January specials"),
        ("Spring is a good time to give your skin some care.", "Summer-ready skin… so is the heat."),
    )
    checked = json.loads(run_cli(project, "check", "--json").stdout)
    by_id = {e["id"]: {f["rule"] for f in e["findings"]} for e in checked["emails"]}
    assert "PROMO-DATES" in by_id["specials-2024-06"]
    assert "PROMO-SEASON" in by_id["specials-2025-01"]
    assert by_id["specials-2024-05"].isdisjoint({"PROMO-DATES", "PROMO-SEASON"})


def test_the_lemma_table_is_what_scripts_make_lemma_table_makes_from_simplemma_for_the_lexicons_as_they_are():
    """A lexicon edited without running the script again would look for forms the table does not hold."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_lemma_table", REPO / "scripts" / "make-lemma-table.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.TABLE.read_text(encoding="utf-8") == script.render(script.table())
