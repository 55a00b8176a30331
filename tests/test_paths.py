"""Paths from the config stay inside the project, and no command renames or replaces a file mailpipe did not make."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from conftest import edit
from mailpipe.errors import MailpipeError
from mailpipe.util import sqlitefile

COMMANDS = [
    ("push", "--sandbox", "--now", "2024-05-01T13:00:00Z"),
    ("push", "--sandbox", "--dry-run", "--now", "2024-05-01T13:00:00Z"),
    ("doctor", "--sandbox", "--today", "2024-05-01"),
    ("report", "--sandbox"),
    ("audiences", "--sandbox"),
    ("sandbox", "deliveries"),
]
STATE_LINE = "  state_path: var/state.sqlite3     # a local copy of what was pushed (Mailchimp holds the truth)"
SANDBOX_LINE = "  sandbox_path: var/sandbox.sqlite3 # the embedded sandbox used while MAILCHIMP_API_KEY is unset"


def files_under(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def victim(tmp_path):
    """Someone else's folder beside the project, with a file mailpipe must never touch."""
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes\n")
    return folder


@pytest.fixture(autouse=True)
def sandbox_day(monkeypatch, wall_clock):
    monkeypatch.delenv("MAILCHIMP_API_KEY", raising=False)
    wall_clock(dt.datetime(2024, 5, 1, 13, tzinfo=dt.UTC))


@pytest.mark.parametrize("line", [STATE_LINE, SANDBOX_LINE])
@pytest.mark.parametrize("path", ["../victim/notes.txt", "../../victim/notes.txt", "/etc/hostname", "var/../../x"])
def test_a_config_path_outside_the_project_is_a_config_error(project, run_cli, victim, line, path):
    field = line.split(":")[0].strip()
    edit(project / "mailpipe.yaml", line, f"  {field}: {path}")
    before = files_under(victim)
    for args in COMMANDS[:5]:
        result = run_cli(project, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, (args, result.output)
        assert (
            "mailpipe.yaml:" in result.stderr
            and f"mailchimp.{field}: {path!r}: expected a path inside the project" in result.stderr
        )
        assert files_under(victim) == before
    assert not (project / "var").exists()


def test_a_config_path_that_leaves_the_project_by_a_symbolic_link_is_refused(project, run_cli, victim):
    (project / "var").symlink_to(victim, target_is_directory=True)
    before = files_under(victim)
    for args in COMMANDS:
        result = run_cli(project, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, (args, result.output)
        assert "var/state.sqlite3 leads outside the project" in result.stderr or (
            "var/sandbox.sqlite3 leads outside the project" in result.stderr
        ), (args, result.stderr)
        assert files_under(victim) == before and sorted(p.name for p in victim.iterdir()) == ["notes.txt"]


def test_a_demo_file_outside_the_project_is_a_config_error(project, run_cli):
    edit(project / "mailpipe.yaml", "leads_csv: ", "leads_csv: ../../../etc/passwd  # ")
    result = run_cli(project, "plan", "--from", "2024-05-01")
    assert result.exit_code == 1 and "demo.leads_csv: '../../../etc/passwd': expected a path inside" in result.stderr


def test_a_file_that_is_not_a_database_is_never_renamed_or_replaced(project, run_cli):
    """state_path pointed at someone's notes by mistake: every command that reads the state says so, and every
    command leaves the notes as they are."""
    edit(project / "mailpipe.yaml", STATE_LINE, "  state_path: notes/plan.txt")
    (project / "notes").mkdir()
    (project / "notes/plan-sandbox.txt").write_text("the marketer's plan for June\n" * 50)
    before = files_under(project / "notes")
    for args in COMMANDS[:5]:
        result = run_cli(project, *args)
        assert "Traceback" not in result.output, (args, result.output)
        if args[0] in ("push", "doctor"):  # those read the push state
            assert result.exit_code == 1, (args, result.output)
            assert "notes/plan-sandbox.txt is not a database mailpipe made" in result.stderr
        assert files_under(project / "notes") == before, args


def test_two_damaged_files_set_aside_in_the_same_second_are_both_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlitefile, "_aside_name", lambda path: f"{path.name}.corrupt-20240501-130000")
    path = tmp_path / "state.sqlite3"

    def prepare(p):
        db = sqlite3.connect(p)
        db.execute("create table if not exists t (x)")
        return db

    for damage in (b"first", b"second"):
        path.write_bytes(b"SQLite format 3\x00" + damage * 200)
        sqlitefile.open_or_rebuild(path, prepare, "the test").close()
    kept = sorted(p.read_bytes()[16:22] for p in tmp_path.glob("state.sqlite3.corrupt-*"))
    assert kept == [b"firstf", b"second"]


def test_a_file_that_never_was_a_database_is_not_set_aside(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 200)
    with pytest.raises(MailpipeError, match="is not a database mailpipe made"):
        sqlitefile.open_or_rebuild(notes, lambda p: sqlite3.connect(p).execute("create table t (x)").connection, "x")
    with pytest.raises(MailpipeError, match="is not a database mailpipe made"):
        sqlitefile.memory_copy(notes, "create table t (x);", "the test")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"] and notes.read_text() == "my notes\n" * 200


# -- damaged local files: one line, never a traceback ---------------------------------------------------------------


def test_a_state_table_with_other_columns_is_set_aside_like_a_damaged_file(project, run_cli):
    (project / "var").mkdir()
    db = sqlite3.connect(project / "var/state-sandbox.sqlite3")
    db.execute("CREATE TABLE pushed (title TEXT, something_else TEXT)")
    db.commit()
    db.close()
    dry = run_cli(project, "push", "--sandbox", "--dry-run", "--now", "2024-05-01T13:00:00Z")
    assert dry.exit_code == 0 and "Traceback" not in dry.output
    assert "table pushed has columns title, something_else; expected title, campaign_id" in dry.stderr
    result = run_cli(project, "push", "--sandbox", "--now", "2024-05-01T13:00:00Z")
    assert result.exit_code == 0, result.output
    assert "was not a readable database" in result.stderr and list((project / "var").glob("state-sandbox*.corrupt-*"))


def test_a_lock_file_that_is_a_folder_is_one_line(project, run_cli):
    (project / "var/state-sandbox.sqlite3.lock").mkdir(parents=True)
    result = run_cli(project, "push", "--sandbox", "--now", "2024-05-01T13:00:00Z")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "state-sandbox.sqlite3.lock is not the lock file mailpipe makes; remove it" in result.stderr


def test_a_damaged_row_in_the_sandbox_is_one_line(project, run_cli):
    csv = project / "leads.csv"
    csv.write_text("email,first_name,joined,consent\nlead@example.com,Lea,2024-04-30T10:00,yes\n")
    assert run_cli(project, "leads", "import", "--sandbox", str(csv), "--audience", "new-consult").exit_code == 0
    assert run_cli(project, "push", "--sandbox", "--now", "2024-05-01T13:00:00Z").exit_code == 0
    db = sqlite3.connect(project / "var/sandbox.sqlite3")
    db.execute("UPDATE campaigns SET recipients = substr(recipients, 1, 10)")
    db.commit()
    db.close()
    result = run_cli(project, "sandbox", "advance", "--to", "2024-05-09T00:00:00Z")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the sandbox file holds a damaged row" in result.stderr and "to start a new sandbox" in result.stderr


def test_the_sandbox_answers_400_to_a_value_sqlite_cannot_hold(sandbox):
    """Mailchimp's answer to a name that is an object or an id of 10**25 is a 400, not a server error."""
    import json
    import urllib.error
    import urllib.request

    def call(method, path, body=None):
        request = urllib.request.Request(
            sandbox.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": "Basic " + __import__("base64").b64encode(b"u:k-us1").decode()},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as err:
            return err.code

    assert call("POST", "/lists/clinic/segments", {"name": {"x": 1}, "static_segment": []}) == 400
    assert call("POST", "/campaign-folders", {"name": {"x": 1}}) == 400
    campaign = {"type": "regular", "recipients": {"list_id": "clinic"}, "settings": {"title": {"x": 1}}}
    assert call("POST", "/campaigns", campaign) == 400
    assert call("GET", f"/lists/clinic/segments/{10**25}") in (400, 404)
    assert call("POST", "/lists/clinic/segments", {"name": "ok", "static_segment": []}) == 200
