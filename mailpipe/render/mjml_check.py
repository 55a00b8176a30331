"""Validate generated MJML against MJML's component rules, which MRML itself does not check.

MRML silently accepts a misspelt tag, an unknown attribute or a component nested where MJML
forbids it. The rules come from the official MJML (see mjml_components.json). Every mj- tag a
template writes carries an origin marker (template:line) added when the template is loaded, so a
problem in the generated MJML is reported at its line in the template that wrote it.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import resources

ORIGIN_ATTRIBUTE = "data-mailpipe-origin"
_MJ_TAG = re.compile(r"<(mjml|mj-[a-z-]+)(?=[\s/>])")
_ORIGIN = re.compile(rf' {ORIGIN_ATTRIBUTE}="[^"]*"')
_ALWAYS_ALLOWED = {"mj-class", "css-class"}
_ATTRIBUTE_SETTERS = {"mj-all", "mj-class"}  # children of mj-attributes: any attribute is a default
_RULES = json.loads(resources.files("mailpipe.render").joinpath("mjml_components.json").read_text())["components"]


@dataclass(frozen=True)
class MjmlProblem:
    origin: str  # "template.mjml.j2:LINE", or "generated MJML line N" for tags no template wrote
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


def mark_origins(source: str, template_name: str) -> str:
    """Tag every mj- element in a template's source with the template name and line it is on."""
    return "\n".join(
        _MJ_TAG.sub(lambda m: f'{m.group(0)} {ORIGIN_ATTRIBUTE}="{template_name}:{number}"', line)
        for number, line in enumerate(source.split("\n"), start=1)
    )


def strip_origins(mjml: str) -> str:
    return _ORIGIN.sub("", mjml)


def check_mjml(mjml: str) -> list[MjmlProblem]:
    """Every unknown tag, illegal attribute or value, and forbidden nesting in `mjml`."""
    checker = _Checker()
    checker.feed(mjml)
    checker.close()
    return checker.problems


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


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[MjmlProblem] = []
        self.stack: list[str] = []
        self.raw_until: str | None = None  # inside an ending tag (mj-text, mj-raw…): HTML, not MJML
        self.opened_at: list[str] = []  # origin of each element on the stack

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, closes_itself=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, closes_itself=True)

    def handle_endtag(self, tag: str) -> None:
        if self.raw_until is not None:
            if tag != self.raw_until:
                return
            self.raw_until = None
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
            self.opened_at.pop()

    def close(self) -> None:
        super().close()
        if self.stack:  # the innermost one; its ancestors are unclosed only because of it
            self._report(self.opened_at[-1], f"<{self.stack[-1]}> is opened here but never closed")

    def _element(self, tag: str, attrs: list[tuple[str, str | None]], closes_itself: bool) -> None:
        if self.raw_until is not None:
            return
        values = dict(attrs)
        origin = values.pop(ORIGIN_ATTRIBUTE, None) or f"generated MJML line {self.getpos()[0]}"
        parent = self.stack[-1] if self.stack else None
        if parent == "mj-attributes":
            if tag not in _RULES and tag not in _ATTRIBUTE_SETTERS:
                self._report(origin, f"<{tag}> inside <mj-attributes> is not an MJML component, mj-all or mj-class")
            tag_is_raw = False
        else:
            tag_is_raw = self._check_element(tag, values, origin, parent, closes_itself)
        if not closes_itself:
            self.stack.append(tag)
            self.opened_at.append(origin)
            if tag_is_raw:
                self.raw_until = tag

    def _check_element(self, tag: str, values: dict[str, str | None], origin: str, parent: str | None, closes_itself: bool) -> bool:
        """Report what is wrong with one element; True when its content is raw HTML."""
        if tag not in _RULES:
            known = list(_RULES) if tag.startswith("mj") else []
            guess = difflib.get_close_matches(tag, known, n=1)
            hint = f" (did you mean <{guess[0]}>?)" if guess else ""
            where = "an MJML tag" if tag.startswith("mj") else "allowed in MJML here; HTML belongs inside <mj-text> or <mj-raw>"
            self._report(origin, f"<{tag}> is not {where}{hint}")
            return False
        self._check_attributes(tag, values, origin)
        if parent in _RULES and not _allows_child(parent, tag):
            allowed_in = sorted(p for p in _RULES if _allows_child(p, tag) and p != "mj-attributes")
            self._report(origin, f"<{tag}> cannot be used inside <{parent}>; it belongs inside: {', '.join(allowed_in)}")
        return _RULES[tag]["ending_tag"] and not closes_itself

    def _check_attributes(self, tag: str, values: dict[str, str | None], origin: str) -> None:
        allowed = _RULES[tag]["attributes"]
        for name, value in values.items():
            if name not in allowed and name not in _ALWAYS_ALLOWED:
                guess = difflib.get_close_matches(name, list(allowed), n=1)
                hint = f" (did you mean {guess[0]}?)" if guess else ""
                self._report(origin, f"attribute {name!r} is not allowed on <{tag}>{hint}")
            elif value is not None and (problem := _value_problem(tag, name, value)):
                self._report(origin, problem)

    def _report(self, origin: str, message: str) -> None:
        self.problems.append(MjmlProblem(origin, message))
