"""The next month's special in one command, and a plan that shows a missing month instead of failing whole."""

from __future__ import annotations

import json

from conftest import edit
from mailpipe.load.content import load_content


def test_new_special_moves_the_dates_keeps_the_offers_and_fails_check_until_edited(project, run_cli):
    result = run_cli(project, "new", "special", "2024-07")
    assert result.exit_code == 0, result.output
    assert "wrote content/specials/2024-07.md from 2024-06.md" in result.stdout
    special = next(s for s in load_content(project / "content").specials if s.front.month == "2024-07")
    front = special.front
    assert (str(front.valid_from), str(front.valid_until)) == ("2024-07-01", "2024-07-31")
    assert (
        front.title == "Specials July 2024" and "July" in front.subject and "valid July 1 to July 31" in front.preheader
    )
    assert "performed by July 31, 2024" in front.offers[0].description and "June" not in front.terms
    assert [o.name for o in front.offers] == ["Microneedling", "Laser hair removal, small area"] and front.offers[
        0
    ].price == 299
    assert front.featured_article == "what-causes-migraine"  # the first article no special featured yet
    failing = run_cli(project, "check", "specials-2024-07", "--json")
    assert failing.exit_code == 1 and "TODO" in failing.stdout
    path = project / "content/specials/2024-07.md"
    path.write_text(
        path.read_text()
        .replace("TODO (confirm this offer, its price and its terms) ", "")
        .replace("TODO: write this month's introduction.\n", "")
    )
    assert run_cli(project, "check", "specials-2024-07", "newsletter-2024-07").exit_code == 0


def test_new_special_refuses_an_existing_month_a_bad_month_and_rolls_the_year(project, run_cli):
    assert "already exists" in run_cli(project, "new", "special", "2024-06").stderr
    assert "is not a month like" in run_cli(project, "new", "special", "July").stderr
    edit(project / "content/specials/2024-06.md", "month: 2024-06", "month: 2024-12")
    (project / "content/specials/2024-06.md").rename(project / "content/specials/2024-12.md")
    text = (project / "content/specials/2024-12.md").read_text()
    (project / "content/specials/2024-12.md").write_text(
        text.replace("2024-06-01", "2024-12-01")
        .replace("2024-06-30", "2024-12-31")
        .replace("June", "December")
        .replace("December 30", "December 31")
    )
    assert run_cli(project, "new", "special", "2025-01").exit_code == 0
    january = next(s for s in load_content(project / "content").specials if s.front.month == "2025-01").front
    assert str(january.valid_until) == "2025-01-31" and "performed by January 31, 2025" in january.offers[0].description


def test_plan_shows_a_missing_month_as_a_row_and_still_prints_the_calendar(project, run_cli):
    result = run_cli(project, "plan", "--from", "2024-07-01", "--days", "10")
    assert result.exit_code == 1
    assert (
        "missing: monthly-specials.yaml: no newsletter for 2024-07: write content/specials/2024-07.md" in result.stderr
    )
    assert "by 2024-06-25, a week before it is due on 2024-07-02" in result.stderr
    assert "steps 1–7" in result.stdout and "newsletter-2024-07" in result.stdout
    sends = json.loads(run_cli(project, "plan", "--from", "2024-07-01", "--days", "10", "--json").stdout)
    gap = next(s for s in sends if s["email"] == "newsletter-2024-07")
    assert "write content/specials/2024-07.md" in gap["problem"] and len(sends) == 7 * 10 + 1
    run_cli(project, "new", "special", "2024-07")
    fixed = run_cli(project, "plan", "--from", "2024-07-01", "--days", "10", "--json")
    assert fixed.exit_code == 0 and not any("problem" in s for s in json.loads(fixed.stdout))


def test_a_day_of_the_old_month_never_runs_past_the_new_months_end(project, run_cli):
    """From May ('bought by May 31'), June's draft says June 30, not June 31; a day inside both months is kept; from a
    31-day January, February 2025's draft stops at the 28th."""
    june = project / "content/specials/2024-06.md"
    june.unlink()
    may = project / "content/specials/2024-05.md"
    edit(may, "bought by May 31", "bought by May 31 (book by May 15, or by May 30 at the latest)")
    assert run_cli(project, "new", "special", "2024-06").exit_code == 0
    text = june.read_text()
    assert "bought by June 30 (book by June 15, or by June 30 at the latest)" in text and "June 31" not in text
    for name, last in (("May", 31), ("June", 30)):
        assert f"{name} {last + 1}" not in text
    january = project / "content/specials/2025-01.md"
    january.write_text(
        may.read_text()
        .replace("2024-05", "2025-01")
        .replace("May", "January")
        .replace("January 30 at the latest", "January 30 or January 31 at the latest")
    )
    assert run_cli(project, "new", "special", "2025-02").exit_code == 0
    assert "by February 29 or February 29 at the latest" not in (project / "content/specials/2025-02.md").read_text()
    assert "February 28 or February 28 at the latest" in (project / "content/specials/2025-02.md").read_text()
