"""A value tree that carries origins: what config/compose.py merges and directives move.

Every value keeps where it was written (`WrittenAt`, looked up only when asked), so a value
moved by a directive or overridden by an include still points at the line a person has to
change. `flatten_tree` turns a tree back into plain data and the `Composed` origin tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from gym_scaffold.config.loader import DataPath, Document
from gym_scaffold.config.model import Composed, Origin
from gym_scaffold.problem import Problem, Severity


class WrittenAt(NamedTuple):
    """Where a value (or a key) of a document was written, looked up only when asked:
    most values are never reported, and the document's positions are then never read."""

    doc: Document
    path: DataPath
    of_key: bool

    def origin(self) -> Origin | None:
        table = self.doc.key_positions if self.of_key else self.doc.value_positions
        position = table.get(self.path)
        return None if position is None else Origin(self.doc.path, position[0], position[1])


def origin_of(where: WrittenAt | Origin | None) -> Origin | None:
    return where.origin() if isinstance(where, WrittenAt) else where


class OriginTable(Mapping):
    """DataPath -> Origin, each worked out when it is asked for."""

    def get(self, path: DataPath, default: Any = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, path: DataPath) -> Origin:
        origin = self.get(path)
        if origin is None:
            raise KeyError(path)
        return origin

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self.get(path) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


class MergedOrigins(OriginTable):
    """The origins of a merged tree: paths to WrittenAt (or Origin), resolved when asked."""

    __slots__ = ("_where",)

    def __init__(self, where: dict[DataPath, Any]) -> None:
        self._where = where

    def get(self, path: DataPath, default: Any = None) -> Any:
        origin = origin_of(self._where.get(path))
        return default if origin is None else origin

    def __iter__(self) -> Iterator[DataPath]:
        return (path for path in self._where if path in self)


class OriginNode:
    """One value with where it was written. Trees built from documents are shared and
    never mutated; the directive pass works on its own copy."""

    __slots__ = ("value", "origin", "keys")

    def __init__(self, value: Any, origin: WrittenAt | Origin | None, keys: dict | None = None) -> None:
        self.value = value  # dict[str, OriginNode] | list[OriginNode] | scalar
        self.origin = origin
        self.keys = keys  # where the keys of a mapping are written: dict[key, WrittenAt | Origin | None]


def build_tree(doc: Document) -> OriginNode:
    def build(value: Any, path: DataPath) -> OriginNode:
        if isinstance(value, dict):
            children = {}
            key_origins = {}
            for k, v in value.items():
                child = path + (k,)
                children[k] = build(v, child)
                key_origins[k] = WrittenAt(doc, child, True)
            return OriginNode(children, WrittenAt(doc, path, False), key_origins)
        if isinstance(value, list):
            return OriginNode([build(v, path + (i,)) for i, v in enumerate(value)], WrittenAt(doc, path, False))
        return OriginNode(value, WrittenAt(doc, path, False))

    return build(doc.data, ())


def problem_at(where: WrittenAt | Origin | None, fallback: str, rule: str, message: str, hint: str | None = None,
             severity: Severity = Severity.ERROR) -> Problem:
    origin = origin_of(where)
    if origin is None:
        return Problem(fallback, 0, 0, severity, rule, message, hint)
    return Problem(origin.path, origin.line, origin.column, severity, rule, message, hint)


def copy_tree(node: OriginNode) -> OriginNode:
    """A mutable deep copy (origins are immutable and shared)."""
    if isinstance(node.value, dict):
        return OriginNode({k: copy_tree(v) for k, v in node.value.items()}, node.origin, dict(node.keys or {}))
    if isinstance(node.value, list):
        return OriginNode([copy_tree(v) for v in node.value], node.origin)
    return OriginNode(node.value, node.origin)


def flatten_tree(node: OriginNode, composed: Composed) -> Any:
    origins: dict[DataPath, Any] = {}
    key_origins: dict[DataPath, Any] = {}
    composed.origins, composed.key_origins = MergedOrigins(origins), MergedOrigins(key_origins)

    def walk(n: OriginNode, path: DataPath) -> Any:
        if n.origin is not None:
            origins[path] = n.origin
        value = n.value
        if value.__class__ is dict:
            out = {}
            keys = n.keys or {}
            for k, child in value.items():
                p = path + (k,)
                ko = keys.get(k)
                if ko is not None:
                    key_origins[p] = ko
                cv = child.value
                if cv.__class__ is dict or cv.__class__ is list:
                    out[k] = walk(child, p)
                else:
                    if child.origin is not None:
                        origins[p] = child.origin
                    out[k] = cv
            return out
        if value.__class__ is list:
            return [walk(child, path + (i,)) for i, child in enumerate(value)]
        return value

    return walk(node, ())
