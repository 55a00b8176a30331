"""Validate MJML against MJML's own rules, which MRML does not check.

MRML silently accepts a misspelt tag, an unknown attribute, a bad value or a component nested where
MJML forbids it, so this checker is all that stands between a template author and a broken email.
It reads MJML the way the official parser does (HTML-tolerant: named entities, `<br>`, unquoted or
repeated attributes are fine; an ending tag's content is raw HTML) and applies the official
validator's rules and value types, taken from the npm package (mjml_components.json, dumped by
scripts/dump-mjml-components.js). It keeps exact line numbers and, where the official compiler
would silently lose content (an unclosed or misspelt tag, a tag outside mj-body), it says so as a
problem of its own kind, `stricter-than-mjml`.

Every mj- tag a template writes carries an origin marker (template:line) added when the template is
loaded, so a problem in generated MJML is reported at its line in the template that wrote it.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mailpipe.errors import MailpipeError
from mailpipe.util.files import NotARegularFile, TooLarge, read_regular_file

ORIGIN_ATTRIBUTE = "data-mailpipe-origin"
KINDS = ("unknown-tag", "illegal-attribute", "bad-value", "nesting", "include", "syntax", "stricter-than-mjml")
_MJ_TAG = re.compile(r"<(mjml|mj-[a-z-]+)(?=[\s/>]|$)")
_ORIGIN = re.compile(rf' {ORIGIN_ATTRIBUTE}="[^"]*"')
_OFFICIAL = json.loads(resources.files("mailpipe.render").joinpath("mjml_components.json").read_text())
_RULES: dict[str, dict] = _OFFICIAL["components"]
_ENDING_TAGS = frozenset(tag for tag, rule in _RULES.items() if rule["ending_tag"])
# Tags the official validator allows without a component (mjml-validator's componentLessTags).
_COMPONENTLESS = frozenset({"mj-all", "mj-class", "mj-selector", "mj-html-attribute"})
_ALWAYS_ALLOWED = frozenset({"mj-class", "css-class"})
# htmlparser2's void elements: opened and closed at once, as the official parser reads them.
_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "br",
        "col",
        "command",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_TOKEN = re.compile(
    r"""<(?:
    !--(?P<comment>.*?)(?:-->|\Z)
  | !\[CDATA\[.*?(?:\]\]>|\Z)
  | [!?][^>]*>
  | (?P<close>/)?(?P<name>[A-Za-z][^\s/>]*)(?P<attributes>(?:[^>"'/]|"[^"]*"|'[^']*'|/(?!\s*>))*)(?P<self>/)?\s*>
)""",
    re.DOTALL | re.VERBOSE,
)
# While inside an ending tag's HTML content only comments and ending tags count (mjml-parser-xml's inEndingTag).
_ENDING_SCAN = re.compile(
    r"""<(?:!--.*?(?:-->|\Z)|(?P<close>/)?(?P<name>"""
    + "|".join(sorted(_ENDING_TAGS, key=len, reverse=True))
    + r""")(?=[\s/>])(?:[^>"'/]|"[^"]*"|'[^']*'|/(?!\s*>))*(?P<self>/)?\s*>)""",
    re.DOTALL | re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


@dataclass(frozen=True)
class MjmlProblem:
    line: int
    kind: str
    message: str
    tag: str | None = None
    attribute: str | None = None
    origin: str | None = None  # "template.mjml.j2:LINE" when the MJML was generated from a template
    source: str | None = None  # the file the line is in, when it is not the file checked (an mj-include)
    note: bool = False  # what official MJML accepts and mailpipe only remarks on: it fails neither lint nor build

    @property
    def severity(self) -> str:
        return "note" if self.note else "error"

    def __str__(self) -> str:
        where = self.origin or (f"{self.source}:{self.line}" if self.source else f"generated MJML line {self.line}")
        return f"{where}: {self.message}"

    def as_json(self) -> dict:
        return {
            "line": self.line,
            "tag": self.tag,
            "attribute": self.attribute,
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(slots=True)
class MjmlNode:
    tag: str
    line: int
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[MjmlNode] = field(default_factory=list)
    origin: str | None = None
    source: str | None = None
    text: str = ""  # text found directly inside a layout tag (not an ending tag), which MJML drops

    def problem(self, kind: str, message: str, attribute: str | None = None, note: bool = False) -> MjmlProblem:
        return MjmlProblem(self.line, kind, message, self.tag, attribute, self.origin, self.source, note)


def mark_origins(source: str, template_name: str) -> str:
    """Tag every mj- element in a template's source with the template name and line it is on."""
    return "\n".join(
        _marked(line, f'{ORIGIN_ATTRIBUTE}="{template_name}:{number}"')
        for number, line in enumerate(source.split("\n"), start=1)
    )


def _marked(line: str, mark: str) -> str:
    return _MJ_TAG.sub(lambda tag: f"{tag.group(0)} {mark}", line)


def strip_origins(mjml: str) -> str:
    return _ORIGIN.sub("", mjml)


MAX_MJML_BYTES = 2_000_000  # an email's MJML is tens of kilobytes; /dev/zero is not one
MAX_INCLUDES = 200  # files read through mj-include for one file checked, nested ones counted: no fan-out runs away


def _read_mjml(path: Path) -> str:
    """A file's text, only when it is a regular file of an MJML's size (a FIFO would block, a device never end)."""
    try:
        return read_regular_file(path, MAX_MJML_BYTES).decode("utf-8", errors="replace")
    except NotARegularFile:
        raise OSError(f"{path} is not a regular file") from None
    except TooLarge:
        raise OSError(f"{path} is larger than {MAX_MJML_BYTES:,} bytes") from None


def check_file(path: Path) -> dict[str, list[MjmlProblem]]:
    """Every problem in an MJML file and the files it includes, keyed by the file they are in."""
    problems: list[MjmlProblem] = []
    try:
        text = _read_mjml(path)
    except OSError as err:
        raise MailpipeError(f"{path}: expected an MJML file ({err.strerror or err})") from None
    parser = _Parser(text, problems, path=path)
    root = parser.parse()
    if root is not None:
        problems += check_mjml(root)
    by_file: dict[str, list[MjmlProblem]] = {str(path): [], **{name: [] for name in parser.included}}
    for problem in problems:
        by_file.setdefault(problem.source or str(path), []).append(problem)
    return {name: sorted(found, key=lambda p: p.line) for name, found in by_file.items()}


def check_source(mjml: str) -> list[MjmlProblem]:
    """Every problem in MJML generated from templates (mj-include is not theirs to use)."""
    problems: list[MjmlProblem] = []
    root = _Parser(mjml, problems, path=None).parse()
    if root is not None:
        problems += check_mjml(root)
    return sorted(problems, key=lambda p: p.line)


def _in_capitals(node: MjmlNode, written: str) -> MjmlProblem:
    return node.problem(
        "stricter-than-mjml",
        f"<{written}> is written in capitals; write <{node.tag}> (MRML, which builds the email, does not read it)",
    )


def _not_enclosed(root: MjmlNode) -> MjmlProblem:
    return root.problem(
        "syntax",
        f"the file starts with <{root.tag}>, not <mjml>: an MJML file is enclosed in "
        "<mjml>…</mjml> (a part for <mj-include> is checked in the file that includes it)",
    )


class _Parser:
    """htmlparser2's reading of MJML, as mjml-parser-xml drives it, with the positions kept."""

    def __init__(
        self,
        text: str,
        problems: list[MjmlProblem],
        path: Path | None,
        included_from: str | None = None,
        includes_left: list[int] | None = None,
    ):
        self.text, self.problems, self.path = text, problems, path
        self.includes_left = includes_left if includes_left is not None else [MAX_INCLUDES]  # shared down the tree
        self.source = str(path) if path is not None and included_from else None
        self.included_from = included_from
        self.included: list[str] = []  # every file read through mj-include, nested ones too
        self._line, self._counted_to = 1, 0  # lines are counted as the reading moves on
        self._root: MjmlNode | None = None
        self._stack: list[MjmlNode] = []  # the elements open where the reading is
        self._in_ending = 0  # inside an ending tag's raw content (how many of its kind are open)
        self._ending: MjmlNode | None = None  # the ending tag (mj-text, mj-raw…) whose raw content is being skipped

    def line_at(self, offset: int) -> int:
        if offset < self._counted_to:
            return self.text.count("\n", 0, offset) + 1
        self._line += self.text.count("\n", self._counted_to, offset)
        self._counted_to = offset
        return self._line

    def report(self, offset: int, kind: str, message: str, tag: str | None = None) -> None:
        self.problems.append(MjmlProblem(self.line_at(offset), kind, message, tag, None, None, self.source))

    def parse(self) -> MjmlNode | None:
        position = 0
        while token := (_ENDING_SCAN if self._in_ending else _TOKEN).search(self.text, position):
            if (
                self._in_ending
            ):  # skip the HTML content: only ending tags (and comments) count, as in the official parser
                if token.group("name"):
                    self._in_ending += -1 if token.group("close") else (0 if token.group("self") else 1)
            else:
                if self._stack:
                    self._text(self._stack[-1], self.text[position : token.start()])
                self._token(token)
            position = token.end()
        self._finish()
        return self._root

    def _token(self, token: re.Match) -> None:
        """One tag or comment outside an ending tag's content."""
        comment, close, written, self_closing = token.group("comment", "close", "name", "self")
        name = written.lower() if written else ""
        if comment is not None:
            if self._stack:  # the official parser keeps a comment as an mj-raw child
                self._stack[-1].children.append(MjmlNode("mj-raw", self.line_at(token.start()), source=self.source))
        elif close and name:
            self._close(name, token, self._stack)
        elif name == "mj-include":
            node = self._open(name, token)
            if self._stack:
                self._include(node, self._stack[-1])
        elif name:
            node = self._open(name, token)
            if not self._place(node, token) or self_closing:
                return
            if name in _ENDING_TAGS:
                self._in_ending, self._ending = 1, node
            elif name not in _VOID:
                self._stack.append(node)

    def _place(self, node: MjmlNode, token: re.Match) -> bool:
        """Put a new element in its parent (or make it the root); False for one after the root."""
        if self._stack:
            self._stack[-1].children.append(node)
        elif self._root is None:
            self._root = node
        else:
            self.report(
                token.start(),
                "syntax",
                f"<{node.tag}> comes after the closing </{self._root.tag}>; everything belongs inside <mjml>",
                node.tag,
            )
            return False
        return True

    def _finish(self) -> None:
        """What is still open at the end of the file, and a file without its <mjml>."""
        if self._ending is not None and self._in_ending:
            self.problems.append(
                self._ending.problem(
                    "stricter-than-mjml",
                    f"<{self._ending.tag}> is never closed: MJML reads everything after it, "
                    "to the end of the file, as its HTML content",
                )
            )
            self._stack.clear()
        for node in reversed(self._stack):
            self.problems.append(
                node.problem(
                    "stricter-than-mjml",
                    f"<{node.tag}> is never closed; MJML closes it at the end of the file, "
                    "so what follows it may land in the wrong place",
                )
            )
        if self._root is None:
            self.report(0, "syntax", "no <mjml> element: an MJML file is enclosed in <mjml>…</mjml>")
        elif self._root.tag != "mjml" and not self.included_from:
            self.problems.append(_not_enclosed(self._root))

    def _text(self, parent: MjmlNode, text: str) -> None:
        if text.strip():
            parent.text += text.strip()

    def _open(self, name: str, token: re.Match) -> MjmlNode:
        raw_name = token.group("name")
        node = MjmlNode(name, self.line_at(token.start()), source=self.source)
        if raw_name != name and (name.startswith("mj") or name == "mjml"):
            self.problems.append(_in_capitals(node, raw_name))
        for attribute, value in _attributes(token.group("attributes")):
            if attribute.startswith("<"):
                self.problems.append(
                    node.problem(
                        "syntax",
                        f"<{raw_name}> is missing its closing '>': "
                        f"the next tag, {attribute}, is read as one of its attributes",
                    )
                )
                continue
            if attribute == ORIGIN_ATTRIBUTE:
                node.origin = value
            elif attribute not in node.attributes:
                node.attributes[attribute] = value
            elif node.attributes[attribute] != value:
                self.problems.append(
                    node.problem(
                        "stricter-than-mjml",
                        f"{attribute} is given twice on <{name}>; MJML keeps the first, "
                        f"{node.attributes[attribute]!r}, and drops {value!r}",
                        attribute,
                    )
                )
        return node

    def _close(self, name: str, token: re.Match, stack: list[MjmlNode]) -> None:
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth].tag == name:
                for unclosed in stack[depth + 1 :]:
                    self.problems.append(
                        unclosed.problem(
                            "stricter-than-mjml",
                            f"<{unclosed.tag}> is never closed; MJML closes it at </{name}> on line "
                            f"{self.line_at(token.start())}",
                        )
                    )
                del stack[depth:]
                return
        if name not in _VOID:
            guess = difflib.get_close_matches(name, [n.tag for n in stack], n=1)
            hint = f" (did you mean </{guess[0]}>?)" if guess else ""
            near = f"near {stack[-1].origin}" if stack and stack[-1].origin else None
            self.problems.append(
                MjmlProblem(
                    self.line_at(token.start()),
                    "stricter-than-mjml",
                    f"</{name}> closes nothing that is open, and MJML ignores it{hint}",
                    name,
                    None,
                    near,
                    self.source,
                )
            )

    def _include(self, node: MjmlNode, parent: MjmlNode) -> None:
        """An <mj-include>: its file read relative to this one, and its parts put where MJML puts them."""
        found = self._included_file(node)
        if found is None:
            return
        file, text = found
        kind = node.attributes.get("type", "mjml")
        if kind in ("css", "html"):
            parent.children.append(MjmlNode("mj-style" if kind == "css" else "mj-raw", node.line, source=self.source))
            return
        if "<mjml>" not in text:
            text = f"<mjml><mj-body>{text}</mj-body></mjml>"
        assert self.path is not None  # an include is read only from a file
        chain = "\n".join(filter(None, [self.included_from, str(self.path.resolve())]))
        parser = _Parser(text, self.problems, path=file, included_from=chain, includes_left=self.includes_left)
        included = parser.parse()
        self.included += [str(file), *parser.included]
        if included is not None and included.tag == "mjml":
            self._merge(included, parent, node.line)

    def _included_file(self, node: MjmlNode) -> tuple[Path, str] | None:
        """The file an <mj-include> names, and its text; None, with the problem said, when it cannot be read."""
        target = node.attributes.get("path", "")
        if self.path is None:
            message = "<mj-include> is not used in mailpipe templates; include a partial with {% include %}"
            self.problems.append(node.problem("include", message))
            return None
        file, base = (self.path.parent / target).resolve(), self.path.parent.resolve()
        if not target or Path(target).is_absolute() or not file.is_relative_to(base):
            message = f"<mj-include path={target!r}>: an include must name a file inside {base}"
            self.problems.append(node.problem("include", message, "path"))
            return None
        if file == self.path.resolve() or (self.included_from and str(file) in self.included_from.split("\n")):
            self.problems.append(node.problem("include", f"<mj-include path={target!r}> includes itself", "path"))
            return None
        if self.includes_left[0] <= 0:
            message = f"<mj-include path={target!r}>: more than {MAX_INCLUDES} files included in all; not read"
            self.problems.append(node.problem("include", message, "path"))
            return None
        self.includes_left[0] -= 1
        if file.exists() and not file.is_file():
            message = f"<mj-include path={target!r}>: {file} is not a regular file"
            self.problems.append(node.problem("include", message, "path"))
            return None
        try:
            return file, _read_mjml(file)
        except OSError:
            hint = (
                f"; did you mean {target}.mjml? (MJML 5 no longer adds .mjml)"
                if file.with_name(file.name + ".mjml").is_file()
                else ""
            )
            message = f"<mj-include path={target!r}>: there is no file {file}{hint}"
            self.problems.append(node.problem("include", message, "path"))
            return None

    def _merge(self, included: MjmlNode, parent: MjmlNode, line: int) -> None:
        """An included file's body goes where the include was; its head into this file's head."""
        for part in included.children:
            if part.tag == "mj-body":
                parent.children.extend(part.children)
            elif part.tag == "mj-head" and self._root is not None:
                head = next((c for c in self._root.children if c.tag == "mj-head"), None)
                if head is None:
                    head = MjmlNode("mj-head", line, source=self.source)
                    self._root.children.append(head)
                head.children.extend(part.children)


@functools.lru_cache(maxsize=2048)  # templates write the same tags, origin markers included, in every email
def _attributes(written: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, double or single or bare) for name, double, single, bare in _ATTRIBUTE.findall(written))


def check_mjml(root: MjmlNode) -> list[MjmlProblem]:
    """Every unknown tag, illegal attribute or value, and forbidden nesting in the tree; the <mjml> root
    itself is not a component (the official validator skips it). Iterative: any depth of nesting is fine."""
    problems: list[MjmlProblem] = []
    if root.tag == "mjml":
        for child in root.children:
            if child.tag not in ("mj-head", "mj-body", "mj-raw"):
                problems.append(
                    child.problem(
                        "stricter-than-mjml",
                        f"<{child.tag}> is outside <mj-body> and <mj-head>; MJML drops it from the email",
                    )
                )
        pending = list(reversed(root.children))
    else:
        pending = [root]
    while pending:
        node = pending.pop()
        _check(node, problems)
        pending.extend(reversed(node.children))
    return problems


def _check(node: MjmlNode, problems: list[MjmlProblem]) -> None:
    """One node's own problems and its children's nesting."""
    tag = node.tag
    if tag in _COMPONENTLESS:
        if tag in ("mj-all", "mj-class"):
            _check_defaults(node, problems)
    elif tag not in _RULES:
        known = list(_RULES) + sorted(_COMPONENTLESS) if tag.startswith("mj") else []
        guess = difflib.get_close_matches(tag, known, n=1)
        hint = f" (did you mean <{guess[0]}>?)" if guess else ""
        where = (
            "an MJML tag" if tag.startswith("mj") else "allowed in MJML here; HTML belongs inside <mj-text> or <mj-raw>"
        )
        problems.append(node.problem("unknown-tag", f"<{tag}> is not {where}{hint}"))
    else:
        _check_attributes(node, problems)
        _check_children(node, problems)


def _check_attributes(node: MjmlNode, problems: list[MjmlProblem]) -> None:
    """Each attribute allowed on the component, with a value of its official type."""
    tag, allowed = node.tag, _RULES[node.tag]["attributes"]
    for name, value in node.attributes.items():
        if name in _ALWAYS_ALLOWED:
            continue
        if name not in allowed:
            guess = difflib.get_close_matches(name, list(allowed), n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            problems.append(
                node.problem("illegal-attribute", f"attribute {name!r} is not allowed on <{tag}>{hint}", name)
            )
        elif (expected := value_problem(allowed[name], value)) is not None:
            problems.append(
                node.problem("bad-value", f"{name}={value!r} on <{tag}> is not valid: expected {expected}", name)
            )


def _check_children(node: MjmlNode, problems: list[MjmlProblem]) -> None:
    """Each child where MJML allows it, and no text MJML would drop."""
    tag = node.tag
    for child in node.children:
        if child.tag in _RULES and not _allows_child(tag, child.tag):
            allowed_in = sorted(p for p in _RULES if _allows_child(p, child.tag) and p not in ("mj-attributes", "mjml"))
            message = f"<{child.tag}> cannot be used inside <{tag}>; it belongs inside: {', '.join(allowed_in)}"
            problems.append(child.problem("nesting", message))
    if node.text and tag not in ("mj-attributes", "mj-html-attributes"):
        message = f"text directly inside <{tag}> ({node.text[:40]!r}) is dropped by MJML; put it in an <mj-text>"
        problems.append(node.problem("stricter-than-mjml", message))


def _check_defaults(node: MjmlNode, problems: list[MjmlProblem]) -> None:
    """mj-all and mj-class set defaults for many components: a value that suits none that has the attribute is a note
    (official MJML checks these values against no type: `var(--x, #2C2C2E)` is accepted, and may work)."""
    for name, value in node.attributes.items():
        if name == "name" and node.tag == "mj-class":
            continue
        types = {rule["attributes"][name] for rule in _RULES.values() if name in rule["attributes"]}
        failures = [expected for kind in sorted(types) if (expected := value_problem(kind, value)) is not None]
        if types and len(failures) == len(types):
            message = (
                f"{name}={value!r} in <{node.tag}> would not be valid on a component: expected {failures[0]} "
                "(official MJML does not check it)"
            )
            problems.append(node.problem("stricter-than-mjml", message, name, note=True))


@functools.lru_cache(maxsize=1024)
def _allows_child(parent: str, child: str) -> bool:
    for allowed in _RULES[parent]["children"]:
        if allowed == child or (isinstance(allowed, dict) and re.search(allowed["regex"], child)):
            return True
    return False


_COLOR_NAMES = frozenset(_OFFICIAL["colors"])
_RGB = (
    re.compile(r"rgba\(\d{1,3},\s?\d{1,3},\s?\d{1,3},\s?\d(\.\d{1,3})?\)", re.I),
    re.compile(r"rgb\(\d{1,3},\s?\d{1,3},\s?\d{1,3}\)", re.I),
)
_HEX = re.compile(r"#([0-9a-f]{3}){1,2}", re.I)
_UNIT_TYPE = re.compile(r"^(unit|unitWithNegative)\(([^)]*)\)(?:\{([^}]+)\})?$")
_UNIT_PATTERNS: dict[str, re.Pattern] = {}


@functools.lru_cache(maxsize=4096)  # emails repeat the same few values
def value_problem(kind: str, value: str) -> str | None:
    """What an attribute of official type `kind` expects, when `value` is not of it (mjml-core's types)."""
    if kind.startswith("enum("):
        options = kind[5:-1].split(",")
        return None if value in options else "one of: " + ", ".join(o or '""' for o in options)
    if kind == "boolean":
        return None if value in ("true", "false") else "true or false"
    if kind == "integer":
        return None if re.search(r"\d+", value) else "a whole number"
    if kind == "color":
        valid = any(p.search(value) for p in _RGB) or _HEX.fullmatch(value) or value in _COLOR_NAMES
        return None if valid else "a colour: #rgb or #rrggbb, rgb(…), rgba(…) or a CSS colour name"
    if unit := _UNIT_TYPE.match(kind):
        if _unit_pattern(kind, unit).fullmatch(value):
            return None
        units = [u for u in unit.group(2).split(",") if u and u != "auto"]
        counts = (unit.group(3) or "1").split(",")
        many = "1 value" if counts == ["1"] else f"{' to '.join(counts)} values"
        extra = ", auto" if "auto" in unit.group(2).split(",") else ""
        bare = " or a bare number" if "" in unit.group(2).split(",") else ""
        return f"{many} in {' or '.join(units)}{bare}{extra} (like 10{units[0]})"
    return None


def _unit_pattern(kind: str, unit: re.Match) -> re.Pattern:
    if kind not in _UNIT_PATTERNS:
        negative = "-|" if unit.group(1) == "unitWithNegative" else ""
        units = unit.group(2).split(",")
        auto = "|auto" if "auto" in units else ""
        names = "|".join(re.escape(u) for u in units if u != "auto")
        counts = unit.group(3) or "1"
        _UNIT_PATTERNS[kind] = re.compile(rf"((({negative}\d|,|\.){{1,}}({names})|0{auto})( )?){{{counts}}}")
    return _UNIT_PATTERNS[kind]
