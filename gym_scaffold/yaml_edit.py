"""Finding what a problem points at in a YAML file, and writing a new scalar in its place.

The loader (config/loader.py) composes a file into PyYAML nodes whose marks give the line,
column and character offset of every key and value; a Problem carries the line and
column. `YamlSource.key_at` / `value_at` find the node written there, and
`scalar_text` writes a new value in the style the old one had (plain, 'single' or
"double" quoted), so that the edit is that one span and nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gym_scaffold.config.loader import DataPath, Document, load_text, resolve_plain
from gym_scaffold.edits import Replacement, Source

# An anchor or a tag written before a scalar (`&base ??`, `!!str "x"`): part of the node's
# span, not of its value.
_PROPERTIES = re.compile(r"(?:[&!]\S*[ \t]+)*")
# What a plain scalar may be written as without quotes, in block and in flow context.
# (`-`, `?` and `:` may start one when a non-space follows: `???` is written plain.)
_PLAIN_BLOCK = re.compile(r"(?:[A-Za-z0-9_.$/~+=(]|[-?:](?=\S))[^\s#]*")
_FLOW_INDICATORS = frozenset(",[]{}")


@dataclass(frozen=True)
class Entry:
    """One key or value as written: its node, the mapping key naming it, and its parent."""

    node: Node
    path: DataPath  # the data path of the value (of the key's value, for a key)
    key: Node | None  # the key node of a mapping entry (None for a sequence item)
    value: Node | None  # the value node (for a key entry)
    parent: Node | None
    in_flow: bool  # inside a flow collection ({...} or [...])


@dataclass
class YamlSource:
    """One YAML file as read for fixing: its bytes and text (Source) and its nodes."""

    source: Source
    document: Document
    keys: dict[tuple[int, int], list[Entry]] = field(default_factory=dict)
    values: dict[tuple[int, int], list[Entry]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, shown: str) -> YamlSource:
        source = Source.read(path)
        return cls.of(source, shown)

    @classmethod
    def of(cls, source: Source, shown: str) -> YamlSource:
        made = cls(source, load_text(source.text, shown))
        if made.document.node is not None:
            made._index(made.document.node, (), None, None, False, set())
        return made

    def _index(
        self,
        node: Node,
        path: DataPath,
        key: Node | None,
        parent: Node | None,
        flow: bool,
        seen: set,
    ) -> None:
        where = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.values.setdefault(where, []).append(Entry(node, path, key, None, parent, flow))
        if id(node) in seen:  # an alias: its node is indexed where the anchor is
            return
        seen.add(id(node))
        inner = flow or bool(getattr(node, "flow_style", False))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, ScalarNode) else None
                if isinstance(key_node, ScalarNode):
                    resolved = resolve_plain(name) if key_node.style in (None, "") else name
                    name = resolved if isinstance(resolved, str) else name
                child = path + (name,)
                at = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                self.keys.setdefault(at, []).append(
                    Entry(key_node, child, key_node, value_node, node, inner)
                )
                self._index(value_node, child, key_node, node, inner, seen)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._index(item, path + (index,), None, node, inner, seen)

    @property
    def text(self) -> str:
        return self.source.text

    def key_at(self, line: int, column: int) -> Entry | None:
        found = self.keys.get((line, column))
        return found[0] if found else None

    def value_at(self, line: int, column: int) -> Entry | None:
        """The value written at (line, column); a scalar before a collection starting there."""
        found = self.values.get((line, column), [])
        scalars = [entry for entry in found if isinstance(entry.node, ScalarNode)]
        return (scalars or found or [None])[0]

    def span(self, node: Node) -> tuple[int, int]:
        """Character offsets of the node's own text (an anchor or tag before it left out)."""
        start, end = node.start_mark.index, node.end_mark.index
        properties = _PROPERTIES.match(self.text, start, end)
        return (properties.end() if properties else start), end

    def written(self, node: Node) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def replace_scalar(self, entry: Entry, value: str) -> Replacement | None:
        """The edit that writes `value` in place of the scalar `entry.node`, in its style;
        None when the scalar is not one that can be rewritten in place (a block scalar,
        one spanning lines)."""
        node = entry.node
        if not isinstance(node, ScalarNode) or node.start_mark.line != node.end_mark.line:
            return None
        text = scalar_text(value, node.style, entry.in_flow)
        if text is None:
            return None
        start, end = self.span(node)
        return Replacement(start, end, text)


def plain_ok(value: str, in_flow: bool = False) -> bool:
    """Can `value` be written unquoted and still read back as that same string?"""
    if not _PLAIN_BLOCK.fullmatch(value) or value.endswith(":") or ": " in value:
        return False
    if in_flow and (any(c in _FLOW_INDICATORS for c in value) or value[0] in "-?:"):
        return False
    return resolve_plain(value) == value


def scalar_text(value: str, style: Any, in_flow: bool = False) -> str | None:
    """`value` written as a YAML scalar of `style` ('' or None plain, "'" or '"');
    plain falls back to double quotes when the value needs them. None for block styles
    and for a single-quoted value with a line break."""
    if style in (None, ""):
        return value if plain_ok(value, in_flow) else json.dumps(value, ensure_ascii=False)
    if style == "'":
        if "\n" in value or "\r" in value:
            return None
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return json.dumps(value, ensure_ascii=False)
    return None


def key_text(name: str, style: Any) -> str | None:
    """A mapping key written like the key it replaces."""
    return scalar_text(name, style)
