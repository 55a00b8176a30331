"""Load marketer-written YAML and validate it into typed dataclasses, locating every problem.

PyYAML gives the line of every key; pydantic validates into frozen dataclasses and says which
field is wrong. Joining the two turns a validation error into "file:line: field: what was expected".
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
import zoneinfo
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, ConfigDict, Strict, StringConstraints, TypeAdapter, ValidationError, with_config

from mailpipe.errors import InputError, Problem
from mailpipe.util.files import NotARegularFile, NotUtf8, TooLarge, decode_utf8, read_regular_file
from mailpipe.util.vocabulary import EMAIL

Loc = tuple[str | int, ...]


MAX_DEPTH = 20  # nesting a marketer's file never needs; deeper is refused before it can exhaust the stack
MAX_BYTES = 1_000_000  # a content, campaign or config file (or CSV) larger than this is refused


class _Loader(yaml.CSafeLoader):
    """libyaml's C loader (PyYAML's own is pure Python, many times slower), leaving dates as text so pydantic (not
    PyYAML) judges them and says so."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse_what_marketers_never_need(text: str) -> None:
    """Anchors and aliases (billion-laughs bombs, self-references) and deep nesting are refused from libyaml's event
    stream before anything is composed: its composer recurses in C, and a node reached twice would be walked twice."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors (&name) and aliases (*name) are not supported; write the value out",
                event.start_mark,
            )
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


@dataclasses.dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML plus the line of every key and list item, for error messages."""

    data: Any
    lines: dict[Loc, int]
    file: Path
    first_line: int

    def line_of(self, loc: Loc) -> int:
        """Line of the deepest known part of `loc` (a missing field points at its parent)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return self.first_line


def read_text(file: Path) -> str:
    """Read a UTF-8 file; a wrong encoding is reported at the line of the first bad byte. Only a regular file is
    opened: a FIFO in its place would block the read forever."""
    try:
        text = decode_utf8(read_regular_file(file, MAX_BYTES))
    except NotARegularFile:
        raise InputError([Problem(file, 1, "", "expected a file (this is a folder, a pipe or a device)")]) from None
    except TooLarge:
        message = f"is larger than {MAX_BYTES // 1_000_000} MB; split it or remove what does not belong"
        raise InputError([Problem(file, 1, "", message)]) from None
    except OSError as err:
        raise InputError([Problem(file, 1, "", f"cannot be read: {err.strerror or err}")]) from None
    except NotUtf8 as err:
        message = f"is not UTF-8 text ({err}); save the file as UTF-8"
        raise InputError([Problem(file, err.line, "", message)]) from None
    # a Windows checkout or an Excel export: a byte-order mark and CRLF line ends read as plain text
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _pure_python_error(text: str) -> yaml.YAMLError | None:
    """PyYAML's own parser's error for text libyaml refused: it says what it found where libyaml only says what it
    expected ("expected ',' or ']', but got ':'"). Only bad files pay for the second, slower parse."""
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.YAMLError as err:
        return err
    return None


def parse_yaml(text: str, file: Path, first_line: int = 1) -> YamlDocument:
    """Parse YAML text that starts at `first_line` of `file`."""
    try:
        try:
            _refuse_what_marketers_never_need(text)
            loader = _Loader(text)
            try:
                node = loader.get_single_node()
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as err:
            if "maximum nesting depth" in str(err):  # (the pure-Python scanner would take seconds over such nesting)
                raise
            raise _pure_python_error(text) or err from None
    except yaml.reader.ReaderError as err:  # a control character
        line = first_line + text[: err.position].count("\n")
        raise InputError(
            [
                Problem(
                    file,
                    line,
                    "",
                    f"contains the control character U+{err.character:04X}, which YAML does not allow; delete it",
                )
            ]
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = first_line + (mark.line if mark else 0)
        what = getattr(err, "problem", None) or str(err)
        context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
        if context and context_mark and context_mark.line != (mark.line if mark else None):
            started = context.replace("while parsing a flow sequence", "the list").replace(
                "while parsing a flow mapping", "the {…} mapping"
            )
            started = started.replace("while scanning a quoted scalar", "the quoted text").replace(
                "while parsing a block mapping", "the block"
            )
            what += (
                f" (in {started.removeprefix('while parsing ').removeprefix('while scanning ')} that starts at line "
                f"{first_line + context_mark.line})"
            )
        if "maximum nesting depth" in what:  # libyaml's own limit, met before the event stream reaches ours
            what = f"nested more than {MAX_DEPTH} levels deep"
        if "mapping values are not allowed" in what:
            what += " (text that contains ': ' must be put in quotes)"
        raise InputError([Problem(file, line, "", f"is not valid YAML: {what}")]) from None
    lines: dict[Loc, int] = {(): first_line}
    duplicates: list[Problem] = []
    if node is not None:
        _collect_lines(node, (), lines, first_line, duplicates, file)
    if duplicates:
        raise InputError(duplicates)
    return YamlDocument(data, lines, file, first_line)


def _collect_lines(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], first_line: int, duplicates: list[Problem], file: Path
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, str(key_node.value))
            line = first_line + key_node.start_mark.line
            if key in lines:
                duplicates.append(
                    Problem(file, line, field_name(key), f"appears twice (also at line {lines[key]}); keep one")
                )
            lines[key] = line
            _collect_lines(value_node, key, lines, first_line, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = (*loc, index)
            lines[key] = first_line + item.start_mark.line
            _collect_lines(item, key, lines, first_line, duplicates, file)


def field_name(loc: Loc) -> str:
    """`('offers', 1, 'price')` -> `offers[2].price` (list positions counted from 1, as people do)."""
    name = ""
    for part in loc:
        name += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def validate(schema: type, doc: YamlDocument, what: str) -> tuple[Any, list[Problem]]:
    """Validate `doc.data` into `schema`; return the object (or None) and every problem found."""
    if not isinstance(doc.data, dict):
        return None, [Problem(doc.file, doc.first_line, "", f"expected {what} as 'key: value' lines")]
    try:
        return _adapter(schema).validate_python(doc.data), []
    except ValidationError as err:
        problems = [_problem(schema, doc, dict(error)) for error in err.errors()]
        return None, problems


_ADAPTERS: dict[type, TypeAdapter] = {}


def _adapter(schema: type) -> TypeAdapter:
    if schema not in _ADAPTERS:
        _ADAPTERS[schema] = TypeAdapter(schema)
    return _ADAPTERS[schema]


def _problem(schema: type, doc: YamlDocument, error: dict) -> Problem:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    kind = error["type"]
    if kind in {"unexpected_keyword_argument", "extra_forbidden"}:
        known = _field_names(schema, loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        message = f"unknown field{hint}; expected one of: {', '.join(known)}"
    elif kind.startswith("date"):
        message = f"expected a date like 2024-05-31, got {error.get('input')!r}"
    else:
        message = _MESSAGES.get(kind, _pydantic_message)(error)
    return Problem(doc.file, doc.line_of(loc), field_name(loc), message)


def _pydantic_message(error: dict) -> str:
    return error["msg"][0].lower() + error["msg"][1:]


def _nested_message(error: dict) -> str:
    expected = "a list of items" if error["type"] == "list_type" else "nested key: value lines"
    return f"expected {expected}, got {error.get('input')!r}"


# What a marketer reads for each kind of validation error pydantic reports (others: pydantic's own words).
_MESSAGES: dict[str, Callable[[dict], str]] = {
    "missing": lambda e: "is required but missing",
    "string_type": lambda e: f"expected text, got {type(e.get('input')).__name__} {e.get('input')!r}",
    "string_pattern_mismatch": lambda e: f"{e.get('input')!r} does not have the expected form ({_pattern_hint(e)})",
    "value_error": lambda e: str(e["ctx"]["error"]),
    "string_too_long": lambda e: (
        f"is {len(str(e.get('input')))} characters long; at most {e['ctx']['max_length']} are allowed"
    ),
    **dict.fromkeys(
        ("int_type", "int_parsing", "int_from_float"), lambda e: f"expected a whole number, got {e.get('input')!r}"
    ),
    **dict.fromkeys(
        ("decimal_type", "decimal_parsing", "finite_number"),
        lambda e: f"expected a number like 149.00, got {e.get('input')!r}",
    ),
    **dict.fromkeys(("bool_type", "bool_parsing"), lambda e: f"expected true or false, got {e.get('input')!r}"),
    **dict.fromkeys(("list_type", "dict_type", "dataclass_type", "model_type"), _nested_message),
}


def _pattern_hint(error: dict) -> str:
    pattern = error.get("ctx", {}).get("pattern", "")
    return PATTERN_HINTS.get(pattern, f"pattern {pattern}")


PATTERN_HINTS: dict[str, str] = {}
"""Plain words for the regular expressions used in schemas, filled by the modules defining them."""


def _field_names(schema: Any, loc: Loc) -> list[str]:
    """The field names a dataclass nested at `loc` inside `schema` accepts."""
    current: Any = schema
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else Any
        elif dataclasses.is_dataclass(current):
            current = typing.get_type_hints(current, include_extras=True).get(part, Any)
    current = _unwrap(current)
    return [f.name for f in dataclasses.fields(current) if f.init] if dataclasses.is_dataclass(current) else []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        else:
            return tp


def load_file(schema: type, file: Path, what: str) -> Any:
    """Read, parse and validate a whole YAML file, raising InputError with every problem."""
    doc = parse_yaml(read_text(file), file)
    value, problems = validate(schema, doc, what)
    if problems:
        raise InputError(problems)
    return value


def schema(cls: type) -> type:
    """Make `cls` a frozen dataclass that rejects unknown keys when validated from YAML."""
    return with_config(ConfigDict(extra="forbid"))(dataclasses.dataclass(frozen=True)(cls))


def _text(pattern: str, hint: str) -> Any:
    PATTERN_HINTS[pattern] = hint
    return Annotated[str, StringConstraints(pattern=pattern)]


HttpsUrl = _text(r"^https://[^\s<>\"']+$", "a web address starting with https://")
Email = _text(EMAIL.pattern, "an email address like hello@clinic.com")
Colour = _text(r"^#[0-9a-fA-F]{6}$", "a colour like #5b3a6e")
Slug = _text(r"^[a-z0-9]+(-[a-z0-9]+)*$", "lower-case words joined by '-', like what-causes-migraine")
Month = _text(r"^\d{4}-(0[1-9]|1[0-2])$", "a month like 2024-05")
Code = _text(
    r"^[a-z][a-z0-9]{0,7}$",
    "a short code of lower-case letters and digits, like e1 (it names the campaigns in Mailchimp)",
)
LocalTime = _text(r"^([01]\d|2[0-3]):[0-5]\d$", "a time like 09:30")


def _time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"unknown time zone {name!r}; expected a name like America/Los_Angeles")
    return name


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


def _inside_project(path: str) -> str:
    """A path a config names is one inside the project, written relative to it: mailpipe writes and renames there, and
    must never reach a file of someone else's."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if "\x00" in path or not parts or PurePosixPath(path).is_absolute() or ".." in parts or ":" in parts[0]:
        raise ValueError(
            f"{path!r}: expected a path inside the project, relative to its folder (like var/state.sqlite3), "
            "without .. or a leading /"
        )
    return path


ProjectPath = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_inside_project)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True)]
Count = Annotated[int, Strict()]  # a whole number as written: `true` or `3.5` is an error, not 1 or 3
