"""Validate generated MJML against MJML's component rules, which MRML itself does not check.

MRML silently accepts a misspelt tag, an unknown attribute or a component nested where MJML
forbids it. The rules come from the official MJML (see mjml_components.json). Every mj- tag a
template writes carries an origin marker (template:line) added when the template is loaded, so a
problem in the generated MJML is reported at its line in the template that wrote it.

mailpipe's templates write MJML as well-formed XML (`<br />`, not `<br>`), so lxml parses it
quickly and an unclosed tag is reported with its line, which MRML cannot do.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from importlib import resources

from lxml import etree

ORIGIN_ATTRIBUTE = "data-mailpipe-origin"
_MJ_TAG = re.compile(r"<(mjml|mj-[a-z-]+)(?=[\s/>])")
_ORIGIN = re.compile(rf' {ORIGIN_ATTRIBUTE}="[^"]*"')
_ORIGIN_VALUE = re.compile(rf'{ORIGIN_ATTRIBUTE}="([^"]+)"')
_GENERATED_POSITION = re.compile(r",? line \d+(, column \d+)?")
_ALWAYS_ALLOWED = {"mj-class", "css-class", ORIGIN_ATTRIBUTE}
_ATTRIBUTE_SETTERS = {"mj-all", "mj-class"}  # children of mj-attributes: any attribute is a default
_RULES = json.loads(resources.files("mailpipe.render").joinpath("mjml_components.json").read_text())["components"]
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


@dataclass(frozen=True)
class MjmlProblem:
    origin: str  # "template.mjml.j2:LINE", or "generated MJML line N" for tags no template wrote
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class MjmlSyntaxError(Exception):
    def __init__(self, problem: MjmlProblem):
        super().__init__(str(problem))
        self.problem = problem


def mark_origins(source: str, template_name: str) -> str:
    """Tag every mj- element in a template's source with the template name and line it is on."""
    return "\n".join(
        _MJ_TAG.sub(lambda m: f'{m.group(0)} {ORIGIN_ATTRIBUTE}="{template_name}:{number}"', line)
        for number, line in enumerate(source.split("\n"), start=1)
    )


def strip_origins(mjml: str) -> str:
    return _ORIGIN.sub("", mjml)


def parse_mjml(mjml: str) -> etree._Element:
    """Parse generated MJML; a syntax error is raised at the template line nearest to it."""
    try:
        return etree.fromstring(mjml.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as err:
        line = err.lineno or 1
        message = _GENERATED_POSITION.sub("", err.msg)  # positions in generated MJML mean nothing to its author
        hint = "; write the character itself (©) or a numeric reference (&#169;)" if "Entity" in message else ""
        raise MjmlSyntaxError(MjmlProblem(_origin_near(mjml, line), f"the MJML is not well-formed: {message}{hint}")) from None


def _origin_near(mjml: str, line: int) -> str:
    """The template line of the nearest mj- tag at or before generated line `line`."""
    lines = mjml.split("\n")[:line]
    for text in reversed(lines):
        found = _ORIGIN_VALUE.findall(text)
        if found:
            return f"near {found[-1]}"
    return f"generated MJML line {line}"


def check_mjml(root: etree._Element) -> list[MjmlProblem]:
    """Every unknown tag, illegal attribute or value, and forbidden nesting under `root`."""
    problems: list[MjmlProblem] = []
    _check(root, None, problems)
    return problems


def _check(element: etree._Element, parent: str | None, problems: list[MjmlProblem]) -> None:
    tag = element.tag
    origin = element.get(ORIGIN_ATTRIBUTE) or f"generated MJML line {element.sourceline}"
    if parent == "mj-attributes":
        if tag not in _RULES and tag not in _ATTRIBUTE_SETTERS:
            problems.append(MjmlProblem(origin, f"<{tag}> inside <mj-attributes> is not an MJML component, mj-all or mj-class"))
        return
    if tag not in _RULES:
        known = list(_RULES) if tag.startswith("mj") else []
        guess = difflib.get_close_matches(tag, known, n=1)
        hint = f" (did you mean <{guess[0]}>?)" if guess else ""
        where = "an MJML tag" if tag.startswith("mj") else "allowed in MJML here; HTML belongs inside <mj-text> or <mj-raw>"
        problems.append(MjmlProblem(origin, f"<{tag}> is not {where}{hint}"))
        return
    allowed = _RULES[tag]["attributes"]
    for name, value in element.attrib.items():
        if name not in allowed and name not in _ALWAYS_ALLOWED:
            guess = difflib.get_close_matches(name, list(allowed), n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            problems.append(MjmlProblem(origin, f"attribute {name!r} is not allowed on <{tag}>{hint}"))
        elif problem := _value_problem(tag, name, value):
            problems.append(MjmlProblem(origin, problem))
    if parent is not None and not _allows_child(parent, tag):
        allowed_in = sorted(p for p in _RULES if _allows_child(p, tag) and p != "mj-attributes")
        problems.append(MjmlProblem(origin, f"<{tag}> cannot be used inside <{parent}>; it belongs inside: {', '.join(allowed_in)}"))
    if not _RULES[tag]["ending_tag"]:  # an ending tag's content is HTML, not MJML
        for child in element:
            _check(child, tag, problems)


def _allows_child(parent: str, child: str) -> bool:
    for allowed in _RULES[parent]["children"]:
        if allowed == child or (isinstance(allowed, dict) and re.search(allowed["regex"], child)):
            return True
    return False


def _value_problem(tag: str, name: str, value: str) -> str | None:
    kind = _RULES[tag]["attributes"].get(name, "")
    if kind.startswith("enum(") and value not in kind[5:-1].split(","):
        return f"attribute {name}={value!r} on <{tag}> is not allowed; expected one of: {kind[5:-1].replace(',', ', ')}"
    if kind == "boolean" and value not in ("true", "false"):
        return f"attribute {name}={value!r} on <{tag}> must be true or false"
    return None
