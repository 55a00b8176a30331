"""`make mutation`'s figures: mutant names grouped by the module they mutate, and a survivor counted as equivalent only
when the allow-list names its function, the line as it is and the line as the mutant has it."""

from __future__ import annotations

import importlib.util
import tomllib

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("mutation_figures", REPO / "scripts" / "mutation-figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_mutant_name_is_counted_under_its_module_for_functions_and_methods_alike(figures):
    assert figures.module_of("mailpipe.push.decide.x__draft__mutmut_12") == "mailpipe.push.decide"
    assert figures.module_of("mailpipe.push.x_planned__mutmut_4") == "mailpipe.push"
    assert figures.module_of("mailpipe.review.xǁReviewsǁlatest__mutmut_2") == "mailpipe.review"
    method = "mailpipe.util.loopback.xǁLoopbackServerǁhandle_error__mutmut_1"
    assert figures.module_of(method) == "mailpipe.util.loopback"
    assert figures.function_of("mailpipe.push.decide.x__draft__mutmut_12") == "mailpipe.push.decide._draft"
    assert figures.function_of(method) == "mailpipe.util.loopback.LoopbackServer.handle_error"


DIFF = """--- mailpipe/push/decide.py
+++ mailpipe/push/decide.py
@@ -1,3 +1,3 @@
 def _f():
-    x = a.lower()
+    x = a.upper()
     return x
"""
ENTRY = {"function": "mailpipe.push.decide._f", "original": "x = a.lower()", "mutant": "x = a.upper()", "why": "same"}


@pytest.mark.parametrize(
    ("name", "entry", "explained"),
    [
        ("mailpipe.push.decide.x__f__mutmut_1", ENTRY, True),
        ("mailpipe.push.decide.x__g__mutmut_1", ENTRY, False),  # another function
        ("mailpipe.push.decide.x__f__mutmut_1", {**ENTRY, "original": "x = b.lower()"}, False),  # another line
        ("mailpipe.push.decide.x__f__mutmut_1", {**ENTRY, "mutant": "x = None"}, False),  # another mutant of it
    ],
)
def test_a_survivor_is_equivalent_only_for_its_function_its_line_and_its_mutant(figures, name, entry, explained):
    assert figures.equivalent(name, DIFF, [entry]) == ("same" if explained else None)


def source_of(function: str) -> str:
    """The source of the module a dotted function (or method) name lives in."""
    parts = function.split(".")
    for end in range(len(parts) - 1, 0, -1):
        for path in (REPO.joinpath(*parts[:end]).with_suffix(".py"), REPO.joinpath(*parts[:end], "__init__.py")):
            if path.is_file():
                return path.read_text(encoding="utf-8")
    raise AssertionError(f"no module for {function}")


def test_every_allow_listed_equivalent_says_why_and_its_line_is_still_in_the_code(figures):
    entries = tomllib.loads((REPO / "scripts" / "mutation-equivalents.toml").read_text(encoding="utf-8"))["equivalent"]
    assert entries
    for entry in entries:
        assert set(entry) == {"function", "original", "mutant", "why"} and entry["original"] != entry["mutant"]
        assert entry["original"] in source_of(entry["function"]), entry["function"]


def test_the_goal_is_unmet_by_an_unexplained_survivor_and_by_a_mutant_no_test_was_run_on(figures):
    statuses = {
        "m.x_f__mutmut_1": "killed",
        "m.x_f__mutmut_2": "survived",
        "m.x_f__mutmut_3": "equivalent",
        "m.x_g__mutmut_1": "no tests",
        "m.x_g__mutmut_2": "timeout",
        "m.x_f__mutmut_4": "survived",
    }
    assert figures.unmet(statuses) == {
        "survived": ["m.x_f__mutmut_2", "m.x_f__mutmut_4"],
        "no tests": ["m.x_g__mutmut_1"],
    }
    assert figures.unmet({"m.x_f__mutmut_1": "killed", "m.x_f__mutmut_2": "equivalent"}) == {
        "survived": [],
        "no tests": [],
    }


@pytest.mark.parametrize(
    ("listing", "code", "said"),
    [
        ("m.x_f__mutmut_1: killed\nm.x_f__mutmut_2: killed\n", 0, []),
        ("m.x_f__mutmut_1: killed\nm.x_g__mutmut_1: no tests\n", 1, ["no tests: m.x_g__mutmut_1"]),
        ("m.x_f__mutmut_1: survived\n", 1, ["survived: m.x_f__mutmut_1"]),
    ],
)
def test_make_mutation_fails_while_the_goal_is_unmet_and_names_each_mutant(
    figures, tmp_path, monkeypatch, capsys, listing, code, said
):
    """Through a stand-in for mutmut's command (its `results` listing; `show` of a survivor no entry explains)."""
    mutmut = tmp_path / "mutmut"
    (tmp_path / "listing").write_text(listing)
    mutmut.write_text(f'#!/bin/sh\n[ "$1" = results ] && cat {tmp_path / "listing"} || echo "+ x = 1"\n')
    mutmut.chmod(0o755)
    monkeypatch.setattr(figures, "MUTMUT", mutmut)
    monkeypatch.setattr("sys.argv", ["mutation-figures.py", "--seconds", "61"])
    assert figures.main() == code
    out = capsys.readouterr().out.splitlines()
    assert "time: 1 min 1 s" in out[-1 - len(said) - ("no tests" in listing)]
    assert [line for line in out if line.startswith(("survived:", "no tests:"))] == said
    assert (figures.NO_TESTS in out) == ("no tests" in listing)
