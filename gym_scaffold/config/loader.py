"""Read one YAML file into plain Python data plus the position of every key and value.

NeMo Gym reads YAML through OmegaConf, that is PyYAML with YAML 1.1 rules without
timestamps: `yes` and `on` are booleans, `010` is 8, `1e3` is a float, `0o17` and
`2024-01-01` are strings. We use PyYAML's parser too, so a file NeMo Gym cannot read is
one we cannot read, with the same message; libyaml (in C, in PyYAML's wheels) only
*composes* the file into nodes that carry marks, and we turn nodes into values ourselves
with NeMo Gym's rules. No tag ever constructs an object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.error import MarkedYAMLError, YAMLError
from yaml.events import CollectionEndEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from gym_scaffold import safeio
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import duplicate_key, unreadable, yaml_key, yaml_syntax, yaml_tag
from gym_scaffold.safeio import NotReadable, read_regular

# A path into loaded data: mapping keys and sequence indexes, from the top.
DataPath = tuple[Any, ...]
Position = tuple[int, int]  # (line, column), 1-based

MAX_DEPTH = 200  # NeMo Gym configs nest < 10 levels; deeper is hostile or broken
MAX_NODES = 100_000  # bounds alias expansion ("billion laughs") and huge documents
# The largest config of NeMo Gym is under 30 KB. Like Biome's files.maxSize (1 MiB), a
# bigger file is refused unread: parsing megabytes of YAML costs seconds and hundreds of MB.
MAX_FILE_BYTES = safeio.MAX_FILE_BYTES
# Above these, the file is first streamed through the parser (no tree) to stop early at
# MAX_DEPTH or MAX_NODES: libyaml's scanner is quadratic in the nesting depth.
_PRESCAN_BYTES = 64 * 1024
_PRESCAN_LINE = 400
_PRESCAN_FLOW = 400

_PLAIN = "!gym-scaffold/plain"  # tag we give untagged plain scalars; resolved below
_YAML = "tag:yaml.org,2002:"

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_TRUE = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_INT = re.compile(
    r"""^(?:[-+]?0b[01_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
    re.VERBOSE,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class _PlainMarkingResolver:
    """Tags untagged plain scalars `_PLAIN`, left for `resolve_plain`; everything else
    untagged gets its kind's standard tag. (No regexes per scalar, unlike PyYAML's own.)"""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _YAML + "str"
        return _YAML + ("seq" if kind is SequenceNode else "map")

    # The composer calls these around every node; there are no path resolvers to track.
    # Built-ins that ignore their arguments cost no Python frame, unlike a method.
    descend_resolver = staticmethod(slice)  # descend_resolver(parent, index)
    ascend_resolver = staticmethod(tuple)  # ascend_resolver()


class _PythonComposer(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _PlainMarkingResolver
):
    """PyYAML's parser in Python: for a PyYAML built without libyaml (slower, same result)."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)


try:
    from yaml._yaml import CParser

    class _Composer(CParser, _PlainMarkingResolver):  # type: ignore[misc]
        """libyaml's parser and composer, in C."""

except ImportError:
    _Composer = _PythonComposer  # type: ignore[misc,assignment]


def _compose(text: str) -> Any:
    """The node tree of a one-document text (None when it holds no document)."""
    composer = _Composer(text)
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()


def _events(text: str) -> Any:
    composer = _Composer(text)
    try:
        while (event := composer.get_event()) is not None:
            yield event
    finally:
        composer.dispose()


def _sexagesimal(text: str, convert: Any) -> Any:
    sign = -1 if text.startswith("-") else 1
    total = 0
    for part in text.lstrip("+-").split(":"):
        total = total * 60 + convert(part)
    return sign * total


def _resolve_int(text: str) -> int:
    clean = text.replace("_", "")
    body = clean.lstrip("+-")
    sign = -1 if clean.startswith("-") else 1
    if body.startswith(("0b", "0x")):
        return sign * int(body, 0)
    if ":" in body:
        return _sexagesimal(clean, int)
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body, 8)
    return sign * int(body)


def _resolve_float(text: str) -> float:
    clean = text.replace("_", "")
    lowered = clean.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if clean.startswith("-") else float("inf")
    if lowered.endswith(".nan"):
        return float("nan")
    if ":" in clean:
        return _sexagesimal(clean, float)
    return float(clean)


# What a plain scalar that is not a string can start with (null, booleans, numbers).
_NOT_ONLY_TEXT = frozenset("~nNyYtTfFoO0123456789+-.")
_NUMBER_START = frozenset("0123456789+-")


def resolve_plain(text: str) -> Any:
    """The value OmegaConf gives an untagged plain scalar."""
    if text and text[0] not in _NOT_ONLY_TEXT:
        return text  # most scalars: names, paths, URLs
    if _NULL.match(text):
        return None
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    try:
        if _INT.match(text):
            return _resolve_int(text)
        if _FLOAT.match(text):
            return _resolve_float(text)
    except ValueError:  # e.g. more digits than Python converts; keep the text
        return text
    return text


@dataclass
class Document:
    """One loaded YAML file. `data` is None when the file could not be read as YAML."""

    path: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    # The node tree `data` was built from. Positions are read from it when first asked
    # for: most files of a run have no problem, and never need them.
    node: Any = field(default=None, repr=False, compare=False)
    _tables: tuple[dict, dict] | None = field(default=None, init=False, repr=False, compare=False)
    # What later stages work out from this document once, kept with it (compose's tree).
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _positions(self) -> tuple[dict[DataPath, Position], dict[DataPath, Position]]:
        if self._tables is None:
            values: dict[DataPath, Position] = {}
            keys: dict[DataPath, Position] = {}
            if self.node is not None:
                _Builder(self.path, [], values, keys).build(self.node, ())
            self._tables = (values, keys)
        return self._tables

    @property
    def value_positions(self) -> dict[DataPath, Position]:
        """Where each value is written, by path (1-based line and column)."""
        return self._positions()[0]

    @property
    def key_positions(self) -> dict[DataPath, Position]:
        """Where each mapping key is written, by the path of its value."""
        return self._positions()[1]

    def position(self, path: DataPath, *, of_key: bool = False) -> Position:
        """Where `path` is written; for a path that does not exist, its nearest parent."""
        table = self.key_positions if of_key else self.value_positions
        while path:
            if path in table:
                return table[path]
            if path in self.value_positions:
                return self.value_positions[path]
            path = path[:-1]
        return self.value_positions.get((), (1, 1))

    def problem(
        self,
        path: DataPath,
        rule: str,
        message: str,
        *,
        severity: Severity = Severity.ERROR,
        hint: str | None = None,
        of_key: bool = False,
    ) -> Problem:
        line, column = self.position(path, of_key=of_key)
        return Problem(self.path, line, column, severity, rule, message, hint)


class _TooLarge(Exception):
    pass


class _Builder:
    """Turns a composed node tree into values, and problems. With position tables, it also
    records where every value and key is written (the second pass, on demand)."""

    def __init__(
        self, path: str, problems: list[Problem], values: dict | None = None, keys: dict | None = None
    ) -> None:
        self.path = path
        self.problems = problems
        self.values = values
        self.keys = keys
        self.visited = 0

    def _report(self, node: Any, rule: str, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.path, mark.line + 1, mark.column + 1, Severity.ERROR, rule, message, hint))

    def build(self, node: Any, path: DataPath, depth: int = 0) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooLarge
        if depth > MAX_DEPTH:
            self._report(node, yaml_syntax.ID, f"nesting deeper than {MAX_DEPTH} levels")
            return None
        if self.values is not None:
            self.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            self._check_tag(node, "seq")
            if self.values is None:  # no paths to track
                return [self.build(item, path, depth + 1) for item in node.value]
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            self._check_tag(node, "map")
            return self._mapping(node, path, depth)
        return None

    def _check_tag(self, node: Any, expected: str) -> None:
        tag = node.tag
        if tag != _YAML + expected:
            self._report(
                node,
                yaml_tag.ID,
                f"unsupported tag {tag!r}",
                "NeMo Gym loads YAML safely and rejects custom tags: remove the tag",
            )

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _PLAIN:
            value = resolve_plain(text)
            if isinstance(value, str) and text[:1] in _NUMBER_START and _INT.match(text):
                # YAML 1.1 calls it an integer, but it cannot be read as one: PyYAML, hence
                # NeMo Gym, fails on it. Either no digits after a prefix (`0x_`), or more
                # digits than Python converts (4300).
                if not text.replace("_", "").lstrip("+-").removeprefix("0x").removeprefix("0b"):
                    message = f"{text!r} reads as an integer with no digits: NeMo Gym cannot load it"
                    self._report(node, yaml_syntax.ID, message, "quote it to make it a string")
                else:
                    self._report(node, yaml_syntax.ID, f"integer with {len(text)} digits: too long to be read")
            return value
        if tag == _YAML + "str":
            return text
        if tag in (_YAML + "null", _YAML + "bool", _YAML + "int", _YAML + "float"):
            value = resolve_plain(text)
            kind = tag[len(_YAML) :]
            expected = {"null": type(None), "bool": bool, "int": int, "float": (float, int)}[kind]
            if isinstance(value, expected) and not (kind == "int" and isinstance(value, bool)):
                return float(value) if kind == "float" else value
            self._report(node, yaml_tag.ID, f"{text!r} is not a valid !!{kind}")
            return text
        self._report(
            node,
            yaml_tag.ID,
            f"unsupported tag {tag!r}",
            "NeMo Gym loads YAML safely and rejects custom tags: remove the tag",
        )
        return text

    def _key(self, node: Any) -> Any:
        if not isinstance(node, ScalarNode):
            self._report(node, yaml_key.ID, "a mapping key must be a plain value, not a collection")
            return None
        value = self._scalar(node)
        # OmegaConf keys are strings in NeMo Gym's configs; keep other scalars as written.
        return value if isinstance(value, str) else node.value

    def _mapping(self, node: MappingNode, path: DataPath, depth: int) -> dict:
        result: dict = {}
        merge_sources = []  # `<<` values; applied after the explicit keys, which win
        # No positions to record and not too deep: plain names and values are read inline.
        fast = self.values is None and depth < MAX_DEPTH
        for key_node, value_node in node.value:
            if key_node.__class__ is ScalarNode and key_node.tag == _PLAIN:
                text = key_node.value
                if text == "<<":
                    merge_sources.append(value_node)
                    continue
                key = text if text and text[0] not in _NOT_ONLY_TEXT else self._key(key_node)
            elif isinstance(key_node, ScalarNode) and key_node.value == "<<" and key_node.tag == _YAML + "merge":
                merge_sources.append(value_node)
                continue
            else:
                key = self._key(key_node)
                if key is None:
                    continue
            if key in result:
                self._duplicate(node, key, key_node)
                continue
            if fast and value_node.__class__ is ScalarNode and value_node.tag == _PLAIN:
                text = value_node.value
                if text and text[0] not in _NOT_ONLY_TEXT:  # a plain name: the commonest value
                    self.visited += 1
                    if self.visited > MAX_NODES:
                        raise _TooLarge
                    result[key] = text
                    continue
            child = path
            if self.keys is not None:
                child = path + (key,)
                self.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1)
        for value_node in merge_sources:
            self._merge(value_node, path, depth, result)
        return result

    def _duplicate(self, node: MappingNode, key: Any, key_node: Any) -> None:
        first = next(k for k, _ in node.value if k is not key_node and self._same_key(k, key))
        self._report(
            key_node,
            duplicate_key.ID,
            f"duplicate key {key!r} (first defined at line {first.start_mark.line + 1})",
            "NeMo Gym refuses files with duplicate keys: keep one",
        )

    def _same_key(self, key_node: Any, key: Any) -> bool:
        if not isinstance(key_node, ScalarNode):
            return False
        problems, self.problems = self.problems, []  # already reported when first read
        try:
            return self._key(key_node) == key
        finally:
            self.problems = problems

    def _merge(self, node: Any, path: DataPath, depth: int, into: dict) -> None:
        """Apply a `<<` merge: keys already in `into` (explicit or merged earlier) win."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self._report(source, yaml_syntax.ID, "a merge key (<<) needs a mapping or a list of mappings")
                continue
            for key_node, value_node in source.value:
                key = self._key(key_node)
                if key is None or key in into:
                    continue
                child = path
                if self.keys is not None:
                    child = path + (key,)
                    self.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                into[key] = self.build(value_node, child, depth + 1)


def _decode(raw: bytes, doc: Document) -> str | None:
    """Text of the file the way a YAML reader sees it; None (with a problem) if it is not text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # NeMo Gym opens configs as UTF-8 (OmegaConf.load): a UTF-16 file fails there.
        doc.problems.append(
            Problem(
                doc.path, 1, 1, Severity.ERROR, yaml_syntax.ID,
                "UTF-16 text; NeMo Gym reads configs as UTF-8", "save the file as UTF-8",
            )
        )
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw[:8192]:
        doc.problems.append(
            Problem(doc.path, 0, 0, Severity.ERROR, yaml_syntax.ID, "binary data, not a YAML text file")
        )
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        doc.problems.append(
            Problem(
                doc.path,
                line,
                column,
                Severity.ERROR,
                yaml_syntax.ID,
                f"invalid UTF-8 byte 0x{raw[exc.start]:02x}",
                "save the file as UTF-8",
            )
        )
        return None


def _syntax_problem(doc: Document, exc: YAMLError, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    lines = text.splitlines()
    at_tab = 0 < line <= len(lines) and lines[line - 1][column - 1 : column] == "\t"
    if isinstance(exc, MarkedYAMLError):
        what = exc.problem or exc.context or "invalid YAML"
    else:
        what = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML"
    hint = None
    if at_tab or "'\\t'" in what:
        what = "tab character where YAML allows only spaces"
        hint = "indent with spaces"
    elif "exceeded maximum nesting depth" in what:  # libyaml's own limit (1000), past ours
        what = f"nesting deeper than {MAX_DEPTH} levels"
    elif "expected a single document" in str(exc) or "but found another document" in what:
        what = "more than one YAML document in the file"
        hint = "NeMo Gym reads one document per config file: remove the extra '---' section"
    return Problem(doc.path, line, column, Severity.ERROR, yaml_syntax.ID, what, hint)


def _needs_prescan(text: str) -> bool:
    """Could this text be huge or nest deep? (Cheap; false for every ordinary config.)"""
    if len(text) > _PRESCAN_BYTES or text.count("[") + text.count("{") > _PRESCAN_FLOW:
        return True
    return any(len(line) > _PRESCAN_LINE for line in text.splitlines())


def _prescan(text: str, doc: Document) -> bool:
    """Stream the parser's events; True (with a problem) when the document nests deeper
    than MAX_DEPTH or holds more than MAX_NODES values. Syntax errors are left to compose."""
    depth = nodes = 0
    for event in _events(text):
        if isinstance(event, NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                mark = event.start_mark
                doc.problems.append(
                    Problem(
                        doc.path, mark.line + 1, mark.column + 1, Severity.ERROR, yaml_syntax.ID,
                        f"more than {MAX_NODES} values: too large to be a NeMo Gym config",
                    )
                )
                return True
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                doc.problems.append(
                    Problem(
                        doc.path, mark.line + 1, mark.column + 1, Severity.ERROR, yaml_syntax.ID,
                        f"nesting deeper than {MAX_DEPTH} levels",
                    )
                )
                return True
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return False


def load_text(text: str, display_path: str) -> Document:
    """Load YAML source already in memory (tests and env.yaml snippets use this)."""
    doc = Document(display_path)
    try:
        if _needs_prescan(text) and _prescan(text, doc):
            return doc
        node = _compose(text)
    except YAMLError as exc:
        doc.problems.append(_syntax_problem(doc, exc, text))
        return doc
    except RecursionError:
        doc.problems.append(
            Problem(display_path, 0, 0, Severity.ERROR, yaml_syntax.ID, "nesting too deep to read")
        )
        return doc
    if node is None:  # empty file or only comments
        return doc
    builder = _Builder(display_path, doc.problems)
    try:
        doc.data = builder.build(node, ())
        doc.node = node
    except _TooLarge:
        doc.data = None
        doc.problems.append(
            Problem(
                display_path,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                Severity.ERROR,
                yaml_syntax.ID,
                f"more than {MAX_NODES} values once aliases are expanded",
                "an alias bomb? NeMo Gym would exhaust memory on this file",
            )
        )
    return doc


def load_file(path: Path, display_path: str | None = None) -> Document:
    """Load one YAML file; every failure becomes a Problem in the Document, never an exception."""
    display = display_path if display_path is not None else str(path)
    doc = Document(display)
    try:
        raw = read_regular(path, MAX_FILE_BYTES)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        doc.problems.append(Problem(display, 0, 0, Severity.ERROR, unreadable.ID, f"cannot read: {reason}"))
        return doc
    except NotReadable as exc:
        doc.problems.append(Problem(display, 0, 0, Severity.ERROR, unreadable.ID, str(exc), exc.hint))
        return doc
    text = _decode(raw, doc)
    if text is None:
        return doc
    loaded = load_text(text, display)
    return loaded
