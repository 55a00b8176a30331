"""`make mutation`'s figures group mutmut's mutant names by the module they mutate."""

from __future__ import annotations

import importlib.util

from conftest import REPO


def test_a_mutant_name_is_counted_under_its_module_for_functions_and_methods_alike():
    spec = importlib.util.spec_from_file_location("mutation_figures", REPO / "scripts" / "mutation-figures.py")
    assert spec is not None and spec.loader is not None
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    assert figures.module_of("mailpipe.push.decide.x__draft__mutmut_12") == "mailpipe.push.decide"
    assert figures.module_of("mailpipe.push.x_planned__mutmut_4") == "mailpipe.push"
    assert figures.module_of("mailpipe.review.xǁReviewsǁlatest__mutmut_2") == "mailpipe.review"
    method = "mailpipe.util.loopback.xǁLoopbackServerǁhandle_error__mutmut_1"
    assert figures.module_of(method) == "mailpipe.util.loopback"
