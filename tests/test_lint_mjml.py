"""`mailpipe lint-mjml` against the official MJML 5.4.1 in strict validation, on MJML nobody here wrote.

The corpus (scripts/fetch-mjml-corpus.py, run by `make test`) is the Python MJML port's test templates
(most of them the official MJML's own test cases) and two public template packages. Each file and a
set of one-error mutants of the files official MJML accepts go to both checkers: official MJML's
verdict and error lines are the reference.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import official_mjml
import pytest

from mailpipe.render.mjml_check import check_file, check_source, mark_origins, value_problem

CORPUS = Path(__file__).resolve().parent.parent / ".corpus" / "mjml"
needs_official = pytest.mark.skipif(not official_mjml.available(), reason="npm mjml is not installed (make node-mjml)")
needs_official = pytest.mark.node(needs_official)
needs_corpus = pytest.mark.skipif(
    not any(CORPUS.rglob("*.mjml")), reason="no MJML corpus (python3 scripts/fetch-mjml-corpus.py)"
)


def ours(path: Path) -> list:
    """Our problems in the file itself (those in files it includes are theirs), MJML-rule kinds only."""
    return [p for p in check_file(path)[str(path)] if p.kind != "stricter-than-mjml"]


# One error each, put in at a tag the file already has; every one is an error official MJML reports.
_MUTATIONS = {
    "illegal attribute": (r"<mj-(section|column|text|image|button)(?=[\s/>])", lambda m: f'{m.group(0)} colour="red"'),
    "unit without px": (r"<mj-(section|column|text|image|button)(?=[\s/>])", lambda m: f'{m.group(0)} padding="12"'),
    "five paddings": (r"<mj-(section|text|button)(?=[\s/>])", lambda m: f'{m.group(0)} padding="1px 2px 3px 4px 5px"'),
    "font size in pt": (r"<mj-(text|button)(?=[\s/>])", lambda m: f'{m.group(0)} font-size="34pt"'),
    "five-digit colour": (r"<mj-(text|button)(?=[\s/>])", lambda m: f'{m.group(0)} color="#1AA0E"'),
    "colour name in capitals": (r"<mj-(section|column)(?=[\s/>])", lambda m: f'{m.group(0)} background-color="Red"'),
    "bad alignment": (r"<mj-(text|image|button)(?=[\s/>])", lambda m: f'{m.group(0)} align="middle"'),
    "misspelt tag": (r"<mj-image(?=[\s/>])", lambda m: "<mj-img"),
    "column in body": (r"<mj-body[^>]*>", lambda m: f"{m.group(0)}<mj-column><mj-text>stray</mj-text></mj-column>"),
    "unknown head tag": (r"<mj-head[^>]*>", lambda m: f"{m.group(0)}<mj-titel>x</mj-titel>"),
    "bad default": (r"<mj-attributes[^>]*>", lambda m: f'{m.group(0)}<mj-text padding="abc" />'),
}


def mutants(files: list[Path]) -> list[Path]:
    """Up to three one-error copies of each file, at a seeded random place, beside the original (its includes still
    resolve)."""
    made, chance = [], random.Random(13)
    for number, file in enumerate(files):
        text = file.read_text(encoding="utf-8")
        body_start = text.find("<mj-body")
        names = [n for n, (pattern, _) in _MUTATIONS.items() if re.search(pattern, text)]
        for name in chance.sample(names, min(3, len(names))):
            pattern, change = _MUTATIONS[name]
            found = [
                m
                for m in re.finditer(pattern, text)
                if name in ("unknown head tag", "bad default") or m.start() >= body_start
            ]
            if not found:
                continue
            match = chance.choice(found)
            # the process id in the name: two xdist workers make their mutants of the same corpus side by side
            mutant = file.with_name(f".mutant-{os.getpid()}-{number}-{name.replace(' ', '-')}.mjml")
            mutant.write_text(text[: match.start()] + change(match) + text[match.end() :], encoding="utf-8")
            made.append(mutant)
    return made


@pytest.fixture(scope="module")
def verdicts():
    """(file, official errors, our problems) for every corpus file and every mutant."""
    files = sorted(p for p in CORPUS.rglob("*.mjml") if not p.name.startswith(".mutant-"))
    official = official_mjml.validate_files(files)
    accepted = [f for f, errors in zip(files, official, strict=True) if not errors]
    made = mutants(accepted)
    try:
        official += official_mjml.validate_files(made)
        yield (
            [(file, errors, ours(file)) for file, errors in zip(files + made, official, strict=True)],
            len(files),
            accepted,
        )
    finally:
        for mutant in made:
            mutant.unlink()


@needs_official
@needs_corpus
def test_no_false_rejection_of_real_templates_official_mjml_accepts(verdicts):
    results, count, accepted = verdicts
    assert count >= 60 and len(accepted) >= 50
    rejections = {str(f): [str(p) for p in check_file(f)[str(f)] if not p.note] for f in accepted}
    wrongly_rejected = {name: found for name, found in rejections.items() if found}
    assert wrongly_rejected == {}


@needs_official
@needs_corpus
def test_official_errors_are_found_on_their_line(verdicts, figure):
    results, count, _ = verdicts
    expected = found = 0
    missed = []
    for file, errors, problems in results:
        if any(e.get("line") is None for e in errors):  # "Malformed MJML": the file is not enclosed in <mjml>
            assert any(p.kind == "syntax" for p in problems), file
            continue
        ours_at = {(p.line, p.tag) for p in problems}
        for error in {(e["line"], e["tagName"]) for e in errors}:
            expected += 1
            if error in ours_at:
                found += 1
            else:
                missed.append((file.name, error))
    figure(
        f"lint-mjml vs official mjml 5.4.1 strict: {len(results)} files ({count} corpus, {len(results) - count} "
        "mutants); "
        f"official errors (line, tag) found on the same line: {found}/{expected} = {found / expected:.1%}"
    )
    assert len(results) - count >= 120
    assert found / expected >= 0.95, missed


@needs_official
@needs_corpus
def test_every_mutant_is_rejected_when_and_only_when_official_mjml_rejects_it(verdicts):
    results, count, _ = verdicts
    disagreements = [
        (f.name, [e["message"] for e in errors], [str(p) for p in problems])
        for f, errors, problems in results[count:]
        if bool(errors) != bool(problems)
    ]
    assert disagreements == []


# Values checked against the official types: each line is (type, value); official MJML gives the verdict.
_VALUES = (
    [
        ("mj-section", "padding", v)
        for v in (
            "10px",
            "10px 20px",
            "1px 2px 3px 4px",
            "1px 2px 3px 4px 5px",
            "12",
            "0",
            "10%",
            "abc",
            "10px  20px",
            "-2px",
        )
    ]
    + [("mj-text", "font-size", v) for v in ("14px", "14", "1.5px", "34pt", "14%")]
    + [("mj-text", "line-height", v) for v in ("1.5", "20px", "150%", "normal")]
    + [("mj-text", "letter-spacing", v) for v in ("-2px", "0.1em", "2pt")]
    + [("mj-image", "width", v) for v in ("600px", "600", "100%", "auto")]
    + [("mj-column", "width", v) for v in ("50%", "300px", "300", "33.33%")]
    + [
        ("mj-text", "color", v)
        for v in (
            "#1aa0e3",
            "#1AA0E3",
            "#abc",
            "#abcd",
            "#1AA0E",
            "red",
            "Red",
            "rebeccapurple",
            "rgb(1, 2, 3)",
            "rgba(1,2,3,0.5)",
            "hsl(1, 2%, 3%)",
            "transparent",
            "inherit",
            "#ggg",
        )
    ]
    + [("mj-button", "align", v) for v in ("left", "center", "right", "middle", "Center", "")]
    + [("mj-section", "full-width", v) for v in ("full-width", "false", "", "true")]
    + [("mj-carousel", "thumbnails", v) for v in ("visible", "hidden", "none")]
    + [("mj-accordion-element", "border", v) for v in ("1px solid red", "")]
    + [("mj-navbar", "hamburger", v) for v in ("hamburger", "x")]
    + [("mj-image", "fluid-on-mobile", v) for v in ("true", "false", "yes", "True")]
    + [("mj-table", "cellpadding", v) for v in ("4", "4px", "abc", "")]
    + [("mj-section", "background-size", v) for v in ("cover", "100px", "50% 30%")]
    + [("mj-social-element", "border-radius", v) for v in ("3px", "3", "3px 4px")]
)


def _value_document(tag: str, attribute: str, value: str) -> str:
    element = {
        "mj-carousel": f'<mj-carousel {attribute}="{value}">'
        '<mj-carousel-image src="https://x.test/a.png" /></mj-carousel>',
        "mj-accordion-element": f'<mj-accordion><mj-accordion-element {attribute}="{value}">'
        "<mj-accordion-title>T</mj-accordion-title>"
        "<mj-accordion-text>X</mj-accordion-text></mj-accordion-element></mj-accordion>",
        "mj-social-element": f'<mj-social><mj-social-element name="facebook" {attribute}="{value}">'
        "F</mj-social-element></mj-social>",
        "mj-navbar": f'<mj-navbar {attribute}="{value}"><mj-navbar-link href="/a">A</mj-navbar-link></mj-navbar>',
    }.get(
        tag,
        f'<{tag} {attribute}="{value}">x</{tag}>'
        if tag in ("mj-text", "mj-button", "mj-table")
        else f'<{tag} {attribute}="{value}" />',
    )
    head = "<mjml><mj-head><mj-title>t</mj-title></mj-head><mj-body>"
    if tag == "mj-section":
        return (
            f"{head}<mj-section "
            f'{attribute}="{value}"><mj-column><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>'
        )
    if tag == "mj-column":
        return (
            f"{head}<mj-section><mj-column "
            f'{attribute}="{value}"><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>'
        )
    return (
        "<mjml><mj-head><mj-title>t</mj-title></mj-head><mj-body><mj-section>"
        f"<mj-column>{element}</mj-column></mj-section></mj-body></mjml>"
    )


@needs_official
def test_every_value_type_gets_the_official_verdict_on_both_sides_of_its_limits():
    documents = [_value_document(*case) for case in _VALUES]
    official = official_mjml.compile_all(documents, validation_level="strict")["results"]
    disagreements = []
    for case, document, result in zip(_VALUES, documents, official, strict=True):
        official_bad = any(case[1] in e["message"] for e in result["errors"])
        our_bad = any(p.kind == "bad-value" and p.attribute == case[1] for p in check_source(document))
        if official_bad != our_bad:
            disagreements.append((case, result["errors"], [str(p) for p in check_source(document)]))
    assert disagreements == []
    verdicts = {
        value: value_problem("unit(px,%){1,4}", value) is None for value in ("1px 2px 3px 4px", "1px 2px 3px 4px 5px")
    }
    assert verdicts == {
        "1px 2px 3px 4px": True,
        "1px 2px 3px 4px 5px": False,
    }  # both sides of the count limit, without node


def test_html_tolerant_reading_keeps_exact_lines():
    """What XML rejects and MJML accepts (entities, <br>, a bare & in a URL, repeated attributes, template
    syntax with <) comes first; the unclosed mj-spacer on line 11 then swallows the button on line 12, as
    in official MJML: each problem is on its own line and nothing else is reported."""
    source = "\n".join(
        [
            "<mjml>",
            '<mj-head><mj-font name="Lato" href="https://fonts.googleapis.com/css?family=Lato&display=swap" '
            "/></mj-head>",
            "<mj-body>",
            "<mj-section>",
            "<mj-column>",
            "<mj-text>&nbsp;&copy; 2026<br>{% if a < b %}x{% endif %} {{#if y}}<b>z</b>{{/if}}</mj-text>",
            '<mj-image src="https://x.test/a.png" alt="" width="200px" width="200px" />',
            "<mj-text",
            "  align=center",
            "  >unquoted<br></mj-text>",
            '<mj-spacer height="10px">',
            '<mj-button href="#" font-size="34pt">Go</mj-button>',
            "</mj-column>",
            "</mj-section>",
            "</mj-body>",
            "</mjml>",
        ]
    )
    assert [(p.line, p.kind, p.tag, p.attribute) for p in check_source(source)] == [
        (11, "stricter-than-mjml", "mj-spacer", None),
        (12, "nesting", "mj-button", None),
        (12, "bad-value", "mj-button", "font-size"),
    ]


def test_where_mailpipe_is_stricter_it_says_so_in_its_own_kind():
    source = "\n".join(
        [
            "<mjml>",
            "<mj-section><mj-column><mj-text>outside the body</mj-text></mj-column></mj-section>",
            "<mj-body>",
            "<MJ-SECTION><mj-column><mj-text>capitals</mj-text></mj-column></MJ-SECTION>",
            "<mj-section><mj-column><mj-text>misspelt close</mj-text></mj-colum></mj-column></mj-section>",
            "<mj-section><mj-column>text dropped<mj-text>x</mj-text></mj-column></mj-section>",
            '<mj-section><mj-column><mj-image src="a.png" width="10px" width="20px" /></mj-column></mj-section>',
            "</mj-body>",
            "<mj-raw><!-- allowed under mjml --></mj-raw>",
            "</mjml>",
        ]
    )
    problems = check_source(source)
    assert {(p.line, p.kind) for p in problems} == {
        (2, "stricter-than-mjml"),
        (4, "stricter-than-mjml"),
        (5, "stricter-than-mjml"),
        (6, "stricter-than-mjml"),
        (7, "stricter-than-mjml"),
    }
    messages = " | ".join(p.message for p in problems)
    for words in (
        "outside <mj-body>",
        "capitals",
        "</mj-colum> closes nothing",
        "did you mean </mj-column>?",
        "text directly inside <mj-column>",
        "width is given twice",
    ):
        assert words in messages


def test_ending_tags_nest_and_void_tags_close_as_in_the_official_parser():
    """An ending tag inside another's HTML is counted, so the outer one ends at its own closing tag;
    a <br> outside HTML content closes itself (and is not MJML)."""
    source = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>a <mj-button>b</mj-button> c</mj-text>\n"
        "<br><mj-text>d</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert [(p.line, p.kind, p.tag) for p in check_source(source)] == [(2, "unknown-tag", "br")]


def test_a_file_without_mjml_is_a_syntax_problem_on_its_first_line():
    assert [(p.line, p.kind) for p in check_source("\n\n</mj-body>\n")] == [(1, "syntax"), (3, "stricter-than-mjml")]


def test_html_attributes_selectors_include_and_raw_under_mjml_are_mjml():
    source = (
        '<mjml><mj-head><mj-html-attributes><mj-selector path=".x td"><mj-html-attribute '
        'name="data-id">42</mj-html-attribute>'
        '</mj-selector></mj-html-attributes><mj-attributes><mj-all font-family="Arial" /><mj-class name="blue" '
        'color="blue" />'
        '</mj-attributes></mj-head><mj-raw><meta name="x" /></mj-raw><mj-body><mj-section><mj-column><mj-text '
        'mj-class="blue">'
        "<p>Hi<br /><mj-fake>raw</mj-fake></p></mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert check_source(source) == []
    bad_defaults = source.replace('color="blue"', 'color="bleu"').replace(
        'font-family="Arial"', 'font-family="Arial" padding="abc"'
    )
    assert [(p.tag, p.attribute, p.kind, p.note) for p in check_source(bad_defaults)] == [
        ("mj-all", "padding", "stricter-than-mjml", True),
        ("mj-class", "color", "stricter-than-mjml", True),
    ]


def test_a_default_that_suits_one_component_with_the_attribute_is_no_note():
    """mj-all sets a default for every component that has the attribute: `align="justify"` suits mj-text (not mj-image)
    and `height="auto"` suits mj-image (not mj-spacer), so neither is a note; a value no component takes is."""
    source = (
        '<mjml><mj-head><mj-attributes><mj-all align="justify" height="auto" /></mj-attributes></mj-head>'
        "<mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert check_source(source) == []
    nowhere = source.replace('align="justify"', 'align="middle"')
    assert [(p.attribute, p.note) for p in check_source(nowhere)] == [("align", True)]


def test_defaults_official_mjml_does_not_type_check_are_notes_and_fail_neither_lint_nor_build(tmp_path, run_cli):
    """A public template's mj-class with a CSS variable: official MJML accepts it (its validator types no mj-class or
    mj-all value), so lint-mjml says a note and exits 0; a component default in mj-attributes is still checked."""
    template = tmp_path / "card.mjml"
    template.write_text(
        '<mjml><mj-head><mj-attributes><mj-class name="card" container-background-color="var(--x, #2C2C2E)" />'
        '<mj-all padding="var(--gap)" /></mj-attributes></mj-head><mj-body><mj-section><mj-column>'
        '<mj-text mj-class="card">Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
        encoding="utf-8",
    )
    linted = run_cli(tmp_path, "lint-mjml", str(template))
    assert linted.exit_code == 0 and "0 problems, 2 notes (official MJML accepts them)" in linted.stdout
    assert "note: stricter-than-mjml: container-background-color='var(--x, #2C2C2E)' in <mj-class>" in linted.stdout
    template.write_text(template.read_text().replace("<mj-all", '<mj-text padding="var(--gap)" /><mj-all'))
    failed = run_cli(tmp_path, "lint-mjml", str(template))
    assert failed.exit_code == 1 and "1 problem, 2 notes" in failed.stdout


def test_a_tag_name_ending_its_line_is_marked_with_its_template_line():
    """prettier's format puts attributes on the lines after the tag name."""
    source = mark_origins(
        '<mjml>\n<mj-body>\n<mj-section\n  padding="abc"\n>\n</mj-section>\n</mj-body>\n</mjml>', "t.mjml.j2"
    )
    assert [str(p) for p in check_source(source)] == [
        "t.mjml.j2:3: padding='abc' on <mj-section> is not valid: expected 1 to 4 values in px or % (like 10px)"
    ]


def test_lint_mjml_cli_resolves_includes_relative_to_the_file_and_prints_json(tmp_path, run_cli):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "header.mjml").write_text(
        '<mj-section>\n<mj-column>\n<mj-text colr="red">Hi</mj-text>\n</mj-column>\n</mj-section>\n'
    )
    main = tmp_path / "email.mjml"
    main.write_text(
        '<mjml>\n<mj-body>\n<mj-include path="./parts/header.mjml" />\n<mj-include path="./parts/footer" />\n'
        '<mj-section><mj-column><mj-button href="https://x.test" '
        'align="middle">Go</mj-button></mj-column></mj-section>\n'
        "</mj-body>\n</mjml>\n"
    )
    (tmp_path / "parts" / "footer.mjml").write_text(
        "<mj-section><mj-column><mj-text>Bye</mj-text></mj-column></mj-section>\n"
    )
    result = run_cli(tmp_path, "lint-mjml", "--json", str(main))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report == {
        "files": [
            {
                "path": str(main),
                "problems": [
                    {
                        "line": 4,
                        "tag": "mj-include",
                        "attribute": "path",
                        "kind": "include",
                        "severity": "error",
                        "message": "<mj-include path='./parts/footer'>: there is no file "
                        f"{tmp_path / 'parts' / 'footer'}; "
                        "did you mean ./parts/footer.mjml? "
                        "(MJML 5 no longer adds .mjml)",
                    },
                    {
                        "line": 5,
                        "tag": "mj-button",
                        "attribute": "align",
                        "kind": "bad-value",
                        "severity": "error",
                        "message": "align='middle' on <mj-button> is not valid: expected one of: left, center, right",
                    },
                ],
            },
            {
                "path": str(tmp_path / "parts" / "header.mjml"),
                "problems": [
                    {
                        "line": 3,
                        "tag": "mj-text",
                        "attribute": "colr",
                        "kind": "illegal-attribute",
                        "severity": "error",
                        "message": "attribute 'colr' is not allowed on <mj-text> (did you mean color?)",
                    }
                ],
            },
        ]
    }
    text = run_cli(tmp_path, "lint-mjml", str(main))
    assert (
        text.exit_code == 1
        and f"{main}:5: bad-value: align='middle'" in text.stdout
        and "2 files checked: 3 problems" in text.stdout
    )
    (tmp_path / "parts" / "header.mjml").write_text(
        "<mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>\n"
    )
    main.write_text(main.read_text().replace("./parts/footer", "./parts/footer.mjml").replace("middle", "center"))
    clean = run_cli(tmp_path, "lint-mjml", str(main))
    assert clean.exit_code == 0 and "3 files checked: 0 problems" in clean.stdout


def test_lint_mjml_takes_any_depth_of_nesting_and_bytes_that_are_not_utf8(tmp_path, run_cli):
    deep = tmp_path / "deep.mjml"
    deep.write_bytes(b"<mjml><mj-body>" + b"<mj-wrapper>\n" * 5000 + b"</mj-body></mjml>\n<!-- \xff\xfe -->")
    result = run_cli(tmp_path, "lint-mjml", "--json", str(deep))
    assert result.exit_code == 1 and "Traceback" not in result.output
    problems = json.loads(result.stdout)["files"][0]["problems"]
    assert sum(p["kind"] == "nesting" for p in problems) == 4999 and problems[-1]["line"] == 5000


def test_lint_mjml_refuses_an_include_outside_the_files_folder_and_a_missing_file(tmp_path, run_cli):
    main = tmp_path / "email.mjml"
    main.write_text(
        '<mjml><mj-body>\n<mj-include path="../secret.mjml" />\n<mj-include path="/etc/passwd" />\n'
        '<mj-include path="./email.mjml" />\n</mj-body></mjml>'
    )
    result = run_cli(tmp_path, "lint-mjml", "--json", str(main))
    assert result.exit_code == 1
    report = json.loads(result.stdout)["files"]
    assert [(p["line"], p["kind"]) for p in report[0]["problems"]] == [(2, "include"), (3, "include"), (4, "include")]
    assert "includes itself" in report[0]["problems"][2]["message"] and len(report) == 1
    missing = run_cli(tmp_path, "lint-mjml", str(tmp_path / "nope.mjml"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
