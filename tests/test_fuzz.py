"""Fuzzing what marketers and spreadsheets hand mailpipe: every input ends in success or a clear error (InputError,
exit 1 with file:line), never a traceback, a hang or a partial write. Bounded so CI stays fast."""

from __future__ import annotations

import json
import shutil
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, copy_project
from mailpipe.errors import InputError
from mailpipe.load.content import load_content
from mailpipe.push.leads import FORMULA_STARTS, read_leads
from mailpipe.util.vocabulary import EMAIL

YAML_CHARS = string.ascii_letters + string.digits + " :-[]{}&*!|>'\"#%@`,?\n\t\r\ufeff\x00é"
FIELDS = [
    "id",
    "title",
    "subject",
    "preheader",
    "summary",
    "cta",
    "label",
    "url",
    "hero",
    "example",
    "series_next",
    "offers",
    "price",
]
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["https://x.com", "2024-05-01"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=12,
)
front_matter = st.one_of(
    st.text(alphabet=YAML_CHARS, max_size=300),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8).map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
)
FUZZ = settings(
    max_examples=250, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FUZZ
@given(front=front_matter, body=st.text(max_size=200))
def test_any_front_matter_loads_or_is_a_clear_error(tmp_path_factory, front, body):
    content = tmp_path_factory.mktemp("content")
    (content / "articles").mkdir()
    (content / "specials").mkdir()
    (content / "articles" / "01-x.md").write_text(
        f"---\n{front}\n---\n{body}", encoding="utf-8", errors="surrogatepass"
    )
    try:
        loaded = load_content(content)
    except InputError as err:
        assert err.problems and all(p.line >= 1 and str(p).startswith(str(content)) for p in err.problems)
    else:
        assert len(loaded.articles) == 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(front=front_matter)
def test_build_of_any_front_matter_succeeds_or_fails_cleanly_and_writes_whole_builds_only(
    tmp_path_factory, run_cli, front
):
    project = copy_project(tmp_path_factory.mktemp("fuzz") / "project")
    shutil.rmtree(project / "build", ignore_errors=True)
    article = project / "content/articles/01-what-causes-migraine.md"
    article.write_text(f"---\n{front}\n---\nBody.\n", encoding="utf-8", errors="surrogatepass")
    result = run_cli(project, "build")
    assert result.exit_code in (0, 1) and "Traceback" not in result.output + result.stderr
    if result.exit_code:
        assert not (project / "build").exists() and result.stderr.strip()
    else:
        manifest = json.loads((project / "build/manifest.json").read_text())
        assert all((project / "build" / e[part]).exists() for e in manifest["emails"] for part in ("html", "text"))
    assert not list((project / "build").glob(".*")) if (project / "build").exists() else True


cells = st.text(alphabet=string.printable + '\x00é,"=+-@', max_size=40)


@FUZZ
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8), header=st.booleans())
def test_any_csv_rows_import_or_are_reported_by_line(tmp_path_factory, rows, header):
    file = tmp_path_factory.mktemp("csv") / "leads.csv"
    lines = (["email,first_name,last_name,joined,consent"] if header else []) + [",".join(row) for row in rows]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        leads, problems = read_leads(file, "America/Los_Angeles")
    except InputError as err:
        assert err.problems and all(p.line >= 1 for p in err.problems)
        return
    for lead in leads:
        assert EMAIL.match(lead.email) and "\x00" not in lead.email + lead.first_name + lead.last_name
        assert not lead.first_name.startswith(FORMULA_STARTS) and not lead.last_name.startswith(FORMULA_STARTS)
        assert not lead.email.startswith(FORMULA_STARTS)
    assert all(p.line >= 2 for p in problems)


def test_the_fuzzed_project_is_the_real_one():
    assert (REPO / "content/articles/01-what-causes-migraine.md").exists()
