"""mailpipe checks the MJML it produces against MJML's rules, which MRML silently ignores."""

from __future__ import annotations

import mjml
import pytest

from conftest import edit, rendered_email
from mailpipe.errors import RenderError
from mailpipe.project import Project
from mailpipe.render.mjml_check import check_source, mark_origins, strip_origins


def render_error(project) -> str:
    with pytest.raises(RenderError) as caught:
        Project(project).rendered()
    return str(caught.value)


def line_of(path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_mrml_alone_accepts_a_misspelt_tag_so_mailpipe_must_check():
    assert "<mj-buton" in mjml.mjml2html(
        "<mjml><mj-body><mj-section><mj-column><mj-buton>Hi</mj-buton></mj-column></mj-section></mj-body></mjml>"
    )


def test_a_misspelt_tag_is_reported_with_template_and_line(project):
    template = project / "templates/partials/cta.mjml.j2"
    edit(template, '<mj-text align="center" font-size="14px">', '<mj-buton align="center" font-size="14px">')
    edit(template, ".</mj-text>", ".</mj-buton>")
    assert (
        f"partials/cta.mjml.j2:{line_of(template, '<mj-buton')}: <mj-buton> is not an MJML tag (did you mean "
        "<mj-button>?)" in render_error(project)
    )


def test_a_bad_attribute_is_reported_with_template_and_line(project):
    template = project / "templates/article.mjml.j2"
    edit(template, '<mj-text padding-top="16px">\n          <h1', '<mj-text colr="#ff0000">\n          <h1')
    assert (
        f"article.mjml.j2:{line_of(template, 'colr=')}: attribute 'colr' is not allowed on <mj-text> (did you mean "
        "color?)" in render_error(project)
    )


def test_a_bad_attribute_value_is_reported(project):
    template = project / "templates/partials/cta.mjml.j2"
    edit(template, 'align="center" padding="12px 24px 4px"', 'align="middle" padding="12px 24px 4px"')
    line = line_of(template, 'align="middle"')
    assert (
        f"partials/cta.mjml.j2:{line}: align='middle' on <mj-text> is not valid: expected one of: left, right, "
        "center, justify" in render_error(project)
    )


def test_a_bad_default_in_the_layouts_mj_attributes_is_reported(project):
    template = project / "templates/layout.mjml.j2"
    edit(template, 'line-height="1.5" padding="8px 24px"', 'line-height="1.5" padding="8 24px"')
    line = line_of(template, 'padding="8 24px"')
    assert (
        f"layout.mjml.j2:{line}: padding='8 24px' on <mj-text> is not valid: expected 1 to 4 values in px or % "
        "(like 10px)" in render_error(project)
    )


def test_bad_nesting_is_reported_with_template_and_line(project):
    template = project / "templates/layout.mjml.j2"
    edit(
        template,
        "{% block content %}{% endblock %}",
        "{% block content %}{% endblock %}\n    <mj-column><mj-text>Stray</mj-text></mj-column>",
    )
    assert (
        f"layout.mjml.j2:{line_of(template, 'Stray')}: <mj-column> cannot be used inside <mj-body>; "
        "it belongs inside: mj-group, mj-section"
    ) in render_error(project)


def test_nesting_across_templates_is_checked_in_the_rendered_mjml(project):
    template = project / "templates/partials/greeting.mjml.j2"
    template.write_text("        <mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>\n")
    assert "partials/greeting.mjml.j2:1: <mj-section> cannot be used inside <mj-column>" in render_error(project)


def test_an_unclosed_component_is_reported_with_its_template_line(project):
    template = project / "templates/partials/footer.mjml.j2"
    edit(template, "        </mj-text>", "")
    message = render_error(project)
    assert (
        f"partials/footer.mjml.j2:{line_of(template, '<mj-text')}: <mj-text> is never closed: MJML reads "
        "everything after it, "
        "to the end of the file, as its HTML content"
    ) in message


def test_named_entities_and_void_tags_in_a_template_are_mjml_as_the_official_parser_reads_it(project):
    edit(
        project / "templates/partials/footer.mjml.j2",
        "Update your preferences</a>",
        "Update your preferences</a> &copy;<br>",
    )
    email = rendered_email(project, "what-causes-migraine")
    assert "Update your preferences (*|UPDATE_PROFILE|*) ©" in email.text
    assert "&copy;<br />" in email.html


def test_named_entities_typed_in_markdown_still_render(project):
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "A migraine&nbsp;is &copy; more than",
    )
    email = rendered_email(project, "what-causes-migraine")
    assert "A migraine is © more than" in email.text
    assert "A migraine&#160;is &#169; more than" in email.html


def test_every_problem_is_listed():
    source = mark_origins(
        '<mjml>\n<mj-body>\n<mj-column>\n<mj-txt colr="1">x</mj-txt>\n</mj-column>\n</mj-body>\n</mjml>', "t.mjml.j2"
    )
    problems = [str(p) for p in check_source(source)]
    assert problems == [
        "t.mjml.j2:3: <mj-column> cannot be used inside <mj-body>; it belongs inside: mj-group, mj-section",
        "t.mjml.j2:4: <mj-txt> is not an MJML tag (did you mean <mj-text>?)",
    ]
    assert "data-mailpipe" not in strip_origins(source)


def test_html_inside_mj_text_and_attribute_defaults_are_not_mistaken_for_mjml():
    source = (
        '<mjml><mj-head><mj-attributes><mj-all font-family="Arial"/><mj-class name="x" color="red"/>'
        '<mj-text padding="0"/></mj-attributes></mj-head><mj-body><mj-section><mj-column>'
        "<mj-text><p>Hi<br /><mj-fake>raw</mj-fake></p></mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert check_source(source) == []


@pytest.mark.parametrize(
    "tag",
    [
        '<mj-divider padding="0" />',
        "<mj-divider/>",
        '<mj-divider css-class="a/b" border-width="1px"/>',
        "<mj-spacer height='8px' />",
    ],
)
def test_a_self_closing_tag_with_attributes_is_a_tag_on_every_python(tag):
    """Python 3.11.0-3.11.4 (Debian 12 ships 3.11.2) evaluate possessive quantifiers wrongly: a tag pattern written with
    `*+` did not match `<mj-divider padding="0" />`, so it was read as text inside <mj-column>."""
    mjml = f"<mjml><mj-body><mj-section><mj-column>{tag}<mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>"
    assert check_source(mjml) == []


def test_no_regular_expression_in_mailpipe_needs_a_feature_new_in_python_3_11():
    """Possessive quantifiers and atomic groups came in 3.11 and were wrong in its early releases: none is used."""
    import re
    from pathlib import Path

    escapes_and_classes = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]])*\]")  # literal inside a pattern: read as one character
    newer = re.compile(r"[*+?}]\+|\(\?>")
    assert newer.search(escapes_and_classes.sub("x", "<(?:[^>]|a)*+>")) and newer.search("(?>a)")
    assert not newer.search(escapes_and_classes.sub("x", r"[*+-]\++[]+]"))
    found = []
    for path in sorted((Path(__file__).parent.parent / "mailpipe").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for literal in re.findall(r"""r(?:"{3}.*?"{3}|"[^"]*"|'[^']*')""", line):
                if newer.search(escapes_and_classes.sub("x", literal)):
                    found.append(f"{path.name}:{number}: {literal[:60]}")
    assert found == []
