"""`cli.py build` writes NAME.html, NAME.txt and a manifest, and rewrites only what changed."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, edit


def snapshot(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_build_writes_every_email_and_a_manifest(project, run_cli):
    result = run_cli(project, "build")
    assert result.exit_code == 0, result.output
    out = project / "build"
    manifest = json.loads((out / "manifest.json").read_text())
    ids = [entry["id"] for entry in manifest["emails"]]
    assert len(ids) == 11 and len(set(ids)) == 11
    for entry in manifest["emails"]:
        html = (out / f"{entry['id']}.html").read_bytes()
        text = (out / f"{entry['id']}.txt").read_bytes()
        assert entry["html_bytes"] == len(html) and entry["text_bytes"] == len(text)
        assert set(entry) >= {"id", "subject", "preheader", "html_bytes", "text_bytes", "content_hash"}
        assert len(entry["content_hash"]) == 64
        assert entry["id"] in result.stdout
    assert "written" in result.stdout


def test_rebuilding_unchanged_content_rewrites_nothing(project, run_cli):
    run_cli(project, "build")
    before = snapshot(project / "build")
    result = run_cli(project, "build")
    assert result.exit_code == 0
    assert snapshot(project / "build") == before
    assert result.stdout.count("unchanged │") == 11 and "written │" not in result.stdout


def test_changing_one_article_rewrites_only_its_files_and_the_manifest(project, run_cli):
    run_cli(project, "build")
    before = snapshot(project / "build")
    old_hash = {e["id"]: e["content_hash"] for e in json.loads((project / "build/manifest.json").read_text())["emails"]}
    edit(
        project / "content/articles/03-chronic-vs-episodic.md",
        "Doctors describe migraine",
        "Doctors usually describe migraine",
    )
    run_cli(project, "build")
    after = snapshot(project / "build")
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"chronic-vs-episodic-migraine.html", "chronic-vs-episodic-migraine.txt", "manifest.json"}
    new_hash = {e["id"]: e["content_hash"] for e in json.loads((project / "build/manifest.json").read_text())["emails"]}
    assert [i for i in new_hash if new_hash[i] != old_hash[i]] == ["chronic-vs-episodic-migraine"]


def test_a_removed_content_file_takes_its_built_files_with_it(project, run_cli):
    run_cli(project, "build")
    (project / "content/specials/2024-06.md").unlink()
    result = run_cli(project, "build")
    assert not (project / "build/specials-2024-06.html").exists()
    assert not (project / "build/newsletter-2024-06.txt").exists()
    assert "removed stale files" in result.stdout


def test_build_out_writes_where_asked(project, run_cli, tmp_path):
    result = run_cli(project, "build", "--out", str(tmp_path / "elsewhere"))
    assert result.exit_code == 0
    assert (tmp_path / "elsewhere/manifest.json").exists() and not (project / "build").exists()


@pytest.mark.subprocess
def test_make_run_works_as_a_real_process():
    """The README's main command, run the way a marketer runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAILCHIMP_API_KEY", "MAILCHIMP_SERVER_URL")}
    done = subprocess.run(["make", "-s", "run"], cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((REPO / "build/manifest.json").read_text())
    for entry in manifest["emails"]:
        assert entry["id"] in done.stdout
        assert (REPO / "build" / entry["html"]).stat().st_size == entry["html_bytes"]
    assert "Traceback" not in done.stderr
    # the demo really pushed: every consenting lead got the whole series, every patient each month's email
    deliveries = int(re.search(r"who received what, .*\((\d+) deliveries", done.stdout).group(1))
    leads = [r for r in csv.DictReader((REPO / "demo/leads.csv").open()) if r["consent"] == "yes"]
    patients = list(csv.DictReader((REPO / "demo/patients.csv").open()))
    assert deliveries >= 7 * (len(leads) - 1) + 2 * len(patients), done.stdout[-3000:]
    for row in leads + patients:
        assert row["email"] in done.stdout, row["email"]
    assert done.stdout.count("newsletter-2024-05") >= len(patients) and done.stdout.count(
        "what-causes-migraine"
    ) >= len(leads)


def test_a_large_project_gets_a_summary_and_verbose_gets_every_email(project, run_cli):
    """Up to 20 emails, a row per email; from 21, build and check summarise (the emails with errors by name) unless
    -v."""
    from simulation import add_articles

    add_articles(project, 16)  # 16 articles, 2 specials, 2 newsletters: 20 emails
    small = run_cli(project, "build")
    assert small.exit_code == 0 and small.stdout.count("written │") == 20, small.stdout
    add_articles(project, 17)  # 21
    [extra] = (project / "content/articles").glob("0017-*.md")
    failing = extra.read_text().split("\nid: ", 1)[1].split("\n", 1)[0]
    extra.write_text(extra.read_text() + "\nBotox cures migraine.\n")
    large = run_cli(project, "build")
    assert large.exit_code == 0 and "│" not in large.stdout, large.stdout
    assert (
        "21 emails in" in large.stdout
        and "1 with errors" in large.stdout
        and f"with errors: {failing}\n" in large.stdout
    )
    assert run_cli(project, "build", "--verbose").stdout.count("unchanged │") == 21
    checked = run_cli(project, "check")
    assert checked.exit_code == 1
    assert f"{failing}: " in checked.stdout and "CLAIM-NO-CURE" in checked.stdout
    assert "21 emails checked:" in checked.stdout.splitlines()[-1]
    assert ": 0 errors," not in checked.stdout  # no table per email
    verbose = run_cli(project, "check", "-v")
    assert verbose.stdout.count(": 0 errors,") == 20 and f"{failing}: 0 errors" not in verbose.stdout


@pytest.mark.parametrize(
    "foreign",
    ["../content/articles/01-what-causes-migraine.md", "../mailpipe.yaml", "/etc/hostname", "notes.md", "a/b.html"],
)
def test_a_manifest_naming_files_a_build_does_not_write_deletes_nothing(project, run_cli, foreign):
    """`build/manifest.json` is a file anyone can edit: a name the build could not have written is refused, never
    deleted, and nothing is written; the files it names are untouched."""
    run_cli(project, "build")
    manifest = project / "build/manifest.json"
    doc = json.loads(manifest.read_text())
    doc["emails"].append({"id": "y", "html": foreign, "text": "y.txt"})
    manifest.write_text(json.dumps(doc))
    target = (project / "build" / foreign) if not foreign.startswith("/") else Path(foreign)
    existed = target.exists()
    before = snapshot(project / "build")
    (project / "content/specials/2024-06.md").unlink()  # so that the build has stale files of its own too
    result = run_cli(project, "build")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert (
        f"names files a build does not write ('{foreign}')" in result.stderr and "nothing was deleted" in result.stderr
    )
    assert target.exists() == existed and snapshot(project / "build") == before
    assert (project / "content/articles/01-what-causes-migraine.md").exists() and (project / "mailpipe.yaml").exists()
